//! The PROXY protocol (HAProxy's, versions 1 and 2): the header a layer-4 balancer writes at
//! the start of a connection to say which client it relays.
//!
//! Sans-I/O: [`parse`] takes the bytes received so far and says whether they hold a whole
//! header, how long it is and what it names. The caller reads nothing past the header, so the
//! bytes after it (the client's first RTSP request) stay in the socket for the usual parser.
//!
//! Strict by design, since the header decides which address the server trusts as the client's:
//! a version 1 line is at most 107 bytes with exactly the fields the specification lists (no
//! leading zeros in ports, addresses in canonical dotted or IPv6 text), a version 2 header at
//! most [`MAX_V2_LEN`] bytes whose address block fits its declared length and whose TLVs (all
//! skipped, none needed here) tile the rest exactly.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The 12-byte signature that opens a version 2 header.
pub const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";

/// Longest version 1 header, CRLF included (the specification's own bound).
pub const MAX_V1_LEN: usize = 107;

/// Longest version 2 header accepted (16 fixed bytes plus addresses and TLVs). The format
/// allows 64 KiB of TLVs; a balancer in front of this server sends none or a few short ones,
/// and a small bound keeps what an unauthenticated peer can make the server hold small.
pub const MAX_V2_LEN: usize = 16 + 1024;

/// What a complete header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proxied {
    /// The client's address (`source`) and the address it connected to on the balancer.
    Header {
        /// The client.
        source: SocketAddr,
        /// Where the client connected.
        destination: SocketAddr,
    },
    /// The connection carries no client's address: a version 2 `LOCAL` command (the balancer's
    /// own health check), a version 1 `UNKNOWN`, or a family other than TCP/UDP over IPv4/IPv6.
    /// The connection's own peer address stands.
    Local,
}

/// The result of [`parse`] on the bytes received so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    /// A prefix of a valid header; wait for more bytes.
    Incomplete,
    /// A whole header of `len` bytes (the first `len` input bytes).
    Complete {
        /// What it says.
        proxied: Proxied,
        /// Its length in bytes.
        len: usize,
    },
}

/// Why the bytes are not a PROXY header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    /// Neither signature: the peer did not speak the PROXY protocol.
    #[error("no PROXY protocol header")]
    Missing,
    /// A version 1 line longer than 107 bytes.
    #[error("PROXY v1 line longer than {MAX_V1_LEN} bytes")]
    V1TooLong,
    /// A version 1 line that does not follow the grammar.
    #[error("malformed PROXY v1 line: {0}")]
    V1Malformed(&'static str),
    /// A version 2 header with a version other than 2 or an unknown command.
    #[error("PROXY v2 version/command byte {0:#04x} unsupported")]
    V2VersionCommand(u8),
    /// A version 2 header longer than [`MAX_V2_LEN`].
    #[error("PROXY v2 header of {0} bytes exceeds the {MAX_V2_LEN}-byte limit")]
    V2TooLong(usize),
    /// A version 2 address block or TLV that does not fit the declared length.
    #[error("malformed PROXY v2 header: {0}")]
    V2Malformed(&'static str),
}

/// Parse the start of a connection.
pub fn parse(input: &[u8]) -> Result<Parsed, ProxyError> {
    const V1_PREFIX: &[u8] = b"PROXY ";
    if starts_like(input, &V2_SIGNATURE) {
        parse_v2(input)
    } else if starts_like(input, V1_PREFIX) {
        parse_v1(input)
    } else {
        Err(ProxyError::Missing)
    }
}

/// Whether `input` and `signature` agree on their common length.
fn starts_like(input: &[u8], signature: &[u8]) -> bool {
    let n = input.len().min(signature.len());
    input.get(..n) == signature.get(..n)
}

fn parse_v1(input: &[u8]) -> Result<Parsed, ProxyError> {
    let window = input.get(..input.len().min(MAX_V1_LEN)).unwrap_or(input);
    let Some(cr) = window.iter().position(|&b| b == b'\r') else {
        return if input.len() >= MAX_V1_LEN {
            Err(ProxyError::V1TooLong)
        } else if input.contains(&b'\n') {
            Err(ProxyError::V1Malformed("line ends without CR"))
        } else {
            Ok(Parsed::Incomplete)
        };
    };
    let len = cr + 2;
    if len > MAX_V1_LEN {
        return Err(ProxyError::V1TooLong);
    }
    match input.get(cr + 1) {
        None => return Ok(Parsed::Incomplete),
        Some(b'\n') => {}
        Some(_) => return Err(ProxyError::V1Malformed("CR not followed by LF")),
    }
    let line = std::str::from_utf8(input.get(..cr).unwrap_or_default())
        .map_err(|_| ProxyError::V1Malformed("not ASCII"))?;
    let mut fields = line.split(' ');
    // The caller matched the prefix, so the first field is "PROXY".
    let _proxy = fields.next();
    let proxied = match fields.next() {
        // Anything may follow UNKNOWN; the addresses are not to be used.
        Some("UNKNOWN") => Proxied::Local,
        Some(family @ ("TCP4" | "TCP6")) => {
            let v6 = family == "TCP6";
            let src = v1_ip(fields.next(), v6)?;
            let dst = v1_ip(fields.next(), v6)?;
            let sport = v1_port(fields.next())?;
            let dport = v1_port(fields.next())?;
            if fields.next().is_some() {
                return Err(ProxyError::V1Malformed("trailing fields"));
            }
            Proxied::Header {
                source: SocketAddr::new(src, sport),
                destination: SocketAddr::new(dst, dport),
            }
        }
        _ => return Err(ProxyError::V1Malformed("unknown protocol family")),
    };
    Ok(Parsed::Complete { proxied, len })
}

fn v1_ip(field: Option<&str>, v6: bool) -> Result<IpAddr, ProxyError> {
    let field = field.ok_or(ProxyError::V1Malformed("missing address"))?;
    let ip = if v6 {
        field.parse::<Ipv6Addr>().map(IpAddr::V6)
    } else {
        field.parse::<Ipv4Addr>().map(IpAddr::V4)
    };
    ip.map_err(|_| ProxyError::V1Malformed("bad address"))
}

fn v1_port(field: Option<&str>) -> Result<u16, ProxyError> {
    let field = field.ok_or(ProxyError::V1Malformed("missing port"))?;
    let canonical = !field.is_empty()
        && field.bytes().all(|b| b.is_ascii_digit())
        && (field == "0" || !field.starts_with('0'));
    if !canonical {
        return Err(ProxyError::V1Malformed("bad port"));
    }
    field
        .parse()
        .map_err(|_| ProxyError::V1Malformed("port out of range"))
}

fn parse_v2(input: &[u8]) -> Result<Parsed, ProxyError> {
    let Some(fixed) = input.get(..16) else {
        return Ok(Parsed::Incomplete);
    };
    let &[.., ver_cmd, family, hi, lo] = fixed else {
        return Ok(Parsed::Incomplete);
    };
    let local = match ver_cmd {
        0x20 => true,
        0x21 => false,
        other => return Err(ProxyError::V2VersionCommand(other)),
    };
    let body_len = usize::from(u16::from_be_bytes([hi, lo]));
    let len = 16 + body_len;
    if len > MAX_V2_LEN {
        return Err(ProxyError::V2TooLong(len));
    }
    let Some(body) = input.get(16..len) else {
        return Ok(Parsed::Incomplete);
    };
    let (addresses, tlvs) = match family >> 4 {
        0x0 => (None, body),
        0x1 => split(body, 12).map(|(a, t)| (v2_addresses(a, 4), t))?,
        0x2 => split(body, 36).map(|(a, t)| (v2_addresses(a, 16), t))?,
        0x3 => split(body, 216).map(|(_, t)| (None, t))?,
        _ => return Err(ProxyError::V2Malformed("unknown address family")),
    };
    if !matches!(family & 0x0f, 0x0..=0x2) {
        return Err(ProxyError::V2Malformed("unknown transport protocol"));
    }
    check_tlvs(tlvs)?;
    let proxied = match addresses {
        // Only TCP or UDP over IP names a client the server can reach.
        Some((source, destination)) if !local && family & 0x0f != 0 => Proxied::Header {
            source,
            destination,
        },
        _ => Proxied::Local,
    };
    Ok(Parsed::Complete { proxied, len })
}

fn split(body: &[u8], at: usize) -> Result<(&[u8], &[u8]), ProxyError> {
    if body.len() < at {
        return Err(ProxyError::V2Malformed(
            "address block longer than the header",
        ));
    }
    Ok(body.split_at(at))
}

/// Source and destination from an address block of IPv4 (`n` = 4) or IPv6 (`n` = 16)
/// addresses followed by the two ports.
fn v2_addresses(block: &[u8], n: usize) -> Option<(SocketAddr, SocketAddr)> {
    let ip = |bytes: &[u8]| -> Option<IpAddr> {
        if n == 4 {
            <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from)
        } else {
            <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from)
        }
    };
    let port = |bytes: &[u8]| -> Option<u16> { Some(u16::from_be_bytes(bytes.try_into().ok()?)) };
    let src = ip(block.get(..n)?)?;
    let dst = ip(block.get(n..2 * n)?)?;
    let sport = port(block.get(2 * n..2 * n + 2)?)?;
    let dport = port(block.get(2 * n + 2..2 * n + 4)?)?;
    Some((SocketAddr::new(src, sport), SocketAddr::new(dst, dport)))
}

/// TLVs (type, 16-bit length, value) must tile the rest of the header exactly.
fn check_tlvs(mut rest: &[u8]) -> Result<(), ProxyError> {
    while !rest.is_empty() {
        let &[_kind, hi, lo, ..] = rest else {
            return Err(ProxyError::V2Malformed("truncated TLV"));
        };
        let end = 3 + usize::from(u16::from_be_bytes([hi, lo]));
        rest = rest
            .get(end..)
            .ok_or(ProxyError::V2Malformed("TLV longer than the header"))?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v1(source: SocketAddr, destination: SocketAddr) -> Vec<u8> {
        let family = if source.is_ipv4() { "TCP4" } else { "TCP6" };
        format!(
            "PROXY {family} {} {} {} {}\r\n",
            source.ip(),
            destination.ip(),
            source.port(),
            destination.port()
        )
        .into_bytes()
    }

    fn v2(command: u8, source: SocketAddr, destination: SocketAddr, tlvs: &[u8]) -> Vec<u8> {
        let mut block = Vec::new();
        let family = match (source.ip(), destination.ip()) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                block.extend(s.octets());
                block.extend(d.octets());
                0x11
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                block.extend(s.octets());
                block.extend(d.octets());
                0x21
            }
            _ => panic!("mixed families"),
        };
        block.extend(source.port().to_be_bytes());
        block.extend(destination.port().to_be_bytes());
        block.extend(tlvs);
        let mut out = V2_SIGNATURE.to_vec();
        out.push(0x20 | command);
        out.push(family);
        out.extend(u16::try_from(block.len()).unwrap().to_be_bytes());
        out.extend(block);
        out
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn v1_tcp4_and_tcp6_from_the_specification() {
        let line = b"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nOPTIONS";
        assert_eq!(
            parse(line),
            Ok(Parsed::Complete {
                proxied: Proxied::Header {
                    source: addr("192.168.0.1:56324"),
                    destination: addr("192.168.0.11:443"),
                },
                len: line.len() - "OPTIONS".len(),
            })
        );
        let line = b"PROXY TCP6 2001:db8::1 ::1 1 65535\r\n";
        assert!(matches!(
            parse(line),
            Ok(Parsed::Complete { proxied: Proxied::Header { source, .. }, len: 36 })
                if source == addr("[2001:db8::1]:1")
        ));
        assert_eq!(
            parse(b"PROXY UNKNOWN whatever\r\n"),
            Ok(Parsed::Complete {
                proxied: Proxied::Local,
                len: 24
            })
        );
    }

    #[test]
    fn v1_refuses_what_the_grammar_does_not_allow() {
        for bad in [
            &b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"[..],
            b"PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n",
            b"PROXY TCP4 ::1 ::1 1 2\r\n",
            b"PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
            b"PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n",
            b"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX",
        ] {
            assert!(
                matches!(parse(bad), Err(ProxyError::V1Malformed(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let long = format!("PROXY UNKNOWN {}\r\n", "x".repeat(100));
        assert_eq!(parse(long.as_bytes()), Err(ProxyError::V1TooLong));
        assert_eq!(parse(&[b'P'; 3]), Err(ProxyError::Missing));
        assert_eq!(
            parse(b"OPTIONS rtsp://h/ RTSP/1.0\r\n"),
            Err(ProxyError::Missing)
        );
    }

    #[test]
    fn v2_local_command_and_unspec_family_keep_the_real_address() {
        let mut local = V2_SIGNATURE.to_vec();
        local.extend([0x20, 0x00, 0x00, 0x00]);
        assert_eq!(
            parse(&local),
            Ok(Parsed::Complete {
                proxied: Proxied::Local,
                len: 16
            })
        );
        // A LOCAL command may still carry addresses; they are not the client's.
        let with_addresses = v2(0, addr("10.0.0.1:1"), addr("10.0.0.2:2"), &[]);
        assert!(matches!(
            parse(&with_addresses),
            Ok(Parsed::Complete {
                proxied: Proxied::Local,
                len: 28
            })
        ));
    }

    #[test]
    fn v2_refuses_bad_versions_lengths_and_tlvs() {
        let good = v2(1, addr("10.0.0.1:1"), addr("10.0.0.2:2"), &[]);
        let mut bad_version = good.clone();
        bad_version[12] = 0x11;
        assert_eq!(parse(&bad_version), Err(ProxyError::V2VersionCommand(0x11)));
        let mut short_block = good.clone();
        short_block[15] = 4;
        assert!(matches!(
            parse(&short_block),
            Err(ProxyError::V2Malformed(_))
        ));
        let mut huge = good.clone();
        huge[14] = 0xff;
        assert!(matches!(parse(&huge), Err(ProxyError::V2TooLong(_))));
        let dangling_tlv = v2(1, addr("10.0.0.1:1"), addr("10.0.0.2:2"), &[4, 0, 9, 1]);
        assert!(matches!(
            parse(&dangling_tlv),
            Err(ProxyError::V2Malformed(_))
        ));
    }

    fn any_pair() -> impl Strategy<Value = (SocketAddr, SocketAddr)> {
        prop_oneof![
            (
                any::<[u8; 4]>(),
                any::<u16>(),
                any::<[u8; 4]>(),
                any::<u16>()
            )
                .prop_map(|(a, p, b, q)| (
                    SocketAddr::new(IpAddr::from(a), p),
                    SocketAddr::new(IpAddr::from(b), q)
                )),
            (
                any::<[u8; 16]>(),
                any::<u16>(),
                any::<[u8; 16]>(),
                any::<u16>()
            )
                .prop_map(|(a, p, b, q)| (
                    SocketAddr::new(IpAddr::from(a), p),
                    SocketAddr::new(IpAddr::from(b), q)
                )),
        ]
    }

    proptest! {
        #[test]
        fn every_header_round_trips_and_every_prefix_is_incomplete(
            (source, destination) in any_pair(),
            version2 in any::<bool>(),
            tlvs in proptest::collection::vec((any::<u8>(), proptest::collection::vec(any::<u8>(), 0..40)), 0..4),
            rest in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let header = if version2 {
                let mut t = Vec::new();
                for (kind, value) in &tlvs {
                    t.push(*kind);
                    t.extend(u16::try_from(value.len()).unwrap().to_be_bytes());
                    t.extend(value);
                }
                v2(1, source, destination, &t)
            } else {
                v1(source, destination)
            };
            for n in 0..header.len() {
                prop_assert_eq!(parse(&header[..n]), Ok(Parsed::Incomplete), "prefix {}", n);
            }
            let mut input = header.clone();
            input.extend(&rest);
            prop_assert_eq!(
                parse(&input),
                Ok(Parsed::Complete { proxied: Proxied::Header { source, destination }, len: header.len() })
            );
        }

        #[test]
        fn arbitrary_bytes_never_claim_more_than_they_hold(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(Parsed::Complete { len, .. }) = parse(&data) {
                prop_assert!(len <= data.len());
            }
        }
    }
}

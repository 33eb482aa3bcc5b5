//! Transport negotiation for SETUP (RFC 2326 12.39): pick the first alternative the server can
//! serve, and write the Transport header of the reply.
//!
//! Rules: unicast only; RTP/AVP, RTP/AVP/UDP and the lab's RTP/UDP with a client port go over
//! UDP, RTP/AVP/TCP goes interleaved on the RTSP connection (not for lab clients, whose RTP
//! format is one whole JPEG per datagram). A `destination=` is never honoured: media only goes
//! to the RTSP peer's own address, so the server cannot be used to flood a third party.

use super::Refusal;
use crate::rtsp::headers::{
    Cast, ChannelRange, PortRange, Transport, TransportProtocol, TransportSpec,
};

/// How media will reach the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// UDP to the RTSP peer's address.
    Udp {
        /// Client RTP port.
        rtp_port: u16,
        /// Client RTCP port (none for a lab client, which gives one port and reads no RTCP).
        rtcp_port: Option<u16>,
    },
    /// `$` frames on the RTSP connection.
    Interleaved {
        /// Channel for RTP; RTCP uses the next one.
        rtp_channel: u8,
    },
}

/// The accepted alternative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    /// The client's specification, as sent.
    pub spec: TransportSpec,
    /// The route it asks for.
    pub route: Route,
}

/// The first alternative the server can serve, or 461.
pub fn choose(transport: &Transport, lab: bool) -> Result<Chosen, Refusal> {
    for spec in &transport.0 {
        if spec.cast == Some(Cast::Multicast) {
            continue;
        }
        if spec.protocol.is_tcp() {
            if lab {
                continue;
            }
            let rtp_channel = spec.interleaved.map_or(0, ChannelRange::first);
            if rtp_channel == u8::MAX {
                continue;
            }
            return Ok(Chosen {
                spec: spec.clone(),
                route: Route::Interleaved { rtp_channel },
            });
        }
        if !spec.protocol.is_rtp_over_udp() {
            continue;
        }
        let Some(ports) = spec.client_port else {
            continue;
        };
        let rtcp_port = if lab { None } else { ports.rtcp() };
        return Ok(Chosen {
            spec: spec.clone(),
            route: Route::Udp {
                rtp_port: ports.first(),
                rtcp_port,
            },
        });
    }
    Err(Refusal::UnsupportedTransport)
}

/// The reply's Transport header: the client's choice echoed (protocol spelling included, so
/// ffmpeg's `RTP/AVP/UDP` comes back as sent), `unicast`, the server ports for UDP or the
/// channel pair for TCP, our SSRC and the mode: `mode="record"` for a publisher's
/// `mode=record` (RFC 2326 12.39 has the server echo the mode it accepted), `mode="PLAY"`
/// otherwise; `destination`/`source` are dropped.
pub fn reply(chosen: &Chosen, server_rtp_port: Option<u16>, ssrc: u32) -> Transport {
    let mut spec = chosen.spec.clone();
    spec.cast = Some(Cast::Unicast);
    spec.destination = None;
    spec.source = None;
    spec.ssrc = Some(ssrc);
    let record = spec
        .mode
        .as_deref()
        .is_some_and(|m| m.eq_ignore_ascii_case("record"));
    spec.mode = Some(if record { "record" } else { "PLAY" }.to_owned());
    if spec.protocol == TransportProtocol::LabRtpUdp {
        spec.protocol = TransportProtocol::RtpAvp;
    }
    match chosen.route {
        Route::Udp { .. } => {
            spec.server_port =
                server_rtp_port.and_then(|p| PortRange::pair(p, p.checked_add(1)?).ok());
        }
        Route::Interleaved { rtp_channel } => {
            spec.interleaved = rtp_channel
                .checked_add(1)
                .and_then(|rtcp| ChannelRange::pair(rtp_channel, rtcp).ok());
        }
    }
    Transport::single(spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtsp::headers::Header;

    fn t(s: &str) -> Transport {
        Transport::parse(s).unwrap()
    }

    #[test]
    fn the_transports_real_clients_send() {
        // ffmpeg UDP, gst / live555 UDP, everyone's TCP, the lab.
        let c = choose(&t("RTP/AVP/UDP;unicast;client_port=5000-5001"), false).unwrap();
        assert_eq!(
            c.route,
            Route::Udp {
                rtp_port: 5000,
                rtcp_port: Some(5001)
            }
        );
        assert_eq!(
            reply(&c, Some(6970), 0xAB).to_string(),
            "RTP/AVP/UDP;unicast;client_port=5000-5001;server_port=6970-6971;ssrc=000000AB;mode=\"PLAY\""
        );
        let c = choose(&t("RTP/AVP;unicast;client_port=5000-5001"), false).unwrap();
        assert!(reply(&c, Some(6970), 1)
            .to_string()
            .starts_with("RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971"));
        let c = choose(&t("RTP/AVP/TCP;unicast;interleaved=0-1"), false).unwrap();
        assert_eq!(c.route, Route::Interleaved { rtp_channel: 0 });
        assert_eq!(
            reply(&c, None, 0x1234_5678).to_string(),
            "RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=12345678;mode=\"PLAY\""
        );
        // A publisher's SETUP gets its mode back, whatever its case.
        let c = choose(&t("RTP/AVP/TCP;unicast;interleaved=0-1;mode=record"), false).unwrap();
        assert_eq!(
            reply(&c, None, 1).to_string(),
            "RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=00000001;mode=\"record\""
        );
        let c = choose(
            &t("RTP/AVP/UDP;unicast;client_port=5000-5001;mode=\"RECORD\""),
            false,
        )
        .unwrap();
        assert!(reply(&c, Some(6970), 1)
            .to_string()
            .ends_with(";mode=\"record\""));
        let c = choose(&t("RTP/AVP/TCP;interleaved=4;mode=play"), false).unwrap();
        assert!(reply(&c, None, 1).to_string().ends_with("mode=\"PLAY\""));
        let c = choose(&t("RTP/AVP/TCP;interleaved=4"), false).unwrap();
        assert!(reply(&c, None, 1).to_string().contains("interleaved=4-5"));
        let c = choose(&t("RTP/UDP; client_port= 25000"), true).unwrap();
        assert_eq!(
            c.route,
            Route::Udp {
                rtp_port: 25000,
                rtcp_port: None
            }
        );
    }

    #[test]
    fn first_servable_alternative_wins() {
        let c = choose(
            &t("RTP/AVP;multicast;port=5000-5001,RTP/AVP/TCP;unicast;interleaved=2-3"),
            false,
        )
        .unwrap();
        assert_eq!(c.route, Route::Interleaved { rtp_channel: 2 });
        // Lab clients never get TCP.
        let c = choose(
            &t("RTP/AVP/TCP;interleaved=0-1,RTP/UDP;client_port=9000"),
            true,
        )
        .unwrap();
        assert_eq!(
            c.route,
            Route::Udp {
                rtp_port: 9000,
                rtcp_port: None
            }
        );
    }

    #[test]
    fn destinations_are_never_echoed() {
        let c = choose(
            &t("RTP/AVP;unicast;destination=10.1.2.3;client_port=5000-5001"),
            false,
        )
        .unwrap();
        assert!(!reply(&c, Some(7000), 1).to_string().contains("destination"));
    }

    #[test]
    fn unsupported_transports_are_461() {
        for s in [
            "RTP/AVP;multicast;client_port=5000-5001",
            "RTP/SAVP;unicast;client_port=5000-5001",
            "RTP/AVP;unicast",
            "RTP/AVP/TCP;interleaved=255",
        ] {
            assert_eq!(choose(&t(s), false).unwrap_err().status(), 461, "{s}");
        }
        assert_eq!(
            choose(&t("RTP/AVP/TCP;interleaved=0-1"), true)
                .unwrap_err()
                .status(),
            461
        );
    }
}

//! RTSP authentication (sans-I/O): HTTP Basic (RFC 7617) and Digest (RFC 2617 / RFC 7616) as
//! RTSP 1.0 borrows them (RFC 2326 section 16.1).
//!
//! - [`params`]: the `WWW-Authenticate` / `Authorization` syntax (schemes, auth-params, quoted
//!   strings with commas), shared by both sides.
//! - [`credentials`]: the server's credentials file (`user:realm:md5_ha1:sha256_ha1[:publish]`),
//!   so that no plaintext password is ever stored, and each user's [`Permission`].
//! - [`server`]: the [`Authenticator`]: a request's `Authorization` in, the user or a 401
//!   [`Challenge`] out, with stateless expiring nonces; and [`LogLimiter`], which keeps failed
//!   attempts from flooding the log.
//! - [`client`]: [`ClientAuth`]: challenges in, the `Authorization` value for each request out.
//!
//! Time is always passed in (`now`, a duration since a fixed origin of the caller's choosing),
//! and randomness only seeds nonces and cnonces.

pub mod client;
pub mod credentials;
pub mod log_limit;
pub mod params;
pub mod server;

pub use client::{Accepted, ClientAuth, ClientAuthError};
pub use credentials::{CredentialError, Credentials, Permission, UserEntry};
pub use log_limit::LogLimiter;
pub use server::{AuthConfig, AuthFailure, Authenticator, Challenge, ServerAuth, Verdict};

use md5::{Digest as _, Md5};
use sha2::Sha256;

/// A Digest hash algorithm (RFC 7616 section 3.2; the `-sess` variants are not offered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `MD5`: what RFC 2617 clients (FFmpeg 5, GStreamer 1.22, live555) speak.
    Md5,
    /// `SHA-256` (RFC 7616).
    Sha256,
}

impl Algorithm {
    /// The `algorithm=` token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Sha256 => "SHA-256",
        }
    }

    /// The algorithm an `algorithm=` token names (case-insensitive); absent means MD5.
    pub fn from_token(token: Option<&str>) -> Option<Self> {
        match token {
            None => Some(Self::Md5),
            Some(t) if t.eq_ignore_ascii_case("MD5") => Some(Self::Md5),
            Some(t) if t.eq_ignore_ascii_case("SHA-256") => Some(Self::Sha256),
            Some(_) => None,
        }
    }

    /// Lowercase hex of the hash of `data`.
    pub fn hex(self, data: &[u8]) -> String {
        match self {
            Self::Md5 => to_hex(&Md5::digest(data)),
            Self::Sha256 => to_hex(&Sha256::digest(data)),
        }
    }

    /// Length of the hex digest.
    pub fn hex_len(self) -> usize {
        match self {
            Self::Md5 => 32,
            Self::Sha256 => 64,
        }
    }

    /// `H(user:realm:password)`.
    pub fn ha1(self, user: &str, realm: &str, password: &str) -> String {
        self.hex(format!("{user}:{realm}:{password}").as_bytes())
    }
}

/// The parts of a Digest `response` (RFC 7616 section 3.4.1) other than HA1.
#[derive(Debug, Clone, Copy)]
pub struct DigestInput<'a> {
    /// Request method.
    pub method: &'a str,
    /// The `uri` parameter (the request-URI).
    pub uri: &'a str,
    /// The server's nonce.
    pub nonce: &'a str,
    /// `(nc, cnonce)` with `qop=auth`; `None` for the RFC 2069 form without qop.
    pub qop_auth: Option<(&'a str, &'a str)>,
}

/// The Digest `response` for a given HA1.
pub fn digest_response(alg: Algorithm, ha1: &str, input: &DigestInput<'_>) -> String {
    let ha2 = alg.hex(format!("{}:{}", input.method, input.uri).as_bytes());
    let kd = match input.qop_auth {
        Some((nc, cnonce)) => format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", input.nonce),
        None => format!("{ha1}:{}:{ha2}", input.nonce),
    };
    alg.hex(kd.as_bytes())
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// Constant-time equality of two strings (the lengths are not secret).
pub(crate) fn ct_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq as _;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc2617_section_3_5() {
        let ha1 = Algorithm::Md5.ha1("Mufasa", "testrealm@host.com", "Circle Of Life");
        let input = DigestInput {
            method: "GET",
            uri: "/dir/index.html",
            nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            qop_auth: Some(("00000001", "0a4f113b")),
        };
        assert_eq!(
            digest_response(Algorithm::Md5, &ha1, &input),
            "6629fae49393a05397450978507c4ef1"
        );
    }

    #[test]
    fn rfc7616_section_3_9_1() {
        let input = DigestInput {
            method: "GET",
            uri: "/dir/index.html",
            nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            qop_auth: Some(("00000001", "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ")),
        };
        let realm = "http-auth@example.org";
        let md5 = Algorithm::Md5.ha1("Mufasa", realm, "Circle of Life");
        assert_eq!(
            digest_response(Algorithm::Md5, &md5, &input),
            "8ca523f5e9506fed4657c9700eebdbec"
        );
        let sha = Algorithm::Sha256.ha1("Mufasa", realm, "Circle of Life");
        assert_eq!(
            digest_response(Algorithm::Sha256, &sha, &input),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
    }

    #[test]
    fn algorithm_tokens() {
        assert_eq!(Algorithm::from_token(None), Some(Algorithm::Md5));
        assert_eq!(
            Algorithm::from_token(Some("sha-256")),
            Some(Algorithm::Sha256)
        );
        assert_eq!(Algorithm::from_token(Some("MD5-sess")), None);
        assert!(ct_eq("abc", "abc") && !ct_eq("abc", "abd") && !ct_eq("abc", "ab"));
    }
}

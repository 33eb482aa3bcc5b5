//! The client side: [`ClientAuth`] reads a 401's `WWW-Authenticate` challenges, keeps the
//! strongest it supports (Digest SHA-256, then Digest MD5, then Basic: Basic is only used when
//! the server offers nothing else) and writes the `Authorization` value of each request, with
//! `nc` counting up and a fresh `cnonce` every time.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::params::{parse_challenges, quote, AuthItem};
use super::{digest_response, Algorithm, DigestInput};

/// Why a challenge cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientAuthError {
    /// No challenge with a scheme and algorithm this client speaks.
    #[error("the server asks for an authentication scheme this client does not support")]
    Unsupported,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Scheme {
    Digest {
        alg: Algorithm,
        nonce: String,
        opaque: Option<String>,
        qop_auth: bool,
    },
    Basic,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Chosen {
    scheme: Scheme,
    realm: String,
}

/// What [`ClientAuth::on_challenge`] learnt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The realm of the chosen challenge.
    pub realm: String,
    /// `stale=true`: the credentials were right, only the nonce expired (retry without counting
    /// a failure).
    pub stale: bool,
}

/// One user's credentials and the challenge they currently answer.
#[derive(Clone)]
pub struct ClientAuth {
    user: String,
    password: String,
    chosen: Option<Chosen>,
    nc: u32,
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientAuth")
            .field("user", &self.user)
            .field("chosen", &self.chosen)
            .finish_non_exhaustive()
    }
}

fn rank(scheme: &Scheme) -> u8 {
    match scheme {
        Scheme::Digest {
            alg: Algorithm::Sha256,
            ..
        } => 3,
        Scheme::Digest { .. } => 2,
        Scheme::Basic => 1,
    }
}

fn supported(item: &AuthItem) -> Option<Chosen> {
    let realm = item.param("realm").unwrap_or_default().to_owned();
    if item.is("Basic") {
        return Some(Chosen {
            scheme: Scheme::Basic,
            realm,
        });
    }
    if !item.is("Digest") {
        return None;
    }
    let alg = Algorithm::from_token(item.param("algorithm"))?;
    let nonce = item.param("nonce")?.to_owned();
    let qop = item.param("qop");
    let qop_auth = qop.is_some_and(|q| q.split(',').any(|o| o.trim().eq_ignore_ascii_case("auth")));
    if qop.is_some() && !qop_auth {
        // Only auth-int offered: we do not hash bodies.
        return None;
    }
    Some(Chosen {
        scheme: Scheme::Digest {
            alg,
            nonce,
            opaque: item.param("opaque").map(str::to_owned),
            qop_auth,
        },
        realm,
    })
}

impl ClientAuth {
    /// Credentials of `user`.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            password: password.into(),
            chosen: None,
            nc: 0,
        }
    }

    /// The user name.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The realm of the challenge being answered, once there is one.
    pub fn realm(&self) -> Option<&str> {
        self.chosen.as_ref().map(|c| c.realm.as_str())
    }

    /// Takes the `WWW-Authenticate` values of a 401 and picks the strongest supported
    /// challenge. Values that do not parse are skipped.
    pub fn on_challenge<S: AsRef<str>>(
        &mut self,
        values: impl IntoIterator<Item = S>,
    ) -> Result<Accepted, ClientAuthError> {
        let mut best: Option<(Chosen, bool)> = None;
        for value in values {
            let Ok(items) = parse_challenges(value.as_ref()) else {
                continue;
            };
            for item in items {
                let Some(c) = supported(&item) else {
                    continue;
                };
                let stale = item
                    .param("stale")
                    .is_some_and(|s| s.eq_ignore_ascii_case("true"));
                if best
                    .as_ref()
                    .is_none_or(|(b, _)| rank(&c.scheme) > rank(&b.scheme))
                {
                    best = Some((c, stale));
                }
            }
        }
        let (chosen, stale) = best.ok_or(ClientAuthError::Unsupported)?;
        let accepted = Accepted {
            realm: chosen.realm.clone(),
            stale,
        };
        self.chosen = Some(chosen);
        self.nc = 0;
        Ok(accepted)
    }

    /// The `Authorization` value for `method` on `uri`, once a challenge was taken.
    pub fn authorization(&mut self, method: &str, uri: &str) -> Option<String> {
        let chosen = self.chosen.as_ref()?;
        match &chosen.scheme {
            Scheme::Basic => Some(format!(
                "Basic {}",
                STANDARD.encode(format!("{}:{}", self.user, self.password))
            )),
            Scheme::Digest {
                alg,
                nonce,
                opaque,
                qop_auth,
            } => {
                let ha1 = alg.ha1(&self.user, &chosen.realm, &self.password);
                let nc;
                let cnonce;
                let qop = if *qop_auth {
                    self.nc = self.nc.wrapping_add(1);
                    nc = format!("{:08x}", self.nc);
                    cnonce = format!("{:032x}", rand::random::<u128>());
                    Some((nc.as_str(), cnonce.as_str()))
                } else {
                    None
                };
                let input = DigestInput {
                    method,
                    uri,
                    nonce,
                    qop_auth: qop,
                };
                let response = digest_response(*alg, &ha1, &input);
                let mut v = format!(
                    "Digest username={}, realm={}, nonce={}, uri={}, algorithm={}, response=\"{response}\"",
                    quote(&self.user),
                    quote(&chosen.realm),
                    quote(nonce),
                    quote(uri),
                    alg.as_str()
                );
                if let Some((nc, cnonce)) = qop {
                    v.push_str(&format!(", qop=auth, nc={nc}, cnonce=\"{cnonce}\""));
                }
                if let Some(o) = opaque {
                    v.push_str(&format!(", opaque={}", quote(o)));
                }
                Some(v)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::params::parse_credentials;

    #[test]
    fn picks_the_strongest() {
        let mut c = ClientAuth::new("u", "p");
        let a = c
            .on_challenge([
                "Basic realm=\"b\"",
                "Digest realm=\"m\", nonce=\"n1\", qop=\"auth\"",
                "Digest realm=\"s\", nonce=\"n2\", algorithm=SHA-256, qop=\"auth,auth-int\", stale=TRUE",
                "Digest realm=\"x\", nonce=\"n3\", algorithm=SHA-512-256",
            ])
            .unwrap();
        assert_eq!(
            a,
            Accepted {
                realm: "s".into(),
                stale: true
            }
        );
        let v = c.authorization("PLAY", "rtsp://h/m").unwrap();
        let item = parse_credentials(&v).unwrap();
        assert_eq!(item.param("algorithm"), Some("SHA-256"));
        assert_eq!(item.param("nc"), Some("00000001"));
        assert_eq!(item.param("uri"), Some("rtsp://h/m"));
        let v2 = c.authorization("PLAY", "rtsp://h/m").unwrap();
        let item2 = parse_credentials(&v2).unwrap();
        assert_eq!(item2.param("nc"), Some("00000002"));
        assert_ne!(item.param("cnonce"), item2.param("cnonce"));
    }

    #[test]
    fn basic_only_when_alone_and_rfc2069_without_qop() {
        let mut c = ClientAuth::new("Aladdin", "open sesame");
        c.on_challenge(["Basic realm=\"r\", Digest realm=\"r\", nonce=\"abc\""])
            .unwrap();
        let v = c.authorization("DESCRIBE", "rtsp://h/m").unwrap();
        assert!(v.starts_with("Digest ") && !v.contains("nc="), "{v}");
        c.on_challenge(["Basic realm=\"r\""]).unwrap();
        assert_eq!(
            c.authorization("DESCRIBE", "rtsp://h/m").unwrap(),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(
            c.on_challenge(["Bearer realm=\"r\"", "garbage \u{1}"]),
            Err(ClientAuthError::Unsupported)
        );
        assert!(!format!("{c:?}").contains("sesame"));
    }
}

//! The server side: [`Authenticator::check`] turns a request's `Authorization` into the user
//! name or an [`AuthFailure`] carrying the 401 (or 400) [`Challenge`] to send.
//!
//! Nonces are stateless: `base64url(timestamp || salt || tag)`, the tag being a SHA-256 of a
//! random per-server secret, the timestamp and a random salt (so that no two challenges share a
//! nonce, whose `nc` counts are tracked separately), so any worker can check any nonce and nothing grows
//! per client. A nonce older than [`AuthConfig::nonce_lifetime`] with an otherwise correct
//! response gets `stale=true`, which tells clients to retry with the new nonce without asking
//! the user again. With `qop=auth` the highest `nc` seen per nonce is remembered (a bounded
//! table), so a captured request cannot be replayed; the RFC 2069 form without qop (what
//! GStreamer sends) has no counter and can be replayed for the same method and URI until its
//! nonce expires.
//!
//! Status codes: a syntactically broken `Authorization` (unparseable, missing Digest fields,
//! bad base64, a `uri` that is not the request's) gets 400, as RFC 7616 section 3.4.6 asks for
//! the `uri` mismatch; everything else (no credentials, unknown scheme, user or algorithm, wrong
//! password, replay, stale nonce) gets 401 with fresh challenges.

use std::collections::HashMap;
use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use super::credentials::Credentials;
use super::params::{parse_credentials, quote, AuthItem};
use super::{ct_eq, digest_response, Algorithm, DigestInput};

/// Nonces with a tracked `nc` at most.
const MAX_TRACKED_NONCES: usize = 4096;
/// Bytes of the nonce tag.
const TAG_LEN: usize = 16;
/// Random bytes making each nonce unique.
const SALT_LEN: usize = 8;

/// How the server authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// The realm announced in challenges; only entries of this realm can log in.
    pub realm: String,
    /// Offer and accept Basic (the password crosses the network in clear: off by default).
    pub allow_basic: bool,
    /// How long a nonce is good for.
    pub nonce_lifetime: Duration,
}

impl AuthConfig {
    /// Digest only, 5-minute nonces.
    pub fn new(realm: impl Into<String>) -> Self {
        Self {
            realm: realm.into(),
            allow_basic: false,
            nonce_lifetime: Duration::from_secs(300),
        }
    }
}

/// What a server needs to authenticate: its settings and its users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAuth {
    /// Realm, Basic, nonce lifetime.
    pub config: AuthConfig,
    /// The users.
    pub credentials: Credentials,
}

impl ServerAuth {
    /// Loads the credentials file at `path` for `realm`. Fails when the file does not parse
    /// or holds no user of `realm` (nobody could log in).
    pub fn load(
        path: &std::path::Path,
        realm: &str,
        allow_basic: bool,
    ) -> Result<Self, super::CredentialError> {
        let credentials = Credentials::load(path)?;
        if !credentials.has_realm(realm) {
            return Err(super::CredentialError::NoUserInRealm {
                path: path.display().to_string(),
                realm: realm.to_owned(),
            });
        }
        let mut config = AuthConfig::new(realm);
        config.allow_basic = allow_basic;
        Ok(Self {
            config,
            credentials,
        })
    }
}

/// The reply to a request that did not authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// 401, or 400 for a malformed `Authorization`.
    pub status: u16,
    /// `WWW-Authenticate` values, strongest first (RFC 7616 section 3.7).
    pub www_authenticate: Vec<String>,
}

/// Why a request did not authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthFailure {
    /// A short reason for the log (never a secret).
    pub reason: &'static str,
    /// The user name the client claimed, if any (for the log).
    pub user: Option<String>,
    /// What to reply.
    pub challenge: Challenge,
}

/// Outcome of [`Authenticator::check`].
pub type Verdict = Result<String, AuthFailure>;

/// Checks credentials against a [`Credentials`] table (see the module documentation).
pub struct Authenticator {
    config: AuthConfig,
    credentials: Credentials,
    secret: [u8; 32],
    /// Highest `nc` accepted per nonce (qop=auth only).
    nc_seen: HashMap<String, u32>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("config", &self.config)
            .field("users", &self.credentials.len())
            .finish_non_exhaustive()
    }
}

/// What a failed check needs before it becomes an [`AuthFailure`].
struct Fail {
    reason: &'static str,
    status: u16,
    stale: bool,
}

fn fail(reason: &'static str) -> Fail {
    Fail {
        reason,
        status: 401,
        stale: false,
    }
}

fn bad(reason: &'static str) -> Fail {
    Fail {
        reason,
        status: 400,
        stale: false,
    }
}

impl Authenticator {
    /// An authenticator with a fresh random nonce secret.
    pub fn new(config: AuthConfig, credentials: Credentials) -> Self {
        Self::with_secret(config, credentials, rand::random())
    }

    /// An authenticator with a given nonce secret (tests; servers sharing nonces).
    pub fn with_secret(config: AuthConfig, credentials: Credentials, secret: [u8; 32]) -> Self {
        Self {
            config,
            credentials,
            secret,
            nc_seen: HashMap::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// Whether `user` (a name [`Self::check`] returned) may publish: only users of this realm
    /// marked [`Permission::Publish`](super::Permission::Publish); readers and unknown names
    /// may not.
    pub fn may_publish(&self, user: &str) -> bool {
        self.credentials
            .lookup(user, &self.config.realm)
            .is_some_and(super::UserEntry::may_publish)
    }

    /// Checks `authorization` (every `Authorization` header of the request) for `method` on
    /// `uri` at time `now` (any monotonic duration; the same origin for every call).
    pub fn check(
        &mut self,
        method: &str,
        uri: &str,
        authorization: &[&str],
        now: Duration,
    ) -> Verdict {
        let mut user = None;
        let result = match authorization {
            [] => Err(fail("no credentials")),
            [one] => self.check_one(method, uri, one, now, &mut user),
            _ => Err(bad("several Authorization headers")),
        };
        result.map_err(|f| AuthFailure {
            reason: f.reason,
            user,
            challenge: self.challenge(f.status, f.stale, now),
        })
    }

    /// The 401 challenge for a request without credentials.
    pub fn unauthorized(&self, now: Duration) -> Challenge {
        self.challenge(401, false, now)
    }

    fn challenge(&self, status: u16, stale: bool, now: Duration) -> Challenge {
        let realm = quote(&self.config.realm);
        let nonce = self.nonce(now.as_secs());
        let stale = if stale { ", stale=true" } else { "" };
        let mut www_authenticate: Vec<String> = [Algorithm::Sha256, Algorithm::Md5]
            .iter()
            .map(|alg| {
                format!(
                    "Digest realm={realm}, nonce=\"{nonce}\", algorithm={}, qop=\"auth\"{stale}",
                    alg.as_str()
                )
            })
            .collect();
        if self.config.allow_basic {
            www_authenticate.push(format!("Basic realm={realm}"));
        }
        Challenge {
            status,
            www_authenticate,
        }
    }

    fn tag(&self, ts: u64, salt: &[u8]) -> [u8; TAG_LEN] {
        let mut h = Sha256::new();
        h.update(self.secret);
        h.update(ts.to_be_bytes());
        h.update(salt);
        h.update(self.config.realm.as_bytes());
        let full = h.finalize();
        let mut tag = [0u8; TAG_LEN];
        for (t, f) in tag.iter_mut().zip(full.iter()) {
            *t = *f;
        }
        tag
    }

    fn nonce(&self, ts: u64) -> String {
        let salt: [u8; SALT_LEN] = rand::random();
        let mut raw = Vec::with_capacity(8 + SALT_LEN + TAG_LEN);
        raw.extend_from_slice(&ts.to_be_bytes());
        raw.extend_from_slice(&salt);
        raw.extend_from_slice(&self.tag(ts, &salt));
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// The nonce's timestamp if we issued it.
    fn nonce_time(&self, nonce: &str) -> Option<u64> {
        let raw = URL_SAFE_NO_PAD.decode(nonce).ok()?;
        let ts_bytes: [u8; 8] = raw.get(..8)?.try_into().ok()?;
        let salt = raw.get(8..8 + SALT_LEN)?;
        let tag = raw.get(8 + SALT_LEN..)?;
        let ts = u64::from_be_bytes(ts_bytes);
        use subtle::ConstantTimeEq as _;
        (tag.len() == TAG_LEN && bool::from(tag.ct_eq(&self.tag(ts, salt)))).then_some(ts)
    }

    fn check_one(
        &mut self,
        method: &str,
        uri: &str,
        value: &str,
        now: Duration,
        user: &mut Option<String>,
    ) -> Result<String, Fail> {
        let item = parse_credentials(value).map_err(|_| bad("malformed Authorization"))?;
        if item.is("Basic") {
            self.check_basic(&item, user)
        } else if item.is("Digest") {
            self.check_digest(method, uri, &item, now, user)
        } else {
            Err(fail("unsupported scheme"))
        }
    }

    fn check_basic(&self, item: &AuthItem, user: &mut Option<String>) -> Result<String, Fail> {
        let token = item
            .token68
            .as_deref()
            .ok_or(bad("malformed Basic credentials"))?;
        let decoded = STANDARD
            .decode(token)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or(bad("malformed Basic credentials"))?;
        let (name, password) = decoded
            .split_once(':')
            .ok_or(bad("malformed Basic credentials"))?;
        *user = Some(name.to_owned());
        if !self.config.allow_basic {
            return Err(fail("Basic is disabled"));
        }
        let realm = &self.config.realm;
        let Some(entry) = self.credentials.lookup(name, realm) else {
            // Same work as for a known user, so timing does not tell which names exist.
            let _ = ct_eq(&Algorithm::Md5.ha1(name, realm, password), &"0".repeat(32));
            return Err(fail("unknown user"));
        };
        let alg = if entry.ha1(Algorithm::Sha256).is_some() {
            Algorithm::Sha256
        } else {
            Algorithm::Md5
        };
        let expected = entry.ha1(alg).unwrap_or_default();
        if ct_eq(&alg.ha1(name, realm, password), expected) {
            Ok(name.to_owned())
        } else {
            Err(fail("wrong password"))
        }
    }

    fn check_digest(
        &mut self,
        method: &str,
        uri: &str,
        item: &AuthItem,
        now: Duration,
        user: &mut Option<String>,
    ) -> Result<String, Fail> {
        let field = |name| item.param(name).ok_or(bad("incomplete Digest credentials"));
        let name = field("username")?;
        *user = Some(name.to_owned());
        let realm = field("realm")?;
        let nonce = field("nonce")?;
        let digest_uri = field("uri")?;
        let response = field("response")?;
        let alg =
            Algorithm::from_token(item.param("algorithm")).ok_or(fail("unsupported algorithm"))?;
        if item
            .param("userhash")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        {
            return Err(fail("userhash is not supported"));
        }
        let qop_auth = match item.param("qop") {
            None => None,
            Some(q) if q.eq_ignore_ascii_case("auth") => {
                let nc = field("nc")?;
                let cnonce = field("cnonce")?;
                if nc.len() != 8 || u32::from_str_radix(nc, 16).is_err() {
                    return Err(bad("malformed nc"));
                }
                Some((nc, cnonce))
            }
            Some(_) => return Err(fail("unsupported qop")),
        };
        if !same_uri(digest_uri, uri) {
            return Err(bad("Digest uri is not the request-URI"));
        }
        if realm != self.config.realm {
            return Err(fail("wrong realm"));
        }
        let issued = self.nonce_time(nonce).ok_or(fail("unknown nonce"))?;
        let now_s = now.as_secs();
        if issued > now_s {
            return Err(fail("nonce from the future"));
        }
        let input = DigestInput {
            method,
            uri: digest_uri,
            nonce,
            qop_auth,
        };
        let entry = self.credentials.lookup(name, realm);
        let ha1 = entry.and_then(|e| e.ha1(alg));
        let expected = match ha1 {
            Some(h) => digest_response(alg, h, &input),
            // Same work as for a known user, so timing does not tell which names exist.
            None => digest_response(alg, &"0".repeat(alg.hex_len()), &input),
        };
        let matches = ct_eq(&response.to_ascii_lowercase(), &expected);
        match (entry, ha1) {
            (None, _) => return Err(fail("unknown user")),
            (Some(_), None) => return Err(fail("no SHA-256 hash stored for this user")),
            _ if !matches => return Err(fail("wrong password")),
            _ => {}
        }
        if now_s - issued > self.config.nonce_lifetime.as_secs() {
            return Err(Fail {
                reason: "stale nonce",
                status: 401,
                stale: true,
            });
        }
        if let Some((nc, _)) = qop_auth {
            let nc = u32::from_str_radix(nc, 16).unwrap_or(0);
            if !self.accept_nc(nonce, nc, now_s) {
                return Err(fail("replayed nonce count"));
            }
        }
        Ok(name.to_owned())
    }

    /// Records `nc` for `nonce`; false if it is not above the highest seen.
    fn accept_nc(&mut self, nonce: &str, nc: u32, now_s: u64) -> bool {
        if let Some(last) = self.nc_seen.get_mut(nonce) {
            if nc <= *last {
                return false;
            }
            *last = nc;
            return true;
        }
        if self.nc_seen.len() >= MAX_TRACKED_NONCES {
            let lifetime = self.config.nonce_lifetime.as_secs();
            let keep: Vec<String> = self
                .nc_seen
                .keys()
                .filter(|n| {
                    self.nonce_time(n)
                        .is_some_and(|t| now_s.saturating_sub(t) <= lifetime)
                })
                .cloned()
                .collect();
            self.nc_seen.retain(|n, _| keep.contains(n));
            if self.nc_seen.len() >= MAX_TRACKED_NONCES {
                // Still full of live nonces: forget one (its replay window reopens, which only
                // a client with more than 4096 live nonces can arrange).
                if let Some(k) = self.nc_seen.keys().next().cloned() {
                    self.nc_seen.remove(&k);
                }
            }
        }
        self.nc_seen.insert(nonce.to_owned(), nc);
        true
    }
}

/// Whether the Digest `uri` names the request-URI: exactly, or the same URL up to a trailing
/// slash (clients differ on the aggregate URL's slash and on the host spelling).
fn same_uri(digest_uri: &str, request_uri: &str) -> bool {
    if digest_uri == request_uri {
        return true;
    }
    use crate::rtsp::url::RequestUri;
    match (
        RequestUri::parse(digest_uri),
        RequestUri::parse(request_uri),
    ) {
        (Ok(RequestUri::Absolute(a)), Ok(RequestUri::Absolute(b))) => {
            a.path.trim_end_matches('/') == b.path.trim_end_matches('/') && a.query == b.query
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::client::ClientAuth;
    use crate::auth::credentials::UserEntry;
    use proptest::prelude::*;

    const URI: &str = "rtsp://127.0.0.1:8554/movie.Mjpeg";

    fn auth(basic: bool) -> Authenticator {
        let entry = UserEntry::new("alice", "test", "secret").unwrap();
        let creds = Credentials::parse(&entry.to_line()).unwrap();
        let mut config = AuthConfig::new("test");
        config.allow_basic = basic;
        Authenticator::with_secret(config, creds, [7; 32])
    }

    fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    /// The Authorization a client with `password` sends after the server's 401.
    fn answer(
        a: &Authenticator,
        password: &str,
        now: Duration,
        method: &str,
    ) -> (ClientAuth, String) {
        let ch = a.unauthorized(now);
        let mut client = ClientAuth::new("alice", password);
        client.on_challenge(&ch.www_authenticate).unwrap();
        let value = client.authorization(method, URI).unwrap();
        (client, value)
    }

    #[test]
    fn only_users_marked_publish_may_publish() {
        let reader = UserEntry::new("alice", "test", "a").unwrap();
        let publisher = UserEntry::new("bob", "test", "b")
            .unwrap()
            .with_permission(crate::auth::Permission::Publish);
        let elsewhere = UserEntry::new("carol", "other", "c")
            .unwrap()
            .with_permission(crate::auth::Permission::Publish);
        let text = [reader, publisher, elsewhere]
            .map(|e| e.to_line())
            .join("\n");
        let creds = Credentials::parse(&text).unwrap();
        let mut a = Authenticator::with_secret(AuthConfig::new("test"), creds, [7; 32]);
        assert!(a.may_publish("bob"));
        assert!(!a.may_publish("alice"));
        assert!(!a.may_publish("carol"), "a publisher of another realm");
        assert!(!a.may_publish("nobody"));
        // Authenticating is the same for both: the permission only matters afterwards.
        let ch = a.unauthorized(s(10));
        let mut client = ClientAuth::new("alice", "a");
        client.on_challenge(&ch.www_authenticate).unwrap();
        let value = client.authorization("ANNOUNCE", URI).unwrap();
        assert_eq!(
            a.check("ANNOUNCE", URI, &[&value], s(11)).as_deref(),
            Ok("alice")
        );
    }

    #[test]
    fn challenge_order_and_contents() {
        let ch = auth(true).unauthorized(s(1000));
        assert_eq!(ch.status, 401);
        assert_eq!(ch.www_authenticate.len(), 3);
        assert!(ch.www_authenticate[0].starts_with("Digest realm=\"test\", nonce=\""));
        assert!(ch.www_authenticate[0].contains("algorithm=SHA-256, qop=\"auth\""));
        assert!(ch.www_authenticate[1].contains("algorithm=MD5"));
        assert_eq!(ch.www_authenticate[2], "Basic realm=\"test\"");
        assert_eq!(auth(false).unauthorized(s(0)).www_authenticate.len(), 2);
    }

    #[test]
    fn digest_round_trip_nc_and_replay() {
        let mut a = auth(false);
        let (mut client, first) = answer(&a, "secret", s(1000), "DESCRIBE");
        assert!(first.contains("algorithm=SHA-256"), "{first}");
        assert_eq!(
            a.check("DESCRIBE", URI, &[&first], s(1001)).unwrap(),
            "alice"
        );
        let replay = a.check("DESCRIBE", URI, &[&first], s(1002)).unwrap_err();
        assert_eq!(
            (replay.challenge.status, replay.reason),
            (401, "replayed nonce count")
        );
        let second = client.authorization("PLAY", URI).unwrap();
        assert!(second.contains("nc=00000002"));
        assert_eq!(a.check("PLAY", URI, &[&second], s(1003)).unwrap(), "alice");
        // Another method with the same response does not pass.
        let third = client.authorization("PLAY", URI).unwrap();
        let e = a.check("TEARDOWN", URI, &[&third], s(1003)).unwrap_err();
        assert_eq!(e.reason, "wrong password");
    }

    #[test]
    fn wrong_password_unknown_user_and_stale() {
        let mut a = auth(false);
        let (_, wrong) = answer(&a, "nope", s(10), "DESCRIBE");
        let e = a.check("DESCRIBE", URI, &[&wrong], s(10)).unwrap_err();
        assert_eq!(
            (e.reason, e.user.as_deref()),
            ("wrong password", Some("alice"))
        );
        assert!(!e.challenge.www_authenticate[0].contains("stale"));
        let ch = a.unauthorized(s(10));
        let mut bob = ClientAuth::new("bob", "secret");
        bob.on_challenge(&ch.www_authenticate).unwrap();
        let v = bob.authorization("DESCRIBE", URI).unwrap();
        assert_eq!(
            a.check("DESCRIBE", URI, &[&v], s(10)).unwrap_err().reason,
            "unknown user"
        );
        let (_, old) = answer(&a, "secret", s(10), "DESCRIBE");
        let e = a.check("DESCRIBE", URI, &[&old], s(10 + 301)).unwrap_err();
        assert_eq!(e.reason, "stale nonce");
        assert!(e.challenge.www_authenticate[0].ends_with("stale=true"));
        // A nonce of another server (other secret) is unknown, not stale.
        let other =
            Authenticator::with_secret(AuthConfig::new("test"), Credentials::default(), [8; 32]);
        let (_, foreign) = answer(&other, "secret", s(10), "DESCRIBE");
        assert_eq!(
            a.check("DESCRIBE", URI, &[&foreign], s(11))
                .unwrap_err()
                .reason,
            "unknown nonce"
        );
    }

    #[test]
    fn rfc2069_form_and_uri_check() {
        let mut a = auth(false);
        let ch = a.unauthorized(s(50));
        let nonce = ch.www_authenticate[1]
            .split("nonce=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap()
            .to_owned();
        let ha1 = Algorithm::Md5.ha1("alice", "test", "secret");
        let input = DigestInput {
            method: "SETUP",
            uri: URI,
            nonce: &nonce,
            qop_auth: None,
        };
        let resp = digest_response(Algorithm::Md5, &ha1, &input);
        let v = format!("Digest username=\"alice\", realm=\"test\", nonce=\"{nonce}\", uri=\"{URI}\", response=\"{resp}\"");
        assert!(a.check("SETUP", URI, &[&v], s(51)).is_ok());
        // Again: allowed, the RFC 2069 form has no counter.
        assert!(a.check("SETUP", URI, &[&v], s(52)).is_ok());
        assert!(a.check("SETUP", &format!("{URI}/"), &[&v], s(52)).is_ok());
        let e = a
            .check("SETUP", "rtsp://127.0.0.1:8554/other", &[&v], s(52))
            .unwrap_err();
        assert_eq!(e.challenge.status, 400);
    }

    #[test]
    fn basic_only_when_enabled() {
        let value = format!("Basic {}", STANDARD.encode("alice:secret"));
        let wrong = format!("Basic {}", STANDARD.encode("alice:nope"));
        assert_eq!(
            auth(true).check("PLAY", URI, &[&value], s(0)).unwrap(),
            "alice"
        );
        assert_eq!(
            auth(true)
                .check("PLAY", URI, &[&wrong], s(0))
                .unwrap_err()
                .reason,
            "wrong password"
        );
        assert_eq!(
            auth(false)
                .check("PLAY", URI, &[&value], s(0))
                .unwrap_err()
                .reason,
            "Basic is disabled"
        );
        let e = auth(true)
            .check("PLAY", URI, &["Basic !!!"], s(0))
            .unwrap_err();
        assert_eq!(e.challenge.status, 400);
    }

    #[test]
    fn malformed_and_missing() {
        let mut a = auth(false);
        let cases: [(&[&str], u16); 6] = [
            (&[], 401),
            (&["Bearer abc"], 401),
            (&["Digest username=\"alice\""], 400),
            (&["Digest realm=\"unterminated"], 400),
            (&["Digest a=b", "Digest c=d"], 400),
            (&["Digest username=\"a\", realm=\"test\", nonce=\"x\", uri=\"u\", response=\"r\", qop=auth, nc=zz, cnonce=c"], 400),
        ];
        for (values, status) in cases {
            let e = a.check("DESCRIBE", "u", values, s(0)).unwrap_err();
            assert_eq!(e.challenge.status, status, "{values:?}: {}", e.reason);
            assert_eq!(e.challenge.www_authenticate.len(), 2);
        }
    }

    proptest! {
        #[test]
        fn never_panics(v in ".{0,300}", uri in "[!-~]{0,40}", t in 0u64..1_000_000) {
            let mut a = auth(true);
            let _ = a.check("PLAY", &uri, &[&v], s(t));
            let _ = a.check("PLAY", &uri, &[&format!("Digest {v}")], s(t));
        }
    }
}

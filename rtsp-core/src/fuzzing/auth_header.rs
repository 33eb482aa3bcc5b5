//! Authentication headers: the input is a `WWW-Authenticate` value for the client and an
//! `Authorization` value for the server. Neither side may panic, and a client that accepted a
//! challenge must produce an `Authorization` the shared parser reads back.

use std::time::Duration;

use crate::auth::params::{parse_challenges, parse_credentials};
use crate::auth::{AuthConfig, Authenticator, ClientAuth, Credentials, UserEntry};

/// Runs one input through the client and the server side of RTSP authentication.
pub fn auth_header(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_challenges(text);
    let mut client = ClientAuth::new("user", "pass");
    if client.on_challenge([text]).is_ok() {
        let value = client
            .authorization("DESCRIBE", "rtsp://h/m")
            .unwrap_or_default();
        assert!(parse_credentials(&value).is_ok(), "{value:?}");
    }
    let entry = UserEntry::new("user", "r", "pass").unwrap();
    let creds = Credentials::parse(&entry.to_line()).unwrap();
    let mut config = AuthConfig::new("r");
    config.allow_basic = true;
    let mut server = Authenticator::with_secret(config, creds, [1; 32]);
    if let Ok(user) = server.check("PLAY", "rtsp://h/m", &[text], Duration::from_secs(100)) {
        // The only user is a reader: whatever name authenticated, it may not publish.
        assert!(!server.may_publish(&user), "{user:?}");
    }
    // The credentials file is the operator's, but its parser must not panic either.
    if let Ok(parsed) = Credentials::parse(text) {
        assert!(
            !parsed.is_empty()
                || text.lines().all(|l| {
                    let l = l.trim();
                    l.is_empty() || l.starts_with('#')
                })
        );
    }
}

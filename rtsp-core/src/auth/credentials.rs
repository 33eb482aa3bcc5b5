//! The credentials file: one user per line, `user:realm:md5_ha1:sha256_ha1[:publish]`.
//!
//! HA1 is `H(user:realm:password)` in lowercase hex. The first three fields are exactly an
//! Apache `htdigest` line, so an htdigest file works as is (its users then have MD5 Digest and
//! Basic only). Blank lines and lines starting with `#` are ignored.
//!
//! Every user may read (DESCRIBE, SETUP, PLAY). Publishing (ANNOUNCE, SETUP `mode=record`,
//! RECORD) needs the optional fifth field `publish` ([`Permission::Publish`]): a user without
//! it is a reader, so files written before the field existed keep their meaning and grant no
//! user more than reading. An htdigest line gets the field after an empty SHA-256 field
//! (`user:realm:md5_ha1::publish`).
//!
//! No plaintext password is stored: Digest needs only HA1, and Basic is checked by hashing the
//! password the client sends. But **HA1 is password-equivalent for its realm**: whoever reads
//! the file can authenticate as any of its users with Digest. Keep it mode 0600
//! ([`loose_permissions`] tells when it is not).

use std::path::Path;

use super::Algorithm;

/// Why a credentials file or entry is refused. Messages carry line numbers and user names,
/// never hashes or passwords.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// The file cannot be read or written.
    #[error("credentials file {path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// The system's message.
        error: String,
    },
    /// A line is not `user:realm:md5_ha1[:sha256_ha1[:publish]]`.
    #[error("credentials file line {line}: {why}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        why: &'static str,
    },
    /// The same user and realm appear twice.
    #[error("credentials file line {line}: user {user:?} is already defined for this realm")]
    Duplicate {
        /// 1-based line number of the second entry.
        line: usize,
        /// The user.
        user: String,
    },
    /// The file has no user of the server's realm.
    #[error("credentials file {path} has no user for realm {realm:?} (create one with `rtsp-server passwd`)")]
    NoUserInRealm {
        /// The file.
        path: String,
        /// The realm.
        realm: String,
    },
    /// A user or realm name that cannot be stored or sent (empty, `:`, `"`, `\` or control
    /// characters).
    #[error("invalid {what} {value:?}: it must be non-empty, without ':', '\"', '\\' or control characters")]
    InvalidName {
        /// `user` or `realm`.
        what: &'static str,
        /// The refused name.
        value: String,
    },
}

/// What a user may do beyond authenticating.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read only: play what the server serves (the default, and every line without a fifth
    /// field).
    #[default]
    Read,
    /// Read and publish (ANNOUNCE, SETUP `mode=record`, RECORD).
    Publish,
}

impl Permission {
    /// The fifth field's token (`None` for a reader, whose line has no such field).
    fn token(self) -> Option<&'static str> {
        match self {
            Self::Read => None,
            Self::Publish => Some("publish"),
        }
    }
}

/// One user of one realm.
#[derive(Clone, PartialEq, Eq)]
pub struct UserEntry {
    /// User name.
    pub user: String,
    /// Realm.
    pub realm: String,
    /// What the user may do.
    pub permission: Permission,
    md5_ha1: String,
    sha256_ha1: Option<String>,
}

impl std::fmt::Debug for UserEntry {
    // The hashes are password-equivalent: keep them out of debug output and logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserEntry")
            .field("user", &self.user)
            .field("realm", &self.realm)
            .field("permission", &self.permission)
            .field("sha256", &self.sha256_ha1.is_some())
            .finish_non_exhaustive()
    }
}

impl UserEntry {
    /// The entry for `user` with `password` in `realm`, a reader (see [`Self::with_permission`]).
    pub fn new(user: &str, realm: &str, password: &str) -> Result<Self, CredentialError> {
        check_name("user", user)?;
        check_name("realm", realm)?;
        Ok(Self {
            user: user.to_owned(),
            realm: realm.to_owned(),
            permission: Permission::Read,
            md5_ha1: Algorithm::Md5.ha1(user, realm, password),
            sha256_ha1: Some(Algorithm::Sha256.ha1(user, realm, password)),
        })
    }

    /// The entry with `permission` instead of its own.
    #[must_use]
    pub fn with_permission(mut self, permission: Permission) -> Self {
        self.permission = permission;
        self
    }

    /// Whether the user may publish.
    pub fn may_publish(&self) -> bool {
        self.permission == Permission::Publish
    }

    /// HA1 for `alg`, if the entry has it.
    pub fn ha1(&self, alg: Algorithm) -> Option<&str> {
        match alg {
            Algorithm::Md5 => Some(&self.md5_ha1),
            Algorithm::Sha256 => self.sha256_ha1.as_deref(),
        }
    }

    /// The file line (without newline).
    pub fn to_line(&self) -> String {
        let head = format!("{}:{}:{}", self.user, self.realm, self.md5_ha1);
        match (&self.sha256_ha1, self.permission.token()) {
            (Some(sha), Some(p)) => format!("{head}:{sha}:{p}"),
            (Some(sha), None) => format!("{head}:{sha}"),
            (None, Some(p)) => format!("{head}::{p}"),
            (None, None) => head,
        }
    }

    fn parse(line: &str, number: usize) -> Result<Self, CredentialError> {
        let bad = |why| CredentialError::Line { line: number, why };
        let fields: Vec<&str> = line.split(':').collect();
        let (user, realm, md5, sha, permission) = match fields.as_slice() {
            [u, r, m] => (*u, *r, *m, None, Permission::Read),
            [u, r, m, s] => (*u, *r, *m, Some(*s), Permission::Read),
            [u, r, m, s, "publish"] => (*u, *r, *m, Some(*s), Permission::Publish),
            [_, _, _, _, _] => return Err(bad("the fifth field can only be `publish`")),
            _ => return Err(bad("expected user:realm:md5_ha1[:sha256_ha1[:publish]]")),
        };
        // `user:realm:md5::publish`: an htdigest line with a permission.
        let sha = sha.filter(|s| !(s.is_empty() && permission == Permission::Publish));
        if check_name("user", user).is_err() {
            return Err(bad("invalid user name"));
        }
        if check_name("realm", realm).is_err() {
            return Err(bad("invalid realm"));
        }
        let hex = |s: &str, len| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex(md5, 32) {
            return Err(bad("the MD5 HA1 must be 32 hex digits"));
        }
        if sha.is_some_and(|s| !hex(s, 64)) {
            return Err(bad("the SHA-256 HA1 must be 64 hex digits"));
        }
        Ok(Self {
            user: user.to_owned(),
            realm: realm.to_owned(),
            permission,
            md5_ha1: md5.to_ascii_lowercase(),
            sha256_ha1: sha.map(str::to_ascii_lowercase),
        })
    }
}

fn check_name(what: &'static str, value: &str) -> Result<(), CredentialError> {
    let ok = !value.is_empty()
        && !value
            .chars()
            .any(|c| c == ':' || c == '"' || c == '\\' || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(CredentialError::InvalidName {
            what,
            value: value.to_owned(),
        })
    }
}

/// The users of a credentials file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    entries: Vec<UserEntry>,
}

impl Credentials {
    /// Parses the file's text.
    pub fn parse(text: &str) -> Result<Self, CredentialError> {
        let mut entries: Vec<UserEntry> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let entry = UserEntry::parse(line, i + 1)?;
            if entries
                .iter()
                .any(|e| e.user == entry.user && e.realm == entry.realm)
            {
                return Err(CredentialError::Duplicate {
                    line: i + 1,
                    user: entry.user,
                });
            }
            entries.push(entry);
        }
        Ok(Self { entries })
    }

    /// Reads and parses a file.
    pub fn load(path: &Path) -> Result<Self, CredentialError> {
        let text = std::fs::read_to_string(path).map_err(|e| io_error(path, &e))?;
        Self::parse(&text)
    }

    /// The entry of `user` in `realm`.
    pub fn lookup(&self, user: &str, realm: &str) -> Option<&UserEntry> {
        self.entries
            .iter()
            .find(|e| e.user == user && e.realm == realm)
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether any entry belongs to `realm`.
    pub fn has_realm(&self, realm: &str) -> bool {
        self.entries.iter().any(|e| e.realm == realm)
    }
}

/// `text` (a credentials file) with `entry` added, or replacing the line of the same user and
/// realm; comments and other lines are kept. Fails if `text` itself does not parse.
pub fn upsert(text: &str, entry: &UserEntry) -> Result<String, CredentialError> {
    Credentials::parse(text)?;
    let mut out = String::with_capacity(text.len() + 128);
    let mut replaced = false;
    for line in text.lines() {
        let same = UserEntry::parse(line.trim(), 0)
            .is_ok_and(|e| e.user == entry.user && e.realm == entry.realm);
        if same {
            out.push_str(&entry.to_line());
            replaced = true;
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    if !replaced {
        out.push_str(&entry.to_line());
        out.push('\n');
    }
    Ok(out)
}

/// Adds or replaces `entry` in the file at `path` (created with mode 0600 if missing).
pub fn write_entry(path: &Path, entry: &UserEntry) -> Result<(), CredentialError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(io_error(path, &e)),
    };
    let updated = upsert(&text, entry)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    use std::io::Write as _;
    options
        .open(path)
        .and_then(|mut f| f.write_all(updated.as_bytes()))
        .map_err(|e| io_error(path, &e))
}

/// The file's permission bits when group or others may read it (the hashes are
/// password-equivalent), `None` when only the owner can (or on non-Unix systems).
pub fn loose_permissions(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
        (mode & 0o077 != 0).then_some(mode)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

fn io_error(path: &Path, e: &std::io::Error) -> CredentialError {
    CredentialError::Io {
        path: path.display().to_string(),
        error: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_comments_and_htdigest() {
        let alice = UserEntry::new("alice", "rtsp-server", "secret").unwrap();
        let text = format!(
            "# users\n\n{}\nbob:rtsp-server:{}\n",
            alice.to_line(),
            Algorithm::Md5.ha1("bob", "rtsp-server", "pw")
        );
        let c = Credentials::parse(&text).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c.lookup("alice", "rtsp-server"), Some(&alice));
        let bob = c.lookup("bob", "rtsp-server").unwrap();
        assert!(bob.ha1(Algorithm::Sha256).is_none());
        assert!(c.lookup("bob", "other").is_none());
        assert!(!format!("{alice:?}").contains(alice.ha1(Algorithm::Md5).unwrap()));
    }

    #[test]
    fn errors_name_the_line_not_the_secret() {
        let md5 = Algorithm::Md5.ha1("a", "r", "p");
        let cases = [
            ("a:r\n", 1),
            ("# c\na:r:xyz\n", 2),
            (&format!("\n\na:r:{md5}:abc\n") as &str, 3),
            (&format!(":r:{md5}\n"), 1),
            (&format!("a:r:{md5}\na:r:{md5}\n"), 2),
        ];
        for (text, line) in cases {
            let e = Credentials::parse(text).unwrap_err();
            let msg = e.to_string();
            assert!(msg.contains(&format!("line {line}:")), "{msg}");
            assert!(!msg.contains(&md5), "{msg}");
        }
        assert!(UserEntry::new("a:b", "r", "p").is_err());
        assert!(UserEntry::new("a", "", "p").is_err());
    }

    #[test]
    fn publish_is_a_fifth_field_and_absent_means_read_only() {
        let md5 = Algorithm::Md5.ha1("h", "r", "p");
        let reader = UserEntry::new("a", "r", "p").unwrap();
        let publisher = UserEntry::new("b", "r", "p")
            .unwrap()
            .with_permission(Permission::Publish);
        assert!(publisher.to_line().ends_with(":publish"));
        assert_eq!(reader.to_line().split(':').count(), 4);
        let text = format!(
            "{}\n{}\nh:r:{md5}::publish\ng:r:{md5}\n",
            reader.to_line(),
            publisher.to_line()
        );
        let c = Credentials::parse(&text).unwrap();
        assert_eq!(c.lookup("a", "r").map(UserEntry::may_publish), Some(false));
        assert_eq!(c.lookup("b", "r"), Some(&publisher));
        assert!(c.lookup("b", "r").unwrap().may_publish());
        let h = c.lookup("h", "r").unwrap();
        assert!(h.may_publish() && h.ha1(Algorithm::Sha256).is_none());
        assert_eq!(h.to_line(), format!("h:r:{md5}::publish"));
        assert!(!c.lookup("g", "r").unwrap().may_publish());
        for bad in [
            format!("a:r:{md5}::write\n"),
            format!("a:r:{md5}::PUBLISH\n"),
            format!("a:r:{md5}::publish:x\n"),
            format!("a:r:{md5}:\n"),
        ] {
            let e = Credentials::parse(&bad).unwrap_err();
            assert!(e.to_string().contains("line 1:"), "{e}");
        }
    }

    #[test]
    fn upsert_replaces_or_appends() {
        let a1 = UserEntry::new("a", "r", "one").unwrap();
        let a2 = UserEntry::new("a", "r", "two").unwrap();
        let b = UserEntry::new("b", "r", "x").unwrap();
        let t = upsert("# keep\n", &a1).unwrap();
        let t = upsert(&t, &b).unwrap();
        let t = upsert(&t, &a2).unwrap();
        assert!(t.starts_with("# keep\n"));
        let c = Credentials::parse(&t).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c.lookup("a", "r"), Some(&a2));
        assert!(upsert("garbage\n", &a1).is_err());
    }
}

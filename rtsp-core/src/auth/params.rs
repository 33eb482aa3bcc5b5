//! The syntax of `WWW-Authenticate` and `Authorization` values (RFC 7235 section 2.1):
//! `scheme [token68 | name=value *(, name=value)]`, several challenges per header allowed,
//! values as tokens or quoted strings (which may hold commas and `\"`).

/// Most auth-params accepted in one value: bounds the work a hostile header causes.
const MAX_PARAMS: usize = 64;

/// Why a value does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParamError {
    /// Not the auth syntax; the number is the byte offset where parsing stopped.
    #[error("malformed authentication header at byte {0}")]
    Syntax(usize),
    /// More than 64 parameters (a bound on the work one header can cause).
    #[error("too many authentication parameters")]
    TooMany,
    /// A credentials value holding more than one scheme.
    #[error("one Authorization value must hold one set of credentials")]
    Several,
}

/// One challenge or one set of credentials.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthItem {
    /// The scheme as sent (`Digest`, `Basic`, ...); compare case-insensitively.
    pub scheme: String,
    /// The token68 form (`Basic dXNlcjpwYXNz`).
    pub token68: Option<String>,
    /// `name=value` parameters in order; quoted values unescaped.
    pub params: Vec<(String, String)>,
}

impl AuthItem {
    /// Whether the scheme is `name` (case-insensitive).
    pub fn is(&self, name: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(name)
    }

    /// The first parameter called `name` (case-insensitive).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Parses a `WWW-Authenticate` value: one or more challenges.
pub fn parse_challenges(value: &str) -> Result<Vec<AuthItem>, ParamError> {
    Lexer::new(value).items()
}

/// Parses an `Authorization` value: exactly one set of credentials.
pub fn parse_credentials(value: &str) -> Result<AuthItem, ParamError> {
    let mut items = Lexer::new(value).items()?;
    match (items.pop(), items.is_empty()) {
        (Some(item), true) => Ok(item),
        (None, _) => Err(ParamError::Syntax(0)),
        (Some(_), false) => Err(ParamError::Several),
    }
}

/// `s` as a quoted string (for values this crate writes).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token68(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

struct Lexer<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn new(s: &'a str) -> Self {
        Self { s, pos: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn err(&self) -> ParamError {
        ParamError::Syntax(self.pos)
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn run(&mut self, f: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&f) {
            self.pos += 1;
        }
        self.s.get(start..self.pos).unwrap_or_default()
    }

    fn token(&mut self) -> Result<&'a str, ParamError> {
        let t = self.run(is_tchar);
        if t.is_empty() {
            Err(self.err())
        } else {
            Ok(t)
        }
    }

    fn quoted(&mut self) -> Result<String, ParamError> {
        // Opening quote already seen.
        self.pos += 1;
        let mut out = String::new();
        let mut chars = self.s.get(self.pos..).unwrap_or_default().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, e)) if !e.is_control() => out.push(e),
                    _ => return Err(ParamError::Syntax(self.pos + i)),
                },
                c if c.is_control() && c != '\t' => return Err(ParamError::Syntax(self.pos + i)),
                c => out.push(c),
            }
        }
        Err(ParamError::Syntax(self.s.len()))
    }

    fn value(&mut self) -> Result<String, ParamError> {
        if self.peek() == Some(b'"') {
            self.quoted()
        } else {
            self.token().map(str::to_owned)
        }
    }

    /// Whether a `name =` follows (rather than a token68 or the next scheme).
    fn param_ahead(&self) -> bool {
        let mut probe = Lexer {
            s: self.s,
            pos: self.pos,
        };
        if probe.token().is_err() {
            return false;
        }
        probe.skip_ws();
        if probe.peek() != Some(b'=') {
            return false;
        }
        probe.pos += 1;
        probe.skip_ws();
        // `abc==` or `abc=` at the end is token68 padding, not a parameter.
        !matches!(probe.peek(), None | Some(b'=' | b','))
    }

    fn param(&mut self, item: &mut AuthItem) -> Result<(), ParamError> {
        let name = self.token()?.to_owned();
        self.skip_ws();
        if self.peek() != Some(b'=') {
            return Err(self.err());
        }
        self.pos += 1;
        self.skip_ws();
        let value = self.value()?;
        if item.params.len() >= MAX_PARAMS {
            return Err(ParamError::TooMany);
        }
        item.params.push((name, value));
        Ok(())
    }

    /// Skips list separators; returns whether at least one comma was seen.
    fn separators(&mut self) -> bool {
        let mut comma = false;
        loop {
            self.skip_ws();
            if self.peek() == Some(b',') {
                comma = true;
                self.pos += 1;
            } else {
                return comma;
            }
        }
    }

    fn items(mut self) -> Result<Vec<AuthItem>, ParamError> {
        let mut items: Vec<AuthItem> = Vec::new();
        self.separators();
        while self.peek().is_some() {
            if let (Some(current), true) = (items.last_mut(), self.param_ahead()) {
                self.param(current)?;
            } else {
                let scheme = self.token()?.to_owned();
                let mut item = AuthItem {
                    scheme,
                    ..AuthItem::default()
                };
                let spaced = matches!(self.peek(), Some(b' ' | b'\t'));
                self.skip_ws();
                if spaced && self.peek().is_some_and(|b| b != b',') {
                    if self.param_ahead() {
                        self.param(&mut item)?;
                    } else {
                        let t = self.run(is_token68);
                        let pad = self.run(|b| b == b'=');
                        if t.is_empty() {
                            return Err(self.err());
                        }
                        item.token68 = Some(format!("{t}{pad}"));
                    }
                }
                items.push(item);
            }
            let comma = self.separators();
            if !comma && self.peek().is_some() {
                return Err(self.err());
            }
        }
        if items.is_empty() {
            return Err(self.err());
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn several_challenges_in_one_header() {
        let v = r#"Digest realm="a, b", nonce="x\"y", algorithm=SHA-256, qop="auth,auth-int", Basic realm="r", Negotiate abc=="#;
        let items = parse_challenges(v).unwrap();
        assert_eq!(items.len(), 3);
        assert!(items[0].is("digest"));
        assert_eq!(items[0].param("REALM"), Some("a, b"));
        assert_eq!(items[0].param("nonce"), Some("x\"y"));
        assert_eq!(items[0].param("qop"), Some("auth,auth-int"));
        assert_eq!(items[0].param("algorithm"), Some("SHA-256"));
        assert!(items[1].is("Basic"));
        assert_eq!(items[1].param("realm"), Some("r"));
        assert_eq!(items[2].token68.as_deref(), Some("abc=="));
    }

    #[test]
    fn credentials() {
        let b = parse_credentials("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==").unwrap();
        assert!(b.is("basic"));
        assert_eq!(b.token68.as_deref(), Some("QWxhZGRpbjpvcGVuIHNlc2FtZQ=="));
        let d = parse_credentials(r#"Digest username="Mufasa",realm="r", nc=00000001"#).unwrap();
        assert_eq!(d.param("username"), Some("Mufasa"));
        assert_eq!(d.param("nc"), Some("00000001"));
        assert!(matches!(
            parse_credentials("Basic a, Digest b=c"),
            Err(ParamError::Several)
        ));
        for bad in [
            "",
            "  ",
            "Digest realm=\"open",
            "Digest a=b c",
            "Digest =x",
            "Digest a=\"\u{1}\"",
        ] {
            assert!(parse_credentials(bad).is_err(), "{bad:?}");
        }
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
    }

    proptest! {
        #[test]
        fn never_panics(s in ".{0,200}") {
            let _ = parse_challenges(&s);
            let _ = parse_credentials(&s);
        }

        #[test]
        fn quoted_values_round_trip(v in "[ -~]{0,40}") {
            let items = parse_challenges(&format!("Digest x={}, y=z", quote(&v))).unwrap();
            prop_assert_eq!(items[0].param("x"), Some(v.as_str()));
            prop_assert_eq!(items[0].param("y"), Some("z"));
        }
    }
}

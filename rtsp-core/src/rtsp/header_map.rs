//! The ordered, case-insensitive header list of a message.

use std::fmt;

use super::error::BuildError;
use super::headers::{Header, HeaderError};
use super::syntax::{excerpt, is_field_text, is_token, trim_ows};

/// Misspellings seen on the wire, mapped to the header they stand for. Some lab clients send
/// `Sesssion:` with DESCRIBE; a lookup of `Session` must find it.
const ALIASES: &[(&str, &str)] = &[("Sesssion", "Session")];

/// Header lines in wire order.
///
/// Names keep the spelling they had on the wire (so a message can be written back byte-exact),
/// but every lookup is ASCII case-insensitive and also finds known misspellings (`Sesssion`
/// for `Session`). A name may occur several times.
///
/// Values are stored without surrounding whitespace. Insertion validates names (RFC 2326
/// `token`) and values (no CR, LF or other control characters), so a message built from a
/// `Headers` always writes back as well-formed text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    entries: Vec<(String, String)>,
}

/// Whether a stored header name answers a lookup of `wanted`.
pub(crate) fn name_matches(stored: &str, wanted: &str) -> bool {
    stored.eq_ignore_ascii_case(wanted)
        || ALIASES.iter().any(|(alias, canonical)| {
            stored.eq_ignore_ascii_case(alias) && wanted.eq_ignore_ascii_case(canonical)
        })
}

fn validate(name: &str, value: &str) -> Result<(), BuildError> {
    if !is_token(name) {
        return Err(BuildError::InvalidHeaderName(excerpt(name)));
    }
    if !is_field_text(value) {
        return Err(BuildError::InvalidHeaderValue(name.to_owned()));
    }
    Ok(())
}

impl Headers {
    /// An empty header list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of header lines.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no header lines.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of the first header called `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| name_matches(n, name))
            .map(|(_, v)| v.as_str())
    }

    /// The values of every header called `name`, in wire order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.entries
            .iter()
            .filter(move |(n, _)| name_matches(n, name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether a header called `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// `(name, value)` pairs in wire order, names as spelled on the wire.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Adds a header line after the existing ones. Surrounding whitespace of the value is
    /// dropped.
    pub fn append(&mut self, name: &str, value: impl fmt::Display) -> Result<(), BuildError> {
        let value = value.to_string();
        let value = trim_ows(&value);
        validate(name, value)?;
        self.entries.push((name.to_owned(), value.to_owned()));
        Ok(())
    }

    /// Sets `name` to a single value: the first existing line is replaced in place, the others
    /// are removed; if there was none, the line is appended.
    pub fn insert(&mut self, name: &str, value: impl fmt::Display) -> Result<(), BuildError> {
        let value = value.to_string();
        let value = trim_ows(&value).to_owned();
        validate(name, &value)?;
        match self.entries.iter().position(|(n, _)| name_matches(n, name)) {
            Some(first) => {
                let mut index = 0;
                self.entries.retain(|(n, _)| {
                    let keep = index <= first || !name_matches(n, name);
                    index += 1;
                    keep
                });
                if let Some(slot) = self.entries.get_mut(first) {
                    *slot = (name.to_owned(), value);
                }
            }
            None => self.entries.push((name.to_owned(), value)),
        }
        Ok(())
    }

    /// Removes every header called `name`; returns how many lines were removed.
    pub fn remove(&mut self, name: &str) -> usize {
        let before = self.entries.len();
        self.entries.retain(|(n, _)| !name_matches(n, name));
        before - self.entries.len()
    }

    /// Parses the header `H`: `None` if absent. List headers ([`Header::IS_LIST`]) spread over
    /// several lines are joined with commas first (RFC 2616 4.2); for the others the first line
    /// counts.
    pub fn typed<H: Header>(&self) -> Option<Result<H, HeaderError>> {
        if H::IS_LIST {
            let mut values = self.get_all(H::NAME).peekable();
            values.peek()?;
            let joined = values.collect::<Vec<_>>().join(", ");
            Some(H::parse(&joined))
        } else {
            self.get(H::NAME).map(H::parse)
        }
    }

    /// Sets the header `H` (replacing existing lines, see [`Headers::insert`]).
    pub fn insert_typed<H: Header>(&mut self, header: &H) -> Result<(), BuildError> {
        self.insert(H::NAME, header)
    }

    /// Appends the header `H` after the existing lines.
    pub fn append_typed<H: Header>(&mut self, header: &H) -> Result<(), BuildError> {
        self.append(H::NAME, header)
    }

    /// Adds a line that the parser has already validated.
    pub(crate) fn push_parsed(&mut self, name: String, value: String) {
        self.entries.push((name, value));
    }

    /// Extends the last value with an obsolete line folding continuation.
    pub(crate) fn continue_last(&mut self, more: &str) -> bool {
        match self.entries.last_mut() {
            Some((_, value)) => {
                if !value.is_empty() && !more.is_empty() {
                    value.push(' ');
                }
                value.push_str(more);
                true
            }
            None => false,
        }
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = (&'a str, &'a str);
    type IntoIter = Box<dyn Iterator<Item = (&'a str, &'a str)> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtsp::headers::{CSeq, Public, Session};
    use crate::rtsp::Method;

    #[test]
    fn case_insensitive_and_ordered() {
        let mut h = Headers::new();
        h.append("CSeq", 3).unwrap();
        h.append("x-Thing", " a ").unwrap();
        h.append("X-THING", "b").unwrap();
        assert_eq!(h.get("cseq"), Some("3"));
        assert_eq!(h.get_all("x-thing").collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(
            h.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            ["CSeq", "x-Thing", "X-THING"]
        );
        assert!(!h.contains("Session"));
    }

    #[test]
    fn misspelled_session_is_found() {
        let mut h = Headers::new();
        h.append("Sesssion", "123456").unwrap();
        assert_eq!(h.get("Session"), Some("123456"));
        assert_eq!(h.get("session"), Some("123456"));
        assert_eq!(h.typed::<Session>().unwrap().unwrap().id(), "123456");
        // The alias is one-way: the misspelling is not a name anyone looks up on purpose.
        let mut h = Headers::new();
        h.append("Session", "1").unwrap();
        assert_eq!(h.get("Sesssion"), None);
    }

    #[test]
    fn insert_replaces_in_place() {
        let mut h = Headers::new();
        h.append("A", 1).unwrap();
        h.append("Session", "x").unwrap();
        h.append("B", 2).unwrap();
        h.append("session", "y").unwrap();
        h.insert("Session", "z").unwrap();
        assert_eq!(
            h.iter().collect::<Vec<_>>(),
            [("A", "1"), ("Session", "z"), ("B", "2")]
        );
        assert_eq!(h.remove("a"), 1);
        assert_eq!(h.remove("nope"), 0);
        assert_eq!(h.len(), 2);
    }

    #[test]
    fn rejects_injection() {
        let mut h = Headers::new();
        assert!(matches!(
            h.append("X", "a\r\nEvil: 1"),
            Err(BuildError::InvalidHeaderValue(_))
        ));
        assert!(matches!(
            h.append("Bad Name", "1"),
            Err(BuildError::InvalidHeaderName(_))
        ));
        assert!(matches!(
            h.append("", "1"),
            Err(BuildError::InvalidHeaderName(_))
        ));
        assert!(h.insert("X", "a\nb").is_err());
        assert!(h.is_empty());
        h.append("X", "tab\tis fine").unwrap();
    }

    #[test]
    fn typed_access_and_lists() {
        let mut h = Headers::new();
        h.insert_typed(&CSeq(7)).unwrap();
        h.append("Public", "OPTIONS, DESCRIBE").unwrap();
        h.append("Public", "PLAY").unwrap();
        assert_eq!(h.typed::<CSeq>(), Some(Ok(CSeq(7))));
        assert_eq!(
            h.typed::<Public>().unwrap().unwrap().0,
            [Method::Options, Method::Describe, Method::Play]
        );
        assert!(h.typed::<Session>().is_none());
        h.insert("CSeq", "x").unwrap();
        assert!(h.typed::<CSeq>().unwrap().is_err());
    }
}

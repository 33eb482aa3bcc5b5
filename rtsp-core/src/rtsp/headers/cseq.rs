//! `CSeq` (RFC 2326 12.17).

use std::fmt;

use super::{Header, HeaderError};
use crate::rtsp::syntax::{parse_decimal, trim_ows};

/// The request sequence number, echoed in the reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CSeq(pub u32);

impl Header for CSeq {
    const NAME: &'static str = "CSeq";

    fn parse_value(value: &str) -> Result<Self, HeaderError> {
        let value = trim_ows(value);
        if value.is_empty() {
            return Err(HeaderError::Empty { header: Self::NAME });
        }
        let n = parse_decimal(value)
            .ok_or(HeaderError::malformed(Self::NAME, "not a decimal number"))?;
        u32::try_from(n)
            .map(CSeq)
            .map_err(|_| HeaderError::OutOfRange { header: Self::NAME })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_cseq() {
        assert_eq!("1".parse::<CSeq>(), Ok(CSeq(1)));
        assert_eq!(" 4294967295 ".parse::<CSeq>(), Ok(CSeq(u32::MAX)));
        assert!(matches!(
            "4294967296".parse::<CSeq>(),
            Err(HeaderError::OutOfRange { .. })
        ));
        assert!(matches!("".parse::<CSeq>(), Err(HeaderError::Empty { .. })));
        assert!("-1".parse::<CSeq>().is_err());
        assert!("1 2".parse::<CSeq>().is_err());
        assert!("0x10".parse::<CSeq>().is_err());
        assert_eq!(CSeq(42).to_string(), "42");
    }
}

//! Status codes and reason phrases (RFC 2326 section 7.1.1).

use std::fmt;

/// A three-digit RTSP status code.
///
/// The constants cover every code RFC 2326 registers; any other code from 100 to 999 can be
/// carried too (RFC 2326 7.1.1: unknown codes are treated as the x00 code of their class).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatusCode(u16);

macro_rules! status_codes {
    ($($(#[$doc:meta])* $name:ident = $code:literal, $reason:literal;)*) => {
        impl StatusCode {
            $($(#[$doc])* pub const $name: StatusCode = StatusCode($code);)*

            /// The RFC 2326 reason phrase, or a generic phrase for the class of an unregistered
            /// code.
            pub fn reason(self) -> &'static str {
                match self.0 {
                    $($code => $reason,)*
                    100..=199 => "Informational",
                    200..=299 => "Success",
                    300..=399 => "Redirection",
                    400..=499 => "Client Error",
                    _ => "Server Error",
                }
            }
        }
    };
}

status_codes! {
    /// 100
    CONTINUE = 100, "Continue";
    /// 200
    OK = 200, "OK";
    /// 201
    CREATED = 201, "Created";
    /// 250
    LOW_ON_STORAGE_SPACE = 250, "Low on Storage Space";
    /// 300
    MULTIPLE_CHOICES = 300, "Multiple Choices";
    /// 301
    MOVED_PERMANENTLY = 301, "Moved Permanently";
    /// 302
    MOVED_TEMPORARILY = 302, "Moved Temporarily";
    /// 303
    SEE_OTHER = 303, "See Other";
    /// 304
    NOT_MODIFIED = 304, "Not Modified";
    /// 305
    USE_PROXY = 305, "Use Proxy";
    /// 400
    BAD_REQUEST = 400, "Bad Request";
    /// 401
    UNAUTHORIZED = 401, "Unauthorized";
    /// 402
    PAYMENT_REQUIRED = 402, "Payment Required";
    /// 403
    FORBIDDEN = 403, "Forbidden";
    /// 404
    NOT_FOUND = 404, "Not Found";
    /// 405
    METHOD_NOT_ALLOWED = 405, "Method Not Allowed";
    /// 406
    NOT_ACCEPTABLE = 406, "Not Acceptable";
    /// 407
    PROXY_AUTHENTICATION_REQUIRED = 407, "Proxy Authentication Required";
    /// 408
    REQUEST_TIMEOUT = 408, "Request Time-out";
    /// 410
    GONE = 410, "Gone";
    /// 411
    LENGTH_REQUIRED = 411, "Length Required";
    /// 412
    PRECONDITION_FAILED = 412, "Precondition Failed";
    /// 413
    REQUEST_ENTITY_TOO_LARGE = 413, "Request Entity Too Large";
    /// 414
    REQUEST_URI_TOO_LARGE = 414, "Request-URI Too Large";
    /// 415
    UNSUPPORTED_MEDIA_TYPE = 415, "Unsupported Media Type";
    /// 451
    PARAMETER_NOT_UNDERSTOOD = 451, "Parameter Not Understood";
    /// 452
    CONFERENCE_NOT_FOUND = 452, "Conference Not Found";
    /// 453
    NOT_ENOUGH_BANDWIDTH = 453, "Not Enough Bandwidth";
    /// 454
    SESSION_NOT_FOUND = 454, "Session Not Found";
    /// 455
    METHOD_NOT_VALID_IN_THIS_STATE = 455, "Method Not Valid in This State";
    /// 456
    HEADER_FIELD_NOT_VALID_FOR_RESOURCE = 456, "Header Field Not Valid for Resource";
    /// 457
    INVALID_RANGE = 457, "Invalid Range";
    /// 458
    PARAMETER_IS_READ_ONLY = 458, "Parameter Is Read-Only";
    /// 459
    AGGREGATE_OPERATION_NOT_ALLOWED = 459, "Aggregate operation not allowed";
    /// 460
    ONLY_AGGREGATE_OPERATION_ALLOWED = 460, "Only aggregate operation allowed";
    /// 461
    UNSUPPORTED_TRANSPORT = 461, "Unsupported transport";
    /// 462
    DESTINATION_UNREACHABLE = 462, "Destination unreachable";
    /// 500
    INTERNAL_SERVER_ERROR = 500, "Internal Server Error";
    /// 501
    NOT_IMPLEMENTED = 501, "Not Implemented";
    /// 502
    BAD_GATEWAY = 502, "Bad Gateway";
    /// 503
    SERVICE_UNAVAILABLE = 503, "Service Unavailable";
    /// 504
    GATEWAY_TIMEOUT = 504, "Gateway Time-out";
    /// 505
    RTSP_VERSION_NOT_SUPPORTED = 505, "RTSP Version not supported";
    /// 551
    OPTION_NOT_SUPPORTED = 551, "Option not supported";
}

impl StatusCode {
    /// A status code from its number; `None` outside 100..=999 (it must be three digits).
    pub const fn from_u16(code: u16) -> Option<Self> {
        if code >= 100 && code <= 999 {
            Some(Self(code))
        } else {
            None
        }
    }

    /// The numeric code.
    pub const fn as_u16(self) -> u16 {
        self.0
    }

    /// 1xx.
    pub const fn is_informational(self) -> bool {
        self.0 / 100 == 1
    }

    /// 2xx.
    pub const fn is_success(self) -> bool {
        self.0 / 100 == 2
    }

    /// 3xx.
    pub const fn is_redirection(self) -> bool {
        self.0 / 100 == 3
    }

    /// 4xx.
    pub const fn is_client_error(self) -> bool {
        self.0 / 100 == 4
    }

    /// 5xx and above.
    pub const fn is_server_error(self) -> bool {
        self.0 >= 500
    }
}

impl From<StatusCode> for u16 {
    fn from(code: StatusCode) -> u16 {
        code.0
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons() {
        assert_eq!(StatusCode::OK.reason(), "OK");
        assert_eq!(StatusCode::SESSION_NOT_FOUND.reason(), "Session Not Found");
        assert_eq!(
            StatusCode::UNSUPPORTED_TRANSPORT.reason(),
            "Unsupported transport"
        );
        assert_eq!(
            StatusCode::RTSP_VERSION_NOT_SUPPORTED.reason(),
            "RTSP Version not supported"
        );
        assert_eq!(StatusCode::from_u16(499).unwrap().reason(), "Client Error");
        assert_eq!(StatusCode::from_u16(999).unwrap().reason(), "Server Error");
    }

    #[test]
    fn ranges_and_classes() {
        assert!(StatusCode::from_u16(99).is_none());
        assert!(StatusCode::from_u16(1000).is_none());
        assert!(StatusCode::OK.is_success());
        assert!(StatusCode::NOT_FOUND.is_client_error());
        assert!(StatusCode::NOT_IMPLEMENTED.is_server_error());
        assert!(StatusCode::CONTINUE.is_informational());
        assert!(StatusCode::SEE_OTHER.is_redirection());
        assert_eq!(u16::from(StatusCode::OPTION_NOT_SUPPORTED), 551);
        assert_eq!(StatusCode::INVALID_RANGE.to_string(), "457");
    }
}

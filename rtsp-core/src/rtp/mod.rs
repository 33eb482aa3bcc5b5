//! RTP and RTCP (RFC 3550), sans-I/O.
//!
//! - [`RtpPacketRef`]: a zero-copy, fully validated view of a received RTP packet.
//! - [`RtpHeader`]: the fields of a packet to send; writes into a caller-provided buffer
//!   without allocating (or appends to a `Vec<u8>`).
//! - [`lab`]: the lab's `RtpPacket.encode(...)` semantics (masked fields, no CSRC list) and its
//!   lenient decoder.
//! - [`rtcp`]: compound RTCP packets (SR, RR, SDES, BYE, APP, anything else kept raw).
//! - [`ntp`]: NTP timestamps and the 1/65536 s units of LSR/DLSR.
//! - [`ReceiverStats`] / [`SenderStats`]: RFC 3550 A.1, A.3 and A.8 bookkeeping for report blocks
//!   and sender info.
//! - [`ReorderBuffer`]: releases packets in sequence order within a bounded window.
//!
//! Nothing here reads a clock: every function that needs "now" or an arrival time takes a
//! [`std::time::Duration`] measured by the caller from a fixed epoch of its choice.

mod header;
pub mod lab;
pub mod ntp;
mod packet;
mod reorder;
pub mod rtcp;
mod sender;
mod seq;
mod stats;

pub use header::{CsrcList, RtpHeader, RtpWriteError, TooManyCsrcs};
pub use packet::{CsrcIter, RtpExtension, RtpPacketRef, RtpParseError};
pub use reorder::{PushOutcome, Released, ReorderBuffer, MAX_REORDER_WINDOW};
pub use sender::SenderStats;
pub use seq::{seq_distance, seq_newer};
pub use stats::{
    PacketStatus, ReceiverStats, MAX_DROPOUT, MAX_MISORDER, MIN_SEQUENTIAL, RENUMBER_GRACE,
};

/// The only RTP version this crate reads or writes (RFC 3550 5.1).
pub const RTP_VERSION: u8 = 2;

/// Length of the fixed RTP header, before any CSRC identifiers or extension.
pub const FIXED_HEADER_LEN: usize = 12;

/// The static payload type of JPEG video (RFC 3551), which the lab also uses.
pub const PAYLOAD_TYPE_JPEG: u8 = 26;

/// Largest number of CSRC identifiers a header can carry (the CC field is 4 bits).
pub const MAX_CSRC: usize = 15;

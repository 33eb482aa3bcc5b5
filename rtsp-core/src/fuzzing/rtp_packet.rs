//! RTP parsing: whatever parses must be rebuilt byte for byte by `RtpHeader` (padding contents
//! aside) and parse back to the same fields; the lab decoder must agree on the fixed header.
use crate::rtp::lab::LabRtpPacketRef;
use crate::rtp::RtpPacketRef;

/// The `rtp_packet` fuzz target.
pub fn rtp_packet(data: &[u8]) {
    let lab = LabRtpPacketRef::parse(data);
    let Ok(pkt) = RtpPacketRef::parse(data) else {
        return;
    };
    // The lenient lab view reads the same fixed header.
    let lab = lab.expect("a valid RTP packet is a valid lab packet");
    assert_eq!(lab.seq_num(), pkt.sequence_number());
    assert_eq!(lab.timestamp(), pkt.timestamp());
    assert_eq!(lab.payload_type(), pkt.payload_type());
    assert_eq!(lab.ssrc(), pkt.ssrc());
    assert_eq!(lab.cc(), pkt.csrc_count());

    assert_eq!(pkt.csrcs().count(), usize::from(pkt.csrc_count()));
    assert_eq!(
        pkt.header_len() + pkt.payload().len() + usize::from(pkt.padding()),
        data.len()
    );

    let header = pkt.header();
    let mut buf = vec![0u8; data.len()];
    let n = header
        .write(pkt.payload(), &mut buf)
        .expect("a parsed header can be written");
    assert_eq!(n, data.len());
    let unpadded = data.len() - usize::from(pkt.padding());
    assert_eq!(buf[..unpadded], data[..unpadded]);
    if pkt.has_padding() {
        assert_eq!(buf.last(), data.last());
    }

    let again = RtpPacketRef::parse(&buf).expect("rebuilt packet parses");
    assert_eq!(again.header(), header);
    assert_eq!(again.payload(), pkt.payload());
    assert_eq!(again.extension(), pkt.extension());
}

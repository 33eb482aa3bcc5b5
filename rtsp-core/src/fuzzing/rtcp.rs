//! RTCP compound parsing: walk every lazily decoded list, write the packets back, and check
//! that the result parses to equal packets.
use crate::rtp::rtcp::{write_compound, Compound, RtcpPacket, RtcpWriteError};

fn walk(p: &RtcpPacket<'_>) -> usize {
    match p {
        RtcpPacket::SenderReport(sr) => {
            assert_eq!(sr.report_blocks.iter().count(), sr.report_blocks.len());
            sr.report_blocks.len() + sr.profile_extension.len()
        }
        RtcpPacket::ReceiverReport(rr) => {
            assert_eq!(rr.report_blocks.iter().count(), rr.report_blocks.len());
            rr.report_blocks.len() + rr.profile_extension.len()
        }
        RtcpPacket::SourceDescription(sdes) => {
            assert_eq!(sdes.chunks.iter().count(), sdes.chunks.len());
            sdes.chunks
                .iter()
                .map(|c| c.items.iter().map(|i| i.value.len() + 2).sum::<usize>())
                .sum()
        }
        RtcpPacket::Goodbye(bye) => {
            assert_eq!(bye.ssrcs.iter().count(), bye.ssrcs.len());
            bye.ssrcs.len() + bye.reason.map_or(0, <[u8]>::len)
        }
        RtcpPacket::App(app) => app.data.len(),
        RtcpPacket::Unknown(raw) => raw.body.len(),
    }
}

/// The `rtcp` fuzz target.
pub fn rtcp(data: &[u8]) {
    let Ok(compound) = Compound::parse(data) else {
        return;
    };
    let packets: Vec<RtcpPacket<'_>> = compound.iter().collect();
    assert_eq!(packets.len(), compound.len());
    let walked: usize = packets.iter().map(walk).sum();
    assert!(walked <= data.len());

    let mut out = Vec::new();
    match write_compound(&packets, &mut out) {
        Ok(n) => assert_eq!(n, out.len()),
        // A tolerated missing SDES terminator can push a maximal packet over the limit.
        Err(RtcpWriteError::PacketTooLong { .. }) => return,
        Err(e) => panic!("parsed packets must be writable: {e}"),
    }
    let again = Compound::parse(&out).expect("written packets parse");
    let reparsed: Vec<RtcpPacket<'_>> = again.iter().collect();
    assert_eq!(reparsed, packets);
    // Written packets carry no padding, so the compound rules can only improve.
    assert!(!again.issues().padding_not_last);
    assert_eq!(
        again.issues().first_not_report,
        compound.issues().first_not_report
    );
}

//! RTCP from clients: receiver reports refresh the session and feed its statistics.

use std::sync::atomic::Ordering;

use crate::server::runtime::metrics::Metrics;
use crate::server::runtime::shared::session::LiveSession;
use crate::server::runtime::wire;

/// Handle an RTCP packet received for `session` (UDP or interleaved).
pub fn receive(session: &LiveSession, data: &[u8], metrics: &Metrics) {
    let Some(block) = wire::report_about(data, session.ssrc) else {
        return;
    };
    // gst rtspsrc on UDP sends no RTSP keep-alive and relies on its RRs to keep the session.
    session.touch();
    let Some(block) = block else {
        return;
    };
    let stats = &session.stats;
    stats.rr_received.fetch_add(1, Ordering::Relaxed);
    stats
        .rr_fraction_lost
        .store(u32::from(block.fraction_lost), Ordering::Relaxed);
    // Stored as the bit pattern of the signed value; `summary` reads it back as i32.
    stats
        .rr_cumulative_lost
        .store(block.cumulative_lost as u32, Ordering::Relaxed);
    stats.rr_jitter.store(block.jitter, Ordering::Relaxed);
    metrics.receiver_report(block.fraction_lost, block.jitter, crate::jpeg::CLOCK_RATE);
    tracing::debug!(
        session = session.id.get(),
        fraction_lost = block.fraction_lost_f64(),
        cumulative_lost = block.cumulative_lost,
        jitter = block.jitter,
        "RTCP receiver report"
    );
}

//! The result of a run: human-readable text and one-line JSON.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use crate::session::Transport;

/// Distribution of a per-session figure.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spread {
    /// Smallest.
    pub min: f64,
    /// 1st percentile.
    pub p1: f64,
    /// Median.
    pub p50: f64,
    /// Largest.
    pub max: f64,
}

impl Spread {
    /// The spread of `values` (sorted in place); zeros when empty.
    pub fn of(values: &mut [f64]) -> Self {
        values.sort_by(f64::total_cmp);
        let pick = |q: f64| {
            let i = ((values.len() as f64 - 1.0) * q).round() as usize;
            values.get(i).copied().unwrap_or(0.0)
        };
        Self {
            min: pick(0.0),
            p1: pick(0.01),
            p50: pick(0.5),
            max: pick(1.0),
        }
    }
}

/// Everything a run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// Stream URL.
    pub url: String,
    /// Lower transport.
    pub transport: Transport,
    /// Sessions requested.
    pub sessions: usize,
    /// Sessions that reached PLAY and received RTP.
    pub playing: usize,
    /// Wall time of the run.
    pub duration_s: f64,
    /// Length of the steady-state window (after the ramp) used for rates and CPU.
    pub steady_s: f64,
    /// Nominal frame rate.
    pub fps_nominal: f64,
    /// On-time tolerance.
    pub late_after_ms: f64,
    /// Frames that should have arrived, summed over sessions (from each PLAY to the end).
    pub expected_frames: u64,
    /// Complete frames that arrived on time (at most `expected` per session).
    pub delivered_frames: u64,
    /// Frames seen (marker bits).
    pub frames: u64,
    /// Frames with missing fragments.
    pub broken_frames: u64,
    /// Complete frames that arrived late.
    pub late_frames: u64,
    /// RTP packets missing from sequence numbers.
    pub lost_packets: u64,
    /// RTP packets received.
    pub packets: u64,
    /// RTP bytes received.
    pub bytes: u64,
    /// Inter-frame arrival interval p50, p99, p99.9, max (ms).
    pub interval_ms: [f64; 4],
    /// Lateness against each session's ideal 90 kHz schedule: p50, p99, p99.9, max (ms).
    pub schedule_error_ms: [f64; 4],
    /// PLAY sent to first RTP packet: p50, p99, max (ms).
    pub first_packet_ms: [f64; 3],
    /// Per-session complete frames per second.
    pub fps: Spread,
    /// Aggregate RTP throughput in the steady state.
    pub mbit_per_s: f64,
    /// Aggregate RTP packets per second in the steady state.
    pub packets_per_s: f64,
    /// Generator CPU in the steady state, % of one core.
    pub self_cpu_pct: f64,
    /// Generator CPU over the whole run, % of one core.
    pub self_cpu_total_pct: f64,
    /// Server CPU in the steady state, % of one core.
    pub server_cpu_pct: Option<f64>,
    /// Server RSS before and after (KiB).
    pub server_rss_kib: Option<(u64, u64)>,
    /// Failure reasons and counts.
    pub failures: BTreeMap<String, u64>,
    /// Open-file limit after raising it.
    pub nofile_limit: u64,
    /// 1-minute load average at the end.
    pub load_average: f64,
    /// Fan-out runs: frames the publisher sent.
    pub published_frames: Option<u64>,
    /// Fan-out runs: publish-to-reader latency p50, p99, p99.9, max (ms) of the frames sent in
    /// the steady state.
    pub publish_latency_ms: Option<[f64; 4]>,
}

impl Report {
    /// Delivered / expected frames (1.0 when nothing was expected).
    pub fn delivery_ratio(&self) -> f64 {
        if self.expected_frames == 0 {
            1.0
        } else {
            self.delivered_frames as f64 / self.expected_frames as f64
        }
    }

    /// Packet loss ratio.
    pub fn loss_ratio(&self) -> f64 {
        let total = self.packets + self.lost_packets;
        if total == 0 {
            0.0
        } else {
            self.lost_packets as f64 / total as f64
        }
    }

    /// Server RSS growth per session (KiB), if the server was sampled.
    pub fn rss_per_session_kib(&self) -> Option<f64> {
        self.server_rss_kib
            .map(|(a, b)| (b as f64 - a as f64) / self.sessions.max(1) as f64)
    }

    /// The pass criterion of the comparison: ≥ 99.9 % delivered on time and p99 interval
    /// ≤ 2 × nominal.
    pub fn holds(&self) -> bool {
        self.delivery_ratio() >= 0.999 && self.interval_ms[1] <= 2000.0 / self.fps_nominal
    }

    /// One line of JSON with every figure.
    pub fn to_json(&self) -> String {
        let mut s = String::from("{");
        let num = |s: &mut String, k: &str, v: f64| {
            let v = if v.is_finite() { v } else { 0.0 };
            let _ = write!(s, "\"{k}\":{v},");
        };
        let _ = write!(s, "\"url\":\"{}\",", self.url.replace('"', ""));
        let _ = write!(s, "\"transport\":\"{:?}\",", self.transport);
        num(&mut s, "sessions", self.sessions as f64);
        num(&mut s, "playing", self.playing as f64);
        num(&mut s, "duration_s", self.duration_s);
        num(&mut s, "steady_s", self.steady_s);
        num(&mut s, "delivery", self.delivery_ratio());
        num(&mut s, "expected_frames", self.expected_frames as f64);
        num(&mut s, "delivered_frames", self.delivered_frames as f64);
        num(&mut s, "frames", self.frames as f64);
        num(&mut s, "broken_frames", self.broken_frames as f64);
        num(&mut s, "late_frames", self.late_frames as f64);
        num(&mut s, "lost_packets", self.lost_packets as f64);
        num(&mut s, "loss", self.loss_ratio());
        num(&mut s, "packets", self.packets as f64);
        for (k, v) in ["p50", "p99", "p999", "max"].iter().zip(self.interval_ms) {
            num(&mut s, &format!("interval_{k}_ms"), v);
        }
        for (k, v) in ["p50", "p99", "p999", "max"]
            .iter()
            .zip(self.schedule_error_ms)
        {
            num(&mut s, &format!("sched_err_{k}_ms"), v);
        }
        for (k, v) in ["p50", "p99", "max"].iter().zip(self.first_packet_ms) {
            num(&mut s, &format!("first_packet_{k}_ms"), v);
        }
        num(&mut s, "fps_min", self.fps.min);
        num(&mut s, "fps_p1", self.fps.p1);
        num(&mut s, "fps_p50", self.fps.p50);
        num(&mut s, "fps_max", self.fps.max);
        num(&mut s, "mbit_per_s", self.mbit_per_s);
        num(&mut s, "packets_per_s", self.packets_per_s);
        num(&mut s, "bench_cpu_pct", self.self_cpu_pct);
        num(
            &mut s,
            "server_cpu_pct",
            self.server_cpu_pct.unwrap_or(-1.0),
        );
        if let Some((a, b)) = self.server_rss_kib {
            num(&mut s, "server_rss_before_kib", a as f64);
            num(&mut s, "server_rss_after_kib", b as f64);
        }
        num(&mut s, "load_average", self.load_average);
        if let (Some(n), Some([p50, p99, p999, max])) =
            (self.published_frames, self.publish_latency_ms)
        {
            num(&mut s, "published_frames", n as f64);
            num(&mut s, "latency_p50_ms", p50);
            num(&mut s, "latency_p99_ms", p99);
            num(&mut s, "latency_p999_ms", p999);
            num(&mut s, "latency_max_ms", max);
        }
        let failed: u64 = self.failures.values().sum();
        num(&mut s, "failed_sessions", failed as f64);
        let _ = write!(s, "\"holds\":{}}}", self.holds());
        s
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [i50, i99, i999, imax] = self.interval_ms;
        let [e50, e99, e999, emax] = self.schedule_error_ms;
        let [l50, l99, lmax] = self.first_packet_ms;
        writeln!(f, "rtsp-bench {} over {:?}", self.url, self.transport)?;
        writeln!(
            f,
            "sessions       {} requested, {} playing; run {:.1} s, steady window {:.1} s",
            self.sessions, self.playing, self.duration_s, self.steady_s
        )?;
        writeln!(
            f,
            "delivery       {:.4}% on time ({} of {} frames, tolerance {:.0} ms); {} late, {} broken",
            self.delivery_ratio() * 100.0,
            self.delivered_frames,
            self.expected_frames,
            self.late_after_ms,
            self.late_frames,
            self.broken_frames
        )?;
        writeln!(
            f,
            "loss           {:.4}% ({} of {} packets)",
            self.loss_ratio() * 100.0,
            self.lost_packets,
            self.packets + self.lost_packets
        )?;
        writeln!(
            f,
            "interval ms    p50 {i50:.2}  p99 {i99:.2}  p99.9 {i999:.2}  max {imax:.2}  (nominal {:.2})",
            1000.0 / self.fps_nominal
        )?;
        writeln!(
            f,
            "sched err ms   p50 {e50:.2}  p99 {e99:.2}  p99.9 {e999:.2}  max {emax:.2}"
        )?;
        writeln!(
            f,
            "PLAY->1st ms   p50 {l50:.2}  p99 {l99:.2}  max {lmax:.2}"
        )?;
        writeln!(
            f,
            "session fps    min {:.3}  p1 {:.3}  p50 {:.4}  max {:.3}",
            self.fps.min, self.fps.p1, self.fps.p50, self.fps.max
        )?;
        writeln!(
            f,
            "throughput     {:.1} Mbit/s, {:.0} packets/s",
            self.mbit_per_s, self.packets_per_s
        )?;
        write!(
            f,
            "cpu            rtsp-bench {:.0}% of a core (whole run {:.0}%)",
            self.self_cpu_pct, self.self_cpu_total_pct
        )?;
        match self.server_cpu_pct {
            Some(c) => writeln!(f, ", server {c:.0}%")?,
            None => writeln!(f)?,
        }
        if let (Some((a, b)), Some(per)) = (self.server_rss_kib, self.rss_per_session_kib()) {
            writeln!(
                f,
                "server rss     {a} KiB -> {b} KiB ({per:.1} KiB per session)"
            )?;
        }
        writeln!(
            f,
            "load average   {:.2}; fd limit {}",
            self.load_average, self.nofile_limit
        )?;
        if let (Some(n), Some([p50, p99, p999, max])) =
            (self.published_frames, self.publish_latency_ms)
        {
            writeln!(
                f,
                "publish        {n} frames; publish-to-reader latency p50 {p50:.2} / p99 {p99:.2} / p99.9 {p999:.2} / max {max:.2} ms"
            )?;
        }
        for (why, n) in &self.failures {
            writeln!(f, "failed         {n} x {why}")?;
        }
        write!(
            f,
            "verdict        {}",
            if self.holds() {
                "HOLDS"
            } else {
                "DOES NOT HOLD"
            }
        )
    }
}

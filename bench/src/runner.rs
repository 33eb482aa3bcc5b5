//! Runs N sessions on a few epoll threads and gathers the report.

use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::{Events, Poll};

use crate::fanout::{self, PublishLog, PublishTo};
use crate::histogram::Histogram;
use crate::report::{Report, Spread};
use crate::session::{Phase, Session, Transport, TOKENS_PER_SESSION};
use crate::stream_stats::SharedHistograms;
use crate::sysstat;
use crate::wire::{self, Target};

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// `rtsp://127.0.0.1:PORT/path` of the stream.
    pub url: String,
    /// Number of sessions.
    pub sessions: usize,
    /// UDP or TCP interleaved.
    pub transport: Transport,
    /// Total run time, ramp included.
    pub duration: Duration,
    /// Sessions started per second.
    pub ramp_per_sec: f64,
    /// Generator threads.
    pub threads: usize,
    /// Nominal frame rate of the stream.
    pub fps: f64,
    /// A frame arriving later than this after its scheduled time is late.
    pub late_after: Duration,
    /// PID of the server, to sample its CPU and RSS.
    pub server_pid: Option<u32>,
    /// Let the kernel coalesce segmentation-offload trains on receive (`UDP_GRO`).
    pub gro: bool,
    /// Live fan-out: publish tagged frames and measure each frame's publish-to-reader latency.
    pub fanout: Option<FanoutConfig>,
}

/// The publisher of a fan-out run (see [`crate::fanout`]).
#[derive(Debug, Clone)]
pub struct FanoutConfig {
    /// JPEG frames to publish, in a loop (each one is tagged with its frame number).
    pub frames: Arc<Vec<Vec<u8>>>,
    /// Where the frames go.
    pub publish_to: PublishTo,
    /// How long the publisher runs before the first session starts (the path must exist).
    pub lead: Duration,
}

/// A session of a fan-out run counts the frames sent this long after its PLAY: the time to
/// join is PLAY-to-first-frame, measured apart.
const JOIN_GRACE: Duration = Duration::from_secs(1);

impl BenchConfig {
    /// Defaults: 1 session over UDP for 10 s, ramp 200/s, 2 threads, 20 fps, 100 ms tolerance,
    /// receive coalescing on.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            sessions: 1,
            transport: Transport::Udp,
            duration: Duration::from_secs(10),
            ramp_per_sec: 200.0,
            threads: 2,
            fps: 20.0,
            late_after: Duration::from_millis(100),
            server_pid: None,
            gro: true,
            fanout: None,
        }
    }
}

/// Errors that stop a run before it starts.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// Bad URL.
    #[error(transparent)]
    Url(#[from] wire::UrlError),
    /// OS error setting up polling.
    #[error("I/O: {0}")]
    Io(#[from] io::Error),
    /// Invalid settings.
    #[error("invalid configuration: {0}")]
    Config(&'static str),
    /// The fan-out publisher could not connect or send.
    #[error("{0}")]
    Publish(String),
}

/// Everything one thread measured.
struct ThreadResult {
    hist: SharedHistograms,
    sessions: Vec<SessionSummary>,
    start_failures: BTreeMap<String, u64>,
    at_ramp_end: (u64, u64),
    /// Publish-to-reader latency of the tagged frames sent in the steady state.
    latency: Histogram,
}

struct SessionSummary {
    expected: u64,
    delivered: u64,
    frames: u64,
    broken: u64,
    lost: u64,
    packets: u64,
    bytes: u64,
    late: u64,
    fps: Option<f64>,
    first_packet_latency: Option<Duration>,
    failure: Option<String>,
    playing: bool,
}

/// What the fan-out publisher shares with the generator threads.
struct Fanout {
    log: Arc<PublishLog>,
}

/// Runs the benchmark and returns its report.
///
/// # Errors
/// [`BenchError`] if the URL is invalid or polling cannot be set up.
pub fn run(cfg: &BenchConfig) -> Result<Report, BenchError> {
    let target = wire::parse_target(&cfg.url)?;
    if cfg.sessions == 0 || cfg.threads == 0 || cfg.fps <= 0.0 || cfg.ramp_per_sec <= 0.0 {
        return Err(BenchError::Config(
            "sessions, threads, fps and ramp must be positive",
        ));
    }
    let nofile = rtsp_core::limits::raise_open_files().unwrap_or(0);
    let stop_publisher = Arc::new(AtomicBool::new(false));
    let mut publisher = None;
    let fanout = match &cfg.fanout {
        Some(f) => {
            let t_pub = Instant::now();
            let pub_end = t_pub + f.lead + cfg.duration + Duration::from_secs(1);
            let frames = ((f.lead + cfg.duration).as_secs_f64() * cfg.fps) as usize + 64;
            let log = Arc::new(PublishLog::new(t_pub, frames));
            let handle = fanout::spawn_publisher(
                f.publish_to.clone(),
                Arc::clone(&f.frames),
                cfg.fps,
                t_pub,
                pub_end,
                Arc::clone(&log),
                Arc::clone(&stop_publisher),
            )?;
            std::thread::sleep(f.lead);
            if handle.is_finished() {
                return Err(BenchError::Publish(match handle.join() {
                    Ok(Err(e)) => e,
                    _ => "the publisher stopped".into(),
                }));
            }
            publisher = Some(handle);
            Some(Arc::new(Fanout { log }))
        }
        None => None,
    };
    let t_start = Instant::now();
    let end = t_start + cfg.duration;
    let ramp = Duration::from_secs_f64(cfg.sessions as f64 / cfg.ramp_per_sec);
    // Steady state starts one second after the last session started.
    let steady = (t_start + ramp + Duration::from_secs(1)).min(end);
    let server_before = cfg.server_pid.and_then(|p| sysstat::sample(p).ok());
    let self_cpu0 = sysstat::self_cpu();
    let target = Arc::new(target);
    let threads = cfg.threads.min(cfg.sessions);
    let mut handles = Vec::new();
    for t in 0..threads {
        let cfg = cfg.clone();
        let target = Arc::clone(&target);
        let fanout = fanout.clone();
        let h = std::thread::Builder::new()
            .name(format!("bench-{t}"))
            .spawn(move || {
                worker(
                    t,
                    threads,
                    &cfg,
                    &target,
                    fanout.as_deref(),
                    (t_start, steady, end),
                )
            })?;
        handles.push(h);
    }
    // Sample the server over the steady-state window.
    std::thread::sleep(steady.saturating_duration_since(Instant::now()));
    let server_steady = cfg.server_pid.and_then(|p| sysstat::sample(p).ok());
    let self_steady = sysstat::self_cpu();
    let t_steady = Instant::now();
    std::thread::sleep(end.saturating_duration_since(Instant::now()));
    let server_end = cfg.server_pid.and_then(|p| sysstat::sample(p).ok());
    let self_end = sysstat::self_cpu();
    let t_end = Instant::now();
    let mut results = Vec::new();
    for h in handles {
        match h.join() {
            Ok(Ok(r)) => results.push(r),
            Ok(Err(e)) => return Err(e.into()),
            Err(_) => return Err(BenchError::Config("a generator thread panicked")),
        }
    }
    stop_publisher.store(true, Ordering::Relaxed);
    let published = match publisher.map(JoinHandle::join) {
        Some(Ok(Ok(n))) => Some(n),
        Some(Ok(Err(e))) => return Err(BenchError::Publish(e)),
        Some(Err(_)) => return Err(BenchError::Publish("the publisher panicked".into())),
        None => None,
    };
    let steady_secs = t_end.saturating_duration_since(t_steady).as_secs_f64();
    let cpu_pct = |a: Duration, b: Duration, secs: f64| {
        if secs > 0.0 {
            b.saturating_sub(a).as_secs_f64() / secs * 100.0
        } else {
            0.0
        }
    };
    let mut hist = SharedHistograms::default();
    let mut failures: BTreeMap<String, u64> = BTreeMap::new();
    let mut fps_values = Vec::new();
    let mut latency = Histogram::new();
    let mut publish_latency = Histogram::new();
    let (mut expected, mut delivered, mut frames, mut broken, mut lost, mut late) =
        (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    let (mut packets, mut bytes, mut steady_packets, mut steady_bytes) = (0u64, 0u64, 0u64, 0u64);
    let mut playing = 0usize;
    for r in &results {
        hist.interval.merge(&r.hist.interval);
        hist.schedule_error.merge(&r.hist.schedule_error);
        publish_latency.merge(&r.latency);
        for (k, v) in &r.start_failures {
            *failures.entry(k.clone()).or_default() += v;
        }
        let (p0, b0) = r.at_ramp_end;
        let (mut p1, mut b1) = (0u64, 0u64);
        for s in &r.sessions {
            expected += s.expected;
            delivered += s.delivered;
            frames += s.frames;
            broken += s.broken;
            lost += s.lost;
            late += s.late;
            packets += s.packets;
            bytes += s.bytes;
            p1 += s.packets;
            b1 += s.bytes;
            if s.playing {
                playing += 1;
            }
            if let Some(f) = s.fps {
                fps_values.push(f);
            }
            if let Some(l) = s.first_packet_latency {
                latency.record(l);
            }
            if let Some(f) = &s.failure {
                *failures.entry(f.clone()).or_default() += 1;
            }
        }
        steady_packets += p1.saturating_sub(p0);
        steady_bytes += b1.saturating_sub(b0);
    }
    let rate = |x: u64| {
        if steady_secs > 0.0 {
            x as f64 / steady_secs
        } else {
            0.0
        }
    };
    Ok(Report {
        url: cfg.url.clone(),
        transport: cfg.transport,
        sessions: cfg.sessions,
        playing,
        duration_s: t_end.saturating_duration_since(t_start).as_secs_f64(),
        steady_s: steady_secs,
        fps_nominal: cfg.fps,
        late_after_ms: cfg.late_after.as_secs_f64() * 1000.0,
        expected_frames: expected,
        delivered_frames: delivered,
        frames,
        broken_frames: broken,
        late_frames: late,
        lost_packets: lost,
        packets,
        bytes,
        interval_ms: [
            hist.interval.quantile_ms(0.5),
            hist.interval.quantile_ms(0.99),
            hist.interval.quantile_ms(0.999),
            hist.interval.max_ms(),
        ],
        schedule_error_ms: [
            hist.schedule_error.quantile_ms(0.5),
            hist.schedule_error.quantile_ms(0.99),
            hist.schedule_error.quantile_ms(0.999),
            hist.schedule_error.max_ms(),
        ],
        first_packet_ms: [
            latency.quantile_ms(0.5),
            latency.quantile_ms(0.99),
            latency.max_ms(),
        ],
        fps: Spread::of(&mut fps_values),
        mbit_per_s: rate(steady_bytes) * 8.0 / 1e6,
        packets_per_s: rate(steady_packets),
        self_cpu_pct: cpu_pct(self_steady, self_end, steady_secs),
        self_cpu_total_pct: cpu_pct(
            self_cpu0,
            self_end,
            t_end.saturating_duration_since(t_start).as_secs_f64(),
        ),
        server_cpu_pct: match (server_steady, server_end) {
            (Some(a), Some(b)) => Some(cpu_pct(a.cpu, b.cpu, steady_secs)),
            _ => None,
        },
        server_rss_kib: match (server_before, server_end) {
            (Some(a), Some(b)) => Some((a.rss_kib, b.rss_kib)),
            _ => None,
        },
        failures,
        nofile_limit: nofile,
        load_average: sysstat::load_average(),
        published_frames: published,
        publish_latency_ms: published.map(|_| {
            [
                publish_latency.quantile_ms(0.5),
                publish_latency.quantile_ms(0.99),
                publish_latency.quantile_ms(0.999),
                publish_latency.max_ms(),
            ]
        }),
    })
}

fn worker(
    t: usize,
    threads: usize,
    cfg: &BenchConfig,
    target: &Target,
    fanout: Option<&Fanout>,
    (t_start, steady, end): (Instant, Instant, Instant),
) -> io::Result<ThreadResult> {
    // A fan-out session counts the frames sent from its PLAY (and grace) to the last one that
    // could still arrive on time.
    let window_end = end.checked_sub(cfg.late_after).unwrap_or(end);
    let mut on_time_tagged: Vec<u64> = Vec::new();
    let mut publish_latency = Histogram::new();
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(1024);
    let mine: Vec<usize> = (t..cfg.sessions).step_by(threads).collect();
    let mut sessions: Vec<Option<Session>> = Vec::new();
    let mut local_of: Vec<usize> = Vec::new(); // local slot -> global index
    let mut next = 0usize;
    let mut hist = SharedHistograms::default();
    let mut scratch = vec![0u8; 65536];
    let mut start_failures: BTreeMap<String, u64> = BTreeMap::new();
    let mut failed_starts: Vec<(usize, Instant)> = Vec::new();
    let mut at_ramp_end: Option<(u64, u64)> = None;
    let mut last_tick = Instant::now();
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        // Start the sessions whose time has come.
        while let Some(&g) = mine.get(next) {
            let due = t_start + Duration::from_secs_f64(g as f64 / cfg.ramp_per_sec);
            if due > now {
                break;
            }
            let slot = sessions.len();
            match Session::start(
                slot,
                &target.url,
                target.addr,
                cfg.transport,
                cfg.gro,
                poll.registry(),
                now,
            ) {
                Ok(mut s) => {
                    if fanout.is_some() {
                        s.stats.track_tags();
                    }
                    sessions.push(Some(s));
                    on_time_tagged.push(0);
                    local_of.push(g);
                }
                Err(e) => {
                    *start_failures.entry(format!("start: {e}")).or_default() += 1;
                    failed_starts.push((g, now));
                }
            }
            next += 1;
        }
        if at_ramp_end.is_none() && now >= steady {
            at_ramp_end = Some(totals(&sessions));
        }
        if now.saturating_duration_since(last_tick) >= Duration::from_millis(200) {
            last_tick = now;
            for s in sessions.iter_mut().flatten() {
                s.tick(now);
            }
        }
        let next_start = mine
            .get(next)
            .map(|&g| t_start + Duration::from_secs_f64(g as f64 / cfg.ramp_per_sec))
            .unwrap_or(end);
        let wake = next_start.min(end).min(now + Duration::from_millis(50));
        match poll.poll(&mut events, Some(wake.saturating_duration_since(now))) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        let now = Instant::now();
        for ev in &events {
            let token = ev.token().0;
            let (slot, kind) = (token / TOKENS_PER_SESSION, token % TOKENS_PER_SESSION);
            if let Some(Some(s)) = sessions.get_mut(slot) {
                if s.phase() != Phase::Failed {
                    s.on_event(kind, now, cfg.late_after, &mut scratch, &mut hist);
                }
                if let Some(f) = fanout {
                    let from = s.play_sent.unwrap_or(s.started) + JOIN_GRACE;
                    for (id, at) in s.stats.take_tagged() {
                        let Some(sent) = f.log.sent_at(id) else {
                            continue;
                        };
                        let lat = at.saturating_duration_since(sent);
                        if sent >= steady {
                            publish_latency.record(lat);
                        }
                        if sent >= from && sent <= window_end && lat <= cfg.late_after {
                            if let Some(n) = on_time_tagged.get_mut(slot) {
                                *n += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    let at_ramp_end = at_ramp_end.unwrap_or_else(|| totals(&sessions));
    let end_at = Instant::now().min(end);
    let period = 1.0 / cfg.fps;
    let expected_since = |from: Instant| -> u64 {
        let secs =
            end_at.saturating_duration_since(from).as_secs_f64() - cfg.late_after.as_secs_f64();
        if secs <= 0.0 {
            0
        } else {
            (secs / period).ceil() as u64
        }
    };
    let mut out = Vec::new();
    for (slot, s) in sessions.iter_mut().enumerate() {
        let Some(s) = s else { continue };
        s.finish(poll.registry());
        let from = s.play_sent.unwrap_or(s.started);
        let (expected, delivered) = match fanout {
            Some(f) => {
                let expected = f.log.sent_between(from + JOIN_GRACE, window_end);
                let on_time = on_time_tagged.get(slot).copied().unwrap_or(0);
                (expected, on_time.min(expected))
            }
            None => (
                expected_since(from),
                s.stats.on_time.min(expected_since(from)),
            ),
        };
        let st = &s.stats;
        let _ = s.index();
        out.push(SessionSummary {
            expected,
            delivered,
            frames: st.frames,
            broken: st.broken,
            lost: st.lost,
            packets: st.packets,
            bytes: st.bytes,
            late: st.late,
            fps: st.fps(),
            first_packet_latency: match (s.play_sent, st.first_packet) {
                (Some(p), Some(f)) => Some(f.saturating_duration_since(p)),
                _ => None,
            },
            failure: s.failure.clone(),
            playing: s.phase() == Phase::Playing && st.first_packet.is_some(),
        });
    }
    for (_, at) in failed_starts {
        let expected = match fanout {
            Some(f) => f.log.sent_between(at + JOIN_GRACE, window_end),
            None => expected_since(at),
        };
        out.push(SessionSummary {
            expected,
            delivered: 0,
            frames: 0,
            broken: 0,
            lost: 0,
            packets: 0,
            bytes: 0,
            late: 0,
            fps: None,
            first_packet_latency: None,
            failure: None,
            playing: false,
        });
    }
    let _ = local_of;
    Ok(ThreadResult {
        hist,
        sessions: out,
        start_failures,
        at_ramp_end,
        latency: publish_latency,
    })
}

fn totals(sessions: &[Option<Session>]) -> (u64, u64) {
    sessions
        .iter()
        .flatten()
        .fold((0, 0), |(p, b), s| (p + s.stats.packets, b + s.stats.bytes))
}

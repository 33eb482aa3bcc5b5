//! `rtsp-player --no-gui`: plays to the end (or for `--duration`), prints progress and the final
//! statistics, optionally saves the frames. For servers without a display and for tests.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rtsp_core::client::{
    Client, Event, MessageDirection, ProtocolMessage, State, Stats, TransportPreference,
};

use crate::explain::explain;
use crate::format;
use crate::latency::LatencySummary;
use crate::media_info::{lab_frames, StreamInfo};
use crate::stats_history::StatsHistory;
use crate::target::StreamTarget;

/// What headless mode does.
#[derive(Debug, Clone)]
pub struct Options {
    /// The stream.
    pub target: StreamTarget,
    /// Lower transport (standard dialect).
    pub transport: TransportPreference,
    /// Stop after this long instead of at the end.
    pub duration: Option<Duration>,
    /// Save every frame there.
    pub save_frames: Option<PathBuf>,
    /// Print the RTSP exchange.
    pub show_rtsp: bool,
}

/// How a headless run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Played to the end of the stream.
    Ended,
    /// Stopped after `--duration`.
    TimeUp,
    /// Something failed (already reported); the process should exit non-zero.
    Failed,
}

/// How long to wait for anything at all before giving up (the lab server ends a stream with
/// silence; the engine turns that into end-of-stream after 2 s, so this is a last resort).
const STALL_LIMIT: Duration = Duration::from_secs(15);

/// Runs headless mode.
pub fn run(options: &Options) -> Outcome {
    let name = options.target.name();
    let server = options.target.server_label();
    let fail = |err: &rtsp_core::client::ClientError| {
        if let Some(x) = explain(err, &name, &server) {
            eprintln!("rtsp-player: {}", x.one_line());
        }
        Outcome::Failed
    };
    if let Some(dir) = &options.save_frames {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("rtsp-player: cannot create {}: {e}", dir.display());
            return Outcome::Failed;
        }
    }
    let mut info = StreamInfo::default();
    let client = match Client::connect(options.target.config(options.transport)) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    // Events outside the play loop: the exchange (also when it failed) and the description.
    let catch_up = |info: &mut StreamInfo| {
        while let Some(event) = client.next_event(Duration::ZERO) {
            match event {
                Event::Message(m) => on_message(&m, info, options.show_rtsp),
                Event::Description(d) => info.merge(StreamInfo::from_description(&d.text)),
                _ => {}
            }
        }
    };
    if !options.target.is_lab() {
        let described = client.describe();
        catch_up(&mut info);
        if let Err(e) = described {
            return fail(&e);
        }
    }
    println!(
        "Playing {name} from {server}{}",
        describe_info(&info, options.target.is_lab())
    );
    if let Err(e) = client.player_play() {
        catch_up(&mut info);
        return fail(&e);
    }
    let started = Instant::now();
    let mut history = StatsHistory::new(Duration::from_secs(60));
    let mut frames = 0u64;
    let mut last_frame = 0u64;
    let mut last_pts = Duration::ZERO;
    let mut last_activity = Instant::now();
    let mut next_report = Instant::now() + Duration::from_secs(1);
    let mut saved = 0u64;
    let mut latency = LatencySummary::default();
    let mut outcome = Outcome::TimeUp;
    loop {
        if options.duration.is_some_and(|d| started.elapsed() >= d) {
            break;
        }
        if last_activity.elapsed() > STALL_LIMIT {
            eprintln!(
                "rtsp-player: nothing arrived for {} s; giving up",
                STALL_LIMIT.as_secs()
            );
            outcome = Outcome::Failed;
            break;
        }
        if Instant::now() >= next_report {
            next_report += Duration::from_secs(1);
            print_progress(&info, last_frame, last_pts, history.latest(), latency.last);
        }
        let Some(event) = client.next_event(Duration::from_millis(100)) else {
            continue;
        };
        last_activity = Instant::now();
        match event {
            Event::Frame(frame) => {
                frames += 1;
                latency.push(crate::latency::of_frame(
                    frame.sender_time,
                    std::time::SystemTime::now(),
                ));
                last_pts = frame.pts;
                last_frame = if options.target.is_lab() {
                    frame.number
                } else {
                    info.frame_at(frame.pts)
                };
                if let Some(dir) = &options.save_frames {
                    let path = dir.join(format!("frame-{:06}.jpg", frame.number));
                    match std::fs::write(&path, &frame.jpeg[..]) {
                        Ok(()) => saved += 1,
                        Err(e) => {
                            eprintln!("rtsp-player: cannot write {}: {e}", path.display());
                            outcome = Outcome::Failed;
                            break;
                        }
                    }
                }
            }
            Event::Stats(stats) => history.push(started.elapsed(), &stats),
            Event::Description(d) => info.merge(StreamInfo::from_description(&d.text)),
            Event::EndOfStream => {
                outcome = Outcome::Ended;
                break;
            }
            Event::Error(e) => {
                if let Some(x) = explain(&e, &name, &server) {
                    eprintln!("rtsp-player: {}", x.one_line());
                }
                // The engine keeps a stalled session in case media resumes; a headless run
                // would otherwise sit out its own, much longer STALL_LIMIT.
                if matches!(e, rtsp_core::client::ClientError::Stalled { .. }) {
                    outcome = Outcome::Failed;
                    break;
                }
            }
            Event::StateChanged(State::Init) => {
                // The reason (the server closed the connection...) follows as an error.
                if let Some(Event::Error(e)) = client.next_event(Duration::from_millis(200)) {
                    if let Some(x) = explain(&e, &name, &server) {
                        eprintln!("rtsp-player: {}", x.one_line());
                    }
                }
                eprintln!("rtsp-player: the session ended unexpectedly");
                outcome = Outcome::Failed;
                break;
            }
            Event::StateChanged(_) => {}
            Event::Message(m) => on_message(&m, &mut info, options.show_rtsp),
        }
    }
    let stats = client.stats();
    let stopped = client.player_stop();
    catch_up(&mut info);
    if let Err(e) = stopped {
        if let Some(x) = explain(&e, &name, &server) {
            eprintln!("rtsp-player: TEARDOWN failed: {}", x.one_line());
        }
    }
    drop(client);
    match outcome {
        Outcome::Ended => println!("End of stream."),
        Outcome::TimeUp => println!("Stopped after {:.1} s.", started.elapsed().as_secs_f64()),
        Outcome::Failed => {}
    }
    print!(
        "{}",
        summary(
            &stats,
            &history,
            &latency,
            frames,
            started.elapsed(),
            saved,
            options
        )
    );
    if frames == 0 {
        eprintln!("rtsp-player: no frame was received");
        return Outcome::Failed;
    }
    outcome
}

/// An RTSP message: the lab's `Frames:` total is taken from replies; with `--show-rtsp` it is
/// printed.
fn on_message(m: &ProtocolMessage, info: &mut StreamInfo, show: bool) {
    if m.direction == MessageDirection::Received {
        info.frames = info.frames.or(lab_frames(&m.text));
    }
    if !show {
        return;
    }
    let arrow = match m.direction {
        MessageDirection::Sent => ">>",
        MessageDirection::Received => "<<",
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{arrow} [{:>7.3} s]", m.at.as_secs_f64());
    for line in m.text.lines() {
        let _ = writeln!(out, "   {line}");
    }
}

fn describe_info(info: &StreamInfo, lab: bool) -> String {
    let mut parts = Vec::new();
    if let Some((w, h)) = info.size {
        parts.push(format!("{w}x{h}"));
    }
    if let Some(r) = info.frame_rate {
        parts.push(format::fps(r));
    }
    if let Some(len) = info.length() {
        parts.push(format::clock(len));
    } else if info.live {
        parts.push("live".into());
    }
    if lab {
        parts.push("lab dialect".into());
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

fn print_progress(
    info: &StreamInfo,
    frame: u64,
    pts: Duration,
    stats: Option<&Stats>,
    latency: Option<Duration>,
) {
    let mut line = format!(
        "  {:<13}  {:<20}",
        format::progress(pts, info.length()),
        format::frame_counter(frame, info.total_frames())
    );
    if let Some(s) = stats {
        line.push_str(&format!(
            "  {:>9}  {:>12}  loss {}",
            format::fps(s.frame_rate_fps_recent),
            format::bitrate(s.bitrate_bps_recent),
            format::percent(s.loss_rate)
        ));
    }
    if latency.is_some() {
        line.push_str(&format!("  latency {}", format::latency(latency)));
    }
    println!("{}", line.trim_end());
}

/// The final statistics block.
fn summary(
    stats: &Stats,
    history: &StatsHistory,
    latency: &LatencySummary,
    shown: u64,
    elapsed: Duration,
    saved: u64,
    options: &Options,
) -> String {
    let mut out = String::from("Statistics\n");
    let mut row = |name: &str, value: String| out.push_str(&format!("  {name:<18}{value}\n"));
    row(
        "frames",
        format!(
            "{} complete, {} received here, {} broken, {} skipped",
            stats.frames_complete, shown, stats.frames_broken, stats.frames_dropped
        ),
    );
    row(
        "packets",
        format!(
            "{} received, {} lost ({})",
            stats.packets_received,
            stats.packets_lost,
            format::percent(stats.loss_rate)
        ),
    );
    row(
        "data",
        format!(
            "{} in {:.1} s, average {}",
            format::bytes(stats.bytes_received),
            elapsed.as_secs_f64(),
            format::bitrate(stats.bitrate_bps_overall)
        ),
    );
    // Frames over the time they span, pauses excluded: 500 frames at 20 fps read 20.0.
    row("frame rate", format::fps(stats.frame_rate_fps_overall));
    // See crate::latency for what the figure covers.
    row(
        "latency",
        match latency.mean() {
            Some(mean) => format!(
                "{} mean, {} max, {} last ({} frames; sender report to arrival)",
                format::latency(Some(mean)),
                format::latency(Some(latency.max)),
                format::latency(latency.last),
                latency.frames
            ),
            None => "– (no frame had one: no RTCP sender report yet, or the sender's clock \
                     ahead of ours)"
                .to_owned(),
        },
    );
    if !history.is_empty() {
        row("peak bitrate", format::bitrate(history.peak_bitrate_bps()));
    }
    row("jitter", format::millis(stats.jitter_ms));
    row(
        "first frame after",
        format::latency(stats.first_frame_latency()),
    );
    if let Some(dir) = &options.save_frames {
        row("saved", format!("{saved} frames in {}", dir.display()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_lists_every_figure() {
        let stats = Stats {
            packets_received: 990,
            packets_expected: 1000,
            packets_lost: 10,
            loss_rate: 0.01,
            bytes_received: 4_273_393,
            frames_complete: 500,
            frames_broken: 1,
            bitrate_bps_overall: 1_360_000.0,
            frame_rate_fps_overall: 19.98,
            jitter_ms: 0.5,
            first_frame_latency_ms: 12.0,
            ..Stats::default()
        };
        let options = Options {
            target: StreamTarget::url("rtsp://h/m").unwrap(),
            transport: TransportPreference::Auto,
            duration: None,
            save_frames: Some("out".into()),
            show_rtsp: false,
        };
        let mut latency = LatencySummary::default();
        latency.push(Some(Duration::from_millis(4)));
        latency.push(Some(Duration::from_millis(8)));
        let text = summary(
            &stats,
            &StatsHistory::new(Duration::from_secs(60)),
            &latency,
            499,
            Duration::from_secs(25),
            499,
            &options,
        );
        for needle in [
            "500 complete, 499 received here, 1 broken",
            "990 received, 10 lost (1.0 %)",
            "4.27 MB in 25.0 s, average 1.36 Mbit/s",
            "frame rate        20.0 fps",
            "0.5 ms",
            "12.0 ms",
            "499 frames in out",
            "latency           6.0 ms mean, 8.0 ms max, 8.0 ms last (2 frames",
        ] {
            assert!(text.contains(needle), "{needle:?} missing in\n{text}");
        }
        let info = StreamInfo {
            frame_rate: Some(20.0),
            duration: Some(Duration::from_secs(25)),
            size: Some((640, 480)),
            ..StreamInfo::default()
        };
        assert_eq!(describe_info(&info, false), " (640x480, 20.0 fps, 0:25)");
        assert_eq!(
            describe_info(&StreamInfo::default(), true),
            " (lab dialect)"
        );
    }
}

//! The command line.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use rtsp_core::client::TransportPreference;

use crate::format;
use crate::target::{StreamTarget, TargetError};

/// Play RTSP/RTP MJPEG streams, including the networking lab's protocol.
#[derive(Debug, Parser)]
#[command(
    name = "rtsp-player",
    version,
    after_help = "Examples:\n  \
        rtsp-player rtsp://127.0.0.1:8554/movie.Mjpeg\n  \
        rtsp-player localhost 8554 25000 movie.Mjpeg      (the lab's four values: lab mode)\n  \
        rtsp-player --no-gui --duration 5 --save-frames frames rtsp://127.0.0.1:8554/testsrc\n\n\
        Keys: Space play/pause, Left/Right 1 s back/forward, Home restart, F fullscreen,\n  \
        Ctrl+I stream information, Ctrl+L lab mode, Ctrl+T statistics, Ctrl+O open, Ctrl+Q quit."
)]
pub struct Cli {
    /// `rtsp://host:port/path`, or the lab's SERVER_HOST SERVER_PORT RTP_PORT VIDEO_FILE; with
    /// nothing, the window asks for an address.
    #[arg(value_name = "TARGET")]
    pub target: Vec<String>,

    /// Play without a window: print progress and the final statistics.
    #[arg(long)]
    pub no_gui: bool,

    /// Headless: stop after this many seconds instead of at the end of the stream.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub duration: Option<Duration>,

    /// Headless: save every frame received as DIR/frame-NNNNNN.jpg.
    #[arg(long, value_name = "DIR")]
    pub save_frames: Option<PathBuf>,

    /// Headless: print every RTSP request and reply.
    #[arg(long)]
    pub show_rtsp: bool,

    /// How RTP travels (standard dialect; the lab's is always UDP).
    #[arg(long, value_enum, default_value_t = TransportArg::Auto)]
    pub transport: TransportArg,

    /// Start in lab mode (the default with the lab's four values).
    #[arg(long, conflicts_with = "no_lab")]
    pub lab: bool,

    /// Start in normal mode even with the lab's four values.
    #[arg(long)]
    pub no_lab: bool,

    /// Show the statistics panel.
    #[arg(long)]
    pub stats: bool,

    /// Start playing at once (the default for a URL; in lab mode this presses SETUP, then PLAY).
    #[arg(long, conflicts_with = "no_autoplay")]
    pub autoplay: bool,

    /// Wait for Play.
    #[arg(long)]
    pub no_autoplay: bool,

    /// Test hook: quit (tearing down cleanly) after this many seconds.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub exit_after: Option<Duration>,

    /// Test hook: save a PNG of the window, at the given time or else just before
    /// --exit-after quits. May be repeated.
    #[arg(long, value_name = "[SECONDS:]FILE")]
    pub screenshot: Vec<ScreenshotSpec>,

    /// Test hook: once the window is up, type ADDRESS into the address page and press Enter, as
    /// a user would.
    #[arg(long, value_name = "ADDRESS")]
    pub type_address: Option<String>,

    /// Initial window size.
    #[arg(long, value_name = "WIDTHxHEIGHT")]
    pub window_size: Option<WindowSize>,
}

/// `--transport`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TransportArg {
    /// UDP, falling back to TCP when nothing arrives.
    Auto,
    /// UDP only.
    Udp,
    /// TCP interleaved only.
    Tcp,
}

impl From<TransportArg> for TransportPreference {
    fn from(t: TransportArg) -> Self {
        match t {
            TransportArg::Auto => TransportPreference::Auto,
            TransportArg::Udp => TransportPreference::Udp,
            TransportArg::Tcp => TransportPreference::Tcp,
        }
    }
}

fn parse_seconds(s: &str) -> Result<Duration, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("“{s}” is not a number of seconds"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("“{s}” is not a number of seconds"));
    }
    Ok(format::seconds(v))
}

/// `--screenshot [SECONDS:]FILE`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScreenshotSpec {
    /// When to take it; `None`: just before quitting.
    pub at: Option<Duration>,
    /// Where to save it.
    pub file: PathBuf,
}

impl FromStr for ScreenshotSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (at, file) = match s.split_once(':') {
            Some((t, file)) if t.parse::<f64>().is_ok() => (Some(parse_seconds(t)?), file),
            _ => (None, s),
        };
        if file.is_empty() {
            return Err("the screenshot needs a file name".into());
        }
        Ok(Self {
            at,
            file: PathBuf::from(file),
        })
    }
}

/// `--window-size WIDTHxHEIGHT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSize {
    /// Width in pixels.
    pub width: i32,
    /// Height in pixels.
    pub height: i32,
}

impl FromStr for WindowSize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("“{s}” is not a size like 1024x640");
        let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
        let width: i32 = w.trim().parse().map_err(|_| bad())?;
        let height: i32 = h.trim().parse().map_err(|_| bad())?;
        if !(200..=10_000).contains(&width) || !(150..=10_000).contains(&height) {
            return Err(bad());
        }
        Ok(Self { width, height })
    }
}

/// What the command line asks for, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Launch {
    /// The stream, if one was given.
    pub target: Option<StreamTarget>,
    /// Whether the window starts in lab mode.
    pub lab_mode: bool,
    /// Whether playback starts at once.
    pub autoplay: bool,
}

impl Cli {
    /// Resolves the positional arguments and the mode defaults.
    pub fn launch(&self) -> Result<Launch, TargetError> {
        let target = StreamTarget::from_args(&self.target)?;
        let is_lab = target.as_ref().is_some_and(StreamTarget::is_lab);
        let lab_mode = if self.lab {
            true
        } else if self.no_lab {
            false
        } else {
            is_lab
        };
        // A student steps through the lab protocol by hand; a viewer wants the picture.
        let autoplay = if self.autoplay {
            true
        } else if self.no_autoplay {
            false
        } else {
            target.is_some() && !lab_mode
        };
        Ok(Launch {
            target,
            lab_mode,
            autoplay,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("rtsp-player").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn lab_arguments_start_lab_mode_without_autoplay() {
        let l = cli(&["localhost", "8554", "25000", "movie.Mjpeg"])
            .launch()
            .unwrap();
        assert!(l.lab_mode && !l.autoplay);
        let l = cli(&["--no-lab", "localhost", "8554", "25000", "movie.Mjpeg"])
            .launch()
            .unwrap();
        assert!(!l.lab_mode && l.autoplay);
        let l = cli(&["--autoplay", "localhost", "8554", "25000", "movie.Mjpeg"])
            .launch()
            .unwrap();
        assert!(l.lab_mode && l.autoplay);
    }

    #[test]
    fn url_plays_at_once_and_nothing_waits() {
        let l = cli(&["rtsp://h/m"]).launch().unwrap();
        assert!(!l.lab_mode && l.autoplay);
        let l = cli(&["--lab", "rtsp://h/m"]).launch().unwrap();
        assert!(l.lab_mode && !l.autoplay);
        let l = cli(&[]).launch().unwrap();
        assert!(l.target.is_none() && !l.autoplay);
        assert!(cli(&["a", "b", "c"]).launch().is_err());
    }

    #[test]
    fn options_parse() {
        let c = cli(&[
            "--no-gui",
            "--duration",
            "2.5",
            "--screenshot",
            "1.5:a.png",
            "--screenshot",
            "b.png",
            "--screenshot",
            "c:d.png",
            "--window-size",
            "1024x640",
            "--transport",
            "tcp",
            "rtsp://h/m",
        ]);
        assert_eq!(c.duration, Some(Duration::from_millis(2_500)));
        assert_eq!(
            c.screenshot,
            vec![
                ScreenshotSpec {
                    at: Some(Duration::from_millis(1_500)),
                    file: "a.png".into()
                },
                ScreenshotSpec {
                    at: None,
                    file: "b.png".into()
                },
                ScreenshotSpec {
                    at: None,
                    file: "c:d.png".into()
                },
            ]
        );
        assert_eq!(
            c.window_size,
            Some(WindowSize {
                width: 1024,
                height: 640
            })
        );
        assert_eq!(
            TransportPreference::from(c.transport),
            TransportPreference::Tcp
        );
        let bad = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("rtsp-player").chain(args.iter().copied())).is_err()
        };
        assert!(bad(&["--duration", "-1"]));
        assert!(bad(&["--duration", "soon"]));
        assert!(bad(&["--window-size", "10x10"]));
        assert!(bad(&["--screenshot", "2:"]));
        assert!(bad(&["--lab", "--no-lab"]));
    }
}

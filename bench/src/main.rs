//! Command line of `rtsp-bench`.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use rtsp_bench::fanout::{read_lab_mjpeg, PublishTo};
use rtsp_bench::{run, BenchConfig, FanoutConfig, Transport};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TransportArg {
    Udp,
    Tcp,
}

/// Load generator for RTSP/RTP-JPEG servers on this machine.
#[derive(Debug, Parser)]
#[command(name = "rtsp-bench", version, about)]
struct Cli {
    /// Stream URL, e.g. rtsp://127.0.0.1:8554/movie.Mjpeg (loopback only).
    url: String,
    /// Number of sessions.
    #[arg(short = 'n', long, default_value_t = 1)]
    sessions: usize,
    /// Lower transport.
    #[arg(long, value_enum, default_value_t = TransportArg::Udp)]
    transport: TransportArg,
    /// Total run time in seconds, ramp included.
    #[arg(short, long, default_value_t = 10.0)]
    duration: f64,
    /// Sessions started per second.
    #[arg(long, default_value_t = 200.0)]
    ramp: f64,
    /// Generator threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Nominal frame rate of the stream.
    #[arg(long, default_value_t = 20.0)]
    fps: f64,
    /// A frame later than this (ms) after its scheduled time counts as late.
    #[arg(long, default_value_t = 100.0)]
    late_ms: f64,
    /// PID of the server process, to report its CPU and RSS.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Receive every datagram on its own (no UDP_GRO coalescing of segmentation-offload trains),
    /// like most players do; costs the generator more CPU per packet.
    #[arg(long)]
    no_gro: bool,
    /// Live fan-out: publish the frames of this lab .Mjpeg file (tagged, in a loop, at --fps)
    /// to the URL with RTSP RECORD over UDP before the sessions read it back, and report
    /// frames on time and publish-to-reader latency by frame.
    #[arg(long, value_name = "FILE")]
    publish: Option<String>,
    /// With --publish: send the frames as plain RTP/JPEG datagrams to this loopback address
    /// (a server whose pipeline reads a UDP port) instead of publishing with RTSP.
    #[arg(long, value_name = "ADDR", requires = "publish")]
    publish_rtp: Option<std::net::SocketAddr>,
    /// Print one line of JSON instead of the text report.
    #[arg(long)]
    json: bool,
    /// Exit with status 1 unless at least this fraction of frames arrived on time.
    #[arg(long)]
    min_delivery: Option<f64>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !(cli.duration > 0.0 && cli.duration < 86_400.0 && cli.late_ms >= 0.0) {
        eprintln!("rtsp-bench: --duration must be in (0, 86400) s and --late-ms >= 0");
        return ExitCode::from(2);
    }
    let mut cfg = BenchConfig::new(cli.url);
    cfg.sessions = cli.sessions;
    cfg.transport = match cli.transport {
        TransportArg::Udp => Transport::Udp,
        TransportArg::Tcp => Transport::Tcp,
    };
    cfg.duration = Duration::from_secs_f64(cli.duration);
    cfg.ramp_per_sec = cli.ramp;
    cfg.threads = cli.threads;
    cfg.fps = cli.fps;
    cfg.late_after = Duration::from_secs_f64(cli.late_ms / 1000.0);
    cfg.server_pid = cli.server_pid;
    cfg.gro = !cli.no_gro;
    if let Some(file) = &cli.publish {
        let frames = match read_lab_mjpeg(file) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("rtsp-bench: {e}");
                return ExitCode::from(2);
            }
        };
        let publish_to = match cli.publish_rtp {
            Some(addr) if addr.ip().is_loopback() => PublishTo::Rtp(addr),
            Some(_) => {
                eprintln!("rtsp-bench: --publish-rtp must be a loopback address");
                return ExitCode::from(2);
            }
            None => PublishTo::Rtsp(cfg.url.clone()),
        };
        cfg.fanout = Some(FanoutConfig {
            frames: std::sync::Arc::new(frames),
            publish_to,
            lead: Duration::from_secs(1),
        });
    }
    let report = match run(&cfg) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rtsp-bench: {e}");
            return ExitCode::from(2);
        }
    };
    if cli.json {
        println!("{}", report.to_json());
    } else {
        println!("{report}");
    }
    match cli.min_delivery {
        Some(min) if report.delivery_ratio() < min => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}

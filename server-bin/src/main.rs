//! `rtsp-server` command line entry point.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use rtsp_core::server::runtime::{Config, Server};
use server_bin::cli::Cli;
use server_bin::logging;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.log_format);
    let open_files = rtsp_core::server::runtime::limits::raise_open_files();
    tracing::debug!(?open_files, "open-file limit");
    // Handlers go in before anything starts, so an early Ctrl-C still shuts down cleanly.
    let mut signals = match Signals::new([SIGINT, SIGTERM]) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot install signal handlers");
            return ExitCode::FAILURE;
        }
    };
    let config = Config {
        bind: SocketAddr::new(cli.bind, cli.rtsp_port()),
        media: cli.media.clone(),
        fps: cli.fps,
        workers: usize::from(cli.workers),
        senders: usize::from(cli.senders),
        session_timeout: Duration::from_secs(cli.session_timeout),
        max_sessions: cli.max_sessions,
        max_connections: cli.max_connections,
        looping: cli.loop_media,
        transcode: cli.transcode,
        rtp_port_base: cli.rtp_port_base,
    };
    let server = match Server::start(config) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    if let Some(sig) = signals.forever().next() {
        tracing::info!(signal = sig, "shutting down");
    }
    server.shutdown();
    ExitCode::SUCCESS
}

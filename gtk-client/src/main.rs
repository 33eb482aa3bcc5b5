//! `rtsp-player`: a GTK 4 player for RTSP/RTP MJPEG streams that also speaks the networking
//! lab's protocol, with a lab mode that steps through it request by request, and a headless mode.

mod cli;
mod controls;
mod engine;
mod explain;
mod format;
mod headless;
mod latency;
mod mailbox;
mod media_info;
mod recent;
mod stats_history;
mod target;
mod ui;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let launch = match cli.launch() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("rtsp-player: {e}");
            return ExitCode::from(2);
        }
    };
    let headless = |target: target::StreamTarget| {
        let options = headless::Options {
            target,
            transport: cli.transport.into(),
            duration: cli.duration,
            save_frames: cli.save_frames.clone(),
            show_rtsp: cli.show_rtsp,
        };
        match headless::run(&options) {
            headless::Outcome::Ended | headless::Outcome::TimeUp => ExitCode::SUCCESS,
            headless::Outcome::Failed => ExitCode::FAILURE,
        }
    };
    if cli.no_gui {
        return match launch.target {
            Some(t) => headless(t),
            None => {
                eprintln!("rtsp-player: --no-gui needs an address to play");
                ExitCode::from(2)
            }
        };
    }
    if !ui::display_available() {
        return match launch.target {
            Some(t) => {
                eprintln!("rtsp-player: no display found; playing without a window (--no-gui)");
                headless(t)
            }
            None => {
                eprintln!("rtsp-player: no display found; give an address to play it headless");
                ExitCode::from(2)
            }
        };
    }
    ExitCode::from(ui::run(&cli, launch))
}

//! `rtsp-server` command line entry point.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, FromArgMatches, Parser};
use rtsp_core::auth::credentials::{loose_permissions, write_entry};
use rtsp_core::auth::{Permission, ServerAuth, UserEntry};
use rtsp_core::server::relay::RelayPolicy;
use rtsp_core::server::runtime::{Config, Origin, Server, TlsListener};
use rtsp_core::tls::ServerIdentity;
use server_bin::cli::{Cli, PasswdCli};
use server_bin::config::FileConfig;
use server_bin::logging;
use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1};
use signal_hook::iterator::Signals;

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("passwd") {
        return passwd(PasswdCli::parse_from(std::env::args().skip(1)));
    }
    let matches = Cli::command().get_matches();
    let mut cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    if let Some(path) = cli.config.clone() {
        match FileConfig::load(&path) {
            Ok(file) => file.apply(&mut cli, &matches),
            Err(e) => {
                eprintln!("rtsp-server: {e}");
                return ExitCode::from(2);
            }
        }
    }
    if let Err(e) = cli.check() {
        eprintln!("rtsp-server: {e}");
        return ExitCode::from(2);
    }
    logging::init(cli.log_format);
    let open_files = rtsp_core::limits::raise_open_files();
    tracing::debug!(?open_files, "open-file limit");
    let auth = match &cli.credentials {
        None => None,
        Some(path) => match ServerAuth::load(path, &cli.realm, cli.auth_basic) {
            Ok(a) => {
                if let Some(mode) = loose_permissions(path) {
                    tracing::warn!(
                        file = %path.display(),
                        mode = format!("{mode:o}"),
                        "the credentials file is readable by group or others; its hashes are password-equivalent (chmod 600 it)"
                    );
                }
                Some(a)
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot load credentials");
                return ExitCode::FAILURE;
            }
        },
    };
    let tls = match (&cli.tls_cert, &cli.tls_key) {
        (Some(cert), Some(key)) => match ServerIdentity::from_pem_files(cert, key) {
            Ok(identity) => Some(TlsListener {
                bind: SocketAddr::new(cli.bind, cli.tls_port),
                identity,
            }),
            Err(e) => {
                tracing::error!(error = %e, "cannot load the TLS certificate and key");
                return ExitCode::FAILURE;
            }
        },
        _ => None,
    };
    // Handlers go in before anything starts, so an early Ctrl-C still shuts down cleanly.
    let mut signals = match Signals::new([SIGINT, SIGTERM, SIGUSR1]) {
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
        max_connections_per_address: usize::try_from(cli.max_connections_per_address)
            .unwrap_or(usize::MAX),
        auth,
        proxy_protocol: cli.proxy_protocol,
        trusted_proxies: cli.trusted_proxy.clone(),
        metrics: cli.metrics,
        http: cli.http,
        publish: cli.publish,
        publish_paths: cli.publish_paths.clone(),
        relays: cli.relay.clone(),
        relay: RelayPolicy {
            mode: cli.relay_mode,
            linger: Duration::from_secs_f64(cli.relay_linger),
            ..RelayPolicy::default()
        },
        origin: cli.origin.clone().map(|url| Origin {
            url,
            max_paths: cli.origin_max_paths,
        }),
        tls,
        redirect: cli.redirect_config(),
    };
    let server = match Server::start(config) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    for sig in signals.forever() {
        if sig == SIGUSR1 {
            // Taken out of rotation: current sessions play on, new ones go elsewhere.
            server.drain();
            continue;
        }
        tracing::info!(signal = sig, "shutting down");
        break;
    }
    server.shutdown();
    ExitCode::SUCCESS
}

/// `rtsp-server passwd`: one entry from a password on standard input (no echo control: pipe it
/// in, or type it knowing it shows).
fn passwd(cli: PasswdCli) -> ExitCode {
    let mut line = String::new();
    if let Err(e) = std::io::stdin().read_line(&mut line) {
        eprintln!("rtsp-server passwd: cannot read the password: {e}");
        return ExitCode::FAILURE;
    }
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        eprintln!("rtsp-server passwd: empty password (give it on standard input)");
        return ExitCode::FAILURE;
    }
    let permission = if cli.publish {
        Permission::Publish
    } else {
        Permission::Read
    };
    let result = UserEntry::new(&cli.user, &cli.realm, password)
        .map(|entry| entry.with_permission(permission))
        .and_then(|entry| write_entry(&cli.file, &entry));
    match result {
        Ok(()) => {
            eprintln!(
                "rtsp-server passwd: {} of realm {:?} ({}) stored in {}",
                cli.user,
                cli.realm,
                if cli.publish {
                    "may read and publish"
                } else {
                    "may read"
                },
                cli.file.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("rtsp-server passwd: {e}");
            ExitCode::FAILURE
        }
    }
}

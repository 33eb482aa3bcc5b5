//! `rtsp-server --config FILE`: the example in the repo parses, a configured server serves a
//! file and a relayed path (credentials from the file) on the configured port, flags override
//! the file, and mistakes are refused with their line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::{CommandFactory, FromArgMatches};
use common::*;
use rtsp_core::client::{Client, ClientConfig, Event};
use rtsp_core::server::relay::RelayMode;
use server_bin::cli::{Cli, LogFormat};
use server_bin::config::FileConfig;

const PASSWORD: &str = "s3cret:p@ss/w";

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/rtsp-server.toml")
}

/// `args` parsed as the server does, with the file merged in.
fn merged(file: &Path, args: &[&str]) -> Result<Cli, String> {
    let matches = Cli::command()
        .try_get_matches_from(args)
        .map_err(|e| e.to_string())?;
    let mut cli = Cli::from_arg_matches(&matches).map_err(|e| e.to_string())?;
    FileConfig::load(file)
        .map_err(|e| e.to_string())?
        .apply(&mut cli, &matches);
    cli.check()?;
    Ok(cli)
}

#[test]
fn the_example_parses() {
    let cli = merged(&example(), &["rtsp-server"]).unwrap();
    assert_eq!(cli.rtsp_port(), 8554);
    assert_eq!(cli.bind.to_string(), "127.0.0.1");
    assert!(cli.media.join("movie.Mjpeg").is_file(), "{:?}", cli.media);
    assert!(cli.publish && cli.loop_media);
    assert_eq!(cli.log_format, LogFormat::Text);
    let relays: Vec<_> = cli
        .relay
        .iter()
        .map(|r| (r.path.as_str(), r.mode))
        .collect();
    assert_eq!(
        relays,
        [("cam1", Some(RelayMode::Always)), ("site/lobby", None)]
    );
    // The credentials went into the URL the engine dials, and only there.
    assert_eq!(
        cli.relay[0].url,
        "rtsp://viewer:change-me@192.0.2.10:554/stream1"
    );
    assert!(!format!("{:?}", cli.relay).contains("change-me"));
    assert_eq!(cli.redirect_config().rules.len(), 1);
    assert_eq!(cli.metrics, "127.0.0.1:9554".parse().ok());
}

#[test]
fn flags_override_the_file() {
    let cli = merged(
        &example(),
        &[
            "rtsp-server",
            "--port",
            "9000",
            "--fps",
            "5",
            "--relay",
            "other=rtsp://127.0.0.1/x",
        ],
    )
    .unwrap();
    assert_eq!(cli.rtsp_port(), 9000);
    assert_eq!(cli.fps, 5.0);
    assert_eq!(cli.relay.len(), 1);
    assert_eq!(cli.relay[0].path, "other");
    // Keys without a flag on the command line still come from the file.
    assert_eq!(cli.bind.to_string(), "127.0.0.1");
    // The lab's positional port is a port flag too.
    assert_eq!(
        merged(&example(), &["rtsp-server", "1300"])
            .unwrap()
            .rtsp_port(),
        1300
    );
}

/// Writes `text` as a configuration file in a fresh directory.
fn config_file(name: &str, text: &str) -> PathBuf {
    let file = scratch(&format!("config-{name}")).join("rtsp-server.toml");
    std::fs::write(&file, text).unwrap();
    file
}

/// `rtsp-server --config FILE` for a file that must be refused: its exit code and stderr.
fn refused(text: &str) -> (Option<i32>, String, PathBuf) {
    let file = config_file("bad", text);
    let out = run(
        env!("CARGO_BIN_EXE_rtsp-server"),
        &["--config".to_owned(), file.to_str().unwrap().to_owned()],
        Duration::from_secs(60),
    );
    (out.status.code(), text_of(&out), file)
}

fn text_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn mistakes_are_refused_with_their_line() {
    for (text, line, words) in [
        (
            "bind = \"127.0.0.1\"\nport = 0\nmax-sesions = 3\n",
            3,
            "unknown field `max-sesions`",
        ),
        (
            "port = 0\n\nfps = 0\n",
            3,
            "fps must be between 0.1 and 240",
        ),
        ("workers = \"two\"\n", 1, "invalid type"),
        (
            "port = 0\n[[relay]]\npath = \"cam\"\nurl = \"http://h/x\"\n",
            2,
            "relay \"cam\"",
        ),
        (
            "[[relay]]\npath = \"cam\"\nurl = \"rtsp://h/x\"\nmode = \"never\"\n",
            1,
            "never",
        ),
        (
            "[tls]\ncert = \"a.pem\"\nkee = \"b.pem\"\n",
            3,
            "unknown field `kee`",
        ),
        ("bind = \"localhost\"\n", 1, "invalid IP address"),
    ] {
        let (code, stderr, file) = refused(text);
        assert_eq!(code, Some(2), "{text}: {stderr}");
        let place = format!("{}:{line}: ", file.display());
        assert!(stderr.contains(&place), "{text}: want {place} in {stderr}");
        assert!(stderr.contains(words), "{text}: want {words} in {stderr}");
    }
    // Options that need each other are checked once the file is merged in.
    let (code, stderr, _) = refused("proxy-protocol = true\n");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("trusted-proxies"), "{stderr}");
    // A flag that needs a key of the file is accepted with it.
    let users = config_file("users", "credentials = \"users.txt\"\n");
    let cli = merged(&users, &["rtsp-server", "--realm", "lab", "--auth-basic"]).unwrap();
    assert_eq!(cli.realm, "lab");
    assert_eq!(cli.credentials, Some(users.with_file_name("users.txt")));
}

/// The engine's client playing `url`: up to `n` frames within 60 s.
fn play(url: &str, n: usize) -> usize {
    let mut config = ClientConfig::url(url);
    config.reply_timeout = Duration::from_secs(20);
    config.stats_interval = None;
    let client = Client::connect(config).expect("connect");
    client.player_play().expect("play");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut got = 0;
    while got < n && Instant::now() < deadline {
        if let Some(Event::Frame(_)) = client.next_event(Duration::from_millis(200)) {
            got += 1;
        }
    }
    got
}

#[test]
fn a_configured_server_serves_its_file_and_relayed_path() {
    // The upstream wants a login that only the configuration file knows.
    let users = scratch("config-users").join("users.txt");
    let mut passwd = Command::new(env!("CARGO_BIN_EXE_rtsp-server"))
        .arg("passwd")
        .arg(&users)
        .arg("alice")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    writeln!(passwd.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    assert!(passwd.wait().unwrap().success());
    let upstream = Server::start(&["--loop", "--credentials", users.to_str().unwrap()]);

    let port = free_port("127.0.0.1".parse().unwrap());
    let rtp_base = 40000 + (rand_u16() % 1000) * 2;
    let file = config_file(
        "serve",
        &format!(
            "bind = \"127.0.0.1\"\nport = {port}\nmedia = {media:?}\nloop = true\n\
             rtp-port-base = {rtp_base}\n\n[[relay]]\npath = \"site/cam\"\n\
             url = \"rtsp://{upstream}/movie.Mjpeg\"\nuser = \"alice\"\npassword = {PASSWORD:?}\n",
            media = media_dir().to_str().unwrap(),
            upstream = upstream.addr,
        ),
    );
    let server = Server::start_bare(&["--config", file.to_str().unwrap()]);
    assert_eq!(server.addr.port(), port, "the configured port");
    assert_eq!(play(&server.url("movie.Mjpeg"), 10), 10, "the file");
    assert_eq!(play(&server.url("site/cam"), 10), 10, "the relayed path");
    assert!(upstream
        .wait_log(&["session start", "alice"], Duration::from_secs(10))
        .is_some());
    let log = server.log.lock().unwrap().join("\n");
    assert!(!log.contains(PASSWORD), "the password reached the log");
    assert!(!log.contains("s3cret"), "the password reached the log");
    drop(server);

    // A flag beats the file's key.
    let other = free_port("127.0.0.1".parse().unwrap());
    let server = Server::start_bare(&[
        "--config",
        file.to_str().unwrap(),
        "--port",
        &other.to_string(),
    ]);
    assert_eq!(server.addr.port(), other, "--port over the file's port");
    assert_eq!(play(&server.url("movie.Mjpeg"), 5), 5);
}

//! `rtsp-server --config FILE`: a TOML file for what flags say poorly (many relayed paths with
//! their credentials, redirect lists) and for every option a flag sets. The file fills the
//! command line's [`Cli`]; a flag given on the command line wins over the file's key, so
//! `main` builds the runtime's configuration from one merged [`Cli`] whatever its source.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::ArgMatches;
use rtsp_core::server::publish::PublishPath;
use rtsp_core::server::redirect::PathRule;
use rtsp_core::server::relay::{RelayMode, RelaySpec};
use serde::{Deserialize, Deserializer};

use crate::cli::{self, Cli, LogFormat};

/// Why a configuration file was refused: `FILE:LINE: message` when the place is known.
#[derive(Debug)]
pub struct ConfigError {
    file: PathBuf,
    line: Option<usize>,
    message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The file's keys; each one is optional and named as its flag.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileConfig {
    bind: Option<IpAddr>,
    port: Option<u16>,
    media: Option<PathBuf>,
    #[serde(default, deserialize_with = "fps")]
    fps: Option<f64>,
    #[serde(default, deserialize_with = "workers")]
    workers: Option<u16>,
    #[serde(default, deserialize_with = "session_timeout")]
    session_timeout: Option<u64>,
    max_sessions: Option<usize>,
    max_connections: Option<usize>,
    #[serde(default, deserialize_with = "positive")]
    max_connections_per_address: Option<u64>,
    credentials: Option<PathBuf>,
    realm: Option<String>,
    auth_basic: Option<bool>,
    #[serde(rename = "loop")]
    loop_media: Option<bool>,
    transcode: Option<bool>,
    rtp_port_base: Option<u16>,
    proxy_protocol: Option<bool>,
    #[serde(default, deserialize_with = "cidrs")]
    trusted_proxies: Option<Vec<ipnet::IpNet>>,
    metrics: Option<SocketAddr>,
    http: Option<SocketAddr>,
    publish: Option<bool>,
    path: Option<Vec<NamedPath>>,
    #[serde(default, deserialize_with = "relay_mode")]
    relay_mode: Option<RelayMode>,
    #[serde(default, deserialize_with = "linger")]
    relay_linger: Option<f64>,
    relay: Option<Vec<Relay>>,
    #[serde(default, deserialize_with = "origin")]
    origin: Option<String>,
    origin_max_paths: Option<usize>,
    redirect: Option<Vec<Redirect>>,
    #[serde(default, deserialize_with = "edges")]
    redirect_to: Option<Vec<String>>,
    redirect_above: Option<usize>,
    tls: Option<Tls>,
    log_format: Option<LogFormatKey>,
}

/// `[[path]]`: a path publishable without `--publish`, and who may publish it.
#[derive(Deserialize)]
#[serde(try_from = "NamedPathKeys")]
struct NamedPath(PublishPath);

impl fmt::Debug for NamedPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NamedPathKeys {
    name: String,
    publishers: Option<Vec<String>>,
}

impl TryFrom<NamedPathKeys> for NamedPath {
    type Error = String;

    fn try_from(keys: NamedPathKeys) -> Result<Self, String> {
        // The name as a request-URI names it: no leading or trailing slash, no empty segment.
        let name = keys.name.trim_matches('/');
        if name.is_empty()
            || name
                .split('/')
                .any(|s| s.is_empty() || s == "." || s == "..")
        {
            return Err(format!(
                "path {:?}: not a path like \"live/cam\"",
                keys.name
            ));
        }
        if keys.publishers.as_ref().is_some_and(Vec::is_empty) {
            return Err(format!(
                "path {:?}: an empty publishers list admits nobody; leave it out to admit any publisher",
                keys.name
            ));
        }
        Ok(NamedPath(PublishPath {
            name: name.to_owned(),
            publishers: keys.publishers,
        }))
    }
}

/// `[[relay]]`: one relayed path.
#[derive(Deserialize)]
#[serde(try_from = "RelayKeys")]
struct Relay(RelaySpec);

impl fmt::Debug for Relay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RelayKeys {
    path: String,
    url: String,
    mode: Option<String>,
    user: Option<String>,
    password: Option<String>,
}

impl TryFrom<RelayKeys> for Relay {
    type Error = String;

    fn try_from(keys: RelayKeys) -> Result<Self, String> {
        let url = with_userinfo(&keys.url, keys.user.as_deref(), keys.password.as_deref())?;
        let mut spec: RelaySpec = format!("{}={url}", keys.path)
            .parse()
            .map_err(|e| format!("relay {:?}: {e}", keys.path))?;
        spec.mode = keys.mode.map(|m| cli::parse_relay_mode(&m)).transpose()?;
        Ok(Relay(spec))
    }
}

/// `url` with `user` and `password` as its percent-encoded userinfo, for the engine's client
/// (which takes Digest credentials from the URL).
fn with_userinfo(url: &str, user: Option<&str>, password: Option<&str>) -> Result<String, String> {
    if user.is_none() && password.is_none() {
        return Ok(url.to_owned());
    }
    let shown = rtsp_core::rtsp::url::without_userinfo(url);
    let mut parsed = url::Url::parse(url).map_err(|e| format!("relay URL {shown}: {e}"))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!(
            "relay URL {shown}: credentials both in the URL and in user/password"
        ));
    }
    let user = user.ok_or("relay: a password needs a user")?;
    parsed
        .set_username(user)
        .and_then(|()| parsed.set_password(password))
        .map_err(|()| format!("relay URL {shown}: cannot hold credentials"))?;
    Ok(parsed.into())
}

/// `[[redirect]]`: one moved presentation.
#[derive(Debug, Deserialize)]
#[serde(try_from = "RedirectKeys")]
struct Redirect(PathRule);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RedirectKeys {
    path: String,
    url: String,
}

impl TryFrom<RedirectKeys> for Redirect {
    type Error = String;

    fn try_from(keys: RedirectKeys) -> Result<Self, String> {
        cli::parse_redirect(&format!("{}={}", keys.path, keys.url)).map(Redirect)
    }
}

/// `[tls]`: the rtsps:// listener.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Tls {
    cert: PathBuf,
    key: PathBuf,
    port: Option<u16>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum LogFormatKey {
    Text,
    Json,
}

/// A key whose value goes through the flag's own parser, so both refuse the same values.
fn checked<'de, D, T, F>(d: D, parse: F) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
    F: FnOnce(T) -> Result<T, String>,
{
    let value = T::deserialize(d)?;
    parse(value).map(Some).map_err(serde::de::Error::custom)
}

fn fps<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    checked(d, |v: f64| cli::parse_fps(&v.to_string()))
}

fn linger<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    checked(d, |v: f64| cli::parse_linger(&v.to_string()))
}

fn workers<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    checked(d, |v: u16| {
        if (1..=64).contains(&v) {
            Ok(v)
        } else {
            Err("workers must be between 1 and 64".to_owned())
        }
    })
}

fn session_timeout<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    checked(d, |v: u64| {
        if (1..=86400).contains(&v) {
            Ok(v)
        } else {
            Err("session-timeout must be between 1 and 86400 seconds".to_owned())
        }
    })
}

fn positive<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    checked(d, |v: u64| {
        if v > 0 {
            Ok(v)
        } else {
            Err("must be at least 1".to_owned())
        }
    })
}

fn relay_mode<'de, D: Deserializer<'de>>(d: D) -> Result<Option<RelayMode>, D::Error> {
    let s = String::deserialize(d)?;
    cli::parse_relay_mode(&s)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

fn origin<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s = String::deserialize(d)?;
    cli::parse_origin(&s)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

fn cidrs<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<ipnet::IpNet>>, D::Error> {
    let list = Vec::<String>::deserialize(d)?;
    list.iter()
        .map(|s| cli::parse_cidr(s))
        .collect::<Result<_, _>>()
        .map(Some)
        .map_err(serde::de::Error::custom)
}

fn edges<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    let list = Vec::<String>::deserialize(d)?;
    list.iter()
        .map(|s| cli::parse_edge(s))
        .collect::<Result<_, _>>()
        .map(Some)
        .map_err(serde::de::Error::custom)
}

impl FileConfig {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.to_owned(),
            line: None,
            message: format!("cannot read: {e}"),
        })?;
        Self::parse(path, &text)
    }

    /// Checks `text`, the contents of `path`; relative paths in it are taken from the file's
    /// directory, so a configuration works whatever the server's working directory.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let mut config: Self = toml::from_str(text).map_err(|e| ConfigError {
            file: path.to_owned(),
            line: e
                .span()
                .map(|span| 1 + text[..span.start.min(text.len())].matches('\n').count()),
            message: e.message().trim_end().to_owned(),
        })?;
        let base = path.parent().unwrap_or(Path::new(""));
        for file in [&mut config.media, &mut config.credentials]
            .into_iter()
            .flatten()
        {
            *file = base.join(&*file);
        }
        if let Some(tls) = &mut config.tls {
            tls.cert = base.join(&tls.cert);
            tls.key = base.join(&tls.key);
        }
        Ok(config)
    }

    /// Sets on `cli` every key of the file whose flag `matches` did not get on the command
    /// line ([`Cli::check`] then checks the options that need each other).
    pub fn apply(self, cli: &mut Cli, matches: &ArgMatches) {
        let given = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
        macro_rules! set {
            ($id:literal, $field:ident, $value:expr) => {
                if let Some(v) = $value {
                    if !given($id) {
                        cli.$field = v;
                    }
                }
            };
        }
        set!("bind", bind, self.bind);
        if !given("server_port") {
            set!("port", port, self.port.map(Some));
        }
        set!("media", media, self.media);
        set!("fps", fps, self.fps);
        set!("workers", workers, self.workers);
        set!("session_timeout", session_timeout, self.session_timeout);
        set!("max_sessions", max_sessions, self.max_sessions);
        set!("max_connections", max_connections, self.max_connections);
        set!(
            "max_connections_per_address",
            max_connections_per_address,
            self.max_connections_per_address
        );
        set!("credentials", credentials, self.credentials.map(Some));
        set!("realm", realm, self.realm);
        set!("auth_basic", auth_basic, self.auth_basic);
        set!("loop_media", loop_media, self.loop_media);
        set!("transcode", transcode, self.transcode);
        set!("rtp_port_base", rtp_port_base, self.rtp_port_base);
        set!("proxy_protocol", proxy_protocol, self.proxy_protocol);
        set!("trusted_proxy", trusted_proxy, self.trusted_proxies);
        set!("metrics", metrics, self.metrics.map(Some));
        set!("http", http, self.http.map(Some));
        set!("publish", publish, self.publish);
        if let Some(paths) = self.path {
            cli.publish_paths = paths.into_iter().map(|p| p.0).collect();
        }
        set!("relay_mode", relay_mode, self.relay_mode);
        set!("relay_linger", relay_linger, self.relay_linger);
        set!(
            "relay",
            relay,
            self.relay
                .map(|list| list.into_iter().map(|r| r.0).collect())
        );
        set!(
            "redirect",
            redirect,
            self.redirect
                .map(|list| list.into_iter().map(|r| r.0).collect())
        );
        set!("origin", origin, self.origin.map(Some));
        set!("origin_max_paths", origin_max_paths, self.origin_max_paths);
        set!("redirect_to", redirect_to, self.redirect_to);
        set!(
            "redirect_above",
            redirect_above,
            self.redirect_above.map(Some)
        );
        if let Some(tls) = self.tls {
            set!("tls_cert", tls_cert, Some(Some(tls.cert)));
            set!("tls_key", tls_key, Some(Some(tls.key)));
            set!("tls_port", tls_port, tls.port);
        }
        set!(
            "log_format",
            log_format,
            self.log_format.map(|f| match f {
                LogFormatKey::Text => LogFormat::Text,
                LogFormatKey::Json => LogFormat::Json,
            })
        );
    }
}

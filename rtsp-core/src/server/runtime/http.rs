//! The HTTP listener of `--metrics`: `GET /metrics` (Prometheus) and `GET /healthz` (200 while
//! serving, 503 while draining, for a balancer's health check).
//!
//! One thread, one request per connection, `Connection: close`: its clients are a scraper and
//! a balancer's checks, a few requests a second. A client gets 2 seconds to send its request
//! head (at most 8 KiB, parsed by [`crate::server::http`]), so a stalled one delays the others by that much
//! at worst.

use std::io::{self, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crate::server::http::{self, Method, Parsed, Route};
use crate::server::runtime::metrics::CONTENT_TYPE;
use crate::server::runtime::shared::Ctx;

const IO_TIMEOUT: Duration = Duration::from_secs(2);

/// Serve until the server shuts down (woken by [`wake`]).
pub fn run(listener: TcpListener, ctx: Arc<Ctx>) {
    for stream in listener.incoming() {
        if ctx.shutting_down.load(Ordering::Acquire) {
            return;
        }
        match stream {
            Ok(stream) => {
                if let Err(e) = serve(&ctx, stream) {
                    tracing::debug!(error = %e, "metrics request failed");
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics accept failed");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// Unblock [`run`]'s accept once `shutting_down` is set.
pub fn wake(addr: SocketAddr) {
    let addr = match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => {
            SocketAddr::from(([127, 0, 0, 1], addr.port()))
        }
        ip if ip.is_unspecified() => SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, addr.port())),
        _ => addr,
    };
    let _ = TcpStream::connect_timeout(&addr, IO_TIMEOUT);
}

fn serve(ctx: &Ctx, mut stream: TcpStream) -> io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    let request = loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(buf.get(..n).unwrap_or_default());
        match http::parse(&head) {
            Ok(Parsed::Complete { request, .. }) => break request,
            Ok(Parsed::Partial) => continue,
            Err(e) => {
                let (status, reason) = e.status();
                return respond(
                    &mut stream,
                    &format!("{status} {reason}"),
                    "text/plain",
                    "bad request\n",
                    false,
                );
            }
        }
    };
    let head_only = request.method == Method::Head;
    if request.method == Method::Other {
        return respond(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            "GET only\n",
            head_only,
        );
    }
    // The query string does not matter (Prometheus adds none; checkers sometimes do).
    match http::route(&request.target) {
        Ok(Route::Metrics) => {
            let draining = ctx.draining.load(Ordering::Acquire);
            let body = ctx.metrics.encode(&ctx.registry.all(), draining);
            respond(&mut stream, "200 OK", CONTENT_TYPE, &body, head_only)
        }
        Ok(Route::Health) if ctx.draining.load(Ordering::Acquire) => respond(
            &mut stream,
            "503 Service Unavailable",
            "text/plain",
            "draining\n",
            head_only,
        ),
        Ok(Route::Health) => respond(&mut stream, "200 OK", "text/plain", "ok\n", head_only),
        _ => respond(
            &mut stream,
            "404 Not Found",
            "text/plain",
            "not found\n",
            head_only,
        ),
    }
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &str,
    head_only: bool,
) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    if !head_only {
        stream.write_all(body.as_bytes())?;
    }
    stream.flush()
}

//! The listener loop: TLS, HTTP/1.1, limits and graceful shutdown.
//!
//! [`serve`] takes an already bound listener and a shutdown future (so tests bind
//! `127.0.0.1:0` and stop the server when they are done). Each connection gets a TLS
//! handshake deadline, a header-read timeout and a bounded buffer; bodies are bounded by the
//! handler. A request runs to completion even if its client hangs up, so its action and its
//! audit line are never cut in half. On shutdown the listener closes, in-flight requests
//! finish, then `serve` returns. Building the TLS configuration from files is the binary's
//! job.
//!
//! Holding connections: at [`ServerOptions::max_connections`] new connections wait in the
//! listen backlog (the kernel's queue) until one closes. So that no client can hold slots by
//! itself: a connection that makes no progress writing a reply (or a TLS record) for
//! [`ServerOptions::write_timeout`] is closed — a client that sends requests but never reads
//! the replies; and one source (an IPv4 address or an IPv6 /64) may hold at most
//! [`ServerOptions::max_connections_per_source`] connections, a connection beyond it is
//! accepted and closed at once. Pipelined requests need no bound of their own: hyper serves
//! them one at a time and stops reading while a reply cannot be written, so what a client has
//! queued stays in the buffers bounded by `max_head_bytes`, and the write deadline ends the
//! connection.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_io_timeout::TimeoutStream;
use tokio_rustls::TlsAcceptor;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;

use crate::handler::{App, Unparsed};

pub mod long_target;
mod sources;
use sources::{SourceLimit, SourceSlot};

/// Transport settings.
#[derive(Clone)]
pub struct ServerOptions {
    /// TLS configuration; `None` serves plain HTTP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Time allowed for the TLS handshake.
    pub handshake_timeout: Duration,
    /// Time allowed to receive a request's headers, and to wait on an idle connection.
    pub header_timeout: Duration,
    /// Most bytes buffered for a request head by the transport. Set above the handler's own
    /// limit ([`crate::handler::MAX_HEAD_BYTES`], the default is twice it) so that a head over
    /// the limit is refused by the handler, in the API's format with a `RequestId`; only one
    /// over this gets the transport's bare 431.
    pub max_head_bytes: usize,
    /// How long shutdown waits for in-flight requests.
    pub drain_timeout: Duration,
    /// Most connections open at once; beyond it new connections wait in the listen backlog
    /// until one closes, so no client can exhaust the server's file descriptors.
    pub max_connections: usize,
    /// Most connections one source (an IPv4 address, an IPv6 /64) holds at once; one more is
    /// accepted and closed at once, so a single client cannot hold every slot.
    pub max_connections_per_source: usize,
    /// How long writing to a connection may make no progress before it is closed (a client
    /// that does not read its replies).
    pub write_timeout: Duration,
}

/// [`ServerOptions::max_connections`] unless set.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// [`ServerOptions::max_connections_per_source`] unless set.
pub const DEFAULT_MAX_CONNECTIONS_PER_SOURCE: usize = 256;

impl std::fmt::Debug for ServerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerOptions")
            .field("tls", &self.tls.is_some())
            .field("header_timeout", &self.header_timeout)
            .finish_non_exhaustive()
    }
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            tls: None,
            handshake_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(30),
            max_head_bytes: 2 * crate::handler::MAX_HEAD_BYTES,
            drain_timeout: Duration::from_secs(10),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_source: DEFAULT_MAX_CONNECTIONS_PER_SOURCE,
            write_timeout: Duration::from_secs(30),
        }
    }
}

/// What [`serve`] hands each request to: the API's [`App`], or another front end on a
/// listener of its own (the web console) that wants the same transport and limits.
pub trait Handler: Send + Sync + 'static {
    /// Answers one request from `peer` (the client's address, when known).
    fn handle(
        &self,
        req: Request<Incoming>,
        peer: Option<SocketAddr>,
    ) -> impl Future<Output = Response<Full<Bytes>>> + Send;

    /// Records bytes the transport could not read as a request (it answered them itself).
    fn record_unparsed(
        &self,
        peer: Option<SocketAddr>,
        why: Unparsed,
    ) -> impl Future<Output = ()> + Send;
}

impl Handler for App {
    fn handle(
        &self,
        req: Request<Incoming>,
        peer: Option<SocketAddr>,
    ) -> impl Future<Output = Response<Full<Bytes>>> + Send {
        App::handle(self, req, peer)
    }

    fn record_unparsed(
        &self,
        peer: Option<SocketAddr>,
        why: Unparsed,
    ) -> impl Future<Output = ()> + Send {
        App::record_unparsed(self, peer, why)
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then drains connections.
pub async fn serve<H: Handler>(
    listener: TcpListener,
    app: Arc<H>,
    options: ServerOptions,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let acceptor = options.tls.clone().map(TlsAcceptor::from);
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let sources = SourceLimit::new(options.max_connections_per_source);
    tokio::pin!(shutdown);
    loop {
        // A free slot first: at the cap, new connections wait in the backlog.
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => match sources.admit(peer.ip()) {
                    Some(source) => {
                        let open = OpenConnection::count(slot, source);
                        spawn_connection(stream, peer, open, acceptor.clone(), app.clone(), &options, &graceful);
                    }
                    None => refuse_over_source_limit(stream, peer),
                },
                Err(e) => accept_error(e).await,
            },
        }
    }
    drop(listener);
    if tokio::time::timeout(options.drain_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("shutdown: connections still open after the drain timeout");
    }
    Ok(())
}

/// An open connection: holds one of the [`ServerOptions::max_connections`] slots and one of
/// its source's, and counts in the `openkms_open_connections` gauge while it lives.
struct OpenConnection {
    _slot: OwnedSemaphorePermit,
    _source: SourceSlot,
}

impl OpenConnection {
    fn count(slot: OwnedSemaphorePermit, source: SourceSlot) -> Self {
        metrics::gauge!("openkms_open_connections").increment(1.0);
        metrics::counter!("openkms_connections_total").increment(1);
        Self {
            _slot: slot,
            _source: source,
        }
    }
}

/// Closes a connection from a source that holds its most (dropping it, which frees the slot
/// it was given), counted in `openkms_connections_refused_total`.
fn refuse_over_source_limit(stream: TcpStream, peer: SocketAddr) {
    metrics::counter!("openkms_connections_refused_total").increment(1);
    tracing::debug!(%peer, "connection refused: its source holds the most connections");
    drop(stream);
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        metrics::gauge!("openkms_open_connections").decrement(1.0);
    }
}

fn spawn_connection<H: Handler>(
    stream: TcpStream,
    peer: SocketAddr,
    open: OpenConnection,
    acceptor: Option<TlsAcceptor>,
    app: Arc<H>,
    options: &ServerOptions,
    graceful: &GracefulShutdown,
) {
    let _ = stream.set_nodelay(true);
    let watcher = graceful.watcher();
    let options = options.clone();
    // Under TLS too: a handshake or record the client does not read counts as a stalled write.
    let mut stream = TimeoutStream::new(stream);
    stream.set_write_timeout(Some(options.write_timeout));
    let stream = Box::pin(stream);
    tokio::spawn(async move {
        let _open = open;
        match acceptor {
            None => serve_connection(stream, peer, app, &options, watcher).await,
            Some(acceptor) => {
                let handshake =
                    tokio::time::timeout(options.handshake_timeout, acceptor.accept(stream));
                match handshake.await {
                    Ok(Ok(tls)) => serve_connection(tls, peer, app, &options, watcher).await,
                    Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                    Err(_) => tracing::debug!("TLS handshake timed out"),
                }
            }
        }
    });
}

async fn serve_connection<S, H: Handler>(
    stream: S,
    peer: SocketAddr,
    app: Arc<H>,
    options: &ServerOptions,
    watcher: hyper_util::server::graceful::Watcher,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let handler = app.clone();
    let service = service_fn(move |req| {
        let app = handler.clone();
        async move { Ok::<_, std::convert::Infallible>(app.handle(req, Some(peer)).await) }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout)
        .max_buf_size(options.max_head_bytes)
        // A client closing its side mid-request does not cancel the handler: the action and
        // its audit line always complete (the reply then just cannot be delivered).
        .half_close(true)
        .keep_alive(true);
    let stream = long_target::LongTarget::new(stream, options.max_head_bytes);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    if let Err(e) = watcher.watch(conn).await {
        tracing::debug!(error = %e, "connection ended with an error");
        if let Some(why) = unparsed(&e) {
            app.record_unparsed(Some(peer), why).await;
        }
    }
}

/// Whether a connection's error is bytes hyper could not read as a request (which it answered
/// 400 or 431 itself).
fn unparsed(e: &hyper::Error) -> Option<Unparsed> {
    match (e.is_parse_too_large(), e.is_parse()) {
        (true, _) => Some(Unparsed::TooLarge),
        (false, true) => Some(Unparsed::Malformed),
        (false, false) => None,
    }
}

/// Accept errors (for example too many open files) are transient: log and back off briefly.
async fn accept_error(e: std::io::Error) {
    tracing::warn!(error = %e, "accept failed");
    tokio::time::sleep(Duration::from_millis(50)).await;
}

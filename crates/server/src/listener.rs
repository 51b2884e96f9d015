//! Accepting connections: TCP_NODELAY, HTTP/1.1 (optionally over TLS), a cap on open
//! connections, graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;

use crate::body::ResponseBody;
use crate::limits::Limits;

/// How long in-flight requests may run after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a client may take to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the server knows of the connection a request came on.
#[derive(Clone, Copy, Debug)]
pub struct Connection {
    pub peer: SocketAddr,
    /// `1.2` or `1.3` over TLS; `None` over plain HTTP.
    pub tls_version: Option<&'static str>,
}

/// How often at most the server warns that it closes connections past the cap.
const CAP_WARNING_INTERVAL: Duration = Duration::from_secs(10);

/// Serves HTTP/1.1 (over TLS when `tls` is given) on `listener` until SIGINT
/// or SIGTERM, then lets in-flight requests finish (bounded by [`DRAIN_TIMEOUT`]).
///
/// At most `limits.max_connections` connections are open at once. Past the cap a new
/// connection is accepted and closed at once rather than left in the listen backlog:
/// the client learns immediately (SDKs retry a closed connection with backoff) instead
/// of waiting out its connect timeout, and the backlog never fills with connections
/// the server will not serve for a long time.
pub async fn serve<H, F>(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    limits: Limits,
    handler: Arc<H>,
) -> std::io::Result<()>
where
    H: Fn(Request<Incoming>, Connection) -> F + Send + Sync + 'static,
    F: Future<Output = Response<ResponseBody>> + Send + 'static,
{
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let mut last_cap_warning: Option<Instant> = None;
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(pair) => pair,
                    Err(err) => {
                        tracing::warn!(%err, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(permit) = connections.clone().try_acquire_owned() else {
                    drop(stream);
                    if last_cap_warning.is_none_or(|t| t.elapsed() >= CAP_WARNING_INTERVAL) {
                        last_cap_warning = Some(Instant::now());
                        tracing::warn!(max_connections = limits.max_connections, %peer, "connection cap reached: closing new connections");
                    }
                    continue;
                };
                // Small responses must not wait for Nagle + delayed ACK (~40 ms stalls).
                if let Err(err) = stream.set_nodelay(true) {
                    tracing::debug!(%err, "set_nodelay failed");
                }
                match &tls {
                    None => {
                        let connection = Connection { peer, tls_version: None };
                        serve_connection(graceful.watcher(), TokioIo::new(stream), connection, (limits, permit), handler.clone());
                    }
                    Some(acceptor) => {
                        // The watcher is taken now, so a shutdown waits for handshakes in progress too.
                        let (acceptor, watcher, handler) = (acceptor.clone(), graceful.watcher(), handler.clone());
                        tokio::spawn(async move {
                            let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                                Ok(Ok(s)) => s,
                                Ok(Err(err)) => {
                                    tracing::debug!(%err, %peer, "TLS handshake failed");
                                    return;
                                }
                                Err(_) => {
                                    tracing::debug!(%peer, "TLS handshake timed out");
                                    return;
                                }
                            };
                            let tls_version = stream
                                .get_ref()
                                .1
                                .protocol_version()
                                .and_then(crate::tls::version_label);
                            let connection = Connection { peer, tls_version };
                            serve_connection(watcher, TokioIo::new(stream), connection, (limits, permit), handler);
                        });
                    }
                }
            }
            _ = &mut shutdown => {
                tracing::info!("shutting down: draining in-flight requests");
                break;
            }
        }
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => tracing::info!("all connections closed"),
        _ = tokio::time::sleep(DRAIN_TIMEOUT) => tracing::warn!("drain timeout; closing remaining connections"),
    }
    Ok(())
}

/// Serves HTTP/1.1 on one accepted (and, over TLS, handshaken) connection, holding
/// its connection permit until it ends.
fn serve_connection<IO, H, F>(
    watcher: hyper_util::server::graceful::Watcher,
    io: TokioIo<IO>,
    connection: Connection,
    (limits, permit): (Limits, OwnedSemaphorePermit),
    handler: Arc<H>,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    H: Fn(Request<Incoming>, Connection) -> F + Send + Sync + 'static,
    F: Future<Output = Response<ResponseBody>> + Send + 'static,
{
    let service = service_fn(move |req: Request<Incoming>| {
        let fut = handler(req, connection);
        async move { Ok::<_, Infallible>(fut.await) }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        // Also bounds an idle keep-alive connection: hyper starts this timer as soon as
        // the connection waits for its next request.
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(1 << 20)
        .serve_connection(io, service);
    let conn = watcher.watch(conn);
    let peer = connection.peer;
    tokio::spawn(async move {
        if let Err(err) = conn.await {
            tracing::debug!(%err, %peer, "connection ended with an error");
        }
        drop(permit);
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

//! Accepting connections: one loop per listening address, a cap on open connections, hyper's header-read
//! timeout (which needs a timer to work at all), TLS handshakes for HTTPS listeners, and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

use super::body::Body;
use super::http::{Conn, State};
use crate::access::CertIdentity;

/// Connection limits and timeouts.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time to read a request's headers; also how long a kept-alive connection may wait for its next
    /// request (hyper starts this timer whenever it waits for a request head).
    pub header_timeout: Duration,
    /// Connections open at once; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// Largest request head (request line and headers), in bytes.
    pub max_header_bytes: usize,
}

/// A socket for `addr` as every pjprov listener wants it (TCP here, UDP for TFTP): address reuse, and
/// IPv6 sockets that take IPv6 only, so `0.0.0.0` and `[::]` can both be listened on.
pub fn socket(addr: SocketAddr, kind: socket2::Type) -> std::io::Result<socket2::Socket> {
    let socket = socket2::Socket::new(socket2::Domain::for_address(addr), kind, None)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    Ok(socket)
}

/// Binds `addr` for HTTP.
pub fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = socket(addr, socket2::Type::STREAM)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    TcpListener::from_std(socket.into())
}

/// Serves `listener` with `handler` until `shutdown` turns true, then lets open connections finish (up to
/// `grace`). One accept loop per core shares the listener, so accepting keeps up with a boot storm of short
/// connections.
pub async fn serve<H, F>(
    listener: TcpListener,
    state: Arc<State>,
    handler: H,
    limits: Limits,
    shutdown: watch::Receiver<bool>,
    grace: Duration,
    tls: bool,
) where
    H: Fn(Arc<State>, Conn, hyper::Request<hyper::body::Incoming>) -> F
        + Clone
        + Send
        + Sync
        + 'static,
    F: Future<Output = Result<hyper::Response<Body>, std::convert::Infallible>> + Send + 'static,
{
    let shared = Arc::new(Shared {
        listener,
        graceful: GracefulShutdown::new(),
        permits: Arc::new(Semaphore::new(limits.max_connections)),
        tls,
    });
    let loops = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut acceptors = Vec::with_capacity(loops);
    for _ in 0..loops {
        acceptors.push(tokio::spawn(accept_loop(
            shared.clone(),
            state.clone(),
            handler.clone(),
            limits,
            shutdown.clone(),
        )));
    }
    for acceptor in acceptors {
        let _ = acceptor.await;
    }
    if let Ok(shared) = Arc::try_unwrap(shared) {
        drop(shared.listener);
        drain(shared.graceful.shutdown(), grace).await;
    }
}

/// What the accept loops of one listener share.
struct Shared {
    listener: TcpListener,
    graceful: GracefulShutdown,
    permits: Arc<Semaphore>,
    tls: bool,
}

async fn accept_loop<H, F>(
    shared: Arc<Shared>,
    state: Arc<State>,
    handler: H,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
) where
    H: Fn(Arc<State>, Conn, hyper::Request<hyper::body::Incoming>) -> F
        + Clone
        + Send
        + Sync
        + 'static,
    F: Future<Output = Result<hyper::Response<Body>, std::convert::Infallible>> + Send + 'static,
{
    let local = shared.listener.local_addr().ok();
    let tls = shared.tls;
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true)
        .max_buf_size(limits.max_header_bytes.max(8192));
    loop {
        let permit = tokio::select! {
            permit = shared.permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            _ = shutdown.changed() => break,
        };
        let accepted = tokio::select! {
            accepted = shared.listener.accept() => accepted,
            _ = shutdown.changed() => break,
        };
        let (tcp, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // EMFILE and friends: wait a little instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let conn = Conn {
            local: tcp.local_addr().unwrap_or_else(|_| local.unwrap_or(peer)),
            peer,
            tls,
            cert: None,
        };
        state.metrics.connection_opened();
        let state = state.clone();
        let handler = handler.clone();
        let shared = shared.clone();
        let http = http.clone();
        tokio::spawn(async move {
            let service = |conn: Conn| {
                let state = state.clone();
                let handler = handler.clone();
                service_fn(move |req| handler(state.clone(), conn.clone(), req))
            };
            let result = if tls {
                match handshake(&state, tcp, limits.header_timeout).await {
                    Some((stream, cert)) => {
                        let conn = Conn { cert, ..conn };
                        shared
                            .graceful
                            .watch(http.serve_connection(TokioIo::new(stream), service(conn)))
                            .await
                    }
                    None => Ok(()),
                }
            } else {
                shared
                    .graceful
                    .watch(http.serve_connection(TokioIo::new(tcp), service(conn)))
                    .await
            };
            if let Err(e) = result {
                tracing::debug!(client = %peer, error = %e, "connection closed with an error");
            }
            state.metrics.connection_closed();
            drop(permit);
        });
    }
}

/// The TLS handshake, within `timeout`; the verified client certificate's identity, if one was presented.
async fn handshake(
    state: &State,
    tcp: TcpStream,
    timeout: Duration,
) -> Option<(
    tokio_rustls::server::TlsStream<TcpStream>,
    Option<Arc<CertIdentity>>,
)> {
    let peer = tcp.peer_addr().ok();
    let Some(config) = state.tls.load_full() else {
        tracing::warn!(client = ?peer, "HTTPS connection closed: no usable certificate is loaded");
        return None;
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    match tokio::time::timeout(timeout, acceptor.accept(tcp)).await {
        Ok(Ok(stream)) => {
            let cert = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .map(|der| Arc::new(CertIdentity::from_der(der)));
            Some((stream, cert))
        }
        Ok(Err(e)) => {
            tracing::info!(client = ?peer, error = %e, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!(client = ?peer, "TLS handshake timed out");
            None
        }
    }
}

async fn drain(all_closed: impl Future<Output = ()>, grace: Duration) {
    if tokio::time::timeout(grace, all_closed).await.is_err() {
        tracing::warn!("connections still open after {grace:?}; closing them");
    }
}

//! Accepting connections: one loop per core on each listening address, a cap on open connections (global
//! and per client), the network ACL at accept time (before a TLS handshake or a request is read), hyper's
//! header-read timeout (which needs a timer to work at all), a send timeout with a minimum rate, TLS
//! handshakes for HTTPS listeners, and graceful shutdown: on stop, no new connection is accepted and those
//! open may finish their responses within the grace period.

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
use super::paced::{Pace, Paced};
use crate::access::{Access, CertIdentity, Refusal};

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

/// Who a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Phones: the ACL and the per-client cap apply.
    Phones,
    /// The admin interface (its own rules, in its handler).
    Admin,
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

/// Binds `addr` for HTTP. Responses go out as soon as they are written (`TCP_NODELAY`): on Linux the
/// connections it accepts inherit that from the listening socket, so no connection needs a system call
/// for it.
pub fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = socket(addr, socket2::Type::STREAM)?;
    socket.set_nonblocking(true)?;
    socket.set_tcp_nodelay(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    TcpListener::from_std(socket.into())
}

/// How a listener is served.
pub struct Serving<H> {
    pub state: Arc<State>,
    pub handler: H,
    pub limits: Limits,
    pub tls: bool,
    pub audience: Audience,
    /// Turns true when the listener must stop accepting.
    pub stop: watch::Receiver<bool>,
    /// How long open connections may take to finish once stopped.
    pub grace: Duration,
}

/// Serves `listener` until `serving.stop` turns true, then lets open connections finish (up to the grace
/// period). One accept loop per core shares the listener, so accepting keeps up with a boot storm of
/// short connections.
pub async fn serve<H, F>(listener: TcpListener, serving: Serving<H>)
where
    H: Fn(Arc<State>, Conn, hyper::Request<hyper::body::Incoming>) -> F
        + Clone
        + Send
        + Sync
        + 'static,
    F: Future<Output = Result<hyper::Response<Body>, std::convert::Infallible>> + Send + 'static,
{
    let graceful = Arc::new(GracefulShutdown::new());
    let shared = Arc::new(Shared {
        listener,
        permits: Arc::new(Semaphore::new(serving.limits.max_connections)),
        tls: serving.tls,
        audience: serving.audience,
    });
    let loops = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut acceptors = Vec::with_capacity(loops);
    for _ in 0..loops {
        acceptors.push(tokio::spawn(accept_loop(
            shared.clone(),
            graceful.clone(),
            serving.state.clone(),
            serving.handler.clone(),
            serving.limits,
            serving.stop.clone(),
        )));
    }
    for acceptor in acceptors {
        let _ = acceptor.await;
    }
    // No more accepting: close the listening socket, then let the open connections finish.
    drop(shared);
    match Arc::try_unwrap(graceful) {
        Ok(graceful) => drain(graceful.shutdown(), serving.grace).await,
        Err(_) => tracing::error!("connections could not be drained"),
    }
}

/// What the accept loops of one listener share.
struct Shared {
    listener: TcpListener,
    permits: Arc<Semaphore>,
    tls: bool,
    audience: Audience,
}

async fn accept_loop<H, F>(
    shared: Arc<Shared>,
    graceful: Arc<GracefulShutdown>,
    state: Arc<State>,
    handler: H,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) where
    H: Fn(Arc<State>, Conn, hyper::Request<hyper::body::Incoming>) -> F
        + Clone
        + Send
        + Sync
        + 'static,
    F: Future<Output = Result<hyper::Response<Body>, std::convert::Infallible>> + Send + 'static,
{
    if *stop.borrow() {
        return;
    }
    let local = shared.listener.local_addr().ok();
    // A listener on one address accepts connections to that address alone: only a wildcard one needs to
    // ask each connection which address it came to.
    let fixed_local = local.filter(|addr| !addr.ip().is_unspecified());
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
            _ = stop.changed() => break,
        };
        let accepted = tokio::select! {
            accepted = shared.listener.accept() => accepted,
            _ = stop.changed() => break,
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
        // Filter before any work: the ACL and the per-client cap, on the snapshot of this moment.
        let snapshot = state.snapshot.load_full();
        let settings = snapshot.settings();
        let mut slot = None;
        if shared.audience == Audience::Phones {
            let client = super::http::normalize(peer.ip());
            if !Access::admit(settings, client) {
                state.metrics.refused(Refusal::Acl);
                state.hush.log(client, "acl", || {
                    tracing::warn!(target: crate::access::SECURITY, client = %client,
                        "refused by [acl] (at connect, before TLS or HTTP; logged once a minute per client)");
                });
                tokio::spawn(turn_away(tcp, tls));
                continue;
            }
            let cap = &settings.limits;
            if !cap.exempt.matches(client) {
                let key = crate::access::client_key(client, cap);
                match state.clients.acquire(key, cap.client_connections) {
                    Some(taken) => slot = Some(taken),
                    None => {
                        state.metrics.connection_refused_per_client();
                        state.hush.log(client, "connections", || {
                            tracing::warn!(target: crate::access::SECURITY, client = %client,
                                limit = cap.client_connections,
                                "connection refused: this client already holds [limits] client_connections connections");
                        });
                        drop(tcp);
                        continue;
                    }
                }
            }
        }
        let pace = Pace {
            window: settings.limits.send_timeout,
            min_bytes: usize::try_from(
                settings
                    .limits
                    .min_send_rate
                    .saturating_mul(settings.limits.send_timeout.as_secs()),
            )
            .unwrap_or(usize::MAX),
        };
        let admitted = Arc::as_ptr(&snapshot) as usize;
        drop(snapshot);
        #[cfg(not(target_os = "linux"))]
        let _ = tcp.set_nodelay(true);
        let conn = Conn {
            local: match fixed_local {
                Some(addr) => addr,
                None => tcp.local_addr().unwrap_or_else(|_| local.unwrap_or(peer)),
            },
            peer,
            tls,
            cert: None,
            admitted,
        };
        state.metrics.connection_opened();
        let state = state.clone();
        let handler = handler.clone();
        let watcher = graceful.watcher();
        let http = http.clone();
        tokio::spawn(async move {
            let service = |conn: Conn| {
                let state = state.clone();
                let handler = handler.clone();
                service_fn(move |req| handler(state.clone(), conn.clone(), req))
            };
            let stream = Paced::new(tcp, pace);
            // The connection's state (hyper's, and rustls' over TLS) lives in a box of its own: the task
            // spawned for every new connection stays small (1.7 KB instead of 3.8), not the size of its
            // largest state.
            let result = if tls {
                match Box::pin(handshake(&state, stream, limits.header_timeout)).await {
                    Some((stream, cert)) => {
                        let conn = Conn { cert, ..conn };
                        Box::pin(
                            watcher
                                .watch(http.serve_connection(TokioIo::new(stream), service(conn))),
                        )
                        .await
                    }
                    None => Ok(()),
                }
            } else {
                Box::pin(watcher.watch(http.serve_connection(TokioIo::new(stream), service(conn))))
                    .await
            };
            if let Err(e) = result {
                tracing::debug!(client = %peer, error = %e, "connection closed with an error");
            }
            state.metrics.connection_closed();
            drop(slot);
            drop(permit);
        });
    }
}

/// The TLS handshake, within `timeout`; the verified client certificate's identity, if one was presented.
async fn handshake(
    state: &State,
    tcp: Paced<TcpStream>,
    timeout: Duration,
) -> Option<(
    tokio_rustls::server::TlsStream<Paced<TcpStream>>,
    Option<Arc<CertIdentity>>,
)> {
    let peer = tcp.get_ref().peer_addr().ok();
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

/// Closes a connection the ACL refuses, reading nothing of it: over plain HTTP a fixed 403 goes out first (so
/// an admin's `curl` says why), over TLS the connection is just closed, before any handshake.
async fn turn_away(mut tcp: TcpStream, tls: bool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const FORBIDDEN: &[u8] =
        b"HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain; charset=utf-8\r\n\
        content-length: 14\r\nconnection: close\r\n\r\n403 Forbidden\n";
    if !tls {
        let _ = tokio::time::timeout(Duration::from_secs(1), tcp.write_all(FORBIDDEN)).await;
        let _ = tcp.shutdown().await;
        // Closing with the request unread would reset the connection and lose the answer: discard a little
        // of it, briefly.
        let mut sink = [0u8; 4096];
        let _ = tokio::time::timeout(Duration::from_millis(500), async {
            let mut total = 0;
            while total < 16 * 1024 {
                match tcp.read(&mut sink).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => total += n,
                }
            }
        })
        .await;
    }
}

async fn drain(all_closed: impl Future<Output = ()>, grace: Duration) {
    if tokio::time::timeout(grace, all_closed).await.is_err() {
        tracing::warn!("connections still open after {grace:?}; closing them");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the accept loop relies on when it sets nothing on the connection itself.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn accepted_connections_send_without_delay() {
        let listener = bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let _client = std::net::TcpStream::connect(addr).unwrap();
        let (accepted, _) = listener.accept().await.unwrap();
        assert!(accepted.nodelay().unwrap(), "inherited from the listener");
    }
}

//! TFTP (RFC 1350, with blksize, tsize, timeout and windowsize options): the same routes as HTTP, from the
//! same snapshot, for phones that only speak TFTP.
//!
//! The protocol is async-tftp's; this module is its [`Handler`]: a read request's file name becomes a
//! route name (`0004f2aabbcc.cfg`, `/0004f2aabbcc.cfg` and `phoneprov/0004f2aabbcc.cfg` are one file), the
//! request goes through the same access checks as HTTP (ACL, scan throttle, `[tftp] profiles`), and the
//! answer is a rendered body from memory or a static file streamed from disk. Write requests are refused
//! (Polycom phones upload logs this way; they carry on), logged once per client.
//!
//! async-tftp runs its transfers on its own executor inside the task [`serve`] spawns on tokio, and its
//! `log` records reach tracing through tracing-subscriber's log bridge.
//!
//! UDP lets anyone send a request with someone else's address, and a transfer lives until the client stops
//! acknowledging. So every transfer is bounded: the client's `timeout` option is not honoured (the server's
//! 2 s applies), a block is sent at most 4 more times (a silent client holds a slot about 10 s, and a
//! spoofed 15-byte request draws at most 5 blocks: the amplification is bounded), a whole transfer lives at
//! most `[tftp] transfer_lifetime`, one client address has at most `[tftp] client_transfers` running, and
//! static files are streamed through a 64 KiB buffer, never held whole in memory.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_tftp::packet;
use async_tftp::server::{Handler, TftpServerBuilder};
use futures_lite::AsyncRead;
use lru::LruCache;
use pjprov_core::{Route, Snapshot, Target};
use tokio::sync::watch;

use super::http::{State, normalize};
use crate::access::{self, Access, Asked, Decision, HttpFacts, Protocol};

/// Retransmissions of a block before a transfer is given up.
const MAX_RETRIES: u32 = 4;
/// How long the server waits for an acknowledgement.
const ACK_TIMEOUT: Duration = Duration::from_secs(2);
/// The buffer a static file is streamed through.
const FILE_BUFFER: usize = 64 * 1024;

/// A transfer's data: a rendered body, or a static file read on the blocking pool.
type Reader = Box<dyn AsyncRead + Unpin + Send>;

/// An opened transfer (the reader and the size for `tsize`), or the error packet to send.
type Opened = Result<(Reader, Option<u64>), packet::Error>;

/// Binds a TFTP socket.
pub fn bind(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    let socket = super::listen::socket(addr, socket2::Type::DGRAM)?;
    // A boot storm sends requests in bursts: a larger receive buffer drops fewer of them (the kernel caps
    // it at net.core.rmem_max).
    let _ = socket.set_recv_buffer_size(4 << 20);
    socket.bind(&addr.into())?;
    Ok(socket.into())
}

/// Serves TFTP on `socket` until `shutdown` turns true. At most `max_transfers` transfers run at once.
pub async fn serve(
    socket: UdpSocket,
    state: Arc<State>,
    max_transfers: usize,
    mut shutdown: watch::Receiver<bool>,
) {
    let bound = match socket.local_addr() {
        Ok(addr) => addr,
        Err(e) => {
            tracing::error!(error = %e, "TFTP socket has no address");
            return;
        }
    };
    let handler = Files {
        state,
        bound,
        active: Arc::new(AtomicUsize::new(0)),
        per_client: Arc::new(Mutex::new(rustc_hash::FxHashMap::default())),
        max_transfers,
        uploads_logged: Mutex::new(LruCache::new(
            NonZeroUsize::new(1024).unwrap_or(NonZeroUsize::MIN),
        )),
    };
    let builder = match TftpServerBuilder::with_handler(handler).std_socket(socket) {
        Ok(builder) => builder,
        Err(e) => {
            tracing::error!(%bound, error = %e, "cannot serve TFTP");
            return;
        }
    };
    // Phones and firmware updaters ask for large blocks; 1428 keeps a block inside an Ethernet frame
    // (RFC 2348's advice), and windowsize lets fast clients send fewer ACKs.
    let server = match builder
        .block_size_limit(1428)
        .window_size_limit(16)
        .timeout(ACK_TIMEOUT)
        .ignore_client_timeout()
        .max_send_retries(MAX_RETRIES)
        .build()
        .await
    {
        Ok(server) => server,
        Err(e) => {
            tracing::error!(%bound, error = %e, "cannot serve TFTP");
            return;
        }
    };
    tokio::select! {
        result = server.serve() => {
            if let Err(e) = result {
                tracing::error!(%bound, error = %e, "TFTP server stopped");
            }
        }
        _ = shutdown.changed() => {}
    }
}

/// The handler: routes from the current snapshot.
struct Files {
    state: Arc<State>,
    bound: SocketAddr,
    active: Arc<AtomicUsize>,
    /// Transfers running per client address.
    per_client: Arc<Mutex<rustc_hash::FxHashMap<IpAddr, u32>>>,
    max_transfers: usize,
    uploads_logged: Mutex<LruCache<IpAddr, ()>>,
}

impl Handler for Files {
    type Reader = Reader;
    type Writer = futures_lite::io::Sink;

    async fn read_req_open(&mut self, client: &SocketAddr, path: &Path) -> Opened {
        let started = std::time::Instant::now();
        let snapshot = self.state.snapshot.load_full();
        let mut seen = None;
        let mut lobby = false;
        let (result, audit) = self.open(&snapshot, *client, path, &mut seen, &mut lobby);
        let status = match &result {
            Ok(_) => 200,
            Err(packet::Error::FileNotFound) => 404,
            Err(packet::Error::Msg(m)) if m.starts_with("server busy") => 503,
            Err(_) => 403,
        };
        self.state.metrics.tftp(status);
        if let Some((subject, uri, etag)) = &seen {
            let fetch = crate::inventory::Fetch {
                client: normalize(client.ip()),
                server: self.server_address(*client),
                port: self.bound.port(),
                host: None,
                user_agent: "",
                uri,
                etag: etag.as_deref(),
                status,
                protocol: "tftp",
            };
            match (lobby, audit) {
                // Issue #18: a lobby is no fetch of the phone's files.
                (true, Some(mac)) => {
                    let configured = matches!(
                        subject,
                        pjprov_core::Subject::Phone { .. }
                            | pjprov_core::Subject::PhoneShaped { phone: Some(_), .. }
                    );
                    self.state.inventory.lobby_served(mac, configured, fetch);
                }
                _ => self.state.inventory.record(*subject, fetch),
            }
        }
        if let Some(mac) = audit
            && !lobby
        {
            self.state
                .access
                .served(&snapshot, client.ip(), mac, status);
        }
        let mac_text = audit.map(|mac| mac.to_string());
        let name = path.to_string_lossy();
        crate::logging::request(&crate::logging::RequestLine {
            client: client.ip(),
            method: "RRQ",
            uri: &name,
            status,
            // The size sent, as far as it is known when the transfer starts.
            bytes: match &result {
                Ok((_, Some(size))) => *size,
                _ => 0,
            },
            micros: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            protocol: "tftp",
            user_agent: "",
            phone: mac_text
                .as_deref()
                .map(|mac| (mac, if lobby { "lobby" } else { "none" })),
        });
        result
    }

    async fn write_req_open(
        &mut self,
        client: &SocketAddr,
        path: &Path,
        _size: Option<u64>,
    ) -> Result<Self::Writer, packet::Error> {
        self.state.metrics.tftp(405);
        let first = self
            .uploads_logged
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .put(client.ip(), ())
            .is_none();
        if first {
            tracing::info!(client = %client.ip(), file = %path.display(),
                "TFTP write refused: pjprov only serves files (phones that upload logs carry on); logged once per client");
        }
        Err(packet::Error::PermissionDenied)
    }
}

impl Files {
    /// Opens `path` for `client`; also returns the MAC to audit, when the name concerns a phone.
    /// `seen` is set to what the request was about (for the inventory), with the entity tag of what went;
    /// `lobby` to whether the answer is the lobby (issue #18).
    fn open(
        &self,
        snapshot: &Snapshot,
        client: SocketAddr,
        path: &Path,
        seen: &mut Option<(pjprov_core::Subject, String, Option<String>)>,
        lobby: &mut bool,
    ) -> (Opened, Option<pjprov_core::Mac>) {
        // The network ACL before anything else.
        let ip = normalize(client.ip());
        if !Access::admit(snapshot.settings(), ip) {
            self.state.metrics.refused(access::Refusal::Acl);
            self.state.hush.log(ip, "tftp-acl", || {
                tracing::warn!(target: access::SECURITY, client = %ip, file = %path.display(),
                    "refused by [acl] (TFTP; logged once a minute per client)");
            });
            return (Err(packet::Error::PermissionDenied), None);
        }
        if !self.state.is_ready() {
            return (
                Err(packet::Error::Msg("server busy, try again".into())),
                None,
            );
        }
        let name = match route_name(path) {
            Ok(name) => name,
            Err(e) => {
                tracing::warn!(target: access::SECURITY, client = %client.ip(), file = %path.display(),
                    "TFTP name refused: it tries to leave the served files");
                return (Err(e), None);
            }
        };
        let route = snapshot.route(name);
        let asked = Asked {
            client: ip,
            name,
            subject: snapshot.subject(name, route),
            protocol: Protocol::Tftp,
            http: HttpFacts::default(),
        };
        let verdict = self.state.access.check(snapshot, &asked);
        *seen = Some((asked.subject, name.to_owned(), None));
        let mac = verdict.mac;
        match verdict.decision {
            Decision::Refuse { why, status, .. } => {
                self.state.metrics.refused(why);
                let error = if status == 429 {
                    packet::Error::Msg("too many unknown files asked for: try again later".into())
                } else {
                    packet::Error::PermissionDenied
                };
                return (Err(error), mac);
            }
            // TFTP carries no credentials: only the profiles [tftp] lists get this far.
            Decision::Challenge(_) | Decision::Proceed => {}
            // Issue #18: the lobby of the name's shape, whether a phone has the MAC or not.
            Decision::Lobby { .. } => *lobby = true,
        }
        let lobby_shape = match verdict.decision {
            Decision::Lobby { shape } => {
                self.state.metrics.lobby();
                match (shape, mac) {
                    (Some(shape), Some(mac)) => Some((shape, mac)),
                    _ => return (Err(packet::Error::FileNotFound), mac),
                }
            }
            _ => None,
        };
        if lobby_shape.is_none() && route.is_none() {
            return (Err(packet::Error::FileNotFound), mac);
        }
        if self.active.load(Ordering::Relaxed) >= self.max_transfers {
            self.state.hush.log(ip, "tftp-busy", || {
                tracing::warn!(client = %ip, "TFTP busy: too many transfers at once");
            });
            return (
                Err(packet::Error::Msg("server busy, try again".into())),
                mac,
            );
        }
        let Some(slot) = ClientTransfer::take(
            &self.per_client,
            access::client_key(ip, &snapshot.settings().limits),
            snapshot.settings().tftp.client_transfers,
        ) else {
            self.state.hush.log(ip, "tftp-client", || {
                tracing::warn!(target: access::SECURITY, client = %ip,
                    limit = snapshot.settings().tftp.client_transfers,
                    "TFTP busy for this client: it already has [tftp] client_transfers transfers running");
            });
            return (
                Err(packet::Error::Msg("server busy, try again".into())),
                mac,
            );
        };
        let deadline = std::time::Instant::now() + snapshot.settings().tftp.transfer_lifetime;
        let slots = Slots {
            _client: slot,
            deadline,
        };
        let mut etag = None;
        let opened = match (lobby_shape, route) {
            (Some((shape, mac)), _) => self.read_lobby(snapshot, shape, mac, client, slots),
            (None, Some(route)) => self.read(
                snapshot,
                route,
                route.wildcard_match(name),
                client,
                slots,
                &mut etag,
            ),
            (None, None) => Err(packet::Error::FileNotFound),
        };
        if let Some(seen) = seen {
            seen.2 = etag;
        }
        (opened, mac)
    }

    fn read(
        &self,
        snapshot: &Snapshot,
        route: &Route,
        matched: Option<&str>,
        client: SocketAddr,
        slots: Slots,
        etag: &mut Option<String>,
    ) -> Opened {
        let guard = Active::new(self.active.clone());
        match &route.target {
            Target::Static { relative, .. } => {
                let dir = snapshot.paths().phoneprov_dir();
                let path = pjprov_core::resolve_inside(&dir, relative)
                    .map_err(|_| packet::Error::FileNotFound)?;
                let file = std::fs::File::open(&path).map_err(|_| packet::Error::FileNotFound)?;
                let meta = file.metadata().map_err(|_| packet::Error::FileNotFound)?;
                if !meta.is_file() {
                    return Err(packet::Error::FileNotFound);
                }
                *etag = Some(super::http::static_etag(&meta));
                let reader = Guarded {
                    inner: blocking::Unblock::with_capacity(FILE_BUFFER, file),
                    _active: guard,
                    slots,
                };
                Ok((Box::new(reader), Some(meta.len())))
            }
            Target::Dynamic { .. } | Target::Shared { .. } => {
                let server = self.server_address(client);
                let request = pjprov_core::Request::new(
                    server,
                    pjprov_core::Scheme::Tftp,
                    self.bound.port(),
                    None,
                    "",
                    None,
                )
                .with_match(matched);
                match snapshot.render(route, request) {
                    Ok(rendered) => {
                        *etag = Some(rendered.etag_str().to_owned());
                        let len = rendered.body.len() as u64;
                        let reader = Guarded {
                            inner: futures_lite::io::Cursor::new(rendered.body),
                            _active: guard,
                            slots,
                        };
                        Ok((Box::new(reader), Some(len)))
                    }
                    Err(failure) => {
                        tracing::error!(uri = %route.uri, error = %failure, "cannot render for TFTP");
                        Err(packet::Error::FileNotFound)
                    }
                }
            }
        }
    }

    /// The lobby of `shape` for `mac` (issue #18), as HTTP serves it: no entity tag.
    fn read_lobby(
        &self,
        snapshot: &Snapshot,
        shape: pjprov_core::ShapeId,
        mac: pjprov_core::Mac,
        client: SocketAddr,
        slots: Slots,
    ) -> Opened {
        let guard = Active::new(self.active.clone());
        let request = pjprov_core::Request::new(
            self.server_address(client),
            pjprov_core::Scheme::Tftp,
            self.bound.port(),
            None,
            "",
            None,
        );
        match snapshot.lobby(shape, mac, request) {
            None => Err(packet::Error::FileNotFound),
            Some(Ok(lobby)) => {
                let len = lobby.body.len() as u64;
                let reader = Guarded {
                    inner: futures_lite::io::Cursor::new(lobby.body),
                    _active: guard,
                    slots,
                };
                Ok((Box::new(reader), Some(len)))
            }
            Some(Err(failure)) => {
                tracing::error!(error = %failure, "cannot render the lobby for TFTP");
                Err(packet::Error::FileNotFound)
            }
        }
    }

    /// `SERVER`: the address the phone sent its request to. A socket bound to one address knows it; on a
    /// wildcard address it is the address this host uses to reach the phone (the same, unless routing is
    /// asymmetric; listen on a specific address to pin it).
    fn server_address(&self, client: SocketAddr) -> IpAddr {
        if !self.bound.ip().is_unspecified() {
            return normalize(self.bound.ip());
        }
        let probe = SocketAddr::new(self.bound.ip(), 0);
        UdpSocket::bind(probe)
            .and_then(|socket| {
                socket.connect(client)?;
                socket.local_addr()
            })
            .map_or(self.bound.ip(), |local| normalize(local.ip()))
    }
}

/// The route name a TFTP file name means: a leading `/` and one `phoneprov/` are optional. Names that try
/// to climb out (`..`), use backslashes or NUL are refused outright (they could never match a route, but a
/// scanner should get no "not found" to learn from).
pub(super) fn route_name(path: &Path) -> Result<&str, packet::Error> {
    let text = path.to_str().ok_or(packet::Error::FileNotFound)?;
    if text.contains(['\\', '\0']) || text.split('/').any(|part| part == "..") {
        return Err(packet::Error::PermissionDenied);
    }
    let text = text.trim_start_matches('/');
    let stripped = text
        .get(..10)
        .filter(|head| head.eq_ignore_ascii_case("phoneprov/"))
        .map_or(text, |_| &text[10..]);
    Ok(stripped)
}

/// Counts a transfer while its reader lives.
struct Active(Arc<AtomicUsize>);

impl Active {
    fn new(count: Arc<AtomicUsize>) -> Active {
        count.fetch_add(1, Ordering::Relaxed);
        Active(count)
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A transfer's place among its client's, freed when the transfer ends.
struct ClientTransfer {
    running: Arc<Mutex<rustc_hash::FxHashMap<IpAddr, u32>>>,
    key: IpAddr,
}

impl ClientTransfer {
    fn take(
        running: &Arc<Mutex<rustc_hash::FxHashMap<IpAddr, u32>>>,
        key: IpAddr,
        cap: u32,
    ) -> Option<ClientTransfer> {
        let mut map = running.lock().unwrap_or_else(|e| e.into_inner());
        let count = map.entry(key).or_insert(0);
        if *count >= cap {
            return None;
        }
        *count += 1;
        Some(ClientTransfer {
            running: running.clone(),
            key,
        })
    }
}

impl Drop for ClientTransfer {
    fn drop(&mut self) {
        let mut map = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = map.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                map.remove(&self.key);
            }
        }
    }
}

/// What a transfer holds while it runs: its client's place, and when it must be over.
struct Slots {
    _client: ClientTransfer,
    deadline: std::time::Instant,
}

/// A reader that holds a transfer slot, and ends the transfer once its lifetime is over.
struct Guarded<R> {
    inner: R,
    _active: Active,
    slots: Slots,
}

impl<R: AsyncRead + Unpin> AsyncRead for Guarded<R> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut [u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if std::time::Instant::now() >= self.slots.deadline {
            return std::task::Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the transfer took longer than [tftp] transfer_lifetime",
            )));
        }
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for (raw, want) in [
            ("0004f2aabbcc.cfg", "0004f2aabbcc.cfg"),
            ("/0004f2aabbcc.cfg", "0004f2aabbcc.cfg"),
            ("phoneprov/0004f2aabbcc.cfg", "0004f2aabbcc.cfg"),
            ("/PhoneProv/0004f2aabbcc.cfg", "0004f2aabbcc.cfg"),
            ("firmware/sip.ld", "firmware/sip.ld"),
        ] {
            assert_eq!(route_name(Path::new(raw)).unwrap(), want, "{raw}");
        }
        for bad in ["../etc/passwd", "/phoneprov/../../x", "a\\..\\b", "x/../y"] {
            assert!(
                matches!(
                    route_name(Path::new(bad)),
                    Err(packet::Error::PermissionDenied)
                ),
                "{bad}"
            );
        }
    }
}

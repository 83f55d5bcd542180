//! Answering one HTTP request from the current snapshot (DESIGN.md §3).
//!
//! `handle` is a plain async function over plain types, so tests can call it without a socket. It loads the
//! snapshot once, so a request sees one configuration from start to end even when a reload swaps it.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use arc_swap::{ArcSwap, ArcSwapOption};
use bytes::Bytes;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use pjprov_core::{Mac, Route, Snapshot, Target};
use tokio::io::AsyncSeekExt;

use super::body::Body;
use super::clients::ClientSlots;
use super::conditional::{self, Range};
use super::hush::Hush;
use super::metrics::Metrics;
use crate::access::{Access, Asked, CertIdentity, Decision, HttpFacts, Proof, Protocol, Refusal};
use crate::inventory::{Fetch, Inventory};
use pjprov_core::Subject;

/// What every request needs: the snapshot being served, the access state and the counters.
#[derive(Debug)]
pub struct State {
    pub snapshot: ArcSwap<Snapshot>,
    pub metrics: Metrics,
    /// `--prefix`: wins over pjprov.conf's `prefix` (Asterisk's http.conf `prefix`: routes live under
    /// `/<prefix>/phoneprov/`).
    pub prefix: Option<String>,
    /// Whether a usable configuration has been loaded (for `/healthz`).
    pub ready: std::sync::atomic::AtomicBool,
    /// Throttle counters and the Digest nonce key: they outlive reloads.
    pub access: Access,
    /// The HTTPS configuration, replaced at each reload; `None` until a certificate loads.
    pub tls: ArcSwapOption<rustls::ServerConfig>,
    /// Connections open per client.
    pub clients: Arc<ClientSlots>,
    /// Rate limits for log lines a flood would repeat.
    pub hush: Hush,
    /// Why no configuration is served (for `/healthz` and systemd), while none is.
    pub problem: ArcSwapOption<String>,
    /// The log's queue (for `pjprov_log_dropped_total`).
    pub log: Option<Arc<crate::logging::Sink>>,
    /// What every phone has fetched.
    pub inventory: Arc<Inventory>,
    /// Where to ask for NOTIFYs (set once the notifier runs).
    pub notifier: std::sync::OnceLock<tokio::sync::mpsc::UnboundedSender<crate::notify::Request>>,
    /// The last reload, for the status page.
    pub reload_report: arc_swap::ArcSwap<super::status_page::ReloadReport>,
    /// Whether the database realtime objects come from can be read.
    pub database: Arc<super::realtime::Health>,
}

impl State {
    pub fn new(snapshot: Snapshot, prefix: Option<String>) -> State {
        let max_clients = snapshot.settings().limits.max_clients;
        State {
            snapshot: ArcSwap::from_pointee(snapshot),
            metrics: Metrics::default(),
            prefix,
            ready: std::sync::atomic::AtomicBool::new(false),
            access: Access::new(max_clients),
            tls: ArcSwapOption::empty(),
            clients: Arc::new(ClientSlots::default()),
            hush: Hush::default(),
            problem: ArcSwapOption::empty(),
            log: None,
            inventory: Arc::new(Inventory::in_memory()),
            notifier: std::sync::OnceLock::new(),
            reload_report: arc_swap::ArcSwap::from_pointee(Default::default()),
            database: Arc::default(),
        }
    }

    /// Whether a usable configuration is being served.
    pub fn is_ready(&self) -> bool {
        self.ready.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// The two ends of a connection, and what TLS learnt about the client.
#[derive(Debug, Clone)]
pub struct Conn {
    /// The address the phone connected to: `SERVER`.
    pub local: SocketAddr,
    /// The phone.
    pub peer: SocketAddr,
    /// Over TLS.
    pub tls: bool,
    /// The client certificate, verified against `tls_client_ca`.
    pub cert: Option<Arc<CertIdentity>>,
    /// The snapshot whose ACL admitted the connection (its address): a request served under another one
    /// is checked against that one's ACL again.
    pub admitted: usize,
}

const SERVER_HEADER: &str = concat!("pjprov/", env!("CARGO_PKG_VERSION"));

/// A response, and the phone it concerns (for the audit line).
struct Answer {
    response: Response<Body>,
    phone: Option<(Mac, Proof)>,
    /// What the request was about, and the name asked for (for the inventory).
    subject: Option<(Subject, String)>,
    /// Answered with the lobby (issue #18): no file of the phone's went out.
    lobby: bool,
}

impl From<Response<Body>> for Answer {
    fn from(response: Response<Body>) -> Answer {
        Answer {
            response,
            phone: None,
            subject: None,
            lobby: false,
        }
    }
}

/// Answers one request and logs it.
pub async fn handle<B>(
    state: Arc<State>,
    conn: Conn,
    req: Request<B>,
) -> Result<Response<Body>, Infallible> {
    let started = Instant::now();
    let snapshot = state.snapshot.load_full();
    let Answer {
        mut response,
        phone,
        subject,
        lobby,
    } = respond(&state, &snapshot, &conn, &req).await;
    response
        .headers_mut()
        .insert(header::SERVER, HeaderValue::from_static(SERVER_HEADER));
    let status = response.status().as_u16();
    let bytes = response
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0u64);
    let sent = if req.method() == Method::HEAD {
        0
    } else {
        bytes
    };
    state.metrics.request(status, sent);
    // Borrowed unless it is not UTF-8: read once for the audit and access lines.
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .map(|v| String::from_utf8_lossy(v.as_bytes()))
        .unwrap_or_default();
    let protocol = if conn.tls {
        Protocol::Https
    } else {
        Protocol::Http
    }
    .name();
    if let Some((subject, uri)) = &subject {
        let etag = response
            .headers()
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok());
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok());
        let fetch = Fetch {
            client: normalize(conn.peer.ip()),
            server: normalize(conn.local.ip()),
            port: conn.local.port(),
            host,
            user_agent: &user_agent,
            uri,
            etag,
            status,
            protocol,
        };
        match (lobby, phone.as_ref()) {
            // Issue #18: a lobby is no fetch of the phone's files; an unknown MAC stays unknown.
            (true, Some((mac, _))) => {
                let configured = matches!(
                    subject,
                    Subject::Phone { .. } | Subject::PhoneShaped { phone: Some(_), .. }
                );
                state.inventory.lobby_served(*mac, configured, fetch);
            }
            _ => state.inventory.record(*subject, fetch),
        }
    }
    let mac_text;
    let proof_text;
    let audited = match &phone {
        Some((mac, proof)) => {
            // A lobby holds nothing of the phone's: it never counts towards harvesting (and an unknown
            // MAC's miss was counted by the decision already).
            if !lobby {
                state.access.served(&snapshot, conn.peer.ip(), *mac, status);
            }
            mac_text = mac.text();
            proof_text = if lobby { "lobby".into() } else { proof.text() };
            Some((mac_text.as_str(), &*proof_text))
        }
        None => None,
    };
    crate::logging::request(&crate::logging::RequestLine {
        client: conn.peer.ip(),
        method: req.method().as_str(),
        uri: req.uri().path(),
        status,
        bytes: sent,
        micros: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        protocol,
        user_agent: &user_agent,
        phone: audited,
    });
    Ok(response)
}

async fn respond<B>(
    state: &State,
    snapshot: &Arc<Snapshot>,
    conn: &Conn,
    req: &Request<B>,
) -> Answer {
    let client = normalize(conn.peer.ip());
    // The ACL was checked when the connection was accepted; a reload since then may have changed it.
    if Arc::as_ptr(snapshot) as usize != conn.admitted
        && !Access::admit(snapshot.settings(), client)
    {
        state.metrics.refused(Refusal::Acl);
        return plain(StatusCode::FORBIDDEN, "403 Forbidden\n").into();
    }
    let path = req.uri().path();
    if path == "/healthz" {
        return health(state).into();
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        // Asterisk answers 501 to every other method; phones that upload (Polycom PUTs logs) just move on.
        let mut response = plain(
            StatusCode::NOT_IMPLEMENTED,
            "501 Not Implemented: only GET and HEAD\n",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response.into();
    }
    if !state.is_ready() {
        // Nothing is served before a usable configuration exists: phones retry later.
        let mut response = plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "503 Service Unavailable: no usable configuration is loaded yet\n",
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
        return response.into();
    }
    let prefix = super::options::prefix(state.prefix.as_deref(), snapshot.settings());
    let Some(uri) = pjprov_core::uri::route_uri(path, prefix) else {
        return not_found().into();
    };
    let route = snapshot.route(&uri);
    let header_text =
        |name: header::HeaderName| req.headers().get(name).and_then(|v| v.to_str().ok());
    let asked = Asked {
        client,
        name: &uri,
        subject: snapshot.subject(&uri, route),
        protocol: if conn.tls {
            Protocol::Https
        } else {
            Protocol::Http
        },
        http: HttpFacts {
            cert: conn.cert.as_deref(),
            method: req.method().as_str(),
            target: req.uri().path_and_query().map_or(path, |pq| pq.as_str()),
            user_agent: header_text(header::USER_AGENT),
            authorization: header_text(header::AUTHORIZATION),
        },
    };
    let verdict = state.access.check(snapshot, &asked);
    if let Some(delay) = verdict.delay {
        tokio::time::sleep(delay).await;
    }
    let phone = verdict.mac.map(|mac| (mac, verdict.proof.clone()));
    let subject = Some((asked.subject, uri.to_string()));
    let lobby = matches!(verdict.decision, Decision::Lobby { .. });
    let response = match verdict.decision {
        // Issue #18: the same answer, through the same code, whether a phone has the MAC or not.
        Decision::Lobby { shape } => {
            state.metrics.lobby();
            match (shape, verdict.mac) {
                (Some(shape), Some(mac)) => serve_lobby(snapshot, shape, mac, conn, req, prefix),
                _ => not_found(),
            }
        }
        Decision::Refuse {
            status,
            retry_after,
            why,
        } => {
            state.metrics.refused(why);
            refusal(status, retry_after)
        }
        Decision::Challenge(challenges) => unauthorized(&challenges),
        Decision::Proceed => match route {
            Some(route) => serve_route(snapshot, route, &uri, conn, req, prefix).await,
            None => not_found(),
        },
    };
    Answer {
        response,
        phone,
        subject,
        lobby,
    }
}

/// The lobby of `shape` for `mac` (issue #18, `pjprov_core::Snapshot::lobby`): what a name shaped like a
/// phone's file gets when no secret may go with it, or 404 where the shape has none. Its headers depend on
/// nothing but the shape (no entity tag, no ranges), its body on the MAC and the request's facts alone.
fn serve_lobby<B>(
    snapshot: &Snapshot,
    shape: pjprov_core::ShapeId,
    mac: Mac,
    conn: &Conn,
    req: &Request<B>,
    prefix: &str,
) -> Response<Body> {
    let request = request_facts(conn, req, prefix, true, true);
    match snapshot.lobby(shape, mac, request) {
        None => not_found(),
        Some(Ok(lobby)) => {
            let len = lobby.body.len();
            let mut response = Response::new(if req.method() == Method::HEAD {
                Body::Empty
            } else {
                Body::full(lobby.body)
            });
            let out = response.headers_mut();
            out.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_maybe_shared(lobby.mime)
                    .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream")),
            );
            out.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
            out.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-cache, no-store"),
            );
            response
        }
        Some(Err(failure)) => {
            tracing::error!(error = %failure, "cannot render the lobby");
            plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "500 Internal Server Error\n",
            )
        }
    }
}

/// What a template may read of the request: the address and port the phone connected to, the scheme, the
/// prefix, and (when `host` and `agent` say so) its Host and User-Agent headers.
fn request_facts<B>(
    conn: &Conn,
    req: &Request<B>,
    prefix: &str,
    host: bool,
    agent: bool,
) -> pjprov_core::Request {
    let header = |name: header::HeaderName| req.headers().get(name).and_then(|v| v.to_str().ok());
    let scheme = if conn.tls {
        pjprov_core::Scheme::Https
    } else {
        pjprov_core::Scheme::Http
    };
    pjprov_core::Request::new(
        normalize(conn.local.ip()),
        scheme,
        conn.local.port(),
        if host { header(header::HOST) } else { None },
        prefix,
        if agent {
            header(header::USER_AGENT)
        } else {
            None
        },
    )
}

async fn serve_route<B>(
    snapshot: &Snapshot,
    route: &Route,
    name: &str,
    conn: &Conn,
    req: &Request<B>,
    prefix: &str,
) -> Response<Body> {
    let head = req.method() == Method::HEAD;
    match &route.target {
        Target::Static { relative, .. } => {
            static_file(snapshot, route, relative, req.headers(), head).await
        }
        Target::Dynamic { .. } | Target::Shared { .. } => {
            let needs = snapshot.request_needs(route);
            let request = request_facts(conn, req, prefix, needs.url, needs.agent)
                .with_match(route.wildcard_match(name));
            match snapshot.render(route, request) {
                Ok(rendered) => in_memory(route, &rendered, req.headers(), head),
                Err(pjprov_core::RenderFailure::Missing(reason)) => {
                    tracing::warn!(uri = %route.uri, %reason, "template missing");
                    not_found()
                }
                Err(failure) => {
                    tracing::error!(uri = %route.uri, error = %failure, "cannot render");
                    plain(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "500 Internal Server Error\n",
                    )
                }
            }
        }
    }
}

fn unauthorized(challenges: &[String]) -> Response<Body> {
    let mut response = plain(StatusCode::UNAUTHORIZED, "401 Unauthorized\n");
    for challenge in challenges {
        if let Ok(value) = HeaderValue::from_str(challenge) {
            response
                .headers_mut()
                .append(header::WWW_AUTHENTICATE, value);
        }
    }
    response
}

fn refusal(status: u16, retry_after: Option<u64>) -> Response<Body> {
    let mut response = match status {
        429 => plain(StatusCode::TOO_MANY_REQUESTS, "429 Too Many Requests\n"),
        _ => plain(StatusCode::FORBIDDEN, "403 Forbidden\n"),
    };
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// IPv4-mapped IPv6 addresses (a dual-stack socket) count as the IPv4 address they carry.
pub fn normalize(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// `/healthz`: 200 once a usable configuration is served, 503 (and why) before. "degraded" (still 200)
/// while the database realtime objects come from cannot be read: the last good configuration serves.
pub fn health(state: &State) -> Response<Body> {
    let generation = state.metrics.generation();
    if state.is_ready() {
        match state.database.down() {
            None => plain(StatusCode::OK, &format!("ok generation {generation}\n")),
            Some(down) => plain(
                StatusCode::OK,
                &format!(
                    "degraded generation {generation}: {} (since {}); the last good configuration keeps serving\n",
                    down.why,
                    down.since.round(jiff::Unit::Second).unwrap_or(down.since)
                ),
            ),
        }
    } else {
        let why = state.problem.load();
        let why = why.as_deref().map_or("(still loading)", String::as_str);
        plain(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("no usable configuration loaded: {why}\n"),
        )
    }
}

pub fn plain(status: StatusCode, text: &str) -> Response<Body> {
    let mut response = Response::new(Body::full(Bytes::copy_from_slice(text.as_bytes())));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(text.len()));
    response
}

fn not_found() -> Response<Body> {
    plain(StatusCode::NOT_FOUND, "404 Not Found\n")
}

fn content_type(route: &Route) -> HeaderValue {
    HeaderValue::from_maybe_shared(route.mime_bytes())
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"))
}

/// A rendered file: conditional requests, ranges, HEAD. It holds a password: nothing may store it.
fn in_memory(
    route: &Route,
    rendered: &pjprov_core::Rendered,
    headers: &HeaderMap,
    head: bool,
) -> Response<Body> {
    let etag = rendered.etag_str();
    let body = rendered.body.clone();
    let mut response = Response::new(Body::Empty);
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, content_type(route));
    if let Ok(tag) = HeaderValue::from_maybe_shared(rendered.etag.clone()) {
        out.insert(header::ETAG, tag);
    }
    out.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store"),
    );
    if let Some(inm) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        && conditional::none_match(inm, etag)
    {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        return response;
    }
    let len = body.len() as u64;
    let (status, slice) = match requested_range(headers, etag, len) {
        Range::Full => (StatusCode::OK, body),
        Range::Part { start, end } => {
            out_range(response.headers_mut(), start, end, len);
            (
                StatusCode::PARTIAL_CONTENT,
                body.slice(start as usize..=end as usize),
            )
        }
        Range::Unsatisfiable => return unsatisfiable(len),
    };
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(slice.len()));
    if !head {
        *response.body_mut() = Body::full(slice);
    }
    response
}

/// The range to serve, honouring `If-Range` (a range only applies to the representation it names).
fn requested_range(headers: &HeaderMap, etag: &str, len: u64) -> Range {
    if let Some(if_range) = headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok())
        && if_range.trim() != etag
    {
        return Range::Full;
    }
    conditional::range(
        headers.get(header::RANGE).and_then(|v| v.to_str().ok()),
        len,
    )
}

fn out_range(headers: &mut HeaderMap, start: u64, end: u64, len: u64) {
    if let Ok(value) = HeaderValue::from_str(&format!("bytes {start}-{end}/{len}")) {
        headers.insert(header::CONTENT_RANGE, value);
    }
}

fn unsatisfiable(len: u64) -> Response<Body> {
    let mut response = plain(
        StatusCode::RANGE_NOT_SATISFIABLE,
        "416 Range Not Satisfiable\n",
    );
    if let Ok(value) = HeaderValue::from_str(&format!("bytes */{len}")) {
        response.headers_mut().insert(header::CONTENT_RANGE, value);
    }
    response
}

/// The entity tag of a static file: its size and modification time (what the HTTP server sends, and what the
/// notifier compares).
pub fn static_etag(meta: &std::fs::Metadata) -> String {
    let mtime = meta
        .modified()
        .unwrap_or(SystemTime::UNIX_EPOCH)
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("\"{:x}-{mtime:x}\"", meta.len())
}

/// A static file, streamed from disk. The path was resolved inside the phoneprov directory when the
/// snapshot was built; it is checked again here, since the disk may have changed since.
async fn static_file(
    snapshot: &Snapshot,
    route: &Route,
    relative: &str,
    headers: &HeaderMap,
    head: bool,
) -> Response<Body> {
    let dir = snapshot.paths().phoneprov_dir();
    let Ok(checked) = pjprov_core::resolve_inside(&dir, relative) else {
        tracing::warn!(uri = %route.uri, file = %relative, "static file missing or outside the phoneprov directory");
        return not_found();
    };
    let Ok(mut file) = tokio::fs::File::open(&checked).await else {
        return not_found();
    };
    let Ok(meta) = file.metadata().await else {
        return not_found();
    };
    if !meta.is_file() {
        return not_found();
    }
    let len = meta.len();
    let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    let etag = static_etag(&meta);
    let mut response = Response::new(Body::Empty);
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, content_type(route));
    if let Ok(tag) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, tag);
    }
    if let Ok(date) = HeaderValue::from_str(&httpdate::fmt_http_date(modified)) {
        out.insert(header::LAST_MODIFIED, date);
    }
    out.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    let not_modified = match headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        Some(inm) => conditional::none_match(inm, &etag),
        None => headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .is_some_and(|since| {
                modified
                    .duration_since(since)
                    .map_or(true, |d| d.as_secs() == 0)
            }),
    };
    if not_modified {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        return response;
    }
    let (status, start, count) = match requested_range(headers, &etag, len) {
        Range::Full => (StatusCode::OK, 0, len),
        Range::Part { start, end } => {
            out_range(response.headers_mut(), start, end, len);
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        Range::Unsatisfiable => return unsatisfiable(len),
    };
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    if !head {
        if start > 0 && file.seek(std::io::SeekFrom::Start(start)).await.is_err() {
            return plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "500 Internal Server Error\n",
            );
        }
        *response.body_mut() = Body::file(file, count);
    }
    response
}

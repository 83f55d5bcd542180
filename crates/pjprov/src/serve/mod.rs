//! `pjprov serve`: the HTTP server phones pull from, with live reload (DESIGN.md §3 and §6).

mod body;
mod conditional;
pub mod http;
mod listen;
mod metrics;
mod options;
mod reload;
mod systemd;
mod tftp;
mod tls;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use hyper::{Request, Response, StatusCode};
use pjprov_core::{Settings, Snapshot};
use tokio::sync::{mpsc, watch};

use crate::cli::ServeArgs;
use body::Body;
use http::{Conn, State};
use listen::Limits;
use options::Listeners;

pub fn run(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let log = crate::logging::init(args.log_format, &args.log_level)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("pjprov")
        .build()?;
    let result = runtime.block_on(serve(args));
    // The runtime's threads may still log while they stop; then the queued lines are written.
    drop(runtime);
    drop(log);
    result
}

async fn serve(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    // Before anything else: SIGHUP's default action would kill a server that is still starting.
    let signals = Signals::install()?;
    let paths = args.dirs.paths();
    let state = Arc::new(State::new(Snapshot::empty(&paths), args.prefix.clone()));

    // The configuration first: pjprov.conf may say where to listen.
    let (trigger, triggers) = mpsc::channel(1);
    let watcher = reload::start_watcher(trigger.clone());
    let mut reloader = reload::Reloader::new(
        paths.clone(),
        args.dirs.build_options(),
        state.clone(),
        watcher,
    );
    let usable = reloader.reload().await;
    if !usable {
        tracing::error!(
            "no usable configuration yet: every request answers 404 until one is saved"
        );
    }
    let settings = if usable {
        state.snapshot.load().settings().clone()
    } else {
        Settings::read_alone(&paths.config_dir).unwrap_or_default()
    };
    let resolve_args = args.clone();
    let resolve = move |settings: &Settings| {
        (
            Listeners::resolve(&resolve_args, settings),
            options::tls_files(&resolve_args, settings),
        )
    };
    let (wanted, _) = resolve(&settings);
    if wanted.is_empty() {
        eprintln!(
            "pjprov: nothing to listen on: plain HTTP is off and there is no --tls-listen or --tftp-listen"
        );
        return Ok(ExitCode::from(2));
    }

    // Listen: a port that cannot be bound is a start-up error worth failing for.
    let mut listeners = Vec::new();
    for (addrs, tls) in [(&wanted.http, false), (&wanted.https, true)] {
        for addr in addrs {
            match listen::bind(*addr) {
                Ok(listener) => listeners.push((listener, tls)),
                Err(e) => {
                    tracing::error!(%addr, error = %e, "cannot listen");
                    eprintln!("pjprov: cannot listen on {addr}: {e}");
                    return Ok(ExitCode::from(1));
                }
            }
        }
    }
    let mut tftp_sockets = Vec::new();
    for addr in &wanted.tftp {
        match tftp::bind(*addr) {
            Ok(socket) => tftp_sockets.push(socket),
            Err(e) => {
                eprintln!("pjprov: cannot serve TFTP on {addr}: {e}");
                if e.kind() == std::io::ErrorKind::PermissionDenied && addr.port() < 1024 {
                    eprintln!(
                        "pjprov: ports below 1024 need CAP_NET_BIND_SERVICE (the systemd unit grants it)"
                    );
                }
                return Ok(ExitCode::from(1));
            }
        }
    }
    let admin = match wanted.admin {
        Some(addr) => match listen::bind(addr) {
            Ok(listener) => Some(listener),
            Err(e) => {
                eprintln!("pjprov: cannot listen on {addr} (--admin-listen): {e}");
                return Ok(ExitCode::from(1));
            }
        },
        None => None,
    };
    reloader
        .start(reload::Startup {
            resolve: Box::new(resolve),
            listeners: wanted.clone(),
        })
        .await;
    let reloads = tokio::spawn(reloader.run(triggers, Duration::from_millis(args.debounce_ms)));

    let limits = Limits {
        header_timeout: Duration::from_secs(args.header_timeout),
        max_connections: args.max_connections,
        max_header_bytes: 16 * 1024,
    };
    let grace = Duration::from_secs(args.shutdown_grace);
    let (stop, stopped) = watch::channel(false);
    let mut servers = Vec::new();
    for (listener, tls) in listeners {
        if let Ok(addr) = listener.local_addr() {
            let prefix = options::prefix(args.prefix.as_deref(), &settings);
            tracing::info!(
                "serving phones on {}://{}/{}phoneprov/",
                if tls { "https" } else { "http" },
                show(addr),
                prefix_path(prefix)
            );
        }
        servers.push(tokio::spawn(listen::serve(
            listener,
            state.clone(),
            http::handle,
            limits,
            stopped.clone(),
            grace,
            tls,
        )));
    }
    for socket in tftp_sockets {
        if let Ok(addr) = socket.local_addr() {
            tracing::info!("serving phones over TFTP on {}", show(addr));
        }
        servers.push(tokio::spawn(tftp::serve(
            socket,
            state.clone(),
            args.max_connections,
            stopped.clone(),
        )));
    }
    if let Some(listener) = admin {
        if let Ok(addr) = listener.local_addr() {
            tracing::info!(
                "metrics on http://{}/metrics, health on /healthz",
                show(addr)
            );
        }
        servers.push(tokio::spawn(listen::serve(
            listener,
            state.clone(),
            admin_handle,
            limits,
            stopped.clone(),
            grace,
            false,
        )));
    }
    systemd::ready("serving");

    signals.wait(trigger).await;
    tracing::info!("shutting down: no new connections; open ones may finish");
    systemd::stopping();
    let _ = stop.send(true);
    for server in servers {
        let _ = server.await;
    }
    reloads.abort();
    Ok(ExitCode::SUCCESS)
}

fn show(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V6(v6) => format!("[{}]:{}", v6.ip(), v6.port()),
        v4 => v4.to_string(),
    }
}

fn prefix_path(prefix: &str) -> String {
    let prefix = prefix.trim_matches('/');
    if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}/")
    }
}

/// SIGTERM and SIGINT stop the server; SIGHUP asks for a reload.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    /// Returns on SIGTERM or SIGINT, sending a reload request on each SIGHUP meanwhile.
    async fn wait(mut self, reload: mpsc::Sender<()>) {
        loop {
            tokio::select! {
                _ = self.term.recv() => return,
                _ = self.int.recv() => return,
                _ = self.hup.recv() => {
                    tracing::info!("SIGHUP: reloading");
                    let _ = reload.try_send(());
                }
            }
        }
    }
}

/// The admin listener: `/metrics` and `/healthz`.
async fn admin_handle<B>(
    state: Arc<State>,
    _conn: Conn,
    req: Request<B>,
) -> Result<Response<Body>, Infallible> {
    Ok(match req.uri().path() {
        "/metrics" => {
            let (throttle_clients, throttle_refused) = state.access.throttle_gauges();
            let gauges = metrics::Gauges {
                throttle_clients,
                throttle_refused,
            };
            let mut response = http::plain(StatusCode::OK, &state.metrics.render(gauges));
            response.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            response
        }
        "/healthz" => http::health(&state),
        _ => http::plain(
            StatusCode::NOT_FOUND,
            "404 Not Found: try /metrics or /healthz\n",
        ),
    })
}

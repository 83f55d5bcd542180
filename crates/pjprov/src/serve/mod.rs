//! `pjprov serve`: the HTTP server phones pull from, with live reload (DESIGN.md §3 and §6).

mod body;
mod conditional;
pub mod http;
mod listen;
mod metrics;
mod reload;
mod systemd;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use arc_swap::ArcSwap;
use hyper::{Request, Response, StatusCode};
use pjprov_core::Snapshot;
use tokio::sync::{mpsc, watch};

use crate::cli::ServeArgs;
use body::Body;
use http::{Conn, State};
use listen::Limits;

pub fn run(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    crate::logging::init(args.log_format, &args.log_level)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("pjprov")
        .build()?;
    runtime.block_on(serve(args))
}

async fn serve(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    // Before anything else: SIGHUP's default action would kill a server that is still starting.
    let signals = Signals::install()?;
    let paths = args.dirs.paths();
    let state = Arc::new(State {
        snapshot: ArcSwap::from_pointee(Snapshot::empty(&paths)),
        metrics: metrics::Metrics::default(),
        prefix: args.prefix.clone(),
        ready: AtomicBool::new(false),
    });

    // Listen first: a port that cannot be bound is a start-up error worth failing for.
    let mut listeners = Vec::new();
    for addr in &args.listen {
        match listen::bind(*addr) {
            Ok(listener) => listeners.push(listener),
            Err(e) => {
                tracing::error!(%addr, error = %e, "cannot listen");
                eprintln!("pjprov: cannot listen on {addr}: {e}");
                return Ok(ExitCode::from(1));
            }
        }
    }
    let admin = match args.admin_listen {
        Some(addr) => match listen::bind(addr) {
            Ok(listener) => Some(listener),
            Err(e) => {
                eprintln!("pjprov: cannot listen on {addr} (--admin-listen): {e}");
                return Ok(ExitCode::from(1));
            }
        },
        None => None,
    };

    let (trigger, triggers) = mpsc::channel(1);
    let watcher = reload::start_watcher(trigger.clone());
    let mut reloader = reload::Reloader::new(
        paths.clone(),
        args.dirs.build_options(),
        state.clone(),
        watcher,
    );
    if !reloader.reload().await {
        tracing::error!(
            "no usable configuration yet: every request answers 404 until one is saved"
        );
    }
    let reloads = tokio::spawn(reloader.run(triggers, Duration::from_millis(args.debounce_ms)));

    let limits = Limits {
        header_timeout: Duration::from_secs(args.header_timeout),
        max_connections: args.max_connections,
        max_header_bytes: 16 * 1024,
    };
    let grace = Duration::from_secs(args.shutdown_grace);
    let (stop, stopped) = watch::channel(false);
    let mut servers = Vec::new();
    for listener in listeners {
        if let Ok(addr) = listener.local_addr() {
            tracing::info!(
                "serving phones on http://{}/{}phoneprov/",
                show(addr),
                prefix_path(&args.prefix)
            );
        }
        servers.push(tokio::spawn(listen::serve(
            listener,
            state.clone(),
            http::handle,
            limits,
            stopped.clone(),
            grace,
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
            let mut response = http::plain(StatusCode::OK, &state.metrics.render());
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

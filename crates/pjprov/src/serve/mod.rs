//! `pjprov serve`: the HTTP server phones pull from, with live reload (DESIGN.md §3 and §6).
//!
//! Start-up, in order: signals (SIGHUP's default action would kill a server still starting), the first
//! build, then the sockets. With a usable configuration they are the ones it names; with none, pjprov.conf's
//! alone if it can be read, else only the command line's — never a default wider than what the admin wrote
//! (`listeners.rs`). Without a usable configuration nothing is served to phones (503), and `/healthz` and
//! systemd's status say why.

mod admin;
mod api;
mod body;
mod clients;
mod conditional;
pub mod http;
mod hush;
mod listen;
mod listeners;
mod metrics;
mod options;
mod paced;
mod realtime;
mod reload;
mod status_page;
mod systemd;
mod tftp;
mod tls;
mod watch;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use pjprov_core::{Settings, Snapshot};
use tokio::sync::mpsc;

use crate::cli::ServeArgs;
use http::State;
use listen::Limits;
use listeners::{ListenerSet, Setup};
use options::Listeners;

pub fn run(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let log = crate::logging::init(
        args.log_format,
        &args.log_level,
        args.log_queue_kib.saturating_mul(1024),
    )?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("pjprov")
        .build()?;
    let result = runtime.block_on(serve(args, log.sink()));
    // The runtime's threads may still log while they stop; then the queued lines are written.
    drop(runtime);
    drop(log);
    result
}

async fn serve(args: &ServeArgs, log: Arc<crate::logging::Sink>) -> anyhow::Result<ExitCode> {
    // Before anything else: SIGHUP's default action would kill a server that is still starting.
    let signals = Signals::install()?;
    let paths = args.dirs.paths();
    let mut state = State::new(Snapshot::empty(&paths), args.prefix.clone());
    state.log = Some(log);
    let (inventory, problem) = crate::inventory::Inventory::open(&args.dirs.state_dir);
    if let Some(problem) = problem {
        tracing::warn!(
            "{problem}: what phones fetch is kept in memory only (give pjprov a writable --state-dir)"
        );
    }
    let inventory = Arc::new(inventory);
    // The stored records are read beside the first build; nothing is served before they are in.
    let reading = {
        let inventory = inventory.clone();
        std::thread::Builder::new()
            .name("pjprov-inventory-read".into())
            .spawn(move || {
                if let Err(why) = inventory.read_records() {
                    tracing::warn!(
                        "{why}: what phones fetch is kept in memory only (move the file away to start it afresh)"
                    );
                }
            })?
    };
    state.inventory = inventory.clone();
    // Issue #18: provisioning windows live in the inventory's database; without one, none can open.
    let enrolment = match inventory.store() {
        Some(store) => crate::access::enrol::Enrolment::load(store),
        None => crate::access::enrol::Enrolment::unavailable(
            "the state directory cannot be used".into(),
        ),
    };
    if let Some(problem) = enrolment.problem() {
        tracing::warn!(target: crate::access::SECURITY,
            "{problem}: every provisioning window counts as closed (phones under enrol = window get the lobby until it is fixed)");
    }
    state.access = std::mem::take(&mut state.access).with_enrolment(enrolment);
    let state = Arc::new(state);
    let writer = {
        let inventory = inventory.clone();
        std::thread::Builder::new()
            .name("pjprov-inventory".into())
            .spawn(move || inventory.run_writer())?
    };
    let _ = state
        .notifier
        .set(crate::notify::start(state.clone(), inventory.clone()));

    let (trigger, triggers) = mpsc::channel(1);
    // Realtime objects: the watcher follows what each reload read (realtime/).
    let (targets, followed) = tokio::sync::watch::channel(realtime::Target::default());
    tokio::spawn(realtime::watcher::run(
        followed,
        trigger.clone(),
        state.database.clone(),
    ));
    let watcher = watch::start_watcher(trigger.clone());
    let resolve_args = args.clone();
    let resolve: reload::Resolve = Box::new(move |settings: &Settings| {
        (
            Listeners::resolve(&resolve_args, settings),
            options::tls_files(&resolve_args, settings),
        )
    });
    let setup = Setup {
        limits: Limits {
            header_timeout: Duration::from_secs(args.header_timeout),
            max_connections: args.max_connections,
            max_header_bytes: 16 * 1024,
        },
        grace: Duration::from_secs(args.shutdown_grace),
        prefix: prefix_path(args.prefix.as_deref().unwrap_or("")),
    };
    let mut build_options = args.dirs.build_options();
    build_options.site_key = match crate::site_key::open_or_create(&args.dirs.state_dir) {
        Ok(key) => Some(key),
        Err(why) => {
            tracing::warn!("{why}: no ADMIN_PASSWORD is generated, phones keep theirs");
            None
        }
    };
    let mut reloader = reload::Reloader::new(
        paths.clone(),
        build_options,
        state.clone(),
        watcher,
        triggers,
        reload::Timing {
            debounce: Duration::from_millis(args.debounce_ms),
            settle: Duration::from_millis(args.settle_ms),
        },
        resolve,
        ListenerSet::new(state.clone(), setup),
        realtime::Realtime::new(targets),
    );
    reloader.serve_after(reading);

    // The configuration first: it says where to listen.
    let usable = reloader.reload().await == reload::Outcome::Adopted;
    // From now on a reload's large buffers are unmapped when freed (not for the first build: fresh
    // mappings cost it page faults, 5-10% of its time, with nothing yet to give back), and heaps grow by
    // small steps again.
    crate::memory::settle();
    if usable {
        if Listeners::resolve(args, state.snapshot.load().settings()).is_empty() {
            eprintln!(
                "pjprov: nothing to listen on for phones: plain HTTP is off and there is no --tls-listen or --tftp-listen"
            );
            return Ok(ExitCode::from(2));
        }
    } else {
        let alone = Settings::read_alone(&paths.config_dir);
        if alone.is_none() {
            tracing::error!(
                "pjprov.conf cannot be used: only the addresses on the command line are opened until it is fixed"
            );
        }
        reloader
            .listen_without_configuration(alone.as_ref(), &Listeners::command_line_only(args))
            .await;
    }
    // A socket of the first configuration that cannot be opened is a start-up error worth failing for.
    if let Some(failed) = reloader.bind_failures().first() {
        eprintln!("pjprov: {failed}");
        return Ok(ExitCode::from(1));
    }
    if usable {
        systemd::ready("serving");
    } else {
        // The reason stays on `systemctl status pjprov`'s Status: line.
        let why = state
            .problem
            .load_full()
            .map_or_else(|| "see pjprov check".to_owned(), |why| why.to_string());
        systemd::ready(&format!(
            "no usable configuration: nothing is served to phones until it is fixed: {why}"
        ));
    }

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let reloads = tokio::spawn(reloader.run(stopped));
    signals.wait(trigger).await;
    tracing::info!("shutting down: no new connections; open ones may finish");
    systemd::stopping();
    let _ = stop.send(());
    let _ = reloads.await;
    // The last fetches reach the disk before exit.
    inventory.stop();
    let _ = writer.join();
    Ok(ExitCode::SUCCESS)
}

pub use http::static_etag;

/// The URL prefix in force: the command line's, else pjprov.conf's.
pub fn options_prefix(state: &State, snapshot: &Snapshot) -> String {
    options::prefix(state.prefix.as_deref(), snapshot.settings()).to_owned()
}

/// The route name a TFTP file name means (`None` for a name that tries to leave the served files), as the
/// TFTP server reads it.
pub fn tftp_route_name(name: &str) -> Option<&str> {
    tftp::route_name(std::path::Path::new(name)).ok()
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

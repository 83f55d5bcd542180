//! Reloading: the file watcher and SIGHUP feed one channel; after a quiet period (debounce) a new snapshot is
//! built off the serving path and swapped in atomically. A configuration that cannot be used keeps the last
//! good one serving.
//!
//! A change that would loosen access control (pjprov.conf with fewer rules, or parsing as empty) or shrink
//! the fleet (fewer phones or routes: a pjsip.conf cut short) is adopted only once its files are stable: no
//! change for the settle time after it was read. A save that truncates a file, pauses and writes it again
//! never opens a gap; an admin who really removes an ACL waits a few seconds more.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pjprov_core::{BuildOptions, Diagnostic, Paths, Severity, Snapshot};
use tokio::sync::mpsc;

use super::http::State;
use super::listeners::ListenerSet;
use super::metrics::SnapshotFacts;
use super::options::Listeners;
use super::systemd;
use super::tls::server_config;
use super::watch::{WatchControl, WatchSet};
use pjprov_core::settings::TlsFiles;

/// Turns a snapshot's settings into sockets and certificate files (the command line winning).
pub type Resolve = Box<dyn Fn(&pjprov_core::Settings) -> (Listeners, TlsFiles) + Send + Sync>;

/// How reloads are timed.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Quiet time after a change before rebuilding.
    pub debounce: Duration,
    /// How long the files of a loosening change must stay as they are before it is adopted.
    pub settle: Duration,
}

/// Rebuilds and swaps snapshots, and keeps the listening sockets in line.
pub struct Reloader {
    pub paths: Paths,
    pub options: BuildOptions,
    pub state: Arc<State>,
    watch: WatchControl,
    triggers: mpsc::Receiver<()>,
    timing: Timing,
    resolve: Resolve,
    pub listeners: ListenerSet,
    generation: u64,
    /// What the last attempt (good or not) read, so a fix anywhere is noticed.
    watching: WatchSet,
    last_good: WatchSet,
    /// The addresses the last reconciliation could not open.
    failures: Vec<super::listeners::Failed>,
    /// Rows from PostgreSQL, when sorcery.conf maps objects there.
    realtime: super::realtime::Realtime,
    /// Work done beside the first build that must be finished before anything is served (the
    /// inventory's stored records): waited for before the first socket opens.
    before_serving: Option<std::thread::JoinHandle<()>>,
}

/// The result of one reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A new configuration serves.
    Adopted,
    /// It could not be used; the previous one (if any) serves.
    Rejected,
}

impl Reloader {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        paths: Paths,
        options: BuildOptions,
        state: Arc<State>,
        watch: WatchControl,
        triggers: mpsc::Receiver<()>,
        timing: Timing,
        resolve: Resolve,
        listeners: ListenerSet,
        realtime: super::realtime::Realtime,
    ) -> Reloader {
        Reloader {
            paths,
            options,
            state,
            watch,
            triggers,
            timing,
            resolve,
            listeners,
            generation: 0,
            watching: WatchSet::default(),
            last_good: WatchSet::default(),
            failures: Vec::new(),
            realtime,
            before_serving: None,
        }
    }

    /// `work` (running on its own thread) must be finished before the first socket opens.
    pub fn serve_after(&mut self, work: std::thread::JoinHandle<()>) {
        self.before_serving = Some(work);
    }

    async fn wait_before_serving(&mut self) {
        if let Some(work) = self.before_serving.take() {
            let _ = tokio::task::spawn_blocking(move || work.join()).await;
        }
    }

    /// The addresses the last reload (or [`Reloader::listen_without_configuration`]) could not open.
    pub fn bind_failures(&self) -> &[super::listeners::Failed] {
        &self.failures
    }

    /// Builds a snapshot and serves it if it is usable (after the settle time, if it loosens access).
    pub async fn reload(&mut self) -> Outcome {
        loop {
            let started = Instant::now();
            let previous = self
                .state
                .is_ready()
                .then(|| self.state.snapshot.load_full());
            // Rows first, when objects come from PostgreSQL: a database that cannot be read keeps
            // the last good configuration serving.
            let options = match self
                .realtime
                .prepare(&self.paths, &self.options, &self.state.database)
                .await
            {
                Ok(options) => options,
                Err(unavailable) => {
                    self.database_unavailable(unavailable).await;
                    return Outcome::Rejected;
                }
            };
            let paths = self.paths.clone();
            let base = previous.clone();
            let built = tokio::task::spawn_blocking(move || match &base {
                Some(previous) => previous.rebuild(&paths, &options),
                None => Snapshot::build(&paths, &options),
            })
            .await;
            let outcome = match built {
                Ok(Ok(snapshot)) => {
                    if let Some(previous) = &previous
                        && let Some(why) = loosens(previous, &snapshot)
                        && !self.stays(&snapshot, why).await
                    {
                        // Changed again while settling: build what is there now.
                        continue;
                    }
                    self.adopt(snapshot, started).await;
                    Outcome::Adopted
                }
                Ok(Err(rejected)) => {
                    log_diagnostics(&rejected.diagnostics);
                    self.state.metrics.reload_failed();
                    self.watch_after_failure(&rejected.watch);
                    let why = first_error(&rejected.diagnostics);
                    self.report_failure(
                        format!(
                            "the last save cannot be used, generation {} keeps serving: {why}",
                            self.generation
                        ),
                        &rejected.diagnostics,
                    );
                    if self.state.is_ready() {
                        tracing::error!(
                            generation = self.generation,
                            "the configuration cannot be used; the previous one keeps serving: {why}"
                        );
                    } else {
                        tracing::error!(
                            "no usable configuration: nothing is served to phones until it is fixed: {why}"
                        );
                        self.state.problem.store(Some(Arc::new(why.clone())));
                        systemd::status(&format!("no usable configuration: {why}"));
                    }
                    Outcome::Rejected
                }
                Err(e) => {
                    self.state.metrics.reload_failed();
                    tracing::error!(error = %e, "building the configuration failed; the previous one (if any) keeps serving");
                    Outcome::Rejected
                }
            };
            if outcome == Outcome::Rejected {
                self.watch.set(self.watching.clone()).await;
            }
            // The replaced snapshot first (unless a request still holds it), then its memory.
            drop(previous);
            crate::memory::release_free_memory();
            return outcome;
        }
    }

    /// A reload that could not read the database: the previous configuration (if any) keeps serving.
    async fn database_unavailable(&mut self, unavailable: super::realtime::Unavailable) {
        self.state.metrics.reload_failed();
        self.watch_after_failure(&unavailable.watch);
        self.watch.set(self.watching.clone()).await;
        let why = unavailable.why;
        let summary = if self.state.is_ready() {
            tracing::warn!(
                generation = self.generation,
                "not reloaded: {why}; generation {} keeps serving",
                self.generation
            );
            format!(
                "not reloaded, generation {} keeps serving: {why}",
                self.generation
            )
        } else {
            self.state.problem.store(Some(Arc::new(why.clone())));
            systemd::status(&format!("no usable configuration: {why}"));
            format!("nothing is served to phones until the database can be read: {why}")
        };
        self.report_failure(summary, &[]);
    }

    /// What a failed attempt read joins what the last good configuration read: a fix anywhere reloads.
    fn watch_after_failure(&mut self, read: &[PathBuf]) {
        let mut watching = self.last_good.clone();
        watching.merge(&WatchSet::from_paths(read, &self.paths.phoneprov_dir()));
        self.watching = watching;
    }

    /// The status page's account of a reload that was not adopted.
    fn report_failure(&self, summary: String, diagnostics: &[Diagnostic]) {
        self.state
            .reload_report
            .store(Arc::new(super::status_page::ReloadReport {
                generation: self.generation,
                at: jiff::Timestamp::now().as_second(),
                adopted: false,
                summary,
                diagnostics: diagnostics
                    .iter()
                    .take(300)
                    .map(|d| d.to_string())
                    .collect(),
            }));
    }

    /// Waits the settle time; true when nothing changed meanwhile (`next` may be adopted).
    async fn stays(&mut self, next: &Snapshot, why: &str) -> bool {
        tracing::info!(
            "the new configuration {why}: it is adopted once its files stay as they are for {:?}",
            self.timing.settle
        );
        let before = fingerprint(next.watch());
        match tokio::time::timeout(self.timing.settle, self.triggers.recv()).await {
            Ok(Some(())) => {
                // Let the rest of that change arrive before reading again.
                while let Ok(Some(())) =
                    tokio::time::timeout(self.timing.debounce, self.triggers.recv()).await
                {
                }
                false
            }
            Ok(None) => true,
            Err(_) => before == fingerprint(next.watch()),
        }
    }

    async fn adopt(&mut self, snapshot: Snapshot, started: Instant) {
        self.wait_before_serving().await;
        self.generation += 1;
        log_diagnostics(snapshot.diagnostics());
        let facts = SnapshotFacts {
            generation: self.generation,
            phones: snapshot.phones().len(),
            routes: snapshot.routes().len(),
            errors: count(snapshot.diagnostics(), Severity::Error),
            warnings: count(snapshot.diagnostics(), Severity::Warning),
        };
        // What the build read of pjsip.conf: everything, or the changed sections alone.
        let read = match snapshot.reread_sections() {
            None => "everything".to_owned(),
            Some(n) => format!("{n} changed sections of pjsip.conf"),
        };
        let (wanted, tls) = (self.resolve)(snapshot.settings());
        let tls_watch = self.apply_tls(&tls, !wanted.https.is_empty());
        let mut watch = snapshot.watch().to_vec();
        watch.extend(tls_watch);
        self.last_good = WatchSet::from_paths(&watch, &self.paths.phoneprov_dir());
        self.watching = self.last_good.clone();
        self.state.access.configure(&snapshot);
        let tftp_without_profiles =
            !wanted.tftp.is_empty() && !snapshot.settings().tftp.profiles_set;
        self.state.snapshot.store(Arc::new(snapshot));
        self.state
            .ready
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.state.problem.store(None);
        self.state.metrics.reloaded(facts);
        let snapshot = self.state.snapshot.load();
        self.state
            .reload_report
            .store(Arc::new(super::status_page::ReloadReport {
                generation: facts.generation,
                at: jiff::Timestamp::now().as_second(),
                adopted: true,
                summary: format!(
                    "loaded: {} phones, {} routes, {} errors, {} warnings",
                    facts.phones, facts.routes, facts.errors, facts.warnings
                ),
                diagnostics: snapshot
                    .diagnostics()
                    .iter()
                    .take(300)
                    .map(|d| d.to_string())
                    .collect(),
            }));
        if let Some(notifier) = self.state.notifier.get() {
            let _ = notifier.send(crate::notify::Request::Reloaded);
        }
        tracing::info!(
            generation = facts.generation,
            phones = facts.phones,
            routes = facts.routes,
            errors = facts.errors,
            warnings = facts.warnings,
            ms = started.elapsed().as_millis() as u64,
            read = %read,
            "configuration loaded"
        );
        if tftp_without_profiles {
            tracing::warn!(
                "TFTP is on but pjprov.conf has no [tftp] profiles: nothing is served over TFTP (name the profiles it may serve, e.g. profiles = polycom)"
            );
        }
        // Watch before listening: no change made once a phone can connect may be missed.
        self.watch.set(self.watching.clone()).await;
        self.failures = self.listeners.reconcile(&wanted);
        // Nothing is closed unless everything wanted opened: what was open keeps serving. With nothing open
        // yet (the start), `serve` reports the failure and exits instead.
        if self.listeners.any_open() {
            for failed in &self.failures {
                tracing::error!("{failed}; still serving on the addresses already open");
            }
        }
    }

    /// Loads the certificate the configuration names. Returns the certificate files, to watch.
    fn apply_tls(&self, tls: &TlsFiles, https: bool) -> Vec<PathBuf> {
        match server_config(tls) {
            Ok(Some(config)) => self.state.tls.store(Some(config)),
            Ok(None) => {
                if https {
                    tracing::error!(
                        "HTTPS is on but no tls_cert/tls_key is set: HTTPS connections are closed"
                    );
                }
                self.state.tls.store(None);
            }
            Err(e) => {
                if self.state.tls.load().is_some() {
                    tracing::error!(error = %e, "cannot load the TLS certificate; the previous one keeps serving");
                } else {
                    tracing::error!(error = %e, "cannot load the TLS certificate: HTTPS connections are closed until it loads");
                }
            }
        }
        tls.paths().map(Path::to_owned).collect()
    }

    /// Opens the sockets for a server that has no usable configuration yet: pjprov.conf's if it can be read
    /// alone, else only the command line's. Returns the addresses that could not be opened.
    pub async fn listen_without_configuration(
        &mut self,
        pjprov_conf: Option<&pjprov_core::Settings>,
        command_line: &Listeners,
    ) {
        let wanted = match pjprov_conf {
            Some(settings) => (self.resolve)(settings).0,
            None => command_line.clone(),
        };
        self.wait_before_serving().await;
        // Watch before listening: no change made once a phone can connect may be missed.
        self.watch.set(self.watching.clone()).await;
        self.failures = self.listeners.reconcile(&wanted);
    }

    /// Reloads on every trigger, after `debounce` without further triggers, until `stop`; then closes
    /// every socket, letting open connections finish.
    pub async fn run(mut self, mut stop: tokio::sync::oneshot::Receiver<()>) {
        loop {
            tokio::select! {
                trigger = self.triggers.recv() => {
                    if trigger.is_none() {
                        break;
                    }
                }
                _ = &mut stop => break,
            }
            // Let a burst of events (an editor's save, a ConfigMap swap) settle.
            while let Ok(Some(())) =
                tokio::time::timeout(self.timing.debounce, self.triggers.recv()).await
            {}
            systemd::reloading();
            self.reload().await;
            if self.state.is_ready() {
                systemd::ready(&format!("serving generation {}", self.generation));
            }
        }
        self.listeners.stop().await;
    }
}

/// Why `next` would give less than `current`, if it would.
fn loosens(current: &Snapshot, next: &Snapshot) -> Option<&'static str> {
    if !next.settings().no_looser_than(current.settings()) {
        return Some("loosens access control in pjprov.conf");
    }
    if next.phones().len() < current.phones().len() {
        return Some("has fewer phones");
    }
    if next.routes().len() < current.routes().len() {
        return Some("has fewer routes");
    }
    None
}

/// What the files at `paths` are now (size, modification time, inode): equal fingerprints mean nothing was
/// written in between.
fn fingerprint(paths: &[PathBuf]) -> Vec<Option<(u64, i64, i64, u64)>> {
    use std::os::unix::fs::MetadataExt;
    paths
        .iter()
        .map(|path| {
            std::fs::metadata(path)
                .ok()
                .filter(|m| m.is_file())
                .map(|m| (m.len(), m.mtime(), m.mtime_nsec(), m.ino()))
        })
        .collect()
}

fn count(diagnostics: &[Diagnostic], severity: Severity) -> usize {
    diagnostics
        .iter()
        .filter(|d| d.severity() == severity)
        .count()
}

/// The first error, as one line (what `/healthz` and systemd's status say).
fn first_error(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .find(|d| d.severity() == Severity::Error)
        .map_or_else(
            || "see the log".to_owned(),
            |d| format!("{d} (run pjprov check for every problem)"),
        )
}

/// Logs each diagnostic with its file and line (they never contain secrets).
fn log_diagnostics(diagnostics: &[Diagnostic]) {
    const MAX: usize = 200;
    for d in diagnostics.iter().take(MAX) {
        match d.severity() {
            Severity::Error => tracing::error!(target: "pjprov::config", "{d}"),
            Severity::Warning => tracing::warn!(target: "pjprov::config", "{d}"),
        }
    }
    if diagnostics.len() > MAX {
        tracing::warn!(target: "pjprov::config", "{} more problems; run `pjprov check` to see them all", diagnostics.len() - MAX);
    }
}

//! Reloading: a file watcher and SIGHUP feed one channel; after a quiet period (debounce) a new snapshot is
//! built off the serving path and swapped in atomically. A configuration that cannot be used keeps the last
//! good one serving.
//!
//! The watcher watches the *directories* of every file the snapshot read (editors replace files by rename,
//! Kubernetes swaps a `..data` symlink, some tools delete and re-create), plus the phoneprov data directory
//! recursively, and ignores events that only read files.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode};
use notify::{Event, EventKind, RecursiveMode, Watcher};
use pjprov_core::{BuildOptions, Diagnostic, Paths, Severity, Snapshot};
use tokio::sync::mpsc;

use super::http::State;
use super::metrics::SnapshotFacts;
use super::options::Listeners;
use super::systemd;
use super::tls::server_config;
use pjprov_core::settings::TlsFiles;

/// What the watcher must watch: paths, and which of them are directories whose whole content matters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchSet {
    /// Files (and directories) the snapshot read, or would read if they existed.
    pub paths: BTreeSet<PathBuf>,
    /// Directories whose every change matters (the phoneprov directory, glob directories).
    pub content_dirs: BTreeSet<PathBuf>,
}

impl WatchSet {
    pub fn from_paths(watch: &[PathBuf], phoneprov_dir: &Path) -> WatchSet {
        let mut set = WatchSet::default();
        let phoneprov_dir = absolute(phoneprov_dir);
        for path in watch {
            // Events carry absolute paths, whatever the command line said (`--config-dir etc`).
            let path = absolute(path);
            if path.is_dir() || path == phoneprov_dir {
                set.content_dirs.insert(path.clone());
            }
            set.paths.insert(path);
        }
        set
    }

    fn merge(&mut self, other: &WatchSet) {
        self.paths.extend(other.paths.iter().cloned());
        self.content_dirs.extend(other.content_dirs.iter().cloned());
    }

    /// Whether a change at `path` can change the snapshot.
    pub fn is_relevant(&self, path: &Path) -> bool {
        self.paths.contains(path)
            || self.content_dirs.iter().any(|dir| path.starts_with(dir))
            || path
                .file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with(".."))
            || self.paths.iter().any(|p| p.starts_with(path))
    }

    /// The directories to put an OS watch on, and how.
    fn targets(&self) -> BTreeSet<(PathBuf, bool)> {
        let mut targets = BTreeSet::new();
        for path in &self.paths {
            if let Some(parent) = nearest_existing(path.parent().unwrap_or(path)) {
                targets.insert((parent, false));
            }
        }
        for dir in &self.content_dirs {
            if dir.is_dir() {
                targets.insert((dir.clone(), true));
            }
        }
        targets
    }
}

/// `path` from the root (relative to the current directory otherwise), symlinks left as they are: a
/// Kubernetes `..data` swap must still be seen as a change of the link.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

fn nearest_existing(path: &Path) -> Option<PathBuf> {
    path.ancestors().find(|p| p.is_dir()).map(Path::to_owned)
}

/// Whether a notify event may change what a file contains (opening or reading it does not).
fn changes_content(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

type Command = (WatchSet, tokio::sync::oneshot::Sender<()>);

/// Owns the OS watcher on its own thread; `set` replaces what is watched.
#[derive(Debug, Clone)]
pub struct WatchControl {
    commands: std::sync::mpsc::Sender<Command>,
}

impl WatchControl {
    /// Replaces what is watched; returns once the watches are in place, so no change made after that can
    /// be missed.
    pub async fn set(&self, set: WatchSet) {
        let (done, applied) = tokio::sync::oneshot::channel();
        if self.commands.send((set, done)).is_ok() {
            let _ = applied.await;
        }
    }
}

/// Starts the watcher thread; relevant changes send `()` on `trigger`.
pub fn start_watcher(trigger: mpsc::Sender<()>) -> WatchControl {
    let (commands, receive) = std::sync::mpsc::channel::<Command>();
    let wanted = Arc::new(RwLock::new(WatchSet::default()));
    std::thread::Builder::new()
        .name("pjprov-watch".into())
        .spawn(move || watch_thread(receive, wanted, trigger))
        .ok();
    WatchControl { commands }
}

fn watch_thread(
    receive: std::sync::mpsc::Receiver<Command>,
    wanted: Arc<RwLock<WatchSet>>,
    trigger: mpsc::Sender<()>,
) {
    let filter = wanted.clone();
    let callback = move |result: notify::Result<Event>| match result {
        Ok(event) => {
            if !changes_content(&event.kind) {
                return;
            }
            let set = filter.read().unwrap_or_else(|e| e.into_inner());
            if event.paths.iter().any(|p| set.is_relevant(p)) || event.need_rescan() {
                tracing::debug!(paths = ?event.paths, kind = ?event.kind, "change");
                let _ = trigger.try_send(());
            }
        }
        Err(e) => tracing::warn!(error = %e, "file watcher error"),
    };
    let mut watcher = match notify::recommended_watcher(callback) {
        Ok(w) => w,
        Err(e) => {
            tracing::error!(error = %e, "cannot watch files; reload with SIGHUP");
            // Keep answering, so reloads do not wait for a watcher that does not exist.
            while let Ok((_, done)) = receive.recv() {
                let _ = done.send(());
            }
            return;
        }
    };
    let mut current: BTreeSet<(PathBuf, bool)> = BTreeSet::new();
    while let Ok((set, done)) = receive.recv() {
        let targets = set.targets();
        *wanted.write().unwrap_or_else(|e| e.into_inner()) = set;
        for (dir, _) in current.difference(&targets) {
            let _ = watcher.unwatch(dir);
        }
        for (dir, recursive) in targets.difference(&current) {
            let mode = if *recursive {
                RecursiveMode::Recursive
            } else {
                RecursiveMode::NonRecursive
            };
            if let Err(e) = watcher.watch(dir, mode) {
                tracing::warn!(dir = %dir.display(), error = %e, "cannot watch");
            }
        }
        current = targets;
        let _ = done.send(());
    }
}

/// Turns a snapshot's settings into sockets and certificate files (the command line winning).
pub type Resolve = Box<dyn Fn(&pjprov_core::Settings) -> (Listeners, TlsFiles) + Send + Sync>;

/// What the server was started with that a reload must not silently change: the sockets open, and how
/// pjprov.conf's settings combine with the command line.
pub struct Startup {
    /// Turns a snapshot's settings into sockets and certificate files.
    pub resolve: Resolve,
    /// The sockets actually open.
    pub listeners: Listeners,
}

/// Rebuilds and swaps snapshots.
pub struct Reloader {
    pub paths: Paths,
    pub options: BuildOptions,
    pub state: Arc<State>,
    pub watch: WatchControl,
    pub startup: Option<Startup>,
    generation: u64,
    /// What the last attempt (good or not) read, so a fix anywhere is noticed.
    watching: WatchSet,
    last_good: WatchSet,
}

impl Reloader {
    pub fn new(
        paths: Paths,
        options: BuildOptions,
        state: Arc<State>,
        watch: WatchControl,
    ) -> Reloader {
        Reloader {
            paths,
            options,
            state,
            watch,
            startup: None,
            generation: 0,
            watching: WatchSet::default(),
            last_good: WatchSet::default(),
        }
    }

    /// Builds a snapshot and serves it if it is usable. Returns whether it was.
    pub async fn reload(&mut self) -> bool {
        let started = Instant::now();
        let paths = self.paths.clone();
        let options = self.options.clone();
        let built = tokio::task::spawn_blocking(move || Snapshot::build(&paths, &options)).await;
        let phoneprov_dir = self.paths.phoneprov_dir();
        let ok = match built {
            Ok(Ok(snapshot)) => {
                self.generation += 1;
                log_diagnostics(snapshot.diagnostics());
                let facts = SnapshotFacts {
                    generation: self.generation,
                    phones: snapshot.phones().len(),
                    routes: snapshot.routes().len(),
                    errors: count(snapshot.diagnostics(), Severity::Error),
                    warnings: count(snapshot.diagnostics(), Severity::Warning),
                };
                let extra = self.apply_startup(&snapshot);
                let mut watch = snapshot.watch().to_vec();
                watch.extend(extra);
                self.last_good = WatchSet::from_paths(&watch, &phoneprov_dir);
                self.watching = self.last_good.clone();
                self.state.access.configure(&snapshot);
                self.state.snapshot.store(Arc::new(snapshot));
                self.state
                    .ready
                    .store(true, std::sync::atomic::Ordering::Relaxed);
                self.state.metrics.reloaded(facts);
                tracing::info!(
                    generation = facts.generation,
                    phones = facts.phones,
                    routes = facts.routes,
                    errors = facts.errors,
                    warnings = facts.warnings,
                    ms = started.elapsed().as_millis() as u64,
                    "configuration loaded"
                );
                true
            }
            Ok(Err(rejected)) => {
                log_diagnostics(&rejected.diagnostics);
                self.state.metrics.reload_failed();
                let mut watching = self.last_good.clone();
                watching.merge(&WatchSet::from_paths(&rejected.watch, &phoneprov_dir));
                self.watching = watching;
                tracing::error!(
                    generation = self.generation,
                    "the configuration cannot be used; the previous one keeps serving"
                );
                false
            }
            Err(e) => {
                self.state.metrics.reload_failed();
                tracing::error!(error = %e, "building the configuration failed; the previous one keeps serving");
                false
            }
        };
        self.watch.set(self.watching.clone()).await;
        crate::memory::release_free_memory();
        ok
    }

    /// Takes the start-up facts and applies them to the snapshot being served (its certificate).
    pub async fn start(&mut self, startup: Startup) {
        self.startup = Some(startup);
        if !self.state.ready.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let snapshot = self.state.snapshot.load_full();
        let extra = self.apply_startup(&snapshot);
        let phoneprov_dir = self.paths.phoneprov_dir();
        let extra = WatchSet::from_paths(&extra, &phoneprov_dir);
        self.last_good.merge(&extra);
        self.watching.merge(&extra);
        self.watch.set(self.watching.clone()).await;
    }

    /// Loads the certificate this snapshot names and warns about listen addresses that changed (they take
    /// a restart). Returns the certificate files, to watch.
    fn apply_startup(&self, snapshot: &Snapshot) -> Vec<PathBuf> {
        let Some(startup) = &self.startup else {
            return Vec::new();
        };
        let (listeners, tls) = (startup.resolve)(snapshot.settings());
        if listeners != startup.listeners {
            tracing::warn!(
                "the listen addresses in pjprov.conf changed: restart pjprov to listen on them (still serving on the old ones)"
            );
        }
        match server_config(&tls) {
            Ok(Some(config)) => self.state.tls.store(Some(config)),
            Ok(None) => {
                if !startup.listeners.https.is_empty() {
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

    /// Reloads on every trigger, after `debounce` without further triggers.
    pub async fn run(mut self, mut triggers: mpsc::Receiver<()>, debounce: Duration) {
        while triggers.recv().await.is_some() {
            // Let a burst of events (an editor's save, a ConfigMap swap) settle.
            while let Ok(Some(())) = tokio::time::timeout(debounce, triggers.recv()).await {}
            systemd::reloading();
            self.reload().await;
            systemd::ready(&format!("serving generation {}", self.generation));
        }
    }
}

fn count(diagnostics: &[Diagnostic], severity: Severity) -> usize {
    diagnostics
        .iter()
        .filter(|d| d.severity() == severity)
        .count()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relevance() {
        let set = WatchSet::from_paths(
            &[
                PathBuf::from("/etc/asterisk/pjsip.conf"),
                PathBuf::from("/var/lib/asterisk/phoneprov"),
            ],
            Path::new("/var/lib/asterisk/phoneprov"),
        );
        assert!(set.is_relevant(Path::new("/etc/asterisk/pjsip.conf")));
        assert!(set.is_relevant(Path::new("/etc/asterisk/..data")));
        assert!(set.is_relevant(Path::new("/etc/asterisk/..2026_11_23_12_00_00.123")));
        assert!(set.is_relevant(Path::new("/var/lib/asterisk/phoneprov/sub/t.cfg")));
        assert!(
            set.is_relevant(Path::new("/etc")),
            "a parent directory replaced"
        );
        assert!(!set.is_relevant(Path::new("/etc/asterisk/extensions.conf")));
        assert!(!set.is_relevant(Path::new("/etc/asterisk/.pjsip.conf.swp")));
    }

    #[test]
    fn reads_are_not_changes() {
        assert!(!changes_content(&EventKind::Access(AccessKind::Open(
            AccessMode::Any
        ))));
        assert!(!changes_content(&EventKind::Access(AccessKind::Close(
            AccessMode::Read
        ))));
        assert!(changes_content(&EventKind::Access(AccessKind::Close(
            AccessMode::Write
        ))));
        assert!(changes_content(&EventKind::Create(
            notify::event::CreateKind::File
        )));
    }
}

//! Watching the files a snapshot read: the *directories* of every file (editors replace files by rename,
//! Kubernetes swaps a `..data` symlink, some tools delete and re-create), plus the phoneprov data directory
//! recursively. Only completed changes count: a file closed after writing, created, removed, renamed or
//! given new permissions. A write still in progress (an in-place save that truncates, then writes) is not
//! one, so the reloader never reads the gap between the two.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use notify::event::{AccessKind, AccessMode, ModifyKind};
use notify::{Event, EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;

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

    pub fn merge(&mut self, other: &WatchSet) {
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

/// Whether a notify event is a completed change: a write finished (closed), a file created, removed,
/// renamed or given other permissions. Opening or reading a file is none, and neither is a write still in
/// progress (`IN_MODIFY`): its file may be half-written.
fn completes_a_change(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        EventKind::Modify(ModifyKind::Data(_)) => false,
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
            if !completes_a_change(&event.kind) {
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
    fn only_completed_changes_count() {
        assert!(!completes_a_change(&EventKind::Access(AccessKind::Open(
            AccessMode::Any
        ))));
        assert!(!completes_a_change(&EventKind::Access(AccessKind::Close(
            AccessMode::Read
        ))));
        assert!(
            !completes_a_change(&EventKind::Modify(ModifyKind::Data(
                notify::event::DataChange::Any
            ))),
            "a write in progress: the file may be half-written"
        );
        assert!(completes_a_change(&EventKind::Access(AccessKind::Close(
            AccessMode::Write
        ))));
        assert!(completes_a_change(&EventKind::Create(
            notify::event::CreateKind::File
        )));
        assert!(completes_a_change(&EventKind::Modify(ModifyKind::Name(
            notify::event::RenameMode::Any
        ))));
        assert!(completes_a_change(&EventKind::Modify(
            ModifyKind::Metadata(notify::event::MetadataKind::Permissions)
        )));
        assert!(completes_a_change(&EventKind::Remove(
            notify::event::RemoveKind::File
        )));
    }
}

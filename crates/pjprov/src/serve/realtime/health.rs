//! Whether the database can be read: set by every fetch and every poll, read by `/healthz` and
//! `/metrics`. A failure is logged when the database becomes unreadable, and again only once it can be
//! read again; every failed attempt is counted.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Since when, and why, the database cannot be read.
#[derive(Debug, Clone)]
pub struct Down {
    pub since: jiff::Timestamp,
    pub why: String,
}

#[derive(Debug, Default)]
pub struct Health {
    down: Mutex<Option<Down>>,
    failures: AtomicU64,
    used: AtomicBool,
}

impl Health {
    /// A fetch or a poll failed (`why` names the database, never the password).
    pub fn failed(&self, why: &str) {
        self.used.store(true, Ordering::Relaxed);
        self.failures.fetch_add(1, Ordering::Relaxed);
        let mut down = self.down.lock().unwrap_or_else(|p| p.into_inner());
        if down.is_none() {
            tracing::error!(
                target: "pjprov::realtime",
                "{why}; the configuration being served (if any) keeps serving until the database can be read again"
            );
            *down = Some(Down {
                since: jiff::Timestamp::now(),
                why: why.to_owned(),
            });
        } else {
            tracing::debug!(target: "pjprov::realtime", "{why}");
        }
    }

    /// A fetch or a poll worked.
    pub fn ok(&self) {
        self.used.store(true, Ordering::Relaxed);
        let mut down = self.down.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(was) = down.take() {
            let seconds = jiff::Timestamp::now().as_second() - was.since.as_second();
            tracing::info!(
                target: "pjprov::realtime",
                "the database can be read again (it could not for {seconds} s)"
            );
        }
    }

    /// No object comes from a database.
    pub fn unused(&self) {
        self.used.store(false, Ordering::Relaxed);
        *self.down.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Why the database cannot be read, while it cannot.
    pub fn down(&self) -> Option<Down> {
        self.down.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// For `/metrics`: `Some(up)` when objects come from a database, and the failures so far.
    pub fn gauges(&self) -> (Option<bool>, u64) {
        let used = self.used.load(Ordering::Relaxed);
        (
            used.then(|| self.down().is_none()),
            self.failures.load(Ordering::Relaxed),
        )
    }
}

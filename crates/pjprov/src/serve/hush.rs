//! Log lines about one client that a flood would repeat thousands of times a second (refused connections):
//! one a minute per client and kind, with a bounded memory.

use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lru::LruCache;

/// How often a line about one client and kind may be logged.
const EVERY: Duration = Duration::from_secs(60);

/// Clients recently logged about.
#[derive(Debug)]
pub struct Hush {
    recent: Mutex<LruCache<(IpAddr, &'static str), Instant>>,
}

impl Default for Hush {
    fn default() -> Hush {
        Hush {
            recent: Mutex::new(LruCache::new(
                NonZeroUsize::new(4096).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }
}

impl Hush {
    /// Calls `log` unless a line of this kind about `client` was logged within the last minute.
    pub fn log(&self, client: IpAddr, kind: &'static str, log: impl FnOnce()) {
        let now = Instant::now();
        let due = {
            let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
            match recent.get(&(client, kind)) {
                Some(at) if now.duration_since(*at) < EVERY => false,
                _ => {
                    recent.put((client, kind), now);
                    true
                }
            }
        };
        if due {
            log();
        }
    }
}

//! Scan throttling: counting, per client, the misses that only a scanner makes, and refusing clients that
//! make too many.
//!
//! A *miss* is a request for a name shaped like a phone's file whose MAC no phone has (each distinct MAC
//! counts once per window, so a phone that reboots in a loop is one miss), or credentials that failed. After
//! `slow_after` misses in `window` a client's answers are delayed; after `refuse_after` it is refused for
//! `ban`. Separately, a client fetching the files of more than `harvest_phones` different phones within
//! `harvest_window` is flagged (and refused, if so configured).
//!
//! Clients are counted per address prefix (an IPv6 host owns a /64) in a bounded LRU table sharded by
//! hash: a flood from spoofed sources forgets the least recently seen clients, it never grows memory. Each
//! entry holds at most `refuse_after + harvest_phones` 32-bit fingerprints.

use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use lru::LruCache;
use pjprov_core::Mac;
use pjprov_core::settings::{HarvestAction, Limits};

const SHARDS: usize = 16;

/// A client, as counted: its address with the host bits beyond the prefix cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientKey(IpAddr);

impl ClientKey {
    /// The key for `ip` under `limits`' prefix lengths.
    pub fn new(ip: IpAddr, limits: &Limits) -> ClientKey {
        let ip = pjprov_core::settings::unmap(ip);
        let masked = match ip {
            IpAddr::V4(v4) => {
                let bits = u32::from(v4);
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(limits.ipv4_prefix))
                    .unwrap_or(0);
                IpAddr::V4((bits & mask).into())
            }
            IpAddr::V6(v6) => {
                let bits = u128::from(v6);
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(limits.ipv6_prefix))
                    .unwrap_or(0);
                IpAddr::V6((bits & mask).into())
            }
        };
        ClientKey(masked)
    }

    /// The address (network) counted.
    pub fn ip(&self) -> IpAddr {
        self.0
    }
}

#[derive(Debug)]
struct Entry {
    window_start: Instant,
    /// Fingerprints of the unknown MACs asked for in this window.
    unknown: Vec<u32>,
    /// Failed authentications in this window.
    failures: u32,
    banned_until: Option<Instant>,
    harvest_start: Instant,
    /// Fingerprints of the phones served in this harvest window.
    phones: Vec<u32>,
    flagged: bool,
}

impl Entry {
    fn new(now: Instant) -> Entry {
        Entry {
            window_start: now,
            unknown: Vec::new(),
            failures: 0,
            banned_until: None,
            harvest_start: now,
            phones: Vec::new(),
            flagged: false,
        }
    }

    fn roll(&mut self, now: Instant, limits: &Limits) {
        if now.duration_since(self.window_start) >= limits.window {
            self.window_start = now;
            self.unknown.clear();
            self.failures = 0;
        }
        if now.duration_since(self.harvest_start) >= limits.harvest_window {
            self.harvest_start = now;
            self.phones.clear();
            self.flagged = false;
        }
    }

    fn misses(&self) -> u32 {
        self.unknown.len() as u32 + self.failures
    }
}

/// What the throttle knows of a client: what the access decision is made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Standing {
    /// Refused for this many more seconds (a ban).
    pub refused_for: Option<u64>,
    /// Misses in the current window.
    pub misses: u32,
    /// Whether the MAC asked about is already among them (asking again is no new miss).
    pub counted: bool,
}

/// What recording a served phone file did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HarvestOutcome {
    /// Nothing to say.
    Fine,
    /// The client just crossed the harvest threshold.
    Flagged {
        /// Distinct phones served.
        phones: u32,
        /// Whether it is now refused.
        refused: bool,
    },
}

/// The throttle's memory, kept across reloads.
#[derive(Debug)]
pub struct Throttle {
    shards: Vec<Mutex<LruCache<ClientKey, Entry>>>,
    /// Clients currently refused (approximately).
    banned: AtomicUsize,
    /// Whether any miss was ever recorded: until then (the usual case) a client's standing takes no lock.
    any_miss: std::sync::atomic::AtomicBool,
}

impl Throttle {
    /// An empty table for at most `max_clients` clients.
    pub fn new(max_clients: usize) -> Throttle {
        let per_shard =
            NonZeroUsize::new(max_clients.div_ceil(SHARDS).max(1)).unwrap_or(NonZeroUsize::MIN);
        Throttle {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(LruCache::new(per_shard)))
                .collect(),
            banned: AtomicUsize::new(0),
            any_miss: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Applies a new `max_clients` (after a reload).
    pub fn resize(&self, max_clients: usize) {
        let per_shard =
            NonZeroUsize::new(max_clients.div_ceil(SHARDS).max(1)).unwrap_or(NonZeroUsize::MIN);
        for shard in &self.shards {
            let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            if shard.cap() != per_shard {
                shard.resize(per_shard);
            }
        }
    }

    fn shard(&self, key: &ClientKey) -> &Mutex<LruCache<ClientKey, Entry>> {
        let mut hasher = rustc_hash::FxHasher::default();
        key.hash(&mut hasher);
        &self.shards[(hasher.finish() as usize) % SHARDS]
    }

    /// What is known of `key`, and whether `mac` (the MAC a request names) is among its misses.
    pub fn standing(
        &self,
        key: &ClientKey,
        mac: Option<Mac>,
        limits: &Limits,
        now: Instant,
    ) -> Standing {
        if self.banned.load(Ordering::Relaxed) == 0 && !self.any_miss.load(Ordering::Relaxed) {
            return Standing::default();
        }
        let mut shard = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        let Some(entry) = shard.get_mut(key) else {
            return Standing::default();
        };
        if let Some(until) = entry.banned_until {
            if until > now {
                return Standing {
                    refused_for: Some(until.duration_since(now).as_secs().max(1)),
                    misses: entry.misses(),
                    counted: false,
                };
            }
            // The ban is over: a clean slate.
            entry.banned_until = None;
            self.banned.fetch_sub(1, Ordering::Relaxed);
            entry.window_start = now;
            entry.unknown.clear();
            entry.failures = 0;
        }
        entry.roll(now, limits);
        Standing {
            refused_for: None,
            misses: entry.misses(),
            counted: mac.is_some_and(|mac| entry.unknown.contains(&fingerprint(mac))),
        }
    }

    /// Records a request for unknown phone `mac` (`None`: failed credentials).
    pub fn record_miss(&self, key: &ClientKey, mac: Option<Mac>, limits: &Limits, now: Instant) {
        self.any_miss.store(true, Ordering::Relaxed);
        let mut shard = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        let entry = shard.get_or_insert_mut(*key, || Entry::new(now));
        entry.roll(now, limits);
        match mac {
            Some(mac) => {
                let print = fingerprint(mac);
                if !entry.unknown.contains(&print)
                    && entry.unknown.len() < limits.refuse_after as usize + 1
                {
                    entry.unknown.push(print);
                }
            }
            None => entry.failures = entry.failures.saturating_add(1),
        }
    }

    /// Refuses `key` for `limits.ban`.
    pub fn ban(&self, key: &ClientKey, limits: &Limits, now: Instant) {
        let mut shard = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        let entry = shard.get_or_insert_mut(*key, || Entry::new(now));
        if entry.banned_until.is_none() {
            self.banned.fetch_add(1, Ordering::Relaxed);
        }
        entry.banned_until = Some(now + limits.ban);
    }

    /// Records that `key` was served the file of phone `mac`.
    pub fn served(
        &self,
        key: &ClientKey,
        mac: Mac,
        limits: &Limits,
        now: Instant,
    ) -> HarvestOutcome {
        let mut shard = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        let entry = shard.get_or_insert_mut(*key, || Entry::new(now));
        entry.roll(now, limits);
        let print = fingerprint(mac);
        if entry.phones.contains(&print) || entry.phones.len() > limits.harvest_phones as usize {
            return HarvestOutcome::Fine;
        }
        entry.phones.push(print);
        if entry.phones.len() as u32 > limits.harvest_phones && !entry.flagged {
            entry.flagged = true;
            let refused = limits.harvest_action == HarvestAction::Refuse;
            if refused {
                if entry.banned_until.is_none() {
                    self.banned.fetch_add(1, Ordering::Relaxed);
                }
                entry.banned_until = Some(now + limits.ban);
            }
            return HarvestOutcome::Flagged {
                phones: entry.phones.len() as u32,
                refused,
            };
        }
        HarvestOutcome::Fine
    }

    /// Clients tracked (for metrics).
    pub fn tracked(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }

    /// Clients refused right now (approximately).
    pub fn refused(&self) -> usize {
        self.banned.load(Ordering::Relaxed)
    }
}

fn fingerprint(mac: Mac) -> u32 {
    let mut hasher = rustc_hash::FxHasher::default();
    mac.hash(&mut hasher);
    hasher.finish() as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limits() -> Limits {
        Limits {
            slow_after: 2,
            refuse_after: 4,
            harvest_phones: 3,
            ..Limits::default()
        }
    }

    fn mac(n: u32) -> Mac {
        Mac::parse(&format!("0004f2{n:06x}")).unwrap()
    }

    fn key(ip: &str) -> ClientKey {
        ClientKey::new(ip.parse().unwrap(), &Limits::default())
    }

    #[test]
    fn misses_are_counted_once_per_mac_and_bans_end() {
        let throttle = Throttle::new(1000);
        let limits = limits();
        let client = key("198.51.100.7");
        let now = Instant::now();
        assert_eq!(
            throttle.standing(&client, None, &limits, now),
            Standing::default()
        );
        throttle.record_miss(&client, Some(mac(1)), &limits, now);
        throttle.record_miss(&client, Some(mac(2)), &limits, now);
        // The same MAC again is no new miss (one phone rebooting).
        throttle.record_miss(&client, Some(mac(2)), &limits, now);
        let standing = throttle.standing(&client, Some(mac(2)), &limits, now);
        assert_eq!((standing.misses, standing.counted), (2, true));
        assert!(
            !throttle
                .standing(&client, Some(mac(3)), &limits, now)
                .counted
        );
        throttle.record_miss(&client, None, &limits, now);
        assert_eq!(throttle.standing(&client, None, &limits, now).misses, 3);

        throttle.ban(&client, &limits, now);
        assert_eq!(
            throttle.standing(&client, None, &limits, now).refused_for,
            Some(600)
        );
        assert_eq!(
            throttle.standing(&key("198.51.100.8"), None, &limits, now),
            Standing::default()
        );
        assert_eq!(throttle.refused(), 1);
        let later = now + Duration::from_secs(601);
        assert_eq!(
            throttle.standing(&client, None, &limits, later),
            Standing::default()
        );
        assert_eq!(throttle.refused(), 0);
    }

    #[test]
    fn the_window_forgets() {
        let throttle = Throttle::new(1000);
        let limits = limits();
        let client = key("198.51.100.7");
        let now = Instant::now();
        for n in 0..3 {
            throttle.record_miss(&client, Some(mac(n)), &limits, now);
        }
        assert_eq!(throttle.standing(&client, None, &limits, now).misses, 3);
        let later = now + limits.window;
        assert_eq!(throttle.standing(&client, None, &limits, later).misses, 0);
    }

    #[test]
    fn harvesting_is_flagged_once() {
        let throttle = Throttle::new(1000);
        let limits = limits();
        let client = key("203.0.113.1");
        let now = Instant::now();
        for n in 0..3 {
            assert_eq!(
                throttle.served(&client, mac(n), &limits, now),
                HarvestOutcome::Fine
            );
            assert_eq!(
                throttle.served(&client, mac(n), &limits, now),
                HarvestOutcome::Fine
            );
        }
        assert_eq!(
            throttle.served(&client, mac(3), &limits, now),
            HarvestOutcome::Flagged {
                phones: 4,
                refused: false
            }
        );
        assert_eq!(
            throttle.served(&client, mac(4), &limits, now),
            HarvestOutcome::Fine
        );
        assert_eq!(
            throttle.standing(&client, None, &limits, now),
            Standing::default()
        );

        let refuse = Limits {
            harvest_action: HarvestAction::Refuse,
            ..limits
        };
        let other = key("203.0.113.2");
        for n in 0..3 {
            throttle.served(&other, mac(n), &refuse, now);
        }
        assert!(matches!(
            throttle.served(&other, mac(3), &refuse, now),
            HarvestOutcome::Flagged { refused: true, .. }
        ));
        assert!(
            throttle
                .standing(&other, None, &refuse, now)
                .refused_for
                .is_some()
        );
    }

    #[test]
    fn memory_is_bounded() {
        let throttle = Throttle::new(64);
        let limits = limits();
        let now = Instant::now();
        for n in 0..10_000u32 {
            let ip = IpAddr::V4(n.into());
            throttle.record_miss(&ClientKey::new(ip, &limits), Some(mac(n)), &limits, now);
        }
        assert!(throttle.tracked() <= 64, "{}", throttle.tracked());
    }

    #[test]
    fn ipv6_hosts_count_per_64() {
        let limits = Limits::default();
        let a = ClientKey::new("2001:db8:1:2::1".parse().unwrap(), &limits);
        let b = ClientKey::new("2001:db8:1:2:ffff::9".parse().unwrap(), &limits);
        let c = ClientKey::new("2001:db8:1:3::1".parse().unwrap(), &limits);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let v4 = ClientKey::new("::ffff:192.0.2.1".parse().unwrap(), &limits);
        assert_eq!(v4.ip(), "192.0.2.1".parse::<IpAddr>().unwrap());
    }
}

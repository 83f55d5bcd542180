//! What every phone has: first and last seen, its address, User-Agent (vendor, model, firmware), every file
//! it fetched with the entity tag served, and where it stands with the configuration being served
//! (current, stale, never). Also the clients that asked for files of MACs no phone has, capped.
//!
//! Requests update the in-memory view (sharded locks, a few hundred nanoseconds) and mark what changed; one
//! thread writes the changes to the state directory in batches ([`Inventory::run_writer`], every 200 ms), so
//! the request path never waits for a disk, and a completed fetch survives a crash once its batch is
//! committed. These records also carry the audit facts, which the log may drop under backpressure: the
//! inventory does not.

mod record;
mod store;

use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use arc_swap::ArcSwap;
use lru::LruCache;
use pjprov_core::Mac;
use rustc_hash::{FxHashMap, FxHashSet};

pub use record::{PhoneRecord, State, UnknownRecord};
use store::Batch;
pub use store::Store;

const SHARDS: usize = 16;
/// Unknown clients remembered at most (the least recently seen are forgotten first).
pub const MAX_UNKNOWN: usize = 10_000;
/// How often the changes are written.
pub const BATCH_INTERVAL: Duration = Duration::from_millis(200);

/// The current entity tag of each file a phone is served, as the last reload computed it.
pub type Current = FxHashMap<Mac, Vec<(Box<str>, Box<str>)>>;

/// One request, as the inventory records it.
#[derive(Debug, Clone, Copy)]
pub struct Fetch<'a> {
    pub client: IpAddr,
    /// The address the client connected to, and the port.
    pub server: IpAddr,
    pub port: u16,
    /// Its `Host` header.
    pub host: Option<&'a str>,
    pub user_agent: &'a str,
    pub uri: &'a str,
    pub etag: Option<&'a str>,
    pub status: u16,
    pub protocol: &'static str,
}

/// The inventory.
#[derive(Debug)]
pub struct Inventory {
    shards: Vec<RwLock<FxHashMap<Mac, PhoneRecord>>>,
    unknown: Mutex<LruCache<Mac, UnknownRecord>>,
    /// The phone each address was last seen as (static files are fetched by address).
    by_address: RwLock<FxHashMap<IpAddr, Mac>>,
    dirty: Mutex<(FxHashSet<Mac>, FxHashSet<Mac>)>,
    /// Shared with the enrolment state (issue #18), which keeps its own table in the same database.
    store: Option<std::sync::Arc<Store>>,
    current: ArcSwap<Current>,
    stop: AtomicBool,
}

impl Inventory {
    /// The inventory kept in `state_dir`, loaded from there; in memory only (with the reason) when the
    /// directory cannot be used.
    pub fn open(state_dir: &Path) -> (Inventory, Option<String>) {
        let mut inventory = Inventory::in_memory();
        match Store::open(state_dir) {
            Ok(store) => match store.load() {
                Ok((phones, unknown)) => {
                    for (mac, record) in phones {
                        if let Some(address) = record.address {
                            inventory.address_is(address, mac);
                        }
                        inventory
                            .shard(mac)
                            .write()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(mac, record);
                    }
                    let mut cache = inventory.unknown.lock().unwrap_or_else(|e| e.into_inner());
                    for (mac, record) in unknown {
                        cache.put(mac, record);
                    }
                    drop(cache);
                    inventory.store = Some(std::sync::Arc::new(store));
                    (inventory, None)
                }
                Err(e) => (inventory, Some(format!("cannot read the inventory: {e}"))),
            },
            Err(why) => (inventory, Some(why)),
        }
    }

    /// An inventory that is never written anywhere.
    pub fn in_memory() -> Inventory {
        Inventory {
            shards: (0..SHARDS)
                .map(|_| RwLock::new(FxHashMap::default()))
                .collect(),
            unknown: Mutex::new(LruCache::new(
                NonZeroUsize::new(MAX_UNKNOWN).unwrap_or(NonZeroUsize::MIN),
            )),
            by_address: RwLock::new(FxHashMap::default()),
            dirty: Mutex::new((FxHashSet::default(), FxHashSet::default())),
            store: None,
            current: ArcSwap::from_pointee(Current::default()),
            stop: AtomicBool::new(false),
        }
    }

    fn shard(&self, mac: Mac) -> &RwLock<FxHashMap<Mac, PhoneRecord>> {
        let index = mac
            .octets()
            .iter()
            .fold(0usize, |acc, b| acc.wrapping_mul(31) ^ usize::from(*b));
        &self.shards[index % SHARDS]
    }

    fn address_is(&self, address: IpAddr, mac: Mac) {
        // Usually known already: a read lock, which every request can take at once.
        let known = self
            .by_address
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&address)
            == Some(&mac);
        if !known {
            self.by_address
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .insert(address, mac);
        }
    }

    /// Records a request, by what it was about: a phone's file (or a name shaped like one, with the MAC of
    /// a configured phone), a file no single phone owns (on the phone last seen at that address), a MAC
    /// no phone has (an unknown client).
    pub fn record(&self, subject: pjprov_core::Subject, fetch: Fetch<'_>) {
        use pjprov_core::Subject;
        match subject {
            Subject::Phone { mac: Some(mac), .. } => self.fetched(mac, fetch),
            Subject::PhoneShaped {
                mac,
                phone: Some(_),
                ..
            } => self.fetched(mac, fetch),
            Subject::PhoneShaped {
                mac, phone: None, ..
            } => self.fetched_unknown(mac, fetch),
            Subject::Shared { .. } => self.fetched_shared(fetch),
            Subject::Phone { mac: None, .. } | Subject::Other => {}
        }
    }

    /// Records a request about phone `mac` (a configured one).
    pub fn fetched(&self, mac: Mac, fetch: Fetch<'_>) {
        let now = jiff::Timestamp::now().as_second();
        let changed = {
            let mut shard = self.shard(mac).write().unwrap_or_else(|e| e.into_inner());
            let record = shard.entry(mac).or_insert_with(|| PhoneRecord {
                first_seen: now,
                ..PhoneRecord::default()
            });
            // Only a record that changed is written again: a phone polling the same bytes from the same
            // place within one second (a boot storm's retries, a keep-alive loop) costs the store nothing.
            let mut changed = record.last_seen != now;
            record.last_seen = now;
            if record.address != Some(fetch.client) {
                record.address = Some(fetch.client);
                changed = true;
            }
            if record.server != Some(fetch.server) {
                record.server = Some(fetch.server);
                changed = true;
            }
            if record.protocol != fetch.protocol {
                record.protocol = fetch.protocol.to_owned();
                changed = true;
            }
            if record.port != fetch.port {
                record.port = fetch.port;
                changed = true;
            }
            if record.host.as_deref() != fetch.host {
                record.host = fetch.host.map(str::to_owned);
                changed = true;
            }
            changed |= record.saw_user_agent(fetch.user_agent);
            if (200..400).contains(&fetch.status) {
                changed |= record.remember(fetch.uri, fetch.etag, now, fetch.status);
            }
            changed
        };
        self.address_is(fetch.client, mac);
        if changed {
            self.dirty
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .0
                .insert(mac);
        }
    }

    /// Records a file no single phone owns (a static or shared file) on the phone last seen at the client's
    /// address, if any.
    pub fn fetched_shared(&self, fetch: Fetch<'_>) {
        let mac = self
            .by_address
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&fetch.client)
            .copied();
        if let Some(mac) = mac {
            self.fetched(mac, fetch);
        }
    }

    /// Records a request naming MAC `mac`, which no phone has.
    pub fn fetched_unknown(&self, mac: Mac, fetch: Fetch<'_>) {
        let now = jiff::Timestamp::now().as_second();
        {
            let mut unknown = self.unknown.lock().unwrap_or_else(|e| e.into_inner());
            let record = unknown.get_or_insert_mut(mac, || UnknownRecord {
                first_seen: now,
                ..UnknownRecord::default()
            });
            record.last_seen = now;
            record.address = Some(fetch.client);
            if record.user_agent != fetch.user_agent {
                record.user_agent = fetch.user_agent.to_owned();
            }
            if record.uri != fetch.uri {
                record.uri = fetch.uri.to_owned();
            }
            record.requests = record.requests.saturating_add(1);
        }
        self.dirty
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .insert(mac);
    }

    /// The database, when the inventory is kept in the state directory (for the enrolment state).
    pub fn store(&self) -> Option<std::sync::Arc<Store>> {
        self.store.clone()
    }

    /// Records a request answered with the lobby (issue #18): seen, but no file of its own was served, so
    /// a configured phone's files stay as they were (it is not "current"); an unknown MAC is recorded as
    /// any unknown one, with the lobby counted.
    pub fn lobby_served(&self, mac: Mac, configured: bool, fetch: Fetch<'_>) {
        if !configured {
            self.fetched_unknown(mac, fetch);
            let mut unknown = self.unknown.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(record) = unknown.get_mut(&mac) {
                record.lobbies = record.lobbies.saturating_add(1);
            }
            return;
        }
        let now = jiff::Timestamp::now().as_second();
        {
            let mut shard = self.shard(mac).write().unwrap_or_else(|e| e.into_inner());
            let record = shard.entry(mac).or_insert_with(|| PhoneRecord {
                first_seen: now,
                ..PhoneRecord::default()
            });
            record.last_seen = now;
            record.address = Some(fetch.client);
            record.lobby_at = Some(now);
            record.saw_user_agent(fetch.user_agent);
        }
        self.dirty
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .insert(mac);
    }

    /// The record of phone `mac`.
    pub fn phone(&self, mac: Mac) -> Option<PhoneRecord> {
        self.shard(mac)
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&mac)
            .cloned()
    }

    /// Every unknown client, the most recently seen first.
    pub fn unknown(&self) -> Vec<(Mac, UnknownRecord)> {
        let unknown = self.unknown.lock().unwrap_or_else(|e| e.into_inner());
        unknown.iter().map(|(m, r)| (*m, r.clone())).collect()
    }

    /// Where phone `mac` stands, given what it fetched and the current entity tags.
    pub fn state(&self, mac: Mac) -> State {
        let shard = self.shard(mac).read().unwrap_or_else(|e| e.into_inner());
        let Some(record) = shard.get(&mac) else {
            return State::Never;
        };
        if record.files.is_empty() {
            return State::Never;
        }
        let current = self.current.load();
        let Some(files) = current.get(&mac) else {
            return State::Current;
        };
        let all_fetched = files.iter().all(|(uri, etag)| {
            record
                .file(uri)
                .is_some_and(|f| f.etag.as_deref() == Some(&**etag))
        });
        if all_fetched {
            State::Current
        } else {
            State::Stale
        }
    }

    /// The entity tags the configuration being served gives each phone's files (set after each reload).
    pub fn set_current(&self, current: std::sync::Arc<Current>) {
        self.current.store(current);
    }

    /// Notes that a reload changed phone `mac`'s files.
    pub fn changed(&self, mac: Mac, at: i64) {
        self.update(mac, |record| record.changed_at = Some(at));
    }

    /// Notes a NOTIFY sent to phone `mac`, and how it went.
    pub fn notified(&self, mac: Mac, at: i64, result: &str) {
        self.update(mac, |record| {
            record.notified_at = Some(at);
            record.notify_result = Some(result.to_owned());
        });
    }

    fn update(&self, mac: Mac, change: impl FnOnce(&mut PhoneRecord)) {
        let mut shard = self.shard(mac).write().unwrap_or_else(|e| e.into_inner());
        if let Some(record) = shard.get_mut(&mac) {
            change(record);
            drop(shard);
            self.dirty
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .0
                .insert(mac);
        }
    }

    /// Writes what changed since the last call (one transaction).
    pub fn flush(&self) -> Result<(), String> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        let (phones, unknown) = {
            let mut dirty = self.dirty.lock().unwrap_or_else(|e| e.into_inner());
            (std::mem::take(&mut dirty.0), std::mem::take(&mut dirty.1))
        };
        let mut batch = Batch::default();
        for mac in phones {
            if let Some(record) = self.phone(mac) {
                batch.phones.push((mac, record));
            }
        }
        {
            let mut cache = self.unknown.lock().unwrap_or_else(|e| e.into_inner());
            for mac in unknown {
                batch.unknown.push((mac, cache.get(&mac).cloned()));
            }
        }
        store
            .write(&batch)
            .map_err(|e| format!("cannot write the inventory: {e}"))
    }

    /// Writes the changes every [`BATCH_INTERVAL`] until [`Inventory::stop`], then a last time.
    pub fn run_writer(&self) {
        let mut failing = false;
        loop {
            std::thread::sleep(BATCH_INTERVAL);
            let stopping = self.stop.load(Ordering::Acquire);
            match self.flush() {
                Ok(()) => failing = false,
                Err(why) => {
                    if !failing {
                        tracing::error!("{why}; retrying");
                    }
                    failing = true;
                }
            }
            if stopping {
                return;
            }
        }
    }

    /// Asks the writer to write a last batch and return.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetch<'a>(uri: &'a str, etag: &'a str) -> Fetch<'a> {
        Fetch {
            client: "192.0.2.10".parse().unwrap(),
            server: "192.0.2.1".parse().unwrap(),
            port: 8088,
            host: None,
            user_agent: "Yealink SIP-T46G 28.72.0.1 00:15:65:4a:a9:37",
            uri,
            etag: Some(etag),
            status: 200,
            protocol: "http",
        }
    }

    #[test]
    fn states_follow_fetches_and_reloads() {
        let inventory = Inventory::in_memory();
        let mac = Mac::parse("0015654aa937").unwrap();
        assert_eq!(inventory.state(mac), State::Never);
        inventory.fetched(mac, fetch("0015654aa937.cfg", "\"a\""));
        assert_eq!(inventory.state(mac), State::Current);
        let record = inventory.phone(mac).unwrap();
        assert_eq!(record.model.as_deref(), Some("T46G"));
        assert_eq!(record.firmware.as_deref(), Some("28.72.0.1"));
        // A reload changes its file: stale until it fetches the new bytes.
        let mut current = Current::default();
        current.insert(mac, vec![("0015654aa937.cfg".into(), "\"b\"".into())]);
        inventory.set_current(current.into());
        assert_eq!(inventory.state(mac), State::Stale);
        inventory.fetched(mac, fetch("0015654aa937.cfg", "\"b\""));
        assert_eq!(inventory.state(mac), State::Current);
        // A static file fetched from the phone's address is the phone's.
        inventory.fetched_shared(fetch("firmware.bin", "\"f\""));
        assert!(inventory.phone(mac).unwrap().file("firmware.bin").is_some());
    }

    #[test]
    fn unknown_clients_are_capped() {
        let inventory = Inventory::in_memory();
        for n in 0..(MAX_UNKNOWN as u64 + 50) {
            let mac = Mac::from_octets([0, 4, 0xf2, (n >> 16) as u8, (n >> 8) as u8, n as u8]);
            inventory.fetched_unknown(mac, fetch("x.cfg", "\"x\""));
        }
        assert_eq!(inventory.unknown().len(), MAX_UNKNOWN);
    }

    #[test]
    fn only_a_record_that_changed_is_written_again() {
        let inventory = Inventory::in_memory();
        let mac = Mac::parse("0015654aa937").unwrap();
        let dirty = |inventory: &Inventory| {
            std::mem::take(&mut inventory.dirty.lock().unwrap().0).contains(&mac)
        };
        inventory.fetched(mac, fetch("0015654aa937.cfg", "\"a\""));
        assert!(dirty(&inventory), "a first fetch");
        // The same bytes again, from the same place, until the clock moves on: nothing to write. Seconds
        // are the record's resolution, so a tick between the two fetches is a change too.
        let mut unchanged = false;
        for _ in 0..100 {
            let before = inventory.phone(mac).unwrap();
            inventory.fetched(mac, fetch("0015654aa937.cfg", "\"a\""));
            let after = inventory.phone(mac).unwrap();
            assert_eq!(dirty(&inventory), before != after);
            unchanged |= before == after;
        }
        assert!(unchanged, "a hundred fetches within one second each");
        inventory.fetched(mac, fetch("0015654aa937.cfg", "\"b\""));
        assert!(dirty(&inventory), "new bytes");
        inventory.fetched(mac, fetch("other.cfg", "\"b\""));
        assert!(dirty(&inventory), "another file");
    }

    #[test]
    fn a_restart_finds_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let mac = Mac::parse("0015654aa937").unwrap();
        {
            let (inventory, problem) = Inventory::open(dir.path());
            assert_eq!(problem, None);
            inventory.fetched(mac, fetch("0015654aa937.cfg", "\"a\""));
            inventory.flush().unwrap();
        }
        let (inventory, _) = Inventory::open(dir.path());
        let record = inventory.phone(mac).unwrap();
        assert_eq!(
            record.file("0015654aa937.cfg").unwrap().etag.as_deref(),
            Some("\"a\"")
        );
        assert_eq!(record.server, "192.0.2.1".parse().ok());
    }
}

//! What every phone has: first and last seen, its address, User-Agent (vendor, model, firmware), every file
//! it fetched with the entity tag served, and where it stands with the configuration being served
//! (current, stale, never). Also the clients that asked for files of MACs no phone has, capped.
//!
//! Requests update the in-memory view (sharded locks, a few hundred nanoseconds; each shard also holds
//! which of its records are to be written, so a request takes no lock but its shard's) and mark what
//! changed; one thread writes the changes to the state directory in batches ([`Inventory::run_writer`],
//! every 200 ms), so the request path never waits for a disk, and a completed fetch survives a crash once
//! its batch is committed. A record whose times alone moved on (a phone polling the same bytes from the
//! same place) is written at most every [`TIMES_INTERVAL`], and when the server stops: a boot storm of
//! polls would otherwise rewrite every record every second. The in-memory view, which the status page,
//! the API and the metrics read, is always exact. These records also carry the audit facts, which the log
//! may drop under backpressure: the inventory does not.

mod record;
mod store;

use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use lru::LruCache;
use pjprov_core::Mac;
use rustc_hash::{FxHashMap, FxHashSet};

use record::Change;
pub use record::{PhoneRecord, Protocol, State, UnknownRecord};
use store::Batch;
pub use store::Store;

const SHARDS: usize = 16;
/// Unknown clients remembered at most (the least recently seen are forgotten first).
pub const MAX_UNKNOWN: usize = 10_000;
/// How often the changes are written.
pub const BATCH_INTERVAL: Duration = Duration::from_millis(200);
/// How often records whose times alone changed are written (what a crash can lose of them).
pub const TIMES_INTERVAL: Duration = Duration::from_secs(60);

/// Each file a phone is served, as the last reload's comparison found it, by name.
pub type Current = FxHashMap<Mac, Vec<Served>>;

/// A file a phone is served, as a comparison found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    /// Its name below `/phoneprov/`.
    pub uri: Box<str>,
    /// Its entity tag, quotes included.
    pub etag: Box<str>,
    /// What its body was rendered from (`Snapshot::render_digest`), when that tells: the next comparison
    /// takes the tag again for the same digest instead of rendering the body.
    pub digest: Option<u64>,
}

impl Served {
    /// A file with no digest (static, or rendered from what only rendering tells).
    pub fn new(uri: &str, etag: &str) -> Served {
        Served {
            uri: uri.into(),
            etag: etag.into(),
            digest: None,
        }
    }
}

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

/// Some phones' records, and which of them are to be written.
#[derive(Debug, Default)]
struct Shard {
    /// Boxed: a table of records in place would keep room for a quarter more of them, ~300 bytes each.
    records: FxHashMap<Mac, Box<PhoneRecord>>,
    /// Changed since the last batch: written with the next one.
    changed: FxHashSet<Mac>,
    /// Only their times moved on since they were last written: written every [`TIMES_INTERVAL`].
    touched: FxHashSet<Mac>,
}

impl Shard {
    fn mark(&mut self, mac: Mac, change: Change) {
        match change {
            Change::Nothing => {}
            Change::Times => {
                self.touched.insert(mac);
            }
            Change::Facts => {
                self.changed.insert(mac);
            }
        }
    }

    /// Takes the records to write (those touched too when `times`), with what they hold now.
    fn take(&mut self, times: bool, into: &mut Vec<(Mac, PhoneRecord)>) {
        let mut push = |mac: Mac, records: &FxHashMap<Mac, Box<PhoneRecord>>| {
            if let Some(record) = records.get(&mac) {
                into.push((mac, PhoneRecord::clone(record)));
            }
        };
        for mac in self.changed.drain() {
            // Written whole, times included.
            self.touched.remove(&mac);
            push(mac, &self.records);
        }
        if times {
            for mac in self.touched.drain() {
                push(mac, &self.records);
            }
        }
    }
}

/// The clients asking for MACs no phone has, and which of them are to be written.
#[derive(Debug)]
struct Unknown {
    cache: LruCache<Mac, UnknownRecord>,
    changed: FxHashSet<Mac>,
}

/// The inventory.
#[derive(Debug)]
pub struct Inventory {
    shards: Vec<RwLock<Shard>>,
    unknown: Mutex<Unknown>,
    /// The phone each address was last seen as (static files are fetched by address).
    by_address: RwLock<FxHashMap<IpAddr, Mac>>,
    /// Shared with the enrolment state (issue #18), which keeps its own table in the same database.
    store: Option<std::sync::Arc<Store>>,
    /// Whether changes go to the database: once its records were read ([`Inventory::read_records`]).
    writing: AtomicBool,
    current: ArcSwap<Current>,
    stop: AtomicBool,
}

impl Inventory {
    /// The inventory kept in `state_dir`, its database opened; in memory only (with the reason) when the
    /// directory cannot be used. Its records are read by [`Inventory::read_records`], which must be done
    /// before the first request is recorded.
    pub fn open(state_dir: &Path) -> (Inventory, Option<String>) {
        let mut inventory = Inventory::in_memory();
        match Store::open(state_dir) {
            Ok(store) => {
                inventory.store = Some(std::sync::Arc::new(store));
                (inventory, None)
            }
            Err(why) => (inventory, Some(why)),
        }
    }

    /// Reads every stored record into memory: once, before any request is recorded (the server does it
    /// beside its first build: ~0.3 s at 100,000 phones seen). Only then is anything written to the
    /// database; when the records cannot be read, nothing ever is (what phones fetch is kept in memory
    /// only) and the reason is returned.
    pub fn read_records(&self) -> Result<(), String> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        let (phones, unknown) = store
            .load()
            .map_err(|e| format!("cannot read the inventory {}: {e}", store.path().display()))?;
        for (mac, record) in phones {
            if let Some(address) = record.address {
                self.address_is(address, mac);
            }
            self.shard(mac)
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .records
                .insert(mac, Box::new(record));
        }
        let mut cache = self.unknown.lock().unwrap_or_else(|e| e.into_inner());
        for (mac, record) in unknown {
            cache.cache.put(mac, record);
        }
        drop(cache);
        self.writing.store(true, Ordering::Release);
        Ok(())
    }

    /// An inventory that is never written anywhere.
    pub fn in_memory() -> Inventory {
        Inventory {
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            unknown: Mutex::new(Unknown {
                cache: LruCache::new(NonZeroUsize::new(MAX_UNKNOWN).unwrap_or(NonZeroUsize::MIN)),
                changed: FxHashSet::default(),
            }),
            by_address: RwLock::new(FxHashMap::default()),
            store: None,
            writing: AtomicBool::new(false),
            current: ArcSwap::from_pointee(Current::default()),
            stop: AtomicBool::new(false),
        }
    }

    fn shard(&self, mac: Mac) -> &RwLock<Shard> {
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
        self.fetched_at(mac, fetch, jiff::Timestamp::now().as_second());
    }

    /// [`Inventory::fetched`] at `now` (Unix seconds).
    fn fetched_at(&self, mac: Mac, fetch: Fetch<'_>, now: i64) {
        {
            let mut shard = self.shard(mac).write().unwrap_or_else(|e| e.into_inner());
            let mut change = Change::Nothing;
            let record = shard.records.entry(mac).or_insert_with(|| {
                change = Change::Facts;
                Box::new(PhoneRecord {
                    first_seen: now,
                    ..PhoneRecord::default()
                })
            });
            // Only a record that changed is written again: a phone polling the same bytes from the same
            // place within one second (a boot storm's retries, a keep-alive loop) costs the store nothing,
            // and later polls only move its times on.
            if record.last_seen != now {
                record.last_seen = now;
                change = change.max(Change::Times);
            }
            let mut facts = false;
            if record.address != Some(fetch.client) {
                record.address = Some(fetch.client);
                facts = true;
            }
            if record.server != Some(fetch.server) {
                record.server = Some(fetch.server);
                facts = true;
            }
            let protocol = Protocol::named(fetch.protocol);
            if record.protocol != protocol {
                record.protocol = protocol;
                facts = true;
            }
            if record.port != fetch.port {
                record.port = fetch.port;
                facts = true;
            }
            if record.host.as_deref() != fetch.host {
                record.host = fetch.host.map(Box::from);
                facts = true;
            }
            facts |= record.saw_user_agent(fetch.user_agent);
            if (200..400).contains(&fetch.status) {
                change = change.max(record.remember(fetch.uri, fetch.etag, now, fetch.status));
            }
            if facts {
                change = Change::Facts;
            }
            shard.mark(mac, change);
        }
        self.address_is(fetch.client, mac);
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
        let mut unknown = self.unknown.lock().unwrap_or_else(|e| e.into_inner());
        let record = unknown.cache.get_or_insert_mut(mac, || UnknownRecord {
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
        unknown.changed.insert(mac);
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
            if let Some(record) = unknown.cache.get_mut(&mac) {
                record.lobbies = record.lobbies.saturating_add(1);
            }
            return;
        }
        let now = jiff::Timestamp::now().as_second();
        let mut shard = self.shard(mac).write().unwrap_or_else(|e| e.into_inner());
        let record = shard.records.entry(mac).or_insert_with(|| {
            Box::new(PhoneRecord {
                first_seen: now,
                ..PhoneRecord::default()
            })
        });
        record.last_seen = now;
        record.address = Some(fetch.client);
        record.lobby_at = Some(now);
        record.saw_user_agent(fetch.user_agent);
        shard.mark(mac, Change::Facts);
    }

    /// The record of phone `mac`.
    pub fn phone(&self, mac: Mac) -> Option<PhoneRecord> {
        self.shard(mac)
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .records
            .get(&mac)
            .map(|record| PhoneRecord::clone(record))
    }

    /// Every unknown client, the most recently seen first.
    pub fn unknown(&self) -> Vec<(Mac, UnknownRecord)> {
        let unknown = self.unknown.lock().unwrap_or_else(|e| e.into_inner());
        unknown.cache.iter().map(|(m, r)| (*m, r.clone())).collect()
    }

    /// Where phone `mac` stands, given what it fetched and the current entity tags.
    pub fn state(&self, mac: Mac) -> State {
        let shard = self.shard(mac).read().unwrap_or_else(|e| e.into_inner());
        let Some(record) = shard.records.get(&mac) else {
            return State::Never;
        };
        if record.files.is_empty() {
            return State::Never;
        }
        let current = self.current.load();
        let Some(files) = current.get(&mac) else {
            return State::Current;
        };
        let all_fetched = files.iter().all(|served| {
            record
                .file(&served.uri)
                .is_some_and(|f| f.etag.as_deref() == Some(&*served.etag))
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
            record.notify_result = Some(result.into());
        });
    }

    fn update(&self, mac: Mac, change: impl FnOnce(&mut PhoneRecord)) {
        let mut shard = self.shard(mac).write().unwrap_or_else(|e| e.into_inner());
        if let Some(record) = shard.records.get_mut(&mac) {
            change(record);
            shard.mark(mac, Change::Facts);
        }
    }

    /// Takes what is to be written: every record that changed, and when `times`, those whose times alone
    /// moved on too.
    fn take_batch(&self, times: bool) -> Batch {
        let mut batch = Batch::default();
        for shard in &self.shards {
            shard
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .take(times, &mut batch.phones);
        }
        let mut unknown = self.unknown.lock().unwrap_or_else(|e| e.into_inner());
        let Unknown { cache, changed } = &mut *unknown;
        for mac in changed.drain() {
            batch.unknown.push((mac, cache.peek(&mac).cloned()));
        }
        batch
    }

    /// Marks the records of a batch that could not be written as changed again: the next batch writes what
    /// they hold then.
    fn retake(&self, batch: Batch) {
        for (mac, _) in batch.phones {
            self.shard(mac)
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .mark(mac, Change::Facts);
        }
        let mut unknown = self.unknown.lock().unwrap_or_else(|e| e.into_inner());
        unknown
            .changed
            .extend(batch.unknown.into_iter().map(|(mac, _)| mac));
    }

    /// Writes what changed since the last batch (one transaction), and when `times`, the records whose
    /// times alone moved on. What cannot be written is kept for the next batch.
    fn write_batch(&self, times: bool) -> Result<(), String> {
        let Some(store) = self
            .store
            .as_ref()
            .filter(|_| self.writing.load(Ordering::Acquire))
        else {
            return Ok(());
        };
        let batch = self.take_batch(times);
        match store.write(&batch) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.retake(batch);
                Err(format!("cannot write the inventory: {e}"))
            }
        }
    }

    /// Writes the changes every [`BATCH_INTERVAL`] (times every [`TIMES_INTERVAL`]) until
    /// [`Inventory::stop`], then everything left.
    pub fn run_writer(&self) {
        let mut failing = false;
        let mut times_written = Instant::now();
        loop {
            std::thread::sleep(BATCH_INTERVAL);
            let stopping = self.stop.load(Ordering::Acquire);
            let times = stopping || times_written.elapsed() >= TIMES_INTERVAL;
            match self.write_batch(times) {
                Ok(()) => {
                    failing = false;
                    if times {
                        times_written = Instant::now();
                    }
                }
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
        current.insert(mac, vec![Served::new("0015654aa937.cfg", "\"b\"")]);
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
        let batched = |inventory: &Inventory, times: bool| {
            inventory
                .take_batch(times)
                .phones
                .iter()
                .any(|(m, _)| *m == mac)
        };
        let t = 1_700_000_000;
        inventory.fetched_at(mac, fetch("0015654aa937.cfg", "\"a\""), t);
        assert!(batched(&inventory, false), "a first fetch");
        // The same bytes again, from the same place, within the second: nothing to write at all.
        inventory.fetched_at(mac, fetch("0015654aa937.cfg", "\"a\""), t);
        assert!(!batched(&inventory, true));
        // Later: only its times moved on, written with the batch of the times.
        inventory.fetched_at(mac, fetch("0015654aa937.cfg", "\"a\""), t + 1);
        inventory.fetched_at(mac, fetch("0015654aa937.cfg", "\"a\""), t + 2);
        assert!(!batched(&inventory, false), "times alone wait");
        assert!(batched(&inventory, true), "the batch of the times");
        assert!(!batched(&inventory, true), "written once");
        // New bytes, another file, another address or agent: facts, in the next batch, times and all.
        inventory.fetched_at(mac, fetch("0015654aa937.cfg", "\"a\""), t + 3);
        inventory.fetched_at(mac, fetch("0015654aa937.cfg", "\"b\""), t + 3);
        let batch = inventory.take_batch(false);
        assert_eq!(batch.phones.len(), 1, "new bytes");
        assert_eq!(batch.phones[0].1.last_seen, t + 3);
        assert!(!batched(&inventory, true), "its times went with it");
        inventory.fetched_at(mac, fetch("other.cfg", "\"b\""), t + 3);
        assert!(batched(&inventory, false), "another file");
        let moved = Fetch {
            client: "192.0.2.11".parse().unwrap(),
            ..fetch("other.cfg", "\"b\"")
        };
        inventory.fetched_at(mac, moved, t + 3);
        assert!(batched(&inventory, false), "another address");
        let upgraded = Fetch {
            user_agent: "Yealink SIP-T46G 28.83.0.1 00:15:65:4a:a9:37",
            ..moved
        };
        inventory.fetched_at(mac, upgraded, t + 3);
        assert!(batched(&inventory, false), "new firmware");
        // Another status (a 304 after a 200) changes what it was last served.
        let revalidated = Fetch {
            status: 304,
            ..upgraded
        };
        inventory.fetched_at(mac, revalidated, t + 3);
        assert!(batched(&inventory, false), "another status");
    }

    #[test]
    fn a_stop_writes_the_times_that_were_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let mac = Mac::parse("0015654aa937").unwrap();
        let t = 1_700_000_000;
        {
            let (inventory, problem) = Inventory::open(dir.path());
            assert_eq!(problem, None);
            inventory.read_records().unwrap();
            inventory.fetched_at(mac, fetch("0015654aa937.cfg", "\"a\""), t);
            inventory.write_batch(false).unwrap();
            inventory.fetched_at(mac, fetch("0015654aa937.cfg", "\"a\""), t + 30);
            inventory.write_batch(false).unwrap();
            // A stop writes the times that were waiting.
            inventory.stop();
            inventory.run_writer();
        }
        let (inventory, _) = Inventory::open(dir.path());
        inventory.read_records().unwrap();
        assert_eq!(inventory.phone(mac).unwrap().last_seen, t + 30);
    }

    #[test]
    fn a_restart_finds_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let mac = Mac::parse("0015654aa937").unwrap();
        {
            let (inventory, problem) = Inventory::open(dir.path());
            assert_eq!(problem, None);
            inventory.read_records().unwrap();
            inventory.fetched(mac, fetch("0015654aa937.cfg", "\"a\""));
            inventory.write_batch(true).unwrap();
        }
        let (inventory, _) = Inventory::open(dir.path());
        // Nothing until the records are read.
        assert!(inventory.phone(mac).is_none());
        inventory.read_records().unwrap();
        let record = inventory.phone(mac).unwrap();
        assert_eq!(
            record.file("0015654aa937.cfg").unwrap().etag.as_deref(),
            Some("\"a\"")
        );
        assert_eq!(record.server, "192.0.2.1".parse().ok());
    }

    #[test]
    fn nothing_is_written_before_the_records_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let mac = Mac::parse("0015654aa937").unwrap();
        {
            let (inventory, problem) = Inventory::open(dir.path());
            assert_eq!(problem, None);
            inventory.fetched(mac, fetch("0015654aa937.cfg", "\"a\""));
            inventory.write_batch(true).unwrap();
        }
        let (inventory, _) = Inventory::open(dir.path());
        inventory.read_records().unwrap();
        assert!(inventory.phone(mac).is_none());
    }
}

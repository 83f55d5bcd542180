//! Enrolment state (issue #18): each phone's provisioning window, who fetched its credentials in it, and
//! when they first went out. The policy (`enrol`, `first_boot_window`, `enrol_grace`, `enrol_proof`) is
//! pjprov.conf's (`pjprov_core::settings::Enrol`); the decision that uses this state is `decide.rs`.
//!
//! **Windows.** A window opens when the admin asks (`pjprov enrol open`, `POST /api/v1/enrol/open`), or by
//! itself when a phone first appears in the configuration and its policy has `enrol = window` and a
//! `first_boot_window`. The first address that fetches the phone's credentials in it *claims* it: from
//! then on only that address may fetch without proof, and only for `enrol_grace` more (the rest of its
//! boot), never past the window's end. Any other address needs the phone's proof.
//!
//! **Fail closed.** The state lives in the state directory (the inventory's database, table `enrolment`),
//! and a claim is written, durably, *before* the credentials go out: if it cannot be written, they do not
//! go out (the phone gets the lobby) and the window is closed. State that cannot be read at start-up is
//! never taken for "no state": every window counts as closed and none can be opened until it is fixed.
//! Without a state directory (the inventory in memory), no window can be opened either.
//!
//! **First appearance.** The first time pjprov keeps this state (a new state directory, an upgrade, or
//! a configuration where some policy turns enrolment on after none did), the phones configured then are
//! recorded as they are (the baseline): none gets a first-boot window, since none was just added
//! (`pjprov enrol open --all` opens them on purpose). While every policy is `enrol = open`, no state is
//! kept at all. After that, a MAC not
//! recorded is a phone just added. The record of a phone removed from the configuration is kept for
//! [`RETENTION`], so a section that disappears for a while (a typo fixed) does not come back with a new
//! window.
//!
//! **Memory.** One record per configured phone, per phone removed within [`RETENTION`], and at most
//! [`MAX_PENDING`] windows opened for MACs not (yet) configured: bounded by the configuration.

use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use pjprov_core::settings::EnrolMode;
use pjprov_core::{Mac, Snapshot};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::inventory::Store;

/// How long the record of a phone no longer configured is kept.
pub const RETENTION: Duration = Duration::from_secs(30 * 86_400);
/// Windows opened for MACs no phone has (yet), at most.
pub const MAX_PENDING: usize = 65_536;
/// The longest window an admin may open.
pub const MAX_WINDOW: Duration = Duration::from_secs(7 * 86_400);

/// Who opened a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum Opener {
    /// The admin (the API), from this address.
    Admin {
        /// The admin client's address.
        client: Option<IpAddr>,
    },
    /// `first_boot_window`: the phone was just added to the configuration.
    FirstBoot,
}

/// The first address that fetched the phone's credentials in its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// The address.
    pub address: IpAddr,
    /// When (Unix seconds).
    pub at: i64,
    /// Until when that address may go on without proof (the window's end at the latest).
    pub until: i64,
}

/// A provisioning window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// When it opened (Unix seconds).
    pub opened_at: i64,
    /// When it closes.
    pub until: i64,
    /// Who opened it.
    #[serde(flatten)]
    pub opener: Opener,
    /// Who fetched in it, if anyone.
    #[serde(default)]
    pub claim: Option<Claim>,
}

/// A phone's credentials going out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fetch {
    /// When (Unix seconds).
    pub at: i64,
    /// To which address.
    pub address: IpAddr,
    /// On what grounds: `window`, `credentials`, `certificate`, `user agent`.
    pub how: String,
}

/// What is kept of one MAC.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// When pjprov first saw it configured (0: not yet: a window opened ahead of the configuration).
    #[serde(default)]
    pub first_configured: i64,
    /// When pjprov last saw it configured.
    #[serde(default)]
    pub last_configured: i64,
    /// Its window, open or past.
    #[serde(default)]
    pub window: Option<Window>,
    /// The first time its credentials went out.
    #[serde(default)]
    pub first_fetch: Option<Fetch>,
}

/// How a window stands for one client at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowState {
    /// No window, or it is over.
    Closed,
    /// Open, and nobody fetched in it yet: the client would claim it.
    Open {
        /// When it closes.
        until: i64,
    },
    /// Open for this client, which claimed it.
    Claimed {
        /// Until when.
        until: i64,
    },
    /// Open, but another address claimed it.
    ClaimedByOther {
        /// That address.
        address: IpAddr,
    },
}

impl Record {
    /// How the window stands for `client` at `now`.
    pub fn window_for(&self, client: IpAddr, now: i64) -> WindowState {
        let Some(window) = &self.window else {
            return WindowState::Closed;
        };
        if now >= window.until {
            return WindowState::Closed;
        }
        match window.claim {
            None => WindowState::Open {
                until: window.until,
            },
            Some(claim) if claim.address == client => {
                if now < claim.until {
                    WindowState::Claimed { until: claim.until }
                } else {
                    WindowState::Closed
                }
            }
            Some(claim) if now < claim.until => WindowState::ClaimedByOther {
                address: claim.address,
            },
            // The claimer's grace is over: the window is spent for everyone.
            Some(_) => WindowState::Closed,
        }
    }
}

/// Why a claim was not made (the credentials then do not go out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimRefused {
    /// The window closed, or another address claimed it, in the meantime.
    Gone,
    /// The state cannot be written.
    Unwritable(String),
}

/// Which MACs an admin request is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Which {
    /// Every configured phone.
    All,
    /// These.
    Macs(Vec<Mac>),
}

#[derive(Debug, Default)]
struct Table {
    records: FxHashMap<Mac, Record>,
    /// Whether the phones configured at the start were recorded.
    baseline: bool,
}

/// The enrolment state, kept across reloads.
#[derive(Debug)]
pub struct Enrolment {
    table: RwLock<Table>,
    store: Option<Arc<Store>>,
    /// Why windows cannot be used (no state directory, unreadable state): none counts as open.
    broken: Option<String>,
}

impl Default for Enrolment {
    fn default() -> Enrolment {
        Enrolment::unavailable("no state directory".into())
    }
}

impl Enrolment {
    /// State that cannot be kept: every window is closed and none can be opened.
    pub fn unavailable(why: String) -> Enrolment {
        Enrolment {
            table: RwLock::new(Table::default()),
            store: None,
            broken: Some(why),
        }
    }

    /// The state kept in `store`; unusable (every window closed) when it cannot be read.
    pub fn load(store: Arc<Store>) -> Enrolment {
        let loaded = store.load_enrolment().and_then(|(baseline, rows)| {
            let mut records = FxHashMap::default();
            for (octets, value) in rows {
                // One record that cannot be read makes the whole table untrustworthy: a MAC without its
                // record would look just added, and get a first-boot window.
                let record: Record = serde_json::from_slice(&value).map_err(|e| {
                    format!(
                        "the enrolment record of {} cannot be read ({e})",
                        Mac::from_octets(octets)
                    )
                })?;
                records.insert(Mac::from_octets(octets), record);
            }
            Ok(Table { records, baseline })
        });
        match loaded {
            Ok(table) => Enrolment {
                table: RwLock::new(table),
                store: Some(store),
                broken: None,
            },
            Err(why) => Enrolment {
                table: RwLock::new(Table::default()),
                store: Some(store),
                broken: Some(why),
            },
        }
    }

    /// An in-memory copy of `records`, for `pjprov explain` (nothing is ever written).
    pub fn snapshot_of(records: Vec<(Mac, Record)>) -> Enrolment {
        Enrolment {
            table: RwLock::new(Table {
                records: records.into_iter().collect(),
                baseline: true,
            }),
            store: None,
            broken: None,
        }
    }

    /// Why windows cannot be used, if they cannot.
    pub fn problem(&self) -> Option<&str> {
        self.broken.as_deref()
    }

    /// The record of `mac` (a copy), when windows can be used at all.
    pub fn record(&self, mac: Mac) -> Option<Record> {
        if self.broken.is_some() {
            return None;
        }
        self.read().records.get(&mac).cloned()
    }

    /// Every record, by MAC.
    pub fn records(&self) -> Vec<(Mac, Record)> {
        let mut all: Vec<(Mac, Record)> = self
            .read()
            .records
            .iter()
            .map(|(m, r)| (*m, r.clone()))
            .collect();
        all.sort_by_key(|(m, _)| *m);
        all
    }

    /// Windows open at `now`.
    pub fn open_windows(&self, now: i64) -> usize {
        if self.broken.is_some() {
            return 0;
        }
        self.read()
            .records
            .values()
            .filter(|r| r.window.is_some_and(|w| now < w.until))
            .count()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Table> {
        self.table.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Table> {
        self.table.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes `rows` (and the baseline mark), durably.
    fn persist(&self, rows: &[(Mac, Option<&Record>)], baseline: bool) -> Result<(), String> {
        let Some(store) = &self.store else {
            return Err(self
                .broken
                .clone()
                .unwrap_or_else(|| "no state directory".into()));
        };
        let encoded: Vec<([u8; 6], Option<Vec<u8>>)> = rows
            .iter()
            .map(|(mac, record)| {
                (
                    mac.octets(),
                    record.map(|r| serde_json::to_vec(r).unwrap_or_default()),
                )
            })
            .collect();
        store.write_enrolment(&encoded, baseline)
    }

    /// Takes in the phones of a configuration about to be served: records the new ones, opening their
    /// first-boot window where their policy says so, and forgets those gone for longer than
    /// [`RETENTION`]. Returns the MACs whose first-boot window opened.
    pub fn observe(&self, snapshot: &Snapshot, now: i64) -> Vec<Mac> {
        if self.broken.is_some() {
            return Vec::new();
        }
        let settings = snapshot.settings();
        let mut table = self.write();
        if !settings.uses_enrolment() {
            // Every policy is `enrol = open` (the default): nothing is decided by this state, so none is
            // kept (at 100,000 phones, a record each and a write of all of them at the first start). When
            // a policy turns enrolment on, the phones configured then are its baseline.
            let forgotten = !table.baseline
                || self
                    .store
                    .as_ref()
                    .map_or(Ok(()), |store| store.forget_enrolment_baseline())
                    .inspect_err(|why| {
                        tracing::warn!("{why}: the enrolment state is kept up to date instead")
                    })
                    .is_ok();
            if forgotten {
                table.baseline = false;
                return Vec::new();
            }
            // The baseline stays on disk: keep recording, or a phone added meanwhile would get a
            // first-boot window once enrolment is turned on after a restart.
        }
        let first_time = !table.baseline;
        let mut changed: Vec<Mac> = Vec::new();
        let mut opened: Vec<Mac> = Vec::new();
        let mut configured: Vec<Mac> = Vec::with_capacity(snapshot.phones().len());
        for phone in snapshot.phones() {
            let Some(mac) = Mac::parse(&phone.mac) else {
                continue;
            };
            configured.push(mac);
            let enrol = settings.policy(phone.profile, Some(mac)).enrol;
            match table.records.get_mut(&mac) {
                Some(record) => {
                    if record.first_configured == 0 {
                        // A window opened before the phone was configured: now it is.
                        record.first_configured = now;
                        changed.push(mac);
                    } else if now - record.last_configured > 86_400 {
                        // Kept fresh on disk once a day: enough for a retention of days.
                        changed.push(mac);
                    }
                    record.last_configured = now;
                }
                None => {
                    let window = match (first_time, enrol.mode, enrol.first_boot_window) {
                        (false, EnrolMode::Window, Some(length)) => {
                            opened.push(mac);
                            Some(Window {
                                opened_at: now,
                                until: now.saturating_add(secs(length)),
                                opener: Opener::FirstBoot,
                                claim: None,
                            })
                        }
                        _ => None,
                    };
                    table.records.insert(
                        mac,
                        Record {
                            first_configured: now,
                            last_configured: now,
                            window,
                            first_fetch: None,
                        },
                    );
                    changed.push(mac);
                }
            }
        }
        configured.sort();
        let retention = secs(RETENTION);
        let gone: Vec<Mac> = table
            .records
            .iter()
            .filter(|(mac, record)| {
                configured.binary_search(mac).is_err()
                    && record.first_configured != 0
                    && now - record.last_configured > retention
            })
            .map(|(mac, _)| *mac)
            .collect();
        for mac in &gone {
            table.records.remove(mac);
        }
        table.baseline = true;
        let rows: Vec<(Mac, Option<&Record>)> = changed
            .iter()
            .map(|mac| (*mac, table.records.get(mac)))
            .chain(gone.iter().map(|mac| (*mac, None)))
            .collect();
        if let Err(why) = self.persist(&rows, first_time) {
            // Fail closed: a window that could not be written is not opened (a restart would forget it;
            // besides, no claim could be written either).
            for mac in &opened {
                if let Some(record) = table.records.get_mut(mac) {
                    record.window = None;
                }
            }
            tracing::error!(target: super::SECURITY,
                "{why}: no first-boot window opens until the state directory can be written");
            return Vec::new();
        }
        opened
    }

    /// Opens a window of `length` for `which` (by `admin`): the MACs it was opened for, or why none was.
    /// A window opened again starts afresh, unclaimed.
    pub fn open(
        &self,
        snapshot: &Snapshot,
        which: &Which,
        length: Duration,
        admin: Option<IpAddr>,
        now: i64,
    ) -> Result<Vec<Mac>, String> {
        if let Some(why) = &self.broken {
            return Err(format!("no window can be opened: {why}"));
        }
        if length.is_zero() || length > MAX_WINDOW {
            return Err("a window lasts from 1 second to 7 days".into());
        }
        let macs: Vec<Mac> = match which {
            Which::All => snapshot
                .phones()
                .iter()
                .filter_map(|p| Mac::parse(&p.mac))
                .collect(),
            Which::Macs(macs) => macs.clone(),
        };
        let mut table = self.write();
        let pending = table
            .records
            .values()
            .filter(|r| r.first_configured == 0)
            .count();
        let new_pending = macs
            .iter()
            .filter(|m| !table.records.contains_key(m))
            .count();
        if pending + new_pending > MAX_PENDING {
            return Err(format!(
                "at most {MAX_PENDING} windows may wait for phones not configured yet: add the phones to pjsip.conf first"
            ));
        }
        let before: Vec<(Mac, Option<Record>)> = macs
            .iter()
            .map(|m| (*m, table.records.get(m).cloned()))
            .collect();
        let window = Window {
            opened_at: now,
            until: now.saturating_add(secs(length)),
            opener: Opener::Admin { client: admin },
            claim: None,
        };
        for mac in &macs {
            table.records.entry(*mac).or_default().window = Some(window);
        }
        let rows: Vec<(Mac, Option<&Record>)> =
            macs.iter().map(|m| (*m, table.records.get(m))).collect();
        if let Err(why) = self.persist(&rows, false) {
            // Nothing opens unless it is on disk.
            for (mac, old) in before {
                match old {
                    Some(old) => {
                        table.records.insert(mac, old);
                    }
                    None => {
                        table.records.remove(&mac);
                    }
                }
            }
            return Err(why);
        }
        Ok(macs)
    }

    /// Closes the windows of `which`: the MACs that had one open.
    pub fn close(&self, snapshot: &Snapshot, which: &Which, now: i64) -> Result<Vec<Mac>, String> {
        if let Some(why) = &self.broken {
            return Err(format!("the enrolment state cannot be used: {why}"));
        }
        let mut table = self.write();
        let macs: Vec<Mac> = match which {
            Which::All => table.records.keys().copied().collect(),
            Which::Macs(macs) => macs.clone(),
        };
        let _ = snapshot;
        let mut closed = Vec::new();
        for mac in macs {
            if let Some(record) = table.records.get_mut(&mac)
                && let Some(window) = &mut record.window
                && now < window.until
            {
                window.until = now;
                if let Some(claim) = &mut window.claim {
                    claim.until = claim.until.min(now);
                }
                closed.push(mac);
            }
        }
        let rows: Vec<(Mac, Option<&Record>)> =
            closed.iter().map(|m| (*m, table.records.get(m))).collect();
        // A close that cannot be written still closes (in memory): closing only ever refuses more.
        self.persist(&rows, false).map(|()| closed)
    }

    /// Claims `mac`'s window for `client`, for `grace` at most (within the window): written before
    /// this returns. Refused when the window is no longer open for `client`, or cannot be written (then
    /// the window is closed: fail closed).
    pub fn claim(
        &self,
        mac: Mac,
        client: IpAddr,
        grace: Duration,
        now: i64,
    ) -> Result<(), ClaimRefused> {
        if let Some(why) = &self.broken {
            return Err(ClaimRefused::Unwritable(why.clone()));
        }
        let mut table = self.write();
        let Some(record) = table.records.get_mut(&mac) else {
            return Err(ClaimRefused::Gone);
        };
        match record.window_for(client, now) {
            WindowState::Claimed { .. } => return Ok(()),
            WindowState::Open { .. } => {}
            WindowState::Closed | WindowState::ClaimedByOther { .. } => {
                return Err(ClaimRefused::Gone);
            }
        }
        let Some(window) = &mut record.window else {
            return Err(ClaimRefused::Gone);
        };
        window.claim = Some(Claim {
            address: client,
            at: now,
            until: now.saturating_add(secs(grace)).min(window.until),
        });
        if record.first_fetch.is_none() {
            record.first_fetch = Some(Fetch {
                at: now,
                address: client,
                how: "window".into(),
            });
        }
        let copy = record.clone();
        if let Err(why) = self.persist(&[(mac, Some(&copy))], false) {
            if let Some(record) = table.records.get_mut(&mac) {
                record.window = None;
            }
            return Err(ClaimRefused::Unwritable(why));
        }
        Ok(())
    }

    /// Notes that `mac`'s credentials went out to `client` on proof `how`, if they never had (what
    /// `pjprov status` shows as enrolled). Best effort: this grants nothing.
    pub fn proven(&self, mac: Mac, client: IpAddr, how: &str, now: i64) {
        if self.broken.is_some() {
            return;
        }
        let mut table = self.write();
        let Some(record) = table.records.get_mut(&mac) else {
            return;
        };
        if record.first_fetch.is_some() {
            return;
        }
        record.first_fetch = Some(Fetch {
            at: now,
            address: client,
            how: how.to_owned(),
        });
        let copy = record.clone();
        drop(table);
        if let Err(why) = self.persist(&[(mac, Some(&copy))], false) {
            tracing::warn!("{why}");
        }
    }
}

fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn window(until: i64, claim: Option<Claim>) -> Record {
        Record {
            first_configured: 1,
            last_configured: 1,
            window: Some(Window {
                opened_at: 0,
                until,
                opener: Opener::FirstBoot,
                claim,
            }),
            first_fetch: None,
        }
    }

    #[test]
    fn a_window_for_each_client() {
        let phone = ip("192.0.2.10");
        let other = ip("192.0.2.66");
        assert_eq!(Record::default().window_for(phone, 5), WindowState::Closed);
        let open = window(100, None);
        assert_eq!(open.window_for(phone, 5), WindowState::Open { until: 100 });
        assert_eq!(open.window_for(phone, 100), WindowState::Closed, "over");
        let claimed = window(
            100,
            Some(Claim {
                address: phone,
                at: 10,
                until: 40,
            }),
        );
        assert_eq!(
            claimed.window_for(phone, 20),
            WindowState::Claimed { until: 40 }
        );
        assert_eq!(
            claimed.window_for(other, 20),
            WindowState::ClaimedByOther { address: phone }
        );
        // Past the claimer's grace, the window is spent for everyone.
        assert_eq!(claimed.window_for(phone, 50), WindowState::Closed);
        assert_eq!(claimed.window_for(other, 50), WindowState::Closed);
    }

    #[test]
    fn records_read_back_as_written() {
        let record = window(
            100,
            Some(Claim {
                address: ip("2001:db8::5"),
                at: 10,
                until: 40,
            }),
        );
        let json = serde_json::to_vec(&record).unwrap();
        assert_eq!(serde_json::from_slice::<Record>(&json).unwrap(), record);
        let admin = Window {
            opened_at: 1,
            until: 2,
            opener: Opener::Admin {
                client: Some(ip("127.0.0.1")),
            },
            claim: None,
        };
        let text = serde_json::to_string(&admin).unwrap();
        assert!(text.contains("\"by\":\"admin\""), "{text}");
        assert_eq!(serde_json::from_str::<Window>(&text).unwrap(), admin);
    }

    #[test]
    fn without_a_state_directory_nothing_opens() {
        let enrolment = Enrolment::default();
        assert!(enrolment.problem().is_some());
        assert_eq!(
            enrolment.claim(
                Mac::parse("0004f2000001").unwrap(),
                ip("192.0.2.1"),
                Duration::from_secs(60),
                0
            ),
            Err(ClaimRefused::Unwritable("no state directory".into()))
        );
    }
}

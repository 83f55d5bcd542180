//! The inventory on disk: one redb database (`inventory.redb`) in the state directory.
//!
//! redb (pure Rust, copy-on-write B-trees, crash-safe, one file) rather than SQLite: no C build, no SQL for
//! what is a key-value map (MAC → record), and a commit that is either whole or absent after a crash.
//! Records are JSON (small, readable with any redb tool, tolerant of fields added later). Writes come in
//! batches from one thread; each batch is one durable transaction, so a fetch recorded before a crash is
//! on disk once its batch has been committed.

use std::path::{Path, PathBuf};

use pjprov_core::Mac;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::record::{PhoneRecord, UnknownRecord};

const PHONES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("phones");
const UNKNOWN: TableDefinition<&[u8], &[u8]> = TableDefinition::new("unknown");
/// Small values: the schema version, keys for generated passwords, enrolment windows.
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Enrolment (issue #18): each phone's provisioning window and first fetch, by MAC (`access/enrol.rs`
/// owns the format: JSON).
const ENROLMENT: TableDefinition<&[u8], &[u8]> = TableDefinition::new("enrolment");
/// In META: set once the phones configured when enrolment state was first kept are recorded (they get no
/// first-boot window: they were not just added).
const ENROLMENT_BASELINE: &str = "enrolment_baseline";

const SCHEMA: &[u8] = b"1";

/// redb's page cache (its write buffer takes at most half). The records are read once, at start, into
/// memory, which is what every request and page reads; after that the database is only written. redb's
/// default (up to 1 GiB) would keep every page that first reading touched: ~70 MB at 100,000 phones, for
/// nothing.
const CACHE_BYTES: usize = 4 << 20;

/// The database.
#[derive(Debug)]
pub struct Store {
    db: Database,
    /// Where it is (for messages).
    path: PathBuf,
}

/// One batch of changes.
#[derive(Debug, Default)]
pub struct Batch {
    pub phones: Vec<(Mac, PhoneRecord)>,
    pub unknown: Vec<(Mac, Option<UnknownRecord>)>,
}

impl Store {
    /// Opens (or creates) `dir/inventory.redb`.
    pub fn open(dir: &Path) -> Result<Store, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the state directory {}: {e}", dir.display()))?;
        let path = dir.join("inventory.redb");
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let store = Store { db, path };
        store
            .init()
            .map_err(|e| format!("{}: {e}", store.path.display()))?;
        Ok(store)
    }

    /// Opens `dir/inventory.redb` if it exists, creating nothing (for `pjprov explain`). A database the
    /// running server holds cannot be opened twice: that is an error too.
    pub fn open_existing(dir: &Path) -> Result<Option<Store>, String> {
        let path = dir.join("inventory.redb");
        if !path.exists() {
            return Ok(None);
        }
        Database::builder()
            .set_cache_size(CACHE_BYTES)
            .open(&path)
            .map(|db| {
                Some(Store {
                    db,
                    path: path.clone(),
                })
            })
            .map_err(|e| format!("cannot open {}: {e}", path.display()))
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn init(&self) -> Result<(), redb::Error> {
        let txn = self.db.begin_write()?;
        {
            txn.open_table(PHONES)?;
            txn.open_table(UNKNOWN)?;
            txn.open_table(ENROLMENT)?;
            let mut meta = txn.open_table(META)?;
            if meta.get("schema")?.is_none() {
                meta.insert("schema", SCHEMA)?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// Everything stored: phones and unknown clients. Records that cannot be read are skipped.
    #[allow(clippy::type_complexity)]
    pub fn load(
        &self,
    ) -> Result<(Vec<(Mac, PhoneRecord)>, Vec<(Mac, UnknownRecord)>), redb::Error> {
        let txn = self.db.begin_read()?;
        let mut phones = Vec::new();
        for row in txn.open_table(PHONES)?.iter()? {
            let (key, value) = row?;
            if let (Some(mac), Ok(mut record)) = (
                mac_of(key.value()),
                serde_json::from_slice::<PhoneRecord>(value.value()),
            ) {
                // A list read whole is given room for four at least.
                record.files.shrink_to_fit();
                phones.push((mac, record));
            }
        }
        let mut unknown = Vec::new();
        for row in txn.open_table(UNKNOWN)?.iter()? {
            let (key, value) = row?;
            if let (Some(mac), Ok(record)) = (
                mac_of(key.value()),
                serde_json::from_slice::<UnknownRecord>(value.value()),
            ) {
                unknown.push((mac, record));
            }
        }
        Ok((phones, unknown))
    }

    /// Writes one batch in one durable transaction.
    pub fn write(&self, batch: &Batch) -> Result<(), redb::Error> {
        if batch.phones.is_empty() && batch.unknown.is_empty() {
            return Ok(());
        }
        let txn = self.db.begin_write()?;
        {
            let mut phones = txn.open_table(PHONES)?;
            for (mac, record) in &batch.phones {
                let value = serde_json::to_vec(record).unwrap_or_default();
                phones.insert(&mac.octets()[..], &value[..])?;
            }
            let mut unknown = txn.open_table(UNKNOWN)?;
            for (mac, record) in &batch.unknown {
                match record {
                    Some(record) => {
                        let value = serde_json::to_vec(record).unwrap_or_default();
                        unknown.insert(&mac.octets()[..], &value[..])?;
                    }
                    None => {
                        unknown.remove(&mac.octets()[..])?;
                    }
                }
            }
        }
        txn.commit()?;
        Ok(())
    }
}

/// The enrolment table as stored: whether the baseline was taken, and every row (MAC octets, JSON).
pub type EnrolmentRows = (bool, Vec<([u8; 6], Vec<u8>)>);

impl Store {
    /// Every enrolment row. A row whose key is not a MAC is an error: the table is then not to be trusted.
    pub fn load_enrolment(&self) -> Result<EnrolmentRows, String> {
        let read = || -> Result<EnrolmentRows, redb::Error> {
            let txn = self.db.begin_read()?;
            let baseline = txn.open_table(META)?.get(ENROLMENT_BASELINE)?.is_some();
            let mut rows = Vec::new();
            let table = match txn.open_table(ENROLMENT) {
                Ok(table) => table,
                // A database from before enrolment existed (read by explain, which creates nothing).
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok((baseline, rows)),
                Err(e) => return Err(e.into()),
            };
            for row in table.iter()? {
                let (key, value) = row?;
                let Ok(mac) = <[u8; 6]>::try_from(key.value()) else {
                    return Err(redb::Error::Corrupted(
                        "an enrolment row whose key is not a MAC".into(),
                    ));
                };
                rows.push((mac, value.value().to_vec()));
            }
            Ok((baseline, rows))
        };
        read().map_err(|e| format!("cannot read the enrolment state: {e}"))
    }

    /// Writes enrolment rows (`None` deletes) and, with `baseline`, marks the baseline as taken: one durable
    /// transaction, committed before this returns.
    /// Forgets that the enrolment baseline was taken: the next configuration that uses enrolment is taken
    /// as it is (its phones get no first-boot window).
    pub fn forget_enrolment_baseline(&self) -> Result<(), String> {
        let write = || -> Result<(), redb::Error> {
            let txn = self.db.begin_write()?;
            txn.open_table(META)?.remove(ENROLMENT_BASELINE)?;
            txn.commit()?;
            Ok(())
        };
        write().map_err(|e| format!("cannot write the enrolment state: {e}"))
    }

    pub fn write_enrolment(
        &self,
        rows: &[([u8; 6], Option<Vec<u8>>)],
        baseline: bool,
    ) -> Result<(), String> {
        let write = || -> Result<(), redb::Error> {
            let txn = self.db.begin_write()?;
            {
                let mut table = txn.open_table(ENROLMENT)?;
                for (mac, value) in rows {
                    match value {
                        Some(value) => {
                            table.insert(&mac[..], &value[..])?;
                        }
                        None => {
                            table.remove(&mac[..])?;
                        }
                    }
                }
                if baseline {
                    txn.open_table(META)?
                        .insert(ENROLMENT_BASELINE, &b"1"[..])?;
                }
            }
            txn.commit()?;
            Ok(())
        };
        write().map_err(|e| format!("cannot write the enrolment state: {e}"))
    }
}

fn mac_of(key: &[u8]) -> Option<Mac> {
    let bytes: [u8; 6] = key.try_into().ok()?;
    Some(Mac::from_octets(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let mac = Mac::parse("0004f2aabbcc").unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let mut record = PhoneRecord {
                first_seen: 1,
                last_seen: 2,
                user_agent: "x".into(),
                ..PhoneRecord::default()
            };
            record.remember("a.cfg", Some("\"1\""), 2, 200);
            store
                .write(&Batch {
                    phones: vec![(mac, record)],
                    unknown: vec![(mac, Some(UnknownRecord::default()))],
                })
                .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let (phones, unknown) = store.load().unwrap();
        assert_eq!(phones.len(), 1);
        assert_eq!(phones[0].0, mac);
        assert_eq!(phones[0].1.last_seen, 2);
        // Read back with room for its one file, not the four a growing list starts with.
        assert_eq!(phones[0].1.files.len(), 1);
        assert_eq!(phones[0].1.files.capacity(), 1);
        assert_eq!(unknown.len(), 1);
        store
            .write(&Batch {
                phones: vec![],
                unknown: vec![(mac, None)],
            })
            .unwrap();
        assert!(store.load().unwrap().1.is_empty());
    }
}

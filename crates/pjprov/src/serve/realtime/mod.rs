//! Serving objects from PostgreSQL: what a reload fetches before it builds (`Realtime::prepare`), the
//! task that notices changes (`watcher.rs`: the change detector every `[realtime] poll` seconds, and
//! `LISTEN` for the trigger's `NOTIFY`), and whether the database can be read (`health.rs`).
//!
//! A reload from the database is a reload like any other: the watcher only sends the reload trigger; the
//! reload reads the plan, fetches every table in one transaction and builds the snapshot, which replaces
//! the previous one in one swap. A database that cannot be read fails the reload: the last good snapshot
//! keeps serving (`/healthz` says "degraded"), and with none yet, nothing is served (503).

mod health;
pub mod watcher;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use pjprov_core::realtime::{Connection, Plan};
use pjprov_core::{BuildOptions, Paths};
use tokio::sync::watch;

pub use health::Health;

use crate::realtime::{Link, connect, fetch};

/// How long one fetch of every table may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(120);

/// What the watcher follows: the tables of the last attempt and the detector's value of what it read.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// Where the tables are; `None` when no object comes from PostgreSQL.
    pub connection: Option<Connection>,
    pub tables: Vec<String>,
    /// The detector's value for the rows the last reload read; `None` when it could not read them.
    pub fingerprint: Option<String>,
    pub settings: pjprov_core::settings::Realtime,
}

/// A reload that could not read the database.
#[derive(Debug)]
pub struct Unavailable {
    /// Why, naming the database (never the password).
    pub why: String,
    /// The files to watch meanwhile.
    pub watch: Vec<PathBuf>,
}

/// The reloader's side: its connection, and what it tells the watcher.
pub struct Realtime {
    link: Option<Link>,
    target: watch::Sender<Target>,
}

impl Realtime {
    pub fn new(target: watch::Sender<Target>) -> Realtime {
        Realtime { link: None, target }
    }

    /// The build options for the configuration in `paths` now: `base` with the rows its objects need.
    pub async fn prepare(
        &mut self,
        paths: &Paths,
        base: &BuildOptions,
        health: &Health,
    ) -> Result<BuildOptions, Unavailable> {
        let config_dir = paths.config_dir.clone();
        let (plan, settings) = tokio::task::spawn_blocking(move || {
            let plan = pjprov_core::realtime::plan(&config_dir);
            let settings = pjprov_core::Settings::read_alone(&config_dir)
                .map(|s| s.realtime)
                .unwrap_or_default();
            (plan, settings)
        })
        .await
        .map_err(|e| Unavailable {
            why: format!("reading sorcery.conf failed: {e}"),
            watch: Vec::new(),
        })?;
        let mut options = base.clone();
        let connection = match plan.connection() {
            Some(connection) if plan.is_usable() && plan.needs_database() => connection.clone(),
            // The build reports what is wrong with the plan, if anything.
            _ => {
                self.link = None;
                health.unused();
                self.target.send_replace(Target {
                    settings,
                    ..Target::default()
                });
                return Ok(options);
            }
        };
        let tables: Vec<String> = plan.queries().into_iter().map(|q| q.table).collect();
        let started = std::time::Instant::now();
        let result = self
            .read(&plan, &connection, settings.connect_timeout)
            .await;
        if let Ok(fetched) = &result {
            tracing::info!(
                target: "pjprov::realtime",
                tables = tables.len(),
                rows = fetched.rows.tables().iter().map(|t| t.len()).sum::<usize>(),
                ms = started.elapsed().as_millis() as u64,
                "read the realtime tables"
            );
        }
        let fingerprint = result.as_ref().ok().map(|f| f.fingerprint.clone());
        self.target.send_replace(Target {
            connection: Some(connection.clone()),
            tables,
            fingerprint,
            settings,
        });
        match result {
            Ok(fetched) => {
                health.ok();
                options.realtime = Some(Arc::new(fetched.rows));
                Ok(options)
            }
            Err(e) => {
                self.link = None;
                let why = format!("the database {} cannot be read: {e}", connection.describe());
                health.failed(&why);
                let mut watch = plan.watch().to_vec();
                for file in [
                    "pjsip.conf",
                    "phoneprov.conf",
                    "pjprov.conf",
                    "pjsip_wizard.conf",
                ] {
                    watch.push(paths.config_dir.join(file));
                }
                Err(Unavailable { why, watch })
            }
        }
    }

    async fn read(
        &mut self,
        plan: &Plan,
        connection: &Connection,
        connect_timeout: Duration,
    ) -> Result<crate::realtime::Fetched, crate::realtime::DbError> {
        if !self.link.as_ref().is_some_and(|l| l.serves(connection)) {
            self.link = None;
            self.link = Some(connect(connection, connect_timeout).await?);
        }
        let Some(link) = self.link.as_ref() else {
            return Err(crate::realtime::DbError("not connected".into()));
        };
        match tokio::time::timeout(FETCH_TIMEOUT, fetch(&link.client, plan)).await {
            Ok(result) => result,
            Err(_) => Err(crate::realtime::DbError(format!(
                "reading the tables took more than {FETCH_TIMEOUT:?}"
            ))),
        }
    }
}

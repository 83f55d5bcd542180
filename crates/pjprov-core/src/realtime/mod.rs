//! Asterisk realtime: pjsip objects that sorcery reads from PostgreSQL tables, mapped exactly as Asterisk
//! 22.10.1 maps them (`../notes/realtime.md` is the research; docs/realtime.md the admin's view).
//!
//! This crate has no sockets, so the work is split in two:
//!
//! 1. [`Plan::read`] (or [`plan`]) reads sorcery.conf (`[res_pjsip]`, `[res_pjsip_phoneprov_provider]`),
//!    extconfig.conf and res_pgsql.conf and says, for each [`ObjectType`], the [`Source`]s in the order
//!    sorcery asks them (a config file with its criteria, a PostgreSQL family's tables, the wizard's
//!    store), which tables to fetch ([`Plan::queries`]), how to connect ([`Connection`]), and every
//!    mapping pjprov cannot follow (a `check` warning each).
//! 2. The binary fetches those tables into [`RealtimeRows`] and passes them in
//!    [`BuildOptions::realtime`](crate::BuildOptions::realtime); the build decodes each row as
//!    res_config_pgsql and res_sorcery_realtime do (`decode.rs`) and merges the objects with the files'
//!    in mapping order (`pjsip/mapped.rs`): for a lookup by id the first mapping that has a valid object
//!    wins; phoneprov objects are taken in `strcmp` order of their ids, the first mapping winning a clash.
//!
//! Without sorcery.conf mappings for these types ([`Plan::is_default`]), objects come from pjsip.conf and
//! the wizard exactly as before.
//!
//! * `sorcery.rs`: sorcery.conf and the wizards' `open`;
//! * `extconfig.rs`: extconfig.conf (`find_engine`);
//! * `pgsql.rs`: res_pgsql.conf and the connection string;
//! * `plan.rs`: the [`Plan`];
//! * `rows.rs`: [`RealtimeRows`];
//! * `decode.rs`: rows to variables.

pub(crate) mod decode;
mod extconfig;
mod pgsql;
mod plan;
mod rows;
mod sorcery;

#[cfg(test)]
mod tests;

use std::path::Path;

pub use pgsql::{Connection, FILE_NAME as PGSQL_FILE};
pub use plan::{
    ConfigSource, ObjectType, Origin, Plan, Query, RealtimeSource, Source, Unqualified,
};
pub use rows::{RealtimeRows, RowTooLarge, TableRows};

/// The plan for the configuration in `config_dir` (the files read as the build reads them).
pub fn plan(config_dir: &Path) -> Plan {
    Plan::read(&asterisk_config::Loader::new(config_dir))
}

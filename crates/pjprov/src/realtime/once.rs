//! One fetch for a command that builds a snapshot and exits: connect, read, build. A database that cannot
//! be read is an error naming the connection: a command never answers from the files alone when Asterisk
//! would read objects from PostgreSQL.

use std::sync::Arc;

use pjprov_core::BuildOptions;

use crate::cli::Dirs;

/// The build options for `dirs`, with the rows the configuration needs (read once). The error says which
/// database could not be read, and why.
pub fn build_options(dirs: &Dirs) -> Result<BuildOptions, String> {
    let mut options = dirs.build_options();
    let plan = pjprov_core::realtime::plan(&dirs.config_dir);
    if !plan.is_usable() || !plan.needs_database() {
        return Ok(options);
    }
    let Some(connection) = plan.connection() else {
        return Ok(options);
    };
    let timeout = pjprov_core::Settings::read_alone(&dirs.config_dir)
        .map(|s| s.realtime.connect_timeout)
        .unwrap_or(std::time::Duration::from_secs(5));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the database client: {e}"))?;
    let fetched = runtime.block_on(async {
        let link = super::connect(connection, timeout).await?;
        super::fetch(&link.client, &plan).await
    });
    match fetched {
        Ok(fetched) => {
            options.realtime = Some(Arc::new(fetched.rows));
            Ok(options)
        }
        Err(e) => Err(format!(
            "the objects sorcery.conf maps to PostgreSQL cannot be read from {}: {e}",
            connection.describe()
        )),
    }
}

//! PostgreSQL for realtime objects (pjprov-core's `realtime` says what to read; this reads it).
//!
//! * `connect.rs`: a connection exactly where res_config_pgsql's would go (its libpq connection string,
//!   parsed), plain TCP or a Unix socket, never TLS; errors that never quote the password;
//! * `fetch.rs`: every table of a plan in one read-only, repeatable-read transaction (one consistent
//!   view, one round trip), each value as PostgreSQL's text, with the change detector's value of that
//!   same view;
//! * `detect.rs`: the change detector, a cheap query whose value changes whenever a row, a column or the
//!   table itself does;
//! * `once.rs`: one fetch for the commands that build a snapshot and exit (`check`, `list`, `render`,
//!   `explain`).
//!
//! tokio-postgres logs through the `log` crate; pjprov's logging caps dependencies at `info`, where it
//! logs only server notices (never statements, never the connection string).

mod connect;
pub mod detect;
mod fetch;
mod once;
mod tls;

pub use connect::{DbError, Link, connect};
pub use fetch::{Fetched, fetch};
pub use once::build_options;

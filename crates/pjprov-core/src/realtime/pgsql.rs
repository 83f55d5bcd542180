//! res_pgsql.conf `[general]`, as `res/res_config_pgsql.c parse_config` and `pgsql_reconnect` read it.
//!
//! The file is `res_pgsql.conf` (`RES_CONFIG_PGSQL_CONF`); Asterisk reads no `res_config_pgsql.conf`.
//! Without it (or with an invalid one) res_config_pgsql declines to load and Asterisk finds nothing in any
//! `pgsql` family. Each option has a new name and a legacy one (`user`/`dbuser`, `password`/`dbpass`,
//! `hostname`/`dbhost`, `port`/`dbport`, `appname`/`dbappname`, `socket`/`dbsock`; `dbname` has only that
//! one); the new name wins, and of each the *first* value counts (`ast_variable_retrieve`). Values are kept
//! in 64-byte buffers (63 bytes), the database name in 50 when connecting (49). The socket is read only
//! when there is no host, and it is a *directory* (libpq connects to `DIR/.s.PGSQL.PORT`); `localhost` is a
//! TCP host like any other. There is no TLS option: libpq's defaults and `PGSSL*` apply to Asterisk, and
//! pjprov connects without TLS (docs/realtime.md).
//!
//! Asterisk pastes the values unquoted into a libpq connection string ([`Connection::conninfo`]), so a
//! value with a blank, a quote or a backslash changes its meaning there; pjprov parses that very string,
//! so it connects exactly where Asterisk would (or fails where Asterisk fails).

use asterisk_config::Config;

use super::extconfig::{atoi, cut};
use crate::error::{Diagnostic, Error};
use crate::pjsip::{Src, src};
use crate::settings::Secret;

/// The file res_config_pgsql reads.
pub const FILE_NAME: &str = "res_pgsql.conf";

/// `MAX_DB_OPTION_SIZE` less the terminating NUL.
const OPTION_MAX: usize = 63;
/// `my_database[50]` in `pgsql_reconnect`.
const DBNAME_MAX: usize = 49;

/// Where and how res_config_pgsql connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// `hostname`/`dbhost`: a TCP host; empty means the socket directory is used.
    pub host: String,
    /// `socket`/`dbsock` (only read when `host` is empty; `/tmp` by default): a directory.
    pub socket_dir: String,
    /// `port`/`dbport` through `atoi` (5432 by default).
    pub port: i32,
    /// `dbname` (`asterisk` by default), cut at 49 bytes.
    pub dbname: String,
    /// `user`/`dbuser` (`asterisk` by default).
    pub user: String,
    /// `password`/`dbpass` (`asterisk` by default; empty means none is sent).
    pub password: Secret,
    /// `appname`/`dbappname`: `application_name`.
    pub appname: String,
    /// `order_multi_row_results_by_initial_column` (yes by default): multi-row queries end in `ORDER BY id`.
    pub order_by_id: bool,
}

impl Connection {
    /// The libpq connection string `pgsql_reconnect` builds, byte for byte (it holds the password).
    /// `None` when Asterisk would not connect at all (no host and no socket, no user or no database name:
    /// "One or more of the parameters in the config does not pass our validity checks").
    pub fn conninfo(&self) -> Option<Secret> {
        let host = if self.host.is_empty() {
            &self.socket_dir
        } else {
            &self.host
        };
        if host.is_empty() || self.user.is_empty() || self.dbname.is_empty() {
            return None;
        }
        let mut text = format!(
            "host={host} port={} dbname={} user={}",
            self.port, self.dbname, self.user
        );
        if !self.appname.is_empty() {
            text.push_str(" application_name=");
            text.push_str(&self.appname);
        }
        if !self.password.expose().is_empty() {
            text.push_str(" password=");
            text.push_str(self.password.expose());
        }
        Some(Secret::new(text))
    }

    /// Where it connects, for messages: `user@host:port/dbname` (never the password).
    pub fn describe(&self) -> String {
        if self.host.is_empty() {
            format!(
                "{}@{}/.s.PGSQL.{}/{}",
                self.user, self.socket_dir, self.port, self.dbname
            )
        } else {
            format!("{}@{}:{}/{}", self.user, self.host, self.port, self.dbname)
        }
    }
}

/// Reads `config` (res_pgsql.conf). `None` when there is no usable file: res_config_pgsql then declines
/// to load. `file` is where the file is, for diagnostics about missing options.
pub(crate) fn read(
    config: &Config,
    file: &std::path::Path,
    diags: &mut Vec<Diagnostic>,
) -> Connection {
    let section = config.section("general");
    let at = |key: &str| -> Src {
        section
            .and_then(|s| s.entries().find(|e| e.key.eq_ignore_ascii_case(key)))
            .map(|e| src(config, e.file, e.line))
            .or_else(|| section.map(|s| src(config, s.file, s.line)))
            .unwrap_or_else(|| Src {
                file: std::sync::Arc::from(file),
                line: 0,
            })
    };
    let get = |key: &str| section.and_then(|s| s.get(key));
    let either = |new: &'static str, legacy: &'static str| {
        get(new)
            .map(|v| (new, v))
            .or_else(|| get(legacy).map(|v| (legacy, v)))
    };
    let note = |key: &str, message: String, diags: &mut Vec<Diagnostic>| {
        diags.push(at(key).diag(Error::RealtimeNote {
            message: format!("{FILE_NAME}: {message}"),
        }));
    };
    let value = |found: Option<(&str, &str)>,
                 max: usize,
                 diags: &mut Vec<Diagnostic>|
     -> Option<String> {
        let (key, text) = found?;
        let kept = cut(text, max);
        if kept.len() < text.len() {
            note(
                key,
                format!(
                    "{key} is longer than {max} bytes: Asterisk cuts it there, and so does pjprov"
                ),
                diags,
            );
        }
        if text.bytes().any(|b| b <= b' ' || b == b'\'' || b == b'\\') {
            note(
                key,
                format!(
                    "{key} holds a blank, a quote or a backslash: Asterisk pastes it unquoted into the libpq connection string, which splits or reinterprets it there (pjprov reads that string the same way)"
                ),
                diags,
            );
        }
        Some(kept.to_owned())
    };
    let defaulted = |what: &str, default: &str| {
        format!("no database {what} found, using {default} as Asterisk does")
    };

    let user = value(either("user", "dbuser"), OPTION_MAX, diags);
    let password = value(either("password", "dbpass"), OPTION_MAX, diags);
    let host = value(either("hostname", "dbhost"), OPTION_MAX, diags);
    let dbname = value(get("dbname").map(|v| ("dbname", v)), OPTION_MAX, diags);
    let port = either("port", "dbport").map(|(_, v)| atoi(v));
    let appname = value(either("appname", "dbappname"), OPTION_MAX, diags);
    if user.is_none() {
        note("general", defaulted("user", "'asterisk'"), diags);
    }
    if password.is_none() {
        note("general", defaulted("password", "'asterisk'"), diags);
    }
    if host.is_none() {
        note(
            "general",
            "no database host found: Asterisk uses the socket".into(),
            diags,
        );
    }
    if dbname.is_none() {
        note("general", defaulted("name", "'asterisk'"), diags);
    }
    if port.is_none() {
        note("general", defaulted("port", "5432"), diags);
    }
    let host = host.unwrap_or_default();
    let port = port.unwrap_or(5432);
    let socket_dir = if host.is_empty() {
        match value(either("socket", "dbsock"), OPTION_MAX, diags) {
            Some(dir) => dir,
            None => {
                note(
                    "general",
                    format!(
                        "no database socket found, using '/tmp/.s.PGSQL.{port}' as Asterisk does (Debian's server listens in /var/run/postgresql)"
                    ),
                    diags,
                );
                "/tmp".to_owned()
            }
        }
    } else {
        String::new()
    };
    if !(1..=65535).contains(&port) {
        note(
            "port",
            format!("port {port} is no TCP port: neither Asterisk nor pjprov can connect"),
            diags,
        );
    }
    let order_by_id = get("order_multi_row_results_by_initial_column").is_none_or(is_true);
    let connection = Connection {
        host,
        socket_dir,
        port,
        dbname: cut(&dbname.unwrap_or_else(|| "asterisk".into()), DBNAME_MAX).to_owned(),
        user: user.unwrap_or_else(|| "asterisk".into()),
        password: Secret::new(password.unwrap_or_else(|| "asterisk".into())),
        appname: appname.unwrap_or_default(),
        order_by_id,
    };
    if connection.conninfo().is_none() {
        note(
            "general",
            "the host (or socket), user or database name is empty: Asterisk never connects, and finds nothing in the database".into(),
            diags,
        );
    }
    connection
}

/// `ast_true`.
fn is_true(value: &str) -> bool {
    ["yes", "true", "y", "t", "1", "on"]
        .iter()
        .any(|t| t.eq_ignore_ascii_case(value.trim()))
}

//! Connecting as res_config_pgsql does: `pgsql_reconnect` builds a libpq connection string from
//! res_pgsql.conf's values, pasted unquoted; pjprov parses that very string (tokio-postgres reads libpq's
//! `key=value` syntax), so a value with a blank or a quote means here what it means to Asterisk. A host
//! that starts with `/` is a socket directory (`DIR/.s.PGSQL.PORT`), as in libpq.
//!
//! TLS as libpq's defaults give it to Asterisk (see [`super::tls`]): over TCP, TLS when the server offers
//! it; over the Unix socket, none (PostgreSQL has none there).

use std::str::FromStr;
use std::time::Duration;

use pjprov_core::realtime::Connection;
use tokio_postgres::{AsyncMessage, Client};

/// A database error, as a message that never holds the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DbError(pub String);

impl From<tokio_postgres::Error> for DbError {
    fn from(error: tokio_postgres::Error) -> DbError {
        // tokio-postgres' messages name hosts, users and SQL errors, never the password (its Config
        // redacts it); parse errors, which could quote a piece of it, never reach here.
        let mut text = error.to_string();
        if let Some(db) = error.as_db_error() {
            text = format!("{}: {}", db.severity(), db.message());
        } else if let Some(source) = std::error::Error::source(&error) {
            text = format!("{text}: {source}");
        }
        DbError(text)
    }
}

/// An open connection: the client, and the notifications its connection receives.
pub struct Link {
    pub client: Client,
    /// One `()` per `NOTIFY` received; closed when the connection ends.
    pub notifications: tokio::sync::mpsc::UnboundedReceiver<()>,
    /// The connection string it was opened with (to tell when res_pgsql.conf changed).
    conninfo: String,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link").finish_non_exhaustive()
    }
}

impl Link {
    /// Whether this link was opened for `connection` and is still open.
    pub fn serves(&self, connection: &Connection) -> bool {
        !self.client.is_closed()
            && connection
                .conninfo()
                .is_some_and(|c| c.expose() == self.conninfo)
    }
}

/// Opens a connection for `connection`, giving up after `timeout`.
pub async fn connect(connection: &Connection, timeout: Duration) -> Result<Link, DbError> {
    let where_ = connection.describe();
    let Some(conninfo) = connection.conninfo() else {
        return Err(DbError(format!(
            "{where_}: res_pgsql.conf leaves the host (or socket), user or database name empty, so Asterisk never connects; neither does pjprov"
        )));
    };
    let mut config = tokio_postgres::Config::from_str(conninfo.expose()).map_err(|_| {
        DbError(format!(
            "{where_}: the connection string Asterisk builds from res_pgsql.conf does not parse (a value with a blank, a quote or a backslash, or a libpq option pjprov does not know)"
        ))
    })?;
    config.connect_timeout(timeout);
    config.keepalives(true);
    config.keepalives_idle(Duration::from_secs(30));
    let tls = super::tls::connector()
        .map_err(|e| DbError(format!("{where_}: cannot set up TLS: {e}")))?;
    let (client, mut conn) = tokio::time::timeout(timeout, config.connect(tls))
        .await
        .map_err(|_| DbError(format!("{where_}: no answer within {timeout:?}")))?
        .map_err(|e| DbError(format!("{where_}: {}", DbError::from(e))))?;
    let (notify, notifications) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        // Drives the connection; forwards NOTIFYs, drops notices (tokio-postgres logs them at info).
        while let Some(message) = std::future::poll_fn(|cx| conn.poll_message(cx)).await {
            match message {
                Ok(AsyncMessage::Notification(_)) => {
                    if notify.send(()).is_err() {
                        // Nobody listens: keep driving the connection for its client.
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    Ok(Link {
        client,
        notifications,
        conninfo: conninfo.expose().to_owned(),
    })
}

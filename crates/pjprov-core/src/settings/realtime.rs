//! `[realtime]`: how pjprov follows PostgreSQL when sorcery.conf maps objects there (docs/realtime.md).
//!
//! * `poll`: seconds between two looks at the change detector (a cheap query: row counts, a sum of row
//!   versions and the columns of each table), 0 to look only on `NOTIFY`; 2 by default;
//! * `listen`: `LISTEN` on `channel` (the contrib trigger's `pg_notify('pjprov', table)`) to reload at
//!   once; yes by default;
//! * `channel`: the channel's name, `pjprov` by default;
//! * `connect_timeout`: seconds a connection attempt may take, 5 by default.

use std::time::Duration;

use super::values;

/// `[realtime]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Realtime {
    /// Time between two polls of the change detector; `None` with `poll = 0`.
    pub poll: Option<Duration>,
    /// `listen`: whether to `LISTEN` on `channel`.
    pub listen: bool,
    /// `channel`.
    pub channel: String,
    /// How long a connection attempt may take.
    pub connect_timeout: Duration,
}

impl Default for Realtime {
    fn default() -> Realtime {
        Realtime {
            poll: Some(Duration::from_secs(2)),
            listen: true,
            channel: "pjprov".to_owned(),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

impl Realtime {
    /// The channel to `LISTEN` on, unless `listen = no`.
    pub fn listen_channel(&self) -> Option<&str> {
        self.listen.then_some(self.channel.as_str())
    }
}

/// The keys of `[realtime]`.
pub(super) const KEYS: &[&str] = &["poll", "listen", "channel", "connect_timeout"];

/// `poll`: whole seconds, 0 (off) to one hour.
pub(super) fn poll(text: &str) -> Result<Option<Duration>, String> {
    let seconds = values::number(text, 0, 3600)?;
    Ok((seconds > 0).then(|| Duration::from_secs(seconds)))
}

/// `channel`: a plain identifier (`LISTEN` takes one; PostgreSQL folds it to lower case).
pub(super) fn channel(text: &str) -> Result<String, String> {
    let text = text.trim();
    let mut bytes = text.bytes();
    let plain = bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && text.len() <= 63;
    if plain {
        Ok(text.to_owned())
    } else {
        Err("must be a lower-case identifier (letters, digits, '_'), as pg_notify names it".into())
    }
}

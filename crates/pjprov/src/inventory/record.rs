//! What the inventory remembers of a phone, and of a client that asked for a file no phone has.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// One phone, as seen from its requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneRecord {
    /// First request (Unix seconds).
    pub first_seen: i64,
    /// Last request (Unix seconds).
    pub last_seen: i64,
    /// Its address at the last request.
    pub address: Option<IpAddr>,
    /// The address it connected to at the last request (what `SERVER` was).
    pub server: Option<IpAddr>,
    /// Its last User-Agent.
    pub user_agent: Box<str>,
    /// Vendor, model and firmware read from the User-Agent.
    pub vendor: Option<Box<str>>,
    pub model: Option<Box<str>>,
    pub firmware: Option<Box<str>>,
    /// How it came.
    pub protocol: Protocol,
    /// The port it connected to, and the `Host` it asked for (what its files' URLs are made of).
    #[serde(default)]
    pub port: u16,
    #[serde(default)]
    pub host: Option<Box<str>>,
    /// Every file served to it, the latest fetch of each.
    pub files: Vec<Fetched>,
    /// When a reload last changed its files (Unix seconds).
    pub changed_at: Option<i64>,
    /// The last NOTIFY sent to it, and how it went.
    pub notified_at: Option<i64>,
    pub notify_result: Option<Box<str>>,
    /// When it was last answered with the lobby (issue #18: its secrets held back).
    #[serde(default)]
    pub lobby_at: Option<i64>,
}

/// How a phone came: `http`, `https`, `tftp`, or empty before its first fetch. One of a few names, shared
/// by every record: none of them holds a copy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Protocol(&'static str);

impl Protocol {
    const NAMES: [&'static str; 3] = ["http", "https", "tftp"];

    /// `name` as a record keeps it: one of the protocols pjprov serves, else none.
    pub fn named(name: &str) -> Protocol {
        Protocol(
            Self::NAMES
                .into_iter()
                .find(|known| *known == name)
                .unwrap_or(""),
        )
    }

    /// The name, as stored and shown.
    pub fn name(self) -> &'static str {
        self.0
    }
}

impl Serialize for Protocol {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for Protocol {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Protocol, D::Error> {
        Ok(Protocol::named(&std::borrow::Cow::<str>::deserialize(
            deserializer,
        )?))
    }
}

/// A file served to a phone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fetched {
    /// The URI below `/phoneprov/`.
    pub uri: Box<str>,
    /// The entity tag served (quotes included), when there was one.
    pub etag: Option<Box<str>>,
    /// When (Unix seconds).
    pub at: i64,
    /// The status.
    pub status: u16,
}

/// A MAC no phone has, asked for by someone (a phone not configured yet, or a scanner).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnknownRecord {
    pub first_seen: i64,
    pub last_seen: i64,
    pub address: Option<IpAddr>,
    pub user_agent: String,
    /// The last name asked for.
    pub uri: String,
    /// Requests seen.
    pub requests: u64,
    /// How many of them were answered with the lobby (issue #18).
    #[serde(default)]
    pub lobbies: u64,
}

/// Where a phone stands with the configuration being served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// It fetched the current bytes of every file it is served.
    Current,
    /// A reload changed its files since it fetched them.
    Stale,
    /// Configured, never fetched anything.
    Never,
}

impl State {
    /// `current`, `stale`, `never`.
    pub fn name(self) -> &'static str {
        match self {
            State::Current => "current",
            State::Stale => "stale",
            State::Never => "never",
        }
    }

    /// Every state, in the order pages and metrics list them.
    pub const ALL: [State; 3] = [State::Current, State::Stale, State::Never];
}

impl PhoneRecord {
    /// The latest fetch of `uri`.
    pub fn file(&self, uri: &str) -> Option<&Fetched> {
        self.files.iter().find(|f| *f.uri == *uri)
    }

    /// Takes `user_agent` (and the vendor, model and firmware it names) unless it is empty or the one
    /// known; whether the record changed.
    pub fn saw_user_agent(&mut self, user_agent: &str) -> bool {
        if user_agent.is_empty() || *self.user_agent == *user_agent {
            return false;
        }
        self.user_agent = user_agent.into();
        if let Some(agent) = pjprov_core::Agent::parse(user_agent) {
            self.vendor = Some(agent.vendor.name().into());
            self.model = Some(agent.model.into());
            self.firmware = Some(agent.firmware.into());
        }
        true
    }

    /// Records a fetch of `uri`, replacing the previous one; what it changed (a poll of the same bytes
    /// moves its time on, within the same second not even that).
    pub fn remember(&mut self, uri: &str, etag: Option<&str>, at: i64, status: u16) -> Change {
        match self.files.iter_mut().find(|f| *f.uri == *uri) {
            // The same file again (a phone's usual poll): no allocation.
            Some(old) => {
                let mut change = Change::Nothing;
                if old.etag.as_deref() != etag {
                    old.etag = etag.map(Box::from);
                    change = Change::Facts;
                }
                if old.status != status {
                    old.status = status;
                    change = Change::Facts;
                }
                if old.at != at {
                    old.at = at;
                    change = change.max(Change::Times);
                }
                change
            }
            None => {
                let fetched = Fetched {
                    uri: uri.into(),
                    etag: etag.map(Box::from),
                    at,
                    status,
                };
                // Bounded: a phone asks for a handful of files; a client looping over names does not grow it.
                if self.files.len() >= 64 {
                    self.files.sort_by_key(|f| f.at);
                    self.files.remove(0);
                }
                // Most phones fetch one or two names: room for four each would be a fifth of the
                // inventory's memory.
                self.files.reserve_exact(1);
                self.files.push(fetched);
                Change::Facts
            }
        }
    }
}

/// What a request changed in a record, the least first: it decides how soon the record is written again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    Nothing,
    /// Only when it was last seen: a phone polling the same bytes from the same place.
    Times,
    /// What it fetched, from where, or as what.
    Facts,
}

impl PhoneRecord {
    /// The request facts of its last request (what its files were rendered for).
    pub fn request(&self, prefix: &str) -> Option<pjprov_core::Request> {
        let scheme = match self.protocol.name() {
            "https" => pjprov_core::Scheme::Https,
            "tftp" => pjprov_core::Scheme::Tftp,
            _ => pjprov_core::Scheme::Http,
        };
        Some(pjprov_core::Request::new(
            self.server?,
            scheme,
            self.port,
            self.host.as_deref(),
            prefix,
            Some(&self.user_agent),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_holds_room_for_the_files_it_has() {
        let mut record = PhoneRecord::default();
        assert_eq!(
            record.remember("a.cfg", Some("\"1\""), 1, 200),
            Change::Facts
        );
        assert_eq!(record.files.capacity(), 1);
        assert_eq!(
            record.remember("a.cfg", Some("\"1\""), 2, 200),
            Change::Times
        );
        assert_eq!(record.remember("b.cfg", None, 2, 200), Change::Facts);
        assert_eq!(record.files.capacity(), 2);
    }

    #[test]
    fn protocols_are_stored_by_name() {
        let json = |protocol: &str| {
            format!(
                r#"{{"first_seen":1,"last_seen":2,"address":null,"server":null,"user_agent":"","vendor":null,"model":null,"firmware":null,"protocol":"{protocol}","files":[],"changed_at":null,"notified_at":null,"notify_result":null}}"#
            )
        };
        for name in ["http", "https", "tftp", ""] {
            let record: PhoneRecord = serde_json::from_str(&json(name)).unwrap();
            assert_eq!(record.protocol.name(), name);
            let written = serde_json::to_value(&record).unwrap();
            assert_eq!(written["protocol"], name);
        }
        // Nothing pjprov writes, but a record that has it is still read.
        let record: PhoneRecord = serde_json::from_str(&json("gopher")).unwrap();
        assert_eq!(record.protocol, Protocol::default());
        assert_eq!(Protocol::named("https").name(), "https");
    }
}

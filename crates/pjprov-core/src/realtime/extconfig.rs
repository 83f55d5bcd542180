//! extconfig.conf, as `main/config.c reload_module` (the extconfig part), `ast_realtime_append_mapping`,
//! `ast_realtime_is_mapping_defined` and `find_engine` read it.
//!
//! Only the first non-template `[settings]` section counts. A line is `NAME => DRIVER,DATABASE[,TABLE
//! [,PRIORITY]]`: the driver runs to the first comma; if a `"` appears after it, the database is the quoted
//! text (LDAP DNs hold commas); table and priority follow, split with `strsep`, and **nothing is trimmed**.
//! The priority goes through `atoi`, 0 or missing meaning 1. Mappings are *prepended*, so of two lines with
//! one name and one priority the later wins. The table defaults to the name. Names and drivers compare
//! without case.

use asterisk_config::Config;

use crate::error::{Diagnostic, Error};
use crate::pjsip::{Src, src};

/// The value is copied into a 512-byte buffer before it is split.
const VALUE_BUFFER: usize = 511;

/// One `NAME => DRIVER,DATABASE,TABLE,PRIORITY` line.
#[derive(Debug, Clone)]
pub(crate) struct Mapping {
    pub name: String,
    pub driver: String,
    /// As written; res_config_pgsql ignores it (it always uses res_pgsql.conf's `dbname`).
    pub database: String,
    pub table: Option<String>,
    pub priority: i32,
    pub at: Src,
}

impl Mapping {
    /// `find_engine`'s table: the one written, else the name looked up.
    pub fn table_for<'a>(&'a self, family: &'a str) -> &'a str {
        self.table.as_deref().unwrap_or(family)
    }
}

/// Every mapping, in `config_maps` order (the last line first).
#[derive(Debug, Clone, Default)]
pub(crate) struct Extconfig {
    maps: Vec<Mapping>,
}

/// Names `reload_module` refuses to bind.
const UNBINDABLE: [&str; 3] = ["extconfig.conf", "asterisk.conf", "logger.conf"];

impl Extconfig {
    /// Reads `config` (extconfig.conf; `None` when there is none).
    pub fn read(config: Option<&Config>, diags: &mut Vec<Diagnostic>) -> Extconfig {
        let mut maps = Vec::new();
        let Some(config) = config else {
            return Extconfig { maps };
        };
        let Some(section) = config.section("settings") else {
            return Extconfig { maps };
        };
        for entry in section.entries() {
            let at = src(config, entry.file, entry.line);
            let value = cut(&entry.value, VALUE_BUFFER);
            let Some((driver, rest)) = value.split_once(',') else {
                diags.push(at.diag(Error::RealtimeNote {
                    message: format!(
                        "extconfig.conf: '{}' is ignored: the value needs at least DRIVER,DATABASE",
                        entry.key
                    ),
                }));
                continue;
            };
            let (database, rest) = match rest.find('"') {
                Some(quote) => {
                    let quoted = &rest[quote + 1..];
                    match quoted.split_once('"') {
                        Some((database, after)) => {
                            (database, after.split_once(',').map(|(_, tail)| tail))
                        }
                        None => (quoted, None),
                    }
                }
                None => match rest.split_once(',') {
                    Some((database, tail)) => (database, Some(tail)),
                    None => (rest, None),
                },
            };
            let (table, priority) = match rest {
                None => (None, None),
                Some(rest) => match rest.split_once(',') {
                    Some((table, tail)) => {
                        (Some(table), Some(tail.split(',').next().unwrap_or("")))
                    }
                    None => (Some(rest), None),
                },
            };
            let priority = match priority.map(atoi) {
                None | Some(0) => 1,
                Some(p) => p,
            };
            if UNBINDABLE.contains(&entry.key.as_str()) {
                diags.push(at.diag(Error::RealtimeNote {
                    message: format!("extconfig.conf: Asterisk cannot bind '{}'", entry.key),
                }));
                continue;
            }
            maps.push(Mapping {
                name: entry.key.to_string(),
                driver: driver.to_owned(),
                database: database.to_owned(),
                table: table.map(str::to_owned),
                priority,
                at,
            });
        }
        maps.reverse();
        Extconfig { maps }
    }

    /// `ast_realtime_is_mapping_defined`: some line binds `family` (without case), whatever its driver.
    pub fn is_defined(&self, family: &str) -> bool {
        self.maps
            .iter()
            .any(|m| m.name.eq_ignore_ascii_case(family))
    }

    /// The mapping `find_engine(family, priority)` finds.
    pub fn find(&self, family: &str, priority: i32) -> Option<&Mapping> {
        self.maps
            .iter()
            .find(|m| m.name.eq_ignore_ascii_case(family) && m.priority == priority)
    }

    /// The mappings that make Asterisk read a whole file from a database (static realtime): a file's
    /// name, or `global` (used for every file without a mapping of its own).
    pub fn static_for(&self, file: &str) -> Option<&Mapping> {
        self.find(file, 1).or_else(|| self.find("global", 1))
    }
}

/// C's `atoi`: optional blanks, an optional sign, digits; 0 when there are none. Saturates instead of
/// overflowing (C's behaviour there is undefined).
pub(crate) fn atoi(text: &str) -> i32 {
    let text = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let mut value: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        value = (value * 10 + i64::from(b - b'0')).min(i64::from(i32::MAX) + 1);
    }
    let value = if negative { -value } else { value };
    value.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

/// `ast_copy_string` into a buffer of `max + 1` bytes: at most `max` bytes (never splitting a character).
pub(crate) fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

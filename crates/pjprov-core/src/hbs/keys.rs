//! What a phone's keys and accounts show: line labels, and the layout of the programmable keys
//! (line keys, then busy lamp fields, then speed dials), the same for every brand.
//!
//! Variables read (all optional):
//! - `LINE_LABEL`: what an account and its line key are labelled with: `name` (the default: the
//!   endpoint's caller ID name, else the number), `number` (the caller ID number, else the endpoint
//!   name, else the SIP user) or `label` (Asterisk's `LABEL`, which defaults to the phoneprov section's
//!   name, so it is never chosen unless asked for).
//! - `LINEKEYS`: line keys per line (Asterisk's variable, 1 by default), at most [`MAX_LINE_KEYS`].
//! - `BLF` and `SPEED_DIAL`: comma-separated lists of `number` or `number=Label` (`201=Alice, 202`),
//!   watched (BLF) or dialled (speed dial) keys after the line keys, in order. A number may hold digits,
//!   letters and `* # + . _ @ -` only: anything else could break out of a vendor's key syntax (Cisco's
//!   `fnc=blf;sub=...`, Snom's `blf 201|*8`), so such an item is left out. Labels lose control characters,
//!   `;` and `|` for the same reason.

use serde_json::{Map, Value, json};

/// The most line keys one line gets.
pub const MAX_LINE_KEYS: u32 = 16;

fn field<'a>(object: &'a Map<String, Value>, name: &str) -> &'a str {
    object
        .get(name)
        .and_then(Value::as_str)
        .map_or("", str::trim)
}

/// The number a line is reached at: the caller ID number, else the endpoint name, else the SIP user.
pub fn line_number(line: &Map<String, Value>) -> String {
    ["CALLERID", "ENDPOINT_ID", "USERNAME"]
        .into_iter()
        .map(|name| field(line, name))
        .find(|value| !value.is_empty())
        .unwrap_or("")
        .to_owned()
}

/// What a line is labelled with, as `LINE_LABEL` asks (see the module documentation).
pub fn line_label(line: &Map<String, Value>) -> String {
    let label = match field(line, "LINE_LABEL").to_ascii_lowercase().as_str() {
        "number" => line_number(line),
        "label" => field(line, "LABEL").to_owned(),
        _ => field(line, "DISPLAY_NAME").to_owned(),
    };
    if label.is_empty() {
        line_number(line)
    } else {
        label
    }
}

/// The non-empty, trimmed items of `text` split at `separator`.
pub fn split(text: &str, separator: &str) -> Vec<String> {
    let separator = if separator.is_empty() { "," } else { separator };
    text.split(separator)
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What a key does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Shows a line (account).
    Line,
    /// Watches an extension (busy lamp field) and dials it.
    Blf,
    /// Dials a number.
    SpeedDial,
}

impl KeyKind {
    fn name(self) -> &'static str {
        match self {
            KeyKind::Line => "line",
            KeyKind::Blf => "blf",
            KeyKind::SpeedDial => "speed",
        }
    }
}

/// One programmable key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// Position among all keys, from 1.
    pub index: usize,
    /// Position among the keys of its kind, from 1.
    pub nth: usize,
    /// What it does.
    pub kind: KeyKind,
    /// The line it belongs to (`LINE`, from 1): its own line for a line key, line 1 for the others.
    pub line: u32,
    /// The number it watches or dials; the line's SIP user for a line key.
    pub value: String,
    /// What it shows.
    pub label: String,
}

impl Key {
    /// The key as templates see it: `index`, `nth`, `kind` (`line`, `blf`, `speed`), `line`, `account`
    /// (the line from 0, as Grandstream counts), `value`, `label`.
    pub fn to_json(&self) -> Value {
        json!({
            "index": self.index,
            "nth": self.nth,
            "kind": self.kind.name(),
            "line": self.line,
            "account": self.line.saturating_sub(1),
            "value": self.value,
            "label": self.label,
        })
    }
}

fn valid_number(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"*#+._@-".contains(&b))
}

fn clean_label(label: &str) -> String {
    label
        .chars()
        .filter(|c| !c.is_control() && *c != ';' && *c != '|')
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The `(number, label)` items of a `BLF` or `SPEED_DIAL` list, the invalid ones left out.
pub fn key_items(list: &str) -> Vec<(String, String)> {
    split(list, ",")
        .into_iter()
        .filter_map(|item| {
            let (number, label) = match item.split_once('=') {
                Some((number, label)) => (number.trim(), clean_label(label)),
                None => (item.as_str(), String::new()),
            };
            valid_number(number).then(|| {
                let label = if label.is_empty() {
                    number.to_owned()
                } else {
                    label
                };
                (number.to_owned(), label)
            })
        })
        .collect()
}

/// The keys of a phone: `LINEKEYS` keys for each of `lines` (in order), then the `BLF` keys, then the
/// `SPEED_DIAL` keys.
pub fn layout(lines: &[Value], blf: &str, speed_dial: &str) -> Vec<Key> {
    let mut keys: Vec<Key> = Vec::new();
    let mut push = |kind: KeyKind, line: u32, value: String, label: String| {
        let nth = keys.iter().filter(|k| k.kind == kind).count() + 1;
        keys.push(Key {
            index: keys.len() + 1,
            nth,
            kind,
            line,
            value,
            label,
        });
    };
    let mut first_line = None;
    for line in lines.iter().filter_map(Value::as_object) {
        let number: u32 = field(line, "LINE").parse().unwrap_or(1);
        first_line.get_or_insert(number);
        let count = field(line, "LINEKEYS")
            .parse::<u32>()
            .unwrap_or(1)
            .min(MAX_LINE_KEYS);
        let user = ["ENDPOINT_ID", "USERNAME"]
            .into_iter()
            .map(|name| field(line, name))
            .find(|v| !v.is_empty())
            .unwrap_or("")
            .to_owned();
        for _ in 0..count {
            push(KeyKind::Line, number, user.clone(), line_label(line));
        }
    }
    let line = first_line.unwrap_or(1);
    for (kind, list) in [(KeyKind::Blf, blf), (KeyKind::SpeedDial, speed_dial)] {
        for (number, label) in key_items(list) {
            push(kind, line, number, label);
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(pairs: &[(&str, &str)]) -> Map<String, Value> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), Value::from(*v)))
            .collect()
    }

    #[test]
    fn labels_are_what_a_user_reads_never_the_section_name() {
        let alice = line(&[
            ("LABEL", "desk-1"),
            ("DISPLAY_NAME", "Alice Example"),
            ("CALLERID", "201"),
            ("ENDPOINT_ID", "alice-ep"),
            ("USERNAME", "alice"),
        ]);
        assert_eq!(line_label(&alice), "Alice Example");
        assert_eq!(line_number(&alice), "201");
        let mut by_number = alice.clone();
        by_number.insert("LINE_LABEL".into(), "Number".into());
        assert_eq!(line_label(&by_number), "201");
        let mut asterisk = alice.clone();
        asterisk.insert("LINE_LABEL".into(), "label".into());
        assert_eq!(line_label(&asterisk), "desk-1");
        // No caller ID at all: the endpoint name, then the SIP user.
        let bare = line(&[
            ("LABEL", "desk-9"),
            ("ENDPOINT_ID", "1009"),
            ("USERNAME", "u9"),
        ]);
        assert_eq!(line_label(&bare), "1009");
        assert_eq!(line_label(&line(&[("USERNAME", "u9")])), "u9");
    }

    #[test]
    fn key_lists() {
        assert_eq!(split(" 201, ,202 ,", ","), ["201", "202"]);
        assert_eq!(split("a;b", ";"), ["a", "b"]);
        assert_eq!(
            key_items("201=Alice, 202 ,*97=Voice;mail|x, bad;value, 20 3, <x>, "),
            [
                ("201".to_owned(), "Alice".to_owned()),
                ("202".to_owned(), "202".to_owned()),
                ("*97".to_owned(), "Voicemailx".to_owned()),
            ]
        );
    }

    #[test]
    fn line_keys_then_blf_then_speed_dials() {
        let lines = [
            Value::Object(line(&[
                ("LINE", "1"),
                ("LINEKEYS", "2"),
                ("ENDPOINT_ID", "201"),
                ("DISPLAY_NAME", "Reception"),
            ])),
            Value::Object(line(&[("LINE", "2"), ("ENDPOINT_ID", "202")])),
        ];
        let keys = layout(&lines, "301=Bob,302", "5551234=Shop");
        let summary: Vec<_> = keys
            .iter()
            .map(|k| {
                (
                    k.index,
                    k.nth,
                    k.kind,
                    k.line,
                    k.value.as_str(),
                    k.label.as_str(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (1, 1, KeyKind::Line, 1, "201", "Reception"),
                (2, 2, KeyKind::Line, 1, "201", "Reception"),
                (3, 3, KeyKind::Line, 2, "202", "202"),
                (4, 1, KeyKind::Blf, 1, "301", "Bob"),
                (5, 2, KeyKind::Blf, 1, "302", "302"),
                (6, 1, KeyKind::SpeedDial, 1, "5551234", "Shop"),
            ]
        );
        assert_eq!(keys[3].to_json()["account"], 0);
        assert_eq!(keys[2].to_json()["kind"], "line");
        // LINEKEYS is bounded.
        let many = [Value::Object(line(&[("LINEKEYS", "900")]))];
        assert_eq!(layout(&many, "", "").len(), MAX_LINE_KEYS as usize);
    }
}

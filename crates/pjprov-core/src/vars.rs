//! A phone line's variables: an ordered list of names and values, looked up by exact name.

/// Ordered variables with unique names (case-sensitive, as Asterisk's `ast_var_find`).
///
/// A phone line keeps about 25 variables for as long as its snapshot serves, so they are packed: values (and
/// names other than the usual ones) back to back in one string, found through 12-byte spans; the names every
/// line has (`MAC`, `USERNAME`, `DST_START_MONTH`...) are not stored at all but numbered ([`KNOWN`]). That
/// is about 28 bytes a variable instead of 48 for a pair of inline strings (100,000 lines: 70 MB instead
/// of 120).
#[derive(Clone, Default)]
pub struct Vars {
    /// `[name] value [name] value …` without separators; a replaced value leaves its old text behind until
    /// [`Vars::shrink_to_fit`].
    text: String,
    spans: Vec<Span>,
}

/// Where one variable sits in [`Vars::text`]: its name (a [`KNOWN`] one, or written at `start`), then the
/// value.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u32,
    /// [`KNOWN_FLAG`] and an index into [`KNOWN`], or the length of the name written at `start`.
    name: u32,
    value_len: u32,
}

const KNOWN_FLAG: u32 = 1 << 31;

/// Names most lines have, sorted byte-wise (their spans hold a number instead of the text).
const KNOWN: &[&str] = &[
    "ADMIN_PASSWORD",
    "AUTH_ID",
    "BLF",
    "CALLERID",
    "DISPLAY_NAME",
    "DST_ENABLE",
    "DST_END_HOUR",
    "DST_END_MDAY",
    "DST_END_MONTH",
    "DST_START_HOUR",
    "DST_START_MDAY",
    "DST_START_MONTH",
    "ENDPOINT_ID",
    "LABEL",
    "LANGUAGE",
    "LINE",
    "LINEKEYS",
    "MAC",
    "NTP_SERVER",
    "PROFILE",
    "PROVISIONING_URL",
    "SECRET",
    "SERVER",
    "SERVER_PORT",
    "SIP_TRANSPORT",
    "SPEED_DIAL",
    "TIMEZONE",
    "TRANSPORT_ID",
    "TZOFFSET",
    "UPDATE_INTERVAL",
    "USERNAME",
    "VOICEMAIL_EXTEN",
    "endpoint",
];

/// The span name of a [`KNOWN`] name. A `match` (the compiler tells names apart by length, then bytes):
/// it runs for every variable set or looked up, so it must cost next to nothing.
fn known(name: &str) -> Option<u32> {
    let index = match name {
        "ADMIN_PASSWORD" => 0,
        "AUTH_ID" => 1,
        "BLF" => 2,
        "CALLERID" => 3,
        "DISPLAY_NAME" => 4,
        "DST_ENABLE" => 5,
        "DST_END_HOUR" => 6,
        "DST_END_MDAY" => 7,
        "DST_END_MONTH" => 8,
        "DST_START_HOUR" => 9,
        "DST_START_MDAY" => 10,
        "DST_START_MONTH" => 11,
        "ENDPOINT_ID" => 12,
        "LABEL" => 13,
        "LANGUAGE" => 14,
        "LINE" => 15,
        "LINEKEYS" => 16,
        "MAC" => 17,
        "NTP_SERVER" => 18,
        "PROFILE" => 19,
        "PROVISIONING_URL" => 20,
        "SECRET" => 21,
        "SERVER" => 22,
        "SERVER_PORT" => 23,
        "SIP_TRANSPORT" => 24,
        "SPEED_DIAL" => 25,
        "TIMEZONE" => 26,
        "TRANSPORT_ID" => 27,
        "TZOFFSET" => 28,
        "UPDATE_INTERVAL" => 29,
        "USERNAME" => 30,
        "VOICEMAIL_EXTEN" => 31,
        "endpoint" => 32,
        _ => return None,
    };
    Some(KNOWN_FLAG | index)
}

impl Vars {
    /// No variables.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.position(name).map(|i| self.pair(self.spans[i]).1)
    }

    /// True when `name` is set.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Sets `name`, replacing a previous value in place.
    pub fn set(&mut self, name: &str, value: &str) {
        match self.position(name) {
            Some(i) => {
                let span = self.append(name, value);
                self.spans[i] = span;
            }
            None => self.push(name, value),
        }
    }

    /// Removes `name`; true when it was set. Its text stays until [`Vars::shrink_to_fit`].
    pub fn remove(&mut self, name: &str) -> bool {
        match self.position(name) {
            Some(i) => {
                self.spans.remove(i);
                true
            }
            None => false,
        }
    }

    /// Sets `name` only when it is not set yet (how Asterisk's derived and default variables behave, since
    /// its lookups return the first of a name). Empty values are not stored, as `assign_and_insert` does.
    pub fn set_default(&mut self, name: &str, value: &str) {
        if !value.is_empty() && !self.contains(name) {
            self.push(name, value);
        }
    }

    /// Gives back spare capacity and the text of replaced values (a line's variables are complete once it
    /// is built). The variables move to new allocations of the exact size rather than shrinking in place,
    /// which would leave a hole behind every line that no page-sized release can reclaim.
    pub fn shrink_to_fit(&mut self) {
        let used: usize = self
            .spans
            .iter()
            .map(|s| Self::written_name_len(*s) + s.value_len as usize)
            .sum();
        if self.text.capacity() == used && self.spans.capacity() == self.spans.len() {
            return;
        }
        *self = self.exact_copy();
    }

    /// Removes every variable, keeping the room (a scratch set reused line after line).
    pub fn clear(&mut self) {
        self.text.clear();
        self.spans.clear();
    }

    /// A copy of exactly the size needed (see [`Vars::shrink_to_fit`]).
    pub fn exact_copy(&self) -> Vars {
        let used: usize = self
            .spans
            .iter()
            .map(|s| Self::written_name_len(*s) + s.value_len as usize)
            .sum();
        let mut exact = Vars {
            text: String::with_capacity(used),
            spans: Vec::with_capacity(self.spans.len()),
        };
        for span in &self.spans {
            // The span's name as it is (a number, or the written name): no need to look names up again.
            let start = span.start as usize;
            let end = start
                .saturating_add(Self::written_name_len(*span))
                .saturating_add(span.value_len as usize);
            let new_start = u32::try_from(exact.text.len()).unwrap_or(u32::MAX);
            exact
                .text
                .push_str(self.text.get(start..end).unwrap_or_default());
            exact.spans.push(Span {
                start: new_start,
                ..*span
            });
        }
        exact
    }

    /// Every variable in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.spans.iter().map(|span| self.pair(*span))
    }

    /// Number of variables.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    fn position(&self, name: &str) -> Option<usize> {
        match known(name) {
            Some(id) => self.spans.iter().position(|span| span.name == id),
            // Lengths first: most names differ in length, and that needs no slicing.
            None => self
                .spans
                .iter()
                .position(|span| span.name as usize == name.len() && self.pair(*span).0 == name),
        }
    }

    fn push(&mut self, name: &str, value: &str) {
        let span = self.append(name, value);
        self.spans.push(span);
    }

    /// Appends the text of a variable. Offsets saturate: only a configuration of more than 4 GB could reach
    /// them, and [`Vars::pair`] then reads an empty variable rather than panicking.
    fn append(&mut self, name: &str, value: &str) -> Span {
        let offset = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let start = offset(self.text.len());
        let name = match known(name) {
            Some(id) => id,
            None => {
                self.text.push_str(name);
                // A name of 2 GB could not be told from a known one: it is cut (no config has one).
                offset(name.len()).min(KNOWN_FLAG - 1)
            }
        };
        self.text.push_str(value);
        Span {
            start,
            name,
            value_len: offset(value.len()),
        }
    }

    /// The length of the name written in the text for `span` (none for a known name).
    fn written_name_len(span: Span) -> usize {
        if span.name & KNOWN_FLAG != 0 {
            0
        } else {
            span.name as usize
        }
    }

    fn pair(&self, span: Span) -> (&str, &str) {
        let start = span.start as usize;
        let middle = start.saturating_add(Self::written_name_len(span));
        let end = middle.saturating_add(span.value_len as usize);
        let name = if span.name & KNOWN_FLAG != 0 {
            KNOWN
                .get((span.name & !KNOWN_FLAG) as usize)
                .copied()
                .unwrap_or_default()
        } else {
            self.text.get(start..middle).unwrap_or_default()
        };
        (name, self.text.get(middle..end).unwrap_or_default())
    }
}

impl PartialEq for Vars {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Vars {}

impl std::fmt::Debug for Vars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<'a> FromIterator<(&'a str, &'a str)> for Vars {
    fn from_iter<T: IntoIterator<Item = (&'a str, &'a str)>>(iter: T) -> Self {
        let mut vars = Vars::new();
        for (name, value) in iter {
            vars.set(name, value);
        }
        vars
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_are_sorted_and_unique() {
        assert!(
            KNOWN.windows(2).all(|w| w[0] < w[1]),
            "sorted, no duplicates"
        );
        let mut v = Vars::new();
        v.set("MAC", "0004f2aabbcc");
        v.set("MAC_X", "inline");
        v.set("SECRET", "");
        assert_eq!(
            v.iter().collect::<Vec<_>>(),
            [("MAC", "0004f2aabbcc"), ("MAC_X", "inline"), ("SECRET", "")]
        );
        assert_eq!(
            v.text, "0004f2aabbccMAC_Xinline",
            "known names take no room"
        );
        assert_eq!(v.exact_copy(), v);
    }

    #[test]
    fn set_replaces_in_place_and_default_keeps_first() {
        let mut v = Vars::new();
        v.set("A", "1");
        v.set("B", "2");
        v.set("A", "3");
        v.set_default("B", "x");
        v.set_default("C", "4");
        v.set_default("D", "");
        assert_eq!(
            v.iter().collect::<Vec<_>>(),
            [("A", "3"), ("B", "2"), ("C", "4")]
        );
        assert_eq!(v.get("a"), None, "names are case-sensitive");
    }

    #[derive(Debug, Clone)]
    enum Op {
        Set(String, String),
        SetDefault(String, String),
        Shrink,
    }

    fn op() -> impl Strategy<Value = Op> {
        // Few distinct names, so replacements and defaults on existing names happen often; some of them
        // known ones.
        let name = "[A-Ca-c]{1,2}|MAC|LINE|SECRET|endpoint";
        let value = "[a-z0-9é]{0,6}";
        prop_oneof![
            (name, value).prop_map(|(n, v)| Op::Set(n, v)),
            (name, value).prop_map(|(n, v)| Op::SetDefault(n, v)),
            Just(Op::Shrink),
        ]
    }

    use proptest::prelude::*;

    proptest! {
        /// The packed variables behave as a plain ordered list of pairs.
        #[test]
        fn packing_is_invisible(ops in proptest::collection::vec(op(), 0..40)) {
            let mut vars = Vars::new();
            let mut model: Vec<(String, String)> = Vec::new();
            for op in ops {
                match op {
                    Op::Set(n, v) => {
                        vars.set(&n, &v);
                        match model.iter_mut().find(|(m, _)| *m == n) {
                            Some((_, old)) => *old = v,
                            None => model.push((n, v)),
                        }
                    }
                    Op::SetDefault(n, v) => {
                        vars.set_default(&n, &v);
                        if !v.is_empty() && !model.iter().any(|(m, _)| *m == n) {
                            model.push((n, v));
                        }
                    }
                    Op::Shrink => vars.shrink_to_fit(),
                }
                let listed: Vec<(&str, &str)> = vars.iter().collect();
                let expected: Vec<(&str, &str)> =
                    model.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
                prop_assert_eq!(&listed, &expected);
                for (n, v) in &model {
                    prop_assert_eq!(vars.get(n), Some(v.as_str()));
                }
                prop_assert_eq!(vars.get("zz"), None);
            }
            let before = vars.clone();
            vars.shrink_to_fit();
            prop_assert_eq!(&vars, &before);
        }
    }
}

//! Route names with a `*`: one route for a family of names a phone builds from facts pjprov does not know in
//! advance (its model: Snom's `snomD785.htm`, Cisco's `spa504G.cfg`).
//!
//! **pjprov differs**: Asterisk matches a route name exactly, so a `*` in it is a character like any other
//! (and no phone asks for a name with a `*`). In pjprov, one `*` in a route name (after its variables are
//! substituted) stands for 1 to [`MAX_MATCH`] letters, digits, `.`, `_` or `-` (never `/`); the text around
//! it matches without case, like the other names. Exact names win over wildcards; among wildcards, the one
//! with the most literal text wins, then the first defined. A wildcard route no phone owns never answers a
//! name shaped like a phone's own file (an unknown MAC in `snomD785-<MAC>.htm` is a 404, as every unknown
//! MAC is, not the `snom*.htm` list). Templates read what the `*` stood for as `PROVISIONING_MATCH`.
//!
//! Wildcard routes are indexed by the literal text after the `*` (for per-phone names such as
//! `snom*-${MAC}.htm` that text holds the MAC, so 100,000 phones cost one hash lookup per suffix length).

use rustc_hash::FxHashMap;

/// The most characters a `*` stands for.
pub const MAX_MATCH: usize = 64;

/// A route name with one `*`: its literal text before and after, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Wildcard {
    prefix: String,
    suffix: String,
}

impl Wildcard {
    /// The wildcard of `name`, when it has exactly one `*` (`Err` when it has more).
    pub(crate) fn parse(name: &str) -> Result<Option<Wildcard>, ()> {
        let mut parts = name.splitn(3, '*');
        let prefix = parts.next().unwrap_or_default();
        let Some(suffix) = parts.next() else {
            return Ok(None);
        };
        if parts.next().is_some() {
            return Err(());
        }
        Ok(Some(Wildcard {
            prefix: prefix.to_ascii_lowercase(),
            suffix: suffix.to_ascii_lowercase(),
        }))
    }

    /// How many characters of a matching name are literal (the more, the more specific).
    fn literal_len(&self) -> usize {
        self.prefix.len() + self.suffix.len()
    }

    /// The part of `name` the `*` stands for, when `name` matches.
    pub(crate) fn matches<'n>(&self, name: &'n str) -> Option<&'n str> {
        let end = name.len().checked_sub(self.suffix.len())?;
        let head = name.get(..self.prefix.len())?;
        let tail = name.get(end..)?;
        let middle = name.get(self.prefix.len()..end)?;
        let fits = (1..=MAX_MATCH).contains(&middle.len())
            && middle
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        (fits && head.eq_ignore_ascii_case(&self.prefix) && tail.eq_ignore_ascii_case(&self.suffix))
            .then_some(middle)
    }
}

/// Every wildcard route of a snapshot, by the literal text after its `*`.
#[derive(Debug, Default)]
pub(crate) struct WildcardIndex {
    by_suffix: FxHashMap<String, Vec<(Wildcard, usize)>>,
    /// The distinct suffix lengths, longest first.
    lengths: Vec<usize>,
}

impl WildcardIndex {
    /// Adds route `route` named by `wildcard`.
    pub(crate) fn add(&mut self, wildcard: Wildcard, route: usize) {
        let length = wildcard.suffix.len();
        if !self.lengths.contains(&length) {
            self.lengths.push(length);
            self.lengths.sort_unstable_by(|a, b| b.cmp(a));
        }
        self.by_suffix
            .entry(wildcard.suffix.clone())
            .or_default()
            .push((wildcard, route));
    }

    /// The route of the most specific wildcard `name` matches (the first defined among equals).
    pub(crate) fn find(&self, name: &str) -> Option<usize> {
        let mut best: Option<(usize, usize)> = None;
        for &length in &self.lengths {
            let Some(start) = name.len().checked_sub(length) else {
                continue;
            };
            let Some(tail) = name.get(start..) else {
                continue;
            };
            let folded;
            let key = if tail.bytes().any(|b| b.is_ascii_uppercase()) {
                folded = tail.to_ascii_lowercase();
                folded.as_str()
            } else {
                tail
            };
            for (wildcard, route) in self.by_suffix.get(key).into_iter().flatten() {
                if wildcard.matches(name).is_none() {
                    continue;
                }
                let specific = wildcard.literal_len();
                let better = match best {
                    None => true,
                    Some((len, first)) => specific > len || (specific == len && *route < first),
                };
                if better {
                    best = Some((specific, *route));
                }
            }
        }
        best.map(|(_, route)| route)
    }

    /// Whether there are none.
    pub(crate) fn is_empty(&self) -> bool {
        self.by_suffix.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wildcard(name: &str) -> Wildcard {
        Wildcard::parse(name).unwrap().unwrap()
    }

    #[test]
    fn a_star_stands_for_a_model() {
        let snom = wildcard("snom*.htm");
        assert_eq!(snom.matches("snomD785.htm"), Some("D785"));
        assert_eq!(snom.matches("SNOM320.HTM"), Some("320"));
        assert_eq!(snom.matches("snom.htm"), None, "not empty");
        assert_eq!(snom.matches("snom/x.htm"), None, "never a slash");
        assert_eq!(snom.matches("snomD785.html"), None);
        assert_eq!(snom.matches(&format!("snom{}.htm", "x".repeat(65))), None);
        assert_eq!(snom.matches("snomé.htm"), None);
        let per_phone = wildcard("snom*-000413A11FA7.htm");
        assert_eq!(per_phone.matches("snomD345-000413a11fa7.htm"), Some("D345"));
        assert_eq!(per_phone.matches("snomD345-000413a11fa8.htm"), None);
        assert_eq!(Wildcard::parse("plain.cfg"), Ok(None));
        assert_eq!(Wildcard::parse("a*b*c"), Err(()));
    }

    #[test]
    fn the_most_specific_wins_then_the_first() {
        let mut index = WildcardIndex::default();
        index.add(wildcard("*.htm"), 0);
        index.add(wildcard("snom*.htm"), 1);
        index.add(wildcard("snom*-000413a11fa7.htm"), 2);
        index.add(wildcard("snomD*.htm"), 3);
        index.add(wildcard("snomd*.htm"), 4);
        assert_eq!(index.find("snom320.htm"), Some(1));
        assert_eq!(index.find("snomD785.htm"), Some(3));
        assert_eq!(index.find("snomD785-000413A11FA7.htm"), Some(2));
        assert_eq!(index.find("other.htm"), Some(0));
        assert_eq!(index.find("other.cfg"), None);
        assert_eq!(index.find(""), None);
    }
}

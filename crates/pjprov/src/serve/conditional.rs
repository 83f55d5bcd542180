//! `If-None-Match` and `Range`, as RFC 9110 reads them (single ranges only; a server may ignore the rest).

/// True when `if_none_match` (the header's value) matches `etag`: `*`, or any listed tag compared weakly.
pub fn none_match(if_none_match: &str, etag: &str) -> bool {
    let bare = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    let etag = bare(etag);
    if_none_match.trim() == "*" || if_none_match.split(',').any(|tag| bare(tag) == etag)
}

/// What a `Range` header asks of a body of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// Serve everything (no header, a multi-range or a unit we do not know).
    Full,
    /// Serve bytes `start..=end`.
    Part { start: u64, end: u64 },
    /// Nothing of it exists: 416.
    Unsatisfiable,
}

/// Reads a `Range` header for a body of `len` bytes.
pub fn range(header: Option<&str>, len: u64) -> Range {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Range::Full;
    };
    if spec.contains(',') {
        return Range::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Range::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    let parsed = match (first.is_empty(), last.is_empty()) {
        // bytes=-N: the last N bytes.
        (true, false) => match last.parse::<u64>() {
            Ok(0) => return Range::Unsatisfiable,
            Ok(n) => Some((len.saturating_sub(n), len.saturating_sub(1))),
            Err(_) => None,
        },
        (false, true) => first
            .parse::<u64>()
            .ok()
            .map(|s| (s, len.saturating_sub(1))),
        (false, false) => match (first.parse::<u64>(), last.parse::<u64>()) {
            (Ok(s), Ok(e)) if s <= e => Some((s, e.min(len.saturating_sub(1)))),
            _ => None,
        },
        (true, true) => None,
    };
    match parsed {
        None => Range::Full,
        Some((start, _)) if start >= len => Range::Unsatisfiable,
        Some((start, end)) => Range::Part { start, end },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags() {
        assert!(none_match("\"abc\"", "\"abc\""));
        assert!(none_match("\"x\", W/\"abc\"", "\"abc\""));
        assert!(none_match("*", "\"abc\""));
        assert!(!none_match("\"abd\"", "\"abc\""));
    }

    #[test]
    fn ranges() {
        assert_eq!(range(None, 10), Range::Full);
        assert_eq!(
            range(Some("bytes=0-3"), 10),
            Range::Part { start: 0, end: 3 }
        );
        assert_eq!(
            range(Some("bytes=5-"), 10),
            Range::Part { start: 5, end: 9 }
        );
        assert_eq!(
            range(Some("bytes=-3"), 10),
            Range::Part { start: 7, end: 9 }
        );
        assert_eq!(
            range(Some("bytes=-30"), 10),
            Range::Part { start: 0, end: 9 }
        );
        assert_eq!(
            range(Some("bytes=8-100"), 10),
            Range::Part { start: 8, end: 9 }
        );
        assert_eq!(range(Some("bytes=10-"), 10), Range::Unsatisfiable);
        assert_eq!(range(Some("bytes=-0"), 10), Range::Unsatisfiable);
        assert_eq!(range(Some("bytes=0-1,3-4"), 10), Range::Full);
        assert_eq!(range(Some("items=0-1"), 10), Range::Full);
        assert_eq!(range(Some("bytes=3-1"), 10), Range::Full);
        assert_eq!(range(Some("bytes=0-0"), 0), Range::Unsatisfiable);
    }
}

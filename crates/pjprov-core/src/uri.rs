//! From a request path to a route URI, as Asterisk's HTTP server does it: the query string is dropped, the
//! `/phoneprov` prefix matches without case, and the rest is decoded (`%XX`, and `+` as a space).
//!
//! A path that decodes to a NUL byte (`%00`) is refused: Asterisk would cut the name there
//! (`x.cfg%00.txt` serves `x.cfg`); **pjprov differs** and answers 404.
//!
//! Repeated slashes are one slash (nginx's `merge_slashes`): a phone that joins a base URL ending in `/`
//! with `/file` asks for `/phoneprov//file`, which Asterisk answers 404; **pjprov differs** and serves
//! `file`. Only the slashes written in the path are merged, not `%2F`.

use std::borrow::Cow;

/// The part of `path` below `prefix` + `/phoneprov/`, decoded; `None` when the path is not under it or
/// holds an encoded NUL.
///
/// `prefix` is Asterisk's http.conf `prefix` (empty, or e.g. `asterisk`); it matches without case too.
pub fn route_uri<'a>(path: &'a str, prefix: &str) -> Option<Cow<'a, str>> {
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    if path.contains("//") {
        let merged = merge_slashes(path);
        return below_phoneprov(&merged, prefix).map(|uri| Cow::Owned(uri.into_owned()));
    }
    below_phoneprov(path, prefix)
}

/// `path` with every run of slashes made one.
fn merge_slashes(path: &str) -> String {
    let mut merged = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && merged.ends_with('/')) {
            merged.push(c);
        }
    }
    merged
}

/// The decoded part of `path` below `prefix` + `/phoneprov/`.
fn below_phoneprov<'a>(path: &'a str, prefix: &str) -> Option<Cow<'a, str>> {
    let mut rest = path.strip_prefix('/').unwrap_or(path);
    let prefix = prefix.trim_matches('/');
    if !prefix.is_empty() {
        rest = strip_segment(rest, prefix)?;
    }
    let below = strip_segment(rest, "phoneprov")?;
    if below.bytes().any(|b| b == b'%' || b == b'+') {
        let decoded = decode(below);
        (!decoded.contains('\0')).then_some(Cow::Owned(decoded))
    } else {
        Some(Cow::Borrowed(below))
    }
}

/// Strips `segment` (without case) followed by `/` or the end.
fn strip_segment<'a>(path: &'a str, segment: &str) -> Option<&'a str> {
    let head = path.get(..segment.len())?;
    if !head.eq_ignore_ascii_case(segment) {
        return None;
    }
    let tail = &path[segment.len()..];
    if tail.is_empty() {
        Some(tail)
    } else {
        tail.strip_prefix('/')
    }
}

/// `ast_uri_decode` in legacy mode: `+` is a space, `%` and two more characters are read with
/// `sscanf("%2x")` (so a single hex digit counts, and both characters are consumed anyway).
pub fn decode(text: &str) -> String {
    String::from_utf8_lossy(&decode_bytes(text.as_bytes(), true)).into_owned()
}

/// `ast_uri_decode` on bytes; `+` is a space only in legacy mode (`plus_is_space`; the HTTP server uses
/// it, `URIDECODE` does not).
pub(crate) fn decode_bytes(bytes: &[u8], plus_is_space: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match scan_hex2(&bytes[i + 1..]) {
                Some(value) => {
                    out.push(value);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// `sscanf(s, "%2x")`: blanks skipped, an optional sign and hex digits, two characters at most.
fn scan_hex2(text: &[u8]) -> Option<u8> {
    let blanks = text.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let text = &text[blanks..];
    let (negative, digits) = match text.first() {
        Some(b'-') => (true, &text[1..text.len().min(2)]),
        Some(b'+') => (false, &text[1..text.len().min(2)]),
        _ => (false, &text[..text.len().min(2)]),
    };
    let digits: Vec<u32> = digits
        .iter()
        .map_while(|&b| (b as char).to_digit(16))
        .collect();
    if digits.is_empty() {
        return None;
    }
    let value = digits.iter().fold(0u32, |acc, d| acc * 16 + d);
    Some(if negative {
        (value as u8).wrapping_neg()
    } else {
        value as u8
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_and_query() {
        assert_eq!(
            route_uri("/phoneprov/0004f2aabb01.cfg", "").as_deref(),
            Some("0004f2aabb01.cfg")
        );
        assert_eq!(
            route_uri("/PhoneProv/a.cfg?x=1", "").as_deref(),
            Some("a.cfg")
        );
        assert_eq!(route_uri("/phoneprov", "").as_deref(), Some(""));
        assert_eq!(route_uri("/phoneprov/", "").as_deref(), Some(""));
        assert_eq!(route_uri("/phoneprovx/a", ""), None);
        assert_eq!(route_uri("/other/a", ""), None);
        assert_eq!(
            route_uri("/asterisk/phoneprov/a", "asterisk").as_deref(),
            Some("a")
        );
        assert_eq!(route_uri("/phoneprov/a", "asterisk"), None);
        assert_eq!(
            route_uri("/phoneprov/config/x", "").as_deref(),
            Some("config/x")
        );
    }

    #[test]
    fn repeated_slashes_are_one() {
        for path in [
            "/phoneprov//0004f2aabb01.cfg",
            "//phoneprov/0004f2aabb01.cfg",
            "/phoneprov///0004f2aabb01.cfg?x=//",
        ] {
            assert_eq!(
                route_uri(path, "").as_deref(),
                Some("0004f2aabb01.cfg"),
                "{path}"
            );
        }
        assert_eq!(
            route_uri("/asterisk//phoneprov//a//b", "asterisk").as_deref(),
            Some("a/b")
        );
        assert_eq!(
            route_uri("/phoneprov/a%2F%2Fb", "").as_deref(),
            Some("a//b"),
            "encoded slashes are the name's own"
        );
    }

    #[test]
    fn a_nul_is_refused_and_a_plus_is_a_space() {
        assert_eq!(route_uri("/phoneprov/x.cfg%00.txt", ""), None);
        assert_eq!(route_uri("/phoneprov/x%0", "").as_deref(), Some("x%0"));
        assert_eq!(
            route_uri("/phoneprov/my+file.txt", "").as_deref(),
            Some("my file.txt")
        );
        assert_eq!(
            route_uri("/phoneprov/a%2Bb", "").as_deref(),
            Some("a+b"),
            "an encoded plus stays a plus"
        );
    }

    #[test]
    fn decoding_like_asterisk() {
        assert_eq!(decode("a%2Fb"), "a/b");
        assert_eq!(decode("%2e%2e/x"), "../x");
        assert_eq!(decode("a+b"), "a b");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%4"), "%4");
        assert_eq!(decode("%4g"), "\u{4}");
        assert_eq!(decode("%zz"), "%zz");
    }
}

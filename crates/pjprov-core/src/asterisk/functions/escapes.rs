//! Backslash escapes in function arguments: `ast_get_encoded_char` and `ast_get_encoded_str`
//! (main/app.c), which `CUT`, `FIELDQTY`, `FIELDNUM`, `FILTER`, `REPLACE`, `LISTFILTER`, `SHIFT` and `POP`
//! use for their delimiters and character sets.
//!
//! `\n`, `\r`, `\t`; `\x` and one or two hex digits; `\0` and any number of octal digits (the value wraps
//! at 8 bits, as C's `char` does); any other `\c` is `c`. A `\x` without a hex digit is an error. An empty
//! text is an error too.

/// One encoded character at the start of `text`: its value and how many bytes it took, or `None` where
/// Asterisk returns an error.
pub(crate) fn encoded_char(text: &[u8]) -> Option<(u8, usize)> {
    let (&first, rest) = text.split_first()?;
    if first != b'\\' {
        return Some((first, 1));
    }
    // A lone trailing backslash: Asterisk reads the NUL after it as the escaped character.
    let Some((&kind, digits)) = rest.split_first() else {
        return Some((0, 2));
    };
    Some(match kind {
        b'n' => (b'\n', 2),
        b'r' => (b'\r', 2),
        b't' => (b'\t', 2),
        b'x' => {
            let high = hex(*digits.first()?)?;
            match digits.get(1).copied().and_then(hex) {
                Some(low) => ((high << 4) | low, 4),
                None => (high, 3),
            }
        }
        b'0' => {
            let octal: Vec<u8> = digits
                .iter()
                .copied()
                .take_while(|b| (b'0'..=b'7').contains(b))
                .collect();
            let value = octal
                .iter()
                .fold(0u8, |acc, &d| acc.wrapping_shl(3).wrapping_add(d - b'0'));
            (value, 2 + octal.len())
        }
        other => (other, 2),
    })
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// `ast_get_encoded_str`: every encoded character of `text` until the first error, at most `max - 1` of
/// them; the result ends at a decoded NUL, as the C string does.
pub(crate) fn encoded_str(text: &[u8], max: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = 0;
    while out.len() + 1 < max {
        let Some((c, used)) = text.get(at..).and_then(encoded_char) else {
            break;
        };
        if c == 0 {
            break;
        }
        out.push(c);
        at += used;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_as_app_c_decodes_them() {
        assert_eq!(encoded_char(b" x"), Some((b' ', 1)));
        assert_eq!(encoded_char(b"\\t"), Some((b'\t', 2)));
        assert_eq!(encoded_char(b"\\x41"), Some((b'A', 4)));
        assert_eq!(encoded_char(b"\\x4g"), Some((4, 3)));
        assert_eq!(encoded_char(b"\\xg"), None);
        assert_eq!(encoded_char(b"\\x"), None);
        assert_eq!(encoded_char(b"\\054"), Some((b',', 4)));
        assert_eq!(encoded_char(b"\\0"), Some((0, 2)));
        assert_eq!(
            encoded_char(b"\\0777"),
            Some((0xff, 5)),
            "octal wraps at 8 bits"
        );
        assert_eq!(
            encoded_char(b"\\1"),
            Some((b'1', 2)),
            "only \\0 starts octal"
        );
        assert_eq!(encoded_char(b"\\,"), Some((b',', 2)));
        assert_eq!(encoded_char(b"\\"), Some((0, 2)));
        assert_eq!(encoded_char(b""), None);
    }

    #[test]
    fn strings_stop_at_an_error_or_the_limit() {
        assert_eq!(encoded_str(b"a\\tb", 256), b"a\tb");
        assert_eq!(encoded_str(b"ab\\xzcd", 256), b"ab");
        assert_eq!(encoded_str(b"abcdef", 4), b"abc");
        assert_eq!(encoded_str(b"a\\0b", 256), b"a");
        assert_eq!(encoded_str(b"", 256), b"");
    }
}

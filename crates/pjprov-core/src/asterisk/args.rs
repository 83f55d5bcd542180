//! Function argument splitting, exactly as Asterisk's `__ast_app_separate_args` does it.
//!
//! Arguments split at the delimiter except inside `"..."`, `(...)` or `[...]`. With `remove_chars` (what
//! `AST_STANDARD_APP_ARGS` uses), quotes are dropped and a backslash makes the next byte literal. Only the
//! first `max - 1` arguments are scanned: the last one takes the rest of the text verbatim, quotes and
//! backslashes included. That is why `IF(c?"a, b":x)` yields `a, b` but `IF(c?x:"a, b")` yields `"a, b"`.

/// Splits `data` into at most `max` arguments. An empty `data` has no arguments at all; a trailing delimiter
/// adds an empty last argument.
pub fn separate_args(data: &[u8], delim: u8, remove_chars: bool, max: usize) -> Vec<Vec<u8>> {
    let mut args = Vec::new();
    if max == 0 {
        return args;
    }
    let len = data.len();
    let mut scan = 0usize;
    let mut was_delim: Option<usize> = None;
    let (mut paren, mut bracket) = (0u32, 0u32);
    let mut quote = false;
    while scan < len && args.len() < max - 1 {
        let mut arg = Vec::new();
        while scan < len {
            let c = data[scan];
            match c {
                b'(' => {
                    paren += 1;
                    arg.push(c);
                }
                b')' => {
                    paren = paren.saturating_sub(1);
                    arg.push(c);
                }
                b'[' => {
                    bracket += 1;
                    arg.push(c);
                }
                b']' => {
                    bracket = bracket.saturating_sub(1);
                    arg.push(c);
                }
                b'"' if delim != b'"' => {
                    quote = !quote;
                    if !remove_chars {
                        arg.push(c);
                    }
                }
                b'\\' => {
                    // The next byte is taken literally.
                    if !remove_chars {
                        arg.push(c);
                    }
                    scan += 1;
                    if let Some(&next) = data.get(scan) {
                        arg.push(next);
                    }
                }
                _ if c == delim && paren == 0 && !quote && bracket == 0 => {
                    was_delim = Some(scan);
                    scan += 1;
                    break;
                }
                _ => arg.push(c),
            }
            scan += 1;
        }
        args.push(arg);
    }
    if scan < len || (scan > 0 && was_delim == Some(scan - 1)) {
        args.push(data.get(scan..).unwrap_or_default().to_vec());
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str, max: usize) -> Vec<String> {
        separate_args(s.as_bytes(), b',', true, max)
            .into_iter()
            .map(|a| String::from_utf8(a).unwrap())
            .collect()
    }

    #[test]
    fn last_argument_is_verbatim() {
        assert_eq!(split("\"a, b\",\"c, d\"", 2), ["a, b", "\"c, d\""]);
        assert_eq!(split("x,y,z", 2), ["x", "y,z"]);
        assert_eq!(split("\"MiXeD, Case\"", 1), ["\"MiXeD, Case\""]);
    }

    #[test]
    fn parentheses_and_brackets_group() {
        assert_eq!(split("f(a,b),[c,d],e", 3), ["f(a,b)", "[c,d]", "e"]);
        assert_eq!(split("a)b,c", 2), ["a)b", "c"]);
    }

    #[test]
    fn backslash_makes_the_next_byte_literal() {
        assert_eq!(split("a\\,b,c", 2), ["a,b", "c"]);
        assert_eq!(split("a\\\"b,c", 2), ["a\"b", "c"]);
        assert_eq!(
            separate_args(b"a\\,b,c", b',', false, 2),
            [b"a\\,b".to_vec(), b"c".to_vec()]
        );
    }

    #[test]
    fn empty_and_trailing_delimiters() {
        assert!(split("", 3).is_empty());
        assert_eq!(split("a,", 2), ["a", ""]);
        assert_eq!(split(",", 3), ["", ""]);
        assert_eq!(split("a", 3), ["a"]);
        assert_eq!(split("a,b", 3), ["a", "b"]);
    }

    #[test]
    fn other_delimiters() {
        let parts = separate_args(b"cond ? \"cisco, 88xx\" : other", b'?', true, 2);
        assert_eq!(
            parts,
            [b"cond ".to_vec(), b" \"cisco, 88xx\" : other".to_vec()]
        );
        let parts = separate_args(b" \"cisco, 88xx\" : other", b':', true, 2);
        assert_eq!(parts, [b" cisco, 88xx ".to_vec(), b" other".to_vec()]);
    }
}

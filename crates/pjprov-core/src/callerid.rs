//! Splitting an endpoint's `callerid` into name and number, as Asterisk's `ast_callerid_split` does.

use asterisk_config::ast_strip as strip;

/// Asterisk copies name and number into 80-byte buffers.
const MAX_PART: usize = 79;

/// The `(name, number)` of a `callerid` value; either may be empty.
///
/// `"Quoted Name" <1301>` → (`Quoted Name`, `1301`); `Bare Name <1302>` → (`Bare Name`, `1302`); `1303` →
/// (``, `1303`); `<1304>` → (``, `1304`); `"Only Name"` → (`Only Name`, ``). Numbers lose `(`, `)`, spaces
/// and (outside `[...]`) dashes, as `ast_shrink_phone_number` does.
pub fn split(value: &str) -> (String, String) {
    let (name, number) = parse(value.as_bytes());
    let name = name.map(unescape_quoted).unwrap_or_default();
    let number = number.map(shrink_phone_number).unwrap_or_default();
    (truncate(name), truncate(number))
}

fn truncate(bytes: Vec<u8>) -> String {
    let mut bytes = bytes;
    bytes.truncate(MAX_PART);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// `ast_callerid_parse`: returns (name, location).
fn parse(input: &[u8]) -> (Option<&[u8]>, Option<&[u8]>) {
    let input = strip(input);
    let instr = strip_quoted(input);
    let quotes_stripped = instr.len() != input.len();
    if let Some(lt) = memchr::memrchr(b'<', instr) {
        let after = &instr[lt + 1..];
        let location = match memchr::memrchr(b'>', after) {
            Some(gt) => &after[..gt],
            None => after,
        };
        let name = strip_quoted(&instr[..lt]);
        (Some(name), Some(location))
    } else {
        let shrunk = shrink_phone_number(instr);
        let is_number = !shrunk.is_empty() && shrunk.iter().all(|b| b"0123456789*#+".contains(b));
        if !quotes_stripped && is_number {
            (None, Some(instr))
        } else {
            (Some(strip_quoted(instr)), None)
        }
    }
}

/// `ast_strip_quoted(s, "\"", "\"")`.
fn strip_quoted(bytes: &[u8]) -> &[u8] {
    let s = strip(bytes);
    if s.first() == Some(&b'"') && s.len() >= 2 && s.last() == Some(&b'"') {
        &s[1..s.len() - 1]
    } else if s == b"\"" {
        // A lone quote is both the opening and the closing one.
        &s[1..]
    } else {
        s
    }
}

/// `ast_unescape_quoted`: a backslash keeps the next byte.
fn unescape_quoted(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            i += 1;
            if i >= bytes.len() {
                break;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// `ast_shrink_phone_number`.
fn shrink_phone_number(number: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(number.len());
    let mut bracketed = 0i32;
    for (i, &c) in number.iter().enumerate() {
        match c {
            b'[' => {
                bracketed += 1;
                out.push(c);
            }
            b']' => {
                bracketed -= 1;
                out.push(c);
            }
            b'-' => {
                if bracketed != 0 {
                    out.push(c);
                }
            }
            b'.' => {
                if i + 1 == number.len() {
                    out.push(c);
                }
            }
            b'(' | b' ' | b')' => {}
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::split;

    fn s(v: &str) -> (String, String) {
        split(v)
    }

    #[test]
    fn the_forms_of_golden_case_p12() {
        assert_eq!(
            s("\"Quoted Name\" <1301>"),
            ("Quoted Name".into(), "1301".into())
        );
        assert_eq!(s("Bare Name <1302>"), ("Bare Name".into(), "1302".into()));
        assert_eq!(s("1303"), ("".into(), "1303".into()));
        assert_eq!(s("<1304>"), ("".into(), "1304".into()));
        assert_eq!(s("\"Only Name\""), ("Only Name".into(), "".into()));
    }

    #[test]
    fn numbers_are_shrunk() {
        assert_eq!(
            s("Bob <(555) 123-4567>"),
            ("Bob".into(), "5551234567".into())
        );
        assert_eq!(s("555-1234"), ("".into(), "5551234".into()));
        assert_eq!(s("+1 (555) 000.1"), ("".into(), "+15550001".into()));
        assert_eq!(
            s("\"1234\""),
            ("1234".into(), "".into()),
            "quoted digits are a name"
        );
    }

    #[test]
    fn odd_forms() {
        assert_eq!(s("Alice <1000"), ("Alice".into(), "1000".into()));
        assert_eq!(s("\"Esc \\\"q\\\"\" <7>"), ("Esc \"q\"".into(), "7".into()));
        assert_eq!(s("Just A Name"), ("Just A Name".into(), "".into()));
        assert_eq!(s(""), ("".into(), "".into()));
        assert_eq!(s("  <>  "), ("".into(), "".into()));
        let long = "N".repeat(100);
        assert_eq!(s(&long).0.len(), 79);
    }
}

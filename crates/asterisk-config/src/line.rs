//! The grammar of one logical line (comments already removed, blanks trimmed), written with nom.
//!
//! It mirrors `process_text_line` in Asterisk's `main/config.c`: a line is a section header (`[`), a directive
//! (`#`) or an entry. The header's name runs to the first `]`; options count only when `(` follows the `]`
//! immediately and run to the first `)`. An entry splits at the first `=`: `+=` appends, `=>` marks an object
//! line, and a leading `\` lets a key start with any visible character.

use nom::bytes::complete::{tag, take_till, take_until, take_while};
use nom::combinator::{opt, rest};
use nom::sequence::preceded;
use nom::{IResult, Parser};

/// Bytes Asterisk's `ast_strip` removes: everything below `!` (33).
pub(crate) fn is_blank(b: u8) -> bool {
    b < 33
}

/// `ast_strip`: trims every byte below `!` (spaces, tabs, control characters) from both ends, as Asterisk
/// trims names and values; also what its dialplan functions and caller id parser trim.
pub fn strip(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&b| !is_blank(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| !is_blank(b))
        .map_or(start, |e| e + 1);
    &bytes[start..end]
}

/// A classified line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line<'a> {
    /// `[name]`, `[name](options)`.
    Header {
        /// Between the brackets, untrimmed.
        name: &'a [u8],
        /// Between the parentheses; `None` when no `(` follows `]`.
        options: Option<&'a [u8]>,
        /// Text after `]` that Asterisk ignores (when it is not an option list).
        ignored: &'a [u8],
    },
    /// `[name` with no `]`.
    HeaderWithoutBracket,
    /// `[name](options` with no `)`.
    HeaderWithoutParen,
    /// `#name argument`.
    Directive {
        /// The directive word.
        name: &'a [u8],
        /// The trimmed argument, if any.
        argument: Option<&'a [u8]>,
    },
    /// `key = value`, `key => value`, `key += value`.
    Entry {
        /// The key, trimmed.
        key: &'a [u8],
        /// How the value is assigned.
        op: Op,
        /// For `Set`/`Object`: the trimmed value. For `Append`: everything after `=`, untrimmed.
        value: &'a [u8],
    },
    /// A line with no `=`.
    NoEquals,
    /// `\` followed by a blank at the start of a line.
    InvalidEscape,
}

/// The assignment operator of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// `=`
    Set,
    /// `=>`
    Object,
    /// `+=`
    Append,
}

/// Classifies a non-empty, comment-free, trimmed line.
pub(crate) fn classify(line: &[u8]) -> Line<'_> {
    match line.first() {
        Some(b'[') => header(line),
        Some(b'#') => directive(line),
        _ => entry(line),
    }
}

/// What the header parser yields: the name and whether `(` follows the `]`.
type HeaderStart<'a> = IResult<&'a [u8], (&'a [u8], Option<&'a [u8]>)>;

fn header(line: &[u8]) -> Line<'_> {
    let parsed: HeaderStart<'_> = (
        preceded(tag(&b"["[..]), take_until(&b"]"[..])),
        preceded(tag(&b"]"[..]), opt(tag(&b"("[..]))),
    )
        .parse(line);
    let Ok((after, (name, paren))) = parsed else {
        return Line::HeaderWithoutBracket;
    };
    if paren.is_none() {
        return Line::Header {
            name,
            options: None,
            ignored: after,
        };
    }
    let options: IResult<&[u8], &[u8]> = take_until(&b")"[..]).parse(after);
    match options {
        Ok((_, options)) => Line::Header {
            name,
            options: Some(options),
            ignored: b"",
        },
        Err(_) => Line::HeaderWithoutParen,
    }
}

fn directive(line: &[u8]) -> Line<'_> {
    let parsed: IResult<&[u8], (&[u8], &[u8])> =
        (preceded(tag(&b"#"[..]), take_while(|b| b > 32)), rest).parse(line);
    let Ok((_, (name, after))) = parsed else {
        return Line::Directive {
            name: b"",
            argument: None,
        };
    };
    // One separator byte (whatever it was) is consumed before the argument is trimmed.
    let argument = after.get(1..).map(strip).filter(|a| !a.is_empty());
    Line::Directive { name, argument }
}

fn entry(line: &[u8]) -> Line<'_> {
    let escaped = line.first() == Some(&b'\\');
    let cur = if escaped { &line[1..] } else { line };
    if escaped && cur.first().is_none_or(|&b| is_blank(b)) {
        return Line::InvalidEscape;
    }
    // The escaped character itself is never a separator.
    let skip = usize::from(escaped);
    let split: IResult<&[u8], &[u8]> = take_till(|b| b == b'=').parse(&cur[skip..]);
    let Ok((from_eq, before)) = split else {
        return Line::NoEquals;
    };
    if from_eq.is_empty() {
        return Line::NoEquals;
    }
    let eq = skip + before.len();
    let after_eq = &cur[eq + 1..];
    if eq > skip && cur[eq - 1] == b'+' {
        return Line::Entry {
            key: strip(&cur[..eq - 1]),
            op: Op::Append,
            value: after_eq,
        };
    }
    let (op, value) = match after_eq.first() {
        Some(b'>') => (Op::Object, &after_eq[1..]),
        _ => (Op::Set, after_eq),
    };
    Line::Entry {
        key: strip(&cur[..eq]),
        op,
        value: strip(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        assert_eq!(
            classify(b"[1000]"),
            Line::Header {
                name: b"1000",
                options: None,
                ignored: b""
            }
        );
        assert_eq!(
            classify(b"[t](!)"),
            Line::Header {
                name: b"t",
                options: Some(b"!"),
                ignored: b""
            }
        );
        assert_eq!(
            classify(b"[x](a,b) trailing"),
            Line::Header {
                name: b"x",
                options: Some(b"a,b"),
                ignored: b""
            }
        );
        assert_eq!(
            classify(b"[x] (!)"),
            Line::Header {
                name: b"x",
                options: None,
                ignored: b" (!)"
            }
        );
        assert_eq!(
            classify(b"[ spaced ]"),
            Line::Header {
                name: b" spaced ",
                options: None,
                ignored: b""
            }
        );
        assert_eq!(classify(b"[broken"), Line::HeaderWithoutBracket);
        assert_eq!(classify(b"[x](!"), Line::HeaderWithoutParen);
    }

    #[test]
    fn directives() {
        assert_eq!(
            classify(b"#include \"pjsip.d/*.conf\""),
            Line::Directive {
                name: b"include",
                argument: Some(b"\"pjsip.d/*.conf\"")
            }
        );
        assert_eq!(
            classify(b"#tryinclude\t  x.conf  "),
            Line::Directive {
                name: b"tryinclude",
                argument: Some(b"x.conf")
            }
        );
        assert_eq!(
            classify(b"#include"),
            Line::Directive {
                name: b"include",
                argument: None
            }
        );
    }

    #[test]
    fn entries() {
        assert_eq!(
            classify(b"type = endpoint"),
            Line::Entry {
                key: b"type",
                op: Op::Set,
                value: b"endpoint"
            }
        );
        assert_eq!(
            classify(b"exten => 100,1,NoOp()"),
            Line::Entry {
                key: b"exten",
                op: Op::Object,
                value: b"100,1,NoOp()"
            }
        );
        assert_eq!(
            classify(b"allow += g722"),
            Line::Entry {
                key: b"allow",
                op: Op::Append,
                value: b" g722"
            }
        );
        assert_eq!(
            classify(b"set_var=A=b"),
            Line::Entry {
                key: b"set_var",
                op: Op::Set,
                value: b"A=b"
            }
        );
        assert_eq!(
            classify(b"empty ="),
            Line::Entry {
                key: b"empty",
                op: Op::Set,
                value: b""
            }
        );
        assert_eq!(classify(b"no equals here"), Line::NoEquals);
        assert_eq!(
            classify(b"\\[odd]=1"),
            Line::Entry {
                key: b"[odd]",
                op: Op::Set,
                value: b"1"
            }
        );
        assert_eq!(
            classify(b"\\==x"),
            Line::Entry {
                key: b"=",
                op: Op::Set,
                value: b"x"
            }
        );
        assert_eq!(classify(b"\\ x=1"), Line::InvalidEscape);
        assert_eq!(
            classify(b"=value"),
            Line::Entry {
                key: b"",
                op: Op::Set,
                value: b"value"
            }
        );
    }

    #[test]
    fn strip_removes_control_bytes() {
        assert_eq!(strip(b" \t\r x y \r"), b"x y");
        assert_eq!(strip(b"   "), b"");
    }
}

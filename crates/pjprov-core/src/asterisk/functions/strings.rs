//! func_strings.c, but for `STRFTIME`/`STRPTIME` (in [`super::datetime`]): `FIELDQTY`, `FIELDNUM`,
//! `LISTFILTER`, `FILTER`, `REPLACE`, `STRREPLACE`, `STRBETWEEN`, `TRIM`, `LTRIM`, `RTRIM`, `REGEX`,
//! `QUOTE`, `CSV_QUOTE`, `LEN`, `EVAL`, `KEYPADHASH`, `TOUPPER`, `TOLOWER`, `SHIFT`, `POP`, `PASSTHRU`.
//! (`HASH` and `HASHKEYS` need hash variables only their write side makes; `ARRAY`, `PUSH` and `UNSHIFT`
//! are write-only.)
//!
//! Arguments split as `AST_STANDARD_APP_ARGS` does (commas; quotes and backslashes removed but from the
//! last argument), except `FILTER` (`AST_STANDARD_RAW_ARGS`: quotes and backslashes kept) and `REGEX`
//! (split at `"`: `REGEX("pattern" string)`, one blank after the closing quote skipped; backslashes in
//! the pattern are removed, so `\.` is `.`). Functions that take a variable's name substitute `${name}`.
//! Delimiters and character sets take backslash escapes ([`super::escapes`]).
//!
//! Edge cases, from the C source: `FIELDQTY(var)` without a delimiter is 1; an empty variable has 0
//! fields. `FIELDNUM` compares without case and is 0 when nothing matches or the delimiter is empty.
//! `LISTFILTER` with an empty list fails; its delimiter may be several bytes (empty: `,`). `FILTER`
//! ranges wrap (`z-a`) and a `-` at the end is itself. `REPLACE` deletes the characters when the
//! replacement is empty, and fails on an empty variable. `STRREPLACE` replaces all matches unless a
//! positive maximum is given. `STRBETWEEN` needs exactly two arguments. `TRIM` and friends fail on an
//! empty argument, and `RTRIM` never removes the first byte (`RTRIM(   )` is one blank). `QUOTE` escapes
//! `\` and `"` with a backslash, `CSV_QUOTE` doubles `"`; both give `""` for nothing. `SHIFT` and `POP`
//! take the first or last item of a variable (`,` by default) and leave the rest in it.

use super::escapes::{encoded_char, encoded_str};
use super::{Call, Outcome, arg, is_c_space, is_empty, scan};
use crate::asterisk::args::separate_args;
use crate::asterisk::expr::ere;

/// `strsep` with a one-byte delimiter set (`0`: the empty set, which never splits).
fn fields(value: &[u8], delimiter: u8) -> Vec<&[u8]> {
    if delimiter == 0 {
        vec![value]
    } else {
        value.split(|&b| b == delimiter).collect()
    }
}

/// `FIELDQTY(varname[,delim])`.
pub(crate) fn fieldqty(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    let args = separate_args(data, b',', true, 2);
    let count = match args.get(1) {
        None => 1,
        Some(delimiter) => {
            let delimiter = encoded_char(delimiter).map_or(0, |(c, _)| c);
            let value = call.value_of(arg(&args, 0))?;
            if value.is_empty() {
                0
            } else {
                fields(&value, delimiter).len()
            }
        }
    };
    out.extend_from_slice(count.to_string().as_bytes());
    Ok(true)
}

/// `FIELDNUM(varname,delim,value)`.
pub(crate) fn fieldnum(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    let args = separate_args(data, b',', true, 3);
    if args.len() < 3 {
        call.issue("Usage: FIELDNUM(<listname>,<delimiter>,<fieldvalue>)");
        return Ok(false);
    }
    let value = call.value_of(arg(&args, 0))?;
    let delimiter = arg(&args, 1);
    let index = if value.is_empty() || delimiter.is_empty() {
        0
    } else {
        let Some((delimiter, _)) = encoded_char(delimiter) else {
            return Ok(false);
        };
        let wanted = arg(&args, 2);
        fields(&value, delimiter)
            .iter()
            .position(|f| f.eq_ignore_ascii_case(wanted))
            .map_or(0, |i| i + 1)
    };
    out.extend_from_slice(index.to_string().as_bytes());
    Ok(true)
}

/// `LISTFILTER(listname,delimiter,fieldvalue)`: the list without the items equal to `fieldvalue`.
pub(crate) fn listfilter(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    let args = separate_args(data, b',', true, 3);
    if args.len() < 3 {
        call.issue("Usage: LISTFILTER(<listname>,<delimiter>,<fieldvalue>)");
        return Ok(false);
    }
    let list = call.value_of(arg(&args, 0))?;
    if list.is_empty() {
        return Ok(false);
    }
    let remove = arg(&args, 2);
    if memchr::memmem::find(&list, remove).is_none() {
        out.extend_from_slice(&list);
        return Ok(true);
    }
    let raw = arg(&args, 1);
    let mut delimiter = encoded_str(raw, raw.len() + 1);
    if delimiter.is_empty() {
        delimiter = b",".to_vec();
    }
    let n = list.len();
    let find = |from: usize| {
        list.get(from..)
            .and_then(|rest| memchr::memmem::find(rest, &delimiter))
            .map(|i| i + from)
    };
    let mut begin = 0usize;
    let mut next = find(0);
    let mut first = true;
    loop {
        let cur = match next {
            Some(found) => {
                next = find(found + delimiter.len());
                found
            }
            // Asterisk looks for the end from `begin + dlen`, past it when the last item is shorter than
            // the delimiter (reading beyond the string): pjprov takes the end of the list.
            None => n,
        };
        let item = list.get(begin..cur).unwrap_or_default();
        if item != remove {
            if !first {
                out.extend_from_slice(&delimiter);
            }
            out.extend_from_slice(item);
            first = false;
        }
        begin = cur + delimiter.len();
        if cur >= n {
            break;
        }
        call.check_size(out)?;
    }
    Ok(true)
}

/// `FILTER(allowed-chars,string)`: the bytes of `string` that are in the set.
pub(crate) fn filter(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    let args = separate_args(data, b',', false, 2);
    let (Some(allowed), Some(string)) = (args.first(), args.get(1)) else {
        call.issue("Usage: FILTER(<allowed-chars>,<string>)");
        return Ok(false);
    };
    if allowed.first() == Some(&b'"') {
        call.issue("FILTER allowed characters includes the quote (\") character; this may not be what you want");
    }
    let mut set = [false; 256];
    let mut at = 0;
    while at < allowed.len() {
        let rest = &allowed[at..];
        let Some((c1, used)) = encoded_char(rest) else {
            return Ok(false);
        };
        at += used;
        if allowed.get(at) == Some(&b'-') {
            let after = allowed.get(at + 1..).unwrap_or_default();
            let (c2, used) = match encoded_char(after) {
                Some(found) => found,
                None => (c1, if after.is_empty() { 0 } else { 2 }),
            };
            at += used + 1;
            if c2 < c1 {
                call.issue("Range wrapping in FILTER; this may not be what you want");
            }
            let mut c = c1;
            loop {
                set[usize::from(c)] = true;
                if c == c2 {
                    break;
                }
                c = c.wrapping_add(1);
            }
        } else {
            set[usize::from(c1)] = true;
        }
    }
    // NUL is never in the C string of allowed characters.
    set[0] = false;
    let limit = call.len().saturating_sub(1);
    out.extend(string.iter().filter(|&&b| set[usize::from(b)]).take(limit));
    Ok(true)
}

/// `REPLACE(varname,find-chars[,replace-char])`.
pub(crate) fn replace(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    let args = separate_args(data, b',', true, 3);
    if args.len() < 2 {
        call.issue("Usage: REPLACE(<varname>,<search-chars>[,<replace-char>])");
        return Ok(false);
    }
    let find = encoded_str(arg(&args, 1), 256);
    let replacement = encoded_char(arg(&args, 2)).map_or(0, |(c, _)| c);
    if find.is_empty() || arg(&args, 0).is_empty() {
        call.issue("REPLACE: the characters to search for and the variable name must not be empty");
        return Ok(false);
    }
    let value = call.value_of(arg(&args, 0))?;
    if value.is_empty() {
        return Ok(false);
    }
    for b in value {
        if !find.contains(&b) {
            out.push(b);
        } else if replacement != 0 {
            out.push(replacement);
        }
    }
    Ok(true)
}

/// `STRREPLACE(varname,find-string[,replace-string[,max-replacements]])`.
pub(crate) fn strreplace(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    let args = separate_args(data, b',', true, 5);
    if args.len() < 2 {
        call.issue(
            "Usage: STRREPLACE(<varname>,<find-string>[,<replace-string>,[<max-replacements>]])",
        );
        return Ok(false);
    }
    if arg(&args, 0).is_empty() {
        return Ok(false);
    }
    let find = arg(&args, 1);
    if find.is_empty() {
        call.issue("No <find-string> specified");
        return Ok(false);
    }
    let value = call.value_of(arg(&args, 0))?;
    // atoi into an unsigned: 0 (or no number) means no limit, a negative one is a huge limit.
    let max = match args.get(3).and_then(|m| scan::int(m, usize::MAX)) {
        None | Some((0, _)) => u32::MAX,
        Some((n, _)) => n as u32,
    };
    let replacement = args.get(2);
    let mut rest = &value[..];
    let mut count = 0u32;
    while count < max {
        let Some(at) = memchr::memmem::find(rest, find) else {
            break;
        };
        out.extend_from_slice(&rest[..at]);
        if let Some(replacement) = replacement {
            out.extend_from_slice(replacement);
        }
        rest = &rest[at + find.len()..];
        count += 1;
        call.check_size(out)?;
    }
    out.extend_from_slice(rest);
    Ok(true)
}

/// `STRBETWEEN(varname,insert-string)`.
pub(crate) fn strbetween(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    let args = separate_args(data, b',', true, 3);
    if args.len() != 2 || arg(&args, 0).is_empty() {
        call.issue("Usage: STRBETWEEN(<varname>,<insert-string>)");
        return Ok(false);
    }
    let value = call.value_of(arg(&args, 0))?;
    let insert = arg(&args, 1);
    for (i, &b) in value.iter().enumerate() {
        out.push(b);
        if i + 1 < value.len() {
            out.extend_from_slice(insert);
        }
        call.check_size(out)?;
    }
    Ok(true)
}

fn strip_left(text: &[u8]) -> &[u8] {
    let n = text.iter().take_while(|&&b| is_c_space(b)).count();
    &text[n..]
}

/// The `rtrim` macro of func_strings.c: it never looks at the first byte.
fn strip_right(text: &[u8]) -> &[u8] {
    let mut back = text.len();
    while back != 0 {
        back -= 1;
        if back == 0 || !is_c_space(text[back]) {
            break;
        }
    }
    if text.is_empty() {
        text
    } else {
        &text[..back + 1]
    }
}

/// `TRIM(string)`.
pub(crate) fn trim(_: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    if data.is_empty() {
        return Ok(false);
    }
    out.extend_from_slice(strip_right(strip_left(data)));
    Ok(true)
}

/// `LTRIM(string)`.
pub(crate) fn ltrim(_: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    if data.is_empty() {
        return Ok(false);
    }
    out.extend_from_slice(strip_left(data));
    Ok(true)
}

/// `RTRIM(string)`.
pub(crate) fn rtrim(_: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    if data.is_empty() {
        return Ok(false);
    }
    out.extend_from_slice(strip_right(data));
    Ok(true)
}

/// `REGEX("regular expression" string)`: 1 when the POSIX extended expression matches anywhere.
pub(crate) fn regex(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    let args = separate_args(data, b'"', true, 3);
    if args.len() != 3 {
        call.issue("Unexpected arguments: should have been in the form '\"<regex>\" <string>'");
        return Ok(false);
    }
    let mut subject = arg(&args, 2);
    if matches!(subject.first(), Some(b' ' | b'\t')) {
        subject = &subject[1..];
    }
    match ere::Regex::new(arg(&args, 1)) {
        Ok(re) => {
            out.push(if re.exec(subject, false).is_some() {
                b'1'
            } else {
                b'0'
            });
            Ok(true)
        }
        Err(e) => {
            call.issue(format_args!(
                "REGEX: malformed regular expression: {}",
                e.message()
            ));
            Ok(false)
        }
    }
}

/// `QUOTE(string)` and `CSV_QUOTE(string)`: quoted within the buffer, the closing quote always written.
fn quoted(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>, csv: bool) -> Outcome {
    if data.is_empty() {
        if !csv {
            call.issue("QUOTE: No argument specified!");
        }
        out.extend_from_slice(b"\"\"");
        return Ok(true);
    }
    let room = call.len().saturating_sub(3);
    let mut text = vec![b'"'];
    for &b in data {
        if text.len() >= room {
            break;
        }
        match b {
            b'\\' if !csv => text.extend_from_slice(b"\\\\"),
            b'"' if csv => text.extend_from_slice(b"\"\""),
            b'"' => text.extend_from_slice(b"\\\""),
            _ => text.push(b),
        }
    }
    text.push(b'"');
    out.extend_from_slice(&text);
    Ok(true)
}

/// `QUOTE(string)`.
pub(crate) fn quote(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    quoted(call, data, out, false)
}

/// `CSV_QUOTE(string)`.
pub(crate) fn csv_quote(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    quoted(call, data, out, true)
}

/// `LEN(string)`: its length in bytes.
pub(crate) fn len(_: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    out.extend_from_slice(data.len().to_string().as_bytes());
    Ok(true)
}

/// `EVAL(string)`: the argument substituted once more.
pub(crate) fn eval(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    if data.is_empty() {
        call.issue("EVAL requires an argument: EVAL(<string>)");
        return Ok(false);
    }
    call.substitute(data, out)?;
    Ok(true)
}

/// `KEYPADHASH(string)`: letters as the digits of a phone keypad; other bytes but digits dropped.
pub(crate) fn keypadhash(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    let key = |b: u8| -> Option<u8> {
        Some(match b.to_ascii_lowercase() {
            b'0' | b'1' => b,
            b'a' | b'b' | b'c' | b'2' => b'2',
            b'd' | b'e' | b'f' | b'3' => b'3',
            b'g' | b'h' | b'i' | b'4' => b'4',
            b'j' | b'k' | b'l' | b'5' => b'5',
            b'm' | b'n' | b'o' | b'6' => b'6',
            b'p' | b'q' | b'r' | b's' | b'7' => b'7',
            b't' | b'u' | b'v' | b'8' => b'8',
            b'w' | b'x' | b'y' | b'z' | b'9' => b'9',
            _ => return None,
        })
    };
    let limit = call.len().saturating_sub(1);
    out.extend(data.iter().filter_map(|&b| key(b)).take(limit));
    Ok(true)
}

/// `TOUPPER(string)`.
pub(crate) fn toupper(_: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    out.extend(data.iter().map(u8::to_ascii_uppercase));
    Ok(true)
}

/// `TOLOWER(string)`.
pub(crate) fn tolower(_: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    out.extend(data.iter().map(u8::to_ascii_lowercase));
    Ok(true)
}

/// `PASSTHRU(string)`: the argument as it is.
pub(crate) fn passthru(_: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    out.extend_from_slice(data);
    Ok(true)
}

/// `SHIFT(varname[,delimiter])` and `POP(varname[,delimiter])`.
fn shift_pop(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>, first: bool) -> Outcome {
    let args = separate_args(data, b',', true, 2);
    if is_empty(args.first()) {
        call.issue("SHIFT/POP requires a variable name");
        return Ok(false);
    }
    let name = arg(&args, 0);
    let before = call.value_of(name)?;
    let delimiter = match args.get(1).filter(|d| !d.is_empty()) {
        // A delimiter that does not decode leaves the NUL that ast_get_encoded_char wrote first.
        Some(d) => encoded_char(d).map_or(0, |(c, _)| c),
        None => b',',
    };
    if before.is_empty() {
        return Ok(false);
    }
    // strchr/strrchr of NUL find the string's end.
    let found = if delimiter == 0 {
        Some(before.len())
    } else if first {
        memchr::memchr(delimiter, &before)
    } else {
        memchr::memrchr(delimiter, &before)
    };
    let (value, left) = match found {
        None => (&before[..], &b""[..]),
        Some(at) => {
            let (head, tail) = (&before[..at], before.get(at + 1..).unwrap_or_default());
            if first { (head, tail) } else { (tail, head) }
        }
    };
    out.extend_from_slice(value);
    call.r.assign(call.scope, name, left);
    Ok(true)
}

/// `SHIFT(varname[,delimiter])`: the first item; the variable keeps the rest.
pub(crate) fn shift(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    shift_pop(call, data, out, true)
}

/// `POP(varname[,delimiter])`: the last item; the variable keeps the rest.
pub(crate) fn pop(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    shift_pop(call, data, out, false)
}

#[cfg(test)]
mod tests {
    use super::{strip_left as ltrim, strip_right as rtrim};

    #[test]
    fn trims_as_the_macros_do() {
        assert_eq!(rtrim(ltrim(b"  a b  ")), b"a b");
        assert_eq!(ltrim(b"  a "), b"a ");
        assert_eq!(rtrim(b" a  "), b" a");
        assert_eq!(rtrim(b"   "), b" ");
        assert_eq!(rtrim(ltrim(b"   ")), b"");
        assert_eq!(rtrim(b"a\t\n"), b"a");
    }
}

//! The dialplan functions templates may call, each as Asterisk 22 implements it.
//!
//! `call` splits `NAME(args)` like `func_args` (the arguments end at the *last* `)`), then runs the function.
//! A function that fails writes nothing, as in Asterisk. Functions Asterisk implements with a fixed 4 KiB
//! buffer (`.read` without `.read2`) truncate their result the same way.

use super::args::separate_args;
use super::render::{RenderError, Renderer, Scope};
use super::template::{Template, scan_int};
use asterisk_config::ast_strip as strip;

/// The functions pjprov knows. An unknown function renders empty and is a `check` warning.
pub const FUNCTIONS: &[&str] = &[
    "CUT",
    "EVAL",
    "EXISTS",
    "IF",
    "ISNULL",
    "LEN",
    "LTRIM",
    "PASSTHRU",
    "PP_EACH_EXTENSION",
    "PP_EACH_USER",
    "RTRIM",
    "STAT",
    "TOLOWER",
    "TOUPPER",
    "TRIM",
];

/// `VAR_BUF_SIZE` minus the terminating NUL: what a `.read`-only function can return.
const LEGACY_MAX: usize = 4095;

/// Calls `text` (`NAME(args)`), appending its result to `out`. Returns false when the function failed (and
/// wrote nothing).
pub(crate) fn call(
    r: &Renderer<'_>,
    template: &Template,
    line: u32,
    text: &[u8],
    scope: &Scope<'_>,
    out: &mut Vec<u8>,
) -> Result<bool, RenderError> {
    let (name, data) = match memchr::memchr(b'(', text) {
        Some(open) => {
            let args = &text[open + 1..];
            let args = match memchr::memrchr(b')', args) {
                Some(close) => &args[..close],
                None => {
                    r.issue(
                        template,
                        line,
                        format!(
                            "can't find trailing parenthesis for function '{}'",
                            String::from_utf8_lossy(text)
                        ),
                    );
                    args
                }
            };
            (&text[..open], args)
        }
        None => (text, &b""[..]),
    };
    let name = String::from_utf8_lossy(name);
    let ok = match name.as_ref() {
        "TOLOWER" => {
            out.extend(data.iter().map(u8::to_ascii_lowercase));
            true
        }
        "TOUPPER" => {
            out.extend(data.iter().map(u8::to_ascii_uppercase));
            true
        }
        "LEN" => {
            out.extend_from_slice(data.len().to_string().as_bytes());
            true
        }
        "ISNULL" => {
            out.push(if data.is_empty() { b'1' } else { b'0' });
            true
        }
        "EXISTS" => {
            out.push(if data.is_empty() { b'0' } else { b'1' });
            true
        }
        "PASSTHRU" => {
            out.extend_from_slice(data);
            true
        }
        "TRIM" | "LTRIM" | "RTRIM" => trim(&name, data, out),
        "IF" => if_function(data, out),
        "STAT" => {
            stat(data, out);
            true
        }
        "EVAL" => {
            if data.is_empty() {
                r.issue(
                    template,
                    line,
                    "EVAL requires an argument: EVAL(<string>)".into(),
                );
                false
            } else {
                let inner = Template::parse(template.name(), data);
                let mut result = Vec::new();
                r.nested(&inner, line, scope, &mut result)?;
                result.truncate(LEGACY_MAX - 1);
                out.extend_from_slice(&result);
                true
            }
        }
        "CUT" => cut(r, template, line, data, scope, out)?,
        "PP_EACH_USER" => each_user(r, template, line, data, out)?,
        "PP_EACH_EXTENSION" => each_extension(r, template, line, data, out)?,
        _ => {
            r.issue(
                template,
                line,
                format!("function {name} not registered: it renders empty"),
            );
            false
        }
    };
    Ok(ok)
}

/// `pbx_checkcondition`: empty is false, a number is its truth, any other text is true.
pub(crate) fn check_condition(condition: &[u8]) -> bool {
    if condition.is_empty() {
        return false;
    }
    match scan_int(condition) {
        Some((value, _)) => value != 0,
        None => true,
    }
}

fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn trim(name: &str, data: &[u8], out: &mut Vec<u8>) -> bool {
    if data.is_empty() {
        return false;
    }
    let mut text = data;
    if name != "RTRIM" {
        let n = text.iter().take_while(|&&b| is_c_space(b)).count();
        text = &text[n..];
    }
    if name != "LTRIM" && !text.is_empty() {
        // Asterisk's rtrim never looks at the first byte.
        let mut back = text.len();
        while back != 0 {
            back -= 1;
            if back == 0 || !is_c_space(text[back]) {
                break;
            }
        }
        text = &text[..back + 1];
    }
    out.extend_from_slice(&text[..text.len().min(LEGACY_MAX)]);
    true
}

/// `IF(expr?true:false)`.
fn if_function(data: &[u8], out: &mut Vec<u8>) -> bool {
    let first = separate_args(data, b'?', true, 2);
    let expr = first.first().map(Vec::as_slice).unwrap_or_default();
    let branches = first
        .get(1)
        .map(|rest| separate_args(rest, b':', true, 2))
        .unwrap_or_default();
    if expr.is_empty() || branches.is_empty() {
        return false;
    }
    let chosen = if check_condition(strip(expr)) {
        branches.first()
    } else {
        branches.get(1)
    };
    let value = chosen.map(|b| strip(b)).unwrap_or_default();
    out.extend_from_slice(&value[..value.len().min(LEGACY_MAX)]);
    true
}

/// `STAT(flag,filename)`: `e` exists, `s` size, `f` regular file, `d` directory, `M`/`A` modification time,
/// `C` change time, `m` mode in octal. "0" when the file cannot be examined.
fn stat(data: &[u8], out: &mut Vec<u8>) {
    use std::os::unix::fs::MetadataExt;
    let Some(comma) = memchr::memchr(b',', data) else {
        out.push(b'0');
        return;
    };
    let (action, path) = (&data[..comma], &data[comma + 1..]);
    let path =
        std::path::Path::new(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(path));
    let Ok(meta) = std::fs::metadata(path) else {
        out.push(b'0');
        return;
    };
    let text = match action.first() {
        Some(b'e') => "1".to_owned(),
        Some(b's') => (meta.size() as u32).to_string(),
        Some(b'f') => u8::from(meta.is_file()).to_string(),
        Some(b'd') => u8::from(meta.is_dir()).to_string(),
        Some(b'M' | b'A') => (meta.mtime() as i32).to_string(),
        Some(b'C') => (meta.ctime() as i32).to_string(),
        Some(b'm') => format!("{:o}", meta.mode()),
        _ => "0".to_owned(),
    };
    out.extend_from_slice(text.as_bytes());
}

/// `CUT(varname,delimiter,fields)`.
fn cut(
    r: &Renderer<'_>,
    template: &Template,
    line: u32,
    data: &[u8],
    scope: &Scope<'_>,
    out: &mut Vec<u8>,
) -> Result<bool, RenderError> {
    let args = separate_args(data, b',', true, 3);
    if args.len() < 3 {
        r.issue(
            template,
            line,
            "Syntax: CUT(<varname>,<char-delim>,<range-spec>) - missing argument".into(),
        );
        return Ok(false);
    }
    // The first argument is a variable expression: `${...}` of it is substituted.
    let mut expression = b"${".to_vec();
    expression.extend_from_slice(&args[0]);
    expression.push(b'}');
    let inner = Template::parse(template.name(), &expression);
    let mut value = Vec::new();
    r.nested(&inner, line, scope, &mut value)?;
    let delimiter = encoded_char(&args[1]).unwrap_or(b'-');
    if value.is_empty() {
        return Ok(true);
    }
    let fields: Vec<&[u8]> = if delimiter == 0 {
        vec![&value[..]]
    } else {
        value.split(|&b| b == delimiter).collect()
    };
    let mut current = 1i64;
    let mut produced = 0usize;
    let mut remaining = fields.len();
    for range in args[2].split(|&b| b == b'&') {
        if remaining == 0 {
            break;
        }
        let Some((start, stop)) = field_range(range) else {
            r.issue(
                template,
                line,
                "Usage: CUT(<varname>,<char-delim>,<range-spec>)".into(),
            );
            out.clear();
            return Ok(false);
        };
        while remaining > 0 && current < start {
            remaining -= 1;
            current += 1;
        }
        if current > start {
            r.issue(
                template,
                line,
                "CUT: we're already past the field you wanted".into(),
            );
        }
        while remaining > 0 && current <= stop {
            let field = fields[fields.len() - remaining];
            if produced > 0 {
                out.push(delimiter);
            }
            out.extend_from_slice(field);
            produced += 1;
            remaining -= 1;
            current += 1;
        }
    }
    Ok(true)
}

/// A CUT range, tried in Asterisk's order: `a-b`, `-b`, `a-`, `a`.
fn field_range(spec: &[u8]) -> Option<(i64, i64)> {
    let max = i64::from(i32::MAX);
    let first = scan_int(spec);
    if let Some((start, rest)) = first
        && let Some(after) = rest.strip_prefix(b"-")
        && let Some((stop, _)) = scan_int(after)
    {
        return Some((i64::from(start), i64::from(stop)));
    }
    if let Some(after) = spec.strip_prefix(b"-")
        && let Some((stop, _)) = scan_int(after)
    {
        return Some((1, i64::from(stop)));
    }
    let (start, rest) = first?;
    if rest.first() == Some(&b'-') {
        return Some((i64::from(start), max));
    }
    Some((i64::from(start), i64::from(start)))
}

/// `ast_get_encoded_char`: one byte, possibly written as `\n`, `\t`, `\r`, `\xHH`, `\0ooo` or `\c`.
fn encoded_char(text: &[u8]) -> Option<u8> {
    let (&first, rest) = text.split_first()?;
    if first != b'\\' {
        return Some(first);
    }
    let Some((&kind, digits)) = rest.split_first() else {
        return Some(0);
    };
    Some(match kind {
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'x' => {
            let hex = |b: u8| (b as char).to_digit(16);
            let high = hex(*digits.first()?)?;
            match digits.get(1).and_then(|&b| hex(b)) {
                Some(low) => (high * 16 + low) as u8,
                None => high as u8,
            }
        }
        b'0' => digits
            .iter()
            .take_while(|b| (b'0'..=b'7').contains(b))
            .fold(0u8, |acc, &d| acc.wrapping_shl(3).wrapping_add(d - b'0')),
        other => other,
    })
}

/// `PP_EACH_USER(string,exclude_mac)`: `string` with `%{` read as `${`, once per phone.
fn each_user(
    r: &Renderer<'_>,
    template: &Template,
    line: u32,
    data: &[u8],
    out: &mut Vec<u8>,
) -> Result<bool, RenderError> {
    let args = separate_args(data, b',', true, 2);
    let Some(string) = args.first() else {
        return Ok(true);
    };
    let exclude = args.get(1).map(Vec::as_slice).unwrap_or_default();
    let mut text = string.clone();
    for i in 0..text.len().saturating_sub(1) {
        if text[i] == b'%' && text[i + 1] == b'{' {
            text[i] = b'$';
        }
    }
    let inner = Template::parse(template.name(), &text);
    let world = r.world;
    for &index in world.user_order {
        let phone = &world.phones[index];
        if !exclude.is_empty() && phone.mac.as_bytes().eq_ignore_ascii_case(exclude) {
            continue;
        }
        let scope = r.line_scope(index, 0);
        r.nested(&inner, line, &scope, out)?;
    }
    Ok(true)
}

/// `PP_EACH_EXTENSION(mac,template)`: the template file, once per line of that phone.
fn each_extension(
    r: &Renderer<'_>,
    template: &Template,
    line: u32,
    data: &[u8],
    out: &mut Vec<u8>,
) -> Result<bool, RenderError> {
    let args = separate_args(data, b',', true, 2);
    let (mac, file) = match (args.first(), args.get(1)) {
        (Some(mac), Some(file)) if !mac.is_empty() && !file.is_empty() => (mac, file),
        _ => {
            r.issue(
                template,
                line,
                "PP_EACH_EXTENSION requires both a macaddress and template filename".into(),
            );
            return Ok(true);
        }
    };
    let world = r.world;
    let Some(&phone) = std::str::from_utf8(mac)
        .ok()
        .and_then(|mac| world.by_mac.get(mac))
    else {
        r.issue(
            template,
            line,
            format!(
                "PP_EACH_EXTENSION: could not find user with mac = '{}'",
                String::from_utf8_lossy(mac)
            ),
        );
        return Ok(true);
    };
    let name = String::from_utf8_lossy(file);
    let inner = match world.templates.asterisk_template(&name) {
        Ok(inner) => inner,
        Err(reason) => {
            r.issue(
                template,
                line,
                format!("PP_EACH_EXTENSION: could not load template '{name}': {reason}"),
            );
            return Ok(true);
        }
    };
    for index in 0..world.phones[phone].lines.len() {
        let scope = r.line_scope(phone, index);
        r.nested(&inner, line, &scope, out)?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions() {
        assert!(!check_condition(b""));
        assert!(!check_condition(b"0"));
        assert!(!check_condition(b" 0abc"));
        assert!(check_condition(b"-1"));
        assert!(check_condition(b"abc"));
    }

    #[test]
    fn if_splits_like_asterisk() {
        let run = |data: &str| {
            let mut out = Vec::new();
            let ok = if_function(data.as_bytes(), &mut out);
            (ok, String::from_utf8(out).unwrap())
        };
        assert_eq!(run("1?\"cisco, 88xx\":other"), (true, "cisco, 88xx".into()));
        assert_eq!(
            run("0?big:\"small, line\""),
            (true, "\"small, line\"".into())
        );
        assert_eq!(run("1 ? \"custom.cfg, \""), (true, "custom.cfg,".into()));
        assert_eq!(run("0 ? \"custom.cfg, \""), (true, "".into()));
        assert_eq!(run("1"), (false, "".into()));
        assert_eq!(run("?a:b"), (false, "".into()));
    }

    #[test]
    fn trims() {
        let run = |name: &str, data: &str| {
            let mut out = Vec::new();
            trim(name, data.as_bytes(), &mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(run("TRIM", "  a b  "), "a b");
        assert_eq!(run("LTRIM", "  a "), "a ");
        assert_eq!(run("RTRIM", " a  "), " a");
        assert_eq!(run("RTRIM", "   "), " ");
    }

    #[test]
    fn field_ranges() {
        assert_eq!(field_range(b"2"), Some((2, 2)));
        assert_eq!(field_range(b"2-3"), Some((2, 3)));
        assert_eq!(field_range(b"-3"), Some((1, 3)));
        assert_eq!(field_range(b"2-"), Some((2, i64::from(i32::MAX))));
        assert_eq!(field_range(b"x"), None);
    }

    #[test]
    fn encoded_chars() {
        assert_eq!(encoded_char(b" "), Some(b' '));
        assert_eq!(encoded_char(b"\\t"), Some(b'\t'));
        assert_eq!(encoded_char(b"\\x41"), Some(b'A'));
        assert_eq!(encoded_char(b"\\054"), Some(b','));
        assert_eq!(encoded_char(b""), None);
    }
}

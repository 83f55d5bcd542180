//! func_logic.c: `ISNULL`, `EXISTS`, `IF`, `IFTIME`, `SET`, `VARIABLE_EXISTS`. (`IMPORT` needs another
//! channel; `DELETE` is write-only.)
//!
//! * `IF(expr?true:false)` splits at the first `?`, then at the first `:`, the way
//!   `AST_NONSTANDARD_APP_ARGS` does (quotes and brackets respected, quotes removed but from the last
//!   piece); the condition and the branches lose their surrounding blanks. It fails when the condition is
//!   empty or there is nothing after the `?`.
//! * `IFTIME(timespec?true:false)` splits with plain `strsep` at `?` then `:`, and strips blanks and one
//!   pair of double quotes from the whole and each branch; the time is checked now, in the
//!   specification's zone (its fifth field), else the line's `TIMEZONE`, else the host's (**pjprov differs**:
//!   Asterisk uses the host's zone).
//! * `SET(name=value)` splits at the first `=` and strips both; it returns the value and assigns it as
//!   [`crate::asterisk::render::Assignments`] says. A name ending in `)` writes to a function in Asterisk;
//!   pjprov has no writable function, so nothing is assigned there.

use super::datetime::zone_for;
use super::strftime::Tm;
use super::timing::Timing;
use super::{Call, Outcome, scan};
use crate::asterisk::args::separate_args;
use asterisk_config::ast_strip as strip;

/// `ISNULL(data)`: 1 when empty.
pub(crate) fn isnull(_: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    out.push(if data.is_empty() { b'1' } else { b'0' });
    Ok(true)
}

/// `EXISTS(data)`: 1 when not empty.
pub(crate) fn exists(_: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    out.push(if data.is_empty() { b'0' } else { b'1' });
    Ok(true)
}

/// `pbx_checkcondition`: empty is false, a number is its truth, any other text is true.
pub(crate) fn check_condition(condition: &[u8]) -> bool {
    if condition.is_empty() {
        return false;
    }
    match scan::int(condition, 30) {
        Some((value, _)) => value != 0,
        None => true,
    }
}

/// `IF(expr?[true][:false])`.
pub(crate) fn if_(_: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    let first = separate_args(data, b'?', true, 2);
    let expr = first.first().map(Vec::as_slice).unwrap_or_default();
    let branches = first
        .get(1)
        .map(|rest| separate_args(rest, b':', true, 2))
        .unwrap_or_default();
    if expr.is_empty() || branches.is_empty() {
        return Ok(false);
    }
    let chosen = if check_condition(strip(expr)) {
        branches.first()
    } else {
        branches.get(1)
    };
    out.extend_from_slice(chosen.map(|b| strip(b)).unwrap_or_default());
    Ok(true)
}

/// `ast_strip_quoted(s, "\"", "\"")`: blanks off, then one pair of surrounding double quotes.
fn strip_quoted(text: &[u8]) -> &[u8] {
    let text = strip(text);
    match text {
        [b'"', inner @ .., b'"'] => inner,
        [b'"'] => &[],
        _ => text,
    }
}

/// `IFTIME(timespec?[true][:false])`.
pub(crate) fn iftime(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    let data = strip_quoted(data);
    let (spec, branches) = match memchr::memchr(b'?', data) {
        Some(q) => (&data[..q], Some(&data[q + 1..])),
        None => (data, None),
    };
    let Some(branches) = branches.filter(|_| !spec.is_empty()) else {
        call.issue("Syntax IFTIME(<timespec>?[<true>][:<false>])");
        return Ok(false);
    };
    let (if_true, if_false) = match memchr::memchr(b':', branches) {
        Some(c) => (&branches[..c], Some(&branches[c + 1..])),
        None => (branches, None),
    };
    let Some(timing) = Timing::build(spec) else {
        call.issue("Invalid Time Spec.");
        return Ok(false);
    };
    if timing.skipped > 0 {
        call.issue("IFTIME: part of the time specification is invalid and skipped");
    }
    let tz = zone_for(call, timing.zone.as_deref().unwrap_or_default());
    let now = Tm::local(call.r.world.epoch, 0, &tz);
    let chosen = if now.is_some_and(|tm| timing.matches(&tm)) {
        strip_quoted(if_true)
    } else {
        if_false.map(strip_quoted).unwrap_or_default()
    };
    out.extend_from_slice(chosen);
    Ok(true)
}

/// `SET(name=[value])`.
pub(crate) fn set(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    let Some(eq) = memchr::memchr(b'=', data) else {
        call.issue("Syntax SET(<varname>=[<value>])");
        return Ok(false);
    };
    let (name, value) = (&data[..eq], &data[eq + 1..]);
    if name.is_empty() {
        call.issue("Syntax SET(<varname>=[<value>])");
        return Ok(false);
    }
    let (name, value) = (strip(name), strip(value));
    if name.last() == Some(&b')') {
        call.issue("SET of a function: pjprov has no function that can be written, nothing is set");
    } else {
        call.r.assign(call.scope, name, value);
    }
    out.extend_from_slice(value);
    Ok(true)
}

/// `VARIABLE_EXISTS(name)`: 1 when the variable exists, even empty.
pub(crate) fn variable_exists(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    let exists = std::str::from_utf8(data)
        .ok()
        .and_then(|name| call.r.variable_value(name, call.scope))
        .is_some();
    out.push(if exists { b'1' } else { b'0' });
    Ok(true)
}

//! func_cut.c: `CUT(varname,delimiter,ranges)` and `SORT(key:value,...)`.
//!
//! `CUT` takes a variable's *name* (`${varname}` is substituted, so a function call works too), one
//! delimiter byte (escapes allowed; anything that does not decode, an empty one included, is `-`) and
//! `&`-joined ranges: `N`, `N-M`, `-M`, `N-`. Fields come out in order, joined by the delimiter; a range
//! that goes backwards outputs nothing more and is logged. An invalid range fails the whole call.
//!
//! `SORT` sorts the `key:value` pairs by their values read as `float`s (`%30f`, 0 when not a number) with
//! glibc's `qsort` (a stable merge sort) and returns the keys joined by commas; pieces without `:` are
//! dropped.

use super::escapes::encoded_char;
use super::{Call, Outcome, scan};
use crate::asterisk::args::separate_args;

/// A range of fields, tried in func_cut.c's order: `N-M`, `-M`, `N-`, `N`.
fn field_range(spec: &[u8]) -> Option<(i64, i64)> {
    let first = scan::int(spec, 30);
    if let Some((start, rest)) = first
        && let Some(after) = rest.strip_prefix(b"-")
        && let Some((stop, _)) = scan::int(after, 30)
    {
        return Some((i64::from(start), i64::from(stop)));
    }
    if let Some(after) = spec.strip_prefix(b"-")
        && let Some((stop, _)) = scan::int(after, 30)
    {
        return Some((1, i64::from(stop)));
    }
    let (start, rest) = first?;
    if rest.first() == Some(&b'-') {
        return Some((i64::from(start), i64::from(i32::MAX)));
    }
    Some((i64::from(start), i64::from(start)))
}

/// `CUT(varname,char-delim,range-spec)`.
pub(crate) fn cut(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    let args = separate_args(data, b',', true, 3);
    let [varname, delimiter, ranges] = &args[..] else {
        call.issue("Syntax: CUT(<varname>,<char-delim>,<range-spec>) - missing argument!");
        return Ok(false);
    };
    let value = call.value_of(varname)?;
    let delimiter = encoded_char(delimiter).map_or(b'-', |(c, _)| c);
    if value.is_empty() {
        return Ok(true);
    }
    // strsep with a NUL delimiter (an empty set) never splits.
    let fields: Vec<&[u8]> = if delimiter == 0 {
        vec![&value[..]]
    } else {
        value.split(|&b| b == delimiter).collect()
    };
    let mut next = 0usize;
    let mut current = 1i64;
    let mut produced = 0usize;
    for range in ranges.split(|&b| b == b'&') {
        if next >= fields.len() {
            break;
        }
        let Some((start, stop)) = field_range(range) else {
            call.issue("Usage: CUT(<varname>,<char-delim>,<range-spec>)");
            return Ok(false);
        };
        while next < fields.len() && current < start {
            next += 1;
            current += 1;
        }
        if current > start {
            call.issue("CUT: we're already past the field you wanted");
        }
        while let Some(field) = fields.get(next).filter(|_| current <= stop) {
            if produced > 0 {
                out.push(delimiter);
            }
            out.extend_from_slice(field);
            produced += 1;
            next += 1;
            current += 1;
        }
    }
    Ok(true)
}

/// `SORT(key1:val1[,key2:val2...])`.
pub(crate) fn sort(_: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    let mut pairs: Vec<(&[u8], f32)> = data
        .split(|&b| b == b',')
        .filter_map(|piece| {
            let colon = memchr::memchr(b':', piece)?;
            let value = scan::float(&piece[colon + 1..]).unwrap_or(0.0);
            Some((&piece[..colon], value))
        })
        .collect();
    merge_sort(&mut pairs);
    for (i, (key, _)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(key);
    }
    Ok(true)
}

/// func_cut.c's comparison: -1, 0 or 1, and 1 whenever a NaN is involved.
fn compare(a: f32, b: f32) -> i32 {
    if a < b {
        -1
    } else if a == b {
        0
    } else {
        1
    }
}

/// glibc's `msort_with_tmp`: halves, sorted recursively, merged taking the left one unless it compares
/// greater. Followed step by step, so an inconsistent comparison (NaN) orders as in Asterisk.
fn merge_sort<K: Copy>(items: &mut [(K, f32)]) {
    let n = items.len();
    if n <= 1 {
        return;
    }
    let (left, right) = items.split_at_mut(n / 2);
    merge_sort(left);
    merge_sort(right);
    let mut merged = Vec::with_capacity(n);
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        if compare(left[i].1, right[j].1) <= 0 {
            merged.push(left[i]);
            i += 1;
        } else {
            merged.push(right[j]);
            j += 1;
        }
    }
    merged.extend_from_slice(&left[i..]);
    merged.extend_from_slice(&right[j..]);
    items.copy_from_slice(&merged);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_in_func_cut_order() {
        assert_eq!(field_range(b"2"), Some((2, 2)));
        assert_eq!(field_range(b"2-3"), Some((2, 3)));
        assert_eq!(field_range(b"-3"), Some((1, 3)));
        assert_eq!(field_range(b"2-"), Some((2, i64::from(i32::MAX))));
        assert_eq!(field_range(b" 2"), Some((2, 2)));
        assert_eq!(field_range(b"-1-2"), Some((-1, 2)));
        assert_eq!(field_range(b"x"), None);
        assert_eq!(field_range(b""), None);
    }

    #[test]
    fn merge_sort_is_stable_and_follows_glibc_with_nan() {
        let mut items = vec![("a", 2.0), ("b", 1.0), ("c", 2.0), ("d", 1.0)];
        merge_sort(&mut items);
        let keys: Vec<&str> = items.iter().map(|i| i.0).collect();
        assert_eq!(keys, ["b", "d", "a", "c"]);
        let mut items = vec![("n", f32::NAN), ("a", 1.0), ("b", 0.0)];
        merge_sort(&mut items);
        let keys: Vec<&str> = items.iter().map(|i| i.0).collect();
        assert_eq!(keys, ["b", "a", "n"], "NaN compares greater both ways");
    }
}

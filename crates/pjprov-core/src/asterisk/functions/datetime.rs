//! `STRFTIME(epoch,timezone,format)` and `STRPTIME(timestring,timezone,format)` of func_strings.c, with
//! Asterisk's `ast_localtime`, `ast_strftime` (which turns `%q` and `%1q`–`%6q` into fractions of a second
//! before glibc's `strftime` sees the format) and `ast_mktime` (main/stdtime/localtime.c).
//!
//! An empty epoch, or one that is not a number, is now (the render's clock). An unknown zone is GMT, as
//! for `TZOFFSET`. **pjprov differs**: without a zone argument Asterisk uses the host's zone; pjprov uses
//! the line's `TIMEZONE` when it has one (a phone's files are about the phone's time), else the host's.

use jiff::tz::TimeZone;

use super::strftime::{self, Tm};
use super::{Call, Outcome, arg, scan, strptime};
use crate::asterisk::args::separate_args;

/// The zone a time function works in: the argument, else the line's `TIMEZONE`, else the host's.
pub(crate) fn zone_for(call: &Call<'_, '_>, argument: &[u8]) -> TimeZone {
    if !argument.is_empty() {
        return crate::tz::zone(Some(&String::from_utf8_lossy(argument)));
    }
    let line = call.r.variable_value("TIMEZONE", call.scope);
    crate::tz::zone(line.as_deref().filter(|z| !z.is_empty()))
}

/// `ast_get_timeval`: `%30Lf` seconds, else now.
fn timeval(call: &Call<'_, '_>, text: &[u8]) -> (i64, i64) {
    let now = (call.r.world.epoch, 0);
    if text.is_empty() {
        return now;
    }
    match scan::double(text) {
        Some(seconds) if seconds.is_finite() && seconds.abs() < 1e17 => {
            let whole = seconds.trunc();
            (whole as i64, ((seconds - whole) * 1_000_000.0) as i64)
        }
        Some(_) => (i64::MIN, 0),
        None => now,
    }
}

/// `ast_strftime`'s own conversions: `%q` (milliseconds) and `%1q`–`%6q`, replaced before `strftime`.
fn fractions(format: &[u8], usec: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(format.len());
    let mut i = 0;
    while i < format.len() {
        let c = format[i];
        if c == b'%' {
            let next = format.get(i + 1).copied();
            let decimals = match next {
                Some(d @ b'1'..=b'6') if format.get(i + 2) == Some(&b'q') => {
                    i += 1;
                    Some(usize::from(d - b'0'))
                }
                Some(b'q') => Some(3),
                _ => None,
            };
            if let Some(decimals) = decimals {
                let mut fraction = usec;
                for _ in decimals..6 {
                    fraction /= 10;
                }
                let negative = fraction < 0;
                let digits = fraction.unsigned_abs().to_string();
                if negative {
                    out.push(b'-');
                }
                let width = decimals.saturating_sub(usize::from(negative));
                out.resize(out.len() + width.saturating_sub(digits.len()), b'0');
                out.extend_from_slice(digits.as_bytes());
                i += 2;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// `STRFTIME([epoch][,timezone[,format]])`; the format defaults to `%c`.
pub(crate) fn strftime(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    let args = separate_args(data, b',', true, 3);
    let (seconds, usec) = timeval(call, arg(&args, 0));
    let tz = zone_for(call, arg(&args, 1));
    let format = args.get(2).map_or(&b"%c"[..], Vec::as_slice);
    // Beyond the years pjprov can break down (±9999), Asterisk's zeroed `ast_tm` is what gets formatted.
    let tm = Tm::local(seconds, usec, &tz).unwrap_or_else(|| {
        call.issue("STRFTIME: the time is beyond the year 9999");
        Tm::default()
    });
    let format = fractions(format, tm.usec);
    match strftime::format(&format, &tm, call.len()) {
        Ok(text) => {
            if text.is_empty() {
                call.issue("C function strftime() output nothing");
            }
            out.extend_from_slice(&text);
        }
        Err(partial) => {
            call.issue(
                "C function strftime() output nothing: the result does not fit in 4096 bytes",
            );
            out.extend_from_slice(&partial);
        }
    }
    Ok(true)
}

/// `STRPTIME(timestring,timezone,format)`: seconds since the epoch of the time read.
pub(crate) fn strptime(call: &Call<'_, '_>, data: &[u8], out: &mut Vec<u8>) -> Outcome {
    let args = separate_args(data, b',', true, 3);
    let format = arg(&args, 2);
    if format.is_empty() {
        call.issue("No format supplied to STRPTIME(<timestring>,<timezone>,<format>)");
        return Ok(false);
    }
    let Some(tm) = strptime::parse(arg(&args, 0), format) else {
        call.issue("STRPTIME() found no time specified within the string");
        return Ok(true);
    };
    let tz = zone_for(call, arg(&args, 1));
    // ast_mktime: a local time that does not exist (in a DST gap), or any failure, is its `WRONG`, 0.
    let seconds = tm
        .civil()
        .and_then(|civil| {
            let ambiguous = tz.to_ambiguous_timestamp(civil);
            let gap = matches!(ambiguous.offset(), jiff::tz::AmbiguousOffset::Gap { .. });
            (!gap).then(|| ambiguous.compatible().ok()).flatten()
        })
        .map_or(0, |timestamp| timestamp.as_second());
    out.extend_from_slice((seconds as i32).to_string().as_bytes());
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::fractions;

    #[test]
    fn fractions_of_a_second() {
        assert_eq!(fractions(b"%S.%q", 123_456), b"%S.123");
        assert_eq!(fractions(b"%1q|%6q|%2q", 123_456), b"1|123456|12");
        assert_eq!(fractions(b"%q", 5_000), b"005");
        assert_eq!(fractions(b"%7q", 5_000), b"%7q");
        assert_eq!(
            fractions(b"%%q", 5_000),
            b"%005",
            "as Asterisk's loop reads it"
        );
        assert_eq!(fractions(b"%q", -500_000), b"-500");
    }
}

//! `strptime` as glibc reads a time in the C.UTF-8 locale (time/strptime_l.c): blanks in the format
//! match any run of blanks, numbers skip leading blanks and read up to their width while the value can
//! still grow, names match without case, and after the format the missing fields that can be derived
//! (day of the week, day of the year, month and day from `%j` or `%U`/`%W`) are filled in.

use super::is_c_space;
use super::strftime::{Tm, day_name, month_name};

/// What parsing learnt beyond the fields.
#[derive(Default)]
struct State {
    have_i: bool,
    is_pm: bool,
    century: Option<i32>,
    want_century: bool,
    want_xday: bool,
    have_wday: bool,
    have_yday: bool,
    have_mon: bool,
    have_mday: bool,
    have_uweek: bool,
    have_wweek: bool,
    week_no: i32,
}

/// `strptime(text, format, &tm)` with `tm` zeroed first: the fields, or `None` where glibc returns NULL.
pub(crate) fn parse(text: &[u8], format: &[u8]) -> Option<Tm> {
    let mut tm = Tm::default();
    let mut state = State::default();
    run(text, format, &mut tm, &mut state, 0)?;
    finish(&mut tm, &state);
    Some(tm)
}

fn skip_space(text: &[u8], at: &mut usize) {
    while text.get(*at).is_some_and(|&b| is_c_space(b)) {
        *at += 1;
    }
}

/// glibc's `get_number(from, to, n)`.
fn number(text: &[u8], at: &mut usize, from: i32, to: i32, width: usize) -> Option<i32> {
    skip_space(text, at);
    let mut value: i32 = 0;
    let mut digits = 0;
    loop {
        let d = *text.get(*at).filter(|b| b.is_ascii_digit())?;
        value = value * 10 + i32::from(d - b'0');
        *at += 1;
        digits += 1;
        let next_is_digit = text.get(*at).is_some_and(u8::is_ascii_digit);
        if digits >= width || value * 10 > to || !next_is_digit {
            break;
        }
    }
    (from..=to).contains(&value).then_some(value)
}

/// Matches one of `names` (full name first, then its first three letters) without case.
fn name(
    text: &[u8],
    at: &mut usize,
    names: impl Fn(i32) -> &'static str,
    count: i32,
) -> Option<i32> {
    let rest = text.get(*at..).unwrap_or_default();
    for i in 0..count {
        let full = names(i).as_bytes();
        for candidate in [full, &full[..3]] {
            if rest
                .get(..candidate.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(candidate))
            {
                *at += candidate.len();
                return Some(i);
            }
        }
    }
    None
}

const MAX_NESTING: u32 = 4;

fn run(text: &[u8], format: &[u8], tm: &mut Tm, s: &mut State, depth: u32) -> Option<usize> {
    let mut at = 0;
    let mut i = 0;
    while i < format.len() {
        let f = format[i];
        if is_c_space(f) {
            skip_space(text, &mut at);
            i += 1;
            continue;
        }
        if f != b'%' {
            if text.get(at) != Some(&f) {
                return None;
            }
            at += 1;
            i += 1;
            continue;
        }
        i += 1;
        // strftime's flags and widths are accepted and ignored.
        while matches!(format.get(i), Some(b'-' | b'_' | b'0' | b'^' | b'#')) {
            i += 1;
        }
        while format.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        while matches!(format.get(i), Some(b'E' | b'O')) {
            i += 1;
        }
        let conversion = *format.get(i)?;
        i += 1;
        let mut nested = |sub: &[u8], tm: &mut Tm, s: &mut State| -> Option<()> {
            if depth >= MAX_NESTING {
                return None;
            }
            at += run(text.get(at..)?, sub, tm, s, depth + 1)?;
            Some(())
        };
        match conversion {
            b'%' => {
                if text.get(at) != Some(&b'%') {
                    return None;
                }
                at += 1;
            }
            b'n' | b't' => skip_space(text, &mut at),
            b'a' | b'A' => {
                skip_space(text, &mut at);
                tm.wday = name(text, &mut at, day_name, 7)?;
                s.have_wday = true;
            }
            b'b' | b'B' | b'h' => {
                skip_space(text, &mut at);
                tm.mon = name(text, &mut at, month_name, 12)?;
                s.have_mon = true;
                s.want_xday = true;
            }
            b'c' => {
                nested(b"%a %b %e %H:%M:%S %Y", tm, s)?;
                s.want_xday = true;
            }
            b'C' => {
                s.century = Some(number(text, &mut at, 0, 99, 2)?);
                s.want_xday = true;
            }
            b'd' | b'e' => {
                tm.mday = number(text, &mut at, 1, 31, 2)?;
                s.have_mday = true;
                s.want_xday = true;
            }
            b'F' => {
                nested(b"%Y-%m-%d", tm, s)?;
                s.want_xday = true;
            }
            b'x' | b'D' => {
                nested(b"%m/%d/%y", tm, s)?;
                s.want_xday = true;
            }
            b'k' | b'H' => {
                tm.hour = number(text, &mut at, 0, 23, 2)?;
                s.have_i = false;
            }
            b'l' | b'I' => {
                tm.hour = number(text, &mut at, 1, 12, 2)? % 12;
                s.have_i = true;
            }
            b'j' => {
                tm.yday = number(text, &mut at, 1, 366, 3)? - 1;
                s.have_yday = true;
            }
            b'm' => {
                tm.mon = number(text, &mut at, 1, 12, 2)? - 1;
                s.have_mon = true;
                s.want_xday = true;
            }
            b'M' => tm.min = number(text, &mut at, 0, 59, 2)?,
            b'p' => {
                skip_space(text, &mut at);
                let rest = text.get(at..).unwrap_or_default();
                let head = rest.get(..2)?;
                if head.eq_ignore_ascii_case(b"AM") {
                    s.is_pm = false;
                } else if head.eq_ignore_ascii_case(b"PM") {
                    s.is_pm = true;
                } else {
                    return None;
                }
                at += 2;
            }
            b'r' => nested(b"%I:%M:%S %p", tm, s)?,
            b'R' => nested(b"%H:%M", tm, s)?,
            b's' => {
                let rest = text.get(at..).unwrap_or_default();
                let negative = rest.first() == Some(&b'-');
                let digits = rest[usize::from(negative)..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                if digits == 0 {
                    return None;
                }
                let mut seconds: i64 = 0;
                for &d in &rest[usize::from(negative)..usize::from(negative) + digits] {
                    seconds = seconds.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
                }
                if negative {
                    seconds = -seconds;
                }
                at += usize::from(negative) + digits;
                // glibc breaks it down in the process's own zone.
                *tm = Tm::local(seconds, 0, &crate::tz::zone(None))?;
            }
            b'S' => tm.sec = number(text, &mut at, 0, 61, 2)?,
            b'X' | b'T' => nested(b"%H:%M:%S", tm, s)?,
            b'u' => {
                tm.wday = number(text, &mut at, 1, 7, 1)? % 7;
                s.have_wday = true;
            }
            b'g' => {
                number(text, &mut at, 0, 99, 2)?;
            }
            b'G' => {
                if !text.get(at).is_some_and(u8::is_ascii_digit) {
                    return None;
                }
                while text.get(at).is_some_and(u8::is_ascii_digit) {
                    at += 1;
                }
            }
            b'U' => {
                s.week_no = number(text, &mut at, 0, 53, 2)?;
                s.have_uweek = true;
                s.have_wweek = false;
            }
            b'W' => {
                s.week_no = number(text, &mut at, 0, 53, 2)?;
                s.have_wweek = true;
                s.have_uweek = false;
            }
            b'V' => {
                number(text, &mut at, 0, 53, 2)?;
            }
            b'w' => {
                tm.wday = number(text, &mut at, 0, 6, 1)?;
                s.have_wday = true;
            }
            b'y' => {
                let value = number(text, &mut at, 0, 99, 2)?;
                tm.year = if value >= 69 { value } else { value + 100 };
                s.want_century = true;
                s.want_xday = true;
            }
            b'Y' => {
                tm.year = number(text, &mut at, 0, 9999, 4)? - 1900;
                s.want_century = false;
                s.want_xday = true;
            }
            b'Z' => {
                // Read and ignored.
                while text.get(at).is_some_and(|&b| !is_c_space(b)) {
                    at += 1;
                }
            }
            b'z' => {
                skip_space(text, &mut at);
                if text.get(at) == Some(&b'Z') {
                    at += 1;
                } else {
                    let sign = *text.get(at).filter(|b| matches!(b, b'+' | b'-'))?;
                    let _ = sign;
                    at += 1;
                    let mut digits = 0;
                    while digits < 4 {
                        match text.get(at) {
                            Some(d) if d.is_ascii_digit() => {
                                digits += 1;
                                at += 1;
                            }
                            Some(b':') if digits == 2 => at += 1,
                            _ => break,
                        }
                    }
                    if digits != 2 && digits != 4 {
                        return None;
                    }
                }
            }
            _ => return None,
        }
    }
    Some(at)
}

fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// `__mon_yday`: days before each month (and the year's length at index 12).
fn month_start(leap: bool, month: usize) -> i32 {
    const NORMAL: [i32; 13] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];
    const LEAP: [i32; 13] = [0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366];
    let table = if leap { &LEAP } else { &NORMAL };
    table.get(month).copied().unwrap_or(366)
}

/// glibc's `day_of_the_week` (C's truncating division on purpose).
fn day_of_the_week(tm: &mut Tm) {
    let corr_year = 1900 + tm.year - i32::from(tm.mon < 2);
    let corr_quad = corr_year / 4;
    let wday = -473 + 365 * (tm.year - 70) + corr_quad
        - ((corr_quad + i32::from(corr_quad < 0)) / 25 - i32::from(corr_quad % 25 < 0))
        + ((corr_quad / 25) / 4)
        + month_start(false, tm.mon.clamp(0, 11) as usize)
        + tm.mday
        - 1;
    tm.wday = ((wday % 7) + 7) % 7;
}

/// glibc's `day_of_the_year`.
fn day_of_the_year(tm: &mut Tm) {
    tm.yday = month_start(is_leap(1900 + tm.year), tm.mon.clamp(0, 11) as usize) + (tm.mday - 1);
}

fn finish(tm: &mut Tm, s: &State) {
    if s.have_i && s.is_pm {
        tm.hour += 12;
    }
    if let Some(century) = s.century {
        tm.year = if s.want_century {
            tm.year % 100 + (century - 19) * 100
        } else {
            (century - 19) * 100
        };
    }
    if s.want_xday && !s.have_wday {
        if !(s.have_mon && s.have_mday) && s.have_yday {
            let leap = is_leap(1900 + tm.year);
            let mut month = 0;
            while month < 12 && month_start(leap, month) <= tm.yday {
                month += 1;
            }
            if !s.have_mon {
                tm.mon = month as i32 - 1;
            }
            if !s.have_mday {
                tm.mday = tm.yday - month_start(leap, month.saturating_sub(1)) + 1;
            }
        }
        day_of_the_week(tm);
    }
    if s.want_xday && !s.have_yday {
        day_of_the_year(tm);
    }
    if (s.have_uweek || s.have_wweek) && s.have_wday {
        let save_wday = tm.wday;
        let save_mday = tm.mday;
        let save_mon = tm.mon;
        let w_offset = if s.have_uweek { 0 } else { 1 };
        tm.mday = 1;
        tm.mon = 0;
        day_of_the_week(tm);
        if s.have_mday {
            tm.mday = save_mday;
        }
        if s.have_mon {
            tm.mon = save_mon;
        }
        if !s.have_yday {
            tm.yday = (7 - (tm.wday - w_offset)).rem_euclid(7)
                + (s.week_no - 1) * 7
                + (save_wday - w_offset + 7).rem_euclid(7);
        }
        if !s.have_mday || !s.have_mon {
            let leap = is_leap(1900 + tm.year);
            let mut month = 0;
            while month < 12 && month_start(leap, month) <= tm.yday {
                month += 1;
            }
            if !s.have_mon {
                tm.mon = month as i32 - 1;
            }
            if !s.have_mday {
                tm.mday = tm.yday - month_start(leap, month.saturating_sub(1)) + 1;
            }
        }
        tm.wday = save_wday;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str, format: &str) -> Option<(i32, i32, i32, i32, i32, i32, i32)> {
        parse(text.as_bytes(), format.as_bytes())
            .map(|t| (t.year, t.mon, t.mday, t.hour, t.min, t.sec, t.wday))
    }

    #[test]
    fn reads_like_glibc() {
        assert_eq!(
            fields("2024-03-05 07:08:09", "%Y-%m-%d %H:%M:%S"),
            Some((124, 2, 5, 7, 8, 9, 2))
        );
        assert_eq!(fields("  2024-3-5", "%Y-%m-%d").map(|f| f.2), Some(5));
        assert_eq!(fields("24/03/05", "%y/%m/%d").map(|f| f.0), Some(124));
        assert_eq!(fields("70/01/01", "%y/%m/%d").map(|f| f.0), Some(70));
        assert_eq!(
            fields("Tue Mar  5 07:08:09 2024", "%c"),
            Some((124, 2, 5, 7, 8, 9, 2))
        );
        assert_eq!(fields("march 5", "%B %d").map(|f| (f.1, f.2)), Some((2, 5)));
        assert_eq!(fields("12:30 pm", "%I:%M %p").map(|f| f.3), Some(12));
        assert_eq!(fields("12:30 am", "%I:%M %p").map(|f| f.3), Some(0));
        assert_eq!(
            fields("20240305", "%Y%m%d").map(|f| (f.0, f.1, f.2)),
            Some((124, 2, 5))
        );
        assert_eq!(fields("2024-13-05", "%Y-%m-%d"), None);
        assert_eq!(fields("x", "%Y"), None);
        assert_eq!(fields("2024", "%Y-%m"), None);
        assert_eq!(
            fields("2024 extra", "%Y").map(|f| f.0),
            Some(124),
            "trailing text is fine"
        );
        assert_eq!(
            fields("2024 065", "%Y %j").map(|f| (f.1, f.2)),
            Some((2, 5))
        );
        assert_eq!(fields("1709622489", "%s").map(|f| f.0), Some(124));
        assert_eq!(fields("20 24", "%C %y").map(|f| f.0), Some(124));
        assert_eq!(
            fields("2024 10 2", "%Y %W %u").map(|f| (f.1, f.2)),
            Some((2, 5))
        );
    }
}

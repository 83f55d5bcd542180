//! `strftime` as glibc formats a broken-down time in the C.UTF-8 locale: every conversion, the glibc
//! flags `_ - 0 ^ #` and field widths, the `E` and `O` modifiers (no different in this locale), and an
//! unknown conversion copied as written. `%s` is read back in the host's zone, as glibc's `mktime` does,
//! whatever zone the time was broken down in; `%Z` is the host zone's name too (glibc's `tzname`), since
//! Asterisk's `ast_tm` carries no zone name. `%z` is the offset of the time's own zone.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

/// `struct ast_tm`: a time broken down in some zone.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Tm {
    pub sec: i32,
    pub min: i32,
    pub hour: i32,
    pub mday: i32,
    /// 0–11.
    pub mon: i32,
    /// Years since 1900.
    pub year: i32,
    /// 0 = Sunday.
    pub wday: i32,
    /// 0–365.
    pub yday: i32,
    pub isdst: i32,
    /// Seconds east of UTC.
    pub gmtoff: i64,
    pub usec: i64,
}

impl Tm {
    /// `ast_localtime`: `seconds` (and `usec`) since the epoch, broken down in `tz`. `None` outside the
    /// years jiff represents.
    pub fn local(seconds: i64, usec: i64, tz: &TimeZone) -> Option<Tm> {
        let timestamp = jiff::Timestamp::from_second(seconds).ok()?;
        let info = tz.to_offset_info(timestamp);
        let dt = info.offset().to_datetime(timestamp);
        Some(Tm {
            sec: i32::from(dt.second()),
            min: i32::from(dt.minute()),
            hour: i32::from(dt.hour()),
            mday: i32::from(dt.day()),
            mon: i32::from(dt.month()) - 1,
            year: i32::from(dt.year()) - 1900,
            wday: i32::from(dt.weekday().to_sunday_zero_offset()),
            yday: i32::from(dt.day_of_year()) - 1,
            isdst: i32::from(info.dst().is_dst()),
            gmtoff: i64::from(info.offset().seconds()),
            usec,
        })
    }

    fn year_full(&self) -> i64 {
        i64::from(self.year) + 1900
    }

    /// The fields read as a civil date and time (normalising out-of-range ones as `mktime` does).
    pub fn civil(&self) -> Option<DateTime> {
        let months = i64::from(self.mon);
        let year = self.year_full() + months.div_euclid(12);
        let month = months.rem_euclid(12) + 1;
        let first = Date::new(i16::try_from(year).ok()?, month as i8, 1).ok()?;
        let day = first
            .checked_add(jiff::Span::new().try_days(i64::from(self.mday) - 1).ok()?)
            .ok()?;
        let seconds = i64::from(self.hour) * 3600 + i64::from(self.min) * 60 + i64::from(self.sec);
        day.to_datetime(jiff::civil::Time::midnight())
            .checked_add(jiff::SignedDuration::from_secs(seconds))
            .ok()
    }
}

const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

pub(crate) fn day_name(wday: i32) -> &'static str {
    DAYS.get(wday.rem_euclid(7) as usize)
        .copied()
        .unwrap_or("?")
}

pub(crate) fn month_name(mon: i32) -> &'static str {
    MONTHS
        .get(mon.rem_euclid(12) as usize)
        .copied()
        .unwrap_or("?")
}

/// `strftime(buf, size, format, tm)`: the text, or `None` when it does not fit in `size - 1` bytes (what
/// fitted is returned in the error, as glibc leaves it in the buffer).
pub(crate) fn format(format: &[u8], tm: &Tm, size: usize) -> Result<Vec<u8>, Vec<u8>> {
    let mut out = Vec::new();
    write(format, tm, &mut out, size, 0)?;
    Ok(out)
}

/// How deep `%c` and friends may nest (they expand to fixed formats, so 2 is enough).
const MAX_NESTING: u32 = 4;

fn write(
    format: &[u8],
    tm: &Tm,
    out: &mut Vec<u8>,
    size: usize,
    depth: u32,
) -> Result<(), Vec<u8>> {
    let mut i = 0;
    while i < format.len() {
        let c = format[i];
        if c != b'%' {
            push(out, &[c], size)?;
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        let mut pad: Option<u8> = None;
        let mut upper = false;
        let mut swap_case = false;
        while let Some(&flag) = format.get(i) {
            match flag {
                b'_' | b'-' | b'0' => pad = Some(flag),
                b'^' => upper = true,
                b'#' => swap_case = true,
                _ => break,
            }
            i += 1;
        }
        let digits = format[i..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let width = format[i..i + digits].iter().fold(0usize, |acc, &d| {
            acc.saturating_mul(10).saturating_add(usize::from(d - b'0'))
        });
        let width = (digits > 0).then_some(width.min(size));
        i += digits;
        let modifier = format.get(i).copied().filter(|m| matches!(m, b'E' | b'O'));
        if modifier.is_some() {
            i += 1;
        }
        let Some(&conversion) = format.get(i) else {
            // A lone `%` at the end is copied.
            push(out, &format[start..], size)?;
            break;
        };
        i += 1;
        // glibc refuses `E` and `O` before some conversions (and copies them as written).
        let valid = match (modifier, conversion) {
            (None, _) => true,
            (Some(_), b'%' | b'a' | b'A' | b'D' | b'F') => false,
            (Some(b'E'), c) => !b"bBhdeHIjklmMSuUVwWgG".contains(&c),
            (Some(_), c) => !b"cxXY".contains(&c),
        };
        if !valid {
            push(out, &format[start..i], size)?;
            continue;
        }
        let field = Field {
            pad,
            width,
            upper,
            swap_case,
        };
        let piece = match conversion {
            b'%' => field.text("%"),
            b'a' => field.name(&day_name(tm.wday)[..3]),
            b'A' => field.name(day_name(tm.wday)),
            b'b' | b'h' => field.name(&month_name(tm.mon)[..3]),
            b'B' => field.name(month_name(tm.mon)),
            b'c' => field.nested(b"%a %b %e %H:%M:%S %Y", tm, size, depth)?,
            b'C' => field.number(tm.year_full().div_euclid(100), 2, b'0'),
            b'd' => field.number(i64::from(tm.mday), 2, b'0'),
            b'D' | b'x' => field.nested(b"%m/%d/%y", tm, size, depth)?,
            b'e' => field.number(i64::from(tm.mday), 2, b' '),
            b'F' => field.nested(b"%Y-%m-%d", tm, size, depth)?,
            b'g' => field.number(iso_week(tm).0.rem_euclid(100), 2, b'0'),
            b'G' => field.number(iso_week(tm).0, 1, b'0'),
            b'H' => field.number(i64::from(tm.hour), 2, b'0'),
            b'I' => field.number(i64::from(twelve(tm.hour)), 2, b'0'),
            b'j' => field.number(i64::from(tm.yday) + 1, 3, b'0'),
            b'k' => field.number(i64::from(tm.hour), 2, b' '),
            b'l' => field.number(i64::from(twelve(tm.hour)), 2, b' '),
            b'm' => field.number(i64::from(tm.mon) + 1, 2, b'0'),
            b'M' => field.number(i64::from(tm.min), 2, b'0'),
            b'n' => field.text("\n"),
            b'p' => field.am_pm(tm.hour >= 12, false),
            b'P' => field.am_pm(tm.hour >= 12, true),
            b'r' => field.nested(b"%I:%M:%S %p", tm, size, depth)?,
            b'R' => field.nested(b"%H:%M", tm, size, depth)?,
            b's' => field.number(epoch_in_host_zone(tm), 1, b'0'),
            b'S' => field.number(i64::from(tm.sec), 2, b'0'),
            b't' => field.text("\t"),
            b'T' | b'X' => field.nested(b"%H:%M:%S", tm, size, depth)?,
            b'u' => field.number(i64::from((tm.wday + 6).rem_euclid(7) + 1), 1, b'0'),
            b'U' => field.number(i64::from((tm.yday - tm.wday + 7).div_euclid(7)), 2, b'0'),
            b'V' => field.number(iso_week(tm).1, 2, b'0'),
            b'w' => field.number(i64::from(tm.wday), 1, b'0'),
            b'W' => field.number(
                i64::from((tm.yday - (tm.wday + 6).rem_euclid(7) + 7).div_euclid(7)),
                2,
                b'0',
            ),
            b'y' => field.number(tm.year_full().rem_euclid(100), 2, b'0'),
            b'Y' => field.number(tm.year_full(), 1, b'0'),
            b'z' => field.offset(tm.gmtoff),
            b'Z' => field.zone(&crate::tz::host_tzname(tm.isdst > 0)),
            _ => format[start..i].to_vec(),
        };
        push(out, &piece, size)?;
    }
    Ok(())
}

fn push(out: &mut Vec<u8>, piece: &[u8], size: usize) -> Result<(), Vec<u8>> {
    if out.len() + piece.len() >= size {
        return Err(std::mem::take(out));
    }
    out.extend_from_slice(piece);
    Ok(())
}

fn twelve(hour: i32) -> i32 {
    match hour.rem_euclid(12) {
        0 => 12,
        h => h,
    }
}

/// The ISO 8601 week-based year and week number of `tm` (from its year, `yday` and `wday`, as glibc).
fn iso_week(tm: &Tm) -> (i64, i64) {
    fn is_leap(year: i64) -> bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }
    // Days from the start of the ISO year containing `yday` (glibc's iso_week_days).
    fn iso_week_days(yday: i64, wday: i64) -> i64 {
        const BIG_ENOUGH_MULTIPLE_OF_7: i64 = (366 / 7 + 2) * 7;
        yday - (yday - wday + 4 + BIG_ENOUGH_MULTIPLE_OF_7) % 7 + 3
    }
    let mut year = tm.year_full();
    let yday = i64::from(tm.yday);
    let wday = i64::from(tm.wday);
    let mut days = iso_week_days(yday, wday);
    if days < 0 {
        year -= 1;
        days = iso_week_days(yday + if is_leap(year) { 366 } else { 365 }, wday);
    } else {
        let next = iso_week_days(yday - if is_leap(year) { 366 } else { 365 }, wday);
        if next >= 0 {
            year += 1;
            days = next;
        }
    }
    (year, days / 7 + 1)
}

/// glibc's `%s`: `mktime` of the fields in the process's own zone.
fn epoch_in_host_zone(tm: &Tm) -> i64 {
    let Some(civil) = tm.civil() else {
        return -1;
    };
    crate::tz::zone(None)
        .to_ambiguous_timestamp(civil)
        .compatible()
        .map_or(-1, |timestamp| timestamp.as_second())
}

/// How one conversion is padded and cased.
struct Field {
    pad: Option<u8>,
    width: Option<usize>,
    upper: bool,
    swap_case: bool,
}

impl Field {
    fn text(&self, text: &str) -> Vec<u8> {
        self.padded(text.as_bytes().to_vec())
    }

    /// A name: `^` and `#` make it upper case.
    fn name(&self, name: &str) -> Vec<u8> {
        let mut text = name.as_bytes().to_vec();
        if self.upper || self.swap_case {
            text.make_ascii_uppercase();
        }
        self.padded(text)
    }

    /// `AM`/`PM` (`%p`; `#` makes it lower case) or `am`/`pm` (`%P`).
    fn am_pm(&self, pm: bool, lower: bool) -> Vec<u8> {
        let mut text = if pm { b"PM".to_vec() } else { b"AM".to_vec() };
        if (lower || self.swap_case) && !self.upper {
            text.make_ascii_lowercase();
        }
        self.padded(text)
    }

    fn zone(&self, zone: &str) -> Vec<u8> {
        let mut text = zone.as_bytes().to_vec();
        if self.upper {
            text.make_ascii_uppercase();
        } else if self.swap_case {
            text.make_ascii_lowercase();
        }
        self.padded(text)
    }

    /// glibc's `DO_NUMBER(digits, value)`: at least `max(digits, width)` digits, padded with zeros (with
    /// blanks for `_`, or by default where `fill` is a blank: `%e`, `%k`, `%l`), not padded for `-`; then,
    /// like any text, padded to the width (which `-` does not cancel).
    fn number(&self, value: i64, digits: usize, fill: u8) -> Vec<u8> {
        let pad = self.pad.unwrap_or(if fill == b' ' { b'_' } else { b'0' });
        let digits = digits.max(self.width.unwrap_or(0));
        let negative = value < 0;
        let magnitude = value.unsigned_abs().to_string().into_bytes();
        let len = magnitude.len() + usize::from(negative);
        let mut out = Vec::with_capacity(digits.max(len));
        let padding = if pad == b'-' {
            0
        } else {
            digits.saturating_sub(len)
        };
        if pad == b'_' {
            out.resize(padding, b' ');
        }
        if negative {
            out.push(b'-');
        }
        if pad != b'_' {
            out.resize(out.len() + padding, b'0');
        }
        out.extend_from_slice(&magnitude);
        Field {
            pad: Some(pad),
            ..*self
        }
        .padded(out)
    }

    /// `%z`: the sign, as a text padded to the width, then `hhmm` as a number of at least 4 digits
    /// (glibc 2.36 pads both to the width: `%3z` is `  +0000`).
    fn offset(&self, gmtoff: i64) -> Vec<u8> {
        let sign = if gmtoff < 0 { "-" } else { "+" };
        let minutes = gmtoff.unsigned_abs() / 60;
        let value = (minutes / 60) * 100 + minutes % 60;
        let mut out = self.text(sign);
        out.extend_from_slice(&self.number(value as i64, 4, b'0'));
        out
    }

    /// Pads `text` on the left to the width: with zeros for the `0` flag, else with blanks (`-` too).
    fn padded(&self, text: Vec<u8>) -> Vec<u8> {
        let Some(width) = self.width.filter(|&w| w > text.len()) else {
            return text;
        };
        let fill = if self.pad == Some(b'0') { b'0' } else { b' ' };
        let mut out = vec![fill; width - text.len()];
        out.extend_from_slice(&text);
        out
    }

    /// A conversion that expands to a format (`%c`, `%D`, `%F`, `%r`, `%R`, `%T`): padded as a whole.
    fn nested(&self, format: &[u8], tm: &Tm, size: usize, depth: u32) -> Result<Vec<u8>, Vec<u8>> {
        let mut text = Vec::new();
        if depth < MAX_NESTING {
            write(format, tm, &mut text, size, depth + 1)?;
        }
        if self.upper {
            text.make_ascii_uppercase();
        }
        Ok(self.padded(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tm() -> Tm {
        // 2024-03-05 07:08:09 UTC, a Tuesday.
        Tm::local(1_709_622_489, 123_456, &TimeZone::UTC).unwrap()
    }

    fn f(format: &str) -> String {
        String::from_utf8(super::format(format.as_bytes(), &tm(), 4096).unwrap()).unwrap()
    }

    #[test]
    fn conversions_in_the_c_locale() {
        assert_eq!(f("%Y-%m-%d %H:%M:%S"), "2024-03-05 07:08:09");
        assert_eq!(f("%a %A %b %B %h"), "Tue Tuesday Mar March Mar");
        assert_eq!(f("%c"), "Tue Mar  5 07:08:09 2024");
        assert_eq!(
            f("%D|%x|%F|%T|%X|%R|%r"),
            "03/05/24|03/05/24|2024-03-05|07:08:09|07:08:09|07:08|07:08:09 AM"
        );
        assert_eq!(f("%e|%k|%l|%I|%p|%P"), " 5| 7| 7|07|AM|am");
        assert_eq!(
            f("%j %u %w %U %W %V %G %g %C %y"),
            "065 2 2 09 10 10 2024 24 20 24"
        );
        assert_eq!(f("%z"), "+0000");
        let host_is_utc = crate::tz::zone(None)
            .to_offset_info(jiff::Timestamp::now())
            .offset()
            .seconds()
            == 0;
        if host_is_utc {
            assert_eq!(f("%s"), "1709622489");
        }
        assert_eq!(f("100%% %n%t"), "100% \n\t");
        assert_eq!(f("%Q %5Q"), "%Q %5Q", "unknown conversions are copied");
        assert_eq!(f("%"), "%");
    }

    #[test]
    fn flags_and_widths() {
        assert_eq!(
            f("%-d %_m %05Y %^a %#b %^B %#p %10A|"),
            "5  3 02024 TUE MAR MARCH am    Tuesday|"
        );
        assert_eq!(f("%3d|%-3d|%_3d|%1d|%1j"), "005|  5|  5|05|065");
        assert_eq!(f("%Ey %Od %EY %Ec"), "24 05 2024 Tue Mar  5 07:08:09 2024");
        assert_eq!(
            f("%Ox %Ea %OY %EH %EG"),
            "%Ox %Ea %OY %EH %EG",
            "modifiers glibc refuses"
        );
        assert_eq!(
            f("%Ez %Oz %EC %Oy %OS %Ex %EX"),
            "+0000 +0000 20 24 09 03/05/24 07:08:09"
        );
        // Asterisk's answers (glibc 2.36).
        assert_eq!(
            f(
                "%3z|%-z|%_z|%08z|%-8z|%_8z|%1Y|%6Y|%_6Y|%-6Y|%06y|%_3e|%-e|%0e|%03a|%_10B|%-10B|%^10b"
            ),
            "  +0000|+0|+   0|0000000+00000000|       +       0|       +       0|2024|002024|  2024|  2024|000024|  5|5|05|Tue|     March|     March|       MAR"
        );
        assert_eq!(
            f("%-10T|%_12D|%012D|%5n|%5%"),
            "  07:08:09|    03/05/24|000003/05/24|    \n|    %"
        );
    }

    #[test]
    fn too_long_for_the_buffer() {
        assert_eq!(format(b"%Y-%m", &tm(), 6), Err(b"2024-".to_vec()));
        assert_eq!(format(b"%Y", &tm(), 5), Ok(b"2024".to_vec()));
    }

    #[test]
    fn iso_weeks_at_year_ends() {
        // 2021-01-01 is a Friday: ISO week 53 of 2020.
        let tm = Tm::local(1_609_459_200, 0, &TimeZone::UTC).unwrap();
        assert_eq!(super::format(b"%G-W%V", &tm, 64), Ok(b"2020-W53".to_vec()));
        // 2024-12-30 is a Monday: week 1 of 2025.
        let tm = Tm::local(1_735_516_800, 0, &TimeZone::UTC).unwrap();
        assert_eq!(super::format(b"%G-W%V", &tm, 64), Ok(b"2025-W01".to_vec()));
    }
}

//! Time specifications (`times,weekdays,mdays,months[,timezone]`) as main/pbx_timing.c builds and checks
//! them (`ast_build_timing`, `ast_check_timing2`), for `IFTIME`.
//!
//! Fields split at `,` or `|`; each is `*` (or empty) or `&`-joined items, an item a value or a `start-end`
//! range that may wrap (`fri-mon`). Times are `HH:MM` or `HH:MM-HH:MM`, to the minute, both ends included.
//! Week days and months are names (`mon`, `jan`, without case) or numbers from 1. Invalid items are skipped,
//! as Asterisk skips them with a warning.

use super::scan;
use super::strftime::Tm;

const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// A built time specification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Timing {
    /// One bit a minute of the day.
    minutes: Vec<bool>,
    /// Bit `d` for week day `d` (0 = Sunday).
    weekdays: u32,
    /// Bit `d - 1` for day of month `d`.
    monthdays: u32,
    /// Bit `m` for month `m` (0 = January).
    months: u32,
    /// The fifth field, when there are exactly five.
    pub zone: Option<Vec<u8>>,
    /// Items Asterisk warns about and skips.
    pub skipped: usize,
}

/// `lookup_name`: the 0-based index of `text` among `names` (without case) or as a number from 1.
fn lookup(text: &[u8], names: Option<&[&str]>, max: i32) -> Option<i32> {
    if let Some(names) = names
        && text.first().is_some_and(|&c| c > b'9')
        && let Some(i) = names
            .iter()
            .position(|n| n.as_bytes().eq_ignore_ascii_case(text))
    {
        return Some(i as i32);
    }
    let (value, _) = scan::int(text, 2)?;
    (1..=max).contains(&value).then_some(value - 1)
}

/// `get_range`: the bit mask of a field.
fn range(field: Option<&[u8]>, max: i32, names: Option<&[&str]>, skipped: &mut usize) -> u32 {
    let full = if max >= 32 {
        u32::MAX
    } else {
        (1u32 << max) - 1
    };
    let Some(field) = field.filter(|f| !f.is_empty() && *f != b"*") else {
        return full;
    };
    let mut mask = 0u32;
    for part in field.split(|&b| b == b'&') {
        let (start, end) = match memchr::memchr(b'-', part) {
            Some(dash) => (&part[..dash], Some(&part[dash + 1..])),
            None => (part, None),
        };
        let Some(mut start) = lookup(start, names, max) else {
            *skipped += 1;
            continue;
        };
        let end = match end {
            Some(end) => match lookup(end, names, max) {
                Some(end) => end,
                None => {
                    *skipped += 1;
                    continue;
                }
            },
            None => start,
        };
        mask |= 1 << end;
        while start != end {
            mask |= 1 << start;
            start += 1;
            if start >= max {
                start = 0;
            }
        }
    }
    mask
}

/// `sscanf(text, "%2d:%2d")` with the hour 0–23 and the minute 0–59.
fn hour_minute(text: &[u8]) -> Option<i32> {
    let (hour, rest) = scan::int(text, 2)?;
    let rest = rest.strip_prefix(b":")?;
    let (minute, _) = scan::int(rest, 2)?;
    ((0..=23).contains(&hour) && (0..=59).contains(&minute)).then_some(hour * 60 + minute)
}

/// `get_timerange`.
fn times(field: &[u8], skipped: &mut usize) -> Vec<bool> {
    const DAY: usize = 24 * 60;
    if field.is_empty() || field == b"*" {
        return vec![true; DAY];
    }
    let mut minutes = vec![false; DAY];
    for part in field.split(|&b| b == b'&') {
        let Some(dash) = memchr::memchr(b'-', part) else {
            match hour_minute(part) {
                Some(m) => minutes[m as usize] = true,
                None => *skipped += 1,
            }
            continue;
        };
        let start = &part[..dash];
        let end = &part[dash + 1..];
        let end = &end[end.iter().take_while(|b| !b.is_ascii_digit()).count()..];
        if end.is_empty() {
            *skipped += 1;
            continue;
        }
        let (Some(start), Some(end)) = (hour_minute(start), hour_minute(end)) else {
            *skipped += 1;
            continue;
        };
        let mut m = start as usize;
        while m != end as usize {
            minutes[m] = true;
            m = (m + 1) % DAY;
        }
        minutes[m] = true;
    }
    minutes
}

impl Timing {
    /// `ast_build_timing`; `None` for an empty specification.
    pub fn build(spec: &[u8]) -> Option<Timing> {
        if spec.is_empty() {
            return None;
        }
        let separators = spec.iter().filter(|&&b| b == b'|' || b == b',').count();
        let zone = (separators == 4).then(|| {
            let last = spec
                .iter()
                .rposition(|&b| b == b'|' || b == b',')
                .map_or(0, |i| i + 1);
            spec[last..].to_vec()
        });
        let mut fields = spec.split(|&b| b == b'|' || b == b',');
        let mut skipped = 0;
        let minutes = times(fields.next().unwrap_or_default(), &mut skipped);
        let weekdays = range(fields.next(), 7, Some(&DAYS), &mut skipped);
        let monthdays = range(fields.next(), 31, None, &mut skipped);
        let months = range(fields.next(), 12, Some(&MONTHS), &mut skipped);
        Some(Timing {
            minutes,
            weekdays,
            monthdays,
            months,
            zone,
            skipped,
        })
    }

    /// `ast_check_timing2` at the broken-down time `tm`.
    pub fn matches(&self, tm: &Tm) -> bool {
        let bit =
            |mask: u32, i: i32| u32::try_from(i).is_ok_and(|i| i < 32 && mask & (1 << i) != 0);
        bit(self.months, tm.mon)
            && bit(self.monthdays, tm.mday - 1)
            && bit(self.weekdays, tm.wday)
            && (0..=23).contains(&tm.hour)
            && self
                .minutes
                .get((tm.hour * 60 + tm.min) as usize)
                .copied()
                .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(spec: &str, seconds: i64) -> bool {
        let tm = Tm::local(seconds, 0, &jiff::tz::TimeZone::UTC).unwrap();
        Timing::build(spec.as_bytes()).unwrap().matches(&tm)
    }

    // 2024-03-05 07:08:09 UTC, a Tuesday.
    const T: i64 = 1_709_622_489;

    #[test]
    fn fields_like_pbx_timing() {
        assert!(at("*,*,*,*", T));
        assert!(at("07:00-08:00,tue,5,mar", T));
        assert!(at("07:08,*,*,*", T), "a single minute");
        assert!(!at("07:09,*,*,*", T));
        assert!(at("22:00-07:30,*,*,*", T), "time ranges wrap past midnight");
        assert!(at("*,fri-tue,*,*", T), "day ranges wrap");
        assert!(!at("*,wed-fri,*,*", T));
        assert!(at("*,MON&Tue,*,*", T));
        assert!(at("*,3,*,*", T), "week days count from 1 = sun");
        assert!(at("*|*|1-10|3", T), "| separates too");
        assert!(!at("*,*,*,apr", T));
        assert!(!at("*,*,6-31,*", T));
        assert!(at("*,bogus&tue,*,*", T), "an invalid item is skipped");
        assert!(!at("*,bogus,*,*", T), "and adds nothing");
    }

    #[test]
    fn the_fifth_field_is_a_zone() {
        let t = Timing::build(b"*,*,*,*,Europe/Paris").unwrap();
        assert_eq!(t.zone.as_deref(), Some(&b"Europe/Paris"[..]));
        assert_eq!(Timing::build(b"*,*,*,*").unwrap().zone, None);
        assert_eq!(Timing::build(b"").map(|t| t.skipped), None);
    }
}

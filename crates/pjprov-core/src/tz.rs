//! `TZOFFSET` and `DST_*`: the time zone variables res_phoneprov gives each line, computed the way
//! Asterisk's `ast_get_dst_info` does from the system's zone files.
//!
//! Asterisk looks at the two transitions of the zone that bracket "now". When one enters daylight saving
//! time and the other leaves it, DST is on: `TZOFFSET` is the standard (non-DST) offset in seconds and the
//! start and end are the local month, day and hour of those two instants (in the offset that begins at each
//! instant). Otherwise `TZOFFSET` is the zone's offset and there are no `DST_*` variables.
//!
//! The zone is the line's `TIMEZONE` (an Olson name under `/usr/share/zoneinfo`, else a POSIX TZ string such
//! as `EST5EDT,M3.2.0,M11.1.0`), or the host's `/etc/localtime` (Asterisk on Linux does not read `$TZ`). A
//! zone Asterisk cannot load falls back to GMT. Zone data comes from jiff, which reads the same TZif files;
//! for present-day dates it agrees with Asterisk's own tzcode on every zone of the system database.

use std::fmt;

use jiff::Timestamp;
use jiff::tz::TimeZone;

mod rule;

pub use rule::{Change, DstRule, RuleDate, ZoneRule, parse_posix};

/// Where DST starts and ends, in local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DstInfo {
    /// `DST_START_MONTH` (1–12).
    pub start_month: u8,
    /// `DST_START_MDAY`.
    pub start_mday: u8,
    /// `DST_START_HOUR`.
    pub start_hour: u8,
    /// `DST_END_MONTH`.
    pub end_month: u8,
    /// `DST_END_MDAY`.
    pub end_mday: u8,
    /// `DST_END_HOUR`.
    pub end_hour: u8,
}

/// The time zone variables of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TzVars {
    /// `TZOFFSET`: seconds east of UTC (standard time when DST is on).
    pub offset: i32,
    /// `DST_ENABLE=1` and the `DST_*` variables, when DST brackets now.
    pub dst: Option<DstInfo>,
}

impl TzVars {
    /// The variables in the order res_phoneprov sets them: `TZOFFSET`, then, when DST brackets now,
    /// `DST_ENABLE` and the six `DST_*`.
    pub fn variables(&self) -> Vec<(&'static str, i32)> {
        let mut vars = vec![("TZOFFSET", self.offset)];
        if let Some(dst) = &self.dst {
            vars.push(("DST_ENABLE", 1));
            vars.extend(
                [
                    ("DST_START_MONTH", dst.start_month),
                    ("DST_START_MDAY", dst.start_mday),
                    ("DST_START_HOUR", dst.start_hour),
                    ("DST_END_MONTH", dst.end_month),
                    ("DST_END_MDAY", dst.end_mday),
                    ("DST_END_HOUR", dst.end_hour),
                ]
                .map(|(name, value)| (name, i32::from(value))),
            );
        }
        vars
    }
}

/// A zone that cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownZone(pub String);

impl fmt::Display for UnknownZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown time zone '{}': GMT is used", self.0)
    }
}

impl std::error::Error for UnknownZone {}

/// The variables for `zone` (`None` or empty: the host zone) at `now`. An unknown zone gives GMT's
/// variables and the error, as Asterisk silently uses GMT.
pub fn timezone_vars(zone: Option<&str>, now: Timestamp) -> (TzVars, Option<UnknownZone>) {
    match load(zone) {
        Ok(tz) => (vars_for(&tz, now), None),
        Err(error) => (vars_for(&TimeZone::UTC, now), Some(error)),
    }
}

/// The zone `ast_tzset` gives for `zone` (`None` or empty: the host zone): GMT when it cannot be loaded.
/// What `STRFTIME`, `STRPTIME` and `IFTIME` break times down in.
pub(crate) fn zone(zone: Option<&str>) -> TimeZone {
    load(zone).unwrap_or_else(|_| TimeZone::posix("GMT0").unwrap_or(TimeZone::UTC))
}

/// glibc's `tzname[dst]` for the host zone: the abbreviation of the latest standard (or daylight saving)
/// time type in the zone's transitions, the other one when the zone has no such type. Asterisk's
/// `STRFTIME` prints `%Z` with this whatever zone it broke the time down in (its `ast_tm` has no zone
/// name, so glibc falls back to `tzname`).
pub(crate) fn host_tzname(dst: bool) -> String {
    let tz = host_zone();
    // Far enough to cover the explicit transitions of a TZif file; rules repeat after that.
    let far = Timestamp::from_second(2_145_916_800).unwrap_or(Timestamp::UNIX_EPOCH);
    let mut names: [Option<String>; 2] = [None, None];
    for transition in tz.preceding(far).take(64) {
        let slot = &mut names[usize::from(transition.dst().is_dst())];
        if slot.is_none() {
            *slot = Some(transition.abbreviation().to_owned());
        }
        if names.iter().all(Option::is_some) {
            break;
        }
    }
    let [standard, daylight] = names;
    let standard = standard.unwrap_or_else(|| {
        tz.to_offset_info(Timestamp::now())
            .abbreviation()
            .to_owned()
    });
    if dst {
        daylight.unwrap_or(standard)
    } else {
        standard
    }
}

fn load(zone: Option<&str>) -> Result<TimeZone, UnknownZone> {
    let name = zone.unwrap_or("").split('\0').next().unwrap_or("");
    if name.is_empty() {
        return Ok(host_zone());
    }
    let unknown = || UnknownZone(name.to_owned());
    if let Some(file) = name.strip_prefix(':') {
        // A leading ':' names a file only.
        return TimeZone::get(file).map_err(|_| unknown());
    }
    TimeZone::get(name)
        .or_else(|_| TimeZone::posix(name))
        .map_err(|_| unknown())
}

/// The POSIX TZ rule at the end of a zone file (`EST5EDT,M3.2.0,M11.1.0`): the zone's rule from its last
/// listed transition on. `zone` is an Olson name under `/usr/share/zoneinfo`, empty for the host's zone
/// (`/etc/localtime`), or already a POSIX string (returned as it is). Empty when there is none.
pub fn posix_footer(zone: &str) -> String {
    if zone.contains("..") || zone.starts_with('/') {
        return String::new();
    }
    let file = if zone.is_empty() {
        std::path::PathBuf::from("/etc/localtime")
    } else {
        std::path::Path::new("/usr/share/zoneinfo").join(zone)
    };
    let Ok(data) = std::fs::read(file) else {
        // Not a zone name: perhaps already a POSIX string.
        return if parse_posix(zone).is_some() {
            zone.to_owned()
        } else {
            String::new()
        };
    };
    if !data.starts_with(b"TZif") {
        return String::new();
    }
    let text = String::from_utf8_lossy(&data);
    let mut lines = text.trim_end_matches('\n').rsplit('\n');
    let footer = lines.next().unwrap_or_default();
    if footer.is_empty() || footer.contains('\0') || footer.len() > 64 {
        String::new()
    } else {
        footer.to_owned()
    }
}

/// The rule of `zone` (as [`posix_footer`] finds it); `None` for a zone without one, which Asterisk and
/// pjprov treat as GMT.
pub fn zone_rule(zone: &str) -> Option<ZoneRule> {
    parse_posix(&posix_footer(zone))
}

/// `/etc/localtime`, else UTC.
fn host_zone() -> TimeZone {
    std::fs::read("/etc/localtime")
        .ok()
        .and_then(|data| TimeZone::tzif("localtime", &data).ok())
        .unwrap_or(TimeZone::UTC)
}

/// `ast_get_dst_info` over `tz` at `now`.
fn vars_for(tz: &TimeZone, now: Timestamp) -> TzVars {
    // Transitions at or before now, and strictly after now.
    let just_after_now = now
        .checked_add(jiff::SignedDuration::from_nanos(1))
        .unwrap_or(now);
    let previous = tz.preceding(just_after_now).next();
    let next = tz.following(now).next();
    let current = tz.to_offset_info(now);
    if let (Some(previous), Some(next)) = (previous, next) {
        let (previous_dst, next_dst) = (previous.dst().is_dst(), next.dst().is_dst());
        if previous_dst != next_dst {
            let (offset, start, end) = if next_dst {
                (previous.offset(), next.timestamp(), previous.timestamp())
            } else {
                (next.offset(), previous.timestamp(), next.timestamp())
            };
            let (start_month, start_mday, start_hour) = local(tz, start);
            let (end_month, end_mday, end_hour) = local(tz, end);
            return TzVars {
                offset: offset.seconds(),
                dst: Some(DstInfo {
                    start_month,
                    start_mday,
                    start_hour,
                    end_month,
                    end_mday,
                    end_hour,
                }),
            };
        }
    }
    TzVars {
        offset: current.offset().seconds(),
        dst: None,
    }
}

/// Month, day and hour of `at` in `tz`.
fn local(tz: &TimeZone, at: Timestamp) -> (u8, u8, u8) {
    let dt = tz.to_datetime(at);
    (
        u8::try_from(dt.month()).unwrap_or(0),
        u8::try_from(dt.day()).unwrap_or(0),
        u8::try_from(dt.hour()).unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn dst(s: (u8, u8, u8), e: (u8, u8, u8)) -> Option<DstInfo> {
        Some(DstInfo {
            start_month: s.0,
            start_mday: s.1,
            start_hour: s.2,
            end_month: e.0,
            end_mday: e.1,
            end_hour: e.2,
        })
    }

    fn vars(zone: &str, now: &str) -> TzVars {
        let (v, problem) = timezone_vars(Some(zone), at(now));
        assert!(problem.is_none(), "{zone}");
        v
    }

    #[test]
    fn new_york_late_november_like_a_real_asterisk() {
        // The known-good answer of Asterisk 22.10.1 on 2026-11-23 (golden case h13).
        assert_eq!(
            vars("America/New_York", "2026-11-23T12:00:00Z"),
            TzVars {
                offset: -18000,
                dst: dst((3, 14, 3), (11, 1, 1))
            }
        );
    }

    #[test]
    fn new_york_in_summer_brackets_the_current_season() {
        assert_eq!(
            vars("America/New_York", "2026-07-01T00:00:00Z"),
            TzVars {
                offset: -18000,
                dst: dst((3, 8, 3), (11, 1, 1))
            }
        );
    }

    #[test]
    fn the_instant_of_a_transition_counts_as_past() {
        // 2026-11-01 06:00 UTC: New York leaves DST.
        let v = vars("America/New_York", "2026-11-01T06:00:00Z");
        assert_eq!(v.dst, dst((3, 14, 3), (11, 1, 1)));
        let v = vars("America/New_York", "2026-11-01T05:59:59Z");
        assert_eq!(v.dst, dst((3, 8, 3), (11, 1, 1)));
    }

    #[test]
    fn southern_hemisphere() {
        assert_eq!(
            vars("Australia/Sydney", "2026-11-23T00:00:00Z"),
            TzVars {
                offset: 36000,
                dst: dst((10, 4, 3), (4, 4, 2))
            }
        );
    }

    #[test]
    fn zones_without_dst() {
        for (zone, offset) in [
            ("UTC", 0),
            ("Asia/Tokyo", 32400),
            ("Asia/Kolkata", 19800),
            ("America/Sao_Paulo", -10800),
        ] {
            assert_eq!(
                vars(zone, "2026-11-23T00:00:00Z"),
                TzVars { offset, dst: None },
                "{zone}"
            );
        }
    }

    #[test]
    fn sao_paulo_before_it_dropped_dst() {
        let v = vars("America/Sao_Paulo", "2018-12-01T00:00:00Z");
        assert_eq!(v.offset, -10800);
        assert_eq!(v.dst, dst((11, 4, 1), (2, 16, 23)));
    }

    #[test]
    fn posix_strings() {
        assert_eq!(
            vars("EST5EDT,M3.2.0,M11.1.0", "2026-11-23T12:00:00Z"),
            TzVars {
                offset: -18000,
                dst: dst((3, 14, 3), (11, 1, 1))
            }
        );
        assert_eq!(
            vars("<+0530>-5:30", "2026-11-23T12:00:00Z"),
            TzVars {
                offset: 19800,
                dst: None
            }
        );
    }

    #[test]
    fn unknown_zones_fall_back_to_gmt() {
        let (v, problem) = timezone_vars(Some("Mars/Olympus_Mons"), at("2026-11-23T12:00:00Z"));
        assert_eq!(
            v,
            TzVars {
                offset: 0,
                dst: None
            }
        );
        assert_eq!(problem, Some(UnknownZone("Mars/Olympus_Mons".into())));
    }

    /// Every zone of the system database: its rule parses, and for years long after the zone file's
    /// explicit transitions (where the rule alone decides) the changes the rule gives are the ones the
    /// zone has: the rule is right across years, not only for the next two changes.
    #[test]
    fn every_zone_rule_gives_the_zone_transitions_in_later_years() {
        fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                let name = entry.file_name();
                if name == "posix" || name == "right" {
                    continue;
                }
                if path.is_dir() {
                    files(&path, out);
                } else if std::fs::read(&path).is_ok_and(|d| d.starts_with(b"TZif")) {
                    out.push(path);
                }
            }
        }
        let root = std::path::Path::new("/usr/share/zoneinfo");
        let mut all = Vec::new();
        files(root, &mut all);
        assert!(
            all.len() > 300,
            "the system time zone database is needed ({})",
            all.len()
        );
        let mut with_dst = 0;
        for path in all {
            let name = path
                .strip_prefix(root)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            let footer = posix_footer(&name);
            if footer.is_empty() {
                continue;
            }
            let rule = parse_posix(&footer).unwrap_or_else(|| panic!("{name}: {footer}"));
            let tz = TimeZone::get(&name).unwrap();
            // Zone files list explicit changes up to 2087 (Gaza, Casablanca); later years follow the rule.
            for year in [2091_i16, 2092, 2097, 2100] {
                let midnight = |y: i16| {
                    let day = jiff::civil::date(y, 1, 1).to_datetime(jiff::civil::Time::midnight());
                    jiff::tz::Offset::UTC.to_timestamp(day).unwrap()
                };
                let (from, to) = (midnight(year), midnight(year + 1));
                let mut actual: Vec<Timestamp> = tz
                    .following(from)
                    .take_while(|t| t.timestamp() < to)
                    // Only real changes of the clock (a zone file may list a transition to the same
                    // offset, such as the 32-bit data's last second of 2038-01-19).
                    .filter(|t| {
                        let before = t.timestamp() - jiff::SignedDuration::from_secs(1);
                        tz.to_offset(before) != t.offset()
                    })
                    .map(|t| t.timestamp())
                    .collect();
                actual.sort();
                let mut expected: Vec<Timestamp> = match rule.dst {
                    None => Vec::new(),
                    Some(dst) => [(dst.start, rule.offset), (dst.end, rule.offset + dst.save)]
                        .into_iter()
                        .map(|(change, before)| instant(change, year, before))
                        .collect(),
                };
                expected.sort();
                assert_eq!(expected, actual, "{name} ({footer}) in {year}");
            }
            if rule.dst.is_some() {
                with_dst += 1;
            }
        }
        assert!(with_dst > 50, "{with_dst}");
    }

    /// When `change` happens in `year`, the clock reading `before` seconds east of UTC until then.
    fn instant(change: Change, year: i16, before: i32) -> Timestamp {
        let day = match change.date {
            RuleDate::Weekday {
                month,
                week,
                weekday,
            } => {
                let first = jiff::civil::date(year, month as i8, 1);
                let first_weekday = first.weekday().to_sunday_zero_offset();
                let mut day = 1
                    + (i32::from(weekday) - i32::from(first_weekday)).rem_euclid(7)
                    + 7 * (i32::from(week) - 1);
                if day > i32::from(first.days_in_month()) {
                    day -= 7;
                }
                jiff::civil::date(year, month as i8, day as i8)
            }
            RuleDate::Julian(n) => {
                // Day n of a 365-day year: February 29 is skipped.
                let base = jiff::civil::date(year, 1, 1);
                let mut date = base + jiff::Span::new().days(i64::from(n) - 1);
                if base.in_leap_year() && date >= jiff::civil::date(year, 2, 29) {
                    date = date.tomorrow().unwrap();
                }
                date
            }
            RuleDate::Day(n) => {
                jiff::civil::date(year, 1, 1) + jiff::Span::new().days(i64::from(n))
            }
        };
        let local = day.to_datetime(jiff::civil::Time::midnight())
            + jiff::SignedDuration::from_secs(i64::from(change.time));
        let offset = jiff::tz::Offset::from_seconds(before).unwrap();
        offset.to_timestamp(local).unwrap()
    }
}

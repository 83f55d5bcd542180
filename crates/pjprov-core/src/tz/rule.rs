//! A zone's daylight saving time as a *rule* ("last Sunday of March at 02:00"), which a phone applies by
//! itself every year, rather than as the dates of the next two changes, which are right until next year.
//!
//! The rule is the POSIX TZ string at the end of the zone's file (`CET-1CEST,M3.5.0,M10.5.0/3`): the
//! same rule the system itself applies after the last explicit transition. Phones want it in their own
//! syntax (weekday scale, "last" week, hour before the change); [`ZoneRule`] holds it in a neutral form
//! that the templates turn into each vendor's syntax.
//!
//! Two things are normalised so that every vendor can take the result as it is:
//! - a negative daylight saving amount (Europe/Dublin: standard time is IST and "daylight" time is GMT,
//!   one hour *behind*, in winter) becomes GMT as standard time with one hour of summer time, which is
//!   what every phone expects and shows the same clock;
//! - a change whose time is outside the day (Israel `M3.4.4/26`: 02:00 on the day after the fourth
//!   Thursday; Greenland `M3.5.0/-1`: 23:00 on the Saturday before the last Sunday) is kept as it is,
//!   and [`Change::weekday_form`] says that it cannot be written as "week, weekday, hour"; templates then
//!   write the next change by its date, or the "weekday on or after a day" form where the phone has one
//!   ([`Change::on_or_after`]).

/// A zone's current rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZoneRule {
    /// Standard time, in seconds east of UTC (`3600` for Paris, `-18000` for New York, `19800` for India).
    pub offset: i32,
    /// Daylight saving time, when the zone has it.
    pub dst: Option<DstRule>,
}

/// When daylight saving time starts and ends, and by how much it moves the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DstRule {
    /// Seconds added to standard time (positive: a negative amount is normalised away).
    pub save: i32,
    /// The change into daylight saving time; its time is standard (winter) time.
    pub start: Change,
    /// The change back to standard time; its time is daylight saving (summer) time.
    pub end: Change,
}

/// One change of the clock, as POSIX writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// Which day.
    pub date: RuleDate,
    /// Seconds after the local midnight of that day, on the clock as it reads before the change. POSIX
    /// allows from -167 to 167 hours, so this may fall on another day.
    pub time: i32,
}

/// The day of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleDate {
    /// `Mm.w.d`: weekday `weekday` (0 = Sunday) of week `week` (1–4, or 5 = the last) of month `month`.
    Weekday {
        /// 1–12.
        month: u8,
        /// 1–5; 5 is the last such weekday of the month.
        week: u8,
        /// 0 = Sunday … 6 = Saturday.
        weekday: u8,
    },
    /// `Jn`: day 1–365 of the year, February 29 never counted.
    Julian(u16),
    /// `n`: day 0–365 of the year, February 29 counted.
    Day(u16),
}

impl Change {
    /// Whether the change is exactly "weekday `d` of week `w` of month `m` at `hh:mm:ss`" with a time of
    /// day inside the day: the form every phone has.
    pub fn weekday_form(&self) -> bool {
        matches!(self.date, RuleDate::Weekday { .. }) && (0..86_400).contains(&self.time)
    }

    /// The same change as "weekday `weekday` on or after day `day` of `month`, at `time`" (a form Cisco
    /// has), also when the time falls on another day: `(month, day, weekday, time of day)`. `None` for the
    /// last week (which has no fixed first day) and for changes that leave the month.
    pub fn on_or_after(&self) -> Option<(u8, u8, u8, i32)> {
        let RuleDate::Weekday {
            month,
            week,
            weekday,
        } = self.date
        else {
            return None;
        };
        if week >= 5 {
            return None;
        }
        let shift = self.time.div_euclid(86_400);
        let day = i32::from(week - 1) * 7 + 1 + shift;
        // Day 28 is the last one every month has, so the change stays inside the month.
        if !(1..=28).contains(&day) {
            return None;
        }
        let weekday = (i32::from(weekday) + shift).rem_euclid(7);
        Some((
            month,
            u8::try_from(day).ok()?,
            u8::try_from(weekday).ok()?,
            self.time.rem_euclid(86_400),
        ))
    }
}

/// Reads a POSIX TZ string (`EST5EDT,M3.2.0,M11.1.0`, `<+0530>-5:30`, `IST-1GMT0,M10.5.0,M3.5.0/1`).
/// `None` when it is not one.
pub fn parse_posix(text: &str) -> Option<ZoneRule> {
    let mut cursor = Cursor {
        rest: text.as_bytes(),
    };
    cursor.name()?;
    // POSIX offsets count west of UTC: "EST5" is five hours behind.
    let standard = -cursor.offset()?;
    if cursor.rest.is_empty() {
        return Some(ZoneRule {
            offset: standard,
            dst: None,
        });
    }
    cursor.name()?;
    let daylight = match cursor.rest.first() {
        Some(b',') | None => standard + 3600,
        Some(_) => -cursor.offset()?,
    };
    // Without a rule POSIX leaves the dates to the implementation; glibc and tzcode use the US rules.
    let (start, end) = if cursor.rest.is_empty() {
        (
            Change {
                date: RuleDate::Weekday {
                    month: 3,
                    week: 2,
                    weekday: 0,
                },
                time: 7200,
            },
            Change {
                date: RuleDate::Weekday {
                    month: 11,
                    week: 1,
                    weekday: 0,
                },
                time: 7200,
            },
        )
    } else {
        cursor.literal(b',')?;
        let start = cursor.change()?;
        cursor.literal(b',')?;
        let end = cursor.change()?;
        (start, end)
    };
    if !cursor.rest.is_empty() {
        return None;
    }
    let save = daylight - standard;
    let rule = match save {
        0 => ZoneRule {
            offset: standard,
            dst: None,
        },
        // "Daylight" time behind standard time (Europe/Dublin): the winter clock is the standard one.
        // The old end (given on the daylight clock, now standard) starts summer time; the old start (given
        // on the old standard clock, now summer time) ends it.
        save if save < 0 => ZoneRule {
            offset: daylight,
            dst: Some(DstRule {
                save: -save,
                start: end,
                end: start,
            }),
        },
        save => ZoneRule {
            offset: standard,
            dst: Some(DstRule { save, start, end }),
        },
    };
    Some(rule)
}

/// A parser over the bytes of a TZ string.
struct Cursor<'a> {
    rest: &'a [u8],
}

impl Cursor<'_> {
    fn literal(&mut self, byte: u8) -> Option<()> {
        let (&first, rest) = self.rest.split_first()?;
        (first == byte).then(|| self.rest = rest)
    }

    /// A zone abbreviation: three or more letters, or anything but `>` between `<` and `>`.
    fn name(&mut self) -> Option<()> {
        if self.literal(b'<').is_some() {
            let end = self.rest.iter().position(|&b| b == b'>')?;
            if end < 3 {
                return None;
            }
            self.rest = &self.rest[end + 1..];
        } else {
            let end = self
                .rest
                .iter()
                .position(|b| !b.is_ascii_alphabetic())
                .unwrap_or(self.rest.len());
            if end < 3 {
                return None;
            }
            self.rest = &self.rest[end..];
        }
        Some(())
    }

    /// `[+-]hh[:mm[:ss]]` in seconds, hours up to `max_hours`.
    fn signed_time(&mut self, max_hours: i32) -> Option<i32> {
        let sign = match self.rest.first() {
            Some(b'-') => {
                self.rest = &self.rest[1..];
                -1
            }
            Some(b'+') => {
                self.rest = &self.rest[1..];
                1
            }
            _ => 1,
        };
        let hours = self.number(3)?;
        if hours > max_hours {
            return None;
        }
        let mut seconds = hours * 3600;
        for unit in [60, 1] {
            if self.literal(b':').is_none() {
                break;
            }
            let part = self.number(2)?;
            if part > 59 {
                return None;
            }
            seconds += part * unit;
        }
        Some(sign * seconds)
    }

    fn offset(&mut self) -> Option<i32> {
        self.signed_time(24)
    }

    /// Up to `digits` decimal digits (at least one).
    fn number(&mut self, digits: usize) -> Option<i32> {
        let end = self
            .rest
            .iter()
            .take(digits)
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(digits.min(self.rest.len()));
        if end == 0 {
            return None;
        }
        let value = std::str::from_utf8(&self.rest[..end]).ok()?.parse().ok()?;
        self.rest = &self.rest[end..];
        Some(value)
    }

    /// `date[/time]`, the time 02:00 when it is not given.
    fn change(&mut self) -> Option<Change> {
        let date = match self.rest.first()? {
            b'M' => {
                self.rest = &self.rest[1..];
                let month = self.number(2)?;
                self.literal(b'.')?;
                let week = self.number(1)?;
                self.literal(b'.')?;
                let weekday = self.number(1)?;
                if !(1..=12).contains(&month) || !(1..=5).contains(&week) || weekday > 6 {
                    return None;
                }
                RuleDate::Weekday {
                    month: u8::try_from(month).ok()?,
                    week: u8::try_from(week).ok()?,
                    weekday: u8::try_from(weekday).ok()?,
                }
            }
            b'J' => {
                self.rest = &self.rest[1..];
                let day = self.number(3)?;
                if !(1..=365).contains(&day) {
                    return None;
                }
                RuleDate::Julian(u16::try_from(day).ok()?)
            }
            _ => {
                let day = self.number(3)?;
                if day > 365 {
                    return None;
                }
                RuleDate::Day(u16::try_from(day).ok()?)
            }
        };
        let time = if self.literal(b'/').is_some() {
            self.signed_time(167)?
        } else {
            7200
        };
        Some(Change { date, time })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weekday(month: u8, week: u8, weekday: u8, time: i32) -> Change {
        Change {
            date: RuleDate::Weekday {
                month,
                week,
                weekday,
            },
            time,
        }
    }

    #[test]
    fn europe_and_north_america() {
        assert_eq!(
            parse_posix("CET-1CEST,M3.5.0,M10.5.0/3"),
            Some(ZoneRule {
                offset: 3600,
                dst: Some(DstRule {
                    save: 3600,
                    start: weekday(3, 5, 0, 7200),
                    end: weekday(10, 5, 0, 10800),
                }),
            })
        );
        assert_eq!(
            parse_posix("EST5EDT,M3.2.0,M11.1.0"),
            Some(ZoneRule {
                offset: -18000,
                dst: Some(DstRule {
                    save: 3600,
                    start: weekday(3, 2, 0, 7200),
                    end: weekday(11, 1, 0, 7200),
                }),
            })
        );
    }

    #[test]
    fn fractional_offsets_and_quoted_names() {
        assert_eq!(parse_posix("IST-5:30").unwrap().offset, 19800);
        assert_eq!(parse_posix("<+0545>-5:45").unwrap().offset, 20700);
        assert_eq!(
            parse_posix("NST3:30NDT,M3.2.0,M11.1.0").unwrap().offset,
            -12600
        );
        let chatham = parse_posix("<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45").unwrap();
        assert_eq!(chatham.offset, 45900);
        assert_eq!(chatham.dst.unwrap().start.time, 2 * 3600 + 45 * 60);
        let lord_howe = parse_posix("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0").unwrap();
        assert_eq!(lord_howe.dst.unwrap().save, 1800);
    }

    #[test]
    fn dublin_has_gmt_in_winter_and_summer_time_from_march() {
        assert_eq!(
            parse_posix("IST-1GMT0,M10.5.0,M3.5.0/1"),
            Some(ZoneRule {
                offset: 0,
                dst: Some(DstRule {
                    save: 3600,
                    start: weekday(3, 5, 0, 3600),
                    end: weekday(10, 5, 0, 7200),
                }),
            })
        );
    }

    #[test]
    fn changes_outside_the_day() {
        // Israel: 02:00 on the day after the fourth Thursday of March.
        let israel = parse_posix("IST-2IDT,M3.4.4/26,M10.5.0")
            .unwrap()
            .dst
            .unwrap();
        assert!(!israel.start.weekday_form());
        assert_eq!(israel.start.on_or_after(), Some((3, 23, 5, 7200)));
        assert!(israel.end.weekday_form());
        // Chile: midnight after the first Saturday of September = the Sunday on or after the 2nd.
        let chile = parse_posix("<-04>4<-03>,M9.1.6/24,M4.1.6/24")
            .unwrap()
            .dst
            .unwrap();
        assert_eq!(chile.start.on_or_after(), Some((9, 2, 0, 0)));
        // Greenland: 23:00 on the Saturday before the last Sunday; no first day for a "last" week.
        let nuuk = parse_posix("<-02>2<-01>,M3.5.0/-1,M10.5.0/0")
            .unwrap()
            .dst
            .unwrap();
        assert!(!nuuk.start.weekday_form());
        assert_eq!(nuuk.start.on_or_after(), None);
        assert!(nuuk.end.weekday_form());
        // A plain rule has the on-or-after form too: the second Sunday is the Sunday on or after the 8th.
        let us = parse_posix("EST5EDT,M3.2.0,M11.1.0").unwrap().dst.unwrap();
        assert_eq!(us.start.on_or_after(), Some((3, 8, 0, 7200)));
    }

    #[test]
    fn other_forms() {
        assert_eq!(
            parse_posix("EST5EDT"),
            parse_posix("EST5EDT,M3.2.0/2,M11.1.0/2")
        );
        let julian = parse_posix("XXX3YYY,J60/0,300/25").unwrap().dst.unwrap();
        assert_eq!(julian.start.date, RuleDate::Julian(60));
        assert_eq!(julian.end.date, RuleDate::Day(300));
        assert!(!julian.start.weekday_form());
        assert_eq!(julian.start.on_or_after(), None);
        assert_eq!(
            parse_posix("UTC0").unwrap(),
            ZoneRule {
                offset: 0,
                dst: None
            }
        );
        assert_eq!(
            parse_posix("<-03>3").unwrap(),
            ZoneRule {
                offset: -10800,
                dst: None
            }
        );
    }

    #[test]
    fn not_rules() {
        for text in [
            "",
            "Europe/Paris",
            "EST",
            "ES5",
            "EST5EDT,M13.1.0,M11.1.0",
            "EST5EDT,M3.6.0,M11.1.0",
            "EST5EDT,M3.2.7,M11.1.0",
            "EST5EDT,M3.2.0",
            "EST5EDT,M3.2.0,M11.1.0,",
            "EST25",
            "EST5EDT,M3.2.0/168,M11.1.0",
            "<+05",
            "EST5:60",
        ] {
            assert_eq!(parse_posix(text), None, "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_safe(text in "[A-Z<>+0-9:,./MJ-]{0,40}") {
            let _ = parse_posix(&text);
        }
    }
}

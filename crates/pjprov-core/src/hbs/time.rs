//! Time zone helpers: the zone's rule as an object templates write in each vendor's syntax, and the
//! offset notations phones use.
//!
//! `{{#with (tz_rule TIMEZONE)}}` gives (a missing `TIMEZONE` is the host's zone, as for Asterisk's
//! `TZOFFSET`; a zone without a rule is GMT, as Asterisk takes it):
//!
//! | field | meaning |
//! |---|---|
//! | `known` | the zone has a rule |
//! | `offset` | standard time, seconds east of UTC |
//! | `dst` | the zone has daylight saving time |
//! | `save`, `save_minutes` | how far it moves the clock |
//! | `weekday_rule` | both changes are "week, weekday, hour" ([`crate::tz::Change::weekday_form`]) |
//! | `start`, `end` | the changes (below); `start` is on the winter clock, `end` on the summer clock |
//! | `posix` | the POSIX rule itself (Grandstream takes it as it is) |
//!
//! Every field is always present (zero when it means nothing), so templates can test them in strict
//! mode; `dst` and `weekday_rule` say which ones mean something.
//!
//! Each change: `exact` (this change is "week, weekday, hour"; when it is not, the weekday and hour are
//! those of the day the change falls on), `month` (1–12), `week` (1–5), `last` (week 5 = the last), `first_day` (1, 8, 15, 22 or
//! 29: the first day the weekday can fall on), `weekday` (0 = Sunday), `weekday_iso` (1 = Monday …
//! 7 = Sunday), `weekday_sun1` (1 = Sunday … 7 = Saturday), `hour`, `minute`, `second`, and `after`: the
//! same change as "`weekday_iso` on or after `day` of `month` at `hour`:`minute`:`second`" when it has
//! that form (also for changes that fall on the next day, such as Chile's), else `null`.

use serde_json::{Value, json};

use crate::tz::{Change, RuleDate};

fn iso(weekday: u8) -> u8 {
    if weekday == 0 { 7 } else { weekday }
}

fn change_json(change: &Change) -> Value {
    let after = change.on_or_after().map(|(month, day, weekday, time)| {
        json!({
            "month": month,
            "day": day,
            "weekday_iso": iso(weekday),
            "hour": time / 3600,
            "minute": time / 60 % 60,
            "second": time % 60,
        })
    });
    // Every field is always there (zero for the forms that have none), so that a template's tests of
    // them stay quiet in strict mode; `weekday_rule` says whether they mean anything.
    let (month, week, weekday) = match change.date {
        RuleDate::Weekday {
            month,
            week,
            weekday,
        } => (month, week, weekday),
        RuleDate::Julian(_) | RuleDate::Day(_) => (0, 0, 0),
    };
    // A change outside the day (`M3.4.4/26`) is described on the day it happens: the weekday moves
    // with the time (`exact` says the week then no longer means "the Nth such weekday").
    let shift = change.time.div_euclid(86_400);
    let weekday = u8::try_from((i32::from(weekday) + shift).rem_euclid(7)).unwrap_or(0);
    let time = change.time.rem_euclid(86_400);
    json!({
        "exact": change.weekday_form(),
        "month": month,
        "week": week,
        "last": week == 5,
        "first_day": (u32::from(week.max(1)) - 1) * 7 + 1,
        "weekday": weekday,
        "weekday_iso": iso(weekday),
        "weekday_sun1": weekday + 1,
        "hour": time / 3600,
        "minute": time / 60 % 60,
        "second": time % 60,
        "after": after,
    })
}

/// A change that never happens (zone without daylight saving time): every field present, all zero.
fn no_change() -> Value {
    change_json(&Change {
        date: RuleDate::Day(0),
        time: 0,
    })
}

/// The object `tz_rule` gives for `zone` (see the module documentation).
pub fn rule_json(zone: &str) -> Value {
    let footer = crate::tz::posix_footer(zone);
    let Some(rule) = crate::tz::parse_posix(&footer) else {
        return json!({
            "known": false,
            "posix": "",
            "offset": 0,
            "dst": false,
            "save": 0,
            "save_minutes": 0,
            "weekday_rule": false,
            "start": no_change(),
            "end": no_change(),
        });
    };
    match rule.dst {
        None => json!({
            "known": true,
            "posix": footer,
            "offset": rule.offset,
            "dst": false,
            "save": 0,
            "save_minutes": 0,
            "weekday_rule": false,
            "start": no_change(),
            "end": no_change(),
        }),
        Some(dst) => json!({
            "known": true,
            "posix": footer,
            "offset": rule.offset,
            "dst": true,
            "save": dst.save,
            "save_minutes": dst.save / 60,
            "weekday_rule": dst.start.weekday_form() && dst.end.weekday_form(),
            "start": change_json(&dst.start),
            "end": change_json(&dst.end),
        }),
    }
}

/// Seconds east of UTC as signed hours with minutes when there are any: `+1`, `-5`, `+5:30`, `-3:30`,
/// `+12:45`, and `0` for UTC (Yealink's `local_time.time_zone` notation).
pub fn hours_minutes(seconds: i64) -> String {
    if seconds == 0 {
        return "0".into();
    }
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.abs() / 60;
    match minutes % 60 {
        0 => format!("{sign}{}", minutes / 60),
        rest => format!("{sign}{}:{rest:02}", minutes / 60),
    }
}

/// `value` left-padded with zeros to `width` characters (`3` → `03`).
pub fn pad(value: &str, width: usize) -> String {
    format!("{value:0>width$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets() {
        assert_eq!(hours_minutes(3600), "+1");
        assert_eq!(hours_minutes(-18000), "-5");
        assert_eq!(hours_minutes(19800), "+5:30");
        assert_eq!(hours_minutes(20700), "+5:45");
        assert_eq!(hours_minutes(-12600), "-3:30");
        assert_eq!(hours_minutes(45900), "+12:45");
        assert_eq!(hours_minutes(0), "0");
        assert_eq!(pad("3", 2), "03");
        assert_eq!(pad("10", 2), "10");
    }

    #[test]
    fn rules_as_templates_see_them() {
        let paris = rule_json("Europe/Paris");
        assert_eq!(paris["offset"], 3600);
        assert_eq!(paris["weekday_rule"], true);
        assert_eq!(paris["start"]["month"], 3);
        assert_eq!(paris["start"]["last"], true);
        assert_eq!(paris["start"]["weekday_iso"], 7);
        assert_eq!(paris["start"]["weekday_sun1"], 1);
        assert_eq!(paris["start"]["hour"], 2);
        assert_eq!(paris["end"]["hour"], 3);
        assert_eq!(paris["start"]["after"], Value::Null);
        let new_york = rule_json("America/New_York");
        assert_eq!(new_york["start"]["week"], 2);
        assert_eq!(new_york["start"]["first_day"], 8);
        assert_eq!(new_york["start"]["after"]["day"], 8);
        let kolkata = rule_json("Asia/Kolkata");
        assert_eq!(kolkata["offset"], 19800);
        assert_eq!(kolkata["dst"], false);
        let dublin = rule_json("Europe/Dublin");
        assert_eq!(dublin["offset"], 0);
        assert_eq!(dublin["start"]["month"], 3);
        assert_eq!(dublin["start"]["hour"], 1);
        let israel = rule_json("Asia/Jerusalem");
        assert_eq!(israel["weekday_rule"], false);
        assert_eq!(israel["start"]["after"]["day"], 23);
        assert_eq!(israel["start"]["after"]["weekday_iso"], 5);
        assert_eq!(israel["end"]["last"], true);
        let nowhere = rule_json("Mars/Olympus_Mons");
        assert_eq!(nowhere["known"], false);
        assert_eq!(nowhere["offset"], 0);
    }
}

//! When an EventBridge Scheduler schedule fires next, in its time zone.
//!
//! Scheduler's expressions are `cron(minutes hours day-of-month month day-of-week year)`,
//! `rate(value unit)` and `at(yyyy-mm-ddThh:mm:ss)`, evaluated in the schedule's IANA time zone.
//! Its cron is Quartz's without the seconds: day-of-week 1-7 is SUN-SAT, `?` stands for "any" in
//! one of the two day fields, `L`, `W` and `#` work as in Quartz, and a step may start from a
//! number (`0/15`). The `croner` crate evaluates it, given a `0` for the seconds, in its Quartz
//! weekday mode with the year field and such steps allowed. What croner cannot read is an error
//! that quotes the expression and croner's reason. A `rate` has no fixed next time without the
//! schedule's start, so it is reported as such. Pure: no IO, the time is given.

use std::str::FromStr;

use anyhow::Context;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds, Year};

/// When a schedule fires next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NextFire {
    /// At this time, in the schedule's time zone.
    At(DateTime<Tz>),
    /// Never again: an `at(...)` in the past, or a cron whose years are over.
    Never,
    /// `rate(...)`: every so often from when the schedule was created or last changed.
    Rate(String),
}

/// The first time after `after` that `expression` fires in `time_zone`.
pub(crate) fn next_fire(expression: &str, time_zone: &str, after: DateTime<Utc>) -> anyhow::Result<NextFire> {
    let zone = Tz::from_str(time_zone).map_err(|_| anyhow::format_err!("unknown time zone {time_zone:?}"))?;
    let after = after.with_timezone(&zone);
    let expression = expression.trim();
    if let Some(fields) = inner(expression, "cron") {
        let parts: Vec<&str> = fields.split_whitespace().collect();
        if parts.len() != 6 {
            anyhow::bail!(
                "the schedule {expression} has {} fields; Scheduler's cron has 6: \
                 minutes hours day-of-month month day-of-week year",
                parts.len()
            );
        }
        let pattern = format!("0 {}", parts.join(" "));
        let cron = CronParser::builder()
            .seconds(Seconds::Required)
            .year(Year::Required)
            .alternative_weekdays(true)
            // Scheduler's own examples step from a number: `cron(0/15 * * * ? *)`.
            .sloppy_ranges(true)
            .build()
            .parse(&pattern)
            .map_err(|err| anyhow::format_err!("the schedule {expression} cannot be evaluated here: {err}"))?;
        return match cron.find_next_occurrence(&after, false) {
            Ok(next) => Ok(NextFire::At(next)),
            // croner searches up to its last year; a cron of past years has no next time.
            Err(croner::errors::CronError::TimeSearchLimitExceeded) => Ok(NextFire::Never),
            Err(err) => Err(anyhow::format_err!("the schedule {expression}: no next fire time: {err}")),
        };
    }
    if let Some(time) = inner(expression, "at") {
        let local = NaiveDateTime::parse_from_str(time.trim(), "%Y-%m-%dT%H:%M:%S")
            .with_context(|| format!("the schedule {expression} is not at(yyyy-mm-ddThh:mm:ss)"))?;
        let at = zone
            .from_local_datetime(&local)
            .earliest()
            .with_context(|| format!("the schedule {expression}: that time does not exist in {time_zone}"))?;
        return Ok(if at > after { NextFire::At(at) } else { NextFire::Never });
    }
    if let Some(rate) = inner(expression, "rate") {
        return Ok(NextFire::Rate(rate.trim().to_owned()));
    }
    anyhow::bail!("the schedule {expression:?} is not cron(...), rate(...) or at(...)")
}

/// `name(inner)` -> `inner`.
fn inner<'a>(expression: &'a str, name: &str) -> Option<&'a str> {
    expression.strip_prefix(name)?.trim_start().strip_prefix('(')?.strip_suffix(')')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(expression: &str, time_zone: &str, after: &str, expected: &str) {
        let after = DateTime::parse_from_rfc3339(after).unwrap().with_timezone(&Utc);
        let got = match next_fire(expression, time_zone, after) {
            Ok(NextFire::At(it)) => it.to_rfc3339(),
            Ok(other) => format!("{other:?}"),
            Err(err) => format!("error: {err:#}"),
        };
        assert_eq!(got, expected, "{expression} in {time_zone} after {after}");
    }

    #[test]
    fn the_stages_schedule_fires_on_weekdays_after_the_close_in_shanghai() {
        let weekdays = "cron(0 18 ? * MON-FRI *)";
        // Friday 2026-12-04 18:30 in Shanghai (10:30 UTC): the next run is Monday's.
        check(weekdays, "Asia/Shanghai", "2026-12-04T10:30:00Z", "2026-12-07T18:00:00+08:00");
        // Monday 17:59:59 in Shanghai: a second later.
        check(weekdays, "Asia/Shanghai", "2026-12-07T09:59:59Z", "2026-12-07T18:00:00+08:00");
        // Exactly at the fire time: the next one, Tuesday's.
        check(weekdays, "Asia/Shanghai", "2026-12-07T10:00:00Z", "2026-12-08T18:00:00+08:00");
        // Scheduler's day-of-week numbers: 1 is Sunday, so 2-6 is Monday to Friday.
        check("cron(0 18 ? * 2-6 *)", "Asia/Shanghai", "2026-12-04T10:30:00Z", "2026-12-07T18:00:00+08:00");
    }

    #[test]
    fn the_time_zone_decides_the_instant_daylight_saving_included() {
        let nine = "cron(0 9 * * ? *)";
        check(nine, "UTC", "2026-03-07T00:00:00Z", "2026-03-07T09:00:00+00:00");
        // New York: 09:00 is 14:00 UTC before the switch to summer time on 2026-03-08, 13:00 after.
        check(nine, "America/New_York", "2026-03-07T00:00:00Z", "2026-03-07T09:00:00-05:00");
        check(nine, "America/New_York", "2026-03-08T15:00:00Z", "2026-03-09T09:00:00-04:00");
        check(nine, "Asia/Shanghai", "2026-03-08T15:00:00Z", "2026-03-09T09:00:00+08:00");
    }

    #[test]
    fn last_nth_weekday_closest_weekday_and_years_are_understood() {
        let after = "2026-12-07T00:00:00Z";
        check("cron(0 12 L * ? *)", "Asia/Shanghai", after, "2026-12-31T12:00:00+08:00");
        // 6#3: the third Friday (6 is Friday when 1 is Sunday).
        check("cron(0 10 ? * 6#3 *)", "Asia/Shanghai", after, "2026-12-18T10:00:00+08:00");
        // December's 16th has passed; 2027-01-16 is a Saturday, so the closest weekday is Friday the 15th.
        check("cron(0 10 16W * ? *)", "Asia/Shanghai", "2026-12-17T00:00:00Z", "2027-01-15T10:00:00+08:00");
        check("cron(15 10 1 1 ? 2027)", "Asia/Shanghai", after, "2027-01-01T10:15:00+08:00");
        // 6L: the last Friday; LW: the last weekday of the month; 2#1: the first Monday.
        check("cron(0 10 ? * 6L *)", "Asia/Shanghai", after, "2026-12-25T10:00:00+08:00");
        check("cron(0 10 LW * ? *)", "Asia/Shanghai", after, "2026-12-31T10:00:00+08:00");
        check("cron(0 10 ? * 2#1 *)", "Asia/Shanghai", after, "2026-12-07T10:00:00+08:00");
        // Every 15 minutes of the 10 o'clock hour, from 10:00, on weekdays.
        check("cron(0/15 10 ? * MON-FRI *)", "Asia/Shanghai", "2026-12-07T02:05:00Z", "2026-12-07T10:15:00+08:00");
        check("cron(0 10 1 1 ? 2020)", "Asia/Shanghai", after, "Never");
    }

    #[test]
    fn at_and_rate_schedules_and_bad_expressions_are_said_in_words() {
        check("at(2026-12-24T09:00:00)", "Asia/Shanghai", "2026-12-07T00:00:00Z", "2026-12-24T09:00:00+08:00");
        check("at(2026-01-01T09:00:00)", "Asia/Shanghai", "2026-12-07T00:00:00Z", "Never");
        check("rate(1 day)", "Asia/Shanghai", "2026-12-07T00:00:00Z", "Rate(\"1 day\")");
        check(
            "cron(0 18 ? * MON-FRI)",
            "Asia/Shanghai",
            "2026-12-07T00:00:00Z",
            "error: the schedule cron(0 18 ? * MON-FRI) has 5 fields; Scheduler's cron has 6: \
             minutes hours day-of-month month day-of-week year",
        );
        check(
            "0 18 * * *",
            "Asia/Shanghai",
            "2026-12-07T00:00:00Z",
            "error: the schedule \"0 18 * * *\" is not cron(...), rate(...) or at(...)",
        );
        check(
            "cron(0 18 ? * MON-FRI *)",
            "Asia/Beijing",
            "2026-12-07T00:00:00Z",
            "error: unknown time zone \"Asia/Beijing\"",
        );
        let bad = next_fire("cron(0 25 ? * MON-FRI *)", "Asia/Shanghai", Utc::now()).unwrap_err().to_string();
        assert!(bad.starts_with("the schedule cron(0 25 ? * MON-FRI *) cannot be evaluated here: "), "{bad}");
    }
}

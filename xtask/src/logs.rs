//! `cargo xtask logs [job|web|subscribe|api] [--since 1h|2d|YYYYMMDD] [--follow] [--filter TEXT]`:
//! the log events of a stage's parts, oldest first, with local timestamps.
//!
//! The log groups are the physical ids of the app stack's log group resources (logical ids in
//! `stacks::parts::app::ids`), so no name is computed here. Events come from CloudWatch Logs
//! `FilterLogEvents`, every page; with no part, every group's events are interleaved by time and
//! prefixed by the part. `--follow` asks again every two seconds until Ctrl-C, from a little
//! before the newest event seen (CloudWatch may store an event later than its timestamp) and
//! prints each event id once ([`Tail`]). Lines are made readable by `line::render`.
//!
//! Uses the stage, the AWS configuration and the CloudFormation reads of the crate; `line` is pure
//! (and `status` uses it too).

pub(crate) mod line;

use std::collections::HashMap;

use anyhow::Context;
use chrono::{DateTime, Local, TimeZone, Utc};
use stacks::{Part, parts::app::ids};
use xshell::Shell;

use crate::{
    aws::{Aws, AwsContext},
    cloudformation,
    deploy::runtime,
    flags::{self, LogPart},
    stage::Stage,
};

/// How long `--follow` waits between two reads.
const POLL: std::time::Duration = std::time::Duration::from_secs(2);
/// How far before the newest event seen `--follow` reads again, for events stored late.
const LATE_MILLIS: i64 = 30_000;

impl flags::Logs {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let stage = Stage::resolve(sh, &self.aws, false)?;
        let since = parse_since(&self.since, Local::now())?;
        let pattern = self.filter.as_deref().map(filter_pattern).transpose()?;
        let parts: Vec<LogPart> = match self.part {
            Some(part) => vec![part],
            None => LogPart::ALL.to_vec(),
        };
        runtime()?.block_on(async {
            let aws = Aws::load(&self.aws, stage.region(&self.aws).as_deref()).await?;
            let groups = log_groups(&aws, &stage, &parts).await?;
            let client = aws.logs();
            let prefixed = parts.len() > 1;
            let mut tail = Tail::new(since.timestamp_millis());
            let mut missing_said = Vec::new();
            let mut printed = 0;
            loop {
                let mut events = Vec::new();
                for (part, group) in &groups {
                    match fetch(&client, *part, group, tail.from(), pattern.as_deref()).await? {
                        Some(found) => events.extend(found),
                        None if !missing_said.contains(part) => {
                            eprintln!("{}: the log group {group} does not exist (yet): nothing logged", part.name());
                            missing_said.push(*part);
                        }
                        None => {}
                    }
                }
                for event in tail.take_new(events) {
                    println!("{}", event.render(prefixed));
                    printed += 1;
                }
                if !self.follow {
                    break;
                }
                tokio::time::sleep(POLL).await;
            }
            if printed == 0 {
                let filtered = match &self.filter {
                    Some(text) => format!(" matching {text:?}"),
                    None => String::new(),
                };
                let since = since.with_timezone(&Local).format("%Y-%m-%d %H:%M:%S %:z");
                eprintln!("no log events{filtered} since {since} in {}", names(&groups));
            }
            Ok(())
        })
    }
}

impl LogPart {
    /// Every part with a log group, in the order they are listed.
    pub(crate) const ALL: [LogPart; 4] = [LogPart::Job, LogPart::Web, LogPart::Subscribe, LogPart::Api];

    pub(crate) fn name(self) -> &'static str {
        match self {
            LogPart::Job => "job",
            LogPart::Web => "web",
            LogPart::Subscribe => "subscribe",
            LogPart::Api => "api",
        }
    }

    /// The logical id of its log group in the app stack.
    fn log_group_id(self) -> &'static str {
        match self {
            LogPart::Job => ids::JOB_LOGS,
            LogPart::Web => ids::WEB_LOGS,
            LogPart::Subscribe => ids::SUBSCRIBE_LOGS,
            LogPart::Api => ids::API_LOGS,
        }
    }
}

/// The log group of each part, from the app stack's resources.
async fn log_groups(aws: &Aws, stage: &Stage, parts: &[LogPart]) -> anyhow::Result<Vec<(LogPart, String)>> {
    let cfn = aws.cloudformation(stage.region_of(Part::App).as_deref());
    let app = stage.stack_name(Part::App);
    if cloudformation::describe_stack(&cfn, &app).await?.is_none() {
        let region = aws.sdk.region().map(|it| it.to_string()).unwrap_or_default();
        anyhow::bail!(
            "stage {} has no app stack ({app} in {region}), so no log groups: deploy it first \
             (cargo xtask deploy --stage {})",
            stage.name,
            stage.name
        );
    }
    let physical = cloudformation::physical_ids(&cfn, &app).await?;
    parts
        .iter()
        .map(|part| {
            let id = part.log_group_id();
            let group =
                physical.get(id).with_context(|| format!("{app} has no resource {id} (the {} logs)", part.name()));
            Ok((*part, group?.clone()))
        })
        .collect()
}

fn names(groups: &[(LogPart, String)]) -> String {
    groups.iter().map(|(_, group)| group.as_str()).collect::<Vec<_>>().join(", ")
}

/// One log event of a part.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LogEvent {
    part: LogPart,
    /// Milliseconds since the epoch.
    timestamp: i64,
    id: String,
    message: String,
}

impl LogEvent {
    /// `<local time> [part] <readable line>`.
    fn render(&self, prefixed: bool) -> String {
        let time = Local
            .timestamp_millis_opt(self.timestamp)
            .single()
            .map(|it| it.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
            .unwrap_or_else(|| self.timestamp.to_string());
        let line = line::render(&self.message);
        if prefixed { format!("{time} {:<9} {line}", self.part.name()) } else { format!("{time} {line}") }
    }
}

/// Every event of `group` from `from` (ms) on matching `pattern`, or `None` when the group does not exist.
async fn fetch(
    client: &aws_sdk_cloudwatchlogs::Client,
    part: LogPart,
    group: &str,
    from: i64,
    pattern: Option<&str>,
) -> anyhow::Result<Option<Vec<LogEvent>>> {
    let mut events = Vec::new();
    let mut next_token: Option<String> = None;
    let mut previous_token: Option<String> = None;
    loop {
        let res = client
            .filter_log_events()
            .log_group_name(group)
            .start_time(from)
            .set_filter_pattern(pattern.map(str::to_owned))
            .set_next_token(next_token.take())
            .send()
            .await;
        let page = match res {
            Err(err) if err.as_service_error().is_some_and(|it| it.is_resource_not_found_exception()) => {
                return Ok(None);
            }
            res => res.aws_context(|| format!("reading the log events of {group}"))?,
        };
        for event in page.events() {
            events.push(LogEvent {
                part,
                timestamp: event.timestamp().unwrap_or_default(),
                id: event.event_id().unwrap_or_default().to_owned(),
                message: event.message().unwrap_or_default().to_owned(),
            });
        }
        // CloudWatch may answer a page without events and a token to go on searching; an
        // endpoint that repeats the token it was given has no more pages.
        match page.next_token() {
            Some(token) if !token.is_empty() && previous_token.as_deref() != Some(token) => {
                previous_token = Some(token.to_owned());
                next_token = Some(token.to_owned());
            }
            _ => break,
        }
    }
    Ok(Some(events))
}

/// What `--follow` has printed: each event id once, however often a window is read again.
#[derive(Debug)]
struct Tail {
    /// Where the next read starts (ms); never before `--since`.
    from: i64,
    since: i64,
    /// The ids printed that are still inside the window, with their timestamps.
    seen: HashMap<String, i64>,
}

impl Tail {
    fn new(since: i64) -> Tail {
        Tail { from: since, since, seen: HashMap::new() }
    }

    fn from(&self) -> i64 {
        self.from
    }

    /// The events not printed before, oldest first; moves the window to a little before the newest.
    fn take_new(&mut self, mut events: Vec<LogEvent>) -> Vec<LogEvent> {
        events.sort_by(|a, b| (a.timestamp, a.part.name(), &a.id).cmp(&(b.timestamp, b.part.name(), &b.id)));
        events.dedup_by(|a, b| a.id == b.id && a.part == b.part);
        let fresh: Vec<LogEvent> = events
            .into_iter()
            .filter(|it| it.timestamp >= self.since && !self.seen.contains_key(&seen_key(it)))
            .collect();
        for event in &fresh {
            self.seen.insert(seen_key(event), event.timestamp);
        }
        if let Some(newest) = self.seen.values().max() {
            self.from = (newest - LATE_MILLIS).max(self.since);
        }
        let from = self.from;
        self.seen.retain(|_, timestamp| *timestamp >= from);
        fresh
    }
}

/// Event ids are unique within a log group; the part stands for the group.
fn seen_key(event: &LogEvent) -> String {
    format!("{}/{}", event.part.name(), event.id)
}

/// `--since`: a duration back from `now` (`45s`, `30m`, `1h`, `2d`, `1w`) or a day `YYYYMMDD`,
/// from its midnight in `now`'s time zone.
fn parse_since<Tz: TimeZone>(text: &str, now: DateTime<Tz>) -> anyhow::Result<DateTime<Utc>> {
    let text = text.trim();
    let not_understood = || {
        anyhow::format_err!(
            "--since {text:?} is neither a duration back from now (30m, 1h, 2d, 1w) nor a day (YYYYMMDD)"
        )
    };
    if text.len() == 8 && text.bytes().all(|it| it.is_ascii_digit()) {
        let day = chrono::NaiveDate::parse_from_str(text, "%Y%m%d")
            .map_err(|_| anyhow::format_err!("--since {text:?} is not a day of the calendar (YYYYMMDD)"))?;
        let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
        let start = now
            .timezone()
            .from_local_datetime(&midnight)
            .earliest()
            .with_context(|| format!("--since {text:?}: midnight does not exist in the local time zone"))?;
        if start > now {
            anyhow::bail!("--since {text:?} is in the future");
        }
        return Ok(start.with_timezone(&Utc));
    }
    let Some(unit) = text.chars().last().filter(|it| it.is_ascii_alphabetic()) else {
        return Err(not_understood());
    };
    // Unsigned: `-1h` is not a duration back.
    let amount: u64 = text[..text.len() - 1].parse().map_err(|_| not_understood())?;
    let seconds_per_unit = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return Err(not_understood()),
    };
    let back = i64::try_from(amount)
        .ok()
        .and_then(|it| it.checked_mul(seconds_per_unit))
        .and_then(chrono::TimeDelta::try_seconds)
        .and_then(|it| now.clone().checked_sub_signed(it))
        .with_context(|| format!("--since {text:?} is too far back"))?;
    Ok(back.with_timezone(&Utc))
}

/// `--filter TEXT` as a CloudWatch Logs filter pattern: one quoted term, matched literally.
fn filter_pattern(text: &str) -> anyhow::Result<String> {
    if text.trim().is_empty() {
        anyhow::bail!("--filter is empty: give the text the events must contain");
    }
    if text.contains('"') {
        anyhow::bail!("--filter {text:?} contains a double quote, which a CloudWatch Logs term cannot hold");
    }
    Ok(format!("\"{text}\""))
}

#[cfg(test)]
mod tests {
    use chrono::FixedOffset;

    use super::*;

    /// 2026-12-07 18:30:00 in Asia/Shanghai (+08:00).
    fn now() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-12-07T18:30:00+08:00").unwrap()
    }

    #[track_caller]
    fn check(text: &str, expected: &str) {
        let got = parse_since(text, now()).map(|it| it.to_rfc3339()).unwrap_or_else(|err| format!("error: {err:#}"));
        assert_eq!(got, expected, "--since {text}");
    }

    #[test]
    fn since_takes_a_duration_back_from_now() {
        check("30m", "2026-12-07T10:00:00+00:00");
        check("1h", "2026-12-07T09:30:00+00:00");
        check("2d", "2026-12-05T10:30:00+00:00");
        check("45s", "2026-12-07T10:29:15+00:00");
        check("1w", "2026-11-30T10:30:00+00:00");
        check(" 0m ", "2026-12-07T10:30:00+00:00");
    }

    #[test]
    fn since_takes_a_day_from_its_local_midnight() {
        // Midnight in +08:00 is 16:00 UTC the day before.
        check("20261207", "2026-12-06T16:00:00+00:00");
        check("20261127", "2026-11-26T16:00:00+00:00");
    }

    #[test]
    fn since_says_what_it_cannot_read() {
        let neither = "is neither a duration back from now (30m, 1h, 2d, 1w) nor a day (YYYYMMDD)";
        check("1y", &format!("error: --since \"1y\" {neither}"));
        check("h", &format!("error: --since \"h\" {neither}"));
        check("-1h", &format!("error: --since \"-1h\" {neither}"));
        check("yesterday", &format!("error: --since \"yesterday\" {neither}"));
        check("2026-12-07", &format!("error: --since \"2026-12-07\" {neither}"));
        check("20261332", "error: --since \"20261332\" is not a day of the calendar (YYYYMMDD)");
        check("20261208", "error: --since \"20261208\" is in the future");
        check("99999999999999d", "error: --since \"99999999999999d\" is too far back");
    }

    #[test]
    fn a_filter_is_one_literal_term() {
        assert_eq!(filter_pattern("no bar on").unwrap(), "\"no bar on\"");
        assert_eq!(filter_pattern("510300.SH").unwrap(), "\"510300.SH\"");
        assert!(filter_pattern("say \"hi\"").unwrap_err().to_string().contains("double quote"));
        assert!(filter_pattern(" ").unwrap_err().to_string().contains("empty"));
    }

    fn event(part: LogPart, timestamp: i64, id: &str) -> LogEvent {
        LogEvent { part, timestamp, id: id.to_owned(), message: format!("m{id}") }
    }

    #[test]
    fn following_prints_each_event_once_across_reads_of_overlapping_windows() {
        let mut tail = Tail::new(1_000);
        let first = tail.take_new(vec![event(LogPart::Job, 2_000, "b"), event(LogPart::Job, 1_500, "a")]);
        assert_eq!(first.iter().map(|it| it.id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        // The next read starts before the newest event seen, but not before --since.
        assert_eq!(tail.from(), 1_000);
        // The same events again, one at the same millisecond as the newest, one stored late.
        let second = tail.take_new(vec![
            event(LogPart::Job, 1_500, "a"),
            event(LogPart::Job, 2_000, "b"),
            event(LogPart::Job, 2_000, "c"),
            event(LogPart::Web, 1_800, "a"),
        ]);
        let ids: Vec<(LogPart, &str)> = second.iter().map(|it| (it.part, it.id.as_str())).collect();
        assert_eq!(ids, [(LogPart::Web, "a"), (LogPart::Job, "c")]);
        let later = tail.take_new(vec![event(LogPart::Job, 100_000, "d")]);
        assert_eq!(later.len(), 1);
        assert_eq!(tail.from(), 100_000 - LATE_MILLIS);
        // Ids before the window are forgotten, and events before --since are never printed.
        assert!(tail.take_new(vec![event(LogPart::Job, 100_000, "d"), event(LogPart::Job, 500, "z")]).is_empty());
        assert_eq!(tail.seen.len(), 1);
    }

    #[test]
    fn events_show_local_times_and_with_several_parts_the_part() {
        let line = event(LogPart::Subscribe, 1_765_101_600_000, "1");
        let time = Local.timestamp_millis_opt(1_765_101_600_000).unwrap().format("%Y-%m-%d %H:%M:%S%.3f");
        assert_eq!(line.render(true), format!("{time} subscribe m1"));
        assert_eq!(line.render(false), format!("{time} m1"));
    }
}

//! The status as one screen of text, times in the given zone (the local one on a terminal).
//! Missing pieces are printed as their reasons. Uses only the model.

use std::fmt::Write;

use chrono::{DateTime, TimeZone};

use crate::status::model::{Drift, JobRun, Piece, Status, Time};

/// The screen, in lines.
pub(crate) fn render<Tz: TimeZone>(status: &Status, zone: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let mut out = String::new();
    let at = local(status.checked_at, zone);
    let _ = writeln!(out, "stage {} in {}, {at}", status.stage, status.region);

    let _ = writeln!(out, "\nstacks");
    let width = status.stacks.iter().map(|it| it.name.len()).max().unwrap_or(0);
    for stack in &status.stacks {
        let name = format!("{:<width$}", stack.name);
        let line = match &stack.deployed {
            Piece::Found(deployed) => {
                let when = deployed.last_update.map(|it| local(it, zone)).unwrap_or_default();
                let drift = match &deployed.drift {
                    Drift::Unchanged => "unchanged".to_owned(),
                    Drift::Changed { changes } => format!("changed: {}", changes.join(", ")),
                    Drift::Unknown { why } => format!("drift unknown: {why}"),
                };
                format!("{name}  {}  {when}  {drift}", deployed.status)
            }
            Piece::Missing { missing } => format!("{name}  {missing}"),
        };
        let region = stack.region.as_deref().map(|it| format!(" ({it})")).unwrap_or_default();
        let _ = writeln!(out, "  {line}{region}");
    }

    let app = status.stacks.iter().find(|it| it.part == "app");
    if let Some(Piece::Missing { .. }) = app.map(|it| &it.deployed)
        && let Piece::Missing { missing } = &status.schedule
    {
        // No app stack: no schedule, job, reports, alarm or subscribers, for one reason.
        let _ = writeln!(out, "\n{missing}");
        return out;
    }

    let _ = writeln!(out, "\nschedule");
    match &status.schedule {
        Piece::Found(schedule) => {
            let _ = writeln!(out, "  {} in {}, {}", schedule.expression, schedule.time_zone, schedule.state);
            match &schedule.next_fire {
                Piece::Found(next) => {
                    let until = DateTime::parse_from_rfc3339(next)
                        .map(|it| format!(" (in {})", duration(it.timestamp() - status.checked_at.0.timestamp())))
                        .unwrap_or_default();
                    let next = DateTime::parse_from_rfc3339(next)
                        .map(|it| it.format("%Y-%m-%d %H:%M %:z").to_string())
                        .unwrap_or_else(|_| next.clone());
                    let _ = writeln!(out, "  next fire {next}{until}");
                }
                Piece::Missing { missing } => {
                    let _ = writeln!(out, "  next fire: {missing}");
                }
            }
        }
        Piece::Missing { missing } => {
            let _ = writeln!(out, "  {missing}");
        }
    }

    match &status.runs {
        Piece::Found(runs) if runs.is_empty() => {
            let _ = writeln!(out, "\njob runs\n  none yet: no task in ECS, no log stream in the job's log group");
        }
        Piece::Found(runs) => {
            let _ = writeln!(out, "\njob runs (latest {}, newest first)", runs.len());
            for run in runs {
                let _ = writeln!(out, "  {}", run_line(run, zone));
                if let Some(reason) = &run.stopped_reason {
                    let _ = writeln!(out, "    stopped: {reason}");
                }
                if let Some(line) = &run.last_line {
                    let _ = writeln!(out, "    last line: {line}");
                }
            }
        }
        Piece::Missing { missing } => {
            let _ = writeln!(out, "\njob runs\n  {missing}");
        }
    }

    let _ = writeln!(out, "\nreports");
    match &status.reports {
        Piece::Found(reports) => match &reports.latest {
            Some(latest) => {
                let state = if latest.complete { "complete" } else { "INCOMPLETE (stored, not published)" };
                let sample = if latest.sample_data { ", sample data" } else { "" };
                let _ = writeln!(
                    out,
                    "  latest {}: {state}, {} of {} funds undecided{sample}",
                    latest.day, latest.undecided, latest.funds
                );
                let _ = writeln!(out, "  {} days stored in bucket {}", reports.days_stored, reports.bucket);
            }
            None => {
                let _ = writeln!(out, "  none stored yet in bucket {}", reports.bucket);
            }
        },
        Piece::Missing { missing } => {
            let _ = writeln!(out, "  {missing}");
        }
    }

    let _ = writeln!(out, "\nfailure alarm");
    match &status.alarm {
        Piece::Found(alarm) => {
            let _ = writeln!(out, "  rule {} {}", alarm.rule, alarm.state);
            let told = if alarm.confirmed == 0 {
                " (nobody is told: set alarm_email in alchemy.toml and confirm the mail)"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  tells {}: {} confirmed, {} pending{told}",
                alarm.topic, alarm.confirmed, alarm.pending
            );
        }
        Piece::Missing { missing } => {
            let _ = writeln!(out, "  {missing}");
        }
    }

    let _ = writeln!(out, "\nsubscribers");
    match &status.subscribers {
        Piece::Found(it) => {
            let _ = writeln!(out, "  {} confirmed, {} pending on {}", it.confirmed, it.pending, it.topic);
        }
        Piece::Missing { missing } => {
            let _ = writeln!(out, "  {missing}");
        }
    }

    let _ = writeln!(out, "\nchat channels");
    match &status.channels {
        Piece::Found(channels) if channels.is_empty() => {
            let _ = writeln!(out, "  none in the channels file");
        }
        Piece::Found(channels) => {
            let latest = status.reports.found().and_then(|it| it.latest.as_ref()).map(|it| it.day.as_str());
            for channel in channels {
                let days = if channel.only == "signals" { "signal days" } else { "every day" };
                let state = match (channel.enabled, channel.delivered_latest, latest) {
                    (false, _, _) => "paused (enabled = false)".to_owned(),
                    (true, Some(true), Some(day)) => format!("delivered {day}"),
                    (true, Some(false), Some(day)) => format!("nothing delivered for {day}"),
                    _ => "no stored day to check".to_owned(),
                };
                let _ = writeln!(out, "  {} ({}), {days}: {state}", channel.name, channel.kind);
            }
        }
        Piece::Missing { missing } => {
            let _ = writeln!(out, "  {missing}");
        }
    }

    let _ = writeln!(out, "\nsite");
    match &status.site_url {
        Piece::Found(url) => {
            let _ = writeln!(out, "  {url}");
        }
        Piece::Missing { missing } => {
            let _ = writeln!(out, "  {missing}");
        }
    }
    out
}

/// `start  duration  capacity  exit  day report/published`.
fn run_line<Tz: TimeZone>(run: &JobRun, zone: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let start = run.started_at.map(|it| local(it, zone)).unwrap_or_else(|| "start unknown".to_owned());
    let took = match (run.duration_secs, run.ecs_status.as_deref()) {
        (_, Some(status)) if status != "STOPPED" => status.to_lowercase(),
        (Some(secs), _) => duration(secs),
        (None, _) => "?".to_owned(),
    };
    let capacity = run.capacity_provider.as_deref().unwrap_or("-");
    let exit = match (run.exit_code, &run.ecs_status) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(_)) => "no exit code".to_owned(),
        (None, None) => "exit ? (ECS lists stopped tasks for about an hour)".to_owned(),
    };
    let yes_no = |it: Option<bool>| match it {
        Some(true) => "yes",
        Some(false) => "NO",
        None => "?",
    };
    let day = match &run.day {
        Some(day) => format!("report {day} {}, published {}", yes_no(run.report), yes_no(run.published)),
        None => "report ?".to_owned(),
    };
    format!("{start}  {took:>10}  {capacity:<12}  {exit}  {day}  task {}", run.task_id)
}

fn local<Tz: TimeZone>(time: Time, zone: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    time.0.with_timezone(zone).format("%Y-%m-%d %H:%M:%S %:z").to_string()
}

/// `3 min 12 s`, `23 h 29 min`, `2 d 4 h`.
fn duration(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min {} s", secs / 60, secs % 60),
        3600..86_400 => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
        _ => format!("{} d {} h", secs / 86_400, secs % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{FixedOffset, Utc};
    use expect_test::expect;

    use super::*;
    use crate::status::model::{
        Alarm, ChannelStatus, DeployedStack, LatestReport, Reports, Schedule, StackStatus, Subscribers,
    };

    fn time(text: &str) -> Time {
        Time(DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc))
    }

    fn stack(part: &str, deployed: Piece<DeployedStack>) -> StackStatus {
        StackStatus { part: part.to_owned(), name: format!("invest-alchemy-dev-{part}"), region: None, deployed }
    }

    #[test]
    fn a_deployed_stage_shows_every_piece_and_says_what_is_missing() {
        let status = Status {
            stage: "dev".to_owned(),
            region: "ap-southeast-1".to_owned(),
            checked_at: time("2026-12-07T10:30:00Z"),
            stacks: vec![
                stack(
                    "network",
                    Piece::Found(DeployedStack {
                        status: "CREATE_COMPLETE".to_owned(),
                        last_update: Some(time("2026-12-01T02:00:00Z")),
                        drift: Drift::Unchanged,
                    }),
                ),
                stack(
                    "app",
                    Piece::Found(DeployedStack {
                        status: "UPDATE_COMPLETE".to_owned(),
                        last_update: Some(time("2026-12-02T02:00:00Z")),
                        drift: Drift::Changed { changes: vec!["~ JobLogs AWS::Logs::LogGroup".to_owned()] },
                    }),
                ),
                stack("edge", Piece::missing("never deployed: run cargo xtask deploy --stage dev")),
            ],
            schedule: Piece::Found(Schedule {
                name: "invest-alchemy-dev-app-JobSchedule".to_owned(),
                expression: "cron(0 18 ? * MON-FRI *)".to_owned(),
                time_zone: "Asia/Shanghai".to_owned(),
                state: "ENABLED".to_owned(),
                next_fire: Piece::Found("2026-12-08T18:00:00+08:00".to_owned()),
            }),
            runs: Piece::Found(vec![
                JobRun {
                    task_id: "t2".to_owned(),
                    started_at: Some(time("2026-12-07T10:00:05Z")),
                    stopped_at: Some(time("2026-12-07T10:03:17Z")),
                    duration_secs: Some(192),
                    ecs_status: Some("STOPPED".to_owned()),
                    capacity_provider: Some("FARGATE_SPOT".to_owned()),
                    exit_code: Some(1),
                    stopped_reason: Some("Your Spot Task was interrupted.".to_owned()),
                    day: Some("20261207".to_owned()),
                    report: Some(false),
                    published: Some(false),
                    last_line: Some("INFO  prices of 46 securities by trade date: 1 days, up to 2 calls".to_owned()),
                },
                JobRun {
                    task_id: "t1".to_owned(),
                    started_at: Some(time("2026-12-04T10:00:04Z")),
                    stopped_at: Some(time("2026-12-04T10:02:00Z")),
                    duration_secs: Some(116),
                    ecs_status: None,
                    capacity_provider: None,
                    exit_code: None,
                    stopped_reason: None,
                    day: Some("20261204".to_owned()),
                    report: Some(true),
                    published: Some(true),
                    last_line: Some(
                        "20261204: 可买 0, 可卖 1 -> reports/dma-11-22/20261204.txt (published)".to_owned(),
                    ),
                },
            ]),
            reports: Piece::Found(Reports {
                bucket: "reports-bucket".to_owned(),
                days_stored: 240,
                latest: Some(LatestReport {
                    day: "20261204".to_owned(),
                    complete: true,
                    funds: 46,
                    undecided: 2,
                    sample_data: false,
                }),
            }),
            alarm: Piece::Found(Alarm {
                rule: "invest-alchemy-dev-app-JobFailed".to_owned(),
                state: "ENABLED".to_owned(),
                topic: "arn:aws:sns:ap-southeast-1:1:alarms".to_owned(),
                confirmed: 0,
                pending: 1,
            }),
            subscribers: Piece::Found(Subscribers {
                topic: "arn:aws:sns:ap-southeast-1:1:signals".to_owned(),
                confirmed: 12,
                pending: 1,
            }),
            channels: Piece::Found(vec![
                ChannelStatus {
                    name: "tg".to_owned(),
                    kind: "telegram".to_owned(),
                    enabled: true,
                    only: "signals".to_owned(),
                    delivered_latest: Some(true),
                },
                ChannelStatus {
                    name: "wx".to_owned(),
                    kind: "wecom".to_owned(),
                    enabled: true,
                    only: "all".to_owned(),
                    delivered_latest: Some(false),
                },
                ChannelStatus {
                    name: "old".to_owned(),
                    kind: "webhook".to_owned(),
                    enabled: false,
                    only: "all".to_owned(),
                    delivered_latest: None,
                },
            ]),
            site_url: Piece::missing("no site address: the edge stack has no SiteUrl output"),
        };
        let shanghai = FixedOffset::east_opt(8 * 3600).unwrap();
        expect![[r#"
            stage dev in ap-southeast-1, 2026-12-07 18:30:00 +08:00

            stacks
              invest-alchemy-dev-network  CREATE_COMPLETE  2026-12-01 10:00:00 +08:00  unchanged
              invest-alchemy-dev-app      UPDATE_COMPLETE  2026-12-02 10:00:00 +08:00  changed: ~ JobLogs AWS::Logs::LogGroup
              invest-alchemy-dev-edge     never deployed: run cargo xtask deploy --stage dev

            schedule
              cron(0 18 ? * MON-FRI *) in Asia/Shanghai, ENABLED
              next fire 2026-12-08 18:00 +08:00 (in 23 h 30 min)

            job runs (latest 2, newest first)
              2026-12-07 18:00:05 +08:00  3 min 12 s  FARGATE_SPOT  exit 1  report 20261207 NO, published NO  task t2
                stopped: Your Spot Task was interrupted.
                last line: INFO  prices of 46 securities by trade date: 1 days, up to 2 calls
              2026-12-04 18:00:04 +08:00  1 min 56 s  -             exit ? (ECS lists stopped tasks for about an hour)  report 20261204 yes, published yes  task t1
                last line: 20261204: 可买 0, 可卖 1 -> reports/dma-11-22/20261204.txt (published)

            reports
              latest 20261204: complete, 2 of 46 funds undecided
              240 days stored in bucket reports-bucket

            failure alarm
              rule invest-alchemy-dev-app-JobFailed ENABLED
              tells arn:aws:sns:ap-southeast-1:1:alarms: 0 confirmed, 1 pending (nobody is told: set alarm_email in alchemy.toml and confirm the mail)

            subscribers
              12 confirmed, 1 pending on arn:aws:sns:ap-southeast-1:1:signals

            chat channels
              tg (telegram), signal days: delivered 20261204
              wx (wecom), every day: nothing delivered for 20261204
              old (webhook), every day: paused (enabled = false)

            site
              no site address: the edge stack has no SiteUrl output
        "#]].assert_eq(&render(&status, &shanghai));
        let json = serde_json::to_value(&status).unwrap();
        assert_eq!(json["site_url"]["missing"], "no site address: the edge stack has no SiteUrl output");
        assert_eq!(json["stacks"][1]["deployed"]["drift"]["state"], "changed");
        assert_eq!(json["runs"][0]["started_at"], "2026-12-07T10:00:05Z");
        assert_eq!(json["schedule"]["next_fire"], "2026-12-08T18:00:00+08:00");
    }

    #[test]
    fn durations_are_short_and_readable() {
        assert_eq!(duration(42), "42 s");
        assert_eq!(duration(192), "3 min 12 s");
        assert_eq!(duration(84_540), "23 h 29 min");
        assert_eq!(duration(187_200), "2 d 4 h");
        assert_eq!(duration(-5), "0 s");
    }
}

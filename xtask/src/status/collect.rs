//! Reads a stage's status from AWS into a [`Status`]: the stacks (CloudFormation), drift (a
//! change set per stack, as `diff` makes it), the schedule (Scheduler), the job's runs (ECS and
//! the job's log streams), the reports bucket (S3, keys from `platform::reports`), the failure
//! rule (EventBridge) and the topics' subscriptions (SNS).
//!
//! Resources are found by their logical ids in the app and data stacks (`stacks::parts::app::ids`,
//! `stacks::parts::data::ids`), whose physical ids every endpoint fills; names are never computed here. Each piece is read on its
//! own: one that fails or is absent becomes a [`Piece::Missing`] that says why, never an error
//! of the whole command. Uses the stage, the AWS configuration, the CloudFormation engine, the
//! model and `logs::line` (a run's last line, made readable); not the rendering.

use std::collections::BTreeMap;

use anyhow::Context;
use aws_sdk_cloudformation::types::Stack;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use platform::{
    channels::{ChannelName, ChannelsFile, Only},
    date::TradeDate,
    report::json::IndexJson,
    reports::{self, ReportFormat},
    strategy::DmaParams,
};
use stacks::{
    ArtifactKind, Part,
    parts::{app, app::ids, data, edge},
};

use crate::{
    aws::{Aws, AwsContext},
    cloudformation::{self, Action, Outputs, Planned, StackPlan},
    deploy::{self, plan::Deployment},
    logs::line,
    stage::Stage,
    status::{
        cron::{self, NextFire},
        model::{
            Alarm, ChannelStatus, DeployedStack, Drift, JobRun, LatestReport, Piece, Reports, Schedule, StackStatus,
            Status, Subscribers, Time,
        },
    },
};

/// The schedule's time zone when it cannot be read: the stages' default.
const DEFAULT_TIME_ZONE: &str = "Asia/Shanghai";
/// Everything `status` shows, read now. `plans` are the local templates (or why there are none),
/// `artifacts` the last packaged ones.
pub(crate) async fn collect(
    aws: &Aws,
    stage: &Stage,
    plans: Piece<Deployment>,
    artifacts: Option<BTreeMap<ArtifactKind, String>>,
    n_runs: usize,
) -> Status {
    let now = Utc::now();
    let region = aws.sdk.region().map(|it| it.to_string()).unwrap_or_default();
    let mut deployed: Vec<(Part, Option<Stack>)> = Vec::new();
    let mut stacks = Vec::new();
    for part in Part::ALL {
        let name = stage.stack_name(part);
        let region_of = stage.region_of(part);
        let client = aws.cloudformation(region_of.as_deref());
        let found = cloudformation::describe_stack(&client, &name).await;
        let piece = match &found {
            Ok(Some(stack)) => Piece::Found(DeployedStack {
                status: stack.stack_status().map(|it| it.as_str().to_owned()).unwrap_or_default(),
                last_update: stack.last_updated_time().or(stack.creation_time()).and_then(time_of),
                drift: Drift::Unknown { why: "not compared".to_owned() },
            }),
            Ok(None) => Piece::missing("not deployed"),
            Err(err) => Piece::missing(format!("{err:#}")),
        };
        stacks.push(StackStatus { part: part.name().to_owned(), name, region: region_of, deployed: piece });
        deployed.push((part, found.ok().flatten()));
    }
    let stack_of = |part: Part| deployed.iter().find(|(it, _)| *it == part).and_then(|(_, it)| it.as_ref());

    // Change sets take seconds each on AWS: they are made while the rest is read.
    let drifts = drift(aws, plans, artifacts, &deployed);

    let Some(app_stack) = stack_of(Part::App) else {
        set_drifts(&mut stacks, drifts.await);
        let why = never_deployed(stage, &region);
        return Status {
            stage: stage.name.clone(),
            region,
            checked_at: Time(now),
            stacks,
            schedule: Piece::missing(&why),
            runs: Piece::missing(&why),
            reports: Piece::missing(&why),
            alarm: Piece::missing(&why),
            subscribers: Piece::missing(&why),
            channels: channels(stage),
            site_url: site_url(&Outputs::new(), stack_of(Part::Edge)),
        };
    };
    let app_outputs = cloudformation::outputs_of(app_stack);
    let app_name = stage.stack_name(Part::App);
    let ids =
        cloudformation::physical_ids(&aws.cloudformation(None), &app_name).await.map_err(|err| format!("{err:#}"));
    let resource = |id: &str| match &ids {
        Ok(ids) => ids.get(id).cloned().with_context(|| format!("the app stack {app_name} has no resource {id}")),
        Err(err) => Err(anyhow::format_err!("{err}")),
    };
    let data_name = stage.stack_name(Part::Data);
    let data_ids =
        cloudformation::physical_ids(&aws.cloudformation(None), &data_name).await.map_err(|err| format!("{err:#}"));
    let data_resource = |id: &str| match &data_ids {
        Ok(ids) => ids.get(id).cloned().with_context(|| format!("the data stack {data_name} has no resource {id}")),
        Err(err) => Err(anyhow::format_err!("{err}")),
    };

    let schedule = Piece::from_result(schedule(aws, resource(ids::JOB_SCHEDULE), now).await);
    let time_zone = match schedule.found() {
        Some(it) => it.time_zone.clone(),
        None => stage.config.as_ref().map(|it| it.time_zone.clone()).unwrap_or_else(|| DEFAULT_TIME_ZONE.to_owned()),
    };
    let zone: Tz = time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
    let bucket = data_resource(data::ids::REPORTS);
    let (drifts, runs, reports, alarm, subscribers) = tokio::join!(
        drifts,
        runs(aws, &resource, bucket.as_ref().ok(), zone, n_runs),
        reports(aws, bucket.as_ref()),
        alarm(aws, resource(ids::JOB_FAILED), resource(ids::ALARMS)),
        subscribers(aws, data_resource(data::ids::SIGNALS)),
    );
    set_drifts(&mut stacks, drifts);
    let mut channels = channels(stage);
    let latest = reports.as_ref().ok().and_then(|it| it.latest.as_ref()).and_then(|it| TradeDate::parse(&it.day).ok());
    if let (Piece::Found(channels), Some(day), Ok(bucket)) = (&mut channels, latest, bucket.as_ref()) {
        delivered(aws, bucket, day, channels).await;
    }
    Status {
        stage: stage.name.clone(),
        region,
        checked_at: Time(now),
        stacks,
        schedule,
        runs: Piece::from_result(runs),
        reports: Piece::from_result(reports),
        alarm: Piece::from_result(alarm),
        subscribers: Piece::from_result(subscribers),
        channels,
        site_url: site_url(&app_outputs, stack_of(Part::Edge)),
    }
}

fn set_drifts(stacks: &mut [StackStatus], drifts: Vec<Option<Drift>>) {
    for (status, drift) in stacks.iter_mut().zip(drifts) {
        if let (Piece::Found(stack), Some(drift)) = (&mut status.deployed, drift) {
            stack.drift = drift;
        }
    }
}

/// What to do about a stage without its app stack.
fn never_deployed(stage: &Stage, region: &str) -> String {
    format!(
        "never deployed: {} is not in {region}; run cargo xtask deploy --stage {}",
        stage.stack_name(Part::App),
        stage.name
    )
}

/// Each deployed stack against its local template, as `diff` decides; `None` where not deployed.
async fn drift(
    aws: &Aws,
    plans: Piece<Deployment>,
    artifacts: Option<BTreeMap<ArtifactKind, String>>,
    deployed: &[(Part, Option<Stack>)],
) -> Vec<Option<Drift>> {
    let unknown = |why: String| -> Vec<Option<Drift>> {
        deployed.iter().map(|(_, it)| it.as_ref().map(|_| Drift::Unknown { why: why.clone() })).collect()
    };
    let deployment = match plans {
        Piece::Found(deployment) => deployment,
        Piece::Missing { missing } => return unknown(format!("no local templates to compare with: {missing}")),
    };
    let comparisons = match deploy::comparisons(aws, &deployment, artifacts).await {
        Ok((_, it)) => it,
        Err(err) => return unknown(format!("{err:#}")),
    };
    // One change set per stack, all at once.
    let mut tasks = tokio::task::JoinSet::new();
    for (index, (part, stack)) in deployed.iter().enumerate() {
        let Some(plan) = comparisons.iter().find(|(step, _)| step.artifact.part == *part).map(|(_, it)| it.clone())
        else {
            continue;
        };
        if stack.is_some() {
            let aws = aws.clone();
            tasks.spawn(async move { (index, drift_of(&aws, plan).await) });
        }
    }
    let mut res: Vec<Option<Drift>> = vec![None; deployed.len()];
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, drift)) => res[index] = Some(drift),
            Err(err) => eprintln!("status: comparing a stack with its template failed: {err}"),
        }
    }
    res
}

async fn drift_of(aws: &Aws, plan: Result<StackPlan, String>) -> Drift {
    let plan = match plan {
        Ok(plan) => plan,
        Err(why) => return Drift::Unknown { why },
    };
    let client = aws.cloudformation(plan.region.as_deref());
    match cloudformation::plan_changes(&client, &plan).await {
        Ok((_, Planned::NoChanges)) => Drift::Unchanged,
        Ok((_, Planned::Changes(changes))) => Drift::Changed {
            changes: changes
                .iter()
                .map(|it| {
                    let sign = match it.action {
                        Action::Add => "+",
                        Action::Modify => "~",
                        Action::Remove => "-",
                        Action::Other => "?",
                    };
                    format!("{sign} {} {}", it.logical_id, it.resource_type)
                })
                .collect(),
        },
        Ok((_, Planned::RollbackComplete)) => Drift::Unknown {
            why: "in ROLLBACK_COMPLETE after a failed first create: deploy deletes it and creates it again".to_owned(),
        },
        Err(err) => Drift::Unknown { why: format!("{err:#}") },
    }
}

async fn schedule(aws: &Aws, name: anyhow::Result<String>, now: DateTime<Utc>) -> anyhow::Result<Schedule> {
    let name = name?;
    let res = aws
        .scheduler()
        .get_schedule()
        .name(&name)
        .send()
        .await
        .aws_context(|| format!("reading the schedule {name}"))?;
    let expression = res.schedule_expression().unwrap_or_default().to_owned();
    let time_zone = res.schedule_expression_timezone().unwrap_or("UTC").to_owned();
    let next_fire = match cron::next_fire(&expression, &time_zone, now) {
        Ok(NextFire::At(at)) => Piece::Found(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        Ok(NextFire::Never) => Piece::missing("never again: the expression has no later time"),
        Ok(NextFire::Rate(rate)) => Piece::missing(format!("every {rate} from when the schedule was last changed")),
        Err(err) => Piece::missing(format!("{err:#}")),
    };
    Ok(Schedule {
        name,
        expression,
        time_zone,
        state: res.state().map(|it| it.as_str().to_owned()).unwrap_or_default(),
        next_fire,
    })
}

/// The latest runs: the tasks ECS still lists (running, or stopped within about an hour) and the
/// job's log streams (one per task, kept for the log retention), newest first.
async fn runs(
    aws: &Aws,
    resource: &dyn Fn(&str) -> anyhow::Result<String>,
    bucket: Option<&String>,
    zone: Tz,
    n_runs: usize,
) -> anyhow::Result<Vec<JobRun>> {
    let cluster = resource(ids::CLUSTER)?;
    let task_definition = resource(ids::JOB_TASK)?;
    let log_group = resource(ids::JOB_LOGS)?;
    // `arn:...:task-definition/<family>:<revision>`
    let family = task_definition.rsplit('/').next().and_then(|it| it.split(':').next()).unwrap_or(&task_definition);
    let mut by_task: BTreeMap<String, JobRun> = BTreeMap::new();

    let ecs = aws.ecs();
    let mut arns = Vec::new();
    for desired in [aws_sdk_ecs::types::DesiredStatus::Running, aws_sdk_ecs::types::DesiredStatus::Stopped] {
        let listed = ecs
            .list_tasks()
            .cluster(&cluster)
            .family(family)
            .desired_status(desired)
            .send()
            .await
            .aws_context(|| format!("listing the job's tasks on {cluster}"))?;
        arns.extend(listed.task_arns().iter().cloned());
    }
    for chunk in arns.chunks(100) {
        let described = ecs
            .describe_tasks()
            .cluster(&cluster)
            .set_tasks(Some(chunk.to_vec()))
            .send()
            .await
            .aws_context(|| format!("describing the job's tasks on {cluster}"))?;
        for task in described.tasks() {
            let task_id = task.task_arn().and_then(|it| it.rsplit('/').next()).unwrap_or_default().to_owned();
            let container = task.containers().first();
            let started_at = task.started_at().or(task.created_at()).and_then(time_of);
            let stopped_at = task.stopped_at().and_then(time_of);
            by_task.insert(
                task_id.clone(),
                JobRun {
                    task_id,
                    started_at,
                    stopped_at,
                    duration_secs: None,
                    ecs_status: task.last_status().map(str::to_owned),
                    capacity_provider: task.capacity_provider_name().map(str::to_owned),
                    exit_code: container.and_then(|it| it.exit_code()),
                    stopped_reason: task.stopped_reason().map(str::to_owned),
                    day: None,
                    report: None,
                    published: None,
                    last_line: None,
                },
            );
        }
    }

    let logs = aws.logs();
    let mut stream_of: BTreeMap<String, String> = BTreeMap::new();
    let streams = logs
        .describe_log_streams()
        .log_group_name(&log_group)
        .order_by(aws_sdk_cloudwatchlogs::types::OrderBy::LastEventTime)
        .descending(true)
        .limit(i32::try_from(n_runs.clamp(1, 50)).expect("at most 50"))
        .send()
        .await;
    match streams {
        Ok(streams) => {
            for stream in streams.log_streams() {
                let Some(stream_name) = stream.log_stream_name() else { continue };
                let task_id = stream_name.rsplit('/').next().unwrap_or(stream_name);
                stream_of.insert(task_id.to_owned(), stream_name.to_owned());
                let first = stream.first_event_timestamp().or(stream.creation_time()).and_then(time_of_millis);
                let last = stream.last_event_timestamp().and_then(time_of_millis);
                let run = by_task.entry(task_id.to_owned()).or_insert_with(|| JobRun {
                    task_id: task_id.to_owned(),
                    started_at: None,
                    stopped_at: None,
                    duration_secs: None,
                    ecs_status: None,
                    capacity_provider: None,
                    exit_code: None,
                    stopped_reason: None,
                    day: None,
                    report: None,
                    published: None,
                    last_line: None,
                });
                run.started_at = run.started_at.or(first);
                // A stopped task's last log line is about when it stopped, when ECS does not say.
                if matches!(run.ecs_status.as_deref(), None | Some("STOPPED")) {
                    run.stopped_at = run.stopped_at.or(last);
                }
            }
        }
        Err(err) if err.as_service_error().is_some_and(|it| it.is_resource_not_found_exception()) => {}
        Err(err) => return Err(err).aws_context(|| format!("listing the log streams of {log_group}")),
    }

    let mut runs: Vec<JobRun> = by_task.into_values().collect();
    runs.sort_by(|a, b| b.started_at.cmp(&a.started_at).then_with(|| a.task_id.cmp(&b.task_id)));
    runs.truncate(n_runs);
    let s3 = aws.s3();
    for run in &mut runs {
        if let (Some(start), Some(stop)) = (run.started_at, run.stopped_at) {
            run.duration_secs = Some((stop.0 - start.0).num_seconds());
        }
        if let Some(stream) = stream_of.get(&run.task_id) {
            run.last_line = last_line(&logs, &log_group, stream).await?;
        }
        let Some(start) = run.started_at else { continue };
        let day = start.0.with_timezone(&zone).format("%Y%m%d").to_string();
        let (Ok(date), Some(bucket)) = (TradeDate::parse(&day), bucket) else { continue };
        let report = reports::day_key(&DmaParams::STANDARD, date, ReportFormat::Json);
        run.report = Some(exists(&s3, bucket, report.as_str()).await?);
        run.published = Some(exists(&s3, bucket, reports::published_marker(date).as_str()).await?);
        run.day = Some(day);
    }
    Ok(runs)
}

/// The last event of a run's log stream, made readable: how the run ended, in its own words.
async fn last_line(logs: &aws_sdk_cloudwatchlogs::Client, group: &str, stream: &str) -> anyhow::Result<Option<String>> {
    let res = logs
        .get_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .start_from_head(false)
        .limit(1)
        .send()
        .await
        .aws_context(|| format!("reading the last event of {group} {stream}"))?;
    Ok(res.events().last().and_then(|it| it.message()).map(line::render))
}

async fn reports(aws: &Aws, bucket: Result<&String, &anyhow::Error>) -> anyhow::Result<Reports> {
    let bucket = bucket.map_err(|err| anyhow::format_err!("{err:#}"))?;
    let key = reports::index_key(&DmaParams::STANDARD);
    let res = aws.s3().get_object().bucket(bucket).key(key.as_str()).send().await;
    let bytes = match res {
        Err(err) if err.as_service_error().is_some_and(|it| it.is_no_such_key()) => None,
        res => {
            let object = res.aws_context(|| format!("reading s3://{bucket}/{key}"))?;
            let body = object.body.collect().await.with_context(|| format!("reading s3://{bucket}/{key}"))?;
            Some(body.into_bytes())
        }
    };
    let Some(bytes) = bytes else {
        return Ok(Reports { bucket: bucket.clone(), days_stored: 0, latest: None });
    };
    let index =
        IndexJson::parse(&bytes).map_err(|err| anyhow::format_err!("s3://{bucket}/{key} is unreadable: {err}"))?;
    let latest = index.days.first().map(|day| {
        let counts = &day.counts;
        LatestReport {
            day: day.trade_date.to_string(),
            complete: day.complete,
            funds: counts.buy + counts.sell + counts.hold + counts.empty + counts.undecided,
            undecided: counts.undecided,
            sample_data: day.sample_data,
        }
    });
    Ok(Reports { bucket: bucket.clone(), days_stored: index.days.len(), latest })
}

/// The channels of the stage's channels file, as `alchemy.toml` names it.
fn channels(stage: &Stage) -> Piece<Vec<ChannelStatus>> {
    let Some(file) = stage.config.as_ref().and_then(|it| it.channels.as_ref()) else {
        return Piece::missing("none: the stage has no channels file (a `channels` key in alchemy.toml)");
    };
    // Only names and settings are shown: every credential is a `${VAR}` kept in SSM, never read here.
    let parsed = ChannelsFile::parse(&file.text, &|_| Some("kept-in-ssm".to_owned()));
    let parsed = match parsed {
        Ok(it) => it,
        Err(err) => return Piece::missing(format!("the channels file does not parse: {err}")),
    };
    let channels = parsed.channels.iter().map(|channel| ChannelStatus {
        name: channel.name.to_string(),
        kind: channel.kind().to_owned(),
        enabled: channel.enabled,
        only: match channel.only {
            Only::All => "all",
            Only::Signals => "signals",
        }
        .to_owned(),
        delivered_latest: None,
    });
    Piece::Found(channels.collect())
}

/// Fills in whether each enabled channel's marker for `day` is in the bucket.
async fn delivered(aws: &Aws, bucket: &str, day: TradeDate, channels: &mut [ChannelStatus]) {
    let s3 = aws.s3();
    for channel in channels.iter_mut().filter(|it| it.enabled) {
        let Some(name) = ChannelName::parse(&channel.name) else { continue };
        let key = reports::channel_marker(&name, day);
        channel.delivered_latest = exists(&s3, bucket, key.as_str()).await.ok();
    }
}

async fn alarm(aws: &Aws, rule: anyhow::Result<String>, topic: anyhow::Result<String>) -> anyhow::Result<Alarm> {
    let (rule, topic) = (rule?, topic?);
    let described =
        aws.events().describe_rule().name(&rule).send().await.aws_context(|| format!("reading the rule {rule}"))?;
    let (confirmed, pending) = subscriptions(aws, &topic).await?;
    Ok(Alarm {
        rule,
        state: described.state().map(|it| it.as_str().to_owned()).unwrap_or_default(),
        topic,
        confirmed,
        pending,
    })
}

async fn subscribers(aws: &Aws, topic: anyhow::Result<String>) -> anyhow::Result<Subscribers> {
    let topic = topic?;
    let (confirmed, pending) = subscriptions(aws, &topic).await?;
    Ok(Subscribers { topic, confirmed, pending })
}

/// A topic's confirmed and pending subscriptions, from its attributes.
async fn subscriptions(aws: &Aws, topic: &str) -> anyhow::Result<(u64, u64)> {
    let res = aws
        .sns()
        .get_topic_attributes()
        .topic_arn(topic)
        .send()
        .await
        .aws_context(|| format!("reading the attributes of {topic}"))?;
    let count =
        |name: &str| res.attributes().and_then(|it| it.get(name)).and_then(|it| it.parse::<u64>().ok()).unwrap_or(0);
    Ok((count("SubscriptionsConfirmed"), count("SubscriptionsPending")))
}

/// The edge stack's `SiteUrl`, else the app stack's API address.
fn site_url(app_outputs: &Outputs, edge: Option<&Stack>) -> Piece<String> {
    if let Some(url) = edge.map(cloudformation::outputs_of).and_then(|it| it.get(edge::SITE_URL).cloned()) {
        return Piece::Found(url);
    }
    match app_outputs.get(app::API_ENDPOINT) {
        Some(url) => Piece::Found(url.clone()),
        None => Piece::missing(format!(
            "no site address: the edge stack has no {} output and the app stack no {} output",
            edge::SITE_URL,
            app::API_ENDPOINT
        )),
    }
}

/// Whether the object exists (HeadObject).
async fn exists(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> anyhow::Result<bool> {
    match s3.head_object().bucket(bucket).key(key).send().await {
        Ok(_) => Ok(true),
        Err(err) if err.as_service_error().is_some_and(|it| it.is_not_found()) => Ok(false),
        Err(err) => Err(err).aws_context(|| format!("looking for s3://{bucket}/{key}")),
    }
}

fn time_of(time: &aws_sdk_cloudformation::primitives::DateTime) -> Option<Time> {
    DateTime::from_timestamp(time.secs(), time.subsec_nanos()).map(Time)
}

fn time_of_millis(millis: i64) -> Option<Time> {
    DateTime::from_timestamp_millis(millis).map(Time)
}

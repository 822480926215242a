//! What `cargo xtask status` found: a plain value, printed as a screen (`render`) or as JSON
//! (serde), made by `collect`. Each piece that may be absent is a [`Piece`], whose missing
//! variant says why in words. Uses nothing of the crate.

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

/// The status of one stage.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Status {
    pub(crate) stage: String,
    /// The region of every stack but edge.
    pub(crate) region: String,
    pub(crate) checked_at: Time,
    pub(crate) stacks: Vec<StackStatus>,
    pub(crate) schedule: Piece<Schedule>,
    /// The job's latest runs, newest first.
    pub(crate) runs: Piece<Vec<JobRun>>,
    pub(crate) reports: Piece<Reports>,
    pub(crate) alarm: Piece<Alarm>,
    pub(crate) subscribers: Piece<Subscribers>,
    /// The chat channels of the stage's channels file.
    pub(crate) channels: Piece<Vec<ChannelStatus>>,
    pub(crate) site_url: Piece<String>,
}

/// Something found, or why it was not: `{"missing": "..."}` in JSON.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub(crate) enum Piece<T> {
    Found(T),
    Missing { missing: String },
}

impl<T> Piece<T> {
    pub(crate) fn missing(why: impl Into<String>) -> Piece<T> {
        Piece::Missing { missing: why.into() }
    }

    /// A step's result: its value, or its error in one line.
    pub(crate) fn from_result(res: anyhow::Result<T>) -> Piece<T> {
        match res {
            Ok(it) => Piece::Found(it),
            Err(err) => Piece::missing(format!("{err:#}")),
        }
    }

    pub(crate) fn found(&self) -> Option<&T> {
        match self {
            Piece::Found(it) => Some(it),
            Piece::Missing { .. } => None,
        }
    }
}

/// An instant, as RFC 3339 in UTC in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Time(pub(crate) DateTime<Utc>);

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    }
}

/// One stack of the stage.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StackStatus {
    /// bootstrap, network, app or edge.
    pub(crate) part: String,
    pub(crate) name: String,
    /// Its region when it is not the stage's (edge: us-east-1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) region: Option<String>,
    pub(crate) deployed: Piece<DeployedStack>,
}

/// A stack that exists.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DeployedStack {
    /// CloudFormation's status, e.g. `UPDATE_COMPLETE`.
    pub(crate) status: String,
    /// The last update, else the creation.
    pub(crate) last_update: Option<Time>,
    pub(crate) drift: Drift,
}

/// The stack against the local templates, as `cargo xtask diff` decides it.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub(crate) enum Drift {
    Unchanged,
    /// A deploy would change these resources (`+ Id Type`, `~ Id Type`, `- Id Type`).
    Changed {
        changes: Vec<String>,
    },
    Unknown {
        why: String,
    },
}

/// The job's schedule.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Schedule {
    pub(crate) name: String,
    pub(crate) expression: String,
    pub(crate) time_zone: String,
    /// `ENABLED` or `DISABLED`.
    pub(crate) state: String,
    /// In the schedule's time zone, with its offset.
    pub(crate) next_fire: Piece<String>,
}

/// One run of the job: an ECS task, from ECS while it still lists the task (about an hour after
/// it stopped) and from the task's log stream after that.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct JobRun {
    pub(crate) task_id: String,
    pub(crate) started_at: Option<Time>,
    pub(crate) stopped_at: Option<Time>,
    pub(crate) duration_secs: Option<i64>,
    /// ECS's last status (`RUNNING`, `STOPPED`, ...), or `None` once ECS no longer lists the task.
    pub(crate) ecs_status: Option<String>,
    /// `FARGATE_SPOT` or `FARGATE`, when ECS still lists the task.
    pub(crate) capacity_provider: Option<String>,
    pub(crate) exit_code: Option<i32>,
    /// Why the task stopped, e.g. a Spot interruption.
    pub(crate) stopped_reason: Option<String>,
    /// The day of its start in the schedule's time zone, `YYYYMMDD`: the trade date it ran for.
    pub(crate) day: Option<String>,
    /// Whether that day's report (`reports/<strategy>/YYYYMMDD.json`) is in the bucket.
    pub(crate) report: Option<bool>,
    /// Whether that day's publish marker (`state/published/YYYYMMDD`) is in the bucket.
    pub(crate) published: Option<bool>,
    /// The last line the run logged, made readable (`error: ...` when the job failed).
    pub(crate) last_line: Option<String>,
}

/// The stored reports.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Reports {
    pub(crate) bucket: String,
    /// How many days the index lists.
    pub(crate) days_stored: usize,
    /// The newest stored day, `None` before the first run.
    pub(crate) latest: Option<LatestReport>,
}

/// The newest stored day and its error budget: whether too many funds lacked data.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LatestReport {
    pub(crate) day: String,
    /// False when more funds lacked data than the budget allows: stored, not published.
    pub(crate) complete: bool,
    pub(crate) funds: usize,
    pub(crate) undecided: usize,
    pub(crate) sample_data: bool,
}

/// The rule that tells the owner when the job fails, and who it tells.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Alarm {
    pub(crate) rule: String,
    /// `ENABLED` or `DISABLED`.
    pub(crate) state: String,
    pub(crate) topic: String,
    pub(crate) confirmed: u64,
    pub(crate) pending: u64,
}

/// The signal topic's subscriptions.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Subscribers {
    pub(crate) topic: String,
    pub(crate) confirmed: u64,
    pub(crate) pending: u64,
}

/// A chat channel of the stage's channels file.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ChannelStatus {
    pub(crate) name: String,
    /// `telegram`, `wecom`, `dingtalk`, `feishu` or `webhook`.
    pub(crate) kind: String,
    pub(crate) enabled: bool,
    /// `all` (every trading day) or `signals` (days with a BUY or SELL).
    pub(crate) only: String,
    /// Whether its delivery marker for the latest stored day is in the bucket; `None` when no day
    /// is stored or the bucket could not be read.
    pub(crate) delivered_latest: Option<bool>,
}

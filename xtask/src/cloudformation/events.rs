//! Following a stack while CloudFormation works on it: new events printed as they come, a
//! progress bar of resources done out of the resources the change set touches, and at the end
//! the failures, the first one (the root cause, usually) first.

use std::{collections::HashSet, time::Duration};

use aws_sdk_cloudformation::{Client, types::StackEvent};
use indicatif::{ProgressBar, ProgressStyle};

use crate::aws::AwsContext;
use crate::cloudformation::stack_status;

/// A resource that failed, as its event told it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) logical_id: String,
    pub(crate) resource_type: String,
    pub(crate) status: String,
    pub(crate) reason: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}) {}: {}", self.logical_id, self.resource_type, self.status, self.reason)
    }
}

/// How a stack operation ended.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) status: String,
    pub(crate) status_reason: Option<String>,
    /// Resource failures in the order they happened.
    pub(crate) failures: Vec<Failure>,
}

impl Outcome {
    /// The root-cause summary: the first failing resource and its reason, then the others.
    pub(crate) fn failure_summary(&self, stack_name: &str) -> String {
        // "Resource creation cancelled" and the like are consequences, not causes.
        let is_consequence = |it: &&Failure| {
            let reason = it.reason.to_ascii_lowercase();
            reason.contains("cancelled") || reason.contains("canceled")
        };
        let mut causes: Vec<&Failure> = self.failures.iter().filter(|it| !is_consequence(it)).collect();
        if causes.is_empty() {
            causes = self.failures.iter().collect();
        }
        let mut out = format!("stack {stack_name} ended in {}", self.status);
        match causes.split_first() {
            Some((first, rest)) => {
                out.push_str(&format!("; first failure: {first}"));
                for other in rest {
                    out.push_str(&format!("\n  then: {other}"));
                }
            }
            None => {
                let reason = self.status_reason.as_deref().unwrap_or("CloudFormation gave no reason");
                out.push_str(&format!(": {reason}"));
            }
        }
        out
    }
}

/// Events seen so far, so only new ones are shown.
#[derive(Debug, Default)]
pub(crate) struct Seen(HashSet<String>);

impl Seen {
    /// Marks every event the stack has now as seen: what came before this operation is not shown.
    pub(crate) async fn current(client: &Client, stack_id: &str) -> anyhow::Result<Seen> {
        let mut seen = Seen::default();
        for event in newest_events(client, stack_id, &seen).await? {
            seen.0.insert(event.event_id().unwrap_or_default().to_owned());
        }
        Ok(seen)
    }
}

/// Follows `stack_id` until its status is final, showing progress out of `total` resources.
pub(crate) async fn follow(
    client: &Client,
    stack_name: &str,
    stack_id: &str,
    mut seen: Seen,
    total: usize,
) -> anyhow::Result<Outcome> {
    let bar = ProgressBar::new(total.max(1) as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {prefix} [{bar:30}] {pos}/{len} resources  {wide_msg}")
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    bar.set_prefix(stack_name.to_owned());
    bar.enable_steady_tick(Duration::from_millis(200));
    let mut done: HashSet<String> = HashSet::new();
    let mut failures = Vec::new();
    let mut delay = Duration::from_millis(250);
    // Right after ExecuteChangeSet or DeleteStack, DescribeStacks may still give the previous,
    // final status. The operation has begun once the stack's own event for it shows up; an
    // endpoint that writes no events at all is believed after a few polls.
    let mut started = false;
    let mut polls_without_start = 0;
    loop {
        let events = newest_events(client, stack_id, &seen).await?;
        for event in events.iter().rev() {
            seen.0.insert(event.event_id().unwrap_or_default().to_owned());
            let logical_id = event.logical_resource_id().unwrap_or("?");
            let status = event.resource_status().map(|it| it.as_str()).unwrap_or("?");
            let resource_type = event.resource_type().unwrap_or("?");
            let reason = event.resource_status_reason().unwrap_or("");
            let is_stack = resource_type == "AWS::CloudFormation::Stack" && logical_id == stack_name;
            started |= is_stack;
            let line = format!("  {status:<28} {logical_id} {resource_type} {reason}").trim_end().to_owned();
            // Without a terminal the bar is hidden and so is what it prints: a log gets plain lines.
            if bar.is_hidden() {
                eprintln!("{line}");
            } else {
                bar.println(line);
            }
            if status.ends_with("_FAILED") && !is_stack {
                failures.push(Failure {
                    logical_id: logical_id.to_owned(),
                    resource_type: resource_type.to_owned(),
                    status: status.to_owned(),
                    reason: reason.to_owned(),
                });
            }
            if status.ends_with("_COMPLETE") && !is_stack && done.insert(logical_id.to_owned()) {
                bar.set_position(done.len().min(total) as u64);
            }
            if status.ends_with("_IN_PROGRESS") && !is_stack {
                bar.set_message(format!("{logical_id} {status}"));
            }
        }
        let (status, status_reason) = stack_status(client, stack_id).await?;
        polls_without_start += 1;
        if is_final(&status) && (started || polls_without_start > STATUS_ONLY_POLLS) {
            if status.ends_with("ROLLBACK_COMPLETE") || status.ends_with("_FAILED") {
                bar.abandon_with_message(format!("{status}: {} failed", failures.len()));
            } else {
                bar.set_position(total as u64);
                bar.finish_with_message(status.clone());
            }
            return Ok(Outcome { status, status_reason, failures });
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// How many polls a final status is not believed without an event of the stack's own.
const STATUS_ONLY_POLLS: u32 = 5;

/// A stack status after which nothing more happens until the next operation.
pub(crate) fn is_final(status: &str) -> bool {
    !status.ends_with("_IN_PROGRESS")
}

/// The stack's events not yet seen, newest first (the order CloudFormation gives them).
async fn newest_events(client: &Client, stack_id: &str, seen: &Seen) -> anyhow::Result<Vec<StackEvent>> {
    let mut events = Vec::new();
    let mut pages = client.describe_stack_events().stack_name(stack_id).into_paginator().items().send();
    while let Some(event) = pages.next().await {
        let event = event.aws_context(|| format!("reading the events of {stack_id}"))?;
        if seen.0.contains(event.event_id().unwrap_or_default()) {
            break;
        }
        events.push(event);
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(id: &str, reason: &str) -> Failure {
        Failure {
            logical_id: id.to_owned(),
            resource_type: "AWS::S3::Bucket".to_owned(),
            status: "CREATE_FAILED".to_owned(),
            reason: reason.to_owned(),
        }
    }

    #[test]
    fn failure_summary_starts_with_the_first_cause_not_the_cancellations() {
        let outcome = Outcome {
            status: "ROLLBACK_COMPLETE".to_owned(),
            status_reason: Some("The following resource(s) failed to create: [Topic, Reports].".to_owned()),
            failures: vec![failure("Topic", "Resource creation cancelled"), failure("Reports", "already exists")],
        };
        assert_eq!(
            outcome.failure_summary("s"),
            "stack s ended in ROLLBACK_COMPLETE; first failure: Reports (AWS::S3::Bucket) CREATE_FAILED: already exists"
        );
    }

    #[test]
    fn failure_summary_without_resource_events_gives_the_stack_reason() {
        let outcome = Outcome {
            status: "UPDATE_ROLLBACK_COMPLETE".to_owned(),
            status_reason: Some("boom".to_owned()),
            failures: vec![],
        };
        assert_eq!(outcome.failure_summary("s"), "stack s ended in UPDATE_ROLLBACK_COMPLETE: boom");
    }
}

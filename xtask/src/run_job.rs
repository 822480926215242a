//! `cargo xtask run-job [--date D | --backfill N]`: one run of the signal job, now.
//!
//! ECS RunTask with the schedule's settings: the FARGATE_SPOT capacity provider, awsvpc in the
//! network stack's public subnets with its security group and a public IP (there is no NAT).
//! The image's entrypoint is the `signal` binary, so the command override is its arguments:
//! `--date D` for one day, `--last N --no-publish` for a backfill (history without e-mails).

use anyhow::Context;
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, CapacityProviderStrategyItem, ContainerOverride, NetworkConfiguration,
    TaskOverride,
};
use stacks::{
    Part,
    parts::{app as app_outputs, network as network_outputs},
};
use xshell::Shell;

use crate::{
    aws::{Aws, AwsContext},
    deploy::{plan, runtime},
    flags,
    stage::Stage,
};

impl flags::RunJob {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let stage = Stage::resolve(sh, &self.aws, false)?;
        let assembly = stage.assembly()?;
        let arguments = job_arguments(self.date.as_deref(), self.backfill);
        runtime()?.block_on(async {
            let aws = Aws::load(&self.aws, stage.region(&self.aws).as_deref()).await?;
            // The outputs the deploy gave, or the resources they are made of where the endpoint lists none.
            let outputs = |part: Part| {
                let aws = &aws;
                let artifact = assembly.stack(part);
                async move {
                    let artifact = artifact?;
                    let name = &artifact.stack_name;
                    let outputs = plan::read_outputs(aws, artifact, None).await?;
                    let outputs =
                        outputs.with_context(|| format!("stack {name} does not exist: deploy the stage first"))?;
                    anyhow::Ok((name.clone(), outputs))
                }
            };
            let (app_name, app) = outputs(Part::App).await?;
            let (network_name, network) = outputs(Part::Network).await?;
            let output = |outputs: &crate::cloudformation::Outputs, stack: &str, key: &str| {
                outputs.get(key).cloned().with_context(|| format!("stack {stack} has no output {key}"))
            };
            let cluster = output(&app, &app_name, app_outputs::CLUSTER_NAME)?;
            let task_definition = output(&app, &app_name, app_outputs::JOB_TASK_DEFINITION_ARN)?;
            let subnets: Vec<String> = output(&network, &network_name, network_outputs::SUBNET_IDS)?
                .split(',')
                .map(|it| it.trim().to_owned())
                .collect();
            let security_group = output(&network, &network_name, network_outputs::SECURITY_GROUP_ID)?;

            let ecs = aws.ecs();
            let definition = ecs
                .describe_task_definition()
                .task_definition(&task_definition)
                .send()
                .await
                .aws_context(|| format!("describing task definition {task_definition}"))?;
            let container = definition
                .task_definition()
                .and_then(|it| it.container_definitions().first())
                .with_context(|| format!("task definition {task_definition} has no container"))?;
            let container_name = container.name().context("the job's container has no name")?.to_owned();
            let log_group = container
                .log_configuration()
                .and_then(|it| it.options())
                .and_then(|it| it.get("awslogs-group"))
                .cloned();

            let mut request = ecs
                .run_task()
                .cluster(&cluster)
                .task_definition(&task_definition)
                .count(1)
                .capacity_provider_strategy(
                    CapacityProviderStrategyItem::builder().capacity_provider("FARGATE_SPOT").weight(1).build()?,
                )
                .network_configuration(
                    NetworkConfiguration::builder()
                        .awsvpc_configuration(
                            AwsVpcConfiguration::builder()
                                .set_subnets(Some(subnets))
                                .security_groups(security_group)
                                .assign_public_ip(AssignPublicIp::Enabled)
                                .build()?,
                        )
                        .build(),
                )
                .started_by("cargo-xtask-run-job");
            if !arguments.is_empty() {
                request = request.overrides(
                    TaskOverride::builder()
                        .container_overrides(
                            ContainerOverride::builder()
                                .name(&container_name)
                                .set_command(Some(arguments.clone()))
                                .build(),
                        )
                        .build(),
                );
            }
            let res = request.send().await.aws_context(|| format!("starting the job on {cluster}"))?;
            if let Some(failure) = res.failures().first() {
                anyhow::bail!(
                    "ECS did not start the job: {} {}",
                    failure.reason().unwrap_or("no reason given"),
                    failure.detail().unwrap_or_default()
                );
            }
            let task = res.tasks().first().context("ECS started no task and gave no failure")?;
            let task_arn = task.task_arn().unwrap_or_default();
            println!("task:      {task_arn}");
            println!(
                "arguments: {}",
                if arguments.is_empty() {
                    "(the defaults: the latest trading day)".to_owned()
                } else {
                    arguments.join(" ")
                }
            );
            match log_group {
                Some(group) => {
                    let task_id = task_arn.rsplit('/').next().unwrap_or_default();
                    println!("log group: {group} (stream ends in {task_id})");
                }
                None => println!("log group: (the task definition names none)"),
            }
            Ok(())
        })
    }
}

/// The `signal` arguments of a run: one date, a backfill without publishing, or the defaults.
fn job_arguments(date: Option<&str>, backfill: Option<u32>) -> Vec<String> {
    match (date, backfill) {
        (Some(date), _) => vec!["--date".to_owned(), date.to_owned()],
        (None, Some(n)) => vec!["--last".to_owned(), n.to_string(), "--no-publish".to_owned()],
        (None, None) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backfill_runs_the_last_days_without_publishing() {
        assert_eq!(job_arguments(None, Some(60)), ["--last", "60", "--no-publish"]);
        assert_eq!(job_arguments(Some("20261127"), None), ["--date", "20261127"]);
        assert!(job_arguments(None, None).is_empty());
    }
}

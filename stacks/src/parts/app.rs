//! The app stack, in the stage's region: the alarm topic, the signal job on Fargate Spot with
//! its schedule and failure alarm, the two functions and the HTTP API.
//!
//! A pure function of its config: no AWS calls, no clock, no environment. What only the deploy
//! knows (code keys, the image digest, the network's ids, the data stack's bucket and topic)
//! comes in as parameters, each with its source in [`inputs`].

use std::collections::BTreeMap;

use crate::{
    apigateway::{self, HttpApiProps},
    config::StageConfig,
    ecr::RepositoryRef,
    ecs::{self, FargateTaskProps, TaskSize},
    events,
    lambda::{self, Code, FunctionProps},
    logs::{self, LogGroupProps},
    model::{
        error::SynthError,
        expr::Expr,
        handle::NamedResource,
        names::{KeyPrefix, LogicalId},
        parameter::{Parameter, ParameterType},
        stack::Stack,
    },
    parts::{
        ArtifactKind, EnvNames, Input, Part, bootstrap, channel_parameter_name, data, job_repository_name, network,
        token_parameter_name,
    },
    s3::BucketRef,
    scheduler::{self, EcsScheduleProps},
    sns::{self, TopicProps, TopicRef},
    ssm::ParameterRef,
};

/// Parameter: the bootstrap stack's assets bucket.
pub const ASSETS_BUCKET_NAME: &str = "AssetsBucketName";
/// Parameter: the key of the subscribe function's zip in the assets bucket.
pub const SUBSCRIBE_CODE_KEY: &str = "SubscribeCodeKey";
/// Parameter: the key of the web function's zip in the assets bucket.
pub const WEB_CODE_KEY: &str = "WebCodeKey";
/// Parameter: the digest of the job image in the job repository.
pub const JOB_IMAGE_DIGEST: &str = "JobImageDigest";
/// Parameter: the network stack's `SubnetIds` output.
pub const SUBNET_IDS: &str = "SubnetIds";
/// Parameter: the network stack's `SecurityGroupId` output.
pub const SECURITY_GROUP_ID: &str = "SecurityGroupId";
/// Parameter: the data stack's `ReportsBucketName` output.
pub const REPORTS_BUCKET_NAME: &str = "ReportsBucketName";
/// Parameter: the data stack's `SignalTopicArn` output.
pub const SIGNAL_TOPIC_ARN: &str = "SignalTopicArn";
/// Output: the HTTP API's host name (the edge stack's `ApiDomainName` parameter).
pub const API_DOMAIN_NAME: &str = "ApiDomainName";
/// Output: the HTTP API's address.
pub const API_ENDPOINT: &str = "ApiEndpoint";
/// Output: the cluster the job runs on, by name (for `cargo xtask run-job`).
pub const CLUSTER_NAME: &str = "ClusterName";
/// Output: the job's task definition (for `cargo xtask run-job`).
pub const JOB_TASK_DEFINITION_ARN: &str = "JobTaskDefinitionArn";

/// Logical ids of the app stack's resources that `cargo xtask status` and `logs` look up by
/// their physical ids (DescribeStackResources), which every endpoint fills, unlike outputs.
/// Logical ids never change, so these are as stable as output names.
pub mod ids {
    /// The owner's alarm topic (physical id: its ARN).
    pub const ALARMS: &str = "Alarms";
    /// The job's cluster (physical id: its name).
    pub const CLUSTER: &str = "Cluster";
    /// The job's task definition (physical id: its ARN).
    pub const JOB_TASK: &str = "JobTask";
    /// The job's schedule, in the default schedule group (physical id: its name).
    pub const JOB_SCHEDULE: &str = "JobSchedule";
    /// The EventBridge rule that tells the alarm topic when the job fails (physical id: its name).
    pub const JOB_FAILED: &str = "JobFailed";
    /// The job's log group (physical id: its name).
    pub const JOB_LOGS: &str = "JobLogs";
    /// The subscribe function.
    pub const SUBSCRIBE_FUNCTION: &str = "SubscribeFunction";
    /// The subscribe function's log group, `<function>Logs` (physical id: its name).
    pub const SUBSCRIBE_LOGS: &str = "SubscribeFunctionLogs";
    /// The web function.
    pub const WEB_FUNCTION: &str = "WebFunction";
    /// The web function's log group, `<function>Logs` (physical id: its name).
    pub const WEB_LOGS: &str = "WebFunctionLogs";
    /// The HTTP API.
    pub const API: &str = "Api";
    /// The HTTP API's access log group, `<api>Logs` (physical id: its name).
    pub const API_LOGS: &str = "ApiLogs";
}

/// The value of the job's source variable: real prices.
const SOURCE_TUSHARE: &str = "tushare";

/// Where each parameter of the app stack comes from.
pub fn inputs() -> Vec<(&'static str, Input)> {
    vec![
        (ASSETS_BUCKET_NAME, Input::output(Part::Bootstrap, bootstrap::ASSETS_BUCKET_NAME)),
        (SUBSCRIBE_CODE_KEY, Input::Artifact(ArtifactKind::SubscribeZip)),
        (WEB_CODE_KEY, Input::Artifact(ArtifactKind::WebZip)),
        (JOB_IMAGE_DIGEST, Input::Artifact(ArtifactKind::JobImage)),
        (SUBNET_IDS, Input::output(Part::Network, network::SUBNET_IDS)),
        (SECURITY_GROUP_ID, Input::output(Part::Network, network::SECURITY_GROUP_ID)),
        (REPORTS_BUCKET_NAME, Input::output(Part::Data, data::REPORTS_BUCKET_NAME)),
        (SIGNAL_TOPIC_ARN, Input::output(Part::Data, data::SIGNAL_TOPIC_ARN)),
    ]
}

pub fn stack(stage: &StageConfig, env: &EnvNames) -> Result<Stack, SynthError> {
    let mut stack = Stack::new(&Part::App.stack_name(&stage.name), "signal job, subscribe API and web pages")?;
    let prefix = format!("invest-alchemy-{}", stage.name);
    let assets_bucket = stack.parameter(
        ASSETS_BUCKET_NAME,
        Parameter::string("Bucket of the function zips (bootstrap stack output)", "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"),
    )?;
    let code_key_pattern = "^[A-Za-z0-9/._-]+\\.zip$";
    let subscribe_key = stack
        .parameter(SUBSCRIBE_CODE_KEY, Parameter::string("Key of the subscribe function's zip", code_key_pattern))?;
    let web_key =
        stack.parameter(WEB_CODE_KEY, Parameter::string("Key of the web function's zip", code_key_pattern))?;
    let image_digest =
        stack.parameter(JOB_IMAGE_DIGEST, Parameter::string("Digest of the job image", "^sha256:[0-9a-f]{64}$"))?;
    let subnets = stack.parameter(
        SUBNET_IDS,
        Parameter {
            parameter_type: ParameterType::SubnetIds,
            description: "Subnets of the job (network stack output)",
            allowed_pattern: None,
        },
    )?;
    let security_group = stack.parameter(
        SECURITY_GROUP_ID,
        Parameter {
            parameter_type: ParameterType::SecurityGroupId,
            description: "Security group of the job (network stack output)",
            allowed_pattern: None,
        },
    )?;

    let reports_prefix = KeyPrefix::new("reports/")?;
    let state_prefix = KeyPrefix::new("state/")?;
    // The Tushare source's price cache, so a daily run needs a constant number of API calls.
    let prices_prefix = KeyPrefix::new("prices/")?;
    stack.parameter(
        REPORTS_BUCKET_NAME,
        Parameter::string("Bucket of the reports (data stack output)", "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"),
    )?;
    let reports = BucketRef::from_name_parameter(LogicalId::new(REPORTS_BUCKET_NAME)?);
    stack.parameter(
        SIGNAL_TOPIC_ARN,
        Parameter::string(
            "Topic of the daily signals (data stack output)",
            "^arn:[a-z-]+:sns:[a-z0-9-]+:[0-9]{12}:.+$",
        ),
    )?;
    let signals = TopicRef::from_arn_parameter(LogicalId::new(SIGNAL_TOPIC_ARN)?);
    let alarms = sns::topic(&mut stack, ids::ALARMS, TopicProps { display_name: None, encrypted: false })?;
    if let Some(email) = &stage.alarm_email {
        sns::email_subscription(&mut stack, "AlarmsOwner", &alarms, email)?;
    }
    let site_url = stage.domain.as_ref().map(|domain| Expr::str(&format!("https://{}", domain.name)));

    // The signal job.
    let cluster = ecs::cluster(&mut stack, ids::CLUSTER)?;
    let job_logs = logs::log_group(
        &mut stack,
        ids::JOB_LOGS,
        LogGroupProps { name: None, retention_days: stage.log_retention_days },
    )?;
    let mut job_environment = vec![
        (env.source.to_owned(), Expr::str(SOURCE_TUSHARE)),
        (env.reports_bucket.to_owned(), reports.name()),
        (env.topic_arn.to_owned(), signals.arn()),
    ];
    if let Some(url) = &site_url {
        job_environment.push((env.site_url.to_owned(), url.clone()));
    }
    let mut job_secrets = vec![(env.tushare_token.to_owned(), ParameterRef::from_name(&token_parameter_name(stage)))];
    // The chat channels: the file as a plain value (only `${VAR}` references), each variable a
    // secret read from its own parameter, which the execution role may read and nothing else.
    if let Some(channels) = &stage.channels {
        job_environment.push((env.channels.to_owned(), Expr::str(&channels.text)));
        for variable in &channels.variables {
            job_secrets.push((variable.clone(), ParameterRef::from_name(&channel_parameter_name(stage, variable))));
        }
    }
    let job = ecs::fargate_task(
        &mut stack,
        ids::JOB_TASK,
        "job",
        FargateTaskProps {
            family: format!("{prefix}-job"),
            repository: RepositoryRef::from_name(&job_repository_name(stage)),
            image_digest,
            environment: job_environment,
            secrets: job_secrets,
            log_group: job_logs,
            size: TaskSize::default(),
            architecture: stage.architecture,
        },
    )?;
    stack.grant(job.task_role(), reports.grant_read(&reports_prefix));
    stack.grant(job.task_role(), reports.grant_write(&reports_prefix));
    stack.grant(job.task_role(), reports.grant_read(&state_prefix));
    stack.grant(job.task_role(), reports.grant_write(&state_prefix));
    stack.grant(job.task_role(), reports.grant_read(&prices_prefix));
    stack.grant(job.task_role(), reports.grant_write(&prices_prefix));
    stack.grant(job.task_role(), signals.grant_publish());
    scheduler::ecs_schedule(
        &mut stack,
        ids::JOB_SCHEDULE,
        &cluster,
        &job,
        EcsScheduleProps {
            expression: stage.schedule.clone(),
            time_zone: stage.time_zone.clone(),
            subnets,
            security_group,
            retries: 3,
        },
    )?;
    events::task_failure_alarm(&mut stack, ids::JOB_FAILED, &cluster, &alarms)?;

    // The functions and the API in front of them.
    let mut subscribe_props =
        FunctionProps::new(&format!("{prefix}-subscribe"), Code { bucket: assets_bucket.clone(), key: subscribe_key });
    subscribe_props.environment = BTreeMap::from([(env.topic_arn.to_owned(), signals.arn())]);
    subscribe_props.architecture = stage.architecture;
    subscribe_props.log_retention_days = stage.log_retention_days;
    let subscribe = lambda::function(&mut stack, ids::SUBSCRIBE_FUNCTION, subscribe_props)?;
    stack.grant(subscribe.role(), signals.grant_subscribe());

    let mut web_props = FunctionProps::new(&format!("{prefix}-web"), Code { bucket: assets_bucket, key: web_key });
    web_props.environment = BTreeMap::from([(env.reports_bucket.to_owned(), reports.name())]);
    if let Some(url) = site_url {
        web_props.environment.insert(env.site_url.to_owned(), url);
    }
    web_props.architecture = stage.architecture;
    web_props.log_retention_days = stage.log_retention_days;
    let web = lambda::function(&mut stack, ids::WEB_FUNCTION, web_props)?;
    stack.grant(web.role(), reports.grant_read(&reports_prefix));

    let mut api_props = HttpApiProps::new(&format!("{prefix}-api"));
    api_props.log_retention_days = stage.log_retention_days;
    let api = apigateway::http_api(&mut stack, ids::API, api_props)?;
    api.route(&mut stack, "SubscribeRoute", "POST /api/subscribe", &subscribe)?;
    api.route(&mut stack, "WebRoute", "$default", &web)?;

    stack.output(API_DOMAIN_NAME, "Host name of the HTTP API (edge stack parameter)", api.domain_name())?;
    stack.output(API_ENDPOINT, "Address of the HTTP API", api.endpoint())?;
    stack.output(CLUSTER_NAME, "Cluster of the signal job", cluster.name())?;
    stack.output(JOB_TASK_DEFINITION_ARN, "Task definition of the signal job", job.arn())?;
    Ok(stack)
}

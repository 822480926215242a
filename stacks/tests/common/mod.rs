//! The stages the tests synthesize: fixed here, not read from `alchemy.toml`, so that a change to
//! the checked-in configuration does not rewrite the snapshots.

#![allow(dead_code, reason = "each test file uses a part of the stages")]

use stacks::{
    EnvNames, JobChannels, Part, StageConfig, Template, config::DomainConfig, ecs::Architecture, synth_stage,
};

/// The names `platform::env` defines; xtask checks its own copy against `platform`.
pub(crate) const ENV: EnvNames = EnvNames {
    reports_bucket: "ALCHEMY_REPORTS_BUCKET",
    topic_arn: "ALCHEMY_TOPIC_ARN",
    site_url: "ALCHEMY_SITE_URL",
    source: "ALCHEMY_SOURCE",
    tushare_token: "TUSHARE_TOKEN",
    channels: "ALCHEMY_CHANNELS",
};

/// `dev` with every default: no domain, no alarm e-mail.
pub(crate) fn dev() -> StageConfig {
    StageConfig::new("dev", "ap-southeast-1").expect("a valid stage")
}

/// The channels file of `prod`: two channels, their credentials as `${VAR}`.
pub(crate) const PROD_CHANNELS: &str = "site_url = \"https://alchemy.example.com/\"\n\n[[channel]]\nname = \"tg\"\n\
    kind = \"telegram\"\ntoken = \"${TG_TOKEN}\"\nchat_id = \"-1001234567890\"\n\n[[channel]]\nname = \"wx\"\n\
    kind = \"wecom\"\nkey = \"${WECOM_KEY}\"\n";

/// `prod` with everything set: a domain, an alarm e-mail, arm64, longer log retention, chat channels.
pub(crate) fn prod() -> StageConfig {
    let mut stage = StageConfig::new("prod", "ap-southeast-1").expect("a valid stage");
    stage.domain =
        Some(DomainConfig { name: "alchemy.example.com".to_owned(), hosted_zone_id: "Z0123456789ABC".to_owned() });
    stage.alarm_email = Some("owner@example.com".to_owned());
    stage.architecture = Architecture::Arm64;
    stage.protected = true;
    stage.log_retention_days = 90;
    stage.channels_file = Some("channels.toml".to_owned());
    stage.channels = Some(JobChannels {
        text: PROD_CHANNELS.to_owned(),
        variables: vec!["TG_TOKEN".to_owned(), "WECOM_KEY".to_owned()],
    });
    stage
}

/// Every template of both stages, with the stage's name.
pub(crate) fn all_templates() -> Vec<(String, Part, Template)> {
    let mut all = Vec::new();
    for stage in [dev(), prod()] {
        for (part, template) in synth_stage(&stage, &ENV).expect("the stage synthesizes") {
            all.push((stage.name.clone(), part, template));
        }
    }
    all
}

//! The deployment configuration: `alchemy.toml` at the workspace root, one table per stage.
//!
//! Parsed once into [`StageConfig`] values that every stack is a pure function of. Optional
//! settings have defaults that are real choices, documented on each field.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::ecs::Architecture;

/// Why `alchemy.toml` cannot be used. Each variant names the offending value.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot parse the configuration")]
    Parse(#[source] toml::de::Error),
    #[error("stage {0:?} is not in the configuration")]
    UnknownStage(String),
    #[error("stage name {0:?} is not 1 to 12 lowercase ASCII letters or digits")]
    InvalidStageName(String),
    #[error("stage {stage}: region {region:?} is not a region name such as eu-west-1")]
    InvalidRegion { stage: String, region: String },
    #[error("stage {stage}: log retention of {days} days is not one CloudWatch accepts ({allowed:?})")]
    InvalidRetention { stage: String, days: u32, allowed: &'static [u32] },
    #[error("stage {stage}: schedule {schedule:?} is not cron(...), rate(...) or at(...)")]
    InvalidSchedule { stage: String, schedule: String },
    #[error("stage {stage}: domain {domain:?} is not a lowercase DNS name")]
    InvalidDomain { stage: String, domain: String },
    #[error("stage {stage}: hosted zone id {zone:?} is not a Route53 zone id such as Z0123456789ABC")]
    InvalidHostedZone { stage: String, zone: String },
    #[error("stage {stage}: alarm e-mail {email:?} is not an e-mail address")]
    InvalidEmail { stage: String, email: String },
    #[error("stage {stage}: channels file {file}: {reason}")]
    InvalidChannels { stage: String, file: String, reason: String },
}

/// Every stage of `alchemy.toml`, by name.
#[derive(Debug, Clone)]
pub struct Config {
    stages: BTreeMap<String, StageConfig>,
}

/// One deployment: a region, a schedule and the optional domain. Stacks are pure functions of it.
#[derive(Debug, Clone, PartialEq)]
pub struct StageConfig {
    /// 1 to 12 lowercase letters or digits; part of every stack and resource name.
    pub name: String,
    /// The region of the bootstrap, network and app stacks (edge is always us-east-1).
    pub region: String,
    /// When the job runs, an EventBridge Scheduler expression in `time_zone`.
    /// Default: `cron(0 18 ? * MON-FRI *)`, after the A-share close on every weekday.
    pub schedule: String,
    /// Default: `Asia/Shanghai`.
    pub time_zone: String,
    /// Whether deploying asks for confirmation first. Default: false.
    pub protected: bool,
    /// Default: x86_64.
    pub architecture: Architecture,
    /// Default: None (the site is at its CloudFront address).
    pub domain: Option<DomainConfig>,
    /// Where alarms go (the job failed). Default: None (the alarm topic has no subscriber).
    pub alarm_email: Option<String>,
    /// Days to keep the logs of the job, the functions and the API. Default: 30.
    pub log_retention_days: u32,
    /// The job's chat channels file, as `alchemy.toml` names it (relative to that file). Default: None.
    pub channels_file: Option<String>,
    /// That file as the job gets it, once read ([`Config::with_channels`]). Default: None (no channels).
    pub channels: Option<JobChannels>,
}

/// The job's chat channels in the cloud: the channels file's text, which the task gets as a plain
/// environment value (it holds only `${VAR}` references), and the variables it references, each
/// filled from the SecureString parameter [`crate::parts::channel_parameter_name`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobChannels {
    /// The file's text.
    pub text: String,
    /// The variables, each once, e.g. `TG_TOKEN`.
    pub variables: Vec<String>,
}

/// The site's own domain name and the Route53 hosted zone that holds it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainConfig {
    pub name: String,
    pub hosted_zone_id: String,
}

/// The retention periods CloudWatch Logs accepts.
const RETENTION_DAYS: &[u32] =
    &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

impl Config {
    /// Parses and checks the text of `alchemy.toml`.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let file: ConfigFile = toml::from_str(text).map_err(ConfigError::Parse)?;
        let mut stages = BTreeMap::new();
        for (name, raw) in file.stages {
            let stage = StageConfig::check(&name, raw)?;
            stages.insert(name, stage);
        }
        Ok(Config { stages })
    }

    pub fn stage(&self, name: &str) -> Result<&StageConfig, ConfigError> {
        self.stages.get(name).ok_or_else(|| ConfigError::UnknownStage(name.to_owned()))
    }

    /// Every stage, by name.
    pub fn stages(&self) -> impl Iterator<Item = &StageConfig> {
        self.stages.values()
    }

    /// The configuration with each stage's channels file read by `read` (given the file as
    /// `alchemy.toml` names it; the reason it cannot be used is its error).
    pub fn with_channels(mut self, read: &dyn Fn(&str) -> Result<JobChannels, String>) -> Result<Config, ConfigError> {
        for stage in self.stages.values_mut() {
            if let Some(file) = &stage.channels_file {
                let channels = read(file).map_err(|reason| ConfigError::InvalidChannels {
                    stage: stage.name.clone(),
                    file: file.clone(),
                    reason,
                })?;
                stage.channels = Some(channels);
            }
        }
        Ok(self)
    }
}

impl StageConfig {
    /// A stage in `region` with every default: what a sample or a test starts from.
    pub fn new(name: &str, region: &str) -> Result<StageConfig, ConfigError> {
        let raw = RawStage {
            region: region.to_owned(),
            schedule: None,
            time_zone: None,
            protected: None,
            architecture: None,
            domain: None,
            alarm_email: None,
            log_retention_days: None,
            channels: None,
        };
        StageConfig::check(name, raw)
    }

    fn check(name: &str, raw: RawStage) -> Result<StageConfig, ConfigError> {
        let stage = name.to_owned();
        if !(1..=12).contains(&name.len()) || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
            return Err(ConfigError::InvalidStageName(stage));
        }
        let region_parts: Vec<&str> = raw.region.split('-').collect();
        let region_ok = region_parts.len() >= 3
            && region_parts
                .iter()
                .all(|it| !it.is_empty() && it.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        if !region_ok {
            return Err(ConfigError::InvalidRegion { stage, region: raw.region });
        }
        let schedule = raw.schedule.unwrap_or_else(|| "cron(0 18 ? * MON-FRI *)".to_owned());
        let schedule_ok =
            ["cron(", "rate(", "at("].iter().any(|it| schedule.starts_with(it)) && schedule.ends_with(')');
        if !schedule_ok {
            return Err(ConfigError::InvalidSchedule { stage, schedule });
        }
        let log_retention_days = raw.log_retention_days.unwrap_or(30);
        if !RETENTION_DAYS.contains(&log_retention_days) {
            return Err(ConfigError::InvalidRetention { stage, days: log_retention_days, allowed: RETENTION_DAYS });
        }
        if let Some(domain) = &raw.domain {
            let labels_ok = domain.name.split('.').count() >= 2
                && domain.name.split('.').all(|label| {
                    !label.is_empty()
                        && !label.starts_with('-')
                        && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                });
            if !labels_ok {
                return Err(ConfigError::InvalidDomain { stage, domain: domain.name.clone() });
            }
            let zone = &domain.hosted_zone_id;
            if !zone.starts_with('Z')
                || !zone.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
                || zone.len() > 32
            {
                return Err(ConfigError::InvalidHostedZone { stage, zone: zone.clone() });
            }
        }
        if let Some(email) = &raw.alarm_email {
            let ok = email.split_once('@').is_some_and(|(local, host)| !local.is_empty() && host.contains('.'))
                && !email.contains(char::is_whitespace);
            if !ok {
                return Err(ConfigError::InvalidEmail { stage, email: email.clone() });
            }
        }
        Ok(StageConfig {
            name: stage,
            region: raw.region,
            schedule,
            time_zone: raw.time_zone.unwrap_or_else(|| "Asia/Shanghai".to_owned()),
            protected: raw.protected.unwrap_or(false),
            architecture: raw.architecture.unwrap_or_default(),
            domain: raw.domain,
            alarm_email: raw.alarm_email,
            log_retention_days,
            channels_file: raw.channels,
            channels: None,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    stages: BTreeMap<String, RawStage>,
}

/// A stage as written, before defaults and checks.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStage {
    region: String,
    schedule: Option<String>,
    time_zone: Option<String>,
    protected: Option<bool>,
    architecture: Option<Architecture>,
    domain: Option<DomainConfig>,
    alarm_email: Option<String>,
    log_retention_days: Option<u32>,
    channels: Option<String>,
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    fn check_error(toml: &str, expected: Expect) {
        let err = Config::parse(toml).unwrap_err();
        expected.assert_eq(&err.to_string());
    }

    /// Checks the error for a stage `dev` in eu-west-1 with one more `setting` line.
    fn check_setting_error(setting: &str, expected: Expect) {
        check_error(&format!("[stages.dev]\nregion = \"eu-west-1\"\n{setting}\n"), expected);
    }

    #[test]
    fn a_stage_with_only_a_region_gets_the_documented_defaults() {
        let config = Config::parse("[stages.dev]\nregion = \"ap-southeast-1\"\n").unwrap();
        let dev = config.stage("dev").unwrap();
        assert_eq!(dev, &StageConfig::new("dev", "ap-southeast-1").unwrap());
        assert_eq!(dev.schedule, "cron(0 18 ? * MON-FRI *)");
        assert_eq!(dev.time_zone, "Asia/Shanghai");
        assert_eq!(dev.architecture, Architecture::X86_64);
        assert_eq!(dev.log_retention_days, 30);
        assert!(!dev.protected && dev.domain.is_none() && dev.alarm_email.is_none());
    }

    #[test]
    fn every_setting_can_be_given() {
        let config = Config::parse(
            r#"
            [stages.prod]
            region = "eu-west-1"
            schedule = "cron(30 19 ? * MON-FRI *)"
            time_zone = "Europe/London"
            protected = true
            architecture = "arm64"
            domain = { name = "alchemy.example.com", hosted_zone_id = "Z0123456789ABC" }
            alarm_email = "owner@example.com"
            log_retention_days = 90
            "#,
        )
        .unwrap();
        let prod = config.stage("prod").unwrap();
        assert_eq!(prod.architecture, Architecture::Arm64);
        assert_eq!(prod.domain.as_ref().unwrap().name, "alchemy.example.com");
        assert!(prod.protected);
    }

    #[test]
    fn unknown_stages_and_settings_are_errors() {
        let config = Config::parse("[stages.dev]\nregion = \"ap-southeast-1\"\n").unwrap();
        expect![[r#"stage "prod" is not in the configuration"#]]
            .assert_eq(&config.stage("prod").unwrap_err().to_string());
        check_error(
            "[stages.dev]\nregion = \"ap-southeast-1\"\nregoin = 1\n",
            expect!["cannot parse the configuration"],
        );
    }

    #[test]
    fn invalid_values_name_the_stage_and_the_value() {
        check_error(
            "[stages.Dev]\nregion = \"eu-west-1\"\n",
            expect![[r#"stage name "Dev" is not 1 to 12 lowercase ASCII letters or digits"#]],
        );
        check_error(
            "[stages.dev]\nregion = \"europe\"\n",
            expect![[r#"stage dev: region "europe" is not a region name such as eu-west-1"#]],
        );
        check_setting_error(
            "log_retention_days = 31",
            expect![
                "stage dev: log retention of 31 days is not one CloudWatch accepts ([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653])"
            ],
        );
        check_setting_error(
            r#"schedule = "0 18 * * 1-5""#,
            expect![[r#"stage dev: schedule "0 18 * * 1-5" is not cron(...), rate(...) or at(...)"#]],
        );
        check_setting_error(
            r#"domain = { name = "Example.com", hosted_zone_id = "Z1" }"#,
            expect![[r#"stage dev: domain "Example.com" is not a lowercase DNS name"#]],
        );
        check_setting_error(
            r#"domain = { name = "example.com", hosted_zone_id = "zone" }"#,
            expect![[r#"stage dev: hosted zone id "zone" is not a Route53 zone id such as Z0123456789ABC"#]],
        );
        check_setting_error(
            r#"alarm_email = "owner""#,
            expect![[r#"stage dev: alarm e-mail "owner" is not an e-mail address"#]],
        );
    }
}

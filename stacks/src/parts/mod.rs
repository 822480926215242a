//! The four stacks of a stage, named `invest-alchemy-<stage>-<part>`, deployed in this order:
//! bootstrap (assets bucket, image repository), network, app, edge (us-east-1).
//!
//! Values flow from one stack to the next as parameters that xtask fills from the previous
//! stack's outputs, never as CloudFormation exports: exports lock stacks together and do not
//! cross regions, and edge lives in another region than app.

pub mod app;
pub mod bootstrap;
pub mod edge;
pub mod network;

use crate::{
    config::StageConfig,
    model::{error::SynthError, template::Template},
};

/// One of the four stacks of a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    Bootstrap,
    Network,
    App,
    Edge,
}

impl Part {
    /// Every part, in deploy order.
    pub const ALL: [Part; 4] = [Part::Bootstrap, Part::Network, Part::App, Part::Edge];

    pub fn name(self) -> &'static str {
        match self {
            Part::Bootstrap => "bootstrap",
            Part::Network => "network",
            Part::App => "app",
            Part::Edge => "edge",
        }
    }

    /// The CloudFormation stack name: `invest-alchemy-<stage>-<part>`.
    pub fn stack_name(self, stage: &StageConfig) -> String {
        format!("invest-alchemy-{}-{}", stage.name, self.name())
    }

    /// The region the stack is deployed to: the stage's, except edge, which CloudFront needs in us-east-1.
    pub fn region(self, stage: &StageConfig) -> String {
        match self {
            Part::Edge => "us-east-1".to_owned(),
            _ => stage.region.clone(),
        }
    }
}

/// The names of the environment variables the job and the functions read. They are constants
/// in `platform::env`; `stacks` does not depend on `platform`, so xtask passes them in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvNames {
    pub reports_bucket: &'static str,
    pub topic_arn: &'static str,
    pub site_url: &'static str,
    pub source: &'static str,
    pub tushare_token: &'static str,
    pub channels: &'static str,
}

/// Synthesizes every stack of `stage`, in deploy order.
pub fn synth_stage(stage: &StageConfig, env: &EnvNames) -> Result<Vec<(Part, Template)>, SynthError> {
    let mut templates = Vec::with_capacity(Part::ALL.len());
    for part in Part::ALL {
        let stack = match part {
            Part::Bootstrap => bootstrap::stack(stage)?,
            Part::Network => network::stack(stage)?,
            Part::App => app::stack(stage, env)?,
            Part::Edge => edge::stack(stage)?,
        };
        templates.push((part, stack.synth()?));
    }
    Ok(templates)
}

/// The name of the job image repository of `stage`, which bootstrap makes and app pulls from.
pub fn job_repository_name(stage: &StageConfig) -> String {
    format!("invest-alchemy-{}-job", stage.name)
}

/// The SSM SecureString parameter holding the Tushare token of `stage`, written by
/// `cargo xtask secret set` outside any template.
pub fn token_parameter_name(stage: &StageConfig) -> String {
    format!("/invest-alchemy/{}/tushare-token", stage.name)
}

/// The SSM SecureString parameter holding the chat channels' variable `variable` (a `${VAR}` of
/// the stage's channels file): `/invest-alchemy/<stage>/channels/<VAR>`, written by
/// `cargo xtask secret set VAR` outside any template.
pub fn channel_parameter_name(stage: &StageConfig, variable: &str) -> String {
    format!("/invest-alchemy/{}/channels/{variable}", stage.name)
}

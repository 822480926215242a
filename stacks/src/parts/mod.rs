//! The five stacks of a stage, named `invest-alchemy-<stage>-<part>`, deployed in this order:
//! bootstrap (assets bucket, image repository), network, data (the reports bucket and the signal
//! topic: the users' data, kept by `destroy`), app, edge (us-east-1).
//!
//! Values flow from one stack to the next as parameters that xtask fills from the previous
//! stack's outputs, never as CloudFormation exports: exports lock stacks together and do not
//! cross regions, and edge lives in another region than app. Each part says where each of its
//! parameters comes from (`inputs`); [`crate::assembly`] puts them together and checks them.

pub mod app;
pub mod bootstrap;
pub mod data;
pub mod edge;
pub mod network;

use serde::{Deserialize, Serialize};

use crate::{
    config::StageConfig,
    model::{error::SynthError, stack::Stack, template::Template},
};

/// One of the five stacks of a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    Bootstrap,
    Network,
    Data,
    App,
    Edge,
}

impl Part {
    /// Every part, in deploy order.
    pub const ALL: [Part; 5] = [Part::Bootstrap, Part::Network, Part::Data, Part::App, Part::Edge];

    pub fn name(self) -> &'static str {
        match self {
            Part::Bootstrap => "bootstrap",
            Part::Network => "network",
            Part::Data => "data",
            Part::App => "app",
            Part::Edge => "edge",
        }
    }

    /// The part of this name, `None` for any other.
    pub fn parse(name: &str) -> Option<Part> {
        Part::ALL.into_iter().find(|it| it.name() == name)
    }

    /// The CloudFormation stack name of this part of the stage `stage`: `invest-alchemy-<stage>-<part>`.
    pub fn stack_name(self, stage: &str) -> String {
        format!("invest-alchemy-{stage}-{}", self.name())
    }

    /// The region the stack is deployed to: the stage's, except edge, which CloudFront needs in us-east-1.
    pub fn region(self, stage_region: &str) -> String {
        match self {
            Part::Edge => EDGE_REGION.to_owned(),
            _ => stage_region.to_owned(),
        }
    }

    /// Where each of the part's parameters comes from, by parameter name.
    pub fn inputs(self) -> Vec<(&'static str, Input)> {
        match self {
            Part::Bootstrap | Part::Network => Vec::new(),
            Part::Data => data::inputs(),
            Part::App => app::inputs(),
            Part::Edge => edge::inputs(),
        }
    }

    /// Whether deploy turns on the stack's termination protection: only the data stack, which
    /// holds what cannot be rebuilt.
    pub fn termination_protection(self) -> bool {
        self == Part::Data
    }

    /// What a deploy imports into the part's stack when it does not exist yet: the reports
    /// bucket that the app stack held before the data stack existed.
    pub fn adoption(self, stage: &str) -> Option<Adoption> {
        (self == Part::Data).then(|| data::adoption(stage))
    }

    /// The part's stack, built from the stage's configuration.
    pub fn stack(self, stage: &StageConfig, env: &EnvNames) -> Result<Stack, SynthError> {
        match self {
            Part::Bootstrap => bootstrap::stack(stage),
            Part::Network => network::stack(stage),
            Part::Data => data::stack(stage),
            Part::App => app::stack(stage, env),
            Part::Edge => edge::stack(stage),
        }
    }
}

/// Where the value of a template parameter comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    /// The output `key` of the stack of `part`, deployed before this one.
    Output { part: Part, key: String },
    /// A packaged artifact, known once `cargo xtask package` (or deploy) built it.
    Artifact(ArtifactKind),
    /// A value of the stage's configuration, fixed at synthesis.
    Config(String),
}

impl Input {
    /// The output `key` of the stack of `part`.
    pub fn output(part: Part, key: &str) -> Input {
        Input::Output { part, key: key.to_owned() }
    }
}

/// The artifacts packaging makes, each a parameter of the app stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArtifactKind {
    /// The subscribe function's zip: its key in the assets bucket.
    SubscribeZip,
    /// The web function's zip: its key in the assets bucket.
    WebZip,
    /// The job image: its manifest digest.
    JobImage,
}

/// Resources made before the stack existed, which a deploy imports (an IMPORT change set with
/// `template`) instead of creating new ones, then updates the stack to its full template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adoption {
    /// The import's template file, beside the manifest: the stack with only these resources and no outputs.
    pub template: String,
    pub resources: Vec<AdoptedResource>,
}

/// One resource to import, found by the start of its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdoptedResource {
    pub logical_id: String,
    pub resource_type: String,
    /// The identifier property the import names it by, e.g. `BucketName`.
    pub identifier: String,
    /// What its name started with when CloudFormation made it, e.g. `invest-alchemy-dev-app-reports-`.
    pub name_prefix: String,
    /// The stack that held it then, and may still hold it.
    pub previous_stack: String,
}

/// Where CloudFront wants its stack and its certificate.
pub const EDGE_REGION: &str = "us-east-1";

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
    Part::ALL.into_iter().map(|part| Ok((part, part.stack(stage, env)?.synth()?))).collect()
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

//! Typed CloudFormation for invest-alchemy: a small template model, CDK-style constructs and the
//! app's stacks, synthesized to YAML.
//!
//! - [`model`]: logical ids, intrinsic functions, resources, parameters, outputs, the stack and
//!   its checked synthesis to a deterministic [`Template`].
//! - [`iam`] and one module per AWS service: constructs (`s3::bucket(&mut stack, id, props)`)
//!   with safe defaults, typed property structs and grants as values.
//! - [`config`]: `alchemy.toml`, the stages.
//! - [`parts`]: the five stacks of a stage; [`assembly`]: them together, with where each
//!   parameter's value comes from (`manifest.json`).
//!
//! `stacks` knows nothing of `platform`: names the code reads reach it from `xtask`.

pub mod apigateway;
pub mod assembly;
pub mod cloudfront;
pub mod config;
pub mod dns;
pub mod ec2;
pub mod ecr;
pub mod ecs;
pub mod events;
pub mod iam;
pub mod lambda;
pub mod logs;
pub mod model;
pub mod parts;
pub mod s3;
pub mod scheduler;
pub mod sns;
pub mod ssm;

mod yaml;

pub use crate::{
    assembly::{AssemblyError, OutputSource, StackArtifact, StageAssembly},
    config::{Config, ConfigError, JobChannels, StageConfig},
    model::{error::SynthError, template::Template},
    parts::{ArtifactKind, EnvNames, Input, Part, synth_stage},
};

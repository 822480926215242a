//! Typed CloudFormation for invest-alchemy: a small template model, CDK-style constructs and the
//! app's stacks, synthesized to YAML.
//!
//! `stacks` knows nothing of `platform`: names the code reads reach it from `xtask`.

//! The stage a command works on: its table of `alchemy.toml` when it has one.
//!
//! A stage of `alchemy.toml` gives the settings deploys obey: `protected`, the region, the stack
//! names (`Part::stack_name`), the region of each part (`Part::region`: edge in us-east-1) and
//! the name of the token parameter. A stage that is not in the file is still accepted where only
//! its name matters (destroy, run-job, secret set) and by deploy and diff given `--templates`:
//! it is not protected and its region comes from `--region` or the standard chain. That is what
//! the tests do with ad-hoc stages against the emulator.

use std::path::{Path, PathBuf};

use anyhow::Context;
use stacks::{Config, Part, StageConfig};
use xshell::Shell;

use crate::flags;

/// The deployment configuration at the workspace root.
pub(crate) const CONFIG_FILE: &str = "alchemy.toml";

/// A stage by name, with its settings when `alchemy.toml` has them.
#[derive(Debug, Clone)]
pub(crate) struct Stage {
    pub(crate) name: String,
    pub(crate) config: Option<StageConfig>,
}

impl Stage {
    /// The stage of `flags.stage`. With `known_only`, a stage missing from the configuration is an
    /// error (deploy and diff without `--templates`: there is nothing to synthesize).
    pub(crate) fn resolve(sh: &Shell, flags: &flags::Aws, known_only: bool) -> anyhow::Result<Stage> {
        let config = load(sh, flags.config.as_deref())?;
        match config.stage(&flags.stage) {
            Ok(stage) => Ok(Stage { name: flags.stage.clone(), config: Some(stage.clone()) }),
            Err(_) if known_only => {
                let file = flags.config.as_deref().unwrap_or(Path::new(CONFIG_FILE)).display();
                anyhow::bail!(
                    "stage {:?} is not in {file}: add a [stages.{}] table there, or pass --templates DIR",
                    flags.stage,
                    flags.stage
                )
            }
            Err(_) => Ok(Stage { name: flags.stage.clone(), config: None }),
        }
    }

    /// Whether deploys ask before executing a change set: the stage's `protected` setting; a
    /// stage outside the configuration is not protected.
    pub(crate) fn protected(&self) -> bool {
        self.config.as_ref().is_some_and(|it| it.protected)
    }

    /// The CloudFormation stack name of `part`: `invest-alchemy-<stage>-<part>`.
    pub(crate) fn stack_name(&self, part: &str) -> String {
        match &self.config {
            Some(config) => part_of(part).stack_name(config),
            None => format!("invest-alchemy-{}-{part}", self.name),
        }
    }

    /// The region of `part` when it is not the one the command runs in: edge's us-east-1.
    /// The other parts use the loaded region (`--region`, else the stage's, else the chain).
    pub(crate) fn region_of(&self, part: &str) -> Option<String> {
        let part = part_of(part);
        if part != Part::Edge {
            return None;
        }
        Some(match &self.config {
            Some(config) => part.region(config),
            None => "us-east-1".to_owned(),
        })
    }

    /// The AWS flags with the stage's region when `--region` is not given: `--region` first,
    /// then the stage's region in the configuration, then the standard chain (`AWS_REGION`, the
    /// profile's region).
    pub(crate) fn aws_flags(&self, flags: &flags::Aws) -> flags::Aws {
        let mut flags = flags.clone();
        if flags.region.is_none() {
            flags.region = self.config.as_ref().map(|it| it.region.clone());
        }
        flags
    }

    /// The SSM parameter holding the Tushare token of the stage.
    pub(crate) fn token_parameter_name(&self) -> String {
        match &self.config {
            Some(config) => stacks::parts::token_parameter_name(config),
            None => format!("/invest-alchemy/{}/tushare-token", self.name),
        }
    }
}

/// The configuration: `file` (relative to where the command was run) or `alchemy.toml` at the
/// workspace root (the shell's directory). The one loader of every command.
pub(crate) fn load(sh: &Shell, file: Option<&Path>) -> anyhow::Result<Config> {
    let path: PathBuf = match file {
        Some(file) => std::env::current_dir().map(|cwd| cwd.join(file)).unwrap_or_else(|_| file.to_owned()),
        None => sh.current_dir().join(CONFIG_FILE),
    };
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Config::parse(&text).with_context(|| format!("reading {}", path.display()))
}

/// The part of this name (one of `deploy::PARTS`).
fn part_of(name: &str) -> Part {
    Part::ALL.into_iter().find(|it| it.name() == name).unwrap_or_else(|| panic!("{name:?} is not a part"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(stage: &str, region: Option<&str>) -> flags::Aws {
        flags::Aws {
            stage: stage.to_owned(),
            config: None,
            profile: None,
            region: region.map(str::to_owned),
            endpoint_url: None,
            yes: false,
        }
    }

    fn shell() -> Shell {
        let sh = Shell::new().unwrap();
        sh.change_dir(crate::project_root());
        sh
    }

    #[test]
    fn a_stage_of_the_configuration_gives_its_region_protection_and_names() {
        let prod = Stage::resolve(&shell(), &flags("prod", None), true).unwrap();
        assert!(prod.protected());
        assert_eq!(prod.aws_flags(&flags("prod", None)).region.as_deref(), Some("ap-southeast-1"));
        // --region wins over the stage's region.
        assert_eq!(prod.aws_flags(&flags("prod", Some("eu-west-1"))).region.as_deref(), Some("eu-west-1"));
        assert_eq!(prod.stack_name("app"), "invest-alchemy-prod-app");
        assert_eq!(prod.region_of("app"), None);
        assert_eq!(prod.region_of("edge").as_deref(), Some("us-east-1"));
        assert_eq!(prod.token_parameter_name(), "/invest-alchemy/prod/tushare-token");
        assert!(!Stage::resolve(&shell(), &flags("dev", None), true).unwrap().protected());
    }

    #[test]
    fn a_stage_outside_the_configuration_is_unprotected_and_takes_the_region_of_the_chain() {
        let err = Stage::resolve(&shell(), &flags("tadhoc", None), true).unwrap_err();
        assert!(format!("{err:#}").contains("pass --templates DIR"), "{err:#}");
        let adhoc = Stage::resolve(&shell(), &flags("tadhoc", None), false).unwrap();
        assert!(!adhoc.protected());
        assert_eq!(adhoc.aws_flags(&flags("tadhoc", None)).region, None);
        assert_eq!(adhoc.stack_name("network"), "invest-alchemy-tadhoc-network");
        assert_eq!(adhoc.region_of("edge").as_deref(), Some("us-east-1"));
    }
}

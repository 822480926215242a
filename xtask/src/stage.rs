//! The stage a command works on: its table of `alchemy.toml` when it has one, and [`load`], the
//! one loader of the configuration.
//!
//! A stage of `alchemy.toml` gives the settings deploys obey: `protected`, the region, and its
//! assembly (`stacks::StageAssembly`: the stacks, their regions and inputs). A stage that is not
//! in the file is still accepted where only its name matters (destroy, secret set, status, logs:
//! the stack names are `Part::stack_name`) and by deploy and diff given `--templates` (a folder
//! with its `manifest.json`): it is not protected and its region comes from `--region` or the
//! standard chain. That is what the tests do with ad-hoc stages against the emulator.

use std::path::{Path, PathBuf};

use anyhow::Context;
use platform::channels::ChannelsFile;
use stacks::{Config, EnvNames, JobChannels, Part, StageAssembly, StageConfig, parts::EDGE_REGION};
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
    pub(crate) fn stack_name(&self, part: Part) -> String {
        part.stack_name(&self.name)
    }

    /// The region of `part` when it is not the one the command runs in: edge's us-east-1.
    /// The other parts use the loaded region (`--region`, else the stage's, else the chain).
    pub(crate) fn region_of(&self, part: Part) -> Option<String> {
        (part == Part::Edge).then(|| EDGE_REGION.to_owned())
    }

    /// The region the command runs in: `--region` first, then the stage's region in the
    /// configuration; `None` leaves it to the standard chain (`AWS_REGION`, the profile's region).
    pub(crate) fn region(&self, flags: &flags::Aws) -> Option<String> {
        flags.region.clone().or_else(|| self.config.as_ref().map(|it| it.region.clone()))
    }

    /// The stage's assembly, synthesized in memory (nothing written), when the stage is in the configuration.
    pub(crate) fn assembly(&self) -> anyhow::Result<StageAssembly> {
        let Some(config) = &self.config else {
            anyhow::bail!("stage {} is not in the configuration: add a [stages.{}] table", self.name, self.name)
        };
        let (assembly, _) =
            StageAssembly::synth(config, &env_names()).with_context(|| format!("synthesizing stage {}", self.name))?;
        Ok(assembly)
    }

    /// The variables the stage's channels file references (none without one).
    pub(crate) fn channel_variables(&self) -> Vec<String> {
        self.config.as_ref().and_then(|it| it.channels.as_ref()).map(|it| it.variables.clone()).unwrap_or_default()
    }

    /// The SSM parameter holding the channels' variable `variable`: `/invest-alchemy/<stage>/channels/<VAR>`.
    pub(crate) fn channel_parameter_name(&self, variable: &str) -> String {
        match &self.config {
            Some(config) => stacks::parts::channel_parameter_name(config, variable),
            None => format!("/invest-alchemy/{}/channels/{variable}", self.name),
        }
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
/// workspace root (the shell's directory). The one loader of every command. A stage's `channels`
/// file (relative to the configuration's folder) is read and checked here ([`read_channels`]).
pub(crate) fn load(sh: &Shell, file: Option<&Path>) -> anyhow::Result<Config> {
    let path: PathBuf = match file {
        Some(file) => std::env::current_dir().map(|cwd| cwd.join(file)).unwrap_or_else(|_| file.to_owned()),
        None => sh.current_dir().join(CONFIG_FILE),
    };
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let folder = path.parent().map(Path::to_owned).unwrap_or_default();
    Config::parse(&text)
        .and_then(|config| config.with_channels(&|name| read_channels(&folder.join(name))))
        .with_context(|| format!("reading {}", path.display()))
}

/// The names of the variables the job and the functions read, from `platform`, where the code
/// that reads them takes them from.
pub(crate) fn env_names() -> EnvNames {
    EnvNames {
        reports_bucket: platform::env::REPORTS_BUCKET,
        topic_arn: platform::env::TOPIC_ARN,
        site_url: platform::env::SITE_URL,
        source: platform::env::SOURCE,
        tushare_token: platform::env::TUSHARE_TOKEN,
        channels: platform::env::CHANNELS,
    }
}

/// A channels file as the job gets it in the cloud: its text and the variables it references.
/// Every credential must be a whole `${VAR}` (the text reaches the task as a plain value), and no
/// variable may shadow one the job or the platform sets (`ALCHEMY_*`, `AWS_*`, `ECS_*`, `TUSHARE_*`).
pub(crate) fn read_channels(path: &Path) -> Result<JobChannels, String> {
    let text = std::fs::read_to_string(path).map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    let variables = ChannelsFile::cloud_variables(&text).map_err(|err| err.to_string())?;
    if let Some(taken) = variables.iter().find(|name| RESERVED_PREFIXES.iter().any(|prefix| name.starts_with(prefix))) {
        return Err(format!(
            "${{{taken}}} would shadow a variable the job or the platform sets: name it without {}",
            RESERVED_PREFIXES.join(", ")
        ));
    }
    Ok(JobChannels { text, variables })
}

/// Prefixes of the variables the task definition, ECS and the job's own flags use.
const RESERVED_PREFIXES: [&str; 4] = ["ALCHEMY_", "AWS_", "ECS_", "TUSHARE_"];

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
        assert_eq!(prod.region(&flags("prod", None)).as_deref(), Some("ap-southeast-1"));
        // --region wins over the stage's region.
        assert_eq!(prod.region(&flags("prod", Some("eu-west-1"))).as_deref(), Some("eu-west-1"));
        assert_eq!(prod.stack_name(Part::App), "invest-alchemy-prod-app");
        assert_eq!(prod.region_of(Part::App), None);
        assert_eq!(prod.region_of(Part::Edge).as_deref(), Some("us-east-1"));
        assert_eq!(prod.token_parameter_name(), "/invest-alchemy/prod/tushare-token");
        assert!(!Stage::resolve(&shell(), &flags("dev", None), true).unwrap().protected());
    }

    #[test]
    fn a_stage_with_a_channels_file_gets_its_text_and_variables() {
        let dir = tempfile::tempdir().unwrap();
        let channels = "site_url = \"https://a.example/\"\n[[channel]]\nname = \"tg\"\nkind = \"telegram\"\n\
                        token = \"${TG_TOKEN}\"\nchat_id = \"-1\"\n";
        std::fs::write(dir.path().join("channels.toml"), channels).unwrap();
        let config = dir.path().join("alchemy.toml");
        std::fs::write(&config, "[stages.team]\nregion = \"eu-west-1\"\nchannels = \"channels.toml\"\n").unwrap();
        let mut aws = flags("team", None);
        aws.config = Some(config.clone());
        let stage = Stage::resolve(&shell(), &aws, true).unwrap();
        assert_eq!(stage.config.as_ref().unwrap().channels.as_ref().unwrap().text, channels);
        assert_eq!(stage.channel_variables(), ["TG_TOKEN"]);
        assert_eq!(stage.channel_parameter_name("TG_TOKEN"), "/invest-alchemy/team/channels/TG_TOKEN");

        let literal = channels.replace("${TG_TOKEN}", "123:abc");
        std::fs::write(dir.path().join("channels.toml"), literal).unwrap();
        let err = format!("{:#}", Stage::resolve(&shell(), &aws, true).unwrap_err());
        assert!(
            err.contains("stage team: channels file channels.toml: channel tg, key token: must be a whole ${VAR}"),
            "{err}"
        );
        assert!(!err.contains("123:abc"), "{err}");

        let shadowing = channels.replace("${TG_TOKEN}", "${ALCHEMY_TG}");
        std::fs::write(dir.path().join("channels.toml"), shadowing).unwrap();
        let err = format!("{:#}", Stage::resolve(&shell(), &aws, true).unwrap_err());
        assert!(err.contains("${ALCHEMY_TG} would shadow a variable"), "{err}");
    }

    #[test]
    fn a_stage_outside_the_configuration_is_unprotected_and_takes_the_region_of_the_chain() {
        let err = Stage::resolve(&shell(), &flags("tadhoc", None), true).unwrap_err();
        assert!(format!("{err:#}").contains("pass --templates DIR"), "{err:#}");
        let adhoc = Stage::resolve(&shell(), &flags("tadhoc", None), false).unwrap();
        assert!(!adhoc.protected());
        assert_eq!(adhoc.region(&flags("tadhoc", None)), None);
        assert_eq!(adhoc.stack_name(Part::Network), "invest-alchemy-tadhoc-network");
        assert_eq!(adhoc.region_of(Part::Edge).as_deref(), Some("us-east-1"));
        assert!(format!("{:#}", adhoc.assembly().unwrap_err()).contains("not in the configuration"));
    }
}

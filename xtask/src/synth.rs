//! `cargo xtask synth`: writes the CloudFormation templates of one stage of `alchemy.toml` to
//! `target/cfn/<stage>/<part>.yaml`. No AWS credentials, no network, no build of the code:
//! what only a deploy knows (code keys, image digest) is a stack parameter.

use std::{path::PathBuf, time::Instant};

use anyhow::Context;
use stacks::{EnvNames, StageConfig, synth_stage};
use xshell::Shell;

use crate::{flags, stage};

impl flags::Synth {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let config = stage::load(sh, self.config.as_deref())?;
        let stage = config.stage(&self.stage)?;
        let started = Instant::now();
        let written = write_stage(sh, stage)?;
        let elapsed = started.elapsed();
        for template in &written {
            println!("{:>3} resources  {}", template.resource_count, template.path.display());
        }
        eprintln!("synthesized {} stacks of stage {} in {} ms", written.len(), stage.name, elapsed.as_millis());
        Ok(())
    }
}

/// One template written to disk.
pub(crate) struct Written {
    pub(crate) path: PathBuf,
    pub(crate) resource_count: usize,
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

/// Synthesizes every stack of `stage` into `target/cfn/<stage>/`, replacing what was there.
pub(crate) fn write_stage(sh: &Shell, stage: &StageConfig) -> anyhow::Result<Vec<Written>> {
    let templates = synth_stage(stage, &env_names()).with_context(|| format!("synthesizing stage {}", stage.name))?;
    let dir = sh.current_dir().join("target/cfn").join(&stage.name);
    if dir.exists() {
        sh.remove_path(&dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    sh.create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = Vec::new();
    for (part, template) in templates {
        let path = dir.join(format!("{}.yaml", part.name()));
        sh.write_file(&path, template.to_yaml()).with_context(|| format!("writing {}", path.display()))?;
        written.push(Written { path, resource_count: template.resource_count() });
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use stacks::Part;

    use super::*;

    /// The variables the app stack sets on the job and the functions, by name.
    fn names_set(stage: &StageConfig) -> BTreeSet<String> {
        let templates = synth_stage(stage, &env_names()).unwrap();
        let app = &templates.iter().find(|(part, _)| *part == Part::App).unwrap().1;
        let resources = &app.json()["Resources"];
        let container = &resources["JobTask"]["Properties"]["ContainerDefinitions"][0];
        let mut names = BTreeSet::new();
        for entry in container["Environment"].as_array().unwrap().iter().chain(container["Secrets"].as_array().unwrap())
        {
            names.insert(entry["Name"].as_str().unwrap().to_owned());
        }
        for function in ["SubscribeFunction", "WebFunction"] {
            let variables = resources[function]["Properties"]["Environment"]["Variables"].as_object().unwrap();
            names.extend(variables.keys().cloned());
        }
        names
    }

    #[test]
    fn the_templates_set_the_variables_the_code_reads() {
        let sh = Shell::new().unwrap();
        sh.change_dir(crate::project_root());
        let config = stage::load(&sh, None).unwrap();
        let mut stage = config.stage("dev").unwrap().clone();
        stage.domain = Some(stacks::config::DomainConfig {
            name: "alchemy.example.com".to_owned(),
            hosted_zone_id: "Z0123456789ABC".to_owned(),
        });
        let channels =
            "site_url = \"https://a.example/\"\n[[channel]]\nname = \"wx\"\nkind = \"wecom\"\nkey = \"${WX_KEY}\"\n";
        let variables = platform::channels::ChannelsFile::cloud_variables(channels).unwrap();
        stage.channels = Some(stacks::JobChannels { text: channels.to_owned(), variables });
        // The job reads the file's text and, from it, the variables it references.
        let config = platform::channels::ChannelsFile::parse(channels, &|name| Some(name.to_owned())).unwrap();
        assert_eq!(config.channels.len(), 1);
        let expected: BTreeSet<String> = [
            platform::env::SOURCE,
            platform::env::REPORTS_BUCKET,
            platform::env::TOPIC_ARN,
            platform::env::SITE_URL,
            platform::env::TUSHARE_TOKEN,
            platform::env::CHANNELS,
            "WX_KEY",
        ]
        .iter()
        .map(|it| it.to_string())
        .collect();
        assert_eq!(names_set(&stage), expected);
    }

    #[test]
    fn the_checked_in_configuration_has_a_dev_stage_without_a_domain() {
        let sh = Shell::new().unwrap();
        sh.change_dir(crate::project_root());
        let config = stage::load(&sh, None).unwrap();
        let dev = config.stage("dev").unwrap();
        assert!(dev.domain.is_none());
        assert_eq!(synth_stage(dev, &env_names()).unwrap().len(), 4);
    }
}

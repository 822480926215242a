//! `cargo xtask synth`: writes the CloudFormation templates of one stage of `alchemy.toml` to
//! `target/cfn/<stage>/<part>.yaml` and its assembly beside them as `manifest.json` (the stacks
//! in deploy order, where each parameter comes from). No AWS credentials, no network, no build
//! of the code: what only a deploy knows (code keys, image digest) is a stack parameter.
//! [`read_manifest`] reads such a folder back; deploy, diff and status plan from it.

use std::{
    path::{Path, PathBuf},
    time::Instant,
};

use anyhow::Context;
use stacks::{StageAssembly, StageConfig};
use xshell::Shell;

use crate::{flags, stage};

impl flags::Synth {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let config = stage::load(sh, self.config.as_deref())?;
        let stage = config.stage(&self.stage)?;
        let started = Instant::now();
        let synthesized = write_stage(sh, stage)?;
        let elapsed = started.elapsed();
        for template in &synthesized.written {
            println!("{:>3} resources  {}", template.resource_count, template.path.display());
        }
        println!("    manifest   {}", synthesized.dir.join(MANIFEST).display());
        eprintln!(
            "synthesized {} stacks of stage {} in {} ms",
            synthesized.assembly.stacks.len(),
            stage.name,
            elapsed.as_millis()
        );
        Ok(())
    }
}

/// The assembly's file in a folder of templates.
pub(crate) const MANIFEST: &str = "manifest.json";

/// A stage written to disk: its folder, its assembly and its templates.
pub(crate) struct Synthesized {
    pub(crate) dir: PathBuf,
    pub(crate) assembly: StageAssembly,
    pub(crate) written: Vec<Written>,
}

/// One template written to disk.
pub(crate) struct Written {
    pub(crate) path: PathBuf,
    pub(crate) resource_count: usize,
}

/// Synthesizes every stack of `stage` into `target/cfn/<stage>/`, replacing what was there: the
/// templates, then the manifest.
pub(crate) fn write_stage(sh: &Shell, stage: &StageConfig) -> anyhow::Result<Synthesized> {
    let (assembly, templates) = StageAssembly::synth(stage, &stage::env_names())
        .with_context(|| format!("synthesizing stage {}", stage.name))?;
    let dir = sh.current_dir().join("target/cfn").join(&stage.name);
    if dir.exists() {
        sh.remove_path(&dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    sh.create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = Vec::new();
    for (file, template) in &templates {
        let path = dir.join(file);
        sh.write_file(&path, template.to_yaml()).with_context(|| format!("writing {}", path.display()))?;
        written.push(Written { path, resource_count: template.resource_count() });
    }
    let manifest = dir.join(MANIFEST);
    let json = serde_json::to_string_pretty(&assembly).expect("the assembly serializes");
    sh.write_file(&manifest, json + "\n").with_context(|| format!("writing {}", manifest.display()))?;
    Ok(Synthesized { dir, assembly, written })
}

/// The assembly of a folder `synth` wrote (or one laid out the same way): its `manifest.json`.
pub(crate) fn read_manifest(dir: &Path) -> anyhow::Result<StageAssembly> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!("reading {} (the folder needs the manifest `cargo xtask synth` writes)", path.display())
    })?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a stage assembly", path.display()))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use stacks::{Part, synth_stage};

    use super::*;

    /// The variables the app stack sets on the job and the functions, by name.
    fn names_set(stage: &StageConfig) -> BTreeSet<String> {
        let templates = synth_stage(stage, &stage::env_names()).unwrap();
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
        assert_eq!(synth_stage(dev, &stage::env_names()).unwrap().len(), Part::ALL.len());
    }
}

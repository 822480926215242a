//! `cargo xtask status [--stage S] [--runs N] [--json]`: the three daily questions (did today's
//! job run, did it publish, and if not, why) on one screen, from the stage's stacks.
//!
//! `collect` reads AWS into a plain `model::Status`; `render` prints it as text, serde as JSON,
//! so where the facts come from can change without touching either printing. `cron` computes
//! the schedule's next fire time. A stage that was never deployed is a status too: every piece
//! says so, and the command succeeds. Only a stage that cannot be reached (no credentials, no
//! region) is an error.

mod collect;
mod cron;
mod model;
mod render;

use xshell::Shell;

use crate::{aws::Aws, deploy, deploy::plan::Deployment, flags, stage::Stage, status::model::Piece};

impl flags::Status {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let stage = Stage::resolve(sh, &self.aws, false)?;
        // The local templates, synthesized afresh as diff does, for the drift of each stack.
        let plans = match &stage.config {
            Some(_) => Piece::from_result(
                deploy::stage_assembly(sh, &stage, None)
                    .and_then(|(dir, assembly)| Deployment::plan(&dir, assembly, &stacks::Part::ALL)),
            ),
            None => Piece::missing(format!("stage {} is not in the configuration", stage.name)),
        };
        let artifacts = package_values(sh, &stage);
        let status = deploy::runtime()?.block_on(async {
            let aws = Aws::load(&self.aws, stage.region(&self.aws).as_deref()).await?;
            anyhow::Ok(collect::collect(&aws, &stage, plans, artifacts, self.runs).await)
        })?;
        if self.json {
            println!("{}", serde_json::to_string_pretty(&status).expect("plain data serializes"));
        } else {
            print!("{}", render::render(&status, &chrono::Local));
        }
        Ok(())
    }
}

/// The artifacts last packaged for the stage, which drift compares with (none: the deployed values).
fn package_values(sh: &Shell, stage: &Stage) -> Option<std::collections::BTreeMap<stacks::ArtifactKind, String>> {
    crate::package::packaged_values(sh, &stage.name).ok().flatten()
}

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

use crate::{aws::Aws, deploy, flags, stage::Stage, status::model::Piece};

impl flags::Status {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let stage = Stage::resolve(sh, &self.aws, false)?;
        // The local templates, synthesized afresh as diff does, for the drift of each stack.
        let plans = match &stage.config {
            Some(_) => Piece::from_result(
                deploy::templates_dir(sh, &stage, None)
                    .and_then(|dir| deploy::read_plans(&dir, &stage, &deploy::PARTS)),
            ),
            None => Piece::missing(format!("stage {} is not in the configuration", stage.name)),
        };
        let status = deploy::runtime()?.block_on(async {
            let aws = Aws::load(&stage.aws_flags(&self.aws)).await?;
            anyhow::Ok(collect::collect(&aws, &stage, plans, self.runs).await)
        })?;
        if self.json {
            println!("{}", serde_json::to_string_pretty(&status).expect("plain data serializes"));
        } else {
            print!("{}", render::render(&status, &chrono::Local));
        }
        Ok(())
    }
}

//! `cargo xtask secret set tushare-token` / `cargo xtask secret set TG_TOKEN`: a secret of the job
//! into SSM Parameter Store.
//!
//! The value is read from stdin when it is not a terminal (`... < token.txt`, or a pipe), else
//! from a prompt that does not echo. It goes into a SecureString parameter (overwriting), where
//! the job's task definition reads it through `secrets`: `/invest-alchemy/<stage>/tushare-token`
//! for the Tushare token, `/invest-alchemy/<stage>/channels/<VAR>` for a `${VAR}` of the stage's
//! channels file (which must reference it). The value is never printed, logged or put in an error
//! message.

use std::io::{IsTerminal, Read};

use anyhow::Context;
use aws_sdk_ssm::types::ParameterType;
use xshell::Shell;

use crate::{
    aws::{Aws, AwsContext},
    deploy::runtime,
    flags,
    stage::Stage,
};

impl flags::SecretSet {
    pub(crate) fn run(self, sh: &Shell) -> anyhow::Result<()> {
        let stage = Stage::resolve(sh, &self.aws, false)?;
        let (parameter, prompt, description) = match &self.name {
            flags::SecretName::TushareToken => (
                stage.token_parameter_name(),
                "Tushare token (not shown): ".to_owned(),
                "Tushare Pro API token of the signal job (cargo xtask secret set)".to_owned(),
            ),
            flags::SecretName::Channel(variable) => {
                let known = stage.channel_variables();
                if !known.contains(variable) {
                    let listed = if known.is_empty() { "none".to_owned() } else { known.join(", ") };
                    anyhow::bail!(
                        "the channels file of stage {} does not reference ${{{variable}}} (it references: {listed})",
                        stage.name
                    );
                }
                (
                    stage.channel_parameter_name(variable),
                    format!("{variable} (not shown): "),
                    format!("${{{variable}}} of the signal job's channels file (cargo xtask secret set)"),
                )
            }
        };
        let value = read_secret(&prompt)?;
        runtime()?.block_on(async {
            let aws = Aws::load(&self.aws, stage.region(&self.aws).as_deref()).await?;
            aws.ssm()
                .put_parameter()
                .name(&parameter)
                .value(value)
                .r#type(ParameterType::SecureString)
                .overwrite(true)
                .description(description)
                .send()
                .await
                // The error names the parameter, never the value.
                .aws_context(|| format!("storing {parameter}"))?;
            eprintln!("stored {parameter} (SecureString)");
            Ok(())
        })
    }
}

/// The secret from stdin (all of it, trimmed) or a no-echo prompt.
fn read_secret(prompt: &str) -> anyhow::Result<String> {
    let value = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(prompt).context("reading the secret from the terminal")?
    } else {
        let mut value = String::new();
        std::io::stdin().read_to_string(&mut value).context("reading the secret from stdin")?;
        value
    };
    let value = value.trim().to_owned();
    if value.is_empty() {
        anyhow::bail!("the secret is empty: give it on stdin or type it at the prompt");
    }
    Ok(value)
}

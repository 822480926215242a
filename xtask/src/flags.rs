//! The command line of `cargo xtask`: one clap struct per subcommand.

/// Build, check, run and ship invest-alchemy.
#[derive(Debug, clap::Parser)]
#[command(name = "cargo xtask", version, about, long_about = None)]
pub(crate) struct Xtask {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Run the job on sample data for the latest trading days into target/dev/data/, then serve the site on 127.0.0.1.
    Dev(Dev),
    /// Run the whole test suite: format, lints, tests, template checks.
    Test(Test),
    /// Write the CloudFormation templates of a stage to target/cfn/<stage>/ (no credentials, no network).
    Synth(Synth),
}

#[derive(Debug, clap::Args)]
pub(crate) struct Dev {
    /// How many of the latest trading days to run.
    #[arg(long, default_value_t = 30)]
    pub(crate) days: u32,
    /// The local port the site is served on (http://127.0.0.1:PORT/).
    #[arg(long, default_value_t = 3000)]
    pub(crate) port: u16,
    /// Run the job and stop, without serving the site.
    #[arg(long)]
    pub(crate) no_serve: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct Test {}

#[derive(Debug, clap::Args)]
pub(crate) struct Synth {
    /// The stage of alchemy.toml to synthesize.
    #[arg(long, default_value = "dev")]
    pub(crate) stage: String,
}

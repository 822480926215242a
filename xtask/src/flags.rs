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
    /// Run the job on sample data for the latest trading days into target/dev/data/ and print the newest report.
    Dev(Dev),
    /// Run the whole test suite: format, lints, tests, template checks.
    Test(Test),
    /// Build the Lambda zips and the job image; with --upload, upload what is not there yet.
    Package(Package),
    /// Write the CloudFormation templates of a stage to target/cfn/<stage>/ (no credentials, no network).
    Synth(Synth),
}

#[derive(Debug, clap::Args)]
pub(crate) struct Dev {
    /// How many of the latest trading days to run.
    #[arg(long, default_value_t = 30)]
    pub(crate) days: u32,
}

#[derive(Debug, clap::Args)]
pub(crate) struct Test {}

#[derive(Debug, clap::Args)]
pub(crate) struct Package {
    /// The stage of alchemy.toml (its architecture); the artifacts are listed in target/artifacts/<stage>.json.
    #[arg(long, default_value = "dev")]
    pub(crate) stage: String,
    /// Upload the zips and the image that are not there yet.
    #[arg(long)]
    pub(crate) upload: bool,
    /// The bucket the zips go to.
    #[arg(long, value_name = "NAME", requires = "upload")]
    pub(crate) assets_bucket: Option<String>,
    /// The registry the image goes to: http[s]://host[:port][/repository], any OCI registry
    /// (repository default: the stage's job repository).
    #[arg(long, value_name = "URL", requires = "upload")]
    pub(crate) registry: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct Synth {
    /// The stage of alchemy.toml to synthesize.
    #[arg(long, default_value = "dev")]
    pub(crate) stage: String,
}

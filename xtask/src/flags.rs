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
    /// Run the whole test suite: format, lints, tests.
    Test(Test),
    /// Build the Lambda zips and the job image; with --upload, upload what is not there yet.
    Package(Package),
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
    /// The stage the artifacts are for; they are listed in target/artifacts/<stage>.json.
    #[arg(long, default_value = "dev")]
    pub(crate) stage: String,
    /// The functions' architecture (the job image is always x86_64).
    #[arg(long, value_enum, default_value_t = Arch::X86_64)]
    pub(crate) arch: Arch,
    /// Upload the zips and the image that are not there yet.
    #[arg(long)]
    pub(crate) upload: bool,
    /// The bucket the zips go to.
    #[arg(long, value_name = "NAME", requires = "upload")]
    pub(crate) assets_bucket: Option<String>,
    /// The registry the image goes to: http[s]://host[:port][/repository], any OCI registry.
    #[arg(long, value_name = "URL", requires = "upload")]
    pub(crate) registry: Option<String>,
}

/// A Lambda architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Arch {
    #[value(name = "x86_64")]
    X86_64,
    #[value(name = "arm64")]
    Arm64,
}

impl Arch {
    /// Lambda's name for it.
    pub(crate) fn lambda_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "arm64",
        }
    }

    /// The Rust target the functions are built for.
    pub(crate) fn rust_target(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-linux-gnu",
            Arch::Arm64 => "aarch64-unknown-linux-gnu",
        }
    }
}

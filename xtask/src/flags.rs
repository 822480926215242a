//! The command line of `cargo xtask`: one clap struct per subcommand.

use std::path::PathBuf;

use stacks::Part;

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
    /// Build the Lambda zips and the job image; with --upload, upload what is not there yet.
    Package(Package),
    /// Write the CloudFormation templates of a stage to target/cfn/<stage>/ (no credentials, no network).
    Synth(Synth),
    /// Show what `deploy` would change, per stack: a change set, created and described, never executed.
    Diff(Diff),
    /// Deploy the stacks of a stage through change sets, then print and save their outputs.
    Deploy(Deploy),
    /// Delete the stacks of a stage; the data stack (report history, subscribers) is kept.
    Destroy(Destroy),
    /// Start one run of the signal job now, on Fargate Spot, the way the schedule does.
    RunJob(RunJob),
    /// One screen on a deployed stage: stacks, schedule, the job's last runs, reports, alarm, subscribers, site.
    Status(Status),
    /// The log events of the job, the functions and the API, with local timestamps.
    Logs(Logs),
    /// Manage the secrets the deployment reads.
    Secret(Secret),
    /// Measure the shipped artifacts on this machine (release builds).
    Bench(Bench),
}

#[derive(Debug, clap::Args)]
pub(crate) struct Bench {
    /// Each Lambda function's zip size and cold start (spawn to first answer) under a local runtime API.
    #[arg(long)]
    pub(crate) cold_start: bool,
    /// How many starts of each function.
    #[arg(long, default_value_t = 20)]
    pub(crate) runs: usize,
    /// Requests per second and latency of the site's pages: the release web binary on sample data, driven by wrk.
    #[arg(long)]
    pub(crate) site: bool,
    /// Connections wrk keeps open (with --site).
    #[arg(long, default_value_t = 16)]
    pub(crate) connections: u32,
    /// Seconds wrk drives each page (with --site).
    #[arg(long, default_value_t = 10)]
    pub(crate) seconds: u32,
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
pub(crate) struct Test {
    /// Only the template checks: synthesize every stage, then cfn-lint, checkov, cfn-guard and cdk-nag
    /// over those templates and the committed snapshots (no fmt, clippy or cargo test).
    #[arg(long)]
    pub(crate) policy_only: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct Package {
    /// The stage of alchemy.toml (its architecture); the artifacts are listed in target/artifacts/<stage>.json.
    #[arg(long, default_value = "dev")]
    pub(crate) stage: String,
    /// The deployment configuration to read instead of alchemy.toml at the workspace root.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
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
    /// The deployment configuration to read instead of alchemy.toml at the workspace root.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
}

/// The flags every command that talks to AWS takes.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Aws {
    /// The stage: which deployment of the system (stack names are `invest-alchemy-<stage>-<stack>`).
    /// Its table in alchemy.toml gives its region and whether it is protected.
    #[arg(long, default_value = "dev")]
    pub(crate) stage: String,
    /// The deployment configuration to read instead of alchemy.toml at the workspace root.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// The profile of the shared AWS config files. Default: the standard chain (`AWS_PROFILE`, then `default`).
    #[arg(long)]
    pub(crate) profile: Option<String>,
    /// The region. Default: the stage's region in alchemy.toml, else the standard chain
    /// (`AWS_REGION`, then the profile's region). The edge stack always goes to us-east-1.
    #[arg(long)]
    pub(crate) region: Option<String>,
    /// Send every AWS request to this address instead (an emulator or any AWS-compatible endpoint).
    #[arg(long)]
    pub(crate) endpoint_url: Option<String>,
    /// Answer yes to every question: needed to run without a terminal where a command would ask.
    #[arg(long, short = 'y')]
    pub(crate) yes: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct Diff {
    #[command(flatten)]
    pub(crate) aws: Aws,
    #[command(flatten)]
    pub(crate) stacks: StackSelection,
}

#[derive(Debug, clap::Args)]
pub(crate) struct Deploy {
    #[command(flatten)]
    pub(crate) aws: Aws,
    #[command(flatten)]
    pub(crate) stacks: StackSelection,
    /// Push the job image to this OCI registry (`http[s]://host[:port][/repository]`) instead of the
    /// stage's ECR repository from the bootstrap stack's outputs.
    #[arg(long, value_name = "URL")]
    pub(crate) registry: Option<String>,
}

/// Which stacks a command works on, and where their templates come from.
#[derive(Debug, clap::Args)]
pub(crate) struct StackSelection {
    /// The stacks, comma-separated, always handled in the order bootstrap, network, data, app, edge.
    #[arg(
        long,
        value_delimiter = ',',
        value_parser = parse_part,
        default_values = ["bootstrap", "network", "data", "app", "edge"],
    )]
    pub(crate) stacks: Vec<Part>,
    /// The folder of a synthesized stage: its `manifest.json` and the templates it names, as
    /// `cargo xtask synth` writes them. Default: the stage synthesized afresh into
    /// target/cfn/<stage>/. With this flag the stage need not be in alchemy.toml: such a stage is
    /// not protected and its region comes from `--region` or the standard chain.
    #[arg(long, value_name = "DIR")]
    pub(crate) templates: Option<PathBuf>,
}

fn parse_part(text: &str) -> Result<Part, String> {
    Part::parse(text).ok_or_else(|| {
        let names: Vec<&str> = Part::ALL.iter().map(|it| it.name()).collect();
        format!("unknown stack {text:?}: the stacks are {}", names.join(", "))
    })
}

#[derive(Debug, clap::Args)]
pub(crate) struct Destroy {
    #[command(flatten)]
    pub(crate) aws: Aws,
    /// Delete the bootstrap stack too, after emptying the assets bucket and the image repository.
    #[arg(long)]
    pub(crate) all: bool,
    /// Delete the data stack too, with the reports bucket, the whole report history and the
    /// signal topic with every subscription (asks again).
    #[arg(long)]
    pub(crate) purge_data: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct RunJob {
    #[command(flatten)]
    pub(crate) aws: Aws,
    /// The trade date to run, `YYYYMMDD`. Default: the latest trading day.
    #[arg(long, conflicts_with = "backfill")]
    pub(crate) date: Option<String>,
    /// Run the latest N trading days without publishing, to fill the history of a fresh deployment.
    #[arg(long, value_name = "N")]
    pub(crate) backfill: Option<u32>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct Status {
    #[command(flatten)]
    pub(crate) aws: Aws,
    /// How many of the job's latest runs to show.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub(crate) runs: usize,
    /// Print one JSON document instead of the screen.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct Logs {
    #[command(flatten)]
    pub(crate) aws: Aws,
    /// Whose log events. Default: all of them, interleaved by time and prefixed by the part.
    #[arg(value_enum)]
    pub(crate) part: Option<LogPart>,
    /// From when: a duration back from now (45s, 30m, 1h, 2d, 1w) or a day, YYYYMMDD (from its local midnight).
    #[arg(long, default_value = "1h")]
    pub(crate) since: String,
    /// Keep reading new events every two seconds, until Ctrl-C.
    #[arg(long)]
    pub(crate) follow: bool,
    /// Only the events that contain this text (a CloudWatch Logs filter term, matched literally).
    #[arg(long, value_name = "TEXT")]
    pub(crate) filter: Option<String>,
}

/// The parts of a stage with a log group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogPart {
    /// The signal job (one log stream per run).
    Job,
    /// The web function.
    Web,
    /// The subscribe function.
    Subscribe,
    /// The HTTP API's access log.
    Api,
}

#[derive(Debug, clap::Args)]
pub(crate) struct Secret {
    #[command(subcommand)]
    pub(crate) command: SecretCommand,
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum SecretCommand {
    /// Store a secret in SSM Parameter Store (SecureString), read from stdin or a prompt that does not echo.
    Set(SecretSet),
}

#[derive(Debug, clap::Args)]
pub(crate) struct SecretSet {
    #[command(flatten)]
    pub(crate) aws: Aws,
    /// Which secret: `tushare-token` (the Tushare Pro token, `/invest-alchemy/<stage>/tushare-token`)
    /// or a variable the stage's channels file references, such as `TG_TOKEN`
    /// (`/invest-alchemy/<stage>/channels/TG_TOKEN`).
    #[arg(value_parser = parse_secret_name)]
    pub(crate) name: SecretName,
}

/// The secrets the deployment reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SecretName {
    /// The Tushare Pro API token of the signal job.
    TushareToken,
    /// A `${VAR}` of the stage's channels file.
    Channel(String),
}

fn parse_secret_name(text: &str) -> Result<SecretName, String> {
    if text == "tushare-token" {
        return Ok(SecretName::TushareToken);
    }
    let is_variable = text.bytes().next().is_some_and(|b| b.is_ascii_uppercase() || b == b'_')
        && text.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if is_variable {
        return Ok(SecretName::Channel(text.to_owned()));
    }
    Err(format!("{text:?} is not tushare-token or a channels file variable like TG_TOKEN"))
}

//! The job's flags and their environment twins, and the configuration built from them.
//!
//! No `Default`: every run states (or inherits by documented default flag values) what it does.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::Context;
use platform::{
    channels::ChannelsFile,
    date::TradeDate,
    env,
    fund::{self, Fund},
    market::{
        Budget, MarketData,
        tushare::{self, Token, TushareClient, TushareConfig, TushareSource},
    },
    store::ObjectStore,
    strategy::DmaParams,
};

use crate::failure::{Failure, bad_input};

/// The daily run's flags.
#[derive(Debug, clap::Args)]
pub(crate) struct Flags {
    /// The trade date to run, YYYYMMDD [default: today in Asia/Shanghai].
    #[arg(long, env = env::DATE, value_parser = TradeDate::parse, conflicts_with_all = ["from", "to"])]
    pub(crate) date: Option<TradeDate>,

    /// The first trade date of a range run (backfill), YYYYMMDD; needs --to.
    #[arg(long, env = env::FROM, value_parser = TradeDate::parse, requires = "to")]
    pub(crate) from: Option<TradeDate>,

    /// The last trade date of a range run, YYYYMMDD; needs --from.
    #[arg(long, env = env::TO, value_parser = TradeDate::parse, requires = "from")]
    pub(crate) to: Option<TradeDate>,

    /// Run the latest N trading days up to --date (or today).
    #[arg(long, env = env::LAST, value_name = "N", conflicts_with_all = ["from", "to"],
          value_parser = clap::value_parser!(u32).range(1..=5000))]
    pub(crate) last: Option<u32>,

    /// The market data source.
    #[command(flatten)]
    pub(crate) market: MarketFlags,

    /// The fund list, one `CODE,NAME` per line [default: the bundled list of A-share ETFs].
    #[arg(long, env = env::FUNDS_FILE, value_name = "FILE")]
    pub(crate) funds: Option<PathBuf>,

    /// The local data folder: reports/, state/, outbox/ and subscribers.json.
    #[arg(long, env = env::DATA_DIR, value_name = "DIR", default_value = "data")]
    pub(crate) data_dir: PathBuf,

    /// The short moving-average period, in trading days.
    #[arg(long, env = env::MA_SHORT, default_value_t = 11)]
    pub(crate) short: usize,

    /// The long moving-average period, in trading days.
    #[arg(long, env = env::MA_LONG, default_value_t = 22)]
    pub(crate) long: usize,

    /// The window of prices the averages are computed over, in calendar days before the trade date.
    #[arg(long, env = env::LOOKBACK_DAYS, default_value_t = 150)]
    pub(crate) lookback_days: u32,

    /// Store reports but send no e-mail (for backfills).
    #[arg(long, env = env::NO_PUBLISH)]
    pub(crate) no_publish: bool,

    /// Send the e-mail again even if this day's report was already published.
    #[arg(long, env = env::REPUBLISH, conflicts_with = "no_publish")]
    pub(crate) republish: bool,

    /// The S3 bucket for reports and job state; with --topic-arn, selects cloud mode (else the local folder).
    #[arg(long, env = env::REPORTS_BUCKET, value_name = "BUCKET")]
    pub(crate) reports_bucket: Option<String>,

    /// The SNS topic the report is published to; with --reports-bucket, selects cloud mode (else the outbox).
    #[arg(long, env = env::TOPIC_ARN, value_name = "ARN")]
    pub(crate) topic_arn: Option<String>,

    /// The site's public address; a report too long for one e-mail ends with a link to its page there.
    #[arg(long, env = env::SITE_URL, value_name = "URL")]
    pub(crate) site_url: Option<String>,

    /// The chat channels (Telegram, WeCom, DingTalk, Feishu, webhooks) that get each published day, as a
    /// TOML file; `${VAR}` values come from the environment. ALCHEMY_CHANNELS may hold the file's text instead.
    #[arg(long, env = env::CHANNELS_FILE, value_name = "FILE")]
    pub(crate) channels: Option<PathBuf>,

    /// Any AWS-compatible endpoint in place of AWS's own for every service, e.g. http://127.0.0.1:5000
    /// (cloud mode). Without it the AWS SDK's own settings apply: AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3,
    /// AWS_ENDPOINT_URL_SNS or `endpoint_url` in the AWS config file.
    #[arg(long, value_name = "URL")]
    pub(crate) endpoint_url: Option<String>,

    /// The share of funds (0 to 1) that may lack data before a report is incomplete: stored, not e-mailed, exit 1.
    #[arg(long, env = env::DATA_GAP_BUDGET, value_name = "SHARE", default_value_t = 0.2, value_parser = parse_share)]
    pub(crate) data_gap_budget: f64,

    /// The longest the whole run may take, in seconds; past it the run stops with exit 1.
    #[arg(long, env = env::DEADLINE_SECS, value_name = "SECONDS", default_value_t = 600,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(crate) deadline_secs: u64,

    /// How the track record fetches the years of prices it lacks: `free` spends only the calls the
    /// rate limit admits without waiting (a large fund list is backfilled over several runs and
    /// the run is never slowed down), `all` fetches everything now (raise --deadline-secs for it).
    #[arg(long, env = env::BACKFILL, value_enum, default_value = "free")]
    pub(crate) backfill: BackfillFlag,
}

/// How much the track record's backfill may fetch in one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum BackfillFlag {
    /// Only the calls the rate limit admits without waiting.
    Free,
    /// Everything the track record lacks.
    All,
}

impl BackfillFlag {
    /// The market port's budget.
    pub(crate) fn budget(self) -> Budget {
        match self {
            BackfillFlag::Free => Budget::FreeQuota,
            BackfillFlag::All => Budget::All,
        }
    }
}

/// Where prices come from, and how the Tushare source behaves: the same for the daily run and the backtest.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct MarketFlags {
    /// Where prices come from: generated sample data (no account, no network) or the Tushare Pro API.
    #[arg(long, env = env::SOURCE, value_enum, default_value = "sample")]
    pub(crate) source: SourceFlag,

    /// The Tushare Pro API address; every call is posted to it as given. The token is read from TUSHARE_TOKEN only.
    #[arg(long, env = env::TUSHARE_API_URL, value_name = "URL", default_value = tushare::DEFAULT_URL)]
    pub(crate) tushare_url: String,

    /// Tushare calls per minute per API (fund_daily, fund_adj, ...).
    #[arg(long, env = env::TUSHARE_CALLS_PER_MINUTE, value_name = "N", default_value_t = 200,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) tushare_calls_per_minute: u32,

    /// Tushare calls in flight at once.
    #[arg(long, env = env::TUSHARE_CONCURRENCY, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub(crate) tushare_concurrency: u32,

    /// The first retry's backoff for Tushare calls in milliseconds; each further retry doubles it.
    #[arg(long, env = env::TUSHARE_RETRY_DELAY_MS, value_name = "MS", default_value_t = 500)]
    pub(crate) tushare_retry_delay_ms: u64,

    /// Do not use the price cache (prices/tushare/ in the data folder or bucket): ask for every fund's whole window.
    #[arg(long, env = env::TUSHARE_NO_CACHE)]
    pub(crate) tushare_no_cache: bool,
}

/// Where prices come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum SourceFlag {
    /// Generated, deterministic sample data.
    Sample,
    /// The Tushare Pro HTTP API (needs TUSHARE_TOKEN).
    Tushare,
}

/// Which days a run covers.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Days {
    /// One day.
    One(TradeDate),
    /// Every trading day in `from..=to`.
    Range { from: TradeDate, to: TradeDate },
    /// The latest `n` trading days up to `until`.
    Last { n: u32, until: TradeDate },
}

/// The checked configuration of one run.
#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) days: Days,
    pub(crate) funds: Vec<Fund>,
    pub(crate) params: DmaParams,
    pub(crate) data_dir: PathBuf,
    pub(crate) publish: Publish,
    /// Where reports and e-mail go.
    pub(crate) target: Target,
    /// The site's address without a final `/`.
    pub(crate) site_url: Option<String>,
    /// The share of funds that may lack data.
    pub(crate) data_gap_budget: f64,
    /// The longest the run may take.
    pub(crate) deadline: Duration,
    /// What the track record's backfill may fetch in this run.
    pub(crate) backfill: Budget,
    /// The chat channels, when a channels file is given.
    pub(crate) channels: Option<ChannelsFile>,
}

/// Where reports and e-mail go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// The data folder and its outbox.
    Local,
    /// An S3 bucket and an SNS topic.
    Cloud { bucket: String, topic_arn: String, endpoint_url: Option<String> },
}

/// Whether and when to e-mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Publish {
    /// Once per day: skip days already published.
    Once,
    /// Even if already published.
    Again,
    /// Never (backfill).
    Never,
}

impl Config {
    /// Checks the flags; everything wrong here is bad input (exit 2).
    pub(crate) fn from_flags(flags: &Flags) -> Result<Config, Failure> {
        let params =
            DmaParams::new(flags.short, flags.long, flags.lookback_days).map_err(|err| bad_input(err.into()))?;
        let days = match (flags.from, flags.to, flags.last) {
            (Some(from), Some(to), _) if from > to => {
                return Err(bad_input(anyhow::format_err!("--from {from} is after --to {to}")));
            }
            (Some(from), Some(to), _) => Days::Range { from, to },
            (_, _, Some(n)) => Days::Last { n, until: flags.date.unwrap_or_else(TradeDate::today_in_shanghai) },
            _ => Days::One(flags.date.unwrap_or_else(TradeDate::today_in_shanghai)),
        };
        let funds = load_funds(flags.funds.as_deref())?;
        let publish = match (flags.no_publish, flags.republish) {
            (true, _) => Publish::Never,
            (false, true) => Publish::Again,
            (false, false) => Publish::Once,
        };
        // An empty variable (`ALCHEMY_TOPIC_ARN=`) counts as unset.
        let non_empty = |it: &Option<String>| it.clone().filter(|it| !it.trim().is_empty());
        let target = match (non_empty(&flags.reports_bucket), non_empty(&flags.topic_arn)) {
            (Some(bucket), Some(topic_arn)) => {
                Target::Cloud { bucket, topic_arn, endpoint_url: non_empty(&flags.endpoint_url) }
            }
            (None, None) => Target::Local,
            (Some(_), None) => {
                return Err(bad_input(only_one_of_the_cloud_settings(env::TOPIC_ARN, env::REPORTS_BUCKET)));
            }
            (None, Some(_)) => {
                return Err(bad_input(only_one_of_the_cloud_settings(env::REPORTS_BUCKET, env::TOPIC_ARN)));
            }
        };
        let site_url = match &non_empty(&flags.site_url) {
            None => None,
            Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
                Some(url.trim_end_matches('/').to_owned())
            }
            Some(url) => {
                return Err(bad_input(anyhow::format_err!(
                    "{} {url:?} is not an address: it must start with https:// or http://",
                    env::SITE_URL
                )));
            }
        };
        let channels = load_channels(flags.channels.as_deref(), &funds)?;
        Ok(Config {
            days,
            funds,
            params,
            data_dir: flags.data_dir.clone(),
            publish,
            target,
            site_url,
            data_gap_budget: flags.data_gap_budget,
            deadline: Duration::from_secs(flags.deadline_secs),
            backfill: flags.backfill.budget(),
            channels,
        })
    }
}

/// The channels file at `path`, or the text in ALCHEMY_CHANNELS, with its `${VAR}` values from the
/// environment; every channel's funds must be in the fund list. Anything wrong is bad input.
pub(crate) fn load_channels(path: Option<&Path>, funds: &[Fund]) -> Result<Option<ChannelsFile>, Failure> {
    let inline = std::env::var(env::CHANNELS).ok().filter(|it| !it.trim().is_empty());
    let (text, source) = match (path, inline) {
        (Some(_), Some(_)) => {
            return Err(bad_input(anyhow::format_err!(
                "both --channels ({}) and {} are set: give the channels once",
                env::CHANNELS_FILE,
                env::CHANNELS
            )));
        }
        (None, None) => return Ok(None),
        (None, Some(text)) => (text, env::CHANNELS.to_owned()),
        (Some(path), None) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the channels file {}", path.display()))
                .map_err(bad_input)?;
            (text, format!("channels file {}", path.display()))
        }
    };
    let file = ChannelsFile::parse(&text, &|name| std::env::var(name).ok())
        .with_context(|| source.clone())
        .map_err(bad_input)?;
    for channel in &file.channels {
        if let Some(code) = channel.funds.iter().find(|code| !funds.iter().any(|fund| &fund.code == *code)) {
            return Err(bad_input(anyhow::format_err!(
                "{source}: channel {}, key funds: {code} is not in the fund list",
                channel.name
            )));
        }
    }
    Ok(Some(file))
}

/// The fund list in `path`, or the bundled one.
pub(crate) fn load_funds(path: Option<&Path>) -> Result<Vec<Fund>, Failure> {
    let Some(path) = path else {
        return Ok(fund::bundled_funds());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the funds file {}", path.display()))
        .map_err(bad_input)?;
    fund::parse_fund_list(&text).with_context(|| format!("funds file {}", path.display())).map_err(bad_input)
}

fn only_one_of_the_cloud_settings(missing: &str, set: &str) -> anyhow::Error {
    anyhow::format_err!(
        "{missing} is not set but {set} is: cloud mode needs both (the reports bucket and the signal topic), \
         local mode neither"
    )
}

/// A share from 0 to 1, e.g. `0.2`.
fn parse_share(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(share) if (0.0..=1.0).contains(&share) => Ok(share),
        _ => Err(format!("{text:?} is not a share from 0 to 1, e.g. 0.2")),
    }
}

/// The market data source the flags name; `--source tushare` needs the token in `TUSHARE_TOKEN`
/// and keeps its price cache in `store`.
pub(crate) fn market_data(flags: &MarketFlags, store: &ObjectStore) -> Result<MarketData, Failure> {
    match flags.source {
        SourceFlag::Sample => Ok(MarketData::sample()),
        SourceFlag::Tushare => {
            let token = std::env::var(env::TUSHARE_TOKEN).ok().and_then(|it| Token::new(&it)).ok_or_else(|| {
                bad_input(anyhow::format_err!(
                    "--source tushare needs a Tushare Pro token in the environment variable {}",
                    env::TUSHARE_TOKEN
                ))
            })?;
            let mut config = TushareConfig::new(&flags.tushare_url, token);
            config.calls_per_minute = flags.tushare_calls_per_minute;
            config.max_concurrent = flags.tushare_concurrency as usize;
            config.retry.base_delay = Duration::from_millis(flags.tushare_retry_delay_ms);
            let client = TushareClient::new(config).context("setting up the Tushare client").map_err(bad_input)?;
            let cache = (!flags.tushare_no_cache).then(|| store.clone());
            Ok(MarketData::Tushare(TushareSource::new(client, cache)))
        }
    }
}

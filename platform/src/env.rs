//! The environment variables the job and the functions read, each named once.
//!
//! The stacks set these names in task definitions and function configurations; a test in `xtask`
//! checks that the names in the templates are these.
//!
//! Uses nothing else of the crate.

/// `sample` or `tushare`: where prices come from.
pub const SOURCE: &str = "ALCHEMY_SOURCE";
/// A fund list file (`CODE,NAME` per line) replacing the bundled one.
pub const FUNDS_FILE: &str = "ALCHEMY_FUNDS_FILE";
/// The local data folder: reports, job state, the outbox and the subscribers file.
pub const DATA_DIR: &str = "ALCHEMY_DATA_DIR";
/// The trade date to run, `YYYYMMDD`.
pub const DATE: &str = "ALCHEMY_DATE";
/// The first trade date of a range run.
pub const FROM: &str = "ALCHEMY_FROM";
/// The last trade date of a range run.
pub const TO: &str = "ALCHEMY_TO";
/// Run the latest N trading days up to the date.
pub const LAST: &str = "ALCHEMY_LAST";
/// The short moving-average period.
pub const MA_SHORT: &str = "ALCHEMY_MA_SHORT";
/// The long moving-average period.
pub const MA_LONG: &str = "ALCHEMY_MA_LONG";
/// The lookback window in calendar days.
pub const LOOKBACK_DAYS: &str = "ALCHEMY_LOOKBACK_DAYS";
/// Do not publish (backfill).
pub const NO_PUBLISH: &str = "ALCHEMY_NO_PUBLISH";
/// Publish again even if the day was published.
pub const REPUBLISH: &str = "ALCHEMY_REPUBLISH";
/// The Tushare Pro API token. Secret: never logged, never stored.
pub const TUSHARE_TOKEN: &str = "TUSHARE_TOKEN";
/// The Tushare Pro API address.
pub const TUSHARE_API_URL: &str = "TUSHARE_API_URL";
/// Tushare calls per minute per API.
pub const TUSHARE_CALLS_PER_MINUTE: &str = "TUSHARE_CALLS_PER_MINUTE";
/// Tushare calls in flight at once.
pub const TUSHARE_CONCURRENCY: &str = "TUSHARE_CONCURRENCY";
/// The first retry's backoff for Tushare calls, in milliseconds.
pub const TUSHARE_RETRY_DELAY_MS: &str = "TUSHARE_RETRY_DELAY_MS";
/// Ask Tushare for every fund's whole window instead of using the price cache.
pub const TUSHARE_NO_CACHE: &str = "TUSHARE_NO_CACHE";
/// How much the track record's backfill may fetch in one run: `free` or `all`.
pub const BACKFILL: &str = "ALCHEMY_BACKFILL";
/// The reports bucket (cloud mode).
pub const REPORTS_BUCKET: &str = "ALCHEMY_REPORTS_BUCKET";
/// The signal topic's ARN (cloud mode).
pub const TOPIC_ARN: &str = "ALCHEMY_TOPIC_ARN";
/// The site's public address, for links in e-mails.
pub const SITE_URL: &str = "ALCHEMY_SITE_URL";
/// A channels file (TOML): the chat robots and webhooks that get the day's signals.
pub const CHANNELS_FILE: &str = "ALCHEMY_CHANNELS_FILE";
/// The channels file's content itself, in place of a file (the cloud's task definition sets it;
/// it holds only `${VAR}` references, never a secret).
pub const CHANNELS: &str = "ALCHEMY_CHANNELS";
/// The region the AWS clients talk to (the AWS SDKs' own name; Lambda and ECS set it).
pub const AWS_REGION: &str = "AWS_REGION";
/// The region when `AWS_REGION` is unset (the AWS SDKs' own name).
pub const AWS_DEFAULT_REGION: &str = "AWS_DEFAULT_REGION";
/// Any AWS-compatible endpoint in place of AWS's own, for every service (the AWS SDKs' own name).
pub const AWS_ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";
/// The same for S3 only (the AWS SDKs' own name); S3 then uses path-style addresses.
pub const AWS_ENDPOINT_URL_S3: &str = "AWS_ENDPOINT_URL_S3";
/// The share of funds (0 to 1) that may be undecided for data reasons before a report counts as
/// incomplete and is not published.
pub const DATA_GAP_BUDGET: &str = "ALCHEMY_DATA_GAP_BUDGET";
/// The longest a whole run may take, in seconds.
pub const DEADLINE_SECS: &str = "ALCHEMY_DEADLINE_SECS";
/// The local port the HTTP functions listen on when not under Lambda (default 3000).
pub const PORT: &str = "ALCHEMY_PORT";

// Tools the tests use, set by `cargo xtask test` for the tests it runs with `--include-ignored`.

/// The Chromium binary the browser test drives (default `/usr/bin/chromium`, from Debian).
pub const TEST_CHROMIUM: &str = "ALCHEMY_TEST_CHROMIUM";
/// The ChromeDriver binary the browser test starts (default `/usr/bin/chromedriver`).
pub const TEST_CHROMEDRIVER: &str = "ALCHEMY_TEST_CHROMEDRIVER";
/// The folder holding `cargo-lambda` (a virtualenv's `bin`), for the Lambda-runtime test.
pub const TEST_CARGO_LAMBDA_BIN: &str = "ALCHEMY_TEST_CARGO_LAMBDA_BIN";
/// A Python with numpy (a virtualenv's `python`), for the backtest's independent check.
pub const TEST_NUMPY_PYTHON: &str = "ALCHEMY_TEST_NUMPY_PYTHON";
/// The cargo profile the packaging builds with instead of `release`: `cargo xtask test` sets
/// `package-test` (unoptimized, otherwise the release profile's behaviour), because its tests prove
/// the packaging, not the shipped binaries' speed or size, which `cargo xtask bench` measures.
pub const PACKAGE_PROFILE: &str = "ALCHEMY_PACKAGE_PROFILE";

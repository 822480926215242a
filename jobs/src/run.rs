//! One run of the job: the trading days it covers, the prices, the reports, the e-mail.
//!
//! Order matters for safety: a day's report (JSON, then text, then the index) is stored before
//! anything is published, and the published marker is written only after the publish succeeded.

use std::{collections::HashMap, time::Duration};

use anyhow::Context;
use platform::{
    aws::AwsConfig,
    date::TradeDate,
    env,
    fund::FundCode,
    market::{Budget, History, MarketData},
    notify::{Message, MessageAttributes, Notifier},
    report::{FundReport, Report, json::IndexJson},
    reports::{self, ReportFormat},
    store::ObjectStore,
    strategy::{self, Evaluation, State, Undecided},
    subscribers,
};

use tokio::time::Instant;

use crate::{
    channels,
    config::{self, Config, Days, Flags, Publish, Target},
    failure::{Failure, bad_input},
    performance, prices,
};

/// Runs the job as the flags say, within its deadline.
pub(crate) async fn main(flags: Flags) -> Result<(), Failure> {
    let config = Config::from_flags(&flags)?;
    let deadline = Instant::now() + config.deadline;
    let within_deadline = async {
        let (store, notifier) = adapters(&config).await?;
        // The Tushare source keeps its price cache in the same store as the reports.
        let market = config::market_data(&flags.market, &store)?;
        run(&config, &market, &store, &notifier, deadline).await
    };
    match tokio::time::timeout_at(deadline, within_deadline).await {
        Ok(res) => res,
        Err(_) => Err(Failure::Failed(anyhow::format_err!(
            "the run did not finish within its deadline of {} s ({}); it was stopped",
            config.deadline.as_secs(),
            env::DEADLINE_SECS
        ))),
    }
}

/// The object store and the notifier: a bucket and a topic in cloud mode, the data folder locally.
async fn adapters(config: &Config) -> Result<(ObjectStore, Notifier), Failure> {
    match &config.target {
        Target::Local => {
            let outbox =
                Notifier::outbox(&config.data_dir.join("outbox"), &config.data_dir.join(subscribers::LOCAL_FILE_NAME));
            Ok((ObjectStore::local(&config.data_dir), outbox))
        }
        Target::Cloud { bucket, topic_arn, endpoint_url } => {
            let aws = aws_config(endpoint_url.as_deref()).await;
            if aws.region().is_none() {
                return Err(bad_input(anyhow::format_err!(
                    "cloud mode needs an AWS region: set AWS_REGION or a region in the AWS profile"
                )));
            }
            Ok((ObjectStore::s3(aws.s3(), bucket), Notifier::sns(aws.sns(), topic_arn)))
        }
    }
}

/// The standard chain (`credential-chain`, the default), or what an ECS task has (the image).
#[cfg(feature = "credential-chain")]
async fn aws_config(endpoint_url: Option<&str>) -> AwsConfig {
    AwsConfig::load(endpoint_url).await
}

#[cfg(not(feature = "credential-chain"))]
async fn aws_config(endpoint_url: Option<&str>) -> AwsConfig {
    AwsConfig::for_task(endpoint_url)
}

/// Covers every trading day of the configuration, then updates the track record up to the last
/// one (once per run, and only when every day was complete).
async fn run(
    config: &Config,
    market: &MarketData,
    store: &ObjectStore,
    notifier: &Notifier,
    deadline: Instant,
) -> Result<(), Failure> {
    let days = trading_days(config, market).await?;
    let (Some(&first), Some(&last)) = (days.first(), days.last()) else {
        let asked = match config.days {
            Days::One(date) => format!("{date} is not a trading day"),
            Days::Range { from, to } => format!("there is no trading day from {from} to {to}"),
            Days::Last { until, .. } => format!("there is no trading day up to {until}"),
        };
        println!("{asked}: nothing to do");
        return Ok(());
    };

    let history_from = first.minus_days(config.params.lookback_days());
    let histories: HashMap<FundCode, Result<History, String>> =
        prices::histories(&config.funds, market, history_from, last, Budget::All, &indicatif::ProgressBar::hidden())
            .await
            .map_err(|err| bad_input(err.into()))?
            .into_iter()
            .map(|(fund, history)| (fund.code, history.map_err(|err| err.to_string())))
            .collect();
    let channel_failures = run_days(config, market, &days, &histories, store, notifier).await?;
    update_performance(config, market, store, last, deadline).await;
    channels::outcome(&channel_failures)
}

/// How long before the run's deadline the track record's update gives up, so the deadline never
/// fires because of it.
const PERFORMANCE_MARGIN: Duration = Duration::from_secs(1);

/// Updates the track record up to `last_day` (see [`performance::update`]), after the day's report
/// was stored and published: it never changes the run's outcome. A failure, or not finishing
/// [`PERFORMANCE_MARGIN`] before the deadline, is a warning; the record stays as it was and the
/// next run rewrites it.
async fn update_performance(
    config: &Config,
    market: &MarketData,
    store: &ObjectStore,
    last_day: TradeDate,
    deadline: Instant,
) {
    let key = reports::performance_key(&config.params);
    let stop = deadline.checked_sub(PERFORMANCE_MARGIN).unwrap_or(deadline);
    match tokio::time::timeout_at(stop, performance::update(config, market, store, last_day)).await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => tracing::warn!("the track record {key} was not updated: {err:#}"),
        Err(_) => tracing::warn!(
            "the track record {key} was not updated: it did not finish {} s before the run's deadline",
            PERFORMANCE_MARGIN.as_secs()
        ),
    }
}

/// Stores each day's report and publishes the complete ones (e-mail, then the chat channels); an
/// incomplete day fails the run (exit 1) after every day was stored. Says which channels failed.
async fn run_days(
    config: &Config,
    market: &MarketData,
    days: &[TradeDate],
    histories: &HashMap<FundCode, Result<History, String>>,
    store: &ObjectStore,
    notifier: &Notifier,
) -> Result<Vec<String>, Failure> {
    let mut index = reports::load_index(store, &config.params).await.context("reading the report index")?;
    let mut incomplete = Vec::new();
    let mut channel_failures = Vec::new();
    for &trade_date in days {
        let mut report = evaluate_day(config, market, trade_date, histories);
        report.complete = report.within_data_budget(config.data_gap_budget);
        let published = if report.complete {
            store_report(store, &report, &mut index).await?;
            let published = publish(config, store, notifier, &report).await?;
            channel_failures.extend(channels::deliver(config, store, &report).await);
            published
        } else {
            tracing::warn!(
                "{trade_date}: {} of {} funds lack data, over the budget of {}: the report is incomplete and \
                 not published",
                report.data_gaps(),
                report.funds.len(),
                config.data_gap_budget
            );
            incomplete.push(trade_date);
            // A worse re-run never replaces a complete report stored earlier.
            let stored_complete = reports::stored_complete(store, &config.params, trade_date)
                .await
                .with_context(|| format!("reading the stored {trade_date} report"))?;
            if stored_complete {
                "not published: incomplete; the complete report stored earlier is kept"
            } else {
                store_report(store, &report, &mut index).await?;
                "not published: incomplete"
            }
        };
        let counts = report.counts();
        let text_key = reports::day_key(&config.params, trade_date, ReportFormat::Text);
        let location = match store {
            ObjectStore::Local(local) => local.root().join(text_key.as_str()).display().to_string(),
            ObjectStore::S3(s3) => format!("s3://{}/{text_key}", s3.bucket()),
        };
        println!(
            "{trade_date}: 可买 {}, 可卖 {}, 持仓 {}, 空仓 {}, 无法判断 {} -> {location} ({published})",
            counts.buy, counts.sell, counts.hold, counts.empty, counts.undecided,
        );
    }
    if !incomplete.is_empty() {
        let dates: Vec<String> = incomplete.iter().map(ToString::to_string).collect();
        return Err(Failure::Failed(anyhow::format_err!(
            "incomplete report for {}: more than {}% of the funds lack data; stored with \"complete\": false, \
             not e-mailed (a complete re-run of the day publishes it)",
            dates.join(", "),
            config.data_gap_budget * 100.0
        )));
    }
    Ok(channel_failures)
}

async fn trading_days(config: &Config, market: &MarketData) -> Result<Vec<TradeDate>, Failure> {
    let (from, to) = match config.days {
        Days::One(date) => (date, date),
        Days::Range { from, to } => (from, to),
        // Two calendar days per trading day plus a month of holidays always covers N trading days.
        Days::Last { n, until } => (until.minus_days(n.saturating_mul(2).saturating_add(30)), until),
    };
    let mut days = match market.trading_days(from, to).await {
        Ok(days) => days,
        // A refused token is the operator's to fix: exit 2, like any bad configuration.
        Err(err) if err.is_fatal() => {
            return Err(bad_input(anyhow::Error::new(err).context("getting the trading calendar")));
        }
        Err(err) => return Err(anyhow::Error::new(err).context("getting the trading calendar").into()),
    };
    if let Days::Last { n, .. } = config.days {
        let keep = n as usize;
        if days.len() > keep {
            days.drain(..days.len() - keep);
        }
    }
    Ok(days)
}

fn evaluate_day(
    config: &Config,
    market: &MarketData,
    trade_date: TradeDate,
    histories: &HashMap<FundCode, Result<History, String>>,
) -> Report {
    let funds = config
        .funds
        .iter()
        .map(|fund| {
            let evaluation = match histories.get(&fund.code) {
                Some(Ok(history)) => strategy::evaluate(&config.params, trade_date, history),
                Some(Err(message)) => Evaluation {
                    state: State::Undecided(Undecided::SourceError { message: message.clone() }),
                    levels: None,
                    series: Default::default(),
                    notes: Vec::new(),
                },
                None => strategy::evaluate(&config.params, trade_date, &History::default()),
            };
            FundReport { fund: fund.clone(), evaluation }
        })
        .collect();
    Report { trade_date, source: market.kind(), params: config.params, funds, complete: true }
}

/// Stores the JSON, the text and the updated index, in that order (see [`reports::store_day`]).
async fn store_report(store: &ObjectStore, report: &Report, index: &mut IndexJson) -> Result<(), Failure> {
    let date = report.trade_date;
    reports::store_day(store, report, index)
        .await
        .with_context(|| format!("storing the {date} report in {}", store.describe()))?;
    Ok(())
}

/// Publishes the day's text unless told not to or already done; says what happened.
async fn publish(
    config: &Config,
    store: &ObjectStore,
    notifier: &Notifier,
    report: &Report,
) -> Result<&'static str, Failure> {
    let date = report.trade_date;
    match config.publish {
        Publish::Never => return Ok("not published: --no-publish"),
        Publish::Once => {
            if reports::is_published(store, date).await.context("reading the published marker")? {
                return Ok("already published; --republish sends it again");
            }
        }
        Publish::Again => {}
    }
    // Subscribers' filter policies choose on these: a day with any BUY or SELL, and which funds.
    let attributes = MessageAttributes::for_day(&report.signal_funds());
    let mut message =
        Message::new(&report.subject(), &report.text()).context("composing the e-mail")?.with_attributes(attributes);
    if let Some(site) = &config.site_url {
        message = message.with_link(&format!("{site}/reports/{date}"));
    }
    notifier
        .publish(&message)
        .await
        .with_context(|| format!("publishing the {date} report through {}", notifier.describe()))?;
    reports::mark_published(store, date)
        .await
        .with_context(|| format!("storing the published marker {}", reports::published_marker(date)))?;
    Ok("published")
}

#[cfg(test)]
mod tests {
    use std::{path::Path, time::Duration};

    use platform::{fund, report::json::ReportJson, strategy::DmaParams};

    use super::*;
    use crate::config::Target;

    #[tokio::test]
    async fn half_the_funds_failing_make_an_incomplete_report_that_is_stored_not_published_then_replaced() {
        let Local { dir, config, market, store, notifier, date, from } = Local::new(|_| {});
        let mut histories = HashMap::new();
        for (fund_idx, fund) in config.funds.iter().enumerate() {
            let history = market.history(&fund.code, from, date).await.unwrap();
            let answer =
                if fund_idx % 2 == 0 { Err("数据源返回错误 (HTTP 500)".to_owned()) } else { Ok(history) };
            histories.insert(fund.code.clone(), answer);
        }

        let failure = run_days(&config, &market, &[date], &histories, &store, &notifier).await.unwrap_err();
        let Failure::Failed(err) = failure else { panic!("an incomplete day is exit 1, not bad input") };
        assert!(format!("{err:#}").contains("incomplete report for 20261127"), "{err:#}");
        let json = read(dir.path(), "reports/dma-11-22/20261127.json");
        assert!(!ReportJson::parse(json.as_bytes()).unwrap().complete);
        assert!(read(dir.path(), "reports/dma-11-22/20261127.txt").starts_with("警告: 报告不完整"));
        assert!(!dir.path().join("outbox").exists(), "nothing was e-mailed");
        assert!(!dir.path().join("state/published/20261127").exists());

        // The source recovers: the same day is replaced by a complete report, and published once.
        for fund in &config.funds {
            histories.insert(fund.code.clone(), Ok(market.history(&fund.code, from, date).await.unwrap()));
        }
        run_days(&config, &market, &[date], &histories, &store, &notifier).await.unwrap();
        let json = read(dir.path(), "reports/dma-11-22/20261127.json");
        assert!(ReportJson::parse(json.as_bytes()).unwrap().complete);
        assert_eq!(std::fs::read_dir(dir.path().join("outbox")).unwrap().count(), 1);
        assert!(dir.path().join("state/published/20261127").exists());
        let index = IndexJson::parse(read(dir.path(), "reports/index/dma-11-22.json").as_bytes()).unwrap();
        assert!(index.days[0].complete);

        // The source fails again on a re-run: the complete report stays, the run still fails.
        for fund in config.funds.iter().step_by(2) {
            histories.insert(fund.code.clone(), Err("数据源返回错误 (HTTP 500)".to_owned()));
        }
        let complete_text = read(dir.path(), "reports/dma-11-22/20261127.txt");
        assert!(run_days(&config, &market, &[date], &histories, &store, &notifier).await.is_err());
        assert_eq!(read(dir.path(), "reports/dma-11-22/20261127.txt"), complete_text);
        assert!(ReportJson::parse(read(dir.path(), "reports/dma-11-22/20261127.json").as_bytes()).unwrap().complete);
        assert_eq!(std::fs::read_dir(dir.path().join("outbox")).unwrap().count(), 1);
    }

    #[tokio::test]
    async fn funds_undecided_for_strategy_reasons_do_not_count_against_the_budget() {
        let Local { dir, config, market, store, notifier, date, from } = Local::new(|config| {
            // Every fund has too few bars for a 22-day average in a 20-day window: undecided, but complete.
            config.params = DmaParams::new(11, 22, 20).unwrap();
            config.data_gap_budget = 0.0;
        });
        let mut histories = HashMap::new();
        for fund in &config.funds {
            histories.insert(fund.code.clone(), Ok(market.history(&fund.code, from, date).await.unwrap()));
        }
        run_days(&config, &market, &[date], &histories, &store, &notifier).await.unwrap();
        let json = ReportJson::parse(read(dir.path(), "reports/dma-11-22/20261127.json").as_bytes()).unwrap();
        assert_eq!(json.counts.undecided, config.funds.len());
        assert!(json.complete);
        assert_eq!(std::fs::read_dir(dir.path().join("outbox")).unwrap().count(), 1);
    }

    /// A local run of ten bundled funds on the sample market for 2026-11-27, in a temporary
    /// folder: the bucket, the outbox with one subscriber of every day, and the markers.
    struct Local {
        dir: tempfile::TempDir,
        config: Config,
        market: MarketData,
        store: ObjectStore,
        notifier: Notifier,
        date: TradeDate,
        /// The first day of the window the job fetches.
        from: TradeDate,
    }

    impl Local {
        fn new(adjust: impl FnOnce(&mut Config)) -> Local {
            let dir = tempfile::tempdir().unwrap();
            let date = TradeDate::parse("20261127").unwrap();
            let mut config = Config {
                days: Days::One(date),
                funds: fund::bundled_funds().into_iter().take(10).collect(),
                params: DmaParams::STANDARD,
                data_dir: dir.path().to_owned(),
                publish: Publish::Once,
                target: Target::Local,
                site_url: None,
                data_gap_budget: 0.2,
                deadline: Duration::from_secs(600),
                backfill: Budget::FreeQuota,
                channels: None,
            };
            adjust(&mut config);
            let from = date.minus_days(config.params.lookback_days());
            let registry = dir.path().join(subscribers::LOCAL_FILE_NAME);
            let one =
                r#"{"subscribers": [{"email": "investor@example.com", "subscribed_at": "2026-11-01T08:00:00Z"}]}"#;
            std::fs::write(&registry, one).unwrap();
            Local {
                market: MarketData::sample(),
                store: ObjectStore::local(dir.path()),
                notifier: Notifier::outbox(&dir.path().join("outbox"), &registry),
                dir,
                config,
                date,
                from,
            }
        }
    }

    fn read(root: &Path, key: &str) -> String {
        std::fs::read_to_string(root.join(key)).unwrap()
    }
}

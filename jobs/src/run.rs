//! One run of the job: the trading days it covers, the prices, the reports, the e-mail.
//!
//! Order matters for safety: a day's report (JSON, then text, then the index) is stored before
//! anything is published, and the published marker is written only after the publish succeeded.

use std::collections::HashMap;

use anyhow::Context;
use platform::{
    date::TradeDate,
    fund::FundCode,
    market::{History, MarketData},
    notify::{Message, Notifier},
    report::{
        FundReport, Report,
        json::{IndexDay, IndexJson, ReportJson},
    },
    store::{KeyPrefix, ObjectKey, ObjectStore, ReportFormat},
    strategy::{self, Evaluation, State, Undecided},
};

use crate::config::{self, Config, Days, Flags, Publish};

/// A failed run and the exit code it earns.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Bad input or configuration: exit 2.
    BadInput(anyhow::Error),
    /// Anything else: exit 1.
    Failed(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(err: anyhow::Error) -> Failure {
        Failure::Failed(err)
    }
}

/// Marks an error as bad input (exit 2).
pub(crate) fn bad_input(err: anyhow::Error) -> Failure {
    Failure::BadInput(err)
}

/// Runs the job as the flags say.
pub(crate) async fn main(flags: Flags) -> Result<(), Failure> {
    let config = Config::from_flags(&flags)?;
    let store = ObjectStore::local(&config.data_dir);
    let market = config::market_data(&flags, &store)?;
    let notifier = Notifier::outbox(&config.data_dir.join("outbox"));
    run(&config, &market, &store, &notifier).await
}

/// Covers every trading day of the configuration.
async fn run(config: &Config, market: &MarketData, store: &ObjectStore, notifier: &Notifier) -> Result<(), Failure> {
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
    let histories = fetch_histories(config, market, history_from, last).await?;
    let mut index = load_index(config, store).await?;

    for trade_date in days {
        let report = evaluate_day(config, market, trade_date, &histories);
        store_report(config, store, &report, &mut index).await?;
        let published = publish(config, store, notifier, &report).await?;
        let counts = report.counts();
        println!(
            "{trade_date}: 可买 {}, 可卖 {}, 持仓 {}, 空仓 {}, 无法判断 {} -> {} ({published})",
            counts.buy,
            counts.sell,
            counts.hold,
            counts.empty,
            counts.undecided,
            config.data_dir.join(ObjectKey::report(&config.params, trade_date, ReportFormat::Text).as_str()).display(),
        );
    }
    Ok(())
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

/// Each fund's history over the whole run; a fund whose source failed keeps its error.
///
/// All funds are asked at once: the source bounds its own concurrency and rate (the Tushare client
/// holds the limits), so the run is as fast as the limits allow. A fatal error stops the others.
async fn fetch_histories(
    config: &Config,
    market: &MarketData,
    from: TradeDate,
    to: TradeDate,
) -> Result<HashMap<FundCode, Result<History, String>>, Failure> {
    let mut tasks = tokio::task::JoinSet::new();
    for fund in &config.funds {
        let market = market.clone();
        let code = fund.code.clone();
        tasks.spawn(async move {
            let res = market.history(&code, from, to).await;
            (code, res)
        });
    }
    let mut histories = HashMap::new();
    while let Some(joined) = tasks.join_next().await {
        let (code, res) = joined.context("a price fetch task failed")?;
        let history = match res {
            Ok(history) => Ok(history),
            Err(err) if err.is_fatal() => return Err(bad_input(err.into())),
            Err(err) => {
                tracing::warn!(code = %code, "{err}");
                Err(err.to_string())
            }
        };
        histories.insert(code, history);
    }
    Ok(histories)
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
    Report { trade_date, source: market.kind(), params: config.params, funds }
}

async fn load_index(config: &Config, store: &ObjectStore) -> Result<IndexJson, Failure> {
    let key = ObjectKey::report_index(&config.params);
    let Some(bytes) = store.get(&key).await.context("reading the report index")? else {
        return Ok(IndexJson::default());
    };
    // The index is derived data: if it is unreadable, it is rebuilt from the stored reports.
    match IndexJson::parse(&bytes) {
        Ok(index) => Ok(index),
        Err(err) => {
            tracing::warn!("the report index {key} is unreadable ({err}); rebuilding it from the stored reports");
            rebuild_index(config, store).await
        }
    }
}

async fn rebuild_index(config: &Config, store: &ObjectStore) -> Result<IndexJson, Failure> {
    let prefix = KeyPrefix::reports(&config.params);
    let mut index = IndexJson::default();
    for key in store.list(&prefix).await.context("listing the stored reports")? {
        let is_report = key
            .as_str()
            .strip_prefix(prefix.as_str())
            .and_then(|name| name.strip_suffix(".json"))
            .is_some_and(|date| TradeDate::parse(date).is_ok());
        if !is_report {
            continue;
        }
        let Some(bytes) = store.get(&key).await.context("reading a stored report")? else { continue };
        match ReportJson::parse(&bytes) {
            Ok(stored) => index.upsert(IndexDay::from_report(&stored)),
            Err(err) => tracing::warn!("skipping the unreadable report {key}: {err}"),
        }
    }
    Ok(index)
}

/// Stores the JSON, the text and the updated index, in that order.
async fn store_report(
    config: &Config,
    store: &ObjectStore,
    report: &Report,
    index: &mut IndexJson,
) -> Result<(), Failure> {
    let date = report.trade_date;
    for (format, body) in [(ReportFormat::Json, report.json_text()), (ReportFormat::Text, report.text())] {
        let key = ObjectKey::report(&config.params, date, format);
        store
            .put(&key, body.into_bytes(), format.content_type())
            .await
            .with_context(|| format!("storing the {date} report in {}", store.describe()))?;
    }
    index.upsert(report.index_day());
    store
        .put(&ObjectKey::report_index(&config.params), index.to_text().into_bytes(), ReportFormat::Json.content_type())
        .await
        .with_context(|| format!("storing the report index in {}", store.describe()))?;
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
    let marker = ObjectKey::published_marker(date);
    match config.publish {
        Publish::Never => return Ok("not published: --no-publish"),
        Publish::Once => {
            if store.get(&marker).await.context("reading the published marker")?.is_some() {
                return Ok("already published; --republish sends it again");
            }
        }
        Publish::Again => {}
    }
    let message = Message::new(&report.subject(), &report.text()).context("composing the e-mail")?;
    notifier
        .publish(&message)
        .await
        .with_context(|| format!("publishing the {date} report through {}", notifier.describe()))?;
    store
        .put(&marker, chrono::Utc::now().to_rfc3339().into_bytes(), "text/plain; charset=utf-8")
        .await
        .with_context(|| format!("storing the published marker {marker}"))?;
    Ok("published")
}

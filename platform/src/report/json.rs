//! The JSON shapes stored next to the text: the day's report and the index of stored days.
//!
//! These are the bucket's file formats, read back by the site: change them only by adding fields,
//! or bump [`SCHEMA`]. Snapshot tests pin them.

use serde::{Deserialize, Serialize};

use crate::{
    date::TradeDate,
    fund::FundCode,
    history::SourceKind,
    report::{Counts, FundReport, Report},
    strategy::{State, Undecided},
};

/// The version of both shapes.
pub const SCHEMA: u32 = 1;

/// A day's report as stored in `reports/<strategy>/YYYYMMDD.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportJson {
    /// [`SCHEMA`].
    pub schema: u32,
    /// The trade date.
    pub trade_date: TradeDate,
    /// `sample` or `tushare`.
    pub source: String,
    /// True when the prices are generated sample data, not market data.
    pub sample_data: bool,
    /// False when too many funds lacked data: the report was stored but not published.
    /// Reports written before this field existed were complete.
    #[serde(default = "complete_by_default")]
    pub complete: bool,
    /// The strategy and its parameters.
    pub strategy: StrategyJson,
    /// Funds per state.
    pub counts: CountsJson,
    /// One entry per fund, in fund-list order.
    pub funds: Vec<FundJson>,
}

/// The strategy's parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StrategyJson {
    /// `dma-11-22`.
    pub id: String,
    /// The short period in bars.
    pub short: usize,
    /// The long period in bars.
    pub long: usize,
    /// The window in calendar days.
    pub lookback_days: u32,
}

/// Funds per state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountsJson {
    pub buy: usize,
    pub sell: usize,
    pub hold: usize,
    pub empty: usize,
    pub undecided: usize,
}

/// One fund's signal with every number behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FundJson {
    /// The security code.
    pub code: FundCode,
    /// The display name.
    pub name: String,
    /// `BUY`, `SELL`, `HOLD`, `EMPTY` or `UNDECIDED`.
    pub state: String,
    /// The forward-adjusted close on the trade date.
    pub close: Option<f64>,
    /// The short average on the trade date, rounded as compared.
    pub ma_short: Option<f64>,
    /// The long average on the trade date, rounded as compared.
    pub ma_long: Option<f64>,
    /// The signal day of the current run (the trade date itself for BUY and SELL).
    pub since: Option<TradeDate>,
    /// The run began at or before the window's first day with both averages.
    pub since_is_window_start: bool,
    /// Calendar days since `since`.
    pub days: Option<i64>,
    /// Percent change of the forward-adjusted close since `since`, 2 decimals.
    pub pct: Option<f64>,
    /// Why the fund is undecided, in the report's words.
    pub reason: Option<String>,
    /// A stable code for `reason`: `no_data`, `no_bar_on_trade_date`, `too_few_bars`,
    /// `equal_averages`, `source_error`.
    pub reason_code: Option<String>,
    /// Remarks from the data source.
    #[serde(default)]
    pub notes: Vec<String>,
    /// The window's series for charts.
    pub series: SeriesJson,
}

/// The window's series, aligned by index.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SeriesJson {
    /// Trading days, oldest first.
    pub dates: Vec<TradeDate>,
    /// Forward-adjusted closes.
    pub close: Vec<f64>,
    /// Short averages, `null` until the period fills.
    pub ma_short: Vec<Option<f64>>,
    /// Long averages, `null` until the period fills.
    pub ma_long: Vec<Option<f64>>,
}

/// The index of stored days, `reports/index/<strategy>.json`: the home page's one read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IndexJson {
    /// [`SCHEMA`].
    pub schema: u32,
    /// Stored days, newest first.
    pub days: Vec<IndexDay>,
}

/// One stored day in the index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexDay {
    /// The trade date.
    pub trade_date: TradeDate,
    /// Whether the day was made from sample data.
    pub sample_data: bool,
    /// False when too many funds lacked data (see [`ReportJson::complete`]).
    #[serde(default = "complete_by_default")]
    pub complete: bool,
    /// Funds per state.
    pub counts: CountsJson,
    /// The funds with a BUY signal.
    pub buy: Vec<IndexFund>,
    /// The funds with a SELL signal.
    pub sell: Vec<IndexFund>,
}

/// A fund named in the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexFund {
    /// The security code.
    pub code: FundCode,
    /// The display name.
    pub name: String,
}

impl From<Counts> for CountsJson {
    fn from(counts: Counts) -> CountsJson {
        let Counts { buy, sell, hold, empty, undecided } = counts;
        CountsJson { buy, sell, hold, empty, undecided }
    }
}

impl Report {
    /// The report's JSON shape.
    pub fn to_json(&self) -> ReportJson {
        let params = &self.params;
        ReportJson {
            schema: SCHEMA,
            trade_date: self.trade_date,
            source: self.source.id().to_owned(),
            sample_data: self.source == SourceKind::Sample,
            complete: self.complete,
            strategy: StrategyJson {
                id: params.id(),
                short: params.short(),
                long: params.long(),
                lookback_days: params.lookback_days(),
            },
            counts: self.counts().into(),
            funds: self.funds.iter().map(|entry| fund_json(self.trade_date, entry)).collect(),
        }
    }

    /// The report as compact JSON text, ending in a newline (the series make pretty printing 5 times larger).
    pub fn json_text(&self) -> String {
        let mut text = serde_json::to_string(&self.to_json()).expect("the report shape always serializes");
        text.push('\n');
        text
    }

    /// This day's entry for the index.
    pub fn index_day(&self) -> IndexDay {
        let named = |wanted: fn(&State) -> bool| {
            self.funds
                .iter()
                .filter(|entry| wanted(&entry.evaluation.state))
                .map(|entry| IndexFund { code: entry.fund.code.clone(), name: entry.fund.name.clone() })
                .collect()
        };
        IndexDay {
            trade_date: self.trade_date,
            sample_data: self.source == SourceKind::Sample,
            complete: self.complete,
            counts: self.counts().into(),
            buy: named(|state| matches!(state, State::Buy)),
            sell: named(|state| matches!(state, State::Sell)),
        }
    }
}

impl ReportJson {
    /// Parses a stored report.
    pub fn parse(bytes: &[u8]) -> Result<ReportJson, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

impl IndexDay {
    /// The index entry of a stored report (used to rebuild a lost index).
    pub fn from_report(report: &ReportJson) -> IndexDay {
        let named = |state: &str| {
            report
                .funds
                .iter()
                .filter(|it| it.state == state)
                .map(|it| IndexFund { code: it.code.clone(), name: it.name.clone() })
                .collect()
        };
        IndexDay {
            trade_date: report.trade_date,
            sample_data: report.sample_data,
            complete: report.complete,
            counts: report.counts,
            buy: named("BUY"),
            sell: named("SELL"),
        }
    }
}

impl IndexJson {
    /// Parses a stored index.
    pub fn parse(bytes: &[u8]) -> Result<IndexJson, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// The index as pretty JSON text, ending in a newline.
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("the index shape always serializes");
        text.push('\n');
        text
    }

    /// Adds or replaces `day`, keeping days newest first.
    pub fn upsert(&mut self, day: IndexDay) {
        self.schema = SCHEMA;
        self.days.retain(|it| it.trade_date != day.trade_date);
        let at = self.days.partition_point(|it| it.trade_date > day.trade_date);
        self.days.insert(at, day);
    }
}

fn complete_by_default() -> bool {
    true
}

fn fund_json(trade_date: TradeDate, entry: &FundReport) -> FundJson {
    let evaluation = &entry.evaluation;
    let (state, run, reason): (&str, _, Option<&Undecided>) = match &evaluation.state {
        State::Buy => ("BUY", None, None),
        State::Sell => ("SELL", None, None),
        State::Hold(run) => ("HOLD", Some(run), None),
        State::Empty(run) => ("EMPTY", Some(run), None),
        State::Undecided(reason) => ("UNDECIDED", None, Some(reason)),
    };
    let crossed = matches!(evaluation.state, State::Buy | State::Sell);
    let series = &evaluation.series;
    FundJson {
        code: entry.fund.code.clone(),
        name: entry.fund.name.clone(),
        state: state.to_owned(),
        close: evaluation.levels.map(|it| it.close),
        ma_short: evaluation.levels.map(|it| it.ma_short),
        ma_long: evaluation.levels.map(|it| it.ma_long),
        since: run.map(|it| it.since).or(crossed.then_some(trade_date)),
        since_is_window_start: run.is_some_and(|it| it.since_is_window_start),
        days: run.map(|it| it.days).or(crossed.then_some(0)),
        pct: run.map(|it| it.pct).or(crossed.then_some(0.0)),
        reason: reason.map(Undecided::text),
        reason_code: reason.map(|it| it.code().to_owned()),
        notes: evaluation.notes.clone(),
        series: SeriesJson {
            dates: series.dates.clone(),
            close: series.close.clone(),
            ma_short: series.ma_short.clone(),
            ma_long: series.ma_long.clone(),
        },
    }
}

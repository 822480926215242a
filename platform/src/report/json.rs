//! The JSON shapes stored next to the text: the day's report and the index of stored days.
//!
//! These are the bucket's file formats, read back by the site: change them only by adding fields,
//! or bump [`SCHEMA`]. Snapshot tests pin them.

use serde::{
    Deserialize, Deserializer, Serialize,
    de::{DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor},
};

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
///
/// `S` is how each fund's series are read: whole ([`SeriesJson`], the default), only their newest
/// days ([`SeriesTail`], for a page of sparklines) or not at all ([`serde::de::IgnoredAny`], for a
/// list of the funds: 134 µs instead of 348 for the 165 KB of a 46-fund day).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportJson<S = SeriesJson> {
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
    pub funds: Vec<FundJson<S>>,
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

/// One fund's signal with every number behind it; `S` as in [`ReportJson`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FundJson<S = SeriesJson> {
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
    pub series: S,
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
    /// Parses a stored report, its series whole.
    pub fn parse(bytes: &[u8]) -> Result<ReportJson, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

impl<S: DeserializeOwned> ReportJson<S> {
    /// Parses a stored report, reading its series as `S` does.
    pub fn read(bytes: &[u8]) -> Result<ReportJson<S>, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

/// The newest `N` days of a fund's series, still aligned by index: what a sparkline draws.
///
/// The older days are checked to be JSON values (and their dates to be strings) but not read as
/// numbers or dates. Day `i` is element `i` of every series, as in [`SeriesJson`]: when a series
/// is shorter than `dates` (a malformed report), it has fewer of the newest days.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeriesTail<const N: usize> {
    /// The newest days: at most `N`, aligned.
    pub newest: SeriesJson,
}

impl<'de, const N: usize> Deserialize<'de> for SeriesTail<N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<SeriesTail<N>, D::Error> {
        deserializer.deserialize_struct("SeriesJson", &["dates", "close", "ma_short", "ma_long"], TailVisitor::<N>)
    }
}

struct TailVisitor<const N: usize>;

impl<'de, const N: usize> Visitor<'de> for TailVisitor<N> {
    type Value = SeriesTail<N>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a fund's series")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SeriesTail<N>, A::Error> {
        use serde::de::Error;
        // The report writes `dates` first: once its length is known, the other series skip their
        // older days. Before it (another writer's order), a series is read whole and cut after.
        let mut first: Option<usize> = None;
        let (mut close, mut ma_short, mut ma_long) = (None, None, None);
        let mut dates = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let skip = first.unwrap_or(0);
            let keep = if first.is_some() { N } else { usize::MAX };
            match key.as_ref() {
                "dates" => {
                    let (len, newest) = map.next_value_seed(Newest::<N>)?;
                    first = Some(len.saturating_sub(N));
                    dates = Some(newest);
                }
                "close" => close = Some((skip, map.next_value_seed(Range::<f64>::new(skip, keep))?)),
                "ma_short" => ma_short = Some((skip, map.next_value_seed(Range::<Option<f64>>::new(skip, keep))?)),
                "ma_long" => ma_long = Some((skip, map.next_value_seed(Range::<Option<f64>>::new(skip, keep))?)),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let dates = dates.ok_or_else(|| A::Error::missing_field("dates"))?;
        let first = first.unwrap_or_default();
        // Each series' newest days, from day `first` on, whatever it skipped while being read.
        fn from<T>(first: usize, read: Option<(usize, Vec<T>)>, name: &'static str) -> Result<Vec<T>, String> {
            let (skipped, mut values) = read.ok_or_else(|| format!("missing field `{name}`"))?;
            values.drain(..first.saturating_sub(skipped).min(values.len()));
            Ok(values)
        }
        let dates =
            dates.into_iter().map(|it| TradeDate::parse(it).map_err(A::Error::custom)).collect::<Result<_, _>>()?;
        let newest = SeriesJson {
            dates,
            close: from(first, close, "close").map_err(A::Error::custom)?,
            ma_short: from(first, ma_short, "ma_short").map_err(A::Error::custom)?,
            ma_long: from(first, ma_long, "ma_long").map_err(A::Error::custom)?,
        };
        Ok(SeriesTail { newest })
    }
}

/// Reads an array of date strings: its length and its newest `N` texts, unparsed.
struct Newest<const N: usize>;

impl<'de, const N: usize> DeserializeSeed<'de> for Newest<N> {
    type Value = (usize, std::collections::VecDeque<&'de str>);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, const N: usize> Visitor<'de> for Newest<N> {
    type Value = (usize, std::collections::VecDeque<&'de str>);

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("an array of dates")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut newest = std::collections::VecDeque::with_capacity(N);
        let mut len = 0;
        while let Some(text) = seq.next_element::<&'de str>()? {
            if newest.len() == N {
                newest.pop_front();
            }
            newest.push_back(text);
            len += 1;
        }
        Ok((len, newest))
    }
}

/// Reads an array's elements `skip..skip + keep` as `T`, the others as any JSON value.
struct Range<T> {
    skip: usize,
    keep: usize,
    read: std::marker::PhantomData<T>,
}

impl<T> Range<T> {
    fn new(skip: usize, keep: usize) -> Range<T> {
        Range { skip, keep, read: std::marker::PhantomData }
    }
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for Range<T> {
    type Value = Vec<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<T>, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Range<T> {
    type Value = Vec<T>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        for _ in 0..self.skip {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(Vec::new());
            }
        }
        let mut kept = Vec::with_capacity(self.keep.min(128));
        while kept.len() < self.keep {
            match seq.next_element::<T>()? {
                Some(value) => kept.push(value),
                None => return Ok(kept),
            }
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(kept)
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

#[cfg(test)]
mod tests {
    use serde::de::IgnoredAny;
    use serde_json::json;

    use super::*;

    /// A stored report of one fund with these series, pretty printed (the reader must not mind spaces).
    fn stored(series: serde_json::Value) -> Vec<u8> {
        let report = json!({
            "schema": 1, "trade_date": "20261103", "source": "sample", "sample_data": true,
            "strategy": {"id": "dma-11-22", "short": 11, "long": 22, "lookback_days": 150},
            "counts": {"buy": 0, "sell": 0, "hold": 1, "empty": 0, "undecided": 0},
            "funds": [{
                "code": "510300.SH", "name": "300ETF", "state": "HOLD", "close": 4.0, "ma_short": 3.9,
                "ma_long": 3.8, "since": "20261020", "since_is_window_start": false, "days": 14, "pct": 1.5,
                "reason": null, "reason_code": null, "notes": ["停牌"], "series": series,
            }],
        });
        serde_json::to_vec_pretty(&report).unwrap()
    }

    /// Series of `n` trading days, the averages `null` for the first days.
    fn series(n: usize) -> serde_json::Value {
        let dates: Vec<TradeDate> =
            std::iter::successors(TradeDate::parse("20260601").ok(), |it| it.next_day()).take(n).collect();
        let close: Vec<f64> = (0..n).map(|it| 1.0 + it as f64 / 1000.0).collect();
        let average = |from: usize| -> Vec<Option<f64>> {
            (0..n).map(|it| (it >= from).then(|| 1.0 + it as f64 / 999.0)).collect()
        };
        serde_json::to_value(SeriesJson { dates, close, ma_short: average(10), ma_long: average(21) }).unwrap()
    }

    /// The series as the whole reader reads them, and the newest `N` days as the tail reader does.
    fn both<const N: usize>(series: serde_json::Value) -> (SeriesJson, SeriesJson) {
        let bytes = stored(series);
        let whole = ReportJson::<SeriesJson>::read(&bytes).unwrap().funds.remove(0).series;
        let tail = ReportJson::<SeriesTail<N>>::read(&bytes).unwrap().funds.remove(0).series.newest;
        (whole, tail)
    }

    /// The days `from..` of every series of `whole`.
    fn from(whole: &SeriesJson, from: usize) -> SeriesJson {
        let cut = |len: usize| from.min(len);
        SeriesJson {
            dates: whole.dates[cut(whole.dates.len())..].to_vec(),
            close: whole.close[cut(whole.close.len())..].to_vec(),
            ma_short: whole.ma_short[cut(whole.ma_short.len())..].to_vec(),
            ma_long: whole.ma_long[cut(whole.ma_long.len())..].to_vec(),
        }
    }

    #[test]
    fn a_tail_is_the_newest_days_of_the_series_read_whole_in_either_order_of_the_fields() {
        let (whole, tail) = both::<60>(series(105));
        assert_eq!(tail, from(&whole, 45));
        // Fewer days than the tail: all of them; none: none.
        assert_eq!(both::<200>(series(105)).1, whole);
        assert_eq!(both::<60>(series(0)).1, SeriesJson::default());
        // Another writer may put the dates last: the other series are then read whole and cut.
        let mut reordered = serde_json::Map::new();
        for name in ["ma_long", "close", "ma_short", "dates"] {
            reordered.insert(name.to_owned(), series(105)[name].clone());
        }
        assert_eq!(both::<60>(serde_json::Value::Object(reordered)).1, from(&whole, 45));
    }

    #[test]
    fn a_series_shorter_or_longer_than_the_dates_keeps_its_days_aligned_with_them() {
        let mut value = series(30);
        value["close"].as_array_mut().unwrap().truncate(25);
        value["ma_long"].as_array_mut().unwrap().push(json!(9.0));
        value["ma_short"].as_array_mut().unwrap().truncate(15);
        let (whole, tail) = both::<10>(value);
        // Days 20..30: the closes have 20..25, the short averages none, the long ones 20..30.
        assert_eq!(tail.dates, whole.dates[20..]);
        assert_eq!(tail.close, whole.close[20..]);
        assert_eq!(tail.ma_short, []);
        assert_eq!(tail.ma_long, whole.ma_long[20..30]);
    }

    #[test]
    fn a_malformed_series_is_an_error_whether_the_bad_day_is_read_or_skipped() {
        let parse = |value: serde_json::Value| ReportJson::<SeriesTail<10>>::read(&stored(value));
        let mut value = series(30);
        value["close"][29] = json!("4.0");
        let err = parse(value).unwrap_err().to_string();
        assert!(err.contains("invalid type: string"), "{err}");
        let mut value = series(30);
        value["dates"][2] = json!(20260603);
        assert!(parse(value).unwrap_err().to_string().contains("invalid type: integer"));
        let mut value = series(30);
        value["dates"][29] = json!("20261340");
        assert!(parse(value).unwrap_err().to_string().contains("20261340"));
        let mut value = series(30);
        value.as_object_mut().unwrap().remove("close");
        assert!(parse(value).unwrap_err().to_string().contains("missing field `close`"));
        // An old day that is not JSON at all is still found, though it is not read.
        let text = String::from_utf8(stored(series(30))).unwrap();
        let broken = text.replacen("1.001", "1.0.01", 1);
        assert_ne!(broken, text);
        assert!(ReportJson::<SeriesTail<10>>::read(broken.as_bytes()).is_err());
    }

    #[test]
    fn a_report_read_without_its_series_has_every_other_field_of_the_whole_read() {
        let series = json!({
            "dates": ["20261102", "20261103"], "close": [3.9, 4.0], "ma_short": [null, 3.9], "ma_long": [null, null],
        });
        let bytes = stored(series);
        let whole = ReportJson::<SeriesJson>::read(&bytes).unwrap();
        assert_eq!(whole.funds[0].series.close, [3.9, 4.0]);
        let skipped = ReportJson::<IgnoredAny>::read(&bytes).unwrap();
        assert_eq!(
            (skipped.schema, skipped.trade_date, &skipped.source, skipped.sample_data, skipped.complete),
            (whole.schema, whole.trade_date, &whole.source, whole.sample_data, whole.complete)
        );
        assert_eq!((&skipped.strategy, skipped.counts), (&whole.strategy, whole.counts));
        let (fund, read) = (&skipped.funds[0], &whole.funds[0]);
        assert_eq!(
            (&fund.code, &fund.name, &fund.state, fund.close, fund.ma_short, fund.ma_long),
            (&read.code, &read.name, &read.state, read.close, read.ma_short, read.ma_long)
        );
        assert_eq!(
            (fund.since, fund.since_is_window_start, fund.days, fund.pct, &fund.reason, &fund.reason_code, &fund.notes),
            (read.since, read.since_is_window_start, read.days, read.pct, &read.reason, &read.reason_code, &read.notes)
        );
        // The series are still checked to be JSON.
        let broken = String::from_utf8(bytes).unwrap().replacen("\"20261102\"", "\"20261102\",,", 1);
        assert!(ReportJson::<IgnoredAny>::read(broken.as_bytes()).is_err());
    }
}

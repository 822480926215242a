//! The double moving average strategy: pure, no IO, and it cannot fail.
//!
//! Over the forward-adjusted closes of a lookback window it computes a short and a long simple
//! moving average (the `ta` crate's running sum, which matches TA-Lib's `MA` to the bit), rounds
//! both to 3 decimals half to even (as numpy does) and classifies the trade date. What cannot be
//! decided is a value, [`State::Undecided`], never an error.
//!
//! Domain; uses [`crate::date`] and [`crate::history`] only.

use ta::{Next, indicators::SimpleMovingAverage};

use crate::{
    date::TradeDate,
    history::{AdjFactor, Bar, History},
};

/// The strategy's parameters. `short < long` always holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DmaParams {
    short: usize,
    long: usize,
    lookback_days: u32,
}

/// Why parameters were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamsError {
    /// The short period must be at least 1 and below the long one.
    #[error("the short period ({short}) must be at least 1 and shorter than the long period ({long})")]
    Periods { short: usize, long: usize },
    /// The window must hold at least one day.
    #[error("the lookback must be at least 1 calendar day, not {0}")]
    Lookback(u32),
}

impl DmaParams {
    /// Short 11, long 22, lookback 150 calendar days: the product's strategy.
    pub const STANDARD: DmaParams = DmaParams { short: 11, long: 22, lookback_days: 150 };

    /// Checked parameters: `1 <= short < long`, `lookback_days >= 1`.
    pub fn new(short: usize, long: usize, lookback_days: u32) -> Result<DmaParams, ParamsError> {
        if short == 0 || short >= long {
            return Err(ParamsError::Periods { short, long });
        }
        if lookback_days == 0 {
            return Err(ParamsError::Lookback(lookback_days));
        }
        Ok(DmaParams { short, long, lookback_days })
    }

    /// The short period in bars.
    pub fn short(&self) -> usize {
        self.short
    }

    /// The long period in bars.
    pub fn long(&self) -> usize {
        self.long
    }

    /// The window in calendar days before the trade date.
    pub fn lookback_days(&self) -> u32 {
        self.lookback_days
    }

    /// The strategy's id in object keys: `dma-11-22`.
    pub fn id(&self) -> String {
        format!("dma-{}-{}", self.short, self.long)
    }
}

/// The outcome for one fund on one trade date.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// The classification.
    pub state: State,
    /// Close and averages on the trade date, when both averages exist there.
    pub levels: Option<Levels>,
    /// The window's series, for charts.
    pub series: Series,
    /// Remarks to print with the fund (e.g. from the data source).
    pub notes: Vec<String>,
}

/// The trade date's forward-adjusted close and rounded averages.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Levels {
    /// The forward-adjusted close.
    pub close: f64,
    /// The short average, rounded to 3 decimals as compared.
    pub ma_short: f64,
    /// The long average, rounded to 3 decimals as compared.
    pub ma_long: f64,
}

/// What the strategy says of a fund on the trade date.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    /// The short average crossed above the long one today.
    Buy,
    /// The short average crossed below the long one today.
    Sell,
    /// The short average has stayed above the long one since the run's start.
    Hold(Run),
    /// The short average has stayed below the long one since the run's start.
    Empty(Run),
    /// Nothing can be said.
    Undecided(Undecided),
}

/// A run of days on one side of the long average.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Run {
    /// The run's first day: the signal day.
    pub since: TradeDate,
    /// The run started at or before the window's first day with both averages, so `since` is a bound.
    pub since_is_window_start: bool,
    /// Calendar days from `since` to the trade date.
    pub days: i64,
    /// Change of the forward-adjusted close since `since`, in percent, rounded to 2 decimals.
    pub pct: f64,
}

/// Why a fund cannot be classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undecided {
    /// The source has no rows for the window.
    NoData,
    /// Rows exist, but none on the trade date (the fund was suspended, or data is late).
    NoBarOnTradeDate { last: TradeDate },
    /// Fewer bars than the long period plus one.
    TooFewBars { have: usize, need: usize },
    /// The rounded averages are equal on the trade date.
    EqualAverages,
    /// The source failed for this fund.
    SourceError { message: String },
}

impl Undecided {
    /// A stable code for JSON: `no_data`, `no_bar_on_trade_date`, `too_few_bars`, `equal_averages`, `source_error`.
    pub fn code(&self) -> &'static str {
        match self {
            Undecided::NoData => "no_data",
            Undecided::NoBarOnTradeDate { .. } => "no_bar_on_trade_date",
            Undecided::TooFewBars { .. } => "too_few_bars",
            Undecided::EqualAverages => "equal_averages",
            Undecided::SourceError { .. } => "source_error",
        }
    }

    /// The reason in the report's words.
    pub fn text(&self) -> String {
        match self {
            Undecided::NoData => "无数据".to_owned(),
            Undecided::NoBarOnTradeDate { last } => format!("交易日无行情 (停牌或数据未更新, 最近一日 {last})"),
            Undecided::TooFewBars { have, need } => format!("数据不足 ({have} 个交易日, 需要 {need})"),
            Undecided::EqualAverages => "两条均线相等".to_owned(),
            Undecided::SourceError { message } => format!("数据获取失败: {message}"),
        }
    }

    /// Whether the data, not the strategy, is at fault (a run with many of these is incomplete).
    pub fn is_data_problem(&self) -> bool {
        matches!(self, Undecided::NoData | Undecided::NoBarOnTradeDate { .. } | Undecided::SourceError { .. })
    }
}

/// The window's days with forward-adjusted closes and rounded averages (`None` before a period fills).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    /// Trading days, oldest first.
    pub dates: Vec<TradeDate>,
    /// Forward-adjusted closes.
    pub close: Vec<f64>,
    /// Short averages, rounded.
    pub ma_short: Vec<Option<f64>>,
    /// Long averages, rounded.
    pub ma_long: Vec<Option<f64>>,
}

/// Classifies one fund on `trade_date` from its history, with the window's series for charts.
///
/// Bars and factors are joined on trade date (a day missing either is dropped, as is a day with a
/// non-positive or non-finite number), restricted to the `lookback_days` calendar days up to and
/// including `trade_date`, and forward-adjusted to the last day's factor.
pub fn evaluate(params: &DmaParams, trade_date: TradeDate, history: &History) -> Evaluation {
    let mut scratch = Scratch::default();
    let Verdict { state, levels } = classify(params, trade_date, history, &mut scratch);
    Evaluation { state, levels, series: scratch.series(params), notes: history.notes.clone() }
}

/// An [`Evaluation`] without the series and notes: what a scan of many funds needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The classification.
    pub state: State,
    /// Close and averages on the trade date, when both averages exist there.
    pub levels: Option<Levels>,
}

/// Buffers kept from one fund to the next, so that [`classify`] allocates nothing once they have
/// grown to the longest window (the adjusted closes, and sorted copies of input that came unsorted).
#[derive(Debug, Default)]
pub struct Scratch {
    dates: Vec<TradeDate>,
    close: Vec<f64>,
    bars: Vec<(TradeDate, f64)>,
    factors: Vec<(TradeDate, f64)>,
}

/// [`evaluate`] in one pass over the window, reusing `scratch`: the same state and levels, to the bit.
///
/// Rows in strictly increasing date order (as the sources answer) are read in place and the window
/// is found by binary search; other input is first filtered, sorted and deduplicated into `scratch`.
/// The averages are running sums in the order `ta`'s `SimpleMovingAverage` (and TA-Lib's `MA`) adds
/// them; a day's rounded averages are compared exactly whenever the unrounded ones are within 1.5
/// thousandths of each other, and otherwise by the unrounded ones, which then cannot disagree.
pub fn classify(params: &DmaParams, trade_date: TradeDate, history: &History, scratch: &mut Scratch) -> Verdict {
    let from = trade_date.minus_days(params.lookback_days);
    let pass = if is_strictly_increasing(&history.bars) && is_strictly_increasing(&history.factors) {
        Pass::run(params, within(&history.bars, from, trade_date), within(&history.factors, from, trade_date), scratch)
    } else {
        let (mut bars, mut factors) = (std::mem::take(&mut scratch.bars), std::mem::take(&mut scratch.factors));
        sorted_usable(&history.bars, from, trade_date, &mut bars);
        sorted_usable(&history.factors, from, trade_date, &mut factors);
        let pass = Pass::run(params, &bars, &factors, scratch);
        (scratch.bars, scratch.factors) = (bars, factors);
        pass
    };
    pass.verdict(params, trade_date, scratch)
}

impl Scratch {
    /// The window of the last [`classify`], with its rounded averages (`None` before a period fills).
    fn series(&self, params: &DmaParams) -> Series {
        let mut short = SimpleMovingAverage::new(params.short).expect("short >= 1");
        let mut long = SimpleMovingAverage::new(params.long).expect("long > short >= 1");
        let (ma_short, ma_long) = self
            .close
            .iter()
            .enumerate()
            .map(|(idx, &close)| {
                let (ma_short, ma_long) = (short.next(close), long.next(close));
                // `ta` emits partial averages for the first `period - 1` bars; they are not averages.
                (
                    (idx + 1 >= params.short).then(|| round_half_even(ma_short, 3)),
                    (idx + 1 >= params.long).then(|| round_half_even(ma_long, 3)),
                )
            })
            .unzip();
        Series { dates: self.dates.clone(), close: self.close.clone(), ma_short, ma_long }
    }
}

/// A dated number of a history: a bar's close, a factor, or a sorted copy of either.
trait Dated: Copy {
    fn date(self) -> TradeDate;
    fn value(self) -> f64;
}

impl Dated for Bar {
    fn date(self) -> TradeDate {
        self.trade_date
    }
    fn value(self) -> f64 {
        self.close
    }
}

impl Dated for AdjFactor {
    fn date(self) -> TradeDate {
        self.trade_date
    }
    fn value(self) -> f64 {
        self.factor
    }
}

impl Dated for (TradeDate, f64) {
    fn date(self) -> TradeDate {
        self.0
    }
    fn value(self) -> f64 {
        self.1
    }
}

/// Finite and above 0 (NaN fails both comparisons).
fn usable(value: f64) -> bool {
    value > 0.0 && value < f64::INFINITY
}

fn is_strictly_increasing<R: Dated>(rows: &[R]) -> bool {
    rows.windows(2).all(|pair| pair[0].date() < pair[1].date())
}

/// The rows dated `from..=to` of rows in strictly increasing date order.
fn within<R: Dated>(rows: &[R], from: TradeDate, to: TradeDate) -> &[R] {
    let start = rows.partition_point(|it| it.date() < from);
    let end = rows.partition_point(|it| it.date() <= to);
    &rows[start..end.max(start)]
}

/// The usable rows dated `from..=to`, sorted by date (stable: sources answer in date order, either
/// way, for which it is linear); a duplicate date keeps its first row.
fn sorted_usable<R: Dated>(rows: &[R], from: TradeDate, to: TradeDate, out: &mut Vec<(TradeDate, f64)>) {
    out.clear();
    out.extend(
        rows.iter()
            .map(|it| (it.date(), it.value()))
            .filter(|&(date, value)| (from..=to).contains(&date) && usable(value)),
    );
    out.sort_by_key(|it| it.0);
    out.dedup_by_key(|it| it.0);
}

/// What one pass over a window leaves: the last two days' running sums and, for the run, the last
/// day on which the rounded short average was not above (below) the long one.
#[derive(Debug, Default)]
struct Pass {
    sums: [(f64, f64); 2],
    last_not_above: Option<usize>,
    last_not_below: Option<usize>,
}

impl Pass {
    /// Joins `bars` and `factors` (each sorted, one row per date) on the date, adjusts the closes
    /// to the last joined day's factor into `scratch` and runs both averages over them.
    fn run<B: Dated, F: Dated>(params: &DmaParams, bars: &[B], factors: &[F], scratch: &mut Scratch) -> Pass {
        scratch.dates.clear();
        scratch.close.clear();
        let mut pass = Pass::default();
        let Some(last_factor) = last_joined_factor(bars, factors) else {
            return pass;
        };
        let (short, long) = (params.short, params.long);
        // Thousandths of each average, for the test below; the rounding itself divides.
        let (short_scale, long_scale) = (1000.0 / short as f64, 1000.0 / long as f64);
        let (mut short_sum, mut long_sum) = (0.0, 0.0);
        let mut before = (0.0, 0.0);
        // Written by index into buffers sized for every bar, then cut to the days joined: the
        // loop keeps its counters in registers (a push through `scratch` reloads them each time).
        let (Some(first), mut joined) = (bars.first(), 0) else {
            return pass;
        };
        scratch.dates.resize(bars.len(), first.date());
        scratch.close.resize(bars.len(), 0.0);
        let (dates, close) = (&mut scratch.dates[..], &mut scratch.close[..]);
        let mut factor_idx = 0;
        for bar in bars.iter().copied().filter(|it| usable(it.value())) {
            while factor_idx < factors.len() && factors[factor_idx].date() < bar.date() {
                factor_idx += 1;
            }
            let factor = match factors.get(factor_idx) {
                Some(&factor) if factor.date() == bar.date() && usable(factor.value()) => factor.value(),
                _ => continue,
            };
            // Multiply first, then divide: the order the reference computes in.
            let qfq = bar.value() * factor / last_factor;
            let idx = joined;
            joined += 1;
            dates[idx] = bar.date();
            close[idx] = qfq;
            before = (short_sum, long_sum);
            // `ta`'s running sum: `(sum - leaving) + entering`, the leaving value 0 until a period fills.
            short_sum = short_sum - if idx >= short { close[idx - short] } else { 0.0 } + qfq;
            long_sum = long_sum - if idx >= long { close[idx - long] } else { 0.0 } + qfq;
            if idx + 1 < long {
                continue;
            }
            // When the averages differ by more than 1.5 thousandths, the rounded ones differ the
            // same way (rounding moves each by at most half of one, and the estimate is off by
            // far less than the rest).
            let gap = short_sum * short_scale - long_sum * long_scale;
            let side = if gap > 1.5 {
                std::cmp::Ordering::Greater
            } else if gap < -1.5 {
                std::cmp::Ordering::Less
            } else {
                let (ma_short, ma_long) = rounded(params, (short_sum, long_sum));
                ma_short.partial_cmp(&ma_long).unwrap_or(std::cmp::Ordering::Equal)
            };
            if side != std::cmp::Ordering::Greater {
                pass.last_not_above = Some(idx);
            }
            if side != std::cmp::Ordering::Less {
                pass.last_not_below = Some(idx);
            }
        }
        scratch.dates.truncate(joined);
        scratch.close.truncate(joined);
        pass.sums = [before, (short_sum, long_sum)];
        pass
    }

    /// The classification of the trade date from the pass and the window in `scratch`.
    fn verdict(&self, params: &DmaParams, trade_date: TradeDate, scratch: &Scratch) -> Verdict {
        let undecided = |reason, levels| Verdict { state: State::Undecided(reason), levels };
        let Some(&last_date) = scratch.dates.last() else {
            return undecided(Undecided::NoData, None);
        };
        if last_date != trade_date {
            return undecided(Undecided::NoBarOnTradeDate { last: last_date }, None);
        }
        let n = scratch.dates.len();
        let (s1, l1) = rounded(params, self.sums[1]);
        let levels = (n >= params.long).then_some(Levels { close: scratch.close[n - 1], ma_short: s1, ma_long: l1 });
        let need = params.long + 1;
        if n < need {
            return undecided(Undecided::TooFewBars { have: n, need }, levels);
        }
        let (s2, l2) = rounded(params, self.sums[0]);
        let run = |last_not_side: Option<usize>| {
            // The run starts the day after the last day off its side, or at the window's first day
            // with both averages.
            let first_with_both = params.long - 1;
            let start = last_not_side.map_or(first_with_both, |idx| idx + 1);
            let (since, base) = (scratch.dates[start], scratch.close[start]);
            Run {
                since,
                since_is_window_start: start == first_with_both,
                days: trade_date.days_since(since),
                pct: round_half_even((scratch.close[n - 1] - base) / base * 100.0, 2),
            }
        };
        let state = if s1 > l1 && s2 <= l2 {
            State::Buy
        } else if s1 < l1 && s2 >= l2 {
            State::Sell
        } else if s1 > l1 {
            State::Hold(run(self.last_not_above))
        } else if s1 < l1 {
            State::Empty(run(self.last_not_below))
        } else {
            State::Undecided(Undecided::EqualAverages)
        };
        Verdict { state, levels }
    }
}

/// The factor of the last day that has both a usable close and a usable factor.
fn last_joined_factor<B: Dated, F: Dated>(bars: &[B], factors: &[F]) -> Option<f64> {
    let mut factor_end = factors.len();
    for bar in bars.iter().rev().copied().filter(|it| usable(it.value())) {
        while factor_end > 0 && factors[factor_end - 1].date() > bar.date() {
            factor_end -= 1;
        }
        if let Some(&factor) = factor_end.checked_sub(1).map(|idx| &factors[idx])
            && factor.date() == bar.date()
            && usable(factor.value())
        {
            return Some(factor.value());
        }
    }
    None
}

/// Both averages of running sums, rounded as compared.
fn rounded(params: &DmaParams, (short_sum, long_sum): (f64, f64)) -> (f64, f64) {
    (round_half_even(short_sum / params.short as f64, 3), round_half_even(long_sum / params.long as f64, 3))
}

/// Rounds half to even at the given number of decimals, as numpy's `round` does.
pub fn round_half_even(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    let rounded = ties_even(value * scale) / scale;
    // No "-0.00" in reports.
    if rounded == 0.0 { 0.0 } else { rounded }
}

/// `f64::round_ties_even` without a call into libm (on x86-64 without SSE4.1 it is one, and a
/// call in the strategy's loop makes it keep its sums in memory): adding and taking away 2^52
/// leaves the integer nearest to `x`, ties to even, as every IEEE 754 sum rounds. A number at or
/// beyond 2^52 is an integer already, and NaN stays NaN.
fn ties_even(x: f64) -> f64 {
    const TWO_52: f64 = 4_503_599_627_370_496.0;
    if x.is_nan() || x.abs() >= TWO_52 {
        return x;
    }
    ((x.abs() + TWO_52) - TWO_52).copysign(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{fund, market::sample::SampleSource};

    /// The oracle: the verdict read off the series `ta` computes, the run found by walking back
    /// from the trade date while the side holds, as the strategy did before its one pass.
    fn from_series(params: &DmaParams, trade_date: TradeDate, series: &Series) -> Verdict {
        let undecided = |reason, levels| Verdict { state: State::Undecided(reason), levels };
        match series.dates.last() {
            Some(&last) if last == trade_date => {}
            Some(&last) => return undecided(Undecided::NoBarOnTradeDate { last }, None),
            None => return undecided(Undecided::NoData, None),
        }
        let n = series.dates.len();
        let levels = match (series.ma_short[n - 1], series.ma_long[n - 1]) {
            (Some(ma_short), Some(ma_long)) => Some(Levels { close: series.close[n - 1], ma_short, ma_long }),
            _ => None,
        };
        if n < params.long + 1 {
            return undecided(Undecided::TooFewBars { have: n, need: params.long + 1 }, levels);
        }
        let both = |idx: usize| (series.ma_short[idx].unwrap(), series.ma_long[idx].unwrap());
        let ((s1, l1), (s2, l2)) = (both(n - 1), both(n - 2));
        let run = |side: fn(f64, f64) -> bool| {
            let mut start = n - 1;
            while start > params.long - 1 && side(both(start - 1).0, both(start - 1).1) {
                start -= 1;
            }
            let base = series.close[start];
            Run {
                since: series.dates[start],
                since_is_window_start: start == params.long - 1,
                days: trade_date.days_since(series.dates[start]),
                pct: round_half_even((series.close[n - 1] - base) / base * 100.0, 2),
            }
        };
        use std::cmp::Ordering::{Equal, Greater, Less};
        let state = match (s1.partial_cmp(&l1), s2.partial_cmp(&l2)) {
            (Some(Greater), Some(Less | Equal)) => State::Buy,
            (Some(Less), Some(Greater | Equal)) => State::Sell,
            (Some(Greater), _) => State::Hold(run(|s, l| s > l)),
            (Some(Less), _) => State::Empty(run(|s, l| s < l)),
            _ => State::Undecided(Undecided::EqualAverages),
        };
        Verdict { state, levels }
    }

    fn sample(code: &fund::FundCode, from: &str, to: &str) -> History {
        SampleSource::new().history(code, TradeDate::parse(from).unwrap(), TradeDate::parse(to).unwrap())
    }

    #[test]
    fn ties_even_is_the_standard_library_s_round_ties_even() {
        let mut values = vec![0.0, -0.0, 0.5, 1.5, 2.5, -0.5, -2.5, 0.49999999999999994, 4_503_599_627_370_495.5];
        values.extend([
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
            2f64.powi(52),
            2f64.powi(53) + 2.0,
        ]);
        // Thousandths of prices, as the strategy scales them, and their halves.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let x = (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0e7 - 1.0e7;
            values.extend([x, x.trunc() + 0.5, f64::from_bits(state)]);
        }
        for x in values {
            let (ours, std) = (ties_even(x), x.round_ties_even());
            assert!(ours.to_bits() == std.to_bits() || (ours.is_nan() && std.is_nan()), "{x:e}: {ours:e} vs {std:e}");
        }
    }

    #[test]
    fn the_one_pass_agrees_with_the_series_on_every_day_of_two_years_of_sample_funds() {
        let mut scratch = Scratch::default();
        let (mut days, mut runs) = (0, 0);
        for params in [DmaParams::STANDARD, DmaParams::new(5, 20, 90).unwrap(), DmaParams::new(2, 60, 400).unwrap()] {
            for fund in fund::bundled_funds().iter().take(8) {
                let history = sample(&fund.code, "20231201", "20261127");
                let first = TradeDate::parse("20241201").unwrap();
                for day in history.bars.iter().map(|it| it.trade_date).filter(|it| *it >= first) {
                    let verdict = classify(&params, day, &history, &mut scratch);
                    assert_eq!(verdict, from_series(&params, day, &scratch.series(&params)), "{} {day}", fund.code);
                    days += 1;
                    runs += usize::from(matches!(verdict.state, State::Hold(_) | State::Empty(_)));
                }
            }
        }
        assert!(days > 10_000 && runs > days / 2, "{days} days, {runs} runs compared");
    }

    #[test]
    fn rows_newest_first_duplicated_or_unusable_give_the_verdict_of_clean_rows() {
        let code = fund::FundCode::parse("510300.SH").unwrap();
        let clean = sample(&code, "20250101", "20261127");
        let mut messy = clean.clone();
        messy.bars.reverse();
        messy.factors.reverse();
        // A later duplicate of a day is ignored; an unusable row is as if missing.
        messy.bars.push(Bar { close: clean.bars[100].close * 2.0, ..clean.bars[100] });
        messy.factors.push(AdjFactor { factor: f64::NAN, ..clean.factors[7] });
        let mut without_day = clean.clone();
        without_day.bars.retain(|it| it.trade_date != clean.bars[50].trade_date);
        messy.bars.iter_mut().filter(|it| it.trade_date == clean.bars[50].trade_date).for_each(|it| it.close = -1.0);
        let mut scratch = Scratch::default();
        for bar in &clean.bars[40..] {
            let day = bar.trade_date;
            let expected = classify(&DmaParams::STANDARD, day, &without_day, &mut scratch);
            assert!(is_strictly_increasing(&without_day.bars), "the clean rows take the in-place path");
            assert_eq!(classify(&DmaParams::STANDARD, day, &messy, &mut scratch), expected, "{day}");
        }
    }
}

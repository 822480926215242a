//! The double moving average strategy: pure, no IO, and it cannot fail.
//!
//! Over the forward-adjusted closes of a lookback window it computes a short and a long simple
//! moving average (the `ta` crate's running sum, which matches TA-Lib's `MA` to the bit), rounds
//! both to 3 decimals half to even (as numpy does) and classifies the trade date. What cannot be
//! decided is a value, [`State::Undecided`], never an error.
//!
//! Domain; uses [`crate::date`] and [`crate::history`] only.

use ta::{Next, indicators::SimpleMovingAverage};

use crate::{date::TradeDate, history::History};

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

/// Classifies one fund on `trade_date` from its history.
///
/// Bars and factors are joined on trade date (a day missing either is dropped, as is a day with a
/// non-positive or non-finite number), restricted to the `lookback_days` calendar days up to and
/// including `trade_date`, and forward-adjusted to the last day's factor.
pub fn evaluate(params: &DmaParams, trade_date: TradeDate, history: &History) -> Evaluation {
    let window_start = trade_date.minus_days(params.lookback_days);
    let series = adjusted_series(params, window_start, trade_date, history);
    let notes = history.notes.clone();
    let undecided = |reason: Undecided, levels: Option<Levels>, series: Series| Evaluation {
        state: State::Undecided(reason),
        levels,
        series,
        notes: notes.clone(),
    };

    let Some(&last_date) = series.dates.last() else {
        return undecided(Undecided::NoData, None, series);
    };
    if last_date != trade_date {
        return undecided(Undecided::NoBarOnTradeDate { last: last_date }, None, series);
    }
    let n = series.dates.len();
    let need = params.long + 1;
    let levels = match (series.ma_short[n - 1], series.ma_long[n - 1]) {
        (Some(ma_short), Some(ma_long)) => Some(Levels { close: series.close[n - 1], ma_short, ma_long }),
        _ => None,
    };
    if n < need {
        return undecided(Undecided::TooFewBars { have: n, need }, levels, series);
    }
    let levels = levels.expect("n > long, so both averages exist on the last day");
    let (s1, l1) = (levels.ma_short, levels.ma_long);
    let (s2, l2) =
        (series.ma_short[n - 2].expect("n - 2 >= long - 1"), series.ma_long[n - 2].expect("n - 2 >= long - 1"));

    let state = if s1 > l1 && s2 <= l2 {
        State::Buy
    } else if s1 < l1 && s2 >= l2 {
        State::Sell
    } else if s1 > l1 {
        State::Hold(run(params, trade_date, &series, |s, l| s > l))
    } else if s1 < l1 {
        State::Empty(run(params, trade_date, &series, |s, l| s < l))
    } else {
        State::Undecided(Undecided::EqualAverages)
    };
    Evaluation { state, levels: Some(levels), series, notes }
}

/// Rounds half to even at the given number of decimals, as numpy's `round` does.
pub fn round_half_even(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    let rounded = (value * scale).round_ties_even() / scale;
    // No "-0.00" in reports.
    if rounded == 0.0 { 0.0 } else { rounded }
}

fn adjusted_series(params: &DmaParams, from: TradeDate, to: TradeDate, history: &History) -> Series {
    let usable = |date: TradeDate, value: f64| (from..=to).contains(&date) && value.is_finite() && value > 0.0;
    // Sort-merge join on the trade date. Sources answer in date order (either way), for which the
    // stable sorts below are linear; a duplicate date keeps its first row.
    let mut bars: Vec<(TradeDate, f64)> =
        history.bars.iter().filter(|it| usable(it.trade_date, it.close)).map(|it| (it.trade_date, it.close)).collect();
    let mut factors: Vec<(TradeDate, f64)> = history
        .factors
        .iter()
        .filter(|it| usable(it.trade_date, it.factor))
        .map(|it| (it.trade_date, it.factor))
        .collect();
    bars.sort_by_key(|it| it.0);
    bars.dedup_by_key(|it| it.0);
    factors.sort_by_key(|it| it.0);
    factors.dedup_by_key(|it| it.0);
    let mut joined: Vec<(TradeDate, f64, f64)> = Vec::with_capacity(bars.len());
    let mut factor_idx = 0;
    for (date, close) in bars {
        while factor_idx < factors.len() && factors[factor_idx].0 < date {
            factor_idx += 1;
        }
        if let Some(&(factor_date, factor)) = factors.get(factor_idx)
            && factor_date == date
        {
            joined.push((date, close, factor));
        }
    }
    let Some(&(_, _, last_factor)) = joined.last() else {
        return Series::default();
    };

    let n = joined.len();
    let mut series = Series {
        dates: Vec::with_capacity(n),
        close: Vec::with_capacity(n),
        ma_short: Vec::with_capacity(n),
        ma_long: Vec::with_capacity(n),
    };
    let mut short = SimpleMovingAverage::new(params.short).expect("short >= 1");
    let mut long = SimpleMovingAverage::new(params.long).expect("long > short >= 1");
    for (idx, (date, close, factor)) in joined.into_iter().enumerate() {
        // Multiply first, then divide: the order the reference computes in.
        let qfq = close * factor / last_factor;
        let ma_short = short.next(qfq);
        let ma_long = long.next(qfq);
        series.dates.push(date);
        series.close.push(qfq);
        // `ta` emits partial averages for the first `period - 1` bars; they are not averages.
        series.ma_short.push((idx + 1 >= params.short).then(|| round_half_even(ma_short, 3)));
        series.ma_long.push((idx + 1 >= params.long).then(|| round_half_even(ma_long, 3)));
    }
    series
}

/// The run of days ending on the trade date on which `side(short, long)` holds.
fn run(params: &DmaParams, trade_date: TradeDate, series: &Series, side: fn(f64, f64) -> bool) -> Run {
    let first_with_both = params.long - 1;
    let last = series.dates.len() - 1;
    let mut start = last;
    while start > first_with_both {
        let (Some(s), Some(l)) = (series.ma_short[start - 1], series.ma_long[start - 1]) else {
            break;
        };
        if !side(s, l) {
            break;
        }
        start -= 1;
    }
    let since = series.dates[start];
    let base = series.close[start];
    Run {
        since,
        since_is_window_start: start == first_with_both,
        days: trade_date.days_since(since),
        pct: round_half_even((series.close[last] - base) / base * 100.0, 2),
    }
}

//! The signals the daily job would have published: [`strategy::evaluate`] on every bar day of
//! the range, over the same lookback window, adjusted to that day's factor, with the same
//! rounding. Nothing is recomputed another way, so the backtest and the published history cannot
//! disagree.

use crate::{
    date::TradeDate,
    history::{AdjFactor, Bar, History},
    strategy::{self, DmaParams, State},
};

/// A signal that trades: the only two states the backtest acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// The short average crossed above the long one.
    Buy,
    /// The short average crossed below the long one.
    Sell,
}

impl Signal {
    /// `BUY` or `SELL`, as reports and JSON write it.
    pub fn id(self) -> &'static str {
        match self {
            Signal::Buy => "BUY",
            Signal::Sell => "SELL",
        }
    }
}

/// The published signal of each of the fund's bar days in `from..=to` that had one, oldest first.
/// HOLD, EMPTY and UNDECIDED days are left out: they change nothing.
pub fn published_signals(
    params: &DmaParams,
    from: TradeDate,
    to: TradeDate,
    history: &History,
) -> Vec<(TradeDate, Signal)> {
    let mut bars: Vec<Bar> = history.bars.clone();
    let mut factors: Vec<AdjFactor> = history.factors.clone();
    bars.sort_by_key(|it| it.trade_date);
    factors.sort_by_key(|it| it.trade_date);
    let mut days: Vec<TradeDate> = bars.iter().map(|it| it.trade_date).filter(|it| (from..=to).contains(it)).collect();
    days.dedup();
    let mut signals = Vec::new();
    for day in days {
        let start = day.minus_days(params.lookback_days());
        let window = History {
            bars: within(&bars, start, day, |it| it.trade_date).to_vec(),
            factors: within(&factors, start, day, |it| it.trade_date).to_vec(),
            notes: Vec::new(),
        };
        match strategy::evaluate(params, day, &window).state {
            State::Buy => signals.push((day, Signal::Buy)),
            State::Sell => signals.push((day, Signal::Sell)),
            State::Hold(_) | State::Empty(_) | State::Undecided(_) => {}
        }
    }
    signals
}

/// The rows of a date-sorted slice with dates in `from..=to`.
fn within<T>(rows: &[T], from: TradeDate, to: TradeDate, date: impl Fn(&T) -> TradeDate) -> &[T] {
    let start = rows.partition_point(|it| date(it) < from);
    let end = rows.partition_point(|it| date(it) <= to);
    &rows[start..end.max(start)]
}

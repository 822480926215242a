//! One fund traded long/flat on its published signals, and bought and held.
//!
//! The rules, in the order a day is processed:
//! - Start flat. Only BUY and SELL trade: a BUY while long, or a SELL while flat, is ignored.
//! - [`Fill::Open`]: a signal on the fund's bar t fills at the open of its next bar (after a
//!   suspension, that is days later). Its fill comes first on that bar, so "flat" or "long" at
//!   a signal means after that bar's own fills. A signal on the fund's last bar in the range that
//!   would trade is pending, not filled. [`Fill::Close`] fills at t's close: idealised.
//! - NAV on every trading day of the calendar: `cash + units · close`, the close being the last one
//!   on or before that day (a suspension carries it forward).
//! - Prices are forward-adjusted to the fund's last bar in the range, so dividends and splits are
//!   neither gains nor losses.
//! - Buy-and-hold buys at the open of the fund's first bar in the range, under either fill rule,
//!   with the same cost and sizing, and never sells.

use serde::{Deserialize, Serialize};

use super::{
    account::{Account, Sizing},
    replay::Signal,
};
use crate::{date::TradeDate, history::History};

/// When a signal fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// At the open of the fund's next bar: what a follower of the e-mail can do.
    Open,
    /// At the signal day's own close: idealised (the signal is known only after the close).
    Close,
}

impl Fill {
    /// `open` or `close`.
    pub fn id(self) -> &'static str {
        match self {
            Fill::Open => "open",
            Fill::Close => "close",
        }
    }
}

/// One adjusted bar of the range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdjustedBar {
    /// The trading day.
    pub date: TradeDate,
    /// The open, forward-adjusted to the last bar of the range.
    pub open: f64,
    /// The close, forward-adjusted to the last bar of the range.
    pub close: f64,
}

/// The fund's bars in `from..=to` that have a usable open, close and factor, forward-adjusted to
/// the factor of the last of them (multiplying before dividing, as the strategy does). Oldest first.
pub fn adjusted_bars(history: &History, from: TradeDate, to: TradeDate) -> Vec<AdjustedBar> {
    let usable = |value: f64| value.is_finite() && value > 0.0;
    let mut factors: Vec<(TradeDate, f64)> = history
        .factors
        .iter()
        .filter(|it| (from..=to).contains(&it.trade_date) && usable(it.factor))
        .map(|it| (it.trade_date, it.factor))
        .collect();
    factors.sort_by_key(|it| it.0);
    factors.dedup_by_key(|it| it.0);
    let mut bars: Vec<_> = history
        .bars
        .iter()
        .filter(|it| (from..=to).contains(&it.trade_date) && usable(it.open) && usable(it.close))
        .collect();
    bars.sort_by_key(|it| it.trade_date);
    bars.dedup_by_key(|it| it.trade_date);
    let joined: Vec<(TradeDate, f64, f64, f64)> = bars
        .into_iter()
        .filter_map(|bar| {
            let at = factors.binary_search_by_key(&bar.trade_date, |it| it.0).ok()?;
            Some((bar.trade_date, bar.open, bar.close, factors[at].1))
        })
        .collect();
    let Some(&(_, _, _, last_factor)) = joined.last() else {
        return Vec::new();
    };
    joined
        .into_iter()
        .map(|(date, open, close, factor)| AdjustedBar {
            date,
            open: open * factor / last_factor,
            close: close * factor / last_factor,
        })
        .collect()
}

/// A round trip, or the open position at the end of the range (exit fields `None`). Stored as is in
/// the backtest's JSON (days as `YYYYMMDD`, `ret` as `return`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trade {
    /// The day of the BUY.
    pub signal_date: TradeDate,
    /// The day it filled.
    pub entry_date: TradeDate,
    /// The adjusted fill price.
    pub entry_price: f64,
    /// The day of the SELL.
    pub exit_signal_date: Option<TradeDate>,
    /// The day it filled.
    pub exit_date: Option<TradeDate>,
    /// The adjusted fill price.
    pub exit_price: Option<f64>,
    /// Closed: net of both sides' costs, `P_exit/P_entry·(1−c)² − 1` when fractional. Open: marked
    /// to the last close, without an exit cost.
    #[serde(rename = "return")]
    pub ret: f64,
}

impl Trade {
    /// Whether the position was closed within the range.
    pub fn is_closed(&self) -> bool {
        self.exit_date.is_some()
    }
}

/// A signal that would trade but whose fill falls after the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    /// The signal.
    pub signal: Signal,
    /// Its day.
    pub signal_date: TradeDate,
}

/// One fund's replay over the calendar.
#[derive(Debug, Clone, PartialEq)]
pub struct FundRun {
    /// Closed round trips, then the open position if any.
    pub trades: Vec<Trade>,
    /// Signals that would trade after the range.
    pub pending: Vec<Pending>,
    /// BUYs skipped because not even one lot was affordable (only with lots).
    pub unaffordable: Vec<TradeDate>,
    /// NAV on each calendar day, as a multiple of the starting cash.
    pub nav: Vec<f64>,
    /// On how many calendar days a position was held at the close.
    pub days_in_position: usize,
    /// Buy-and-hold's NAV on each calendar day.
    pub buy_and_hold: Vec<f64>,
}

/// Trades `bars` on `signals` over the trading days `calendar` (oldest first).
pub fn simulate(
    calendar: &[TradeDate],
    bars: &[AdjustedBar],
    signals: &[(TradeDate, Signal)],
    fill: Fill,
    sizing: Sizing,
    cost_bps: f64,
) -> FundRun {
    let mut account = Account::new(sizing, cost_bps);
    let mut holder = Account::new(sizing, cost_bps);
    let mut run = FundRun {
        trades: Vec::new(),
        pending: Vec::new(),
        unaffordable: Vec::new(),
        nav: Vec::with_capacity(calendar.len()),
        days_in_position: 0,
        buy_and_hold: Vec::with_capacity(calendar.len()),
    };
    let mut open_trade: Option<Trade> = None;
    // An order from the previous bar's signal, to fill at this bar's open.
    let mut order: Option<(Signal, TradeDate)> = None;
    let mut last_close: Option<f64> = None;
    let mut signal_at = 0;
    let mut bar_at = 0;
    for &day in calendar {
        while bar_at < bars.len() && bars[bar_at].date <= day {
            let bar = bars[bar_at];
            if bar_at == 0 {
                holder.buy(bar.open);
            }
            if let Some((signal, signal_date)) = order.take() {
                execute(&mut account, &mut open_trade, &mut run, signal, signal_date, bar.date, bar.open);
            }
            while signal_at < signals.len() && signals[signal_at].0 < bar.date {
                signal_at += 1;
            }
            if let Some(&(_, signal)) = signals.get(signal_at).filter(|it| it.0 == bar.date) {
                let trades = match signal {
                    Signal::Buy => account.position.is_none(),
                    Signal::Sell => account.position.is_some(),
                };
                if trades {
                    match fill {
                        Fill::Close => {
                            execute(&mut account, &mut open_trade, &mut run, signal, bar.date, bar.date, bar.close);
                        }
                        Fill::Open if bar_at + 1 < bars.len() => order = Some((signal, bar.date)),
                        Fill::Open => run.pending.push(Pending { signal, signal_date: bar.date }),
                    }
                }
            }
            last_close = Some(bar.close);
            bar_at += 1;
        }
        run.nav.push(account.nav(last_close));
        run.buy_and_hold.push(holder.nav(last_close));
        if account.position.is_some() {
            run.days_in_position += 1;
        }
    }
    if let Some(mut trade) = open_trade {
        trade.ret = account.open_return(last_close.unwrap_or(trade.entry_price)).unwrap_or(0.0);
        run.trades.push(trade);
    }
    run
}

/// Fills `signal` at `price` on `date`, recording the trade.
fn execute(
    account: &mut Account,
    open_trade: &mut Option<Trade>,
    run: &mut FundRun,
    signal: Signal,
    signal_date: TradeDate,
    date: TradeDate,
    price: f64,
) {
    match signal {
        Signal::Buy => {
            if account.buy(price) {
                *open_trade = Some(Trade {
                    signal_date,
                    entry_date: date,
                    entry_price: price,
                    exit_signal_date: None,
                    exit_date: None,
                    exit_price: None,
                    ret: 0.0,
                });
            } else {
                run.unaffordable.push(signal_date);
            }
        }
        Signal::Sell => {
            let ret = account.sell(price);
            let mut trade = open_trade.take().expect("a position has its trade");
            trade.exit_signal_date = Some(signal_date);
            trade.exit_date = Some(date);
            trade.exit_price = Some(price);
            trade.ret = ret;
            run.trades.push(trade);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(n: u32) -> TradeDate {
        TradeDate::from_ymd(2024, 3, n).unwrap()
    }

    /// Bars on the given days of March 2024 with (open, close).
    fn bars(rows: &[(u32, f64, f64)]) -> Vec<AdjustedBar> {
        rows.iter().map(|&(d, open, close)| AdjustedBar { date: day(d), open, close }).collect()
    }

    fn calendar(days: &[u32]) -> Vec<TradeDate> {
        days.iter().map(|it| day(*it)).collect()
    }

    const C: f64 = 0.0005;

    #[test]
    fn a_signal_fills_at_the_next_bars_open_and_a_round_trip_pays_both_sides() {
        let bars = bars(&[(4, 1.0, 1.0), (5, 1.0, 1.1), (6, 1.2, 1.3), (7, 1.3, 1.25), (8, 1.5, 1.4)]);
        let signals = [(day(5), Signal::Buy), (day(7), Signal::Sell)];
        let run = simulate(&calendar(&[4, 5, 6, 7, 8]), &bars, &signals, Fill::Open, Sizing::Fraction, 5.0);
        assert_eq!(run.trades.len(), 1);
        let trade = &run.trades[0];
        assert_eq!((trade.signal_date, trade.entry_date, trade.entry_price), (day(5), day(6), 1.2));
        assert_eq!(
            (trade.exit_signal_date, trade.exit_date, trade.exit_price),
            (Some(day(7)), Some(day(8)), Some(1.5))
        );
        assert!((trade.ret - (1.5 / 1.2 * (1.0 - C) * (1.0 - C) - 1.0)).abs() < 1e-15);
        let units = (1.0 - C) / 1.2;
        let expected = [1.0, 1.0, units * 1.3, units * 1.25, units * 1.5 * (1.0 - C)];
        for (nav, expected) in run.nav.iter().zip(expected) {
            assert!((nav - expected).abs() < 1e-15, "{:?}", run.nav);
        }
        assert_eq!(run.days_in_position, 2, "long at the closes of the 6th and 7th");
        assert!(run.pending.is_empty());
    }

    #[test]
    fn with_close_fills_a_signal_fills_at_its_own_close() {
        let bars = bars(&[(4, 1.0, 1.0), (5, 1.0, 1.1), (6, 1.2, 1.3)]);
        let signals = [(day(5), Signal::Buy), (day(6), Signal::Sell)];
        let run = simulate(&calendar(&[4, 5, 6]), &bars, &signals, Fill::Close, Sizing::Fraction, 5.0);
        let trade = &run.trades[0];
        assert_eq!((trade.entry_date, trade.entry_price, trade.exit_price), (day(5), 1.1, Some(1.3)));
        assert!((run.nav[2] - (1.0 - C) / 1.1 * 1.3 * (1.0 - C)).abs() < 1e-15);
    }

    #[test]
    fn a_signal_on_the_last_bar_is_pending_and_an_open_position_is_marked_without_an_exit_cost() {
        let bars = bars(&[(4, 1.0, 1.0), (5, 1.0, 1.1), (6, 1.2, 1.3)]);
        let run = simulate(&calendar(&[4, 5, 6]), &bars, &[(day(6), Signal::Buy)], Fill::Open, Sizing::Fraction, 5.0);
        assert!(run.trades.is_empty());
        assert_eq!(run.pending, [Pending { signal: Signal::Buy, signal_date: day(6) }]);
        assert_eq!(run.nav, [1.0, 1.0, 1.0]);

        let open = simulate(&calendar(&[4, 5, 6]), &bars, &[(day(4), Signal::Buy)], Fill::Open, Sizing::Fraction, 5.0);
        let trade = &open.trades[0];
        assert!(!trade.is_closed());
        assert_eq!((trade.entry_date, trade.exit_date, trade.exit_price), (day(5), None, None));
        assert!((trade.ret - (1.3 / 1.0 * (1.0 - C) - 1.0)).abs() < 1e-15);
    }

    #[test]
    fn a_repeated_signal_is_ignored_and_a_sell_while_flat_does_nothing() {
        let bars = bars(&[(4, 1.0, 1.0), (5, 1.0, 1.1), (6, 1.2, 1.3), (7, 1.3, 1.2), (8, 1.1, 1.0), (11, 1.0, 1.0)]);
        let signals = [
            (day(4), Signal::Sell),
            (day(5), Signal::Buy),
            (day(6), Signal::Buy),
            (day(7), Signal::Sell),
            (day(8), Signal::Sell),
        ];
        let run = simulate(&calendar(&[4, 5, 6, 7, 8, 11]), &bars, &signals, Fill::Open, Sizing::Fraction, 0.0);
        assert_eq!(run.trades.len(), 1);
        assert_eq!((run.trades[0].entry_date, run.trades[0].exit_date), (day(6), Some(day(8))));
        assert!(run.pending.is_empty(), "the second SELL was while flat: it would not trade");
    }

    #[test]
    fn a_suspension_carries_the_close_forward_and_the_fill_waits_for_the_next_bar() {
        // The fund has no bars on the 6th and 7th, which are trading days.
        let bars = bars(&[(4, 1.0, 1.0), (5, 1.0, 1.1), (8, 1.4, 1.5)]);
        let run =
            simulate(&calendar(&[4, 5, 6, 7, 8]), &bars, &[(day(5), Signal::Buy)], Fill::Open, Sizing::Fraction, 0.0);
        assert_eq!(run.trades[0].entry_date, day(8));
        assert_eq!(run.trades[0].entry_price, 1.4);
        assert_eq!(run.nav[..4], [1.0; 4]);
        assert!((run.nav[4] - 1.5 / 1.4).abs() < 1e-15);
        // Buy-and-hold bought at the first open and carries the 5th's close over the gap.
        assert_eq!(run.buy_and_hold, [1.0, 1.1, 1.1, 1.1, 1.5]);
    }

    #[test]
    fn before_the_funds_first_bar_the_nav_is_cash_and_buy_and_hold_buys_its_first_open_with_the_cost() {
        let bars = bars(&[(6, 2.0, 2.2), (7, 2.1, 2.4)]);
        let run = simulate(&calendar(&[4, 5, 6, 7]), &bars, &[], Fill::Close, Sizing::Fraction, 5.0);
        assert_eq!(run.nav, [1.0; 4]);
        assert_eq!(run.buy_and_hold[..2], [1.0, 1.0]);
        assert!((run.buy_and_hold[3] - (1.0 - C) / 2.0 * 2.4).abs() < 1e-15);
    }

    #[test]
    fn lots_keep_the_leftover_cash_in_the_nav() {
        let bars = bars(&[(4, 3.0, 3.0), (5, 3.456, 3.5), (6, 3.6, 3.7)]);
        let sizing = Sizing::Lots { capital: 100_000.0, lot: 100, min_commission: 5.0 };
        let run = simulate(&calendar(&[4, 5, 6]), &bars, &[(day(4), Signal::Buy)], Fill::Open, sizing, 2.5);
        let outlay = 99_878.4 * (1.0 + 0.000_25);
        let expected = (100_000.0 - outlay + 28_900.0 * 3.7) / 100_000.0;
        assert!((run.nav[2] - expected).abs() < 1e-12, "{} vs {expected}", run.nav[2]);
    }

    #[test]
    fn adjusted_bars_join_factors_and_adjust_to_the_last_factor_of_the_range() {
        use crate::history::{AdjFactor, Bar};
        let history = History {
            bars: vec![
                Bar { trade_date: day(4), open: 10.0, close: 10.5 },
                Bar { trade_date: day(5), open: 5.0, close: 5.5 },
                Bar { trade_date: day(6), open: 5.5, close: 6.0 },
                Bar { trade_date: day(7), open: 6.0, close: f64::NAN },
            ],
            factors: vec![
                AdjFactor { trade_date: day(4), factor: 1.0 },
                AdjFactor { trade_date: day(5), factor: 2.0 },
                AdjFactor { trade_date: day(6), factor: 2.0 },
                AdjFactor { trade_date: day(7), factor: 2.0 },
            ],
            notes: Vec::new(),
        };
        let bars = adjusted_bars(&history, day(4), day(7));
        assert_eq!(bars.iter().map(|it| it.date).collect::<Vec<_>>(), [day(4), day(5), day(6)]);
        assert_eq!((bars[0].open, bars[0].close), (10.0 * 1.0 / 2.0, 10.5 * 1.0 / 2.0));
        assert_eq!((bars[2].open, bars[2].close), (5.5, 6.0));
    }
}

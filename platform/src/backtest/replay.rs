//! The signals the daily job would have published: [`strategy::evaluate`] on every bar day of
//! the range, over the same lookback window, adjusted to that day's factor, with the same
//! rounding. Nothing is recomputed another way, so the backtest and the published history cannot
//! disagree.

use crate::{
    date::TradeDate,
    history::History,
    strategy::{self, DmaParams},
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
///
/// The same numbers as [`strategy::evaluate`] on each day, computed without its per-call join,
/// sort and series: the rows are joined once, each day's window is adjusted to that day's factor
/// and averaged from its first day by the same running sums (`ta`'s), so every float is the same.
/// A test holds the two equal on every day of ten years of the sample market.
pub fn published_signals(
    params: &DmaParams,
    from: TradeDate,
    to: TradeDate,
    history: &History,
) -> Vec<(TradeDate, Signal)> {
    let joined = join(history);
    let mut signals = Vec::new();
    let mut window_start = 0;
    // Closes adjusted to `adjusted_for`, valid from the window's start up to `adjusted_to`: the
    // factor of consecutive days is the same but for dividends, so most days adjust one new close.
    let mut adjusted = vec![0.0; joined.len()];
    let mut adjusted_for = f64::NAN;
    let mut adjusted_to = 0;
    for (at, &(day, _, factor)) in joined.iter().enumerate() {
        if !(from..=to).contains(&day) {
            continue;
        }
        let first_day = day.minus_days(params.lookback_days());
        while joined[window_start].0 < first_day {
            window_start += 1;
        }
        if at + 1 - window_start < params.long() + 1 {
            continue;
        }
        let from_index =
            if factor.to_bits() == adjusted_for.to_bits() { adjusted_to.max(window_start) } else { window_start };
        for (slot, &(_, close, its_factor)) in adjusted[from_index..=at].iter_mut().zip(&joined[from_index..=at]) {
            // Multiply first, then divide: as the strategy does.
            *slot = close * its_factor / factor;
        }
        adjusted_for = factor;
        adjusted_to = at + 1;
        let window = &adjusted[window_start..=at];
        let ((s2, s1), (l2, l1)) = last_two_averages(window, params.short(), params.long());
        if s1 > l1 && s2 <= l2 {
            signals.push((day, Signal::Buy));
        } else if s1 < l1 && s2 >= l2 {
            signals.push((day, Signal::Sell));
        }
    }
    signals
}

/// The sweep's fast path: crossings of the averages over the whole history at once, adjusted to
/// its last factor, instead of each day's window adjusted to that day's factor. Cheaper by the
/// window's length, and not the published signals: the rounding of the averages sees other
/// prices, so an equal-looking crossing may land a day apart. Callers say so, and count how many
/// trades differ from [`published_signals`].
pub fn whole_series_signals(
    params: &DmaParams,
    from: TradeDate,
    to: TradeDate,
    history: &History,
) -> Vec<(TradeDate, Signal)> {
    crossings(&whole_series(history, to), params, from)
}

/// The closes of every joined day up to `to`, adjusted to the factor of the last of them: what
/// [`crossings`] averages. Made once per fund, for every pair of a sweep.
pub fn whole_series(history: &History, to: TradeDate) -> Vec<(TradeDate, f64)> {
    let mut joined = join(history);
    joined.retain(|it| it.0 <= to);
    let Some(&(_, _, last_factor)) = joined.last() else {
        return Vec::new();
    };
    joined.into_iter().map(|(day, close, factor)| (day, close * factor / last_factor)).collect()
}

/// The crossings from `from` on of the rounded averages of `adjusted` ([`whole_series`]), by the
/// same running sums as the daily replay (`sum = sum − oldest + new`).
pub fn crossings(adjusted: &[(TradeDate, f64)], params: &DmaParams, from: TradeDate) -> Vec<(TradeDate, Signal)> {
    let (short, long) = (params.short(), params.long());
    let (mut short_sum, mut long_sum) = (0.0, 0.0);
    let mut before: Option<(f64, f64)> = None;
    let mut signals = Vec::new();
    for (at, &(day, value)) in adjusted.iter().enumerate() {
        short_sum = short_sum - if at >= short { adjusted[at - short].1 } else { 0.0 } + value;
        long_sum = long_sum - if at >= long { adjusted[at - long].1 } else { 0.0 } + value;
        if at + 1 < long {
            continue;
        }
        let now = (
            strategy::round_half_even(short_sum / short as f64, 3),
            strategy::round_half_even(long_sum / long as f64, 3),
        );
        if let Some((s2, l2)) = before
            && day >= from
        {
            let (s1, l1) = now;
            if s1 > l1 && s2 <= l2 {
                signals.push((day, Signal::Buy));
            } else if s1 < l1 && s2 >= l2 {
                signals.push((day, Signal::Sell));
            }
        }
        before = Some(now);
    }
    signals
}

/// Bars and factors joined on the trade date, as the strategy joins them: usable values only
/// (finite, above 0), sorted, the first row of a duplicate date kept.
fn join(history: &History) -> Vec<(TradeDate, f64, f64)> {
    let usable = |value: f64| value.is_finite() && value > 0.0;
    let mut bars: Vec<(TradeDate, f64)> =
        history.bars.iter().filter(|it| usable(it.close)).map(|it| (it.trade_date, it.close)).collect();
    let mut factors: Vec<(TradeDate, f64)> =
        history.factors.iter().filter(|it| usable(it.factor)).map(|it| (it.trade_date, it.factor)).collect();
    bars.sort_by_key(|it| it.0);
    bars.dedup_by_key(|it| it.0);
    factors.sort_by_key(|it| it.0);
    factors.dedup_by_key(|it| it.0);
    bars.into_iter()
        .filter_map(|(day, close)| {
            let at = factors.binary_search_by_key(&day, |it| it.0).ok()?;
            Some((day, close, factors[at].1))
        })
        .collect()
}

/// The short and the long averages on the last two values, rounded as the strategy rounds them:
/// `((short_before, short_last), (long_before, long_last))`.
///
/// Each running sum is `ta`'s `SimpleMovingAverage` step for step (`sum = sum − oldest + new`,
/// the oldest being 0 while the period fills), so the floats are its floats; only the divisions
/// that are used are made. `values` has more than `long` values.
fn last_two_averages(values: &[f64], short: usize, long: usize) -> ((f64, f64), (f64, f64)) {
    let (mut short_sum, mut long_sum) = (0.0, 0.0);
    let (mut short_before, mut long_before) = (0.0, 0.0);
    for (at, &value) in values.iter().enumerate() {
        let short_oldest = if at >= short { values[at - short] } else { 0.0 };
        let long_oldest = if at >= long { values[at - long] } else { 0.0 };
        (short_before, long_before) = (short_sum, long_sum);
        short_sum = short_sum - short_oldest + value;
        long_sum = long_sum - long_oldest + value;
    }
    let average = |sum: f64, period: usize| strategy::round_half_even(sum / period as f64, 3);
    ((average(short_before, short), average(short_sum, short)), (average(long_before, long), average(long_sum, long)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{fund, market::sample::SampleSource, strategy::State};

    /// The oracle: [`strategy::evaluate`] itself on every bar day.
    fn by_evaluate(params: &DmaParams, from: TradeDate, to: TradeDate, history: &History) -> Vec<(TradeDate, Signal)> {
        let mut days: Vec<TradeDate> =
            history.bars.iter().map(|it| it.trade_date).filter(|it| (from..=to).contains(it)).collect();
        days.sort();
        days.dedup();
        days.into_iter()
            .filter_map(|day| match strategy::evaluate(params, day, history).state {
                State::Buy => Some((day, Signal::Buy)),
                State::Sell => Some((day, Signal::Sell)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_replay_is_the_strategy_on_every_day_of_ten_years_of_every_sample_fund() {
        let source = SampleSource::new();
        let (from, to) = (TradeDate::parse("20161201").unwrap(), TradeDate::parse("20261127").unwrap());
        let mut signals = 0;
        for params in [DmaParams::STANDARD, DmaParams::new(5, 20, 90).unwrap()] {
            for fund in fund::bundled_funds().iter().take(12) {
                let history = source.history(&fund.code, from.minus_days(params.lookback_days()), to);
                let fast = published_signals(&params, from, to, &history);
                assert_eq!(fast, by_evaluate(&params, from, to, &history), "{}", fund.code);
                signals += fast.len();
            }
        }
        assert!(signals > 1000, "{signals} signals compared");
    }
}

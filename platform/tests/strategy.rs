//! The strategy through its public API, on series built by hand so every expected number can be
//! checked with pencil and paper.

use platform::{
    date::TradeDate,
    market::{AdjFactor, Bar, History},
    strategy::{DmaParams, Evaluation, Run, State, Undecided, evaluate, round_half_even},
};

/// Short 2, long 4: small enough to compute by hand.
fn small() -> DmaParams {
    DmaParams::new(2, 4, 400).unwrap()
}

/// Consecutive weekdays from 2026-11-02 (a Monday), one per close.
fn dates(n: usize) -> Vec<TradeDate> {
    let mut days = Vec::new();
    let mut day = TradeDate::parse("20261102").unwrap();
    while days.len() < n {
        if !day.is_weekend() {
            days.push(day);
        }
        day = day.next_day().unwrap();
    }
    days
}

fn history(closes: &[f64], factors: &[f64]) -> History {
    let days = dates(closes.len());
    History {
        bars: days.iter().zip(closes).map(|(&trade_date, &close)| Bar { trade_date, open: close, close }).collect(),
        factors: days.iter().zip(factors).map(|(&trade_date, &factor)| AdjFactor { trade_date, factor }).collect(),
        notes: Vec::new(),
    }
}

fn unadjusted(closes: &[f64]) -> History {
    history(closes, &vec![1.0; closes.len()])
}

/// Evaluates on the last day of the series.
fn check(params: DmaParams, history: &History) -> Evaluation {
    let last = history.bars.iter().map(|it| it.trade_date).max().unwrap();
    evaluate(&params, last, history)
}

#[test]
fn a_cross_above_on_the_last_bar_is_buy() {
    // MA2: .. 9.5, 10.5; MA4: .. 9.75, 10.25: below yesterday, above today.
    let evaluation = check(small(), &unadjusted(&[10.0, 10.0, 10.0, 10.0, 10.0, 9.0, 12.0]));
    assert_eq!(evaluation.state, State::Buy);
    let levels = evaluation.levels.unwrap();
    assert_eq!((levels.close, levels.ma_short, levels.ma_long), (12.0, 10.5, 10.25));
}

#[test]
fn a_cross_below_on_the_last_bar_is_sell() {
    // MA2: .. 10.5, 9.5; MA4: .. 10.25, 9.75.
    let evaluation = check(small(), &unadjusted(&[10.0, 10.0, 10.0, 10.0, 10.0, 11.0, 8.0]));
    assert_eq!(evaluation.state, State::Sell);
}

#[test]
fn a_cross_the_bar_before_is_hold_since_the_signal_day() {
    // The cross of the first test, then one more day above: MA2 12.3 > MA4 10.9.
    let history = unadjusted(&[10.0, 10.0, 10.0, 10.0, 10.0, 9.0, 12.0, 12.6]);
    let days = dates(8);
    let evaluation = check(small(), &history);
    let run = Run { since: days[6], since_is_window_start: false, days: 1, pct: 5.0 };
    assert_eq!(evaluation.state, State::Hold(run));
}

#[test]
fn a_cross_below_the_bar_before_is_empty_since_the_signal_day() {
    // Sell on day 9 (a Friday), then MA2 7.9 < MA4 (10 + 11 + 8 + 7.8) / 4 = 9.2 on day 10 (the
    // Monday after): three calendar days, -2.5 %.
    let history = unadjusted(&[10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 11.0, 8.0, 7.8]);
    let days = dates(11);
    let evaluation = check(small(), &history);
    let run = Run { since: days[9], since_is_window_start: false, days: 3, pct: -2.5 };
    assert_eq!(evaluation.state, State::Empty(run));
}

#[test]
fn equal_averages_on_the_last_day_are_undecided() {
    let evaluation = check(small(), &unadjusted(&[10.0; 6]));
    assert_eq!(evaluation.state, State::Undecided(Undecided::EqualAverages));
    assert!(evaluation.levels.is_some(), "the averages are still reported");
}

#[test]
fn too_few_bars_for_the_long_average_plus_one_are_undecided() {
    let evaluation = check(small(), &unadjusted(&[10.0, 11.0, 12.0, 13.0]));
    assert_eq!(evaluation.state, State::Undecided(Undecided::TooFewBars { have: 4, need: 5 }));
    assert_eq!(Undecided::TooFewBars { have: 12, need: 23 }.text(), "数据不足 (12 个交易日, 需要 23)");
    let evaluation = check(DmaParams::STANDARD, &unadjusted(&[1.0; 22]));
    assert_eq!(evaluation.state, State::Undecided(Undecided::TooFewBars { have: 22, need: 23 }));
}

#[test]
fn no_rows_and_no_bar_on_the_trade_date_are_undecided() {
    let trade_date = dates(10)[9];
    let evaluation = evaluate(&small(), trade_date, &History::default());
    assert_eq!(evaluation.state, State::Undecided(Undecided::NoData));
    let suspended = unadjusted(&[10.0; 9]);
    let evaluation = evaluate(&small(), trade_date, &suspended);
    assert_eq!(evaluation.state, State::Undecided(Undecided::NoBarOnTradeDate { last: dates(9)[8] }));
}

#[test]
fn a_dividend_step_that_fakes_a_cross_on_raw_closes_does_not_on_forward_adjusted_ones() {
    // A steady rise, then an ex-dividend day: the raw close drops 10 %, the factor rises to match.
    let closes = [10.0, 10.1, 10.2, 10.3, 10.4, 10.5, 9.55];
    let step = 10.6 / 9.55;
    let factors = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, step];
    assert_eq!(check(small(), &unadjusted(&closes)).state, State::Sell, "raw closes fake a cross");
    let evaluation = check(small(), &history(&closes, &factors));
    assert!(matches!(evaluation.state, State::Hold(_)), "{:?}", evaluation.state);
    // The last day is the reference: its forward-adjusted close is its own close.
    assert_eq!(evaluation.levels.unwrap().close, 9.55);
    assert_eq!(evaluation.series.close[0], 10.0 * 1.0 / step);
}

#[test]
fn a_day_missing_its_bar_or_its_factor_is_dropped() {
    let mut history = unadjusted(&[10.0, 10.0, 10.0, 10.0, 10.0, 9.0, 12.0]);
    history.factors.remove(5);
    let evaluation = check(small(), &history);
    assert_eq!(evaluation.series.dates.len(), 6);
    assert!(!evaluation.series.dates.contains(&dates(7)[5]));
}

#[test]
fn rows_in_any_order_give_the_same_answer() {
    let history = unadjusted(&[10.0, 10.0, 10.0, 10.0, 10.0, 9.0, 12.0, 12.6]);
    let mut shuffled = history.clone();
    shuffled.bars.reverse();
    shuffled.factors.rotate_left(3);
    assert_eq!(check(small(), &shuffled), check(small(), &history));
}

#[test]
fn a_run_that_began_before_the_window_is_flagged_and_measured_from_the_window() {
    // Rising all along: the short average is above the long one from its first day.
    let closes: Vec<f64> = (0..10).map(|it| 10.0 + f64::from(it)).collect();
    let days = dates(10);
    let evaluation = check(small(), &unadjusted(&closes));
    let State::Hold(run) = evaluation.state else { panic!("{:?}", evaluation.state) };
    assert_eq!(run.since, days[3], "the first day with both averages");
    assert!(run.since_is_window_start);
    assert_eq!(run.pct, round_half_even((19.0 - 13.0) / 13.0 * 100.0, 2));

    // The same series seen through an 8-day lookback from Friday 13th: the window starts on
    // Thursday 5th (day 3), so both averages exist from day 6 on.
    let narrow = DmaParams::new(2, 4, 8).unwrap();
    let evaluation = check(narrow, &unadjusted(&closes));
    let State::Hold(run) = evaluation.state else { panic!("{:?}", evaluation.state) };
    assert_eq!(evaluation.series.dates[0], days[3]);
    assert_eq!(run.since, days[6]);
    assert!(run.since_is_window_start);
}

#[test]
fn averages_are_rounded_half_to_even_before_they_are_compared() {
    // The last short average is (1.0 + 1.001) / 2 = 1.0005 exactly at a tie: half to even gives
    // 1.000, equal to the long average 1.00025 -> 1.000. Half away from zero would give 1.001 and
    // a false BUY.
    let evaluation = check(small(), &unadjusted(&[1.0, 1.0, 1.0, 1.0, 1.0, 1.001]));
    assert_eq!((1.0f64 + 1.001) / 2.0 * 1000.0, 1000.5, "the input is a real tie");
    assert_eq!(evaluation.series.ma_short.last(), Some(&Some(1.0)));
    assert_eq!(evaluation.state, State::Undecided(Undecided::EqualAverages));
    assert_eq!(round_half_even(1.0015, 3), 1.002);
    assert_eq!(round_half_even(-0.001, 2), 0.0);
    assert!(round_half_even(-0.001, 2).is_sign_positive(), "no -0.00");
}

#[test]
fn averages_use_the_running_sum_and_skip_partial_windows() {
    let evaluation = check(small(), &unadjusted(&[1.0, 2.0, 3.0, 4.0, 5.0]));
    assert_eq!(evaluation.series.ma_short, [None, Some(1.5), Some(2.5), Some(3.5), Some(4.5)]);
    assert_eq!(evaluation.series.ma_long, [None, None, None, Some(2.5), Some(3.5)]);
}

#[test]
fn parameters_require_a_short_period_below_the_long_one() {
    assert!(DmaParams::new(22, 11, 150).is_err());
    assert!(DmaParams::new(11, 11, 150).is_err());
    assert!(DmaParams::new(0, 11, 150).is_err());
    assert!(DmaParams::new(11, 22, 0).is_err());
    assert_eq!(DmaParams::new(11, 22, 150).unwrap(), DmaParams::STANDARD);
    assert_eq!(DmaParams::STANDARD.id(), "dma-11-22");
}

//! The figures of a NAV curve and of a list of trades, exactly as the README defines them.
//!
//! For a NAV curve `V_0..V_{N−1}` on the range's trading days, with `V_{−1} = 1` and
//! `r_k = V_k/V_{k−1} − 1`:
//! - `total_return = V_{N−1} − 1`; `cagr = V_{N−1}^(365.25/days) − 1`, `days` the calendar days
//!   from the first to the last trading day (none when 0);
//! - `sharpe = mean(r) / std(r, ddof=1) · √252`, risk-free 0 (none when the std is 0 or N < 2);
//! - `max_drawdown = max_k (1 − V_k / max(1, max_{j≤k} V_j))`, with its peak, trough and recovery.
//!
//! Of trades: `trades` (closed ones), `win_rate` (share with return > 0), `profit_factor`
//! (Σ positive returns / Σ |negative returns|), `avg_trade` (mean return); `calmar = cagr /
//! max_drawdown`.

use crate::date::TradeDate;

/// The figures of one NAV curve.
#[derive(Debug, Clone, PartialEq)]
pub struct CurveMetrics {
    /// `V_{N−1} − 1`.
    pub total_return: f64,
    /// Compound annual growth over calendar days; `None` when the range is one day.
    pub cagr: Option<f64>,
    /// Annualised Sharpe ratio of daily returns, risk-free 0; `None` when undefined.
    pub sharpe: Option<f64>,
    /// The deepest fall from a running peak (the start counts as a peak of 1).
    pub drawdown: Drawdown,
}

/// The deepest drawdown of a curve.
#[derive(Debug, Clone, PartialEq)]
pub struct Drawdown {
    /// A fraction, 0 when the curve never fell below a running peak.
    pub depth: f64,
    /// The day of the peak (the first day when the peak is the starting value); `None` when 0.
    pub peak: Option<TradeDate>,
    /// The day of the trough; `None` when the depth is 0.
    pub trough: Option<TradeDate>,
    /// The first day after the trough back at the peak's value; `None` when not recovered.
    pub recovery: Option<TradeDate>,
}

/// The figures of `nav` on `dates` (same length, oldest first, not empty).
pub fn curve(dates: &[TradeDate], nav: &[f64]) -> CurveMetrics {
    assert_eq!(dates.len(), nav.len(), "a NAV for each day");
    assert!(!nav.is_empty(), "a curve has at least one day");
    let last = nav[nav.len() - 1];
    let days = dates[dates.len() - 1].days_since(dates[0]);
    let cagr = (days > 0).then(|| last.powf(365.25 / days as f64) - 1.0);
    let mut previous = 1.0;
    let returns: Vec<f64> = nav
        .iter()
        .map(|&value| {
            let r = value / previous - 1.0;
            previous = value;
            r
        })
        .collect();
    CurveMetrics { total_return: last - 1.0, cagr, sharpe: sharpe(&returns), drawdown: drawdown(dates, nav) }
}

/// `mean(r) / std(r, ddof=1) · √252`.
fn sharpe(returns: &[f64]) -> Option<f64> {
    if returns.len() < 2 {
        return None;
    }
    let n = returns.len() as f64;
    let mean = returns.iter().sum::<f64>() / n;
    let variance = returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let std = variance.sqrt();
    (std > 0.0).then(|| mean / std * 252f64.sqrt())
}

fn drawdown(dates: &[TradeDate], nav: &[f64]) -> Drawdown {
    let mut peak_value = 1.0;
    let mut peak_day = dates[0];
    let mut deepest = Drawdown { depth: 0.0, peak: None, trough: None, recovery: None };
    let mut deepest_peak_value = 1.0;
    for (&day, &value) in dates.iter().zip(nav) {
        if value >= peak_value {
            peak_value = value;
            peak_day = day;
        }
        let depth = 1.0 - value / peak_value;
        if depth > deepest.depth {
            deepest = Drawdown { depth, peak: Some(peak_day), trough: Some(day), recovery: None };
            deepest_peak_value = peak_value;
        }
    }
    if let Some(trough) = deepest.trough {
        deepest.recovery =
            dates.iter().zip(nav).find(|(day, value)| **day > trough && **value >= deepest_peak_value).map(|it| *it.0);
    }
    deepest
}

/// The figures of closed trades' returns.
#[derive(Debug, Clone, PartialEq)]
pub struct TradeMetrics {
    /// Closed round trips.
    pub trades: usize,
    /// Share of them with a return above 0; `None` without trades.
    pub win_rate: Option<f64>,
    /// Σ positive returns / Σ |negative returns|; `None` without a losing trade.
    pub profit_factor: Option<f64>,
    /// Mean return; `None` without trades.
    pub avg_trade: Option<f64>,
}

/// The figures of the closed trades' `returns`.
pub fn trades(returns: &[f64]) -> TradeMetrics {
    let n = returns.len();
    let wins = returns.iter().filter(|it| **it > 0.0).count();
    let gains: f64 = returns.iter().filter(|it| **it > 0.0).sum();
    let losses: f64 = returns.iter().filter(|it| **it < 0.0).map(|it| -it).sum();
    TradeMetrics {
        trades: n,
        win_rate: (n > 0).then(|| wins as f64 / n as f64),
        profit_factor: (losses > 0.0).then(|| gains / losses),
        avg_trade: (n > 0).then(|| returns.iter().sum::<f64>() / n as f64),
    }
}

/// `cagr / max_drawdown`; `None` when either is missing or the drawdown is 0.
pub fn calmar(curve: &CurveMetrics) -> Option<f64> {
    curve.cagr.filter(|_| curve.drawdown.depth > 0.0).map(|cagr| cagr / curve.drawdown.depth)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(n: usize) -> Vec<TradeDate> {
        let mut day = TradeDate::parse("20240102").unwrap();
        (0..n)
            .map(|_| {
                let it = day;
                day = day.next_day().unwrap();
                it
            })
            .collect()
    }

    #[test]
    fn a_hand_computed_curve() {
        // V = 1.1, 0.99, 1.0395, 1.2: r = 0.1, -0.1, 0.05, 0.154401...
        let dates = days(4);
        let nav = [1.1, 0.99, 1.0395, 1.2];
        let m = curve(&dates, &nav);
        assert!((m.total_return - 0.2).abs() < 1e-12);
        // 3 calendar days.
        assert!((m.cagr.unwrap() - (1.2f64.powf(365.25 / 3.0) - 1.0)).abs() < 1e-9);
        let r = [0.1, -0.1, 0.05, 1.2 / 1.0395 - 1.0];
        let mean = r.iter().sum::<f64>() / 4.0;
        let std = (r.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / 3.0).sqrt();
        assert!((m.sharpe.unwrap() - mean / std * 252f64.sqrt()).abs() < 1e-12);
        // Peak 1.1 on day 0, trough 0.99 on day 1: 10%; recovered on day 3 (1.2 >= 1.1).
        assert!((m.drawdown.depth - 0.1).abs() < 1e-12);
        assert_eq!(m.drawdown.peak, Some(dates[0]));
        assert_eq!(m.drawdown.trough, Some(dates[1]));
        assert_eq!(m.drawdown.recovery, Some(dates[3]));
    }

    #[test]
    fn the_start_is_a_peak_of_one_and_a_curve_that_never_falls_has_no_drawdown() {
        let dates = days(3);
        let falling = curve(&dates, &[0.9, 0.8, 0.85]);
        assert!((falling.drawdown.depth - 0.2).abs() < 1e-12);
        assert_eq!(falling.drawdown.peak, Some(dates[0]));
        assert_eq!(falling.drawdown.trough, Some(dates[1]));
        assert_eq!(falling.drawdown.recovery, None);
        let flat = curve(&dates, &[1.0, 1.0, 1.0]);
        assert_eq!(flat.sharpe, None, "no variance, no Sharpe");
        assert_eq!(flat.drawdown, Drawdown { depth: 0.0, peak: None, trough: None, recovery: None });
        assert_eq!(calmar(&flat), None);
        let one_day = curve(&dates[..1], &[1.05]);
        assert_eq!((one_day.cagr, one_day.sharpe), (None, None));
    }

    #[test]
    fn trade_figures() {
        let m = trades(&[0.1, -0.05, 0.02, -0.01]);
        assert_eq!(m.trades, 4);
        assert_eq!(m.win_rate, Some(0.5));
        assert!((m.profit_factor.unwrap() - 0.12 / 0.06).abs() < 1e-12);
        assert!((m.avg_trade.unwrap() - 0.015).abs() < 1e-12);
        assert_eq!(trades(&[]), TradeMetrics { trades: 0, win_rate: None, profit_factor: None, avg_trade: None });
        assert_eq!(trades(&[0.1]).profit_factor, None);
    }
}

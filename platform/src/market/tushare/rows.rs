//! Rows of answers turned into a [`History`]: bars (open and close) and factors by field name, a
//! day with a null open or close left out and noted, the last bar's unpublished factor carried
//! forward. [`Rows`] is also what the cache stores.

use serde::Deserialize;

use super::{answer::Table, error::TushareError};
use crate::{
    date::TradeDate,
    fund::{FundCode, SecurityKind},
    history::{AdjFactor, Bar, History},
};

/// Turns two answers (bars and factors) into a [`History`].
pub fn history_from_tables(bars: &Table, factors: &Table) -> Result<History, TushareError> {
    let mut rows = Rows::default();
    rows.add_tables(bars, factors, None)?;
    Ok(rows.into_history())
}

/// Raw rows of one security: what the price cache stores (nothing carried forward).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, Deserialize)]
pub(super) struct Rows {
    /// `(trade_date, prices)`.
    bars: Vec<(TradeDate, Prices)>,
    /// `(trade_date, adj_factor)`.
    factors: Vec<(TradeDate, f64)>,
    /// Days whose bar had a null close.
    null_closes: Vec<TradeDate>,
    /// Days whose bar had a close but a null open.
    null_opens: Vec<TradeDate>,
}

/// One day's unadjusted prices, as the exchange printed them.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, Deserialize)]
struct Prices {
    open: f64,
    close: f64,
}

impl Rows {
    /// Adds the rows of two answers; with `code`, only that security's rows (a whole-market answer).
    pub(super) fn add_tables(
        &mut self,
        bars: &Table,
        factors: &Table,
        code: Option<&FundCode>,
    ) -> Result<(), TushareError> {
        let date_column = bars.column("trade_date")?;
        let close_column = bars.column("close")?;
        let open_column = bars.column("open")?;
        for row in rows_of(bars, code)? {
            let trade_date = bars.date(row, date_column, "trade_date")?;
            let close = bars.number(row, close_column, "close")?;
            let open = bars.number(row, open_column, "open")?;
            match (open, close) {
                (Some(open), Some(close)) => self.bars.push((trade_date, Prices { open, close })),
                (_, None) => self.null_closes.push(trade_date),
                (None, Some(_)) => self.null_opens.push(trade_date),
            }
        }
        let date_column = factors.column("trade_date")?;
        let factor_column = factors.column("adj_factor")?;
        for row in rows_of(factors, code)? {
            let trade_date = factors.date(row, date_column, "trade_date")?;
            if let Some(factor) = factors.number(row, factor_column, "adj_factor")? {
                self.factors.push((trade_date, factor));
            }
        }
        Ok(())
    }

    /// Sorted by date, one row per date (the later added wins), only dates in `from..=to`.
    pub(super) fn normalize(&mut self, from: TradeDate, to: TradeDate) {
        fn keep<T>(rows: &mut Vec<(TradeDate, T)>, from: TradeDate, to: TradeDate) {
            rows.retain(|(date, _)| (from..=to).contains(date));
            // Stable sort, then keep the last of equal dates: a fresh answer replaces a cached one.
            rows.sort_by_key(|(date, _)| *date);
            let mut deduped: Vec<(TradeDate, T)> = Vec::with_capacity(rows.len());
            for row in rows.drain(..) {
                match deduped.last_mut() {
                    Some(last) if last.0 == row.0 => *last = row,
                    _ => deduped.push(row),
                }
            }
            *rows = deduped;
        }
        keep(&mut self.bars, from, to);
        keep(&mut self.factors, from, to);
        let bar_days: Vec<TradeDate> = self.bars.iter().map(|(date, _)| *date).collect();
        for days in [&mut self.null_closes, &mut self.null_opens] {
            days.retain(|date| (from..=to).contains(date));
            days.sort_unstable();
            days.dedup();
            days.retain(|date| bar_days.binary_search(date).is_err());
        }
        let null_closes = std::mem::take(&mut self.null_closes);
        self.null_opens.retain(|date| null_closes.binary_search(date).is_err());
        self.null_closes = null_closes;
    }

    /// The history, with notes; the last bar's unpublished factor is carried forward.
    pub(super) fn into_history(mut self) -> History {
        let (from, to) = (TradeDate::from_ymd(1990, 1, 1), TradeDate::from_ymd(2099, 12, 31));
        self.normalize(from.expect("a real day"), to.expect("a real day"));
        let mut missing: Vec<(TradeDate, &str)> = self.null_closes.iter().map(|&date| (date, "收盘价")).collect();
        missing.extend(self.null_opens.iter().map(|&date| (date, "开盘价")));
        missing.sort_unstable();
        let mut history = History {
            bars: self
                .bars
                .iter()
                .map(|&(trade_date, Prices { open, close })| Bar { trade_date, open, close })
                .collect(),
            factors: self.factors.iter().map(|&(trade_date, factor)| AdjFactor { trade_date, factor }).collect(),
            notes: missing.iter().map(|(date, price)| format!("{date} 无{price}, 该日不计")).collect(),
        };
        if let Some(last_bar) = history.bars.last() {
            let last_date = last_bar.trade_date;
            let published = history.factors.iter().any(|it| it.trade_date == last_date);
            let previous = history.factors.iter().rev().find(|it| it.trade_date < last_date).copied();
            if let (false, Some(previous)) = (published, previous) {
                history.factors.push(AdjFactor { trade_date: last_date, factor: previous.factor });
                history.notes.push(format!(
                    "{last_date} 复权因子尚未发布, 沿用 {} 的因子 (该日若除权除息则不准确)",
                    previous.trade_date
                ));
            }
        }
        history
    }
}

/// The APIs of a security's bars and factors: funds and stocks have their own.
pub(super) fn api_names(code: &FundCode) -> (&'static str, &'static str) {
    match code.kind() {
        SecurityKind::Fund => ("fund_daily", "fund_adj"),
        SecurityKind::Stock => ("daily", "adj_factor"),
    }
}

/// The rows of `table` that belong to `code` (all rows without a code).
fn rows_of(table: &Table, code: Option<&FundCode>) -> Result<Vec<usize>, TushareError> {
    let Some(code) = code else {
        return Ok((0..table.items.len()).collect());
    };
    let code_column = table.column("ts_code")?;
    Ok((0..table.items.len()).filter(|&row| table.value(row, code_column).as_str() == Some(code.as_str())).collect())
}

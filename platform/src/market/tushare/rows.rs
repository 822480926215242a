//! Rows of answers turned into a [`History`]: bars (open and close) and factors by field name, a
//! day with a null open or close left out and noted, the last bar's unpublished factor carried
//! forward. [`Rows`] is also what the cache stores.

use std::collections::HashMap;

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
        let (bar_columns, factor_columns) = (BarColumns::of(bars)?, FactorColumns::of(factors)?);
        for row in rows_of(bars, code)? {
            self.add_bar(bars, &bar_columns, row)?;
        }
        for row in rows_of(factors, code)? {
            self.add_factor(factors, &factor_columns, row)?;
        }
        Ok(())
    }

    /// Whether a bar and a factor of `day` are in: that day's rows are final.
    pub(super) fn is_final(&self, day: TradeDate) -> bool {
        self.bars.iter().any(|(date, _)| *date == day) && self.factors.iter().any(|(date, _)| *date == day)
    }

    /// Adds what a cached entry holds (in the window it was fetched for).
    pub(super) fn extend(&mut self, other: Rows) {
        self.bars.extend(other.bars);
        self.factors.extend(other.factors);
        self.null_closes.extend(other.null_closes);
        self.null_opens.extend(other.null_opens);
    }

    fn add_bar(&mut self, table: &Table, columns: &BarColumns, row: usize) -> Result<(), TushareError> {
        let trade_date = table.date(row, columns.date, "trade_date")?;
        let close = table.number(row, columns.close, "close")?;
        let open = table.number(row, columns.open, "open")?;
        match (open, close) {
            (Some(open), Some(close)) => self.bars.push((trade_date, Prices { open, close })),
            (_, None) => self.null_closes.push(trade_date),
            (None, Some(_)) => self.null_opens.push(trade_date),
        }
        Ok(())
    }

    fn add_factor(&mut self, table: &Table, columns: &FactorColumns, row: usize) -> Result<(), TushareError> {
        let trade_date = table.date(row, columns.date, "trade_date")?;
        if let Some(factor) = table.number(row, columns.factor, "adj_factor")? {
            self.factors.push((trade_date, factor));
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

/// Splits one whole-market day (its bars' and its factors' answers) among securities: the rows
/// of the security at `index[code]` go to `rows[index[code]]`, other securities' rows are skipped.
/// One pass over each answer, whatever the number of securities.
pub(super) fn split_day(
    bars: &Table,
    factors: &Table,
    index: &HashMap<&str, usize>,
    rows: &mut [Rows],
) -> Result<(), TushareError> {
    let (bar_columns, factor_columns) = (BarColumns::of(bars)?, FactorColumns::of(factors)?);
    let code_of = |table: &Table, column: usize, row: usize| {
        table.value(row, column).as_str().and_then(|code| index.get(code)).copied()
    };
    let bar_code = bars.column("ts_code")?;
    for row in 0..bars.items.len() {
        if let Some(at) = code_of(bars, bar_code, row) {
            rows[at].add_bar(bars, &bar_columns, row)?;
        }
    }
    let factor_code = factors.column("ts_code")?;
    for row in 0..factors.items.len() {
        if let Some(at) = code_of(factors, factor_code, row) {
            rows[at].add_factor(factors, &factor_columns, row)?;
        }
    }
    Ok(())
}

/// Where a bars answer keeps the fields we read.
struct BarColumns {
    date: usize,
    open: usize,
    close: usize,
}

impl BarColumns {
    fn of(table: &Table) -> Result<BarColumns, TushareError> {
        Ok(BarColumns { date: table.column("trade_date")?, open: table.column("open")?, close: table.column("close")? })
    }
}

/// Where a factors answer keeps the fields we read.
struct FactorColumns {
    date: usize,
    factor: usize,
}

impl FactorColumns {
    fn of(table: &Table) -> Result<FactorColumns, TushareError> {
        Ok(FactorColumns { date: table.column("trade_date")?, factor: table.column("adj_factor")? })
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

//! The day's report: the e-mail text and the JSON that pages and charts read. Pure, no IO.
//!
//! The text groups funds as 可买 / 可卖 / 持仓 / 空仓 (then 无法判断 when any), in fund-list order.
//! The JSON is a boundary: its shape lives in [`json`], has a `schema` version and is pinned by a
//! snapshot test; the domain types do not derive `Serialize`.

pub mod json;

use std::fmt::Write;

use crate::{
    date::TradeDate,
    fund::Fund,
    market::SourceKind,
    strategy::{DmaParams, Evaluation, Levels, Run, State},
};

/// The line between groups in the text report: 41 `#`.
pub const SEPARATOR: &str = "#########################################";

/// One trade date's signals for a fund list.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The trade date.
    pub trade_date: TradeDate,
    /// Where the prices came from.
    pub source: SourceKind,
    /// The strategy's parameters.
    pub params: DmaParams,
    /// One entry per fund, in fund-list order.
    pub funds: Vec<FundReport>,
}

/// One fund's line in the report.
#[derive(Debug, Clone, PartialEq)]
pub struct FundReport {
    /// The fund.
    pub fund: Fund,
    /// What the strategy said.
    pub evaluation: Evaluation,
}

/// How many funds are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub buy: usize,
    pub sell: usize,
    pub hold: usize,
    pub empty: usize,
    pub undecided: usize,
}

impl Report {
    /// Counts per state.
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for entry in &self.funds {
            match entry.evaluation.state {
                State::Buy => counts.buy += 1,
                State::Sell => counts.sell += 1,
                State::Hold(_) => counts.hold += 1,
                State::Empty(_) => counts.empty += 1,
                State::Undecided(_) => counts.undecided += 1,
            }
        }
        counts
    }

    /// The e-mail subject: ASCII, one line, well under SNS's 100 characters.
    pub fn subject(&self) -> String {
        let sample = if self.source == SourceKind::Sample { " [sample data]" } else { "" };
        format!(
            "Double MA {}/{} signals {} (A-share ETFs){sample}",
            self.params.short(),
            self.params.long(),
            self.trade_date.iso()
        )
    }

    /// The text report: the e-mail body.
    pub fn text(&self) -> String {
        let (short, long) = (self.params.short(), self.params.long());
        let mut groups: Vec<(&str, Vec<String>)> = vec![
            ("可买标的", Vec::new()),
            ("可卖标的", Vec::new()),
            ("持仓标的", Vec::new()),
            ("空仓标的", Vec::new()),
            ("无法判断", Vec::new()),
        ];
        for entry in &self.funds {
            let name = format!("{}({})", one_line(&entry.fund.name), entry.fund.code);
            let evaluation = &entry.evaluation;
            let (group, mut line) = match (&evaluation.state, &evaluation.levels) {
                (State::Buy, levels) => (0, format!("{name}可买, {}", levels_words(levels.as_ref(), short, long))),
                (State::Sell, levels) => (1, format!("{name}可卖, {}", levels_words(levels.as_ref(), short, long))),
                (State::Hold(run), _) => {
                    let (since, at_least) = run_words(run);
                    (2, format!("{name}于{since}买入, 持有{at_least}{}天, 盈利{:.2}%", run.days, run.pct))
                }
                (State::Empty(run), _) => {
                    let (since, at_least) = run_words(run);
                    (3, format!("{name}于{since}卖出, 空仓{at_least}{}天, 空仓期涨幅{:.2}%", run.days, run.pct))
                }
                (State::Undecided(reason), _) => (4, format!("{name}无法判断: {}", reason.text())),
            };
            for note in &evaluation.notes {
                write!(line, "\n    注: {}", one_line(note)).expect("writing to a String");
            }
            groups[group].1.push(line);
        }

        let mut out = format!(
            "{} 双均线({short}日/{long}日)交易信号, 数据来源: {}\n",
            self.trade_date.iso(),
            self.source.label()
        );
        if self.source == SourceKind::Sample {
            out.push_str("注意: 本报告由样例数据生成, 不是真实行情, 不构成投资建议。\n");
        }
        let printed = groups.into_iter().enumerate().filter(|(idx, (_, lines))| *idx < 4 || !lines.is_empty());
        for (idx, (title, lines)) in printed {
            if idx > 0 {
                out.push_str(SEPARATOR);
                out.push('\n');
            }
            out.push_str(title);
            out.push_str(":\n");
            if lines.is_empty() {
                out.push_str("无\n");
            }
            for line in lines {
                out.push_str(&line);
                out.push('\n');
            }
        }
        out
    }
}

/// `since` as printed, and "至少" when the run may have begun before the window.
fn run_words(run: &Run) -> (String, &'static str) {
    if run.since_is_window_start {
        (format!("{}日或更早", run.since), "至少")
    } else {
        (format!("{}日", run.since), "")
    }
}

/// `收盘价4.012, 11日均线3.998, 22日均线3.990`; a crossing always has levels, `-` marks their absence.
fn levels_words(levels: Option<&Levels>, short: usize, long: usize) -> String {
    match levels {
        Some(it) => format!("收盘价{:.3}, {short}日均线{:.3}, {long}日均线{:.3}", it.close, it.ma_short, it.ma_long),
        None => format!("收盘价-, {short}日均线-, {long}日均线-"),
    }
}

/// Names and notes are printed on one line whatever they contain.
fn one_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

//! The day's report: the e-mail text and the JSON that pages and charts read. Pure, no IO.
//!
//! The text groups funds as 可买 / 可卖 / 持仓 / 空仓 (then 无法判断 when any), in fund-list order.
//! The JSON is a boundary: its shape lives in [`json`], has a `schema` version and is pinned by a
//! snapshot test; the domain types do not derive `Serialize`.
//!
//! Domain; uses the other domain modules (date, fund, history, strategy) only.

pub mod json;

use std::fmt::Write;

use crate::{
    date::TradeDate,
    fund::{Fund, FundCode},
    history::SourceKind,
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
    /// False when too many funds are undecided for data reasons (see [`Report::within_data_budget`]):
    /// the text then starts with a warning, and the job does not publish it.
    pub complete: bool,
}

/// One fund's line in the report.
#[derive(Debug, Clone, PartialEq)]
pub struct FundReport {
    /// The fund.
    pub fund: Fund,
    /// What the strategy said.
    pub evaluation: Evaluation,
}

/// The text's groups of funds, in its order: 可买 / 可卖 / 持仓 / 空仓 / 无法判断. The site lists
/// funds the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    /// BUY: the short average crossed above the long one today.
    Buy,
    /// SELL: it crossed below today.
    Sell,
    /// HOLD: above since an earlier day.
    Hold,
    /// EMPTY: below since an earlier day.
    Empty,
    /// Undecided.
    Undecided,
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

impl Group {
    /// Every group, in the text's order.
    pub const ALL: [Group; 5] = [Group::Buy, Group::Sell, Group::Hold, Group::Empty, Group::Undecided];

    /// The group of a state.
    pub fn of(state: &State) -> Group {
        match state {
            State::Buy => Group::Buy,
            State::Sell => Group::Sell,
            State::Hold(_) => Group::Hold,
            State::Empty(_) => Group::Empty,
            State::Undecided(_) => Group::Undecided,
        }
    }

    /// The group of a stored report's state (`BUY`, `SELL`, `HOLD`, `EMPTY`, as in
    /// [`json::FundJson::state`]); anything else is undecided.
    pub fn of_stored(state: &str) -> Group {
        match state {
            "BUY" => Group::Buy,
            "SELL" => Group::Sell,
            "HOLD" => Group::Hold,
            "EMPTY" => Group::Empty,
            _ => Group::Undecided,
        }
    }

    /// The short name the counts use: 可买, 可卖, 持仓, 空仓, 无法判断.
    pub fn name(self) -> &'static str {
        match self {
            Group::Buy => "可买",
            Group::Sell => "可卖",
            Group::Hold => "持仓",
            Group::Empty => "空仓",
            Group::Undecided => "无法判断",
        }
    }

    /// The group's heading in the text: `可买标的`, `可卖标的`, `持仓标的`, `空仓标的`, `无法判断`.
    pub fn title(self) -> &'static str {
        match self {
            Group::Buy => "可买标的",
            Group::Sell => "可卖标的",
            Group::Hold => "持仓标的",
            Group::Empty => "空仓标的",
            Group::Undecided => "无法判断",
        }
    }
}

impl Report {
    /// The codes of the funds with a BUY or SELL, in fund-list order: what the day's message
    /// names for subscribers' filter policies.
    pub fn signal_funds(&self) -> Vec<FundCode> {
        self.funds
            .iter()
            .filter(|it| matches!(it.evaluation.state, State::Buy | State::Sell))
            .map(|it| it.fund.code.clone())
            .collect()
    }

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

    /// How many funds are undecided because of the data (no data, no bar on the trade date, a
    /// source error), not because of the strategy (too few bars, equal averages).
    pub fn data_gaps(&self) -> usize {
        self.funds
            .iter()
            .filter(|it| matches!(&it.evaluation.state, State::Undecided(reason) if reason.is_data_problem()))
            .count()
    }

    /// Whether at most `max_share` (0 to 1) of the funds have [`data_gaps`](Report::data_gaps).
    pub fn within_data_budget(&self, max_share: f64) -> bool {
        self.data_gaps() as f64 <= max_share * self.funds.len() as f64
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
        let mut groups: Vec<(&str, Vec<String>)> = Group::ALL.iter().map(|group| (group.title(), Vec::new())).collect();
        for entry in &self.funds {
            let (group, line) = self.fund_line(entry);
            groups[group as usize].1.push(line);
        }
        let (short, long) = (self.params.short(), self.params.long());
        let mut out = format!(
            "{} 双均线({short}日/{long}日)交易信号, 数据来源: {}\n",
            self.trade_date.iso(),
            self.source.label()
        );
        if !self.complete {
            out.insert_str(
                0,
                &format!(
                    "警告: 报告不完整, {} / {} 只基金因数据问题无法判断, 本报告未发送。\n\
                     WARNING: incomplete report, {} of {} funds lack data; it was not e-mailed.\n",
                    self.data_gaps(),
                    self.funds.len(),
                    self.data_gaps(),
                    self.funds.len()
                ),
            );
        }
        if self.source == SourceKind::Sample {
            out.push_str(SAMPLE_WARNING);
            out.push('\n');
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

impl Report {
    /// One fund's line of the text report and the group it is listed in, e.g.
    /// `300ETF(510300.SH)可买, 收盘价4.012, 11日均线3.998, 22日均线3.990`; notes follow on
    /// indented lines of their own.
    pub fn fund_line(&self, entry: &FundReport) -> (Group, String) {
        let (short, long) = (self.params.short(), self.params.long());
        let name = format!("{}({})", one_line(&entry.fund.name), entry.fund.code);
        let evaluation = &entry.evaluation;
        let (group, mut line) = match (&evaluation.state, &evaluation.levels) {
            (State::Buy, levels) => (Group::Buy, format!("{name}可买, {}", levels_words(levels.as_ref(), short, long))),
            (State::Sell, levels) => {
                (Group::Sell, format!("{name}可卖, {}", levels_words(levels.as_ref(), short, long)))
            }
            (State::Hold(run), _) => {
                let (since, at_least) = run_words(run);
                (Group::Hold, format!("{name}于{since}买入, 持有{at_least}{}天, 盈利{:.2}%", run.days, run.pct))
            }
            (State::Empty(run), _) => {
                let (since, at_least) = run_words(run);
                (Group::Empty, format!("{name}于{since}卖出, 空仓{at_least}{}天, 空仓期涨幅{:.2}%", run.days, run.pct))
            }
            (State::Undecided(reason), _) => (Group::Undecided, format!("{name}无法判断: {}", reason.text())),
        };
        for note in &evaluation.notes {
            write!(line, "\n    注: {}", one_line(note)).expect("writing to a String");
        }
        (group, line)
    }
}

/// The line a report made from sample data carries.
pub const SAMPLE_WARNING: &str = "注意: 本报告由样例数据生成, 不是真实行情, 不构成投资建议。";

/// The line every message of the service carries (the site's home page says the same).
pub const NOT_ADVICE: &str = "本服务仅为策略信号的记录, 不构成投资建议。";

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

#[cfg(test)]
mod tests {
    use crate::{
        fund::{Fund, FundCode},
        strategy::Undecided,
    };

    use super::*;

    #[test]
    fn only_data_problems_count_against_the_data_budget() {
        let report = report(&[
            State::Buy,
            State::Undecided(Undecided::TooFewBars { have: 3, need: 23 }),
            State::Undecided(Undecided::EqualAverages),
            State::Undecided(Undecided::SourceError { message: "HTTP 500".to_owned() }),
            State::Undecided(Undecided::NoData),
        ]);
        assert_eq!(report.data_gaps(), 2);
        assert!(report.within_data_budget(0.4), "2 of 5 is 40%: at the budget is within it");
        assert!(!report.within_data_budget(0.2));
    }

    #[test]
    fn an_incomplete_report_starts_with_a_warning_and_says_so_in_its_json() {
        let mut report = report(&[State::Sell, State::Undecided(Undecided::NoData)]);
        assert!(!report.text().contains("WARNING"));
        assert!(report.to_json().complete);
        report.complete = false;
        let text = report.text();
        let first_line = text.lines().next().unwrap();
        assert!(first_line.starts_with("警告: 报告不完整, 1 / 2 只基金"), "{text}");
        assert!(text.lines().nth(1).unwrap().starts_with("WARNING: incomplete report, 1 of 2 funds"), "{text}");
        let json = report.to_json();
        assert!(!json.complete);
        assert!(!report.index_day().complete);
    }

    #[test]
    fn a_report_stored_before_the_complete_field_existed_reads_as_complete() {
        let mut report = report(&[State::Buy]);
        report.complete = false;
        let mut value: serde_json::Value = serde_json::from_str(&report.json_text()).unwrap();
        assert_eq!(value["complete"], serde_json::Value::Bool(false));
        value.as_object_mut().unwrap().remove("complete");
        let old = json::ReportJson::parse(value.to_string().as_bytes()).unwrap();
        assert!(old.complete);
        let old_day = json::IndexDay::from_report(&old);
        assert!(old_day.complete);
    }

    fn report(states: &[State]) -> Report {
        let funds = states
            .iter()
            .enumerate()
            .map(|(idx, state)| FundReport {
                fund: Fund { code: FundCode::parse(&format!("51030{idx}.SH")).unwrap(), name: format!("ETF{idx}") },
                evaluation: Evaluation {
                    state: state.clone(),
                    levels: None,
                    series: Default::default(),
                    notes: Vec::new(),
                },
            })
            .collect();
        Report {
            trade_date: TradeDate::parse("20261127").unwrap(),
            source: SourceKind::Tushare,
            params: DmaParams::STANDARD,
            funds,
            complete: true,
        }
    }
}

//! What a channel is told about a day, before any service's format: the title, the BUY and SELL
//! lines, the counts of the other groups, the link to the day's page and the warnings. Pure.
//!
//! Uses [`crate::report`] (the lines and group names are the report's own) and the channel's
//! filter from [`super::config`].

use crate::{
    date::TradeDate,
    fund::FundCode,
    history::SourceKind,
    report::{Counts, Group, NOT_ADVICE, Report, SAMPLE_WARNING},
};

use super::config::{Channel, Only};

/// The day as one channel sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    /// The trade date.
    pub trade_date: TradeDate,
    /// `invest-alchemy 20261127: 2 可买, 1 可卖`.
    pub title: String,
    /// The BUY lines, then the SELL lines, in fund-list order.
    pub signals: Vec<Signal>,
    /// How many of the channel's funds are in each group.
    pub counts: Counts,
    /// The day's page: `{site_url}reports/YYYYMMDD`.
    pub link: String,
    /// Whether the prices were sample data (the message then says so).
    pub sample_data: bool,
}

/// One BUY or SELL of the day.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    /// [`Group::Buy`] or [`Group::Sell`].
    pub group: Group,
    /// The fund.
    pub code: FundCode,
    /// Its name.
    pub name: String,
    /// The report's line, e.g. `300ETF(510300.SH)可买, 收盘价4.012, 11日均线3.998, 22日均线3.990`.
    pub line: String,
}

impl Digest {
    /// What `channel` hears about `report`: `None` when the channel wants only signal days and
    /// none of its funds signals. The link goes to the day's page under `site_url` (ending in `/`).
    pub fn for_channel(report: &Report, channel: &Channel, site_url: &str) -> Option<Digest> {
        let entries: Vec<_> = report
            .funds
            .iter()
            .filter(|entry| channel.funds.is_empty() || channel.funds.contains(&entry.fund.code))
            .collect();
        let mut signals = Vec::new();
        let mut counts = Counts::default();
        for wanted in [Group::Buy, Group::Sell] {
            for entry in &entries {
                let (group, line) = report.fund_line(entry);
                if group == wanted {
                    signals.push(Signal { group, code: entry.fund.code.clone(), name: entry.fund.name.clone(), line });
                }
            }
        }
        for entry in &entries {
            match report.fund_line(entry).0 {
                Group::Buy => counts.buy += 1,
                Group::Sell => counts.sell += 1,
                Group::Hold => counts.hold += 1,
                Group::Empty => counts.empty += 1,
                Group::Undecided => counts.undecided += 1,
            }
        }
        if channel.only == Only::Signals && signals.is_empty() {
            return None;
        }
        let title = format!(
            "invest-alchemy {}: {} {}, {} {}",
            report.trade_date,
            counts.buy,
            Group::Buy.name(),
            counts.sell,
            Group::Sell.name()
        );
        Some(Digest {
            trade_date: report.trade_date,
            title,
            signals,
            counts,
            link: format!("{site_url}reports/{}", report.trade_date),
            sample_data: report.source == SourceKind::Sample,
        })
    }

    /// `其余: 持仓 30, 空仓 14`: the groups other than BUY and SELL that hold any of the funds.
    pub fn others_line(&self) -> String {
        let others = [
            (Group::Hold, self.counts.hold),
            (Group::Empty, self.counts.empty),
            (Group::Undecided, self.counts.undecided),
        ];
        let counts: Vec<String> =
            others.iter().filter(|(_, n)| *n > 0).map(|(group, n)| format!("{} {n}", group.name())).collect();
        if counts.is_empty() { String::new() } else { format!("其余: {}", counts.join(", ")) }
    }

    /// The lines after the signals, in order: no-signal note, the other groups' counts, the
    /// sample-data warning, the not-advice line. The link is separate: each format writes it its way.
    pub fn footer(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if self.signals.is_empty() {
            lines.push(NO_SIGNAL.to_owned());
        }
        let others = self.others_line();
        if !others.is_empty() {
            lines.push(others);
        }
        if self.sample_data {
            lines.push(SAMPLE_WARNING.to_owned());
        }
        lines.push(NOT_ADVICE.to_owned());
        lines
    }
}

/// What a day without a BUY or SELL says in place of the lines.
pub const NO_SIGNAL: &str = "今日无可买或可卖信号";

/// The link's words.
pub const LINK_TEXT: &str = "查看当日完整报告";

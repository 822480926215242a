//! Both report formats, pinned by snapshots (update with `UPDATE_EXPECT=1 cargo test -p platform`).

use expect_test::expect_file;
use platform::{
    date::TradeDate,
    fund::{Fund, FundCode, bundled_funds},
    market::{MarketData, SourceKind},
    report::{FundReport, Group, Report, SEPARATOR, json::ReportJson},
    strategy::{self, DmaParams, Evaluation, Levels, Run, Series, State, Undecided},
};

fn date(text: &str) -> TradeDate {
    TradeDate::parse(text).unwrap()
}

fn fund(code: &str, name: &str) -> Fund {
    Fund { code: FundCode::parse(code).unwrap(), name: name.to_owned() }
}

fn entry(code: &str, name: &str, state: State, levels: Option<Levels>) -> FundReport {
    let series = Series {
        dates: vec![date("20261126"), date("20261127")],
        close: vec![4.0, 4.012],
        ma_short: vec![Some(3.99), Some(3.998)],
        ma_long: vec![None, Some(3.99)],
    };
    FundReport { fund: fund(code, name), evaluation: Evaluation { state, levels, series, notes: Vec::new() } }
}

fn levels(close: f64, ma_short: f64, ma_long: f64) -> Option<Levels> {
    Some(Levels { close, ma_short, ma_long })
}

/// One fund in every state and every kind of line.
fn sample_report(source: SourceKind) -> Report {
    let run = |since: &str, at_edge: bool, days: i64, pct: f64| Run {
        since: date(since),
        since_is_window_start: at_edge,
        days,
        pct,
    };
    let mut with_note =
        entry("510880.SH", "红利ETF", State::Hold(run("20261120", false, 7, 0.5)), levels(3.1, 3.05, 3.0));
    with_note.evaluation.notes.push("20261127 的复权因子尚未发布, 沿用前一日因子".to_owned());
    Report {
        trade_date: date("20261127"),
        source,
        params: DmaParams::STANDARD,
        complete: true,
        funds: vec![
            entry("510300.SH", "300ETF", State::Buy, levels(4.012, 3.998, 3.990)),
            entry("510500.SH", "500ETF", State::Sell, levels(6.1, 6.12, 6.125)),
            entry("513100.SH", "纳指ETF", State::Hold(run("20261103", false, 24, 3.45)), levels(1.5, 1.45, 1.4)),
            entry("518800.SH", "黄金基金", State::Empty(run("20261020", false, 38, -1.2)), levels(5.0, 4.9, 4.95)),
            entry("512880.SH", "证券ETF", State::Hold(run("20260701", true, 149, 12.0)), levels(1.2, 1.1, 1.0)),
            with_note,
            entry("159999.SZ", "某某ETF", State::Undecided(Undecided::TooFewBars { have: 12, need: 23 }), None),
            entry("512000.SH", "券商ETF", State::Undecided(Undecided::EqualAverages), levels(1.0, 1.0, 1.0)),
        ],
    }
}

#[test]
fn the_text_report_matches_its_snapshot() {
    expect_file!["snapshots/report.txt"].assert_eq(&sample_report(SourceKind::Tushare).text());
}

#[test]
fn the_json_report_matches_its_snapshot_and_reads_back() {
    let report = sample_report(SourceKind::Tushare);
    // The stored form is compact; the snapshot is the same shape pretty-printed, for reviewable diffs.
    let pretty = serde_json::to_string_pretty(&report.to_json()).unwrap();
    expect_file!["snapshots/report.json"].assert_eq(&pretty);
    let stored = report.json_text();
    assert_eq!(stored.lines().count(), 1);
    assert_eq!(ReportJson::parse(stored.as_bytes()).unwrap(), report.to_json());
}

#[test]
fn the_days_signal_funds_are_the_buy_and_sell_codes_in_fund_list_order() {
    let report = sample_report(SourceKind::Sample);
    let signal_funds = report.signal_funds();
    let codes: Vec<&str> = signal_funds.iter().map(FundCode::as_str).collect();
    assert_eq!(codes, ["510300.SH", "510500.SH"]);
    let quiet = Report { funds: report.funds[2..].to_vec(), ..report };
    assert!(quiet.signal_funds().is_empty());
}

#[test]
fn a_stored_state_falls_in_the_group_of_the_state_it_was_written_from() {
    let report = sample_report(SourceKind::Sample);
    let json = report.to_json();
    for (entry, stored) in report.funds.iter().zip(&json.funds) {
        assert_eq!(Group::of_stored(&stored.state), Group::of(&entry.evaluation.state), "{}", stored.state);
    }
    let text = report.text();
    let titles: Vec<usize> = Group::ALL.iter().map(|it| text.find(&format!("{}:", it.title())).unwrap()).collect();
    assert!(titles.windows(2).all(|it| it[0] < it[1]), "the text prints the groups in Group::ALL's order");
}

#[test]
fn empty_groups_are_printed_and_undecided_only_when_it_has_entries() {
    let mut report = sample_report(SourceKind::Tushare);
    report.funds.retain(|it| matches!(it.evaluation.state, State::Hold(_)));
    let text = report.text();
    assert_eq!(text.matches(SEPARATOR).count(), 3, "{text}");
    for header in ["可买标的:\n无\n", "可卖标的:\n无\n", "持仓标的:\n", "空仓标的:\n无\n"] {
        assert!(text.contains(header), "{header} missing in\n{text}");
    }
    assert!(!text.contains("无法判断"));
    assert_eq!(SEPARATOR.len(), 41);
}

#[test]
fn a_report_from_sample_data_says_so_in_text_subject_and_json() {
    let report = sample_report(SourceKind::Sample);
    assert!(report.text().lines().next().unwrap().contains("样例数据"));
    assert!(report.subject().contains("sample data"));
    assert!(report.subject().is_ascii() && report.subject().len() <= 100);
    let json = report.to_json();
    assert!(json.sample_data);
    assert_eq!(json.source, "sample");
}

#[test]
fn a_name_with_a_line_break_stays_on_its_line() {
    let mut report = sample_report(SourceKind::Tushare);
    report.funds[0].fund.name = "300\nETF".to_owned();
    assert!(report.text().contains("300 ETF(510300.SH)可买"));
}

#[tokio::test]
async fn every_state_occurs_on_sample_data_for_the_bundled_funds() {
    let market = MarketData::sample();
    let params = DmaParams::STANDARD;
    let days = market.trading_days(date("20260801"), date("20261127")).await.unwrap();
    let days = &days[days.len() - 30..];
    let mut seen = [false; 5];
    for fund in bundled_funds() {
        let history = market.history(&fund.code, days[0].minus_days(150), days[29]).await.unwrap();
        for &trade_date in days {
            let idx = match strategy::evaluate(&params, trade_date, &history).state {
                State::Buy => 0,
                State::Sell => 1,
                State::Hold(_) => 2,
                State::Empty(_) => 3,
                State::Undecided(_) => 4,
            };
            seen[idx] = true;
        }
    }
    assert_eq!(seen, [true; 5], "BUY, SELL, HOLD, EMPTY, UNDECIDED");
}

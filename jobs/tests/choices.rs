//! Subscribers' choices end to end, locally: three subscribers (every day, signal days, one fund's
//! signals) in the data folder's registry, the real `signal` binary run for a day on which that
//! fund signals, a day on which only other funds do, and a day without any signal; the outbox
//! then holds mail only for those whose choice matches each day.

use std::{
    collections::BTreeSet,
    path::Path,
    process::{Command, Output},
};

use platform::{
    date::TradeDate,
    email::Email,
    fund::FundCode,
    interest::Interest,
    report::json::ReportJson,
    subscribers::{LOCAL_FILE_NAME, Subscribers},
};

/// Five funds: few enough that some days have no BUY or SELL, enough that some have one.
const FUNDS: &str =
    "510300.SH,沪深300ETF\n510500.SH,中证500ETF\n159915.SZ,创业板ETF\n512880.SH,证券ETF\n510880.SH,红利ETF\n";

#[tokio::test]
async fn the_outbox_has_mail_only_for_the_subscribers_whose_choice_matches_the_day() {
    let dir = tempfile::tempdir().unwrap();
    let funds_file = dir.path().join("funds.csv");
    std::fs::write(&funds_file, FUNDS).unwrap();

    // The sample market is deterministic: find the days to run from a backfill that mails no one.
    let scan = dir.path().join("scan");
    signal(&scan, &funds_file, &["--from", "20260901", "--to", "20261127", "--no-publish"]);
    let days = signal_funds_by_day(&scan);
    let (fund_day, fund) = days
        .iter()
        .find_map(|(date, codes)| codes.first().map(|code| (*date, code.clone())))
        .expect("some day has a BUY or SELL");
    let other_day = days
        .iter()
        .find(|(_, codes)| !codes.is_empty() && !codes.contains(&fund))
        .map(|(date, _)| *date)
        .unwrap_or_else(|| panic!("some day has a BUY or SELL of a fund other than {fund}"));
    let quiet_day = days.iter().find(|(_, codes)| codes.is_empty()).map(|(date, _)| *date).expect("a day without");

    let data = dir.path().join("data");
    let registry = Subscribers::local(&data.join(LOCAL_FILE_NAME));
    let fund_list: Vec<FundCode> =
        platform::fund::parse_fund_list(FUNDS).unwrap().into_iter().map(|it| it.code).collect();
    let choices = [
        ("daily@example.com", Interest::parse(Some("daily"), &[], &fund_list).unwrap()),
        ("signals@example.com", Interest::parse(Some("signals"), &[], &fund_list).unwrap()),
        ("fund@example.com", Interest::parse(Some("signals"), &[fund.as_str()], &fund_list).unwrap()),
    ];
    for (email, interest) in &choices {
        registry.add(&Email::parse(email).unwrap(), interest).await.unwrap();
    }

    for day in [fund_day, other_day, quiet_day] {
        signal(&data, &funds_file, &["--date", &day.to_string()]);
    }

    let mail = mail_by_day(&data.join("outbox"));
    let want = |emails: &[&str]| emails.iter().map(|it| (*it).to_owned()).collect::<BTreeSet<String>>();
    let got = |day: TradeDate| -> BTreeSet<String> {
        mail.iter().filter(|(date, _)| *date == day.iso()).map(|(_, to)| to.clone()).collect()
    };
    assert_eq!(got(fund_day), want(&["daily@example.com", "fund@example.com", "signals@example.com"]), "{fund_day}");
    assert_eq!(got(other_day), want(&["daily@example.com", "signals@example.com"]), "{other_day}");
    assert_eq!(got(quiet_day), want(&["daily@example.com"]), "{quiet_day}");
    assert_eq!(mail.len(), 6, "nothing else: {mail:?}");
}

/// Runs the job with the fund list and a data folder, with no job-related variables inherited; it succeeds.
fn signal(data_dir: &Path, funds: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_signal"));
    for (name, _) in std::env::vars() {
        if name.starts_with("ALCHEMY_") || name.starts_with("TUSHARE_") {
            command.env_remove(name);
        }
    }
    let output =
        command.arg("--data-dir").arg(data_dir).arg("--funds").arg(funds).args(args).output().expect("the job runs");
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    output
}

/// Each stored day with the codes of its BUY and SELL funds, oldest first.
fn signal_funds_by_day(data_dir: &Path) -> Vec<(TradeDate, Vec<FundCode>)> {
    let mut days = Vec::new();
    for entry in std::fs::read_dir(data_dir.join("reports/dma-11-22")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|it| it == "json") {
            let report = ReportJson::parse(&std::fs::read(&path).unwrap()).unwrap();
            let codes =
                report.funds.iter().filter(|it| it.state == "BUY" || it.state == "SELL").map(|it| it.code.clone());
            days.push((report.trade_date, codes.collect()));
        }
    }
    days.sort_by_key(|(date, _)| *date);
    days
}

/// Each `.eml` of the outbox as (the ISO date in its subject, its recipient).
fn mail_by_day(outbox: &Path) -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(outbox) else { return Vec::new() };
    let mut mail = Vec::new();
    for entry in entries {
        let eml = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let header = |name: &str| eml.lines().find_map(|it| it.strip_prefix(name)).unwrap().trim().to_owned();
        let subject = header("Subject: ");
        let date = subject.split_whitespace().find(|it| it.len() == 10 && it.as_bytes()[4] == b'-').unwrap().to_owned();
        mail.push((date, header("To: ").trim_matches(['<', '>']).to_owned()));
    }
    mail.sort();
    mail
}

//! The `signal` binary end to end on sample data, in a temporary folder: files written, exit codes,
//! messages, and a re-run that does not e-mail twice.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

const REPORTS: &str = "reports/dma-11-22";

/// Runs the job with `args` and a data folder, with no job-related variables inherited.
fn signal(data_dir: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_signal"));
    for (name, _) in std::env::vars() {
        if name.starts_with("ALCHEMY_") || name.starts_with("TUSHARE_") {
            command.env_remove(name);
        }
    }
    command.arg("--data-dir").arg(data_dir).args(args).output().expect("the signal binary runs")
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|it| it.unwrap().file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_range_run_writes_one_text_and_one_json_per_trading_day_and_nothing_on_holidays() {
    let dir = tempfile::tempdir().unwrap();
    // 2026-09-28 .. 2026-10-09 holds the National Day holiday (Oct 1-7) and a weekend.
    let output = signal(dir.path(), &["--from", "20260928", "--to", "20261009", "--no-publish"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let expected: Vec<String> = ["20260928", "20260929", "20260930", "20261008", "20261009"]
        .iter()
        .flat_map(|day| [format!("{day}.json"), format!("{day}.txt")])
        .collect();
    assert_eq!(files(&dir.path().join(REPORTS)), expected);
    assert!(files(&dir.path().join("outbox")).is_empty(), "--no-publish sends nothing");

    let text = std::fs::read_to_string(dir.path().join(REPORTS).join("20261009.txt")).unwrap();
    for header in ["可买标的:", "可卖标的:", "持仓标的:", "空仓标的:", "样例数据"] {
        assert!(text.contains(header), "{header} missing in\n{text}");
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join(REPORTS).join("20261009.json")).unwrap()).unwrap();
    assert_eq!(json["trade_date"], "20261009");
    assert_eq!(json["sample_data"], true);
    assert_eq!(json["funds"].as_array().unwrap().len(), 46);

    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("reports/index/dma-11-22.json")).unwrap()).unwrap();
    let days: Vec<&str> =
        index["days"].as_array().unwrap().iter().map(|it| it["trade_date"].as_str().unwrap()).collect();
    assert_eq!(days, ["20261009", "20261008", "20260930", "20260929", "20260928"], "newest first");
}

#[test]
fn a_non_trading_day_exits_zero_having_written_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let output = signal(dir.path(), &["--date", "20261128"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("20261128 is not a trading day"));
    assert!(files(dir.path()).is_empty(), "{:?}", files(dir.path()));
}

#[test]
fn a_day_is_published_once_unless_republished() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("outbox");
    let subscriber = r#"{"subscribers": [{"email": "investor@example.com", "subscribed_at": "2026-11-01T08:00:00Z"}]}"#;
    std::fs::write(dir.path().join("subscribers.json"), subscriber).unwrap();
    for _ in 0..2 {
        let output = signal(dir.path(), &["--date", "20261127"]);
        assert!(output.status.success(), "{}", stderr(&output));
    }
    assert_eq!(files(&outbox).len(), 1, "the second run does not e-mail again");
    assert!(dir.path().join("state/published/20261127").exists());

    let output = signal(dir.path(), &["--date", "20261127", "--republish"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(files(&outbox).len(), 2);
    let eml = std::fs::read_to_string(outbox.join(&files(&outbox)[0])).unwrap();
    assert!(eml.contains("Subject: Double MA 11/22 signals 2026-11-27 (A-share ETFs) [sample data]\r\n"), "{eml}");
}

#[test]
fn the_last_n_days_are_the_latest_trading_days_up_to_the_date() {
    let dir = tempfile::tempdir().unwrap();
    let output = signal(dir.path(), &["--last", "3", "--date", "20261004", "--no-publish"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let reports = files(&dir.path().join(REPORTS));
    assert_eq!(
        reports,
        ["20260928.json", "20260928.txt", "20260929.json", "20260929.txt", "20260930.json", "20260930.txt",]
    );
}

#[test]
fn a_bad_funds_file_exits_2_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let funds = dir.path().join("funds.csv");
    std::fs::write(&funds, "510300.SH,300ETF\n510500.SH,500ETF\n\n# comment\n\n\n159915.SZ 创业板\n").unwrap();
    let output = signal(&dir.path().join("data"), &["--date", "20261127", "--funds", funds.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("line 7 is not CODE,NAME"), "{message}");
    assert_eq!(message.lines().count(), 1, "one line: {message}");
    assert!(!dir.path().join("data").exists(), "nothing written");
}

#[test]
fn bad_flags_and_missing_files_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["--date", "20261131"], "YYYYMMDD"),
        (&["--from", "20261127", "--to", "20261101"], "--from 20261127 is after --to 20261101"),
        (&["--short", "22", "--long", "11"], "shorter than the long period"),
        (&["--funds", "/nonexistent/funds.csv"], "cannot read the funds file /nonexistent/funds.csv"),
        (&["--source", "yahoo"], "invalid value 'yahoo'"),
    ];
    for (args, needle) in cases {
        let output = signal(dir.path(), args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
        assert!(stderr(&output).contains(needle), "{args:?}: {}", stderr(&output));
    }
}

#[test]
fn env_twins_configure_the_job_like_flags() {
    let dir = tempfile::tempdir().unwrap();
    let funds: PathBuf = dir.path().join("funds.csv");
    std::fs::write(&funds, "510300,300ETF\n").unwrap();
    let data = dir.path().join("data");
    let output = Command::new(env!("CARGO_BIN_EXE_signal"))
        .env("ALCHEMY_DATA_DIR", &data)
        .env("ALCHEMY_FUNDS_FILE", &funds)
        .env("ALCHEMY_DATE", "20261127")
        .env("ALCHEMY_NO_PUBLISH", "true")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.join(REPORTS).join("20261127.json")).unwrap()).unwrap();
    assert_eq!(json["funds"][0]["code"], "510300.SH");
    assert!(!data.join("outbox").exists());
}

#[test]
fn an_unreadable_index_is_rebuilt_from_the_stored_reports() {
    let dir = tempfile::tempdir().unwrap();
    let output = signal(dir.path(), &["--date", "20261126", "--no-publish"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let index_path = dir.path().join("reports/index/dma-11-22.json");
    std::fs::write(&index_path, "{ not json").unwrap();

    let output = signal(dir.path(), &["--date", "20261127", "--no-publish"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("rebuilding it"), "{}", stderr(&output));
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    let days: Vec<&str> =
        index["days"].as_array().unwrap().iter().map(|it| it["trade_date"].as_str().unwrap()).collect();
    assert_eq!(days, ["20261127", "20261126"]);
}

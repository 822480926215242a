//! The daily run against Tushare: the real `signal` binary, 50 ms per call, the job's default
//! limits (8 calls at once, 200 a minute per API).
//!
//! A fake Tushare server on 127.0.0.1 adds 50 ms to every answer; the job runs as its own process.
//! Two fund lists: the bundled 46 funds (prices from 2026 on), and 1,000 funds with ten years of
//! prices (the whole-market case). Cases:
//! - `daily`: the run of a trading day after the previous day's run, with the price cache that run
//!   left (restored before every iteration, so each one asks the same calls); for 1,000 funds the
//!   previous day's cache is whole (one run with `--backfill all` and no rate limit);
//! - `cold`: no price cache (`--tushare-no-cache`): the report's window, and the track record's
//!   backfill on the free calls (for 1,000 funds it is deferred, and a later run goes on);
//! - `cold, 16 at once`: the 46 funds with twice the concurrency, to show what the limit costs.
//!
//! Before measuring, one run of each case prints its wall time and call count.
//! `cargo bench -p jobs --bench tushare`.

use std::{
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use test_support::tushare::{FakeTushare, Market};

const YESTERDAY: &str = "20261126";
const DATE: &str = "20261127";
const LATENCY: Duration = Duration::from_millis(50);

/// The previous day's run for the 1,000 funds: the whole ten years, fast (no rate limit).
const SEED_ALL: &[&str] = &[
    "--backfill",
    "all",
    "--tushare-calls-per-minute",
    "1000000",
    "--tushare-concurrency",
    "64",
    "--deadline-secs",
    "3600",
];

fn daily_run(c: &mut Criterion) {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");

    let bundled = platform::fund::bundled_funds();
    let codes: Vec<String> = bundled.iter().map(|fund| fund.code.as_str().to_owned()).collect();
    let market = Market::generate(&codes.iter().map(String::as_str).collect::<Vec<_>>(), DATE);
    let cases: &[Case] = &[
        ("daily", Start::Seeded, &[]),
        ("cold", Start::Empty, &["--tushare-no-cache"]),
        ("cold, 16 at once", Start::Empty, &["--tushare-no-cache", "--tushare-concurrency", "16"]),
    ];
    bench_list(c, &runtime, "46 funds", None, market, &[], cases);

    let codes: Vec<String> = (0..1000).map(|it| format!("{:06}.SH", 510_000 + it)).collect();
    let market = Market::generate_from(&codes.iter().map(String::as_str).collect::<Vec<_>>(), "20160101", DATE);
    let funds_csv: String = codes.iter().map(|code| format!("{code},基金{code}\n")).collect();
    // A new user's first run: an empty cache, which keeps what the backfill's free calls got.
    let cases: &[Case] = &[("daily", Start::Seeded, &[]), ("cold", Start::Empty, &[])];
    bench_list(c, &runtime, "1,000 funds", Some(&funds_csv), market, SEED_ALL, cases);
}

/// A case: its name, where its price cache starts, its flags.
type Case = (&'static str, Start, &'static [&'static str]);

/// Where a case's price cache starts.
#[derive(Clone, Copy)]
enum Start {
    /// The previous day's run's cache.
    Seeded,
    /// No cache.
    Empty,
}

/// The cases of one fund list (`funds_csv`, or the bundled list), after a previous day's run with `seed_flags`.
fn bench_list(
    c: &mut Criterion,
    runtime: &tokio::runtime::Runtime,
    name: &str,
    funds_csv: Option<&str>,
    market: Market,
    seed_flags: &[&str],
    cases: &[Case],
) {
    let fake = runtime.block_on(FakeTushare::start(LATENCY, move |seen| market.reply(seen)));
    let lists = tempfile::tempdir().expect("a temporary folder");
    let funds_file = funds_csv.map(|text| {
        let path = lists.path().join("funds.csv");
        std::fs::write(&path, text).expect("the fund list is written");
        path
    });
    let list_flags: Vec<String> =
        funds_file.iter().flat_map(|path| ["--funds".to_owned(), path.display().to_string()]).collect();
    let with_list = |flags: &[&str]| -> Vec<String> {
        list_flags.iter().cloned().chain(flags.iter().map(|it| (*it).to_owned())).collect()
    };

    // Yesterday's run leaves the price cache that today's run starts from.
    let seeded = tempfile::tempdir().expect("a temporary folder");
    let started = Instant::now();
    run_job(&fake, seeded.path(), YESTERDAY, &with_list(seed_flags));
    eprintln!("{name}: the previous day's run took {:.1?} with {} calls", started.elapsed(), fake.calls());
    let fresh_copy = |start: Start| {
        let dir = tempfile::tempdir().expect("a temporary folder");
        if let Start::Seeded = start {
            copy_dir(&seeded.path().join("prices"), &dir.path().join("prices"));
        }
        dir
    };

    let mut group = c.benchmark_group(format!("tushare, {name}, 50 ms per call"));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    for &(case, start, flags) in cases {
        let flags = with_list(flags);
        let dir = fresh_copy(start);
        let before = fake.calls();
        let started = Instant::now();
        run_job(&fake, dir.path(), DATE, &flags);
        let elapsed = started.elapsed();
        eprintln!(
            "{case}: {name}, {LATENCY:?} per call: one run took {elapsed:.3?} with {} calls",
            fake.calls() - before
        );
        group.bench_function(case, |b| {
            // The folder is returned, so criterion removes it outside the measurement.
            b.iter_batched(
                || fresh_copy(start),
                |dir| {
                    run_job(&fake, dir.path(), DATE, &flags);
                    dir
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

fn run_job(fake: &FakeTushare, data_dir: &Path, date: &str, flags: &[String]) {
    let output = Command::new(env!("CARGO_BIN_EXE_signal"))
        .args(["--source", "tushare", "--tushare-url", &fake.url, "--date", date, "--no-publish"])
        .args(flags)
        .arg("--data-dir")
        .arg(data_dir)
        .env("TUSHARE_TOKEN", "bench-token")
        .output()
        .expect("the job starts");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("a folder");
    for entry in std::fs::read_dir(from).expect("a folder") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("a copy");
        }
    }
}

criterion_group!(benches, daily_run);
criterion_main!(benches);

//! The daily run against Tushare: 46 funds (the bundled list), 50 ms per call, the real `signal` binary.
//!
//! A fake Tushare server on 127.0.0.1 adds 50 ms to every answer; the job runs as its own process
//! with its default limits (8 calls at once, 200 a minute per API). Three cases:
//! - `daily`: the run of a trading day after the previous day's run, with the price cache that run
//!   left (restored before every iteration, so each one asks the same calls);
//! - `cold`: no price cache (`--tushare-no-cache`), two calls per fund;
//! - `cold, 16 at once`: the same with twice the concurrency, to show what the limit costs.
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

fn daily_run(c: &mut Criterion) {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    let funds = platform::fund::bundled_funds();
    let codes: Vec<&str> = funds.iter().map(|fund| fund.code.as_str()).collect();
    let market = Market::generate(&codes, DATE);
    let fake = runtime.block_on(FakeTushare::start(LATENCY, move |seen| market.reply(seen)));

    // Yesterday's run leaves the price cache that today's run starts from.
    let seeded = tempfile::tempdir().expect("a temporary folder");
    run_job(&fake, seeded.path(), YESTERDAY, &[]);
    let fresh_copy = || {
        let dir = tempfile::tempdir().expect("a temporary folder");
        copy_dir(&seeded.path().join("prices"), &dir.path().join("prices"));
        dir
    };

    let n_funds = funds.len();
    let cases: [(&str, &[&str]); 3] = [
        ("daily", &[]),
        ("cold", &["--tushare-no-cache"]),
        ("cold, 16 at once", &["--tushare-no-cache", "--tushare-concurrency", "16"]),
    ];
    let mut group = c.benchmark_group(format!("tushare, {n_funds} funds, 50 ms per call"));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    for (name, flags) in cases {
        let dir = fresh_copy();
        let before = fake.calls();
        let started = Instant::now();
        run_job(&fake, dir.path(), DATE, flags);
        let elapsed = started.elapsed();
        eprintln!(
            "{name}: {n_funds} funds, {LATENCY:?} per call: one run took {elapsed:.3?} with {} calls",
            fake.calls() - before
        );
        group.bench_function(name, |b| {
            // The folder is returned, so criterion removes it outside the measurement.
            b.iter_batched(
                fresh_copy,
                |dir| {
                    run_job(&fake, dir.path(), DATE, flags);
                    dir
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

fn run_job(fake: &FakeTushare, data_dir: &Path, date: &str, flags: &[&str]) {
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

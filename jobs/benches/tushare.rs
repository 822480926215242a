//! The daily run against Tushare: 46 funds (the bundled list), 50 ms per call, the real `signal` binary.
//!
//! A fake Tushare server on 127.0.0.1 adds 50 ms to every answer; the job runs as its own process
//! with its default limits (8 calls at once, 200 a minute per API), and once with 16 at once to show
//! what the concurrency limit costs. Before measuring, one run prints its wall time and call count.
//! `cargo bench -p jobs --bench tushare`.

#[path = "../../platform/tests/support/fake_tushare.rs"]
mod fake_tushare;

use std::{
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use criterion::{Criterion, criterion_group, criterion_main};
use fake_tushare::{FakeTushare, Market};

const DATE: &str = "20261127";
const LATENCY: Duration = Duration::from_millis(50);

fn daily_run(c: &mut Criterion) {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    let funds = platform::fund::bundled_funds();
    let codes: Vec<&str> = funds.iter().map(|fund| fund.code.as_str()).collect();
    let market = Market::generate(&codes, DATE);
    let fake = runtime.block_on(FakeTushare::start(LATENCY, move |seen| market.reply(seen)));
    let dir = tempfile::tempdir().expect("a temporary folder");

    let mut group = c.benchmark_group("tushare daily run");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    for concurrency in ["8", "16"] {
        let before = fake.calls();
        let started = Instant::now();
        run_job(&fake, dir.path(), concurrency);
        let elapsed = started.elapsed();
        eprintln!(
            "{} funds, {LATENCY:?} per call, {concurrency} at once: one run took {elapsed:.3?} with {} calls",
            funds.len(),
            fake.calls() - before
        );
        group.bench_function(format!("{} funds, 50 ms per call, {concurrency} at once", funds.len()), |b| {
            b.iter(|| run_job(&fake, dir.path(), concurrency))
        });
    }
    group.finish();
}

fn run_job(fake: &FakeTushare, data_dir: &Path, concurrency: &str) {
    let output = Command::new(env!("CARGO_BIN_EXE_signal"))
        .args(["--source", "tushare", "--tushare-url", &fake.url, "--date", DATE, "--no-publish"])
        .args(["--tushare-concurrency", concurrency])
        .arg("--data-dir")
        .arg(data_dir)
        .env("TUSHARE_TOKEN", "bench-token")
        .output()
        .expect("the job starts");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

criterion_group!(benches, daily_run);
criterion_main!(benches);

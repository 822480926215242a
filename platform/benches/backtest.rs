//! One backtest of the bundled funds over ten years, prices in memory: the exact replay of every
//! day's published signal, the fills, the NAVs and every metric, for each fund and the portfolio;
//! and the sweep's grid (5..=20 x 20..=60) on the whole-series fast path. Both use every core
//! (`std::thread::available_parallelism`); the figures in the notes are from a 2-core machine.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use platform::{
    backtest::{self, DEFAULT_COST_BPS, Fill, Settings, Sizing, sweep::Prepared},
    date::TradeDate,
    fund::{self, FundCode},
    market::sample::SampleSource,
    strategy::DmaParams,
};

fn ten_years_of_the_bundled_funds(c: &mut Criterion) {
    let source = SampleSource::new();
    let (from, to) = (TradeDate::parse("20161201").expect("a date"), TradeDate::parse("20261127").expect("a date"));
    let params = DmaParams::STANDARD;
    let funds: Vec<_> = fund::bundled_funds()
        .into_iter()
        .map(|fund| {
            let history = source.history(&fund.code, from.minus_days(params.lookback_days()), to);
            (fund, Ok(history))
        })
        .collect();
    let calendar = source.trading_days(from, to);
    let settings = Settings {
        params,
        from,
        to,
        fill: Fill::Open,
        cost_bps: DEFAULT_COST_BPS,
        sizing: Sizing::Fraction,
        benchmark: Some(FundCode::parse("510300.SH").expect("a code")),
    };
    let bars: usize = funds.iter().map(|(_, it)| it.as_ref().map_or(0, |it| it.bars.len())).sum();

    let mut group = c.benchmark_group("backtest");
    group.sample_size(20);
    group.throughput(Throughput::Elements(bars as u64));
    group.bench_function(format!("{} funds x 10 years", funds.len()), |b| {
        b.iter(|| backtest::run(&settings, &calendar, &funds).funds.len())
    });
    // The sweep's grid on the whole-series fast path, as `signal backtest --short 5:20 --long 20:60`
    // runs it: the prices prepared once, the pairs on every core.
    let pairs: Vec<(usize, usize)> =
        (5..=20).flat_map(|s| (20..=60).filter(move |l| s < *l).map(move |l| (s, l))).collect();
    group.sample_size(10);
    group.throughput(Throughput::Elements((bars * pairs.len()) as u64));
    group.bench_function(format!("sweep of {} pairs, whole-series", pairs.len()), |b| {
        b.iter(|| Prepared::new(&settings, &calendar, &funds).run(&pairs, || {}).len())
    });
    group.finish();
}

criterion_group!(benches, ten_years_of_the_bundled_funds);
criterion_main!(benches);

//! The strategy's throughput: 5,000 funds of 2,500 bars each, every bar in the window, on one core:
//! `classify` (one pass, buffers reused from fund to fund) and `evaluate` (which also builds each
//! fund's series for the charts).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use platform::{
    date::TradeDate,
    fund::FundCode,
    market::{History, sample::SampleSource},
    strategy::{self, DmaParams},
};

const FUNDS: usize = 5_000;
const BARS: usize = 2_500;

fn strategy_over_many_funds(c: &mut Criterion) {
    let source = SampleSource::new();
    let first = TradeDate::parse("20180102").expect("a date");
    let last = TradeDate::parse("20271231").expect("a date");
    // A few distinct generated histories, cut to exactly 2,500 bars, reused round-robin.
    let templates: Vec<History> = (0..16)
        .map(|n| {
            let code = FundCode::parse(&format!("5100{n:02}.SH")).expect("a code");
            let mut history = source.history(&code, first, last);
            history.bars.truncate(BARS);
            history.factors.truncate(BARS);
            history
        })
        .collect();
    assert!(templates.iter().all(|it| it.bars.len() == BARS), "the sample range holds 2,500 bars");
    let trade_date = templates[0].bars[BARS - 1].trade_date;
    let params = DmaParams::new(11, 22, 10_000).expect("valid parameters");

    let mut group = c.benchmark_group("strategy");
    group.sample_size(10);
    group.throughput(Throughput::Elements((FUNDS * BARS) as u64));
    group.bench_function("classify 5000 funds x 2500 bars", |b| {
        let mut scratch = strategy::Scratch::default();
        b.iter(|| {
            let mut buys = 0usize;
            for fund_idx in 0..FUNDS {
                let history = &templates[fund_idx % templates.len()];
                let verdict = strategy::classify(&params, trade_date, history, &mut scratch);
                buys += usize::from(matches!(verdict.state, strategy::State::Buy));
            }
            buys
        })
    });
    group.bench_function("evaluate 5000 funds x 2500 bars", |b| {
        b.iter(|| {
            let mut buys = 0usize;
            for fund_idx in 0..FUNDS {
                let history = &templates[fund_idx % templates.len()];
                let evaluation = strategy::evaluate(&params, trade_date, history);
                buys += usize::from(matches!(evaluation.state, strategy::State::Buy));
            }
            buys
        })
    });
    group.finish();
}

criterion_group!(benches, strategy_over_many_funds);
criterion_main!(benches);

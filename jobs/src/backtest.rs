//! `signal backtest`: replays the published signals over a range and prints what following them
//! would have earned, a line per fund, the portfolio and buy-and-hold; `--json` writes the whole
//! record (`platform::backtest::json`).

use std::path::PathBuf;

use anyhow::Context;
use platform::{
    backtest::{
        self, DEFAULT_COST_BPS, Fill, Settings, Sizing,
        json::{BacktestJson, MetricsJson},
        replay,
        sweep::Prepared,
    },
    date::TradeDate,
    fund::FundCode,
    market::Budget,
    store::ObjectStore,
    strategy::DmaParams,
};

use crate::{
    config::{self, MarketFlags},
    failure::{Failure, bad_input},
    prices,
};

/// Replay the published signals over a range of days: what following them would have earned.
///
/// Long/flat per fund: start flat with cash 1.0; a BUY while flat buys, a SELL while long sells,
/// anything else changes nothing. The portfolio gives each fund an equal sleeve, never rebalanced.
#[derive(Debug, clap::Args)]
pub(crate) struct BacktestFlags {
    /// The first trading day of the range, YYYYMMDD.
    #[arg(long, value_parser = TradeDate::parse)]
    pub(crate) from: TradeDate,

    /// The last trading day of the range, YYYYMMDD.
    #[arg(long, value_parser = TradeDate::parse)]
    pub(crate) to: TradeDate,

    /// The market data source.
    #[command(flatten)]
    pub(crate) market: MarketFlags,

    /// The fund list, one `CODE,NAME` per line [default: the bundled list of A-share ETFs].
    #[arg(long, value_name = "FILE")]
    pub(crate) funds: Option<PathBuf>,

    /// The local data folder, where the Tushare price cache lives (prices/tushare/).
    #[arg(long, value_name = "DIR", default_value = "data")]
    pub(crate) data_dir: PathBuf,

    /// The short moving-average period in trading days, or a range to sweep: `5:20` (inclusive),
    /// `5:20:5` (with a step). With a range in --short or --long, every pair with short < long is
    /// replayed and the top 10 by portfolio Sharpe are printed.
    #[arg(long, value_name = "N|A:B[:STEP]", default_value = "11", value_parser = Periods::parse)]
    pub(crate) short: Periods,

    /// The long moving-average period in trading days, or a range to sweep (see --short).
    #[arg(long, value_name = "N|A:B[:STEP]", default_value = "22", value_parser = Periods::parse)]
    pub(crate) long: Periods,

    /// In a sweep, replay every pair exactly as the job publishes (each day's window adjusted to that
    /// day's factor) instead of the faster whole-series averages.
    #[arg(long)]
    pub(crate) exact: bool,

    /// The window of prices the averages are computed over, in calendar days (as the daily job).
    #[arg(long, default_value_t = 150)]
    pub(crate) lookback_days: u32,

    /// When a signal fills: `open`, at the open of the fund's next bar (what a reader of the
    /// evening e-mail can do), or `close`, at the signal day's own close (idealised: the signal
    /// is only known after the close).
    #[arg(long, value_enum, default_value = "open")]
    pub(crate) fill: FillFlag,

    /// The cost of one side in basis points of its value. The default, 2.5, is a retail ETF
    /// commission of 0.025%; ETFs pay no stamp duty and no transfer fee.
    #[arg(long, value_name = "BPS", default_value_t = DEFAULT_COST_BPS, value_parser = parse_cost)]
    pub(crate) cost_bps: f64,

    /// Trade a real account: whole lots from this starting cash in yuan, with --lot and
    /// --min-commission, keeping the leftover cash [default: fractional units of cash 1.0].
    #[arg(long, value_name = "YUAN", value_parser = parse_positive)]
    pub(crate) capital: Option<f64>,

    /// Shares per lot, with --capital.
    #[arg(long, default_value_t = 100, requires = "capital", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) lot: u32,

    /// The least commission of one side in yuan, with --capital.
    #[arg(long, value_name = "YUAN", default_value_t = 5.0, requires = "capital", value_parser = parse_cost)]
    pub(crate) min_commission: f64,

    /// The fund whose buy-and-hold is the benchmark, when it is in the list.
    #[arg(long, value_name = "CODE", default_value = "510300.SH")]
    pub(crate) benchmark: String,

    /// Also write the whole record as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub(crate) json: Option<PathBuf>,
}

/// When signals fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum FillFlag {
    /// The open of the fund's next bar.
    Open,
    /// The signal day's close (idealised).
    Close,
}

/// A period, or an inclusive range of periods with a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Periods {
    first: usize,
    last: usize,
    step: usize,
}

impl Periods {
    fn parse(text: &str) -> Result<Periods, String> {
        let numbers: Result<Vec<usize>, _> = text.split(':').map(str::parse::<usize>).collect();
        let bad = || format!("{text:?} is not a period (11) or a range of periods (5:20, 5:20:5)");
        let periods = match numbers.map_err(|_| bad())?.as_slice() {
            [n] => Periods { first: *n, last: *n, step: 1 },
            [first, last] => Periods { first: *first, last: *last, step: 1 },
            [first, last, step] => Periods { first: *first, last: *last, step: *step },
            _ => return Err(bad()),
        };
        if periods.first == 0 || periods.step == 0 || periods.first > periods.last {
            return Err(bad());
        }
        Ok(periods)
    }

    fn values(self) -> impl Iterator<Item = usize> {
        (self.first..=self.last).step_by(self.step)
    }

    fn is_one(self) -> bool {
        self.first == self.last
    }
}

fn parse_cost(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.0 => Ok(value),
        _ => Err(format!("{text:?} is not a cost: a number of 0 or more")),
    }
}

fn parse_positive(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value > 0.0 => Ok(value),
        _ => Err(format!("{text:?} is not an amount above 0")),
    }
}

/// Runs the backtest the flags describe.
pub(crate) async fn main(flags: BacktestFlags) -> Result<(), Failure> {
    if flags.from > flags.to {
        return Err(bad_input(anyhow::format_err!("--from {} is after --to {}", flags.from, flags.to)));
    }
    let pairs: Vec<(usize, usize)> = flags
        .short
        .values()
        .flat_map(|short| flags.long.values().filter(move |long| short < *long).map(move |long| (short, long)))
        .collect();
    let Some(&(short, long)) = pairs.iter().max_by_key(|it| it.1) else {
        return Err(bad_input(anyhow::format_err!("no pair of --short and --long has short < long")));
    };
    // The longest average needs the most history: fetch once for every pair.
    let params = DmaParams::new(short, long, flags.lookback_days).map_err(|err| bad_input(err.into()))?;
    let funds = config::load_funds(flags.funds.as_deref())?;
    let benchmark = FundCode::parse(&flags.benchmark)
        .with_context(|| format!("--benchmark {:?}", flags.benchmark))
        .map_err(bad_input)?;
    let settings = Settings {
        params,
        from: flags.from,
        to: flags.to,
        fill: match flags.fill {
            FillFlag::Open => Fill::Open,
            FillFlag::Close => Fill::Close,
        },
        cost_bps: flags.cost_bps,
        sizing: match flags.capital {
            None => Sizing::Fraction,
            Some(capital) => Sizing::Lots { capital, lot: flags.lot, min_commission: flags.min_commission },
        },
        benchmark: funds.iter().any(|it| it.code == benchmark).then_some(benchmark),
    };
    let store = ObjectStore::local(&flags.data_dir);
    let market = config::market_data(&flags.market, &store)?;
    let calendar = match market.trading_days(flags.from, flags.to).await {
        Ok(days) => days,
        Err(err) if err.is_fatal() => return Err(bad_input(anyhow::Error::new(err).context("the trading calendar"))),
        Err(err) => return Err(anyhow::Error::new(err).context("getting the trading calendar").into()),
    };
    if calendar.is_empty() {
        return Err(bad_input(anyhow::format_err!("there is no trading day from {} to {}", flags.from, flags.to)));
    }
    let history_from = flags.from.minus_days(params.lookback_days());
    let progress = prices::progress_bar(funds.len(), "prices");
    let funds = prices::histories(&funds, &market, history_from, flags.to, Budget::All, &progress)
        .await
        .map_err(|err| bad_input(err.into()))?;
    let funds = prices::with_messages(funds);
    progress.finish_and_clear();
    if !(flags.short.is_one() && flags.long.is_one()) {
        return sweep(&flags, &settings, &pairs, &calendar, &funds);
    }
    let backtest = backtest::run(&settings, &calendar, &funds);
    let json = BacktestJson::new(&backtest);
    print!("{}", table(&json));
    if let Some(path) = &flags.json {
        std::fs::write(path, json.to_json()).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Replays every pair and prints the top 10 by portfolio Sharpe; `--json` gets every pair's
/// portfolio figures. Whole-series averages with each fund prepared once ([`Prepared`]), or with
/// `--exact` each pair's exact daily replay, as a single backtest is.
fn sweep(
    flags: &BacktestFlags,
    settings: &Settings,
    pairs: &[(usize, usize)],
    calendar: &[TradeDate],
    funds: &[(platform::fund::Fund, Result<platform::history::History, String>)],
) -> Result<(), Failure> {
    let progress = prices::progress_bar(pairs.len(), "pairs");
    let started = std::time::Instant::now();
    let mut results: Vec<((usize, usize), MetricsJson)> = if flags.exact {
        // Each pair's backtest already uses every core for its funds.
        pairs
            .iter()
            .filter_map(|&(short, long)| {
                let params = DmaParams::new(short, long, settings.params.lookback_days()).ok()?;
                let backtest = backtest::run(&Settings { params, ..settings.clone() }, calendar, funds);
                progress.inc(1);
                Some(((short, long), MetricsJson::strategy(&backtest.portfolio?.metrics)))
            })
            .collect()
    } else {
        let prepared = Prepared::new(settings, calendar, funds);
        let swept = prepared.run(pairs, || progress.inc(1));
        swept.iter().map(|(pair, metrics)| (*pair, MetricsJson::strategy(metrics))).collect()
    };
    progress.finish_and_clear();
    results.sort_by(|a, b| b.1.sharpe.unwrap_or(f64::MIN).total_cmp(&a.1.sharpe.unwrap_or(f64::MIN)));
    let bars: usize = funds.iter().filter_map(|(_, it)| it.as_ref().ok()).map(|it| it.bars.len()).sum();
    let elapsed = started.elapsed().as_secs_f64();
    let method = if flags.exact {
        "each the exact daily replay (0 trades differ from it)".to_owned()
    } else {
        let (differ, of) = differing_trades(settings, calendar, funds);
        format!(
            "whole-series averages, not the daily replay: {differ} of {of} trades of 11/22 differ from the exact \
             replay (--exact replays every pair)"
        )
    };
    println!(
        "{} pairs from {} to {}, {method}, fill {}, cost {} bps; {:.2} s, {:.1} M fund-bar-pairs/s",
        results.len(),
        settings.from,
        settings.to,
        settings.fill.id(),
        settings.cost_bps,
        elapsed,
        (bars * results.len()) as f64 / elapsed / 1e6,
    );
    println!(
        "{:>5} {:>5} {:>7} {:>9} {:>8} {:>8} {:>6}",
        "short", "long", "Sharpe", "return", "CAGR", "max DD", "trades"
    );
    for ((short, long), m) in results.iter().take(10) {
        println!(
            "{short:>5} {long:>5} {:>7} {:>9.2}% {:>7.2}% {:>7.2}% {:>6}",
            m.sharpe.map_or_else(|| "-".to_owned(), |it| format!("{it:.2}")),
            m.total_return * 100.0,
            m.cagr.unwrap_or(0.0) * 100.0,
            m.max_drawdown * 100.0,
            m.trades.unwrap_or(0),
        );
    }
    if let Some(path) = &flags.json {
        let pairs: Vec<_> = results
            .iter()
            .map(|((short, long), metrics)| serde_json::json!({"short": short, "long": long, "metrics": metrics}))
            .collect();
        let json = serde_json::json!({
            "from": settings.from.to_string(), "to": settings.to.to_string(), "fill": settings.fill.id(),
            "cost_bps": settings.cost_bps, "exact": flags.exact, "pairs": pairs,
        });
        std::fs::write(path, serde_json::to_string_pretty(&json).expect("plain data"))
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// How many trades of 11/22 (by fund, BUY day and SELL day) only one of the fast path and the exact
/// replay has, against how many the exact replay has: `(differing, exact)`.
fn differing_trades(
    settings: &Settings,
    calendar: &[TradeDate],
    funds: &[(platform::fund::Fund, Result<platform::history::History, String>)],
) -> (usize, usize) {
    let Ok(params) = DmaParams::new(11, 22, settings.params.lookback_days()) else {
        return (0, 0);
    };
    let settings = Settings { params, ..settings.clone() };
    let exact = backtest::run(&settings, calendar, funds);
    let fast = backtest::run_on(&settings, calendar, funds, |history| {
        replay::whole_series_signals(&params, settings.from, settings.to, history)
    });
    let trades = |it: &backtest::Backtest| -> std::collections::BTreeSet<(String, TradeDate, Option<TradeDate>)> {
        it.funds
            .iter()
            .flat_map(|fund| {
                fund.run.trades.iter().map(|t| (fund.fund.code.to_string(), t.signal_date, t.exit_signal_date))
            })
            .collect()
    };
    let (exact, fast) = (trades(&exact), trades(&fast));
    (exact.symmetric_difference(&fast).count(), exact.len())
}

/// The printed summary: one line per fund, then the portfolio and its comparisons.
fn table(json: &BacktestJson) -> String {
    use std::fmt::Write;
    let pct = |it: Option<f64>| it.map_or_else(|| "-".to_owned(), |it| format!("{:.2}%", it * 100.0));
    let num = |it: Option<f64>| it.map_or_else(|| "-".to_owned(), |it| format!("{it:.2}"));
    let mut out = String::new();
    let fill =
        if json.idealised { "close (idealised: fills at the signal day's close)" } else { "open of the next bar" };
    let _ = writeln!(
        out,
        "{} from {} to {}, fill at the {fill}, cost {} bps per side",
        json.strategy, json.from, json.to, json.cost_bps
    );
    let _ = writeln!(
        out,
        "{:<12} {:>9} {:>8} {:>7} {:>8} {:>6} {:>7} {:>9}",
        "fund", "return", "CAGR", "Sharpe", "max DD", "trades", "win", "B&H ret"
    );
    let mut line = |name: &str, m: &backtest::json::MetricsJson, hold: Option<f64>| {
        let _ = writeln!(
            out,
            "{:<12} {:>9} {:>8} {:>7} {:>8} {:>6} {:>7} {:>9}",
            name,
            pct(Some(m.total_return)),
            pct(m.cagr),
            num(m.sharpe),
            pct(Some(m.max_drawdown)),
            m.trades.map_or_else(|| "-".to_owned(), |it| it.to_string()),
            pct(m.win_rate),
            pct(hold),
        );
    };
    for fund in &json.funds {
        line(&fund.code, &fund.metrics, Some(fund.buy_and_hold.total_return));
    }
    if let Some(portfolio) = &json.portfolio {
        line("portfolio", &portfolio.metrics, Some(portfolio.buy_and_hold.total_return));
        line("equal B&H", &portfolio.buy_and_hold, None);
        if let (Some(code), Some(benchmark)) = (&portfolio.benchmark_code, &portfolio.benchmark) {
            line(&format!("B&H {code}"), benchmark, None);
        }
    }
    for fund in &json.undecided_funds {
        let _ = writeln!(out, "{:<12} undecided: {}", fund.code, fund.reason);
    }
    out
}

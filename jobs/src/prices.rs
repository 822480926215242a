//! Every fund's history from the market source, for the day's run, the track record and the
//! backtest alike.

use platform::{
    date::TradeDate,
    fund::Fund,
    market::{History, MarketData, MarketError},
};

/// Each fund's history over `from..=to`, in list order; a fund whose source failed keeps its error
/// (it is undecided). A fatal error (a refused token) is the whole answer.
///
/// All funds are asked at once: the source bounds its own concurrency and rate (the Tushare client
/// holds the limits), so the fetch is as fast as the limits allow. A fatal error stops the others.
///
/// `progress` counts the funds answered (a hidden bar counts for nobody).
pub(crate) async fn histories(
    funds: &[Fund],
    market: &MarketData,
    from: TradeDate,
    to: TradeDate,
    progress: &indicatif::ProgressBar,
) -> Result<Vec<(Fund, Result<History, String>)>, MarketError> {
    let mut tasks = tokio::task::JoinSet::new();
    for (at, fund) in funds.iter().enumerate() {
        let market = market.clone();
        let code = fund.code.clone();
        tasks.spawn(async move { (at, market.history(&code, from, to).await) });
    }
    let mut histories: Vec<Result<History, String>> = vec![Err("no answer".to_owned()); funds.len()];
    while let Some(joined) = tasks.join_next().await {
        let (at, res) = joined.expect("a price fetch task does not panic");
        progress.inc(1);
        histories[at] = match res {
            Ok(history) => Ok(history),
            Err(err) if err.is_fatal() => return Err(err),
            Err(err) => {
                tracing::warn!(code = %funds[at].code, "{err}");
                Err(err.to_string())
            }
        };
    }
    Ok(funds.iter().cloned().zip(histories).collect())
}

/// A progress bar of `len` steps on stderr when it is a terminal, hidden otherwise (logs and CI
/// get no bar lines).
pub(crate) fn progress_bar(len: usize, message: &'static str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} {elapsed}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message);
    bar
}

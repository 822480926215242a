//! Every fund's history from the market source, for the day's run, the track record and the
//! backtest alike.

use platform::{
    date::TradeDate,
    fund::{Fund, FundCode},
    market::{Budget, History, MarketData, MarketError},
};

/// Each fund's history over `from..=to`, in list order; a fund whose source failed keeps its error
/// (it is undecided), and so does one `budget` deferred. A fatal error (a refused token) is the whole answer.
///
/// All funds are one batch: the source plans the calls (by fund or by trade date, whichever costs
/// fewer) and bounds its own concurrency and rate, so the fetch is as fast as the limits allow.
///
/// `progress` counts the funds answered.
pub(crate) async fn histories(
    funds: &[Fund],
    market: &MarketData,
    from: TradeDate,
    to: TradeDate,
    budget: Budget,
    progress: &indicatif::ProgressBar,
) -> Result<Vec<(Fund, Result<History, MarketError>)>, MarketError> {
    let codes: Vec<FundCode> = funds.iter().map(|fund| fund.code.clone()).collect();
    let histories = market.histories(&codes, from, to, budget).await?;
    progress.inc(funds.len() as u64);
    for (fund, history) in funds.iter().zip(&histories) {
        match history {
            Err(err) if err.is_deferred() => {}
            Err(err) => tracing::warn!(code = %fund.code, "{err}"),
            Ok(_) => {}
        }
    }
    Ok(funds.iter().cloned().zip(histories).collect())
}

/// The histories with their errors as the messages the reports carry.
pub(crate) fn with_messages(
    histories: Vec<(Fund, Result<History, MarketError>)>,
) -> Vec<(Fund, Result<History, String>)> {
    histories.into_iter().map(|(fund, history)| (fund, history.map_err(|err| err.to_string()))).collect()
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

//! The chat channels of a run: each complete day, after its e-mail, to every enabled channel that
//! wants it, once per channel and day.
//!
//! A channel that got a day has its marker (`state/channels/<name>/YYYYMMDD`, written after the
//! service took every message), so a re-run or a Spot restart sends nothing twice and a channel
//! that failed is tried again by the next run. One channel's failure never stops the others or the
//! e-mail; the run exits 1 once everything else is done ([`outcome`]). `--no-publish` sends nothing,
//! `--republish` sends again. Uses the configuration and `platform`'s channels and report layout.

use anyhow::Context;
use platform::{
    channels::{Channel, ChannelsFile, Digest, RetryPolicy, Sender},
    report::Report,
    reports,
    store::ObjectStore,
};

use crate::{
    config::{Config, Publish},
    failure::Failure,
};

/// Sends `report` to the configured channels, one line per channel on stdout; returns a line per
/// channel that failed.
pub(crate) async fn deliver(config: &Config, store: &ObjectStore, report: &Report) -> Vec<String> {
    let Some(file) = &config.channels else { return Vec::new() };
    if config.publish == Publish::Never || file.channels.is_empty() {
        return Vec::new();
    }
    let date = report.trade_date;
    let sender = match Sender::new(RetryPolicy::STANDARD) {
        Ok(it) => it,
        Err(err) => return vec![format!("{date}: no channel was sent to: {err}")],
    };
    let mut failures = Vec::new();
    for channel in &file.channels {
        let what = format!("{date}: channel {} ({})", channel.name, channel.kind());
        match deliver_one(config, file, &sender, store, report, channel).await {
            Ok(done) => println!("{what}: {done}"),
            Err(err) => {
                let line = format!("{what}: {err:#}");
                tracing::warn!("{line}");
                failures.push(line);
            }
        }
    }
    failures
}

/// Exit 1 when any channel failed (after everything else was done), naming them.
pub(crate) fn outcome(failures: &[String]) -> Result<(), Failure> {
    if failures.is_empty() {
        return Ok(());
    }
    Err(Failure::Failed(anyhow::format_err!(
        "{} channel deliveries failed (the next run tries them again): {}",
        failures.len(),
        failures.join("; ")
    )))
}

async fn deliver_one(
    config: &Config,
    file: &ChannelsFile,
    sender: &Sender,
    store: &ObjectStore,
    report: &Report,
    channel: &Channel,
) -> anyhow::Result<String> {
    let date = report.trade_date;
    if !channel.enabled {
        return Ok("paused (enabled = false)".to_owned());
    }
    if config.publish == Publish::Once
        && reports::is_delivered(store, &channel.name, date).await.context("reading the delivery marker")?
    {
        return Ok("already delivered; --republish sends it again".to_owned());
    }
    let Some(digest) = Digest::for_channel(report, channel, &file.site_url) else {
        return Ok("nothing to send: no BUY or SELL of its funds today (only = \"signals\")".to_owned());
    };
    let messages = sender.deliver(channel, &digest).await?;
    reports::mark_delivered(store, &channel.name, date, messages)
        .await
        .with_context(|| format!("storing the delivery marker {}", reports::channel_marker(&channel.name, date)))?;
    Ok(format!("delivered ({messages} message{})", if messages == 1 { "" } else { "s" }))
}

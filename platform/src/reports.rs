//! The reports layout, in one place: which key holds what, in which order the job writes, the index
//! of stored days and the published markers. The job, the site and the tests all go through here.
//!
//! - `reports/<strategy>/YYYYMMDD.json` and `.txt`: one pair per trading day, nothing else in that folder;
//! - `reports/index/<strategy>.json`: the stored days with their counts, newest first, so the home
//!   page costs one read (derived data: rebuilt from the day reports when unreadable);
//! - `state/published/YYYYMMDD`: the day was e-mailed; what makes a re-run of the same day safe;
//! - `state/channels/<channel>/YYYYMMDD`: the day reached that chat channel, the same for each channel;
//! - `reports/performance/<strategy>.json`: the track record (derived: rewritten after each day);
//!   `reports/performance/<strategy>/<code>.json`: one fund's chart data.
//!
//! Write order: the day's JSON, then its text, then the index, so a reader that finds a day in the
//! index always finds its report. Uses the store port, the report's and the track record's JSON
//! shapes and the channels' names, nothing else.

use crate::{
    backtest::json::{FundSeriesJson, PerformanceJson},
    channels::ChannelName,
    date::TradeDate,
    fund::FundCode,
    report::{
        Report,
        json::{IndexDay, IndexJson, ReportJson},
    },
    store::{KeyPrefix, ObjectKey, ObjectStore, StoreError},
    strategy::DmaParams,
};

/// The two stored forms of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// The e-mail text.
    Text,
    /// The JSON with every number.
    Json,
}

impl ReportFormat {
    /// `txt` or `json`.
    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Text => "txt",
            ReportFormat::Json => "json",
        }
    }

    /// The HTTP content type.
    pub fn content_type(self) -> &'static str {
        match self {
            ReportFormat::Text => "text/plain; charset=utf-8",
            ReportFormat::Json => "application/json",
        }
    }
}

/// The track record of `params`: `reports/performance/dma-11-22.json`.
pub fn performance_key(params: &DmaParams) -> ObjectKey {
    ObjectKey::new(&format!("reports/performance/{}.json", params.id())).expect("a strategy id makes a valid key")
}

/// One fund's chart data in the track record: `reports/performance/dma-11-22/510300.SH.json`.
pub fn fund_series_key(params: &DmaParams, code: &FundCode) -> ObjectKey {
    ObjectKey::new(&format!("reports/performance/{}/{code}.json", params.id()))
        .expect("a strategy id and a fund code make a valid key")
}

/// Stores the track record of `record`'s strategy under [`performance_key`], as pretty JSON.
pub async fn store_performance(
    store: &ObjectStore,
    params: &DmaParams,
    record: &PerformanceJson,
) -> Result<(), StoreError> {
    store.put(&performance_key(params), record.to_json().into_bytes(), ReportFormat::Json.content_type()).await
}

/// Stores one fund's chart data under [`fund_series_key`], as compact JSON (a few thousand numbers).
pub async fn store_fund_series(
    store: &ObjectStore,
    params: &DmaParams,
    code: &FundCode,
    series: &FundSeriesJson,
) -> Result<(), StoreError> {
    let body = serde_json::to_vec(series).expect("plain data serializes");
    store.put(&fund_series_key(params, code), body, ReportFormat::Json.content_type()).await
}

/// The stored report of `params` for `date`, as text (`txt`) or JSON (`json`).
pub fn day_key(params: &DmaParams, date: TradeDate, format: ReportFormat) -> ObjectKey {
    let key = format!("reports/{}/{date}.{}", params.id(), format.extension());
    ObjectKey::new(&key).expect("a strategy id and a date make a valid key")
}

/// The folder of `params`'s day reports: `reports/dma-11-22/`.
pub fn days_prefix(params: &DmaParams) -> KeyPrefix {
    KeyPrefix::new(&format!("reports/{}/", params.id())).expect("a strategy id makes a valid prefix")
}

/// The index of stored days of `params`: `reports/index/dma-11-22.json`, beside the day reports'
/// folder so that folder holds nothing but one `.txt` and one `.json` per trading day.
pub fn index_key(params: &DmaParams) -> ObjectKey {
    ObjectKey::new(&format!("reports/index/{}.json", params.id())).expect("a strategy id makes a valid key")
}

/// The marker that `date`'s report was published.
pub fn published_marker(date: TradeDate) -> ObjectKey {
    ObjectKey::new(&format!("state/published/{date}")).expect("a date makes a valid key")
}

/// The index of stored days; none yet is an empty index. An unreadable one is rebuilt from the
/// stored day reports (with a warning): it is derived data.
pub async fn load_index(store: &ObjectStore, params: &DmaParams) -> Result<IndexJson, StoreError> {
    let key = index_key(params);
    let Some(bytes) = store.get(&key).await? else {
        return Ok(IndexJson::default());
    };
    match IndexJson::parse(&bytes) {
        Ok(index) => Ok(index),
        Err(err) => {
            tracing::warn!("the report index {key} is unreadable ({err}); rebuilding it from the stored reports");
            rebuild_index(store, params).await
        }
    }
}

/// The index made afresh from the stored day reports; unreadable ones are skipped with a warning.
pub async fn rebuild_index(store: &ObjectStore, params: &DmaParams) -> Result<IndexJson, StoreError> {
    let prefix = days_prefix(params);
    let mut index = IndexJson::default();
    for key in store.list(&prefix).await? {
        let is_report = key
            .as_str()
            .strip_prefix(prefix.as_str())
            .and_then(|name| name.strip_suffix(".json"))
            .is_some_and(|date| TradeDate::parse(date).is_ok());
        if !is_report {
            continue;
        }
        let Some(bytes) = store.get(&key).await? else { continue };
        match ReportJson::parse(&bytes) {
            Ok(stored) => index.upsert(IndexDay::from_report(&stored)),
            Err(err) => tracing::warn!("skipping the unreadable report {key}: {err}"),
        }
    }
    Ok(index)
}

/// Whether the day's stored report is complete (false when there is none or it is unreadable).
pub async fn stored_complete(store: &ObjectStore, params: &DmaParams, date: TradeDate) -> Result<bool, StoreError> {
    let stored = store.get(&day_key(params, date, ReportFormat::Json)).await?;
    Ok(stored.is_some_and(|bytes| ReportJson::parse(&bytes).is_ok_and(|it| it.complete)))
}

/// Stores the day's JSON, its text and the index with the day upserted, in that order.
pub async fn store_day(store: &ObjectStore, report: &Report, index: &mut IndexJson) -> Result<(), StoreError> {
    let date = report.trade_date;
    for (format, body) in [(ReportFormat::Json, report.json_text()), (ReportFormat::Text, report.text())] {
        store.put(&day_key(&report.params, date, format), body.into_bytes(), format.content_type()).await?;
    }
    index.upsert(report.index_day());
    store.put(&index_key(&report.params), index.to_text().into_bytes(), ReportFormat::Json.content_type()).await
}

/// Whether `date`'s report was published already.
pub async fn is_published(store: &ObjectStore, date: TradeDate) -> Result<bool, StoreError> {
    Ok(store.get(&published_marker(date)).await?.is_some())
}

/// The folder of the published markers: `state/published/`.
pub fn published_prefix() -> KeyPrefix {
    KeyPrefix::new("state/published/").expect("a valid prefix")
}

/// The days whose report was published, oldest first: one listing of the markers' folder (a page
/// per thousand days on S3), not a read per day. Keys that are not a marker are skipped.
pub async fn published_days(store: &ObjectStore) -> Result<Vec<TradeDate>, StoreError> {
    let prefix = published_prefix();
    let mut days: Vec<TradeDate> = store
        .list(&prefix)
        .await?
        .iter()
        .filter_map(|key| key.as_str().strip_prefix(prefix.as_str()).and_then(|name| TradeDate::parse(name).ok()))
        .collect();
    days.sort_unstable();
    Ok(days)
}

/// Records that `date`'s report was published, with the time it was.
pub async fn mark_published(store: &ObjectStore, date: TradeDate) -> Result<(), StoreError> {
    let now = chrono::Utc::now().to_rfc3339().into_bytes();
    store.put(&published_marker(date), now, "text/plain; charset=utf-8").await
}

/// The marker that `date`'s signals reached `channel`: `state/channels/<channel>/YYYYMMDD`.
pub fn channel_marker(channel: &ChannelName, date: TradeDate) -> ObjectKey {
    ObjectKey::new(&format!("state/channels/{channel}/{date}")).expect("a channel name and a date make a valid key")
}

/// Whether `date`'s signals reached `channel` already.
pub async fn is_delivered(store: &ObjectStore, channel: &ChannelName, date: TradeDate) -> Result<bool, StoreError> {
    Ok(store.get(&channel_marker(channel, date)).await?.is_some())
}

/// Records that `date`'s signals reached `channel`, with the time and how many messages it took.
pub async fn mark_delivered(
    store: &ObjectStore,
    channel: &ChannelName,
    date: TradeDate,
    messages: usize,
) -> Result<(), StoreError> {
    let text = format!("{} {messages} message(s)\n", chrono::Utc::now().to_rfc3339());
    store.put(&channel_marker(channel, date), text.into_bytes(), "text/plain; charset=utf-8").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_keys_follow_the_documented_layout() {
        let date = TradeDate::parse("20261127").unwrap();
        let params = DmaParams::STANDARD;
        assert_eq!(day_key(&params, date, ReportFormat::Text).as_str(), "reports/dma-11-22/20261127.txt");
        assert_eq!(day_key(&params, date, ReportFormat::Json).as_str(), "reports/dma-11-22/20261127.json");
        assert_eq!(index_key(&params).as_str(), "reports/index/dma-11-22.json");
        assert_eq!(published_marker(date).as_str(), "state/published/20261127");
        let channel = ChannelName::parse("team-tg").unwrap();
        assert_eq!(channel_marker(&channel, date).as_str(), "state/channels/team-tg/20261127");
        assert_eq!(days_prefix(&params).as_str(), "reports/dma-11-22/");
        assert_eq!(published_prefix().as_str(), "state/published/");
        assert_eq!(performance_key(&params).as_str(), "reports/performance/dma-11-22.json");
        let code = FundCode::parse("510300.SH").unwrap();
        assert_eq!(fund_series_key(&params, &code).as_str(), "reports/performance/dma-11-22/510300.SH.json");
    }

    #[tokio::test]
    async fn the_published_days_are_the_markers_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = ObjectStore::local(dir.path());
        assert_eq!(published_days(&store).await.unwrap(), []);
        for day in ["20261127", "20261120", "20261123"] {
            mark_published(&store, TradeDate::parse(day).unwrap()).await.unwrap();
        }
        let other = ObjectKey::new("state/published/notes.txt").unwrap();
        store.put(&other, b"not a marker".to_vec(), "text/plain").await.unwrap();
        let days: Vec<String> = published_days(&store).await.unwrap().iter().map(ToString::to_string).collect();
        assert_eq!(days, ["20261120", "20261123", "20261127"]);
    }
}

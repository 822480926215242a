//! The price cache: one object per security, `prices/tushare/<code>.json`, and the trading
//! calendar, `prices/tushare/calendar.json`, in the object store.
//!
//! It only saves calls: an entry that cannot be read or written is skipped with a warning, and an
//! entry of another [`VERSION`] is a miss, so the window is fetched again and the entry rewritten.

use serde::{Deserialize, Serialize};

use super::rows::Rows;
use crate::{
    date::TradeDate,
    fund::FundCode,
    store::{ObjectKey, ObjectStore},
};

/// The version of the entries this build writes and reads. Version 1 (no `version` field) held
/// closes only; 2 holds each day's open and close.
pub(super) const VERSION: u32 = 2;

/// What the price cache holds for one security.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct CachedPrices {
    /// The format: [`VERSION`].
    pub(super) version: u32,
    /// The first day asked: rows before it were never fetched.
    pub(super) from: TradeDate,
    /// Every row up to this day is final and stored.
    pub(super) through: TradeDate,
    pub(super) rows: Rows,
}

impl CachedPrices {
    /// An entry of this build's [`VERSION`].
    pub(super) fn new(from: TradeDate, through: TradeDate, rows: Rows) -> CachedPrices {
        CachedPrices { version: VERSION, from, through, rows }
    }
}

/// What the cache holds of the trading calendar: the open days of one span of calendar days.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct CachedCalendar {
    /// The format: [`VERSION`].
    pub(super) version: u32,
    /// The first calendar day covered.
    pub(super) from: TradeDate,
    /// The last calendar day covered.
    pub(super) through: TradeDate,
    /// The trading days in `from..=through`, oldest first.
    pub(super) days: Vec<TradeDate>,
}

/// The key of the calendar's entry.
pub(super) fn calendar_key() -> ObjectKey {
    ObjectKey::new("prices/tushare/calendar.json").expect("a valid key")
}

/// The cached calendar, or `None` (none, another version, unreadable: with a warning).
pub(super) async fn read_calendar(store: &ObjectStore) -> Option<CachedCalendar> {
    let key = calendar_key();
    let bytes = match store.get(&key).await {
        Ok(bytes) => bytes?,
        Err(err) => {
            tracing::warn!("ignoring the calendar cache {key}: {err}");
            return None;
        }
    };
    match serde_json::from_slice::<CachedCalendar>(&bytes) {
        Ok(calendar) if calendar.version == VERSION => Some(calendar),
        Ok(_) => None,
        Err(err) => {
            tracing::warn!("ignoring the unreadable calendar cache {key}: {err}");
            None
        }
    }
}

/// Stores the calendar; a failure is only a warning.
pub(super) async fn write_calendar(store: &ObjectStore, calendar: &CachedCalendar) {
    let key = calendar_key();
    let body = serde_json::to_vec(calendar).expect("a calendar serializes");
    if let Err(err) = store.put(&key, body, "application/json").await {
        tracing::warn!("cannot update the calendar cache {key}: {err}");
    }
}

/// Only the version of an entry, read before the rest so an old entry is a miss, not an error.
#[derive(Deserialize)]
struct Versioned {
    /// Absent in version 1.
    #[serde(default = "version_one")]
    version: u32,
}

fn version_one() -> u32 {
    1
}

/// The key of `code`'s entry.
pub(super) fn key(code: &FundCode) -> ObjectKey {
    ObjectKey::new(&format!("prices/tushare/{code}.json")).expect("a code makes a valid key")
}

/// The entry under `key`, or `None` when there is none, it is of another version (then it is
/// fetched again and rewritten) or it cannot be read (with a warning).
pub(super) async fn read(store: &ObjectStore, key: &ObjectKey) -> Option<CachedPrices> {
    match store.get(key).await {
        Ok(Some(bytes)) => parse(key, &bytes),
        Ok(None) => None,
        Err(err) => {
            tracing::warn!("ignoring the price cache {key}: {err}");
            None
        }
    }
}

fn parse(key: &ObjectKey, bytes: &[u8]) -> Option<CachedPrices> {
    let read = serde_json::from_slice::<Versioned>(bytes).and_then(|it| {
        if it.version != VERSION {
            return Ok(Err(it.version));
        }
        serde_json::from_slice::<CachedPrices>(bytes).map(Ok)
    });
    match read {
        Ok(Ok(prices)) => Some(prices),
        Ok(Err(version)) => {
            tracing::info!("the price cache {key} is of version {version}, not {VERSION}: fetching its window again");
            None
        }
        Err(err) => {
            tracing::warn!("ignoring the unreadable price cache {key}: {err}");
            None
        }
    }
}

/// Stores `prices` under `key`; a failure is only a warning.
pub(super) async fn write(store: &ObjectStore, key: &ObjectKey, prices: &CachedPrices) {
    let body = serde_json::to_vec(prices).expect("prices serialize");
    if let Err(err) = store.put(key, body, "application/json").await {
        tracing::warn!("cannot update the price cache {key}: {err}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ObjectKey {
        ObjectKey::new("prices/tushare/510300.SH.json").unwrap()
    }

    fn date(text: &str) -> TradeDate {
        TradeDate::parse(text).unwrap()
    }

    #[test]
    fn an_entry_of_this_version_reads_back() {
        let prices = CachedPrices::new(date("20261101"), date("20261126"), Rows::default());
        let read = parse(&key(), &serde_json::to_vec(&prices).unwrap()).unwrap();
        assert_eq!(
            (read.version, read.from, read.through, read.rows),
            (VERSION, prices.from, prices.through, prices.rows)
        );
    }

    #[test]
    fn an_entry_of_another_version_is_a_miss() {
        // Version 1, as the builds before the opens wrote it: no version, bars of (date, close).
        let old = br#"{"from":"20261101","through":"20261126",
            "rows":{"bars":[["20261126",3.998]],"factors":[["20261126",1.0]],"null_closes":[]}}"#;
        assert!(parse(&key(), old).is_none());
        // A newer build's entry, even one this build could parse, is left to be rewritten too.
        let prices = CachedPrices {
            version: VERSION + 1,
            ..CachedPrices::new(date("20261101"), date("20261126"), Rows::default())
        };
        assert!(parse(&key(), &serde_json::to_vec(&prices).unwrap()).is_none());
        assert!(parse(&key(), b"{not json").is_none());
    }
}

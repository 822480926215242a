//! The price cache: one object per security, `prices/tushare/<code>.json`, in the object store.
//!
//! It only saves calls: an entry that cannot be read or written is skipped with a warning.

use serde::{Deserialize, Serialize};

use super::rows::Rows;
use crate::{
    date::TradeDate,
    fund::FundCode,
    store::{ObjectKey, ObjectStore},
};

/// What the price cache holds for one security.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct CachedPrices {
    /// The first day asked: rows before it were never fetched.
    pub(super) from: TradeDate,
    /// Every row up to this day is final and stored.
    pub(super) through: TradeDate,
    pub(super) rows: Rows,
}

/// The key of `code`'s entry.
pub(super) fn key(code: &FundCode) -> ObjectKey {
    ObjectKey::new(&format!("prices/tushare/{code}.json")).expect("a code makes a valid key")
}

/// The entry under `key`, or `None` when there is none or it cannot be read (with a warning).
pub(super) async fn read(store: &ObjectStore, key: &ObjectKey) -> Option<CachedPrices> {
    match store.get(key).await {
        Ok(Some(bytes)) => serde_json::from_slice::<CachedPrices>(&bytes)
            .inspect_err(|err| tracing::warn!("ignoring the unreadable price cache {key}: {err}"))
            .ok(),
        Ok(None) => None,
        Err(err) => {
            tracing::warn!("ignoring the price cache {key}: {err}");
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

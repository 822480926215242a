//! Trade dates: calendar days written `YYYYMMDD`, as Tushare and the report keys write them.
//!
//! Domain; uses nothing else of the crate.

use std::{fmt, str::FromStr};

use chrono::{Datelike, Duration, FixedOffset, NaiveDate, Utc, Weekday};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A calendar day in `YYYYMMDD` form, between 1990 and 2099 (the A-share market opened in 1990).
///
/// Whether the exchange traded that day is the calendar's business, not this type's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TradeDate(NaiveDate);

/// Why a text is not a trade date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a date in YYYYMMDD form between 19900101 and 20991231")]
pub struct InvalidDate {
    /// The rejected text.
    pub text: String,
}

impl TradeDate {
    /// Parses `YYYYMMDD`: exactly eight ASCII digits naming a real day between 1990 and 2099.
    pub fn parse(text: &str) -> Result<TradeDate, InvalidDate> {
        let invalid = || InvalidDate { text: text.to_owned() };
        if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let date = NaiveDate::parse_from_str(text, "%Y%m%d").map_err(|_| invalid())?;
        if !(1990..=2099).contains(&date.year()) {
            return Err(invalid());
        }
        Ok(TradeDate(date))
    }

    /// The date from its parts; `None` when they name no real day in 1990..=2099.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<TradeDate> {
        let date = NaiveDate::from_ymd_opt(year, month, day)?;
        (1990..=2099).contains(&year).then_some(TradeDate(date))
    }

    /// Today in Asia/Shanghai (UTC+8 all year: China has kept no daylight saving time since 1991).
    pub fn today_in_shanghai() -> TradeDate {
        let shanghai = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
        TradeDate(Utc::now().with_timezone(&shanghai).date_naive())
    }

    /// The underlying calendar day.
    pub fn naive(self) -> NaiveDate {
        self.0
    }

    /// Calendar days from `earlier` to `self` (negative when `earlier` is later).
    pub fn days_since(self, earlier: TradeDate) -> i64 {
        (self.0 - earlier.0).num_days()
    }

    /// The day `days` calendar days before this one (clamped to 1990-01-01).
    pub fn minus_days(self, days: u32) -> TradeDate {
        let floor = NaiveDate::from_ymd_opt(1990, 1, 1).expect("a real day");
        TradeDate((self.0 - Duration::days(i64::from(days))).max(floor))
    }

    /// The next calendar day, or `None` after 2099-12-31.
    pub fn next_day(self) -> Option<TradeDate> {
        let next = self.0.succ_opt()?;
        (next.year() <= 2099).then_some(TradeDate(next))
    }

    /// Saturday or Sunday.
    pub fn is_weekend(self) -> bool {
        matches!(self.0.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// `YYYY-MM-DD`, for subjects and pages.
    pub fn iso(self) -> String {
        self.0.format("%Y-%m-%d").to_string()
    }

    /// `YYYYMM`, the month the site groups a day under.
    pub fn month_key(self) -> String {
        self.0.format("%Y%m").to_string()
    }
}

impl fmt::Display for TradeDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y%m%d"))
    }
}

impl FromStr for TradeDate {
    type Err = InvalidDate;

    fn from_str(text: &str) -> Result<TradeDate, InvalidDate> {
        TradeDate::parse(text)
    }
}

impl Serialize for TradeDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TradeDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<TradeDate, D::Error> {
        let text = String::deserialize(deserializer)?;
        TradeDate::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_real_days_and_prints_them_back() {
        let date = TradeDate::parse("20261127").unwrap();
        assert_eq!(date.to_string(), "20261127");
        assert_eq!(date.iso(), "2026-11-27");
        assert_eq!(date.month_key(), "202611");
    }

    #[test]
    fn parse_rejects_what_is_not_a_real_day() {
        for text in
            ["", "2026112", "202611270", "20261131", "2026-11-27", "1989123a", "19891231", "21000101", "+2026112"]
        {
            let err = TradeDate::parse(text).unwrap_err();
            assert!(err.to_string().contains("YYYYMMDD"), "{text}: {err}");
        }
    }

    #[test]
    fn days_since_counts_calendar_days() {
        let from = TradeDate::parse("20261103").unwrap();
        let to = TradeDate::parse("20261127").unwrap();
        assert_eq!(to.days_since(from), 24);
        assert_eq!(to.minus_days(24), from);
    }
}

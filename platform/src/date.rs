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
        let bytes = text.as_bytes();
        if bytes.len() != 8 || !bytes.iter().all(u8::is_ascii_digit) {
            return Err(invalid());
        }
        // By hand rather than chrono's `parse_from_str`: a day page reads thousands of dates.
        let number = |digits: &[u8]| digits.iter().fold(0, |acc, digit| acc * 10 + u32::from(digit - b'0'));
        let year = number(&bytes[..4]) as i32;
        if !(1990..=2099).contains(&year) {
            return Err(invalid());
        }
        let date = NaiveDate::from_ymd_opt(year, number(&bytes[4..6]), number(&bytes[6..])).ok_or_else(invalid)?;
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
        deserializer.deserialize_str(DateVisitor)
    }
}

/// Reads a date from the text as it lies in the input, without copying it into a `String` first.
struct DateVisitor;

impl serde::de::Visitor<'_> for DateVisitor {
    type Value = TradeDate;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a date as YYYYMMDD")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<TradeDate, E> {
        TradeDate::parse(text).map_err(E::custom)
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

    /// The hand-written parse agrees with chrono's on every month and day number of 1989 to 2100,
    /// real or not (31 February, 0 January, 29 February of a common year).
    #[test]
    fn parse_agrees_with_chrono_on_every_day_number_of_every_month() {
        for year in 1989..=2100 {
            for month in 0..=13 {
                for day in 0..=32 {
                    let text = format!("{year:04}{month:02}{day:02}");
                    let chrono =
                        NaiveDate::parse_from_str(&text, "%Y%m%d").ok().filter(|it| (1990..=2099).contains(&it.year()));
                    assert_eq!(TradeDate::parse(&text).ok().map(|it| it.0), chrono, "{text}");
                }
            }
        }
    }

    #[test]
    fn a_date_reads_from_json_text_and_a_bad_one_names_itself() {
        let dates: Vec<TradeDate> = serde_json::from_str(r#"["20261127", "20240229"]"#).unwrap();
        assert_eq!(dates.iter().map(ToString::to_string).collect::<Vec<_>>(), ["20261127", "20240229"]);
        let err = serde_json::from_str::<TradeDate>(r#""20230229""#).unwrap_err().to_string();
        assert!(err.contains("20230229") && err.contains("YYYYMMDD"), "{err}");
        let err = serde_json::from_str::<TradeDate>("20261127").unwrap_err().to_string();
        assert!(err.contains("a date as YYYYMMDD"), "{err}");
    }

    #[test]
    fn days_since_counts_calendar_days() {
        let from = TradeDate::parse("20261103").unwrap();
        let to = TradeDate::parse("20261127").unwrap();
        assert_eq!(to.days_since(from), 24);
        assert_eq!(to.minus_days(24), from);
    }
}

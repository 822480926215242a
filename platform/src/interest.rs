//! What a subscriber wants mailed: every trading day, only the days with a BUY or SELL, or only
//! the days one of a few chosen funds signals. Parsed once at the edge (the subscribe API), from
//! a `frequency` and a list of `funds`.
//!
//! Domain; uses [`crate::fund`] only.

use crate::fund::FundCode;

/// The most funds one subscription may name. SNS allows 150 value combinations in a filter
/// policy, and a policy on funds alone has one combination per fund.
pub const MAX_FUNDS: usize = 50;

/// A subscriber's choice of days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interest {
    /// Every trading day's report (the default, and what a subscriber without a choice gets).
    EveryDay,
    /// Only the days on which some fund has a BUY or SELL.
    SignalDays,
    /// Only the days on which one of these funds has a BUY or SELL.
    FundSignals(FundChoice),
}

/// The funds of [`Interest::FundSignals`]: 1 to [`MAX_FUNDS`] codes of the fund list, sorted,
/// each once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundChoice(Vec<FundCode>);

/// How often a subscriber wants mail, as the subscribe form and API name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    /// `daily`: every trading day.
    Daily,
    /// `signals`: only days with a BUY or SELL.
    Signals,
}

/// Why a choice cannot be taken. Each message starts with the field it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidInterest {
    /// The frequency is neither `daily` nor `signals`.
    #[error("frequency {text:?} is not one of \"daily\", \"signals\"")]
    Frequency { text: String },
    /// A fund is not a security code.
    #[error("funds: {text:?} is not a fund code like 510300.SH")]
    NotACode { text: String },
    /// A fund is not on the fund list.
    #[error("funds: {code} is not on the fund list")]
    UnknownFund { code: FundCode },
    /// More than [`MAX_FUNDS`] distinct funds.
    #[error("funds: {count} funds were chosen, at most {MAX_FUNDS} are allowed")]
    TooManyFunds { count: usize },
    /// Funds together with `daily`, which would mail every day whatever the funds do.
    #[error(
        "funds: choosing funds means mail only on days one of them has a BUY or SELL, which frequency \"daily\" \
         contradicts; choose frequency \"signals\" with funds, or no funds for every day"
    )]
    FundsWithDaily,
}

impl Frequency {
    /// `daily` or `signals`, as they are written.
    pub fn parse(text: &str) -> Result<Frequency, InvalidInterest> {
        match text.trim() {
            "daily" => Ok(Frequency::Daily),
            "signals" => Ok(Frequency::Signals),
            _ => Err(InvalidInterest::Frequency { text: text.to_owned() }),
        }
    }

    /// The name the form and the API use.
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Daily => "daily",
            Frequency::Signals => "signals",
        }
    }
}

impl Interest {
    /// Reads a choice: `frequency` (`None`: `daily`, unless funds are given) and `funds`, each a
    /// code on `fund_list` (a bare `510300` gets its exchange). No funds (an empty list) is no
    /// restriction; funds with `signals` or with no frequency restrict the mail to those funds' signals.
    pub fn parse(frequency: Option<&str>, funds: &[&str], fund_list: &[FundCode]) -> Result<Interest, InvalidInterest> {
        let frequency = frequency.map(Frequency::parse).transpose()?;
        let mut codes = Vec::with_capacity(funds.len());
        for text in funds {
            let Ok(code) = FundCode::parse(text) else {
                return Err(InvalidInterest::NotACode { text: (*text).to_owned() });
            };
            if !fund_list.contains(&code) {
                return Err(InvalidInterest::UnknownFund { code });
            }
            codes.push(code);
        }
        codes.sort();
        codes.dedup();
        if codes.len() > MAX_FUNDS {
            return Err(InvalidInterest::TooManyFunds { count: codes.len() });
        }
        match (frequency, codes.is_empty()) {
            (None | Some(Frequency::Daily), true) => Ok(Interest::EveryDay),
            (Some(Frequency::Signals), true) => Ok(Interest::SignalDays),
            (Some(Frequency::Daily), false) => Err(InvalidInterest::FundsWithDaily),
            (None | Some(Frequency::Signals), false) => Ok(Interest::FundSignals(FundChoice(codes))),
        }
    }

    /// The frequency this choice is written with.
    pub fn frequency(&self) -> Frequency {
        match self {
            Interest::EveryDay => Frequency::Daily,
            Interest::SignalDays | Interest::FundSignals(_) => Frequency::Signals,
        }
    }

    /// The chosen funds; empty unless [`Interest::FundSignals`].
    pub fn funds(&self) -> &[FundCode] {
        match self {
            Interest::EveryDay | Interest::SignalDays => &[],
            Interest::FundSignals(choice) => choice.codes(),
        }
    }
}

impl FundChoice {
    /// The codes, sorted.
    pub fn codes(&self) -> &[FundCode] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fund_list() -> Vec<FundCode> {
        ["510300.SH", "510500.SH", "159915.SZ"].iter().map(|it| FundCode::parse(it).unwrap()).collect()
    }

    fn check(frequency: Option<&str>, funds: &[&str]) -> Result<Interest, InvalidInterest> {
        Interest::parse(frequency, funds, &fund_list())
    }

    #[test]
    fn no_choice_is_every_day_and_signals_alone_is_signal_days() {
        assert_eq!(check(None, &[]), Ok(Interest::EveryDay));
        assert_eq!(check(Some("daily"), &[]), Ok(Interest::EveryDay));
        assert_eq!(check(Some("signals"), &[]), Ok(Interest::SignalDays));
        assert_eq!(check(Some("signals"), &[]).unwrap().frequency().as_str(), "signals");
        assert!(check(Some("signals"), &[]).unwrap().funds().is_empty());
    }

    #[test]
    fn funds_are_parsed_sorted_and_counted_once() {
        let interest = check(Some("signals"), &["510500.SH", "510300", "510300.sh", "159915.SZ"]).unwrap();
        let codes: Vec<&str> = interest.funds().iter().map(FundCode::as_str).collect();
        assert_eq!(codes, ["159915.SZ", "510300.SH", "510500.SH"]);
        assert_eq!(interest.frequency(), Frequency::Signals);
        assert_eq!(check(None, &["510300.SH"]).unwrap().funds().len(), 1, "funds alone mean their signals");
    }

    #[test]
    fn each_refusal_names_its_field_and_the_offending_value() {
        let cases: [(Option<&str>, &[&str], &str); 5] = [
            (Some("weekly"), &[], "frequency \"weekly\" is not one of"),
            (Some(""), &[], "frequency \"\""),
            (Some("signals"), &["510300.SH", "abc"], "funds: \"abc\" is not a fund code"),
            (Some("signals"), &["600000.SH"], "funds: 600000.SH is not on the fund list"),
            (Some("daily"), &["510300.SH"], "funds: choosing funds"),
        ];
        for (frequency, funds, message) in cases {
            let err = check(frequency, funds).unwrap_err();
            assert!(err.to_string().starts_with(message), "{frequency:?} {funds:?}: {err}");
        }
    }

    #[test]
    fn at_most_fifty_distinct_funds_may_be_chosen() {
        let many: Vec<String> = (0..=MAX_FUNDS).map(|n| format!("{:06}.SH", 510000 + n)).collect();
        let fund_list: Vec<FundCode> = many.iter().map(|it| FundCode::parse(it).unwrap()).collect();
        let texts: Vec<&str> = many.iter().map(String::as_str).collect();
        let fifty = Interest::parse(Some("signals"), &texts[..MAX_FUNDS], &fund_list).unwrap();
        assert_eq!(fifty.funds().len(), MAX_FUNDS);
        let mut repeated = texts[..MAX_FUNDS].to_vec();
        repeated.extend_from_slice(&texts[..10]);
        assert!(Interest::parse(Some("signals"), &repeated, &fund_list).is_ok(), "a repeat is not another fund");
        let err = Interest::parse(Some("signals"), &texts, &fund_list).unwrap_err();
        assert_eq!(err, InvalidInterest::TooManyFunds { count: 51 });
        assert_eq!(err.to_string(), "funds: 51 funds were chosen, at most 50 are allowed");
    }
}

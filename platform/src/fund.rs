//! Funds and the fund list: which securities a run covers, in the order reports list them.
//!
//! Domain; uses nothing else of the crate.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The fund list bundled with the job: well-known A-share ETFs.
pub const BUNDLED_FUNDS: &str = include_str!("../funds.csv");

/// An exchange security code with its market suffix, e.g. `510300.SH`.
///
/// Six digits and `.SH`, `.SZ` or `.BJ`. A bare six-digit code gets its suffix by the exchanges'
/// numbering rules: 5 and 6 are Shanghai (funds, main board, STAR), 0 to 3 Shenzhen (main board,
/// funds, ChiNext), 4, 8 and 92 Beijing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FundCode(String);

/// What kind of security a code names; it decides which Tushare APIs serve it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityKind {
    /// An exchange-traded fund (ETF or LOF): `fund_daily` and `fund_adj`.
    Fund,
    /// A stock: `daily` and `adj_factor`.
    Stock,
}

/// Why a text is not a security code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a security code like 510300.SH (six digits, then .SH, .SZ or .BJ)")]
pub struct InvalidCode {
    /// The rejected text.
    pub text: String,
}

impl FundCode {
    /// Parses `510300.SH`, or a bare `510300` whose exchange follows from its first digits.
    pub fn parse(text: &str) -> Result<FundCode, InvalidCode> {
        let invalid = || InvalidCode { text: text.to_owned() };
        let upper = text.trim().to_ascii_uppercase();
        let (digits, suffix) = match upper.split_once('.') {
            Some((digits, suffix)) => (digits, Some(suffix)),
            None => (upper.as_str(), None),
        };
        if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let exchange = match suffix {
            Some(it @ ("SH" | "SZ" | "BJ")) => it,
            Some(_) => return Err(invalid()),
            None => exchange_of(digits).ok_or_else(invalid)?,
        };
        Ok(FundCode(format!("{digits}.{exchange}")))
    }

    /// Funds are Shanghai codes starting with 5 and Shenzhen codes starting with 1; the rest are stocks.
    pub fn kind(&self) -> SecurityKind {
        let first = self.0.as_bytes()[0];
        match (&self.0[7..], first) {
            ("SH", b'5') | ("SZ", b'1') => SecurityKind::Fund,
            _ => SecurityKind::Stock,
        }
    }
}

fn exchange_of(digits: &str) -> Option<&'static str> {
    match digits.as_bytes()[0] {
        b'5' | b'6' => Some("SH"),
        b'0' | b'1' | b'2' | b'3' => Some("SZ"),
        b'4' | b'8' => Some("BJ"),
        b'9' if digits.starts_with("92") => Some("BJ"),
        b'9' => Some("SH"),
        _ => None,
    }
}

crate::text::checked_text!(FundCode);

impl Serialize for FundCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for FundCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<FundCode, D::Error> {
        let text = String::deserialize(deserializer)?;
        FundCode::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A fund the job covers: its code and the name reports show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fund {
    /// The security code.
    pub code: FundCode,
    /// The display name, e.g. `300ETF`; any text without line breaks.
    pub name: String,
}

/// Why a fund list cannot be used. Line numbers count from 1, as editors show them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FundListError {
    /// A line is not `CODE,NAME`.
    #[error("line {line} is not CODE,NAME: {text:?}")]
    NotCodeName { line: usize, text: String },
    /// The code part is not a security code.
    #[error("line {line}: {source}")]
    BadCode { line: usize, source: InvalidCode },
    /// The same code twice.
    #[error("line {line}: {code} is already listed on line {first_line}")]
    Duplicate { line: usize, code: FundCode, first_line: usize },
    /// No fund at all.
    #[error("the list names no fund")]
    Empty,
}

/// Parses a fund list: one `CODE,NAME` per line; blank lines and lines starting with `#` are skipped.
///
/// The order is kept: reports list funds in this order.
pub fn parse_fund_list(text: &str) -> Result<Vec<Fund>, FundListError> {
    let mut funds: Vec<(Fund, usize)> = Vec::new();
    for (line_idx, raw) in text.lines().enumerate() {
        let line = line_idx + 1;
        let trimmed = raw.trim().trim_start_matches('\u{feff}');
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let not_code_name = || FundListError::NotCodeName { line, text: raw.to_owned() };
        let Some((code, name)) = trimmed.split_once(',') else {
            return Err(not_code_name());
        };
        let name = name.trim();
        if name.is_empty() || name.contains(',') {
            return Err(not_code_name());
        }
        let code = FundCode::parse(code).map_err(|source| FundListError::BadCode { line, source })?;
        if let Some((_, first_line)) = funds.iter().find(|(fund, _)| fund.code == code) {
            return Err(FundListError::Duplicate { line, code, first_line: *first_line });
        }
        funds.push((Fund { code, name: name.to_owned() }, line));
    }
    if funds.is_empty() {
        return Err(FundListError::Empty);
    }
    Ok(funds.into_iter().map(|(fund, _)| fund).collect())
}

/// The bundled fund list.
pub fn bundled_funds() -> Vec<Fund> {
    parse_fund_list(BUNDLED_FUNDS).expect("the bundled fund list is checked by a test")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_get_their_exchange_from_their_digits() {
        let check = |text: &str, want: &str| assert_eq!(FundCode::parse(text).unwrap().as_str(), want, "{text}");
        check("510300.SH", "510300.SH");
        check("510300", "510300.SH");
        check("159915", "159915.SZ");
        check("600519", "600519.SH");
        check("688981", "688981.SH");
        check("000001", "000001.SZ");
        check("300750", "300750.SZ");
        check("830799", "830799.BJ");
        check(" 512880.sh ", "512880.SH");
    }

    #[test]
    fn codes_that_are_not_six_digits_and_a_market_are_rejected() {
        for text in ["", "51030", "5103000", "510300.HK", "51030X.SH", "510300.", "710300"] {
            assert!(FundCode::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn funds_and_stocks_are_told_apart_by_code() {
        let kind = |text: &str| FundCode::parse(text).unwrap().kind();
        assert_eq!(kind("510300.SH"), SecurityKind::Fund);
        assert_eq!(kind("159915.SZ"), SecurityKind::Fund);
        assert_eq!(kind("600519.SH"), SecurityKind::Stock);
        assert_eq!(kind("002594.SZ"), SecurityKind::Stock);
    }

    #[test]
    fn the_bundled_list_has_at_least_forty_funds() {
        let funds = bundled_funds();
        assert!(funds.len() >= 40, "{}", funds.len());
        assert!(funds.iter().all(|fund| fund.code.kind() == SecurityKind::Fund));
    }

    #[test]
    fn a_bad_line_is_named_by_its_number() {
        let err = parse_fund_list("# funds\n510300.SH,300ETF\n\n510500.SH 500ETF\n").unwrap_err();
        assert_eq!(err.to_string(), "line 4 is not CODE,NAME: \"510500.SH 500ETF\"");
        let err = parse_fund_list("510300.SH,300ETF\nABC,x\n").unwrap_err();
        assert!(err.to_string().starts_with("line 2: \"ABC\" is not a security code"), "{err}");
        let err = parse_fund_list("510300.SH,300ETF\n510300,again\n").unwrap_err();
        assert_eq!(err.to_string(), "line 2: 510300.SH is already listed on line 1");
        assert_eq!(parse_fund_list("# nothing\n").unwrap_err(), FundListError::Empty);
    }
}

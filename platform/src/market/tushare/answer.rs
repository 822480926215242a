//! The wire protocol: one answer's JSON (`{"code", "msg", "data": {"fields", "items", "has_more"}}`)
//! as a [`Table`] read by field name, and the codes that classify its errors.

use std::fmt;

use serde::Deserialize;
use serde_json::Value;

use super::error::TushareError;
use crate::date::TradeDate;

/// The Tushare code of a rate-limit answer (`抱歉，您每分钟最多访问该接口N次`).
pub const CODE_RATE_LIMIT: i64 = 40203;

/// The Tushare code of a bad token (`您的token不对，请确认。`).
pub const CODE_BAD_TOKEN: i64 = -2001;

/// One answer's table: field names and rows, read by name.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The API that answered.
    pub api: String,
    /// Field names, in the answer's order.
    pub fields: Vec<String>,
    /// Rows, each with one value per field.
    pub items: Vec<Vec<Value>>,
}

impl Table {
    /// The position of `field`, or a typed error when the answer lacks it.
    pub fn column(&self, field: &'static str) -> Result<usize, TushareError> {
        self.fields
            .iter()
            .position(|it| it == field)
            .ok_or_else(|| TushareError::MissingField { api: self.api.clone(), field })
    }

    /// Row `row`'s value at `column` (`Null` when the row is short).
    pub fn value(&self, row: usize, column: usize) -> &Value {
        self.items[row].get(column).unwrap_or(&Value::Null)
    }

    /// A date field: `YYYYMMDD` as text (or as a number).
    pub fn date(&self, row: usize, column: usize, field: &'static str) -> Result<TradeDate, TushareError> {
        let value = self.value(row, column);
        let text = match value {
            Value::String(it) => it.clone(),
            Value::Number(it) => it.to_string(),
            _ => String::new(),
        };
        TradeDate::parse(&text).map_err(|_| self.bad_value(row, field, value, "a YYYYMMDD date"))
    }

    /// A number field: `None` when null; a typed error when it is something else.
    pub fn number(&self, row: usize, column: usize, field: &'static str) -> Result<Option<f64>, TushareError> {
        match self.value(row, column) {
            Value::Null => Ok(None),
            Value::Number(it) => it.as_f64().map(Some).ok_or_else(|| self.bad_value(row, field, it, "a number")),
            Value::String(it) if it.trim().parse::<f64>().is_ok() => Ok(it.trim().parse().ok()),
            other => Err(self.bad_value(row, field, other, "a number")),
        }
    }

    fn bad_value(
        &self,
        row: usize,
        field: &'static str,
        value: &impl fmt::Display,
        expected: &'static str,
    ) -> TushareError {
        TushareError::BadValue { api: self.api.clone(), field, row, value: value.to_string(), expected }
    }
}

/// One answer: its table and whether more pages follow.
pub(super) struct Page {
    pub(super) table: Table,
    pub(super) has_more: bool,
}

#[derive(Deserialize)]
struct Answer {
    code: i64,
    #[serde(default)]
    msg: Option<String>,
    #[serde(default)]
    data: Option<AnswerData>,
}

#[derive(Deserialize)]
struct AnswerData {
    fields: Vec<String>,
    items: Vec<Vec<Value>>,
    #[serde(default)]
    has_more: bool,
}

/// Reads one answer; `secret` (the token) is masked in any server message that quotes it.
pub(super) fn parse_answer(api: &str, bytes: &[u8], secret: &str) -> Result<Page, TushareError> {
    let answer: Answer = serde_json::from_slice(bytes)
        .map_err(|err| TushareError::Malformed { api: api.to_owned(), reason: err.to_string() })?;
    if answer.code != 0 {
        // A server message could quote the request; the token never leaves this function.
        let message = answer.msg.unwrap_or_default().replace(secret, "<token>");
        let code = answer.code;
        let token_error = code == CODE_BAD_TOKEN || code == -2002 || message.to_ascii_lowercase().contains("token");
        if token_error {
            return Err(TushareError::Token { code, message });
        }
        if code == CODE_RATE_LIMIT || message.contains("每分钟最多访问") {
            return Err(TushareError::RateLimited { api: api.to_owned(), code, message });
        }
        return Err(TushareError::Api { api: api.to_owned(), code, message });
    }
    let Some(data) = answer.data else {
        return Err(TushareError::NoData { api: api.to_owned() });
    };
    Ok(Page { table: Table { api: api.to_owned(), fields: data.fields, items: data.items }, has_more: data.has_more })
}

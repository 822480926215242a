//! A message's attributes: what subscribers' filter policies are matched against. SNS carries
//! them as `MessageAttributes` of the `Publish`; the outbox matches them itself.
//!
//! The day's message has two: [`SIGNAL_DAY`] (`"true"` when some fund has a BUY or SELL) and
//! [`SIGNAL_FUNDS`] (those funds' codes, or [`NO_SIGNAL_FUNDS`] alone on a day without).

use std::collections::BTreeMap;

use crate::fund::FundCode;

/// Attribute name: `"true"` on a day with a BUY or SELL, else `"false"` (SNS type `String`).
pub const SIGNAL_DAY: &str = "signal_day";
/// Attribute name: the codes of the funds with a BUY or SELL (SNS type `String.Array`).
pub const SIGNAL_FUNDS: &str = "signal_funds";
/// The one element of [`SIGNAL_FUNDS`] on a day without a BUY or SELL: SNS refuses an empty
/// array, and no fund code is written like this, so no policy on funds matches it.
pub const NO_SIGNAL_FUNDS: &str = "none";

/// The attributes of a message, by name; none by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageAttributes(BTreeMap<String, AttributeValue>);

/// One attribute's value, in the two SNS data types this service uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeValue {
    /// SNS `String`.
    String(String),
    /// SNS `String.Array`: sent as the JSON text of an array of strings.
    StringArray(Vec<String>),
}

impl MessageAttributes {
    /// The attributes of a day's report whose BUY and SELL funds are `signal_funds`.
    pub fn for_day(signal_funds: &[FundCode]) -> MessageAttributes {
        let day = if signal_funds.is_empty() { "false" } else { "true" };
        let mut codes: Vec<String> = signal_funds.iter().map(|it| it.as_str().to_owned()).collect();
        if codes.is_empty() {
            codes.push(NO_SIGNAL_FUNDS.to_owned());
        }
        MessageAttributes(BTreeMap::from([
            (SIGNAL_DAY.to_owned(), AttributeValue::String(day.to_owned())),
            (SIGNAL_FUNDS.to_owned(), AttributeValue::StringArray(codes)),
        ]))
    }

    /// The attribute `name`, if the message has it.
    pub fn get(&self, name: &str) -> Option<&AttributeValue> {
        self.0.get(name)
    }

    /// Every attribute, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &AttributeValue)> {
        self.0.iter().map(|(name, value)| (name.as_str(), value))
    }

    /// No attribute at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The bytes SNS counts against a message's size limit for these attributes: every name,
    /// data type and value ("all parts of the message attribute", in SNS's words).
    pub fn size_bytes(&self) -> usize {
        self.0.iter().map(|(name, value)| name.len() + value.data_type().len() + value.string_value().len()).sum()
    }
}

impl AttributeValue {
    /// The SNS `DataType`: `String` or `String.Array`.
    pub fn data_type(&self) -> &'static str {
        match self {
            AttributeValue::String(_) => "String",
            AttributeValue::StringArray(_) => "String.Array",
        }
    }

    /// The SNS `StringValue`: the string, or the array as JSON text (`["510300.SH","510500.SH"]`).
    pub fn string_value(&self) -> String {
        match self {
            AttributeValue::String(value) => value.clone(),
            AttributeValue::StringArray(values) => {
                serde_json::to_string(values).expect("a list of strings always serializes")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_with_signals_names_its_funds_and_a_day_without_names_none() {
        let codes = [FundCode::parse("510300.SH").unwrap(), FundCode::parse("159915.SZ").unwrap()];
        let with = MessageAttributes::for_day(&codes);
        assert_eq!(with.get(SIGNAL_DAY), Some(&AttributeValue::String("true".to_owned())));
        let funds = with.get(SIGNAL_FUNDS).unwrap();
        assert_eq!(funds.data_type(), "String.Array");
        assert_eq!(funds.string_value(), r#"["510300.SH","159915.SZ"]"#);

        let without = MessageAttributes::for_day(&[]);
        assert_eq!(without.get(SIGNAL_DAY).unwrap().string_value(), "false");
        assert_eq!(without.get(SIGNAL_DAY).unwrap().data_type(), "String");
        assert_eq!(without.get(SIGNAL_FUNDS).unwrap().string_value(), r#"["none"]"#);
        assert_eq!(without.iter().count(), 2);
        assert!(MessageAttributes::default().is_empty());
        // "signal_day" "String" "false" + "signal_funds" "String.Array" "[\"none\"]"
        assert_eq!(without.size_bytes(), 10 + 6 + 5 + 12 + 12 + 8);
        assert_eq!(MessageAttributes::default().size_bytes(), 0);
    }
}

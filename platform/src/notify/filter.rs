//! SNS subscription filter policies (scope `MessageAttributes`), the subset this service uses, and
//! their matching: the one implementation, for the policy an SNS subscription carries and for the
//! local outbox, which must deliver exactly what SNS would.
//!
//! The subset: a JSON object of 1 to 5 attribute names, each with a list of exact strings. A name
//! matches when the message has that attribute and its `String` value, or any element of its
//! `String.Array` value, is one of the strings; the policy matches when every name does (names
//! are ANDed, values ORed). Anything else SNS knows (`prefix`, `anything-but`, numbers, `exists`,
//! `$or`, nested keys) is refused with an error naming it, never guessed at.

use std::collections::BTreeMap;

use serde_json::Value;

use super::attributes::{AttributeValue, MessageAttributes, SIGNAL_DAY, SIGNAL_FUNDS};
use crate::interest::Interest;

/// The subscription attribute `FilterPolicyScope` that goes with every policy made here.
pub const FILTER_POLICY_SCOPE: &str = "MessageAttributes";
/// SNS's limit on attribute names in one policy.
pub const MAX_KEYS: usize = 5;
/// SNS's limit on value combinations (the product of each name's number of values).
pub const MAX_COMBINATIONS: usize = 150;
/// SNS's limit on a policy's size, in bytes of JSON.
pub const MAX_POLICY_BYTES: usize = 256 * 1024;

/// A filter policy: for each attribute name, the strings that match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterPolicy(BTreeMap<String, Vec<String>>);

/// Why a text is not a filter policy this service can match.
#[derive(Debug, thiserror::Error)]
pub enum FilterPolicyError {
    /// Not JSON at all.
    #[error("filter policy {policy:?} is not JSON")]
    NotJson { policy: String, source: serde_json::Error },
    /// JSON, but not an object with at least one attribute name.
    #[error("filter policy {policy} is not a JSON object of attribute names")]
    NotAnObject { policy: String },
    /// A name or its value uses what this service does not match.
    #[error("filter policy key {key:?} with {value} is not supported: only a list of exact strings is")]
    Unsupported { key: String, value: String },
    /// Over [`MAX_KEYS`] names.
    #[error("filter policy has {count} attribute names, SNS allows {MAX_KEYS}")]
    TooManyKeys { count: usize },
    /// Over [`MAX_COMBINATIONS`] combinations.
    #[error("filter policy has {count} value combinations, SNS allows {MAX_COMBINATIONS}")]
    TooManyCombinations { count: usize },
    /// Over [`MAX_POLICY_BYTES`].
    #[error("filter policy is {bytes} bytes, SNS allows {MAX_POLICY_BYTES}")]
    TooLarge { bytes: usize },
}

impl FilterPolicy {
    /// The policy of a subscriber's choice; `None` for every day (no policy: every message).
    ///
    /// The SNS adapter sends its JSON ([`FilterPolicy::to_json`]) as the subscription's
    /// `FilterPolicy`, the local registry stores the same JSON.
    pub fn for_interest(interest: &Interest) -> Option<FilterPolicy> {
        let (key, values) = match interest {
            Interest::EveryDay => return None,
            Interest::SignalDays => (SIGNAL_DAY, vec!["true".to_owned()]),
            Interest::FundSignals(choice) => {
                (SIGNAL_FUNDS, choice.codes().iter().map(|it| it.as_str().to_owned()).collect())
            }
        };
        Some(FilterPolicy(BTreeMap::from([(key.to_owned(), values)])))
    }

    /// Reads a policy's JSON text, as SNS stores it.
    pub fn parse(policy: &str) -> Result<FilterPolicy, FilterPolicyError> {
        match serde_json::from_str::<Value>(policy) {
            Ok(value) => FilterPolicy::from_json_value(&value),
            Err(source) => Err(FilterPolicyError::NotJson { policy: policy.to_owned(), source }),
        }
    }

    /// Reads a policy already parsed as JSON.
    pub fn from_json_value(policy: &Value) -> Result<FilterPolicy, FilterPolicyError> {
        let text = policy.to_string();
        if text.len() > MAX_POLICY_BYTES {
            return Err(FilterPolicyError::TooLarge { bytes: text.len() });
        }
        let Some(object) = policy.as_object().filter(|it| !it.is_empty()) else {
            return Err(FilterPolicyError::NotAnObject { policy: text });
        };
        if object.len() > MAX_KEYS {
            return Err(FilterPolicyError::TooManyKeys { count: object.len() });
        }
        let mut keys = BTreeMap::new();
        let mut combinations: usize = 1;
        for (key, value) in object {
            let unsupported = || FilterPolicyError::Unsupported { key: key.clone(), value: value.to_string() };
            // `$or` and the like are operators, not attribute names.
            if key.is_empty() || key.starts_with('$') {
                return Err(unsupported());
            }
            let Some(items) = value.as_array().filter(|it| !it.is_empty()) else {
                return Err(unsupported());
            };
            let mut strings = Vec::with_capacity(items.len());
            for item in items {
                let Some(text) = item.as_str() else {
                    return Err(unsupported());
                };
                strings.push(text.to_owned());
            }
            combinations = combinations.saturating_mul(strings.len());
            keys.insert(key.clone(), strings);
        }
        if combinations > MAX_COMBINATIONS {
            return Err(FilterPolicyError::TooManyCombinations { count: combinations });
        }
        Ok(FilterPolicy(keys))
    }

    /// The policy as compact JSON, names in order: `{"signal_day":["true"]}`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).expect("a map of string lists always serializes")
    }

    /// The policy as a JSON value (how the local registry stores it).
    pub fn to_json_value(&self) -> Value {
        serde_json::to_value(&self.0).expect("a map of string lists always serializes")
    }

    /// Whether SNS would deliver a message with `attributes` to a subscription with this policy.
    pub fn matches(&self, attributes: &MessageAttributes) -> bool {
        self.0.iter().all(|(key, wanted)| match attributes.get(key) {
            Some(AttributeValue::String(value)) => wanted.contains(value),
            Some(AttributeValue::StringArray(values)) => values.iter().any(|it| wanted.contains(it)),
            None => false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fund::FundCode;

    fn codes(texts: &[&str]) -> Vec<FundCode> {
        texts.iter().map(|it| FundCode::parse(it).unwrap()).collect()
    }

    /// A day's attributes when `signal` funds have a BUY or SELL.
    fn day(signal: &[&str]) -> MessageAttributes {
        MessageAttributes::for_day(&codes(signal))
    }

    fn policy(json: &str) -> FilterPolicy {
        FilterPolicy::parse(json).unwrap_or_else(|err| panic!("{json}: {err}"))
    }

    #[test]
    fn the_policies_of_the_choices_are_the_json_sns_gets() {
        let fund_list = codes(&["510300.SH", "510500.SH", "159915.SZ"]);
        let check = |frequency: Option<&str>, funds: &[&str], want: Option<&str>| {
            let interest = Interest::parse(frequency, funds, &fund_list).unwrap();
            let json = FilterPolicy::for_interest(&interest).map(|it| it.to_json());
            assert_eq!(json.as_deref(), want, "{frequency:?} {funds:?}");
        };
        check(Some("daily"), &[], None);
        check(Some("signals"), &[], Some(r#"{"signal_day":["true"]}"#));
        check(Some("signals"), &["510500.SH", "159915.SZ"], Some(r#"{"signal_funds":["159915.SZ","510500.SH"]}"#));
    }

    #[test]
    fn the_policy_json_sent_to_sns_reads_back_and_matches_as_sns_does() {
        let fund_list = codes(&["510300.SH", "510500.SH", "159915.SZ"]);
        let signals = Interest::parse(Some("signals"), &[], &fund_list).unwrap();
        let funds = Interest::parse(Some("signals"), &["510500.SH", "159915.SZ"], &fund_list).unwrap();
        // The very text the SNS adapter sends as `FilterPolicy`, read back as the outbox reads it.
        let signals = FilterPolicy::parse(&FilterPolicy::for_interest(&signals).unwrap().to_json()).unwrap();
        let funds = FilterPolicy::parse(&FilterPolicy::for_interest(&funds).unwrap().to_json()).unwrap();

        assert!(signals.matches(&day(&["510300.SH"])));
        assert!(!signals.matches(&day(&[])), "a day without signals");
        assert!(funds.matches(&day(&["510500.SH"])));
        assert!(funds.matches(&day(&["510300.SH", "159915.SZ"])), "any one of the array's elements");
        assert!(!funds.matches(&day(&["510300.SH"])), "another fund's signal");
        assert!(!funds.matches(&day(&[])), "the placeholder matches no fund");
        for policy in [&signals, &funds] {
            assert!(!policy.matches(&MessageAttributes::default()), "a message without attributes");
        }
    }

    #[test]
    fn names_are_anded_and_values_ored() {
        let both = policy(r#"{"signal_day":["true"],"signal_funds":["510300.SH","510500.SH"]}"#);
        assert!(both.matches(&day(&["510500.SH"])));
        assert!(!both.matches(&day(&["159915.SZ"])), "signal_day matches, signal_funds does not");
        let day_false = policy(r#"{"signal_day":["false","maybe"]}"#);
        assert!(day_false.matches(&day(&[])));
        assert!(!day_false.matches(&day(&["510300.SH"])));
        let missing = policy(r#"{"signal_day":["true"],"other":["x"]}"#);
        assert!(!missing.matches(&day(&["510300.SH"])), "an attribute the message lacks never matches");
    }

    #[test]
    fn what_this_service_does_not_match_is_refused_naming_it() {
        let cases = [
            ("", "is not JSON"),
            ("[\"true\"]", "is not a JSON object"),
            ("{}", "is not a JSON object"),
            (r#"{"signal_day":"true"}"#, r#"key "signal_day" with "true" is not supported"#),
            (r#"{"signal_day":[]}"#, "key \"signal_day\" with [] is not supported"),
            (r#"{"signal_day":[true]}"#, "with [true] is not supported"),
            (r#"{"price":[{"numeric":[">",1]}]}"#, r#"key "price""#),
            (r#"{"signal_funds":[{"prefix":"51"}]}"#, "prefix"),
            (r#"{"signal_funds":[{"anything-but":"none"}]}"#, "anything-but"),
            (r#"{"signal_day":[{"exists":true}]}"#, "exists"),
            (r#"{"signal_day":[null]}"#, "[null]"),
            (r#"{"$or":[{"a":["b"]},{"c":["d"]}]}"#, r#"key "$or""#),
            (r#"{"report":{"signal_day":["true"]}}"#, r#"key "report""#),
        ];
        for (json, message) in cases {
            let err = FilterPolicy::parse(json).unwrap_err();
            assert!(err.to_string().contains(message), "{json}: {err}");
        }
    }

    #[test]
    fn sns_limits_hold_and_fifty_funds_are_within_them() {
        let six = r#"{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":["1"]}"#;
        assert!(matches!(FilterPolicy::parse(six), Err(FilterPolicyError::TooManyKeys { count: 6 })));
        let values = |n: usize| (0..n).map(|it| format!("\"{it}\"")).collect::<Vec<_>>().join(",");
        let product = format!(r#"{{"a":[{}],"b":[{}]}}"#, values(13), values(12));
        let err = FilterPolicy::parse(&product).unwrap_err();
        assert!(matches!(err, FilterPolicyError::TooManyCombinations { count: 156 }), "{err}");
        let huge = format!(r#"{{"a":["{}"]}}"#, "x".repeat(MAX_POLICY_BYTES));
        assert!(matches!(FilterPolicy::parse(&huge), Err(FilterPolicyError::TooLarge { .. })));

        let many: Vec<String> = (0..crate::interest::MAX_FUNDS).map(|n| format!("{:06}.SZ", 159000 + n)).collect();
        let fund_list = codes(&many.iter().map(String::as_str).collect::<Vec<_>>());
        let texts: Vec<&str> = many.iter().map(String::as_str).collect();
        let interest = Interest::parse(Some("signals"), &texts, &fund_list).unwrap();
        let json = FilterPolicy::for_interest(&interest).unwrap().to_json();
        let read = FilterPolicy::parse(&json).unwrap();
        assert!(read.matches(&day(&["159049.SZ"])));
        assert!(json.len() < 1000, "{} bytes", json.len());
    }

    #[test]
    fn the_json_value_form_is_the_same_policy() {
        let policy = policy(r#"{"signal_funds":["510300.SH"]}"#);
        assert_eq!(FilterPolicy::from_json_value(&policy.to_json_value()).unwrap(), policy);
        assert_eq!(policy.to_json_value().to_string(), policy.to_json());
    }
}

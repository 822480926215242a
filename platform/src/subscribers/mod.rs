//! The subscriber registry port: who receives the daily e-mail, and on which days. The SNS topic's
//! subscriptions in the cloud ([`SnsSubscribers`]); a JSON file locally ([`LocalSubscribers`]).
//! A subscriber's [`Interest`] is kept as the filter policy [`FilterPolicy::for_interest`] makes,
//! by both adapters.
//!
//! May use: [`crate::email`], [`crate::interest`], [`crate::notify::filter`] and the AWS SDK;
//! nothing of the report or the strategy.
//!
//! [`FilterPolicy::for_interest`]: crate::notify::FilterPolicy::for_interest

mod local;
mod outcome;
mod sns;

use std::path::Path;

pub use self::{
    local::LocalSubscribers,
    outcome::{Added, SubscribersError, Subscription},
    sns::SnsSubscribers,
};
use crate::{email::Email, interest::Interest};

/// The local registry's file name in the data folder, where the subscribe function adds to it and
/// the job's outbox reads it.
pub const LOCAL_FILE_NAME: &str = "subscribers.json";

/// The subscriber registry port.
#[derive(Debug, Clone)]
pub enum Subscribers {
    /// The e-mail subscriptions of an SNS topic.
    Sns(SnsSubscribers),
    /// A JSON file.
    Local(LocalSubscribers),
}

impl Subscribers {
    /// The e-mail subscriptions of the SNS topic `topic_arn`, through `client`
    /// (see [`crate::aws::AwsConfig::sns`]).
    pub fn sns(client: aws_sdk_sns::Client, topic_arn: &str) -> Subscribers {
        Subscribers::Sns(SnsSubscribers::new(client, topic_arn))
    }

    /// A registry in the file `path` (created on first subscription).
    pub fn local(path: &Path) -> Subscribers {
        Subscribers::Local(LocalSubscribers::new(path))
    }

    /// Subscribes `email` for the days of `interest`; adding an address twice is not an error,
    /// creates no second entry and keeps the first choice.
    pub async fn add(&self, email: &Email, interest: &Interest) -> Result<Added, SubscribersError> {
        match self {
            Subscribers::Sns(sns) => sns.add(email, interest).await,
            Subscribers::Local(local) => local.add(email, interest).await,
        }
    }

    /// Every subscribed address, sorted.
    pub async fn list(&self) -> Result<Vec<Email>, SubscribersError> {
        match self {
            Subscribers::Sns(sns) => sns.list().await,
            Subscribers::Local(local) => local.list().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{fund::FundCode, notify::FilterPolicy};

    fn funds(texts: &[&str]) -> Interest {
        let codes: Vec<FundCode> = texts.iter().map(|it| FundCode::parse(it).unwrap()).collect();
        Interest::parse(Some("signals"), texts, &codes).unwrap()
    }

    #[tokio::test]
    async fn adding_an_address_twice_keeps_one_entry_and_the_first_choice() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("subscribers.json");
        let subscribers = Subscribers::local(&path);
        let email = Email::parse("a@example.com").unwrap();
        assert_eq!(subscribers.add(&email, &Interest::SignalDays).await.unwrap(), Added::New);
        let again = Email::parse("A@Example.com").unwrap();
        assert_eq!(subscribers.add(&again, &Interest::EveryDay).await.unwrap(), Added::Existing);
        assert_eq!(subscribers.list().await.unwrap(), vec![email.clone()]);
        let stored = LocalSubscribers::new(&path).subscriptions().await.unwrap();
        let want = FilterPolicy::for_interest(&Interest::SignalDays);
        assert_eq!(stored, vec![Subscription { email, filter_policy: want }]);
    }

    #[tokio::test]
    async fn each_subscriber_keeps_the_policy_of_its_choice_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("subscribers.json");
        let subscribers = Subscribers::local(&path);
        let choices = [
            ("daily@example.com", Interest::EveryDay),
            ("signals@example.com", Interest::SignalDays),
            ("funds@example.com", funds(&["510300.SH", "159915.SZ"])),
        ];
        for (email, interest) in &choices {
            subscribers.add(&Email::parse(email).unwrap(), interest).await.unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let file: serde_json::Value = serde_json::from_str(&text).unwrap();
        let entries = file["subscribers"].as_array().unwrap();
        assert!(entries[0].get("filter_policy").is_none(), "every day has no policy: {text}");
        assert_eq!(entries[1]["filter_policy"], serde_json::json!({ "signal_day": ["true"] }));
        assert_eq!(entries[2]["filter_policy"], serde_json::json!({ "signal_funds": ["159915.SZ", "510300.SH"] }));

        let stored = LocalSubscribers::new(&path).subscriptions().await.unwrap();
        for (email, interest) in &choices {
            let entry = stored.iter().find(|it| it.email.as_str() == *email).unwrap();
            assert_eq!(entry.filter_policy, FilterPolicy::for_interest(interest), "{email}");
        }
    }

    #[tokio::test]
    async fn a_file_written_before_choices_reads_as_every_day() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("subscribers.json");
        let old = r#"{"subscribers": [{"email": "old@example.com", "subscribed_at": "2026-11-01T08:00:00Z"}]}"#;
        std::fs::write(&path, old).unwrap();
        let stored = LocalSubscribers::new(&path).subscriptions().await.unwrap();
        let email = Email::parse("old@example.com").unwrap();
        assert_eq!(stored, vec![Subscription { email: email.clone(), filter_policy: None }]);
        let subscribers = Subscribers::local(&path);
        subscribers.add(&Email::parse("new@example.com").unwrap(), &Interest::SignalDays).await.unwrap();
        assert_eq!(subscribers.list().await.unwrap().len(), 2, "the old entry is kept when the file is rewritten");
    }

    #[tokio::test]
    async fn a_stored_policy_this_service_cannot_match_is_an_error_naming_the_subscriber() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("subscribers.json");
        let edited = r#"{"subscribers": [{"email": "x@example.com", "subscribed_at": "2026-11-01T08:00:00Z",
            "filter_policy": {"signal_funds": [{"prefix": "51"}]}}]}"#;
        std::fs::write(&path, edited).unwrap();
        let err = LocalSubscribers::new(&path).subscriptions().await.unwrap_err();
        let message = crate::text::error_chain(&err);
        assert!(message.contains("x@example.com") && message.contains("subscribers.json"), "{message}");
        assert!(message.contains("prefix"), "the cause names what is not supported: {message}");
    }

    #[tokio::test]
    async fn a_corrupt_file_is_an_error_naming_the_file_not_an_empty_list() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("subscribers.json");
        std::fs::write(&path, "not json").unwrap();
        let err = Subscribers::local(&path)
            .add(&Email::parse("a@example.com").unwrap(), &Interest::EveryDay)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("subscribers.json"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not json", "nothing is lost");
    }
}

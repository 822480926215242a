//! The subscriber registry port: who receives the daily e-mail. The SNS topic's subscriptions in
//! the cloud ([`SnsSubscribers`]); a JSON file locally ([`LocalSubscribers`]).
//!
//! May use: [`crate::email`] and the AWS SDK; nothing of the report or the strategy.

mod local;
mod outcome;
mod sns;

use std::path::Path;

pub use self::{
    local::LocalSubscribers,
    outcome::{Added, SubscribersError},
    sns::SnsSubscribers,
};
use crate::email::Email;

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

    /// Subscribes `email`; adding an address twice is not an error and creates no second entry.
    pub async fn add(&self, email: &Email) -> Result<Added, SubscribersError> {
        match self {
            Subscribers::Sns(sns) => sns.add(email).await,
            Subscribers::Local(local) => local.add(email).await,
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

    #[tokio::test]
    async fn adding_an_address_twice_keeps_one_entry() {
        let dir = tempfile::tempdir().unwrap();
        let subscribers = Subscribers::local(&dir.path().join("subscribers.json"));
        let email = Email::parse("a@example.com").unwrap();
        assert_eq!(subscribers.add(&email).await.unwrap(), Added::New);
        assert_eq!(subscribers.add(&Email::parse("A@Example.com").unwrap()).await.unwrap(), Added::Existing);
        assert_eq!(subscribers.list().await.unwrap(), vec![email]);
    }

    #[tokio::test]
    async fn a_corrupt_file_is_an_error_naming_the_file_not_an_empty_list() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("subscribers.json");
        std::fs::write(&path, "not json").unwrap();
        let err = Subscribers::local(&path).add(&Email::parse("a@example.com").unwrap()).await.unwrap_err();
        assert!(err.to_string().contains("subscribers.json"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not json", "nothing is lost");
    }
}

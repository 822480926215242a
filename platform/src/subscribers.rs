//! The subscriber registry port: who receives the daily e-mail. The SNS topic's subscriptions in
//! the cloud; a JSON file locally.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::{email::Email, store::BoxError};

/// What `add` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// A new subscription: a confirmation mail is on its way.
    New,
    /// The address was already subscribed (or pending): nothing changed.
    Existing,
}

/// Why the registry could not answer.
#[derive(Debug, thiserror::Error)]
pub enum SubscribersError {
    /// Reading or writing the registry failed.
    #[error("cannot update the subscribers in {registry}")]
    Registry { registry: String, source: BoxError },
}

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
        Subscribers::Sns(SnsSubscribers { client, topic_arn: topic_arn.to_owned() })
    }

    /// A registry in the file `path` (created on first subscription).
    pub fn local(path: &Path) -> Subscribers {
        Subscribers::Local(LocalSubscribers { path: path.to_owned(), lock: Arc::new(Mutex::new(())) })
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

/// The e-mail subscriptions of an SNS topic, confirmed or pending. SNS sends the confirmation
/// mail; an address that never confirms stays pending until SNS drops it (after three days).
#[derive(Debug, Clone)]
pub struct SnsSubscribers {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsSubscribers {
    /// The topic's ARN.
    pub fn topic_arn(&self) -> &str {
        &self.topic_arn
    }

    /// Subscribes unless the topic already has the address: SNS would send a second confirmation
    /// mail for a pending one. Two requests for one new address at the same moment can both pass
    /// the check; SNS then keeps one subscription, and the address gets two confirmation mails.
    async fn add(&self, email: &Email) -> Result<Added, SubscribersError> {
        if self.email_subscriptions().await?.iter().any(|it| it == email) {
            return Ok(Added::Existing);
        }
        self.client
            .subscribe()
            .topic_arn(&self.topic_arn)
            .protocol("email")
            .endpoint(email.as_str())
            .return_subscription_arn(true)
            .send()
            .await
            .map_err(|err| self.error(err.into()))?;
        Ok(Added::New)
    }

    async fn list(&self) -> Result<Vec<Email>, SubscribersError> {
        let mut emails = self.email_subscriptions().await?;
        emails.sort();
        emails.dedup();
        Ok(emails)
    }

    /// The addresses of the topic's e-mail subscriptions; a pending one has the ARN `PendingConfirmation`.
    async fn email_subscriptions(&self) -> Result<Vec<Email>, SubscribersError> {
        let mut pages = self.client.list_subscriptions_by_topic().topic_arn(&self.topic_arn).into_paginator().send();
        let mut emails = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|err| self.error(err.into()))?;
            for subscription in page.subscriptions() {
                if subscription.protocol() != Some("email") {
                    continue;
                }
                // `Email::parse` lower-cases, so `A@x.com` matches `a@x.com` as SNS's mail does in practice.
                if let Some(email) = subscription.endpoint().and_then(|it| Email::parse(it).ok()) {
                    emails.push(email);
                }
            }
        }
        Ok(emails)
    }

    fn error(&self, source: BoxError) -> SubscribersError {
        SubscribersError::Registry { registry: format!("topic {}", self.topic_arn), source }
    }
}

/// A JSON file of subscribers: `{"subscribers": [{"email": ..., "subscribed_at": ...}]}`.
#[derive(Debug, Clone)]
pub struct LocalSubscribers {
    path: PathBuf,
    lock: Arc<Mutex<()>>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct SubscribersFile {
    subscribers: Vec<SubscriberEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SubscriberEntry {
    email: String,
    subscribed_at: String,
}

impl LocalSubscribers {
    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn add(&self, email: &Email) -> Result<Added, SubscribersError> {
        let _guard = self.lock.lock().await;
        let mut file = self.read().await?;
        if file.subscribers.iter().any(|it| it.email == email.as_str()) {
            return Ok(Added::Existing);
        }
        file.subscribers.push(SubscriberEntry {
            email: email.as_str().to_owned(),
            subscribed_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        });
        let text = serde_json::to_string_pretty(&file).expect("the subscribers shape always serializes");
        let temp = self.path.with_extension("json.tmp");
        let written = async {
            if let Some(dir) = self.path.parent() {
                tokio::fs::create_dir_all(dir).await?;
            }
            tokio::fs::write(&temp, text).await?;
            tokio::fs::rename(&temp, &self.path).await
        };
        written.await.map_err(|err| self.error(err.into()))?;
        Ok(Added::New)
    }

    async fn list(&self) -> Result<Vec<Email>, SubscribersError> {
        let file = self.read().await?;
        let mut emails: Vec<Email> = file.subscribers.iter().filter_map(|it| Email::parse(&it.email).ok()).collect();
        emails.sort();
        Ok(emails)
    }

    async fn read(&self) -> Result<SubscribersFile, SubscribersError> {
        match tokio::fs::read(&self.path).await {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|err| self.error(err.into())),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(SubscribersFile::default()),
            Err(err) => Err(self.error(err.into())),
        }
    }

    fn error(&self, source: BoxError) -> SubscribersError {
        SubscribersError::Registry { registry: format!("file {}", self.path.display()), source }
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

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
    /// A JSON file.
    Local(LocalSubscribers),
}

impl Subscribers {
    /// A registry in the file `path` (created on first subscription).
    pub fn local(path: &Path) -> Subscribers {
        Subscribers::Local(LocalSubscribers { path: path.to_owned(), lock: Arc::new(Mutex::new(())) })
    }

    /// Subscribes `email`; adding an address twice is not an error and creates no second entry.
    pub async fn add(&self, email: &Email) -> Result<Added, SubscribersError> {
        match self {
            Subscribers::Local(local) => local.add(email).await,
        }
    }

    /// Every subscribed address, sorted.
    pub async fn list(&self) -> Result<Vec<Email>, SubscribersError> {
        match self {
            Subscribers::Local(local) => local.list().await,
        }
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

//! The file adapter of the subscriber registry: a JSON file, rewritten through a temporary file.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::outcome::{Added, SubscribersError};
use crate::{BoxError, email::Email};

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
    pub(super) fn new(path: &Path) -> LocalSubscribers {
        LocalSubscribers { path: path.to_owned(), lock: Arc::new(Mutex::new(())) }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(super) async fn add(&self, email: &Email) -> Result<Added, SubscribersError> {
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

    pub(super) async fn list(&self) -> Result<Vec<Email>, SubscribersError> {
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

//! The file adapter of the subscriber registry: a JSON file, rewritten through a temporary file.
//! Each subscriber's filter policy is stored as SNS would hold it; a subscriber without one (as
//! in files written before choices existed) gets every message.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::outcome::{Added, SubscribersError, Subscription};
use crate::{BoxError, email::Email, interest::Interest, notify::filter::FilterPolicy};

/// A JSON file of subscribers:
/// `{"subscribers": [{"email": ..., "subscribed_at": ..., "filter_policy": {"signal_day": ["true"]}}]}`.
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
    /// The policy's JSON as [`FilterPolicy::to_json_value`] writes it; absent for every day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    filter_policy: Option<serde_json::Value>,
}

impl LocalSubscribers {
    /// A registry in the file `path` (created on first subscription).
    pub fn new(path: &Path) -> LocalSubscribers {
        LocalSubscribers { path: path.to_owned(), lock: Arc::new(Mutex::new(())) }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(super) async fn add(&self, email: &Email, interest: &Interest) -> Result<Added, SubscribersError> {
        let _guard = self.lock.lock().await;
        let mut file = self.read().await?;
        if file.subscribers.iter().any(|it| it.email == email.as_str()) {
            return Ok(Added::Existing);
        }
        file.subscribers.push(SubscriberEntry {
            email: email.as_str().to_owned(),
            subscribed_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            filter_policy: FilterPolicy::for_interest(interest).map(|it| it.to_json_value()),
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

    /// Every subscriber with its filter policy, sorted by address; an entry whose address does
    /// not parse is skipped (as by `list`), one whose policy does not is an error naming it.
    pub async fn subscriptions(&self) -> Result<Vec<Subscription>, SubscribersError> {
        let file = self.read().await?;
        let mut subscriptions = Vec::with_capacity(file.subscribers.len());
        for entry in file.subscribers {
            let Ok(email) = Email::parse(&entry.email) else { continue };
            let filter_policy = match &entry.filter_policy {
                None => None,
                Some(policy) => match FilterPolicy::from_json_value(policy) {
                    Ok(it) => Some(it),
                    Err(err) => {
                        return Err(SubscribersError::Policy {
                            registry: self.describe(),
                            email: entry.email,
                            source: err.into(),
                        });
                    }
                },
            };
            subscriptions.push(Subscription { email, filter_policy });
        }
        subscriptions.sort_by(|a, b| a.email.cmp(&b.email));
        Ok(subscriptions)
    }

    async fn read(&self) -> Result<SubscribersFile, SubscribersError> {
        match tokio::fs::read(&self.path).await {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|err| self.error(err.into())),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(SubscribersFile::default()),
            Err(err) => Err(self.error(err.into())),
        }
    }

    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }

    fn error(&self, source: BoxError) -> SubscribersError {
        SubscribersError::Registry { registry: self.describe(), source }
    }
}

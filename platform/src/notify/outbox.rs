//! The outbox adapter of the notifier: a folder of `.eml` files standing in for e-mail, one file per
//! message and recipient (written to a temporary name, then renamed), readable by any mail client.
//! A message to the topic goes to each subscriber of the local registry whose filter policy
//! matches its attributes, as SNS would deliver it.

use std::{
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

use chrono::Utc;

use super::message::{Message, NotifyError};
use crate::{email::Email, subscribers::LocalSubscribers};

/// A folder of `.eml` files standing in for e-mail: one file per message, readable by any mail client.
#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
}

static MESSAGE_COUNTER: AtomicU64 = AtomicU64::new(0);

impl Outbox {
    /// An outbox in `dir` (created on first message), for one-recipient mail such as a subscription confirmation.
    pub fn new(dir: &Path) -> Outbox {
        Outbox { dir: dir.to_owned() }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes one message to one recipient (e.g. a subscription confirmation).
    pub async fn send_to(&self, to: &Email, message: &Message) -> Result<(), NotifyError> {
        self.write(to.as_str(), message).await
    }

    /// Writes `message` once to each of `subscribers` whose filter policy matches its attributes
    /// (a subscriber without a policy gets every message).
    pub(super) async fn deliver(&self, subscribers: &LocalSubscribers, message: &Message) -> Result<(), NotifyError> {
        let subscriptions = subscribers.subscriptions().await.map_err(|err| NotifyError::Deliver {
            subject: message.subject().to_owned(),
            channel: format!("outbox {}", self.dir.display()),
            source: err.into(),
        })?;
        let mut n_sent = 0;
        for subscription in subscriptions {
            if subscription.filter_policy.as_ref().is_none_or(|policy| policy.matches(message.attributes())) {
                self.write(subscription.email.as_str(), message).await?;
                n_sent += 1;
            }
        }
        tracing::info!("outbox {}: {n_sent} subscribers get {:?}", self.dir.display(), message.subject());
        Ok(())
    }

    async fn write(&self, to: &str, message: &Message) -> Result<(), NotifyError> {
        let error = |source: std::io::Error| NotifyError::Deliver {
            subject: message.subject().to_owned(),
            channel: format!("outbox {}", self.dir.display()),
            source: source.into(),
        };
        let now = Utc::now();
        let n = MESSAGE_COUNTER.fetch_add(1, Ordering::Relaxed);
        let id = format!("{}.{}.{n}", now.format("%Y%m%dT%H%M%S%.6fZ"), std::process::id());
        let eml = render_eml(to, &id, &now.to_rfc2822(), message);
        tokio::fs::create_dir_all(&self.dir).await.map_err(error)?;
        let slug: String = message
            .subject()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
            .collect();
        let slug = slug.split('-').filter(|it| !it.is_empty()).collect::<Vec<_>>().join("-");
        let temp = self.dir.join(format!(".{id}.tmp"));
        let path = self.dir.join(format!("{id}-{slug}.eml"));
        tokio::fs::write(&temp, eml).await.map_err(error)?;
        tokio::fs::rename(&temp, &path).await.map_err(error)?;
        Ok(())
    }
}

/// An RFC 5322 message with a UTF-8 plain-text body sent as 8bit, CRLF line ends.
fn render_eml(to: &str, id: &str, date: &str, message: &Message) -> String {
    let mut eml = String::new();
    for (name, value) in [
        ("From", "invest-alchemy <signals@invest-alchemy.local>".to_owned()),
        ("To", format!("<{to}>")),
        ("Subject", message.subject().to_owned()),
        ("Date", date.to_owned()),
        ("Message-ID", format!("<{id}@invest-alchemy.local>")),
        ("MIME-Version", "1.0".to_owned()),
        ("Content-Type", "text/plain; charset=utf-8".to_owned()),
        ("Content-Transfer-Encoding", "8bit".to_owned()),
    ] {
        eml.push_str(&format!("{name}: {value}\r\n"));
    }
    eml.push_str("\r\n");
    for line in message.body().lines() {
        eml.push_str(line);
        eml.push_str("\r\n");
    }
    eml
}

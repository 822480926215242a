//! The notifier port: how the day's report reaches subscribers. An SNS topic in the cloud
//! ([`SnsTopic`]), an outbox folder of `.eml` files locally ([`Outbox`]); both send a [`Message`]
//! with its [`MessageAttributes`] to the subscribers whose [`FilterPolicy`] matches them
//! (SNS matches in the cloud, `filter.rs` for the outbox).
//!
//! May use: [`crate::email`], [`crate::fund`], [`crate::interest`], [`crate::subscribers`] (the
//! outbox reads the local registry) and the AWS SDK; nothing of the report or the strategy.
//! `attributes.rs` and `filter.rs` use nothing else of this room, so the subscriber registry may use them.

pub(crate) mod attributes;
pub(crate) mod filter;
mod message;
mod outbox;
mod sns;

use std::path::Path;

pub use self::{
    attributes::{AttributeValue, MessageAttributes, NO_SIGNAL_FUNDS, SIGNAL_DAY, SIGNAL_FUNDS},
    filter::{FILTER_POLICY_SCOPE, FilterPolicy, FilterPolicyError, MAX_COMBINATIONS, MAX_KEYS, MAX_POLICY_BYTES},
    message::{InvalidSubject, Message, NotifyError, SNS_MAX_MESSAGE_BYTES},
    outbox::Outbox,
    sns::SnsTopic,
};
use crate::subscribers::LocalSubscribers;

/// The notifier port.
#[derive(Debug, Clone)]
pub enum Notifier {
    /// An SNS topic: its confirmed subscribers whose filter policy matches get the message.
    Sns(SnsTopic),
    /// `.eml` files in a folder, one for each subscriber of the local registry whose filter
    /// policy matches.
    Outbox { outbox: Outbox, subscribers: LocalSubscribers },
}

impl Notifier {
    /// The SNS topic `topic_arn`, through `client` (see [`crate::aws::AwsConfig::sns`]).
    pub fn sns(client: aws_sdk_sns::Client, topic_arn: &str) -> Notifier {
        Notifier::Sns(SnsTopic::new(client, topic_arn))
    }

    /// An outbox in `dir` (created on first message) for the subscribers in the file
    /// `subscribers` (see [`crate::subscribers::Subscribers::local`]).
    pub fn outbox(dir: &Path, subscribers: &Path) -> Notifier {
        Notifier::Outbox { outbox: Outbox::new(dir), subscribers: LocalSubscribers::new(subscribers) }
    }

    /// Where messages go, for messages: `outbox /x/y` or `topic arn:...`.
    pub fn describe(&self) -> String {
        match self {
            Notifier::Sns(topic) => format!("topic {}", topic.topic_arn()),
            Notifier::Outbox { outbox, .. } => format!("outbox {}", outbox.dir().display()),
        }
    }

    /// Sends `message` to every subscriber whose filter policy matches its attributes.
    pub async fn publish(&self, message: &Message) -> Result<(), NotifyError> {
        match self {
            Notifier::Sns(topic) => topic.publish(message).await,
            Notifier::Outbox { outbox, subscribers } => outbox.deliver(subscribers, message).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::{email::Email, fund::FundCode, interest::Interest, subscribers::Subscribers};

    fn emls(dir: &Path) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
        let mut files: Vec<PathBuf> = entries.map(|it| it.unwrap().path()).collect();
        files.sort();
        files
    }

    fn to_header(path: &Path) -> String {
        let eml = std::fs::read_to_string(path).unwrap();
        eml.lines().find_map(|it| it.strip_prefix("To: ")).unwrap().trim().to_owned()
    }

    #[tokio::test]
    async fn the_outbox_writes_one_eml_per_subscriber_with_headers_and_a_utf8_body() {
        let dir = tempfile::tempdir().unwrap();
        let registry = dir.path().join("subscribers.json");
        for email in ["b@example.com", "a@example.com"] {
            Subscribers::local(&registry).add(&Email::parse(email).unwrap(), &Interest::EveryDay).await.unwrap();
        }
        let outbox = dir.path().join("outbox");
        let notifier = Notifier::outbox(&outbox, &registry);
        let message =
            Message::new("Double MA signals 2026-11-27 (A-share ETFs)", "可买标的:\n300ETF(510300.SH)可买\n").unwrap();
        notifier.publish(&message).await.unwrap();
        let files = emls(&outbox);
        assert_eq!(files.len(), 2);
        assert!(files[0].to_string_lossy().ends_with("-double-ma-signals-2026-11-27-a-share-etfs.eml"), "{files:?}");
        let mut recipients: Vec<String> = files.iter().map(|it| to_header(it)).collect();
        recipients.sort();
        assert_eq!(recipients, ["<a@example.com>", "<b@example.com>"]);
        let eml = std::fs::read_to_string(&files[0]).unwrap();
        let (head, body) = eml.split_once("\r\n\r\n").unwrap();
        assert!(head.contains("Subject: Double MA signals 2026-11-27 (A-share ETFs)\r\n"), "{head}");
        assert!(head.contains("Content-Type: text/plain; charset=utf-8"), "{head}");
        assert!(head.contains("MIME-Version: 1.0"), "{head}");
        assert!(head.contains("Date: "), "{head}");
        assert_eq!(body, "可买标的:\r\n300ETF(510300.SH)可买\r\n");
    }

    #[tokio::test]
    async fn the_outbox_mails_only_the_subscribers_whose_policy_matches_the_day() {
        let dir = tempfile::tempdir().unwrap();
        let registry = dir.path().join("subscribers.json");
        let codes: Vec<FundCode> = ["510300.SH", "510500.SH"].iter().map(|it| FundCode::parse(it).unwrap()).collect();
        let choices = [
            ("daily@example.com", Interest::EveryDay),
            ("signals@example.com", Interest::SignalDays),
            ("funds@example.com", Interest::parse(None, &["510500.SH"], &codes).unwrap()),
        ];
        for (email, interest) in &choices {
            Subscribers::local(&registry).add(&Email::parse(email).unwrap(), interest).await.unwrap();
        }
        let check = async |day: &str, signal_funds: &[FundCode], want: &[&str]| {
            let outbox = dir.path().join(day);
            let message = Message::new("Double MA signals", "body").unwrap();
            let message = message.with_attributes(MessageAttributes::for_day(signal_funds));
            Notifier::outbox(&outbox, &registry).publish(&message).await.unwrap();
            let mut to: Vec<String> = emls(&outbox).iter().map(|it| to_header(it)).collect();
            to.sort();
            let want: Vec<String> = want.iter().map(|it| format!("<{it}>")).collect();
            assert_eq!(to, want, "{day}");
        };
        check("quiet", &[], &["daily@example.com"]).await;
        check("other", &codes[..1], &["daily@example.com", "signals@example.com"]).await;
        check("chosen", &codes[1..], &["daily@example.com", "funds@example.com", "signals@example.com"]).await;
        // A message without attributes reaches only those without a policy, as on SNS.
        let bare = dir.path().join("bare");
        Notifier::outbox(&bare, &registry).publish(&Message::new("s", "b").unwrap()).await.unwrap();
        assert_eq!(emls(&bare).len(), 1);
    }

    #[tokio::test]
    async fn no_subscriber_means_no_mail_and_a_bad_registry_fails_the_publish() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = dir.path().join("outbox");
        let registry = dir.path().join("subscribers.json");
        let message = Message::new("Double MA signals", "body").unwrap();
        Notifier::outbox(&outbox, &registry).publish(&message).await.unwrap();
        assert!(emls(&outbox).is_empty());
        std::fs::write(&registry, "not json").unwrap();
        let err = Notifier::outbox(&outbox, &registry).publish(&message).await.unwrap_err();
        assert!(err.to_string().contains("outbox"), "{err}");
    }
}

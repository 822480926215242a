//! The notifier port: how the day's report reaches subscribers. An SNS topic in the cloud
//! ([`SnsTopic`]), an outbox folder of `.eml` files locally ([`Outbox`]); both send a [`Message`].
//!
//! May use: [`crate::email`] and the AWS SDK; nothing of the report or the strategy.

mod message;
mod outbox;
mod sns;

use std::path::Path;

pub use self::{
    message::{InvalidSubject, Message, NotifyError, SNS_MAX_MESSAGE_BYTES},
    outbox::Outbox,
    sns::SnsTopic,
};

/// The notifier port.
#[derive(Debug, Clone)]
pub enum Notifier {
    /// An SNS topic: its confirmed subscribers get the message.
    Sns(SnsTopic),
    /// `.eml` files in a folder.
    Outbox(Outbox),
}

impl Notifier {
    /// The SNS topic `topic_arn`, through `client` (see [`crate::aws::AwsConfig::sns`]).
    pub fn sns(client: aws_sdk_sns::Client, topic_arn: &str) -> Notifier {
        Notifier::Sns(SnsTopic::new(client, topic_arn))
    }

    /// An outbox in `dir` (created on first message).
    pub fn outbox(dir: &Path) -> Notifier {
        Notifier::Outbox(Outbox::new(dir))
    }

    /// Where messages go, for messages: `outbox /x/y` or `topic arn:...`.
    pub fn describe(&self) -> String {
        match self {
            Notifier::Sns(topic) => format!("topic {}", topic.topic_arn()),
            Notifier::Outbox(outbox) => format!("outbox {}", outbox.dir().display()),
        }
    }

    /// Sends `message` to every subscriber.
    pub async fn publish(&self, message: &Message) -> Result<(), NotifyError> {
        match self {
            Notifier::Sns(topic) => topic.publish(message).await,
            Notifier::Outbox(outbox) => outbox.write_to_topic(message).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[tokio::test]
    async fn the_outbox_writes_one_eml_per_message_with_headers_and_a_utf8_body() {
        let dir = tempfile::tempdir().unwrap();
        let notifier = Notifier::outbox(dir.path());
        let message =
            Message::new("Double MA signals 2026-11-27 (A-share ETFs)", "可买标的:\n300ETF(510300.SH)可买\n").unwrap();
        notifier.publish(&message).await.unwrap();
        notifier.publish(&message).await.unwrap();
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir.path()).unwrap().map(|it| it.unwrap().path()).collect();
        files.sort();
        assert_eq!(files.len(), 2);
        assert!(files[0].to_string_lossy().ends_with("-double-ma-signals-2026-11-27-a-share-etfs.eml"), "{files:?}");
        let eml = std::fs::read_to_string(&files[0]).unwrap();
        let (head, body) = eml.split_once("\r\n\r\n").unwrap();
        assert!(head.contains("Subject: Double MA signals 2026-11-27 (A-share ETFs)\r\n"), "{head}");
        assert!(head.contains("Content-Type: text/plain; charset=utf-8"), "{head}");
        assert!(head.contains("MIME-Version: 1.0"), "{head}");
        assert!(head.contains("Date: "), "{head}");
        assert_eq!(body, "可买标的:\r\n300ETF(510300.SH)可买\r\n");
    }
}

//! The notifier port: how the day's report reaches subscribers. An SNS topic in the cloud, an
//! outbox folder of `.eml` files locally.

use std::{
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

use chrono::Utc;

use crate::{email::Email, store::BoxError};

/// A message to all subscribers: an ASCII one-line subject, a UTF-8 text body and, optionally,
/// the address of a page with the whole content (where a shortened body sends the reader).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    subject: String,
    body: String,
    link: Option<String>,
}

/// The largest message body SNS accepts, in bytes of UTF-8: 256 KiB.
pub const SNS_MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// Why a message cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("subject {subject:?} is not allowed: it must be 1 to 100 printable ASCII characters on one line")]
pub struct InvalidSubject {
    /// The rejected subject.
    pub subject: String,
}

impl Message {
    /// A message whose subject satisfies SNS's rules: printable ASCII, 1 to 100 characters, no line break.
    pub fn new(subject: &str, body: &str) -> Result<Message, InvalidSubject> {
        let valid = (1..=100).contains(&subject.len()) && subject.bytes().all(|b| (b' '..=b'~').contains(&b));
        if !valid {
            return Err(InvalidSubject { subject: subject.to_owned() });
        }
        Ok(Message { subject: subject.to_owned(), body: body.to_owned(), link: None })
    }

    /// The same message, naming `url` as the page with the whole content.
    pub fn with_link(self, url: &str) -> Message {
        Message { link: Some(url.to_owned()), ..self }
    }

    /// The page with the whole content, if one was named.
    pub fn link(&self) -> Option<&str> {
        self.link.as_deref()
    }

    /// The body cut to at most `max_bytes` bytes of UTF-8: whole lines while they fit, then a line
    /// saying the text was shortened, ending with the link when there is one. Short bodies are kept.
    pub fn body_within(&self, max_bytes: usize) -> String {
        if self.body.len() <= max_bytes {
            return self.body.clone();
        }
        let tail = match &self.link {
            Some(url) => format!("\n……(内容过长, 已截断 / shortened) 完整内容 / full text: {url}\n"),
            None => "\n……(内容过长, 已截断 / shortened)\n".to_owned(),
        };
        let room = max_bytes.saturating_sub(tail.len());
        let mut cut = floor_char_boundary(&self.body, room);
        // Prefer to end on a whole line.
        if let Some(line_end) = self.body[..cut].rfind('\n') {
            cut = line_end + 1;
        }
        let mut body = self.body[..cut].trim_end_matches('\n').to_owned();
        body.push_str(&tail);
        if body.len() > max_bytes {
            // Only a link longer than the limit gets here: the cut text alone is then what fits.
            return self.body[..floor_char_boundary(&self.body, max_bytes)].to_owned();
        }
        body
    }

    /// The subject.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The body.
    pub fn body(&self) -> &str {
        &self.body
    }
}

/// Why a message was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// Handing the message over failed; the cause is `source`.
    #[error("cannot deliver {subject:?} through {channel}")]
    Deliver { subject: String, channel: String, source: BoxError },
}

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
        Notifier::Sns(SnsTopic { client, topic_arn: topic_arn.to_owned() })
    }

    /// An outbox in `dir` (created on first message).
    pub fn outbox(dir: &Path) -> Notifier {
        Notifier::Outbox(Outbox { dir: dir.to_owned() })
    }

    /// Where messages go, for messages: `outbox /x/y` or `topic arn:...`.
    pub fn describe(&self) -> String {
        match self {
            Notifier::Sns(topic) => format!("topic {}", topic.topic_arn),
            Notifier::Outbox(outbox) => format!("outbox {}", outbox.dir.display()),
        }
    }

    /// Sends `message` to every subscriber.
    pub async fn publish(&self, message: &Message) -> Result<(), NotifyError> {
        match self {
            Notifier::Sns(topic) => topic.publish(message).await,
            Notifier::Outbox(outbox) => outbox.write(OUTBOX_TOPIC, message).await,
        }
    }
}

/// An SNS topic. Subjects are valid by construction ([`Message::new`]); bodies over
/// [`SNS_MAX_MESSAGE_BYTES`] are shortened ([`Message::body_within`]), never refused.
#[derive(Debug, Clone)]
pub struct SnsTopic {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsTopic {
    /// The topic's ARN.
    pub fn topic_arn(&self) -> &str {
        &self.topic_arn
    }

    async fn publish(&self, message: &Message) -> Result<(), NotifyError> {
        let body = message.body_within(SNS_MAX_MESSAGE_BYTES);
        if body.len() < message.body.len() {
            tracing::warn!(
                "the message is {} bytes, over SNS's limit: sending the first {} bytes",
                message.body.len(),
                body.len()
            );
        }
        let res = self.client.publish().topic_arn(&self.topic_arn).subject(&message.subject).message(body).send().await;
        match res {
            Ok(_) => Ok(()),
            Err(err) => Err(NotifyError::Deliver {
                subject: message.subject.clone(),
                channel: format!("topic {}", self.topic_arn),
                source: err.into(),
            }),
        }
    }
}

/// Who an outbox message to the topic is addressed to.
const OUTBOX_TOPIC: &str = "signal-subscribers@invest-alchemy.local";

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

    async fn write(&self, to: &str, message: &Message) -> Result<(), NotifyError> {
        let error = |source: std::io::Error| NotifyError::Deliver {
            subject: message.subject.clone(),
            channel: format!("outbox {}", self.dir.display()),
            source: source.into(),
        };
        let now = Utc::now();
        let n = MESSAGE_COUNTER.fetch_add(1, Ordering::Relaxed);
        let id = format!("{}.{}.{n}", now.format("%Y%m%dT%H%M%S%.6fZ"), std::process::id());
        let eml = render_eml(to, &id, &now.to_rfc2822(), message);
        tokio::fs::create_dir_all(&self.dir).await.map_err(error)?;
        let slug: String = message
            .subject
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

/// The largest char boundary at or below `index` (`str::floor_char_boundary` is not stable yet).
fn floor_char_boundary(text: &str, index: usize) -> usize {
    if index >= text.len() {
        return text.len();
    }
    (0..=index).rev().find(|it| text.is_char_boundary(*it)).expect("0 is a char boundary")
}

/// An RFC 5322 message with a UTF-8 plain-text body sent as 8bit, CRLF line ends.
fn render_eml(to: &str, id: &str, date: &str, message: &Message) -> String {
    let mut eml = String::new();
    for (name, value) in [
        ("From", "invest-alchemy <signals@invest-alchemy.local>".to_owned()),
        ("To", format!("<{to}>")),
        ("Subject", message.subject.clone()),
        ("Date", date.to_owned()),
        ("Message-ID", format!("<{id}@invest-alchemy.local>")),
        ("MIME-Version", "1.0".to_owned()),
        ("Content-Type", "text/plain; charset=utf-8".to_owned()),
        ("Content-Transfer-Encoding", "8bit".to_owned()),
    ] {
        eml.push_str(&format!("{name}: {value}\r\n"));
    }
    eml.push_str("\r\n");
    for line in message.body.lines() {
        eml.push_str(line);
        eml.push_str("\r\n");
    }
    eml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_must_be_one_short_ascii_line() {
        assert!(Message::new("Double MA signals 2026-11-27 (A-share ETFs)", "正文").is_ok());
        for subject in ["", "信号", "a\nb", &"x".repeat(101)] {
            assert!(Message::new(subject, "body").is_err(), "{subject:?}");
        }
    }

    #[test]
    fn a_long_body_is_shortened_on_a_line_end_and_ends_with_the_link() {
        let body = "可买标的:\n".to_owned() + &"300ETF(510300.SH)可买, 收盘价4.012\n".repeat(20_000);
        assert!(body.len() > SNS_MAX_MESSAGE_BYTES);
        let url = "https://signals.example.com/reports/20261127";
        let message = Message::new("Double MA signals 2026-11-27 (A-share ETFs)", &body).unwrap().with_link(url);
        let short = message.body_within(SNS_MAX_MESSAGE_BYTES);
        assert!(short.len() <= SNS_MAX_MESSAGE_BYTES, "{}", short.len());
        assert!(short.len() > SNS_MAX_MESSAGE_BYTES - 200, "as much as fits is kept: {}", short.len());
        assert!(short.trim_end().ends_with(url), "{}", &short[short.len() - 200..]);
        assert!(short.contains("截断"), "the reader is told the text was shortened");
        let kept = short.rsplit_once("\n……").unwrap().0;
        assert!(kept.ends_with("收盘价4.012"), "whole lines only: {}", &kept[kept.len() - 50..]);
    }

    #[test]
    fn a_body_within_the_limit_is_sent_as_it_is_and_a_cut_never_splits_a_character() {
        let message = Message::new("s", "可买标的:\n无\n").unwrap();
        assert_eq!(message.body_within(SNS_MAX_MESSAGE_BYTES), "可买标的:\n无\n");
        let one_line = Message::new("s", &"买".repeat(1000)).unwrap();
        for max in [0, 1, 2, 50, 100, 2999, 3000] {
            let short = one_line.body_within(max);
            assert!(short.len() <= max, "{max}: {}", short.len());
        }
        let with_huge_link = Message::new("s", &"x".repeat(100)).unwrap().with_link(&"u".repeat(200));
        assert_eq!(with_huge_link.body_within(50), "x".repeat(50));
    }

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

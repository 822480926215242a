//! What a notifier sends: a [`Message`] valid for SNS by construction, and why one was not delivered.

use super::attributes::MessageAttributes;
use crate::BoxError;

/// A message to all subscribers: an ASCII one-line subject, a UTF-8 text body, optionally the
/// address of a page with the whole content (where a shortened body sends the reader), and the
/// attributes subscribers' filter policies are matched against (none by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    subject: String,
    body: String,
    link: Option<String>,
    attributes: MessageAttributes,
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
        Ok(Message {
            subject: subject.to_owned(),
            body: body.to_owned(),
            link: None,
            attributes: MessageAttributes::default(),
        })
    }

    /// The same message, carrying `attributes` for subscribers' filter policies.
    pub fn with_attributes(self, attributes: MessageAttributes) -> Message {
        Message { attributes, ..self }
    }

    /// The attributes subscribers' filter policies are matched against.
    pub fn attributes(&self) -> &MessageAttributes {
        &self.attributes
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

/// The largest char boundary at or below `index` (`str::floor_char_boundary` is not stable yet).
fn floor_char_boundary(text: &str, index: usize) -> usize {
    if index >= text.len() {
        return text.len();
    }
    (0..=index).rev().find(|it| text.is_char_boundary(*it)).expect("0 is a char boundary")
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
}

//! The SNS adapter of the notifier: one `Publish` to the topic, with the message's attributes as
//! its `MessageAttributes` (which SNS matches against each subscription's filter policy); a body
//! over SNS's limit, which counts the attributes too, is shortened.

use aws_sdk_sns::types::MessageAttributeValue;

use super::message::{Message, NotifyError, SNS_MAX_MESSAGE_BYTES};

/// An SNS topic. Subjects are valid by construction ([`Message::new`]); bodies that with the
/// attributes are over [`SNS_MAX_MESSAGE_BYTES`] are shortened ([`Message::body_within`]), never refused.
#[derive(Debug, Clone)]
pub struct SnsTopic {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsTopic {
    pub(super) fn new(client: aws_sdk_sns::Client, topic_arn: &str) -> SnsTopic {
        SnsTopic { client, topic_arn: topic_arn.to_owned() }
    }

    /// The topic's ARN.
    pub fn topic_arn(&self) -> &str {
        &self.topic_arn
    }

    pub(super) async fn publish(&self, message: &Message) -> Result<(), NotifyError> {
        let body = body_for_sns(message);
        if body.len() < message.body().len() {
            tracing::warn!(
                "the message is {} bytes, over SNS's limit: sending the first {} bytes",
                message.body().len(),
                body.len()
            );
        }
        let mut request = self.client.publish().topic_arn(&self.topic_arn).subject(message.subject()).message(body);
        for (name, value) in message.attributes().iter() {
            let value = MessageAttributeValue::builder()
                .data_type(value.data_type())
                .string_value(value.string_value())
                .build()
                .expect("the data type, the one required field, is set");
            request = request.message_attributes(name, value);
        }
        match request.send().await {
            Ok(_) => Ok(()),
            Err(err) => Err(NotifyError::Deliver {
                subject: message.subject().to_owned(),
                channel: format!("topic {}", self.topic_arn),
                source: err.into(),
            }),
        }
    }
}

/// The body to publish: as much as fits in SNS's limit beside the message's attributes.
fn body_for_sns(message: &Message) -> String {
    message.body_within(SNS_MAX_MESSAGE_BYTES.saturating_sub(message.attributes().size_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{fund::FundCode, notify::attributes::MessageAttributes};

    #[test]
    fn the_body_leaves_room_for_the_attributes_within_the_limit() {
        let codes: Vec<FundCode> =
            (0..1000).map(|n| FundCode::parse(&format!("{:06}.SZ", 159000 + n)).unwrap()).collect();
        let attributes = MessageAttributes::for_day(&codes);
        assert!(attributes.size_bytes() > 12_000, "{}", attributes.size_bytes());
        let body = "510300.SH HOLD since 20261101\n".repeat(10_000);
        let message = Message::new("Double MA signals", &body).unwrap().with_attributes(attributes);
        let sent = body_for_sns(&message);
        assert!(sent.len() + message.attributes().size_bytes() <= SNS_MAX_MESSAGE_BYTES, "{}", sent.len());
        assert!(sent.len() > SNS_MAX_MESSAGE_BYTES - message.attributes().size_bytes() - 200, "as much as fits");
        let short = Message::new("s", "可买标的:\n").unwrap().with_attributes(MessageAttributes::for_day(&codes));
        assert_eq!(body_for_sns(&short), "可买标的:\n", "a short body is sent whole");
    }
}

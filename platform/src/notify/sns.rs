//! The SNS adapter of the notifier: one `Publish` to the topic, with the message's attributes as
//! its `MessageAttributes` (which SNS matches against each subscription's filter policy); a body
//! over SNS's limit is shortened.

use aws_sdk_sns::types::MessageAttributeValue;

use super::message::{Message, NotifyError, SNS_MAX_MESSAGE_BYTES};

/// An SNS topic. Subjects are valid by construction ([`Message::new`]); bodies over
/// [`SNS_MAX_MESSAGE_BYTES`] are shortened ([`Message::body_within`]), never refused.
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
        let body = message.body_within(SNS_MAX_MESSAGE_BYTES);
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

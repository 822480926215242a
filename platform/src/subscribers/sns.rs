//! The SNS adapter of the subscriber registry: the topic's e-mail subscriptions, confirmed or pending.
//! A choice other than every day is the subscription's filter policy, set by `Subscribe` itself.

use super::outcome::{Added, SubscribersError};
use crate::{
    BoxError,
    email::Email,
    interest::Interest,
    notify::filter::{FILTER_POLICY_SCOPE, FilterPolicy},
};

/// The subscription attribute holding the filter policy's JSON.
const FILTER_POLICY: &str = "FilterPolicy";
/// The subscription attribute saying what the policy is matched against.
const FILTER_POLICY_SCOPE_ATTRIBUTE: &str = "FilterPolicyScope";

/// The e-mail subscriptions of an SNS topic, confirmed or pending. SNS sends the confirmation
/// mail; an address that never confirms stays pending until SNS drops it (after three days).
#[derive(Debug, Clone)]
pub struct SnsSubscribers {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsSubscribers {
    pub(super) fn new(client: aws_sdk_sns::Client, topic_arn: &str) -> SnsSubscribers {
        SnsSubscribers { client, topic_arn: topic_arn.to_owned() }
    }

    /// The topic's ARN.
    pub fn topic_arn(&self) -> &str {
        &self.topic_arn
    }

    /// Subscribes unless the topic already has the address: SNS would send a second confirmation
    /// mail for a pending one. Two requests for one new address at the same moment can both pass
    /// the check; SNS then keeps one subscription, and the address gets two confirmation mails.
    ///
    /// The filter policy of `interest` (none for every day) goes in `Subscribe`'s own attributes,
    /// so no `SetSubscriptionAttributes` is needed. An address already subscribed keeps its choice.
    pub(super) async fn add(&self, email: &Email, interest: &Interest) -> Result<Added, SubscribersError> {
        if self.email_subscriptions().await?.iter().any(|it| it == email) {
            return Ok(Added::Existing);
        }
        let mut request = self
            .client
            .subscribe()
            .topic_arn(&self.topic_arn)
            .protocol("email")
            .endpoint(email.as_str())
            .return_subscription_arn(true);
        if let Some(policy) = FilterPolicy::for_interest(interest) {
            request = request
                .attributes(FILTER_POLICY, policy.to_json())
                .attributes(FILTER_POLICY_SCOPE_ATTRIBUTE, FILTER_POLICY_SCOPE);
        }
        request.send().await.map_err(|err| self.error(err.into()))?;
        Ok(Added::New)
    }

    pub(super) async fn list(&self) -> Result<Vec<Email>, SubscribersError> {
        let mut emails = self.email_subscriptions().await?;
        emails.sort();
        emails.dedup();
        Ok(emails)
    }

    /// The addresses of the topic's e-mail subscriptions; a pending one has the ARN `PendingConfirmation`.
    async fn email_subscriptions(&self) -> Result<Vec<Email>, SubscribersError> {
        let mut pages = self.client.list_subscriptions_by_topic().topic_arn(&self.topic_arn).into_paginator().send();
        let mut emails = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|err| self.error(err.into()))?;
            for subscription in page.subscriptions() {
                if subscription.protocol() != Some("email") {
                    continue;
                }
                // `Email::parse` lower-cases, so `A@x.com` matches `a@x.com` as SNS's mail does in practice.
                if let Some(email) = subscription.endpoint().and_then(|it| Email::parse(it).ok()) {
                    emails.push(email);
                }
            }
        }
        Ok(emails)
    }

    fn error(&self, source: BoxError) -> SubscribersError {
        SubscribersError::Registry { registry: format!("topic {}", self.topic_arn), source }
    }
}

//! What a subscriber registry answers: whether an address was new, who is subscribed with which
//! filter policy, and why it could not answer.

use crate::{BoxError, email::Email, notify::filter::FilterPolicy};

/// What `add` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// A new subscription: a confirmation mail is on its way.
    New,
    /// The address was already subscribed (or pending): nothing changed, its choice neither.
    Existing,
}

/// One subscriber and the filter policy of its choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The address.
    pub email: Email,
    /// `None`: every message (every trading day).
    pub filter_policy: Option<FilterPolicy>,
}

/// Why the registry could not answer.
#[derive(Debug, thiserror::Error)]
pub enum SubscribersError {
    /// Reading or writing the registry failed.
    #[error("cannot update the subscribers in {registry}")]
    Registry { registry: String, source: BoxError },
    /// A stored subscriber has a filter policy this service cannot match.
    #[error("the subscriber {email} in {registry} has a filter policy that cannot be used")]
    Policy { registry: String, email: String, source: BoxError },
}

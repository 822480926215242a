//! What a subscriber registry answers: whether an address was new, and why it could not answer.

use crate::BoxError;

/// What `add` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// A new subscription: a confirmation mail is on its way.
    New,
    /// The address was already subscribed (or pending): nothing changed.
    Existing,
}

/// Why the registry could not answer.
#[derive(Debug, thiserror::Error)]
pub enum SubscribersError {
    /// Reading or writing the registry failed.
    #[error("cannot update the subscribers in {registry}")]
    Registry { registry: String, source: BoxError },
}

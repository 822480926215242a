//! The job's error type: a failed run and the exit code it earns. Used by the configuration and
//! the run alike; it uses nothing of theirs.

/// A failed run and the exit code it earns.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Bad input or configuration: exit 2.
    BadInput(anyhow::Error),
    /// Anything else: exit 1.
    Failed(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(err: anyhow::Error) -> Failure {
        Failure::Failed(err)
    }
}

/// Marks an error as bad input (exit 2).
pub(crate) fn bad_input(err: anyhow::Error) -> Failure {
    Failure::BadInput(err)
}

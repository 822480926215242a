//! What every object store shares: checked keys and prefixes, and why an operation failed.
//!
//! Keys are [`ObjectKey`]s, checked once when made, so no adapter ever sees `..`, an absolute path
//! or an empty segment. The store knows objects, not what they mean: the report layout lives in
//! [`crate::reports`].

use crate::BoxError;

/// An object key: `/`-separated segments of ASCII letters, digits, `.`, `_` and `-`; no empty, `.`
/// or `..` segment; at most 1024 bytes. Valid as an S3 key and as a relative path on any OS.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey(String);

/// Why a key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("object key {key:?} is not allowed: {reason}")]
pub struct InvalidKey {
    /// The rejected key.
    pub key: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl ObjectKey {
    /// Checks and wraps a key.
    pub fn new(key: &str) -> Result<ObjectKey, InvalidKey> {
        let invalid = |reason| Err(InvalidKey { key: key.to_owned(), reason });
        if key.is_empty() || key.len() > 1024 {
            return invalid("it must have 1 to 1024 bytes");
        }
        if key.starts_with('/') {
            return invalid("it must not be absolute");
        }
        for segment in key.split('/') {
            if segment.is_empty() {
                return invalid("it has an empty segment");
            }
            if segment == "." || segment == ".." {
                return invalid("it has a `.` or `..` segment");
            }
            if !segment.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) {
                return invalid("only ASCII letters, digits, `.`, `_`, `-` and `/` are allowed");
            }
        }
        Ok(ObjectKey(key.to_owned()))
    }
}

crate::text::checked_text!(ObjectKey);

/// A key prefix that names a folder: valid key segments followed by `/`, e.g. `reports/dma-11-22/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyPrefix(String);

impl KeyPrefix {
    /// Checks and wraps a prefix: a valid key followed by `/`.
    pub fn new(prefix: &str) -> Result<KeyPrefix, InvalidKey> {
        let Some(folder) = prefix.strip_suffix('/') else {
            return Err(InvalidKey { key: prefix.to_owned(), reason: "a prefix must end with `/`" });
        };
        ObjectKey::new(folder).map_err(|err| InvalidKey { key: prefix.to_owned(), reason: err.reason })?;
        Ok(KeyPrefix(prefix.to_owned()))
    }
}

crate::text::checked_text!(KeyPrefix);

/// Which version of an object a reader saw: its ETag in S3, its file identity in a folder. Two
/// equal versions of one key have the same body; a rewrite gets a new version.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version(pub(crate) String);

/// What [`ObjectStore::get_if_changed`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// There is no object under the key.
    Missing,
    /// The object is still the version asked with.
    Unchanged,
    /// The object, and the version to ask with next time.
    Changed { body: Vec<u8>, version: Version },
}

/// Why an object-store operation failed. The message names the key and the store; the cause is `source`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Reading failed (a missing object is not an error: it is `None`).
    #[error("cannot read {key} from {store}")]
    Read { key: String, store: String, source: BoxError },
    /// Writing failed; nothing was half-written.
    #[error("cannot write {key} to {store}")]
    Write { key: String, store: String, source: BoxError },
    /// Listing failed.
    #[error("cannot list {prefix} in {store}")]
    List { prefix: String, store: String, source: BoxError },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_could_escape_the_folder_are_refused() {
        for key in ["", "/etc/passwd", "a//b", "a/", "../x", "a/../b", "a/./b", "a\\b", "a b", "报告.txt"] {
            assert!(ObjectKey::new(key).is_err(), "{key:?}");
        }
        for key in ["reports/dma-11-22/20261127.txt", "state/published/20261127", "a", ".hidden"] {
            assert!(ObjectKey::new(key).is_ok(), "{key:?}");
        }
    }
}

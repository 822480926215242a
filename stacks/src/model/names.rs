//! Names checked when they are made: logical ids and S3 key prefixes, and the error for a name
//! that is not valid.

use std::fmt;

use serde::Serialize;

/// Why a name cannot be used. Each variant names the offending value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidName {
    #[error("logical id {0:?} is not 1 to 255 ASCII letters or digits")]
    LogicalId(String),
    #[error("key prefix {0:?} is not a non-empty path ending in '/' without '*' or '$'")]
    KeyPrefix(String),
}

/// A logical id: 1 to 255 ASCII letters or digits, unique in its template.
///
/// Changing a resource's id makes CloudFormation replace the resource, so ids are API: they are
/// chosen by hand and never derived from anything that may change.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct LogicalId(String);

impl LogicalId {
    pub fn new(id: &str) -> Result<LogicalId, InvalidName> {
        let valid = (1..=255).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric());
        if !valid {
            return Err(InvalidName::LogicalId(id.to_owned()));
        }
        Ok(LogicalId(id.to_owned()))
    }

    /// The id of a resource a construct adds for itself: `Reports` + `Policy` is `ReportsPolicy`.
    pub fn child(&self, suffix: &str) -> Result<LogicalId, InvalidName> {
        LogicalId::new(&format!("{}{suffix}", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LogicalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An S3 key prefix such as `reports/`: non-empty, ends with `/`, no wildcard or `${}` syntax,
/// so a grant built from it cannot widen by accident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPrefix(String);

impl KeyPrefix {
    pub fn new(prefix: &str) -> Result<KeyPrefix, InvalidName> {
        let valid = prefix.len() > 1
            && prefix.ends_with('/')
            && !prefix.starts_with('/')
            && !prefix.contains(['*', '$', '?'])
            && prefix.bytes().all(|b| b.is_ascii_graphic());
        if !valid {
            return Err(InvalidName::KeyPrefix(prefix.to_owned()));
        }
        Ok(KeyPrefix(prefix.to_owned()))
    }

    /// The prefix, ending in `/`: what a grant's object ARN is built from.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logical_ids_are_letters_and_digits_only() {
        assert!(LogicalId::new("Reports2").is_ok());
        for bad in ["", "reports-bucket", "Reports_Bucket", "Repörts", &"A".repeat(256)] {
            assert!(LogicalId::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn key_prefixes_cannot_widen_a_grant() {
        assert!(KeyPrefix::new("reports/").is_ok());
        for bad in ["", "/", "reports", "reports/*", "${AWS::Region}/", "/reports/"] {
            assert!(KeyPrefix::new(bad).is_err(), "{bad:?}");
        }
    }
}

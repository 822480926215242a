//! E-mail addresses, checked once at the edge.
//!
//! Domain; uses nothing else of the crate.

/// An e-mail address: `local@domain`, at most 254 bytes, no spaces or control characters, a domain
/// of dot-separated labels with at least one dot. Stored in lower case: SNS and mail servers treat
/// `A@Example.com` and `a@example.com` as one subscriber in practice.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Email(String);

/// Why a text is not an e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a valid email address: {reason}")]
pub struct InvalidEmail {
    /// The rejected text.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl Email {
    /// Checks an address.
    pub fn parse(text: &str) -> Result<Email, InvalidEmail> {
        let invalid = |reason| Err(InvalidEmail { text: text.to_owned(), reason });
        let address = text.trim();
        if address.is_empty() {
            return invalid("it is empty");
        }
        if address.len() > 254 {
            return invalid("it is longer than 254 characters");
        }
        if address
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | ',' | ';' | '(' | ')' | '\\'))
        {
            return invalid("it contains spaces or characters not allowed in an address");
        }
        let Some((local, domain)) = address.rsplit_once('@') else {
            return invalid("it has no @");
        };
        if local.is_empty() || local.len() > 64 || local.contains('@') {
            return invalid("the part before @ must have 1 to 64 characters and no @");
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return invalid("the part before @ has a misplaced dot");
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |label: &&str| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return invalid("the domain after @ must look like example.com");
        }
        Ok(Email(address.to_lowercase()))
    }
}

crate::text::checked_text!(Email);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_addresses_are_accepted_and_lowercased() {
        assert_eq!(Email::parse(" Investor.Li+etf@Example.COM ").unwrap().as_str(), "investor.li+etf@example.com");
        assert!(Email::parse("a@b.cn").is_ok());
    }

    #[test]
    fn malformed_addresses_are_refused_with_a_reason() {
        for text in [
            "",
            "no-at",
            "@example.com",
            "a@",
            "a@localhost",
            "a b@example.com",
            "a@exa mple.com",
            "a@-x.com",
            "a..b@x.com",
            "<a@x.com>",
            "a@x..com",
            "a@x.com\nBcc: b@y.com",
        ] {
            let err = Email::parse(text).unwrap_err();
            assert!(err.to_string().contains("not a valid email address"), "{text:?}: {err}");
        }
    }
}

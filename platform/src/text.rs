//! What every checked text type shares: a `struct Name(String)` whose constructor checks the text
//! once ([`crate::fund::FundCode`], [`crate::email::Email`], [`crate::store::ObjectKey`], ...)
//! reads it back the same way; and [`error_chain`], an error with its sources on one line.
//!
//! Domain; uses nothing else of the crate.

/// Gives the checked text type `$name` (a tuple struct over a `String`) `as_str`, `Display` and
/// `AsRef<str>`, all of them the text as it was checked.
macro_rules! checked_text {
    ($name:ident) => {
        impl $name {
            /// The text, as it was checked.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

pub(crate) use checked_text;

/// An error and its sources on one line, `: `-separated, as `{err:#}` prints an anyhow chain.
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

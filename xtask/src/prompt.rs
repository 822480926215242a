//! Questions to the user, and what happens without a terminal to ask them on.
//!
//! A command that would ask, run without a terminal and without `--yes`, fails at once saying
//! so: it never waits on a stdin nobody types into.

use std::io::{BufRead, IsTerminal, Write};

/// Asks, or answers yes for the user (`--yes`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Prompt {
    pub(crate) yes: bool,
}

impl Prompt {
    /// Fails unless a question about `what` could be asked or is answered by `--yes`. Commands
    /// call this before any work when they know they will ask, so they fail at once.
    pub(crate) fn ensure_can_ask(self, what: &str) -> anyhow::Result<()> {
        if self.yes || std::io::stdin().is_terminal() {
            return Ok(());
        }
        anyhow::bail!("{what} needs confirmation, but stdin is not a terminal: run it in a terminal or pass --yes")
    }

    /// A yes/no question; anything but `y` or `yes` is no.
    pub(crate) fn confirm(self, question: &str) -> anyhow::Result<bool> {
        if self.yes {
            eprintln!("{question} yes (--yes)");
            return Ok(true);
        }
        self.ensure_can_ask(question)?;
        let answer = ask(&format!("{question} [y/N] "))?;
        Ok(matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
    }

    /// Asks the user to type `expected` (a stage name) to go on.
    pub(crate) fn confirm_typed(self, question: &str, expected: &str) -> anyhow::Result<bool> {
        if self.yes {
            eprintln!("{question} (--yes)");
            return Ok(true);
        }
        self.ensure_can_ask(question)?;
        let answer = ask(&format!("{question}\nType {expected:?} to go on: "))?;
        Ok(answer.trim() == expected)
    }
}

fn ask(question: &str) -> anyhow::Result<String> {
    let mut stderr = std::io::stderr();
    stderr.write_all(question.as_bytes())?;
    stderr.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer)
}

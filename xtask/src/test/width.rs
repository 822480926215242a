//! Every line of code fits rustfmt's `max_width`: a check of every `.rs` file, run by `cargo test`.
//!
//! When rustfmt cannot fit an item in `max_width` (a string literal too long to break, say) it
//! leaves the whole item as written and `cargo fmt --check` still passes: the item is never
//! formatted. An over-wide line of code is the mark of such an item, so this check fails on it.
//! Exempt are lines rustfmt could not change anyway: comments, and lines that start with a string
//! literal or inside one (the literal is then alone on its line, so the code around it was formatted).
//! Widths are counted as rustfmt counts them, in Unicode display columns (a CJK character is two).

use std::path::{Path, PathBuf};

use unicode_width::UnicodeWidthStr;

/// Where a line starts: in code, or inside a literal or comment that began on an earlier line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Code,
    /// A `"..."` string.
    Str,
    /// A raw string closed by `"` and this many `#`.
    RawStr(usize),
    /// A block comment, nested this deep.
    Comment(usize),
}

/// The lines of `source` wider than `max_width` that are code: `(line number, width)`.
pub(crate) fn overwide_lines(source: &str, max_width: usize) -> Vec<(usize, usize)> {
    let mut state = State::Code;
    let mut found = Vec::new();
    for (index, line) in source.lines().enumerate() {
        let starts_in_code = state == State::Code;
        let head = line.trim_start();
        let head = head.strip_prefix("expect![[").unwrap_or(head);
        let exempt = !starts_in_code || head.starts_with("//") || head.starts_with("/*") || starts_with_string(head);
        let width = line.width();
        if width > max_width && !exempt {
            found.push((index + 1, width));
        }
        state = advance(state, line);
    }
    found
}

fn starts_with_string(text: &str) -> bool {
    let text = text.strip_prefix('b').unwrap_or(text);
    let text = text.strip_prefix('r').map(|it| it.trim_start_matches('#')).unwrap_or(text);
    text.starts_with('"')
}

/// The state after `line`, from `state` at its start.
fn advance(mut state: State, line: &str) -> State {
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let rest = &chars[i..];
        match state {
            State::Code => {
                if rest.starts_with(&['/', '/']) {
                    return State::Code;
                } else if rest.starts_with(&['/', '*']) {
                    state = State::Comment(1);
                    i += 2;
                } else if let Some(hashes) = raw_string_opening(&chars, i) {
                    state = State::RawStr(hashes);
                    i += hashes + if chars[i] == 'b' { 3 } else { 2 };
                } else if chars[i] == '"' {
                    state = State::Str;
                    i += 1;
                } else if chars[i] == '\'' && rest.get(1) == Some(&'\\') {
                    i += 2 + rest[2..].iter().position(|it| *it == '\'').map_or(rest.len(), |it| it + 1);
                } else if chars[i] == '\'' && rest.get(2) == Some(&'\'') {
                    i += 3;
                } else {
                    i += 1;
                }
            }
            State::Str => {
                if chars[i] == '\\' {
                    i += 2;
                } else {
                    if chars[i] == '"' {
                        state = State::Code;
                    }
                    i += 1;
                }
            }
            State::RawStr(hashes) => {
                if chars[i] == '"' && rest[1..].iter().take(hashes).filter(|it| **it == '#').count() == hashes {
                    state = State::Code;
                    i += 1 + hashes;
                } else {
                    i += 1;
                }
            }
            State::Comment(depth) => {
                if rest.starts_with(&['*', '/']) {
                    state = if depth == 1 { State::Code } else { State::Comment(depth - 1) };
                    i += 2;
                } else if rest.starts_with(&['/', '*']) {
                    state = State::Comment(depth + 1);
                    i += 2;
                } else {
                    i += 1;
                }
            }
        }
    }
    state
}

/// The number of `#` of the raw string (`r"`, `r#"`, `br#"`) opening at `i`, if one does.
fn raw_string_opening(chars: &[char], i: usize) -> Option<usize> {
    if i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') {
        return None;
    }
    let start = match (chars.get(i), chars.get(i + 1)) {
        (Some('r'), _) => i + 1,
        (Some('b'), Some('r')) => i + 2,
        _ => return None,
    };
    let hashes = chars[start..].iter().take_while(|it| **it == '#').count();
    (chars.get(start + hashes) == Some(&'"')).then_some(hashes)
}

/// `max_width` of the workspace's `rustfmt.toml`.
fn max_width(root: &Path) -> usize {
    let config = std::fs::read_to_string(root.join("rustfmt.toml")).expect("reading rustfmt.toml");
    config
        .lines()
        .find_map(|line| line.strip_prefix("max_width")?.trim().strip_prefix('=')?.trim().parse().ok())
        .expect("rustfmt.toml sets max_width")
}

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if path.is_dir() && !name.starts_with('.') && name != "target" && name != "node_modules" {
            rust_files(&path, files);
        } else if name.ends_with(".rs") {
            files.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overwide_line_of_code_is_found_and_literals_and_comments_are_not() {
        let source = concat!(
            "fn f() {\n",
            "    let x = call(\"a literal that makes the line too wide for ten\");\n",
            "    // a comment much wider than ten columns\n",
            "    \"a lone literal wider than ten\",\n",
            "    r#\"a raw literal\n",
            "inside the raw literal, wider than ten\n",
            "    \"#;\n",
            "    expect![[r#\"a snapshot wider than ten\"#]];\n",
            "    /* a block\n",
            "       comment wider than ten */ x\n",
            "    一二三四五六\n",
            "}\n",
        );
        assert_eq!(overwide_lines(source, 10), [(2, 67), (11, 16)]);
    }

    #[test]
    fn every_line_of_code_in_the_workspace_fits_rustfmt_max_width() {
        let root = crate::project_root();
        let max_width = max_width(&root);
        let mut files = Vec::new();
        rust_files(&root, &mut files);
        files.sort();
        let mut found = Vec::new();
        for file in files {
            let source = std::fs::read_to_string(&file).unwrap();
            for (line, width) in overwide_lines(&source, max_width) {
                found.push(format!("{}:{line}: {width} columns", file.strip_prefix(&root).unwrap().display()));
            }
        }
        assert!(
            found.is_empty(),
            "lines wider than max_width = {max_width}: rustfmt leaves their items unformatted \
             (split the literal, e.g. with concat!):\n{}",
            found.join("\n")
        );
    }
}

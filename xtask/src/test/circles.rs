//! No import circles between files: a check of every crate's `src/`, run by `cargo test`.
//!
//! A file *uses* another when it names an item through a path that resolves into the other's
//! module: `use crate::a::b::C`, `use super::x`, `crate::a::f()` in code, or `use child::X` of a
//! child module it declares. Comments, string literals and `#[cfg(test)] mod ... { }` blocks are
//! not read (tests may use anything). A child declared by `mod x;` is not a use. Two files that use
//! each other, or any longer loop, is a circle: each is a strongly connected group of the graph.
//!
//! The reading is textual, not a parse: it knows what `rustfmt`-formatted code looks like, which
//! is all this workspace has (`cargo fmt --check` runs first).

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

/// The import circles of the crate whose sources are in `src`: each group sorted, as paths
/// relative to `src`.
pub(crate) fn circles(src: &Path) -> std::io::Result<Vec<Vec<PathBuf>>> {
    let files = rust_files(src)?;
    let modules: BTreeMap<Vec<String>, PathBuf> =
        files.iter().map(|file| (module_path(src, file), file.clone())).collect();
    let mut edges: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    for file in &files {
        let own = module_path(src, file);
        let text = code_only(&std::fs::read_to_string(file)?);
        let targets = edges.entry(file.clone()).or_default();
        for path in paths(&text) {
            let Some(absolute) = resolve(&own, &path) else { continue };
            let used = (0..=absolute.len()).rev().find_map(|len| modules.get(&absolute[..len]));
            if let Some(used) = used.filter(|it| *it != file) {
                targets.insert(used.clone());
            }
        }
    }
    let groups = strongly_connected(&edges);
    Ok(groups
        .into_iter()
        .filter(|group| group.len() > 1)
        .map(|group| {
            let mut group: Vec<PathBuf> =
                group.iter().map(|it| it.strip_prefix(src).unwrap_or(it).to_owned()).collect();
            group.sort();
            group
        })
        .collect())
}

fn rust_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(rust_files(&path)?);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The module a file defines: `a/b.rs` and `a/b/mod.rs` are `a::b`; `lib.rs` and `main.rs` the root.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap_or(file).with_extension("");
    let mut segments: Vec<String> =
        relative.components().map(|it| it.as_os_str().to_string_lossy().into_owned()).collect();
    if segments.len() == 1 && matches!(segments[0].as_str(), "lib" | "main")
        || segments.last().is_some_and(|it| it == "mod")
    {
        segments.pop();
    }
    segments
}

/// The source without comments, string and character literals, and `#[cfg(test)]` modules.
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let rest = &chars[i..];
        if rest.starts_with(&['/', '/']) {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if rest.starts_with(&['/', '*']) {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i..].starts_with(&['/', '*']) {
                    depth += 1;
                    i += 2;
                } else if chars[i..].starts_with(&['*', '/']) {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if let Some(end) = raw_string_end(&chars, i) {
            out.push_str("\"\"");
            i = end;
        } else if chars[i] == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            out.push_str("\"\"");
            i += 1;
        } else if chars[i] == '\'' && rest.get(1) == Some(&'\\') {
            // An escaped character literal: '\n', '\'', '\u{..}'.
            i += 2;
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            i += 1;
        } else if chars[i] == '\'' && rest.get(2) == Some(&'\'') {
            i += 3;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    without_test_modules(&out)
}

/// Where the raw string (`r"..."`, `r#"..."#`, also `br`) starting at `i` ends, if one does.
fn raw_string_end(chars: &[char], i: usize) -> Option<usize> {
    let word_before = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
    if word_before || chars[i] != 'r' && !(chars[i] == 'b' && chars.get(i + 1) == Some(&'r')) {
        return None;
    }
    let mut j = if chars[i] == 'b' { i + 2 } else { i + 1 };
    let hashes = chars[j..].iter().take_while(|it| **it == '#').count();
    j += hashes;
    if chars.get(j) != Some(&'"') {
        return None;
    }
    j += 1;
    while j < chars.len() {
        if chars[j] == '"' && chars[j + 1..].iter().take(hashes).filter(|it| **it == '#').count() == hashes {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(chars.len())
}

fn without_test_modules(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "#[cfg(test)]".len()..];
        let item = after.trim_start();
        let is_inline_module = item.strip_prefix("pub ").unwrap_or(item).starts_with("mod ")
            && item.find(['{', ';']).is_some_and(|it| item.as_bytes()[it] == b'{');
        if !is_inline_module {
            out.push_str("#[cfg(test)]");
            rest = after;
            continue;
        }
        let open = after.find('{').expect("checked above");
        let mut depth = 0;
        let mut end = after.len();
        for (offset, byte) in after[open..].bytes().enumerate() {
            match byte {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + offset + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Every path the code names that may point into the crate: the expanded `use` trees, and the
/// `crate::`/`super::` paths written in code. Paths through declared child modules start with `self`.
fn paths(code: &str) -> Vec<Vec<String>> {
    let children: BTreeSet<&str> = code
        .split(';')
        .filter_map(|statement| match statement.split_whitespace().collect::<Vec<_>>().as_slice() {
            [.., "mod", name] => Some(*name),
            _ => None,
        })
        .collect();
    let mut found = Vec::new();
    for statement in code.split(';') {
        let Some(at) = find_word(statement, "use") else { continue };
        let tree: String = statement[at + 3..].chars().filter(|it| !it.is_whitespace()).collect();
        for path in expand(&tree) {
            match path.first().map(String::as_str) {
                Some("crate" | "super" | "self") => found.push(path),
                Some(first) if children.contains(first) => {
                    found.push(std::iter::once("self".to_owned()).chain(path).collect());
                }
                _ => {}
            }
        }
    }
    for keyword in ["crate::", "super::"] {
        for (at, _) in code.match_indices(keyword) {
            let before = code[..at].chars().next_back();
            if before.is_some_and(|it| it.is_alphanumeric() || it == '_' || it == ':') {
                continue;
            }
            let path: String =
                code[at..].chars().take_while(|it| it.is_alphanumeric() || *it == '_' || *it == ':').collect();
            let path: Vec<String> = path.split("::").filter(|it| !it.is_empty()).map(str::to_owned).collect();
            // `crate::{` and `super::super::{` open a `use` tree, read above.
            if path.iter().any(|it| it != "crate" && it != "super") {
                found.push(path);
            }
        }
    }
    found
}

/// The byte offset of `word` as a whole word at the start of a statement's item (after attributes
/// and visibility), if it is there.
fn find_word(statement: &str, word: &str) -> Option<usize> {
    let mut offset = 0;
    for token in statement.split_inclusive(char::is_whitespace) {
        let trimmed = token.trim();
        if trimmed == word {
            return Some(offset + token.find(word).unwrap_or(0));
        }
        let is_prefix = trimmed.is_empty()
            || trimmed.starts_with("pub")
            || trimmed.starts_with("#[")
            || trimmed.ends_with(']')
            || trimmed.ends_with('}');
        if !is_prefix {
            return None;
        }
        offset += token.len();
    }
    None
}

/// The paths of a `use` tree without whitespace: `a::{b,c::{d,e}}` is `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<Vec<String>> {
    let tree = tree.split(" as ").next().unwrap_or(tree);
    let Some(open) = tree.find('{') else {
        let path: Vec<String> = tree.split("::").filter(|it| !it.is_empty()).map(str::to_owned).collect();
        return vec![path];
    };
    let head: Vec<String> = tree[..open].split("::").filter(|it| !it.is_empty()).map(str::to_owned).collect();
    let body = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (at, ch) in body.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&body[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    parts.push(&body[start..]);
    parts
        .into_iter()
        .filter(|it| !it.is_empty())
        .flat_map(|part| {
            expand(part).into_iter().map(|tail| {
                let tail = if tail.first().is_some_and(|it| it == "self") { &tail[1..] } else { &tail[..] };
                head.iter().cloned().chain(tail.iter().cloned()).collect()
            })
        })
        .collect()
}

/// The crate-absolute module path `path` names from module `own`, or `None` when it leaves the crate.
fn resolve(own: &[String], path: &[String]) -> Option<Vec<String>> {
    let (mut base, rest) = match path.first().map(String::as_str) {
        Some("crate") => (Vec::new(), &path[1..]),
        Some("self") => (own.to_vec(), &path[1..]),
        Some("super") => {
            let supers = path.iter().take_while(|it| *it == "super").count();
            (own[..own.len().checked_sub(supers)?].to_vec(), &path[supers..])
        }
        _ => return None,
    };
    base.extend(rest.iter().filter(|it| it.as_str() != "*").cloned());
    Some(base)
}

/// Tarjan's strongly connected components.
fn strongly_connected(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<Vec<PathBuf>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        index: BTreeMap<&'a PathBuf, usize>,
        low: BTreeMap<&'a PathBuf, usize>,
        stack: Vec<&'a PathBuf>,
        groups: Vec<Vec<PathBuf>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, node: &'a PathBuf) {
            let number = self.index.len();
            self.index.insert(node, number);
            self.low.insert(node, number);
            self.stack.push(node);
            for next in self.edges.get(node).into_iter().flatten() {
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.stack.contains(&next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut group = Vec::new();
                while let Some(member) = self.stack.pop() {
                    group.push(member.clone());
                    if member == node {
                        break;
                    }
                }
                self.groups.push(group);
            }
        }
    }
    let mut walk = Walk { edges, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), groups: Vec::new() };
    for node in edges.keys() {
        if !walk.index.contains_key(node) {
            walk.visit(node);
        }
    }
    walk.groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crate_of(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    fn names(groups: Vec<Vec<PathBuf>>) -> Vec<Vec<String>> {
        groups.into_iter().map(|group| group.iter().map(|it| it.display().to_string()).collect()).collect()
    }

    #[test]
    fn two_files_that_use_each_other_are_a_circle_and_a_loop_of_three_is_one_too() {
        let dir = crate_of(&[
            ("lib.rs", "mod a;\nmod b;\nmod c;\nmod d;\nmod e;\n"),
            ("a.rs", "use crate::b::B;\npub struct A;\n"),
            ("b.rs", "use crate::{c::C, d};\npub struct B;\n"),
            ("c.rs", "pub struct C;\nfn f() { super::a::A; }\n"),
            ("d.rs", "use crate::e::{self, E};\n"),
            ("e.rs", "pub(crate) use super::d as dee;\n"),
        ]);
        assert_eq!(names(circles(dir.path()).unwrap()), [vec!["d.rs", "e.rs"], vec!["a.rs", "b.rs", "c.rs"]]);
    }

    #[test]
    fn tests_comments_strings_and_child_declarations_are_not_uses() {
        let dir = crate_of(&[
            ("lib.rs", "pub mod port;\npub mod domain;\n"),
            ("port/mod.rs", "mod adapter;\npub use adapter::Adapter;\nuse crate::domain::Value;\n"),
            (
                "port/adapter.rs",
                "use super::super::{domain::Value};\n// use crate::port::Port;\n\
                 const TEXT: &str = \"crate::port::x\";\nconst RAW: &str = r#\"use super::Port;\"#;\n\
                 #[cfg(test)]\nmod tests {\n    use crate::port::Port;\n    fn f() { let _ = '{'; }\n}\n",
            ),
            ("domain.rs", "pub struct Value;\n/* crate::port::Port */\n"),
        ]);
        assert!(circles(dir.path()).unwrap().is_empty());
    }

    #[test]
    fn a_child_that_imports_through_its_parents_re_export_is_a_circle() {
        let dir = crate_of(&[
            ("main.rs", "mod market;\n"),
            ("market/mod.rs", "mod tushare;\npub use tushare::Source;\npub struct Error;\n"),
            ("market/tushare.rs", "use super::Error;\npub struct Source;\n"),
        ]);
        assert_eq!(names(circles(dir.path()).unwrap()), [vec!["market/mod.rs", "market/tushare.rs"]]);
    }

    #[test]
    fn no_file_of_the_workspace_is_in_an_import_circle() {
        let root = crate::project_root();
        let mut found = Vec::new();
        for member in ["platform", "functions", "jobs", "stacks", "xtask", "test-support"] {
            let src = root.join(member).join("src");
            if !src.exists() {
                continue;
            }
            for group in circles(&src).unwrap() {
                let group: Vec<String> = group.iter().map(|it| format!("{member}/src/{}", it.display())).collect();
                found.push(group.join(" <-> "));
            }
        }
        assert!(
            found.is_empty(),
            "import circles between files (break each by moving what both need):\n{}",
            found.join("\n")
        );
    }
}

//! Writes a template's JSON as YAML that every YAML reader reads back as the same JSON.
//!
//! `serde_yaml` writes the string `OFF` without quotes; YAML 1.1 readers, which CloudFormation
//! and cfn-lint are, read that as `false` (and `ON`, `yes`, `no`, `y`, `n` likewise). This writer
//! leaves a string unquoted only when it cannot be read as anything but that string, and quotes
//! everything else JSON-style (a JSON string is a valid YAML double-quoted scalar).
//! Keys keep the order of the JSON object (sorted), so the output is deterministic.

use serde_json::{Map, Value};

/// `value` as a YAML document.
pub(crate) fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        scalar => {
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
    out
}

fn write_map(out: &mut String, map: &Map<String, Value>, indent: usize) {
    for (key, value) in map {
        push_indent(out, indent);
        out.push_str(&string_text(key));
        out.push(':');
        match value {
            Value::Object(inner) if !inner.is_empty() => {
                out.push('\n');
                write_map(out, inner, indent + 2);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                write_seq(out, items, indent);
            }
            scalar => {
                out.push(' ');
                out.push_str(&scalar_text(scalar));
                out.push('\n');
            }
        }
    }
}

fn write_seq(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        push_indent(out, indent);
        out.push_str("- ");
        match item {
            Value::Object(inner) if !inner.is_empty() => {
                // The item's first key goes on the dash's line, the others under it.
                let mut nested = String::new();
                write_map(&mut nested, inner, indent + 2);
                out.push_str(&nested[indent + 2..]);
            }
            Value::Array(inner) if !inner.is_empty() => {
                let mut nested = String::new();
                write_seq(&mut nested, inner, indent + 2);
                out.push_str(&nested[indent + 2..]);
            }
            scalar => {
                out.push_str(&scalar_text(scalar));
                out.push('\n');
            }
        }
    }
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(it) => it.to_string(),
        Value::Number(it) => it.to_string(),
        Value::String(it) => string_text(it),
        Value::Object(_) => "{}".to_owned(),
        Value::Array(_) => "[]".to_owned(),
    }
}

/// A string plain when that is unambiguous, else double-quoted.
fn string_text(text: &str) -> String {
    if is_plain_safe(text) {
        text.to_owned()
    } else {
        serde_json::to_string(text).expect("a string always serializes to JSON")
    }
}

/// Words that some YAML version reads as a boolean or null.
const RESERVED: &[&str] = &["y", "n", "yes", "no", "true", "false", "on", "off", "null", "~"];

fn is_plain_safe(text: &str) -> bool {
    let Some(first) = text.chars().next() else { return false };
    let allowed = |c: char| c.is_ascii_alphanumeric() || " _./:@()*+=$-?".contains(c);
    (first.is_ascii_alphabetic() || first == '/' || first == '_' || first == '$')
        && text.chars().all(allowed)
        && !text.ends_with([' ', ':'])
        && !text.contains(": ")
        && !RESERVED.contains(&text.to_ascii_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use expect_test::expect;
    use serde_json::json;

    use super::*;

    #[test]
    fn ambiguous_strings_are_quoted_and_plain_ones_are_not() {
        let value = json!({
            "Mode": "OFF",
            "Yes": ["yes", "No", "y", "on", "null", "~", "true"],
            "Version": "2012-10-17",
            "Cpu": "256",
            "Empty": "",
            "Cron": "cron(0 18 ? * MON-FRI *)",
            "Colon": "a: b",
            "Hash": "a #b",
            "Route": "$default",
            "Pattern": "^sha256:[0-9a-f]{64}$",
            "Number": 10.5,
            "Flag": true,
        });
        expect![[r#"
            Colon: "a: b"
            Cpu: "256"
            Cron: cron(0 18 ? * MON-FRI *)
            Empty: ""
            Flag: true
            Hash: "a #b"
            Mode: "OFF"
            Number: 10.5
            Pattern: "^sha256:[0-9a-f]{64}$"
            Route: $default
            Version: "2012-10-17"
            "Yes":
            - "yes"
            - "No"
            - "y"
            - "on"
            - "null"
            - "~"
            - "true"
        "#]]
        .assert_eq(&to_yaml(&value));
    }

    #[test]
    fn nested_maps_and_lists_are_block_style() {
        let value = json!({ "A": [{ "B": 1, "C": [[1, 2], {}] }, []], "D": { "E": { "F": "g" } } });
        expect![[r#"
            A:
            - B: 1
              C:
              - - 1
                - 2
              - {}
            - []
            D:
              E:
                F: g
        "#]]
        .assert_eq(&to_yaml(&value));
    }

    #[test]
    fn a_yaml_reader_reads_back_the_same_json() {
        let value = json!({
            "Mode": "OFF", "List": ["yes", "1", 1, "-1", "a\nb", "quote\"d", "tab\t", "ünï", ""],
            "Nested": [{ "K": [{ "Deep": ["x"] }] }], "Null": null, "F": 1.25,
        });
        let read_back: Value = serde_yaml::from_str(&to_yaml(&value)).unwrap();
        assert_eq!(read_back, value);
    }
}

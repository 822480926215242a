//! One log line made readable: what the job and the functions write, as `LEVEL message  fields`.
//!
//! The job logs through tracing-subscriber's default text format on stderr (`jobs/src/main.rs`
//! `init_tracing`): `<RFC 3339 time>  LEVEL target: message key=value ...`, with ANSI colors,
//! since nothing turns them off in the container; the functions log the same way or, when
//! Lambda's log format is JSON, as JSON objects. The line's own time is dropped (the event's
//! timestamp is printed instead) and so is the target; field names are known exactly from the
//! ANSI italics where there are colors, and read from the trailing `key=value` words where there
//! are none. Anything else (Lambda's `START`/`REPORT` lines, the job's `println!`s) is printed
//! as it is, without its escape codes. Pure: uses nothing of the crate.

use serde_json::Value;

/// A log line as `LEVEL message  key=value ...`, or the line itself, without escape codes.
pub(crate) fn render(line: &str) -> String {
    let line = line.trim_end_matches(['\n', '\r']);
    if line.trim_start().starts_with('{')
        && let Ok(Value::Object(object)) = serde_json::from_str::<Value>(line)
    {
        return render_json(&object);
    }
    let segments = segments(line);
    let plain: String = segments.iter().map(|it| it.text.as_str()).collect();
    match tracing_text(&segments, &plain) {
        Some(event) => event.to_string(),
        None => plain,
    }
}

/// A tracing event as read from a line.
#[derive(Debug, PartialEq, Eq)]
struct Event {
    level: String,
    message: String,
    fields: Vec<(String, String)>,
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:<5} {}", self.level, self.message)?;
        for (index, (name, value)) in self.fields.iter().enumerate() {
            let gap = if index == 0 && !self.message.is_empty() {
                "  "
            } else if index == 0 {
                ""
            } else {
                " "
            };
            write!(f, "{gap}{name}={value}")?;
        }
        Ok(())
    }
}

const LEVELS: [&str; 5] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"];

/// A run of text in one ANSI style; `italic` is how tracing-subscriber marks a field's name.
#[derive(Debug)]
struct Segment {
    text: String,
    italic: bool,
}

/// The line cut at its SGR escape sequences (`ESC [ ... m`), which are dropped.
fn segments(line: &str) -> Vec<Segment> {
    let mut res = vec![Segment { text: String::new(), italic: false }];
    let mut rest = line;
    while let Some(start) = rest.find("\u{1b}[") {
        res.last_mut().expect("never empty").text.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find(|c: char| c.is_ascii_alphabetic()) else {
            rest = "";
            break;
        };
        let italic = &after[end..=end] == "m" && after[..end].split(';').any(|it| it == "3");
        res.push(Segment { text: String::new(), italic });
        rest = &after[end + 1..];
    }
    res.last_mut().expect("never empty").text.push_str(rest);
    res.retain(|it| !it.text.is_empty());
    res
}

/// `<time> LEVEL target: message fields` in tracing-subscriber's full text format.
fn tracing_text(segments: &[Segment], plain: &str) -> Option<Event> {
    let mut words = plain.split_whitespace();
    let first = words.next()?;
    let (time_given, level) = if LEVELS.contains(&first) { (false, first) } else { (true, words.next()?) };
    if !LEVELS.contains(&level) || (time_given && !looks_like_time(first)) {
        return None;
    }
    let after_level = &plain[plain.find(level)? + level.len()..];
    let (target, body) = after_level.split_once(": ")?;
    if target.trim().is_empty() || target.trim().contains(' ') {
        return None;
    }
    let body_start = plain.len() - body.len();
    let has_italics = segments.iter().any(|it| it.italic);
    let (message, fields) = if has_italics { fields_by_style(segments, body_start) } else { fields_by_words(body) };
    Some(Event { level: level.to_owned(), message, fields })
}

fn looks_like_time(word: &str) -> bool {
    word.len() >= 20 && word.as_bytes()[4] == b'-' && word.contains('T')
}

/// Message and fields from the styled segments: a field's name is italic, then `=`, then its value.
fn fields_by_style(segments: &[Segment], body_start: usize) -> (String, Vec<(String, String)>) {
    let mut offset = 0;
    let mut message = String::new();
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut in_fields = false;
    for segment in segments {
        let end = offset + segment.text.len();
        let text = if end <= body_start {
            ""
        } else if offset < body_start {
            &segment.text[body_start - offset..]
        } else {
            segment.text.as_str()
        };
        offset = end;
        if text.is_empty() {
            continue;
        }
        if segment.italic {
            in_fields = true;
            fields.push((text.trim().to_owned(), String::new()));
        } else if in_fields {
            let value = &mut fields.last_mut().expect("a field was started").1;
            value.push_str(text);
        } else {
            message.push_str(text);
        }
    }
    for (_, value) in &mut fields {
        *value = value.trim().strip_prefix('=').unwrap_or(value.trim()).to_owned();
    }
    (message.trim().to_owned(), fields)
}

/// Message and fields from plain text: the trailing `name=value` words are the fields.
fn fields_by_words(body: &str) -> (String, Vec<(String, String)>) {
    let mut words: Vec<&str> = body.split(' ').collect();
    let mut fields = Vec::new();
    while let Some(word) = words.last() {
        let Some((name, value)) = word.split_once('=') else { break };
        let is_name = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !is_name || value.is_empty() {
            break;
        }
        fields.push((name.to_owned(), value.to_owned()));
        words.pop();
    }
    fields.reverse();
    (words.join(" ").trim().to_owned(), fields)
}

/// A JSON line: tracing-subscriber's (`level`, `fields.message`, other fields), Lambda's system
/// records (`type`, `record`) or any object with a `level` and a `message` or `msg`.
fn render_json(object: &serde_json::Map<String, Value>) -> String {
    let text = |value: &Value| match value {
        Value::String(it) => it.clone(),
        other => other.to_string(),
    };
    if let (Some(kind), Some(record)) = (object.get("type"), object.get("record")) {
        return format!("{:<5} {} {}", "", text(kind), record);
    }
    let fields = object.get("fields").and_then(Value::as_object);
    let level = object.get("level").map(text).unwrap_or_default().to_uppercase();
    let message_of = |map: &serde_json::Map<String, Value>| map.get("message").or_else(|| map.get("msg")).map(text);
    let message = fields.and_then(message_of).or_else(|| message_of(object)).unwrap_or_default();
    let skipped = ["message", "msg", "level", "fields", "timestamp", "time", "target", "span", "spans"];
    let mut rest: Vec<(String, String)> = Vec::new();
    for map in fields.into_iter().chain([object]) {
        for (name, value) in map {
            if !skipped.contains(&name.as_str()) {
                rest.push((name.clone(), text(value)));
            }
        }
    }
    Event { level, message, fields: rest }.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(line: &str, expected: &str) {
        assert_eq!(render(line), expected, "{line:?}");
    }

    #[test]
    fn a_colored_tracing_line_of_the_job_shows_level_message_and_fields() {
        // What the job writes in the container, byte for byte (tracing-subscriber 0.3, ANSI on).
        check(
            "\u{1b}[2m2026-12-07T10:00:14.463417Z\u{1b}[0m \u{1b}[33m WARN\u{1b}[0m \u{1b}[2mjobs::prices\u{1b}[0m\
             \u{1b}[2m:\u{1b}[0m no bar on the trade date \u{1b}[3mcode\u{1b}[0m\u{1b}[2m=\u{1b}[0m510300.SH \
             \u{1b}[3mattempts\u{1b}[0m\u{1b}[2m=\u{1b}[0m3",
            "WARN  no bar on the trade date  code=510300.SH attempts=3",
        );
        check(
            "\u{1b}[2m2026-12-07T10:00:14.463457Z\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m \u{1b}[2mplatform::market\
             \u{1b}[0m\u{1b}[2m:\u{1b}[0m prices of 46 securities by trade date: 1 days, up to 2 calls",
            "INFO  prices of 46 securities by trade date: 1 days, up to 2 calls",
        );
    }

    #[test]
    fn a_plain_tracing_line_takes_its_trailing_name_value_words_as_fields() {
        check(
            "2026-12-07T10:00:14.463417Z  WARN jobs::prices: no bar on the trade date code=510300.SH attempts=3",
            "WARN  no bar on the trade date  code=510300.SH attempts=3",
        );
        // An `=` inside the message is not a field when a plain word follows it.
        check("INFO signal::run: ratio a=b is fine", "INFO  ratio a=b is fine");
        check("2026-12-07T10:00:14Z ERROR jobs: failed", "ERROR failed");
    }

    #[test]
    fn json_lines_show_level_message_and_the_other_fields() {
        check(
            r#"{"timestamp":"2026-12-07T10:00:14Z","level":"INFO","fields":{"message":"stored","day":"20261127"},"target":"signal::run"}"#,
            "INFO  stored  day=20261127",
        );
        check(r#"{"level":"error","msg":"boom","code":3}"#, "ERROR boom  code=3");
        check(
            r#"{"time":"2026-12-07T10:00:14Z","type":"platform.start","record":{"requestId":"r-1"}}"#,
            "      platform.start {\"requestId\":\"r-1\"}",
        );
    }

    #[test]
    fn other_lines_are_kept_as_they_are_without_escape_codes() {
        check(
            "20261127: 可买 0, 可卖 1, 持仓 20, 空仓 23, 无法判断 2 -> reports/dma-11-22/20261127.txt (published)",
            "20261127: 可买 0, 可卖 1, 持仓 20, 空仓 23, 无法判断 2 -> reports/dma-11-22/20261127.txt (published)",
        );
        check("START RequestId: 8f5 Version: $LATEST", "START RequestId: 8f5 Version: $LATEST");
        check("\u{1b}[31merror:\u{1b}[0m the deadline fired\n", "error: the deadline fired");
        check("{not json", "{not json");
    }
}

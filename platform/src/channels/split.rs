//! Splitting a digest into messages that each fit a service's size limit: in order, whole lines
//! only, every message with the title (numbered `(1/2)`, `(2/2)`), the footer and the link. Pure.
//!
//! Uses [`super::digest`] only; each format says how it renders a page and how big it is.

use super::digest::{Digest, Signal};

/// One message's share of a digest.
#[derive(Debug, Clone)]
pub struct Page<'d> {
    /// The whole day.
    pub digest: &'d Digest,
    /// The signals this message carries, in order.
    pub signals: Vec<Signal>,
    /// `(n, of)` when the day takes more than one message.
    pub part: Option<(usize, usize)>,
}

impl Page<'_> {
    /// The digest's title, numbered when the day takes several messages.
    pub fn title(&self) -> String {
        match self.part {
            None => self.digest.title.clone(),
            Some((n, of)) => format!("{} ({n}/{of})", self.digest.title),
        }
    }
}

/// The messages of `digest`, each `size` at most `limit` as `render` makes it.
///
/// The whole day in one message when it fits; else as many signal lines per message as fit (the
/// part numbers measured at their widest). A single line too long for any message is shortened,
/// ending with `…`, the only case where a line is cut.
pub fn paginate<T>(
    digest: &Digest,
    limit: usize,
    render: impl Fn(&Page<'_>) -> T,
    size: impl Fn(&T) -> usize,
) -> Vec<T> {
    let whole = render(&Page { digest, signals: digest.signals.clone(), part: None });
    if size(&whole) <= limit || digest.signals.is_empty() {
        return vec![whole];
    }
    let widest = Some((digest.signals.len(), digest.signals.len()));
    let fits = |signals: &[Signal]| size(&render(&Page { digest, signals: signals.to_vec(), part: widest })) <= limit;
    let mut chunks: Vec<Vec<Signal>> = Vec::new();
    let mut current: Vec<Signal> = Vec::new();
    for signal in &digest.signals {
        current.push(signal.clone());
        if fits(&current) {
            continue;
        }
        let last = current.pop().expect("just pushed");
        if !current.is_empty() {
            chunks.push(std::mem::take(&mut current));
        }
        current.push(last);
        if !fits(&current) {
            let mut signal = current.pop().expect("just pushed");
            while !fits(std::slice::from_ref(&signal)) && !signal.line.is_empty() {
                let mut line: String = signal.line.trim_end_matches('…').to_owned();
                line.pop();
                line.push('…');
                if line == "…" {
                    signal.line = line;
                    break;
                }
                signal.line = line;
            }
            chunks.push(vec![signal]);
        }
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    let of = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(idx, signals)| render(&Page { digest, signals, part: Some((idx + 1, of)) }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        date::TradeDate,
        fund::FundCode,
        report::{Counts, Group},
    };

    fn digest(n: usize, line_len: usize) -> Digest {
        let signals = (0..n)
            .map(|idx| Signal {
                group: if idx % 2 == 0 { Group::Buy } else { Group::Sell },
                code: FundCode::parse("510300.SH").unwrap(),
                name: "300ETF".to_owned(),
                line: format!("{idx:03}{}", "x".repeat(line_len.saturating_sub(3))),
            })
            .collect();
        Digest {
            trade_date: TradeDate::parse("20261127").unwrap(),
            title: "T".to_owned(),
            signals,
            counts: Counts::default(),
            link: "https://a/reports/20261127".to_owned(),
            sample_data: false,
        }
    }

    /// A format of one line per signal under the title.
    fn render(page: &Page<'_>) -> String {
        let mut out = page.title();
        for signal in &page.signals {
            out.push('\n');
            out.push_str(&signal.line);
        }
        out
    }

    #[test]
    fn a_day_that_fits_is_one_message_without_a_part_number() {
        let pages = paginate(&digest(3, 10), 100, render, String::len);
        assert_eq!(pages, ["T\n000xxxxxxx\n001xxxxxxx\n002xxxxxxx"]);
    }

    #[test]
    fn a_long_day_is_split_in_order_into_whole_lines_within_the_limit() {
        let day = digest(25, 20);
        let pages = paginate(&day, 120, render, String::len);
        assert!(pages.len() > 1);
        let mut lines = Vec::new();
        for (idx, page) in pages.iter().enumerate() {
            assert!(page.len() <= 120, "{page}");
            let mut page_lines = page.lines();
            assert_eq!(page_lines.next().unwrap(), format!("T ({}/{})", idx + 1, pages.len()));
            lines.extend(page_lines.map(str::to_owned));
        }
        let expected: Vec<String> = day.signals.iter().map(|it| it.line.clone()).collect();
        assert_eq!(lines, expected, "every line once, whole, in order");
    }

    #[test]
    fn only_a_line_longer_than_any_message_is_shortened() {
        let mut day = digest(2, 10);
        day.signals[1].line = "y".repeat(500);
        let pages = paginate(&day, 60, render, String::len);
        assert_eq!(pages.len(), 2);
        assert_eq!(pages[0], "T (1/2)\n000xxxxxxx");
        assert!(pages[1].len() <= 60 && pages[1].ends_with("yyy…"), "{}", pages[1]);
    }
}

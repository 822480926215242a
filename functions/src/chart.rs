//! The chart of a fund on a day page: forward-adjusted closes with both moving averages over the
//! lookback window and the signal day marked, as a small inline SVG written by hand.
//!
//! Only numbers and escaped text go into the SVG, and it uses presentation attributes, never `style`,
//! so the page's content security policy needs no `unsafe-inline`.

use std::fmt::Write;

use platform::{date::TradeDate, report::json::SeriesJson};

use crate::{escape_xml, plot::runs};

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 24.0;

/// Line colours, repeated in the legend's CSS classes.
const CLOSE_COLOUR: &str = "#1f2937";
const SHORT_COLOUR: &str = "#d97706";
const LONG_COLOUR: &str = "#2563eb";
const MARK_COLOUR: &str = "#dc2626";

/// The chart of `series`, with a vertical line on `marked` when it is one of the series' days;
/// `None` when there is nothing to draw.
pub(crate) fn svg(series: &SeriesJson, marked: Option<TradeDate>, title: &str) -> Option<String> {
    let n = series.dates.len().min(series.close.len());
    if n == 0 {
        return None;
    }
    let averages = series.ma_short.iter().chain(&series.ma_long).flatten();
    let values = series.close[..n].iter().chain(averages).copied().filter(|it| it.is_finite());
    let (mut low, mut high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), it| (lo.min(it), hi.max(it)));
    if !low.is_finite() {
        return None;
    }
    if high - low < 1e-9 {
        low -= 0.5;
        high += 0.5;
    }
    let x = |idx: usize| LEFT + (WIDTH - LEFT - RIGHT) * if n == 1 { 0.5 } else { idx as f64 / (n - 1) as f64 };
    let y = |value: f64| TOP + (HEIGHT - TOP - BOTTOM) * (high - value) / (high - low);

    let title = escape_xml(title);
    let mut out = String::with_capacity(256 + n * 40);
    write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" class="chart" role="img" aria-label="{title}"><title>{title}</title>"#
    )
    .expect("writing to a String");
    // Frame and the price range.
    write!(
        out,
        r##"<rect x="{LEFT}" y="{TOP}" width="{}" height="{}" fill="none" stroke="#d1d5db"/>"##,
        WIDTH - LEFT - RIGHT,
        HEIGHT - TOP - BOTTOM
    )
    .expect("writing to a String");
    for value in [high, low] {
        write!(
            out,
            r##"<text x="{}" y="{:.1}" font-size="11" text-anchor="end" fill="#4b5563">{value:.3}</text>"##,
            LEFT - 4.0,
            y(value) + 4.0
        )
        .expect("writing to a String");
    }
    for (idx, anchor) in [(0, "start"), (n - 1, "end")] {
        write!(
            out,
            r##"<text x="{:.1}" y="{}" font-size="11" text-anchor="{anchor}" fill="#4b5563">{}</text>"##,
            x(idx),
            HEIGHT - 6.0,
            series.dates[idx].iso()
        )
        .expect("writing to a String");
    }
    if let Some(idx) = marked.and_then(|day| series.dates[..n].iter().position(|it| *it == day)) {
        write!(
            out,
            r#"<line class="mark" x1="{0:.1}" y1="{TOP}" x2="{0:.1}" y2="{1}" stroke="{MARK_COLOUR}" stroke-dasharray="4 3"/><circle cx="{0:.1}" cy="{2:.1}" r="3.5" fill="{MARK_COLOUR}"/>"#,
            x(idx),
            HEIGHT - BOTTOM,
            y(series.close[idx])
        )
        .expect("writing to a String");
    }
    let close: Vec<Option<f64>> = series.close[..n].iter().map(|it| Some(*it)).collect();
    for (values, colour, class, width) in [
        (&series.ma_long, LONG_COLOUR, "ma-long", 1.5),
        (&series.ma_short, SHORT_COLOUR, "ma-short", 1.5),
        (&close, CLOSE_COLOUR, "close", 1.2),
    ] {
        for run in runs(&values[..values.len().min(n)]) {
            out.push_str(r#"<polyline fill="none" class=""#);
            out.push_str(class);
            write!(out, r#"" stroke="{colour}" stroke-width="{width}" points=""#).expect("writing to a String");
            for (idx, value) in run {
                write!(out, "{:.1},{:.1} ", x(idx), y(value)).expect("writing to a String");
            }
            out.pop();
            out.push_str(r#""/>"#);
        }
    }
    out.push_str("</svg>");
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(n: usize) -> SeriesJson {
        let first = TradeDate::parse("20261101").unwrap();
        let mut dates = vec![first];
        while dates.len() < n {
            dates.push(dates.last().unwrap().next_day().unwrap());
        }
        let close: Vec<f64> = (0..n).map(|it| 4.0 + it as f64 * 0.01).collect();
        let ma_short = (0..n).map(|it| (it >= 2).then_some(4.0 + it as f64 * 0.009)).collect();
        let ma_long = (0..n).map(|it| (it >= 4).then_some(4.0 + it as f64 * 0.008)).collect();
        SeriesJson { dates, close, ma_short, ma_long }
    }

    #[test]
    fn a_chart_has_three_lines_the_range_the_dates_and_the_marked_day() {
        let series = series(6);
        let svg = svg(&series, Some(series.dates[5]), "300ETF(510300.SH) 买入").unwrap();
        assert!(svg.starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg""#), "{svg}");
        assert!(svg.ends_with("</svg>"));
        for class in ["close", "ma-short", "ma-long", "mark"] {
            assert!(svg.contains(&format!(r#"class="{class}""#)), "{class}: {svg}");
        }
        assert!(svg.contains("2026-11-01") && svg.contains("2026-11-06"), "{svg}");
        assert!(svg.contains(">4.050<") && svg.contains(">4.000<"), "{svg}");
        // The close runs over all six days; the averages only where they are defined.
        let close = svg.split(r#"class="close""#).nth(1).unwrap();
        let points = close.split("points=\"").nth(1).unwrap().split('"').next().unwrap();
        assert_eq!(points.split(' ').count(), 6, "{points}");
        let long = svg.split(r#"class="ma-long""#).nth(1).unwrap();
        let points = long.split("points=\"").nth(1).unwrap().split('"').next().unwrap();
        assert_eq!(points.split(' ').count(), 2, "{points}");
        assert!(!svg.contains("style="), "no inline style: the CSP forbids it");
    }

    #[test]
    fn the_title_is_escaped_and_an_empty_series_draws_nothing() {
        let svg = svg(&series(3), None, "<script>alert(1)</script>").unwrap();
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;"), "{svg}");
        assert!(!svg.contains(r#"class="mark""#), "no marked day given: {svg}");
        assert_eq!(super::svg(&SeriesJson::default(), None, "x"), None);
    }

    #[test]
    fn a_flat_series_still_has_a_range() {
        let mut flat = series(3);
        flat.close = vec![1.0; 3];
        flat.ma_short = vec![None; 3];
        flat.ma_long = vec![None; 3];
        let svg = svg(&flat, None, "flat").unwrap();
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    }
}

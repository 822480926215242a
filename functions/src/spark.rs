//! The sparkline of a fund on a day page: the last [`DAYS`] closes of the window with both moving
//! averages and the signal day marked, as a tiny inline SVG. The full chart is on the fund page.
//!
//! A day page carries one per fund (46 in the bundled list), so every byte counts: the coordinates
//! are whole pixels of a 118 × 32 box, each line is simplified to within a pixel of every day
//! (Ramer–Douglas–Peucker on the rounded points) and written as a relative path, and the colours come from the stylesheet's classes (`svg.spark .c`, `.s`, `.l`,
//! `.m`), never `style`, so the content security policy needs no `unsafe-inline`. The SVG is
//! `aria-hidden`: the row beside it has the numbers.

use std::fmt::Write;

use platform::{date::TradeDate, report::json::SeriesJson};

/// Days drawn: the newest this many of the window's series.
pub(crate) const DAYS: usize = 60;
/// Pixels between two days; the box is `(DAYS - 1) * STEP` = 118 wide (the stylesheet's width).
const STEP: i32 = 2;
const HEIGHT: i32 = 32;
/// Room above and below the lines for the stroke.
const PAD: i32 = 1;
/// The most a simplified line may stray from the rounded points it stands for, in pixels: a 46-fund
/// day page is 29.4 KB at 0.7 and 26.9 KB at 1.
const TOLERANCE: f64 = 1.0;

/// The sparkline of the newest [`DAYS`] of `series`, with a vertical line on `marked` when it is one
/// of them; `None` when there is nothing to draw.
pub(crate) fn svg(series: &SeriesJson, marked: Option<TradeDate>) -> Option<String> {
    let n = series.dates.len().min(series.close.len());
    let from = n.saturating_sub(DAYS);
    let dates = &series.dates[from..n];
    let close = &series.close[from..n];
    // An average shorter than the closes (a malformed report) draws nothing rather than panicking.
    let ma_short: &[Option<f64>] = series.ma_short.get(from..n).unwrap_or_default();
    let ma_long: &[Option<f64>] = series.ma_long.get(from..n).unwrap_or_default();
    let values = close.iter().chain(ma_short.iter().flatten()).chain(ma_long.iter().flatten());
    let (low, high) = values
        .filter(|it| it.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), it| (lo.min(*it), hi.max(*it)));
    if !low.is_finite() {
        return None;
    }
    let span = if high - low < 1e-9 { 1.0 } else { high - low };
    // `high - value` is never negative, so adding a half and truncating rounds (without the libm
    // call `round` is on x86-64 without SSE4.1).
    let scale = f64::from(HEIGHT - 2 * PAD) / span;
    let y = |value: f64| PAD + ((high - value) * scale + 0.5) as i32;

    let mut out = String::with_capacity(400);
    // No viewBox: the stylesheet sizes it to 118 x 32 pixels, so a unit is a pixel.
    out.push_str(r#"<svg class="spark" aria-hidden="true">"#);
    if let Some(idx) = marked.and_then(|day| dates.iter().position(|it| *it == day)) {
        write!(out, r#"<path class="m" d="M{} 0v{HEIGHT}"/>"#, idx as i32 * STEP).expect("writing to a String");
    }
    // One set of buffers for the three lines: a page draws 46 sparklines.
    let mut buffers = Buffers::default();
    let long = |idx: usize| ma_long.get(idx).copied().flatten();
    let short = |idx: usize| ma_short.get(idx).copied().flatten();
    let closes = |idx: usize| close.get(idx).copied();
    line(&mut out, "l", dates.len(), long, y, &mut buffers);
    line(&mut out, "s", dates.len(), short, y, &mut buffers);
    line(&mut out, "c", dates.len(), closes, y, &mut buffers);
    out.push_str("</svg>");
    Some(out)
}

/// The buffers a line is drawn with, kept from one line to the next.
#[derive(Default)]
struct Buffers {
    points: Vec<(i32, i32)>,
    kept: Vec<(i32, i32)>,
    keep: Vec<bool>,
    spans: Vec<(usize, usize)>,
}

/// Appends the path of one line of `len` days (`value(idx)`: the day's value, if any), a subpath
/// per run of finite values; nothing when no day has one.
fn line(
    out: &mut String,
    class: &str,
    len: usize,
    value: impl Fn(usize) -> Option<f64>,
    y: impl Fn(f64) -> i32,
    buffers: &mut Buffers,
) {
    let start = out.len();
    write!(out, r#"<path class="{class}" d=""#).expect("writing to a String");
    let body = out.len();
    let finite = |idx: usize| value(idx).filter(|it| it.is_finite());
    let mut idx = 0;
    while idx < len {
        buffers.points.clear();
        while let Some(it) = (idx < len).then(|| finite(idx)).flatten() {
            buffers.points.push((idx as i32 * STEP, y(it)));
            idx += 1;
        }
        if buffers.points.is_empty() {
            idx += 1;
            continue;
        }
        simplify_into(&buffers.points, TOLERANCE, &mut buffers.kept, &mut buffers.keep, &mut buffers.spans);
        path(out, &buffers.kept);
    }
    if out.len() == body {
        out.truncate(start);
    } else {
        out.push_str(r#""/>"#);
    }
}

/// `points` less every point within `tolerance` of the line between the points kept on either side
/// of it (Ramer–Douglas–Peucker); the first and the last are always kept.
#[cfg(test)]
fn simplify(points: &[(i32, i32)], tolerance: f64) -> Vec<(i32, i32)> {
    let mut kept = Vec::new();
    simplify_into(points, tolerance, &mut kept, &mut Vec::new(), &mut Vec::new());
    kept
}

/// [`simplify`] into `kept`, with `keep` and `spans` as scratch space.
fn simplify_into(
    points: &[(i32, i32)],
    tolerance: f64,
    kept: &mut Vec<(i32, i32)>,
    keep: &mut Vec<bool>,
    spans: &mut Vec<(usize, usize)>,
) {
    kept.clear();
    if points.len() < 3 {
        kept.extend_from_slice(points);
        return;
    }
    keep.clear();
    keep.resize(points.len(), false);
    let last = points.len() - 1;
    keep[0] = true;
    keep[last] = true;
    // In whole pixels: the distance of p from the line a-b is |cross| / |b - a|, so within a span
    // the farthest point has the largest |cross|, and it strays when cross^2 > tolerance^2 |b - a|^2.
    let tolerance_squared = tolerance * tolerance;
    spans.clear();
    spans.push((0, last));
    while let Some((first, end)) = spans.pop() {
        let (a, b) = (points[first], points[end]);
        let (dx, dy) = (i64::from(b.0 - a.0), i64::from(b.1 - a.1));
        let length_squared = dx * dx + dy * dy;
        // A span whose ends meet measures the plain distance from that point.
        let scale = length_squared.max(1);
        let stray = |p: (i32, i32)| {
            let (px, py) = (i64::from(p.0 - a.0), i64::from(p.1 - a.1));
            if length_squared == 0 { px * px + py * py } else { (dx * py - dy * px).pow(2) }
        };
        let farthest = (first + 1..end).map(|idx| (idx, stray(points[idx]))).max_by_key(|(_, far)| *far);
        if let Some((idx, _)) = farthest.filter(|(_, far)| *far as f64 > tolerance_squared * scale as f64) {
            keep[idx] = true;
            spans.push((first, idx));
            spans.push((idx, end));
        }
    }
    kept.extend(points.iter().zip(keep.iter()).filter_map(|(point, kept)| kept.then_some(*point)));
}

/// Appends `M x y` and the rest as relative `l` steps, with a separator only where a number does not
/// start with its own minus sign.
fn path(d: &mut String, points: &[(i32, i32)]) {
    let Some((&(x, y), rest)) = points.split_first() else {
        return;
    };
    d.push('M');
    push_int(d, x);
    d.push(' ');
    push_int(d, y);
    if rest.is_empty() {
        // A lone defined day: a dot, so that it shows.
        d.push_str("h0");
        return;
    }
    d.push('l');
    let mut previous = (x, y);
    for (idx, &(px, py)) in rest.iter().enumerate() {
        let (dx, dy) = (px - previous.0, py - previous.1);
        if idx > 0 && dx >= 0 {
            d.push(' ');
        }
        push_int(d, dx);
        if dy >= 0 {
            d.push(' ');
        }
        push_int(d, dy);
        previous = (px, py);
    }
}

/// Appends `value` in decimal, as `Display` would; by hand because a page writes thousands of
/// these small numbers and `write!` costs several times more per number.
fn push_int(d: &mut String, value: i32) {
    if value < 0 {
        d.push('-');
    }
    let mut digits = [0u8; 10];
    let mut rest = value.unsigned_abs();
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    d.push_str(std::str::from_utf8(&digits[at..]).expect("ASCII digits"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(n: usize) -> SeriesJson {
        let first = TradeDate::parse("20260601").unwrap();
        let mut dates = vec![first];
        while dates.len() < n {
            dates.push(dates.last().unwrap().next_day().unwrap());
        }
        let close: Vec<f64> = (0..n).map(|it| 4.0 + (it as f64 * 0.7).sin() * 0.2).collect();
        let ma_short = (0..n).map(|it| (it >= 10).then_some(4.0 + it as f64 * 0.001)).collect();
        let ma_long = (0..n).map(|it| (it >= 21).then_some(4.0 - it as f64 * 0.001)).collect();
        SeriesJson { dates, close, ma_short, ma_long }
    }

    /// The absolute points a path's `d` stands for: `M x y` then relative `l` pairs; `h0` draws a dot.
    fn points(d: &str) -> Vec<Vec<(i32, i32)>> {
        let mut lines = Vec::new();
        for part in d.split('M').filter(|it| !it.is_empty()) {
            let (start, steps) = part.split_once(['l', 'h']).unwrap_or((part, ""));
            let start: Vec<i32> = start.split(' ').map(|it| it.parse().unwrap()).collect();
            let mut at = (start[0], start[1]);
            let mut line = vec![at];
            let numbers: Vec<i32> =
                steps.replace('-', " -").split(' ').filter(|it| !it.is_empty()).map(|it| it.parse().unwrap()).collect();
            for pair in numbers.chunks(2).filter(|it| it.len() == 2) {
                at = (at.0 + pair[0], at.1 + pair[1]);
                line.push(at);
            }
            lines.push(line);
        }
        lines
    }

    fn d_of<'a>(svg: &'a str, class: &str) -> &'a str {
        let after =
            svg.split(&format!(r#"<path class="{class}" d=""#)).nth(1).unwrap_or_else(|| panic!("{class}: {svg}"));
        after.split('"').next().unwrap()
    }

    #[test]
    fn a_sparkline_draws_the_newest_sixty_days_within_the_box_with_the_mark() {
        let series = series(100);
        let marked = series.dates[90];
        let svg = svg(&series, Some(marked)).unwrap();
        assert!(svg.starts_with(r#"<svg class="spark" aria-hidden="true">"#), "{svg}");
        assert!(svg.ends_with("</svg>"));
        // The marked day is the 51st of the newest sixty (index 50).
        assert!(svg.contains(r#"<path class="m" d="M100 0v32"/>"#), "{svg}");
        for class in ["c", "s", "l"] {
            let lines = points(d_of(&svg, class));
            assert_eq!(lines.len(), 1, "{class}: one run");
            let line = &lines[0];
            assert!(line.len() <= DAYS, "{class}: at most sixty points");
            assert_eq!(line[0].0, 0, "{class} starts on the first drawn day");
            assert_eq!(line.last().unwrap().0, 118, "{class} ends on the newest day");
            assert!(line.iter().all(|(x, y)| (0..=118).contains(x) && (PAD..=HEIGHT - PAD).contains(y)), "{line:?}");
        }
        assert!(!svg.contains("style="), "no inline style: the CSP forbids it");
    }

    #[test]
    fn the_simplified_close_passes_within_a_pixel_of_every_day() {
        let series = series(60);
        let svg = svg(&series, None).unwrap();
        let drawn = &points(d_of(&svg, "c"))[0];
        // Every day's rounded point lies within the tolerance of the drawn segment over its x.
        let all = series.close.iter().copied().chain(series.ma_short.iter().chain(&series.ma_long).flatten().copied());
        let (low, high) = all.fold((f64::MAX, f64::MIN), |(lo, hi), it| (lo.min(it), hi.max(it)));
        for (idx, close) in series.close.iter().enumerate() {
            let x = idx as i32 * STEP;
            let y = PAD as f64 + (30.0 * (high - close) / (high - low)).round();
            let segment = drawn.windows(2).find(|it| it[0].0 <= x && x <= it[1].0).unwrap();
            let (a, b) = (segment[0], segment[1]);
            let (dx, dy) = (f64::from(b.0 - a.0), f64::from(b.1 - a.1));
            let off = (dx * (y - f64::from(a.1)) - dy * f64::from(x - a.0)).abs() / dx.hypot(dy);
            assert!(off <= TOLERANCE + 1e-9, "day {idx}: {off} units off the drawn line");
        }
        assert!(drawn.len() < 60, "a wavy line still loses points: {}", drawn.len());
    }

    #[test]
    fn push_int_writes_what_display_writes() {
        for value in [0, 7, -7, 10, -10, 99, 118, -118, 1000, i32::MAX, i32::MIN] {
            let mut d = String::new();
            push_int(&mut d, value);
            assert_eq!(d, value.to_string());
        }
    }

    #[test]
    fn simplify_keeps_the_ends_and_the_corners_and_drops_the_straight() {
        let line: Vec<(i32, i32)> = (0..10).map(|it| (it * 2, it)).collect();
        assert_eq!(simplify(&line, 0.5), vec![(0, 0), (18, 9)]);
        let corner = [(0, 0), (2, 0), (4, 0), (6, 5), (8, 10)];
        assert_eq!(simplify(&corner, 0.5), vec![(0, 0), (4, 0), (8, 10)]);
        assert_eq!(simplify(&[(0, 1), (2, 3)], 0.5), vec![(0, 1), (2, 3)]);
    }

    #[test]
    fn a_path_needs_no_separator_before_a_minus_sign() {
        let mut d = String::new();
        path(&mut d, &[(0, 5), (2, 3), (6, 7), (8, 7)]);
        assert_eq!(d, "M0 5l2-2 4 4 2 0");
        let mut dot = String::new();
        path(&mut dot, &[(4, 9)]);
        assert_eq!(dot, "M4 9h0");
        assert_eq!(points("M0 5l2-2 4 4 2 0"), vec![vec![(0, 5), (2, 3), (6, 7), (8, 7)]]);
    }

    #[test]
    fn gaps_split_a_line_and_an_empty_or_flat_series_is_handled() {
        let mut gappy = series(30);
        gappy.ma_short[20] = None;
        gappy.ma_short[21] = Some(f64::NAN);
        let svg = svg(&gappy, None).unwrap();
        assert_eq!(points(d_of(&svg, "s")).len(), 2, "two runs either side of the gap: {svg}");
        assert_eq!(super::svg(&SeriesJson::default(), None), None);
        let mut flat = series(3);
        flat.close = vec![1.0; 3];
        flat.ma_short = vec![None; 3];
        flat.ma_long = vec![None; 3];
        let svg = super::svg(&flat, None).unwrap();
        assert!(!svg.contains("NaN") && !svg.contains("inf") && !svg.contains(r#"class="s""#), "{svg}");
    }
}

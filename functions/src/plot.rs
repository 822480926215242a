//! Line charts of long daily series for the track record pages: several lines over one axis of
//! trading days, with labelled axes, a legend and optional entry (▲) and exit (▼) markers, as an
//! inline SVG written by hand.
//!
//! Ten years are some 2,400 days, four times the plot's width in pixels, so the lines are thinned
//! to it: the days fall into one bucket per pixel column, and each bucket draws its last value, or,
//! when its values lie more than a pixel apart, its lowest and its highest in the order they came.
//! Every value of the series is then within a pixel of the line drawn (so a trough, a spike or a
//! marker at a fill price sits on the line), while a line costs at most two points per column.
//! Coordinates are written to a tenth of a pixel, as a path of relative steps.
//!
//! Only numbers and escaped text go into the SVG, with presentation attributes and never `style`,
//! so the page's content security policy needs no `unsafe-inline`.

use std::fmt::Write;

use platform::date::TradeDate;

use crate::escape_xml;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 300.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 40.0;
/// The plot area's width in pixels: at most one bucket of days per pixel column.
const COLUMNS: usize = (WIDTH - LEFT - RIGHT) as usize;
/// How close two labels of the date axis may be, in pixels.
const LABEL_GAP: f64 = 40.0;

const AXIS_COLOUR: &str = "#4b5563";
const GRID_COLOUR: &str = "#e5e7eb";
/// Entries are red and exits green, as buying and selling are everywhere else on the site.
const ENTRY_COLOUR: &str = "#b91c1c";
const EXIT_COLOUR: &str = "#15803d";

/// One line of a chart: a value (or a gap) for each of the chart's days.
pub(crate) struct Line {
    /// Its name in the legend.
    pub(crate) label: String,
    /// Its CSS class, for tests and styles.
    pub(crate) class: &'static str,
    pub(crate) colour: &'static str,
    pub(crate) width: f64,
    pub(crate) values: Vec<Option<f64>>,
}

/// Whether a marker shows a position opened or closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MarkerKind {
    /// ▲, its tip at the fill price.
    Entry,
    /// ▼, its tip at the fill price.
    Exit,
}

/// A marker on the day `day` (an index into the chart's days) at `value`.
pub(crate) struct Marker {
    pub(crate) kind: MarkerKind,
    pub(crate) day: usize,
    pub(crate) value: f64,
}

/// A chart: its days, its lines over them, and markers.
pub(crate) struct Plot<'a> {
    /// The accessible name of the chart.
    pub(crate) title: &'a str,
    /// The value axis' title; the day axis is titled 日期.
    pub(crate) value_title: &'a str,
    /// The days, oldest first.
    pub(crate) dates: &'a [TradeDate],
    pub(crate) lines: Vec<Line>,
    pub(crate) markers: Vec<Marker>,
}

/// The SVG of `plot`; `None` when it has no day or no finite value to draw.
pub(crate) fn svg(plot: &Plot<'_>) -> Option<String> {
    let n = plot.dates.len();
    let values = plot.lines.iter().flat_map(|it| it.values.iter().take(n).flatten()).copied();
    let values = values.chain(plot.markers.iter().filter(|it| it.day < n).map(|it| it.value));
    let (low, high) = values
        .filter(|it| it.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), it| (lo.min(it), hi.max(it)));
    if n == 0 || !low.is_finite() {
        return None;
    }
    let scale = Scale::new(n, low, high);
    let title = escape_xml(plot.title);
    let mut out = String::with_capacity(16 * 1024);
    write!(out, r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" class="plot" role="img""#)
        .expect("writing to a String");
    write!(out, r#" aria-label="{title}"><title>{title}</title>"#).expect("writing to a String");
    value_axis(&mut out, &scale, plot.value_title);
    date_axis(&mut out, &scale, plot.dates);
    for line in &plot.lines {
        write!(
            out,
            r#"<path class="{}" fill="none" stroke="{}" stroke-width="{}" stroke-linejoin="round" d=""#,
            line.class, line.colour, line.width
        )
        .expect("writing to a String");
        for run in runs(&line.values[..line.values.len().min(n)]) {
            path_data(&mut out, &thin(&run, &scale));
        }
        out.push_str(r#""/>"#);
    }
    for (kind, class, colour, tip) in
        [(MarkerKind::Entry, "entry", ENTRY_COLOUR, "l-4 7h8z"), (MarkerKind::Exit, "exit", EXIT_COLOUR, "l-4 -7h8z")]
    {
        let mut markers = plot.markers.iter().filter(|it| it.kind == kind && it.day < n && it.value.is_finite());
        let Some(first) = markers.next() else { continue };
        write!(out, r#"<path class="{class}" fill="{colour}" d=""#).expect("writing to a String");
        for marker in std::iter::once(first).chain(markers) {
            let (x, y) = (scale.x(marker.day), scale.y(marker.value));
            write!(out, "M{} {}{tip}", tenths(x), tenths(y)).expect("writing to a String");
        }
        out.push_str(r#""/>"#);
    }
    legend(&mut out, &plot.lines);
    out.push_str("</svg>");
    Some(out)
}

/// Where days and values go, in tenths of a pixel.
struct Scale {
    n: usize,
    /// The value at the bottom and at the top of the plot area: round numbers, the outer ticks.
    low: f64,
    high: f64,
    step: f64,
}

impl Scale {
    fn new(n: usize, low: f64, high: f64) -> Scale {
        let (low, high) = if high - low < 1e-9 {
            let pad = (low.abs() * 0.05).max(0.01);
            (low - pad, high + pad)
        } else {
            (low, high)
        };
        let step = nice_step((high - low) / 5.0);
        Scale { n, low: (low / step).floor() * step, high: (high / step).ceil() * step, step }
    }

    /// The x of day `day`: its pixel column's middle when the days outnumber the columns.
    fn x(&self, day: usize) -> i64 {
        let plot_width = WIDTH - LEFT - RIGHT;
        let x = if self.n > COLUMNS {
            LEFT + (day * COLUMNS / self.n) as f64 + 0.5
        } else if self.n == 1 {
            LEFT + plot_width / 2.0
        } else {
            LEFT + plot_width * day as f64 / (self.n - 1) as f64
        };
        (x * 10.0).round() as i64
    }

    fn y(&self, value: f64) -> i64 {
        let y = TOP + (HEIGHT - TOP - BOTTOM) * (self.high - value) / (self.high - self.low);
        (y * 10.0).round() as i64
    }

    /// The round values from the bottom to the top, one step apart.
    fn ticks(&self) -> Vec<f64> {
        let first = (self.low / self.step).round() as i64;
        let last = (self.high / self.step).round() as i64;
        (first..=last).map(|it| it as f64 * self.step).collect()
    }
}

/// 1, 2 or 5 times a power of ten, the least at or above `rough`.
fn nice_step(rough: f64) -> f64 {
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].into_iter().find(|it| it * magnitude >= rough * (1.0 - 1e-9)).unwrap_or(10.0);
    step * magnitude
}

/// The grid lines of the value axis, their labels and the axis title.
fn value_axis(out: &mut String, scale: &Scale, title: &str) {
    let decimals = (-scale.step.log10().floor()).clamp(0.0, 4.0) as usize;
    let right = WIDTH - RIGHT;
    for value in scale.ticks() {
        let y = tenths(scale.y(value));
        let label_x = LEFT - 4.0;
        write!(out, r#"<line x1="{LEFT}" y1="{y}" x2="{right}" y2="{y}" stroke="{GRID_COLOUR}"/>"#)
            .expect("writing to a String");
        write!(out, r#"<text x="{label_x}" y="{y}" dy="4" font-size="11" text-anchor="end" fill="{AXIS_COLOUR}">"#)
            .expect("writing to a String");
        write!(out, "{value:.decimals$}</text>").expect("writing to a String");
    }
    let middle = TOP + (HEIGHT - TOP - BOTTOM) / 2.0;
    let title = escape_xml(title);
    write!(out, r#"<text class="axis-title" transform="translate(14 {middle}) rotate(-90)" font-size="12""#)
        .expect("writing to a String");
    write!(out, r#" text-anchor="middle" fill="{AXIS_COLOUR}">{title}</text>"#).expect("writing to a String");
}

/// The date axis: its line, a tick and label at each year (or month) that begins, and its title.
fn date_axis(out: &mut String, scale: &Scale, dates: &[TradeDate]) {
    let bottom = HEIGHT - BOTTOM;
    let right = WIDTH - RIGHT;
    write!(out, r#"<line x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{AXIS_COLOUR}"/>"#)
        .expect("writing to a String");
    let mut previous: Option<f64> = None;
    for (day, label) in date_ticks(dates) {
        let x = scale.x(day) as f64 / 10.0;
        if previous.is_some_and(|it| x - it < LABEL_GAP) {
            continue;
        }
        previous = Some(x);
        let anchor = if x - LEFT < LABEL_GAP / 2.0 {
            "start"
        } else if right - x < LABEL_GAP / 2.0 {
            "end"
        } else {
            "middle"
        };
        let (tick_end, label_y) = (bottom + 4.0, bottom + 16.0);
        write!(out, r#"<line x1="{x}" y1="{bottom}" x2="{x}" y2="{tick_end}" stroke="{AXIS_COLOUR}"/>"#)
            .expect("writing to a String");
        write!(out, r#"<text x="{x}" y="{label_y}" font-size="11" text-anchor="{anchor}" fill="{AXIS_COLOUR}">"#)
            .expect("writing to a String");
        write!(out, "{label}</text>").expect("writing to a String");
    }
    let (title_x, title_y) = (LEFT + (right - LEFT) / 2.0, HEIGHT - 4.0);
    write!(out, r#"<text class="axis-title" x="{title_x}" y="{title_y}" font-size="12" text-anchor="middle""#)
        .expect("writing to a String");
    write!(out, r#" fill="{AXIS_COLOUR}">日期</text>"#).expect("writing to a String");
}

/// The labelled days: the first of each year when the range spans two new years or more, else the
/// first of every first, second, third or sixth month (at most eight), else the first and last day.
fn date_ticks(dates: &[TradeDate]) -> Vec<(usize, String)> {
    let keys: Vec<String> = dates.iter().map(|it| it.month_key()).collect();
    let starts = |is_start: &dyn Fn(&str, &str) -> bool| -> Vec<usize> {
        (1..keys.len()).filter(|&it| is_start(&keys[it - 1], &keys[it])).collect()
    };
    let years = starts(&|before, it| before[..4] != it[..4]);
    if years.len() >= 2 {
        return years.into_iter().map(|it| (it, keys[it][..4].to_owned())).collect();
    }
    for every in [1, 2, 3, 6] {
        let months = starts(&|before, it| before != it && (it[4..].parse::<usize>().unwrap_or(1) - 1) % every == 0);
        if (2..=8).contains(&months.len()) {
            return months.into_iter().map(|it| (it, format!("{}-{}", &keys[it][..4], &keys[it][4..]))).collect();
        }
    }
    let last = dates.len() - 1;
    let mut ends = vec![(0, dates[0].iso())];
    if last > 0 {
        ends.push((last, dates[last].iso()));
    }
    ends
}

/// The legend above the plot area: a stroke of each line's colour and its label.
fn legend(out: &mut String, lines: &[Line]) {
    let mut x = LEFT;
    let y = TOP / 2.0;
    for line in lines {
        let label = escape_xml(&line.label);
        let (stroke_end, text_x, colour) = (x + 18.0, x + 22.0, line.colour);
        write!(out, r#"<g class="legend"><line x1="{x}" y1="{y}" x2="{stroke_end}" y2="{y}" stroke="{colour}""#)
            .expect("writing to a String");
        write!(out, r#" stroke-width="3"/><text x="{text_x}" y="{y}" dy="4" font-size="12" fill="{AXIS_COLOUR}">"#)
            .expect("writing to a String");
        write!(out, "{label}</text></g>").expect("writing to a String");
        x += 22.0 + text_width(&line.label) + 16.0;
    }
}

/// About how wide `text` is at 12 pixels: a CJK character is as wide as it is high, others about half.
fn text_width(text: &str) -> f64 {
    text.chars().map(|it| if it.is_ascii() { 6.6 } else { 12.0 }).sum()
}

/// The stretches of consecutive finite values, with their days (averages are `None` until their
/// period fills).
pub(crate) fn runs(values: &[Option<f64>]) -> Vec<Vec<(usize, f64)>> {
    let mut runs: Vec<Vec<(usize, f64)>> = Vec::new();
    let mut current = Vec::new();
    for (day, value) in values.iter().enumerate() {
        match value {
            Some(it) if it.is_finite() => current.push((day, *it)),
            _ if !current.is_empty() => runs.push(std::mem::take(&mut current)),
            _ => {}
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

/// The points drawn for one run: per pixel column, the last value, or the lowest and the highest in
/// the order they came when they are more than a pixel apart (see the module's doc).
fn thin(run: &[(usize, f64)], scale: &Scale) -> Vec<(i64, i64)> {
    let mut points = Vec::new();
    let mut start = 0;
    while start < run.len() {
        let x = scale.x(run[start].0);
        let end = start + run[start..].iter().take_while(|(day, _)| scale.x(*day) == x).count();
        let ys: Vec<i64> = run[start..end].iter().map(|(_, value)| scale.y(*value)).collect();
        let (low_at, high_at) = (0..ys.len()).fold((0, 0), |(low, high), it| {
            (if ys[it] < ys[low] { it } else { low }, if ys[it] > ys[high] { it } else { high })
        });
        if ys[high_at] - ys[low_at] <= 10 {
            points.push((x, ys[ys.len() - 1]));
        } else {
            let (first, second) = if low_at < high_at { (low_at, high_at) } else { (high_at, low_at) };
            points.push((x, ys[first]));
            points.push((x, ys[second]));
        }
        start = end;
    }
    points
}

/// `points` as a path: a move to the first, then relative steps (`h`, `v` or `l`).
fn path_data(out: &mut String, points: &[(i64, i64)]) {
    let Some(&(x0, y0)) = points.first() else { return };
    write!(out, "M{} {}", tenths(x0), tenths(y0)).expect("writing to a String");
    for pair in points.windows(2) {
        let (dx, dy) = (pair[1].0 - pair[0].0, pair[1].1 - pair[0].1);
        match (dx, dy) {
            (0, 0) => {}
            (0, dy) => write!(out, "v{}", tenths(dy)).expect("writing to a String"),
            (dx, 0) => write!(out, "h{}", tenths(dx)).expect("writing to a String"),
            (dx, dy) => write!(out, "l{} {}", tenths(dx), tenths(dy)).expect("writing to a String"),
        }
    }
}

/// Tenths of a pixel as the shortest decimal: `12`, `-0.4`, `3.5`.
fn tenths(value: i64) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let (whole, tenth) = (value.abs() / 10, value.abs() % 10);
    if tenth == 0 { format!("{sign}{whole}") } else { format!("{sign}{whole}.{tenth}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(n: usize) -> Vec<TradeDate> {
        let mut day = TradeDate::parse("20160104").unwrap();
        let mut days = Vec::new();
        while days.len() < n {
            if !day.is_weekend() {
                days.push(day);
            }
            day = day.next_day().unwrap();
        }
        days
    }

    fn line(class: &'static str, values: Vec<Option<f64>>) -> Line {
        Line { label: format!("{class} 线"), class, colour: "#000", width: 1.5, values }
    }

    /// A plot titled `t` of `lines` over `dates`, without markers.
    fn plot(dates: &[TradeDate], lines: Vec<Line>) -> Plot<'_> {
        Plot { title: "t", value_title: "净值", dates, lines, markers: vec![] }
    }

    /// The `d` of the path of `class`.
    fn path<'a>(svg: &'a str, class: &str) -> &'a str {
        let element = svg.split(&format!(r#"<path class="{class}""#)).nth(1).unwrap_or_else(|| panic!("{class}"));
        element.split(" d=\"").nth(1).unwrap().split('"').next().unwrap()
    }

    /// The y of each point of a path, in tenths of a pixel.
    fn ys(d: &str) -> Vec<i64> {
        let mut ys = Vec::new();
        let mut y = 0;
        let starts: Vec<usize> = d.match_indices(['M', 'l', 'h', 'v']).map(|(at, _)| at).collect();
        for (idx, &at) in starts.iter().enumerate() {
            let end = starts.get(idx + 1).copied().unwrap_or(d.len());
            let numbers: Vec<i64> =
                d[at + 1..end].split(' ').map(|it| (it.parse::<f64>().unwrap() * 10.0).round() as i64).collect();
            match &d[at..at + 1] {
                "M" => y = numbers[1],
                "l" => y += numbers[1],
                "v" => y += numbers[0],
                _ => {}
            }
            ys.push(y);
        }
        ys
    }

    /// The number of points a path draws: its moves and steps.
    fn points(d: &str) -> usize {
        d.chars().filter(|it| matches!(it, 'M' | 'l' | 'h' | 'v')).count()
    }

    #[test]
    fn a_short_series_draws_every_day_with_both_axes_and_a_legend() {
        let dates = days(5);
        let lines = vec![
            line("nav", vec![Some(1.0), Some(1.1), Some(1.2), Some(1.15), Some(1.3)]),
            line("hold", vec![None, Some(1.0), Some(1.0), None, Some(1.05)]),
        ];
        let plot = Plot { title: "组合 <净值>", ..plot(&dates, lines) };
        let svg = svg(&plot).unwrap();
        assert!(svg.starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg""#) && svg.ends_with("</svg>"));
        assert!(svg.contains("<title>组合 &lt;净值&gt;</title>"), "the title is escaped: {svg}");
        assert_eq!(points(path(&svg, "nav")), 5, "{svg}");
        assert_eq!(path(&svg, "hold").matches('M').count(), 2, "a gap splits the line: {svg}");
        assert!(svg.contains(">日期</text>") && svg.contains(">净值</text>"), "both axes are titled");
        assert!(svg.contains(">1.3</text>") && svg.contains(">1.0</text>"), "round values label the axis: {svg}");
        assert!(svg.contains(">2016-01-04</text>") && svg.contains(">2016-01-08</text>"), "{svg}");
        assert_eq!(svg.matches(r#"<g class="legend">"#).count(), 2);
        assert!(svg.contains(">nav 线</text>"), "{svg}");
        assert!(!svg.contains("style=") && !svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    }

    #[test]
    fn ten_years_are_thinned_to_at_most_two_points_per_pixel_column_and_keep_the_extremes() {
        let dates = days(2500);
        let mut values: Vec<Option<f64>> = (0..2500).map(|it| Some(1.0 + it as f64 / 2500.0)).collect();
        values[1234] = Some(0.2);
        let plot = plot(&dates, vec![line("nav", values)]);
        let svg = svg(&plot).unwrap();
        let d = path(&svg, "nav");
        assert!(points(d) <= 2 * COLUMNS, "{} points", points(d));
        assert!(points(d) >= COLUMNS, "one point per column at least: {}", points(d));
        // The one-day fall to 0.2 is the bottom of the axis, and the line reaches it.
        let scale = Scale::new(2500, 0.2, 2.0);
        assert_eq!(scale.low, 0.0);
        let lowest = ys(d).into_iter().max().unwrap();
        assert_eq!(lowest, scale.y(0.2), "{d}");
        for year in 2017..=2025 {
            assert!(svg.contains(&format!(">{year}</text>")), "{year}: {svg}");
        }
    }

    #[test]
    fn markers_are_triangles_at_their_prices() {
        let dates = days(3);
        let plot = Plot {
            markers: vec![
                Marker { kind: MarkerKind::Entry, day: 0, value: 1.0 },
                Marker { kind: MarkerKind::Exit, day: 2, value: 3.5 },
                Marker { kind: MarkerKind::Exit, day: 7, value: 1.0 },
            ],
            ..plot(&dates, vec![line("close", vec![Some(1.0), Some(2.0), Some(3.0)])])
        };
        let svg = svg(&plot).unwrap();
        assert_eq!(path(&svg, "entry").matches('M').count(), 1, "{svg}");
        assert_eq!(path(&svg, "exit").matches('M').count(), 1, "a marker off the chart is left out: {svg}");
        assert!(svg.contains(">3.5</text>"), "the axis reaches the highest marker: {svg}");
    }

    #[test]
    fn nothing_to_draw_is_no_chart_and_a_flat_line_still_has_a_range() {
        let dates = days(3);
        let empty = plot(&[], vec![]);
        assert!(svg(&empty).is_none());
        let gaps = plot(&dates, vec![line("a", vec![None; 3])]);
        assert!(svg(&gaps).is_none());
        let flat = plot(&dates, vec![line("a", vec![Some(1.0); 3])]);
        let svg = svg(&flat).unwrap();
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    }

    #[test]
    fn months_label_a_range_of_under_two_years_and_the_ends_a_range_of_days() {
        let ticks = date_ticks(&days(130));
        assert!(ticks.iter().all(|(_, label)| label.len() == 7), "{ticks:?}");
        assert!((2..=8).contains(&ticks.len()), "{ticks:?}");
        let ticks = date_ticks(&days(4));
        assert_eq!(ticks.iter().map(|it| it.1.as_str()).collect::<Vec<_>>(), ["2016-01-04", "2016-01-07"]);
    }

    #[test]
    fn tenths_are_written_shortest() {
        assert_eq!([tenths(120), tenths(-4), tenths(35), tenths(0), tenths(-20)], ["12", "-0.4", "3.5", "0", "-2"]);
    }
}

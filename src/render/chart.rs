//! Line charts drawn as inline SVG by the build: a disk's SMART figures,
//! a host's file systems, the fleet's findings and security updates, each
//! over time. Rust computes the coordinates and the figures a reader needs
//! without the picture (first, last, lowest, highest of each line); the
//! `chart` macro of `macros.html` draws them and says what they are, in words.

use crate::fleet::{History, Sighting};
use crate::time::Instant;
use serde::Serialize;

const WIDTH: f64 = 680.0;
const HEIGHT: f64 = 180.0;
const PAD: f64 = 36.0;
/// Room on the right for the scale's labels.
const RIGHT: f64 = 76.0;

#[derive(Debug, Serialize)]
pub struct Chart {
    /// What it shows, for the template's words: `temperature`, `reallocated`,
    /// `filesystems`, `findings`, …
    pub what: &'static str,
    /// `celsius`, `percent` or `count`.
    pub unit: &'static str,
    pub width: f64,
    pub height: f64,
    pub pad: f64,
    pub right: f64,
    /// The scale, bottom and top.
    pub low: i64,
    pub high: i64,
    /// When the first and the last point are (the template words the dates).
    pub first: Instant,
    pub last: Instant,
    pub lines: Vec<Line>,
}

#[derive(Debug, Serialize)]
pub struct Line {
    /// Its name in the legend: a mount point; empty when the chart has one line.
    pub name: String,
    /// Its colour, `line-0` to `line-4`.
    pub class: usize,
    /// `x,y x,y …` for `<polyline points>`.
    pub points: String,
    pub first: i64,
    pub last: i64,
    pub min: i64,
    pub max: i64,
}

/// Where a chart's scale comes from.
#[derive(Clone, Copy)]
enum Scale {
    /// From the lines' own lowest to highest: growth from 361 to 385 shows.
    Own,
    /// From 0 to the highest.
    FromZero,
    /// 0 to 100.
    Percent,
    /// From 0 to the highest, in percent: an NVMe disk's endurance used.
    PercentFromZero,
    /// At least 20 to 50 °C.
    Celsius,
}

impl Scale {
    fn unit(self) -> &'static str {
        match self {
            Scale::Own | Scale::FromZero => "count",
            Scale::Percent | Scale::PercentFromZero => "percent",
            Scale::Celsius => "celsius",
        }
    }
}

/// Draws `lines` (name, points in time order); `None` with fewer than two
/// points in all, or when no line has any.
fn draw(what: &'static str, scale: Scale, lines: Vec<(String, Vec<(i64, i64)>)>) -> Option<Chart> {
    let lines: Vec<_> = lines.into_iter().filter(|(_, p)| !p.is_empty()).collect();
    let times = || lines.iter().flat_map(|(_, p)| p.iter().map(|(t, _)| *t));
    let values = || lines.iter().flat_map(|(_, p)| p.iter().map(|(_, v)| *v));
    let (t0, t1) = (times().min()?, times().max()?);
    if t0 == t1 {
        return None;
    }
    let (lo, hi) = (values().min()?, values().max()?);
    let (low, high) = match scale {
        Scale::Own => (lo, hi.max(lo + 1)),
        Scale::FromZero | Scale::PercentFromZero => (0, hi.max(1)),
        Scale::Percent => (0, 100),
        Scale::Celsius => (lo.min(20), hi.max(50)),
    };
    let unit = scale.unit();
    let span = (t1 - t0) as f64;
    let x = |t: i64| PAD + (t - t0) as f64 / span * (WIDTH - PAD - RIGHT);
    let y = |v: i64| HEIGHT - PAD - (v - low) as f64 / (high - low).max(1) as f64 * (HEIGHT - 2.0 * PAD);
    let lines = lines
        .into_iter()
        .enumerate()
        .map(|(i, (name, points))| {
            let picked = picked(&points, t0, t1 - t0);
            let mut drawn = String::with_capacity(picked.len() * 12);
            for &i in &picked {
                let (t, v) = points[i];
                if !drawn.is_empty() {
                    drawn.push(' ');
                }
                tenths(&mut drawn, x(t));
                drawn.push(',');
                tenths(&mut drawn, y(v));
            }
            let vs = || points.iter().map(|(_, v)| *v);
            Line {
                name,
                class: i % 5,
                points: drawn,
                first: points[0].1,
                last: points[points.len() - 1].1,
                min: vs().min().unwrap_or_default(),
                max: vs().max().unwrap_or_default(),
            }
        })
        .collect();
    Some(Chart {
        what,
        unit,
        width: WIDTH,
        height: HEIGHT,
        pad: PAD,
        right: RIGHT,
        low,
        high,
        first: Instant(t0),
        last: Instant(t1),
        lines,
    })
}

/// A SMART figure that kept one value over two sightings or more: said in
/// words, as a flat line would say nothing more.
#[derive(Debug, Serialize)]
pub struct Steady {
    pub what: &'static str,
    /// `celsius`, `percent` or `count`.
    pub unit: &'static str,
    pub value: i64,
    pub first: Instant,
    pub last: Instant,
}

/// A disk's SMART figures over time: a chart for each that changed, a line
/// of words for each that did not.
#[derive(Debug, Default)]
pub struct Smart {
    pub charts: Vec<Chart>,
    pub steady: Vec<Steady>,
}

/// A disk's page: its SMART figures ([`crate::fleet::SmartFigures::CHARTED`])
/// from its sightings' lines, each reported twice or more.
pub fn smart(sightings: &History<Sighting>) -> Smart {
    let mut lines = sightings.lines();
    let scale = |what: &str| match what {
        "temperature" => Scale::Celsius,
        "percentage_used" => Scale::PercentFromZero,
        _ => Scale::Own,
    };
    let mut smart = Smart::default();
    for (what, _) in crate::fleet::SmartFigures::CHARTED.iter() {
        let Some(points) = lines.iter_mut().find(|(name, _)| name == what).map(|(_, p)| std::mem::take(p)) else {
            continue;
        };
        match (points.first(), points.last()) {
            (Some(&(first, value)), Some(&(last, _))) if first < last && points.iter().all(|p| p.1 == value) => {
                let unit = scale(what).unit();
                smart.steady.push(Steady { what, unit, value, first: Instant(first), last: Instant(last) });
            }
            _ => smart.charts.extend(draw(what, scale(what), vec![(String::new(), points)])),
        }
    }
    smart
}

/// A host's page: each file system's use, in percent, over its `disks` versions.
pub fn filesystems(timeline: &History<crate::fleet::HostVersion>) -> Option<Chart> {
    let mut lines: Vec<(String, Vec<(i64, i64)>)> =
        timeline.lines().into_iter().map(|(mount, points)| (mount.to_string(), points)).collect();
    lines.sort_by(|a, b| a.0.cmp(&b.0));
    draw("filesystems", Scale::Percent, lines)
}

/// The dashboard: a count per day, from `from` to `to` (each day counted at
/// its end, the last at `to`).
pub fn per_day(what: &'static str, from: Instant, to: Instant, count: impl Fn(Instant) -> usize) -> Option<Chart> {
    const DAY: i64 = 86_400;
    let mut points = Vec::new();
    let mut end = from.0 - from.0.rem_euclid(DAY) + DAY - 1;
    while end < to.0 {
        points.push((end, count(Instant(end)) as i64));
        end += DAY;
    }
    points.push((to.0, count(to) as i64));
    draw(what, Scale::FromZero, vec![(String::new(), points)])
}

/// The slices of a chart's time that each draw no more than their lowest and
/// highest point: a line costs what its picture shows, not its history.
const SLICES: i128 = 64;

/// Which of `points` (in time order, from `t0` over `span`) a chart draws:
/// not one inside a run of equal values (the run's ends draw it: a counter
/// flat for a year is two points), and of the others the line's first and
/// last and each slice's lowest and highest.
fn picked(points: &[(i64, i64)], t0: i64, span: i64) -> Vec<usize> {
    let value = |i: usize| points[i].1;
    let inside_a_run = |i: usize| i > 0 && i + 1 < points.len() && value(i - 1) == value(i) && value(i + 1) == value(i);
    let slice = |i: usize| (points[i].0 - t0) as i128 * SLICES / span.max(1) as i128;
    // Each slice met, with its lowest and highest point.
    let mut slices: Vec<(i128, usize, usize)> = Vec::new();
    for i in (0..points.len()).filter(|&i| !inside_a_run(i)) {
        match slices.last_mut() {
            Some((s, low, high)) if *s == slice(i) => {
                if value(i) < value(*low) {
                    *low = i;
                }
                if value(i) > value(*high) {
                    *high = i;
                }
            }
            _ => slices.push((slice(i), i, i)),
        }
    }
    let ends = [0, points.len() - 1];
    let mut picked: Vec<usize> = ends.into_iter().chain(slices.into_iter().flat_map(|(_, l, h)| [l, h])).collect();
    picked.sort_unstable();
    picked.dedup();
    picked
}

/// Writes `v` (not negative) with one decimal, as `{:.1}` does, without the
/// formatting machinery: a disk page draws a point per sighting, on every build.
fn tenths(out: &mut String, v: f64) {
    let tenths = (v * 10.0).round() as u64;
    let mut digits = [0u8; 21];
    let (mut at, mut whole) = (digits.len(), tenths / 10);
    loop {
        at -= 1;
        digits[at] = b'0' + (whole % 10) as u8;
        whole /= 10;
        if whole == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&digits[at..]).unwrap_or_default());
    out.push('.');
    out.push((b'0' + (tenths % 10) as u8) as char);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenths_are_what_the_float_format_writes() {
        // Every coordinate a chart can have, in steps that are not tenths;
        // exact halves aside (`{:.1}` rounds them to even, this away from zero).
        for i in 0..70_000 {
            let v = i as f64 * 0.0097;
            if ((v * 10.0).fract() - 0.5).abs() < 1e-6 {
                continue;
            }
            let mut out = String::new();
            super::tenths(&mut out, v);
            assert_eq!(out, format!("{v:.1}"), "{v}");
        }
    }

    #[test]
    fn a_flat_run_is_drawn_by_its_ends() {
        let points = vec![(0, 5), (1, 5), (2, 5), (3, 7), (4, 7), (5, 7), (6, 7), (7, 5)];
        let chart = draw("crc", Scale::Own, vec![(String::new(), points)]).unwrap();
        let drawn: Vec<&str> = chart.lines[0].points.split(' ').collect();
        assert_eq!(drawn.len(), 5, "(0, 5) (2, 5) (3, 7) (6, 7) (7, 5): {drawn:?}");
        assert_eq!((chart.lines[0].min, chart.lines[0].max), (5, 7));
        let flat = draw("crc", Scale::Own, vec![(String::new(), (0..365).map(|t| (t, 0)).collect())]).unwrap();
        assert_eq!(flat.lines[0].points.split(' ').count(), 2, "a year of the same count");
    }

    #[test]
    fn a_year_draws_each_slice_by_its_lowest_and_highest() {
        // A value a day for a year, up and down by day, a spike on day 200.
        let points: Vec<(i64, i64)> = (0..365).map(|d| (d, if d == 200 { 90 } else { 30 + d % 7 })).collect();
        let chart = draw("temperature", Scale::Celsius, vec![(String::new(), points.clone())]).unwrap();
        let drawn = chart.lines[0].points.split(' ').count();
        assert!(drawn <= 2 * SLICES as usize + 2 && drawn > SLICES as usize, "{drawn} points");
        let kept: Vec<(i64, i64)> = picked(&points, 0, 364).into_iter().map(|i| points[i]).collect();
        assert!(kept.contains(&(200, 90)), "the spike is drawn");
        assert_eq!((kept[0], kept[kept.len() - 1]), (points[0], points[364]), "and both ends");
        let line = &chart.lines[0];
        assert_eq!((line.first, line.last, line.min, line.max), (30, points[364].1, 30, 90), "every point's figures");
        let month: Vec<(i64, i64)> = points[..30].to_vec();
        assert_eq!(picked(&month, 0, 29).len(), 30, "a month's days are each a slice of their own");
    }

    #[test]
    fn a_line_keeps_its_figures_and_the_scale_its_kind() {
        let chart = draw("pending", Scale::Own, vec![(String::new(), vec![(0, 361), (10, 385), (20, 370)])]).unwrap();
        let line = &chart.lines[0];
        assert_eq!((line.first, line.last, line.min, line.max), (361, 370, 361, 385));
        assert_eq!((chart.low, chart.high, chart.unit), (361, 385, "count"));
        assert_eq!(line.points, "36.0,144.0 320.0,36.0 604.0,103.5");
        let percent = draw("filesystems", Scale::Percent, vec![("/".into(), vec![(0, 40), (5, 45)])]).unwrap();
        assert_eq!((percent.low, percent.high), (0, 100));
        assert!(draw("pending", Scale::Own, vec![(String::new(), vec![(3, 1)])]).is_none(), "one point is no line");
    }

    #[test]
    fn a_figure_that_kept_its_value_is_said_not_drawn() {
        let mut sightings = History::default();
        for (at, temperature, crc) in [(0, 30, 2), (10, 35, 2), (20, 31, 2)] {
            let figures =
                crate::fleet::SmartFigures { temperature: Some(temperature), crc: Some(crc), ..Default::default() };
            let (host, device) = Default::default();
            sightings.push(Sighting { at: Instant(at), host, device, figures: Some(figures) });
        }
        let smart = smart(&sightings);
        let drawn: Vec<&str> = smart.charts.iter().map(|c| c.what).collect();
        assert_eq!(drawn, ["temperature"]);
        let steady: Vec<_> = smart.steady.iter().map(|s| (s.what, s.value, s.first, s.last)).collect();
        assert_eq!(steady, [("crc", 2, Instant(0), Instant(20))]);
    }

    #[test]
    fn a_count_per_day_ends_on_now() {
        let day = 86_400;
        let chart =
            per_day("findings", Instant(10 * day + 500), Instant(12 * day + 7), |t| (t.0 / day) as usize).unwrap();
        let line = &chart.lines[0];
        assert_eq!((line.first, line.last), (10, 12));
        assert_eq!(line.points.split(' ').count(), 3, "the ends of days 10 and 11, then now");
    }
}

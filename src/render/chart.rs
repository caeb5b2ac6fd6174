//! The inline SVG chart of a disk's temperature and reallocated sectors over
//! time. Rust computes coordinates; the `chart.svg` template draws and words.

use crate::fleet::Sighting;
use serde::Serialize;

const WIDTH: f64 = 680.0;
const HEIGHT: f64 = 180.0;
const PAD: f64 = 36.0;
/// Room on the right for the reallocated axis labels.
const RIGHT: f64 = 76.0;

#[derive(Debug, Serialize)]
pub struct Chart {
    pub width: f64,
    pub height: f64,
    pub pad: f64,
    pub right: f64,
    /// `x,y x,y …` for `<polyline points>`.
    pub temperature: String,
    pub reallocated: String,
    pub temperature_max: i64,
    pub temperature_min: i64,
    pub reallocated_max: u64,
    pub reallocated_min: u64,
    pub first: String,
    pub last: String,
    pub points: usize,
}

pub fn chart(sightings: &[Sighting]) -> Option<Chart> {
    let points: Vec<(i64, Option<i64>, Option<u64>)> =
        sightings.iter().filter_map(|s| s.figures.as_ref().map(|f| (s.at.0, f.temperature, f.reallocated))).collect();
    if points.len() < 2 {
        return None;
    }
    let (t0, t1) = (points[0].0, points[points.len() - 1].0);
    let span = (t1 - t0).max(1) as f64;
    let temps: Vec<i64> = points.iter().filter_map(|p| p.1).collect();
    let (tmin, tmax) =
        (temps.iter().min().copied().unwrap_or(0).min(20), temps.iter().max().copied().unwrap_or(50).max(50));
    // Scaled from its own minimum: growth from 361 to 385 is what must show.
    let rmin = points.iter().filter_map(|p| p.2).min().unwrap_or(0);
    let rmax = points.iter().filter_map(|p| p.2).max().unwrap_or(0).max(rmin + 1);
    let x = |t: i64| PAD + (t - t0) as f64 / span * (WIDTH - PAD - RIGHT);
    let y = |v: f64, lo: f64, hi: f64| HEIGHT - PAD - (v - lo) / (hi - lo).max(1.0) * (HEIGHT - 2.0 * PAD);
    let line = |values: &mut dyn Iterator<Item = (i64, f64)>, lo: f64, hi: f64| {
        let mut points = String::new();
        for (t, v) in values {
            if !points.is_empty() {
                points.push(' ');
            }
            tenths(&mut points, x(t));
            points.push(',');
            tenths(&mut points, y(v, lo, hi));
        }
        points
    };
    Some(Chart {
        width: WIDTH,
        height: HEIGHT,
        pad: PAD,
        right: RIGHT,
        temperature: line(&mut points.iter().filter_map(|p| Some((p.0, p.1? as f64))), tmin as f64, tmax as f64),
        reallocated: line(&mut points.iter().filter_map(|p| Some((p.0, p.2? as f64))), rmin as f64, rmax as f64),
        temperature_max: tmax,
        temperature_min: tmin,
        reallocated_max: rmax,
        reallocated_min: rmin,
        first: crate::time::Instant(t0).date(),
        last: crate::time::Instant(t1).date(),
        points: points.len(),
    })
}

/// Writes `v` (not negative) with one decimal, as `{:.1}` does, without its
/// float formatting: a disk page draws a point per sighting, on every build.
fn tenths(out: &mut String, v: f64) {
    use std::fmt::Write;
    let tenths = (v * 10.0).round() as u64;
    let _ = write!(out, "{}.{}", tenths / 10, tenths % 10);
}

#[cfg(test)]
mod tests {
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
}

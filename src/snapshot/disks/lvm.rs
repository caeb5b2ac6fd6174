//! `pvs` / `lvs --reportformat json`. Sizes come as LVM prints them: bytes
//! with `--units b --nosuffix`, or `296.00m` with the default units.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhysicalVolume {
    /// e.g. `/dev/sda3`.
    pub pv_name: String,
    pub vg_name: String,
    pub size: Option<u64>,
    pub free: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogicalVolume {
    pub lv_name: String,
    pub vg_name: String,
    pub size: Option<u64>,
}

#[derive(Deserialize)]
pub struct Report<T> {
    report: Vec<Section<T>>,
}

#[derive(Deserialize)]
struct Section<T> {
    #[serde(default = "Vec::new", alias = "pv", alias = "lv")]
    rows: Vec<T>,
}

#[derive(Deserialize)]
pub struct RawPv {
    pv_name: String,
    #[serde(default)]
    vg_name: String,
    #[serde(default)]
    pv_size: Option<String>,
    #[serde(default)]
    pv_free: Option<String>,
}

#[derive(Deserialize)]
pub struct RawLv {
    lv_name: String,
    #[serde(default)]
    vg_name: String,
    #[serde(default)]
    lv_size: Option<String>,
}

pub fn physical_volumes(report: Report<RawPv>) -> Vec<PhysicalVolume> {
    let rows = report.report.into_iter().flat_map(|s| s.rows);
    rows.map(|pv| PhysicalVolume {
        pv_name: pv.pv_name.trim().to_string(),
        vg_name: pv.vg_name.trim().to_string(),
        size: pv.pv_size.as_deref().and_then(size),
        free: pv.pv_free.as_deref().and_then(size),
    })
    .collect()
}

pub fn logical_volumes(report: Report<RawLv>) -> Vec<LogicalVolume> {
    let rows = report.report.into_iter().flat_map(|s| s.rows);
    rows.map(|lv| LogicalVolume {
        lv_name: lv.lv_name.trim().to_string(),
        vg_name: lv.vg_name.trim().to_string(),
        size: lv.lv_size.as_deref().and_then(size),
    })
    .collect()
}

/// `296.00m` (binary units, LVM's lower case), `4.00G` (upper case: decimal),
/// `314572800B` or `314572800`.
pub fn size(s: &str) -> Option<u64> {
    let s = s.trim().trim_start_matches('<');
    let split = s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor: f64 = match unit {
        "" | "b" | "B" => 1.0,
        "s" | "S" => 512.0,
        "k" => 1024.0,
        "m" => 1024f64.powi(2),
        "g" => 1024f64.powi(3),
        "t" => 1024f64.powi(4),
        "p" => 1024f64.powi(5),
        "K" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        _ => return None,
    };
    Some((number * factor).round() as u64)
}

//! The SMART verdict of a disk: `ok`, `watch`, `failing` or `unknown`, with
//! the reasons. Reasons are codes with values; the words are in the
//! templates (`reason.txt`), so a translation needs no code change.

pub use super::reason::{Code, Level, Reason};
use crate::config::SmartConfig;
use crate::fleet::Disk;
use crate::snapshot::disks::smartctl::SmartReport;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Ok,
    Watch,
    Failing,
    Unknown,
}

impl Verdict {
    /// How urgent: failing, then watch, then unknown, then ok.
    pub fn rank(self) -> u8 {
        match self {
            Verdict::Failing => 3,
            Verdict::Watch => 2,
            Verdict::Unknown => 1,
            Verdict::Ok => 0,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Watch => "watch",
            Verdict::Failing => "failing",
            Verdict::Unknown => "unknown",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Assessment {
    pub verdict: Verdict,
    pub reasons: Vec<Reason>,
}

fn reason(level: Level, code: Code, values: &[(&'static str, serde_json::Value)]) -> Reason {
    Reason::new(level, code, values.iter().cloned())
}

use serde_json::json;

// smartctl's exit status bits (smartctl(8), "RETURN VALUES").
const EXIT_COMMAND_FAILED: u64 = 1 << 2;
const EXIT_DISK_FAILING: u64 = 1 << 3;
const EXIT_PREFAIL_NOW: u64 = 1 << 4;
const EXIT_PREFAIL_PAST: u64 = 1 << 5;
const EXIT_ERROR_LOG: u64 = 1 << 6;
const EXIT_SELF_TEST_ERRORS: u64 = 1 << 7;

/// Judges one smartctl report on its own.
pub fn assess_report(report: &SmartReport, config: &SmartConfig) -> Vec<Reason> {
    let mut reasons = Vec::new();
    if report.passed == Some(false) {
        reasons.push(reason(Level::Failing, Code::SmartFailed, &[]));
    }
    let exit = report.exit_status.unwrap_or(0);
    if exit & EXIT_DISK_FAILING != 0 && report.passed != Some(false) {
        reasons.push(reason(Level::Failing, Code::ExitDiskFailing, &[]));
    }
    let mut failed_now = false;
    for attribute in &report.attributes {
        let values = || {
            vec![
                ("id", json!(attribute.id)),
                ("name", json!(attribute.name)),
                ("value", json!(attribute.value)),
                ("thresh", json!(attribute.thresh)),
                ("raw", json!(attribute.raw)),
            ]
        };
        match attribute.when_failed.as_str() {
            "now" => {
                failed_now = true;
                reasons.push(reason(Level::Failing, Code::AttributeFailedNow, &values()));
            }
            "past" => reasons.push(reason(Level::Watch, Code::AttributeFailedPast, &values())),
            _ => {}
        }
        // Vendors reuse ids: a rule applies only to the names it lists.
        if let Some(rule) = config.rule(attribute.id).filter(|r| r.applies_to(&attribute.name)) {
            let level = match rule.failing_above {
                Some(limit) if attribute.raw > limit => Some((Level::Failing, limit)),
                _ if attribute.raw > rule.watch_above => Some((Level::Watch, rule.watch_above)),
                _ => None,
            };
            if let Some((level, limit)) = level {
                let mut v = values();
                if attribute.name.is_empty() || attribute.name == "Unknown_Attribute" {
                    v[1] = ("name", json!(rule.name));
                }
                v.push(("above", json!(limit)));
                reasons.push(reason(level, Code::AtaAttribute, &v));
            }
        }
    }
    if exit & EXIT_PREFAIL_NOW != 0 && !failed_now {
        reasons.push(reason(Level::Failing, Code::ExitPrefailNow, &[]));
    }
    if exit & EXIT_PREFAIL_PAST != 0 && !report.attributes.iter().any(|a| a.when_failed == "past") {
        reasons.push(reason(Level::Watch, Code::ExitPrefailPast, &[]));
    }
    if exit & EXIT_ERROR_LOG != 0 {
        reasons.push(reason(Level::Watch, Code::ErrorLog, &[("count", json!(report.error_log_count))]));
    }
    if exit & EXIT_SELF_TEST_ERRORS != 0 {
        reasons.push(reason(Level::Watch, Code::SelfTestErrors, &[("count", json!(report.self_test_errors))]));
    }
    if exit & EXIT_COMMAND_FAILED != 0 && report.has_health_data() {
        reasons.push(reason(Level::Info, Code::CommandFailed, &[]));
    }
    if let Some(nvme) = &report.nvme {
        if nvme.critical_warning != 0 {
            reasons.push(reason(Level::Failing, Code::NvmeCriticalWarning, &[("value", json!(nvme.critical_warning))]));
        }
        if nvme.media_errors > 0 {
            reasons.push(reason(Level::Watch, Code::NvmeMediaErrors, &[("count", json!(nvme.media_errors))]));
        }
        if let (Some(spare), Some(threshold)) = (nvme.available_spare, nvme.available_spare_threshold) {
            if spare < threshold {
                let v = [("spare", json!(spare)), ("threshold", json!(threshold))];
                reasons.push(reason(Level::Failing, Code::NvmeSpareLow, &v));
            }
        }
        if let Some(used) = nvme.percentage_used {
            let level = if used >= config.nvme_percentage_used_failing {
                Some(Level::Failing)
            } else if used >= config.nvme_percentage_used_watch {
                Some(Level::Watch)
            } else {
                None
            };
            if let Some(level) = level {
                reasons.push(reason(level, Code::NvmeWear, &[("percent", json!(used))]));
            }
        }
    }
    if let Some(scsi) = &report.scsi {
        if let Some(defects) = scsi.grown_defects.filter(|&d| d > 0) {
            reasons.push(reason(Level::Watch, Code::ScsiGrownDefects, &[("count", json!(defects))]));
        }
        if scsi.uncorrected_errors > 0 {
            reasons.push(reason(Level::Watch, Code::ScsiUncorrected, &[("count", json!(scsi.uncorrected_errors))]));
        }
    }
    if let Some(current) = report.temperature {
        let (limit, own) = match report.temperature_limit {
            Some(limit) => (limit, true),
            None => (config.temperature_max, false),
        };
        if current > limit {
            let v = [("current", json!(current)), ("limit", json!(limit)), ("own_limit", json!(own))];
            reasons.push(reason(Level::Watch, Code::Temperature, &v));
        }
    }
    reasons
}

/// Judges a disk: its newest report, and what only its history shows.
pub fn assess_disk(disk: &Disk, config: &SmartConfig) -> Assessment {
    let mut reasons = Vec::new();
    let newest = disk.sightings.last();
    // The newest sighting decides: an older report must not vouch for a disk
    // whose SMART can no longer be read.
    match newest.and_then(|s| s.figures.as_ref()).and(disk.report.as_ref()) {
        Some(report) => reasons.extend(assess_report(report, config)),
        None => {
            let (what, detail) = match &disk.unavailable {
                Some(n) => (n.what, n.detail.as_deref()),
                None => (crate::fleet::identity::WithoutSmart::NoData, None),
            };
            reasons.push(reason(Level::Unknown, Code::NoSmart, &[("what", json!(what)), ("detail", json!(detail))]));
        }
    }
    reasons.extend(growth(disk));
    let verdict = match reasons.iter().map(|r| r.level).filter(|l| *l != Level::Info).max() {
        Some(Level::Failing) => Verdict::Failing,
        Some(Level::Watch) => Verdict::Watch,
        Some(Level::Unknown) => Verdict::Unknown,
        _ => Verdict::Ok,
    };
    Assessment { verdict, reasons }
}

/// A reallocated or pending count that grew since the previous sighting.
fn growth(disk: &Disk) -> Vec<Reason> {
    // The sightings between two changes of a history (`Dated::same_as`)
    // report the same counts: the newest two with figures are the newest
    // change with figures and, when its stretch holds no other sighting, the
    // change with figures before it. A disk that never reported SMART in a
    // year is read as its changes, not day by day.
    let history = &disk.sightings;
    let mut end = history.len();
    let mut stretches = history.changes().rev().filter_map(|(place, s)| {
        let stretch = (end - place, s.figures.as_ref());
        end = place;
        stretch.1.map(|f| (stretch.0, f))
    });
    let Some((1, now)) = stretches.next() else { return Vec::new() };
    let Some((_, before)) = stretches.next() else { return Vec::new() };
    let mut reasons = Vec::new();
    let pairs = [("reallocated", before.reallocated, now.reallocated), ("pending", before.pending, now.pending)];
    for (what, before, now) in pairs {
        if let (Some(before), Some(now)) = (before, now) {
            if now > before {
                let v = [("what", json!(what)), ("from", json!(before)), ("to", json!(now))];
                reasons.push(reason(Level::Watch, Code::Grew, &v));
            }
        }
    }
    reasons
}

#[cfg(test)]
mod tests {
    use super::growth;
    use crate::fleet::{Disk, Sighting, SmartFigures};
    use crate::time::Instant;

    /// `growth` as a walk back through every sighting: what grew, from, to.
    fn walked(disk: &Disk) -> Vec<(String, u64, u64)> {
        let mut newest = disk.sightings.iter().rev().filter_map(|s| s.figures.as_ref());
        let (Some(now), Some(before)) = (newest.next(), newest.next()) else { return Vec::new() };
        let pairs = [("reallocated", before.reallocated, now.reallocated), ("pending", before.pending, now.pending)];
        pairs
            .into_iter()
            .filter_map(|(w, b, n)| b.zip(n).filter(|(b, n)| n > b).map(|(b, n)| (w.to_string(), b, n)))
            .collect()
    }

    fn as_u64(v: &serde_json::Value) -> u64 {
        v.as_u64().unwrap()
    }

    #[test]
    fn growth_read_from_the_changes_is_the_walk_through_every_sighting() {
        // Counts that grow, hold, fall back and vanish (no SMART), each
        // for stretches of one day and of several: every prefix of it.
        let figures = |d: u64| {
            (d % 7 != 3 && d % 11 != 5).then(|| SmartFigures {
                temperature: Some(30 + d as i64 % 5),
                reallocated: Some(d / 9 % 4),
                pending: Some(if d % 13 < 2 { d % 3 } else { 0 }),
                ..SmartFigures::default()
            })
        };
        let mut disk = Disk::bare("d");
        let mut grew = 0;
        for d in 0..300 {
            let at = Instant(1_790_000_000 + d as i64 * 86_400);
            disk.sightings.push(Sighting { at, host: "h".into(), device: "sda".into(), figures: figures(d) });
            let reasons: Vec<(String, u64, u64)> = growth(&disk)
                .iter()
                .map(|r| {
                    (r.values["what"].as_str().unwrap().to_string(), as_u64(&r.values["from"]), as_u64(&r.values["to"]))
                })
                .collect();
            let want = walked(&disk);
            assert_eq!(reasons, want, "day {d}");
            grew += reasons.len();
        }
        assert!(grew > 10, "counts grew on {grew} days");
    }
}

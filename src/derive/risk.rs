//! The SMART verdict of a disk: `ok`, `watch`, `failing` or `unknown`, with
//! the reasons. Reasons are codes with values; the words are in the
//! templates (`reason.txt`), so a translation needs no code change.

use crate::config::SmartConfig;
use crate::fleet::{Disk, SmartFigures};
use crate::snapshot::disks::smartctl::SmartReport;
use serde::Serialize;
use std::collections::BTreeMap;

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

/// How much a reason weighs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Worth knowing, changes nothing.
    Info,
    Watch,
    Failing,
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reason {
    pub level: Level,
    /// What the reason is about, e.g. `ata_attribute`; `reason.txt` words it.
    pub code: &'static str,
    /// The figures the words need.
    pub values: BTreeMap<&'static str, serde_json::Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Assessment {
    pub verdict: Verdict,
    pub reasons: Vec<Reason>,
}

fn reason(level: Level, code: &'static str, values: &[(&'static str, serde_json::Value)]) -> Reason {
    Reason { level, code, values: values.iter().cloned().collect() }
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
        reasons.push(reason(Level::Failing, "smart_failed", &[]));
    }
    let exit = report.exit_status.unwrap_or(0);
    if exit & EXIT_DISK_FAILING != 0 && report.passed != Some(false) {
        reasons.push(reason(Level::Failing, "exit_disk_failing", &[]));
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
                reasons.push(reason(Level::Failing, "attribute_failed_now", &values()));
            }
            "past" => reasons.push(reason(Level::Watch, "attribute_failed_past", &values())),
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
                reasons.push(reason(level, "ata_attribute", &v));
            }
        }
    }
    if exit & EXIT_PREFAIL_NOW != 0 && !failed_now {
        reasons.push(reason(Level::Failing, "exit_prefail_now", &[]));
    }
    if exit & EXIT_PREFAIL_PAST != 0 && !report.attributes.iter().any(|a| a.when_failed == "past") {
        reasons.push(reason(Level::Watch, "exit_prefail_past", &[]));
    }
    if exit & EXIT_ERROR_LOG != 0 {
        reasons.push(reason(Level::Watch, "error_log", &[("count", json!(report.error_log_count))]));
    }
    if exit & EXIT_SELF_TEST_ERRORS != 0 {
        reasons.push(reason(Level::Watch, "self_test_errors", &[("count", json!(report.self_test_errors))]));
    }
    if exit & EXIT_COMMAND_FAILED != 0 && report.has_health_data() {
        reasons.push(reason(Level::Info, "command_failed", &[]));
    }
    if let Some(nvme) = &report.nvme {
        if nvme.critical_warning != 0 {
            reasons.push(reason(Level::Failing, "nvme_critical_warning", &[("value", json!(nvme.critical_warning))]));
        }
        if nvme.media_errors > 0 {
            reasons.push(reason(Level::Watch, "nvme_media_errors", &[("count", json!(nvme.media_errors))]));
        }
        if let (Some(spare), Some(threshold)) = (nvme.available_spare, nvme.available_spare_threshold) {
            if spare < threshold {
                let v = [("spare", json!(spare)), ("threshold", json!(threshold))];
                reasons.push(reason(Level::Failing, "nvme_spare_low", &v));
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
                reasons.push(reason(level, "nvme_wear", &[("percent", json!(used))]));
            }
        }
    }
    if let Some(scsi) = &report.scsi {
        if let Some(defects) = scsi.grown_defects.filter(|&d| d > 0) {
            reasons.push(reason(Level::Watch, "scsi_grown_defects", &[("count", json!(defects))]));
        }
        if scsi.uncorrected_errors > 0 {
            reasons.push(reason(Level::Watch, "scsi_uncorrected", &[("count", json!(scsi.uncorrected_errors))]));
        }
    }
    if let Some(current) = report.temperature {
        let (limit, own) = match report.temperature_limit {
            Some(limit) => (limit, true),
            None => (config.temperature_max, false),
        };
        if current > limit {
            let v = [("current", json!(current)), ("limit", json!(limit)), ("own_limit", json!(own))];
            reasons.push(reason(Level::Watch, "temperature", &v));
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
            reasons.push(reason(Level::Unknown, "no_smart", &[("what", json!(what)), ("detail", json!(detail))]));
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
    let with_figures: Vec<&SmartFigures> = disk.sightings.iter().filter_map(|s| s.figures.as_ref()).collect();
    let [.., before, now] = with_figures.as_slice() else {
        return Vec::new();
    };
    let mut reasons = Vec::new();
    let pairs = [("reallocated", before.reallocated, now.reallocated), ("pending", before.pending, now.pending)];
    for (what, before, now) in pairs {
        if let (Some(before), Some(now)) = (before, now) {
            if now > before {
                let v = [("what", json!(what)), ("from", json!(before)), ("to", json!(now))];
                reasons.push(reason(Level::Watch, "grew", &v));
            }
        }
    }
    reasons
}

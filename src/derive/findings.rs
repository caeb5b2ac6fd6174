//! Findings: what needs a person, derived from the data tree alone. Each has
//! a stable id (the same problem keeps its id from build to build), a kind, a
//! severity, the evidence, and since when the condition has held without a
//! break — history makes that exact, and a condition that cleared and came
//! back starts again. "Now" is the newest snapshot of the fleet, never the
//! clock, so the same inputs give the same findings.

use super::risk::Verdict;
use super::Derived;
use crate::config::{Config, FindingsConfig, SmartConfig};
use crate::fleet::{Disk, Fleet, Host, SmartFigures};
use crate::time::Instant;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

/// A value a finding rests on, and the snapshot it comes from.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Evidence {
    /// What the value is, e.g. `use_percent`, `reallocated`, `security_upgrades`.
    pub what: String,
    pub value: Value,
    /// The snapshot: its kind and time (seconds since the epoch).
    pub kind: String,
    pub at: Instant,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// `<kind>:<host>`, with `:<subject>` (a disk, a mount point, a job, a probe) when a host can have several.
    pub id: String,
    pub host: String,
    pub kind: &'static str,
    pub severity: Severity,
    /// What the sentence in `finding.txt` is made from.
    pub values: BTreeMap<&'static str, Value>,
    pub evidence: Vec<Evidence>,
    pub since: Instant,
}

fn hours(h: u64) -> i64 {
    h as i64 * 3600
}

/// Every finding of the fleet, most severe first, then oldest first, then by id.
pub fn findings(fleet: &Fleet, derived: &Derived, config: &Config) -> Vec<Finding> {
    let Some(now) = fleet.newest else { return Vec::new() };
    let cfg = &config.findings;
    let mut out = Vec::new();
    for host in &fleet.hosts {
        host_findings(host, now, config, &mut out);
    }
    let present = fleet.present_disks();
    for (disk, assessment) in fleet.disks.iter().zip(&derived.assessments) {
        let kind = match assessment.verdict {
            Verdict::Failing => "smart-failing",
            Verdict::Watch => "smart-watch",
            _ => continue,
        };
        let Some(newest) = disk.sightings.last().filter(|_| present.contains(disk.id.as_str())) else { continue };
        let mut evidence: Vec<Evidence> = Vec::new();
        if let Some(f) = &newest.figures {
            for (what, value) in [
                ("passed", json!(f.passed)),
                ("reallocated", json!(f.reallocated)),
                ("pending", json!(f.pending)),
                ("temperature", json!(f.temperature)),
                ("media_errors", json!(f.media_errors)),
            ] {
                if !value.is_null() {
                    evidence.push(Evidence { what: what.into(), value, kind: "disks".into(), at: newest.at });
                }
            }
        }
        let reasons: Vec<&str> = assessment.reasons.iter().map(|r| r.code).collect();
        out.push(Finding {
            id: format!("{kind}:{}:{}", newest.host, crate::slug::slug(&disk.id)),
            host: newest.host.clone(),
            kind,
            severity: if kind == "smart-failing" { Severity::Critical } else { Severity::Warning },
            values: BTreeMap::from([
                ("disk", json!(disk.id)),
                ("model", json!(disk.model)),
                ("device", json!(newest.device)),
                ("reasons", json!(reasons)),
            ]),
            evidence,
            since: smart_since(disk, &config.smart),
        });
    }
    for m in &fleet_moves(derived, now, cfg) {
        out.push(Finding {
            id: format!("disk-moved:{}:{}", m.to, crate::slug::slug(&m.disk)),
            host: m.to.clone(),
            kind: "disk-moved",
            severity: Severity::Info,
            values: BTreeMap::from([
                ("disk", json!(m.disk)),
                ("model", json!(m.model)),
                ("from", json!(m.from)),
                ("to", json!(m.to)),
            ]),
            evidence: vec![
                Evidence { what: "last_seen_on_from".into(), value: json!(m.from), kind: "disks".into(), at: m.left },
                Evidence { what: "first_seen_on_to".into(), value: json!(m.to), kind: "disks".into(), at: m.at },
            ],
            since: m.at,
        });
    }
    out.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.since.cmp(&b.since)).then_with(|| a.id.cmp(&b.id)));
    out
}

/// Recent moves only: a move is news for `disk_moved_days`.
fn fleet_moves<'a>(derived: &'a Derived, now: Instant, cfg: &FindingsConfig) -> Vec<&'a super::moves::Move> {
    derived.moves.iter().filter(|m| now.0 - m.at.0 <= cfg.disk_moved_days as i64 * 86_400).collect()
}

fn host_findings(host: &Host, now: Instant, config: &Config, out: &mut Vec<Finding>) {
    let cfg = &config.findings;
    let name = &host.name;
    let mut push =
        |kind: &'static str, subject: Option<&str>, severity, values: Vec<(&'static str, Value)>, evidence, since| {
            let id = match subject {
                Some(s) => format!("{kind}:{name}:{s}"),
                None => format!("{kind}:{name}"),
            };
            out.push(Finding {
                id,
                host: name.clone(),
                kind,
                severity,
                values: values.into_iter().collect(),
                evidence,
                since,
            });
        };
    // What the host collects, not the notices `parc apply` records now and then (`notify`).
    let collected = host.kinds.iter().filter(|(kind, _)| kind.as_str() != "notify").filter_map(|(_, k)| k.last).max();
    let stale_after = hours(config.fleet.stale_after_hours);
    if let Some(last) = collected.filter(|last| now.0 - last.0 > stale_after) {
        let h = (now.0 - last.0) / 3600;
        let ev = vec![Evidence { what: "last_seen".into(), value: json!(last), kind: "any".into(), at: last }];
        let values = vec![("hours", json!(h)), ("after_hours", json!(config.fleet.stale_after_hours))];
        push("host-stale", None, Severity::Warning, values, ev, last);
    }

    // File systems over their threshold, since the first version of the unbroken run above it.
    let disk_versions: Vec<_> = host.timeline.iter().filter(|v| v.kind == "disks").collect();
    if let Some(newest) = disk_versions.last() {
        for (mount, pct) in &newest.use_percent {
            let limit = cfg.filesystem_full.get(mount).copied().unwrap_or(cfg.filesystem_full_percent);
            if *pct < limit {
                continue;
            }
            let mut since = newest.at;
            for v in disk_versions.iter().rev() {
                match v.use_percent.iter().find(|(m, _)| m == mount) {
                    Some((_, p)) if *p >= limit => since = v.at,
                    _ => break,
                }
            }
            let ev =
                vec![Evidence { what: "use_percent".into(), value: json!(pct), kind: "disks".into(), at: newest.at }];
            let severity = if *pct >= 98 { Severity::Critical } else { Severity::Warning };
            push(
                "filesystem-full",
                Some(mount),
                severity,
                vec![("mount", json!(mount)), ("percent", json!(pct)), ("limit", json!(limit))],
                ev,
                since,
            );
        }
    }

    if let Some(apt) = &host.apt {
        let at = apt.at.unwrap_or(host.last_seen);
        if let Some(since) = apt.reboot_since.filter(|s| now.0 - s.0 > hours(cfg.reboot_required_after_hours)) {
            let ev = vec![Evidence {
                what: "reboot_required".into(),
                value: json!(apt.newest.reboot_packages),
                kind: "apt".into(),
                at,
            }];
            push(
                "reboot-required",
                None,
                Severity::Warning,
                vec![("packages", json!(apt.newest.reboot_packages))],
                ev,
                since,
            );
        }
        if let Some(since) = apt.security_since.filter(|s| now.0 - s.0 > hours(cfg.security_updates_after_hours)) {
            let security: Vec<&str> = (apt.newest.upgrade.iter())
                .flat_map(|s| &s.actions)
                .filter(|a| a.op == crate::snapshot::apt::simulate::Op::Upgrade && a.security())
                .map(|a| a.package.as_str())
                .collect();
            let ev = vec![Evidence {
                what: "security_upgrades".into(),
                value: json!(security.len()),
                kind: "apt".into(),
                at,
            }];
            push(
                "security-updates",
                None,
                Severity::Warning,
                vec![("count", json!(security.len())), ("packages", json!(security))],
                ev,
                since,
            );
        }
        if let Some(since) = apt.held_since {
            let ev = vec![Evidence { what: "held".into(), value: json!(apt.newest.held), kind: "apt".into(), at }];
            push("held-packages", None, Severity::Info, vec![("packages", json!(apt.newest.held))], ev, since);
        }
        if let Some(since) = apt.error_since {
            let mut errors: Vec<&str> =
                apt.newest.update.iter().flat_map(|u| u.errors.iter().map(String::as_str)).collect();
            for sim in [&apt.newest.upgrade, &apt.newest.dist_upgrade].into_iter().flatten() {
                errors.extend(sim.errors.iter().map(String::as_str));
            }
            let ev = vec![Evidence { what: "errors".into(), value: json!(errors), kind: "apt".into(), at }];
            push("apt-error", None, Severity::Warning, vec![("errors", json!(errors))], ev, since);
        }
    }

    // Archive jobs this host runs: the newest run failed; or no good archive for too long.
    let mut jobs: BTreeMap<&str, Vec<&crate::fleet::ArchiveRun>> = BTreeMap::new();
    for r in &host.archives {
        jobs.entry(&r.run.job).or_default().push(r);
    }
    for (job, runs) in jobs {
        let newest = runs.last().expect("a job has a run");
        // A skip changes nothing: the run before it says how the job stands.
        let acted: Vec<_> =
            runs.iter().filter(|r| r.run.outcome != crate::snapshot::archive::Outcome::Skipped).collect();
        if let Some(last) = acted.last().filter(|r| r.run.outcome.is_failure()) {
            let since = acted.iter().rev().take_while(|r| r.run.outcome.is_failure()).last().map_or(last.at, |r| r.at);
            let newest = *last;
            let ev = vec![Evidence {
                what: "cause".into(),
                value: json!(newest.run.cause),
                kind: format!("archive-{job}"),
                at: newest.at,
            }];
            push(
                "archive-failed",
                Some(job),
                Severity::Critical,
                vec![
                    ("job", json!(job)),
                    ("outcome", json!(newest.run.outcome)),
                    ("step", json!(newest.run.failed_step)),
                    ("cause", json!(newest.run.cause)),
                ],
                ev,
                since,
            );
        }
        let stale_after = config.archive_stale_after_hours(job) * 3600;
        let last_good = newest.run.last_good.as_ref().and_then(|g| Instant::parse_rfc3339(&g.at).ok());
        let since = last_good.unwrap_or(runs[0].at);
        if now.0 - since.0 > stale_after {
            let ev = vec![Evidence {
                what: "last_good".into(),
                value: json!(last_good),
                kind: format!("archive-{job}"),
                at: newest.at,
            }];
            push(
                "archive-stale",
                Some(job),
                Severity::Warning,
                vec![("job", json!(job)), ("hours", json!((now.0 - since.0) / 3600)), ("last_good", json!(last_good))],
                ev,
                since,
            );
        }
    }

    for p in &host.probes_broken {
        let ev = vec![Evidence {
            what: "cause".into(),
            value: json!(p.cause),
            kind: p.kind.clone(),
            at: host.kinds.get(&p.kind).and_then(|k| k.last).unwrap_or(p.since),
        }];
        let subject = format!("{}/{}", p.kind, p.probe);
        push(
            "probe-failed",
            Some(&subject),
            Severity::Warning,
            vec![("probe", json!(p.probe)), ("snapshot_kind", json!(p.kind)), ("cause", json!(p.cause))],
            ev,
            p.since,
        );
    }
}

/// What a sighting's figures alone say: failing, watch, or ok.
fn figures_level(f: &SmartFigures, smart: &SmartConfig) -> Verdict {
    if f.passed == Some(false) {
        return Verdict::Failing;
    }
    let above = |id: u8, v: Option<u64>| v.zip(smart.rule(id)).is_some_and(|(v, r)| v > r.watch_above);
    let hot = f.temperature.is_some_and(|t| t > smart.temperature_max);
    if above(5, f.reallocated) || above(197, f.pending) || hot || f.media_errors.is_some_and(|m| m > 0) {
        Verdict::Watch
    } else {
        Verdict::Ok
    }
}

/// Since when a disk's SMART has been at least as bad as its newest sighting
/// says: back through the sightings while their figures are no better. When
/// the figures do not show why (a reason from an attribute they do not
/// keep), since the first of the newest unbroken run of sightings with SMART.
fn smart_since(disk: &Disk, smart: &SmartConfig) -> Instant {
    let newest = disk.sightings.last().expect("a disk has a sighting");
    let level = newest.figures.as_ref().map(|f| figures_level(f, smart));
    let mut since = newest.at;
    for s in disk.sightings.iter().rev() {
        let Some(f) = &s.figures else { break };
        if level.is_some_and(|l| l != Verdict::Ok) && figures_level(f, smart).rank() < level.unwrap().rank() {
            break;
        }
        since = s.at;
    }
    since
}

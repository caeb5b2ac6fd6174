//! Findings: what needs a person, derived from the data tree alone. Each has
//! a stable id (the same problem keeps its id from build to build), a kind, a
//! severity, the evidence, and since when the condition has held without a
//! break — history makes that exact, and a condition that cleared and came
//! back starts again. "Now" is the newest snapshot of the fleet, never the
//! clock, so the same inputs give the same findings.

use super::reason::Code;
use super::risk::Verdict;
use super::Derived;
use crate::code::codes;
use crate::config::{Config, FindingsConfig, SmartConfig};
use crate::fleet::apt::AptHistory;
use crate::fleet::{ArchiveRun, Disk, Fleet, Host, SmartFigures};
use crate::snapshot::archive::Outcome;
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

codes! {
    /// What a finding is about; `finding.txt` words each.
    pub enum Kind {
        HostStale = "host-stale",
        HostUnreachable = "host-unreachable",
        SmartFailing = "smart-failing",
        SmartWatch = "smart-watch",
        FilesystemFull = "filesystem-full",
        RebootRequired = "reboot-required",
        SecurityUpdates = "security-updates",
        HeldPackages = "held-packages",
        AptError = "apt-error",
        ArchiveFailed = "archive-failed",
        ArchiveStale = "archive-stale",
        DiskMoved = "disk-moved",
        ProbeFailed = "probe-failed",
        FleetStale = "fleet-stale",
        UpdateFailed = "update-failed",
        RebootUnverified = "reboot-unverified",
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// `<kind>:<host>`, with `:<subject>` (a disk, a mount point, a job, a probe) when a host can have several.
    pub id: String,
    pub host: String,
    pub kind: Kind,
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
    let Some(now) = fleet.now() else { return Vec::new() };
    let cfg = &config.findings;
    let mut out = Vec::new();
    for host in &fleet.hosts {
        host_findings(host, now, config, &mut out);
    }
    // Only a build that watches the clock can see the whole fleet fall silent.
    if let (Some(clock), Some(newest)) = (fleet.clock, fleet.newest) {
        let stale_after = hours(config.fleet.stale_after_hours);
        if clock.0 - newest.0 > stale_after {
            let values = BTreeMap::from([
                ("hours", json!((clock.0 - newest.0) / 3600)),
                ("after_hours", json!(config.fleet.stale_after_hours)),
            ]);
            out.push(Finding {
                id: Kind::FleetStale.to_string(),
                host: String::new(),
                kind: Kind::FleetStale,
                severity: Severity::Critical,
                values,
                evidence: evidence("newest", json!(newest), "any", newest),
                since: Instant(newest.0 + stale_after),
            });
        }
    }
    let present = fleet.present_disks();
    for (disk, assessment) in fleet.disks.iter().zip(&derived.assessments) {
        let (kind, severity) = match assessment.verdict {
            Verdict::Failing => (Kind::SmartFailing, Severity::Critical),
            Verdict::Watch => (Kind::SmartWatch, Severity::Warning),
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
        let reasons: Vec<Code> = assessment.reasons.iter().map(|r| r.code).collect();
        out.push(Finding {
            id: format!("{kind}:{}:{}", newest.host, crate::slug::slug(&disk.id)),
            host: newest.host.to_string(),
            kind,
            severity,
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
            id: format!("{}:{}:{}", Kind::DiskMoved, m.to, crate::slug::slug(&m.disk)),
            host: m.to.clone(),
            kind: Kind::DiskMoved,
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
    let mut found = Found { host: &host.name, out };
    host_stale(host, now, config, &mut found);
    host_unreachable(host, &mut found);
    filesystems_full(host, &config.findings, &mut found);
    if let Some(apt) = &host.apt {
        let at = apt.at.unwrap_or(host.last_seen);
        reboot_required(apt, at, now, &config.findings, &mut found);
        security_updates(apt, at, now, &config.findings, &mut found);
        held_packages(apt, at, &mut found);
        apt_error(apt, at, &mut found);
    }
    archives(host, now, config, &mut found);
    probes_failed(host, &mut found);
    updates(host, &mut found);
}

/// The findings of one host, as they are found.
struct Found<'a> {
    host: &'a str,
    out: &'a mut Vec<Finding>,
}

impl Found<'_> {
    /// A finding of this host; `subject` tells apart the findings of a kind a host can have several of.
    fn push(
        &mut self,
        kind: Kind,
        subject: Option<&str>,
        severity: Severity,
        values: Vec<(&'static str, Value)>,
        evidence: Vec<Evidence>,
        since: Instant,
    ) {
        self.out.push(Finding::of_host(kind, self.host, subject, severity, values, evidence, since));
    }
}

impl Finding {
    /// A finding of `host`, its id `<kind>:<host>`, with `:<subject>` when
    /// the host can have several of the kind.
    pub(crate) fn of_host(
        kind: Kind,
        host: &str,
        subject: Option<&str>,
        severity: Severity,
        values: Vec<(&'static str, Value)>,
        evidence: Vec<Evidence>,
        since: Instant,
    ) -> Finding {
        let id = match subject {
            Some(s) => format!("{kind}:{host}:{s}"),
            None => format!("{kind}:{host}"),
        };
        Finding { id, host: host.to_string(), kind, severity, values: values.into_iter().collect(), evidence, since }
    }
}

/// Whether a snapshot of `kind` is the host reporting: not the notices
/// `parc apply` records now and then (`notify`), nor the collections that
/// did not reach it (`reach`).
pub(crate) fn reports(kind: &str) -> bool {
    !matches!(kind, "notify" | "reach")
}

fn evidence(what: &str, value: Value, kind: &str, at: Instant) -> Vec<Evidence> {
    vec![Evidence { what: what.into(), value, kind: kind.into(), at }]
}

/// No snapshot for longer than `fleet.stale_after_hours`.
fn host_stale(host: &Host, now: Instant, config: &Config, found: &mut Found) {
    let collected = host.kinds.iter().filter(|(kind, _)| reports(kind)).filter_map(|(_, k)| k.last).max();
    let stale_after = hours(config.fleet.stale_after_hours);
    if let Some(last) = collected.filter(|last| now.0 - last.0 > stale_after) {
        let h = (now.0 - last.0) / 3600;
        let values = vec![("hours", json!(h)), ("after_hours", json!(config.fleet.stale_after_hours))];
        found.push(
            Kind::HostStale,
            None,
            Severity::Warning,
            values,
            evidence("last_seen", json!(last), "any", last),
            last,
        );
    }
}

/// Collections that failed to reach the host since its newest snapshot.
fn host_unreachable(host: &Host, found: &mut Found) {
    let Some(u) = &host.unreachable else { return };
    let values = vec![
        ("class", json!(u.reach.class)),
        ("destination", json!(u.reach.destination)),
        ("error", json!(u.reach.error)),
        ("attempts", json!(u.attempts)),
    ];
    let ev = evidence("class", json!(u.reach.class), "reach", u.last);
    found.push(Kind::HostUnreachable, None, Severity::Warning, values, ev, u.since);
}

/// File systems over their threshold, since the first version of the unbroken run above it.
fn filesystems_full(host: &Host, cfg: &FindingsConfig, found: &mut Found) {
    // From the newest `disks` version back, as far as a file system stays over its limit.
    let disk_versions = || host.timeline.iter().rev().filter(|v| v.kind == "disks");
    let Some(newest) = disk_versions().next() else { return };
    for (mount, pct) in &newest.use_percent {
        let limit = cfg.filesystem_full.get(mount.as_str()).copied().unwrap_or(cfg.filesystem_full_percent);
        if *pct < limit {
            continue;
        }
        let mut since = newest.at;
        for v in disk_versions() {
            match v.use_percent.iter().find(|(m, _)| m == mount) {
                Some((_, p)) if *p >= limit => since = v.at,
                _ => break,
            }
        }
        let severity = if *pct >= 98 { Severity::Critical } else { Severity::Warning };
        found.push(
            Kind::FilesystemFull,
            Some(mount),
            severity,
            vec![("mount", json!(mount)), ("percent", json!(pct)), ("limit", json!(limit))],
            evidence("use_percent", json!(pct), "disks", newest.at),
            since,
        );
    }
}

fn reboot_required(apt: &AptHistory, at: Instant, now: Instant, cfg: &FindingsConfig, found: &mut Found) {
    let Some(since) = apt.reboot_since.filter(|s| now.0 - s.0 > hours(cfg.reboot_required_after_hours)) else {
        return;
    };
    let packages = &apt.newest.reboot_packages;
    found.push(
        Kind::RebootRequired,
        None,
        Severity::Warning,
        vec![("packages", json!(packages))],
        evidence("reboot_required", json!(packages), "apt", at),
        since,
    );
}

fn security_updates(apt: &AptHistory, at: Instant, now: Instant, cfg: &FindingsConfig, found: &mut Found) {
    let Some(since) = apt.security_since.filter(|s| now.0 - s.0 > hours(cfg.security_updates_after_hours)) else {
        return;
    };
    let security: Vec<&str> = (apt.newest.upgrade.iter())
        .flat_map(|s| &s.actions)
        .filter(|a| a.op == crate::snapshot::apt::simulate::Op::Upgrade && a.security())
        .map(|a| a.package.as_str())
        .collect();
    found.push(
        Kind::SecurityUpdates,
        None,
        Severity::Warning,
        vec![("count", json!(security.len())), ("packages", json!(security))],
        evidence("security_upgrades", json!(security.len()), "apt", at),
        since,
    );
}

fn held_packages(apt: &AptHistory, at: Instant, found: &mut Found) {
    let Some(since) = apt.held_since else { return };
    let held = &apt.newest.held;
    let ev = evidence("held", json!(held), "apt", at);
    found.push(Kind::HeldPackages, None, Severity::Info, vec![("packages", json!(held))], ev, since);
}

fn apt_error(apt: &AptHistory, at: Instant, found: &mut Found) {
    let Some(since) = apt.error_since else { return };
    let mut errors: Vec<&str> = apt.newest.update.iter().flat_map(|u| u.errors.iter().map(String::as_str)).collect();
    for sim in [&apt.newest.upgrade, &apt.newest.dist_upgrade].into_iter().flatten() {
        errors.extend(sim.errors.iter().map(String::as_str));
    }
    let ev = evidence("errors", json!(errors), "apt", at);
    found.push(Kind::AptError, None, Severity::Warning, vec![("errors", json!(errors))], ev, since);
}

/// Archive jobs this host runs: the newest run failed; or no good archive for too long.
fn archives(host: &Host, now: Instant, config: &Config, found: &mut Found) {
    let mut jobs: BTreeMap<&str, Vec<&ArchiveRun>> = BTreeMap::new();
    for r in &host.archives {
        jobs.entry(&r.run.job).or_default().push(r);
    }
    for (job, runs) in jobs {
        archive_failed(job, &runs, found);
        archive_stale(job, &runs, now, config.archive_stale_after_hours(job) * 3600, found);
    }
}

fn archive_failed(job: &str, runs: &[&ArchiveRun], found: &mut Found) {
    // A skip changes nothing: the run before it says how the job stands.
    let acted: Vec<_> = runs.iter().filter(|r| r.run.outcome != Outcome::Skipped).collect();
    let Some(last) = acted.last().filter(|r| r.run.outcome.is_failure()) else { return };
    let since = acted.iter().rev().take_while(|r| r.run.outcome.is_failure()).last().map_or(last.at, |r| r.at);
    let run = &last.run;
    found.push(
        Kind::ArchiveFailed,
        Some(job),
        Severity::Critical,
        vec![
            ("job", json!(job)),
            ("outcome", json!(run.outcome)),
            ("step", json!(run.failed_step)),
            ("cause", json!(run.cause)),
        ],
        evidence("cause", json!(run.cause), &format!("archive-{job}"), last.at),
        since,
    );
}

fn archive_stale(job: &str, runs: &[&ArchiveRun], now: Instant, stale_after: i64, found: &mut Found) {
    let newest = runs.last().expect("a job has a run");
    let last_good = newest.run.last_good.as_ref().and_then(|g| Instant::parse_rfc3339(&g.at).ok());
    let since = last_good.unwrap_or(runs[0].at);
    if now.0 - since.0 <= stale_after {
        return;
    }
    found.push(
        Kind::ArchiveStale,
        Some(job),
        Severity::Warning,
        vec![("job", json!(job)), ("hours", json!((now.0 - since.0) / 3600)), ("last_good", json!(last_good))],
        evidence("last_good", json!(last_good), &format!("archive-{job}"), newest.at),
        since,
    );
}

/// The host's newest APT update failed (`update-failed`), or rebooted without
/// a new boot identity (`reboot-unverified`), since the first of the
/// unbroken run of such updates.
fn updates(host: &Host, found: &mut Found) {
    use crate::snapshot::update::Outcome;
    // A refusal changed nothing on the host: the run before it says how it stands.
    let acted: Vec<_> = host.updates.iter().filter(|u| u.run.outcome != Outcome::Refused).collect();
    let Some(last) = acted.last() else { return };
    let unverified = |u: &&&crate::fleet::UpdateRun| u.run.reboot.as_ref().is_some_and(|r| !r.verified);
    let failed = |u: &&&crate::fleet::UpdateRun| u.run.outcome == Outcome::Failed && !unverified(u);
    let since = |bad: &dyn Fn(&&&crate::fleet::UpdateRun) -> bool| {
        acted.iter().rev().take_while(|u| bad(u)).last().map_or(last.at, |u| u.at)
    };
    let run = &last.run;
    let ev = evidence("cause", json!(run.cause), "update", last.at);
    if failed(&last) {
        let values = vec![
            ("policy", json!(run.policy)),
            ("action", json!(run.action)),
            ("step", json!(run.failed_step)),
            ("cause", json!(run.cause)),
        ];
        found.push(Kind::UpdateFailed, None, Severity::Critical, values, ev, since(&failed));
    } else if unverified(&last) {
        let seconds = run.reboot.as_ref().map(|r| r.seconds);
        let values = vec![("policy", json!(run.policy)), ("seconds", json!(seconds))];
        found.push(Kind::RebootUnverified, None, Severity::Warning, values, ev, since(&unverified));
    }
}

/// A probe that used to work and fails now.
fn probes_failed(host: &Host, found: &mut Found) {
    for p in &host.probes_broken {
        let at = host.kinds.get(&p.kind).and_then(|k| k.last).unwrap_or(p.since);
        found.push(
            Kind::ProbeFailed,
            Some(&format!("{}/{}", p.kind, p.probe)),
            Severity::Warning,
            vec![("probe", json!(p.probe)), ("snapshot_kind", json!(p.kind)), ("cause", json!(p.cause))],
            evidence("cause", json!(p.cause), &p.kind, at),
            p.since,
        );
    }
}

/// What a sighting's figures alone say (failing, watch, or ok), with the
/// rules looked up once for the sightings of a whole history.
pub(crate) struct Levels {
    reallocated: Option<u64>,
    pending: Option<u64>,
    temperature_max: i64,
}

impl Levels {
    pub(crate) fn of(smart: &SmartConfig) -> Levels {
        Levels {
            reallocated: smart.rule(5).map(|r| r.watch_above),
            pending: smart.rule(197).map(|r| r.watch_above),
            temperature_max: smart.temperature_max,
        }
    }

    pub(crate) fn level(&self, f: &SmartFigures) -> Verdict {
        if f.passed == Some(false) {
            return Verdict::Failing;
        }
        let above = |v: Option<u64>, limit: Option<u64>| v.zip(limit).is_some_and(|(v, limit)| v > limit);
        let hot = f.temperature.is_some_and(|t| t > self.temperature_max);
        if above(f.reallocated, self.reallocated)
            || above(f.pending, self.pending)
            || hot
            || f.media_errors.is_some_and(|m| m > 0)
        {
            Verdict::Watch
        } else {
            Verdict::Ok
        }
    }
}

/// Since when a disk's SMART has been at least as bad as its newest sighting
/// says: back through the sightings while their figures are no better. When
/// the figures do not show why (a reason from an attribute they do not
/// keep), since the first of the newest unbroken run of sightings with SMART.
fn smart_since(disk: &Disk, smart: &SmartConfig) -> Instant {
    let history = &disk.sightings;
    let newest = history.last().expect("a disk has a sighting");
    let levels = Levels::of(smart);
    let level = newest.figures.as_ref().map(|f| levels.level(f));
    let on_the_run = |f: &SmartFigures| level.is_none_or(|l| l == Verdict::Ok || levels.level(f).rank() >= l.rank());
    // Between two changes of a disk's history (`Dated::same_as`) only its
    // temperature moves, which can make a sighting worse, never better: a
    // stretch whose change is on the run without its temperature is on it
    // whole, and a year of watch is read as its changes, not day by day.
    let cold = |f: &SmartFigures| on_the_run(&SmartFigures { temperature: None, ..f.clone() });
    let mut since = newest.at;
    let mut end = history.len();
    for (place, change) in history.changes().rev() {
        let Some(f) = &change.figures else { break };
        if !cold(f) {
            for s in history.at_places(place..end).rev() {
                match &s.figures {
                    Some(f) if on_the_run(f) => since = s.at,
                    _ => return since,
                }
            }
        }
        since = change.at;
        end = place;
    }
    since
}

#[cfg(test)]
mod tests {
    use super::{smart_since, Kind, Levels};
    use crate::config::SmartConfig;
    use crate::fleet::{Disk, Sighting, SmartFigures};
    use crate::time::Instant;

    /// `smart_since` as a walk back through every sighting.
    fn walked(disk: &Disk, smart: &SmartConfig) -> Instant {
        let newest = disk.sightings.last().unwrap();
        let levels = Levels::of(smart);
        let level = newest.figures.as_ref().map(|f| levels.level(f));
        let mut since = newest.at;
        for s in disk.sightings.iter().rev() {
            let Some(f) = &s.figures else { break };
            if level.is_some_and(|l| l != super::Verdict::Ok) && levels.level(f).rank() < level.unwrap().rank() {
                break;
            }
            since = s.at;
        }
        since
    }

    #[test]
    fn smart_since_read_from_the_changes_is_the_walk_through_every_sighting() {
        let smart = SmartConfig::default();
        let max = smart.temperature_max;
        // Days of heat, of reallocated sectors, of no SMART, of a failed
        // self-assessment, each mixing with the others: every prefix of it.
        let figures = |d: i64| {
            let hot = [3, 4, 9, 10, 11, 17, 30, 31].contains(&(d % 37));
            (d % 23 != 13).then(|| SmartFigures {
                passed: Some(d % 41 < 38),
                temperature: Some(if hot { max + 5 } else { max - 10 - d % 3 }),
                reallocated: Some(if d % 29 > 15 { 500 } else { 0 }),
                ..SmartFigures::default()
            })
        };
        let mut disk = Disk::bare("d");
        let mut differ = 0;
        for d in 0..400 {
            let sighting = Sighting {
                at: Instant(1_790_000_000 + d * 86_400),
                host: "h".into(),
                device: "sda".into(),
                figures: figures(d),
            };
            disk.sightings.push(sighting);
            let since = smart_since(&disk, &smart);
            assert_eq!(since, walked(&disk, &smart), "day {d}");
            differ += (since != disk.sightings.last().unwrap().at) as usize;
        }
        assert!(differ > 100, "runs longer than a day: {differ}");
    }

    #[test]
    fn every_kind_has_words_and_every_word_a_kind() {
        let template = include_str!("../../templates/finding.txt");
        let mut worded = crate::code::worded(template, "f.kind");
        worded.sort();
        let mut kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        kinds.sort();
        assert_eq!(kinds, worded, "finding.txt and derive::findings::Kind differ");
        let closed = include_str!("../../templates/finding-closed.txt");
        let mut worded = crate::code::worded(closed, "f.kind");
        worded.sort();
        assert_eq!(kinds, worded, "finding-closed.txt and derive::findings::Kind differ");
    }
}

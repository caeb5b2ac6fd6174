//! Findings that held and cleared, from the same history the open ones are
//! read from and with the same ids: an occurrence keeps its id and its
//! since once it is closed. Kept for `findings.closed_days`.

use super::findings::{reports, Finding, Kind, Levels, Severity};
use super::risk::Verdict;
use crate::config::Config;
use crate::fleet::history::Dated;
use crate::fleet::{Condition, Disk, Fleet, History, Host, Spell};
use crate::time::Instant;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A finding that no longer holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Closed {
    /// As it was while open; `since` is when it opened.
    pub finding: Finding,
    /// The first snapshot that no longer showed it.
    pub closed: Instant,
}

/// The findings that closed within `findings.closed_days` of now, the newest closure first.
pub fn closed(fleet: &Fleet, config: &Config) -> Vec<Closed> {
    let Some(now) = fleet.now() else { return Vec::new() };
    let from = now.0 - config.findings.closed_days as i64 * 86_400;
    // Each host's and disk's whole history is read: side by side.
    use rayon::prelude::*;
    let within = |c: &Closed| c.closed.0 >= from && c.closed <= now;
    let of = |closed: Vec<Closed>| closed.into_iter().filter(within).collect::<Vec<_>>();
    let hosts = fleet.hosts.par_iter().map(|host| {
        let mut out = Vec::new();
        host_closed(host, config, Instant(from), &mut out);
        of(out)
    });
    let disks = fleet.disks.par_iter().map(|disk| {
        let mut out = Vec::new();
        smart_closed(disk, fleet, config, Instant(from), &mut out);
        of(out)
    });
    let mut out: Vec<Closed> = hosts.chain(disks).flatten_iter().collect();
    out.sort_by(|a, b| b.closed.cmp(&a.closed).then_with(|| a.finding.id.cmp(&b.finding.id)));
    out
}

/// Closed findings of one host, as they are found.
struct Found<'a> {
    host: &'a str,
    out: &'a mut Vec<Closed>,
}

impl Found<'_> {
    fn push(
        &mut self,
        kind: Kind,
        subject: Option<&str>,
        severity: Severity,
        values: Vec<(&'static str, Value)>,
        from: Instant,
        to: Instant,
    ) {
        let finding = Finding::of_host(kind, self.host, subject, severity, values, Vec::new(), from);
        self.out.push(Closed { finding, closed: to });
    }
}

/// The closed findings of a host whose closure is at or after `from`, with
/// those before it that the histories' folds find on the way.
fn host_closed(host: &Host, config: &Config, from: Instant, out: &mut Vec<Closed>) {
    let mut found = Found { host: &host.name, out };
    let apt = host.apt.as_ref().map_or(&[][..], |a| &a.spells[..]);
    for spell in host.spells.iter().chain(apt) {
        spell_closed(spell, config, &mut found);
    }
    stale_closed(host, config, from, &mut found);
    full_closed(host, config, from, &mut found);
    runs_closed(host, &mut found);
}

fn spell_closed(spell: &Spell, config: &Config, found: &mut Found) {
    let cfg = &config.findings;
    // Shown only once it had lasted this long: a shorter spell was never a finding.
    let lasted = |hours: u64| spell.to.0 - spell.from.0 > hours as i64 * 3600;
    let (from, to) = (spell.from, spell.to);
    match &spell.condition {
        Condition::Unreachable => found.push(Kind::HostUnreachable, None, Severity::Warning, vec![], from, to),
        Condition::Probe { kind, probe } => {
            let values = vec![("probe", json!(probe)), ("snapshot_kind", json!(kind))];
            found.push(Kind::ProbeFailed, Some(&format!("{kind}/{probe}")), Severity::Warning, values, from, to);
        }
        Condition::RebootRequired if lasted(cfg.reboot_required_after_hours) => {
            found.push(Kind::RebootRequired, None, Severity::Warning, vec![], from, to)
        }
        Condition::SecurityUpdates if lasted(cfg.security_updates_after_hours) => {
            found.push(Kind::SecurityUpdates, None, Severity::Warning, vec![], from, to)
        }
        Condition::Held => found.push(Kind::HeldPackages, None, Severity::Info, vec![], from, to),
        Condition::AptError => found.push(Kind::AptError, None, Severity::Warning, vec![], from, to),
        _ => {}
    }
}

/// The entries before `from`, oldest first, back to the last that `ends`
/// (every entry before `from` when none does).
fn back_to<T: Dated>(history: &History<T>, from: Instant, ends: impl Fn(&T) -> bool) -> impl Iterator<Item = &T> {
    let mut back = Vec::new();
    for entry in history.before(from) {
        back.push(entry);
        if ends(entry) {
            break;
        }
    }
    back.into_iter().rev()
}

/// Silences longer than `fleet.stale_after_hours` between two snapshots,
/// from the last snapshot before `from`: a year of history costs its window.
fn stale_closed(host: &Host, config: &Config, from: Instant, found: &mut Found) {
    let stale_after = config.fleet.stale_after_hours as i64 * 3600;
    let timeline = &host.timeline;
    let last_before = timeline.before(from).find(|v| reports(&v.kind));
    let mut collected = last_before.into_iter().chain(timeline.since(from)).filter(|v| reports(&v.kind)).map(|v| v.at);
    let Some(mut before) = collected.next() else { return };
    for at in collected {
        if at.0 - before.0 > stale_after {
            found.push(Kind::HostStale, None, Severity::Warning, vec![], before, at);
        }
        before = at;
    }
}

/// Runs of `disks` versions with a file system over its threshold, ended by
/// one under it. A version with none over ends every run: the runs that end
/// at or after `from` began after the last such version before it.
fn full_closed(host: &Host, config: &Config, from: Instant, found: &mut Found) {
    let cfg = &config.findings;
    let limit = |mount: &str| cfg.filesystem_full.get(mount).copied().unwrap_or(cfg.filesystem_full_percent);
    let none_over =
        |v: &crate::fleet::HostVersion| v.kind == "disks" && v.use_percent.iter().all(|(m, p)| *p < limit(m));
    let versions = back_to(&host.timeline, from, none_over).chain(host.timeline.since(from));
    // Mount point → when the run began, and its highest use.
    let mut open: BTreeMap<&str, (Instant, u8)> = BTreeMap::new();
    for v in versions.filter(|v| v.kind == "disks") {
        let over = |mount: &str| {
            v.use_percent.iter().find(|(m, _)| m == mount).map(|(_, p)| *p).filter(|p| *p >= limit(mount))
        };
        let ended: Vec<&str> = open.keys().copied().filter(|m| over(m).is_none()).collect();
        for mount in ended {
            let (from, top) = open.remove(mount).expect("an open run");
            let severity = if top >= 98 { Severity::Critical } else { Severity::Warning };
            found.push(Kind::FilesystemFull, Some(mount), severity, vec![("mount", json!(mount))], from, v.at);
        }
        for (mount, _) in &v.use_percent {
            if let Some(p) = over(mount) {
                let run = open.entry(mount).or_insert((v.at, p));
                run.1 = run.1.max(p);
            }
        }
    }
}

/// Archive jobs and APT updates that failed, until a run that did not.
fn runs_closed(host: &Host, found: &mut Found) {
    let mut jobs: BTreeMap<&str, Vec<(Instant, bool)>> = BTreeMap::new();
    for r in host.archives.iter().filter(|r| r.run.outcome != crate::snapshot::archive::Outcome::Skipped) {
        jobs.entry(&r.run.job).or_default().push((r.at, r.run.outcome.is_failure()));
    }
    for (job, runs) in jobs {
        for (from, to) in ended_runs(&runs) {
            found.push(Kind::ArchiveFailed, Some(job), Severity::Critical, vec![("job", json!(job))], from, to);
        }
    }
    use crate::snapshot::update::Outcome;
    let acted: Vec<_> = host.updates.iter().filter(|u| u.run.outcome != Outcome::Refused).collect();
    let unverified = |u: &crate::fleet::UpdateRun| u.run.reboot.as_ref().is_some_and(|r| !r.verified);
    let failed: Vec<_> = acted.iter().map(|u| (u.at, u.run.outcome == Outcome::Failed && !unverified(u))).collect();
    for (from, to) in ended_runs(&failed) {
        found.push(Kind::UpdateFailed, None, Severity::Critical, vec![], from, to);
    }
    let unverified: Vec<_> = acted.iter().map(|u| (u.at, unverified(u))).collect();
    for (from, to) in ended_runs(&unverified) {
        found.push(Kind::RebootUnverified, None, Severity::Warning, vec![], from, to);
    }
}

/// The unbroken runs of `true` that a `false` ended: when each began, and when it ended.
fn ended_runs(marks: &[(Instant, bool)]) -> Vec<(Instant, Instant)> {
    let mut runs = Vec::new();
    let mut began = None;
    for &(at, bad) in marks {
        match (bad, began) {
            (true, None) => began = Some(at),
            (false, Some(from)) => {
                runs.push((from, at));
                began = None;
            }
            _ => {}
        }
    }
    runs
}

/// Runs of sightings whose SMART figures said watch or failing, on one
/// host, ended by a better sighting, by another host's, or by the host's
/// next `disks` snapshot without the disk. A sighting that says ok ends any
/// run: the runs that end at or after `from` began after the last such
/// sighting before it.
fn smart_closed(disk: &Disk, fleet: &Fleet, config: &Config, from: Instant, out: &mut Vec<Closed>) {
    let levels = Levels::of(&config.smart);
    let level = |s: &crate::fleet::Sighting| s.figures.as_ref().map_or(Verdict::Ok, |f| levels.level(f));
    let mut run: Option<(Verdict, &str, Instant)> = None;
    let close = |run: (Verdict, &str, Instant), to: Instant, out: &mut Vec<Closed>| {
        let (verdict, host, from) = run;
        let (kind, severity) = match verdict {
            Verdict::Failing => (Kind::SmartFailing, Severity::Critical),
            _ => (Kind::SmartWatch, Severity::Warning),
        };
        let values = vec![("disk", json!(disk.id)), ("model", json!(disk.model))];
        let mut found = Found { host, out };
        found.push(kind, Some(&crate::slug::slug(&disk.id)), severity, values, from, to);
    };
    // A run going on since before `from` that nothing in the window ends
    // closes nowhere, and its start is not looked for: a disk that has said
    // watch for a year does not read its year.
    let said = |s: &'_ crate::fleet::Sighting| (level(s), s.host);
    if let Some(b) = disk.sightings.before(from).next() {
        let holds = disk.sightings.since(from).all(|s| said(s) == said(b));
        if holds && (level(b) == Verdict::Ok || gone(disk, fleet, &b.host).is_none()) {
            return;
        }
    }
    for s in back_to(&disk.sightings, from, |s| level(s) == Verdict::Ok).chain(disk.sightings.since(from)) {
        let now = (level(s), s.host.as_str());
        match run {
            Some((verdict, host, _)) if (verdict, host) == now => {}
            Some(r) => {
                close(r, s.at, out);
                run = None;
            }
            None => {}
        }
        if run.is_none() && now.0 != Verdict::Ok {
            run = Some((now.0, now.1, s.at));
        }
    }
    if let Some((r, to)) = run.and_then(|r| Some((r, gone(disk, fleet, r.1)?))) {
        close(r, to, out);
    }
}

/// When the disk went from `host`, its last sighting's: the host's next
/// `disks` snapshot, which no longer lists it.
fn gone(disk: &Disk, fleet: &Fleet, host: &str) -> Option<Instant> {
    let last = disk.sightings.last()?;
    let host = &fleet.hosts[fleet.hosts.binary_search_by(|h| h.name.as_str().cmp(host)).ok()?];
    host.timeline.since(Instant(last.at.0 + 1)).find(|v| v.kind == "disks").map(|v| v.at)
}

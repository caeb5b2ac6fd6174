//! What the site publishes of archive jobs: every run, and per job the
//! remote archives (kept and why, deleted and why), the age of the last
//! good archive, and the plan. The run log is the snapshot's format; these
//! types are the API's own.

use super::Site;
use crate::fleet::ArchiveRun;
use crate::plan::archive::JobPlan;
use crate::snapshot::archive::Outcome;
use crate::time::Instant;
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;

/// A step of a run.
#[derive(Serialize, JsonSchema)]
pub struct StepView<'a> {
    pub step: &'a str,
    pub ok: bool,
    pub ms: u64,
    pub detail: Option<&'a str>,
    pub error: Option<&'a str>,
}

/// One run of a job (`api/v1/archives.json`).
#[derive(Serialize, JsonSchema)]
pub struct RunView<'a> {
    pub job: &'a str,
    /// The host that ran it.
    pub host: &'a str,
    pub host_slug: &'a str,
    /// When it ran (seconds since the epoch).
    pub at: Instant,
    pub outcome: Outcome,
    /// The step that failed, and why.
    pub failed_step: Option<&'a str>,
    pub cause: Option<&'a str>,
    pub dump_sha256: Option<&'a str>,
    pub dump_bytes: Option<u64>,
    pub zip_bytes: Option<u64>,
    /// The archive made, when one was.
    pub archive: Option<&'a str>,
    pub archive_bytes: Option<u64>,
    pub duration_ms: u64,
    pub steps: Vec<StepView<'a>>,
    /// The archives retention deleted, each one done.
    pub deleted: Vec<&'a str>,
    /// The archive retention failed to delete (the cause is the run's), when one did.
    pub delete_failed: Option<&'a str>,
    /// The deletions planned after the one that failed, not attempted.
    pub not_attempted: Vec<&'a str>,
    /// Whether the report was mailed.
    pub mail: Option<&'a str>,
}

/// An archive at the destination, as the newest run listed it.
#[derive(Serialize, JsonSchema)]
pub struct RemoteView<'a> {
    pub name: &'a str,
    pub bytes: Option<u64>,
    /// `kept`, `deleted` (by the newest run), or `other` (not made by the pattern: never deleted).
    pub status: &'static str,
    /// The rules that keep it, or why it was deleted.
    pub reasons: Vec<&'a str>,
}

/// A job (`api/v1/archives/<job>.json`).
#[derive(Serialize, JsonSchema)]
pub struct JobView<'a> {
    pub job: &'a str,
    pub runs: usize,
    pub last_run: Option<Instant>,
    pub last_outcome: Option<Outcome>,
    /// The last run that archived a dump, and its archive.
    pub last_good: Option<Instant>,
    pub last_good_archive: Option<&'a str>,
    /// Hours from the last good archive to the newest snapshot of the fleet.
    pub last_good_age_hours: Option<i64>,
    /// Older than the job's `stale_after` (or never archived).
    pub stale: bool,
    pub stale_after_hours: i64,
    /// The destination's archives after the newest run that listed them.
    pub remote: Vec<RemoteView<'a>>,
    /// What the next run would do, from this build's plan.
    pub plan: Option<&'a JobPlan>,
    /// The newest runs first (all of them in `archives.json`).
    pub recent: Vec<RunView<'a>>,
}

/// How many runs a job's page and JSON list.
const RECENT: usize = 30;

fn run_view<'a>(host: &'a str, host_slug: &'a str, r: &'a ArchiveRun) -> RunView<'a> {
    let run = &r.run;
    RunView {
        job: &run.job,
        host,
        host_slug,
        at: r.at,
        outcome: run.outcome,
        failed_step: run.failed_step.as_deref(),
        cause: run.cause.as_deref(),
        dump_sha256: run.dump.as_ref().map(|d| d.sha256.as_str()),
        dump_bytes: run.dump.as_ref().map(|d| d.bytes),
        zip_bytes: run.zip_bytes,
        archive: run.archive.as_ref().map(|a| a.name.as_str()),
        archive_bytes: run.archive.as_ref().map(|a| a.bytes),
        duration_ms: run.duration_ms,
        deleted: run.deleted.iter().map(|d| d.name.as_str()).collect(),
        delete_failed: run.delete_failed.as_ref().map(|d| d.name.as_str()),
        not_attempted: run.not_attempted.iter().map(|d| d.name.as_str()).collect(),
        steps: run
            .steps
            .iter()
            .map(|s| StepView {
                step: &s.step,
                ok: s.ok,
                ms: s.ms,
                detail: s.detail.as_deref(),
                error: s.error.as_deref(),
            })
            .collect(),
        mail: run.mail.as_deref(),
    }
}

/// Every run of every job, newest first.
pub fn runs<'a>(site: &'a Site) -> Vec<RunView<'a>> {
    let mut all: Vec<RunView> = (site.hosts().into_iter())
        .flat_map(|h| h.host.archives.iter().map(move |r| run_view(&h.view.name, &h.view.slug, r)))
        .collect();
    all.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.job.cmp(b.job)).then_with(|| a.host.cmp(b.host)));
    all
}

/// Every job seen in a run or in the configuration, by name.
pub fn jobs<'a>(site: &'a Site) -> Vec<JobView<'a>> {
    let mut by_job: BTreeMap<&str, Vec<(&'a str, &'a str, &'a ArchiveRun)>> = BTreeMap::new();
    for job in &site.config.archive {
        by_job.entry(&job.name).or_default();
    }
    for h in site.hosts() {
        for r in &h.host.archives {
            by_job.entry(&r.run.job).or_default().push((&h.view.name, &h.view.slug, r));
        }
    }
    let newest = site.fleet.newest;
    by_job
        .into_iter()
        .map(|(name, mut runs)| {
            runs.sort_by_key(|r| std::cmp::Reverse(r.2.at));
            let config = site.config.archive.iter().find(|j| j.name == name);
            let stale_after_hours = site.config.archive_stale_after_hours(name);
            let last_good = runs.iter().find_map(|(_, _, r)| r.run.last_good.as_ref());
            let last_good_at = last_good.and_then(|g| Instant::parse_rfc3339(&g.at).ok());
            let age = last_good_at.zip(newest).map(|(at, newest)| (newest.0 - at.0) / 3600);
            let listed = runs.iter().find(|(_, _, r)| r.run.remote.is_some()).map(|(_, _, r)| &r.run);
            let pattern = config.and_then(|j| j.pattern().ok());
            let mut remote: Vec<RemoteView> = Vec::new();
            if let Some(run) = listed {
                for l in run.remote.iter().flatten() {
                    let kept = run.kept.iter().find(|k| k.name == l.name);
                    let foreign = pattern.as_ref().is_some_and(|p| p.date(&l.name).is_none());
                    remote.push(RemoteView {
                        name: &l.name,
                        bytes: l.bytes,
                        status: if foreign || kept.is_none() { "other" } else { "kept" },
                        reasons: kept.map(|k| k.reasons.iter().map(String::as_str).collect()).unwrap_or_default(),
                    });
                }
                for d in &run.deleted {
                    remote.push(RemoteView { name: &d.name, bytes: None, status: "deleted", reasons: vec![&d.reason] });
                }
                remote.sort_by(|a, b| b.name.cmp(a.name));
            }
            JobView {
                job: name,
                runs: runs.len(),
                last_run: runs.first().map(|(_, _, r)| r.at),
                last_outcome: runs.first().map(|(_, _, r)| r.run.outcome),
                last_good: last_good_at,
                last_good_archive: last_good.map(|g| g.archive.as_str()),
                last_good_age_hours: age,
                stale: age.is_none_or(|a| a > stale_after_hours),
                stale_after_hours,
                remote,
                plan: site.plan.and_then(|p| p.jobs.iter().find(|j| j.job == name)),
                recent: runs.iter().take(RECENT).map(|(h, s, r)| run_view(h, s, r)).collect(),
            }
        })
        .collect()
}

//! `parc plan`: decides, changes nothing. For every `[[archive]]` job, from
//! the configuration and the job's newest run snapshot: whether it runs
//! (and why), the name of the archive it would make, and what retention
//! would delete. Each job's plan carries a fingerprint of the inputs it was
//! made from, so that `parc apply` can refuse a plan the world has moved past.

use super::job::ArchiveJob;
use super::retention::{self, Verdict};
use super::run::{self, LastGood, Outcome};
use anyhow::{Context, Result};
use jiff::Zoned;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

pub const SCHEMA: &str = "parc.plan/1";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Plan {
    /// Always `parc.plan/1`.
    pub schema: String,
    /// When the plan was made (RFC 3339).
    pub made_at: String,
    /// SHA-256 of every job's `inputs`: the plan as a whole.
    pub fingerprint: String,
    pub jobs: Vec<JobPlan>,
    /// Escalation steps due: one mail per mail table, grouping its findings.
    #[serde(default)]
    pub notifications: Vec<crate::notify::escalation::Notification>,
    /// SHA-256 of what the notifications were planned from (every `notify.json`, `silences.toml`).
    #[serde(default)]
    pub notify_inputs: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Run,
    Skip,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct JobPlan {
    pub job: String,
    pub action: Action,
    /// Why it runs or not.
    pub reason: String,
    pub url: String,
    pub destination: String,
    /// The name of the archive this run makes.
    pub archive: String,
    /// SHA-256 of what the plan was made from: the job's configuration and its newest run snapshot.
    pub inputs: String,
    /// The newest run, when there is one.
    pub previous: Option<Previous>,
    /// The last run that archived a dump.
    pub last_good: Option<LastGood>,
    /// Retention over the remote listing of the newest run, with this run's archive added:
    /// what is kept and why, what is deleted and why. `parc apply` deletes only these, only
    /// when its run did not fail, and only those the policy still deletes after the run.
    pub retention: Verdict,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Previous {
    /// RFC 3339.
    pub at: String,
    pub outcome: Outcome,
    /// The run snapshot's path, relative to the snapshots folder.
    pub snapshot: String,
}

/// The fingerprint of a job's inputs.
fn inputs(job: &ArchiveJob, snapshot: Option<&[u8]>) -> String {
    let mut h = Sha256::new();
    h.update(serde_json::to_vec(job).expect("a job serialises"));
    h.update([0]);
    h.update(snapshot.unwrap_or(b"no run yet"));
    super::destination::hex(&h.finalize())
}

/// The plan of one job at `now`.
pub fn job_plan(job: &ArchiveJob, snapshots: &Path, now: &Zoned) -> Result<JobPlan> {
    let pattern = job.pattern().map_err(anyhow::Error::msg)?;
    let latest = run::latest(snapshots, &job.name)?;
    let archive = pattern.format(now.datetime());
    let (previous, last_good, listing) = match &latest {
        Some((path, _, snap)) => (
            Some(Previous {
                at: snap.collected_at.clone(),
                outcome: snap.run.outcome,
                snapshot: path.strip_prefix(snapshots).unwrap_or(path).to_string_lossy().into_owned(),
            }),
            snap.run.last_good.clone(),
            snap.run.remote.clone().unwrap_or_default(),
        ),
        None => (None, None, Vec::new()),
    };
    let (action, reason) = match (&last_good, job.min_interval) {
        (Some(good), Some(min)) => {
            let at: Zoned =
                good.at.parse::<jiff::Timestamp>().context("last good run time")?.to_zoned(now.time_zone().clone());
            let next = min.before(now.datetime());
            if at.datetime() > next {
                (Action::Skip, format!("the last good run ({}) is less than min_interval {min} ago", good.at))
            } else {
                (Action::Run, format!("the last good run ({}) is more than min_interval {min} ago", good.at))
            }
        }
        (None, _) if previous.is_none() => (Action::Run, "first run of this job".to_string()),
        (None, _) => (Action::Run, "no good run yet".to_string()),
        (Some(_), None) => (Action::Run, "runs whenever called (no min_interval)".to_string()),
    };
    let mut names: Vec<String> = listing.iter().map(|l| l.name.clone()).collect();
    if action == Action::Run {
        names.push(archive.clone());
    }
    let retention = retention::apply(&job.policy(), &pattern, &names);
    Ok(JobPlan {
        job: job.name.clone(),
        action,
        reason,
        url: job.url.clone(),
        destination: job.destination.clone(),
        archive,
        inputs: inputs(job, latest.as_ref().map(|(_, bytes, _)| bytes.as_slice())),
        previous,
        last_good,
        retention,
    })
}

/// The plan of every job.
pub fn make(jobs: &[ArchiveJob], snapshots: &Path, now: &Zoned) -> Result<Plan> {
    let jobs: Vec<JobPlan> = jobs.iter().map(|j| job_plan(j, snapshots, now)).collect::<Result<_>>()?;
    let mut h = Sha256::new();
    for j in &jobs {
        h.update(j.inputs.as_bytes());
    }
    Ok(Plan {
        schema: SCHEMA.into(),
        made_at: now.timestamp().to_string(),
        fingerprint: super::destination::hex(&h.finalize()),
        jobs,
        notifications: Vec::new(),
        notify_inputs: String::new(),
    })
}

/// Whether `plan` of `job` still holds: the same configuration, and no run since.
pub fn still_holds(job: &ArchiveJob, planned: &JobPlan, snapshots: &Path) -> Result<Result<(), String>> {
    let latest = run::latest(snapshots, &job.name)?;
    let now = inputs(job, latest.as_ref().map(|(_, bytes, _)| bytes.as_slice()));
    if now == planned.inputs {
        return Ok(Ok(()));
    }
    let planned_at = planned.previous.as_ref().map(|p| p.at.as_str());
    Ok(Err(match latest {
        Some((_, _, snap)) if Some(snap.collected_at.as_str()) != planned_at => format!(
            "the plan is stale: job {} ran at {} ({}), after the plan was made; make a new plan",
            job.name,
            snap.collected_at,
            snap.run.outcome.word()
        ),
        _ => format!(
            "the plan is stale: the configuration of job {} changed since the plan was made; make a new plan",
            job.name
        ),
    }))
}

/// Reads a plan file.
pub fn read(path: &Path) -> Result<Plan> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read the plan {}", path.display()))?;
    let plan: Plan =
        serde_json::from_slice(&bytes).with_context(|| format!("{} is not a parc plan", path.display()))?;
    if plan.schema != SCHEMA {
        anyhow::bail!("{}: schema {:?}, expected {SCHEMA}", path.display(), plan.schema);
    }
    Ok(plan)
}

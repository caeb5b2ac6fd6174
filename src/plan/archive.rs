//! `parc plan`: decides, changes nothing. For every `[[archive]]` job, from
//! the configuration and the job's newest run snapshot: whether it runs
//! (and why), the name of the archive it would make, and what retention
//! would delete. Each job's plan carries a fingerprint of the inputs it was
//! made from, so that `parc apply` can refuse a plan the world has moved past.

use super::retention::{self, Verdict};
use crate::config::archive::{ArchiveJob, OnExisting};
use crate::snapshot::archive::{kind, LastGood, Listed, Outcome, RunSnapshot};
use anyhow::{Context, Result};
use jiff::Zoned;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Run,
    Skip,
    /// The archive's name is taken at the destination (`on_existing = "refuse"`): nothing is
    /// archived, and the run is recorded as refused.
    Refuse,
}

/// Where the plan's view of the destination's archives came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ListedFrom {
    /// The newest run's listing, taken at the end of that run.
    Run,
    /// Listed by `parc plan` itself: the snapshots hold no run of the job.
    Destination,
    /// Not listed (`parc build` never reaches a destination), or the listing failed
    /// (`listing_error`): nothing is deleted, and `parc apply` checks the name before writing.
    #[default]
    Nothing,
}

/// Lists a job's destination (`archive::destination::list`, given from above:
/// deciding never reaches the world by itself).
pub type Lister<'a> = &'a dyn Fn(&ArchiveJob) -> Result<Vec<Listed>>;

/// How `parc plan` may learn what is at a destination the snapshots know nothing of.
#[derive(Clone, Copy)]
pub enum Reach<'a> {
    /// List it (`parc plan`).
    List(Lister<'a>),
    /// Never (`parc build`: it changes nothing and reaches nothing).
    Never,
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
    /// The name the pattern gives, when an archive already holds it at the destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken: Option<String>,
    /// What a taken name leads to: `refuse` or `suffix`.
    #[serde(default)]
    pub on_existing: OnExisting,
    /// The host folder the run's log goes to, when the job names one (else the applying machine's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Where the listing retention was planned over came from.
    #[serde(default)]
    pub listed_from: ListedFrom,
    /// The destination's files the plan was made over (see `listed_from`).
    #[serde(default)]
    pub listing: Vec<Listed>,
    /// Why the destination could not be listed, when `parc plan` tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing_error: Option<String>,
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
    // Keys sorted (a JSON value's map), so that how the job's type groups its keys never counts.
    let job = serde_json::to_value(job).expect("a job serialises");
    h.update(serde_json::to_vec(&job).expect("a JSON value serialises"));
    h.update([0]);
    h.update(snapshot.unwrap_or(b"no run yet"));
    hex::encode(h.finalize())
}

/// The newest run of `job` that was carried out (not skipped, not refused) in
/// the snapshots folder, with its bytes: `<host>/archive-<job>.json`, or the
/// newest dated `<host>/archive-<job>/*.json`. A run that was not carried out
/// changed nothing a plan is made from (it carries the last good archive and
/// the listing forward), so recording one never makes a plan stale.
pub fn latest(snapshots: &Path, job: &str) -> anyhow::Result<Option<(PathBuf, Vec<u8>, RunSnapshot)>> {
    use anyhow::Context;
    let kind = kind(job);
    let mut candidates = Vec::new();
    crate::snapshot::check_folder(snapshots)?;
    let hosts = std::fs::read_dir(snapshots)
        .with_context(|| format!("cannot open snapshots folder {}", snapshots.display()))?;
    for host in hosts.flatten() {
        let dir = host.path();
        let stable = dir.join(format!("{kind}.json"));
        if stable.is_file() {
            candidates.push(stable);
        }
        if let Ok(dated) = std::fs::read_dir(dir.join(&kind)) {
            candidates.extend(dated.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "json")));
        }
    }
    let mut newest: Option<(PathBuf, Vec<u8>, RunSnapshot)> = None;
    for path in candidates {
        let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let snapshot: RunSnapshot = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not an archive run snapshot", path.display()))?;
        if matches!(snapshot.run.outcome, Outcome::Skipped | Outcome::Refused) {
            continue;
        }
        let at = crate::time::Instant::parse_rfc3339(&snapshot.collected_at)?;
        let newer = match &newest {
            Some((_, _, n)) => crate::time::Instant::parse_rfc3339(&n.collected_at).map_or(true, |n| at > n),
            None => true,
        };
        if newer {
            newest = Some((path, bytes, snapshot));
        }
    }
    Ok(newest)
}

/// The plan of every job at `now`.
pub fn plans(jobs: &[ArchiveJob], snapshots: &Path, now: &Zoned, reach: Reach) -> Result<Vec<JobPlan>> {
    jobs.iter().map(|j| job_plan(j, snapshots, now, reach)).collect()
}

/// The plan of one job at `now`.
pub fn job_plan(job: &ArchiveJob, snapshots: &Path, now: &Zoned, reach: Reach) -> Result<JobPlan> {
    let pattern = job.pattern()?;
    let latest = latest(snapshots, &job.name)?;
    // A listing recorded for another destination (the job moved) says nothing of this one.
    let moved = latest.as_ref().is_some_and(|(_, _, snap)| snap.run.destination != job.destination.url);
    let (previous, last_good, recorded) = match &latest {
        Some((path, _, snap)) => (
            Some(Previous {
                at: snap.collected_at.clone(),
                outcome: snap.run.outcome,
                snapshot: path.strip_prefix(snapshots).unwrap_or(path).to_string_lossy().into_owned(),
            }),
            snap.run.last_good.clone(),
            snap.run.remote.clone().filter(|_| !moved),
        ),
        None => (None, None, None),
    };
    // With no run of this destination recorded, what is there is read from it: a folder of
    // archives from before parc is not an empty one. A run that failed before listing deletes nothing.
    let (listing, listed_from, listing_error) = match recorded {
        Some(listing) => (listing, ListedFrom::Run, None),
        None if latest.is_none() || moved => match reach {
            Reach::List(list) => match list(job) {
                Ok(listing) => (listing, ListedFrom::Destination, None),
                Err(e) => (Vec::new(), ListedFrom::Nothing, Some(crate::problem::error_chain(e.as_ref()))),
            },
            Reach::Never => (Vec::new(), ListedFrom::Nothing, None),
        },
        None => (Vec::new(), ListedFrom::Nothing, None),
    };
    let (mut action, mut reason) = match (&last_good, job.schedule.min_interval) {
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
        (None, _) if previous.is_none() && listing.is_empty() => (Action::Run, "first run of this job".to_string()),
        (None, _) if previous.is_none() => {
            (Action::Run, format!("no run recorded; the destination holds {} file(s)", listing.len()))
        }
        (None, _) => (Action::Run, "no good run yet".to_string()),
        (Some(_), None) => (Action::Run, "runs whenever called: no min_interval".to_string()),
    };
    let mut names: Vec<String> = listing.iter().map(|l| l.name.clone()).collect();
    let plain = pattern.format(now.datetime());
    let taken = names.contains(&plain).then(|| plain.clone());
    let (archive, _) = pattern.free_name(now.datetime(), &names);
    if let Some(taken) = &taken {
        if action == Action::Run {
            match job.on_existing {
                OnExisting::Refuse => {
                    action = Action::Refuse;
                    reason = format!(
                        "{taken} is already at the destination, and an archive is never overwritten \
                         (on_existing = \"refuse\"; with on_existing = \"suffix\" this run would be {archive})"
                    );
                }
                OnExisting::Suffix => {
                    reason.push_str(&format!(
                        "; {taken} is already at the destination: this run is {archive} (on_existing = \"suffix\")"
                    ));
                }
            }
        }
    }
    if action == Action::Run {
        names.push(archive.clone());
    }
    let retention = retention::apply(&job.retention.clone(), &pattern, &names);
    Ok(JobPlan {
        job: job.name.clone(),
        action,
        reason,
        url: job.source.url.clone(),
        destination: job.destination.url.clone(),
        archive: if action == Action::Refuse { plain } else { archive },
        taken,
        on_existing: job.on_existing,
        host: job.host.clone(),
        listed_from,
        listing,
        listing_error,
        inputs: inputs(job, latest.as_ref().map(|(_, bytes, _)| bytes.as_slice())),
        previous,
        last_good,
        retention,
    })
}

/// Whether `plan` of `job` still holds: the same configuration, and no run since.
pub fn still_holds(job: &ArchiveJob, planned: &JobPlan, snapshots: &Path) -> Result<()> {
    let latest = latest(snapshots, &job.name)?;
    let now = inputs(job, latest.as_ref().map(|(_, bytes, _)| bytes.as_slice()));
    if now == planned.inputs {
        return Ok(());
    }
    let planned_at = planned.previous.as_ref().map(|p| p.at.as_str());
    let job = job.name.clone();
    Err(match latest {
        Some((_, _, snap)) if Some(snap.collected_at.as_str()) != planned_at => {
            super::Stale::RanSince { job, at: snap.collected_at, outcome: snap.run.outcome.word() }
        }
        _ => super::Stale::Changed { job },
    }
    .into())
}

//! What is due, decided and written down before anything is done: the plan
//! (`plan.json`) of the archive runs, the retention deletions and the
//! escalation mails, each with the reason and a fingerprint of the inputs it
//! was made from. Nothing here changes the world; `archive` and `notify`
//! carry a plan out.

pub mod archive;
pub mod escalation;
pub mod retention;
pub mod silence;
pub mod update;

use crate::config::archive::ArchiveJob;
use anyhow::{Context, Result};
pub use archive::Reach;
use jiff::Zoned;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

pub const SCHEMA: &str = "parc.plan/1";

/// Why a plan no longer holds: what it was made from changed since.
#[derive(Debug, thiserror::Error)]
pub enum Stale {
    #[error("the plan is stale: job {job} ran at {at} ({outcome}), after the plan was made; make a new plan")]
    RanSince { job: String, at: String, outcome: &'static str },
    #[error("the plan is stale: the configuration of job {job} changed since the plan was made; make a new plan")]
    Changed { job: String },
    #[error("the plan is stale: job {job} is no longer in the configuration")]
    Gone { job: String },
    #[error("the plan is stale: notify.json or silences.toml changed since the plan was made; make a new plan")]
    Notifications,
    #[error("the plan is stale: host {host} sent a newer apt snapshot since the plan was made; make a new plan")]
    Apt { host: String },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Plan {
    /// Always `parc.plan/1`.
    pub schema: String,
    /// When the plan was made (RFC 3339).
    pub made_at: String,
    /// SHA-256 of every job's `inputs`: the plan as a whole.
    pub fingerprint: String,
    pub jobs: Vec<archive::JobPlan>,
    /// Escalation steps due: one mail per mail table, grouping its findings.
    #[serde(default)]
    pub notifications: Vec<escalation::Notification>,
    /// SHA-256 of what the notifications were planned from (every `notify.json`, `silences.toml`).
    #[serde(default)]
    pub notify_inputs: String,
    /// APT updates: one entry a host an `[[update]]` policy names, updated or skipped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub updates: Vec<update::HostUpdate>,
}

impl Plan {
    /// A plan with nothing in it yet, made at `now`.
    pub fn new(now: &Zoned) -> Plan {
        Plan {
            schema: SCHEMA.into(),
            made_at: now.timestamp().to_string(),
            fingerprint: String::new(),
            jobs: Vec::new(),
            notifications: Vec::new(),
            notify_inputs: String::new(),
            updates: Vec::new(),
        }
    }

    /// Sets the fingerprint, once every part is in.
    pub fn seal(&mut self) {
        let mut h = Sha256::new();
        for j in &self.jobs {
            h.update(j.inputs.as_bytes());
        }
        self.fingerprint = hex::encode(h.finalize());
    }
}

/// The plan of every archive job alone (what the site shows).
pub fn make(jobs: &[ArchiveJob], snapshots: &Path, now: &Zoned, reach: Reach) -> Result<Plan> {
    let mut plan = Plan::new(now);
    plan.jobs = archive::plans(jobs, snapshots, now, reach)?;
    plan.seal();
    Ok(plan)
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

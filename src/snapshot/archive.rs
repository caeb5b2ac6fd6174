//! The `archive-<job>` kind: the log of one archive run, as `parc apply`
//! writes it and the builder and the next plan read it.

use serde::{Deserialize, Serialize};

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Archived and uploaded.
    Ok,
    /// The dump was identical to the last archived one: not archived again.
    Unchanged,
    /// A step failed; nothing was deleted, or (at retention) only what the log names.
    Failed,
    /// The plan skipped it (too soon after a good run).
    Skipped,
    /// Not carried out: a stale plan, a held lock, a configuration error, or
    /// an archive name already taken at the destination. Nothing was archived or deleted.
    Refused,
}

impl Outcome {
    /// The word a subject line and a log lead with.
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Ok => "OK",
            Outcome::Unchanged => "UNCHANGED",
            Outcome::Failed => "FAILED",
            Outcome::Skipped => "SKIPPED",
            Outcome::Refused => "REFUSED",
        }
    }

    /// Whether the run calls for someone to act (what `when = "failure"` mails).
    pub fn is_failure(self) -> bool {
        matches!(self, Outcome::Failed | Outcome::Refused)
    }
}

/// A file the run made or read: name, size, SHA-256.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FileFacts {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

/// One step of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Step {
    /// `fetch`, `download`, `verify`, `compare`, `pack`, `reach`, `upload`, `retention`.
    pub step: String,
    pub ok: bool,
    pub ms: u64,
    /// What the step found (HTTP status, sizes, the destination checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The last run that archived a dump: carried from run to run, so the
/// next plan knows it without reading history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LastGood {
    /// RFC 3339.
    pub at: String,
    pub archive: String,
    pub dump_sha256: String,
}

/// The deletion retention stopped at: the archive, why the policy deletes it, why it could not be.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DeleteFailed {
    pub name: String,
    pub reason: String,
    pub cause: String,
}

/// The run log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub job: String,
    /// The fingerprint of the plan the run carried out.
    pub plan: String,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// RFC 3339.
    pub started_at: String,
    pub duration_ms: u64,
    pub url: String,
    pub destination: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dump: Option<FileFacts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<FileFacts>,
    #[serde(default)]
    pub steps: Vec<Step>,
    /// The destination's files after the run, when it could be listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<Vec<Listed>>,
    #[serde(default)]
    pub kept: Vec<Kept>,
    /// What retention deleted, each one done.
    #[serde(default)]
    pub deleted: Vec<Deleted>,
    /// The deletion that failed, which ended retention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_failed: Option<DeleteFailed>,
    /// The deletions planned after the one that failed: not attempted, still there.
    #[serde(default)]
    pub not_attempted: Vec<Deleted>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_good: Option<LastGood>,
    /// Whether the report was mailed, and why not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail: Option<String>,
}

/// What a run starts from, before any step.
pub struct Start {
    pub job: String,
    pub plan: String,
    pub started_at: String,
    pub url: String,
    pub destination: String,
    pub last_good: Option<LastGood>,
}

impl Run {
    /// A run as it starts: failed until a step says otherwise, nothing done yet.
    pub fn start(start: Start) -> Run {
        let Start { job, plan, started_at, url, destination, last_good } = start;
        Run {
            job,
            plan,
            outcome: Outcome::Failed,
            failed_step: None,
            cause: None,
            started_at,
            duration_ms: 0,
            url,
            destination,
            zip_bytes: None,
            dump: None,
            archive: None,
            steps: Vec::new(),
            remote: None,
            kept: Vec::new(),
            deleted: Vec::new(),
            delete_failed: None,
            not_attempted: Vec::new(),
            last_good,
            mail: None,
        }
    }
}

/// The snapshot around a run's log: an archive run's, or (with
/// `update::Run`) an update's.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunSnapshot<R = Run> {
    pub schema: String,
    pub kind: String,
    pub host: String,
    pub collected_at: String,
    pub agent: serde_json::Value,
    pub probes: serde_json::Map<String, serde_json::Value>,
    pub run: R,
}

/// The kind of a job's run snapshots.
pub fn kind(job: &str) -> String {
    format!("archive-{job}")
}

/// An archive as the destination lists it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Listed {
    pub name: String,
    pub bytes: Option<u64>,
}

/// An archive the policy keeps, and every rule that keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Kept {
    pub name: String,
    /// The rules that keep it: `keep_last`, `keep_daily`, …, `keep_within 30d`, or `no rule set`.
    pub reasons: Vec<String>,
}

/// An archive the policy deletes, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Deleted {
    pub name: String,
    pub reason: String,
}

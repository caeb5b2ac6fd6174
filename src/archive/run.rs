//! The log of one archive run, as `parc apply` writes it into the snapshot
//! `snapshots/<host>/archive-<job>.json` (kind `archive-<job>`): the next
//! build shows it, git keeps every run, and the next plan reads the
//! previous run's checksum and remote listing from it.

use super::destination::Listed;
use super::retention::{Deleted, Kept};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Archived and uploaded.
    Ok,
    /// The dump was identical to the last archived one: not archived again.
    Unchanged,
    /// A step failed; nothing was deleted.
    Failed,
    /// The plan skipped it (too soon after a good run).
    Skipped,
}

impl Outcome {
    /// The word a subject line and a log lead with.
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Ok => "OK",
            Outcome::Unchanged => "UNCHANGED",
            Outcome::Failed => "FAILED",
            Outcome::Skipped => "SKIPPED",
        }
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
    #[serde(default)]
    pub deleted: Vec<Deleted>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_good: Option<LastGood>,
    /// Whether the report was mailed, and why not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail: Option<String>,
}

/// The snapshot around a run.
#[derive(Debug, Serialize, Deserialize)]
pub struct RunSnapshot {
    pub schema: String,
    pub kind: String,
    pub host: String,
    pub collected_at: String,
    pub agent: serde_json::Value,
    pub probes: serde_json::Map<String, serde_json::Value>,
    pub run: Run,
}

/// The kind of a job's run snapshots.
pub fn kind(job: &str) -> String {
    format!("archive-{job}")
}

/// The newest run snapshot of `job` in the snapshots folder, with its bytes:
/// `<host>/archive-<job>.json`, or the newest dated `<host>/archive-<job>/*.json`.
pub fn latest(snapshots: &Path, job: &str) -> anyhow::Result<Option<(PathBuf, Vec<u8>, RunSnapshot)>> {
    use anyhow::Context;
    let kind = kind(job);
    let mut candidates = Vec::new();
    let Ok(hosts) = std::fs::read_dir(snapshots) else { return Ok(None) };
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
        let at = crate::time::Instant::parse_rfc3339(&snapshot.collected_at).map_err(anyhow::Error::msg)?;
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

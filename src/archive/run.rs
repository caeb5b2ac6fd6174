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

/// The snapshots folder must be there: a mistyped `--snapshots` is no first run.
pub fn check_folder(snapshots: &Path) -> anyhow::Result<()> {
    use anyhow::Context;
    let meta = std::fs::metadata(snapshots)
        .with_context(|| format!("cannot open snapshots folder {}", snapshots.display()))?;
    if !meta.is_dir() {
        anyhow::bail!("cannot open snapshots folder {}: not a folder", snapshots.display());
    }
    Ok(())
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
    check_folder(snapshots)?;
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

/// How a run's log is kept in the snapshots folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `<host>/archive-<job>.json` and `.log`, replaced by each run: for a run that is
    /// committed, git keeping every version.
    Stable,
    /// `<host>/archive-<job>/<time>.json` and `.log`, a pair of files per run, never replaced.
    Dated,
}

/// Writes a run's snapshot and its text log; returns their paths. Neither is
/// ever seen half-written, and a dated pair never replaces another run's.
pub fn write(snapshots: &Path, snapshot: &RunSnapshot, log: &str, layout: Layout) -> anyhow::Result<Vec<PathBuf>> {
    use anyhow::Context;
    let folder = snapshots.join(&snapshot.host);
    let mut json = serde_json::to_vec_pretty(snapshot)?;
    json.push(b'\n');
    let (folder, stem) = match layout {
        Layout::Stable => (folder, snapshot.kind.clone()),
        Layout::Dated => {
            let at: jiff::Timestamp = snapshot.collected_at.parse().context("the run's time")?;
            (folder.join(&snapshot.kind), at.strftime("%Y-%m-%dT%H%M%SZ").to_string())
        }
    };
    std::fs::create_dir_all(&folder).with_context(|| format!("cannot create {}", folder.display()))?;
    let place = |stem: &str, ext: &str| folder.join(format!("{stem}.{ext}"));
    let stem = match layout {
        Layout::Stable => stem,
        // Two runs in one second (a refusal, then the run): the second is `-2`.
        Layout::Dated => (1..)
            .map(|n| if n == 1 { stem.clone() } else { format!("{stem}-{n}") })
            .find(|s| !place(s, "json").exists() && !place(s, "log").exists())
            .expect("some name is free"),
    };
    let mut written = Vec::new();
    for (ext, bytes) in [("json", json.as_slice()), ("log", log.as_bytes())] {
        let path = place(&stem, ext);
        let tmp = folder.join(format!(".{stem}.{ext}.tmp"));
        std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
        let placed = match layout {
            Layout::Stable => std::fs::rename(&tmp, &path),
            // A link fails where a file is: another run's log is never replaced.
            Layout::Dated => std::fs::hard_link(&tmp, &path).and_then(|()| std::fs::remove_file(&tmp)),
        };
        placed.with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(at: &str) -> RunSnapshot {
        let run: Run = serde_json::from_value(serde_json::json!({
            "job": "db", "plan": "", "outcome": "ok", "started_at": at, "duration_ms": 1,
            "url": "https://x/d.zip", "destination": "/d"
        }))
        .unwrap();
        RunSnapshot {
            schema: crate::snapshot::SCHEMA.into(),
            kind: kind("db"),
            host: "backup1".into(),
            collected_at: at.into(),
            agent: serde_json::json!({}),
            probes: Default::default(),
            run,
        }
    }

    #[test]
    fn dated_runs_never_replace_one_another_and_the_newest_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let first = write(dir.path(), &snapshot("2026-12-02T03:00:00+01:00"), "one", Layout::Dated).unwrap();
        let second = write(dir.path(), &snapshot("2026-12-02T03:00:00+01:00"), "two", Layout::Dated).unwrap();
        let third = write(dir.path(), &snapshot("2026-12-02T04:00:00+01:00"), "three", Layout::Dated).unwrap();
        assert!(first[0].ends_with("backup1/archive-db/2026-12-02T020000Z.json"), "{first:?}");
        assert!(second[1].ends_with("backup1/archive-db/2026-12-02T020000Z-2.log"), "{second:?}");
        assert_eq!(std::fs::read_to_string(&first[1]).unwrap(), "one");
        assert_eq!(std::fs::read_to_string(&second[1]).unwrap(), "two");
        let (path, _, newest) = latest(dir.path(), "db").unwrap().unwrap();
        assert_eq!((path, newest.collected_at.as_str()), (third[0].clone(), "2026-12-02T04:00:00+01:00"));
        let stable = write(dir.path(), &snapshot("2026-12-02T05:00:00+01:00"), "s", Layout::Stable).unwrap();
        assert!(stable[0].ends_with("backup1/archive-db.json"));
        assert_eq!(latest(dir.path(), "db").unwrap().unwrap().0, stable[0]);
    }

    #[test]
    fn a_missing_snapshots_folder_is_an_error_not_a_first_run() {
        let dir = tempfile::tempdir().unwrap();
        let err = latest(&dir.path().join("nope-dir"), "db").unwrap_err();
        assert!(format!("{err:#}").contains("cannot open snapshots folder"), "{err:#}");
        assert!(latest(dir.path(), "db").unwrap().is_none());
    }
}

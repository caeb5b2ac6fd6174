//! The log of one archive run, as `parc apply` writes it into the snapshot
//! `snapshots/<host>/archive-<job>.json` (kind `archive-<job>`): the next
//! build shows it, git keeps every run, and the next plan reads the
//! previous run's checksum and remote listing from it.

pub use crate::snapshot::archive::*;
use std::path::{Path, PathBuf};

/// How a run's log is kept in the snapshots folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `<host>/archive-<job>.json` and `.log`, replaced by each run: for a run that is
    /// committed, git keeping every version.
    Stable,
    /// `<host>/archive-<job>/<time>.json` and `.log`, a pair of files per run, never replaced.
    Dated,
}

/// Writes a run's snapshot and its text log (an archive run's, an update's);
/// returns their paths. Neither is ever seen half-written, and a dated pair
/// never replaces another run's.
pub fn write<R: serde::Serialize>(
    snapshots: &Path,
    snapshot: &RunSnapshot<R>,
    log: &str,
    layout: Layout,
) -> anyhow::Result<Vec<PathBuf>> {
    use anyhow::Context;
    let (kind, collected_at) = (&snapshot.kind, &snapshot.collected_at);
    let folder = snapshots.join(&snapshot.host);
    let mut json = serde_json::to_vec_pretty(snapshot)?;
    json.push(b'\n');
    let (folder, stem) = match layout {
        Layout::Stable => (folder, kind.to_string()),
        Layout::Dated => {
            let at: jiff::Timestamp = collected_at.parse().context("the run's time")?;
            (folder.join(kind), at.strftime("%Y-%m-%dT%H%M%SZ").to_string())
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
    use crate::plan::archive::latest;

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

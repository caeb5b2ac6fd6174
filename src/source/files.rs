//! The working tree of the snapshots folder, read with walkdir.

use super::{classify, Candidate, Discovery, Origin};
use crate::problem::Problem;
use anyhow::Context;
use std::path::Path;
use walkdir::WalkDir;

pub fn walk(dir: &Path, max_bytes: u64, found: &mut Discovery) -> anyhow::Result<()> {
    let root = dir.canonicalize().with_context(|| format!("cannot open snapshots folder {}", dir.display()))?;
    anyhow::ensure!(root.is_dir(), "cannot open snapshots folder {}: not a folder", dir.display());
    // Sorted so that problems and precedence come out the same on every run.
    let walker = WalkDir::new(dir).min_depth(1).max_depth(3).sort_by_file_name().into_iter();
    for entry in walker.filter_entry(|e| !e.file_name().to_string_lossy().starts_with('.')) {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let path = e.path().unwrap_or(dir).display().to_string();
                found.problems.push(Problem::new(path, format!("cannot read: {e}")));
                continue;
            }
        };
        let path = entry.path();
        let label = path.display().to_string();
        let rel = path.strip_prefix(dir).unwrap_or(path);
        let Some(parts) = rel.iter().map(|p| p.to_str()).collect::<Option<Vec<&str>>>() else {
            found.problems.push(Problem::new(label, "file or folder name is not UTF-8"));
            continue;
        };
        if entry.file_type().is_dir() {
            continue;
        }
        let (host, kind) = match classify(found.layout, &parts) {
            None => continue,
            Some(Err(cause)) => {
                found.problems.push(Problem::new(label, cause.to_string()));
                continue;
            }
            Some(Ok(pair)) => pair,
        };
        if entry.path_is_symlink() {
            // A symlink may point anywhere; only one that stays inside the
            // snapshots folder is followed.
            match path.canonicalize() {
                Ok(target) if target.starts_with(&root) => {}
                Ok(target) => {
                    let cause =
                        format!("symlink points outside the snapshots folder (to {}); not read", target.display());
                    found.problems.push(Problem::new(label, cause.to_string()));
                    continue;
                }
                Err(e) => {
                    found.problems.push(Problem::new(label, format!("broken symlink: {e}")));
                    continue;
                }
            }
        }
        let meta = match std::fs::metadata(path) {
            Ok(meta) if meta.is_file() => meta,
            Ok(_) => continue,
            Err(e) => {
                found.problems.push(Problem::new(label, format!("cannot read: {e}")));
                continue;
            }
        };
        if meta.len() > max_bytes {
            found.problems.push(too_large(label, meta.len(), max_bytes));
            continue;
        }
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as i128);
        let origin = Origin::File { path: path.to_path_buf(), len: meta.len(), mtime_ns, indexed: None };
        found.add(host, Candidate { kind: kind.to_string(), label, origin, precedence: u64::MAX });
    }
    Ok(())
}

pub(crate) fn too_large(label: String, len: u64, max: u64) -> Problem {
    Problem::new(label, too_large_cause(len, max))
}

pub(crate) fn too_large_cause(len: u64, max: u64) -> String {
    format!("snapshot is {len} bytes, over the limit of {max} bytes (build.max_snapshot_bytes); not read")
}

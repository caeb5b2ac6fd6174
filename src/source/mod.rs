//! Discovery: every version of every snapshot, from the working tree
//! (`<host>/<kind>.json` and dated `<host>/<kind>/<time>.json`) and, when the
//! snapshots folder lies in a git repository, from its history.

pub mod files;
pub mod git;

use crate::problem::Problem;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Where a candidate version's bytes are.
#[derive(Clone, Debug)]
pub enum Origin {
    /// A file in the working tree, with its length and modification time
    /// (which let an unchanged file skip being read again).
    /// `indexed`: the blob git's index holds for it, when git would take the
    /// file as unchanged since it was added (same size and mtime, not racy);
    /// its content key then needs no reading.
    File { path: PathBuf, len: u64, mtime_ns: i128, indexed: Option<git2::Oid> },
    /// A blob in the git repository; its id is already a content hash. Its
    /// size is looked up only if it has to be read (`parse.rs`): most new
    /// blobs are also in the working tree, and never are.
    Blob { oid: git2::Oid },
}

/// One snapshot file version, not yet read.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// The kind, from the file or folder name.
    pub kind: String,
    /// How to name it in messages: a path, or `git:<commit>:<path>`.
    pub label: String,
    pub origin: Origin,
    /// When two candidates are the same version (host, kind, collected_at),
    /// the higher precedence wins: the working tree, then newer commits.
    pub precedence: u64,
}

/// Every candidate, grouped by host (from the folder name, never from the
/// snapshot's content), and what could not be used.
#[derive(Default)]
pub struct Discovery {
    pub hosts: BTreeMap<String, Vec<Candidate>>,
    pub problems: Vec<Problem>,
    /// The repository the history came from, if any.
    pub repository: Option<PathBuf>,
    /// The commit the history was read from (part of the build's fingerprint).
    pub head: Option<git2::Oid>,
    /// The source's name, when the site is built from several: its hosts
    /// are `<source>/<folder>` (`paris/pve1`), kept apart from another's.
    pub source: Option<String>,
    pub layout: Layout,
    /// Where the history's walk stands after this one.
    pub walked: Option<git::Walk>,
    /// The history's candidates this walk did not list (a build's walk
    /// from its record's tip lists only the new commits').
    pub unlisted: Option<git::Unlisted>,
}

impl Discovery {
    fn new(source: Option<&str>, layout: Layout) -> Discovery {
        Discovery { source: source.map(str::to_string), layout, ..Discovery::default() }
    }

    /// The host a folder holds: the folder's name, under the source's.
    fn host_name<'a>(&self, folder: &'a str) -> std::borrow::Cow<'a, str> {
        host_name(self.source.as_deref(), folder)
    }

    fn add(&mut self, folder: &str, candidate: Candidate) {
        let host = self.host_name(folder);
        // Most candidates join a host already there: no key copied for them.
        match self.hosts.get_mut(host.as_ref()) {
            Some(candidates) => candidates.push(candidate),
            None => {
                self.hosts.insert(host.into_owned(), vec![candidate]);
            }
        }
    }

    fn extend(&mut self, folder: &str, candidates: Vec<Candidate>) {
        let host = self.host_name(folder).into_owned();
        self.hosts.entry(host).or_default().extend(candidates);
    }

    /// Candidates found, listed or not.
    pub fn versions(&self) -> usize {
        self.hosts.values().map(Vec::len).sum::<usize>() + self.unlisted.as_ref().map_or(0, |u| u.candidates as usize)
    }
}

/// Finds every candidate version under `dir`; `history` is where the walk
/// of the git history is remembered between builds. The working tree is
/// read first, and `meanwhile` works on what it holds while the history is
/// still walked (on a new day, that walk keeps one core and leaves the
/// other idle): `walked` turns true when the walk is done, and then
/// `meanwhile` should stop, leaving the rest to the stages after.
pub fn discover<T: Send>(
    dir: &Path,
    source: Option<&str>,
    layout: Layout,
    max_bytes: u64,
    history: git::HistoryCache,
    meanwhile: impl FnOnce(&Discovery, &AtomicBool) -> T + Send,
) -> anyhow::Result<(Discovery, T)> {
    // `snapshots`, `./snapshots` and `snapshots/` are one folder: the same
    // paths, labels and cache keys for every command that names it.
    let tidy: std::path::PathBuf = dir.components().filter(|c| *c != std::path::Component::CurDir).collect();
    let dir = if tidy.as_os_str().is_empty() { Path::new(".") } else { tidy.as_path() };
    let (mut found, mut history_found) = (Discovery::new(source, layout), Discovery::new(source, layout));
    let walked = AtomicBool::new(false);
    let (tree, git) = rayon::join(
        || -> anyhow::Result<T> {
            files::walk(dir, max_bytes, &mut found)?;
            if let Some((workdir, index)) = git::working_tree(dir) {
                for candidate in found.hosts.values_mut().flatten() {
                    if let Origin::File { path, len, mtime_ns, indexed } = &mut candidate.origin {
                        *indexed = (path.strip_prefix(dir).ok().and_then(|rel| index.get(rel)))
                            .and_then(|e| e.blob(*len, *mtime_ns));
                    }
                }
                found.repository = Some(workdir);
            }
            Ok(meanwhile(&found, &walked))
        },
        || {
            let walk = git::walk(dir, &mut history_found, history);
            walked.store(true, Ordering::Relaxed);
            walk
        },
    );
    let ahead = tree?;
    git?;
    for (host, candidates) in history_found.hosts {
        found.hosts.entry(host).or_default().extend(candidates);
    }
    found.problems.extend(history_found.problems);
    found.repository = history_found.repository;
    found.head = history_found.head;
    found.walked = history_found.walked;
    found.unlisted = history_found.unlisted;
    Ok((found, ahead))
}

/// The host a folder of `source` holds: `paris/pve1`, or `pve1` alone.
fn host_name<'a>(source: Option<&str>, folder: &'a str) -> std::borrow::Cow<'a, str> {
    match source {
        Some(source) => format!("{source}/{folder}").into(),
        None => folder.into(),
    }
}

/// What a source's files are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Layout {
    /// parc's snapshots: `<host>/<kind>.json` or `<host>/<kind>/<time>.json`.
    #[default]
    Snapshots,
    /// `ansible all -m setup --tree DIR`: one file of facts per host, named
    /// by the host (Ansible's fact cache adds nothing but the same files).
    AnsibleFacts,
}

use crate::snapshot::ansible::KIND as ANSIBLE_FACTS;

/// The host a file of Ansible facts is: `web1`, or `web1.json`.
pub(crate) fn facts_host(file: &str) -> &str {
    file.strip_suffix(".json").unwrap_or(file)
}

/// Splits a path relative to the snapshots folder into (host, kind).
/// `None` for files that are no snapshot (a README, say).
pub(crate) fn classify<'a>(layout: Layout, parts: &[&'a str]) -> Option<Result<(&'a str, &'a str), Misplaced>> {
    if layout == Layout::AnsibleFacts {
        return match parts {
            [file] => Some(Ok((facts_host(file), ANSIBLE_FACTS))),
            _ => None,
        };
    }
    let file = parts.last()?;
    let stem = file.strip_suffix(".json")?;
    Some(match *parts {
        [_] => Err(Misplaced::NoHostFolder),
        [host, _] => Ok((host, stem)),
        [host, kind, _] => Ok((host, kind)),
        _ => Err(Misplaced::TooDeep),
    })
}

/// A JSON file where no snapshot can be.
#[derive(Debug, thiserror::Error)]
pub enum Misplaced {
    #[error("a snapshot must be in a host's folder: <host>/<kind>.json")]
    NoHostFolder,
    #[error("too deep: expected <host>/<kind>.json or <host>/<kind>/<time>.json")]
    TooDeep,
}

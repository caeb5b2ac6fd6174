//! The git history of the snapshots folder, read with git2.
//!
//! Each commit that changed a file under the folder gives a version of it.
//! Trees are compared by id, so unchanged hosts cost nothing, and a blob
//! already seen at the same path is not read again.
//!
//! The walk is incremental: what it found is kept in the cache
//! (`history.json`) with the commit it walked to. The next build walks only
//! the commits since; when that commit is no longer an ancestor of HEAD
//! (history was rewritten: a force-push, a rebase) it walks everything
//! again. Commits are compared with their parent in parallel.

use super::{classify, Candidate, Discovery, Origin};
use crate::problem::Problem;
use anyhow::Context;
use git2::{ObjectType, Odb, Oid, Repository, Sort};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// Bumped whenever what the walk records changes; another version walks again.
const FORMAT: &str = concat!("parc-history/", env!("CARGO_PKG_VERSION"), "/5");

/// Everything one walk found, as the cache keeps it.
#[derive(Default, Serialize, Deserialize)]
struct History<'a> {
    format: String,
    /// What was walked: the repository's folder, the snapshots folder in it.
    workdir: PathBuf,
    prefix: PathBuf,
    /// The commit walked to, and how many commits that was (new ones number on from there).
    head: String,
    /// The commit the first segment was walked to (not written: that segment's head).
    #[serde(skip)]
    root: String,
    commits: u64,
    #[serde(borrow)]
    candidates: Vec<Found<'a>>,
    problems: Vec<Problem>,
    /// Walked from a shallow clone: its oldest commits were not there.
    #[serde(default)]
    shallow: bool,
}

/// One blob at one path (below the snapshots folder), found in one commit:
/// path, blob id, precedence, the commit's short id. Kept as a JSON
/// array, and host, kind and label are made again from it: the record of a
/// long history stays small, and quick to read and write at every build.
/// Read in place from the record's bytes: sixty thousand entries are not
/// copied into strings of their own.
#[derive(Clone, Serialize, Deserialize)]
struct Found<'a>(#[serde(borrow)] Cow<'a, str>, #[serde(borrow)] Cow<'a, str>, u64, #[serde(borrow)] Cow<'a, str>);

/// Where the walk's record lives, and whether it may be read and written.
pub struct HistoryCache<'a> {
    pub file: &'a Path,
    pub read: bool,
    pub write: bool,
}

/// How parc reads repositories, set once before any is opened (libgit2's
/// options are the process's).
pub fn configure() {
    // libgit2 hashes every object it reads, with a collision-detecting SHA-1,
    // to check it: a third of a cold build. git itself checks objects when
    // they arrive (fetch, fsck), not at every read; so does parc.
    git2::opts::strict_hash_verification(false);
    // libgit2 maps pack files a gibibyte at a time, up to 8 GiB, and every
    // page a build reads of a year's pack stays in its resident memory
    // while mapped: a build reads each blob once, and a few small windows
    // at a time are enough.
    // SAFETY: called before any repository is opened, on one thread.
    let limited = unsafe {
        git2::opts::set_mwindow_size(WINDOW << 20).and_then(|()| git2::opts::set_mwindow_mapped_limit(MAPPED << 20))
    };
    if let Err(e) = limited {
        tracing::debug!("cannot limit libgit2's mapped pack windows: {e}");
    }
}

/// The mebibytes of a pack file libgit2 maps at once, and in all.
const WINDOW: usize = 8;
const MAPPED: usize = 64;

pub fn walk(dir: &Path, found: &mut Discovery, cache: HistoryCache) -> anyhow::Result<()> {
    let Some((repo, workdir, prefix)) = locate(dir) else {
        return Ok(());
    };
    let layout = found.layout;
    let head = match repo.head() {
        Ok(head) => head.peel_to_commit().context("cannot read HEAD")?.id(),
        Err(_) => return Ok(()), // a repository with no commit yet
    };
    found.repository = Some(workdir.clone());
    found.head = Some(head);
    let shallow = repo.is_shallow();
    // A record of a shallow walk is read again once the clone is whole.
    let ours = |format: &str, w: &Path, p: &Path, was_shallow: bool| {
        format == FORMAT && w == workdir && p == prefix && (shallow || !was_shallow)
    };
    // Only a history that still leads to HEAD can be extended.
    let leads = |old: &str| {
        let old = Oid::from_str(old).ok()?;
        (old == head || repo.graph_descendant_of(head, old).ok()?).then_some(old)
    };
    let tip_file = cache.file.with_extension("tip.json");
    // A build extends a record its tip ends without reading it: the
    // candidates of the commits before are left unlisted, and read only
    // for a host whose kept assembly lacks them (`assemble.rs`).
    let tip = (cache.read && cache.write)
        .then(|| crate::store::read_json::<Tip>(&tip_file))
        .flatten()
        .filter(|t| ours(&t.format, &t.workdir, &t.prefix, t.shallow))
        .filter(|t| std::fs::metadata(cache.file).is_ok_and(|m| m.len() == t.whole));
    if let Some(tip) = tip {
        if let Some(since) = leads(&tip.head) {
            return walk_on(&repo, found, &cache, &tip_file, tip, head, since);
        }
    }

    let record = cache.read.then(|| crate::store::read_segments(cache.file)).flatten();
    let known = (record.as_ref().and_then(read_record)).filter(|h| ours(&h.format, &h.workdir, &h.prefix, h.shallow));
    let since = known.as_ref().and_then(|h| leads(&h.head));
    let mut history = match known {
        Some(known) if since.is_some() => known,
        known => {
            if known.is_some() {
                tracing::info!("the history was rewritten since the last build: reading all of it again");
            }
            History { format: FORMAT.into(), workdir, prefix, ..History::default() }
        }
    };
    // What the record holds already: a build that extends it appends the rest.
    let kept = (record.as_ref().filter(|_| since.is_some()))
        .map(|r| (history.candidates.len(), history.problems.len(), r.whole));
    let fresh = since != Some(head);
    // Read from scratch, a shallow clone holds only its newest commits: say
    // so, in the record, so that every build extending it says so too.
    if since.is_none() && shallow {
        history.problems.push(Problem::new(dir.display().to_string(), missing(&repo)));
        history.shallow = true;
    }
    if fresh {
        extend(&repo, &mut history, head, since, layout)?;
    }
    if history.root.is_empty() {
        history.root = history.head.clone();
    }
    // The record is written while the candidates are made from it.
    let (written, hosts) = rayon::join(
        || (cache.write && fresh).then(|| write_record(cache.file, &history, kept)),
        || list(layout, &history.prefix, &history.candidates),
    );
    let hosts = hosts?;
    let written = match written {
        Some(Err(e)) => {
            tracing::warn!("cannot write {}: {e}", cache.file.display());
            false
        }
        Some(Ok(())) => true,
        None => false,
    };
    if cache.write && (written || !fresh) {
        let mut tip = Tip::of(&history);
        tip.add(&hosts);
        tip.save(&tip_file, cache.file);
    }
    found.walked = Some(Walk { root: history.root.clone(), commits: history.commits });
    for (host, candidates) in hosts {
        found.extend(host, candidates);
    }
    found.problems.extend(history.problems);
    Ok(())
}

/// [`walk`] from a record's [`Tip`]: the commits since are walked and
/// appended, and only their candidates listed.
fn walk_on(
    repo: &Repository,
    found: &mut Discovery,
    cache: &HistoryCache,
    tip_file: &Path,
    mut tip: Tip,
    head: Oid,
    since: Oid,
) -> anyhow::Result<()> {
    let old_problems = tip.problems.len();
    let mut history = History {
        format: FORMAT.into(),
        workdir: tip.workdir.clone(),
        prefix: tip.prefix.clone(),
        root: tip.root.clone(),
        head: tip.head.clone(),
        commits: tip.commits,
        candidates: Vec::new(),
        problems: std::mem::take(&mut tip.problems),
        shallow: tip.shallow,
    };
    let last: std::collections::HashMap<String, u64> =
        tip.last.iter().map(|(folder, order)| (found.host_name(folder).into_owned(), *order)).collect();
    // Every host of the history is built, one with nothing new listed too.
    for host in last.keys() {
        found.hosts.entry(host.clone()).or_default();
    }
    found.unlisted = Some(Unlisted {
        walk: Walk { root: tip.root.clone(), commits: tip.commits },
        candidates: tip.made,
        last,
        file: cache.file.to_path_buf(),
        prefix: tip.prefix.clone(),
        layout: found.layout,
        source: found.source.clone(),
        loaded: std::sync::OnceLock::new(),
    });
    if since != head {
        extend(repo, &mut history, head, Some(since), found.layout)?;
        let hosts = list(found.layout, &history.prefix, &history.candidates)?;
        let kept = Some((0, old_problems, tip.whole));
        match write_record(cache.file, &history, kept) {
            Ok(()) => {
                tip.head = history.head.clone();
                tip.commits = history.commits;
                tip.problems = history.problems.clone();
                tip.add(&hosts);
                tip.save(tip_file, cache.file);
            }
            Err(e) => tracing::warn!("cannot write {}: {e}", cache.file.display()),
        }
        for (host, candidates) in hosts {
            found.extend(host, candidates);
        }
    }
    found.walked = Some(Walk { root: history.root.clone(), commits: history.commits });
    found.problems.extend(history.problems);
    Ok(())
}

/// The candidates of what the walk found, by host folder, each list made
/// at its size on every core.
fn list<'a>(
    layout: super::Layout,
    prefix: &Path,
    candidates: &'a [Found],
) -> anyhow::Result<Vec<(&'a str, Vec<Candidate>)>> {
    let mut hosts: std::collections::HashMap<&str, Vec<&Found>> = std::collections::HashMap::new();
    for found in candidates {
        let first = found.0.split('/').next().unwrap_or_default();
        let host = if layout == super::Layout::AnsibleFacts { super::facts_host(first) } else { first };
        hosts.entry(host).or_default().push(found);
    }
    hosts
        .into_par_iter()
        .map(|(host, list)| {
            let mut candidates = Vec::with_capacity(list.len());
            for found in list {
                if let Some(made) = candidate(layout, prefix, found) {
                    candidates.push(made?);
                }
            }
            Ok((host, candidates))
        })
        .collect()
}

/// Where a record of the history stands: which record (the commit its
/// first walk went to) and how many commits it holds. A host assembled
/// at a walk holds every version of the commits before it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Walk {
    pub root: String,
    pub commits: u64,
}

/// The end of the record, kept beside it (`history.tip.json`): where it
/// stands, its length, what it gives each host, and its problems. A build
/// extends the record from here, neither reading nor listing what it holds.
#[derive(Serialize, Deserialize)]
struct Tip {
    format: String,
    workdir: PathBuf,
    prefix: PathBuf,
    root: String,
    head: String,
    commits: u64,
    /// The record's length: the tip of a record of another length is not its own.
    whole: u64,
    /// The candidates the record gives, and per host folder the newest
    /// commit that gave one.
    made: u64,
    last: std::collections::BTreeMap<String, u64>,
    problems: Vec<Problem>,
    shallow: bool,
}

impl Tip {
    fn of(history: &History) -> Tip {
        Tip {
            format: history.format.clone(),
            workdir: history.workdir.clone(),
            prefix: history.prefix.clone(),
            root: history.root.clone(),
            head: history.head.clone(),
            commits: history.commits,
            whole: 0,
            made: 0,
            last: Default::default(),
            problems: history.problems.clone(),
            shallow: history.shallow,
        }
    }

    fn add(&mut self, hosts: &[(&str, Vec<Candidate>)]) {
        for (folder, candidates) in hosts {
            self.made += candidates.len() as u64;
            if let Some(newest) = candidates.iter().map(|c| c.precedence).max() {
                let last = self.last.entry(folder.to_string()).or_default();
                *last = newest.max(*last);
            }
        }
    }

    /// Written after the record, with its length: a record whose append was
    /// torn is not the length its tip says, and is read whole.
    fn save(&mut self, file: &Path, record: &Path) {
        let Ok(meta) = std::fs::metadata(record) else { return };
        self.whole = meta.len();
        if let Err(e) = crate::store::write_json(file, self) {
            tracing::warn!("cannot write {}: {e}", file.display());
        }
    }
}

/// The candidates a walk from a [`Tip`] left out: those of the commits
/// before `walk`. A host whose kept assembly holds them needs none of
/// them ([`Unlisted::held`]); any other reads them ([`Unlisted::of`]).
pub struct Unlisted {
    pub walk: Walk,
    /// How many there are.
    pub candidates: u64,
    /// Per host, the newest commit (by order) that gave one of them.
    last: std::collections::HashMap<String, u64>,
    file: PathBuf,
    prefix: PathBuf,
    layout: super::Layout,
    source: Option<String>,
    loaded: std::sync::OnceLock<Option<std::collections::HashMap<String, Vec<Candidate>>>>,
}

impl Unlisted {
    /// Whether a host assembled at `kept` holds every candidate left out:
    /// the same record, and no commit since `kept` gave the host one.
    pub fn held(&self, host: &str, kept: &Walk) -> bool {
        kept.root == self.walk.root
            && kept.commits <= self.walk.commits
            && self.last.get(host).is_none_or(|last| *last < kept.commits)
    }

    /// The candidates left out for `host`, read from the record once for
    /// every host: `None` when it cannot be read.
    pub fn of(&self, host: &str) -> Option<Vec<Candidate>> {
        let all = self.loaded.get_or_init(|| {
            tracing::debug!("{host}: its kept assembly lacks versions the walk did not list: reading them");
            let record = crate::store::read_segments(&self.file)?;
            let history = read_record(&record)?;
            let before: Vec<Found> = history.candidates.into_iter().filter(|f| f.2 < self.walk.commits).collect();
            let hosts = list(self.layout, &self.prefix, &before).ok()?;
            let name = |folder| super::host_name(self.source.as_deref(), folder).into_owned();
            Some(hosts.into_iter().map(|(folder, c)| (name(folder), c)).collect())
        });
        if all.is_none() {
            // The next build reads the history again, from the record or from scratch.
            let _ = std::fs::remove_file(self.file.with_extension("tip.json"));
        }
        all.as_ref().map(|all| all.get(host).cloned().unwrap_or_default())
    }

    /// The problem of a host built without them.
    pub fn unreadable(&self) -> Problem {
        Problem::new(
            self.file.display().to_string(),
            "cannot read the record of the history walked: this build lacks its older versions, the next reads the history again",
        )
    }
}

/// What a shallow clone misses, and the fix.
fn missing(repo: &Repository) -> String {
    let ids = std::fs::read_to_string(repo.path().join("shallow")).unwrap_or_default();
    let oldest = (ids.lines())
        .filter_map(|id| repo.find_commit(Oid::from_str(id.trim()).ok()?).ok())
        .map(|c| crate::time::Instant(c.time().seconds()).rfc3339())
        .min();
    let from = oldest.map(|t| format!(" before {}", t.split('T').next().unwrap_or_default())).unwrap_or_default();
    format!(
        "a shallow clone: the history{from} is not there, so its older versions, disk moves and since dates are missing; \
         clone the whole history (git fetch --unshallow; actions/checkout: fetch-depth: 0; GitLab: GIT_DEPTH: 0), \
         or keep .parc-cache between runs from a clone that still holds the previous build's commit"
    )
}

/// The history a record's segments hold: the first as it was written,
/// with what each later one found appended, walked to the last one's head.
fn read_record(record: &crate::store::Segments) -> Option<History<'_>> {
    let mut segments = record.json.iter().map(|json| serde_json::from_str::<History>(&record.text[json.clone()]).ok());
    let mut history = segments.next()??;
    history.root = history.head.clone();
    for segment in segments {
        let segment = segment?;
        if (&segment.format, &segment.workdir, &segment.prefix) != (&history.format, &history.workdir, &history.prefix)
        {
            return None;
        }
        history.candidates.extend(segment.candidates);
        history.problems.extend(segment.problems);
        (history.head, history.commits) = (segment.head, segment.commits);
    }
    (history.format == FORMAT).then_some(history)
}

/// Writes the record: what is new after `kept` (candidates, problems,
/// whole bytes of the record read) as a segment appended to it, or
/// everything as a record of its own.
fn write_record(file: &Path, history: &History, kept: Option<(usize, usize, u64)>) -> std::io::Result<()> {
    match kept {
        Some((candidates, problems, whole)) => {
            let segment = HistoryRef {
                format: &history.format,
                workdir: &history.workdir,
                prefix: &history.prefix,
                head: &history.head,
                commits: history.commits,
                candidates: &history.candidates[candidates..],
                problems: &history.problems[problems..],
            };
            crate::store::append_segment(file, whole, &segment)
        }
        None => crate::store::write_json(file, history),
    }
}

/// [`History`], borrowed for writing a segment.
#[derive(Serialize)]
struct HistoryRef<'a> {
    format: &'a str,
    workdir: &'a Path,
    prefix: &'a Path,
    head: &'a str,
    commits: u64,
    candidates: &'a [Found<'a>],
    problems: &'a [Problem],
}

/// One file as git's index holds it: its size, mtime and blob.
pub struct Indexed {
    len: u64,
    mtime_ns: i128,
    blob: Oid,
    /// Written in the same instant as the index: git's "racily clean" case,
    /// where a change made right after `git add` would not show in the mtime.
    racy: bool,
}

impl Indexed {
    /// The blob, when the file is still what was added: what `git status` decides from stat data.
    pub fn blob(&self, len: u64, mtime_ns: i128) -> Option<Oid> {
        (!self.racy && self.len == len && self.mtime_ns == mtime_ns).then_some(self.blob)
    }
}

/// The repository `dir` is in, its working tree, and `dir` below that
/// tree: none outside git, or in a repository with no working tree.
fn locate(dir: &Path) -> Option<(Repository, PathBuf, PathBuf)> {
    let repo = Repository::discover(dir).ok()?;
    let workdir = repo.workdir()?.canonicalize().ok()?;
    let prefix = dir.canonicalize().ok()?.strip_prefix(&workdir).ok()?.to_path_buf();
    Some((repo, workdir, prefix))
}

/// Whether the repository `dir` is in has the commit `id` (true outside git:
/// there is nothing to tell one folder's history from another's).
pub fn has_commit(dir: &Path, id: &str) -> bool {
    let Some((repo, ..)) = locate(dir) else { return true };
    Oid::from_str(id).is_ok_and(|oid| repo.find_commit(oid).is_ok())
}

/// The working tree of the repository `dir` is in, and git's index of the
/// files below `dir`: none outside git, or before the first commit.
pub fn working_tree(dir: &Path) -> Option<(PathBuf, std::collections::HashMap<PathBuf, Indexed>)> {
    let (repo, workdir, prefix) = locate(dir)?;
    repo.head().ok()?;
    let index = index(&repo, &prefix);
    Some((workdir, index))
}

/// The index's entries below `prefix`, by path below it. An index that
/// cannot be read gives none: every file is then hashed.
fn index(repo: &Repository, prefix: &Path) -> std::collections::HashMap<PathBuf, Indexed> {
    let Ok(index) = repo.index() else { return Default::default() };
    let written = (std::fs::metadata(repo.path().join("index")).and_then(|m| m.modified()).ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i128);
    let ns = |t: git2::IndexTime| t.seconds() as i128 * 1_000_000_000 + t.nanoseconds() as i128;
    index
        .iter()
        .filter_map(|e| {
            let path = Path::new(std::str::from_utf8(&e.path).ok()?).strip_prefix(prefix).ok()?.to_path_buf();
            let mtime_ns = ns(e.mtime);
            let racy = mtime_ns >= written;
            Some((path, Indexed { len: e.file_size as u64, mtime_ns, blob: e.id, racy }))
        })
        .collect()
}

/// The candidate a blob found in the history stands for (`None`: no snapshot).
/// A dated file is one snapshot, and the working tree has it: its history
/// adds nothing, and one deleted since is a snapshot taken away.
fn candidate(
    layout: super::Layout,
    prefix: &Path,
    Found(path, oid, precedence, short): &Found,
) -> Option<anyhow::Result<Candidate>> {
    let (path, oid, short) = (path.as_ref(), oid.as_ref(), short.as_ref());
    let parts: Vec<&str> = path.split('/').collect();
    if layout == super::Layout::Snapshots && parts.len() == 3 {
        return None;
    }
    let Some(Ok((_, kind))) = classify(layout, &parts) else { return None };
    let label = label(prefix, short, path);
    Some(Oid::from_str(oid).map_err(Into::into).map(|oid| Candidate {
        kind: kind.to_string(),
        label,
        origin: Origin::Blob { oid },
        precedence: *precedence,
    }))
}

/// How a version from the history is named in messages: `git:<commit>:<path>`.
/// Made for every version of the history at every build: no path joined.
fn label(prefix: &Path, short: &str, path: &str) -> String {
    match prefix.as_os_str().is_empty() {
        true => format!("git:{short}:{path}"),
        false => format!("git:{short}:{}/{path}", prefix.display()),
    }
}

/// What one commit changed under the prefix: path parts, blob.
type Changes = Vec<(Vec<String>, Oid)>;

/// Walks the commits after `since` (all of them without it) up to `head`,
/// adding what they changed under the prefix.
fn extend(
    repo: &Repository,
    history: &mut History,
    head: Oid,
    since: Option<Oid>,
    history_layout: super::Layout,
) -> anyhow::Result<()> {
    let mut walk = repo.revwalk()?;
    walk.push(head)?;
    if let Some(old) = since {
        walk.hide(old)?;
    }
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME | Sort::REVERSE)?;
    let commits: Vec<Oid> = walk.collect::<Result<_, _>>()?;
    let path = repo.path().to_path_buf();
    let prefix = history.prefix.clone();
    // Each commit against its first parent, on every core; a Repository is
    // not Sync, so each task opens its own.
    let changes: Vec<Changes> = commits
        .par_chunks(256)
        .map_init(
            || Repository::open(&path),
            |repo, chunk| -> anyhow::Result<Vec<Changes>> {
                let repo = repo.as_ref().map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
                let odb = repo.odb()?;
                // In a linear history a commit's parent is the commit before:
                // its folder's tree is at hand, not read again.
                let mut before: Option<(Oid, Option<RawTree>)> = None;
                chunk
                    .iter()
                    .map(|oid| {
                        let (changes, tree) = changed_in(repo, &odb, *oid, &prefix, before.take())?;
                        before = Some((*oid, tree));
                        Ok(changes)
                    })
                    .collect()
            },
        )
        .collect::<anyhow::Result<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect();
    // What the new commits changed, in order: commit, path, blob.
    let changed: Vec<(u64, &Oid, String, String)> = (commits.iter().zip(changes).enumerate())
        .flat_map(|(i, (oid, changed))| {
            let order = history.commits + i as u64;
            changed.into_iter().map(move |(parts, blob)| (order, oid, parts.join("/"), blob.to_string()))
        })
        .collect();
    // Each change is a version, a blob that comes back to its path too: the
    // same content is one version to the assembler, and a walk that kept a
    // set of every blob seen would read the whole record on every build.
    let mut new = Vec::new();
    for (order, oid, path, blob) in changed {
        let short = &oid.to_string()[..10];
        let parts: Vec<&str> = path.split('/').collect();
        match classify(history_layout, &parts) {
            None => continue,
            Some(Err(cause)) => {
                history.problems.push(Problem::new(label(&history.prefix, short, &path), cause.to_string()));
                continue;
            }
            Some(Ok(_)) => {}
        }
        new.push(Found(path.into(), blob.into(), order, short.to_string().into()));
    }
    history.candidates.extend(new);
    history.commits += commits.len() as u64;
    history.head = head.to_string();
    Ok(())
}

/// The blobs one commit changed under `prefix`, and the commit's tree
/// there. `before` is a commit already read, with its tree there.
fn changed_in<'odb>(
    repo: &Repository,
    odb: &'odb Odb,
    oid: Oid,
    prefix: &Path,
    before: Option<(Oid, Option<RawTree<'odb>>)>,
) -> anyhow::Result<(Changes, Option<RawTree<'odb>>)> {
    let commit = repo.find_commit(oid)?;
    let Some(tree) = subtree(odb, commit.tree_id(), prefix)? else {
        return Ok((Vec::new(), None));
    };
    let parent = match (commit.parent_ids().next(), before) {
        (Some(id), Some((known, tree))) if id == known => tree,
        (Some(id), _) => subtree(odb, repo.find_commit(id)?.tree_id(), prefix)?,
        (None, _) => None,
    };
    let mut changed = Vec::new();
    if parent.as_ref().map(|p| p.id) != Some(tree.id) {
        changed_blobs(odb, tree.data(), parent.as_ref().map(RawTree::data), &mut Vec::new(), &mut changed)?;
    }
    Ok((changed, Some(tree)))
}

/// A tree object's bytes, compared as they are: libgit2 would parse every
/// entry of both trees (a thousand hosts) for the one a commit changed.
struct RawTree<'odb> {
    id: Oid,
    /// Held as libgit2 read it: a snapshots folder's tree is tens of
    /// kilobytes, read at every commit, and not copied.
    object: git2::OdbObject<'odb>,
}

impl RawTree<'_> {
    fn data(&self) -> &[u8] {
        self.object.data()
    }
}

const TREE_MODE: &[u8] = b"40000";

fn read_tree<'odb>(odb: &'odb Odb, id: Oid) -> anyhow::Result<RawTree<'odb>> {
    let object = odb.read(id)?;
    anyhow::ensure!(object.kind() == ObjectType::Tree, "object {id} is not a tree");
    Ok(RawTree { id, object })
}

/// The entries of a tree's bytes, in order: mode, name, id
/// (`<mode> <name>\0<20-byte id>`). The id stays bytes: most are only compared.
fn entries(data: &[u8]) -> impl Iterator<Item = Entry<'_>> {
    let mut rest = data;
    std::iter::from_fn(move || {
        let (entry, len) = entry(rest)?;
        rest = &rest[len..];
        Some(entry)
    })
}

/// A tree entry's mode, name and id, as bytes.
type Entry<'a> = (&'a [u8], &'a [u8], &'a [u8]);

/// The first entry of a tree's bytes, and its length in bytes.
fn entry(data: &[u8]) -> Option<(Entry<'_>, usize)> {
    // A mode is at most six digits; the NUL after the name is found with
    // memchr, since a folder of a thousand hosts is read at every commit.
    let space = data.iter().take(7).position(|&b| b == b' ')?;
    let nul = space + memchr::memchr(0, &data[space..])?;
    let id = data.get(nul + 1..nul + 21)?;
    Some(((&data[..space], &data[space + 1..nul], id), nul + 21))
}

/// Git's order of a tree's entries (mode, name): by name, where a folder's
/// name counts as if it ended in `/`. So `pve1/` comes after `pve1-backup/`,
/// which a plain byte order puts the other way round: the side-by-side walk
/// would then lose its place, and take every host after such a pair as changed.
fn tree_order(a: (&[u8], &[u8]), b: (&[u8], &[u8])) -> std::cmp::Ordering {
    let end = |mode: &[u8]| if mode == TREE_MODE { b'/' } else { 0 };
    let n = a.1.len().min(b.1.len());
    let next = |(mode, name): (&[u8], &[u8])| name.get(n).copied().unwrap_or(end(mode));
    a.1[..n].cmp(&b.1[..n]).then_with(|| next(a).cmp(&next(b)))
}

/// How many leading bytes `a` and `b` share, compared a block at a time.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 64;
    let n = a.len().min(b.len());
    let mut at = 0;
    while at + BLOCK <= n && a[at..at + BLOCK] == b[at..at + BLOCK] {
        at += BLOCK;
    }
    at + a[at..n].iter().zip(&b[at..n]).take_while(|(x, y)| x == y).count()
}

/// The tree at `prefix` inside the tree `root`, if there is one.
fn subtree<'odb>(odb: &'odb Odb, root: Oid, prefix: &Path) -> anyhow::Result<Option<RawTree<'odb>>> {
    let mut tree = read_tree(odb, root)?;
    for part in prefix.iter() {
        let name = part.as_encoded_bytes();
        let found = entries(tree.data()).find(|(mode, n, _)| *n == name && *mode == TREE_MODE).map(|e| e.2);
        match found.map(Oid::from_bytes).transpose()? {
            Some(id) => tree = read_tree(odb, id)?,
            None => return Ok(None),
        }
    }
    Ok(Some(tree))
}

/// Blobs in `tree` that differ from `parent` (depth limited to the layouts).
fn changed_blobs(
    odb: &Odb,
    tree: &[u8],
    parent: Option<&[u8]>,
    path: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, Oid)>,
) -> anyhow::Result<()> {
    // A commit of one host leaves the other thousand entries of the folder
    // alike, byte for byte: the entries before the first byte that differs
    // are skipped unread, and the walk stops where the rest of both trees is
    // alike. In between, both trees list their entries in the same order:
    // they are walked side by side instead of each name being looked up.
    let (mut at, mut at_parent) = (0, 0);
    if let Some(parent) = parent {
        let first = common_prefix(tree, parent);
        while let Some((_, len)) = entry(&tree[at..]).filter(|(_, len)| at + len <= first) {
            at += len;
        }
        at_parent = at;
    }
    while let Some(((mode, name, id), len)) = entry(&tree[at..]) {
        let mut same = None;
        if let Some(parent) = parent {
            if tree[at..] == parent[at_parent..] {
                break;
            }
            while let Some((_, len)) =
                entry(&parent[at_parent..]).filter(|((m, n, _), _)| tree_order((m, n), (mode, name)).is_lt())
            {
                at_parent += len;
            }
            if let Some(((mode, _, id), len)) = entry(&parent[at_parent..]).filter(|((_, n, _), _)| *n == name) {
                same = Some((id, mode));
                at_parent += len;
            }
        }
        at += len;
        if same.map(|(id, _)| id) == Some(id) || name.starts_with(b".") {
            continue;
        }
        let Ok(name) = std::str::from_utf8(name) else { continue };
        let id = Oid::from_bytes(id)?;
        path.push(name.to_string());
        // Regular files (100644, 100755; not symbolic links, 120000), and
        // folders as deep as a layout goes.
        if mode.starts_with(b"100") {
            out.push((path.clone(), id));
        } else if mode == TREE_MODE && path.len() < 3 {
            let sub = read_tree(odb, id)?;
            let parent_sub = match same {
                Some((id, TREE_MODE)) => Some(read_tree(odb, Oid::from_bytes(id)?)?),
                _ => None,
            };
            changed_blobs(odb, sub.data(), parent_sub.as_ref().map(RawTree::data), path, out)?;
        }
        path.pop();
    }
    Ok(())
}

/// Reads blobs for the parse stage; one per thread, since a Repository is not Sync.
pub fn open(path: &Path) -> Option<Repository> {
    Repository::open(path).ok()
}

/// A blob's bytes, unless it is larger than `max_bytes`: its size is read
/// first, from the object's header, so a huge blob is never inflated.
pub fn read_blob(repo: &Repository, oid: Oid, max_bytes: u64) -> Result<Vec<u8>, BlobError> {
    let (len, _) = repo.odb().and_then(|odb| odb.read_header(oid)).map_err(BlobError::Git)?;
    if len as u64 > max_bytes {
        return Err(BlobError::TooLarge { len: len as u64, max: max_bytes });
    }
    repo.find_blob(oid).map(|b| b.content().to_vec()).map_err(BlobError::Git)
}

/// Why a blob was not read.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("cannot read from git: {}", .0.message())]
    Git(git2::Error),
    #[error("{}", super::files::too_large_cause(*.len, *.max))]
    TooLarge { len: u64, max: u64 },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_vouches_for_a_file_as_git_status_would() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let file = dir.path().join("snapshots/h/system.json");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, b"{\"a\":1}").unwrap();
        // Later than the file's mtime, even on a coarse clock: not racy.
        std::thread::sleep(std::time::Duration::from_millis(30));
        let mut git_index = repo.index().unwrap();
        git_index.add_path(Path::new("snapshots/h/system.json")).unwrap();
        git_index.write().unwrap();
        let stamp = |path: &Path| {
            let meta = std::fs::metadata(path).unwrap();
            let mtime = meta.modified().unwrap().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as i128;
            (meta.len(), mtime)
        };
        let blob = Oid::hash_object(ObjectType::Blob, b"{\"a\":1}").unwrap();
        let entries = index(&repo, Path::new("snapshots"));
        let entry = &entries[Path::new("h/system.json")];
        let (len, mtime) = stamp(&file);
        assert_eq!(entry.blob(len, mtime), Some(blob));
        // Edited since: same length, another mtime: not vouched for.
        std::fs::write(&file, b"{\"a\":2}").unwrap();
        let (len, mtime) = stamp(&file);
        assert_eq!(entry.blob(len, mtime), None);
        // Written in the instant the index was: racy, never vouched for.
        let racy = Indexed { len, mtime_ns: mtime, blob, racy: true };
        assert_eq!(racy.blob(len, mtime), None);
    }

    #[test]
    fn a_commit_gives_the_blobs_it_changed_below_the_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let sig = git2::Signature::now("t", "t@example.org").unwrap();
        let commit = |files: &[(&str, &[u8])], parent: Option<Oid>| -> Oid {
            let mut index = repo.index().unwrap();
            for (path, bytes) in files {
                let file = dir.path().join(path);
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(&file, bytes).unwrap();
                index.add_path(Path::new(path)).unwrap();
            }
            let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
            let parents: Vec<git2::Commit> = parent.map(|p| repo.find_commit(p).unwrap()).into_iter().collect();
            let parents: Vec<&git2::Commit> = parents.iter().collect();
            repo.commit(Some("HEAD"), &sig, &sig, "c", &tree, &parents).unwrap()
        };
        let first = commit(
            &[
                ("README", b"not below the prefix"),
                ("snapshots/h1/system.json", b"1"),
                ("snapshots/h2/disks/2026-01-01.json", b"2"),
                ("snapshots/.hidden/x.json", b"3"),
                ("snapshots/h1/a/b/too-deep.json", b"4"),
            ],
            None,
        );
        let second =
            commit(&[("snapshots/h1/system.json", b"1 again"), ("snapshots/h3/system.json", b"5")], Some(first));
        let odb = repo.odb().unwrap();
        let prefix = Path::new("snapshots");
        let found = |changes: Changes| -> Vec<(String, Oid)> {
            let mut found: Vec<_> = changes.into_iter().map(|(parts, oid)| (parts.join("/"), oid)).collect();
            found.sort();
            found
        };
        let blob = |bytes: &[u8]| Oid::hash_object(ObjectType::Blob, bytes).unwrap();
        let (changes, tree) = changed_in(&repo, &odb, first, prefix, None).unwrap();
        assert_eq!(
            found(changes),
            [("h1/system.json".to_string(), blob(b"1")), ("h2/disks/2026-01-01.json".to_string(), blob(b"2"))]
        );
        // Against the tree at hand, and against the parent read again: the same.
        let (changes, _) = changed_in(&repo, &odb, second, prefix, Some((first, tree))).unwrap();
        let (again, _) = changed_in(&repo, &odb, second, prefix, None).unwrap();
        let expected = [("h1/system.json".to_string(), blob(b"1 again")), ("h3/system.json".to_string(), blob(b"5"))];
        assert_eq!(found(changes), expected);
        assert_eq!(found(again), expected);
        // A host whose name begins another's: git lists `pve1/` after
        // `pve1-backup/`. A commit of either gives that host's blob alone.
        let third =
            commit(&[("snapshots/pve1/system.json", b"6"), ("snapshots/pve1-backup/system.json", b"7")], Some(second));
        let fourth = commit(&[("snapshots/pve1-backup/system.json", b"8")], Some(third));
        let fifth = commit(&[("snapshots/h1/system.json", b"9")], Some(fourth));
        let (changes, _) = changed_in(&repo, &odb, fourth, prefix, None).unwrap();
        assert_eq!(found(changes), [("pve1-backup/system.json".to_string(), blob(b"8"))]);
        let (changes, _) = changed_in(&repo, &odb, fifth, prefix, None).unwrap();
        assert_eq!(found(changes), [("h1/system.json".to_string(), blob(b"9"))]);
        // A prefix that is not there gives nothing.
        assert!(changed_in(&repo, &odb, second, Path::new("elsewhere"), None).unwrap().0.is_empty());
    }
}

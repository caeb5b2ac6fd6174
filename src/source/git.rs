//! The git history of the snapshots folder, read with git2.
//!
//! Each commit that changed a file under the folder gives a version of it.
//! Trees are compared by id, so unchanged hosts cost nothing, and a blob
//! already seen at the same path is not read again.

use super::{classify, files::too_large, Candidate, Discovery, Origin};
use crate::problem::Problem;
use anyhow::Context;
use git2::{ObjectType, Oid, Repository, Sort, Tree};
use std::collections::HashSet;
use std::path::Path;

pub fn walk(dir: &Path, max_bytes: u64, found: &mut Discovery) -> anyhow::Result<()> {
    let Ok(repo) = Repository::discover(dir) else {
        return Ok(());
    };
    let Some(workdir) = repo.workdir().and_then(|w| w.canonicalize().ok()) else {
        return Ok(());
    };
    let dir = dir.canonicalize()?;
    let Ok(prefix) = dir.strip_prefix(&workdir).map(Path::to_path_buf) else {
        return Ok(());
    };
    let head = match repo.head() {
        Ok(head) => head.peel_to_commit().context("cannot read HEAD")?.id(),
        Err(_) => return Ok(()), // a repository with no commit yet
    };
    found.repository = Some(workdir.clone());
    found.head = Some(head);

    let mut walk = repo.revwalk()?;
    walk.push(head)?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME | Sort::REVERSE)?;
    let mut seen: HashSet<(String, Oid)> = HashSet::new();
    let odb = repo.odb()?;
    for (order, oid) in walk.enumerate() {
        let commit = repo.find_commit(oid?)?;
        let Some(tree) = subtree(&repo, &commit.tree()?, &prefix)? else {
            continue;
        };
        let parent = match commit.parents().next() {
            Some(p) => subtree(&repo, &p.tree()?, &prefix)?,
            None => None,
        };
        if parent.as_ref().map(Tree::id) == Some(tree.id()) {
            continue;
        }
        let short = &commit.id().to_string()[..10];
        let mut changed = Vec::new();
        changed_blobs(&repo, &tree, parent.as_ref(), &mut Vec::new(), &mut changed)?;
        for (parts, blob) in changed {
            if !seen.insert((parts.join("/"), blob)) {
                continue;
            }
            let label = format!("git:{short}:{}", prefix.join(parts.join("/")).display());
            let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
            let (host, kind) = match classify(&refs) {
                None => continue,
                Some(Err(cause)) => {
                    found.problems.push(Problem::new(label, cause));
                    continue;
                }
                Some(Ok(pair)) => pair,
            };
            let (len, _) = odb.read_header(blob)?;
            let len = len as u64;
            if len > max_bytes {
                found.problems.push(too_large(label, len, max_bytes));
                continue;
            }
            let origin = Origin::Blob { oid: blob, len };
            found.add(Candidate { host, kind, label, origin, precedence: order as u64 });
        }
    }
    Ok(())
}

/// The tree at `prefix` inside `root`, if there is one.
fn subtree<'r>(repo: &'r Repository, root: &Tree<'r>, prefix: &Path) -> anyhow::Result<Option<Tree<'r>>> {
    if prefix.as_os_str().is_empty() {
        return Ok(Some(root.clone()));
    }
    match root.get_path(prefix) {
        Ok(entry) if entry.kind() == Some(ObjectType::Tree) => Ok(Some(repo.find_tree(entry.id())?)),
        _ => Ok(None),
    }
}

/// Blobs in `tree` that differ from `parent` (depth limited to the layouts).
fn changed_blobs(
    repo: &Repository,
    tree: &Tree,
    parent: Option<&Tree>,
    path: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, Oid)>,
) -> anyhow::Result<()> {
    for entry in tree.iter() {
        let Some(name) = entry.name() else { continue };
        let before = parent.and_then(|p| p.get_name(name)).map(|e| e.id());
        if before == Some(entry.id()) || name.starts_with('.') {
            continue;
        }
        path.push(name.to_string());
        match entry.kind() {
            Some(ObjectType::Blob) if entry.filemode() != 0o120000 => out.push((path.clone(), entry.id())),
            Some(ObjectType::Tree) if path.len() < 3 => {
                let sub = repo.find_tree(entry.id())?;
                let parent_sub = match parent.and_then(|p| p.get_name(name)) {
                    Some(e) if e.kind() == Some(ObjectType::Tree) => Some(repo.find_tree(e.id())?),
                    _ => None,
                };
                changed_blobs(repo, &sub, parent_sub.as_ref(), path, out)?;
            }
            _ => {}
        }
        path.pop();
    }
    Ok(())
}

/// Reads blobs for the parse stage; one per thread, since a Repository is not Sync.
pub fn open(path: &Path) -> Option<Repository> {
    Repository::open(path).ok()
}

pub fn read_blob(repo: &Repository, oid: Oid) -> Result<Vec<u8>, String> {
    repo.find_blob(oid).map(|b| b.content().to_vec()).map_err(|e| format!("cannot read from git: {}", e.message()))
}

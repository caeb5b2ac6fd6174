//! `--commit` and `--push`: snapshots into the git repository that holds
//! them, and to its remote, with git2.
//!
//! Each host writes only its own folder, so two agents' commits never touch
//! the same file: when another agent pushed first, this host's commits are
//! replayed on top of the remote branch and the push is tried again. The
//! history stays linear and nothing is lost.

use git2::{build::CheckoutBuilder, Commit, FetchOptions, Oid, PushOptions, RemoteCallbacks, Repository, Signature};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Commits `files` (inside the repository holding `dir`); `None` when nothing changed.
pub fn commit(dir: &Path, files: &[PathBuf], message: &str) -> Result<Option<Oid>, String> {
    let repo = Repository::discover(dir)
        .map_err(|e| format!("{} is not in a git repository: {}", dir.display(), e.message()))?;
    let workdir = repo.workdir().ok_or("the repository is bare")?.canonicalize().map_err(|e| e.to_string())?;
    let mut index = repo.index().map_err(git)?;
    for file in files {
        let file = file.canonicalize().map_err(|e| format!("{}: {e}", file.display()))?;
        let rel = file.strip_prefix(&workdir).map_err(|_| format!("{} is outside the repository", file.display()))?;
        index.add_path(rel).map_err(git)?;
    }
    index.write().map_err(git)?;
    let tree = repo.find_tree(index.write_tree().map_err(git)?).map_err(git)?;
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    if parent.as_ref().is_some_and(|p| p.tree_id() == tree.id()) {
        return Ok(None);
    }
    let signature = repo.signature().or_else(|_| Signature::now("parc", "parc@localhost")).map_err(git)?;
    let parents: Vec<&Commit> = parent.iter().collect();
    repo.commit(Some("HEAD"), &signature, &signature, message, &tree, &parents).map(Some).map_err(git)
}

/// Pushes the current branch to `remote`, replaying local commits on top of
/// the remote branch when another agent pushed first, `retries` times.
/// Returns how many attempts it took.
pub fn push(dir: &Path, remote_name: &str, retries: u32) -> Result<u32, String> {
    let repo = Repository::discover(dir)
        .map_err(|e| format!("{} is not in a git repository: {}", dir.display(), e.message()))?;
    let head = repo.head().map_err(|e| format!("nothing to push: {}", e.message()))?;
    let branch = head.shorthand().filter(|_| head.is_branch()).ok_or("HEAD is not on a branch")?.to_string();
    let local_ref = format!("refs/heads/{branch}");
    let tracking = format!("refs/remotes/{remote_name}/{branch}");
    let mut last_error = String::new();
    for attempt in 0..=retries {
        if attempt > 0 {
            std::thread::sleep(backoff(attempt));
        }
        let mut remote =
            repo.find_remote(remote_name).map_err(|e| format!("no remote {remote_name:?}: {}", e.message()))?;
        let mut fetch = FetchOptions::new();
        fetch.remote_callbacks(callbacks());
        if let Err(e) = remote.fetch(&[format!("+{local_ref}:{tracking}")], Some(&mut fetch), None) {
            last_error = format!("fetch from {remote_name}: {}", e.message());
            continue;
        }
        if let Ok(upstream) = repo.refname_to_id(&tracking) {
            let local = repo.refname_to_id(&local_ref).map_err(git)?;
            if local == upstream {
                return Ok(attempt + 1);
            }
            if !repo.graph_descendant_of(local, upstream).map_err(git)? {
                replay(&repo, &local_ref, local, upstream)?;
            }
        }
        let expected = repo.refname_to_id(&tracking).ok();
        if let Some(path) = local_path(&repo, &remote) {
            match push_to_path(&repo, &path, &local_ref, expected) {
                Ok(()) => return Ok(attempt + 1),
                Err(e) => {
                    last_error = e;
                    tracing::debug!("push attempt {} failed: {last_error}", attempt + 1);
                    continue;
                }
            }
        }
        let rejected = std::cell::RefCell::new(None);
        let mut callbacks = callbacks();
        callbacks.push_update_reference(|_, status| {
            *rejected.borrow_mut() = status.map(str::to_string);
            Ok(())
        });
        let mut options = PushOptions::new();
        options.remote_callbacks(callbacks);
        match remote.push(&[format!("{local_ref}:{local_ref}")], Some(&mut options)) {
            Ok(()) => match rejected.borrow().clone() {
                None => return Ok(attempt + 1),
                Some(why) => last_error = format!("push rejected: {why}"),
            },
            Err(e) => last_error = format!("push to {remote_name}: {}", e.message()),
        }
        tracing::debug!("push attempt {} failed: {last_error}", attempt + 1);
    }
    Err(format!("gave up after {} attempts: {last_error}", retries + 1))
}

/// The folder of a remote that is a repository on this machine.
fn local_path(repo: &Repository, remote: &git2::Remote) -> Option<PathBuf> {
    let url = remote.url()?;
    let path = match url.strip_prefix("file://") {
        Some(path) => path,
        // `host:path` (scp-like) and `scheme://` URLs are not local.
        None if url.contains("://") || url.split('/').next().is_some_and(|first| first.contains(':')) => return None,
        None => url,
    };
    let path = Path::new(path);
    Some(if path.is_absolute() { path.to_path_buf() } else { repo.workdir().unwrap_or(repo.path()).join(path) })
}

/// Pushes to a repository on this machine. libgit2's local transport checks
/// fast-forward against the refs it saw when connecting, then overwrites the
/// branch: two agents pushing at once can lose a commit. Here the objects are
/// copied first, and the branch moves only if it still is where we fetched
/// it (a locked compare-and-swap), as git-receive-pack does on a server.
fn push_to_path(repo: &Repository, path: &Path, local_ref: &str, expected: Option<Oid>) -> Result<(), String> {
    let target = Repository::open(path).map_err(|e| format!("cannot open {}: {}", path.display(), e.message()))?;
    let local = repo.refname_to_id(local_ref).map_err(git)?;
    let mut pack = repo.packbuilder().map_err(git)?;
    let mut walk = repo.revwalk().map_err(git)?;
    walk.push(local).map_err(git)?;
    if let Some(old) = expected {
        walk.hide(old).map_err(git)?;
    }
    pack.insert_walk(&mut walk).map_err(git)?;
    let mut bytes = Vec::new();
    pack.foreach(|chunk| {
        bytes.extend_from_slice(chunk);
        true
    })
    .map_err(git)?;
    let odb = target.odb().map_err(git)?;
    let mut writer = odb.packwriter().map_err(git)?;
    std::io::Write::write_all(&mut writer, &bytes).map_err(|e| e.to_string())?;
    writer.commit().map_err(git)?;
    let message = "parc collect: push";
    let moved = match expected {
        Some(old) => target.reference_matching(local_ref, local, true, old, message),
        None => target.reference(local_ref, local, false, message),
    };
    moved.map(|_| ()).map_err(|e| format!("the remote branch moved (another agent pushed first): {}", e.message()))
}

/// Re-creates the commits in `upstream..local` on top of `upstream`, moves
/// the branch there and updates the working tree (never overwriting a change
/// that is not committed).
fn replay(repo: &Repository, local_ref: &str, local: Oid, upstream: Oid) -> Result<(), String> {
    let mut walk = repo.revwalk().map_err(git)?;
    walk.push(local).map_err(git)?;
    walk.hide(upstream).map_err(git)?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE).map_err(git)?;
    let mut onto = repo.find_commit(upstream).map_err(git)?;
    for oid in walk {
        let commit = repo.find_commit(oid.map_err(git)?).map_err(git)?;
        let mut index = repo.cherrypick_commit(&commit, &onto, 0, None).map_err(git)?;
        if index.has_conflicts() {
            return Err(format!(
                "commit {} conflicts with the remote branch: did two agents write the same host's folder?",
                commit.id()
            ));
        }
        let tree = repo.find_tree(index.write_tree_to(repo).map_err(git)?).map_err(git)?;
        let message = commit.message().unwrap_or("parc collect");
        let id = repo.commit(None, &commit.author(), &commit.committer(), message, &tree, &[&onto]).map_err(git)?;
        onto = repo.find_commit(id).map_err(git)?;
    }
    repo.reference(local_ref, onto.id(), true, "parc collect: replayed on the remote branch").map_err(git)?;
    repo.checkout_head(Some(CheckoutBuilder::new().safe())).map_err(git)
}

/// 50 ms, 100 ms, … up to 2 s, with jitter so that agents that collided do not collide again.
fn backoff(attempt: u32) -> Duration {
    let base = 50u64 << attempt.min(5);
    let jitter =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos() as u64)
            % base.max(1);
    Duration::from_millis((base + jitter).min(2_000))
}

/// Credentials for remotes that need them: the SSH agent, then the user's git credential helper.
fn callbacks<'a>() -> RemoteCallbacks<'a> {
    let mut callbacks = RemoteCallbacks::new();
    callbacks.credentials(|url, user, allowed| {
        if allowed.contains(git2::CredentialType::SSH_KEY) {
            return git2::Cred::ssh_key_from_agent(user.unwrap_or("git"));
        }
        let config = git2::Config::open_default()?;
        git2::Cred::credential_helper(&config, url, user)
    });
    callbacks
}

fn git(e: git2::Error) -> String {
    e.message().to_string()
}

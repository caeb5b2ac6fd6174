//! `--commit` and `--push`: snapshots into the git repository that holds
//! them, and to its remote.
//!
//! Commits are made with git2. Fetching and pushing are left to the `git`
//! program, the one that made the clone: it is the only way to behave exactly
//! as `git push` does for the agent's user — `~/.ssh/config` (aliases, Port,
//! User, IdentityFile, ProxyJump), keys on disk, an ssh-agent when there is
//! one, known_hosts, `core.sshCommand`, `insteadOf`, HTTPS credential
//! helpers — and a server's receive-pack moves the branch atomically.
//!
//! Each host writes only its own folder, so two agents' commits never touch
//! the same file: when another agent pushed first, this host's commits are
//! replayed on top of the remote branch and the push is tried again. The
//! history stays linear and nothing is lost.

use super::command;
use git2::{build::CheckoutBuilder, build::TreeUpdateBuilder, Commit, FileMode, Oid, Repository, Signature};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Commits `files` (inside the repository holding `dir`) and nothing else:
/// whatever a person had staged in the same repository stays staged, out of
/// the commit. `None` when nothing changed.
pub fn commit(dir: &Path, files: &[PathBuf], message: &str) -> Result<Option<Oid>, Error> {
    let repo = open(dir)?;
    let workdir = repo.workdir().ok_or(Error::Bare)?;
    let workdir = workdir.canonicalize().map_err(|e| Error::File(workdir.to_path_buf(), e))?;
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let base = match &parent {
        Some(commit) => commit.tree()?,
        None => repo.find_tree(repo.treebuilder(None).and_then(|b| b.write())?)?,
    };
    let mut update = TreeUpdateBuilder::new();
    let mut paths = Vec::with_capacity(files.len());
    for file in files {
        let file = file.canonicalize().map_err(|e| Error::File(file.clone(), e))?;
        let rel = file.strip_prefix(&workdir).map_err(|_| Error::Outside(file.clone()))?;
        update.upsert(rel, repo.blob_path(&file)?, FileMode::Blob);
        paths.push(rel.to_path_buf());
    }
    let tree = repo.find_tree(update.create_updated(&repo, &base)?)?;
    if tree.id() == base.id() && parent.is_some() {
        return Ok(None);
    }
    let signature = repo.signature().or_else(|_| Signature::now("parc", "parc@localhost"))?;
    let parents: Vec<&Commit> = parent.iter().collect();
    let id = repo.commit(Some("HEAD"), &signature, &signature, message, &tree, &parents)?;
    // The index follows the commit for these files only.
    let mut index = repo.index()?;
    for rel in &paths {
        index.add_path(rel)?;
    }
    index.write()?;
    Ok(Some(id))
}

/// Whether `--commit` can commit into the repository holding `dir`: asked
/// before any host is collected, not after.
pub fn check(dir: &Path) -> Result<(), Error> {
    // The folder may not be made yet: its nearest existing parent says.
    let existing = (dir.ancestors())
        .map(|p| if p.as_os_str().is_empty() { Path::new(".") } else { p })
        .find(|p| p.exists())
        .unwrap_or(dir);
    let repo = Repository::discover(existing).map_err(|cause| Error::NotARepository(dir.to_path_buf(), cause))?;
    repo.workdir().map(|_| ()).ok_or(Error::Bare)
}

fn open(dir: &Path) -> Result<Repository, Error> {
    Repository::discover(dir).map_err(|cause| Error::NotARepository(dir.to_path_buf(), cause))
}

/// Why a commit or a push was not made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{} is not in a git repository: {}", .0.display(), .1.message())]
    NotARepository(PathBuf, git2::Error),
    #[error("the repository is bare")]
    Bare,
    #[error("{}: {}", .0.display(), .1)]
    File(PathBuf, std::io::Error),
    #[error("{} is outside the repository", .0.display())]
    Outside(PathBuf),
    #[error("nothing to push: {}", .0.message())]
    NothingToPush(git2::Error),
    #[error("HEAD is not on a branch")]
    NotOnABranch,
    #[error("no remote {remote:?}: {}", .cause.message())]
    NoRemote { remote: String, cause: git2::Error },
    /// A failure that trying again cannot help.
    #[error("{0} (attempt {1}, not retried)")]
    Stopped(String, u32),
    #[error("gave up after {0} attempts: {1}")]
    GaveUp(u32, String),
    #[error("commit {0} conflicts with the remote branch: did two agents write the same host's folder?")]
    Conflict(Oid),
    #[error("{}", .0.message())]
    Git(#[from] git2::Error),
}

/// Pushes the current branch to `remote`, replaying local commits on top of
/// the remote branch when another agent pushed first, up to `retries` more
/// times. Returns how many attempts it took.
///
/// Only a rejected push (another agent was first) and a dropped connection
/// are tried again; a failed authentication, an unknown or changed host key,
/// a name that does not resolve stop at once: trying again cannot help.
pub fn push(dir: &Path, remote: &str, retries: u32, limit: Duration) -> Result<u32, Error> {
    let repo = open(dir)?;
    let workdir = repo.workdir().ok_or(Error::Bare)?.to_path_buf();
    let head = repo.head().map_err(Error::NothingToPush)?;
    let branch = head.shorthand().filter(|_| head.is_branch()).ok_or(Error::NotOnABranch)?.to_string();
    repo.find_remote(remote).map_err(|cause| Error::NoRemote { remote: remote.to_string(), cause })?;
    let local_ref = format!("refs/heads/{branch}");
    let tracking = format!("refs/remotes/{remote}/{branch}");
    let transport = Transport { workdir: &workdir, remote, limit };
    let mut last = String::new();
    for attempt in 1..=retries + 1 {
        if attempt > 1 {
            tracing::debug!("push attempt {} failed: {last}", attempt - 1);
            std::thread::sleep(backoff(attempt - 1));
        }
        let upstream = match transport.fetch(&local_ref, &tracking) {
            Ok(found) => found.then(|| repo.refname_to_id(&tracking)).transpose()?,
            Err(Failure::Retry(why)) => {
                last = why;
                continue;
            }
            Err(Failure::Stop(why)) => return Err(Error::Stopped(why, attempt)),
        };
        let local = repo.refname_to_id(&local_ref)?;
        if let Some(upstream) = upstream {
            if local == upstream {
                return Ok(attempt);
            }
            if !repo.graph_descendant_of(local, upstream)? {
                replay(&repo, &local_ref, local, upstream)?;
            }
        }
        match transport.push(&local_ref) {
            Ok(()) => return Ok(attempt),
            Err(Failure::Retry(why)) => last = why,
            Err(Failure::Stop(why)) => return Err(Error::Stopped(why, attempt)),
        }
    }
    Err(Error::GaveUp(retries + 1, last))
}

/// Why a fetch or a push did not go through.
#[derive(Debug, PartialEq)]
pub enum Failure {
    /// Another agent pushed first, or the connection dropped: worth another try.
    Retry(String),
    /// Authentication, host key, name resolution, or anything not known to pass.
    Stop(String),
}

/// The `git` program, run in the working tree for one remote.
struct Transport<'a> {
    workdir: &'a Path,
    remote: &'a str,
    limit: Duration,
}

impl Transport<'_> {
    /// Fetches the branch into its tracking ref; false when the remote has no such branch yet.
    fn fetch(&self, local_ref: &str, tracking: &str) -> Result<bool, Failure> {
        let spec = format!("+{local_ref}:{tracking}");
        match self.run("fetch", &["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", self.remote, &spec]) {
            Ok(_) => Ok(true),
            Err(Failure::Stop(why)) if why.contains("couldn't find remote ref") => Ok(false),
            Err(failure) => Err(failure),
        }
    }

    fn push(&self, local_ref: &str) -> Result<(), Failure> {
        let spec = format!("{local_ref}:{local_ref}");
        self.run("push", &["push", "--porcelain", self.remote, &spec]).map(drop)
    }

    fn run(&self, what: &str, args: &[&str]) -> Result<Vec<u8>, Failure> {
        let mut git = Command::new("git");
        // English messages, to tell failures apart; never a prompt on a terminal.
        git.current_dir(self.workdir).args(args).env("LC_ALL", "C").env("GIT_TERMINAL_PROMPT", "0");
        let context = format!("{what} {}", self.remote);
        let done = command::run(&mut git, b"", self.limit).map_err(|e| match e {
            command::Unfinished::TimedOut(_) => {
                Failure::Retry(format!("{context}: no answer within {} s (git.timeout)", self.limit.as_secs()))
            }
            other => Failure::Stop(format!("{context}: {other}")),
        })?;
        if done.status.success() {
            return Ok(done.stdout);
        }
        let said = format!("{}\n{}", String::from_utf8_lossy(&done.stdout), String::from_utf8_lossy(&done.stderr));
        Err(classify(&context, &said))
    }
}

/// Reads what `git fetch` or `git push` (and ssh under it) said on failure.
pub fn classify(context: &str, said: &str) -> Failure {
    let lines: Vec<&str> = said.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let find = |needles: &[&str]| {
        lines.iter().find(|l| needles.iter().any(|n| l.to_ascii_lowercase().contains(&n.to_ascii_lowercase()))).copied()
    };
    let stop = |what: &str, line: &str| Failure::Stop(format!("{context}: {what}: {}", tidy(line)));
    const HOST_KEY: &[&str] = &[
        "Host key verification failed",
        "REMOTE HOST IDENTIFICATION HAS CHANGED",
        "host key for",
        "No matching host key",
        "server certificate verification failed",
        "SSL certificate problem",
    ];
    const RESOLVE: &[&str] =
        &["Could not resolve hostname", "Could not resolve host", "Name or service not known", "name resolution"];
    const AUTH: &[&str] = &[
        "Permission denied",
        "Authentication failed",
        "could not read Username",
        "could not read Password",
        "terminal prompts disabled",
        "Too many authentication failures",
        "returned error: 401",
        "returned error: 403",
    ];
    if find(&["REMOTE HOST IDENTIFICATION HAS CHANGED"]).is_some() {
        // ssh's banner of @ signs says little; its own sentence and the line of known_hosts say it all.
        let why = find(&["has changed and"]).unwrap_or("Host key verification failed.");
        let offending = find(&["Offending"]).map(|l| format!(" ({})", tidy(l))).unwrap_or_default();
        return Failure::Stop(format!("{context}: the host key changed; it is not trusted: {}{offending}", tidy(why)));
    }
    if let Some(line) = find(HOST_KEY) {
        let what = if line.contains("certificate") { "certificate not trusted" } else { "host key not trusted" };
        return stop(what, line);
    }
    if let Some(line) = find(RESOLVE) {
        return stop("name does not resolve", line);
    }
    if let Some(line) = find(AUTH) {
        return stop("authentication failed", line);
    }
    // Porcelain push: a `!` line is a ref the remote refused to move.
    if let Some(line) = lines.iter().find(|l| l.starts_with('!')) {
        let busy = ["fetch first", "non-fast-forward", "stale info", "cannot lock ref", "failed to update ref"];
        let reason = line.split('\t').next_back().unwrap_or(line);
        return if busy.iter().any(|b| line.contains(b)) {
            Failure::Retry(format!("{context}: rejected, another agent pushed first: {reason}"))
        } else {
            Failure::Stop(format!("{context}: the remote refused the push: {reason}"))
        };
    }
    const DROPPED: &[&str] = &[
        "Connection reset",
        "Connection closed",
        "Broken pipe",
        "remote end hung up unexpectedly",
        "early EOF",
        "unexpected disconnect",
        "RPC failed",
    ];
    if let Some(line) = find(DROPPED) {
        return Failure::Retry(format!("{context}: connection dropped: {}", tidy(line)));
    }
    // The first line that says something of its own (ssh speaks before git's boilerplate).
    const BOILERPLATE: &[&str] =
        &["Could not read from remote repository", "Please make sure", "and the repository exists", "To ", "Done"];
    let line = lines
        .iter()
        .find(|l| !BOILERPLATE.iter().any(|b| l.contains(b)))
        .or(lines.first())
        .copied()
        .unwrap_or("git failed and said nothing");
    Failure::Stop(format!("{context}: {}", tidy(line)))
}

/// One line as git printed it, without its `fatal: ` and trailing full stop noise.
fn tidy(line: &str) -> &str {
    line.trim_start_matches("fatal: ").trim_start_matches("error: ").trim()
}

/// Re-creates the commits in `upstream..local` on top of `upstream`, moves
/// the branch there and updates the working tree (never overwriting a change
/// that is not committed).
fn replay(repo: &Repository, local_ref: &str, local: Oid, upstream: Oid) -> Result<(), Error> {
    let mut walk = repo.revwalk()?;
    walk.push(local)?;
    walk.hide(upstream)?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)?;
    let mut onto = repo.find_commit(upstream)?;
    for oid in walk {
        let commit = repo.find_commit(oid?)?;
        let mut index = repo.cherrypick_commit(&commit, &onto, 0, None)?;
        if index.has_conflicts() {
            return Err(Error::Conflict(commit.id()));
        }
        let tree = repo.find_tree(index.write_tree_to(repo)?)?;
        let message = commit.message().unwrap_or("parc collect");
        let id = repo.commit(None, &commit.author(), &commit.committer(), message, &tree, &[&onto])?;
        onto = repo.find_commit(id)?;
    }
    repo.reference(local_ref, onto.id(), true, "parc collect: replayed on the remote branch")?;
    Ok(repo.checkout_head(Some(CheckoutBuilder::new().safe()))?)
}

/// 50 ms, 100 ms, … up to 2 s, with jitter so that agents that collided do not collide again.
fn backoff(attempt: u32) -> Duration {
    let base = 50u64 << attempt.min(5);
    let jitter =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos() as u64)
            % base.max(1);
    Duration::from_millis((base + jitter).min(2_000))
}

#[cfg(test)]
mod tests {
    use super::{classify, Failure};

    /// What git and ssh print (LC_ALL=C), copied from real runs.
    #[test]
    fn only_a_rejected_push_and_a_dropped_connection_are_retried() {
        let retry = |said: &str| matches!(classify("push origin", said), Failure::Retry(_));
        let stop = |said: &str, words: &str| match classify("push origin", said) {
            Failure::Stop(line) => assert!(line.contains(words) && !line.contains('\n'), "{line}"),
            other => panic!("{said}: {other:?}"),
        };
        stop(
            "ssh: Could not resolve hostname git.lan: Name or service not known\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n",
            "name does not resolve: ssh: Could not resolve hostname git.lan",
        );
        stop(
            "fatal: unable to access 'https://git.lan/fleet.git/': Could not resolve host: git.lan\n",
            "name does not resolve",
        );
        stop(
            "root@127.0.0.1: Permission denied (publickey).\r\nfatal: Could not read from remote repository.\n",
            "authentication failed: root@127.0.0.1: Permission denied (publickey).",
        );
        stop(
            "fatal: could not read Username for 'https://git.lan': terminal prompts disabled\n",
            "authentication failed",
        );
        stop(
            "No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\r\nHost key verification failed.\r\nfatal: Could not read from remote repository.\n",
            "host key not trusted",
        );
        stop(
            "fatal: unable to access 'https://git.lan/fleet.git/': server certificate verification failed. CAfile: /etc/ssl/certs/ca-certificates.crt CRLfile: none\n",
            "certificate not trusted",
        );
        stop("ssh: connect to host 127.0.0.1 port 9: Connection refused\nfatal: Could not read from remote repository.\n", "Connection refused");
        stop(
            "To git.lan:fleet.git\n!\trefs/heads/main:refs/heads/main\t[remote rejected] (pre-receive hook declined)\nDone\n",
            "the remote refused the push",
        );
        assert!(retry(
            "To git.lan:fleet.git\n!\trefs/heads/main:refs/heads/main\t[rejected] (fetch first)\nDone\nerror: failed to push some refs to 'git.lan:fleet.git'\n"
        ));
        assert!(retry(
            "To /srv/fleet.git\n!\trefs/heads/main:refs/heads/main\t[remote rejected] (cannot lock ref 'refs/heads/main': is at 1f0c but expected 9e2a)\nDone\n"
        ));
        assert!(retry("kex_exchange_identification: Connection closed by remote host\r\nConnection closed by 127.0.0.1 port 2222\r\nfatal: Could not read from remote repository.\n"));
        assert!(retry("client_loop: send disconnect: Broken pipe\r\nfatal: the remote end hung up unexpectedly\n"));
    }
}

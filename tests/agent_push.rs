//! `parc collect --commit --push` the way the README deploys it: agents run
//! as a non-root user with no ssh-agent, the git server an alias in that
//! user's `~/.ssh/config`, the repository served over SSH by a real sshd on
//! 127.0.0.1. Needs root (to make the user), as `make test` runs.

mod common;

use common::git;
use common::sshd::Sshd;
use common::user::User;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ok(out: Output, what: &str) -> Output {
    assert!(out.status.success(), "{what}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// A bare repository with one commit, served by `sshd` as root; a user
/// whose `~/.ssh/config` calls the server `git.lan`; parc where the user
/// can run it.
struct Fleet {
    sshd: Sshd,
    tmp: tempfile::TempDir,
    user: User,
    remote: PathBuf,
    parc: PathBuf,
}

impl Fleet {
    fn new(tag: &str) -> Fleet {
        let sshd = Sshd::start();
        let tmp = tempfile::tempdir().unwrap();
        let remote = common::bare_remote(tmp.path());
        let user = User::create(tag, &tmp.path().join("home"));
        user.write(".ssh/deploy_key", std::fs::read(sshd.path("id")).unwrap());
        user.write(".ssh/known_hosts", std::fs::read(sshd.path("known_hosts")).unwrap());
        // No BatchMode: parc itself must never wait for an answer.
        user.write(
            ".ssh/config",
            format!(
                "Host git.lan\n  HostName 127.0.0.1\n  Port {}\n  User root\n  IdentityFile ~/.ssh/deploy_key\n",
                sshd.port
            ),
        );
        let bin = tmp.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let parc = bin.join("parc");
        std::fs::copy(assert_cmd::cargo::cargo_bin("parc"), &parc).unwrap();
        let agents = tmp.path().join("agents");
        std::fs::create_dir_all(&agents).unwrap();
        user.own(&agents);
        Fleet { sshd, tmp, user, remote, parc }
    }

    /// `git clone git.lan:…/fleet.git`, as the user.
    fn clone(&self, name: &str) -> PathBuf {
        let agents = self.tmp.path().join("agents");
        let url = format!("git.lan:{}", self.remote.display());
        let git = Path::new("/usr/bin/git");
        ok(self.user.command(&agents, git, &["clone", "-q", &url, name]).output().unwrap(), "git clone over SSH");
        agents.join(name)
    }

    fn collect(&self, clone: &Path, host: &str) -> Command {
        self.user.command(
            clone,
            &self.parc,
            &["collect", "--kinds", "system", "--host", host, "--snapshots", "snapshots", "--commit", "--push"],
        )
    }

    fn remote_log(&self) -> String {
        git(&self.remote, &["log", "--format=%H %P|%s", "main"])
    }
}

#[test]
fn five_agents_push_at_once_over_an_ssh_alias_without_an_agent() {
    let fleet = Fleet::new("five");
    let clones: Vec<PathBuf> = (0..5).map(|i| fleet.clone(&format!("agent{i}"))).collect();
    let children: Vec<_> = clones
        .iter()
        .enumerate()
        .map(|(i, clone)| {
            fleet
                .collect(clone, &format!("agent-{i}"))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = ok(child.wait_with_output().unwrap(), &format!("agent {i}"));
        assert!(String::from_utf8_lossy(&out.stderr).contains("pushed to origin"));
    }
    let log = fleet.remote_log();
    let commits: Vec<&str> = log.lines().collect();
    assert_eq!(commits.len(), 6, "{log}");
    for c in &commits {
        let parents = c.split('|').next().unwrap().split(' ').count() - 1;
        assert!(parents <= 1, "a merge in a history that must be linear: {c}");
    }
    let tree = git(&fleet.remote, &["ls-tree", "-r", "--name-only", "main", "snapshots/"]);
    for i in 0..5 {
        assert!(tree.contains(&format!("snapshots/agent-{i}/system.json")), "agent {i} is missing:\n{tree}");
    }
}

#[test]
fn a_changed_host_key_is_refused_and_nothing_is_pushed() {
    let fleet = Fleet::new("hkey");
    let clone = fleet.clone("agent");
    let before = fleet.remote_log();
    // The server now shows a key the user's known_hosts does not hold for it.
    let other = fleet.tmp.path().join("other_hostkey");
    ok(
        Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-f"]).arg(&other).output().unwrap(),
        "keygen",
    );
    let other_pub = std::fs::read_to_string(other.with_extension("pub")).unwrap();
    let key: Vec<&str> = other_pub.split_whitespace().take(2).collect();
    fleet.user.write(".ssh/known_hosts", format!("[127.0.0.1]:{} {}\n", fleet.sshd.port, key.join(" ")));
    let out = fleet.collect(&clone, "agent-x").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    eprintln!("{stderr}");
    assert!(stderr.contains("host key changed") && stderr.contains("attempt 1, not retried"), "{stderr}");
    assert_eq!(stderr.matches("error:").count(), 1, "one clear line: {stderr}");
    assert_eq!(fleet.remote_log(), before, "nothing was pushed");
}

#[test]
fn a_wrong_key_stops_at_the_first_attempt() {
    let fleet = Fleet::new("wkey");
    let clone = fleet.clone("agent");
    let before = fleet.remote_log();
    fleet.user.write(".ssh/deploy_key", std::fs::read(fleet.sshd.path("stranger")).unwrap());
    let start = std::time::Instant::now();
    let out = fleet.collect(&clone, "agent-x").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Figures go to the test's output, never into an assertion.
    eprintln!("a wrong key failed after {:.3} s", start.elapsed().as_secs_f64());
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    eprintln!("{stderr}");
    assert!(stderr.contains("authentication failed") && stderr.contains("Permission denied"), "{stderr}");
    assert!(stderr.contains("attempt 1, not retried"), "{stderr}");
    assert_eq!(fleet.remote_log(), before);
}

#[test]
fn commit_takes_only_the_snapshots_it_wrote_never_what_a_person_staged() {
    let tmp = tempfile::tempdir().unwrap();
    git(tmp.path(), &["init", "-q"]);
    std::fs::write(tmp.path().join("notes.txt"), "half-written runbook\n").unwrap();
    git(tmp.path(), &["add", "notes.txt"]);
    let out = common::parc()
        .current_dir(tmp.path())
        .args(["collect", "--kinds", "system", "--host", "box", "--snapshots", "snapshots", "--commit"])
        .output()
        .unwrap();
    ok(out, "collect --commit");
    assert_eq!(git(tmp.path(), &["show", "--format=", "--name-only", "HEAD"]), "snapshots/box/system.json\n");
    assert_eq!(git(tmp.path(), &["diff", "--cached", "--name-only"]), "notes.txt\n", "still staged, uncommitted");
    assert_eq!(git(tmp.path(), &["status", "--porcelain", "snapshots"]), "", "the index follows the commit");
}

/// A git server over HTTPS on 127.0.0.1 (`tests/git-https-server.py`: git's
/// http-backend behind TLS and basic authentication), with its own CA.
struct HttpsGit {
    child: std::process::Child,
    port: u16,
    ca: PathBuf,
}

impl HttpsGit {
    fn start(root: &Path, user: &str, password: &str) -> HttpsGit {
        let d = root.join("tls");
        let tls = common::tls::make(&d);
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/git-https-server.py");
        let portfile = d.join("port");
        let child = Command::new("python3")
            .arg(script)
            .arg(root)
            .arg(&tls.cert)
            .arg(&tls.key)
            .args([user, password])
            .arg(&portfile)
            .spawn()
            .unwrap();
        for _ in 0..200 {
            if portfile.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        let port = std::fs::read_to_string(&portfile).expect("the HTTPS server started").trim().parse().unwrap();
        HttpsGit { child, port, ca: tls.ca }
    }
}

impl Drop for HttpsGit {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn an_https_remote_uses_the_credential_helper_and_a_wrong_password_stops_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    common::bare_remote(tmp.path());
    let server = HttpsGit::start(tmp.path(), "parc", "s3cret");
    let url = format!("https://127.0.0.1:{}/fleet.git", server.port);
    // The user's own git setup: the server's CA, and git's credential store.
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        home.join(".gitconfig"),
        format!("[http]\n\tsslCAInfo = {}\n[credential]\n\thelper = store\n", server.ca.display()),
    )
    .unwrap();
    let credentials = |password: &str| {
        std::fs::write(home.join(".git-credentials"), format!("https://parc:{password}@127.0.0.1:{}\n", server.port))
            .unwrap()
    };
    credentials("s3cret");
    // As the user runs it: their HOME, no prompt, no CA from our own environment.
    let as_user = |cmd: &mut Command| {
        cmd.env("HOME", &home).env_remove("GIT_SSL_CAINFO").env_remove("SSL_CERT_FILE").env_remove("CURL_CA_BUNDLE");
    };
    let mut clone = Command::new("git");
    as_user(clone.current_dir(tmp.path()).args(["clone", "-q", &url, "agent"]));
    ok(clone.output().unwrap(), "git clone over HTTPS");
    let agent = tmp.path().join("agent");
    let collect = || {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("parc"));
        as_user(cmd.current_dir(&agent).args(["collect", "--kinds", "system", "--host", "web", "--commit", "--push"]));
        cmd.output().unwrap()
    };
    ok(collect(), "collect --push over HTTPS");
    let remote = tmp.path().join("fleet.git");
    assert!(git(&remote, &["log", "--format=%s", "main"]).starts_with("parc collect: web"));
    // A wrong password: one clear line, no retries, nothing pushed.
    credentials("wrong");
    let before = git(&remote, &["rev-parse", "main"]);
    std::fs::write(agent.join("snapshots/web/system.json"), "{}\n").unwrap(); // something to commit
    let out = collect();
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("authentication failed") && stderr.contains("attempt 1, not retried"), "{stderr}");
    assert_eq!(git(&remote, &["rev-parse", "main"]), before, "nothing was pushed");
}

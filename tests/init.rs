//! `parc init` as a newcomer runs it, in an empty temporary folder: a
//! project that checks, a git repository with one commit, refused a second
//! time; then `--collect` and `parc serve`, answered over real HTTP.

mod common;

use common::http::until;
use common::*;

fn get(port: u16, target: &str) -> u16 {
    common::http::get(port, target).0
}

#[test]
fn init_writes_a_project_that_works_and_never_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let fleet = tmp.path().join("fleet");
    parc().current_dir(tmp.path()).args(["init", "fleet"]).assert().success();
    for file in [
        "parc.toml",
        ".gitignore",
        "snapshots/README.md",
        "templates/README.md",
        "content/README.md",
        "deploy/parc-collect.service",
        "deploy/parc-collect.timer",
        "deploy/parc.cron",
        "deploy/sudoers",
        ".github/workflows/site.yml",
        ".gitlab-ci.yml",
    ] {
        assert!(fleet.join(file).is_file(), "{file}");
    }
    let printed = parc().args(["config", "--default"]).assert().success();
    assert_eq!(String::from_utf8_lossy(&printed.get_output().stdout), read(&fleet.join("parc.toml")));
    assert_eq!(read(&fleet.join(".gitignore")), "site/\n.parc-cache/\n");
    assert_eq!(git(&fleet, &["log", "--format=%s"]), "parc init: a new fleet\n");
    assert_eq!(git(&fleet, &["status", "--porcelain"]), "", "everything committed");
    assert_eq!(git(&fleet, &["branch", "--show-current"]), "main\n", "the branch the GitHub workflow builds");
    assert!(read(&fleet.join(".gitlab-ci.yml")).contains("GIT_DEPTH: 0"));
    assert!(
        read(&fleet.join(".github/workflows/site.yml")).contains("# - uses: actions/deploy-pages"),
        "public Pages commented"
    );
    parc().current_dir(&fleet).args(["check"]).assert().success();

    // Again: refused, and nothing changes.
    std::fs::write(fleet.join("parc.toml"), "[site]\ntitle = \"mine\"\n").unwrap();
    let again = parc().current_dir(tmp.path()).args(["init", "fleet"]).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not empty"));
    assert_eq!(read(&fleet.join("parc.toml")), "[site]\ntitle = \"mine\"\n");
    assert_eq!(git(&fleet, &["log", "--format=%s"]).lines().count(), 1);
}

#[test]
fn init_collect_then_serve_ends_on_the_page_and_shows_a_new_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let fleet = tmp.path().join("fleet");
    let out = parc().current_dir(tmp.path()).args(["init", "--collect", "fleet"]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{said}");
    assert!(said.contains("http://127.0.0.1:1111/"), "{said}");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap().trim().to_string();
    assert!(fleet.join(format!("site/hosts/{host}.html")).is_file(), "{said}");
    assert_eq!(git(&fleet, &["log", "--format=%s"]).lines().count(), 2, "init, then the collection");

    let port = common::sshd::free_port();
    let mut serving = std::process::Command::new(env!("CARGO_BIN_EXE_parc"))
        .current_dir(&fleet)
        .args(["serve", "--port", &port.to_string()])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    until("served", 60, || get(port, "/") == 200);
    assert_eq!(get(port, &format!("/hosts/{host}.html")), 200);
    // A new snapshot, committed while it serves.
    parc().current_dir(&fleet).args(["collect", "--kinds", "system", "--host", "box", "--commit"]).assert().success();
    until("the new host is served", 60, || get(port, "/hosts/box.html") == 200);
    let _ = serving.kill();
    let _ = serving.wait();
}

/// Every answer is a flag for scripts, or a question with --interactive
/// (Enter takes the default); a wrong one is refused before anything is written.
#[test]
fn init_answers_as_flags_or_questions() {
    let tmp = tempfile::tempdir().unwrap();
    let flags = [
        "init",
        "by-flags",
        "--ssh-host",
        "pve1",
        "--ssh-host",
        "pve2",
        "--remote",
        "git@git.lan:infra/fleet.git",
        "--mail",
        "ops@example.org",
        "--archive-url",
        "https://intranet.example/dump.zip",
        "--archive-expect",
        "dump.sql",
        "--archive-destination",
        "/srv/archives",
    ];
    parc().current_dir(tmp.path()).args(flags).assert().success();
    let asked = parc()
        .current_dir(tmp.path())
        .args(["init", "asked", "--interactive"])
        .write_stdin(
            "pve1, pve2\ngit@git.lan:infra/fleet.git\nops@example.org\nhttps://intranet.example/dump.zip\n\n\n",
        )
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&asked.get_output().stderr).contains("Mail findings to [none]: "));
    for dir in ["by-flags", "asked"] {
        let dir = tmp.path().join(dir);
        let config = read(&dir.join("parc.toml"));
        for line in [
            "name = \"pve1\"",
            "name = \"pve2\"",
            "to = [\"ops@example.org\"]",
            "expect = \"dump.sql\"",
            "destination = \"/srv/archives\"",
        ] {
            assert!(config.contains(line), "{dir:?}: {line}");
        }
        assert_eq!(git(&dir, &["remote", "get-url", "origin"]), "git@git.lan:infra/fleet.git\n");
        parc().current_dir(&dir).args(["check"]).assert().success();
    }
    // Plain http is refused by the configuration: nothing is written.
    let bad = parc()
        .current_dir(tmp.path())
        .args([
            "init",
            "bad",
            "--archive-url",
            "http://x/d.zip",
            "--archive-expect",
            "d",
            "--archive-destination",
            "/srv",
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1), "{}", String::from_utf8_lossy(&bad.stderr));
    assert!(!tmp.path().join("bad").exists());
}

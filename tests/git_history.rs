//! The git history source, on a real repository cloned from a bare remote.

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::Path;

fn snapshot(at: &str, os: &str) -> Value {
    let mut s = system("alpha", at);
    s["probes"]["os-release"]["out"] = json!(format!("PRETTY_NAME=\"{os}\"\nID=debian\n"));
    s
}

fn commit(repo: &Path, host: &str, value: &Value, message: &str) {
    let path = repo.join("snapshots").join(host).join("system.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", message]);
}

/// (time, os) of every version of alpha's `system` kind, oldest first.
fn versions(site: &Path) -> Vec<(String, String)> {
    let host = read_json(&site.join("api/v1/hosts/alpha.json"));
    host["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["at"].as_i64().unwrap().to_string(), t["os"].as_str().unwrap_or("").to_string()))
        .collect()
}

#[test]
fn every_commit_is_a_version_and_the_working_tree_wins() {
    let tmp = tempfile::tempdir().unwrap();
    let (remote, repo) = (tmp.path().join("remote.git"), tmp.path().join("work"));
    git(tmp.path(), &["init", "-q", "--bare", remote.to_str().unwrap()]);
    git(tmp.path(), &["clone", "-q", remote.to_str().unwrap(), repo.to_str().unwrap()]);

    commit(&repo, "alpha", &snapshot("2026-11-01T03:00:00+01:00", "Debian 11"), "day 1");
    commit(&repo, "alpha", &snapshot("2026-11-02T03:00:00+01:00", "Debian 11"), "day 2");
    // Another host's commit leaves alpha's blob alone: no new version of alpha.
    commit(&repo, "beta", &system("beta", "2026-11-02T03:00:00+01:00"), "beta");
    // Day 2 collected again with other content: the newer commit wins.
    commit(&repo, "alpha", &snapshot("2026-11-02T03:00:00+01:00", "Debian 12 (newer commit)"), "day 2 again");
    commit(&repo, "alpha", &snapshot("2026-11-03T03:00:00+01:00", "Debian 12"), "day 3");
    // Back to day 1's exact bytes: the same version, read once.
    commit(&repo, "alpha", &snapshot("2026-11-01T03:00:00+01:00", "Debian 11"), "day 1 restored");
    commit(&repo, "alpha", &snapshot("2026-11-04T03:00:00+01:00", "Debian 12"), "day 4");
    git(&repo, &["push", "-q", "origin", "HEAD"]);

    // A fresh clone of the remote sees the whole history.
    let clone = tmp.path().join("ci");
    git(tmp.path(), &["clone", "-q", remote.to_str().unwrap(), clone.to_str().unwrap()]);
    // Uncommitted: day 4 again, changed in the working tree, which wins.
    let path = clone.join("snapshots/alpha/system.json");
    std::fs::write(
        &path,
        serde_json::to_vec(&snapshot("2026-11-04T03:00:00+01:00", "Debian 12 (working tree)")).unwrap(),
    )
    .unwrap();

    let site = tmp.path().join("site");
    parc().current_dir(&clone).args(["build", "--snapshots", "snapshots", "--out"]).arg(&site).assert().success();
    let day = |d: i64| (1_793_498_400 + (d - 1) * 86_400).to_string();
    assert_eq!(
        versions(&site),
        [
            (day(1), "Debian 11".into()),
            (day(2), "Debian 12 (newer commit)".into()),
            (day(3), "Debian 12".into()),
            (day(4), "Debian 12 (working tree)".into()),
        ]
    );
    let hosts = read_json(&site.join("api/v1/hosts.json"));
    assert_eq!(hosts.as_array().unwrap().len(), 2);
    assert_eq!(read_json(&site.join("api/v1/problems.json")), json!([]));

    // A new commit changes HEAD: the next build is not skipped and sees it.
    std::fs::write(&path, serde_json::to_vec_pretty(&snapshot("2026-11-05T03:00:00+01:00", "Debian 13")).unwrap())
        .unwrap();
    git(&clone, &["add", "-A"]);
    git(&clone, &["commit", "-q", "-m", "day 5"]);
    parc().current_dir(&clone).args(["build", "--snapshots", "snapshots", "--out"]).arg(&site).assert().success();
    let after = versions(&site);
    assert_eq!(after.len(), 5, "{after:?}");
    assert_eq!(after[3].1, "Debian 12", "day 4's working tree change was never committed; the commit's version stands");
    assert_eq!(after[4], (day(5), "Debian 13".into()));
}

/// CI's shallow checkout: without history, parc says what is missing and
/// the fix; with the cache of the previous build and a depth that holds its
/// commit, the site is a full clone's; deepened, the problem is gone.
#[test]
fn a_shallow_clone_is_said_and_a_kept_cache_carries_the_history() {
    let tmp = tempfile::tempdir().unwrap();
    let (remote, work) = (tmp.path().join("remote.git"), tmp.path().join("work"));
    git(tmp.path(), &["init", "-q", "--bare", remote.to_str().unwrap()]);
    git(tmp.path(), &["clone", "-q", remote.to_str().unwrap(), work.to_str().unwrap()]);
    for day in 1..=3 {
        commit(&work, "alpha", &snapshot(&format!("2026-11-0{day}T03:00:00Z"), &format!("Debian {day}")), "day");
    }
    git(&work, &["push", "-q", "origin", "HEAD"]);
    let url = format!("file://{}", remote.display());
    let ci = tmp.path().join("ci");
    let build = |dir: &Path, flags: &[&str]| {
        let out = parc().current_dir(dir).args(["build"]).args(flags).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let clone = |depth: &str| {
        let kept = tmp.path().join("kept-cache");
        if ci.join(".parc-cache").exists() {
            std::fs::rename(ci.join(".parc-cache"), &kept).unwrap();
        }
        let _ = std::fs::remove_dir_all(&ci);
        git(tmp.path(), &["clone", "-q", "--depth", depth, &url, ci.to_str().unwrap()]);
        if kept.exists() {
            std::fs::rename(&kept, ci.join(".parc-cache")).unwrap();
        }
    };
    git(tmp.path(), &["clone", "-q", &url, tmp.path().join("full").to_str().unwrap()]);
    build(&tmp.path().join("full"), &[]);
    let full = versions(&tmp.path().join("full/site"));
    assert_eq!(full.len(), 3);

    // Shallow, no cache: said, with the fix; --strict fails.
    clone("1");
    let (code, said) = build(&ci, &[]);
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("a shallow clone: the history before 2026-") && said.contains("fetch-depth: 0"), "{said}");
    assert_eq!(versions(&ci.join("site")).len(), 1, "what a shallow clone holds");
    assert_eq!(build(&ci, &["--strict"]).0, Some(3));

    // The CI of the README: the whole history once, then the cache kept and a
    // new commit a day, fetched with a depth that holds the previous one.
    let _ = std::fs::remove_dir_all(&ci);
    git(tmp.path(), &["clone", "-q", &url, ci.to_str().unwrap()]);
    assert!(!build(&ci, &[]).1.contains("shallow"));
    commit(&work, "alpha", &snapshot("2026-11-04T03:00:00Z", "Debian 4"), "day 4");
    git(&work, &["push", "-q", "origin", "HEAD"]);
    clone("2");
    let (_, said) = build(&ci, &[]);
    assert!(!said.contains("shallow"), "{said}");
    git(&tmp.path().join("full"), &["pull", "-q"]);
    build(&tmp.path().join("full"), &[]);
    assert_eq!(versions(&ci.join("site")), versions(&tmp.path().join("full/site")), "the same site as a full clone");

    // Deepened: the whole history, and no problem.
    clone("1");
    let _ = std::fs::remove_dir_all(ci.join(".parc-cache"));
    assert!(build(&ci, &[]).1.contains("shallow"));
    git(&ci, &["fetch", "-q", "--unshallow"]);
    let (_, said) = build(&ci, &[]);
    assert!(!said.contains("shallow"), "{said}");
    assert_eq!(versions(&ci.join("site")).len(), 4);
}

/// A dated file is one snapshot: the folder says which there are. One
/// deleted and committed is gone from the site, though the history has it;
/// the `<host>/<kind>.json` file beside it keeps every committed version.
#[test]
fn a_dated_file_deleted_is_a_snapshot_taken_away() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("work");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    let dated = |day: u32| repo.join(format!("snapshots/alpha/system/2026-11-0{day}T020000Z.json"));
    std::fs::create_dir_all(dated(1).parent().unwrap()).unwrap();
    for day in 1..=3 {
        let value = snapshot(&format!("2026-11-0{day}T03:00:00+01:00"), &format!("Debian dated {day}"));
        std::fs::write(dated(day), serde_json::to_vec(&value).unwrap()).unwrap();
    }
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "three dated"]);
    std::fs::remove_file(dated(2)).unwrap();
    git(&repo, &["commit", "-q", "-am", "day 2 was wrong"]);
    commit(&repo, "alpha", &snapshot("2026-11-04T03:00:00+01:00", "Debian stable path"), "day 4");
    commit(&repo, "alpha", &snapshot("2026-11-05T03:00:00+01:00", "Debian stable path"), "day 5");

    let site = tmp.path().join("site");
    parc().current_dir(&repo).args(["build", "--snapshots", "snapshots", "--out"]).arg(&site).assert().success();
    let os: Vec<String> = versions(&site).into_iter().map(|(_, os)| os).collect();
    assert_eq!(os, ["Debian dated 1", "Debian dated 3", "Debian stable path", "Debian stable path"]);
}

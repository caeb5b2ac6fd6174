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

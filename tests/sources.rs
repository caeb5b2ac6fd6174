//! Several repositories into one site (`[[build.source]]`): each walked on
//! its own with a cache of its own, hosts of one name in two sources kept
//! apart, a disk that moves between sources one disk with a move, and a
//! source that cannot be read an error that names it.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;

/// Commits `snapshot` as `snapshots/<host>/<kind>.json` in `repo`, the way agents do.
fn commit(repo: &Path, host: &str, snapshot: &Value) {
    let kind = snapshot["kind"].as_str().unwrap();
    let path = repo.join("snapshots").join(host).join(format!("{kind}.json"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, serde_json::to_vec(snapshot).unwrap()).unwrap();
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", &format!("parc collect: {host}")]);
}

fn repository(dir: &Path) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    git(dir, &["init", "-q"]);
    dir.to_path_buf()
}

#[test]
fn two_live_repositories_and_a_frozen_one_build_into_one_site() {
    let tmp = tempfile::tempdir().unwrap();
    let wd = corpus_json("smartctl/scrutiny-smart-ata.json");
    let paris = repository(&tmp.path().join("paris"));
    let lyon = repository(&tmp.path().join("lyon"));
    // The disk is in paris' web1 on the first two days, then in lyon's db1.
    for (day, at) in [(1, "2026-11-01T03:00:00Z"), (2, "2026-11-02T03:00:00Z"), (3, "2026-11-03T03:00:00Z")] {
        for host in ["pve1", "web1"] {
            commit(&paris, host, &system(host, at));
            let drives = if host == "web1" && day < 3 { vec![("sda", wd.clone())] } else { Vec::new() };
            commit(&paris, host, &disks(host, at, &drives, ""));
        }
        for host in ["pve1", "db1"] {
            commit(&lyon, host, &system(host, at));
            let drives = if host == "db1" && day == 3 { vec![("sdb", wd.clone())] } else { Vec::new() };
            commit(&lyon, host, &disks(host, at, &drives, ""));
        }
    }
    // Last year's fleet, done: dated files in a plain folder.
    let frozen = tmp.path().join("2025/snapshots");
    write_dated(&frozen, "old1", &system("old1", "2025-12-30T03:00:00Z"));

    let site = tmp.path().join("site");
    let config = "[[build.source]]\nname = \"paris\"\npath = \"paris/snapshots\"\n\n\
                  [[build.source]]\nname = \"lyon\"\npath = \"lyon/snapshots\"\n\n\
                  [[build.source]]\nname = \"y2025\"\npath = \"2025/snapshots\"\n";
    std::fs::write(tmp.path().join("parc.toml"), config).unwrap();
    let build = || parc().current_dir(tmp.path()).args(["build", "--out"]).arg(&site).assert().success();
    build();
    let hosts = read_json(&site.join("api/v1/hosts.json"));
    let mut names: Vec<(String, String)> = (hosts.as_array().unwrap().iter())
        .map(|h| (h["name"].as_str().unwrap().to_string(), h["source"].as_str().unwrap_or("").to_string()))
        .collect();
    names.sort();
    let expected = [
        ("lyon/db1", "lyon"),
        ("lyon/pve1", "lyon"),
        ("paris/pve1", "paris"),
        ("paris/web1", "paris"),
        ("y2025/old1", "y2025"),
    ];
    assert_eq!(names, expected.map(|(n, s)| (n.to_string(), s.to_string())));
    let lyon_pve1 = hosts.as_array().unwrap().iter().find(|h| h["name"] == "lyon/pve1").unwrap();
    let page = read(&site.join(lyon_pve1["page"].as_str().unwrap()));
    assert!(page.contains("<dd id=\"host-source\">lyon</dd>"), "{page}");
    // One disk, moved from one source's host to another's.
    let disks = read_json(&site.join("api/v1/disks.json"));
    let wd_disks: Vec<&Value> =
        disks.as_array().unwrap().iter().filter(|d| d["serial"] == wd["serial_number"]).collect();
    assert_eq!(wd_disks.len(), 1, "{disks}");
    let moves = read_json(&site.join("api/v1/moves.json"));
    let moved = moves.as_array().unwrap();
    assert_eq!(moved.len(), 1, "{moves}");
    assert_eq!((moved[0]["from"].as_str(), moved[0]["to"].as_str()), (Some("paris/web1"), Some("lyon/db1")), "{moves}");
    // Each source walked with a cache of its own.
    let caches = std::fs::read_dir(tmp.path().join(".parc-cache")).unwrap().count();
    assert_eq!(caches, 3);

    // A new day in one source: that one walked again, the site as a build from scratch makes it.
    commit(&lyon, "db1", &system("db1", "2026-11-04T03:00:00Z"));
    build();
    let fresh = tmp.path().join("fresh");
    parc().current_dir(tmp.path()).args(["build", "--no-cache", "--out"]).arg(&fresh).assert().success();
    assert_same_site(&site, &fresh, "a new day in one of three sources");
}

#[test]
fn a_source_that_cannot_be_read_is_an_error_that_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    let paris = repository(&tmp.path().join("paris"));
    commit(&paris, "pve1", &system("pve1", "2026-11-01T03:00:00Z"));
    let config = "[[build.source]]\nname = \"paris\"\npath = \"paris/snapshots\"\n\n\
                  [[build.source]]\nname = \"lyon\"\npath = \"lyon/snapshots\"\n";
    std::fs::write(tmp.path().join("parc.toml"), config).unwrap();
    let run = parc().current_dir(tmp.path()).args(["build", "--out", "site"]).assert().code(1);
    let said = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
    assert!(said.contains("source lyon") && said.contains("lyon/snapshots"), "{said}");
    assert!(!tmp.path().join("site/api/v1/hosts.json").exists(), "no site of the other source alone");
    // Two sources of one name are a configuration error.
    std::fs::write(tmp.path().join("parc.toml"), config.replace("lyon", "paris")).unwrap();
    let run = parc().current_dir(tmp.path()).args(["build", "--out", "site"]).assert().code(1);
    let said = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
    assert!(said.contains("two build.source entries are named paris"), "{said}");
}

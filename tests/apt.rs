//! The `apt` kind through the whole build: statuses and profile checks,
//! the APT diff in both layouts, and bad input.

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::Path;

const SIM_EMPTY: &str = "Reading package lists...\nCalculating upgrade...\n0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n";

/// An `apt` snapshot from its probes' outputs.
fn apt(host: &str, at: &str, sim: &str, dpkg: &str, sources: &str) -> Value {
    let sources = format!("==> /etc/apt/sources.list <==\n{sources}\n");
    envelope(
        "apt",
        host,
        at,
        json!({
            "apt-sim-upgrade": probe(json!(sim)),
            "apt-sim-dist-upgrade": probe(json!(sim)),
            "apt-showhold": probe(json!("")),
            "reboot-required": probe(json!("")),
            "dpkg-query": probe(json!(dpkg)),
            "apt-sources": probe(json!(sources)),
        }),
    )
}

fn hosts_by_name(site: &Path) -> std::collections::BTreeMap<String, Value> {
    let hosts = read_json(&site.join("api/v1/apt/hosts.json"));
    hosts.as_array().unwrap().iter().map(|h| (h.as_str_field("host"), h.clone())).collect()
}

trait Field {
    fn as_str_field(&self, key: &str) -> String;
    fn codes(&self) -> Vec<String>;
}

impl Field for Value {
    fn as_str_field(&self, key: &str) -> String {
        self[key].as_str().unwrap_or_default().to_string()
    }
    fn codes(&self) -> Vec<String> {
        self["reasons"].as_array().unwrap().iter().map(|r| r.as_str_field("code")).collect()
    }
}

#[test]
fn the_example_fleet_shows_every_situation_it_was_made_for() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    let snapshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    build_cmd(&snapshots, &site, &["--no-cache"]).current_dir(tmp.path()).assert().success();
    let hosts = hosts_by_name(&site);
    let has = |host: &str, code: &str| hosts[host].codes().iter().any(|c| c == code);
    assert_eq!(hosts["pve2"]["status"], "error");
    assert!(has("pve2", "apt_update_failed") && has("pve2", "pve_enterprise_without_subscription"));
    assert_eq!(
        (hosts["pve1"]["status"].as_str(), hosts["pve1"]["profile"].as_str()),
        (Some("updates"), Some("proxmox"))
    );
    assert!(hosts["pve1"]["security"].as_u64().unwrap() > 0, "pending security updates");
    assert!(has("db1", "apt_foreign_release"), "bookworm sources on a bullseye host");
    assert!(has("pi-garage", "rpi_boot_full") && hosts["pi-garage"]["profile"] == "raspbian");
    assert!(has("ws-marc", "apt_held") && hosts["ws-marc"]["profile"] == "ubuntu");
    assert!(has("files", "apt_kept_back") && hosts["files"]["reboot_required"] == true);
    assert_eq!(hosts["files"]["reboot_suspect"], false);
    assert_eq!(
        (hosts["vm-web1"]["reboot_required"].as_bool(), hosts["vm-web1"]["reboot_suspect"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(hosts["ws-anna"]["status"], "ok", "upgraded, rebooted");
    let changes = read_json(&site.join("api/v1/apt/changes.json"));
    let of = |host: &str, change: &str| {
        changes.as_array().unwrap().iter().filter(|c| c["host"] == host && c["change"] == change).count()
    };
    assert_eq!(of("ws-anna", "removed"), 1, "the upgrade removed linux-perf");
    assert!(of("ws-anna", "upgraded") > 100 && of("db1", "upgraded") > 100);
    assert_eq!(of("pve1", "upgraded") + of("pve1", "installed"), 0, "the first inventory is a baseline");
    // db1's upgrade passed openssl over: it was pending before, still at its version after.
    assert!(read(&site.join("apt/db1.html")).contains("Upgrades passed over"));
    // The package index knows which host runs which version of openssl.
    let packages = read_json(&site.join("api/v1/apt/packages.json"));
    let openssl = packages.as_array().unwrap().iter().find(|p| p["package"] == "openssl").unwrap();
    assert!(openssl["versions"].as_array().unwrap().len() >= 2, "{openssl}");
    assert!(read(&site.join("apt/packages.html")).contains("package-filter"));
}

#[test]
fn every_status_and_profile_check() {
    let tmp = tempfile::tempdir().unwrap();
    let snaps = tmp.path().join("snapshots");
    let at = "2026-11-01T03:00:00+01:00";
    let dpkg = "base-files\t12.4\tamd64\tii \nopenssl\t3.0.1\tamd64\tii \n";
    let debian = "deb http://deb.debian.org/debian bookworm main contrib\n";
    let sim = "Inst openssl [3.0.1] (3.0.2 Debian-Security:12/stable-security [amd64])\n1 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n";
    let removes = "Remv libold [1.0]\nInst openssl [3.0.1] (3.0.2 Debian:12/stable [amd64])\n1 upgraded, 0 newly installed, 1 to remove and 0 not upgraded.\n";
    let failed = "W: Not using locking for read only lock file /var/lib/dpkg/lock-frontend\nE: Could not get lock /var/lib/dpkg/lock-frontend\n";
    for (host, sim, sources) in [
        ("clean", SIM_EMPTY, "deb http://deb.debian.org/debian bookworm main non-free-firmware\n"),
        ("no-firmware", SIM_EMPTY, debian),
        ("security", sim, "deb http://deb.debian.org/debian bookworm main non-free-firmware\n"),
        ("removes", removes, "deb http://deb.debian.org/debian bookworm main non-free-firmware\n"),
        ("locked", failed, "deb http://deb.debian.org/debian bookworm main non-free-firmware\n"),
        ("pve-none", SIM_EMPTY, "deb http://deb.debian.org/debian bookworm main\ndeb http://download.proxmox.com/debian/ceph-quincy bookworm no-subscription\n"),
    ] {
        write_dated(&snaps, host, &system(host, at));
        write_dated(&snaps, host, &apt(host, at, sim, dpkg, sources));
    }
    // A host without apt: said once, not an error.
    write_dated(&snaps, "alpine", &system("alpine", at));
    write_dated(
        &snaps,
        "alpine",
        &envelope("apt", "alpine", at, json!({"apt-absent": probe(json!("apt-get not found\n"))})),
    );
    let site = tmp.path().join("site");
    build_cmd(&snaps, &site, &["--strict"]).assert().success();
    let hosts = hosts_by_name(&site);
    assert!(!hosts.contains_key("alpine"), "not an APT host");
    assert_eq!(hosts["clean"]["status"], "ok");
    assert_eq!(
        (hosts["no-firmware"]["status"].as_str(), hosts["no-firmware"].codes()),
        (Some("warning"), vec!["debian_no_non_free_firmware".to_string()])
    );
    assert_eq!(
        (hosts["security"]["status"].as_str(), hosts["security"]["security"].as_u64()),
        (Some("updates"), Some(1))
    );
    assert_eq!(
        (hosts["removes"]["status"].as_str(), hosts["removes"]["removals"].as_u64()),
        (Some("warning"), Some(1))
    );
    assert_eq!(hosts["locked"]["status"], "error");
    let text = hosts["locked"]["reasons"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("Could not get lock") && text.contains("Not using locking"),
        "apt's own lines are shown: {text}"
    );
    assert_eq!(
        (hosts["pve-none"]["profile"].as_str(), hosts["pve-none"].codes()[0].as_str()),
        (Some("proxmox"), "pve_no_repository")
    );
}

#[test]
fn package_changes_are_the_same_from_dated_files_and_from_git_history() {
    let tmp = tempfile::tempdir().unwrap();
    let days = [
        ("2026-11-01T03:00:00+01:00", "a\t1.0\tamd64\tii \nb\t2.0\tamd64\tii \nc\t1\tamd64\tii \n"),
        ("2026-11-02T03:00:00+01:00", "a\t1.1\tamd64\tii \nb\t2.0\tamd64\tii \nc\t1\tamd64\trc \nd\t4\tamd64\tii \n"),
        ("2026-11-03T03:00:00+01:00", "a\t1.1\tamd64\tii \nb\t1.9\tamd64\tii \nd\t4\tamd64\tii \n"),
    ];
    let sources = "deb http://deb.debian.org/debian bookworm main non-free-firmware\n";
    let dated = tmp.path().join("dated/snapshots");
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(repo.join("snapshots/h")).unwrap();
    git(&repo, &["init", "-q"]);
    for (at, dpkg) in days {
        let snapshot = apt("h", at, SIM_EMPTY, dpkg, sources);
        write_dated(&dated, "h", &snapshot);
        std::fs::write(repo.join("snapshots/h/apt.json"), serde_json::to_vec(&snapshot).unwrap()).unwrap();
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", at]);
    }
    let (site_a, site_b) = (tmp.path().join("site-a"), tmp.path().join("site-b"));
    build_cmd(&dated, &site_a, &["--strict"]).assert().success();
    build_cmd(&repo.join("snapshots"), &site_b, &["--strict"]).assert().success();
    let a = read_json(&site_a.join("api/v1/apt/changes.json"));
    assert_eq!(a, read_json(&site_b.join("api/v1/apt/changes.json")));
    let got: Vec<(String, String)> =
        a.as_array().unwrap().iter().map(|c| (c.as_str_field("package"), c.as_str_field("change"))).collect();
    let expected = [("b", "downgraded"), ("c", "purged"), ("a", "upgraded"), ("c", "removed"), ("d", "installed")];
    assert_eq!(got, expected.map(|(p, c)| (p.to_string(), c.to_string())), "newest first");
}

#[test]
fn bad_apt_output_is_a_problem_with_its_path_never_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    let snaps = tmp.path().join("snapshots");
    let at = "2026-11-01T03:00:00+01:00";
    let cut = "Inst openssl [3.0.1] (3.0.2 Debian-Security:12/stable-secu";
    let dpkg = "a\t1.0\tamd64\tii \nonly-a-name\nb\t2.0\tamd64\tii \n";
    write_dated(&snaps, "h", &apt("h", at, cut, dpkg, ""));
    let binary = snaps.join("h/apt/2026-11-02T030000+0100.json");
    std::fs::write(&binary, [0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0xff, 0xfe]).unwrap();
    let run = build_cmd(&snaps, &tmp.path().join("site"), &[]).assert().success();
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    let line = |needle: &str| {
        stderr.lines().find(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle}:\n{stderr}")).to_string()
    };
    assert!(line("action line(s) cut or unreadable").contains("h/apt/2026-11-01T030000+0100.json"));
    assert!(line("without name, version and architecture").contains("line 2"));
    assert!(
        line("2026-11-02T030000+0100.json").contains("invalid JSON")
            || line("2026-11-02T030000+0100.json").contains("not a parc snapshot")
    );
    let hosts = hosts_by_name(&tmp.path().join("site"));
    assert_eq!(hosts["h"]["status"], "ok", "the readable rest is used");
}

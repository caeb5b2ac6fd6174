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
    assert_eq!(hosts["pve-none"]["profile"], "proxmox");
    assert!(hosts["pve-none"].codes().contains(&"pve_no_repository".to_string()));
}

/// The checks of the fleet updater parc grew from: Debian suites that carry
/// different components, a Proxmox host without proxmox-ve or its kernel,
/// ubuntu-drivers' advice, and the room the pending upgrades need.
#[test]
fn the_updaters_profile_checks_and_the_room_upgrades_need() {
    let tmp = tempfile::tempdir().unwrap();
    let snaps = tmp.path().join("snapshots");
    let at = "2026-11-01T03:00:00Z";
    let dpkg = "base-files\t12.4\tamd64\tii \n";
    let full = "deb http://deb.debian.org/debian bookworm main contrib non-free non-free-firmware\n";
    let uneven = format!("{full}deb http://security.debian.org/debian-security bookworm-security main non-free-firmware\ndeb http://deb.debian.org/debian bookworm-backports main\n");
    let pve = format!("{full}deb http://security.debian.org/debian-security bookworm-security main contrib non-free non-free-firmware\ndeb http://download.proxmox.com/debian/pve bookworm pve-no-subscription\n");
    let pve_whole = "base-files\t12.4\tamd64\tii \nproxmox-ve\t8.0.2\tall\tii \n";
    let hosts = [
        ("uneven", uneven.as_str(), dpkg, None),
        ("pve-debian-kernel", pve.as_str(), dpkg, None),
        ("pve-whole", pve.as_str(), pve_whole, Some("Linux 6.2.16-3-pve #1 SMP PREEMPT_DYNAMIC PVE 6.2.16-3 x86_64\n")),
    ];
    for (host, sources, dpkg, uname) in hosts {
        let mut system = system(host, at);
        if let Some(uname) = uname {
            system["probes"]["uname"] = probe(json!(uname));
        }
        write_dated(&snaps, host, &system);
        write_dated(&snaps, host, &apt(host, at, SIM_EMPTY, dpkg, sources));
    }
    // Ubuntu: the real ubuntu-drivers output recommends nvidia-driver-450-server.
    let ubuntu = |host: &str, installed: &str| {
        let mut system = system(host, at);
        system["probes"]["os-release"] =
            probe(json!("NAME=\"Ubuntu\"\nID=ubuntu\nVERSION_ID=\"20.04\"\nVERSION_CODENAME=focal\n"));
        let mut apt =
            apt(host, at, SIM_EMPTY, installed, "deb http://archive.ubuntu.com/ubuntu focal main restricted\n");
        apt["probes"]["ubuntu-drivers"] = probe(json!(corpus("apt/ubuntu-drivers-devices-nvidia.txt")));
        write_dated(&snaps, host, &system);
        write_dated(&snaps, host, &apt);
    };
    ubuntu("ubuntu-advised", "nvidia-driver-450\t450.80.02-0ubuntu1\tamd64\tii \n");
    ubuntu("ubuntu-done", "nvidia-driver-450-server\t450.80.02-0ubuntu1\tamd64\tii \n");
    // Room: 302,380 bytes to download (the real listing) on a / with 200,000 free;
    // a kernel to fetch and a /boot/firmware with 1 MB free.
    let room = |host: &str, uris: &str, df: &str| {
        write_dated(&snaps, host, &system(host, at));
        let mut apt = apt(host, at, SIM_EMPTY, dpkg, full);
        apt["probes"]["apt-print-uris"] = probe(json!(uris));
        apt["probes"]["apt-sim-autoremove"] = probe(json!(corpus("apt/debian12-sim-autoremove.txt")));
        apt["probes"]["apt-archives"] = probe(json!("83412992\t/var/cache/apt/archives\n"));
        write_dated(&snaps, host, &apt);
        let mut disks = disks(host, at, &[], "");
        disks["probes"]["df"] = probe(json!(format!("Filesystem Type Mounted on 1B-blocks Used Avail\n{df}")));
        write_dated(&snaps, host, &disks);
    };
    let real = corpus("apt/debian12-print-uris-dist-upgrade.txt");
    room("tight-root", &real, "/dev/sda1 ext4 / 10000000 9800000 200000\n");
    room("roomy-root", &real, "/dev/sda1 ext4 / 10000000000 1000000000 9000000000\n");
    let kernel = format!("{real}'http://deb.debian.org/debian/pool/main/l/linux-signed-arm64/linux-image-6.1.0-27-arm64_6.1.115-1_arm64.deb' linux-image-6.1.0-27-arm64_6.1.115-1_arm64.deb 69219384 SHA256:ab\n");
    room("tight-boot", &kernel, "/dev/sda2 ext4 / 10000000000 1000000000 9000000000\n/dev/sda1 vfat /boot/firmware 536870912 535822336 1048576\n");

    let site = tmp.path().join("site");
    build_cmd(&snaps, &site, &[]).assert().success();
    let hosts = hosts_by_name(&site);
    let reason =
        |host: &str, code: &str| hosts[host]["reasons"].as_array().unwrap().iter().find(|r| r["code"] == code).cloned();
    let uneven = reason("uneven", "debian_components_uneven").expect("bookworm-security lacks contrib and non-free");
    assert_eq!(uneven["values"], json!({"suites": ["bookworm-security"], "components": ["contrib", "non-free"]}));
    assert!(uneven["text"].as_str().unwrap().contains("bookworm-security lacks contrib, non-free"), "{uneven}");
    assert_eq!(reason("tight-root", "debian_components_uneven"), None, "one suite: nothing to compare");

    assert!(reason("pve-debian-kernel", "pve_meta_package_missing").is_some());
    let kernel = reason("pve-debian-kernel", "pve_kernel_not_running").unwrap();
    assert_eq!(kernel["values"]["kernel"], "6.1.0-27-amd64");
    assert_eq!(hosts["pve-whole"].codes(), Vec::<String>::new(), "proxmox-ve installed, a -pve kernel running");

    let advised = reason("ubuntu-advised", "ubuntu_driver_recommended").unwrap();
    assert_eq!(
        advised["values"],
        json!({"package": "nvidia-driver-450-server", "device": "GK106 [GeForce GTX 650 Ti]"})
    );
    assert_eq!(reason("ubuntu-done", "ubuntu_driver_recommended"), None);

    let short = reason("tight-root", "apt_space_short").expect("302 kB to fetch, 200 kB free");
    assert_eq!(short["values"], json!({"mount": "/", "needed": 302380, "free": 200000}));
    assert_eq!(reason("roomy-root", "apt_space_short"), None);
    let boot = reason("tight-boot", "apt_space_short").expect("a 69 MB kernel, 1 MB free on /boot/firmware");
    assert_eq!(boot["values"]["mount"], "/boot/firmware");
    assert_eq!(hosts["tight-root"]["download_bytes"], 302380);
    assert_eq!(hosts["tight-root"]["disk_change_bytes"], 0);
    assert_eq!(hosts["tight-root"]["autoremove"], json!(["parc-lib"]));
    assert_eq!(hosts["tight-root"]["archives_bytes"], 83412992);
    let page = read(&site.join(hosts["tight-root"]["page"].as_str().unwrap()));
    assert!(page.contains("<dd id=\"apt-autoremove\">would remove parc-lib</dd>"), "{page}");
    assert!(page.contains("<dd id=\"apt-download\">302.38 kB for a dist-upgrade, 0 B more on disk</dd>"), "{page}");
    assert!(page.contains("<dd id=\"apt-archives\">83.41 MB in /var/cache/apt/archives"), "{page}");
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

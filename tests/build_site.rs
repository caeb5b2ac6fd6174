//! `parc build` on small fixture fleets, checked by file contents and insta snapshots.

mod common;

use common::*;
use serde_json::json;
use std::path::Path;

const DAY1: &str = "2026-11-01T03:00:00+01:00";
const DAY2: &str = "2026-11-02T03:00:00+01:00";
const DAY3: &str = "2026-11-03T03:00:00+01:00";
const DAY4: &str = "2026-11-04T03:00:00+01:00";

/// Two hosts; a WD disk goes alpha → beta → alpha; a megaraid disk's
/// reallocated count grows under beta's /home; homes on both.
fn fixture(dir: &Path) {
    let wd = |n| drive("scrutiny-smart-ata.json", "WD-MOVER", n);
    let evo = drive("scrutiny-smart-ata-full.json", "S3YZ-ROOT-A", None);
    let grower = |n| drive("scrutiny-smart-megaraid1.json", "WD-GROWS", Some(n));
    for (day, wd_host) in [(DAY1, "alpha"), (DAY2, "beta"), (DAY3, "alpha")] {
        let (alpha, beta) = if wd_host == "alpha" {
            (vec![("sda", evo.clone()), ("sdb", wd(None))], vec![("sda", grower(if day == DAY3 { 12 } else { 10 }))])
        } else {
            (vec![("sda", evo.clone())], vec![("sda", grower(10)), ("sdb", wd(None))])
        };
        write_dated(dir, "alpha", &disks("alpha", day, &alpha, "5000\t/home/ann\n"));
        write_dated(
            dir,
            "beta",
            &disks("beta", day, &beta, "20001024\t/home/alice\n5001024\t/home/bob\n12288\t/home/lost+found\n"),
        );
        write_dated(dir, "alpha", &system("alpha", day));
    }
}

fn build(snapshots: &Path, out: &Path) -> assert_cmd::assert::Assert {
    build_cmd(snapshots, out, &[]).assert()
}

#[test]
fn builds_every_page_and_endpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let (snaps, out) = (tmp.path().join("snapshots"), tmp.path().join("site"));
    fixture(&snaps);
    build(&snaps, &out).success();
    for page in [
        "index.html",
        "hosts/index.html",
        "hosts/alpha.html",
        "hosts/beta.html",
        "disks/index.html",
        "moves.html",
        "risk.html",
        "backup.html",
        "problems.html",
        "style.css",
        "llms.txt",
    ] {
        assert!(out.join(page).is_file(), "missing {page}");
    }
    for endpoint in ["summary", "hosts", "disks", "moves", "at-risk", "backup-needed", "problems", "index"] {
        read_json(&out.join(format!("api/v1/{endpoint}.json")));
    }
    let index = read_json(&out.join("api/v1/index.json"));
    for endpoint in index["endpoints"].as_array().unwrap() {
        let path = out.join("api/v1").join(endpoint["path"].as_str().unwrap());
        read_json(&path);
        assert!(out.join("api/v1").join(endpoint["schema"].as_str().unwrap()).is_file());
    }
    // Every page carries the newest snapshot's time, not the build's clock.
    assert!(read(&out.join("index.html")).contains("2026-11-03 02:00 UTC"));
}

#[test]
fn a_b_a_is_two_moves() {
    let tmp = tempfile::tempdir().unwrap();
    let (snaps, out) = (tmp.path().join("snapshots"), tmp.path().join("site"));
    fixture(&snaps);
    build(&snaps, &out).success();
    let moves = read_json(&out.join("api/v1/moves.json"));
    let hops: Vec<(&str, &str)> =
        moves.as_array().unwrap().iter().map(|m| (m["from"].as_str().unwrap(), m["to"].as_str().unwrap())).collect();
    assert_eq!(hops, [("beta", "alpha"), ("alpha", "beta")], "newest first");
    insta::assert_json_snapshot!("moves", moves);
    // Each disk's file lists its own moves, newest first, and no other disk's.
    for disk in read_json(&out.join("api/v1/disks.json")).as_array().unwrap() {
        let own = read_json(&out.join("api/v1").join(disk["api"].as_str().unwrap()));
        let expected: Vec<&serde_json::Value> =
            moves.as_array().unwrap().iter().filter(|m| m["disk"] == disk["id"]).collect();
        assert_eq!(own["moves"].as_array().unwrap().iter().collect::<Vec<_>>(), expected, "{}", disk["id"]);
    }
}

#[test]
fn risk_and_backups_follow_the_disk_under_home() {
    let tmp = tempfile::tempdir().unwrap();
    let (snaps, out) = (tmp.path().join("snapshots"), tmp.path().join("site"));
    fixture(&snaps);
    build(&snaps, &out).success();
    let at_risk = read_json(&out.join("api/v1/at-risk.json"));
    insta::assert_json_snapshot!("at-risk", at_risk);
    let codes: Vec<&str> =
        at_risk[0]["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"grew"), "10 → 12 reallocated is growth: {codes:?}");
    let backup = read_json(&out.join("api/v1/backup-needed.json"));
    let homes: Vec<(&str, &str, u64)> = backup
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["host"].as_str().unwrap(), b["user"].as_str().unwrap(), b["bytes"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        homes,
        [("beta", "alice", 20001024), ("beta", "bob", 5001024)],
        "largest first, lost+found left out, alpha's disks are fine"
    );
    insta::assert_json_snapshot!("summary", read_json(&out.join("api/v1/summary.json")));
}

#[test]
fn two_disks_with_the_same_masked_serial_stay_two_disks() {
    let tmp = tempfile::tempdir().unwrap();
    let (snaps, out) = (tmp.path().join("snapshots"), tmp.path().join("site"));
    let masked = || {
        let mut v = corpus_json("smartctl/scrutiny-smart-megaraid0.json");
        v.as_object_mut().unwrap().remove("wwn"); // not even a WWN to tell them apart
        v
    };
    write_dated(&snaps, "db", &disks("db", DAY1, &[("sda", masked()), ("sdb", masked())], ""));
    build(&snaps, &out).success();
    let disks = read_json(&out.join("api/v1/disks.json"));
    assert_eq!(disks.as_array().unwrap().len(), 2, "{disks:#}");
    assert_ne!(disks[0]["slug"], disks[1]["slug"]);
}

#[test]
fn the_same_inputs_give_a_byte_identical_site() {
    let tmp = tempfile::tempdir().unwrap();
    let snaps = tmp.path().join("snapshots");
    fixture(&snaps);
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    build(&snaps, &one).success();
    build_cmd(&snaps, &two, &["--no-cache"]).assert().success();
    let files = files(&one);
    assert_eq!(files, common::files(&two));
    for f in files.iter().filter(|f| !f.ends_with(".parc-site")) {
        assert_eq!(std::fs::read(one.join(f)).unwrap(), std::fs::read(two.join(f)).unwrap(), "{}", f.display());
    }
}

#[test]
fn a_rebuild_with_nothing_changed_does_nothing_and_a_new_day_is_picked_up() {
    let tmp = tempfile::tempdir().unwrap();
    let (snaps, out) = (tmp.path().join("snapshots"), tmp.path().join("site"));
    fixture(&snaps);
    build(&snaps, &out).success();
    let again = build(&snaps, &out).success();
    assert!(String::from_utf8_lossy(&again.get_output().stderr).contains("nothing changed"));
    // From scratch, every output file is the same, so none is rewritten.
    let scratch = build_cmd(&snaps, &out, &["--no-cache"]).assert().success();
    let stderr = String::from_utf8_lossy(&scratch.get_output().stderr).to_string();
    let files = files(&out).len() - 1; // less the marker
    assert!(stderr.contains(&format!("{files} files ({files} unchanged)")), "{stderr}");
    // A new day: only its two files are parsed, the rest comes from the cache.
    write_dated(&snaps, "alpha", &system("alpha", DAY4));
    let next = build(&snaps, &out).success();
    let stderr = String::from_utf8_lossy(&next.get_output().stderr).to_string();
    assert!(stderr.contains("in 10 files (1 parsed, 9 reused)"), "{stderr}");
    assert!(read(&out.join("index.html")).contains("2026-11-04 02:00 UTC"));
}

/// The next build knows the output folder from the listing the last one
/// left, each folder read again where its time moved: a page removed by
/// hand is made again, a file put there by hand is pruned, and the folder
/// is what a build from nothing makes.
#[test]
fn what_was_done_to_the_site_by_hand_is_seen_by_the_next_build() {
    let tmp = tempfile::tempdir().unwrap();
    let (snaps, out) = (tmp.path().join("snapshots"), tmp.path().join("site"));
    fixture(&snaps);
    build(&snaps, &out).success();
    let listing = walkdir::WalkDir::new(tmp.path().join(".parc-cache")).into_iter().flatten().any(|e| {
        let name = e.file_name().to_string_lossy();
        name.starts_with("site-") && name.ends_with(".json")
    });
    assert!(listing, "the build left its listing in the cache");
    // beta's page, which the new day of alpha does not change.
    let page = Path::new("hosts/beta.html");
    let had = std::fs::read(out.join(page)).unwrap();
    std::fs::remove_file(out.join(page)).unwrap();
    std::fs::write(out.join("hosts/by-hand.html"), "mine").unwrap();
    write_dated(&snaps, "alpha", &system("alpha", DAY4));
    build(&snaps, &out).success();
    assert!(!out.join("hosts/by-hand.html").exists(), "not made by parc: pruned");
    let fresh = tmp.path().join("fresh");
    build_cmd(&snaps, &fresh, &["--no-cache"]).assert().success();
    assert_eq!(files(&out), files(&fresh));
    assert_eq!(std::fs::read(out.join(page)).unwrap(), had, "made again");
}

#[test]
fn markdown_pages_templates_and_static_files() {
    let tmp = tempfile::tempdir().unwrap();
    let (snaps, out) = (tmp.path().join("snapshots"), tmp.path().join("site"));
    fixture(&snaps);
    std::fs::create_dir_all(tmp.path().join("content")).unwrap();
    std::fs::write(
        tmp.path().join("content/runbook.md"),
        "+++\ntitle = \"Runbook\"\n+++\n# When a disk fails\n\nCall *Marc*.\n",
    )
    .unwrap();
    std::fs::create_dir_all(tmp.path().join("templates")).unwrap();
    std::fs::write(tmp.path().join("templates/moves.html"), "{% extends \"base.html\" %}{% block content %}<p id=\"mine\">{{ moves | length }} moves</p>{% endblock content %}").unwrap();
    std::fs::create_dir_all(tmp.path().join("static/img")).unwrap();
    std::fs::write(tmp.path().join("static/img/logo.svg"), "<svg/>").unwrap();
    build(&snaps, &out).success();
    let page = read(&out.join("pages/runbook.html"));
    assert!(page.contains("<h1>When a disk fails</h1>") && page.contains("<em>Marc</em>"), "{page}");
    assert!(read(&out.join("index.html")).contains("pages/runbook.html"), "content pages are in the navigation");
    assert!(read(&out.join("moves.html")).contains("<p id=\"mine\">2 moves</p>"));
    assert_eq!(read(&out.join("img/logo.svg")), "<svg/>");
}

#[test]
fn dated_files_and_stable_files_give_the_same_versions() {
    let tmp = tempfile::tempdir().unwrap();
    let (dated, stable) = (tmp.path().join("dated"), tmp.path().join("stable"));
    let snapshot = system("gamma", DAY1);
    write_dated(&dated, "gamma", &snapshot);
    std::fs::create_dir_all(stable.join("gamma")).unwrap();
    std::fs::write(stable.join("gamma/system.json"), serde_json::to_vec(&snapshot).unwrap()).unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    build(&dated, &a).success();
    build(&stable, &b).success();
    assert_eq!(read(&a.join("api/v1/hosts/gamma.json")), read(&b.join("api/v1/hosts/gamma.json")));
    assert_eq!(read_json(&a.join("api/v1/summary.json"))["versions"], json!(1));
}

#[test]
fn two_hosts_whose_slugs_collide_each_keep_their_own_page() {
    let tmp = tempfile::tempdir().unwrap();
    let snaps = tmp.path().join("snapshots");
    // `PVE1` is slugged `pve1-<hash>`; a host can be named exactly that.
    let twin = parc::slug::slug("PVE1");
    for name in ["PVE1", twin.as_str()] {
        write_dated(&snaps, name, &system(name, "2026-11-01T03:00:00Z"));
    }
    let out = tmp.path().join("site");
    build_cmd(&snaps, &out, &["--strict"]).assert().success();
    let hosts = read_json(&out.join("api/v1/hosts.json"));
    let hosts = hosts.as_array().unwrap();
    assert_eq!(hosts.len(), 2);
    assert_ne!(hosts[0]["slug"], hosts[1]["slug"], "{hosts:?}");
    for host in hosts {
        let (name, slug) = (host["name"].as_str().unwrap(), host["slug"].as_str().unwrap());
        assert_eq!(read_json(&out.join(format!("api/v1/hosts/{slug}.json")))["name"], name);
        assert!(read(&out.join(format!("hosts/{slug}.html"))).contains(&format!(">{name}</h1>")), "{slug}");
    }
}

#[test]
fn the_wwn_tells_apart_disks_that_share_a_serial() {
    let tmp = tempfile::tempdir().unwrap();
    let (snaps, out) = (tmp.path().join("snapshots"), tmp.path().join("site"));
    let twin = |template: &str, serial: &str, wwn_id: u64| {
        let mut v = drive(template, serial, None);
        v["wwn"]["id"] = serde_json::json!(wwn_id);
        v
    };
    // Masked serials behind a RAID controller, and a real serial that two USB
    // bridges report alike: the WWN tells each pair apart.
    let masked = "scrutiny-smart-megaraid0.json";
    let plain = "scrutiny-smart-ata.json";
    let day1 = [
        ("sda", twin(masked, "XXXXXXXX", 11)),
        ("sdb", twin(masked, "XXXXXXXX", 12)),
        ("sdc", twin(plain, "WD-SAME", 21)),
        ("sdd", twin(plain, "WD-SAME", 22)),
    ];
    write_dated(&snaps, "a", &disks("a", DAY1, &day1, ""));
    // Next day, one of the plain twins is alone on host b: the same disk, moved.
    write_dated(&snaps, "a", &disks("a", DAY2, &day1[..3], ""));
    write_dated(&snaps, "b", &disks("b", DAY2, &[("sda", twin(plain, "WD-SAME", 22))], ""));
    build(&snaps, &out).success();
    let disks = read_json(&out.join("api/v1/disks.json"));
    let ids: Vec<&str> = disks.as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 4, "{ids:#?}");
    assert!(ids.iter().all(|id| !id.contains("at:")), "told apart by WWN, not by place: {ids:#?}");
    let moves = read_json(&out.join("api/v1/moves.json"));
    assert_eq!(moves.as_array().unwrap().len(), 1, "{moves:#}");
    assert_eq!((moves[0]["from"].as_str(), moves[0]["to"].as_str()), (Some("a"), Some("b")));
}

#[test]
fn a_disk_without_smart_is_named_for_what_it_is() {
    use serde_json::json;
    let tmp = tempfile::tempdir().unwrap();
    let (snaps, out) = (tmp.path().join("snapshots"), tmp.path().join("site"));
    // A RAID controller's volume (real smartctl output: no SMART, no message).
    write_dated(&snaps, "nas", &disks("nas", DAY1, &[("sdb", corpus_json("smartctl/scrutiny-smart-raid.json"))], ""));
    // A VM's virtio disk (real lsblk and smartctl outputs from a Debian 12 VM).
    let vm = envelope(
        "disks",
        "vm",
        DAY1,
        json!({
            "lsblk": probe(corpus_json("lsblk/debian12-vm.json")),
            "smartctl:/dev/vda": {"cmd": "smartctl -j -a /dev/vda", "exit": 1,
                                  "out": corpus_json("smartctl/virtio-disk-unable-to-detect.json")},
        }),
    );
    write_dated(&snaps, "vm", &vm);
    // A Raspberry Pi: its SD card, a USB disk whose bridge passes no SMART, and no smartctl at all.
    let blocks = json!({"blockdevices": [
        {"name": "mmcblk0", "type": "disk", "size": 31914983424u64, "model": null, "serial": "0x1b2c3d4e", "tran": null, "rota": false},
        {"name": "sda", "type": "disk", "size": 1000204886016u64, "model": "External USB 3.0", "serial": "20170331000C3", "tran": "usb", "rota": true},
    ]});
    let missing = |dev: &str| json!({"cmd": format!("smartctl -j -a {dev}"), "exit": 127, "out": "", "err": "sh: 1: smartctl: not found"});
    let pi = envelope(
        "disks",
        "pi",
        DAY1,
        json!({"lsblk": probe(blocks), "smartctl:/dev/mmcblk0": missing("/dev/mmcblk0")}),
    );
    write_dated(&snaps, "pi", &pi);
    let card = json!({"blockdevices": [{"name": "mmcblk0", "type": "disk", "size": 31914983424u64, "tran": null}]});
    write_dated(&snaps, "pi2", &envelope("disks", "pi2", DAY1, json!({"lsblk": probe(card)})));
    build(&snaps, &out).success();
    let disks = read_json(&out.join("api/v1/disks.json"));
    let text = |host: &str, device: &str| -> String {
        let disk = disks
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["host"] == host && d["device"] == device)
            .unwrap_or_else(|| panic!("no {host} {device} in {disks:#}"));
        assert_eq!(disk["verdict"], "unknown", "{disk:#}");
        disk["reasons"][0]["text"].as_str().unwrap().to_string()
    };
    let raid = text("nas", "/dev/sdb");
    assert!(raid.starts_with("No SMART data: this is a RAID controller's volume"), "{raid}");
    assert!(!raid.contains("no SMART data"), "never the same words twice: {raid}");
    let vda = text("vm", "/dev/vda");
    assert!(vda.contains("virtual disk") && vda.contains("Unable to detect device type"), "{vda}");
    assert!(text("pi", "/dev/mmcblk0").contains("smartctl is not installed"), "a missing tool comes first");
    assert!(text("pi", "/dev/sda").contains("USB bridge"), "{}", text("pi", "/dev/sda"));
    assert!(text("pi2", "/dev/mmcblk0").contains("SD cards and eMMC have no SMART"), "{}", text("pi2", "/dev/mmcblk0"));
    for (host, device) in [("nas", "/dev/sdb"), ("vm", "/dev/vda"), ("pi", "/dev/mmcblk0"), ("pi", "/dev/sda")] {
        eprintln!("{host} {device}: {}", text(host, device));
    }
    let detail = read_json(&out.join(format!(
        "api/v1/disks/{}.json",
        disks.as_array().unwrap().iter().find(|d| d["host"] == "nas").unwrap()["slug"].as_str().unwrap()
    )));
    assert_eq!(detail["no_smart"], "raid_volume");
}

#[test]
fn long_lists_come_in_pages_and_long_histories_in_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let (snaps, out) = (tmp.path().join("snapshots"), tmp.path().join("site"));
    let hosts = parc::render::html::ROWS * 2 + 1;
    for i in 0..hosts {
        let name = format!("h{i:04}");
        write_dated(&snaps, &name, &system(&name, DAY1));
    }
    // A week later, one host still reports: the others go stale.
    write_dated(&snaps, "h0000", &system("h0000", "2026-11-08T03:00:00+01:00"));
    // One disk seen 40 days in a row, its temperature changing, nothing else.
    for day in 0..40 {
        let mut smart = drive("scrutiny-smart-ata.json", "WD-LONG", None);
        smart["temperature"]["current"] = serde_json::json!(30 + day % 3);
        let at =
            format!("2026-09-{:02}T03:00:00Z", 1 + day % 30).replace("-09-", if day < 30 { "-09-" } else { "-10-" });
        write_dated(&snaps, "h0000", &disks("h0000", &at, &[("sda", smart)], ""));
    }
    build(&snaps, &out).success();
    let mut seen = std::collections::BTreeSet::new();
    for (n, page) in ["hosts/index.html", "hosts/page-2.html", "hosts/page-3.html"].iter().enumerate() {
        let html = read(&out.join(page));
        let rows = html.matches("<tr").count() - 1;
        assert!(rows <= parc::render::html::ROWS, "{page}: {rows} rows");
        assert!(html.contains(&format!("Page {} of 3", n + 1)) && html.contains("page-3.html"), "{page}");
        for i in 0..hosts {
            if html.contains(&format!(">h{i:04}</a>")) {
                assert!(seen.insert(i), "h{i:04} on two pages");
            }
        }
    }
    assert_eq!(seen.len(), hosts, "every host on exactly one page");
    assert!(!out.join("hosts/page-4.html").exists());
    // So do the findings (each host not seen since the first day is stale),
    // and the feed links each one to the page that holds it.
    let findings = read_json(&out.join("api/v1/findings.json"));
    let findings = findings.as_array().unwrap().iter().filter(|f| f["state"] == "open").count();
    assert!(findings > parc::render::html::ROWS, "{findings} findings");
    let pages = findings.div_ceil(parc::render::html::ROWS);
    let mut listed = 0;
    for n in 1..=pages {
        let page = if n == 1 { "findings.html".to_string() } else { format!("findings-{n}.html") };
        let rows = read(&out.join(&page)).matches("<tr id=\"").count();
        assert!(rows <= parc::render::html::ROWS, "{page}: {rows} rows");
        listed += rows;
    }
    assert_eq!(listed, findings, "every finding on one page");
    assert!(!out.join(format!("findings-{}.html", pages + 1)).exists());
    assert!(read(&out.join("findings.atom")).contains(&format!("href=\"findings-{pages}.html#")));
    // The disk page shows the changes and the newest; its JSON's months every sighting.
    let disk = &read_json(&out.join("api/v1/disks.json"))[0];
    let json = read_json(&out.join("api/v1").join(disk["api"].as_str().unwrap()));
    let months = json["history"].as_array().unwrap();
    let all: usize = (months.iter())
        .map(|p| read_json(&out.join("api/v1").join(p["api"].as_str().unwrap()))["sightings"].as_array().unwrap().len())
        .sum();
    assert_eq!(all, 40);
    assert_eq!(json["sightings"].as_array().unwrap().len() as u64, months.last().unwrap()["entries"].as_u64().unwrap());
    let html = read(&out.join(disk["page"].as_str().unwrap()));
    let table = html.split("<table id=\"sightings\">").nth(1).unwrap().split("</table>").next().unwrap();
    assert_eq!(table.matches("<tr>").count() - 1, 10 + 1, "the first sighting and the newest 10: {table}");
    assert!(html.contains("The 11 of 40 sightings"));
}

/// The first day of a month closes the month before: that month's file is
/// made, and the months before it are kept as they are, not made again.
#[test]
fn the_first_day_of_a_month_makes_the_month_that_closed_only() {
    let tmp = tempfile::tempdir().unwrap();
    let snapshots = tmp.path().join("snapshots");
    let demo = |days: &str, until: &str, out: &Path| {
        parc().args(["demo", "--hosts", "2", "--days", days, "--until", until, "--out"]).arg(out).assert().success();
    };
    let add_day = |days: &str, day: &str| {
        let later = tmp.path().join(day);
        demo(days, day, &later);
        for entry in (walkdir::WalkDir::new(&later).into_iter().flatten())
            .filter(|e| e.file_type().is_file() && e.file_name().to_string_lossy().starts_with(day))
        {
            std::fs::copy(entry.path(), snapshots.join(entry.path().strip_prefix(&later).unwrap())).unwrap();
        }
    };
    demo("44", "2026-11-29", &snapshots);
    let site = tmp.path().join("site");
    build_cmd(&snapshots, &site, &[]).assert().success();
    // A day the months before the newest are kept as a group.
    add_day("45", "2026-11-30");
    build_cmd(&snapshots, &site, &[]).assert().success();
    let api = site.join("api/v1");
    let hosts = read_json(&api.join("hosts.json"));
    let host = read_json(&api.join(hosts[0]["api"].as_str().unwrap()));
    let october = api.join(host["history"][0]["api"].as_str().unwrap());
    assert_eq!(host["history"][0]["period"], "2026-10");
    // October's file as it stands: a build that made it again would write it back.
    let mut kept = std::fs::read(&october).unwrap();
    kept.extend_from_slice(b" ");
    std::fs::write(&october, &kept).unwrap();

    add_day("46", "2026-12-01");
    build_cmd(&snapshots, &site, &[]).assert().success();
    let host = read_json(&api.join(hosts[0]["api"].as_str().unwrap()));
    let months: Vec<&str> = host["history"].as_array().unwrap().iter().map(|p| p["period"].as_str().unwrap()).collect();
    assert_eq!(months, ["2026-10", "2026-11", "2026-12"]);
    assert_eq!(std::fs::read(&october).unwrap(), kept, "October is kept, not made again");
    let fresh = tmp.path().join("fresh");
    build_cmd(&snapshots, &fresh, &["--no-cache"]).assert().success();
    for month in 0..3 {
        let rel = host["history"][month]["api"].as_str().unwrap();
        assert_eq!(read_json(&api.join(rel)), read_json(&fresh.join("api/v1").join(rel)), "{rel}");
    }
}

/// A host's and a disk's history are published a month a file: together
/// they hold every version, the entity's own file the newest month, and a
/// new day rewrites that month's file only.
#[test]
fn histories_are_split_by_month_and_a_new_day_touches_the_newest_only() {
    let tmp = tempfile::tempdir().unwrap();
    let snapshots = tmp.path().join("snapshots");
    parc()
        .args(["demo", "--hosts", "3", "--days", "60", "--every", "2", "--until", "2026-11-19", "--out"])
        .arg(&snapshots)
        .assert()
        .success();
    let site = tmp.path().join("site");
    build_cmd(&snapshots, &site, &[]).assert().success();
    let api = site.join("api/v1");
    let hosts = read_json(&api.join("hosts.json"));
    let host = read_json(&api.join(hosts[0]["api"].as_str().unwrap()));
    let months: Vec<&str> = host["history"].as_array().unwrap().iter().map(|p| p["period"].as_str().unwrap()).collect();
    assert_eq!(months, ["2026-09", "2026-10", "2026-11"], "{}", host["history"]);
    let mut all = 0;
    for period in host["history"].as_array().unwrap() {
        let file = read_json(&api.join(period["api"].as_str().unwrap()));
        let timeline = file["timeline"].as_array().unwrap();
        assert_eq!(timeline.len() as u64, period["entries"].as_u64().unwrap());
        assert_eq!(file["period"], period["period"]);
        assert!(timeline
            .iter()
            .all(|v| v["at"].as_i64() >= period["from"].as_i64() && v["at"].as_i64() <= period["until"].as_i64()));
        all += timeline.len();
    }
    let newest = read_json(&api.join(host["history"][2]["api"].as_str().unwrap()));
    assert_eq!(host["timeline"], newest["timeline"], "the host's file holds the newest month");
    let versions: usize = std::fs::read_dir(snapshots.join(hosts[0]["name"].as_str().unwrap()))
        .unwrap()
        .map(|kind| std::fs::read_dir(kind.unwrap().path()).unwrap().count())
        .sum();
    assert_eq!(all, versions, "every version is in one month's file");
    let disks = read_json(&api.join("disks.json"));
    let disk = read_json(&api.join(disks[0]["api"].as_str().unwrap()));
    let sightings: u64 = disk["history"].as_array().unwrap().iter().map(|p| p["entries"].as_u64().unwrap()).sum();
    assert!(sightings > disk["sightings"].as_array().unwrap().len() as u64, "older sightings are in the month files");

    // Two days later: the months before stay as they were written.
    let stamp = |path: &std::path::Path| std::fs::metadata(path).unwrap().modified().unwrap();
    let files: Vec<std::path::PathBuf> =
        host["history"].as_array().unwrap().iter().map(|p| api.join(p["api"].as_str().unwrap())).collect();
    let before: Vec<_> = files.iter().map(|f| stamp(f)).collect();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let later = tmp.path().join("later");
    parc()
        .args(["demo", "--hosts", "3", "--days", "62", "--every", "2", "--until", "2026-11-21", "--out"])
        .arg(&later)
        .assert()
        .success();
    for entry in walkdir::WalkDir::new(&later)
        .into_iter()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("2026-11-20"))
    {
        let to = snapshots.join(entry.path().strip_prefix(&later).unwrap());
        std::fs::copy(entry.path(), to).unwrap();
    }
    build_cmd(&snapshots, &site, &[]).assert().success();
    let after: Vec<_> = files.iter().map(|f| stamp(f)).collect();
    assert_eq!(&after[..2], &before[..2], "September and October are not written again");
    assert_ne!(after[2], before[2], "November has the new day");

    // A September version taken away: September's file is made again, October's kept.
    let name = hosts[0]["name"].as_str().unwrap();
    let september =
        |site: &std::path::Path| read_json(&site.join("api/v1").join(host["history"][0]["api"].as_str().unwrap()));
    let had = september(&site)["timeline"].as_array().unwrap().len();
    let gone = (std::fs::read_dir(snapshots.join(name).join("system")).unwrap())
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("2026-09-2"))
        .expect("a September version");
    std::fs::remove_file(&gone).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    build_cmd(&snapshots, &site, &[]).assert().success();
    assert_eq!(september(&site)["timeline"].as_array().unwrap().len(), had - 1, "{}", gone.display());
    assert_eq!(stamp(&files[1]), after[1], "October is kept");
    let fresh = tmp.path().join("fresh");
    build_cmd(&snapshots, &fresh, &["--no-cache"]).assert().success();
    assert_eq!(september(&site), september(&fresh), "as a build from nothing makes it");
}

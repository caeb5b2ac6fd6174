//! APT update plans, made from the snapshots of a generated fleet (real apt
//! outputs from `tests/corpus/apt/`): which hosts a policy updates, with
//! what, and why the others are skipped; the plan refused when a host sent a
//! newer `apt` snapshot; `parc apply` never doing part of an update.

mod common;

use common::*;
use serde_json::Value;
use std::path::PathBuf;

/// A folder with the demo fleet's `system`, `disks` and `apt` snapshots (8 hosts, 3 days to 2026-11-21).
struct Fleet {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

const NOW: &str = "2026-11-21T10:00:00+01:00";

impl Fleet {
    fn new() -> Fleet {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let out = dir.join("snapshots");
        parc()
            .args(["demo", "--hosts", "8", "--days", "3", "--kinds", "system,disks,apt", "--out"])
            .arg(&out)
            .assert()
            .success();
        Fleet { _tmp: tmp, dir }
    }

    fn config(&self, toml: &str) {
        std::fs::write(self.dir.join("parc.toml"), toml).unwrap();
    }

    fn plan(&self, now: &str) -> (Value, String) {
        let run = parc().current_dir(&self.dir).args(["plan", "--now", now, "-o", "plan.json"]).assert().success();
        let plan = read_json(&self.dir.join("plan.json"));
        (plan, String::from_utf8_lossy(&run.get_output().stderr).into_owned())
    }

    fn update<'p>(&self, plan: &'p Value, host: &str) -> &'p Value {
        plan["updates"].as_array().unwrap().iter().find(|u| u["host"] == host).unwrap_or_else(|| panic!("{host}"))
    }

    /// The host's newest `apt` snapshot file.
    fn newest_apt(&self, host: &str) -> PathBuf {
        let folder = self.dir.join("snapshots").join(host).join("apt");
        std::fs::read_dir(folder).unwrap().map(|e| e.unwrap().path()).max().unwrap()
    }
}

fn policy(extra: &str) -> String {
    format!("[[update]]\nname = \"weekly\"\nhosts = [\"*\"]\nmax_age = \"48h\"\n{extra}\n")
}

#[test]
fn each_host_is_planned_from_its_newest_simulation_or_skipped_with_the_reason() {
    let fleet = Fleet::new();
    fleet.config(&policy("action = \"upgrade\"\ncanary = [\"db1\"]"));
    let (plan, said) = fleet.plan(NOW);
    let updates = plan["updates"].as_array().unwrap();
    // Seven hosts sent snapshots in these three days; the VM, silent for four, was not reached.
    assert_eq!(updates.len(), 8, "{said}");
    let vm = fleet.update(&plan, "vm-web1");
    assert_eq!((&vm["decision"], &vm["skip"]), (&"skip".into(), &"unreachable".into()), "{vm:#}");
    assert!(vm["reason"].as_str().unwrap().contains("not reached since"), "{vm}");
    // The canary first.
    assert_eq!((&updates[0]["host"], &updates[0]["canary"]), (&"db1".into(), &true.into()), "{said}");
    assert!(updates[1..].iter().all(|u| u["canary"] == false));

    // Proxmox VE is upgraded with full-upgrade, and the plan says so.
    let pve1 = fleet.update(&plan, "pve1");
    assert_eq!((&pve1["decision"], &pve1["action"]), (&"update".into(), &"full-upgrade".into()), "{pve1:#}");
    assert!(pve1["reason"].as_str().unwrap().contains("the policy says upgrade"), "{pve1}");
    let packages = pve1["packages"].as_array().unwrap();
    assert!(packages.len() > 100, "{}", packages.len());
    assert!(packages.iter().all(|p| p["from"].is_string() && p["to"].is_string() && p["package"].is_string()));
    let snapshot = &pve1["apt_snapshot"];
    assert!(snapshot["path"].as_str().unwrap().starts_with("pve1/apt/"), "{snapshot}");
    assert_eq!(snapshot["sha256"].as_str().unwrap().len(), 64);

    // APT fails on pve2 (its update answers 401): skipped, untouched.
    let pve2 = fleet.update(&plan, "pve2");
    assert_eq!((&pve2["decision"], &pve2["skip"]), (&"skip".into(), &"apt-error".into()), "{pve2:#}");
    // An Ubuntu host's upgrades kept back are not an upgrade's to do.
    let files = fleet.update(&plan, "files");
    assert!(!files["kept_back"].as_array().unwrap().is_empty(), "{files:#}");
    assert!(said.contains("update pve1: update (full-upgrade of"), "{said}");
}

#[test]
fn security_takes_only_what_the_apt_page_counts_as_security() {
    let fleet = Fleet::new();
    fleet.config(&policy("action = \"security\""));
    let (plan, _) = fleet.plan(NOW);
    let site = fleet.dir.join("site");
    parc().current_dir(&fleet.dir).args(["build", "--out"]).arg(&site).assert().success();
    let apt_hosts = read_json(&site.join("api/v1/apt/hosts.json"));
    for host in apt_hosts.as_array().unwrap() {
        let update = fleet.update(&plan, host["host"].as_str().unwrap());
        let packages = update["packages"].as_array().unwrap();
        assert!(packages.iter().all(|p| p["security"] == true), "{update:#}");
        if update["skip"] != "apt-error" {
            assert_eq!(packages.len() as u64, host["security"].as_u64().unwrap(), "{update:#}");
        }
    }
    assert!(fleet.update(&plan, "pve1")["packages"].as_array().unwrap().len() > 10);
}

#[test]
fn removals_stale_facts_windows_and_two_policies_skip_a_host() {
    let fleet = Fleet::new();
    // ws-marc's dist-upgrade would now also remove a package (apt's own line format).
    let file = fleet.newest_apt("ws-marc");
    let mut snapshot = read_json(&file);
    let sim = &mut snapshot["probes"]["apt-sim-dist-upgrade"]["out"];
    *sim = format!("{}Remv libold1 [1.0-1]\n", sim.as_str().unwrap()).into();
    std::fs::write(&file, serde_json::to_vec(&snapshot).unwrap()).unwrap();

    fleet.config(&policy("action = \"full-upgrade\""));
    let (plan, _) = fleet.plan(NOW);
    let marc = fleet.update(&plan, "ws-marc");
    assert_eq!((&marc["skip"], &marc["removals"]), (&"removals".into(), &serde_json::json!(["libold1"])), "{marc:#}");
    assert!(marc["reason"].as_str().unwrap().contains("allow_removals = false"), "{marc}");

    fleet.config(&policy("action = \"full-upgrade\"\nallow_removals = true"));
    let (plan, _) = fleet.plan(NOW);
    let marc = fleet.update(&plan, "ws-marc");
    assert_eq!(marc["decision"], "update", "{marc:#}");
    assert!(marc["reason"].as_str().unwrap().contains("removing libold1"), "{marc}");

    // A day later with max_age 26h, every snapshot is stale.
    fleet.config("[[update]]\nname = \"w\"\nhosts = [\"*\"]\naction = \"upgrade\"\nmax_age = \"26h\"\n");
    let (plan, _) = fleet.plan("2026-11-23T10:00:00+01:00");
    let answered = plan["updates"].as_array().unwrap().iter().filter(|u| u["skip"] != "unreachable");
    assert!(answered.clone().count() == 7 && answered.clone().all(|u| u["skip"] == "stale"), "{plan:#}");

    // 2026-11-21 is a Saturday: inside "Sat 09:00-11:00", outside "Sun 02:00-05:00".
    fleet.config(&policy("action = \"upgrade\"\nwindow = \"Sat 09:00-11:00\""));
    assert_eq!(fleet.update(&fleet.plan(NOW).0, "db1")["decision"], "update");
    fleet.config(&policy("action = \"upgrade\"\nwindow = \"Sun 02:00-05:00\""));
    let (plan, _) = fleet.plan(NOW);
    let db1 = fleet.update(&plan, "db1");
    assert_eq!(db1["skip"], "outside-window", "{db1:#}");
    assert!(db1["reason"].as_str().unwrap().contains("Sat 10:00"), "{db1}");

    // A host in two policies is in neither.
    fleet.config(&format!(
        "{}[[update]]\nname = \"db\"\nhosts = [\"db*\"]\naction = \"upgrade\"\n",
        policy("action = \"upgrade\"")
    ));
    let (plan, _) = fleet.plan(NOW);
    assert_eq!(fleet.update(&plan, "db1")["skip"], "two-policies");
    assert_eq!(fleet.update(&plan, "pve1")["decision"], "update");
}

#[test]
fn a_bad_policy_is_a_configuration_error_naming_it() {
    let fleet = Fleet::new();
    for (toml, words) in [
        (policy("action = \"dist-upgrade\""), "unknown variant `dist-upgrade`"),
        (policy("action = \"upgrade\"\nwindow = \"Caturday 02:00-05:00\""), "unknown day"),
        (policy("action = \"upgrade\"\nreboot_timeout = \"2d\""), "not a length of time"),
        (
            "[[update]]\nname = \"w\"\nhosts = [\"pve*\"]\naction = \"upgrade\"\ncanary = [\"db1\"]\n".into(),
            "canary \"db1\" is not one of its hosts",
        ),
        (
            format!("{}{}", policy("action = \"upgrade\""), policy("action = \"security\"")),
            "two update policies are named weekly",
        ),
    ] {
        fleet.config(&toml);
        let run = parc().current_dir(&fleet.dir).args(["plan", "-o", "plan.json"]).assert().code(1);
        let stderr = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
        assert!(stderr.contains("parc.toml") && stderr.contains(words), "{toml}: {stderr}");
    }
}

#[test]
fn apply_says_what_it_would_do_refuses_a_stale_plan_and_stops_after_a_failure() {
    let fleet = Fleet::new();
    // Every host of the demo fleet at a loopback port nothing listens on.
    let mut inventory = String::new();
    for host in ["db1", "files", "pi-garage", "pve1", "pve2", "ws-anna", "ws-marc", "vm-web1"] {
        inventory.push_str(&format!(
            "[[hosts]]\nname = \"{host}\"\nssh = \"root@127.0.0.1:{}\"\n",
            common::sshd::free_port()
        ));
    }
    fleet.config(&format!("[ssh]\ntimeout = 5\n{inventory}{}", policy("action = \"upgrade\"")));
    let (plan, _) = fleet.plan(NOW);
    let apply =
        |args: &[&str]| parc().current_dir(&fleet.dir).arg("apply").args(args).arg("plan.json").output().unwrap();
    let out = apply(&["--dry-run"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("update pve1, policy weekly: would run full-upgrade of"), "{stdout}");
    assert!(stdout.contains("update pve2, policy weekly: would skip: APT fails"), "{stdout}");
    // --host and --policy: those updates alone.
    let out = apply(&["--dry-run", "--host", "pve1"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with("update pve1, policy weekly: would run"), "{stdout}");
    let out = apply(&["--dry-run", "--host", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the plan has no update of host nope"));
    // Eight lines: the inventory's vm-web1 too, skipped (no apt snapshot in these days).
    assert_eq!(apply(&["--dry-run", "--policy", "weekly"]).stdout.split(|b| *b == b'\n').count() - 1, 8);

    // The first host fails to connect; with max_failures = 1 the others are refused, each with its log.
    let out = apply(&["--now", "2026-11-21T10:05:00+01:00"]);
    assert_eq!(out.status.code(), Some(5), "{}", String::from_utf8_lossy(&out.stderr));
    let planned: Vec<&str> = (plan["updates"].as_array().unwrap().iter())
        .filter(|u| u["decision"] == "update")
        .map(|u| u["host"].as_str().unwrap())
        .collect();
    assert!(planned.len() >= 3, "{planned:?}");
    let logs: Vec<String> = planned
        .iter()
        .map(|h| {
            let folder = fleet.dir.join("snapshots").join(h).join("update");
            let log = std::fs::read_dir(&folder)
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.extension().unwrap() == "log");
            std::fs::read_to_string(log.unwrap_or_else(|| panic!("no update log for {h}"))).unwrap()
        })
        .collect();
    assert!(logs[0].starts_with(&format!("update {} FAILED at connect:", planned[0])), "{}", logs[0]);
    for log in &logs[1..] {
        assert!(log.contains("REFUSED: 1 host(s) failed (max_failures = 1)"), "{log}");
    }
    // The failed host is a critical finding; the refused ones are not.
    let site = fleet.dir.join("site");
    parc().current_dir(&fleet.dir).args(["build", "--out"]).arg(&site).assert().success();
    let findings = read_json(&site.join("api/v1/findings.json"));
    let failed: Vec<(&str, &str)> = (findings.as_array().unwrap().iter())
        .filter(|f| f["kind"] == "update-failed" && f["state"] == "open")
        .map(|f| (f["host"].as_str().unwrap(), f["severity"].as_str().unwrap()))
        .collect();
    assert_eq!(failed, [(planned[0], "critical")], "{findings:#}");
    let text = (findings.as_array().unwrap().iter()).find(|f| f["kind"] == "update-failed").unwrap()["text"].clone();
    assert!(text.as_str().unwrap().contains("failed at connect"), "{text}");

    // pve1 sends a newer apt snapshot: the plan no longer holds.
    let newest = fleet.newest_apt("pve1");
    let later = newest.with_file_name("2026-11-21T090000Z.json");
    let mut snapshot = read_json(&newest);
    snapshot["collected_at"] = "2026-11-21T10:00:00+01:00".into();
    std::fs::write(&later, serde_json::to_vec(&snapshot).unwrap()).unwrap();
    let out = apply(&[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("host pve1 sent a newer apt snapshot since the plan was made"), "{stderr}");
}

#[test]
fn without_update_policies_the_plan_has_no_updates() {
    let fleet = Fleet::new();
    fleet.config("");
    let (plan, said) = fleet.plan(NOW);
    assert!(plan.get("updates").is_none(), "{plan:#}");
    assert!(said.contains("the plan is empty"), "{said}");
}

/// A real Debian 12 host (its own namespaces, its own sshd on 127.0.0.1, a
/// local repository as its only source), collected over SSH: the plan holds
/// what its real `apt-get -s` says, version for version.
#[test]
fn a_real_debian_host_is_planned_from_what_its_own_apt_simulates() {
    use common::debian::{repository, Deb, DebianHost};
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    repository(
        &repo,
        &[
            Deb { name: "parc-tool", version: "1.0", control: "", files: &[] },
            Deb { name: "parc-tool", version: "2.0", control: "", files: &[] },
            Deb { name: "parc-lib", version: "1.0", control: "", files: &[] },
            // Version 2 needs a package that is not installed: upgrade keeps it back, full-upgrade installs both.
            Deb { name: "parc-lib", version: "2.0", control: "Depends: parc-new\n", files: &[] },
            Deb { name: "parc-new", version: "1.0", control: "", files: &[] },
            Deb { name: "parc-old", version: "1.0", control: "", files: &[] },
        ],
    );
    let installed = ["parc-tool_1.0_all.deb", "parc-lib_1.0_all.deb", "parc-old_1.0_all.deb"];
    let host = DebianHost::start("deb1", &repo, &installed);
    // Installed as a dependency once, needed by nothing now: autoremove's.
    assert!(host.ssh("apt-mark auto parc-old").status.success());
    let config = |action: &str| {
        format!(
            "[ssh]\nidentity_file = \"{}\"\nknown_hosts = \"{}\"\n\n[[hosts]]\nname = \"deb1\"\nssh = \"{}\"\n\n\
             [[update]]\nname = \"first\"\nhosts = [\"deb1\"]\naction = \"{action}\"\n",
            host.key().display(),
            host.known_hosts().display(),
            host.destination()
        )
    };
    std::fs::write(tmp.path().join("parc.toml"), config("upgrade")).unwrap();
    let collect = parc().current_dir(tmp.path()).args(["collect", "--ssh", "--kinds", "system,apt"]).output().unwrap();
    assert!(collect.status.success(), "{}", String::from_utf8_lossy(&collect.stderr));
    // What its own apt says a dist-upgrade downloads, autoremove removes, clean frees.
    let site = tmp.path().join("site");
    build_cmd(&tmp.path().join("snapshots"), &site, &[]).assert().success();
    let apt = read_json(&site.join("api/v1/apt/hosts.json"))[0].clone();
    let size = |file: &str| std::fs::metadata(repo.join(file)).unwrap().len();
    let fetched = size("parc-tool_2.0_all.deb") + size("parc-lib_2.0_all.deb") + size("parc-new_1.0_all.deb");
    assert_eq!(apt["download_bytes"], fetched, "{apt:#}");
    assert_eq!(apt["autoremove"], serde_json::json!(["parc-old"]), "{apt:#}");
    assert!(apt["archives_bytes"].is_u64(), "{apt:#}");

    let plan = |action: &str| -> Value {
        std::fs::write(tmp.path().join("parc.toml"), config(action)).unwrap();
        let run = parc().current_dir(tmp.path()).args(["plan", "-o", "plan.json"]).output().unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        read_json(&tmp.path().join("plan.json"))["updates"][0].clone()
    };
    let names = |u: &Value| -> Vec<(String, Value, Value)> {
        let mut all: Vec<_> = (u["packages"].as_array().unwrap().iter())
            .map(|p| (p["package"].as_str().unwrap().to_string(), p["from"].clone(), p["to"].clone()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    };
    let upgrade = plan("upgrade");
    assert_eq!(upgrade["decision"], "update", "{upgrade:#}");
    assert_eq!(names(&upgrade), [("parc-tool".to_string(), "1.0".into(), "2.0".into())], "{upgrade:#}");
    assert_eq!(upgrade["kept_back"], serde_json::json!(["parc-lib"]), "{upgrade:#}");
    assert!(upgrade["apt_snapshot"]["path"].as_str().unwrap().starts_with("deb1/"), "{upgrade:#}");

    let full = plan("full-upgrade");
    assert_eq!(
        names(&full),
        [
            ("parc-lib".to_string(), "1.0".into(), "2.0".into()),
            ("parc-new".to_string(), Value::Null, "1.0".into()),
            ("parc-tool".to_string(), "1.0".into(), "2.0".into()),
        ],
        "{full:#}"
    );
    // The host itself is untouched: planning never reaches it.
    let listed = host.ssh("dpkg-query -W -f '${Package} ${Version}\\n' parc-tool parc-lib");
    assert_eq!(String::from_utf8_lossy(&listed.stdout), "parc-lib 1.0\nparc-tool 1.0\n");
}

/// A real Debian 12 host updated over SSH: the upgrade done (what upgrade
/// keeps back left alone), the reboot verified by PID 1's new start time
/// (the boot id of a container does not change), the host collected again;
/// then a host changed since its plan is refused at the simulation, untouched.
#[test]
fn a_real_debian_host_is_upgraded_rebooted_and_collected_again() {
    use common::debian::{repository, Deb, DebianHost};
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    repository(
        &repo,
        &[
            Deb { name: "parc-tool", version: "1.0", control: "", files: &[] },
            Deb { name: "parc-tool", version: "2.0", control: "", files: &[] },
            Deb { name: "parc-lib", version: "1.0", control: "", files: &[] },
            Deb { name: "parc-lib", version: "2.0", control: "Depends: parc-new\n", files: &[] },
            Deb { name: "parc-new", version: "1.0", control: "", files: &[] },
        ],
    );
    let host = DebianHost::start("deb1", &repo, &["parc-tool_1.0_all.deb", "parc-lib_1.0_all.deb"]);
    let config = |extra: &str| {
        let text = format!(
            "[ssh]\nidentity_file = \"{}\"\nknown_hosts = \"{}\"\n\n[[hosts]]\nname = \"deb1\"\nssh = \"{}\"\n\n\
             [[update]]\nname = \"first\"\nhosts = [\"deb1\"]\n{extra}\n",
            host.key().display(),
            host.known_hosts().display(),
            host.destination()
        );
        std::fs::write(tmp.path().join("parc.toml"), text).unwrap();
    };
    let parc_in = |args: &[&str]| parc().current_dir(tmp.path()).args(args).output().unwrap();
    config("action = \"upgrade\"\nreboot = \"always\"\nreboot_timeout = \"30s\"");
    let collect = parc_in(&["collect", "--ssh", "--kinds", "system,apt"]);
    assert!(collect.status.success(), "{}", String::from_utf8_lossy(&collect.stderr));
    assert!(parc_in(&["plan", "-o", "plan.json"]).status.success());
    let pid1 = |h: &DebianHost| {
        String::from_utf8_lossy(&h.ssh("sed 's/.*) //' /proc/1/stat | cut -d' ' -f20").stdout).trim().to_string()
    };
    let before = pid1(&host);

    let out = parc_in(&["apply", "plan.json"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("update deb1 ok: upgrade, 1 package(s) changed, reboot verified in"), "{stderr}");
    let versions = |h: &DebianHost| {
        String::from_utf8_lossy(&h.ssh("dpkg-query -W -f '${Package} ${Version}\\n' parc-tool parc-lib").stdout)
            .into_owned()
    };
    assert_eq!(versions(&host), "parc-lib 1.0\nparc-tool 2.0\n", "upgrade keeps parc-lib back");
    assert_ne!(pid1(&host), before, "the host rebooted");
    let folder = tmp.path().join("snapshots/deb1/update");
    let log: PathBuf = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().unwrap() == "json")
        .unwrap();
    let run = &read_json(&log)["run"];
    assert_eq!(run["outcome"], "ok", "{run:#}");
    assert_eq!(run["changed"], serde_json::json!([{"package": "parc-tool", "from": "1.0", "to": "2.0"}]), "{run:#}");
    assert_eq!(run["reboot"]["verified"], true, "{run:#}");
    assert_ne!(run["reboot"]["before"]["pid1_start"], run["reboot"]["after"]["pid1_start"], "{run:#}");
    let steps: Vec<&str> = run["steps"].as_array().unwrap().iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(
        steps,
        [
            "connect",
            "check",
            "inventory",
            "refresh",
            "simulate",
            "upgrade",
            "clean",
            "inventory after",
            "reboot",
            "collect"
        ]
    );
    // The next build shows the run.
    assert!(parc_in(&["build"]).status.success());
    let updates = read_json(&tmp.path().join("site/api/v1/updates.json"));
    let shown = &updates["runs"][0];
    let seen = (&shown["host"], &shown["outcome"], &shown["reboot"]["verified"]);
    assert_eq!(seen, (&"deb1".into(), &"ok".into(), &true.into()), "{updates:#}");
    assert_eq!(shown["changed"][0]["package"], "parc-tool");
    let apt = read_json(&tmp.path().join("snapshots/deb1/apt.json"));
    let inventory = apt["probes"]["dpkg-query"]["out"].as_str().unwrap();
    assert!(
        inventory.lines().any(|l| l.starts_with("parc-tool\t2.0")),
        "collected again after the update: {inventory}"
    );
    let page = std::fs::read_to_string(tmp.path().join("site/updates.html")).unwrap();
    assert!(page.contains("verified in"), "{page}");
    let host_page = std::fs::read_to_string(tmp.path().join("site/hosts/deb1.html")).unwrap();
    assert!(
        host_page.contains("id=\"host-update\"><a href=\"../updates.html#updates-runs\">upgrade, ok,"),
        "{host_page}"
    );

    // Planned from the newest snapshots, then changed by hand before apply: refused, untouched.
    config("action = \"full-upgrade\"\nreboot = \"never\"");
    assert!(parc_in(&["plan", "-o", "plan.json"]).status.success());
    assert!(host.ssh("DEBIAN_FRONTEND=noninteractive apt-get install -y -q parc-new").status.success());
    let out = parc_in(&["apply", "plan.json"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("update deb1 REFUSED at simulate: the host no longer matches the plan"), "{stderr}");
    assert_eq!(versions(&host), "parc-lib 1.0\nparc-tool 2.0\n", "nothing was done");
}

/// A real host, one trouble after the other: each run stops at the step
/// that found it, says why in its log's first line, and leaves the host's
/// packages as they were.
#[test]
fn a_real_host_in_trouble_is_left_as_it_was_with_the_cause() {
    use common::debian::{repository, Deb, DebianHost};
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    repository(
        &repo,
        &[
            Deb { name: "parc-tool", version: "1.0", control: "", files: &[] },
            Deb { name: "parc-tool", version: "2.0", control: "", files: &[] },
            Deb { name: "parc-other", version: "1.0", control: "", files: &[] },
        ],
    );
    let host = DebianHost::start("deb2", &repo, &["parc-tool_1.0_all.deb"]);
    let config = |extra: &str| {
        let text = format!(
            "[ssh]\nidentity_file = \"{}\"\nknown_hosts = \"{}\"\ntimeout = 20\n\n[[hosts]]\nname = \"deb2\"\nssh = \"{}\"\n\n\
             [[update]]\nname = \"p\"\nhosts = [\"deb2\"]\naction = \"upgrade\"\nlock_wait = \"2s\"\nreboot_timeout = \"3s\"\n{extra}\n",
            host.key().display(),
            host.known_hosts().display(),
            host.destination()
        );
        std::fs::write(tmp.path().join("parc.toml"), text).unwrap();
    };
    let parc_in = |args: &[&str]| parc().current_dir(tmp.path()).args(args).output().unwrap();
    config("reboot = \"never\"");
    assert!(parc_in(&["collect", "--ssh", "--kinds", "system,apt"]).status.success());
    let version = || String::from_utf8_lossy(&host.ssh("dpkg-query -W -f '${Version}' parc-tool").stdout).into_owned();
    // Each case: plan, make the trouble, apply; the first line of the log says where and why.
    let case = |extra: &str, trouble: &str, first_line: &str| {
        config(extra);
        assert!(parc_in(&["plan", "-o", "plan.json"]).status.success());
        if !trouble.is_empty() {
            let out = host.ssh(trouble);
            assert!(out.status.success(), "{trouble}: {}", String::from_utf8_lossy(&out.stderr));
        }
        let out = parc_in(&["apply", "plan.json"]);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(5), "{stderr}");
        let headline = stderr.lines().find(|l| l.starts_with("update deb2")).unwrap_or_default().to_string();
        assert!(headline.starts_with(first_line), "{headline}\n{stderr}");
        headline
    };
    // Another process holds the dpkg lock for longer than lock_wait.
    let held = case(
        "reboot = \"never\"",
        "setsid flock /var/lib/dpkg/lock-frontend sleep 30 > /dev/null 2>&1 < /dev/null &",
        "update deb2 FAILED at check: the dpkg lock is held by process",
    );
    assert!(held.contains("sleep 30"), "the holder is named: {held}");
    assert_eq!(version(), "1.0");
    assert!(host.ssh("pkill -x flock; pkill -x sleep; sleep 0.3; true").status.success());
    // An interrupted dpkg: unpacked, never configured.
    case(
        "reboot = \"never\"",
        "dpkg --unpack /srv/repo0/parc-other_1.0_all.deb",
        "update deb2 FAILED at check: dpkg --audit reports an interrupted or broken dpkg",
    );
    assert_eq!(version(), "1.0");
    assert!(host.ssh("dpkg --configure -a").status.success());
    // The package source is gone: apt-get update fails with apt's own words.
    case("reboot = \"never\"", "mv /srv/repo0 /srv/repo.gone", "update deb2 FAILED at refresh: apt-get update failed");
    assert!(host.ssh("mv /srv/repo.gone /srv/repo0 && apt-get -qq update").status.success());
    // A source that answers 401 (an enterprise repository without a subscription): apt's own words.
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in server.incoming().flatten() {
            use std::io::{BufRead, Write};
            let mut stream = stream;
            let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let _ = stream.write_all(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    let add = format!("echo 'deb [trusted=yes] http://127.0.0.1:{port}/ ./' > /etc/apt/sources.list.d/enterprise.list");
    let headline = case("reboot = \"never\"", &add, "update deb2 FAILED at refresh: apt-get update failed");
    assert!(headline.contains("401"), "{headline}");
    assert!(host.ssh("rm /etc/apt/sources.list.d/enterprise.list && apt-get -qq update").status.success());
    // A reboot that never happens: the host keeps its boot identity.
    case(
        "reboot = \"always\"",
        "printf '#!/bin/sh\\ntrue\\n' > /usr/sbin/reboot",
        "update deb2 FAILED at reboot: not back with a new boot identity within 3s",
    );
    assert_eq!(version(), "2.0", "the upgrade itself was done");
    // The site says what needs a person: the reboot not verified.
    assert!(parc_in(&["build"]).status.success());
    let findings = read_json(&tmp.path().join("site/api/v1/findings.json"));
    let kinds: Vec<&str> = (findings.as_array().unwrap().iter())
        .filter(|f| f["host"] == "deb2" && f["state"] == "open")
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"reboot-unverified") && !kinds.contains(&"update-failed"), "{kinds:?}");
    // The failures before it are closed: the update that came after was not one.
    let closed = (findings.as_array().unwrap().iter()).filter(|f| f["state"] == "closed" && f["host"] == "deb2");
    assert!(closed.clone().any(|f| f["kind"] == "update-failed"), "{findings}");
}

/// A canary that never comes back from its reboot fails, and no other host
/// of its policy is touched.
#[test]
fn a_canary_that_never_comes_back_stops_its_policy() {
    use common::debian::DebianHost;
    let tmp = tempfile::tempdir().unwrap();
    let repo = tool_repository(tmp.path());
    let canary = DebianHost::start("deb3", &repo, &["parc-tool_1.0_all.deb"]);
    let other = DebianHost::start("deb4", &repo, &["parc-tool_1.0_all.deb"]);
    // One key and one known_hosts file for both.
    let known = tmp.path().join("known_hosts");
    let both = [canary.known_hosts(), other.known_hosts()].map(|f| std::fs::read_to_string(f).unwrap()).concat();
    std::fs::write(&known, both).unwrap();
    // Each host knows its own key: an ssh config offers both.
    let ssh_config = tmp.path().join("ssh_config");
    let keys = format!("Host *\n  IdentityFile {}\n  IdentityFile {}\n", canary.key().display(), other.key().display());
    std::fs::write(&ssh_config, keys).unwrap();
    let config = format!(
        "[ssh]\nknown_hosts = \"{}\"\nconfig_file = \"{}\"\ntimeout = 20\n\n\
         [[hosts]]\nname = \"deb3\"\nssh = \"{}\"\n[[hosts]]\nname = \"deb4\"\nssh = \"{}\"\n\n\
         [[update]]\nname = \"p\"\nhosts = [\"deb*\"]\naction = \"upgrade\"\ncanary = [\"deb3\"]\n\
         reboot = \"always\"\nreboot_timeout = \"3s\"\nmax_parallel = 2\n",
        known.display(),
        ssh_config.display(),
        canary.destination(),
        other.destination()
    );
    std::fs::write(tmp.path().join("parc.toml"), config).unwrap();
    let parc_in = |args: &[&str]| parc().current_dir(tmp.path()).args(args).output().unwrap();
    let collect = parc_in(&["collect", "--ssh", "--kinds", "system,apt"]);
    assert!(collect.status.success(), "{}", String::from_utf8_lossy(&collect.stderr));
    assert!(parc_in(&["plan", "-o", "plan.json"]).status.success());
    canary.stay_down();
    let out = parc_in(&["apply", "plan.json"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("update deb3 FAILED at reboot: not back with a new boot identity within 3s"), "{stderr}");
    assert!(
        stderr.contains("update deb4 REFUSED: a canary failed: no other host of the policy is started"),
        "{stderr}"
    );
    let version = String::from_utf8_lossy(&other.ssh("dpkg-query -W -f '${Version}' parc-tool").stdout).into_owned();
    assert_eq!(version, "1.0", "deb4 was not touched");
}

/// The updating account is not root: sudo runs parc-update-root, which runs
/// exactly the updater's commands and refuses anything else.
#[test]
fn an_update_through_sudo_and_the_update_wrapper() {
    use common::debian::DebianHost;
    let tmp = tempfile::tempdir().unwrap();
    let repo = tool_repository(tmp.path());
    let host = DebianHost::start("deb5", &repo, &["parc-tool_1.0_all.deb"]);
    let wrapper = parc().args(["probe-script", "--update-wrapper"]).output().unwrap();
    assert!(wrapper.status.success());
    std::fs::write(host.root.join("usr/local/sbin/parc-update-root"), &wrapper.stdout).unwrap();
    // A locked account (useradd's default) cannot log in without PAM: '*' has no password and is not locked.
    let setup = "useradd -m -s /bin/sh -p '*' parc-update && mkdir -p /home/parc-update/.ssh && \
                 cp /root/.ssh/authorized_keys /home/parc-update/.ssh/ && chown -R parc-update /home/parc-update/.ssh && \
                 chown root:root /usr/local/sbin/parc-update-root && chmod 755 /usr/local/sbin/parc-update-root && \
                 echo 'parc-update ALL=(root) NOPASSWD: /usr/local/sbin/parc-update-root' > /etc/sudoers.d/parc-update && \
                 chmod 440 /etc/sudoers.d/parc-update";
    let out = host.ssh(setup);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let destination = host.destination().replace("root@", "parc-update@");
    std::fs::write(
        tmp.path().join("parc.toml"),
        format!(
            "[ssh]\nidentity_file = \"{}\"\nknown_hosts = \"{}\"\nsudo = true\n\n[[hosts]]\nname = \"deb5\"\nssh = \"{destination}\"\n\n\
             [[update]]\nname = \"p\"\nhosts = [\"deb5\"]\naction = \"upgrade\"\nreboot = \"never\"\n",
            host.key().display(),
            host.known_hosts().display()
        ),
    )
    .unwrap();
    let parc_in = |args: &[&str]| parc().current_dir(tmp.path()).args(args).output().unwrap();
    // The snapshots live in git: the run is committed, as archive runs are.
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git").current_dir(tmp.path()).args(args).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    git(&["init", "-q"]);
    git(&["-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "--allow-empty", "-m", "start"]);
    let collect = parc_in(&["collect", "--ssh", "--kinds", "system,apt", "--commit"]);
    assert!(collect.status.success(), "{}", String::from_utf8_lossy(&collect.stderr));
    assert!(parc_in(&["plan", "-o", "plan.json"]).status.success());
    let out = parc_in(&["apply", "--commit", "plan.json"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("update deb5 ok: upgrade, 1 package(s) changed"), "{stderr}");
    let log = git(&["log", "--format=%s", "-1", "--name-only"]);
    assert!(log.starts_with("parc apply: update deb5 ok"), "{log}");
    for file in ["update.json", "update.log", "apt.json", "system.json"] {
        assert!(log.contains(&format!("snapshots/deb5/{file}")), "{file} is committed with the run: {log}");
    }
    let version = host.ssh("dpkg-query -W -f '${Version}' parc-tool");
    assert_eq!(String::from_utf8_lossy(&version.stdout), "2.0");
    // The rule allows the wrapper, and the wrapper its own commands only.
    let as_user = |cmd: &str| host.ssh(&format!("su parc-update -c {}", common::shell_quote(cmd)));
    let refused = as_user("sudo -n /usr/local/sbin/parc-update-root start install '../evil'");
    assert_eq!(refused.status.code(), Some(126), "{}", String::from_utf8_lossy(&refused.stderr));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("parc-update-root: refused"));
    let direct = as_user("sudo -n apt-get -y remove parc-tool");
    assert!(!direct.status.success(), "sudo allows the wrapper alone");
}

/// Three hosts, two at a time: the first two overlap, the third begins
/// after both ended. On one, a configuration file changed by hand is kept
/// (and said so) and a held package is left at its version.
#[test]
fn max_parallel_hosts_at_once_conffiles_kept_and_holds_left_alone() {
    use common::debian::{repository, Deb, DebianHost};
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    repository(
        &repo,
        &[
            Deb { name: "parc-tool", version: "1.0", control: "", files: &[] },
            Deb { name: "parc-tool", version: "2.0", control: "", files: &[] },
            Deb { name: "parc-conf", version: "1.0", control: "", files: &[("/etc/parc-conf.conf", "answer = 1\n")] },
            Deb { name: "parc-conf", version: "2.0", control: "", files: &[("/etc/parc-conf.conf", "answer = 2\n")] },
            Deb { name: "parc-held", version: "1.0", control: "", files: &[] },
            Deb { name: "parc-held", version: "2.0", control: "", files: &[] },
        ],
    );
    let installed = ["parc-tool_1.0_all.deb", "parc-conf_1.0_all.deb", "parc-held_1.0_all.deb"];
    let hosts: Vec<DebianHost> =
        ["deb6", "deb7", "deb8"].iter().map(|n| DebianHost::start(n, &repo, &installed)).collect();
    let first = &hosts[0];
    assert!(first
        .ssh("echo 'answer = 42' > /etc/parc-conf.conf && apt-mark hold parc-held >/dev/null")
        .status
        .success());
    let known = tmp.path().join("known_hosts");
    std::fs::write(&known, hosts.iter().map(|h| std::fs::read_to_string(h.known_hosts()).unwrap()).collect::<String>())
        .unwrap();
    let ssh_config = tmp.path().join("ssh_config");
    let keys: String = hosts.iter().map(|h| format!("  IdentityFile {}\n", h.key().display())).collect();
    std::fs::write(&ssh_config, format!("Host *\n{keys}")).unwrap();
    let inventory: String =
        hosts.iter().map(|h| format!("[[hosts]]\nname = \"{}\"\nssh = \"{}\"\n", h.name, h.destination())).collect();
    std::fs::write(
        tmp.path().join("parc.toml"),
        format!(
            "[ssh]\nknown_hosts = \"{}\"\nconfig_file = \"{}\"\n\n{inventory}\n\
             [[update]]\nname = \"p\"\nhosts = [\"deb*\"]\naction = \"upgrade\"\nreboot = \"never\"\nmax_parallel = 2\n",
            known.display(),
            ssh_config.display()
        ),
    )
    .unwrap();
    let parc_in = |args: &[&str]| parc().current_dir(tmp.path()).args(args).output().unwrap();
    let collect = parc_in(&["collect", "--ssh", "--kinds", "system,apt"]);
    assert!(collect.status.success(), "{}", String::from_utf8_lossy(&collect.stderr));
    assert!(parc_in(&["plan", "-o", "plan.json"]).status.success());
    let plan = read_json(&tmp.path().join("plan.json"));
    let deb6 = plan["updates"].as_array().unwrap().iter().find(|u| u["host"] == "deb6").unwrap().clone();
    assert_eq!(deb6["held"], serde_json::json!(["parc-held"]), "{deb6:#}");
    let out = parc_in(&["apply", "plan.json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let run = |host: &str| -> Value {
        let folder = tmp.path().join("snapshots").join(host).join("update");
        let file =
            std::fs::read_dir(folder).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().unwrap() == "json");
        read_json(&file.unwrap())["run"].clone()
    };
    let at = |r: &Value, key: &str| r[key].as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
    let runs = [run("deb6"), run("deb7"), run("deb8")];
    assert!(runs.iter().all(|r| r["outcome"] == "ok"), "{runs:#?}");
    assert!(
        at(&runs[1], "began") < at(&runs[0], "ended") && at(&runs[0], "began") < at(&runs[1], "ended"),
        "the first wave overlaps"
    );
    let wave_end = at(&runs[0], "ended").max(at(&runs[1], "ended"));
    assert!(at(&runs[2], "began") >= wave_end, "the third host waits for the first two: {runs:#?}");

    assert_eq!(runs[0]["conffiles_kept"], serde_json::json!(["/etc/parc-conf.conf"]), "{:#}", runs[0]);
    let conf = first.ssh("cat /etc/parc-conf.conf; dpkg-query -W -f '${Version} ' parc-conf parc-held");
    assert_eq!(String::from_utf8_lossy(&conf.stdout), "answer = 42\n2.0 1.0 ", "kept, upgraded, and held");
    assert_eq!(runs[1]["conffiles_kept"], serde_json::json!([]), "an unchanged conffile is replaced: {:#}", runs[1]);
}

/// The SSH connection drops while dpkg runs: dpkg, detached, goes on; the
/// updater connects again, reads how it ended, and says what happened.
#[test]
fn a_dropped_connection_does_not_stop_dpkg_halfway() {
    use common::debian::{repository, Deb, DebianHost};
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let slow = [("DEBIAN/preinst", "#!/bin/sh\nsleep 4\n")];
    repository(
        &repo,
        &[
            Deb { name: "parc-slow", version: "1.0", control: "", files: &[] },
            Deb { name: "parc-slow", version: "2.0", control: "", files: &slow },
        ],
    );
    let host = DebianHost::start("deb9", &repo, &["parc-slow_1.0_all.deb"]);
    std::fs::write(tmp.path().join("parc.toml"), one_host(&host, "action = \"upgrade\"\nreboot = \"never\"\n"))
        .unwrap();
    let parc_in = |args: &[&str]| parc().current_dir(tmp.path()).args(args).output().unwrap();
    assert!(parc_in(&["collect", "--ssh", "--kinds", "system,apt"]).status.success());
    assert!(parc_in(&["plan", "-o", "plan.json"]).status.success());
    let out = std::thread::scope(|s| {
        let apply = s.spawn(|| parc_in(&["apply", "plan.json"]));
        // Once the preinst sleeps, every SSH session of the host is cut.
        for _ in 0..100 {
            std::thread::sleep(std::time::Duration::from_millis(100));
            if host.ssh("pgrep -f '[s]leep 4' >/dev/null").status.success() {
                let _ = host.ssh("pkill -f 'sshd: root@'");
                break;
            }
        }
        apply.join().unwrap()
    });
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let version = host.ssh("dpkg-query -W -f '${Version}' parc-slow");
    assert_eq!(String::from_utf8_lossy(&version.stdout), "2.0");
    let log = std::fs::read_dir(tmp.path().join("snapshots/deb9/update"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().unwrap() == "log")
        .unwrap();
    let log = std::fs::read_to_string(log).unwrap();
    assert!(log.contains("the connection dropped while it ran and was made again"), "{log}");
}

/// A kernel upgrade when /boot has filled since the plan: refused at the
/// check, nothing installed.
#[test]
fn a_kernel_does_not_go_into_a_full_boot() {
    use common::debian::{repository, Deb, DebianHost};
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    repository(
        &repo,
        &[
            Deb { name: "linux-image-parc", version: "1.0", control: "", files: &[] },
            Deb { name: "linux-image-parc", version: "2.0", control: "", files: &[] },
        ],
    );
    let host = DebianHost::start("deb10", &repo, &["linux-image-parc_1.0_all.deb"]);
    std::fs::write(tmp.path().join("parc.toml"), one_host(&host, "action = \"upgrade\"\nreboot = \"never\"\n"))
        .unwrap();
    let parc_in = |args: &[&str]| parc().current_dir(tmp.path()).args(args).output().unwrap();
    assert!(parc_in(&["collect", "--ssh", "--kinds", "system,apt"]).status.success());
    assert!(parc_in(&["plan", "-o", "plan.json"]).status.success());
    assert!(host.ssh("mount -t tmpfs -o size=1m tmpfs /boot").status.success());
    let out = parc_in(&["apply", "plan.json"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(
        stderr.contains("update deb10 FAILED at check: /boot has 1 MB free, under the 150 MB a kernel needs"),
        "{stderr}"
    );
    let version = host.ssh("dpkg-query -W -f '${Version}' linux-image-parc");
    assert_eq!(String::from_utf8_lossy(&version.stdout), "1.0");
}

/// `make bench`, not `make test` (ignored): four real hosts updated one at a
/// time, then four others all at once; prints both wall times and their ratio.
#[test]
#[ignore]
fn bench_apply_one_at_a_time_against_max_parallel() {
    use common::debian::{repository, Deb, DebianHost};
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let slow = [("DEBIAN/preinst", "#!/bin/sh\nsleep 2\n")];
    repository(
        &repo,
        &[
            Deb { name: "parc-slow", version: "1.0", control: "", files: &[] },
            Deb { name: "parc-slow", version: "2.0", control: "", files: &slow },
        ],
    );
    let mut figures = Vec::new();
    for parallel in [1, 4] {
        let dir = tmp.path().join(format!("p{parallel}"));
        std::fs::create_dir_all(&dir).unwrap();
        let hosts: Vec<DebianHost> =
            (0..4).map(|i| DebianHost::start(&format!("b{parallel}-{i}"), &repo, &["parc-slow_1.0_all.deb"])).collect();
        let known = dir.join("known_hosts");
        std::fs::write(
            &known,
            hosts.iter().map(|h| std::fs::read_to_string(h.known_hosts()).unwrap()).collect::<String>(),
        )
        .unwrap();
        let ssh_config = dir.join("ssh_config");
        let keys: String = hosts.iter().map(|h| format!("  IdentityFile {}\n", h.key().display())).collect();
        std::fs::write(&ssh_config, format!("Host *\n{keys}")).unwrap();
        let inventory: String = hosts
            .iter()
            .map(|h| format!("[[hosts]]\nname = \"{}\"\nssh = \"{}\"\n", h.name, h.destination()))
            .collect();
        std::fs::write(
            dir.join("parc.toml"),
            format!(
                "[ssh]\nknown_hosts = \"{}\"\nconfig_file = \"{}\"\n\n{inventory}\n[[update]]\nname = \"p\"\nhosts = [\"b*\"]\n\
                 action = \"upgrade\"\nreboot = \"never\"\nmax_parallel = {parallel}\n",
                known.display(),
                ssh_config.display()
            ),
        )
        .unwrap();
        let parc_in = |args: &[&str]| parc().current_dir(&dir).args(args).output().unwrap();
        assert!(parc_in(&["collect", "--ssh", "--kinds", "system,apt"]).status.success());
        assert!(parc_in(&["plan", "-o", "plan.json"]).status.success());
        let start = std::time::Instant::now();
        let out = parc_in(&["apply", "plan.json"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        figures.push(start.elapsed().as_secs_f64());
    }
    println!(
        "apply, 4 real hosts, a 2 s preinst each: one at a time {:.2} s, max_parallel = 4 {:.2} s ({:.2}x)",
        figures[0],
        figures[1],
        figures[0] / figures[1]
    );
}

/// `action = "security"` on a real host: only what comes from a security
/// archive (a Release labelled Debian-Security) is upgraded.
#[test]
fn security_upgrades_only_what_a_security_archive_offers() {
    use common::debian::{release, repository, Deb, DebianHost};
    let tmp = tempfile::tempdir().unwrap();
    let (main, security) = (tmp.path().join("main"), tmp.path().join("security"));
    repository(
        &main,
        &[
            Deb { name: "parc-tool", version: "1.0", control: "", files: &[] },
            Deb { name: "parc-tool", version: "2.0", control: "", files: &[] },
            Deb { name: "parc-sec", version: "1.0", control: "", files: &[] },
        ],
    );
    repository(&security, &[Deb { name: "parc-sec", version: "1.1", control: "", files: &[] }]);
    release(&security, "Debian-Security", "bookworm-security");
    let host = DebianHost::start_with("deb11", &[&main, &security], &["parc-tool_1.0_all.deb", "parc-sec_1.0_all.deb"]);
    std::fs::write(tmp.path().join("parc.toml"), one_host(&host, "action = \"security\"\nreboot = \"never\"\n"))
        .unwrap();
    let parc_in = |args: &[&str]| parc().current_dir(tmp.path()).args(args).output().unwrap();
    assert!(parc_in(&["collect", "--ssh", "--kinds", "system,apt"]).status.success());
    assert!(parc_in(&["plan", "-o", "plan.json"]).status.success());
    let plan = read_json(&tmp.path().join("plan.json"));
    let packages = &plan["updates"][0]["packages"];
    assert_eq!(packages.as_array().map(|p| p.len()), Some(1), "{plan:#}");
    assert_eq!((&packages[0]["package"], &packages[0]["security"]), (&"parc-sec".into(), &true.into()), "{plan:#}");
    let out = parc_in(&["apply", "plan.json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let versions = host.ssh("dpkg-query -W -f '${Package} ${Version}\\n' parc-sec parc-tool");
    assert_eq!(String::from_utf8_lossy(&versions.stdout), "parc-sec 1.1\nparc-tool 1.0\n");
}

/// A host that looks like a virtual machine gets a new boot id at its
/// reboot; the run shows both.
#[test]
fn a_virtual_machine_reboot_is_verified_by_its_boot_id() {
    use common::debian::DebianHost;
    let tmp = tempfile::tempdir().unwrap();
    let repo = tool_repository(tmp.path());
    let host = DebianHost::start_vm("vm1", &repo, &["parc-tool_1.0_all.deb"]);
    let boot_id =
        || String::from_utf8_lossy(&host.ssh("cat /proc/sys/kernel/random/boot_id").stdout).trim().to_string();
    let before = boot_id();
    assert_ne!(before, std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap().trim(), "its own boot id");
    std::fs::write(
        tmp.path().join("parc.toml"),
        one_host(&host, "action = \"upgrade\"\nreboot = \"always\"\nreboot_timeout = \"30s\"\n"),
    )
    .unwrap();
    let parc_in = |args: &[&str]| parc().current_dir(tmp.path()).args(args).output().unwrap();
    assert!(parc_in(&["collect", "--ssh", "--kinds", "system,apt"]).status.success());
    assert!(parc_in(&["plan", "-o", "plan.json"]).status.success());
    let out = parc_in(&["apply", "plan.json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let folder = tmp.path().join("snapshots/vm1/update");
    let file = std::fs::read_dir(folder).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().unwrap() == "json");
    let reboot = read_json(&file.unwrap())["run"]["reboot"].clone();
    assert_eq!(reboot["verified"], true, "{reboot:#}");
    assert_eq!(reboot["before"]["boot_id"], before.as_str(), "{reboot:#}");
    assert_eq!(reboot["after"]["boot_id"], boot_id().as_str(), "{reboot:#}");
    assert_ne!(reboot["before"]["boot_id"], reboot["after"]["boot_id"], "{reboot:#}");
}

/// full-upgrade on a real host: a new dependency installed, a conflicting
/// package removed — skipped while `allow_removals` is false, done when true.
#[test]
fn a_full_upgrade_that_removes_a_package_waits_for_allow_removals() {
    use common::debian::{repository, Deb, DebianHost};
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    repository(
        &repo,
        &[
            Deb { name: "parc-lib", version: "1.0", control: "", files: &[] },
            Deb { name: "parc-lib", version: "2.0", control: "Depends: parc-new\n", files: &[] },
            Deb { name: "parc-new", version: "1.0", control: "Conflicts: parc-old\n", files: &[] },
            Deb { name: "parc-old", version: "1.0", control: "", files: &[] },
        ],
    );
    let host = DebianHost::start("deb12", &repo, &["parc-lib_1.0_all.deb", "parc-old_1.0_all.deb"]);
    let config = |allow: bool| {
        let text = format!(
            "[ssh]\nidentity_file = \"{}\"\nknown_hosts = \"{}\"\n\n[[hosts]]\nname = \"deb12\"\nssh = \"{}\"\n\n\
             [[update]]\nname = \"p\"\nhosts = [\"deb12\"]\naction = \"full-upgrade\"\nreboot = \"never\"\nallow_removals = {allow}\n",
            host.key().display(),
            host.known_hosts().display(),
            host.destination()
        );
        std::fs::write(tmp.path().join("parc.toml"), text).unwrap();
    };
    let parc_in = |args: &[&str]| parc().current_dir(tmp.path()).args(args).output().unwrap();
    config(false);
    assert!(parc_in(&["collect", "--ssh", "--kinds", "system,apt"]).status.success());
    assert!(parc_in(&["plan", "-o", "plan.json"]).status.success());
    let update = read_json(&tmp.path().join("plan.json"))["updates"][0].clone();
    assert_eq!(
        (&update["skip"], &update["removals"]),
        (&"removals".into(), &serde_json::json!(["parc-old"])),
        "{update:#}"
    );

    config(true);
    assert!(parc_in(&["plan", "-o", "plan.json"]).status.success());
    let out = parc_in(&["apply", "plan.json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let listed = host.ssh("dpkg-query -W -f '${Package} ${Version} ${db:Status-Abbrev}\\n' parc-lib parc-new parc-old");
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(listed.contains("parc-lib 2.0 ii") && listed.contains("parc-new 1.0 ii"), "{listed}");
    assert!(!listed.contains("parc-old 1.0 ii"), "parc-old is removed: {listed}");
    let folder = tmp.path().join("snapshots/deb12/update");
    let file = std::fs::read_dir(folder).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().unwrap() == "json");
    let changed = read_json(&file.unwrap())["run"]["changed"].clone();
    assert_eq!(
        changed,
        serde_json::json!([
            {"package": "parc-lib", "from": "1.0", "to": "2.0"},
            {"package": "parc-new", "from": null, "to": "1.0"},
            {"package": "parc-old", "from": "1.0", "to": null}
        ])
    );
}

/// `reboot = "when-required"` on a real host: a kernel-like package whose
/// postinst writes /run/reboot-required brings a verified reboot; after it,
/// the flag is gone with the old /run.
#[test]
fn when_required_reboots_only_when_the_host_says_so() {
    use common::debian::{repository, Deb, DebianHost};
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let flags =
        [("DEBIAN/postinst", "#!/bin/sh\necho parc-kernel >> /run/reboot-required.pkgs\ntouch /run/reboot-required\n")];
    repository(
        &repo,
        &[
            Deb { name: "parc-tool", version: "1.0", control: "", files: &[] },
            Deb { name: "parc-tool", version: "2.0", control: "", files: &[] },
            Deb { name: "parc-kernel", version: "1.0", control: "", files: &[] },
            Deb { name: "parc-kernel", version: "2.0", control: "", files: &flags },
        ],
    );
    let quiet = DebianHost::start("deb13", &repo, &["parc-tool_1.0_all.deb"]);
    let kernel = DebianHost::start("deb14", &repo, &["parc-kernel_1.0_all.deb"]);
    let known = tmp.path().join("known_hosts");
    let both = [quiet.known_hosts(), kernel.known_hosts()].map(|f| std::fs::read_to_string(f).unwrap()).concat();
    std::fs::write(&known, both).unwrap();
    let ssh_config = tmp.path().join("ssh_config");
    let keys = format!("Host *\n  IdentityFile {}\n  IdentityFile {}\n", quiet.key().display(), kernel.key().display());
    std::fs::write(&ssh_config, keys).unwrap();
    std::fs::write(
        tmp.path().join("parc.toml"),
        format!(
            "[ssh]\nknown_hosts = \"{}\"\nconfig_file = \"{}\"\n\n[[hosts]]\nname = \"deb13\"\nssh = \"{}\"\n[[hosts]]\nname = \"deb14\"\nssh = \"{}\"\n\n\
             [[update]]\nname = \"p\"\nhosts = [\"deb*\"]\naction = \"upgrade\"\nreboot = \"when-required\"\nreboot_timeout = \"30s\"\n",
            known.display(),
            ssh_config.display(),
            quiet.destination(),
            kernel.destination()
        ),
    )
    .unwrap();
    let parc_in = |args: &[&str]| parc().current_dir(tmp.path()).args(args).output().unwrap();
    assert!(parc_in(&["collect", "--ssh", "--kinds", "system,apt"]).status.success());
    assert!(parc_in(&["plan", "-o", "plan.json"]).status.success());
    let out = parc_in(&["apply", "plan.json"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("update deb13 ok: upgrade, 1 package(s) changed\n"), "no reboot for deb13: {stderr}");
    assert!(stderr.contains("update deb14 ok: upgrade, 1 package(s) changed, reboot verified in"), "{stderr}");
    assert!(!kernel.ssh("test -e /run/reboot-required").status.success(), "a new /run after the reboot");
}

/// A parc.toml that reaches `host` over SSH as root, with one `[[update]]`
/// policy `p` for it alone; `policy` holds its other keys.
fn one_host(host: &common::debian::DebianHost, policy: &str) -> String {
    format!(
        "[ssh]\nidentity_file = \"{}\"\nknown_hosts = \"{}\"\n\n[[hosts]]\nname = \"{name}\"\nssh = \"{}\"\n\n\
         [[update]]\nname = \"p\"\nhosts = [\"{name}\"]\n{policy}",
        host.key().display(),
        host.known_hosts().display(),
        host.destination(),
        name = host.name
    )
}

/// collect.apt_proxy: the host's only source is a name no resolver knows,
/// reached through a proxy on loopback; the probe's `apt-get update` and the
/// update's download both go through it.
#[test]
fn apt_goes_through_the_configured_proxy_to_collect_and_to_update() {
    use common::debian::DebianHost;
    let tmp = tempfile::tempdir().unwrap();
    let repo = tool_repository(tmp.path());
    let host = DebianHost::start("deb-proxy", &repo, &["parc-tool_1.0_all.deb"]);
    std::fs::write(
        host.root.join("etc/apt/sources.list.d/parc-tests.list"),
        "deb [trusted=yes] http://repo.parc.invalid/ ./\n",
    )
    .unwrap();
    let proxy = common::proxy::Proxy::start(repo.clone());
    let url = format!("http://127.0.0.1:{}", proxy.port);
    let policy = "action = \"upgrade\"\nreboot = \"never\"\n";
    let config = format!("[collect]\napt_update = true\napt_proxy = \"{url}\"\n\n{}", one_host(&host, policy));
    std::fs::write(tmp.path().join("parc.toml"), config).unwrap();
    let parc_in = |args: &[&str]| parc().current_dir(tmp.path()).args(args).output().unwrap();

    let collect = parc_in(&["collect", "--ssh", "--kinds", "system,apt"]);
    assert!(collect.status.success(), "{}", String::from_utf8_lossy(&collect.stderr));
    let apt = read_json(&tmp.path().join("snapshots/deb-proxy/apt.json"));
    let update = &apt["probes"]["apt-update"];
    assert_eq!(update["cmd"].as_str().unwrap().trim(), format!("apt-get -q update -o Acquire::http::Proxy={url}"));
    assert_eq!(update["exit"], 0, "{update:#}");
    let asked = proxy.requests();
    assert!(
        asked.iter().any(|r| r.starts_with("GET http://repo.parc.invalid/") && r.contains("Packages")),
        "{asked:?}"
    );

    assert!(parc_in(&["plan", "-o", "plan.json"]).status.success());
    let out = parc_in(&["apply", "plan.json"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(stderr.contains("update deb-proxy ok: upgrade, 1 package(s) changed"), "{stderr}");
    let asked = proxy.requests();
    assert!(asked.iter().any(|r| r.contains("parc-tool_2.0_all.deb")), "the package came through the proxy: {asked:?}");
    let version = host.ssh("dpkg-query -W -f '${Version}' parc-tool");
    assert_eq!(String::from_utf8_lossy(&version.stdout), "2.0");

    // The update wrapper takes a plain URL only.
    let wrapper = parc().args(["probe-script", "--update-wrapper"]).output().unwrap();
    std::fs::write(host.root.join("usr/local/sbin/parc-update-root"), &wrapper.stdout).unwrap();
    let refused =
        host.ssh("sh /usr/local/sbin/parc-update-root --proxy 'http://x -o APT::Update::Pre-Invoke::=id' refresh");
    assert_eq!(refused.status.code(), Some(126), "{}", String::from_utf8_lossy(&refused.stderr));
}

/// A repository with parc-tool 1.0 and 2.0: a host with 1.0 has one upgrade pending.
fn tool_repository(dir: &std::path::Path) -> PathBuf {
    use common::debian::{repository, Deb};
    let repo = dir.join("repo");
    let tool = |version| Deb { name: "parc-tool", version, control: "", files: &[] };
    repository(&repo, &[tool("1.0"), tool("2.0")]);
    repo
}

//! `parc collect` for real: on this machine, over a loopback sshd, into a
//! git repository with a bare remote. Loopback only.

mod common;

use common::sshd::{free_port, Sshd};
use common::*;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;

fn stderr(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

#[test]
fn probe_scripts_are_printed_with_their_markers() {
    for kind in ["system", "disks", "apt"] {
        let out = parc().args(["probe-script", kind]).assert().success();
        let script = String::from_utf8_lossy(&out.get_output().stdout).to_string();
        assert!(
            script.starts_with("#!/bin/sh")
                && script.contains("===PARC:%s===")
                && script.contains("===PARC:EXIT=%s===")
        );
        assert!(script.contains("export LC_ALL=C") && script.trim_end().ends_with("finish"), "{kind}");
        let syntax = Command::new("sh").arg("-n").arg("-c").arg(&script).status().unwrap();
        assert!(syntax.success(), "{kind}: sh -n");
    }
    parc().args(["probe-script", "nosuch"]).assert().code(1);
}

#[test]
fn collects_this_machine_and_builds_a_site_that_shows_it() {
    let tmp = tempfile::tempdir().unwrap();
    let snaps = tmp.path().join("snapshots");
    let run = parc()
        .current_dir(tmp.path())
        .args(["collect", "--host", "here", "--snapshots"])
        .arg(&snaps)
        .assert()
        .success();
    assert!(stderr(&run).contains("here") && stderr(&run).contains("ok, 3 snapshots"), "{}", stderr(&run));
    let system = read_json(&snaps.join("here/system.json"));
    assert_eq!(
        (system["schema"].as_str(), system["host"].as_str(), system["agent"]["mode"].as_str()),
        (Some("parc.snapshot/1"), Some("here"), Some("local"))
    );
    assert_eq!(system["probes"]["uname"]["exit"], 0);
    assert!(system["probes"]["ip"]["out"].is_array(), "ip -j's JSON is kept as JSON");
    let disks = read_json(&snaps.join("here/disks.json"));
    assert!(disks["probes"]["lsblk"]["out"]["blockdevices"].is_array());
    for (key, probe) in disks["probes"].as_object().unwrap() {
        assert!(probe["ms"].is_u64() && probe["cmd"].is_string() && probe["exit"].is_i64(), "{key}: {probe}");
    }
    // Whatever this machine is (a VM without SMART, a zram device), the build reads it.
    let site = tmp.path().join("site");
    build_cmd(&snaps, &site, &["--strict"]).assert().success();
    let host = read_json(&site.join("api/v1/hosts/here.json"));
    assert_eq!(host["name"], "here");
    assert!(host["os"].is_string() && host["kernel"].is_string(), "{host:#}");
    // Each disk smartctl was asked about is on the site: judged when SMART
    // answered, "unknown" with the reason why when it did not.
    let published = read_json(&site.join("api/v1/disks.json"));
    let asked: Vec<(&str, &Value)> = disks["probes"]
        .as_object()
        .unwrap()
        .iter()
        .filter_map(|(key, probe)| key.strip_prefix("smartctl:").map(|dev| (dev, &probe["out"])))
        .collect();
    assert!(!asked.is_empty(), "smartctl was asked about no disk: {}", disks["probes"]["smartctl-scan"]);
    for (device, answer) in asked {
        let disk = published.as_array().unwrap().iter().find(|d| d["device"] == device);
        let disk = disk.unwrap_or_else(|| panic!("{device} is not on the site: {published:#}"));
        if answer.get("smart_status").is_some() {
            assert_ne!(disk["verdict"], "unknown", "{disk}");
        } else {
            assert_eq!(
                (&disk["verdict"], &disk["reasons"][0]["code"]),
                (&json!("unknown"), &json!("no_smart")),
                "{disk}"
            );
        }
    }
    // This machine is a Debian: its real apt answers, never an update (collect.apt_update is off).
    let apt = read_json(&snaps.join("here/apt.json"));
    assert!(apt["probes"].get("apt-update").is_none(), "no apt-get update unless asked");
    for key in
        ["apt-sim-upgrade", "apt-sim-dist-upgrade", "apt-showhold", "reboot-required", "dpkg-query", "apt-sources"]
    {
        assert_eq!(apt["probes"][key]["exit"], 0, "{key}: {}", apt["probes"][key]);
    }
    let hosts = read_json(&site.join("api/v1/apt/hosts.json"));
    assert_eq!(hosts[0]["host"], "here");
    let installed = read_json(&site.join("api/v1/apt/packages.json"));
    let dpkg = apt["probes"]["dpkg-query"]["out"].as_str().unwrap().lines().filter(|l| l.contains("\tii")).count();
    assert_eq!(installed.as_array().unwrap().len(), dpkg, "every installed package is in the index");
    assert!(site.join("apt/here.html").is_file());
}

/// A PATH with the tools the probes use, but not smartctl.
fn path_without_smartctl(dir: &Path) -> String {
    std::fs::create_dir_all(dir).unwrap();
    for tool in [
        "sh", "cat", "date", "timeout", "mktemp", "rm", "awk", "grep", "sed", "lsblk", "df", "du", "uname", "hostname",
        "ip", "printf", "sleep",
    ] {
        for prefix in ["/usr/bin", "/bin", "/usr/sbin", "/sbin"] {
            let from = Path::new(prefix).join(tool);
            if from.exists() && !dir.join(tool).exists() {
                std::os::unix::fs::symlink(&from, dir.join(tool)).unwrap();
            }
        }
    }
    dir.display().to_string()
}

/// Puts in `bin` a tool `name` that runs `script` (replacing the real one's link).
fn fake_tool(bin: &Path, name: &str, script: &str) {
    let _ = std::fs::remove_file(bin.join(name));
    std::fs::write(bin.join(name), format!("#!/bin/sh\n{script}\n")).unwrap();
    assert!(Command::new("chmod").arg("755").arg(bin.join(name)).status().unwrap().success());
}

#[test]
fn a_host_without_smartctl_and_a_probe_that_hangs_are_recorded_not_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    let snaps = tmp.path().join("snapshots");
    let bin = tmp.path().join("bin");
    let path = path_without_smartctl(&bin);
    // df that never answers.
    fake_tool(&bin, "df", "exec sleep 600");
    std::fs::write(tmp.path().join("parc.toml"), "[collect]\nprobe_timeout = 1\n").unwrap();
    parc()
        .current_dir(tmp.path())
        .env("PARC_PATH", &path)
        .args(["collect", "--host", "bare", "--kinds", "disks", "--snapshots"])
        .arg(&snaps)
        .assert()
        .success();
    let disks = read_json(&snaps.join("bare/disks.json"));
    let probes = disks["probes"].as_object().unwrap();
    assert_eq!(probes["df"]["exit"], 124, "{:#}", probes["df"]);
    assert!(probes["df"]["err"].as_str().unwrap().contains("timed out"));
    assert_eq!(probes["smartctl-scan"]["exit"], 127, "{:#}", probes["smartctl-scan"]);
    assert!(probes["smartctl-scan"]["err"].as_str().unwrap().contains("not found"));
    assert_eq!(probes["lsblk"]["exit"], 0, "the other probes ran");
    // The build shows the failures, and no disk as healthy.
    let site = tmp.path().join("site");
    build_cmd(&snaps, &site, &[]).assert().success();
    let host = read_json(&site.join("api/v1/hosts/bare.json"));
    let failed: Vec<&str> = host["failures"].as_array().unwrap().iter().map(|f| f["probe"].as_str().unwrap()).collect();
    assert!(failed.contains(&"df") && failed.contains(&"smartctl-scan"), "{failed:?}");
    for disk in read_json(&site.join("api/v1/disks.json")).as_array().unwrap() {
        assert_eq!(disk["verdict"], "unknown", "{disk}");
    }
}

#[test]
fn collects_over_ssh_and_names_the_folder_by_inventory_or_reported_name() {
    let sshd = Sshd::start();
    let tmp = tempfile::tempdir().unwrap();
    let snaps = tmp.path().join("snapshots");
    let dest = format!("127.0.0.1:{}", sshd.port);
    std::fs::write(
        tmp.path().join("parc.toml"),
        sshd.config(&format!("[[hosts]]\nname = \"loop\"\nssh = \"{dest}\"\n")),
    )
    .unwrap();
    // From the inventory.
    let run = parc().current_dir(tmp.path()).args(["collect", "--ssh", "--snapshots"]).arg(&snaps).assert().success();
    assert!(stderr(&run).contains("loop") && stderr(&run).contains("ok, 3 snapshots"), "{}", stderr(&run));
    let system = read_json(&snaps.join("loop/system.json"));
    assert_eq!((system["host"].as_str(), system["agent"]["mode"].as_str()), (Some("loop"), Some("ssh")));
    assert_eq!(system["probes"]["hostname"]["exit"], 0);
    // Not in the inventory: the folder is the name the host reports.
    let reported = system["probes"]["hostname"]["out"].as_str().unwrap().trim().to_string();
    parc()
        .current_dir(tmp.path())
        .args(["collect", "--kinds", "system", "--ssh", &format!("root@{dest}x")])
        .arg("--snapshots")
        .arg(&snaps)
        .assert()
        .code(4);
    parc()
        .current_dir(tmp.path())
        .args(["collect", "--kinds", "system", "--snapshots"])
        .arg(&snaps)
        .args(["--ssh", &format!("root@127.0.0.1:{}", sshd.port)])
        .assert()
        .success();
    assert!(snaps.join(&reported).join("system.json").is_file(), "folder named {reported:?}");
    // And the site shows both.
    let site = tmp.path().join("site");
    build_cmd(&snaps, &site, &[]).assert().success();
    assert!(site.join("api/v1/hosts/loop.json").is_file());
}

#[test]
fn one_failing_host_never_stops_the_others() {
    let sshd = Sshd::start();
    let tmp = tempfile::tempdir().unwrap();
    let snaps = tmp.path().join("snapshots");
    let good = format!("127.0.0.1:{}", sshd.port);
    let dead = format!("127.0.0.1:{}", free_port());
    // The same server, reached with a key it does not know.
    let stranger = tempfile::tempdir().unwrap();
    // A host that takes the connection and never says a word.
    let silent_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent = format!("127.0.0.1:{}", silent_listener.local_addr().unwrap().port());
    std::thread::spawn(move || {
        let held: Vec<_> = silent_listener.incoming().take(4).collect();
        std::thread::sleep(std::time::Duration::from_secs(60));
        drop(held);
    });
    let inventory = format!(
        "[[hosts]]\nname = \"good\"\nssh = \"{good}\"\n[[hosts]]\nname = \"dead\"\nssh = \"{dead}\"\n[[hosts]]\nname = \"refused\"\nssh = \"refused\"\n[[hosts]]\nname = \"silent\"\nssh = \"{silent}\"\n"
    );
    // The refused host gets its key from the ssh_config; the others the [ssh] identity.
    let config = format!(
        "[ssh]\nknown_hosts = \"{}\"\ntimeout = 8\nuser = \"root\"\n{inventory}",
        sshd.path("known_hosts").display()
    );
    std::fs::write(tmp.path().join("parc.toml"), config).unwrap();
    std::fs::write(
        stranger.path().join("ssh_config"),
        format!(
            "Host refused\n  HostName 127.0.0.1\n  Port {port}\n  IdentityFile {stranger}\n  IdentitiesOnly yes\nHost 127.0.0.1\n  IdentityFile {id}\n  IdentitiesOnly yes\n",
            port = sshd.port,
            stranger = sshd.path("stranger").display(),
            id = sshd.path("id").display()
        ),
    )
    .unwrap();
    let run = parc()
        .current_dir(tmp.path())
        .args(["collect", "--kinds", "system", "--ssh", "--ssh-config"])
        .arg(stranger.path().join("ssh_config"))
        .arg("--snapshots")
        .arg(&snaps)
        .assert()
        .code(4);
    let table = stderr(&run);
    let line = |host: &str| {
        table.lines().find(|l| l.starts_with(host)).unwrap_or_else(|| panic!("no {host} line in\n{table}")).to_string()
    };
    assert!(line("good").contains("ok, 1 snapshot"), "{table}");
    assert!(line("dead").contains("FAILED") && line("dead").contains("refused"), "{table}");
    assert!(line("refused").contains("FAILED") && line("refused").contains("Permission denied"), "{table}");
    assert!(line("silent").contains("FAILED") && line("silent").contains("8 s"), "{table}");
    assert!(snaps.join("good/system.json").is_file());
    // Each host not reached is recorded with its cause, and nothing else is written for it.
    let class = |host: &str| read_json(&snaps.join(host).join("reach.json"))["reach"]["class"].clone();
    assert_eq!((class("dead"), class("refused"), class("silent")), (json!("refused"), json!("auth"), json!("timeout")));
    assert!(!snaps.join("good/reach.json").exists() && !snaps.join("dead/system.json").exists());
}

/// A host of the inventory, reached through the ssh_config alias `alias`.
fn alias(name: &str, port: u16, extra: &str) -> String {
    format!("Host {name}\n  HostName 127.0.0.1\n  Port {port}\n  HostKeyAlias {name}\n{extra}")
}

#[test]
fn a_host_not_reached_is_recorded_and_found_with_its_cause_until_it_answers() {
    let sshd = Sshd::start();
    let tmp = tempfile::tempdir().unwrap();
    let snaps = tmp.path().join("snapshots");
    std::fs::create_dir_all(&snaps).unwrap();
    git(&snaps, &["init", "-q"]);
    // pve-good answers; pve-dead's port is closed; pve-newkey answers with a key other than the known one.
    let host_key = read(&sshd.path("hostkey.pub"));
    let stranger = read(&sshd.path("stranger.pub"));
    let key = |k: &str| k.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
    let known = tmp.path().join("known_hosts");
    std::fs::write(
        &known,
        format!("pve-good {}\npve-dead {}\npve-newkey {}\n", key(&host_key), key(&host_key), key(&stranger)),
    )
    .unwrap();
    let ssh_config = tmp.path().join("ssh_config");
    let dead_port = free_port();
    let write_ssh_config = |dead: u16| {
        let text = [alias("pve-good", sshd.port, ""), alias("pve-dead", dead, ""), alias("pve-newkey", sshd.port, "")]
            .concat();
        std::fs::write(&ssh_config, text).unwrap();
    };
    write_ssh_config(dead_port);
    let config = format!(
        "[ssh]\nuser = \"root\"\nidentity_file = \"{}\"\nknown_hosts = \"{}\"\nconfig_file = \"{}\"\ntimeout = 20\n\
         [[hosts]]\nname = \"pve-good\"\n[[hosts]]\nname = \"pve-dead\"\n[[hosts]]\nname = \"pve-newkey\"\n",
        sshd.path("id").display(),
        known.display(),
        ssh_config.display()
    );
    std::fs::write(tmp.path().join("parc.toml"), config).unwrap();
    let collect =
        || parc().current_dir(tmp.path()).args(["collect", "--kinds", "system", "--ssh", "--commit"]).assert();
    let table = stderr(&collect().code(4));
    assert!(table.contains("recorded as reach"), "{table}");
    // The record is committed with the snapshots, and the commit names the hosts not reached.
    let subject = git(&snaps, &["log", "-1", "--format=%s"]);
    assert!(subject.contains("not reached: pve-dead, pve-newkey"), "{subject}");
    let committed = git(&snaps, &["show", "--name-only", "--format=", "HEAD"]);
    assert!(committed.contains("pve-dead/reach.json") && committed.contains("pve-newkey/reach.json"), "{committed}");
    let reach = read_json(&snaps.join("pve-dead/reach.json"));
    assert_eq!((reach["kind"].clone(), reach["reach"]["destination"].clone()), (json!("reach"), json!("pve-dead")));
    assert!(reach["reach"]["error"].as_str().unwrap().contains("Connection refused"), "{reach}");

    let site = tmp.path().join("site");
    let built = || {
        build_cmd(&snaps, &site, &[]).assert().success();
        let findings = read_json(&site.join("api/v1/findings.json"));
        let unreachable: Vec<(String, Value)> = (findings.as_array().unwrap().iter())
            .filter(|f| f["kind"] == "host-unreachable" && f["state"] != "closed")
            .map(|f| (f["host"].as_str().unwrap().to_string(), f["evidence"][0]["value"].clone()))
            .collect();
        unreachable
    };
    assert_eq!(
        built(),
        [("pve-dead".to_string(), json!("refused")), ("pve-newkey".to_string(), json!("host-key"))],
        "the reached host has none"
    );
    let page = read(&site.join("hosts/pve-dead.html"));
    assert!(page.contains("id=\"host-unreachable\"") && page.contains("the connection was refused"), "host page");
    assert!(read(&site.join("index.html")).contains("host-unreachable:pve-dead"), "on the dashboard");
    let host = read_json(&site.join("api/v1/hosts/pve-dead.json"));
    assert_eq!(host["unreachable"]["class"], "refused", "{host}");
    assert_eq!(host["unreachable"]["attempts"], 1);

    // A second failure keeps the first's since; once the host answers, the finding is gone.
    let next_second = || std::thread::sleep(std::time::Duration::from_millis(1100));
    next_second();
    collect().code(4);
    build_cmd(&snaps, &site, &[]).assert().success();
    let again = read_json(&site.join("api/v1/hosts/pve-dead.json"));
    assert_eq!(again["unreachable"]["attempts"], 2, "{again}");
    assert_eq!(again["unreachable"]["since"], host["unreachable"]["since"], "since stays at the first failure");
    let findings = read_json(&site.join("api/v1/findings.json"));
    let dead = findings.as_array().unwrap().iter().find(|f| f["id"] == "host-unreachable:pve-dead").unwrap().clone();
    assert_eq!(dead["since"], host["unreachable"]["since"], "{dead}");
    write_ssh_config(sshd.port);
    next_second();
    collect().code(4);
    assert_eq!(built(), [("pve-newkey".to_string(), json!("host-key"))]);
    assert!(!read(&site.join("hosts/pve-dead.html")).contains("host-unreachable"));
    assert!(read_json(&site.join("api/v1/hosts/pve-dead.json"))["unreachable"].is_null());
}

#[test]
fn an_unknown_host_key_is_refused_never_trusted() {
    let sshd = Sshd::start();
    let tmp = tempfile::tempdir().unwrap();
    let empty_known_hosts = tmp.path().join("known_hosts");
    std::fs::write(&empty_known_hosts, "").unwrap();
    std::fs::write(
        tmp.path().join("parc.toml"),
        format!(
            "[ssh]\nuser = \"root\"\nidentity_file = \"{}\"\nknown_hosts = \"{}\"\n",
            sshd.path("id").display(),
            empty_known_hosts.display()
        ),
    )
    .unwrap();
    let run = parc()
        .current_dir(tmp.path())
        .args(["collect", "--kinds", "system", "--snapshots", "s", "--ssh", &format!("127.0.0.1:{}", sshd.port)])
        .assert()
        .code(4);
    assert!(stderr(&run).contains("FAILED"), "{}", stderr(&run));
    assert_eq!(std::fs::read_to_string(&empty_known_hosts).unwrap(), "", "the key was not added");
}

#[test]
fn commit_makes_no_commit_when_nothing_changed() {
    let tmp = tempfile::tempdir().unwrap();
    git(tmp.path(), &["init", "-q"]);
    let snaps = tmp.path().join("snapshots");
    let value = system("a", "2026-11-01T03:00:00Z");
    let file = parc::snapshot::write(&snaps, "a", "system", &value).unwrap();
    assert!(parc::collect::git::commit(&snaps, std::slice::from_ref(&file), "first").unwrap().is_some());
    parc::snapshot::write(&snaps, "a", "system", &value).unwrap();
    assert!(parc::collect::git::commit(&snaps, &[file], "again").unwrap().is_none());
    assert_eq!(git(tmp.path(), &["log", "--format=%s"]), "first\n");
}

#[test]
fn twenty_agents_pushing_at_once_all_land_in_a_linear_history() {
    let tmp = tempfile::tempdir().unwrap();
    let remote = bare_remote(tmp.path());
    let agents: Vec<_> = (0..20)
        .map(|i| {
            let clone = tmp.path().join(format!("agent{i}"));
            git(tmp.path(), &["clone", "-q", remote.to_str().unwrap(), clone.to_str().unwrap()]);
            clone
        })
        .collect();
    let bin = assert_cmd::cargo::cargo_bin("parc");
    let children: Vec<_> = agents
        .iter()
        .enumerate()
        .map(|(i, clone)| {
            Command::new(&bin)
                .current_dir(clone)
                .args(["collect", "--kinds", "system", "--host", &format!("agent-{i:02}"), "--commit", "--push"])
                .output_async()
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "agent {i}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let log = git(&remote, &["log", "--format=%H %P %s", "main"]);
    let commits: Vec<&str> = log.lines().collect();
    assert_eq!(commits.len(), 21, "{log}");
    // One commit an agent, each saying whose snapshots it holds.
    let mut subjects: Vec<&str> =
        commits.iter().filter_map(|c| c.split_once(" parc collect: ").map(|(_, s)| s)).collect();
    subjects.sort();
    let expected: Vec<String> = (0..20).map(|i| format!("agent-{i:02} (system)")).collect();
    assert_eq!(subjects, expected, "{log}");
    for c in &commits {
        let parents = c.split(' ').skip(1).take_while(|w| w.len() == 40).count();
        assert!(parents <= 1, "a merge in a history that must be linear: {c}");
    }
    let tree = git(&remote, &["ls-tree", "--name-only", "main", "snapshots/"]);
    for i in 0..20 {
        assert!(tree.contains(&format!("snapshots/agent-{i:02}")), "agent {i} is missing:\n{tree}");
    }
}

trait SpawnOutput {
    fn output_async(&mut self) -> std::process::Child;
}

impl SpawnOutput for Command {
    fn output_async(&mut self) -> std::process::Child {
        self.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap()
    }
}

/// `parc collect --kinds disks --ssh` of the loopback host, run in `dir`
/// (with its parc.toml); the snapshot it wrote.
fn collect_disks_over_ssh(dir: &Path, sshd: &Sshd) -> serde_json::Value {
    let snaps = dir.join("snapshots");
    parc()
        .current_dir(dir)
        .args(["collect", "--kinds", "disks", "--snapshots"])
        .arg(&snaps)
        .args(["--ssh", &format!("127.0.0.1:{}", sshd.port)])
        .assert()
        .success();
    let folder = std::fs::read_dir(&snaps).unwrap().next().unwrap().unwrap().path();
    read_json(&folder.join("disks.json"))
}

#[test]
fn with_ssh_sudo_only_the_commands_that_need_root_go_through_sudo() {
    install_sudo_wrapper();
    let sshd = Sshd::start();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("parc.toml"), sshd.config("sudo = true\n")).unwrap();
    let disks = collect_disks_over_ssh(tmp.path(), &sshd);
    let probes = disks["probes"].as_object().unwrap();
    for (key, probe) in probes {
        let cmd = probe["cmd"].as_str().unwrap();
        let needs_root = key.starts_with("smartctl") || ["pvs", "lvs", "home", "ceph-osd"].contains(&key.as_str());
        assert_eq!(cmd.starts_with("sudo -n /usr/local/sbin/parc-root "), needs_root, "{key}: {cmd}");
    }
    assert_eq!(probes["smartctl-scan"]["exit"], 0, "sudo -n ran smartctl: {:#}", probes["smartctl-scan"]);
}

#[test]
fn odd_bytes_from_real_tools_never_cost_a_host_its_data() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let snaps = tmp.path().join("snapshots");
    // A home folder named in Latin-1, as on systems older than UTF-8; du prints its name as it is.
    let home = std::path::PathBuf::from(std::ffi::OsStr::from_bytes(b"/home/parc-caf\xe9"));
    std::fs::create_dir_all(&home).unwrap();
    let _cleanup = RemoveOnDrop(home.clone());
    std::fs::write(home.join("notes"), vec![b'x'; 5000]).unwrap();
    // lsblk passes a USB bridge's model string through byte for byte.
    let bin = tmp.path().join("bin");
    let path = path_without_smartctl(&bin);
    let mut lsblk = corpus_json("lsblk/debian12-vm.json");
    let usb = serde_json::json!({"name": "sdb", "type": "disk", "size": 1000204886016u64, "model": "MODEL-PLACEHOLDER",
        "serial": "0000000012F4", "wwn": null, "rota": true, "tran": "usb", "hotplug": true, "children": []});
    lsblk["blockdevices"].as_array_mut().unwrap().push(usb);
    let json = serde_json::to_vec(&lsblk).unwrap();
    let text = String::from_utf8(json).unwrap();
    let (before, after) = text.split_once("MODEL-PLACEHOLDER").unwrap();
    let mut bytes = before.as_bytes().to_vec();
    bytes.extend_from_slice(b"USB3.0 \xff Disk");
    bytes.extend_from_slice(after.as_bytes());
    std::fs::write(tmp.path().join("lsblk.json"), bytes).unwrap();
    fake_tool(&bin, "lsblk", &format!("cat '{}'", tmp.path().join("lsblk.json").display()));
    parc()
        .current_dir(tmp.path())
        .env("PARC_PATH", &path)
        .args(["collect", "--host", "old", "--kinds", "disks", "--snapshots"])
        .arg(&snaps)
        .assert()
        .success();
    let disks = read_json(&snaps.join("old/disks.json"));
    let probes = &disks["probes"];
    assert_eq!(probes["lsblk"]["escaped_bytes"], 1, "{:#}", probes["lsblk"]);
    assert!(probes["lsblk"]["out"].is_object(), "the JSON stays JSON");
    assert!(probes["home"]["escaped_bytes"].as_u64().unwrap() >= 1, "{:#}", probes["home"]);
    assert!(probes["home"]["out"].as_str().unwrap().contains("/home/parc-caf\\xe9\n"), "{:#}", probes["home"]);
    // The build keeps the host, its disks and its homes, with readable names.
    let site = tmp.path().join("site");
    build_cmd(&snaps, &site, &["--strict"]).assert().success();
    let host = read_json(&site.join("api/v1/hosts/old.json"));
    let homes: Vec<&str> = host["homes"].as_array().unwrap().iter().map(|h| h["user"].as_str().unwrap()).collect();
    assert!(homes.contains(&"parc-caf\\xe9"), "{homes:?}");
    let models: Vec<String> = read_json(&site.join("api/v1/disks.json"))
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["model"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(models.contains(&"USB3.0 \\xff Disk".to_string()), "{models:?}");
    let page = read(&site.join("hosts/old.html"));
    assert!(page.contains("parc-caf\\xe9") && page.contains("USB3.0 \\xff Disk"), "the host page shows both names");
}

/// The sudoers rule the collecting guide gives, for `user`.
fn readme_sudoers(user: &str) -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("content/docs/collecting.md")).unwrap();
    let rule = readme
        .lines()
        .find(|l| l.starts_with("parc ALL=(root) NOPASSWD:"))
        .expect("a sudoers rule in the collecting guide");
    format!("{user}{}\n", rule.strip_prefix("parc").unwrap())
}

#[test]
fn ssh_sudo_as_a_non_root_user_runs_the_probes_and_nothing_else() {
    let wrapper = install_sudo_wrapper();
    let sshd = Sshd::start();
    let tmp = tempfile::tempdir().unwrap();
    let user = common::user::User::create("sudo", &tmp.path().join("home"));
    // The guide's sudoers file, installed for this user, checked by visudo.
    let sudoers = std::path::PathBuf::from(format!("/etc/sudoers.d/{}", user.name));
    std::fs::write(&sudoers, readme_sudoers(&user.name)).unwrap();
    let _cleanup = RemoveOnDrop(sudoers.clone());
    Command::new("chmod").arg("440").arg(&sudoers).status().unwrap();
    let visudo = Command::new("visudo").arg("-cf").arg(&sudoers).output().unwrap();
    assert!(visudo.status.success(), "{}", String::from_utf8_lossy(&visudo.stderr));
    std::fs::write(
        tmp.path().join("parc.toml"),
        format!(
            "[ssh]\nuser = \"{}\"\nidentity_file = \"{}\"\nknown_hosts = \"{}\"\nsudo = true\n",
            user.name,
            sshd.path("id").display(),
            sshd.path("known_hosts").display()
        ),
    )
    .unwrap();
    let disks = collect_disks_over_ssh(tmp.path(), &sshd);
    let probes = disks["probes"].as_object().unwrap();
    let root_probes: Vec<&String> =
        probes.keys().filter(|k| probes[*k]["cmd"].as_str().unwrap().starts_with("sudo -n")).collect();
    assert!(root_probes.len() >= 4, "smartctl-scan, pvs, lvs, home: {root_probes:?}");
    for key in root_probes {
        let probe = &probes[key];
        let err = probe["err"].as_str().unwrap_or_default();
        assert!(!err.contains("sudo:") && !err.contains("refused"), "{key}: sudo or the wrapper refused it: {probe:#}");
    }
    for key in ["smartctl-scan", "pvs", "lvs"] {
        assert_eq!(probes[key]["exit"], 0, "{key} ran as root: {:#}", probes[key]);
    }
    // A host agent running as that user collects itself the same way (collect.sudo).
    let agent = tmp.path().join("agent");
    std::fs::create_dir_all(agent.join("bin")).unwrap();
    std::fs::copy(assert_cmd::cargo::cargo_bin("parc"), agent.join("bin/parc")).unwrap();
    std::fs::write(agent.join("parc.toml"), "[collect]\nsudo = true\n").unwrap();
    user.own(&agent);
    let local = user
        .command(&agent, &agent.join("bin/parc"), &["collect", "--kinds", "disks", "--host", "self"])
        .output()
        .unwrap();
    assert!(local.status.success(), "{}", String::from_utf8_lossy(&local.stderr));
    let mine = read_json(&agent.join("snapshots/self/disks.json"));
    for key in ["smartctl-scan", "pvs", "lvs"] {
        let probe = &mine["probes"][key];
        assert!(probe["cmd"].as_str().unwrap().starts_with("sudo -n /usr/local/sbin/parc-root "), "{probe:#}");
        assert_eq!(probe["exit"], 0, "{key} ran as root for a local agent: {probe:#}");
    }
    // What the rule does not name is refused, by the wrapper or by sudo itself.
    let as_user = |args: &[&str]| user.command(tmp.path(), Path::new("/usr/bin/sudo"), args).output().unwrap();
    for forbidden in [
        vec!["-n", wrapper.to_str().unwrap(), "smartctl", "-s", "off", "/dev/sda"],
        vec!["-n", wrapper.to_str().unwrap(), "smartctl", "-j", "-a", "/dev/../etc/shadow"],
        vec!["-n", wrapper.to_str().unwrap(), "du", "-sb", "/root"],
        // apt: only `-q update`, needrestart only `-b` (its -r a restarts services).
        vec!["-n", wrapper.to_str().unwrap(), "apt-get", "install", "-y", "netcat-openbsd"],
        vec!["-n", wrapper.to_str().unwrap(), "apt-get", "-q", "update", "-o", "APT::Update::Pre-Invoke::=id"],
        vec!["-n", wrapper.to_str().unwrap(), "apt-get", "-q", "update", "-o", "Acquire::http::Proxy=http://x;id"],
        vec!["-n", wrapper.to_str().unwrap(), "needrestart", "-r", "a"],
        vec!["-n", "/usr/sbin/smartctl", "-j", "-a", "/dev/sda"],
        vec!["-n", "/bin/sh", "-c", "id"],
    ] {
        let out = as_user(&forbidden);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{forbidden:?} ran");
        assert!(stderr.contains("refused") || stderr.contains("sudo:"), "{forbidden:?}: {stderr}");
    }
}

#[test]
fn a_smartctl_that_hangs_is_stopped_at_the_probe_limit_on_every_path() {
    let tmp = tempfile::tempdir().unwrap();
    let snaps = tmp.path().join("snapshots");
    let bin = tmp.path().join("bin");
    let path = path_without_smartctl(&bin);
    // Hangs whatever it is asked: the JSON scan, the plain scan the script reads, each disk.
    fake_tool(&bin, "smartctl", "exec sleep 600");
    std::fs::write(tmp.path().join("parc.toml"), "[collect]\nprobe_timeout = 1\n").unwrap();
    let run = parc()
        .current_dir(tmp.path())
        .env("PARC_PATH", &path)
        .args(["collect", "--host", "stuck", "--kinds", "disks", "--snapshots"])
        .arg(&snaps)
        .assert()
        .success();
    assert!(stderr(&run).contains("ok, 1 snapshot"), "{}", stderr(&run));
    let disks = read_json(&snaps.join("stuck/disks.json"));
    assert_eq!(disks["probes"]["smartctl-scan"]["exit"], 124, "{:#}", disks["probes"]["smartctl-scan"]);
}

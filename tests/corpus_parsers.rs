//! Every parser against every real output in `tests/corpus/` (a copy of the
//! shared corpus: real tools on real machines), and the verdict each real
//! drive gets.

use parc::config::SmartConfig;
use parc::derive::risk::{assess_report, Level};
use parc::snapshot::disks::{by_id, df, home, lsblk, lvm, smartctl};
use std::path::Path;

fn corpus(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus").join(rel)).unwrap()
}

fn smart(name: &str) -> smartctl::SmartReport {
    smartctl::parse("smartctl:/dev/x", &corpus(&format!("smartctl/{name}"))).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The reason codes of a report, worst first, without the informational ones.
fn codes(name: &str) -> Vec<&'static str> {
    let mut reasons = assess_report(&smart(name), &SmartConfig::default());
    reasons.retain(|r| r.level != Level::Info);
    reasons.sort_by(|a, b| b.level.cmp(&a.level).then(a.code.as_str().cmp(b.code.as_str())));
    reasons.into_iter().map(|r| r.code.as_str()).collect()
}

#[test]
fn every_smartctl_file_parses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/smartctl");
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names.len(), 15, "{names:?}");
    for name in names.iter().filter(|n| n.starts_with("scrutiny-")) {
        let report = smart(name);
        assert!(report.model.is_some() || name.contains("-sat"), "{name}: no model");
        assert!(report.has_health_data() || name.contains("raid.json"), "{name}: no health data");
    }
}

#[test]
fn ata_drives() {
    let wd = smart("scrutiny-smart-ata.json");
    assert_eq!(wd.model.as_deref(), Some("WDC WD140EDFZ-11A0VA0"));
    assert_eq!((wd.capacity_bytes, wd.rotation_rate, wd.temperature), (Some(14_000_519_643_136), Some(5400), Some(32)));
    assert_eq!(wd.wwn.as_deref(), Some("0x5000cca264eb01d7"), "formatted as lsblk prints a WWN");
    assert_eq!(wd.attribute(194).unwrap().raw, 32, "first number of `32 (Min/Max 24/38)`, not the packed 48-bit value");
    assert!(codes("scrutiny-smart-ata.json").is_empty());
    assert!(codes("scrutiny-smart-ata-full.json").is_empty());
    let evo = smart("scrutiny-smart-ata-full.json");
    assert_eq!((evo.temperature, evo.temperature_limit), (Some(36), Some(70)));
    // CRC errors (199) are a cable's fault, not among the critical attributes.
    assert!(codes("scrutiny-smart-ata-failed-scrutiny.json").is_empty());
}

#[test]
fn the_failing_hitachi_is_failing_for_every_reason_smartctl_gives() {
    let report = smart("scrutiny-smart-fail2.json");
    assert_eq!((report.passed, report.exit_status), (Some(false), Some(216)));
    assert_eq!(
        codes("scrutiny-smart-fail2.json"),
        [
            "attribute_failed_now",
            "smart_failed",
            "ata_attribute",
            "ata_attribute",
            "ata_attribute",
            "error_log",
            "self_test_errors"
        ]
    );
}

#[test]
fn megaraid_disks_with_masked_serials_keep_their_wwns() {
    let (a, b) = (smart("scrutiny-smart-megaraid0.json"), smart("scrutiny-smart-megaraid1.json"));
    assert_eq!(a.serial, b.serial, "both masked to the same string");
    assert_ne!(a.wwn, b.wwn);
    assert_eq!(b.device_type.as_deref(), Some("sat+megaraid,1"));
    assert!(codes("scrutiny-smart-megaraid0.json").is_empty());
    assert_eq!(codes("scrutiny-smart-megaraid1.json"), ["ata_attribute", "ata_attribute"], "387 reallocated, 9 events");
}

#[test]
fn nvme_drives() {
    let failed = smart("scrutiny-smart-nvme-failed.json");
    let nvme = failed.nvme.as_ref().unwrap();
    assert_eq!((nvme.media_errors, nvme.available_spare, nvme.percentage_used), (7, Some(99), Some(3)));
    assert_eq!(codes("scrutiny-smart-nvme-failed.json"), ["nvme_media_errors"]);
    assert!(codes("scrutiny-smart-nvme.json").is_empty());
    assert!(codes("scrutiny-smart-nvme2.json").is_empty());
    assert_eq!(smart("scrutiny-smart-nvme2.json").capacity_bytes, Some(480_103_981_056));
}

#[test]
fn scsi_drives() {
    let sas = smart("scrutiny-smart-scsi.json");
    assert_eq!(sas.model.as_deref(), Some("SEAGATE ST4000NM0043"));
    assert_eq!((sas.temperature, sas.temperature_limit), (Some(34), Some(68)));
    assert_eq!(codes("scrutiny-smart-scsi.json"), ["scsi_grown_defects"]);
    assert!(codes("scrutiny-smart-scsi2.json").is_empty());
}

#[test]
fn what_has_no_smart_is_never_healthy() {
    let raid = smart("scrutiny-smart-raid.json");
    assert_eq!(raid.model.as_deref(), Some("Intel Raid 1 Volume"));
    assert!(!raid.has_health_data());
    assert_eq!(raid.temperature, None, "a reported 0 °C is no reading");
    let virtio = smart("virtio-disk-unable-to-detect.json");
    assert!(!virtio.has_health_data());
    assert_eq!(virtio.messages, ["/dev/vda: Unable to detect device type"]);
    assert_eq!(
        virtio.device.as_deref(),
        Some("/dev/x"),
        "the device comes from the probe key when smartctl names none"
    );
    // A SAT bridge without smart_status is judged on its attributes.
    let sat = smart("scrutiny-smart-sat.json");
    assert_eq!((sat.passed, sat.attribute(196).unwrap().raw), (None, 2111));
    assert_eq!(codes("scrutiny-smart-sat.json"), ["ata_attribute"]);
}

#[test]
fn lsblk_of_a_vm() {
    for name in ["debian12-vm.json", "debian12-vm-loop-mounted.json"] {
        let devices = lsblk::parse(serde_json::from_str(&corpus(&format!("lsblk/{name}"))).unwrap());
        let names: Vec<(&str, bool)> = devices.iter().map(|d| (d.name.as_str(), d.is_physical_disk())).collect();
        assert_eq!(names, [("loop0", false), ("zram0", false), ("vda", true)], "{name}");
        assert_eq!(devices[2].rotational, Some(true));
    }
    let mounted = lsblk::parse(serde_json::from_str(&corpus("lsblk/debian12-vm-loop-mounted.json")).unwrap());
    assert_eq!(mounted[0].mountpoints, ["/mnt/parc-home"]);
    assert!(mounted[1].mountpoints.is_empty(), "[null] is no mount point");
}

#[test]
fn df_keeps_real_file_systems() {
    let fs = df::parse(&corpus("df/debian12-vm.txt")).unwrap();
    let targets: Vec<&str> = fs.iter().map(|f| f.target.as_str()).collect();
    assert_eq!(targets, ["/", "/mnt/parc-home"]);
    assert_eq!((fs[0].size, fs[0].used, fs[0].avail), (270_553_174_016, 13_681_532_928, 83_891_216_384));
    assert!(df::parse("Filesystem Type\n/dev/sda ext4 / x y z\n").is_err());
}

#[test]
fn du_of_homes_without_lost_found() {
    let homes = home::parse(&corpus("home/du-sb-home.txt"));
    let users: Vec<(&str, u64)> = homes.iter().map(|h| (h.user.as_str(), h.bytes)).collect();
    assert_eq!(users, [("alice", 20_001_024), ("bob", 5_001_024), ("carol", 301_024)]);
}

#[test]
fn lvm_reports() {
    let pvs = lvm::physical_volumes(serde_json::from_str(&corpus("lvm/pvs-one-pv-no-lv.json")).unwrap());
    assert_eq!(pvs.len(), 1);
    assert_eq!(
        (pvs[0].pv_name.as_str(), pvs[0].vg_name.as_str(), pvs[0].size),
        ("/dev/loop0", "vg_data", Some(310_378_496))
    );
    let lvs = lvm::logical_volumes(serde_json::from_str(&corpus("lvm/lvs-empty.json")).unwrap());
    assert!(lvs.is_empty());
    assert_eq!(lvm::size("314572800B"), Some(314_572_800));
    assert_eq!(lvm::size("<1.82t"), Some(2_001_111_162_552));
    assert_eq!(lvm::size("4.00G"), Some(4_000_000_000));
}

/// `config` read from TOML text, as parc.toml would give it.
fn smart_config(toml_text: &str) -> SmartConfig {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parc.toml");
    std::fs::write(&path, toml_text).unwrap();
    parc::config::Config::load(&path, true).unwrap().smart
}

fn reasons_with(name: &str, config: &SmartConfig) -> Vec<(String, u64)> {
    assess_report(&smart(name), config)
        .into_iter()
        .filter(|r| r.code.as_str() == "ata_attribute")
        .map(|r| (r.values["name"].as_str().unwrap().to_string(), r.values["raw"].as_u64().unwrap()))
        .collect()
}

#[test]
fn an_attribute_rule_applies_only_to_the_names_it_lists() {
    // Real outputs where id 199 means the same counter under two names: the
    // Samsung 840 says CRC_Error_Count (raw 108), the SAT bridge UDMA_CRC_Error_Count.
    let samsung = "scrutiny-smart-ata-failed-scrutiny.json";
    assert_eq!(smart(samsung).attribute(199).unwrap().name, "CRC_Error_Count");
    let by_name = smart_config("[smart.attributes.199]\nname = \"UDMA_CRC_Error_Count\"\nwatch_above = 100\n");
    assert_eq!(reasons_with(samsung, &by_name), [], "another name: the rule does not apply");
    let listed = smart_config(
        "[smart.attributes.199]\nname = \"UDMA_CRC_Error_Count\"\nnames = [\"UDMA_CRC_Error_Count\", \"CRC_Error_Count\"]\nwatch_above = 100\n",
    );
    assert_eq!(reasons_with(samsung, &listed), [("CRC_Error_Count".to_string(), 108)], "smartctl's own name");
    let all =
        smart_config("[smart.attributes.199]\nname = \"UDMA_CRC_Error_Count\"\nnames = \"all\"\nwatch_above = 100\n");
    assert_eq!(reasons_with(samsung, &all).len(), 1);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("parc.toml"),
        "[smart.attributes.199]\nname = \"x\"\nnames = \"some\"\nwatch_above = 1\n",
    )
    .unwrap();
    let err = parc::config::Config::load(&dir.path().join("parc.toml"), true).unwrap_err();
    assert!(format!("{err:#}").contains("names is \"some\""), "{err:#}");
}

#[test]
fn a_built_in_rule_never_judges_an_attribute_by_a_name_smartctl_did_not_print() {
    // The SAT bridge's real 196 is packed (`2111 (12437 0)` is 53416508262463 as
    // one integer): the reason carries the first number and smartctl's name.
    let config = SmartConfig::default();
    assert_eq!(reasons_with("scrutiny-smart-sat.json", &config), [("Reallocated_Event_Count".to_string(), 2111)]);
    // A Dell-branded Intel S3520 reports 201 as its capacitor self-test,
    // raw `18900 (310 1222)`; 201 is Soft_Read_Error_Rate on other drives.
    let mut s3520: serde_json::Value = serde_json::from_str(&corpus("smartctl/scrutiny-smart-sat.json")).unwrap();
    let table = s3520["ata_smart_attributes"]["table"].as_array_mut().unwrap();
    let mut cap_test = table.iter().find(|a| a["id"] == 196).unwrap().clone();
    cap_test["id"] = 201.into();
    cap_test["name"] = "Power_Loss_Cap_Test".into();
    cap_test["raw"] = serde_json::json!({"value": 5248470370772u64, "string": "18900 (310 1222)"});
    table.push(cap_test);
    let report = smartctl::parse("smartctl:/dev/sdb", &s3520.to_string()).unwrap();
    let named: Vec<String> = assess_report(&report, &config)
        .into_iter()
        .filter(|r| r.code.as_str() == "ata_attribute")
        .map(|r| r.values["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(named, ["Reallocated_Event_Count"], "201 Power_Loss_Cap_Test is not Soft_Read_Error_Rate");
    // A drive smartctl cannot name an id for is judged by the rule, under the rule's name.
    let mut unnamed: serde_json::Value = serde_json::from_str(&corpus("smartctl/scrutiny-smart-sat.json")).unwrap();
    for a in unnamed["ata_smart_attributes"]["table"].as_array_mut().unwrap() {
        if a["id"] == 196 {
            a["name"] = "Unknown_Attribute".into();
        }
    }
    let report = smartctl::parse("smartctl:/dev/sdb", &unnamed.to_string()).unwrap();
    let reasons = assess_report(&report, &config);
    let reason = reasons.iter().find(|r| r.code.as_str() == "ata_attribute").unwrap();
    assert_eq!(reason.values["name"], "Reallocated_Event_Count");
}

mod apt {
    use super::corpus;
    use parc::snapshot::apt::simulate::{self, Op};
    use parc::snapshot::apt::{files, sources};

    /// The counts apt's own summary line states: upgraded, newly installed, to remove, not upgraded.
    fn stated(text: &str) -> Option<[usize; 4]> {
        let line = text.lines().find(|l| l.contains(" upgraded, "))?;
        let numbers: Vec<usize> = line.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse().ok()).collect();
        numbers.try_into().ok()
    }

    #[test]
    fn every_simulation_gives_the_counts_apt_states() {
        // Files with Inst lines and the summary line that goes with them.
        for name in [
            "debian12-sim-upgrade.txt",
            "debian12-sim-dist-upgrade.txt",
            "raspios11-sim-upgrade.txt",
            "ubuntu2204-sim-upgrade-kept-back-security.txt",
            "ubuntu2404-sim-upgrade-phased.txt",
            "ubuntu-apt-full-upgrade-kept-back-phased.txt",
        ] {
            let text = corpus(&format!("apt/{name}"));
            let sim = simulate::parse(&text);
            let count = |op: Op| sim.actions.iter().filter(|a| a.op == op).count();
            let [upgraded, installed, removed, not_upgraded] = stated(&text).unwrap();
            assert_eq!(count(Op::Upgrade), upgraded, "{name}: upgraded");
            assert_eq!(count(Op::Install), installed, "{name}: newly installed");
            assert_eq!(count(Op::Remove) + count(Op::Purge), removed, "{name}: to remove");
            assert_eq!(sim.not_upgraded, Some(not_upgraded as u64), "{name}: not upgraded");
            // What was not upgraded is listed: kept back or deferred by phasing
            // (this capture has "netplan. io", one name cut in two by a space).
            let split = usize::from(name.starts_with("ubuntu2204"));
            assert_eq!(sim.kept_back.len() + sim.phased.len(), not_upgraded + split, "{name}: the lists");
            assert!(sim.errors.is_empty(), "{name}: {:?}", sim.errors);
        }
        let sim = simulate::parse(&corpus("apt/ubuntu2204-sim-upgrade-kept-back-security.txt"));
        assert!(sim.kept_back.contains(&"sg3-utils".to_string()));
        // apt 3 wording: phasing list on one line, an indented summary.
        let sim = simulate::parse(&corpus("apt/kubuntu2510-apt3-upgrade-dry-run-phased.txt"));
        assert_eq!((sim.phased.len(), sim.not_upgraded, sim.actions.len()), (16, Some(16), 0));
        assert!(sim.phased.contains(&"libudev1:i386".to_string()));
    }

    #[test]
    fn security_updates_are_counted_as_check_apt_counts_them() {
        // check_apt's own test expectations for these inputs: updates, security updates.
        for (name, updates, security) in
            [("debian6-check_apt-debian3.txt", 19, 4), ("ubuntu1204-check_apt-ubuntu2.txt", 25, 14)]
        {
            let sim = simulate::parse(&corpus(&format!("apt/{name}")));
            assert_eq!(sim.actions.len(), updates, "{name}");
            assert_eq!(sim.actions.iter().filter(|a| a.security()).count(), security, "{name}");
        }
        let sim = simulate::parse(&corpus("apt/debian12-sim-upgrade.txt"));
        let security = sim.actions.iter().filter(|a| a.security()).count();
        let lines = corpus("apt/debian12-sim-upgrade.txt")
            .lines()
            .filter(|l| l.starts_with("Inst") && l.contains("Debian-Security:"))
            .count();
        assert_eq!(security, lines);
        let pi = simulate::parse(&corpus("apt/raspios11-sim-upgrade.txt"));
        assert_eq!(pi.actions[1].origins, ["Raspberry Pi Foundation:stable"]);
    }

    #[test]
    fn update_errors_and_warnings_in_both_wordings() {
        let sim = simulate::parse(&corpus("apt/pve8-apt-update-401.txt"));
        assert_eq!((sim.errors.len(), sim.warnings.len()), (4, 0));
        let sim = simulate::parse(&corpus("apt/debian13-apt3-update-no-release-file.txt"));
        assert_eq!(sim.errors.len(), 1);
        let sim = simulate::parse(&corpus("apt/debian12-apt-update-nopubkey-warn.txt"));
        assert!(sim.errors.is_empty() && !sim.warnings.is_empty());
    }

    #[test]
    fn sources_in_both_formats() {
        let deb822 = sources::parse("/etc/apt/sources.list.d/debian.sources", &corpus("apt/debian12-debian.sources"));
        assert_eq!(deb822.len(), 2);
        assert!(deb822.iter().all(|s| s.components.contains(&"non-free-firmware".to_string())));
        let modern =
            sources::parse("/etc/apt/sources.list.d/debian.sources", &corpus("apt/debian13-debian.sources-modernized"));
        assert!(!modern.is_empty() && modern.iter().all(|s| s.suites.iter().all(|x| !x.ends_with(' '))));
        let ubuntu = sources::parse("/etc/apt/sources.list.d/ubuntu.sources", &corpus("apt/ubuntu2404-ubuntu.sources"));
        assert_eq!(ubuntu.len(), 2);
        let commented = sources::parse(
            "/etc/apt/sources.list.d/pve-enterprise.list",
            &corpus("apt/pve8-pve-enterprise.list-commented"),
        );
        assert!(commented.is_empty(), "a commented line is no source");
        let list = sources::parse("/etc/apt/sources.list", &corpus("apt/pve8-sources.list-mixed-suites"));
        assert_eq!(list.len(), 8);
        assert!(list.iter().any(|s| s.components == ["pve-no-subscription"]));
        // The probe prints files as tail does.
        let both = files("==> /etc/apt/sources.list <==\ndeb http://x bookworm main\n\n==> /etc/apt/sources.list.d/a.sources <==\nTypes: deb\nURIs: http://y\nSuites: bookworm\n");
        assert_eq!(both.len(), 2);
    }
}

/// A `system` snapshot whose probes printed these corpus files (exit 0, except
/// `systemd-detect-virt`'s `none`), parsed.
fn system(probes: &[(&str, &str, i64)]) -> parc::snapshot::system::SystemFacts {
    let probes: serde_json::Map<String, serde_json::Value> = probes
        .iter()
        .map(|(key, file, exit)| {
            let out = if file.contains('/') { corpus(file) } else { file.to_string() };
            (key.to_string(), serde_json::json!({"cmd": key, "exit": exit, "out": out}))
        })
        .collect();
    let snapshot = serde_json::json!({"schema": "parc.snapshot/1", "kind": "system", "host": "h",
        "collected_at": "2026-11-21T03:00:00Z", "probes": probes});
    let parsed = parc::snapshot::parse(snapshot.to_string().as_bytes()).unwrap();
    assert!(parsed.failures.is_empty(), "{:?}", parsed.failures);
    match parsed.facts {
        parc::snapshot::Facts::System(facts) => facts,
        other => panic!("{other:?}"),
    }
}

#[test]
fn what_a_machine_is() {
    let pve = system(&[
        ("pveversion", "system/pve8-pveversion.txt", 0),
        ("virt", "system/detect-virt-oracle-on-metal.txt", 0),
    ]);
    assert_eq!((pve.pve_version.as_deref(), pve.virt.as_deref()), (Some("8.0.3"), Some("oracle")));
    let pi = system(&[("device-tree", "system/rpi4-device-tree-model.txt", 0), ("virt", "none\n", 1)]);
    assert_eq!(pi.hardware.as_deref(), Some("Raspberry Pi 4 Model B Rev 1.4"), "the NUL dropped");
    assert!(pi.device_tree);
    assert_eq!(pi.virt.as_deref(), Some("none"), "exit 1 with `none` is an answer");
    let qemu = system(&[("dmi", "system/dmi-qemu.txt", 0)]);
    assert_eq!(qemu.hardware.as_deref(), Some("QEMU Standard PC (i440FX + PIIX, 1996)"));
    let asus = system(&[("dmi", "system/dmi-asus-placeholders.txt", 0), ("virt", "none\n", 1)]);
    assert_eq!(asus.hardware, None, "firmware placeholders say nothing");
    let docker = system(&[("virt", "system/detect-virt-docker.txt", 0), ("pid1", "system/pid1-start-docker.txt", 0)]);
    let stat = corpus("system/proc-1-stat-docker.txt");
    let field22: u64 = stat.rsplit_once(") ").unwrap().1.split(' ').nth(19).unwrap().parse().unwrap();
    assert_eq!(docker.pid1_start, Some(field22), "the probe's sed and cut take field 22 of /proc/1/stat");

    use parc::derive::machine::{machine, Kind};
    let kind = |system: parc::snapshot::system::SystemFacts| {
        let host = parc::fleet::Host { system: Some(system), ..parc::fleet::Host::new("h", parc::time::Instant(0)) };
        machine(&host).kind
    };
    assert_eq!(kind(pve), Some(Kind::Proxmox), "a Proxmox VE host, whatever systemd-detect-virt says of the metal");
    assert_eq!(kind(pi), Some(Kind::RaspberryPi));
    assert_eq!(kind(qemu), Some(Kind::Vm), "a QEMU guest without systemd-detect-virt, by its DMI vendor");
    assert_eq!(kind(asus), Some(Kind::Physical));
    assert_eq!(kind(docker), Some(Kind::Container));
    assert_eq!(kind(system(&[("virt", "system/detect-virt-lxc.txt", 0)])), Some(Kind::Container));
    assert_eq!(kind(system(&[("virt", "system/detect-virt-kvm.txt", 0)])), Some(Kind::Vm));
    assert_eq!(kind(system(&[])), None, "an older agent's snapshot does not say");
}

#[test]
fn by_id_links_read_from_ls_and_find_listings() {
    let read = |name: &str| by_id::parse(&corpus(&format!("by-id/{name}")));
    let dell = read("dell-boss-ceph.txt");
    assert_eq!(dell.len(), 6, "the `total 0` line is no link");
    assert_eq!(by_id::preferred(&dell, "sda"), Some("ata-DELLBOSS_VD_39674b31f52c0010"));
    assert_eq!(by_id::preferred(&dell, "sda3"), Some("ata-DELLBOSS_VD_39674b31f52c0010-part3"));
    assert!(dell.iter().any(|l| l.device == "dm-6" && l.name.starts_with("dm-name-ceph--134bacad")));
    // find -ls prints full paths; the WWN and the model and serial both name sdb.
    let seagate = read("seagate-find-ls.txt");
    assert_eq!(seagate.len(), 10);
    assert_eq!(by_id::preferred(&seagate, "sdb"), Some("ata-ST4000NM0033-9ZM170_Z1ZB45BD"));
    assert_eq!(by_id::preferred(&seagate, "sdm"), Some("wwn-0x5000c50091c80086"), "only a WWN");
    let nvme = read("nvme-model-serial.txt");
    assert_eq!(by_id::preferred(&nvme, "nvme0n1"), Some("nvme-HUSPR3216AHP301_STM0001B6780"));
    assert_eq!(by_id::preferred(&read("nvme-eui.txt"), "nvme0n1p2"), Some("nvme-eui.3825004235000591-part2"));
}

#[test]
fn download_sizes_autoremove_and_driver_advice_from_real_outputs() {
    use parc::snapshot::apt::{downloads, drivers, simulate};
    let d = downloads::parse(&corpus("apt/debian12-print-uris-dist-upgrade.txt"));
    assert_eq!((d.bytes, d.disk_change), (302_380, Some(0)));
    assert_eq!(d.files, [("parc-tool".to_string(), 302_380)]);
    let ubuntu = downloads::parse(&corpus("apt/ubuntu2404-apt-upgrade-phased-keptback.txt"));
    assert_eq!(ubuntu.disk_change, Some(189_000_000), "After this operation, 189 MB of additional disk space");
    let autoremove = simulate::parse(&corpus("apt/debian12-sim-autoremove.txt"));
    let removed: Vec<&str> = autoremove.actions.iter().map(|a| a.package.as_str()).collect();
    assert_eq!(removed, ["parc-lib"]);
    let devices = drivers::parse(&corpus("apt/ubuntu-drivers-devices-nvidia.txt"));
    assert_eq!(
        devices,
        [drivers::Device {
            model: "GK106 [GeForce GTX 650 Ti]".into(),
            recommended: Some("nvidia-driver-450-server".into())
        }]
    );
}

#[test]
fn ansible_facts_read_as_a_system_and_disks_version() {
    use parc::snapshot::ansible;
    let tree: serde_json::Value = serde_json::from_str(&corpus("ansible/setup-tree-debian12-docker.json")).unwrap();
    let facts = ansible::read(&tree).expect("a file of facts").unwrap();
    assert_eq!(facts.collected_at.rfc3339(), "2026-12-03T08:09:55Z");
    assert_eq!(facts.system.os.as_deref(), Some("Debian GNU/Linux 12 (bookworm)"));
    assert_eq!((facts.system.os_id.as_deref(), facts.system.os_version.as_deref()), (Some("debian"), Some("12.11")));
    assert_eq!(facts.system.virt.as_deref(), Some("docker"));
    assert_eq!(facts.system.hardware, None, "NA and NA are placeholders");
    let root = facts.disks.filesystems.iter().find(|f| f.target == "/").unwrap();
    assert_eq!((root.source.as_str(), root.fstype.as_str(), root.avail), ("/dev/vda", "ext4", 63_330_082_816));
    let disks: Vec<&str> =
        facts.disks.devices.iter().filter(|d| d.is_physical_disk()).map(|d| d.name.as_str()).collect();
    assert_eq!(disks, ["vda"], "the loop and zram devices are no disks");
    let vda = facts.disks.devices.iter().find(|d| d.name == "vda").unwrap();
    assert_eq!((vda.size, vda.mountpoints.as_slice()), (Some(536_870_912 * 512), &["/".to_string()][..]));
    // The fact cache's form: the facts at the top.
    let cache = tree["ansible_facts"].clone();
    assert_eq!(ansible::read(&cache).unwrap().unwrap(), facts);
    let failed: serde_json::Value =
        serde_json::from_str(&corpus("ansible/setup-tree-failed-interpreter.json")).unwrap();
    let err = ansible::read(&failed).expect("Ansible's file").unwrap_err().to_string();
    assert!(err.contains("Module result deserialization failed"), "{err}");
    assert!(ansible::read(&serde_json::json!({"schema": "parc.snapshot/1"})).is_none());
}

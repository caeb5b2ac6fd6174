//! Tests at the seams of the build: what identifies a disk, which disks
//! hold /home, and the verdict — each on real tool outputs from the corpus,
//! called through the library as the pipeline calls it.

mod common;

use common::*;
use parc::config::SmartConfig;
use parc::derive::risk::{assess_disk, Verdict};
use parc::fleet::identity::{disks_under_home, observe};
use parc::snapshot::{self, Facts, Parsed};
use serde_json::{json, Value};

const DAY1: &str = "2026-11-01T03:00:00Z";
const DAY2: &str = "2026-11-02T03:00:00Z";

fn parsed(envelope: &Value) -> Parsed {
    snapshot::parse(&serde_json::to_vec(envelope).unwrap()).unwrap()
}

fn facts(parsed: &Parsed) -> &parc::snapshot::disks::DisksFacts {
    match &parsed.facts {
        Facts::Disks(facts) => facts,
        other => panic!("not disks: {other:?}"),
    }
}

/// `template`'s drive with this serial and WWN id.
fn twin(template: &str, serial: &str, wwn_id: Option<u64>) -> Value {
    let mut v = drive(template, serial, None);
    match wwn_id {
        Some(id) => v["wwn"]["id"] = json!(id),
        None => {
            v.as_object_mut().unwrap().remove("wwn");
        }
    }
    v
}

#[test]
fn what_identifies_a_disk() {
    let ata = "scrutiny-smart-ata.json";
    let raid = "scrutiny-smart-megaraid0.json";
    let snapshot = parsed(&disks(
        "h",
        DAY1,
        &[
            ("sda", twin(ata, "WD-ALONE", Some(1))),  // a serial of its own: model and serial
            ("sdb", twin(raid, "XXXXXXXX", Some(2))), // masked: the WWN joins in
            ("sdc", twin(ata, "WD-SHARED", Some(3))), // shared in this snapshot: the WWN tells apart
            ("sdd", twin(ata, "WD-SHARED", Some(4))),
            ("sde", twin(raid, "0000", None)), // masked, no WWN: a disk of this host
            ("sdf", twin(raid, "0000", None)),
            ("sdg", twin(ata, "WD-TWIN", None)), // a shared serial, no WWN: by place
            ("sdh", twin(ata, "WD-TWIN", None)),
        ],
        "",
    ));
    let observed = observe("h", facts(&snapshot), &snapshot.failures);
    let id = |device: &str| {
        let found = observed.iter().find(|o| o.device.split(' ').next() == Some(device));
        found
            .unwrap_or_else(|| {
                panic!("{device} not in {:?}", observed.iter().map(|o| (&o.device, &o.id)).collect::<Vec<_>>())
            })
            .id
            .clone()
    };
    assert_eq!(id("/dev/sda"), "WDC WD140EDFZ-11A0VA0|WD-ALONE");
    assert!(id("/dev/sdb").contains("|XXXXXXXX|0x"), "{}", id("/dev/sdb"));
    assert!(id("/dev/sdc").starts_with("WDC WD140EDFZ-11A0VA0|WD-SHARED|0x"));
    assert_ne!(id("/dev/sdc"), id("/dev/sdd"));
    assert_eq!(
        observed.len(),
        8,
        "each block device is one disk, twins included: {:?}",
        observed.iter().map(|o| (&o.device, &o.id)).collect::<Vec<_>>()
    );
    assert!(id("/dev/sde").contains("|0000|local:h:/dev/sde"), "{}", id("/dev/sde"));
    assert!(
        id("/dev/sdg").ends_with("|WD-TWIN|at:h:/dev/sdg") && id("/dev/sdh").ends_with("|WD-TWIN|at:h:/dev/sdh"),
        "{}",
        id("/dev/sdg")
    );
    // Nothing but a place: a disk lsblk lists and smartctl never named.
    let bare = parsed(&envelope(
        "disks",
        "h",
        DAY1,
        json!({"lsblk": probe(json!({"blockdevices": [{"name": "vda", "type": "disk", "size": 1000}]}))}),
    ));
    let observed = observe("h", facts(&bare), &bare.failures);
    assert_eq!(observed[0].id, "|local:h:/dev/vda", "a disk of this host alone");
}

#[test]
fn the_disks_under_home_through_partitions_lvm_and_zfs() {
    let ata = || twin("scrutiny-smart-ata.json", "WD-HOME", Some(9));
    let other = || twin("scrutiny-smart-ata.json", "WD-OTHER", Some(8));
    let expected = "WDC WD140EDFZ-11A0VA0|WD-HOME";
    let with_blocks = |blocks: Value, extra: &[(&str, Value)]| {
        let mut env = disks("h", DAY1, &[("sda", ata()), ("sdb", other())], "");
        env["probes"]["lsblk"]["out"] = json!({"blockdevices": blocks});
        for (k, v) in extra {
            env["probes"][*k] = v.clone();
        }
        parsed(&env)
    };
    let disk = |name: &str, serial: &str, children: Value| json!({"name": name, "type": "disk", "size": 14000519643136u64, "model": "WDC WD140EDFZ-11A0VA0", "serial": serial, "children": children});
    // A partition.
    let part = with_blocks(
        json!([
            disk("sda", "WD-HOME", json!([{"name": "sda1", "type": "part", "size": 1, "mountpoint": "/home"}])),
            disk("sdb", "WD-OTHER", json!([{"name": "sdb1", "type": "part", "size": 1, "mountpoint": "/"}])),
        ]),
        &[],
    );
    // LVM on a partition.
    let lvm = with_blocks(
        json!([
            disk(
                "sda",
                "WD-HOME",
                json!([{"name": "sda2", "type": "part", "size": 1,
                "children": [{"name": "vg0-home", "type": "lvm", "size": 1, "mountpoint": "/home"}]}])
            ),
            disk("sdb", "WD-OTHER", json!([{"name": "sdb1", "type": "part", "size": 1, "mountpoint": "/"}])),
        ]),
        &[],
    );
    // A ZFS dataset, its pool on the disk's partition by id.
    let zfs = with_blocks(
        json!([
            disk("sda", "WD-HOME", json!([{"name": "sda3", "type": "part", "size": 1, "fstype": "zfs_member"}])),
            disk("sdb", "WD-OTHER", json!([{"name": "sdb1", "type": "part", "size": 1, "mountpoint": "/"}])),
        ]),
        &[
            ("df", probe(json!("Filesystem Type Mounted Size Used Avail\n/dev/sdb1 ext4 / 100 50 50\nrpool/home zfs /home 1000 10 990\n"))),
            ("zpool", probe(json!("  pool: rpool\n state: ONLINE\nconfig:\n\n\tNAME STATE READ WRITE CKSUM\n\trpool ONLINE 0 0 0\n\t  /dev/disk/by-id/ata-WDC_WD140EDFZ-11A0VA0_WD-HOME-part3 ONLINE 0 0 0\n"))),
        ],
    );
    for (how, snapshot) in [("a partition", part), ("LVM", lvm), ("ZFS", zfs)] {
        let f = facts(&snapshot);
        let observed = observe("h", f, &snapshot.failures);
        let (mount, home) = disks_under_home(f, &observed);
        assert_eq!((mount.as_deref(), home), (Some("/home"), vec![expected.to_string()]), "{how}");
    }
}

/// One host's disk, assembled from snapshots as the pipeline does.
fn disk_of(snapshots: &[Value]) -> parc::fleet::Disk {
    let versions = snapshots.iter().map(|s| parc::parse::Version { label: "test".into(), parsed: parsed(s) }).collect();
    let part = parc::fleet::assemble_host("h", versions).unwrap();
    part.disks.into_iter().next().unwrap()
}

#[test]
fn the_newest_sighting_decides_the_verdict() {
    let healthy = disks("h", DAY1, &[("sda", drive("scrutiny-smart-ata.json", "WD-1", None))], "");
    assert_eq!(assess_disk(&disk_of(std::slice::from_ref(&healthy)), &SmartConfig::default()).verdict, Verdict::Ok);
    // The next day smartctl could not read it: an older report must not vouch for it.
    let mut unread = healthy.clone();
    unread["collected_at"] = json!(DAY2);
    unread["probes"]["smartctl:/dev/sda"] = json!({"cmd": "smartctl -j -a /dev/sda", "exit": 2, "out": "", "err": "Smartctl open device: /dev/sda failed: No such device"});
    let assessment = assess_disk(&disk_of(&[healthy, unread]), &SmartConfig::default());
    assert_eq!(assessment.verdict, Verdict::Unknown, "{assessment:?}");
}

fn verdict_with(template: &str, config: &SmartConfig) -> Verdict {
    assess_disk(&disk_of(&[disks("h", DAY1, &[("sda", corpus_json(&format!("smartctl/{template}")))], "")]), config)
        .verdict
}

#[test]
fn every_threshold_setting_moves_the_verdict() {
    let mut config = SmartConfig::default();
    // The SAT bridge's 196 Reallocated_Event_Count reads 2111.
    assert_eq!(verdict_with("scrutiny-smart-sat.json", &config), Verdict::Watch);
    config.attributes.get_mut("196").unwrap().failing_above = Some(2000);
    assert_eq!(verdict_with("scrutiny-smart-sat.json", &config), Verdict::Failing);
    let rule = config.attributes.get_mut("196").unwrap();
    (rule.watch_above, rule.failing_above) = (3000, None);
    assert_eq!(verdict_with("scrutiny-smart-sat.json", &config), Verdict::Ok);
    // The WD at 32 °C, against a limit of our own when the drive gives none.
    let ata = "scrutiny-smart-ata.json";
    let wd = smartctl_limit(ata);
    let mut config = SmartConfig::default();
    assert_eq!(verdict_with(ata, &config), Verdict::Ok);
    config.temperature_max = 30;
    assert_eq!(verdict_with(ata, &config), if wd.is_some() { Verdict::Ok } else { Verdict::Watch });
    // NVMe endurance: the drive has used some; thresholds at or below it.
    let nvme = "scrutiny-smart-nvme2.json";
    let used = corpus_json(&format!("smartctl/{nvme}"))["nvme_smart_health_information_log"]["percentage_used"]
        .as_u64()
        .unwrap();
    let mut config = SmartConfig::default();
    assert_eq!(verdict_with(nvme, &config), Verdict::Ok);
    config.nvme_percentage_used_watch = used;
    assert_eq!(verdict_with(nvme, &config), Verdict::Watch);
    config.nvme_percentage_used_failing = used;
    assert_eq!(verdict_with(nvme, &config), Verdict::Failing);
}

/// The drive's own temperature limit, when its smartctl output gives one.
fn smartctl_limit(template: &str) -> Option<i64> {
    let v = corpus_json(&format!("smartctl/{template}"));
    ["op_limit_max", "drive_trip", "limit_max"].iter().find_map(|k| v["temperature"][*k].as_i64()).filter(|&t| t > 0)
}

/// `parc build` through the library: the pipeline's own report, not its words on stderr.
fn build_report(snaps: &std::path::Path, out: &std::path::Path, base: &std::path::Path) -> parc::pipeline::BuildReport {
    let options = parc::pipeline::BuildOptions {
        snapshots: snaps.to_path_buf(),
        out: out.to_path_buf(),
        base: base.to_path_buf(),
        use_cache: true,
    };
    parc::pipeline::build(&parc::config::Config::default(), &options).unwrap()
}

#[test]
fn the_pipeline_reports_what_it_read_and_what_it_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let (snaps, out) = (tmp.path().join("snapshots"), tmp.path().join("site"));
    for host in ["a", "b"] {
        write_dated(&snaps, host, &system(host, DAY1));
        write_dated(
            &snaps,
            host,
            &disks(host, DAY1, &[("sda", drive("scrutiny-smart-ata.json", &format!("WD-{host}"), None))], ""),
        );
    }
    let first = build_report(&snaps, &out, tmp.path());
    assert_eq!((first.hosts, first.disks, first.versions, first.parsed, first.skipped), (2, 2, 4, 4, false));
    assert!(first.problems.is_empty(), "{:?}", first.problems);
    let again = build_report(&snaps, &out, tmp.path());
    assert!(again.skipped, "nothing changed: nothing done");
    // One new version of one host: only it is read.
    write_dated(&snaps, "a", &system("a", DAY2));
    let next = build_report(&snaps, &out, tmp.path());
    assert_eq!((next.versions, next.parsed, next.skipped), (5, 1, false));
    assert!(next.unchanged > 0 && next.unchanged < next.pages, "only some files changed: {next:?}");
    // A bad file is a problem in the report, and the rest is built.
    std::fs::write(snaps.join("b/system/broken.json"), "{").unwrap();
    let bad = build_report(&snaps, &out, tmp.path());
    assert_eq!(bad.hosts, 2);
    assert!(
        bad.problems.iter().any(|p| p.path.ends_with("broken.json") && p.cause.contains("invalid JSON")),
        "{:?}",
        bad.problems
    );
}

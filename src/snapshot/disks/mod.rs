//! Kind `disks`: block devices, SMART, file systems, LVM, homes, ZFS and Ceph.

pub mod by_id;
pub mod ceph;
pub mod df;
pub mod home;
pub mod lsblk;
pub mod lvm;
pub mod smartctl;
pub mod zpool;

use super::{probe_json, probe_text, Probe, ProbeFailure};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DisksFacts {
    /// The lsblk tree: disks with their partitions, LVM volumes, mounts.
    pub devices: Vec<lsblk::BlockDevice>,
    /// One report per `smartctl:` probe that smartctl answered.
    pub smart: Vec<smartctl::SmartReport>,
    pub filesystems: Vec<df::Filesystem>,
    pub physical_volumes: Vec<lvm::PhysicalVolume>,
    pub logical_volumes: Vec<lvm::LogicalVolume>,
    pub homes: Vec<home::HomeUsage>,
    pub pools: Vec<zpool::Pool>,
    pub ceph_osds: Vec<ceph::CephOsd>,
    /// udev's /dev/disk/by-id links.
    #[serde(default)]
    pub by_id: Vec<by_id::Link>,
}

pub fn parse(probes: &BTreeMap<String, Probe>, failures: &mut Vec<ProbeFailure>) -> DisksFacts {
    let mut facts = DisksFacts::default();
    if let Some(out) = probe_json::<lsblk::LsblkOutput>(probes, "lsblk", failures) {
        facts.devices = lsblk::parse(out);
    }
    // The scan finds every disk smartctl can see; when it failed (no smartctl,
    // no permission), that alone must show.
    if let Some(cause) = probes.get("smartctl-scan").and_then(Probe::failure) {
        failures.push(ProbeFailure { probe: "smartctl-scan".into(), cause });
    }
    for (key, probe) in probes.iter().filter(|(k, _)| k.starts_with("smartctl:")) {
        match smart_report(key, probe) {
            Ok(report) => {
                // A report with no health data (a virtual disk, a RAID volume) is
                // shown as unknown, and the reason goes with it.
                if !report.has_health_data() {
                    let why = report.messages.first().cloned().unwrap_or_else(|| "no SMART data".into());
                    failures.push(ProbeFailure { probe: key.clone(), cause: why });
                }
                facts.smart.push(report);
            }
            Err(cause) => failures.push(ProbeFailure { probe: key.clone(), cause: cause.to_string() }),
        }
    }
    if let Some(text) = probe_text(probes, "df", failures) {
        match df::parse(&text) {
            Ok(fs) => facts.filesystems = fs,
            Err(cause) => failures.push(ProbeFailure { probe: "df".into(), cause: cause.to_string() }),
        }
    }
    if let Some(report) = probe_json(probes, "pvs", failures) {
        facts.physical_volumes = lvm::physical_volumes(report);
    }
    if let Some(report) = probe_json(probes, "lvs", failures) {
        facts.logical_volumes = lvm::logical_volumes(report);
    }
    if let Some(text) = probe_text(probes, "home", failures) {
        facts.homes = home::parse(&text);
    }
    if let Some(text) = probe_text(probes, "zpool", failures) {
        facts.pools = zpool::parse(&text);
    }
    if let Some(list) = probe_json(probes, "ceph-osd", failures) {
        facts.ceph_osds = ceph::parse(list);
    }
    if let Some(text) = probe_text(probes, "by-id", failures) {
        facts.by_id = by_id::parse(&text);
    }
    facts
}

/// smartctl exits non-zero for healthy disks with old log entries, so its
/// JSON is read whatever the exit status; only no JSON at all is a failure.
fn smart_report(key: &str, probe: &Probe) -> Result<smartctl::SmartReport, smartctl::Unreadable> {
    match probe.json_text() {
        Some(json) if json.trim_start().starts_with('{') => smartctl::parse(key, &json),
        _ => Err(smartctl::Unreadable::Probe(probe.failure().unwrap_or_else(|| "no smartctl output".into()))),
    }
}

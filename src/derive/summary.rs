//! The fleet in figures.

use super::risk::Verdict;
use crate::fleet::{identity::DiskKind, Fleet};
use crate::time::Instant;
use std::collections::{BTreeMap, HashMap};

#[derive(Clone, Debug)]
pub struct Summary {
    /// The newest snapshot in the fleet: the "now" of every figure.
    pub newest: Option<Instant>,
    pub hosts: usize,
    /// Disks present in their host's newest `disks` snapshot.
    pub disks: usize,
    /// Every disk ever seen, present or not.
    pub disks_known: usize,
    pub by_verdict: BTreeMap<&'static str, usize>,
    pub by_kind: BTreeMap<String, usize>,
    /// Sum of the present disks' capacities, bytes.
    pub capacity_bytes: u64,
    pub moves: usize,
    pub backup_needed: usize,
    pub versions: usize,
    pub problems: usize,
    pub stale_after_hours: u64,
    /// Hosts whose newest snapshot is older than `stale_after_hours` before `newest`.
    pub not_seen: Vec<NotSeen>,
}

#[derive(Clone, Debug)]
pub struct NotSeen {
    pub host: String,
    pub last_seen: Instant,
    pub hours: i64,
}

pub fn summary(
    fleet: &Fleet,
    verdicts: &HashMap<&str, Verdict>,
    moves: usize,
    backup: usize,
    stale_after_hours: u64,
) -> Summary {
    let present = fleet.present_disks();
    let mut by_verdict: BTreeMap<&'static str, usize> =
        ["ok", "watch", "failing", "unknown"].into_iter().map(|v| (v, 0)).collect();
    let mut by_kind = BTreeMap::new();
    let mut capacity = 0;
    for disk in fleet.disks.iter().filter(|d| present.contains(d.id.as_str())) {
        *by_verdict.entry(verdicts[disk.id.as_str()].name()).or_default() += 1;
        *by_kind.entry(kind_name(disk.kind).to_string()).or_default() += 1;
        capacity += disk.capacity.unwrap_or(0);
    }
    let newest = fleet.newest;
    let now = fleet.now();
    let not_seen = fleet
        .hosts
        .iter()
        .filter_map(|h| {
            let hours = (now?.0 - h.last_seen.0) / 3600;
            (hours > stale_after_hours as i64).then(|| NotSeen { host: h.name.clone(), last_seen: h.last_seen, hours })
        })
        .collect();
    Summary {
        newest,
        hosts: fleet.hosts.len(),
        disks: present.len(),
        disks_known: fleet.disks.len(),
        by_verdict,
        by_kind,
        capacity_bytes: capacity,
        moves,
        backup_needed: backup,
        versions: fleet.versions,
        problems: fleet.problems.len(),
        stale_after_hours,
        not_seen,
    }
}

pub fn kind_name(kind: DiskKind) -> &'static str {
    match kind {
        DiskKind::Nvme => "nvme",
        DiskKind::Ssd => "ssd",
        DiskKind::Hdd => "hdd",
        DiskKind::Sd => "sd",
        DiskKind::Virtual => "virtual",
        DiskKind::Unknown => "unknown",
    }
}

//! Stage 5: what the data tree means — SMART verdicts, moves, homes that need
//! a backup, the fleet summary, and the findings open and closed.

pub mod apt;
pub mod backup;
pub mod closed;
pub mod findings;
pub mod machine;
pub mod moves;
pub mod reason;
pub mod risk;
pub mod role;
pub mod summary;

use crate::config::Config;
use crate::fleet::Fleet;
use std::collections::HashMap;

pub struct Derived {
    /// One assessment per disk, in the order of `Fleet::disks`.
    pub assessments: Vec<risk::Assessment>,
    pub moves: Vec<moves::Move>,
    /// Where each disk's moves are in `moves`: a disk's page and file list
    /// its own, and ten thousand hosts' disks each scanning every move was
    /// quadratic.
    moves_by_disk: HashMap<String, Vec<usize>>,
    pub backup: Vec<backup::BackupNeeded>,
    /// Homes whose disks are all healthy: the rest of the inventory's "backup needed".
    pub healthy_homes: Vec<backup::BackupNeeded>,
    pub summary: summary::Summary,
    /// One APT state per host, in the order of `Fleet::hosts` (`None`: no APT).
    pub apt: Vec<Option<apt::AptState>>,
    /// What needs a person, most severe and oldest first.
    pub findings: Vec<findings::Finding>,
    /// What needed a person and no longer does, newest closure first.
    pub closed: Vec<closed::Closed>,
}

impl Derived {
    /// The moves of the disk `id`, in the order of `moves`.
    pub fn moves_of<'a>(&'a self, id: &str) -> impl Iterator<Item = &'a moves::Move> + 'a {
        self.moves_by_disk.get(id).into_iter().flatten().map(|&i| &self.moves[i])
    }
}

pub fn derive(fleet: &Fleet, config: &Config) -> Derived {
    use rayon::prelude::*;
    let assessments: Vec<risk::Assessment> =
        fleet.disks.par_iter().map(|d| risk::assess_disk(d, &config.smart)).collect();
    let verdicts: HashMap<&str, risk::Verdict> =
        fleet.disks.iter().zip(&assessments).map(|(d, a)| (d.id.as_str(), a.verdict)).collect();
    let moves = moves::moves(&fleet.disks);
    let backup = backup::backup_needed(&fleet.hosts, &verdicts);
    let healthy_homes = backup::on_healthy_disks(&fleet.hosts, &verdicts);
    let summary = summary::summary(fleet, &verdicts, moves.len(), backup.len(), config.fleet.stale_after_hours);
    let apt = fleet.hosts.par_iter().map(apt::assess).collect();
    let closed = closed::closed(fleet, config);
    let mut moves_by_disk: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, m) in moves.iter().enumerate() {
        moves_by_disk.entry(m.disk.clone()).or_default().push(i);
    }
    let mut derived = Derived {
        assessments,
        moves,
        moves_by_disk,
        backup,
        healthy_homes,
        summary,
        apt,
        findings: Vec::new(),
        closed,
    };
    derived.findings = findings::findings(fleet, &derived, config);
    derived
}

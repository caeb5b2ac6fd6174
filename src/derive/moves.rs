//! Disk moves: every change of host between consecutive sightings of a disk.
//! A → B → A is two moves.

use crate::fleet::Disk;
use crate::time::Instant;

#[derive(Clone, Debug, PartialEq)]
pub struct Move {
    pub disk: String,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub from: String,
    pub to: String,
    /// Last seen on `from`.
    pub left: Instant,
    /// First seen on `to`: the move's date.
    pub at: Instant,
}

pub fn moves(disks: &[Disk]) -> Vec<Move> {
    let mut moves: Vec<Move> = disks
        .iter()
        // A disk one host saw never moved.
        .filter(|disk| disk.hosts > 1)
        .flat_map(|disk| {
            let pairs = disk.sightings.iter().zip(disk.sightings.iter().skip(1));
            pairs.filter(|(a, b)| a.host != b.host).map(move |(a, b)| Move {
                disk: disk.id.clone(),
                model: disk.model.clone(),
                serial: disk.serial.clone(),
                from: a.host.to_string(),
                to: b.host.to_string(),
                left: a.at,
                at: b.at,
            })
        })
        .collect();
    moves.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.disk.cmp(&b.disk)));
    moves
}

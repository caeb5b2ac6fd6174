//! Homes that need a backup: every user's home on a host whose disk under
//! /home is `watch` or `failing`, largest first; and the homes on healthy
//! disks, each with the disk that holds it.

use super::risk::Verdict;
use crate::fleet::Host;
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq)]
pub struct BackupNeeded {
    pub host: String,
    pub user: String,
    pub path: String,
    pub bytes: u64,
    /// The riskiest disk under /home (for homes on healthy disks: the first).
    pub disk: String,
    pub verdict: Verdict,
}

pub fn backup_needed(hosts: &[Host], verdicts: &HashMap<&str, Verdict>) -> Vec<BackupNeeded> {
    let mut needed = Vec::new();
    for host in hosts {
        let riskiest = host
            .home_disks
            .iter()
            .filter_map(|id| Some((id, *verdicts.get(id.as_str())?)))
            .filter(|(_, v)| matches!(v, Verdict::Watch | Verdict::Failing))
            .max_by_key(|(id, v)| (v.rank(), std::cmp::Reverse(id.as_str())));
        let (Some((disk, verdict)), Some(facts)) = (riskiest, &host.disks) else {
            continue;
        };
        for home in &facts.homes {
            needed.push(BackupNeeded {
                host: host.name.clone(),
                user: home.user.clone(),
                path: home.path.clone(),
                bytes: home.bytes,
                disk: disk.clone(),
                verdict,
            });
        }
    }
    largest_first(&mut needed);
    needed
}

/// Every home on a host whose disks under /home are all `ok`, largest first.
pub fn on_healthy_disks(hosts: &[Host], verdicts: &HashMap<&str, Verdict>) -> Vec<BackupNeeded> {
    let mut homes = Vec::new();
    for host in hosts {
        let all_ok = !host.home_disks.is_empty()
            && host.home_disks.iter().all(|id| verdicts.get(id.as_str()) == Some(&Verdict::Ok));
        let (true, Some(facts), Some(disk)) = (all_ok, &host.disks, host.home_disks.first()) else { continue };
        homes.extend(facts.homes.iter().map(|home| BackupNeeded {
            host: host.name.clone(),
            user: home.user.clone(),
            path: home.path.clone(),
            bytes: home.bytes,
            disk: disk.clone(),
            verdict: Verdict::Ok,
        }));
    }
    largest_first(&mut homes);
    homes
}

fn largest_first(homes: &mut [BackupNeeded]) {
    homes.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| (&a.host, &a.user).cmp(&(&b.host, &b.user))));
}

//! Homes that need a backup: every user's home on a host whose disk under
//! /home is `watch` or `failing`, largest first.

use super::risk::Verdict;
use crate::fleet::{Disk, Host};
use serde::Serialize;
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct BackupNeeded {
    pub host: String,
    pub host_slug: String,
    pub user: String,
    pub path: String,
    pub bytes: u64,
    /// The riskiest disk under /home.
    pub disk: String,
    pub disk_slug: String,
    pub verdict: Verdict,
}

pub fn backup_needed(hosts: &[Host], disks: &[Disk], verdicts: &HashMap<&str, Verdict>) -> Vec<BackupNeeded> {
    let slugs: HashMap<&str, &str> = disks.iter().map(|d| (d.id.as_str(), d.slug.as_str())).collect();
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
                host_slug: host.slug.clone(),
                user: home.user.clone(),
                path: home.path.clone(),
                bytes: home.bytes,
                disk: disk.clone(),
                disk_slug: slugs.get(disk.as_str()).unwrap_or(&"").to_string(),
                verdict,
            });
        }
    }
    needed.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| (&a.host, &a.user).cmp(&(&b.host, &b.user))));
    needed
}

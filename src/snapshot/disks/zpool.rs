//! `zpool status -P`: pools and the devices they are made of (ZFS has no JSON
//! before OpenZFS 2.3, which Proxmox hosts in the field do not all run).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pool {
    pub name: String,
    /// `ONLINE`, `DEGRADED`, `FAULTED`, …
    pub state: String,
    /// Leaf devices, as full paths (`-P`).
    pub members: Vec<PoolMember>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolMember {
    pub path: String,
    pub state: String,
    /// Read, write and checksum error counts.
    pub errors: [u64; 3],
}

pub fn parse(text: &str) -> Vec<Pool> {
    let mut pools: Vec<Pool> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(name) = trimmed.strip_prefix("pool:") {
            pools.push(Pool { name: name.trim().to_string(), state: String::new(), members: Vec::new() });
        } else if let (Some(state), Some(pool)) = (trimmed.strip_prefix("state:"), pools.last_mut()) {
            pool.state = state.trim().to_string();
        } else if let (true, Some(pool)) = (trimmed.starts_with('/'), pools.last_mut()) {
            let words: Vec<&str> = trimmed.split_whitespace().collect();
            let count = |i: usize| words.get(i).and_then(|w| w.parse().ok()).unwrap_or(0);
            pool.members.push(PoolMember {
                path: words[0].to_string(),
                state: words.get(1).unwrap_or(&"").to_string(),
                errors: [count(2), count(3), count(4)],
            });
        }
    }
    pools
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_pools_and_leaf_devices() {
        let text = "  pool: rpool\n state: DEGRADED\nstatus: One or more devices has been removed.\n  scan: scrub repaired 0B in 00:04:11 with 0 errors on Sun Nov  8 00:28:12 2026\nconfig:\n\n\
            \tNAME                                                    STATE     READ WRITE CKSUM\n\
            \trpool                                                   DEGRADED     0     0     0\n\
            \t  mirror-0                                              DEGRADED     0     0     0\n\
            \t    /dev/disk/by-id/ata-Samsung_SSD_860_EVO_500GB_S3YZNB0KB00864E-part3  ONLINE  0  0  0\n\
            \t    /dev/sdb3                                           FAULTED      3   120     7  too many errors\n\n\
            errors: No known data errors\n\n  pool: tank\n state: ONLINE\nconfig:\n\n\tNAME STATE READ WRITE CKSUM\n\ttank ONLINE 0 0 0\n\t  /dev/sdc ONLINE 0 0 0\n";
        let pools = super::parse(text);
        assert_eq!(pools.len(), 2);
        assert_eq!((pools[0].name.as_str(), pools[0].state.as_str()), ("rpool", "DEGRADED"));
        let members: Vec<(&str, &str, [u64; 3])> =
            pools[0].members.iter().map(|m| (m.path.as_str(), m.state.as_str(), m.errors)).collect();
        assert_eq!(
            members,
            [
                ("/dev/disk/by-id/ata-Samsung_SSD_860_EVO_500GB_S3YZNB0KB00864E-part3", "ONLINE", [0, 0, 0]),
                ("/dev/sdb3", "FAULTED", [3, 120, 7])
            ]
        );
        assert_eq!(pools[1].members[0].path, "/dev/sdc");
    }
}

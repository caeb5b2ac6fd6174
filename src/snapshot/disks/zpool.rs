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

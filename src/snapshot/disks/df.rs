//! `df -B1 --output=source,fstype,target,size,used,avail` (df has no JSON).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Filesystem {
    pub source: String,
    pub fstype: String,
    pub target: String,
    pub size: u64,
    pub used: u64,
    pub avail: u64,
}

/// Pseudo file systems that say nothing about disks.
const VIRTUAL: &[&str] = &["tmpfs", "devtmpfs", "proc", "sysfs", "overlay", "squashfs", "efivarfs", "ramfs"];

pub fn parse(text: &str) -> Result<Vec<Filesystem>, String> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().ok_or("empty output")?;
    if !header.starts_with("Filesystem") {
        return Err(format!("unexpected header {header:?}"));
    }
    let mut filesystems = Vec::new();
    for line in lines {
        // The mount point may hold spaces: take the two first and three last words.
        let words: Vec<&str> = line.split_whitespace().collect();
        let [source, fstype, target @ .., size, used, avail] = words.as_slice() else {
            return Err(format!("unreadable line {line:?}"));
        };
        let number = |s: &str| s.parse::<u64>().map_err(|_| format!("unreadable number {s:?} in line {line:?}"));
        if target.is_empty() {
            return Err(format!("no mount point in line {line:?}"));
        }
        if VIRTUAL.contains(fstype) {
            continue;
        }
        filesystems.push(Filesystem {
            source: source.to_string(),
            fstype: fstype.to_string(),
            target: target.join(" "),
            size: number(size)?,
            used: number(used)?,
            avail: number(avail)?,
        });
    }
    Ok(filesystems)
}

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

/// Whether the file system mounted at `mount` holds `path` (`/` holds everything).
pub fn holds(mount: &str, path: &str) -> bool {
    path == mount || path.starts_with(&format!("{}/", mount.trim_end_matches('/')))
}

/// Pseudo file systems that say nothing about disks.
pub(crate) const VIRTUAL: &[&str] = &["tmpfs", "devtmpfs", "proc", "sysfs", "overlay", "squashfs", "efivarfs", "ramfs"];

/// Why df's output was not read.
#[derive(Debug, thiserror::Error)]
pub enum Unreadable {
    #[error("empty output")]
    Empty,
    #[error("unexpected header {0:?}")]
    Header(String),
    #[error("unreadable line {0:?}")]
    Line(String),
    #[error("unreadable number {0:?} in line {1:?}")]
    Number(String, String),
    #[error("no mount point in line {0:?}")]
    NoMountPoint(String),
}

pub fn parse(text: &str) -> Result<Vec<Filesystem>, Unreadable> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().ok_or(Unreadable::Empty)?;
    if !header.starts_with("Filesystem") {
        return Err(Unreadable::Header(header.to_string()));
    }
    let mut filesystems = Vec::new();
    for line in lines {
        // The mount point may hold spaces: take the two first and three last words.
        let words: Vec<&str> = line.split_whitespace().collect();
        let [source, fstype, target @ .., size, used, avail] = words.as_slice() else {
            return Err(Unreadable::Line(line.to_string()));
        };
        let number = |s: &str| s.parse::<u64>().map_err(|_| Unreadable::Number(s.to_string(), line.to_string()));
        if target.is_empty() {
            return Err(Unreadable::NoMountPoint(line.to_string()));
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

#[cfg(test)]
mod tests {
    #[test]
    fn a_mount_holds_what_is_below_it() {
        assert!(super::holds("/", "/var/cache/apt/archives") && super::holds("/home", "/home"));
        assert!(super::holds("/var", "/var/cache") && !super::holds("/var", "/variable"));
        assert!(!super::holds("/boot/firmware", "/boot"));
    }
}

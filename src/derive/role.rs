//! What a disk does on its host, from the host's newest `disks` facts: the
//! file systems mounted from it, the LVM volume groups, ZFS pools and Ceph
//! OSDs it belongs to.

use crate::snapshot::disks::{lsblk::BlockDevice, DisksFacts};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A file system mounted from it or one of its partitions or volumes.
    Mounted,
    /// A physical volume of this volume group.
    LvmPv,
    /// A member of this ZFS pool.
    Zfs,
    /// Holds this Ceph OSD.
    CephOsd,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Role {
    pub kind: Kind,
    /// The mount point, volume group, pool, or `osd.<id>`.
    pub name: String,
}

/// The lsblk disk a SMART device path names: `/dev/sda` is `sda`; smartctl's
/// NVMe controller `/dev/nvme0` is its first namespace, `nvme0n1`.
pub fn block<'a>(devices: &'a [BlockDevice], device: &str) -> Option<&'a BlockDevice> {
    let name = device.strip_prefix("/dev/").unwrap_or(device);
    let namespace = format!("{name}n1");
    devices.iter().find(|d| d.name == name).or_else(|| devices.iter().find(|d| d.name == namespace))
}

/// The roles of the disk lsblk names `device` (`/dev/sda` or `sda`); a ZFS
/// member named by its `/dev/disk/by-id` path is found by the host's by-id
/// links, or, in snapshots without them, by the serial in the name.
pub fn roles(facts: &DisksFacts, device: &str, serial: Option<&str>) -> Vec<Role> {
    let Some(disk) = block(&facts.devices, device) else { return Vec::new() };
    let tree: Vec<&BlockDevice> = disk.walk().collect();
    let paths: Vec<String> = tree.iter().map(|d| format!("/dev/{}", d.name)).collect();
    let ours = |path: &str| paths.iter().any(|p| p == path);
    let mut roles = Vec::new();
    let mut add = |kind, name: String| {
        if !roles.iter().any(|r: &Role| r.kind == kind && r.name == name) {
            roles.push(Role { kind, name });
        }
    };
    for mount in tree.iter().flat_map(|d| &d.mountpoints).filter(|m| m.starts_with('/')) {
        add(Kind::Mounted, mount.clone());
    }
    for pv in facts.physical_volumes.iter().filter(|pv| ours(&pv.pv_name)) {
        add(Kind::LvmPv, pv.vg_name.clone());
    }
    for pool in &facts.pools {
        let member = |path: &str| {
            let linked = path.strip_prefix("/dev/disk/by-id/").and_then(|n| facts.by_id.iter().find(|l| l.name == n));
            match linked {
                Some(link) => ours(&format!("/dev/{}", link.device)),
                None => ours(path) || serial.is_some_and(|s| path.contains(&format!("_{s}"))),
            }
        };
        if pool.members.iter().any(|m| member(&m.path)) {
            add(Kind::Zfs, pool.name.clone());
        }
    }
    for osd in facts.ceph_osds.iter().filter(|o| o.devices.iter().any(|d| ours(d))) {
        add(Kind::CephOsd, format!("osd.{}", osd.id));
    }
    roles
}

//! Which physical disks one `disks` snapshot shows, and what identifies each.
//!
//! A disk is known by what smartctl and lsblk report — model, serial, and the
//! WWN where the serial alone cannot tell disks apart — never by the probe key
//! or device name, which change when a disk moves.

use crate::snapshot::disks::{lsblk::BlockDevice, smartctl::SmartReport, DisksFacts};
use crate::snapshot::ProbeFailure;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiskKind {
    Nvme,
    Ssd,
    Hdd,
    /// SD card or eMMC.
    Sd,
    /// A virtual disk of a VM.
    Virtual,
    Unknown,
}

/// One disk as one snapshot shows it.
#[derive(Clone, Debug)]
pub struct Observed<'a> {
    pub id: String,
    /// Where the host sees it, e.g. `/dev/sda` or `/dev/bus/0 [megaraid,1]`.
    pub device: String,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub wwn: Option<String>,
    pub capacity: Option<u64>,
    pub kind: DiskKind,
    pub report: Option<&'a SmartReport>,
    /// lsblk's name for it, when lsblk lists it (`sda`, `nvme0n1`).
    pub block_name: Option<String>,
    /// Why there is no SMART data, when there is none.
    pub unavailable: Option<NoSmart>,
}

/// Why a disk has no SMART data: what it is, as far as smartctl and lsblk
/// tell, and what smartctl or the probe said. `reason.txt` words `what`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoSmart {
    pub what: WithoutSmart,
    /// smartctl's own message, or why the probe failed.
    pub detail: Option<String>,
}

/// What a disk without SMART data is, the first that fits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WithoutSmart {
    /// The probe exited 127: smartctl is not installed.
    NoSmartctl,
    /// A RAID controller's volume; its members are the disks.
    RaidVolume,
    /// A virtual machine's disk.
    Virtual,
    /// An SD card or eMMC.
    SdCard,
    /// A USB card reader.
    CardReader,
    /// A USB disk whose bridge passes no SMART commands.
    UsbBridge,
    /// smartctl could not detect the device type.
    Undetected,
    /// The probe failed for another reason.
    ProbeFailed,
    /// No probe ran for this disk.
    NotProbed,
    /// smartctl answered without health data.
    NoData,
}

/// What a disk without SMART is, from the names smartctl and lsblk give it.
fn no_smart(
    report: Option<&SmartReport>,
    block: Option<&BlockDevice>,
    kind: DiskKind,
    failure: Option<&str>,
) -> NoSmart {
    let detail = report.and_then(|r| r.messages.first().cloned()).or(failure.map(str::to_string));
    let names: String = [
        report.and_then(|r| r.model.as_deref()),
        block.and_then(|b| b.model.as_deref()),
        block.and_then(|b| b.vendor.as_deref()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ")
    .to_ascii_lowercase();
    let named = |words: &[&str]| words.iter().any(|w| names.contains(w));
    let usb = block.and_then(|b| b.tran.as_deref()) == Some("usb");
    let said = |text: &str| detail.as_deref().is_some_and(|d| d.contains(text));
    let what = if failure.is_some_and(|f| f.contains("exit 127")) {
        WithoutSmart::NoSmartctl
    } else if named(&["raid", "logical volume", "perc ", "megaraid", "smart array"]) {
        WithoutSmart::RaidVolume
    } else if kind == DiskKind::Virtual || named(&["qemu", "vbox", "vmware", "virtual disk", "msft virtual", "xen"]) {
        WithoutSmart::Virtual
    } else if kind == DiskKind::Sd {
        WithoutSmart::SdCard
    } else if usb && named(&["card reader", "cardreader", "card-reader", "sd/mmc", "multi-card", "multicard"]) {
        WithoutSmart::CardReader
    } else if usb {
        WithoutSmart::UsbBridge
    } else if said("Unable to detect device type") {
        WithoutSmart::Undetected
    } else if failure.is_some() && report.is_none() {
        WithoutSmart::ProbeFailed
    } else if report.is_none() {
        WithoutSmart::NotProbed
    } else {
        WithoutSmart::NoData
    };
    NoSmart { what, detail }
}

/// The disks `host`'s snapshot shows.
pub fn observe<'a>(host: &str, facts: &'a DisksFacts, failures: &[ProbeFailure]) -> Vec<Observed<'a>> {
    // A block device that smartctl reports disks behind (`sat+megaraid,1` on
    // /dev/sda) is a controller's volume, not a disk: its members are the disks.
    let disks: Vec<&BlockDevice> =
        facts.devices.iter().filter(|d| d.is_physical_disk() && members_behind(facts, d).next().is_none()).collect();
    let mut used = vec![false; disks.len()];
    let mut observed = Vec::new();
    for report in &facts.smart {
        if !report.has_health_data() && report.serial.is_none() && report.model.is_none() {
            continue; // smartctl could not even identify it: lsblk's view stands.
        }
        // Each block device is one disk: among those not taken yet that
        // match, the one smartctl names (two disks may share a serial).
        let named = |d: &&BlockDevice| report.device.as_deref().and_then(|n| n.strip_prefix("/dev/")) == Some(&d.name);
        let free: Vec<usize> = (0..disks.len()).filter(|&i| !used[i] && matches_report(disks[i], report)).collect();
        let block = free.iter().copied().find(|&i| named(&disks[i])).or(free.first().copied());
        if let Some(i) = block {
            used[i] = true;
        }
        let block = block.map(|i| disks[i]);
        let mut device = report.device.clone().unwrap_or_else(|| report.probe.trim_start_matches("smartctl:").into());
        if let Some(t) = report.device_type.as_deref().filter(|t| t.contains(',')) {
            device = format!("{device} [{t}]");
        }
        observed.push(Observed {
            id: String::new(),
            device,
            model: report.model.clone().or_else(|| block.and_then(|b| b.model.clone())),
            serial: report.serial.clone().or_else(|| block.and_then(|b| b.serial.clone())),
            wwn: report.wwn.clone().or_else(|| block.and_then(|b| b.wwn.clone())),
            capacity: report.capacity_bytes.or_else(|| block.and_then(|b| b.size)),
            kind: kind(Some(report), block),
            report: Some(report),
            block_name: block.map(|b| b.name.clone()),
            unavailable: (!report.has_health_data())
                .then(|| no_smart(Some(report), block, kind(Some(report), block), None)),
        });
    }
    for (block, _) in disks.iter().zip(&used).filter(|(_, used)| !**used) {
        let probe = format!("smartctl:/dev/{}", block.name);
        let failure = failures.iter().find(|f| f.probe == probe).map(|f| f.cause.as_str());
        let kind = kind(None, Some(block));
        observed.push(Observed {
            id: String::new(),
            device: format!("/dev/{}", block.name),
            model: block.model.clone(),
            serial: block.serial.clone(),
            wwn: block.wwn.clone(),
            capacity: block.size,
            kind,
            report: None,
            block_name: Some(block.name.clone()),
            unavailable: Some(no_smart(None, Some(block), kind, failure)),
        });
    }
    assign_ids(host, &mut observed);
    observed
}

/// lsblk and smartctl name the same disk differently (`nvme0n1` / `/dev/nvme0`),
/// so serial and WWN are compared first, the device name last — and never for
/// a disk behind a RAID controller, whose device node is the controller's.
fn matches_report(block: &BlockDevice, report: &SmartReport) -> bool {
    if let (Some(a), Some(b)) = (&block.serial, &report.serial) {
        if !looks_masked(a) {
            return a == b;
        }
    }
    if let (Some(a), Some(b)) = (&block.wwn, &report.wwn) {
        return a.eq_ignore_ascii_case(b);
    }
    let behind_controller = report.device_type.as_deref().is_some_and(|t| t.contains(','));
    let Some(device) = report.device.as_deref().and_then(|d| d.strip_prefix("/dev/")) else {
        return false;
    };
    // smartctl names an NVMe controller (`nvme0`), lsblk its namespace (`nvme0n1`).
    let namespace = device.starts_with("nvme") && block.name.strip_prefix(device).is_some_and(|n| n.starts_with('n'));
    !behind_controller && (block.name == device || namespace)
}

fn kind(report: Option<&SmartReport>, block: Option<&BlockDevice>) -> DiskKind {
    let name = block.map(|b| b.name.as_str()).unwrap_or("");
    let tran = block.and_then(|b| b.tran.as_deref()).unwrap_or("");
    if report.and_then(|r| r.protocol.as_deref()) == Some("NVMe") || tran == "nvme" || name.starts_with("nvme") {
        return DiskKind::Nvme;
    }
    if tran == "mmc" || name.starts_with("mmcblk") {
        return DiskKind::Sd;
    }
    if name.starts_with("vd") || name.starts_with("xvd") || block.and_then(|b| b.vendor.as_deref()) == Some("0x1af4") {
        return DiskKind::Virtual;
    }
    match (report.and_then(|r| r.rotation_rate), block.and_then(|b| b.rotational)) {
        (Some(0), _) => DiskKind::Ssd,
        (Some(_), _) => DiskKind::Hdd,
        (None, Some(false)) => DiskKind::Ssd,
        (None, Some(true)) => DiskKind::Hdd,
        (None, None) => DiskKind::Unknown,
    }
}

/// A serial that vendors or people masked: `XXXXXXXX`, `0000`, one repeated
/// character, or a placeholder word. It cannot tell disks apart.
pub fn looks_masked(serial: &str) -> bool {
    let s = serial.trim();
    let first = s.chars().next();
    s.len() < 4 || s.chars().all(|c| Some(c) == first) || s.to_ascii_uppercase().contains("XXXX")
}

/// A disk is its model and serial, plus its WWN when the serial cannot tell
/// disks apart: masked, or shared by two disks in this snapshot. Two disks
/// that still look alike stay two disks, told apart by where they are (host
/// and device).
fn assign_ids(host: &str, observed: &mut [Observed]) {
    let base = |disk: &Observed| {
        let model = disk.model.as_deref().map(|m| m.split_whitespace().collect::<Vec<_>>().join(" "));
        (model.unwrap_or_default(), disk.serial.as_deref().filter(|s| !s.trim().is_empty()).map(str::to_string))
    };
    let mut serials: HashMap<(String, String), usize> = HashMap::new();
    for disk in observed.iter() {
        if let (model, Some(serial)) = base(disk) {
            *serials.entry((model, serial)).or_default() += 1;
        }
    }
    for disk in observed.iter_mut() {
        let (model, serial) = base(disk);
        let wwn = disk.wwn.as_deref().map(str::to_ascii_lowercase);
        disk.id = match (serial, wwn) {
            (Some(s), Some(w)) if looks_masked(&s) || serials[&(model.clone(), s.clone())] > 1 => {
                format!("{model}|{s}|{w}")
            }
            // A masked serial and no WWN: nothing tells it from its likes on
            // other hosts, so it stays a disk of this host.
            (Some(s), None) if looks_masked(&s) => format!("{model}|{s}|local:{host}:{}", disk.device),
            (Some(s), _) => format!("{model}|{s}"),
            (None, Some(w)) => format!("{model}||{w}"),
            // Nothing identifies it beyond this host: it stays a disk of this
            // host (every VM has a /dev/vda; they are not one disk).
            (None, None) => format!("{model}|local:{host}:{}", disk.device),
        };
    }
    let mut counts: HashMap<String, usize> = HashMap::new();
    for disk in observed.iter() {
        *counts.entry(disk.id.clone()).or_default() += 1;
    }
    for disk in observed.iter_mut() {
        if counts[&disk.id] > 1 {
            disk.id = format!("{}|at:{host}:{}", disk.id, disk.device);
        }
    }
}

/// The id a disk known as `model|serial` takes when its WWN names a disk
/// that had to be told apart by it elsewhere (its twin shared the serial
/// on another host, or on another day): one disk, one history.
pub fn reunite(ids: &[(&str, Option<&str>)]) -> HashMap<String, String> {
    let qualified: HashMap<String, &str> = ids
        .iter()
        .filter_map(|(id, wwn)| {
            let w = (*wwn)?.to_ascii_lowercase();
            let qualified = id.ends_with(&format!("|{w}"));
            qualified.then_some((w, *id))
        })
        .collect();
    ids.iter()
        .filter_map(|(id, wwn)| {
            let target = qualified.get(&(*wwn)?.to_ascii_lowercase())?;
            (target != id && id.matches('|').count() == 1 && target.starts_with(&format!("{id}|")))
                .then(|| (id.to_string(), target.to_string()))
        })
        .collect()
}

/// The mount point that holds `/home`, and the disks under it (through
/// partitions, LVM, RAID or a ZFS pool).
pub fn disks_under_home(facts: &DisksFacts, observed: &[Observed]) -> (Option<String>, Vec<String>) {
    let holds_home = |m: &str| crate::snapshot::disks::df::holds(m, "/home");
    let mount = facts
        .filesystems
        .iter()
        .map(|f| f.target.as_str())
        .chain(facts.devices.iter().flat_map(|d| d.walk()).flat_map(|d| d.mountpoints.iter().map(String::as_str)))
        .filter(|m| holds_home(m))
        .max_by_key(|m| m.len())
        .map(str::to_string);
    let Some(mount) = mount else {
        return (None, Vec::new());
    };
    let mut ids = Vec::new();
    for top in &facts.devices {
        if top.walk().any(|d| d.mountpoints.contains(&mount)) {
            ids.extend(observed.iter().filter(|o| o.block_name.as_deref() == Some(&top.name)).map(|o| o.id.clone()));
            let behind: Vec<&str> = members_behind(facts, top).map(|r| r.probe.as_str()).collect();
            ids.extend(
                observed
                    .iter()
                    .filter(|o| o.report.is_some_and(|r| behind.contains(&r.probe.as_str())))
                    .map(|o| o.id.clone()),
            );
        }
    }
    // A ZFS dataset: its pool's member devices are the disks.
    if let Some(fs) = facts.filesystems.iter().find(|f| f.target == mount && f.fstype == "zfs") {
        let pool = fs.source.split('/').next().unwrap_or_default();
        for member in facts.pools.iter().filter(|p| p.name == pool).flat_map(|p| &p.members) {
            ids.extend(pool_member_disk(member.path.as_str(), facts, observed));
        }
    }
    ids.sort();
    ids.dedup();
    (Some(mount), ids)
}

/// A pool member is `/dev/disk/by-id/ata-MODEL_SERIAL-part3` or `/dev/sda3`.
pub fn pool_member_disk(path: &str, facts: &DisksFacts, observed: &[Observed]) -> Option<String> {
    let leaf = path.rsplit('/').next().unwrap_or(path);
    if path.contains("/by-id/") {
        let leaf = leaf.split("-part").next().unwrap_or(leaf);
        return observed
            .iter()
            .find(|o| o.serial.as_deref().is_some_and(|s| !looks_masked(s) && leaf.ends_with(s)))
            .map(|o| o.id.clone());
    }
    let top = facts.devices.iter().find(|d| d.walk().any(|c| c.name == leaf))?;
    observed.iter().find(|o| o.block_name.as_deref() == Some(&top.name)).map(|o| o.id.clone())
}

/// The SMART reports of disks behind a RAID controller whose volume is `block`.
fn members_behind<'a>(facts: &'a DisksFacts, block: &'a BlockDevice) -> impl Iterator<Item = &'a SmartReport> + 'a {
    let node = format!("/dev/{}", block.name);
    facts.smart.iter().filter(move |r| {
        r.device.as_deref() == Some(node.as_str()) && r.device_type.as_deref().is_some_and(|t| t.contains(','))
    })
}

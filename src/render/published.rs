//! Types the JSON API publishes (and the pages show) for what the parsers
//! read, the data tree holds and the derived facts say. They are the API's
//! own: a parser's or the data tree's field renamed or added changes nothing
//! in `api/v1` until it is mapped here (and the compiler says where). Each
//! borrows from the data tree; slugs come from the views, since page paths
//! are render's business. Each has its JSON Schema in `schemas/`.

use super::Site;
use crate::derive::risk::Verdict;
use crate::derive::{backup, moves, summary};
use crate::fleet::{identity::WithoutSmart, HostVersion, KindSeen, SmartFigures};
use crate::snapshot::disks::smartctl::{AtaAttribute, SmartReport};
use crate::snapshot::disks::{by_id, ceph, df, home, lsblk, lvm, zpool};
use crate::snapshot::system::SystemFacts;
use crate::snapshot::ProbeFailure;
use crate::time::Instant;
use serde::Serialize;
use std::collections::BTreeMap;

/// `system` of a host: the newest `system` snapshot, as read.
#[derive(Serialize, schemars::JsonSchema)]
pub struct System<'a> {
    pub hostname: Option<&'a str>,
    pub os: Option<&'a str>,
    pub os_id: Option<&'a str>,
    pub os_version: Option<&'a str>,
    pub kernel: Option<&'a str>,
    pub arch: Option<&'a str>,
    pub boot_id: Option<&'a str>,
    pub uptime_seconds: Option<u64>,
    pub addresses: Vec<Address<'a>>,
    /// `systemd-detect-virt`'s answer: `none`, `kvm`, `lxc`, …
    pub virt: Option<&'a str>,
    /// `/proc/device-tree/model`, or the DMI vendor and product.
    pub hardware: Option<&'a str>,
    /// The `pve-manager` version `pveversion` printed.
    pub pve_version: Option<&'a str>,
    /// PID 1's start in clock ticks after boot (a container's restart changes it).
    pub pid1_start: Option<u64>,
}

/// A reboot: the newest snapshot before it and the first after.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Reboot {
    pub after: Instant,
    pub before: Instant,
}

impl Reboot {
    pub fn of(r: &crate::fleet::Reboot) -> Reboot {
        Reboot { after: r.after, before: r.before }
    }
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct Address<'a> {
    pub interface: &'a str,
    pub address: &'a str,
}

impl<'a> System<'a> {
    pub fn of(facts: &'a SystemFacts) -> System<'a> {
        System {
            hostname: facts.hostname.as_deref(),
            os: facts.os.as_deref(),
            os_id: facts.os_id.as_deref(),
            os_version: facts.os_version.as_deref(),
            kernel: facts.kernel.as_deref(),
            arch: facts.arch.as_deref(),
            boot_id: facts.boot_id.as_deref(),
            uptime_seconds: facts.uptime_seconds,
            virt: facts.virt.as_deref(),
            hardware: facts.hardware.as_deref(),
            pve_version: facts.pve_version.as_deref(),
            pid1_start: facts.pid1_start,
            addresses: facts
                .addresses
                .iter()
                .map(|a| Address { interface: &a.interface, address: &a.address })
                .collect(),
        }
    }
}

/// `smart` of a disk: smartctl's newest report with health data, as read.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Smart<'a> {
    /// The probe key, e.g. `smartctl:/dev/bus/0:megaraid,1`.
    pub probe: &'a str,
    pub device: Option<&'a str>,
    pub device_type: Option<&'a str>,
    /// `ATA`, `NVMe` or `SCSI`.
    pub protocol: Option<&'a str>,
    pub model: Option<&'a str>,
    pub serial: Option<&'a str>,
    pub wwn: Option<&'a str>,
    pub firmware: Option<&'a str>,
    pub capacity_bytes: Option<u64>,
    pub rotation_rate: Option<u64>,
    pub form_factor: Option<&'a str>,
    /// smartctl's overall health self-assessment.
    pub passed: Option<bool>,
    pub exit_status: Option<u64>,
    pub messages: &'a [String],
    pub temperature: Option<i64>,
    pub temperature_limit: Option<i64>,
    pub power_on_hours: Option<u64>,
    pub attributes: Vec<Attribute<'a>>,
    pub nvme: Option<Nvme>,
    pub scsi: Option<Scsi>,
    pub self_test_errors: Option<u64>,
    pub error_log_count: Option<u64>,
}

/// One ATA attribute; `raw` is the first number smartctl prints of it.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Attribute<'a> {
    pub id: u8,
    pub name: &'a str,
    pub value: u16,
    pub worst: u16,
    pub thresh: u16,
    pub when_failed: &'a str,
    pub raw: u64,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct Nvme {
    pub critical_warning: u64,
    pub available_spare: Option<u64>,
    pub available_spare_threshold: Option<u64>,
    pub percentage_used: Option<u64>,
    pub media_errors: u64,
    pub unsafe_shutdowns: Option<u64>,
    pub error_log_entries: Option<u64>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct Scsi {
    pub grown_defects: Option<u64>,
    pub uncorrected_errors: u64,
}

impl<'a> Smart<'a> {
    pub fn of(r: &'a SmartReport) -> Smart<'a> {
        let attribute = |a: &'a AtaAttribute| Attribute {
            id: a.id,
            name: &a.name,
            value: a.value,
            worst: a.worst,
            thresh: a.thresh,
            when_failed: &a.when_failed,
            raw: a.raw,
        };
        Smart {
            probe: &r.probe,
            device: r.device.as_deref(),
            device_type: r.device_type.as_deref(),
            protocol: r.protocol.as_deref(),
            model: r.model.as_deref(),
            serial: r.serial.as_deref(),
            wwn: r.wwn.as_deref(),
            firmware: r.firmware.as_deref(),
            capacity_bytes: r.capacity_bytes,
            rotation_rate: r.rotation_rate,
            form_factor: r.form_factor.as_deref(),
            passed: r.passed,
            exit_status: r.exit_status,
            messages: &r.messages,
            temperature: r.temperature,
            temperature_limit: r.temperature_limit,
            power_on_hours: r.power_on_hours,
            attributes: r.attributes.iter().map(attribute).collect(),
            nvme: r.nvme.as_ref().map(|n| Nvme {
                critical_warning: n.critical_warning,
                available_spare: n.available_spare,
                available_spare_threshold: n.available_spare_threshold,
                percentage_used: n.percentage_used,
                media_errors: n.media_errors,
                unsafe_shutdowns: n.unsafe_shutdowns,
                error_log_entries: n.error_log_entries,
            }),
            scsi: r
                .scsi
                .as_ref()
                .map(|s| Scsi { grown_defects: s.grown_defects, uncorrected_errors: s.uncorrected_errors }),
            self_test_errors: r.self_test_errors,
            error_log_count: r.error_log_count,
        }
    }
}

/// A block device of lsblk's tree, with what it holds.
#[derive(Serialize, schemars::JsonSchema)]
pub struct BlockDevice<'a> {
    pub name: &'a str,
    /// lsblk's TYPE: `disk`, `part`, `lvm`, `crypt`, `raid1`, `loop`, …
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub size: Option<u64>,
    pub model: Option<&'a str>,
    pub serial: Option<&'a str>,
    pub wwn: Option<&'a str>,
    pub fstype: Option<&'a str>,
    /// The file system's UUID.
    pub uuid: Option<&'a str>,
    pub mountpoints: &'a [String],
    pub rotational: Option<bool>,
    pub tran: Option<&'a str>,
    /// Its preferred name in /dev/disk/by-id, without the folder.
    pub by_id: Option<&'a str>,
    pub vendor: Option<&'a str>,
    pub hotplug: Option<bool>,
    pub children: Vec<BlockDevice<'a>>,
}

impl<'a> BlockDevice<'a> {
    pub fn of(d: &'a lsblk::BlockDevice, links: &'a [by_id::Link]) -> BlockDevice<'a> {
        BlockDevice {
            name: &d.name,
            kind: &d.kind,
            size: d.size,
            model: d.model.as_deref(),
            serial: d.serial.as_deref(),
            wwn: d.wwn.as_deref(),
            fstype: d.fstype.as_deref(),
            uuid: d.uuid.as_deref(),
            mountpoints: &d.mountpoints,
            rotational: d.rotational,
            tran: d.tran.as_deref(),
            by_id: by_id::preferred(links, &d.name),
            vendor: d.vendor.as_deref(),
            hotplug: d.hotplug,
            children: d.children.iter().map(|c| BlockDevice::of(c, links)).collect(),
        }
    }
}

/// A mounted file system, from `df`.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Filesystem<'a> {
    pub source: &'a str,
    pub fstype: &'a str,
    pub target: &'a str,
    pub size: u64,
    pub used: u64,
    pub avail: u64,
}

impl<'a> Filesystem<'a> {
    pub fn of(f: &'a df::Filesystem) -> Filesystem<'a> {
        Filesystem {
            source: &f.source,
            fstype: &f.fstype,
            target: &f.target,
            size: f.size,
            used: f.used,
            avail: f.avail,
        }
    }
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct PhysicalVolume<'a> {
    pub pv_name: &'a str,
    pub vg_name: &'a str,
    pub size: Option<u64>,
    pub free: Option<u64>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct LogicalVolume<'a> {
    pub lv_name: &'a str,
    pub vg_name: &'a str,
    pub size: Option<u64>,
    /// Its file system, where df shows it mounted (as `/dev/mapper/<vg>-<lv>` or `/dev/<vg>/<lv>`).
    pub fstype: Option<&'a str>,
    pub mountpoint: Option<&'a str>,
    pub used: Option<u64>,
    pub free: Option<u64>,
    /// `used` of `used + free`, rounded up as df does.
    pub use_percent: Option<u64>,
}

impl<'a> PhysicalVolume<'a> {
    pub fn of(p: &'a lvm::PhysicalVolume) -> PhysicalVolume<'a> {
        PhysicalVolume { pv_name: &p.pv_name, vg_name: &p.vg_name, size: p.size, free: p.free }
    }
}

impl<'a> LogicalVolume<'a> {
    /// The volume, with the file system df shows on it among `filesystems`.
    pub fn of(l: &'a lvm::LogicalVolume, filesystems: &'a [df::Filesystem]) -> LogicalVolume<'a> {
        // Device mapper doubles the dashes inside each name.
        let mapper = format!("/dev/mapper/{}-{}", l.vg_name.replace('-', "--"), l.lv_name.replace('-', "--"));
        let direct = format!("/dev/{}/{}", l.vg_name, l.lv_name);
        let fs = filesystems.iter().find(|f| f.source == mapper || f.source == direct);
        LogicalVolume {
            lv_name: &l.lv_name,
            vg_name: &l.vg_name,
            size: l.size,
            fstype: fs.map(|f| f.fstype.as_str()),
            mountpoint: fs.map(|f| f.target.as_str()),
            used: fs.map(|f| f.used),
            free: fs.map(|f| f.avail),
            use_percent: fs.filter(|f| f.used + f.avail > 0).map(|f| (f.used * 100).div_ceil(f.used + f.avail)),
        }
    }
}

/// A user's home and its size, from `du`.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Home<'a> {
    pub user: &'a str,
    pub path: &'a str,
    pub bytes: u64,
}

impl<'a> Home<'a> {
    pub fn of(h: &'a home::HomeUsage) -> Home<'a> {
        Home { user: &h.user, path: &h.path, bytes: h.bytes }
    }
}

/// A ZFS pool and its leaf devices.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Pool<'a> {
    pub name: &'a str,
    pub state: &'a str,
    pub members: Vec<PoolMember<'a>>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct PoolMember<'a> {
    pub path: &'a str,
    pub state: &'a str,
    /// Read, write and checksum error counts.
    pub errors: [u64; 3],
}

impl<'a> Pool<'a> {
    pub fn of(p: &'a zpool::Pool) -> Pool<'a> {
        Pool {
            name: &p.name,
            state: &p.state,
            members: p
                .members
                .iter()
                .map(|m| PoolMember { path: &m.path, state: &m.state, errors: m.errors })
                .collect(),
        }
    }
}

/// A Ceph OSD and the devices holding its data.
#[derive(Serialize, schemars::JsonSchema)]
pub struct CephOsd<'a> {
    pub id: &'a str,
    pub devices: &'a [String],
}

impl<'a> CephOsd<'a> {
    pub fn of(o: &'a ceph::CephOsd) -> CephOsd<'a> {
        CephOsd { id: &o.id, devices: &o.devices }
    }
}

/// A probe that failed, and why.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Failure<'a> {
    pub probe: &'a str,
    pub cause: &'a str,
}

impl<'a> Failure<'a> {
    pub fn of(f: &'a ProbeFailure) -> Failure<'a> {
        Failure { probe: &f.probe, cause: &f.cause }
    }
}

/// Everything one list of the parsers' values becomes in the API.
pub fn all<'a, T, U>(items: &'a [T], of: fn(&'a T) -> U) -> Vec<U> {
    items.iter().map(of).collect()
}

/// One entry of a host's `timeline`: one version, summed up.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Version<'a> {
    pub at: Instant,
    pub kind: &'a str,
    pub os: Option<&'a str>,
    pub kernel: Option<&'a str>,
    /// Disks seen (a `disks` version).
    pub disks: Option<usize>,
    /// Bytes under /home (a `disks` version).
    pub home_bytes: Option<u64>,
    /// Probes that failed.
    pub failures: usize,
}

impl<'a> Version<'a> {
    pub fn of(v: &'a HostVersion) -> Version<'a> {
        Version {
            at: v.at,
            kind: &v.kind,
            os: v.os.as_deref(),
            kernel: v.kernel.as_deref(),
            disks: v.disks,
            home_bytes: v.home_bytes,
            failures: v.failures,
        }
    }
}

/// A kind of snapshot a host sends: how many versions, and the newest.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Seen {
    pub versions: usize,
    pub last: Option<Instant>,
}

pub fn kinds(kinds: &BTreeMap<String, KindSeen>) -> BTreeMap<&str, Seen> {
    kinds.iter().map(|(k, s)| (k.as_str(), Seen { versions: s.versions, last: s.last })).collect()
}

/// One sighting of a disk: when, where, and its SMART figures then.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Sighting<'a> {
    pub at: Instant,
    pub host: &'a str,
    pub device: &'a str,
    pub figures: Option<Figures>,
}

/// The SMART figures kept for every sighting.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Figures {
    /// smartctl's overall health self-assessment.
    pub passed: Option<bool>,
    pub temperature: Option<i64>,
    pub power_on_hours: Option<u64>,
    /// ATA 5, or SCSI grown defects.
    pub reallocated: Option<u64>,
    /// ATA 197.
    pub pending: Option<u64>,
    pub media_errors: Option<u64>,
    pub percentage_used: Option<u64>,
    /// ATA 198.
    pub uncorrectable: Option<u64>,
    /// ATA 199, interface CRC errors.
    pub crc: Option<u64>,
}

impl<'a> Sighting<'a> {
    pub fn of(s: &'a crate::fleet::Sighting) -> Sighting<'a> {
        let figures = |f: &SmartFigures| Figures {
            passed: f.passed,
            temperature: f.temperature,
            power_on_hours: f.power_on_hours,
            reallocated: f.reallocated,
            pending: f.pending,
            media_errors: f.media_errors,
            percentage_used: f.percentage_used,
            uncorrectable: f.uncorrectable,
            crc: f.crc,
        };
        Sighting { at: s.at, host: &s.host, device: &s.device, figures: s.figures.as_ref().map(figures) }
    }
}

/// What a disk without SMART data is.
#[derive(Clone, Copy, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoSmart {
    /// smartctl is not installed.
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

impl NoSmart {
    pub fn of(what: WithoutSmart) -> NoSmart {
        match what {
            WithoutSmart::NoSmartctl => NoSmart::NoSmartctl,
            WithoutSmart::RaidVolume => NoSmart::RaidVolume,
            WithoutSmart::Virtual => NoSmart::Virtual,
            WithoutSmart::SdCard => NoSmart::SdCard,
            WithoutSmart::CardReader => NoSmart::CardReader,
            WithoutSmart::UsbBridge => NoSmart::UsbBridge,
            WithoutSmart::Undetected => NoSmart::Undetected,
            WithoutSmart::ProbeFailed => NoSmart::ProbeFailed,
            WithoutSmart::NotProbed => NoSmart::NotProbed,
            WithoutSmart::NoData => NoSmart::NoData,
        }
    }
}

/// A disk that changed host between two sightings.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Move<'a> {
    pub disk: &'a str,
    pub disk_slug: &'a str,
    pub model: Option<&'a str>,
    pub serial: Option<&'a str>,
    pub from: &'a str,
    pub to: &'a str,
    /// Last seen on `from`.
    pub left: Instant,
    /// First seen on `to`: the move's date.
    pub at: Instant,
}

impl<'a> Move<'a> {
    pub fn of(site: &'a Site, m: &'a moves::Move) -> Move<'a> {
        Move {
            disk: &m.disk,
            disk_slug: site.views.disk_slug(&m.disk),
            model: m.model.as_deref(),
            serial: m.serial.as_deref(),
            from: &m.from,
            to: &m.to,
            left: m.left,
            at: m.at,
        }
    }

    /// Every move, newest first.
    pub fn list(site: &'a Site) -> Vec<Move<'a>> {
        site.derived.moves.iter().map(|m| Move::of(site, m)).collect()
    }
}

/// A user's home on a host whose disk under /home is `watch` or `failing`.
#[derive(Serialize, schemars::JsonSchema)]
pub struct BackupNeeded<'a> {
    pub host: &'a str,
    pub host_slug: &'a str,
    pub user: &'a str,
    pub path: &'a str,
    pub bytes: u64,
    /// The riskiest disk under /home.
    pub disk: &'a str,
    pub disk_slug: &'a str,
    pub disk_model: Option<&'a str>,
    pub disk_serial: Option<&'a str>,
    pub verdict: Verdict,
}

impl<'a> BackupNeeded<'a> {
    /// Every home that needs a backup, largest first.
    pub fn list(site: &'a Site) -> Vec<BackupNeeded<'a>> {
        site.derived.backup.iter().map(|b| BackupNeeded::of(site, b)).collect()
    }

    /// Every home whose disks are all healthy, largest first.
    pub fn healthy(site: &'a Site) -> Vec<BackupNeeded<'a>> {
        site.derived.healthy_homes.iter().map(|b| BackupNeeded::of(site, b)).collect()
    }

    fn of(site: &'a Site, b: &'a backup::BackupNeeded) -> BackupNeeded<'a> {
        let disk = site.views.disk_index.get(&b.disk).map(|&i| &site.views.disks[i]);
        BackupNeeded {
            host: &b.host,
            host_slug: site.views.host_slug(&b.host),
            user: &b.user,
            path: &b.path,
            bytes: b.bytes,
            disk: &b.disk,
            disk_slug: site.views.disk_slug(&b.disk),
            disk_model: disk.and_then(|d| d.model.as_deref()),
            disk_serial: disk.and_then(|d| d.serial.as_deref()),
            verdict: b.verdict,
        }
    }
}

/// What a disk does on its host: `mounted` at a mount point, `lvm-pv` of a
/// volume group, `zfs` member of a pool, `ceph-osd` holding an OSD.
#[derive(Serialize, schemars::JsonSchema)]
pub struct DiskRole {
    pub role: crate::derive::role::Kind,
    pub name: String,
}

/// How to find a disk's file by what is printed on it: each serial and
/// WWN ever seen, with the files of the disks that reported it (more than
/// one when a RAID controller masks serials to the same string).
#[derive(Serialize, schemars::JsonSchema)]
pub struct BySerial<'a> {
    /// Serial → `disks/<slug>.json`, relative to `api/v1/`.
    pub serials: BTreeMap<&'a str, Vec<&'a str>>,
    /// WWN (as lsblk prints it, `0x5000cca264eb01d7`) → `disks/<slug>.json`.
    pub wwns: BTreeMap<&'a str, Vec<&'a str>>,
}

impl<'a> BySerial<'a> {
    pub fn of(site: &'a Site) -> BySerial<'a> {
        let mut by = BySerial { serials: BTreeMap::new(), wwns: BTreeMap::new() };
        for d in &site.views.disks {
            if let Some(serial) = d.serial.as_deref() {
                by.serials.entry(serial).or_default().push(&d.api);
            }
            if let Some(wwn) = d.wwn.as_deref() {
                by.wwns.entry(wwn).or_default().push(&d.api);
            }
        }
        by
    }
}

/// The fleet in figures.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Summary<'a> {
    /// The newest snapshot in the fleet: the "now" of every figure.
    pub newest: Option<Instant>,
    pub hosts: usize,
    /// Disks present in their host's newest `disks` snapshot.
    pub disks: usize,
    /// Every disk ever seen, present or not.
    pub disks_known: usize,
    /// Present disks by verdict: `ok`, `watch`, `failing`, `unknown`.
    pub by_verdict: &'a BTreeMap<&'static str, usize>,
    /// Present disks by kind.
    pub by_kind: &'a BTreeMap<String, usize>,
    /// Sum of the present disks' capacities, bytes.
    pub capacity_bytes: u64,
    pub moves: usize,
    pub backup_needed: usize,
    pub versions: usize,
    pub problems: usize,
    pub stale_after_hours: u64,
    /// Hosts whose newest snapshot is older than `stale_after_hours` before `newest`.
    pub not_seen: Vec<NotSeen<'a>>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct NotSeen<'a> {
    pub host: &'a str,
    pub slug: &'a str,
    pub last_seen: Instant,
    /// Hours between its newest snapshot and the fleet's.
    pub hours: i64,
}

impl<'a> Summary<'a> {
    pub fn of(site: &'a Site) -> Summary<'a> {
        let s: &'a summary::Summary = &site.derived.summary;
        Summary {
            newest: s.newest,
            hosts: s.hosts,
            disks: s.disks,
            disks_known: s.disks_known,
            by_verdict: &s.by_verdict,
            by_kind: &s.by_kind,
            capacity_bytes: s.capacity_bytes,
            moves: s.moves,
            backup_needed: s.backup_needed,
            versions: s.versions,
            problems: s.problems,
            stale_after_hours: s.stale_after_hours,
            not_seen: s
                .not_seen
                .iter()
                .map(|n| NotSeen {
                    host: &n.host,
                    slug: site.views.host_slug(&n.host),
                    last_seen: n.last_seen,
                    hours: n.hours,
                })
                .collect(),
        }
    }
}

/// One thing wrong with the input.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Problem<'a> {
    /// The file (or `git:<commit>:<path>`) the problem was found in.
    pub path: &'a str,
    /// What is wrong, in words.
    pub cause: &'a str,
}

impl<'a> Problem<'a> {
    pub fn of(p: &'a crate::problem::Problem) -> Problem<'a> {
        Problem { path: &p.path, cause: &p.cause }
    }
}

/// One month of a host's or a disk's history, published in a file of its
/// own: a new day rewrites the newest month's file only.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Period {
    /// The calendar month (UTC): `2026-11`.
    pub period: String,
    /// Its entries (versions, or sightings).
    pub entries: usize,
    /// Its first and last entry.
    pub from: Instant,
    pub until: Instant,
    /// Its file, under `api/v1/`.
    pub api: String,
}

/// `hosts/<slug>/history/<period>.json`: a month of a host's versions.
#[derive(Serialize, schemars::JsonSchema)]
pub struct HostHistory<'a> {
    pub host: &'a str,
    pub period: &'a str,
    pub timeline: Vec<Version<'a>>,
}

/// `disks/<slug>/history/<period>.json`: a month of a disk's sightings.
#[derive(Serialize, schemars::JsonSchema)]
pub struct DiskHistory<'a> {
    pub disk: &'a str,
    pub period: &'a str,
    pub sightings: Vec<Sighting<'a>>,
}

/// The periods of a history whose files live beside `api` (`hosts/<slug>.json`).
pub fn periods(api: &str, months: &[crate::fleet::history::Month]) -> Vec<Period> {
    let folder = api.strip_suffix(".json").unwrap_or(api);
    (months.iter())
        .map(|m| Period {
            from: m.from,
            until: m.until,
            entries: m.entries,
            api: format!("{folder}/history/{}.json", m.name),
            period: m.name.clone(),
        })
        .collect()
}

//! What pages and the JSON API show: plain, serialisable views built once
//! from the data tree and the derived facts, shared by HTML and JSON so the
//! two never disagree.

use crate::derive::risk::{Assessment, Level, Verdict};
use crate::derive::summary::kind_name;
use crate::derive::Derived;
use crate::fleet::{Disk, Fleet, Host, Sighting};
use crate::snapshot::disks::{lsblk::BlockDevice, DisksFacts};
use crate::time::Instant;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct ReasonView {
    pub level: Level,
    pub code: crate::derive::reason::Code,
    /// The reason in words, from the `reason.txt` template.
    pub text: String,
    pub values: BTreeMap<&'static str, serde_json::Value>,
}

#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct DiskView {
    pub id: String,
    pub slug: String,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub wwn: Option<String>,
    pub kind: &'static str,
    pub capacity_bytes: Option<u64>,
    pub verdict: Verdict,
    pub reasons: Vec<ReasonView>,
    /// Where it was last seen.
    pub host: String,
    pub host_slug: String,
    pub device: String,
    /// The bus it was last seen on (lsblk's TRAN: `sata`, `nvme`, `usb`, `sas`, …).
    pub tran: Option<String>,
    /// Its preferred name in /dev/disk/by-id (without the folder), where it was last seen.
    pub by_id: Option<String>,
    /// Whether it is in its host's newest `disks` snapshot.
    pub present: bool,
    pub first_seen: Instant,
    pub last_seen: Instant,
    pub temperature: Option<i64>,
    pub power_on_hours: Option<u64>,
    pub hosts_seen: usize,
    pub page: String,
    pub api: String,
}

#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct HostView {
    pub name: String,
    pub slug: String,
    /// The `[[build.source]]` it comes from, when the site is built from several.
    pub source: Option<String>,
    /// The OS: os-release's name, or Proxmox VE with its version.
    pub os: Option<String>,
    /// os-release's name when `os` is Proxmox VE (the Debian it runs on).
    pub base_os: Option<String>,
    pub os_id: Option<String>,
    /// What the machine is, when its `system` snapshot says.
    pub machine: Option<crate::derive::machine::Kind>,
    /// `systemd-detect-virt`'s answer.
    pub virt: Option<String>,
    /// The board or the DMI vendor and product.
    pub hardware: Option<String>,
    pub kernel: Option<String>,
    pub arch: Option<String>,
    pub mode: Option<String>,
    pub first_seen: Instant,
    pub last_seen: Instant,
    /// Not seen for longer than `fleet.stale_after_hours`.
    pub stale: bool,
    pub disks: usize,
    /// The worst verdict among its present disks.
    pub verdict: Verdict,
    pub addresses: Vec<String>,
    pub failures: usize,
    /// Collections that failed to reach it since its newest snapshot, when they did.
    pub unreachable: Option<Unreachable>,
    pub page: String,
    pub api: String,
}

/// The collections that have failed to reach a host since it last answered.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Unreachable {
    /// The first failed attempt (seconds since the epoch).
    pub since: Instant,
    /// The newest one, whose destination, class and error these are.
    pub last: Instant,
    pub attempts: usize,
    /// Where it was tried (`[user@]host[:port]`).
    pub destination: String,
    /// `dns`, `refused`, `timeout`, `no-route`, `auth`, `host-key` or `other`.
    pub class: crate::snapshot::reach::Class,
    /// The error's own words.
    pub error: String,
}

/// One line of the block device tree, indented by depth.
#[derive(Clone, Debug, Serialize)]
pub struct DeviceRow<'a> {
    pub depth: usize,
    pub name: &'a str,
    pub kind: &'a str,
    pub size: Option<u64>,
    pub fstype: Option<&'a str>,
    pub uuid: Option<&'a str>,
    pub tran: Option<&'a str>,
    pub mountpoints: &'a [String],
    pub model: Option<&'a str>,
}

/// The bus and the by-id name of the lsblk disk a device path names (`/dev/sda`, `sda`).
fn tran_and_by_id(facts: &DisksFacts, device: &str) -> (Option<String>, Option<String>) {
    let Some(disk) = crate::derive::role::block(&facts.devices, device) else { return (None, None) };
    let by_id = crate::snapshot::disks::by_id::preferred(&facts.by_id, &disk.name);
    (disk.tran.clone(), by_id.map(str::to_string))
}

pub fn device_rows(devices: &[BlockDevice]) -> Vec<DeviceRow<'_>> {
    fn walk<'a>(d: &'a BlockDevice, depth: usize, rows: &mut Vec<DeviceRow<'a>>) {
        rows.push(DeviceRow {
            depth,
            name: &d.name,
            kind: &d.kind,
            size: d.size,
            fstype: d.fstype.as_deref(),
            uuid: d.uuid.as_deref(),
            tran: d.tran.as_deref(),
            mountpoints: &d.mountpoints,
            model: d.model.as_deref(),
        });
        for c in &d.children {
            walk(c, depth + 1, rows);
        }
    }
    let mut rows = Vec::new();
    for d in devices {
        walk(d, 0, &mut rows);
    }
    rows
}

/// The views of the whole fleet, built once.
pub struct Views {
    pub disks: Vec<DiskView>,
    pub hosts: Vec<HostView>,
    /// A disk's id, a host's name → its view.
    pub disk_index: HashMap<String, usize>,
    pub host_index: HashMap<String, usize>,
}

impl Views {
    /// The slug of the host named `name` (empty for a host not in the fleet).
    pub fn host_slug(&self, name: &str) -> &str {
        self.host_index.get(name).map_or("", |&i| &self.hosts[i].slug)
    }

    /// The slug of the disk `id` (empty for a disk not in the fleet).
    pub fn disk_slug(&self, id: &str) -> &str {
        self.disk_index.get(id).map_or("", |&i| &self.disks[i].slug)
    }

    /// Present disks that are failing or to watch: failing first, then by host and device.
    pub fn at_risk(&self) -> Vec<&DiskView> {
        let mut risky: Vec<&DiskView> =
            self.disks.iter().filter(|d| d.present && matches!(d.verdict, Verdict::Watch | Verdict::Failing)).collect();
        risky.sort_by(|a, b| {
            b.verdict.rank().cmp(&a.verdict.rank()).then_with(|| (&a.host, &a.device).cmp(&(&b.host, &b.device)))
        });
        risky
    }
}

pub fn build(
    fleet: &Fleet,
    derived: &Derived,
    reason_text: &(dyn Fn(&crate::derive::risk::Reason) -> String + Sync),
) -> Views {
    use rayon::prelude::*;
    let present = fleet.present_disks();
    let host_slugs = slugs(fleet.hosts.iter().map(|h| (h.name.as_str(), crate::slug::slug(&h.name))));
    let disk_slugs = slugs(fleet.disks.iter().map(|d| {
        let readable = format!("{} {}", d.model.as_deref().unwrap_or("disk"), d.serial.as_deref().unwrap_or(""));
        (d.id.as_str(), crate::slug::hashed_slug(&readable, &d.id))
    }));
    let by_name: HashMap<&str, &str> =
        fleet.hosts.iter().zip(&host_slugs).map(|(h, s)| (h.name.as_str(), s.as_str())).collect();
    let facts: HashMap<&str, &DisksFacts> =
        fleet.hosts.iter().filter_map(|h| Some((h.name.as_str(), h.disks.as_ref()?))).collect();
    let disks: Vec<DiskView> = (fleet.disks.par_iter().zip(&derived.assessments).zip(disk_slugs))
        .map(|((disk, assessment), slug)| {
            let mut view = disk_view(disk, slug, assessment, present.contains(disk.id.as_str()), &by_name, reason_text);
            if let Some(facts) = facts.get(view.host.as_str()) {
                (view.tran, view.by_id) = tran_and_by_id(facts, &view.device);
            }
            view
        })
        .collect();
    let disk_index: HashMap<String, usize> = disks.iter().enumerate().map(|(i, d)| (d.id.clone(), i)).collect();
    let stale: HashSet<&str> = derived.summary.not_seen.iter().map(|n| n.host.as_str()).collect();
    let hosts: Vec<HostView> = (fleet.hosts.iter().zip(host_slugs))
        .map(|(h, slug)| host_view(h, slug, &disks, &disk_index, stale.contains(h.name.as_str())))
        .collect();
    let host_index = hosts.iter().enumerate().map(|(i, h)| (h.name.clone(), i)).collect();
    Views { disks, hosts, disk_index, host_index }
}

/// Slugs for (identity, readable slug) pairs, made unique (`slug::unique`).
/// Page paths are render's business: the data tree knows names and ids only.
fn slugs<'a>(items: impl Iterator<Item = (&'a str, String)>) -> Vec<String> {
    let items: Vec<(&str, String)> = items.collect();
    crate::slug::unique(&items.iter().map(|(id, slug)| (*id, slug.as_str())).collect::<Vec<_>>())
}

fn disk_view(
    disk: &Disk,
    slug: String,
    assessment: &Assessment,
    present: bool,
    host_slugs: &HashMap<&str, &str>,
    reason_text: &(dyn Fn(&crate::derive::risk::Reason) -> String + Sync),
) -> DiskView {
    let first = disk.sightings.first().expect("a disk has at least one sighting");
    let last: &Sighting = disk.sightings.last().expect("a disk has at least one sighting");
    let figures = last.figures.as_ref();
    let hosts_seen = disk.hosts;
    DiskView {
        id: disk.id.clone(),
        model: disk.model.clone(),
        serial: disk.serial.clone(),
        wwn: disk.wwn.clone(),
        kind: kind_name(disk.kind),
        capacity_bytes: disk.capacity,
        verdict: assessment.verdict,
        reasons: assessment
            .reasons
            .iter()
            .map(|r| ReasonView { level: r.level, code: r.code, text: reason_text(r), values: r.values.clone() })
            .collect(),
        host: last.host.to_string(),
        host_slug: host_slugs.get(last.host.as_str()).unwrap_or(&"").to_string(),
        device: last.device.to_string(),
        tran: None,
        by_id: None,
        present,
        first_seen: first.at,
        last_seen: last.at,
        temperature: figures.and_then(|f| f.temperature),
        power_on_hours: figures.and_then(|f| f.power_on_hours),
        hosts_seen,
        page: format!("disks/{slug}.html"),
        api: format!("disks/{slug}.json"),
        slug,
    }
}

fn host_view(host: &Host, slug: String, disks: &[DiskView], index: &HashMap<String, usize>, stale: bool) -> HostView {
    let verdict = host
        .disk_ids
        .iter()
        .filter_map(|id| index.get(id).map(|&i| disks[i].verdict))
        .max_by_key(|v| v.rank())
        .unwrap_or(Verdict::Ok);
    let system = host.system.as_ref();
    let machine = crate::derive::machine::machine(host);
    let os = machine.os(system);
    HostView {
        // `paris/pve1`: no host name has a `/` but a source's.
        source: host.name.split_once('/').map(|(source, _)| source.to_string()),
        name: host.name.clone(),
        base_os: system.and_then(|s| s.os.clone()).filter(|base| os.as_ref() != Some(base)),
        os,
        os_id: system.and_then(|s| s.os_id.clone()),
        machine: machine.kind,
        virt: machine.virt,
        hardware: machine.hardware,
        kernel: system.and_then(|s| s.kernel.clone()),
        arch: system.and_then(|s| s.arch.clone()),
        mode: host.mode.clone(),
        first_seen: host.first_seen,
        last_seen: host.last_seen,
        stale,
        disks: host.disk_ids.len(),
        verdict,
        addresses: system.map(|s| s.addresses.iter().map(|a| a.address.clone()).collect()).unwrap_or_default(),
        failures: host.failures.len(),
        unreachable: host.unreachable.as_ref().map(|u| Unreachable {
            since: u.since,
            last: u.last,
            attempts: u.attempts,
            destination: u.reach.destination.clone(),
            class: u.reach.class,
            error: u.reach.error.clone(),
        }),
        page: format!("hosts/{slug}.html"),
        api: format!("hosts/{slug}.json"),
        slug,
    }
}

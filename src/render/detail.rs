//! One host's or one disk's whole view: what its page shows and what its
//! JSON file holds, the same for both (the page summarises long histories).

use super::published;
use super::view::{DiskView, HostView};
use super::Site;
use crate::fleet::history::NEWEST;
use crate::fleet::{Disk, Host};
use crate::time::Instant;
use serde::Serialize;
use std::collections::BTreeMap;

// Not a flattened `HostView`: its `disks` and `failures` counts would be
// written under the same names as the lists below.
/// A host: the fields of its entry in `hosts.json`, then everything else.
/// Here `disks` and `failures` are the lists themselves, not their counts.
#[derive(Serialize, schemars::JsonSchema)]
pub struct HostDetail<'a> {
    pub name: &'a str,
    pub slug: &'a str,
    /// The `[[build.source]]` it comes from, when the site is built from several.
    pub source: Option<&'a str>,
    pub os: Option<&'a str>,
    pub base_os: Option<&'a str>,
    pub os_id: Option<&'a str>,
    pub machine: Option<crate::derive::machine::Kind>,
    pub virt: Option<&'a str>,
    pub hardware: Option<&'a str>,
    pub kernel: Option<&'a str>,
    pub arch: Option<&'a str>,
    pub mode: Option<&'a str>,
    pub first_seen: Instant,
    pub last_seen: Instant,
    /// Not seen for longer than `fleet.stale_after_hours`.
    pub stale: bool,
    /// Collections that failed to reach it since its newest snapshot, when they did.
    pub unreachable: Option<&'a super::view::Unreachable>,
    /// The worst verdict among its present disks.
    pub verdict: crate::derive::risk::Verdict,
    pub addresses: &'a [String],
    pub page: &'a str,
    pub api: &'a str,
    pub system: Option<published::System<'a>>,
    /// Disks in the newest `disks` snapshot.
    pub disks: Vec<&'a DiskView>,
    pub disks_at: Option<Instant>,
    pub block_devices: Vec<published::BlockDevice<'a>>,
    pub filesystems: Vec<published::Filesystem<'a>>,
    pub physical_volumes: Vec<published::PhysicalVolume<'a>>,
    pub logical_volumes: Vec<published::LogicalVolume<'a>>,
    pub homes: Vec<published::Home<'a>>,
    pub home_mount: Option<&'a str>,
    /// Slugs of the disks under /home.
    pub home_disks: Vec<&'a str>,
    pub pools: Vec<published::Pool<'a>>,
    pub ceph_osds: Vec<published::CephOsd<'a>>,
    pub failures: Vec<published::Failure<'a>>,
    pub kinds: BTreeMap<&'a str, published::Seen>,
    pub boots: usize,
    /// Reboots: between which two `system` snapshots the boot id (or PID 1's start) changed, oldest first.
    pub reboots: Vec<published::Reboot>,
    /// The newest month's versions (with `History::All`, every one); the
    /// months before are in the files `history` lists.
    pub timeline: Vec<published::Version<'a>>,
    /// Every month of versions, oldest first, each a file of its own (JSON only).
    pub history: Vec<published::Period>,
}

/// How much of a long history a page shows: every change, and the newest entries.
#[derive(Clone, Copy, PartialEq)]
pub enum History {
    /// Every entry, oldest first.
    All,
    /// The newest month's entries, oldest first, and the list of every
    /// month's file (the JSON API: the months before are files of their own).
    NewestMonth,
    /// Changes and the newest entries, newest first (a page: it must stay
    /// small at any age, and reads from the top). In this order already, so
    /// that the template needs no `reverse` filter, which copies the list
    /// and makes Tera copy each row again at every field it reads.
    Summary,
}

/// What a detail shows of `entries`: the newest month's, or every one
/// (oldest first), or for a summary those that say what the entry before
/// them in their series did not, and the newest, newest first.
fn history<T: crate::fleet::history::Dated>(entries: &crate::fleet::History<T>, which: History) -> Vec<&T> {
    match which {
        History::NewestMonth => entries.newest_month().iter().collect(),
        History::All => entries.iter().collect(),
        History::Summary => entries.summary(NEWEST),
    }
}

/// The months of a history, for the JSON API (none for a page).
fn periods(which: History, api: &str, months: &[crate::fleet::history::Month]) -> Vec<published::Period> {
    match which {
        History::NewestMonth => published::periods(api, months),
        _ => Vec::new(),
    }
}

pub fn host_detail<'a>(site: &'a Site, host: &'a Host, view: &'a HostView, which: History) -> HostDetail<'a> {
    let months = periods(which, &view.api, host.timeline.months());
    let disk = |id: &String| site.views.disk_index.get(id).map(|&i| &site.views.disks[i]);
    let facts = host.disks.as_ref();
    HostDetail {
        name: &view.name,
        slug: &view.slug,
        source: view.source.as_deref(),
        os: view.os.as_deref(),
        base_os: view.base_os.as_deref(),
        machine: view.machine,
        virt: view.virt.as_deref(),
        hardware: view.hardware.as_deref(),
        os_id: view.os_id.as_deref(),
        kernel: view.kernel.as_deref(),
        arch: view.arch.as_deref(),
        mode: view.mode.as_deref(),
        first_seen: view.first_seen,
        last_seen: view.last_seen,
        stale: view.stale,
        unreachable: view.unreachable.as_ref(),
        verdict: view.verdict,
        addresses: &view.addresses,
        page: &view.page,
        api: &view.api,
        system: host.system.as_ref().map(published::System::of),
        disks: host.disk_ids.iter().filter_map(disk).collect(),
        disks_at: host.kinds.get("disks").and_then(|k| k.last),
        block_devices: (facts.iter())
            .flat_map(|f| f.devices.iter().map(|d| published::BlockDevice::of(d, &f.by_id)))
            .collect(),
        filesystems: published::all(facts.map_or(&[], |f| &f.filesystems), published::Filesystem::of),
        physical_volumes: published::all(facts.map_or(&[], |f| &f.physical_volumes), published::PhysicalVolume::of),
        logical_volumes: (facts.iter())
            .flat_map(|f| f.logical_volumes.iter().map(|l| published::LogicalVolume::of(l, &f.filesystems)))
            .collect(),
        homes: published::all(facts.map_or(&[], |f| &f.homes), published::Home::of),
        home_mount: host.home_mount.as_deref(),
        home_disks: host.home_disks.iter().filter_map(disk).map(|d| d.slug.as_str()).collect(),
        pools: published::all(facts.map_or(&[], |f| &f.pools), published::Pool::of),
        ceph_osds: published::all(facts.map_or(&[], |f| &f.ceph_osds), published::CephOsd::of),
        failures: published::all(&host.failures, published::Failure::of),
        kinds: published::kinds(&host.kinds),
        boots: host.boots,
        reboots: host.reboots.iter().map(published::Reboot::of).collect(),
        timeline: history(&host.timeline, which).into_iter().map(published::Version::of).collect(),
        history: months,
    }
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct DiskDetail<'a> {
    #[serde(flatten)]
    pub disk: &'a DiskView,
    /// smartctl's message, or why the probe failed, when there is no SMART data.
    pub unavailable: Option<&'a str>,
    /// What the disk is, when there is no SMART data (`raid_volume`, `virtual`, …).
    pub no_smart: Option<published::NoSmart>,
    pub moves: Vec<published::Move<'a>>,
    /// The newest month's sightings (with `History::All`, every one); the
    /// months before are in the files `history` lists.
    pub sightings: Vec<published::Sighting<'a>>,
    /// Every month of sightings, oldest first, each a file of its own (JSON only).
    pub history: Vec<published::Period>,
    /// smartctl's newest report, as parc read it.
    pub smart: Option<published::Smart<'a>>,
    /// What it does on the host it was last seen on, while it is there.
    pub roles: Vec<published::DiskRole>,
}

pub fn disk_detail<'a>(site: &'a Site, disk: &'a Disk, view: &'a DiskView, which: History) -> DiskDetail<'a> {
    let months = periods(which, &view.api, disk.sightings.months());
    DiskDetail {
        disk: view,
        unavailable: disk.unavailable.as_ref().and_then(|n| n.detail.as_deref()),
        no_smart: disk.unavailable.as_ref().map(|n| published::NoSmart::of(n.what)),
        moves: site.derived.moves_of(&disk.id).map(|m| published::Move::of(site, m)).collect(),
        sightings: history(&disk.sightings, which).into_iter().map(published::Sighting::of).collect(),
        history: months,
        smart: disk.report.as_ref().map(published::Smart::of),
        // The views hold the hosts in the fleet's order.
        roles: (site.views.host_index.get(&view.host))
            .and_then(|&i| site.fleet.hosts[i].disks.as_ref())
            .filter(|_| view.present)
            .map(|facts| crate::derive::role::roles(facts, &view.device, view.serial.as_deref()))
            .unwrap_or_default()
            .into_iter()
            .map(|r| published::DiskRole { role: r.kind, name: r.name })
            .collect(),
    }
}

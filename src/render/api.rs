//! The static JSON API under `api/v1/`: one file per list and per entity,
//! JSON Schemas, and `index.json` listing every endpoint.

use super::output::Output;
use super::view::{DiskView, HostView, ReasonView};
use super::{published, Site};
use crate::derive::moves::Move;
use crate::derive::risk::Verdict;
use crate::fleet::{Disk, Host, HostVersion, KindSeen, Sighting};
use crate::time::Instant;
use anyhow::Result;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;

const ROOT: &str = "api/v1";

/// Every list endpoint with its schema; entity endpoints follow a pattern.
const LISTS: &[(&str, &str)] = &[
    ("summary.json", "summary"),
    ("hosts.json", "hosts"),
    ("disks.json", "disks"),
    ("moves.json", "moves"),
    ("at-risk.json", "at-risk"),
    ("backup-needed.json", "backup-needed"),
    ("problems.json", "problems"),
];

const SCHEMAS: &[(&str, &str)] = &[
    ("summary", include_str!("schemas/summary.schema.json")),
    ("hosts", include_str!("schemas/hosts.schema.json")),
    ("host", include_str!("schemas/host.schema.json")),
    ("disks", include_str!("schemas/disks.schema.json")),
    ("disk", include_str!("schemas/disk.schema.json")),
    ("moves", include_str!("schemas/moves.schema.json")),
    ("at-risk", include_str!("schemas/at-risk.schema.json")),
    ("backup-needed", include_str!("schemas/backup-needed.schema.json")),
    ("problems", include_str!("schemas/problems.schema.json")),
];

#[derive(Serialize)]
pub struct HostDetail<'a> {
    #[serde(flatten)]
    pub host: &'a HostView,
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
    pub kinds: &'a BTreeMap<String, KindSeen>,
    pub boots: usize,
    pub timeline: Vec<&'a HostVersion>,
}

/// How much of a long history a page shows: every change, and the newest entries.
#[derive(Clone, Copy, PartialEq)]
pub enum History {
    /// Every entry (the JSON API).
    All,
    /// Changes and the newest entries (a page: it must stay small at any age).
    Summary,
}

/// The newest entries a summary always keeps.
const NEWEST: usize = 10;

/// `entries` (oldest first), or for a summary, those that differ from the one
/// before them (by `same`) and the newest.
fn history<T>(entries: &[T], which: History, same: impl Fn(&T, &T) -> bool) -> Vec<&T> {
    let newest = entries.len().saturating_sub(NEWEST);
    entries
        .iter()
        .enumerate()
        .filter(|(i, e)| which == History::All || *i == 0 || *i >= newest || !same(&entries[i - 1], e))
        .map(|(_, e)| e)
        .collect()
}

pub fn host_detail<'a>(site: &'a Site, host: &'a Host, view: &'a HostView, which: History) -> HostDetail<'a> {
    let disk = |id: &String| site.views.disk_index.get(id).map(|&i| &site.views.disks[i]);
    let facts = host.disks.as_ref();
    HostDetail {
        host: view,
        system: host.system.as_ref().map(published::System::of),
        disks: host.disk_ids.iter().filter_map(disk).collect(),
        disks_at: host.kinds.get("disks").and_then(|k| k.last),
        block_devices: published::all(facts.map_or(&[], |f| &f.devices), published::BlockDevice::of),
        filesystems: published::all(facts.map_or(&[], |f| &f.filesystems), published::Filesystem::of),
        physical_volumes: published::all(facts.map_or(&[], |f| &f.physical_volumes), published::PhysicalVolume::of),
        logical_volumes: published::all(facts.map_or(&[], |f| &f.logical_volumes), published::LogicalVolume::of),
        homes: published::all(facts.map_or(&[], |f| &f.homes), published::Home::of),
        home_mount: host.home_mount.as_deref(),
        home_disks: host.home_disks.iter().filter_map(disk).map(|d| d.slug.as_str()).collect(),
        pools: published::all(facts.map_or(&[], |f| &f.pools), published::Pool::of),
        ceph_osds: published::all(facts.map_or(&[], |f| &f.ceph_osds), published::CephOsd::of),
        failures: published::all(&host.failures, published::Failure::of),
        kinds: &host.kinds,
        boots: host.boots,
        timeline: history(&host.timeline, which, |a, b| {
            (&a.kind, &a.os, &a.kernel, a.disks, a.failures) == (&b.kind, &b.os, &b.kernel, b.disks, b.failures)
        }),
    }
}

#[derive(Serialize)]
pub struct DiskDetail<'a> {
    #[serde(flatten)]
    pub disk: &'a DiskView,
    /// smartctl's message, or why the probe failed, when there is no SMART data.
    pub unavailable: Option<&'a str>,
    /// What the disk is, when there is no SMART data (`raid_volume`, `virtual`, …).
    pub no_smart: Option<crate::fleet::identity::WithoutSmart>,
    pub moves: Vec<&'a Move>,
    pub sightings: Vec<&'a Sighting>,
    /// smartctl's newest report, as parc read it.
    pub smart: Option<published::Smart<'a>>,
}

pub fn disk_detail<'a>(site: &'a Site, disk: &'a Disk, view: &'a DiskView, which: History) -> DiskDetail<'a> {
    DiskDetail {
        disk: view,
        unavailable: disk.unavailable.as_ref().and_then(|n| n.detail.as_deref()),
        no_smart: disk.unavailable.as_ref().map(|n| n.what),
        moves: site.derived.moves.iter().filter(|m| m.disk == disk.id).collect(),
        sightings: history(&disk.sightings, which, |a, b| {
            let figures =
                |s: &Sighting| s.figures.as_ref().map(|f| (f.passed, f.reallocated, f.pending, f.media_errors));
            (&a.host, &a.device, figures(a)) == (&b.host, &b.device, figures(b))
        }),
        smart: disk.report.as_ref().map(published::Smart::of),
    }
}

#[derive(Serialize)]
struct AtRisk<'a> {
    disk: &'a str,
    slug: &'a str,
    model: Option<&'a str>,
    serial: Option<&'a str>,
    host: &'a str,
    device: &'a str,
    verdict: Verdict,
    reasons: &'a [ReasonView],
}

#[derive(Serialize)]
struct Index {
    version: &'static str,
    /// The newest snapshot the data comes from.
    newest: Option<Instant>,
    endpoints: Vec<Endpoint>,
}

#[derive(Serialize)]
struct Endpoint {
    path: String,
    schema: String,
}

/// Writes one endpoint, unless it holds the same value as last time and is still there.
fn json<T: Serialize + ?Sized>(site: &Site, out: &Output, rel: &str, value: &T) -> Result<()> {
    let path = format!("{ROOT}/{rel}");
    let mut hash = site.memo.hasher("json");
    hash.put("", value);
    let key = hash.finish();
    if !(site.memo.same(&path, &key) && out.keep(&path)?) {
        let mut bytes = serde_json::to_vec_pretty(value)?;
        bytes.push(b'\n');
        out.write(&path, &bytes)?;
    }
    site.memo.record(&path, key);
    Ok(())
}

pub fn render(site: &Site, out: &Output) -> Result<()> {
    let derived = site.derived;
    json(site, out, "summary.json", &derived.summary)?;
    json(site, out, "hosts.json", &site.views.hosts)?;
    json(site, out, "disks.json", &site.views.disks)?;
    json(site, out, "moves.json", &derived.moves)?;
    let risky = site.views.at_risk();
    let at_risk: Vec<AtRisk> = risky
        .iter()
        .map(|d| AtRisk {
            disk: &d.id,
            slug: &d.slug,
            model: d.model.as_deref(),
            serial: d.serial.as_deref(),
            host: &d.host,
            device: &d.device,
            verdict: d.verdict,
            reasons: &d.reasons,
        })
        .collect();
    json(site, out, "at-risk.json", &at_risk)?;
    json(site, out, "backup-needed.json", &derived.backup)?;
    json(site, out, "problems.json", &site.fleet.problems)?;

    site.fleet
        .hosts
        .par_iter()
        .zip(&site.views.hosts)
        .try_for_each(|(host, view)| json(site, out, &view.api, &host_detail(site, host, view, History::All)))?;
    site.fleet
        .disks
        .par_iter()
        .zip(&site.views.disks)
        .try_for_each(|(disk, view)| json(site, out, &view.api, &disk_detail(site, disk, view, History::All)))?;

    for (name, schema) in SCHEMAS {
        out.write(&format!("{ROOT}/schemas/{name}.schema.json"), schema.as_bytes())?;
    }
    let mut endpoints: Vec<Endpoint> = LISTS
        .iter()
        .map(|(path, schema)| Endpoint { path: path.to_string(), schema: format!("schemas/{schema}.schema.json") })
        .collect();
    endpoints.extend(
        site.views.hosts.iter().map(|h| Endpoint { path: h.api.clone(), schema: "schemas/host.schema.json".into() }),
    );
    endpoints.extend(
        site.views.disks.iter().map(|d| Endpoint { path: d.api.clone(), schema: "schemas/disk.schema.json".into() }),
    );
    json(site, out, "index.json", &Index { version: "v1", newest: site.fleet.newest, endpoints })
}

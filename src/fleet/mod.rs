//! Stage 4: the versioned data tree. Per host: identity, OS, disks, homes
//! over time. Per disk, keyed by identity: every sighting, on any host.

pub mod apt;
pub mod history;
pub mod identity;

use crate::parse::Version;
use crate::problem::Problem;
use crate::snapshot::disks::smartctl::SmartReport;
use crate::snapshot::disks::DisksFacts;
use crate::snapshot::system::SystemFacts;
use crate::snapshot::{Facts, Parsed, ProbeFailure};
use crate::store::Shared;
use crate::time::Instant;
pub use history::History;
use identity::DiskKind;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

#[derive(Debug, Default)]
pub struct Fleet {
    /// Sorted by name.
    pub hosts: Vec<Host>,
    /// Sorted by id.
    pub disks: Vec<Disk>,
    /// The newest `collected_at` in the whole fleet: "now" for every page,
    /// unless the build watches the clock.
    pub newest: Option<Instant>,
    pub versions: usize,
    pub problems: Vec<Problem>,
    /// The build's clock, when it watches it (`build.now = "clock"`).
    pub clock: Option<Instant>,
}

impl Fleet {
    /// "Now": the newest snapshot, or the build's clock when it is later.
    pub fn now(&self) -> Option<Instant> {
        match (self.newest, self.clock) {
            (Some(n), Some(c)) => Some(n.max(c)),
            (n, c) => n.or(c),
        }
    }

    /// Ids of the disks present now: in their host's newest `disks` snapshot.
    pub fn present_disks(&self) -> HashSet<&str> {
        self.hosts.iter().flat_map(|h| h.disk_ids.iter().map(String::as_str)).collect()
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Host {
    pub name: String,
    pub first_seen: Instant,
    pub last_seen: Instant,
    /// `local` or `ssh`, from the newest snapshot that said.
    pub mode: Option<String>,
    /// Kinds seen, with how many versions and when last.
    pub kinds: BTreeMap<String, KindSeen>,
    /// The newest `system` facts.
    pub system: Option<SystemFacts>,
    /// The newest `disks` facts.
    pub disks: Option<DisksFacts>,
    /// Ids of the disks in the newest `disks` snapshot.
    pub disk_ids: Vec<String>,
    /// Where `/home` lives, and the disks under it, in the newest snapshot.
    pub home_mount: Option<String>,
    pub home_disks: Vec<String>,
    /// Probes that failed in the newest snapshot of each kind.
    pub failures: Vec<ProbeFailure>,
    /// Every version, oldest first.
    pub timeline: History<HostVersion>,
    /// How many different boots the history shows.
    pub boots: usize,
    /// Reboots: a `boot_id` (or PID 1's start) that changed between two `system` snapshots.
    #[serde(default)]
    pub reboots: Vec<Reboot>,
    /// The APT history, from `apt` snapshots.
    #[serde(default)]
    pub apt: Option<apt::AptHistory>,
    /// Archive runs this host carried out (`archive-<job>` snapshots), oldest first.
    #[serde(default)]
    pub archives: Vec<ArchiveRun>,
    /// APT updates of this host (`update` snapshots), oldest first.
    #[serde(default)]
    pub updates: Vec<UpdateRun>,
    /// Probes failing in the newest version of their kind that worked in an
    /// earlier one, with since when they fail without a break.
    #[serde(default)]
    pub probes_broken: Vec<ProbeBroken>,
    /// Collections that have failed to reach it since its newest snapshot.
    #[serde(default)]
    pub unreachable: Option<Unreachable>,
    /// The conditions that held for a while and cleared (see [`apt::AptHistory::spells`] for APT's), oldest first.
    #[serde(default)]
    pub spells: Vec<Spell>,
}

impl Host {
    /// A host first seen at `at`, of which nothing is known yet.
    pub fn new(name: &str, at: Instant) -> Host {
        Host {
            name: name.to_string(),
            first_seen: at,
            last_seen: at,
            mode: None,
            kinds: BTreeMap::new(),
            system: None,
            disks: None,
            disk_ids: Vec::new(),
            home_mount: None,
            home_disks: Vec::new(),
            failures: Vec::new(),
            timeline: History::default(),
            boots: 0,
            reboots: Vec::new(),
            apt: None,
            archives: Vec::new(),
            updates: Vec::new(),
            probes_broken: Vec::new(),
            unreachable: None,
            spells: Vec::new(),
        }
    }
}

/// A condition of a host that held from `from` and had cleared by `to`:
/// the history of what its findings were.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spell {
    pub condition: Condition,
    pub from: Instant,
    pub to: Instant,
}

/// What held during a [`Spell`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Condition {
    /// Collections failed to reach the host.
    Unreachable,
    /// A probe that used to work failed.
    Probe {
        kind: String,
        probe: String,
    },
    RebootRequired,
    NewerKernel,
    SecurityUpdates,
    Held,
    AptError,
}

/// A host the collection has not reached since its newest snapshot: from
/// the `reach` versions that followed it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unreachable {
    /// The first failed attempt of the run.
    pub since: Instant,
    /// The newest, whose destination and error are these.
    pub last: Instant,
    pub attempts: usize,
    pub reach: crate::snapshot::reach::Reach,
}

/// A probe that used to work and now fails.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeBroken {
    pub kind: String,
    pub probe: String,
    pub cause: String,
    /// The first version of the failure's unbroken run.
    pub since: Instant,
}

/// One APT update of the host, dated by its snapshot.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UpdateRun {
    pub at: Instant,
    pub run: crate::snapshot::update::Run,
}

/// One archive run, dated by its snapshot.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ArchiveRun {
    pub at: Instant,
    pub run: crate::snapshot::archive::Run,
}

/// A reboot, dated between the two `system` snapshots whose boot ids differ.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reboot {
    pub after: Instant,
    pub before: Instant,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct KindSeen {
    pub versions: usize,
    pub last: Option<Instant>,
}

/// One version of a host, summed up.
#[derive(Clone, Debug, Hash)]
pub struct HostVersion {
    pub at: Instant,
    pub kind: Shared,
    pub os: Option<Shared>,
    pub kernel: Option<Shared>,
    pub disks: Option<usize>,
    pub home_bytes: Option<u64>,
    pub failures: usize,
    /// `disks` versions: each file system's use in percent, as df counts it (used / (used + available)).
    pub use_percent: Vec<(Shared, u8)>,
}
crate::store::cached_as_array!(HostVersion { at, kind, os, kernel, disks, home_bytes, failures, use_percent });

#[derive(Debug, Serialize, Deserialize)]
pub struct Disk {
    pub id: String,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub wwn: Option<String>,
    pub capacity: Option<u64>,
    pub kind: DiskKind,
    /// Oldest first.
    pub sightings: History<Sighting>,
    /// smartctl's newest full report, if any sighting had one.
    pub report: Option<SmartReport>,
    /// Why the newest sighting has no SMART data, when it has none.
    pub unavailable: Option<identity::NoSmart>,
    /// How many hosts saw it: counted when the hosts' parts are joined.
    #[serde(skip)]
    pub hosts: usize,
}

#[cfg(test)]
impl Disk {
    /// A hard disk of one host, known by its id only, with no sighting yet.
    pub fn bare(id: &str) -> Disk {
        Disk {
            id: id.into(),
            model: None,
            serial: None,
            wwn: None,
            capacity: None,
            kind: DiskKind::Hdd,
            sightings: History::default(),
            report: None,
            unavailable: None,
            hosts: 1,
        }
    }
}

#[derive(Clone, Debug, Hash)]
pub struct Sighting {
    pub at: Instant,
    pub host: Shared,
    pub device: Shared,
    pub figures: Option<SmartFigures>,
}
crate::store::cached_as_array!(Sighting { at, host, device, figures });

/// The SMART figures worth a history: small enough to keep for every sighting.
#[derive(Clone, Debug, Default, PartialEq, Hash)]
pub struct SmartFigures {
    pub passed: Option<bool>,
    pub temperature: Option<i64>,
    pub power_on_hours: Option<u64>,
    /// ATA 5 or SCSI grown defects.
    pub reallocated: Option<u64>,
    /// ATA 197.
    pub pending: Option<u64>,
    pub media_errors: Option<u64>,
    pub percentage_used: Option<u64>,
    /// ATA 198.
    pub uncorrectable: Option<u64>,
    /// ATA 199 (interface CRC errors: a cable more often than the disk).
    pub crc: Option<u64>,
}
crate::store::cached_as_array!(SmartFigures {
    passed,
    temperature,
    power_on_hours,
    reallocated,
    pending,
    media_errors,
    percentage_used,
    uncorrectable,
    crc
});

/// One SMART figure read from a sighting's figures.
pub type Figure = fn(&SmartFigures) -> Option<i64>;

impl SmartFigures {
    /// The figures a disk's page draws over its sightings, each a chart.
    pub const CHARTED: [(&'static str, Figure); 7] = [
        ("temperature", |f| f.temperature),
        ("reallocated", |f| f.reallocated.map(|v| v as i64)),
        ("pending", |f| f.pending.map(|v| v as i64)),
        ("uncorrectable", |f| f.uncorrectable.map(|v| v as i64)),
        ("crc", |f| f.crc.map(|v| v as i64)),
        ("media_errors", |f| f.media_errors.map(|v| v as i64)),
        ("percentage_used", |f| f.percentage_used.map(|v| v as i64)),
    ];

    pub fn of(report: &SmartReport) -> Option<SmartFigures> {
        report.has_health_data().then(|| SmartFigures {
            passed: report.passed,
            temperature: report.temperature,
            power_on_hours: report.power_on_hours,
            reallocated: report.attribute(5).map(|a| a.raw).or(report.scsi.as_ref().and_then(|s| s.grown_defects)),
            pending: report.attribute(197).map(|a| a.raw),
            media_errors: report.nvme.as_ref().map(|n| n.media_errors),
            percentage_used: report.nvme.as_ref().and_then(|n| n.percentage_used),
            uncorrectable: report.attribute(198).map(|a| a.raw),
            crc: report.attribute(199).map(|a| a.raw),
        })
    }
}

/// A host's part of the tree, built independently of every other host.
pub struct HostPart {
    pub host: Host,
    pub disks: Vec<Disk>,
}

/// A month of a host's histories, kept aside by the cache.
#[derive(Default, Serialize)]
pub struct MonthAside<'a> {
    #[serde(serialize_with = "compact")]
    pub timeline: &'a [HostVersion],
    pub disks: Vec<DiskMonth<'a>>,
}

#[derive(Serialize)]
pub struct DiskMonth<'a> {
    pub id: &'a str,
    #[serde(serialize_with = "compact")]
    pub sightings: &'a [Sighting],
}

fn compact<T: Serialize, S: serde::Serializer>(list: &&[T], serializer: S) -> Result<S::Ok, S::Error> {
    crate::store::compact::serialize(list, serializer)
}

/// [`MonthAside`] as read back, each history's entries still as written:
/// a history read alone does not decode its host's others.
#[derive(Deserialize)]
pub struct MonthRead {
    pub timeline: Box<serde_json::value::RawValue>,
    pub disks: Vec<DiskMonthRead>,
}

#[derive(Deserialize)]
pub struct DiskMonthRead {
    pub id: String,
    pub sightings: Box<serde_json::value::RawValue>,
}

impl MonthRead {
    /// Entries as [`MonthAside`] wrote them.
    pub fn decode<T: serde::de::DeserializeOwned>(entries: &serde_json::value::RawValue) -> Result<Vec<T>, String> {
        let mut json = serde_json::Deserializer::from_str(entries.get());
        crate::store::compact::deserialize(&mut json).map_err(|e| e.to_string())
    }
}

/// One host's history being folded, version by version, oldest first. It
/// is kept in the cache between builds, so that new versions are added to
/// it instead of the whole history being read again.
#[derive(Default, Serialize, Deserialize)]
pub struct Assembly {
    host: Option<Host>,
    disks: BTreeMap<String, Disk>,
    boots: BTreeSet<String>,
    failures: BTreeMap<String, Vec<ProbeFailure>>,
    /// The newest version added: its time and kind.
    last: Option<(Instant, String)>,
    /// The newest `system` version's boot id, and its time.
    #[serde(default)]
    last_boot: Option<(String, Instant)>,
    /// The newest `system` version's PID 1 start, when it said.
    #[serde(default)]
    last_pid1: Option<u64>,
    /// Probes failing now: kind, probe, since when, and whether an earlier version had it working.
    #[serde(default)]
    failing: Vec<(String, String, Instant, bool)>,
}

impl Assembly {
    /// Whether a version at `at` of `kind` comes after every version added.
    pub fn comes_after(&self, at: Instant, kind: &str) -> bool {
        self.last.as_ref().is_none_or(|(last_at, last_kind)| (at, kind) > (*last_at, last_kind.as_str()))
    }

    /// The newest version's time.
    pub fn newest(&self) -> Option<Instant> {
        self.last.as_ref().map(|(at, _)| *at)
    }

    /// The months its histories keep aside once those from `from` on stay
    /// in the cache file, that they do not keep aside yet: for each, the
    /// host's versions and each disk's sightings of it.
    pub fn going_aside(&self, from: Instant) -> BTreeMap<&str, MonthAside<'_>> {
        let timeline = self.host.as_ref().map(|h| &h.timeline);
        let sightings = || self.disks.values().map(|d| (d.id.as_str(), &d.sightings));
        fn newly<T: history::Dated>(h: &history::History<T>, from: Instant) -> impl Iterator<Item = &str> {
            h.months()[h.months_aside()..h.aside_before(from)].iter().map(|m| m.name.as_str())
        }
        let mut going: BTreeMap<&str, MonthAside> = BTreeMap::new();
        let disk_months = sightings().flat_map(|(_, h)| newly(h, from));
        for name in timeline.into_iter().flat_map(|h| newly(h, from)).chain(disk_months) {
            going.entry(name).or_default();
        }
        // A month goes aside whole: every history's entries of it.
        fn of<'h, T: history::Dated>(h: &'h history::History<T>, name: &str, from: Instant) -> Option<&'h [T]> {
            let i = h.months()[..h.aside_before(from)].iter().position(|m| m.name == name)?;
            Some(h.month(i))
        }
        for (name, month) in &mut going {
            month.timeline = timeline.and_then(|h| of(h, name, from)).unwrap_or_default();
            month.disks =
                sightings().filter_map(|(id, h)| Some(DiskMonth { id, sightings: of(h, name, from)? })).collect();
        }
        going
    }

    /// Reads the months its histories keep aside from `timeline` and
    /// `disk` (given a disk's id), when asked for.
    pub fn keep_aside_in(
        &mut self,
        timeline: Arc<dyn history::Source<HostVersion>>,
        disk: impl Fn(&str) -> Arc<dyn history::Source<Sighting>>,
    ) {
        if let Some(host) = self.host.as_mut().filter(|h| h.timeline.months_aside() > 0) {
            host.timeline.keep_aside_in(timeline);
        }
        for d in self.disks.values_mut().filter(|d| d.sightings.months_aside() > 0) {
            d.sightings.keep_aside_in(disk(&d.id));
        }
    }

    /// Adds the next version (newer than every version added).
    pub fn add(&mut self, name: &str, parsed: Parsed) {
        let at = parsed.collected_at;
        self.last = Some((at, parsed.kind.clone()));
        let host = self.host.get_or_insert_with(|| Host::new(name, at));
        // A host is seen when it answers, not when it is tried.
        if !matches!(parsed.facts, Facts::Reach(_)) {
            host.last_seen = host.last_seen.max(at);
        }
        host.mode = parsed.mode.or(host.mode.take());
        let seen = host.kinds.entry(parsed.kind.clone()).or_default();
        seen.versions += 1;
        let seen_before = seen.versions > 1;
        seen.last = Some(at);
        let mut entry = HostVersion {
            at,
            kind: parsed.kind.as_str().into(),
            os: None,
            kernel: None,
            disks: None,
            home_bytes: None,
            failures: parsed.failures.len(),
            use_percent: Vec::new(),
        };
        // A probe failing now: since when, and whether an earlier version of its kind had it working.
        self.failing.retain(|(kind, probe, since, worked)| {
            let holds = kind != &parsed.kind || parsed.failures.iter().any(|f| &f.probe == probe);
            if !holds && *worked {
                let condition = Condition::Probe { kind: kind.clone(), probe: probe.clone() };
                host.spells.push(Spell { condition, from: *since, to: at });
            }
            holds
        });
        for f in &parsed.failures {
            if !self.failing.iter().any(|(kind, probe, ..)| kind == &parsed.kind && probe == &f.probe) {
                self.failing.push((parsed.kind.clone(), f.probe.clone(), at, seen_before));
            }
        }
        match parsed.facts {
            Facts::System(system) => {
                entry.os = system.os.as_deref().map(Shared::from);
                entry.kernel = system.kernel.as_deref().map(Shared::from);
                if let Some(boot) = &system.boot_id {
                    if let Some((last, last_at)) = &self.last_boot {
                        // A container keeps its host's boot id: its own restart shows in PID 1's start.
                        let restarted = matches!((self.last_pid1, system.pid1_start), (Some(a), Some(b)) if a != b);
                        if last != boot || restarted {
                            host.reboots.push(Reboot { after: *last_at, before: at });
                        }
                    }
                    self.last_boot = Some((boot.clone(), at));
                    self.last_pid1 = system.pid1_start;
                }
                self.boots.extend(system.boot_id.clone());
                host.system = Some(system);
            }
            Facts::Disks(facts) => {
                let observed = identity::observe(name, &facts, &parsed.failures);
                entry.disks = Some(observed.len());
                entry.home_bytes = Some(facts.homes.iter().map(|h| h.bytes).sum());
                entry.use_percent = (facts.filesystems.iter())
                    .filter(|f| f.used + f.avail > 0)
                    .map(|f| {
                        (
                            f.target.as_str().into(),
                            (f.used.saturating_mul(100)).div_ceil(f.used + f.avail).min(100) as u8,
                        )
                    })
                    .collect();
                for o in &observed {
                    let disk = self.disks.entry(o.id.clone()).or_insert_with(|| Disk {
                        id: o.id.clone(),
                        model: None,
                        serial: None,
                        wwn: None,
                        capacity: None,
                        kind: o.kind,
                        sightings: History::default(),
                        report: None,
                        unavailable: None,
                        hosts: 0,
                    });
                    disk.model = o.model.clone().or(disk.model.take());
                    disk.serial = o.serial.clone().or(disk.serial.take());
                    disk.wwn = o.wwn.clone().or(disk.wwn.take());
                    disk.capacity = o.capacity.or(disk.capacity);
                    if o.kind != DiskKind::Unknown {
                        disk.kind = o.kind;
                    }
                    // The texts of the sighting before, when the same: shared.
                    let before = disk.sightings.last();
                    let host = before.filter(|s| s.host == name).map_or_else(|| name.into(), |s| s.host);
                    let device = (before.filter(|s| s.device == o.device))
                        .map_or_else(|| o.device.as_str().into(), |s| s.device);
                    disk.sightings.push(Sighting { at, host, device, figures: o.report.and_then(SmartFigures::of) });
                    if let Some(report) = o.report.filter(|r| r.has_health_data()) {
                        disk.report = Some(report.clone());
                    }
                    disk.unavailable = o.unavailable.clone();
                }
                let (mount, home_disks) = identity::disks_under_home(&facts, &observed);
                host.disk_ids = observed.iter().map(|o| o.id.clone()).collect();
                host.home_mount = mount;
                host.home_disks = home_disks;
                // The reports live on in the disks; the host keeps the rest of its facts.
                host.disks = Some(DisksFacts { smart: Vec::new(), ..facts });
            }
            Facts::Apt(facts) => host.apt.get_or_insert_with(Default::default).add(at, *facts),
            Facts::Archive(run) => host.archives.push(ArchiveRun { at, run: *run }),
            Facts::Update(run) => host.updates.push(UpdateRun { at, run: *run }),
            Facts::Reach(reach) => {
                let since = host.unreachable.as_ref().map_or(at, |u| u.since);
                let attempts = host.unreachable.as_ref().map_or(0, |u| u.attempts) + 1;
                host.unreachable = Some(Unreachable { since, last: at, attempts, reach });
            }
            // parse.rs makes a file of Ansible facts its `system` and `disks` versions.
            Facts::Other | Facts::Ansible(_) => {}
        }
        // What a collection brought back says the host was reached (not
        // the run logs `parc apply` writes from the control host).
        if !matches!(entry.kind.as_str(), "reach" | "update" | "notify") && !entry.kind.starts_with("archive-") {
            if let Some(u) = host.unreachable.take() {
                host.spells.push(Spell { condition: Condition::Unreachable, from: u.since, to: at });
            }
        }
        self.failures.insert(parsed.kind, parsed.failures);
        host.timeline.push(entry);
    }

    /// The host's part of the tree; `None` when no version was added.
    pub fn into_part(self) -> Option<HostPart> {
        let mut host = self.host?;
        host.probes_broken = (self.failing.iter())
            .filter(|(.., worked)| *worked)
            .map(|(kind, probe, since, _)| ProbeBroken {
                kind: kind.clone(),
                probe: probe.clone(),
                cause: (self.failures.get(kind).into_iter().flatten())
                    .find(|f| &f.probe == probe)
                    .map(|f| f.cause.clone())
                    .unwrap_or_default(),
                since: *since,
            })
            .collect();
        host.failures = self.failures.into_values().flatten().collect();
        host.boots = self.boots.len();
        Some(HostPart { host, disks: self.disks.into_values().collect() })
    }
}

/// Builds one host's history from its versions (oldest first).
pub fn assemble_host(name: &str, versions: Vec<Version>) -> Option<HostPart> {
    let mut assembly = Assembly::default();
    for version in versions {
        assembly.add(name, version.parsed);
    }
    assembly.into_part()
}

/// Joins the hosts' parts: a disk seen on several hosts becomes one history.
pub fn merge(mut parts: Vec<HostPart>, versions: usize, problems: Vec<Problem>) -> Fleet {
    let renames = {
        let ids: Vec<(&str, Option<&str>)> =
            parts.iter().flat_map(|p| &p.disks).map(|d| (d.id.as_str(), d.wwn.as_deref())).collect();
        identity::reunite(&ids)
    };
    for part in parts.iter_mut().filter(|_| !renames.is_empty()) {
        for disk in &mut part.disks {
            if let Some(id) = renames.get(&disk.id) {
                disk.id = id.clone();
            }
        }
        for id in part.host.disk_ids.iter_mut().chain(part.host.home_disks.iter_mut()) {
            if let Some(new) = renames.get(id) {
                *id = new.clone();
            }
        }
    }
    let mut disks: BTreeMap<String, Disk> = BTreeMap::new();
    // The sightings of a disk from the hosts after the first that saw it: a
    // disk seen on one host has its sightings in order already.
    let mut joined: BTreeMap<String, Vec<History<Sighting>>> = BTreeMap::new();
    let mut hosts = Vec::with_capacity(parts.len());
    for part in parts {
        for mut disk in part.disks {
            match disks.get_mut(&disk.id) {
                None => {
                    disk.hosts = 1;
                    disks.insert(disk.id.clone(), disk);
                }
                Some(known) => {
                    let newer = disk.sightings.last().map(|s| s.at) > known.sightings.last().map(|s| s.at);
                    joined.entry(known.id.clone()).or_default().push(disk.sightings);
                    if newer {
                        known.report = disk.report.or(known.report.take());
                        known.unavailable = disk.unavailable;
                        known.model = disk.model.or(known.model.take());
                        known.capacity = disk.capacity.or(known.capacity);
                    }
                }
            }
        }
        hosts.push(part.host);
    }
    // Each joined disk reads its months kept aside: side by side.
    let mut joined: Vec<(&mut Disk, Vec<History<Sighting>>)> =
        (disks.iter_mut()).filter_map(|(id, disk)| Some((disk, joined.remove(id)?))).collect();
    joined.par_iter_mut().for_each(|(disk, more)| {
        disk.sightings.edit(|sightings| {
            std::mem::take(more).into_iter().for_each(|h| sightings.extend(h.into_entries()));
            sightings.sort_by(|a, b| (a.at, &a.host).cmp(&(b.at, &b.host)));
        });
        disk.hosts = disk.sightings.iter().map(|s| s.host.as_str()).collect::<HashSet<_>>().len();
    });
    drop(joined);
    let disks: Vec<Disk> = disks.into_values().collect();
    hosts.sort_by(|a, b| a.name.cmp(&b.name));
    // Attempts count: a fleet whose collector still runs is not silent.
    let newest = hosts.iter().map(|h| h.unreachable.as_ref().map_or(h.last_seen, |u| u.last.max(h.last_seen))).max();
    let mut problems = problems;
    problems.sort();
    problems.dedup();
    Fleet { hosts, disks, newest, versions, problems, clock: None }
}

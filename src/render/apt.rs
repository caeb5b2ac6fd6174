//! What the APT pages and `api/v1/apt/` show: a host's APT state, its
//! pending upgrades, the package changes, and the package index. Built from
//! the data tree (`fleet/apt.rs`) and the derived state (`derive/apt.rs`).

use super::view::ReasonView;
use super::Site;
use crate::derive::apt::{Profile, Status};
use crate::fleet::{apt as history, Fleet, Host};
use crate::snapshot::apt::simulate::{self, Action};
use crate::time::Instant;
use serde::Serialize;

/// One host in `apt/hosts.json` and the APT overview.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct AptHost {
    pub host: String,
    pub slug: String,
    /// `ok`, `updates`, `warning` or `error`.
    pub status: Status,
    pub reasons: Vec<ReasonView>,
    /// Upgrades `apt-get upgrade` would make.
    pub upgrades: usize,
    /// Of those, from a security archive.
    pub security: usize,
    /// Packages a dist-upgrade would install.
    pub new: usize,
    /// Packages a dist-upgrade would remove.
    pub removals: usize,
    pub held: usize,
    pub kept_back: usize,
    pub reboot_required: bool,
    /// Since when a reboot has been needed without a break.
    pub reboot_since: Option<Instant>,
    /// The reboot-required flag outlived a reboot.
    pub reboot_suspect: bool,
    /// `debian`, `ubuntu`, `proxmox`, `raspbian` or `other`.
    pub profile: Profile,
    /// What a dist-upgrade would download (`apt-get --print-uris`).
    pub download_bytes: Option<u64>,
    /// The change on disk apt announces for it; negative when it frees space.
    pub disk_change_bytes: Option<i64>,
    /// What `apt-get autoremove` would remove.
    pub autoremove: Vec<String>,
    /// The bytes in /var/cache/apt/archives: what `apt-get clean` frees.
    pub archives_bytes: Option<u64>,
    /// When the newest package inventory was taken.
    pub last_inventory: Option<Instant>,
    /// When the newest `apt` snapshot was collected.
    pub at: Option<Instant>,
    pub page: String,
}

/// One package change in `apt/changes.json`.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Change<'a> {
    pub host: &'a str,
    pub package: &'a str,
    pub arch: &'a str,
    pub change: ChangeKind,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    /// The two snapshots it happened between.
    pub after: Instant,
    pub before: Instant,
}

/// One pending upgrade (or install, or removal) in `apt/pending.json`.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Pending<'a> {
    pub host: &'a str,
    pub package: &'a str,
    pub op: Op,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub origins: &'a [String],
    pub security: bool,
    /// Only a dist-upgrade would do it (a new package, a removal, a kept-back upgrade).
    pub dist_upgrade_only: bool,
}

/// How a package changed between two inventories.
#[derive(Clone, Copy, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Installed,
    Upgraded,
    Downgraded,
    /// Removed, its configuration left (`rc`).
    Removed,
    /// Gone with its configuration: from `rc`, or straight from installed.
    Purged,
}

impl ChangeKind {
    fn of(c: history::ChangeKind) -> ChangeKind {
        match c {
            history::ChangeKind::Installed => ChangeKind::Installed,
            history::ChangeKind::Upgraded => ChangeKind::Upgraded,
            history::ChangeKind::Downgraded => ChangeKind::Downgraded,
            history::ChangeKind::Removed => ChangeKind::Removed,
            history::ChangeKind::Purged => ChangeKind::Purged,
        }
    }
}

/// What a simulation would do to a package.
#[derive(Clone, Copy, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Upgrade,
    Install,
    Remove,
    Purge,
}

impl Op {
    fn of(op: simulate::Op) -> Op {
        match op {
            simulate::Op::Upgrade => Op::Upgrade,
            simulate::Op::Install => Op::Install,
            simulate::Op::Remove => Op::Remove,
            simulate::Op::Purge => Op::Purge,
        }
    }
}

/// One package name in `apt/packages.json`: which version each host runs, since when, and what is pending.
#[derive(Serialize, schemars::JsonSchema)]
pub struct PackageIndex<'a> {
    pub package: String,
    pub versions: Vec<Installed<'a>>,
    /// Hosts with an upgrade of it pending.
    pub pending: Vec<PendingVersion<'a>>,
}

/// One version of a package and the hosts that run it.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Installed<'a> {
    pub version: String,
    /// Every host that runs it.
    pub hosts: Vec<&'a str>,
    /// The hosts that reached it by a change, and when (the snapshot after
    /// it); the others have run it since their first inventory. A list of
    /// names, not an object per host: the index stays small at fleet scale.
    pub changed: Vec<HostSince<'a>>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct HostSince<'a> {
    pub host: &'a str,
    pub since: Instant,
}

#[derive(Clone, Copy, Serialize, schemars::JsonSchema)]
pub struct PendingVersion<'a> {
    pub host: &'a str,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub security: bool,
}

/// The APT views of every host with APT, most urgent first: errors, then
/// the most security upgrades, then warning, updates, ok; then by name.
pub fn hosts(site: &Site) -> Vec<AptHost> {
    let mut hosts: Vec<AptHost> = (site.hosts().into_iter())
        .filter_map(|super::HostParts { host, view, apt }| {
            let state = apt?;
            let history = host.apt.as_ref()?;
            Some(AptHost {
                host: host.name.clone(),
                slug: view.slug.clone(),
                status: state.status,
                reasons: state.reasons.iter().map(|r| site.reason_view(r)).collect(),
                upgrades: state.upgrades,
                security: state.security,
                new: state.new,
                removals: state.removals,
                held: state.held,
                kept_back: state.kept_back,
                reboot_required: state.reboot_required,
                reboot_since: state.reboot_since,
                reboot_suspect: state.reboot_suspect,
                profile: state.profile,
                download_bytes: history.newest.downloads.as_ref().map(|d| d.bytes),
                disk_change_bytes: history.newest.downloads.as_ref().and_then(|d| d.disk_change),
                autoremove: (history.newest.autoremove.iter())
                    .flat_map(|s| &s.actions)
                    .filter(|a| matches!(a.op, simulate::Op::Remove | simulate::Op::Purge))
                    .map(|a| a.package.clone())
                    .collect(),
                archives_bytes: history.newest.archives_bytes,
                last_inventory: history.last_inventory,
                at: history.at,
                page: format!("apt/{}.html", view.slug),
            })
        })
        .collect();
    let key = |h: &AptHost| (h.status == Status::Error, h.security, h.status);
    hosts.sort_by(|a, b| key(b).cmp(&key(a)).then_with(|| a.host.cmp(&b.host)));
    hosts
}

/// Every package change of every host, newest first.
pub fn changes<'a>(site: &'a Site) -> Vec<Change<'a>> {
    let mut changes: Vec<Change> = site
        .fleet
        .hosts
        .iter()
        .filter_map(|h| Some((h, h.apt.as_ref()?)))
        .flat_map(|(h, apt)| apt.changes.iter().map(move |c| change(h, c)))
        .collect();
    changes.sort_by(|a, b| b.before.cmp(&a.before).then_with(|| (a.host, a.package).cmp(&(b.host, b.package))));
    changes
}

pub fn change<'a>(host: &'a Host, c: &'a history::Change) -> Change<'a> {
    Change {
        host: &host.name,
        package: &c.package,
        arch: &c.arch,
        change: ChangeKind::of(c.change),
        from: c.from.as_deref(),
        to: c.to.as_deref(),
        after: c.after,
        before: c.before,
    }
}

/// A host's pending changes: what `upgrade` would do, then what only `dist-upgrade` would.
pub fn pending(host: &Host) -> Vec<Pending<'_>> {
    let Some(apt) = host.apt.as_ref().map(|a| &a.newest) else { return Vec::new() };
    let upgrade: Vec<&Action> = apt.upgrade.iter().flat_map(|s| &s.actions).collect();
    let in_upgrade: std::collections::HashSet<&str> = upgrade.iter().map(|a| a.package.as_str()).collect();
    let dist_only =
        (apt.dist_upgrade.iter().flat_map(|s| &s.actions)).filter(|a| !in_upgrade.contains(a.package.as_str()));
    let mut pending: Vec<Pending> = upgrade.iter().map(|a| one_pending(host, a, false)).collect();
    pending.extend(dist_only.map(|a| one_pending(host, a, true)));
    pending
}

fn one_pending<'a>(host: &'a Host, a: &'a Action, dist_upgrade_only: bool) -> Pending<'a> {
    Pending {
        host: &host.name,
        package: &a.package,
        op: Op::of(a.op),
        from: a.from.as_deref(),
        to: a.to.as_deref(),
        origins: &a.origins,
        security: a.security(),
        dist_upgrade_only,
    }
}

/// Every package name any host has installed, with each host's version.
/// Built once per build (`Site::apt_packages`), for the page and the JSON.
pub fn packages(fleet: &Fleet) -> Vec<PackageIndex<'_>> {
    use crate::snapshot::apt::Package;
    use rayon::prelude::*;
    use std::collections::HashMap;
    /// One host's share, read on every core: its inventory, its pending upgrades.
    struct Part<'a, 't> {
        host: &'a str,
        packages: Vec<Package<'t>>,
        /// When each package reached the version it is at: its newest change.
        since: HashMap<&'a str, Instant>,
        pending: Vec<(String, PendingVersion<'a>)>,
    }
    let hosts: Vec<(&Host, &history::AptHistory)> =
        fleet.hosts.iter().filter_map(|host| Some((host, host.apt.as_ref()?))).collect();
    // An inventory read from its unescaped text keeps the text here: its packages borrow from it.
    let mut texts: Vec<Option<String>> = vec![None; hosts.len()];
    let parts: Vec<Part> = (hosts.par_iter().zip(texts.par_iter_mut()))
        .map(|((host, apt), text)| {
            let since = apt.changes.iter().map(|c| (c.package.as_str(), c.before)).collect();
            let packages = apt.newest.inventory.as_ref().map(|i| i.packages(text)).unwrap_or_default();
            let pending = (apt.newest.upgrade.iter().flat_map(|s| &s.actions))
                .filter(|a| a.op == simulate::Op::Upgrade)
                .map(|a| {
                    let name = history::lookup(&packages, &a.package).map_or(a.package.as_str(), |p| p.name);
                    let host = &host.name;
                    let (from, to) = (a.from.as_deref(), a.to.as_deref());
                    (name.to_string(), PendingVersion { host, from, to, security: a.security() })
                })
                .collect();
            Part { host: &host.name, packages, since, pending }
        })
        .collect();
    // Package → (version → (hosts, changed), pending upgrades), hosts in the fleet's order.
    type Versions<'a, 'p> = Vec<(&'p str, Vec<&'a str>, Vec<HostSince<'a>>)>;
    let mut index: HashMap<&str, (Versions, Vec<PendingVersion>)> = HashMap::new();
    for part in &parts {
        for p in part.packages.iter().filter(|p| history::installed(p)) {
            let versions = &mut index.entry(p.name).or_default().0;
            let at = match versions.iter().position(|(v, ..)| *v == p.version) {
                Some(at) => at,
                None => {
                    versions.push((p.version, Vec::new(), Vec::new()));
                    versions.len() - 1
                }
            };
            let (_, hosts, changed) = &mut versions[at];
            hosts.push(part.host);
            if let Some(&since) = part.since.get(p.name) {
                changed.push(HostSince { host: part.host, since });
            }
        }
        for (name, pending) in &part.pending {
            index.entry(name.as_str()).or_default().1.push(*pending);
        }
    }
    let mut index: Vec<PackageIndex> = index
        .into_iter()
        .map(|(package, (mut versions, pending))| {
            versions.sort_unstable_by(|a, b| a.0.cmp(b.0));
            let versions = (versions.into_iter())
                .map(|(version, hosts, changed)| Installed { version: version.to_string(), hosts, changed })
                .collect();
            PackageIndex { package: package.to_string(), versions, pending }
        })
        .collect();
    index.sort_unstable_by(|a, b| a.package.cmp(&b.package));
    index
}

/// An upgrade passed over: pending before an upgrade ran, at the same version after it.
#[derive(Serialize)]
pub struct Anomaly<'a> {
    pub package: &'a str,
    pub version: &'a str,
    pub after: Instant,
    pub before: Instant,
}

impl<'a> Anomaly<'a> {
    pub fn of(a: &'a history::Anomaly) -> Anomaly<'a> {
        Anomaly { package: &a.package, version: &a.version, after: a.after, before: a.before }
    }
}

/// needrestart's view of the kernel and the services.
#[derive(Serialize)]
pub struct Kernel<'a> {
    pub running: Option<&'a str>,
    pub expected: Option<&'a str>,
    pub services: &'a [String],
}

impl<'a> Kernel<'a> {
    pub fn of(n: &'a crate::snapshot::apt::NeedRestart) -> Kernel<'a> {
        Kernel { running: n.kernel_current.as_deref(), expected: n.kernel_expected.as_deref(), services: &n.services }
    }
}

//! What a host's APT state means: a status with its reasons (like SMART
//! verdicts), the counts, whether it needs a reboot, and its OS profile's
//! own checks. Reasons carry codes and values; `reason.txt` words them.

use super::reason::{Code, Level, Reason};
use crate::fleet::apt::AptHistory;
use crate::fleet::Host;
use crate::snapshot::apt::simulate::{Op, Simulation};
use crate::snapshot::apt::sources::Source;
use crate::snapshot::apt::{AptFacts, NeedRestart};
use crate::time::Instant;
use serde::Serialize;
use serde_json::json;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Updates,
    Warning,
    Error,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    Debian,
    Ubuntu,
    Proxmox,
    Raspbian,
    Other,
}

#[derive(Clone, Debug)]
pub struct AptState {
    pub status: Status,
    pub reasons: Vec<Reason>,
    pub profile: Profile,
    pub upgrades: usize,
    pub security: usize,
    pub new: usize,
    pub removals: usize,
    pub held: usize,
    pub kept_back: usize,
    pub reboot_required: bool,
    pub reboot_since: Option<Instant>,
    /// The flag was set before the newest reboot and is still there.
    pub reboot_suspect: bool,
}

/// The share of /boot that must stay free on a Raspberry Pi (firmware and kernels land there).
const BOOT_FREE_MIN: f64 = 0.20;

/// `None` for a host that never sent an `apt` snapshot, or is not an APT host.
pub fn assess(host: &Host) -> Option<AptState> {
    let history = host.apt.as_ref()?;
    let apt = &history.newest;
    if !apt.apt {
        return None;
    }
    let mut reasons = Reasons(Vec::new());
    failures(apt, &mut reasons);
    let counts = Counts::of(apt);
    warnings(apt, &counts, &mut reasons);
    let system = host.system.as_ref();
    let enabled: Vec<&Source> =
        apt.sources.iter().filter(|s| s.enabled && s.types.iter().any(|t| t == "deb")).collect();
    if let Some(codename) = system.and_then(|s| s.os_codename.as_deref()) {
        let foreign = foreign_suites(&enabled, codename);
        if !foreign.is_empty() {
            let values = vec![("codename", json!(codename)), ("suites", json!(foreign))];
            reasons.push(Level::Watch, Code::AptForeignRelease, values);
        }
    }
    let profile = profile(system.and_then(|s| s.os_id.as_deref()), &enabled);
    match profile {
        Profile::Proxmox => proxmox(host, apt, &enabled, &mut reasons),
        Profile::Debian => debian(system.and_then(|s| s.os_version.as_deref()), &enabled, &mut reasons),
        Profile::Raspbian => raspbian(host, &mut reasons),
        Profile::Ubuntu => ubuntu(host, apt, &mut reasons),
        Profile::Other => {}
    }
    space(host, apt, &mut reasons);
    if counts.upgrades > 0 {
        let values = vec![("count", json!(counts.upgrades)), ("security", json!(counts.security))];
        reasons.push(Level::Info, Code::AptUpgrades, values);
    }
    let reboot = reboot(host, history);
    restarts(apt, &reboot, &mut reasons);
    let Reasons(reasons) = reasons;
    let status = if reasons.iter().any(|r| r.level == Level::Failing) {
        Status::Error
    } else if reasons.iter().any(|r| r.level == Level::Watch) {
        Status::Warning
    } else if counts.upgrades > 0 {
        Status::Updates
    } else {
        Status::Ok
    };
    Some(AptState {
        status,
        reasons,
        profile,
        upgrades: counts.upgrades,
        security: counts.security,
        new: counts.new,
        removals: counts.removals,
        held: apt.held.len(),
        kept_back: counts.kept_back,
        reboot_required: reboot.required,
        reboot_since: reboot.since,
        reboot_suspect: reboot.suspect,
    })
}

/// The reasons of a host, in the order they are found.
struct Reasons(Vec<Reason>);

impl Reasons {
    fn push(&mut self, level: Level, code: Code, values: Vec<(&'static str, serde_json::Value)>) {
        self.0.push(Reason::new(level, code, values));
    }
}

/// What the simulations would do.
struct Counts {
    upgrades: usize,
    security: usize,
    new: usize,
    removals: usize,
    kept_back: usize,
}

impl Counts {
    fn of(apt: &AptFacts) -> Counts {
        let (upgrade, dist) = (apt.upgrade.as_deref(), apt.dist_upgrade.as_deref());
        let count =
            |sim: Option<&Simulation>, op: Op| sim.map_or(0, |s| s.actions.iter().filter(|a| a.op == op).count());
        Counts {
            upgrades: count(upgrade, Op::Upgrade),
            security: upgrade.map_or(0, |s| s.actions.iter().filter(|a| a.op == Op::Upgrade && a.security()).count()),
            new: count(dist, Op::Install),
            removals: count(dist, Op::Remove) + count(dist, Op::Purge),
            kept_back: upgrade.map_or(0, |s| s.kept_back.len()),
        }
    }
}

/// The update or a simulation failed; apt's own lines say why.
fn failures(apt: &AptFacts, reasons: &mut Reasons) {
    if let Some(update) = &apt.update {
        if update.exit.is_some_and(|e| e != 0) || !update.errors.is_empty() {
            let values = vec![("errors", json!(update.errors)), ("exit", json!(update.exit))];
            reasons.push(Level::Failing, Code::AptUpdateFailed, values);
        }
        if !update.warnings.is_empty() {
            reasons.push(Level::Info, Code::AptUpdateWarnings, vec![("warnings", json!(update.warnings))]);
        }
    }
    for (name, sim) in [("upgrade", &apt.upgrade), ("dist-upgrade", &apt.dist_upgrade)] {
        if let Some(sim) = sim.as_ref().filter(|s| !s.errors.is_empty()) {
            let values =
                vec![("simulation", json!(name)), ("errors", json!(sim.errors)), ("warnings", json!(sim.warnings))];
            reasons.push(Level::Failing, Code::AptSimulationFailed, values);
        }
    }
}

/// Removals a dist-upgrade would make, held packages, upgrades kept back.
fn warnings(apt: &AptFacts, counts: &Counts, reasons: &mut Reasons) {
    if counts.removals > 0 {
        let packages: Vec<&str> = (apt.dist_upgrade.iter())
            .flat_map(|s| &s.actions)
            .filter(|a| matches!(a.op, Op::Remove | Op::Purge))
            .map(|a| a.package.as_str())
            .collect();
        let values = vec![("count", json!(counts.removals)), ("packages", json!(packages))];
        reasons.push(Level::Watch, Code::AptDistUpgradeRemoves, values);
    }
    if !apt.held.is_empty() {
        let values = vec![("count", json!(apt.held.len())), ("packages", json!(apt.held))];
        reasons.push(Level::Watch, Code::AptHeld, values);
    }
    if counts.kept_back > 0 {
        let kept_back = apt.upgrade.as_ref().map(|s| &s.kept_back);
        let values = vec![("count", json!(counts.kept_back)), ("packages", json!(kept_back))];
        reasons.push(Level::Watch, Code::AptKeptBack, values);
    }
}

/// Proxmox VE: the `proxmox-ve` meta-package keeps the Proxmox kernel and its tools
/// coming; without it, or on a Debian kernel, the host is no longer a whole
/// Proxmox VE.
fn proxmox(host: &Host, apt: &AptFacts, enabled: &[&Source], reasons: &mut Reasons) {
    if apt.inventory.is_some() && super::machine::installed(host, "proxmox-ve").is_none() {
        reasons.push(Level::Watch, Code::PveMetaPackageMissing, Vec::new());
    }
    if let Some(kernel) = host.system.as_ref().and_then(|s| s.kernel.as_deref()).filter(|k| !k.ends_with("-pve")) {
        reasons.push(Level::Watch, Code::PveKernelNotRunning, vec![("kernel", json!(kernel))]);
    }
    repositories(apt, enabled, reasons);
}

/// The enterprise repository needs a subscription; without it,
/// pve-no-subscription, or the host gets no Proxmox updates.
fn repositories(apt: &AptFacts, enabled: &[&Source], reasons: &mut Reasons) {
    let enterprise = enabled.iter().any(|s| s.components.iter().any(|c| c == "pve-enterprise"));
    let no_subscription = enabled.iter().any(|s| s.components.iter().any(|c| c == "pve-no-subscription"));
    if enterprise && !apt.pve_subscription {
        reasons.push(Level::Watch, Code::PveEnterpriseWithoutSubscription, Vec::new());
    }
    if !enterprise && !no_subscription {
        reasons.push(Level::Watch, Code::PveNoRepository, Vec::new());
    }
}

/// Debian 12 and later ship firmware in non-free-firmware: sources without it miss its updates.
fn debian(os_version: Option<&str>, enabled: &[&Source], reasons: &mut Reasons) {
    let major = os_version.and_then(|v| v.split('.').next()?.parse::<u32>().ok());
    let debian_archive = |s: &&&Source| s.uris.iter().any(|u| u.contains("debian.org") || u.contains("/debian"));
    let firmware = enabled.iter().filter(debian_archive).any(|s| s.components.iter().any(|c| c == "non-free-firmware"));
    if major.is_some_and(|m| m >= 12) && enabled.iter().any(|s| debian_archive(&s)) && !firmware {
        reasons.push(Level::Watch, Code::DebianNoNonFreeFirmware, vec![("version", json!(major))]);
    }
    // The release, its -updates and its -security carry the same components,
    // or what one has gets no fixes from the others.
    const OPTIONAL: [&str; 3] = ["contrib", "non-free", "non-free-firmware"];
    let mut suites: Vec<(&str, Vec<&str>)> = Vec::new();
    for source in enabled.iter().filter(debian_archive) {
        for suite in source.suites.iter().filter(|s| !s.ends_with("-backports")) {
            let components = source.components.iter().map(String::as_str).filter(|c| OPTIONAL.contains(c));
            match suites.iter_mut().find(|(name, _)| name == suite) {
                Some((_, have)) => have.extend(components),
                None => suites.push((suite, components.collect())),
            }
        }
    }
    let wanted: Vec<&str> = OPTIONAL.into_iter().filter(|c| suites.iter().any(|(_, have)| have.contains(c))).collect();
    let short: Vec<&str> =
        suites.iter().filter(|(_, have)| wanted.iter().any(|c| !have.contains(c))).map(|(name, _)| *name).collect();
    if !short.is_empty() {
        let missing: Vec<&str> =
            wanted.iter().copied().filter(|c| suites.iter().any(|(_, have)| !have.contains(c))).collect();
        reasons.push(
            Level::Watch,
            Code::DebianComponentsUneven,
            vec![("suites", json!(short)), ("components", json!(missing))],
        );
    }
}

/// Ubuntu: a driver `ubuntu-drivers` recommends that is not installed.
fn ubuntu(host: &Host, apt: &AptFacts, reasons: &mut Reasons) {
    for device in apt.drivers.iter().flatten() {
        let Some(package) = device.recommended.as_deref() else { continue };
        if apt.inventory.is_some() && super::machine::installed(host, package).is_none() {
            reasons.push(
                Level::Info,
                Code::UbuntuDriverRecommended,
                vec![("package", json!(package)), ("device", json!(device.model))],
            );
        }
    }
}

/// Packages whose files land in /boot or /boot/firmware.
const BOOT_PACKAGES: [&str; 6] = [
    "linux-image-",
    "raspi-firmware",
    "raspberrypi-kernel",
    "raspberrypi-bootloader",
    "pve-kernel-",
    "proxmox-kernel-",
];

/// The pending upgrades against the free space they need: the archives'
/// file system takes the downloads and apt's announced growth, /boot (or
/// /boot/firmware) the kernels and firmware.
fn space(host: &Host, apt: &AptFacts, reasons: &mut Reasons) {
    let (Some(downloads), Some(disks)) = (apt.downloads.as_ref(), host.disks.as_ref()) else { return };
    let holding = |path: &str| {
        (disks.filesystems.iter())
            .filter(|f| crate::snapshot::disks::df::holds(&f.target, path))
            .max_by_key(|f| f.target.len())
    };
    let mut check = |fs: Option<&crate::snapshot::disks::df::Filesystem>, needed: u64| {
        if let Some(fs) = fs.filter(|f| needed > 0 && f.avail < needed) {
            let values = vec![("mount", json!(fs.target)), ("needed", json!(needed)), ("free", json!(fs.avail))];
            reasons.push(Level::Watch, Code::AptSpaceShort, values);
        }
    };
    let growth = downloads.disk_change.unwrap_or(0).max(0) as u64;
    check(holding("/var/cache/apt/archives"), downloads.bytes + growth);
    let boot: u64 = (downloads.files.iter())
        .filter(|(package, _)| BOOT_PACKAGES.iter().any(|p| package.starts_with(p)))
        .map(|(_, size)| size)
        .sum();
    let boot_fs = ["/boot/firmware", "/boot"].iter().find_map(|t| disks.filesystems.iter().find(|f| f.target == *t));
    check(boot_fs, boot);
}

/// Raspberry Pi OS: kernels and firmware land in a small /boot.
fn raspbian(host: &Host, reasons: &mut Reasons) {
    let boot = host
        .disks
        .as_ref()
        .and_then(|d| ["/boot/firmware", "/boot"].iter().find_map(|t| d.filesystems.iter().find(|f| f.target == *t)));
    let Some(fs) = boot.filter(|f| f.size > 0) else { return };
    let free = fs.avail as f64 / fs.size as f64;
    if free < BOOT_FREE_MIN {
        let percent = (free * 100.0).round() as u64;
        reasons.push(
            Level::Watch,
            Code::RpiBootFull,
            vec![("mount", json!(fs.target)), ("free_percent", json!(percent))],
        );
    }
}

/// A reboot due, a newer kernel installed, services running old libraries.
fn restarts(apt: &AptFacts, reboot: &Reboot, reasons: &mut Reasons) {
    if reboot.required {
        let values = vec![
            ("since", json!(reboot.since)),
            ("packages", json!(apt.reboot_packages)),
            ("suspect", json!(reboot.suspect)),
        ];
        reasons.push(Level::Info, Code::RebootRequired, values);
    }
    if let Some(n) = apt.needrestart.as_ref().filter(|n| n.newer_kernel()) {
        let values = vec![
            ("running", json!(n.kernel_current)),
            ("expected", json!(n.kernel_expected)),
            ("status", json!(n.kernel_status)),
        ];
        reasons.push(Level::Info, Code::KernelUpgradePending, values);
    }
    if let Some(n) = apt.needrestart.as_ref().filter(|n| !n.services.is_empty()) {
        reasons.push(Level::Info, Code::ServicesToRestart, vec![("services", json!(n.services))]);
    }
}

/// Whether a host needs a reboot, since when, and whether the flag looks stale.
struct Reboot {
    required: bool,
    since: Option<Instant>,
    /// The flag was set before a reboot and is still there.
    suspect: bool,
}

/// needrestart's kernel state counts too: a newer kernel waits for a reboot.
fn reboot(host: &Host, history: &AptHistory) -> Reboot {
    let apt = &history.newest;
    let kernel = apt.needrestart.as_ref().is_some_and(NeedRestart::newer_kernel);
    let since = match (history.reboot_since, history.kernel_since.filter(|_| kernel)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let suspect = apt.reboot_required
        && history.reboot_since.is_some_and(|since| host.reboots.iter().any(|r| r.before > since && r.after >= since));
    Reboot { required: apt.reboot_required || kernel, since, suspect }
}

/// Suites of the enabled sources naming another release than `codename`
/// (`bullseye-updates` on a bookworm host). Suites that name no release
/// (`stable`, a vendor's own) are not judged.
fn foreign_suites(sources: &[&Source], codename: &str) -> Vec<String> {
    const RELEASES: &[&str] = &[
        "buster", "bullseye", "bookworm", "trixie", "forky", "sid", "bionic", "focal", "jammy", "noble", "oracular",
        "plucky", "questing", "xenial",
    ];
    let mut foreign: Vec<String> = sources
        .iter()
        .flat_map(|s| &s.suites)
        .filter(|suite| {
            let release = suite.split(['-', '/']).next().unwrap_or(suite);
            RELEASES.contains(&release) && release != codename
        })
        .cloned()
        .collect();
    foreign.sort();
    foreign.dedup();
    foreign
}

/// The OS profile: Proxmox when a source is Proxmox's, else os-release's ID.
fn profile(os_id: Option<&str>, sources: &[&Source]) -> Profile {
    let proxmox = sources.iter().any(|s| {
        s.uris.iter().any(|u| u.contains("proxmox.com")) || s.components.iter().any(|c| c.starts_with("pve-"))
    });
    if proxmox {
        return Profile::Proxmox;
    }
    let raspberry = sources.iter().any(|s| s.uris.iter().any(|u| u.contains("raspberrypi") || u.contains("raspbian")));
    match os_id {
        Some("raspbian") => Profile::Raspbian,
        _ if raspberry => Profile::Raspbian,
        Some("debian") => Profile::Debian,
        Some("ubuntu") => Profile::Ubuntu,
        _ => Profile::Other,
    }
}

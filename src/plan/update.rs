//! APT updates, planned from the snapshots alone (no SSH): for each host an
//! `[[update]]` policy names, the action, the packages it expects to change
//! (from the matching simulation), the removals, what is held or kept back,
//! whether a reboot is expected, and the newest `apt` snapshot the plan was
//! made from; or why the host is skipped.

use crate::config::update::{Action, Policy, Reboot};
use crate::config::Config;
use crate::derive::apt::{AptState, Profile, Status};
use crate::fleet::{Fleet, Host};
use crate::snapshot::apt::simulate::{Op, Simulation};
use crate::time::Instant;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The plan of one host's update.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HostUpdate {
    pub host: String,
    pub policy: String,
    /// What runs: the policy's action, or `full-upgrade` where the profile asks for it.
    pub action: Action,
    /// `update` or `skip`.
    pub decision: Decision,
    /// Why not, when skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip: Option<Skip>,
    /// The plan in words: what runs, or why not.
    pub reason: String,
    /// Updated alone and first; the policy's other hosts only if every canary succeeded.
    pub canary: bool,
    /// What the newest simulation says the action changes.
    pub packages: Vec<PackageChange>,
    /// Packages the action would remove.
    pub removals: Vec<String>,
    pub held: Vec<String>,
    pub kept_back: Vec<String>,
    pub reboot_expected: bool,
    /// The newest `apt` snapshot the plan was made from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apt_snapshot: Option<AptSnapshot>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Update,
    Skip,
}

/// Why a host is not updated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Skip {
    /// No `apt` snapshot, or not an APT host.
    NoApt,
    /// Named by more than one policy.
    TwoPolicies,
    /// The newest `apt` snapshot is older than `max_age`.
    Stale,
    /// APT's state is `error` (a failed update or simulation).
    AptError,
    /// The simulation removes packages and `allow_removals` is false.
    Removals,
    /// `/boot` has less free space than a kernel needs.
    BootSpace,
    /// Nothing to upgrade.
    NothingToDo,
    /// The newest collection did not reach the host (`host-unreachable`).
    Unreachable,
    /// Not now: outside the policy's window.
    OutsideWindow,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PackageChange {
    pub package: String,
    /// The installed version; none for a new package.
    pub from: Option<String>,
    pub to: Option<String>,
    pub security: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AptSnapshot {
    /// Relative to the snapshots folder.
    pub path: String,
    pub sha256: String,
    pub collected_at: Instant,
}

/// Free space `/boot` must keep for a kernel upgrade (an initramfs and a kernel, with room).
pub const BOOT_FREE_BYTES: u64 = 150 << 20;

/// The update plan of every host a policy names, canaries first, then by policy and host.
pub fn plans(
    config: &Config,
    fleet: &Fleet,
    apt: &[Option<AptState>],
    snapshots: &Path,
    now: &jiff::Zoned,
) -> Vec<HostUpdate> {
    if config.update.is_empty() {
        return Vec::new();
    }
    let at = Instant(now.timestamp().as_second());
    let mut out = Vec::new();
    let mut names: Vec<&str> = fleet.hosts.iter().map(|h| h.name.as_str()).collect();
    names.extend(config.hosts.iter().map(|h| h.name.as_str()).filter(|n| !fleet.hosts.iter().any(|h| h.name == *n)));
    for name in names {
        let index = fleet.hosts.iter().position(|h| h.name == name);
        let kind = index.and_then(|i| crate::derive::machine::machine(&fleet.hosts[i]).kind);
        let policies: Vec<&Policy> = config.update.iter().filter(|p| p.names(name) && p.fits(kind)).collect();
        let Some(policy) = policies.first() else { continue };
        let host = index.map(|i| (&fleet.hosts[i], apt[i].as_ref()));
        let mut plan = match host {
            Some((host, _)) if host.unreachable.is_some() => {
                let u = host.unreachable.as_ref().expect("checked");
                let why =
                    format!("not reached since {} ({}): updated once it answers", u.since.rfc3339(), u.reach.error);
                skipped(name, policy, Skip::Unreachable, why)
            }
            Some((host, Some(state))) => host_plan(policy, host, state, snapshots, at),
            _ => skipped(name, policy, Skip::NoApt, "no apt snapshot: parc knows nothing of its packages".into()),
        };
        if policies.len() > 1 {
            let all: Vec<&str> = policies.iter().map(|p| p.name.as_str()).collect();
            let why = format!("named by the policies {}: a host is in at most one", all.join(", "));
            plan = HostUpdate { decision: Decision::Skip, skip: Some(Skip::TwoPolicies), reason: why, ..plan };
        }
        if plan.decision == Decision::Update {
            if let Some(window) = policy.window.as_ref().filter(|w| !w.contains(now.datetime())) {
                let why = format!("outside the window {window} (now {})", now.strftime("%a %H:%M"));
                plan = HostUpdate { decision: Decision::Skip, skip: Some(Skip::OutsideWindow), reason: why, ..plan };
            }
        }
        out.push(plan);
    }
    out.sort_by(|a, b| (b.canary, &a.policy, &a.host).cmp(&(a.canary, &b.policy, &b.host)));
    out
}

fn skipped(host: &str, policy: &Policy, skip: Skip, reason: String) -> HostUpdate {
    HostUpdate {
        host: host.to_string(),
        policy: policy.name.clone(),
        action: policy.action,
        decision: Decision::Skip,
        skip: Some(skip),
        reason,
        canary: policy.canary.iter().any(|c| c == host),
        packages: Vec::new(),
        removals: Vec::new(),
        held: Vec::new(),
        kept_back: Vec::new(),
        reboot_expected: false,
        apt_snapshot: None,
    }
}

fn host_plan(policy: &Policy, host: &Host, state: &AptState, snapshots: &Path, now: Instant) -> HostUpdate {
    let history = host.apt.as_ref().expect("a host with an APT state has an APT history");
    let apt = &history.newest;
    let mut plan = skipped(&host.name, policy, Skip::NoApt, String::new());
    plan.apt_snapshot = history.at.and_then(|at| newest_apt(snapshots, &host.name, at));
    // Proxmox VE is only ever upgraded with dist-upgrade (Proxmox's own instructions).
    plan.action = match (policy.action, state.profile) {
        (Action::Upgrade, Profile::Proxmox) => Action::FullUpgrade,
        (action, _) => action,
    };
    let simulation: Option<&Simulation> = match plan.action {
        Action::FullUpgrade => apt.dist_upgrade.as_deref(),
        Action::Security | Action::Upgrade => apt.upgrade.as_deref(),
    };
    let actions = simulation.map(|s| s.actions.as_slice()).unwrap_or_default();
    plan.packages = actions
        .iter()
        .filter(|a| matches!(a.op, Op::Upgrade | Op::Install))
        .filter(|a| plan.action != Action::Security || (a.op == Op::Upgrade && a.security()))
        .map(|a| PackageChange {
            package: a.package.clone(),
            from: a.from.clone(),
            to: a.to.clone(),
            security: a.security(),
        })
        .collect();
    // Only the upgrade of packages already installed: a security action removes nothing.
    if plan.action != Action::Security {
        let removed = actions.iter().filter(|a| matches!(a.op, Op::Remove | Op::Purge));
        plan.removals = removed.map(|a| a.package.clone()).collect();
    }
    plan.held = apt.held.clone();
    plan.kept_back = apt.upgrade.as_ref().map(|s| s.kept_back.clone()).unwrap_or_default();
    let kernel = plan.packages.iter().any(|p| is_kernel(&p.package));
    plan.reboot_expected = match policy.reboot {
        Reboot::Never => false,
        Reboot::Always => true,
        Reboot::WhenRequired => state.reboot_required || kernel,
    };
    let age = apt_age(history.at, now);
    let skip = if age.is_none_or(|s| s > policy.max_age.0.as_secs() as i64) {
        let age = age.map_or("unknown".into(), |s| format!("{} h", s / 3600));
        Some((Skip::Stale, format!("the newest apt snapshot is {age} old, over max_age {}", policy.max_age)))
    } else if state.status == Status::Error {
        Some((Skip::AptError, "APT fails on the host (see its APT page): fix that first".into()))
    } else if !plan.removals.is_empty() && !policy.allow_removals {
        let why = format!("{} would remove {} (allow_removals = false)", plan.action, plan.removals.join(", "));
        Some((Skip::Removals, why))
    } else if let Some(free) = boot_free(host).filter(|free| kernel && *free < BOOT_FREE_BYTES) {
        Some((
            Skip::BootSpace,
            format!("/boot has {} MB free, under the {} MB a kernel needs", free >> 20, BOOT_FREE_BYTES >> 20),
        ))
    } else if plan.packages.is_empty() && plan.removals.is_empty() {
        Some((Skip::NothingToDo, format!("nothing to {}", plan.action)))
    } else {
        None
    };
    match skip {
        Some((skip, reason)) => {
            plan.skip = Some(skip);
            plan.reason = reason;
        }
        None => {
            plan.decision = Decision::Update;
            plan.skip = None;
            let mut reason = format!("{} of {} package(s)", plan.action, plan.packages.len());
            if plan.action != policy.action {
                reason.push_str(&format!(
                    " (the policy says {}; Proxmox VE is upgraded with full-upgrade)",
                    policy.action
                ));
            }
            if !plan.removals.is_empty() {
                reason.push_str(&format!(", removing {}", plan.removals.join(", ")));
            }
            if plan.reboot_expected {
                reason.push_str(", then a reboot");
            }
            plan.reason = reason;
        }
    }
    plan
}

fn apt_age(at: Option<Instant>, now: Instant) -> Option<i64> {
    at.map(|at| now.0 - at.0)
}

/// Packages whose upgrade installs a kernel (and so needs room in /boot, and a reboot).
pub fn is_kernel(package: &str) -> bool {
    let name = package.split(':').next().unwrap_or(package);
    ["linux-image-", "pve-kernel-", "proxmox-kernel-", "raspberrypi-kernel", "linux-signed-"]
        .iter()
        .any(|prefix| name.starts_with(prefix))
}

/// Free bytes of `/boot/firmware` or `/boot`, when it is a file system of its own.
fn boot_free(host: &Host) -> Option<u64> {
    let disks = host.disks.as_ref()?;
    ["/boot/firmware", "/boot"].iter().find_map(|t| disks.filesystems.iter().find(|f| f.target == *t)).map(|f| f.avail)
}

/// The newest `apt` snapshot of a host: `<host>/apt.json` (a git
/// checkout), else the last of `<host>/apt/*.json` by name (dated files
/// are named by their UTC time), with its hash.
pub fn newest_apt(snapshots: &Path, host: &str, collected_at: Instant) -> Option<AptSnapshot> {
    let folder = snapshots.join(host);
    let stable = folder.join("apt.json");
    let path = if stable.is_file() {
        stable
    } else {
        let dated = std::fs::read_dir(folder.join("apt")).ok()?;
        dated.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "json")).max()?
    };
    let bytes = std::fs::read(&path).ok()?;
    let rel = path.strip_prefix(snapshots).ok()?.to_string_lossy().into_owned();
    Some(AptSnapshot { path: rel, sha256: hex::encode(Sha256::digest(&bytes)), collected_at })
}

//! A host's `apt` snapshot: pending upgrades, sources, inventory, reboots, per role.

use super::corpus::*;
use super::*;
use serde_json::{json, Value};

/// What a role's `apt` snapshots say, from real apt outputs. Each host
/// upgrades (or not) at one point of its history: its inventory takes the
/// simulation's new versions, and the simulation empties.
pub(super) struct AptRole {
    /// `apt-get -s upgrade` before the upgrade.
    pub(super) sim: &'static str,
    pub(super) sources: Vec<(&'static str, String)>,
    pub(super) held: &'static str,
    /// `apt-get update`'s output, when the agent runs it.
    pub(super) update: Option<&'static str>,
    pub(super) needrestart: Option<&'static str>,
    /// When it upgrades (progress, 0..=100), and a package that stays behind.
    pub(super) upgrade_at: Option<u64>,
    pub(super) left_behind: Option<&'static str>,
    /// A package the upgrade removes (its configuration stays: `rc`).
    pub(super) removes: Option<&'static str>,
    /// The reboot-required flag: set from the upgrade on (or from the start),
    /// cleared by the next reboot unless it survives reboots.
    pub(super) reboot_flag: bool,
    pub(super) flag_survives: bool,
}

pub(super) fn apt_role(name: &str) -> AptRole {
    let plain = AptRole {
        sim: SIM_DEBIAN12,
        sources: vec![("/etc/apt/sources.list.d/debian.sources", SOURCES_DEBIAN12.to_string())],
        held: "",
        update: None,
        needrestart: None,
        upgrade_at: None,
        left_behind: None,
        removes: None,
        reboot_flag: false,
        flag_survives: false,
    };
    let pve = vec![
        ("/etc/apt/sources.list", SOURCES_PVE.to_string()),
        ("/etc/apt/sources.list.d/pve-enterprise.list", SOURCES_PVE_ENTERPRISE.to_string()),
    ];
    match name {
        // Pending security updates on a Proxmox host on pve-no-subscription.
        "pve1" => AptRole { sources: pve, ..plain },
        // Proxmox with the enterprise repository enabled and no subscription: update fails with 401.
        "pve2" => AptRole {
            sources: pve
                .into_iter()
                .map(|(f, t)| (f, t.replace("# deb https://enterprise", "deb https://enterprise")))
                .collect(),
            update: Some(UPDATE_PVE_401),
            ..plain
        },
        // Ubuntu 18.04: kept-back upgrades, and a reboot needed.
        "files" => AptRole {
            sim: SIM_UBUNTU_KEPT,
            sources: vec![("/etc/apt/sources.list.d/ubuntu.sources", SOURCES_UBUNTU.to_string())],
            reboot_flag: true,
            ..plain
        },
        // A Raspberry Pi whose /boot is nearly full.
        "pi-garage" => AptRole { sim: SIM_RASPIOS, sources: Vec::new(), ..plain },
        // Upgrades a third of the way through; one package removed; reboots after.
        "ws-anna" => AptRole {
            upgrade_at: Some(35),
            removes: Some("linux-perf"),
            reboot_flag: true,
            needrestart: Some(NEEDRESTART_KSTA3),
            ..plain
        },
        // Ubuntu 24.04: held kernel packages, upgrades deferred by phasing.
        "ws-marc" => AptRole {
            sim: SIM_UBUNTU_PHASED,
            sources: vec![("/etc/apt/sources.list.d/ubuntu.sources", SOURCES_UBUNTU.to_string())],
            held: SHOWHOLD,
            needrestart: Some(NEEDRESTART_PERL),
            ..plain
        },
        // Debian 11 with bookworm sources; its upgrade passed one package over.
        "db1" => AptRole { upgrade_at: Some(60), left_behind: Some("openssl"), ..plain },
        // Upgraded early; the reboot-required flag outlives every reboot since.
        "vm-web1" => AptRole { upgrade_at: Some(20), reboot_flag: true, flag_survives: true, ..plain },
        _ => plain,
    }
}

impl Host<'_> {
    pub(super) fn apt(&self, packages: usize) -> Value {
        let role = apt_role(self.role.name);
        let upgraded = role.upgrade_at.is_some_and(|at| self.progress >= at);
        // The inventory: the real one, with the simulation's versions once upgraded.
        let mut versions: Vec<(String, String, String, &str)> = DPKG
            .lines()
            .filter_map(|l| {
                let mut c = l.split('\t');
                Some((c.next()?.to_string(), c.next()?.to_string(), c.next()?.to_string(), "ii "))
            })
            .collect();
        // A larger inventory: the real lines again, under names of their own.
        let real = versions.len();
        for i in real..packages {
            let (name, version, arch, status) = versions[i % real].clone();
            versions.push((format!("{name}-x{}", i / real), version, arch, status));
        }
        if self.role.name.starts_with("pve") {
            // What makes a Proxmox VE host, as pveversion -v lists it.
            for (name, version, arch) in [("proxmox-ve", "8.0.2", "all"), ("pve-manager", "8.0.3", "amd64")] {
                versions.push((name.into(), version.into(), arch.into(), "ii "));
            }
        }
        let sim = parc::snapshot::apt::simulate::parse(role.sim);
        if upgraded {
            for action in &sim.actions {
                if Some(action.package.as_str()) == role.left_behind {
                    continue;
                }
                if let Some(p) = versions
                    .iter_mut()
                    .find(|p| p.0 == action.package || p.0.split(':').next() == Some(&action.package))
                {
                    p.1 = action.to.clone().unwrap_or_default();
                }
            }
            if let Some(gone) = role.removes {
                if let Some(p) = versions.iter_mut().find(|p| p.0 == gone) {
                    p.3 = "rc ";
                }
            }
        }
        let dpkg: String = versions.iter().map(|(n, v, a, s)| format!("{n}\t{v}\t{a}\t{s}\n")).collect();
        // After the upgrade, apt has nothing left to do (but what it passed over).
        let sim_text = if upgraded {
            let left: Vec<&str> = role
                .sim
                .lines()
                .filter(|l| {
                    role.left_behind
                        .is_some_and(|p| l.starts_with(&format!("Inst {p} ")) || l.starts_with(&format!("Conf {p} ")))
                })
                .collect();
            format!(
                "Reading package lists...\nBuilding dependency tree...\nReading state information...\nCalculating upgrade...\n{} upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n{}",
                left.len() / 2,
                left.iter().map(|l| format!("{l}\n")).collect::<String>()
            )
        } else {
            role.sim.to_string()
        };
        // Reboots happen every ten days (see `system`); the flag is cleared by the first one after it was set.
        // Without an upgrade in the history, the flag was set in the last few days.
        let flag = role.reboot_flag
            && match role.upgrade_at {
                None => self.days_ago < 6,
                Some(at) => upgraded && (role.flag_survives || self.days_before(at) / 10 == self.days_ago / 10),
            };
        let reboot = if flag {
            format!("==> /run/reboot-required <==\n*** System restart required ***\n\n==> /run/reboot-required.pkgs <==\n{REBOOT_PKGS}\n")
        } else {
            String::new()
        };
        let sources: String = role.sources.iter().map(|(f, t)| format!("==> {f} <==\n{t}\n")).collect();
        let mut probes = serde_json::Map::new();
        if let Some(update) = role.update {
            let (out, err): (Vec<&str>, Vec<&str>) =
                update.lines().partition(|l| !l.starts_with("E: ") && !l.starts_with("W: "));
            probes.insert("apt-update".into(), json!({"cmd": "apt-get -q update", "exit": 100, "ms": 2400, "out": out.join("\n"), "err": err.join("\n")}));
        }
        probes.insert("apt-sim-upgrade".into(), Self::probe("apt-get -s -y upgrade", json!(sim_text), 900));
        probes.insert("apt-sim-dist-upgrade".into(), Self::probe("apt-get -s -y dist-upgrade", json!(sim_text), 950));
        probes.insert(
            "apt-print-uris".into(),
            Self::probe("apt-get --print-uris -y dist-upgrade", json!(print_uris(&sim_text)), 940),
        );
        // An old kernel left behind after an upgrade, as autoremove lists one.
        let autoremove = if upgraded {
            AUTOREMOVE
                .replace("parc-lib [1.0]", "linux-image-6.1.0-25-amd64 [6.1.106-3]")
                .replace("parc-lib", "linux-image-6.1.0-25-amd64")
        } else {
            AUTOREMOVE
                .replace("The following packages will be REMOVED:\n  parc-lib\n", "")
                .replace("1 to remove", "0 to remove")
                .replace("Remv parc-lib [1.0]\n", "")
        };
        probes.insert("apt-sim-autoremove".into(), Self::probe("apt-get -s autoremove", json!(autoremove), 700));
        let cache = 8192 + fnv(self.role.name) % 200_000_000 * (self.progress + 1) / 100;
        probes.insert(
            "apt-archives".into(),
            Self::probe(
                "du -sb --exclude=partial /var/cache/apt/archives",
                json!(format!("{cache}\t/var/cache/apt/archives\n")),
                40,
            ),
        );
        if self.role.os_release.contains("ID=ubuntu") && self.role.name.starts_with("ws-") {
            probes.insert("ubuntu-drivers".into(), Self::probe("ubuntu-drivers devices", json!(UBUNTU_DRIVERS), 2100));
        }
        probes.insert("apt-showhold".into(), Self::probe("apt-mark showhold", json!(role.held), 120));
        probes.insert(
            "reboot-required".into(),
            Self::probe("for f in /run/reboot-required /run/reboot-required.pkgs; do …; done", json!(reboot), 2),
        );
        if let Some(n) = role.needrestart.filter(|_| !role.reboot_flag || flag) {
            probes.insert("needrestart".into(), Self::probe("needrestart -b", json!(n), 1800));
        }
        probes.insert(
            "dpkg-query".into(),
            Self::probe(
                "dpkg-query -W -f='${binary:Package}\\t${Version}\\t${Architecture}\\t${db:Status-Abbrev}\\n'",
                json!(dpkg),
                60,
            ),
        );
        probes.insert("apt-sources".into(), Self::probe("for f in /etc/apt/sources.list …; done", json!(sources), 3));
        self.envelope("apt", probes)
    }

    /// How many days before the end the history is `progress` % through.
    pub(super) fn days_before(&self, progress: u64) -> u32 {
        let span = u64::from(self.days.max(2) - 1);
        (span - progress * span / 100) as u32
    }
}

/// What `apt-get --print-uris` prints for a simulation's installs: apt's
/// two summary lines, then one line per package; sizes made up from the
/// name, a kernel's as large as a real one.
fn print_uris(sim: &str) -> String {
    let mut lines = Vec::new();
    let mut total = 0;
    for words in sim.lines().filter(|l| l.starts_with("Inst ")).map(|l| l.split_whitespace().collect::<Vec<_>>()) {
        let Some(&package) = words.get(1) else { continue };
        let version = words.iter().find_map(|w| w.strip_prefix('(')).unwrap_or("1");
        let size = if package.starts_with("linux-image-") || package.starts_with("raspberrypi-kernel") {
            69_219_384
        } else {
            40_000 + fnv(package) % 4_000_000
        };
        total += size;
        let file = format!("{}_{}_all.deb", package.split(':').next().unwrap_or(package), version.replace(':', "%3a"));
        lines.push(format!("'http://deb.debian.org/debian/pool/main/{file}' {file} {size} SHA256:{:016x}", fnv(&file)));
    }
    format!(
        "Reading package lists...\nBuilding dependency tree...\nReading state information...\nCalculating upgrade...\n\
         Need to get {:.1} MB of archives.\nAfter this operation, {:.1} MB of additional disk space will be used.\n{}",
        total as f64 / 1e6,
        total as f64 * 1.9 / 1e6,
        lines.iter().map(|l| format!("{l}\n")).collect::<String>()
    )
}

//! The `apt` kind: pending updates (simulated, never applied), held
//! packages, reboots, the installed packages and the configured sources.

pub mod simulate;
pub mod sources;

use super::{Probe, ProbeFailure};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AptFacts {
    /// False on a host without apt-get: not an APT host, not an error.
    pub apt: bool,
    /// `apt-get update`, when the agent ran it: its `E:` and `W:` lines.
    pub update: Option<Update>,
    pub upgrade: Option<simulate::Simulation>,
    pub dist_upgrade: Option<simulate::Simulation>,
    /// `apt-mark showhold`.
    pub held: Vec<String>,
    /// `/run/reboot-required` exists.
    pub reboot_required: bool,
    /// `/run/reboot-required.pkgs`, each once.
    pub reboot_packages: Vec<String>,
    pub needrestart: Option<NeedRestart>,
    /// `dpkg-query`, sorted by name; none when the probe failed.
    pub packages: Option<Vec<Package>>,
    pub sources: Vec<sources::Source>,
    /// A Proxmox VE subscription key file is there (`/etc/subscription`).
    pub pve_subscription: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Update {
    pub exit: Option<i64>,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

/// `needrestart -b`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NeedRestart {
    pub kernel_current: Option<String>,
    pub kernel_expected: Option<String>,
    /// KSTA: 0 unknown, 1 current, 2 ABI-compatible upgrade pending, 3 version upgrade pending.
    pub kernel_status: Option<u8>,
    /// Services to restart.
    pub services: Vec<String>,
}

/// One line of `dpkg-query -W`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Package {
    /// `${binary:Package}`: the name, with `:arch` for a foreign architecture.
    pub name: String,
    pub version: String,
    pub arch: String,
    /// `${db:Status-Abbrev}` (`ii`, `rc`, `hi`, …); none from older probes (3 columns).
    pub status: Option<String>,
}

/// Reads the `apt` probes. A probe that failed is a failure of the host; an
/// output read only in part (a cut simulation, dpkg lines without their
/// columns) is a note on the snapshot, reported as a problem with its path.
pub fn parse(probes: &BTreeMap<String, Probe>, failures: &mut Vec<ProbeFailure>, notes: &mut Vec<String>) -> AptFacts {
    if probes.contains_key("apt-absent") {
        return AptFacts::default();
    }
    let text = |key: &str, failures: &mut Vec<ProbeFailure>| super::probe_text(probes, key, failures);
    let mut facts = AptFacts { apt: true, ..AptFacts::default() };
    if let Some(probe) = probes.get("apt-update") {
        let out = [probe.text(), probe.err.clone()].into_iter().flatten().collect::<Vec<_>>().join("\n");
        let sim = simulate::parse(&out);
        facts.update = Some(Update { exit: probe.exit, errors: sim.errors, warnings: sim.warnings });
    }
    // A simulation that failed still says why on stderr: its E: lines are the point.
    let simulation = |key: &str, failures: &mut Vec<ProbeFailure>| {
        let probe = probes.get(key)?;
        if let Some(cause) = probe.failure() {
            failures.push(ProbeFailure { probe: key.into(), cause });
        }
        let out = [probe.text(), probe.err.clone()].into_iter().flatten().collect::<Vec<_>>().join("\n");
        Some(simulate::parse(&out))
    };
    facts.upgrade = simulation("apt-sim-upgrade", failures);
    facts.dist_upgrade = simulation("apt-sim-dist-upgrade", failures);
    for (key, sim) in [("apt-sim-upgrade", &facts.upgrade), ("apt-sim-dist-upgrade", &facts.dist_upgrade)] {
        if let Some(lines) = sim.as_ref().map(|s| &s.unreadable).filter(|l| !l.is_empty()) {
            notes.push(format!("{key}: {} action line(s) cut or unreadable (line {})", lines.len(), numbers(lines)));
        }
    }
    facts.held = text("apt-showhold", failures).map(|t| names(&t)).unwrap_or_default();
    if let Some(t) = text("reboot-required", failures) {
        let files = files(&t);
        facts.reboot_required = files.iter().any(|(path, _)| path.ends_with("/reboot-required"));
        if let Some((_, pkgs)) = files.iter().find(|(path, _)| path.ends_with("/reboot-required.pkgs")) {
            facts.reboot_packages = names(pkgs);
        }
    }
    // needrestart prints what it found and exits 0; its perl warnings go to stderr.
    facts.needrestart = probes.get("needrestart").and_then(|p| {
        if let Some(cause) = p.failure() {
            failures.push(ProbeFailure { probe: "needrestart".into(), cause });
        }
        p.text().map(|t| needrestart(&t))
    });
    facts.packages = text("dpkg-query", failures).map(|t| dpkg(&t, notes));
    facts.pve_subscription = probes.get("pve-subscription").and_then(Probe::text).is_some_and(|t| !t.trim().is_empty());
    if let Some(t) = text("apt-sources", failures) {
        facts.sources = files(&t).into_iter().flat_map(|(path, body)| sources::parse(&path, &body)).collect();
    }
    facts
}

/// Names one or more a line, each once, in order.
fn names(text: &str) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    text.split_whitespace().filter(|n| seen.insert(*n)).map(str::to_string).collect()
}

/// Files printed one after another, each after a `==> path <==` line.
pub fn files(text: &str) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        match line.strip_prefix("==> ").and_then(|l| l.strip_suffix(" <==")) {
            Some(path) => files.push((path.to_string(), String::new())),
            None => {
                if let Some((_, body)) = files.last_mut() {
                    body.push_str(line);
                    body.push('\n');
                }
            }
        }
    }
    files
}

fn needrestart(text: &str) -> NeedRestart {
    let mut n = NeedRestart::default();
    for line in text.lines() {
        // Perl warnings and verbose lines come between; only NEEDRESTART- lines count.
        let Some((key, value)) = line.strip_prefix("NEEDRESTART-").and_then(|l| l.split_once(':')) else {
            continue;
        };
        let value = value.trim();
        match key {
            "KCUR" => n.kernel_current = Some(value.to_string()).filter(|v| !v.is_empty()),
            "KEXP" => n.kernel_expected = Some(value.to_string()).filter(|v| !v.is_empty()),
            "KSTA" => n.kernel_status = value.parse().ok(),
            "SVC" if !value.is_empty() => n.services.push(value.to_string()),
            _ => {}
        }
    }
    n
}

/// The first few line numbers of a list, for a message.
fn numbers(lines: &[usize]) -> String {
    let shown: Vec<String> = lines.iter().take(5).map(usize::to_string).collect();
    if lines.len() > 5 {
        format!("{}, …", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// `name\tversion\tarch[\tstatus]` lines; lines with fewer columns are noted by number.
fn dpkg(text: &str, notes: &mut Vec<String>) -> Vec<Package> {
    let mut packages = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        match cols[..] {
            [name, version, arch] | [name, version, arch, _] if !name.is_empty() => packages.push(Package {
                name: name.to_string(),
                version: version.to_string(),
                arch: arch.to_string(),
                status: cols.get(3).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
            }),
            _ => bad.push(i + 1),
        }
    }
    if !bad.is_empty() {
        notes.push(format!(
            "dpkg-query: {} line(s) without name, version and architecture (line {})",
            bad.len(),
            numbers(&bad)
        ));
    }
    packages.sort();
    packages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_needrestart_between_perl_warnings() {
        let text = "readline() on closed filehandle HENV at /usr/sbin/needrestart line 79.\nNEEDRESTART-VER: 3.6\n\
                    NEEDRESTART-KCUR: 5.10.0-19-amd64\nNEEDRESTART-KEXP: 5.10.0-20-amd64\nNEEDRESTART-KSTA: 3\n\
                    Use of uninitialized value\nNEEDRESTART-UCEXP: \nNEEDRESTART-SVC: exim4.service\n";
        let n = needrestart(text);
        assert_eq!(n.kernel_status, Some(3));
        assert_eq!(n.kernel_expected.as_deref(), Some("5.10.0-20-amd64"));
        assert_eq!(n.services, ["exim4.service"]);
    }

    #[test]
    fn reads_dpkg_lines_of_three_and_four_columns_and_names_bad_ones() {
        let mut failures = Vec::new();
        let p = dpkg(
            "zsh\t5.9-4\tamd64\tii \nlibc6:i386\t2.36-9\ti386\nbroken line\nadduser\t3.134\tall\trc\n",
            &mut failures,
        );
        assert_eq!(p.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["adduser", "libc6:i386", "zsh"]);
        assert_eq!(
            (p[0].status.as_deref(), p[1].status.as_deref(), p[2].status.as_deref()),
            (Some("rc"), None, Some("ii"))
        );
        assert_eq!(failures.len(), 1);
        assert!(failures[0].contains("line 3"), "{}", failures[0]);
    }

    #[test]
    fn splits_files_and_keeps_each_name_once() {
        let f = files("==> /run/reboot-required <==\n*** System restart required ***\n\n==> /run/reboot-required.pkgs <==\nlinux-base\nlibc6\nlinux-base\n");
        assert_eq!(f.len(), 2);
        assert_eq!(names(&f[1].1), ["linux-base", "libc6"]);
    }
}

//! `apt-get -s -y upgrade` and `dist-upgrade`: what an upgrade would do.
//!
//! The `Inst`, `Remv` and `Purg` lines are the facts; the lists before them
//! ("kept back", "deferred due to phasing") say what would not move; `E:` and
//! `W:` lines (apt 3: `Error:`, `Warning:`) say what went wrong.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Simulation {
    pub actions: Vec<Action>,
    /// "The following packages have been kept back".
    pub kept_back: Vec<String>,
    /// Upgrades deferred due to phasing (Ubuntu).
    pub phased: Vec<String>,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    /// The summary line's "N not upgraded", when printed.
    pub not_upgraded: Option<u64>,
    /// Action lines that could not be read (a cut output), by line number.
    #[serde(default)]
    pub unreadable: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub op: Op,
    /// As apt prints it: `libc6`, or `libc6:i386` for a foreign architecture.
    pub package: String,
    /// The installed version (`[CUR]`); none for a new install.
    pub from: Option<String>,
    /// The version it would install; none for a removal.
    pub to: Option<String>,
    /// `Label:version/archive` of each origin offering it.
    pub origins: Vec<String>,
    /// `[ARCH]`; old apt does not print it.
    pub arch: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Install,
    Upgrade,
    Remove,
    Purge,
}

impl Action {
    /// From a Debian or Ubuntu security archive, as check_apt and Checkmk decide:
    /// an origin labelled `Debian-Security`, or an archive ending in `-security`.
    pub fn security(&self) -> bool {
        self.origins.iter().any(|o| {
            let (label, rest) = o.split_once(':').unwrap_or((o, ""));
            label == "Debian-Security" || rest.rsplit('/').next().is_some_and(|a| a.ends_with("-security"))
        })
    }
}

pub fn parse(text: &str) -> Simulation {
    #[derive(PartialEq)]
    enum List {
        KeptBack,
        Phased,
        Other,
    }
    let mut sim = Simulation::default();
    // Which indented list the lines below belong to.
    let mut list = List::Other;
    for (number, line) in text.lines().enumerate() {
        if line.starts_with(' ') {
            let names = line.split_whitespace().map(str::to_string);
            match list {
                List::KeptBack => sim.kept_back.extend(names),
                List::Phased => sim.phased.extend(names),
                // apt 3 indents its summary.
                List::Other => sim.not_upgraded = not_upgraded(line.trim()).or(sim.not_upgraded),
            }
            continue;
        }
        let line = line.trim_end();
        list = if line.contains("have been kept back") {
            List::KeptBack
        } else if line.contains("deferred due to phasing") || line.starts_with("Not upgrading yet due to phasing") {
            List::Phased
        } else {
            List::Other
        };
        if let Some(rest) = line.strip_prefix("Inst ") {
            match inst(rest) {
                Some(action) => sim.actions.push(action),
                None => sim.unreadable.push(number + 1),
            }
        } else if let Some(rest) = line.strip_prefix("Remv ") {
            sim.actions.push(removal(Op::Remove, rest));
        } else if let Some(rest) = line.strip_prefix("Purg ") {
            sim.actions.push(removal(Op::Purge, rest));
        } else if let Some(e) = line.strip_prefix("E: ").or_else(|| line.strip_prefix("Error: ")) {
            sim.errors.push(e.to_string());
        } else if let Some(w) = line.strip_prefix("W: ").or_else(|| line.strip_prefix("Warning: ")) {
            sim.warnings.push(w.to_string());
        } else if let Some(n) = not_upgraded(line) {
            sim.not_upgraded = Some(n);
        }
    }
    sim
}

/// `NAME [CUR] (NEW ORIGIN, ORIGIN [ARCH]) [BROKEN]`.
fn inst(rest: &str) -> Option<Action> {
    let (package, rest) = rest.split_once(' ')?;
    let rest = rest.trim_start();
    let (from, rest) = match rest.strip_prefix('[') {
        Some(r) => {
            let (cur, r) = r.split_once(']')?;
            (Some(cur.to_string()), r.trim_start())
        }
        None => (None, rest),
    };
    let inner = rest.strip_prefix('(')?;
    let inner = &inner[..inner.find(')')?];
    let (to, origins) = inner.split_once(' ').unwrap_or((inner, ""));
    let (origins, arch) = match origins.rsplit_once(" [") {
        Some((o, a)) if a.ends_with(']') => (o, Some(a.trim_end_matches(']').to_string())),
        _ => (origins, None),
    };
    Some(Action {
        op: if from.is_some() { Op::Upgrade } else { Op::Install },
        package: package.to_string(),
        from,
        to: Some(to.to_string()),
        origins: origins.split(", ").map(str::trim).filter(|o| !o.is_empty()).map(str::to_string).collect(),
        arch,
    })
}

/// `NAME [CUR]`, sometimes followed by a broken-packages list.
fn removal(op: Op, rest: &str) -> Action {
    let (package, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let from = rest.trim_start().strip_prefix('[').and_then(|r| r.split_once(']')).map(|(cur, _)| cur.to_string());
    Action { op, package: package.to_string(), from, to: None, origins: Vec::new(), arch: None }
}

/// `… and 5 not upgraded.` (apt 2) or `Not Upgrading: 16` (apt 3's summary).
fn not_upgraded(line: &str) -> Option<u64> {
    if let Some(head) = line.strip_suffix(" not upgraded.") {
        return head.rsplit(' ').next()?.parse().ok();
    }
    let (_, tail) = line.split_once("Not Upgrading: ")?;
    tail.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_origins_with_spaces_several_origins_and_no_arch() {
        let a = inst("raspi-config [20220331] (20220425 Raspberry Pi Foundation:stable [all])").unwrap();
        assert_eq!((a.op, a.from.as_deref(), a.to.as_deref()), (Op::Upgrade, Some("20220331"), Some("20220425")));
        assert_eq!(
            (a.origins.clone(), a.arch.as_deref()),
            (vec!["Raspberry Pi Foundation:stable".to_string()], Some("all"))
        );
        let a = inst("libgcrypt20 [1.10.1-3] (1.10.1-3+deb12u1 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64]) []").unwrap();
        assert_eq!(a.origins.len(), 2);
        assert!(a.security());
        let a = inst("linux-image-5.15.0-86-generic (5.15.0-86.96 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])").unwrap();
        assert_eq!((a.op, a.from.as_deref()), (Op::Install, None));
        assert!(a.security());
        // Old apt: no [ARCH].
        let a = inst("libfoo [1.0] (1.1 Debian:6.0.6/stable)").unwrap();
        assert_eq!((a.arch, a.origins), (None, vec!["Debian:6.0.6/stable".to_string()]));
        let r = removal(Op::Remove, "libold:i386 [2.0] [libnew:i386 ]");
        assert_eq!((r.package.as_str(), r.from.as_deref(), r.to), ("libold:i386", Some("2.0"), None));
    }

    #[test]
    fn reads_the_lists_and_apt3_wording() {
        let sim = parse(
            "The following packages have been kept back:\n  a b\n  c\nThe following packages will be upgraded:\n  d\n\
             1 upgraded, 0 newly installed, 0 to remove and 3 not upgraded.\nE: Broken packages\nWarning: something\n",
        );
        assert_eq!(sim.kept_back, ["a", "b", "c"]);
        assert_eq!((sim.not_upgraded, sim.errors.len(), sim.warnings.len()), (Some(3), 1, 1));
        let sim = parse("Not upgrading yet due to phasing:\n  x  y:i386\n\nSummary:\n  Upgrading: 0, Installing: 0, Removing: 0, Not Upgrading: 16\n");
        assert_eq!((sim.phased.len(), sim.not_upgraded), (2, Some(16)));
    }
}

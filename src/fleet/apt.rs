//! A host's APT history: the newest `apt` facts, and what changed between
//! consecutive `dpkg-query` inventories (the APT diff). The first inventory
//! is the baseline: nothing in it counts as installed.

use super::Condition;
use crate::snapshot::apt::{simulate::Op, AptFacts, NeedRestart, Package};
use crate::time::Instant;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AptHistory {
    /// The newest `apt` facts, and when they were collected.
    pub newest: AptFacts,
    pub at: Option<Instant>,
    /// When the first and the newest inventory were taken.
    pub first_inventory: Option<Instant>,
    pub last_inventory: Option<Instant>,
    /// Every package change, oldest first.
    pub changes: Vec<Change>,
    /// Pending upgrades an upgrade passed over (see [`Anomaly`]).
    pub anomalies: Vec<Anomaly>,
    /// Since when the reboot-required flag has been set without a break.
    pub reboot_since: Option<Instant>,
    /// Since when needrestart has said, without a break, that a newer kernel waits.
    #[serde(default)]
    pub kernel_since: Option<Instant>,
    /// Since when, without a break, security upgrades have been pending…
    #[serde(default)]
    pub security_since: Option<Instant>,
    /// …packages have been held…
    #[serde(default)]
    pub held_since: Option<Instant>,
    /// …and `apt-get update` or a simulation has failed.
    #[serde(default)]
    pub error_since: Option<Instant>,
    /// The conditions above that held for a while and cleared, oldest first.
    #[serde(default)]
    pub spells: Vec<super::Spell>,
    /// Upgrades the newest simulation had pending: package → installed version.
    pending: BTreeMap<String, String>,
}

/// One package changing between two inventories.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub package: String,
    pub arch: String,
    pub change: ChangeKind,
    pub from: Option<String>,
    pub to: Option<String>,
    /// The inventories it happened between.
    pub after: Instant,
    pub before: Instant,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

/// A package a simulation had pending that an upgrade passed over: other
/// packages changed, and it is still at the version it was.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Anomaly {
    pub package: String,
    pub version: String,
    pub after: Instant,
    pub before: Instant,
}

impl AptHistory {
    /// Adds the next `apt` version.
    pub fn add(&mut self, at: Instant, facts: AptFacts) {
        match (&self.newest.inventory, &facts.inventory, self.last_inventory) {
            // The same inventory as the day before, as most days: nothing to read.
            (Some(old), Some(new), Some(_)) if old == new => {}
            (Some(old), Some(new), Some(after)) => {
                let (mut old_text, mut new_text) = (None, None);
                let (old, new) = (old.packages(&mut old_text), new.packages(&mut new_text));
                let changes = diff(&old, &new, after, at);
                let upgraded =
                    changes.iter().any(|c| matches!(c.change, ChangeKind::Upgraded | ChangeKind::Downgraded));
                if upgraded {
                    let installed: Vec<Package> = new.iter().filter(|p| installed(p)).copied().collect();
                    for (package, version) in &self.pending {
                        if lookup(&installed, package).map(|p| p.version) == Some(version.as_str()) {
                            let (package, version) = (package.clone(), version.clone());
                            self.anomalies.push(Anomaly { package, version, after, before: at });
                        }
                    }
                }
                self.changes.extend(changes);
            }
            (_, Some(_), None) => self.first_inventory = Some(at),
            _ => {}
        }
        if facts.inventory.is_some() {
            self.last_inventory = Some(at);
        }
        let spells = &mut self.spells;
        let mut since = |condition, now: bool, before: Option<Instant>| since(condition, now, before, at, spells);
        self.reboot_since = since(Condition::RebootRequired, facts.reboot_required, self.reboot_since);
        let kernel = facts.needrestart.as_ref().is_some_and(NeedRestart::newer_kernel);
        self.kernel_since = since(Condition::NewerKernel, kernel, self.kernel_since);
        // The same simulation as the version before (shared, `snapshot::apt::Memo`): the same pending upgrades.
        let same_upgrade = match (&self.newest.upgrade, &facts.upgrade) {
            (Some(before), Some(now)) => std::sync::Arc::ptr_eq(before, now),
            _ => false,
        };
        let security = if same_upgrade {
            self.security_since.is_some()
        } else {
            (facts.upgrade.as_ref()).is_some_and(|s| s.actions.iter().any(|a| a.op == Op::Upgrade && a.security()))
        };
        self.security_since = since(Condition::SecurityUpdates, security, self.security_since);
        self.held_since = since(Condition::Held, !facts.held.is_empty(), self.held_since);
        let update_failed =
            facts.update.as_ref().is_some_and(|u| u.exit.is_some_and(|e| e != 0) || !u.errors.is_empty());
        let sim_failed =
            [&facts.upgrade, &facts.dist_upgrade].iter().any(|s| s.as_ref().is_some_and(|s| !s.errors.is_empty()));
        self.error_since = since(Condition::AptError, update_failed || sim_failed, self.error_since);
        if let Some(sim) = facts.upgrade.as_ref().filter(|_| !same_upgrade) {
            self.pending = (sim.actions.iter())
                .filter(|a| a.op == Op::Upgrade)
                .filter_map(|a| Some((a.package.clone(), a.from.clone()?)))
                .collect();
        }
        // A version whose dpkg-query failed leaves the last inventory in place.
        let keep = if facts.inventory.is_none() { self.newest.inventory.take() } else { None };
        self.newest = facts;
        if keep.is_some() {
            self.newest.inventory = keep;
        }
        self.at = Some(at);
    }
}

/// When a condition that holds `now` began: kept while it holds, `at` when
/// it starts, gone when it ends (and then a spell of `spells`).
fn since(
    condition: Condition,
    now: bool,
    before: Option<Instant>,
    at: Instant,
    spells: &mut Vec<super::Spell>,
) -> Option<Instant> {
    if let (Some(from), false) = (before, now) {
        spells.push(super::Spell { condition, from, to: at });
    }
    now.then(|| before.unwrap_or(at))
}

/// The package apt means by `package`, in packages sorted by name (as
/// `Inventory::packages` gives them), by bisection: dpkg names a package of
/// a multi-arch library with its architecture (`libaom3:amd64`), apt does not.
pub fn lookup<'p, 't>(packages: &'p [Package<'t>], package: &str) -> Option<&'p Package<'t>> {
    let first = |from: &str| packages.get(packages.partition_point(|p| p.name < from));
    if let Some(found) = first(package).filter(|p| p.name == package) {
        return Some(found);
    }
    let prefix = format!("{package}:");
    first(&prefix).filter(|p| p.name.starts_with(&prefix))
}

/// Installed, in dpkg's words: the status's second letter is `i` (`ii`, `hi`);
/// an inventory without status (an older probe) lists installed packages only.
pub fn installed(p: &Package) -> bool {
    p.status.is_none_or(|s| s.as_bytes().get(1) == Some(&b'i'))
}

fn config_only(p: &Package) -> bool {
    p.status.is_some_and(|s| s.as_bytes().get(1) == Some(&b'c'))
}

/// What changed from `old` to `new` (both sorted by name).
fn diff(old: &[Package], new: &[Package], after: Instant, before: Instant) -> Vec<Change> {
    let old: BTreeMap<&str, &Package> = old.iter().map(|p| (p.name, p)).collect();
    let new: BTreeMap<&str, &Package> = new.iter().map(|p| (p.name, p)).collect();
    let mut changes = Vec::new();
    let change = |p: &Package, change, from: Option<&Package>, to: Option<&Package>| Change {
        package: p.name.to_string(),
        arch: p.arch.to_string(),
        change,
        from: from.map(|p| p.version.to_string()),
        to: to.map(|p| p.version.to_string()),
        after,
        before,
    };
    for (name, n) in &new {
        let o = old.get(name).copied();
        let kind = match o {
            Some(o) if installed(o) && installed(n) => match compare_versions(o.version, n.version) {
                Ordering::Less => Some(ChangeKind::Upgraded),
                Ordering::Greater => Some(ChangeKind::Downgraded),
                Ordering::Equal => None,
            },
            Some(o) if installed(o) && config_only(n) => Some(ChangeKind::Removed),
            Some(o) if !installed(o) && installed(n) => Some(ChangeKind::Installed),
            None if installed(n) => Some(ChangeKind::Installed),
            _ => None,
        };
        if let Some(kind) = kind {
            let to = (kind != ChangeKind::Removed).then_some(*n);
            changes.push(change(n, kind, o.filter(|o| installed(o)), to));
        }
    }
    for (name, o) in &old {
        if !new.contains_key(name) && (installed(o) || config_only(o)) {
            changes.push(change(o, ChangeKind::Purged, installed(o).then_some(*o), None));
        }
    }
    changes.sort_by(|a, b| a.package.cmp(&b.package));
    changes
}

/// Debian version order (`dpkg --compare-versions`): epoch, then upstream
/// version and revision, each compared as alternating non-digit and digit
/// runs, where `~` sorts before everything, even the end.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    fn split(v: &str) -> (u64, &str, &str) {
        let (epoch, rest) = match v.split_once(':') {
            Some((e, r)) if e.bytes().all(|c| c.is_ascii_digit()) => (e.parse().unwrap_or(0), r),
            _ => (0, v),
        };
        match rest.rsplit_once('-') {
            Some((upstream, revision)) => (epoch, upstream, revision),
            None => (epoch, rest, ""),
        }
    }
    fn order(c: u8) -> i32 {
        match c {
            b'~' => -1,
            c if c.is_ascii_alphabetic() => c as i32,
            c => c as i32 + 256,
        }
    }
    fn part(mut a: &[u8], mut b: &[u8]) -> Ordering {
        while !a.is_empty() || !b.is_empty() {
            // The non-digit run: character by character; the end sorts after `~` only.
            loop {
                let ca = a.first().filter(|c| !c.is_ascii_digit());
                let cb = b.first().filter(|c| !c.is_ascii_digit());
                if ca.is_none() && cb.is_none() {
                    break;
                }
                let oa = ca.map_or(0, |&c| order(c));
                let ob = cb.map_or(0, |&c| order(c));
                if oa != ob {
                    return oa.cmp(&ob);
                }
                a = &a[1..];
                b = &b[1..];
            }
            // The digit run: as a number.
            let da = a.iter().take_while(|c| c.is_ascii_digit()).count();
            let db = b.iter().take_while(|c| c.is_ascii_digit()).count();
            let na = std::str::from_utf8(&a[..da])
                .ok()
                .and_then(|s| s.trim_start_matches('0').parse::<u128>().ok())
                .unwrap_or(0);
            let nb = std::str::from_utf8(&b[..db])
                .ok()
                .and_then(|s| s.trim_start_matches('0').parse::<u128>().ok())
                .unwrap_or(0);
            if na != nb {
                return na.cmp(&nb);
            }
            a = &a[da..];
            b = &b[db..];
        }
        Ordering::Equal
    }
    let (ea, ua, ra) = split(a);
    let (eb, ub, rb) = split(b);
    ea.cmp(&eb).then_with(|| part(ua.as_bytes(), ub.as_bytes())).then_with(|| part(ra.as_bytes(), rb.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_as_dpkg_orders_them() {
        use Ordering::*;
        let cases = [
            ("1.0", "1.0", Equal),
            ("1.0", "1.1", Less),
            ("1.10", "1.9", Greater),
            ("1.0~rc1", "1.0", Less),
            ("1.0", "1.0+deb12u1", Less),
            ("1:1.0", "2.0", Greater),
            ("2.36-9", "2.36-9+deb12u4", Less),
            ("1.2.3-1", "1.2.3-1ubuntu1", Less),
            ("0~git20220303+e68e0f1e-1", "0~git20220426+18e68a9b-1", Less),
            ("5.15.0.69.67", "5.15.0.86.83", Less),
            ("1.0a", "1.0", Greater),
            ("1.0", "1.0.", Less),
        ];
        for (a, b, expected) in cases {
            assert_eq!(compare_versions(a, b), expected, "{a} vs {b}");
            assert_eq!(compare_versions(b, a), expected.reverse(), "{b} vs {a}");
        }
    }

    fn pkg<'a>(name: &'a str, version: &'a str, status: &'a str) -> Package<'a> {
        Package { name, version, arch: "amd64", status: Some(status) }
    }

    #[test]
    fn the_diff_names_every_kind_of_change_and_the_first_inventory_is_a_baseline() {
        let facts = |packages: Vec<Package>| {
            let text: String = packages
                .iter()
                .map(|p| format!("{}\t{}\t{}\t{}\n", p.name, p.version, p.arch, p.status.unwrap_or("")))
                .collect();
            AptFacts {
                apt: true,
                inventory: Some(crate::snapshot::apt::Inventory::read(text, &mut Vec::new())),
                ..AptFacts::default()
            }
        };
        let mut h = AptHistory::default();
        h.add(
            Instant(100),
            facts(vec![
                pkg("a", "1.0", "ii"),
                pkg("b", "2.0", "ii"),
                pkg("c", "1", "ii"),
                pkg("d", "1", "rc"),
                pkg("e", "3", "ii"),
            ]),
        );
        assert!(h.changes.is_empty(), "a baseline, not installs");
        h.add(
            Instant(200),
            facts(vec![pkg("a", "1.1", "ii"), pkg("b", "1.9", "ii"), pkg("c", "1", "rc"), pkg("f", "1", "ii")]),
        );
        let got: Vec<(&str, ChangeKind)> = h.changes.iter().map(|c| (c.package.as_str(), c.change)).collect();
        use ChangeKind::*;
        assert_eq!(
            got,
            [("a", Upgraded), ("b", Downgraded), ("c", Removed), ("d", Purged), ("e", Purged), ("f", Installed)]
        );
        assert_eq!((h.changes[0].after, h.changes[0].before), (Instant(100), Instant(200)));
        assert_eq!((h.first_inventory, h.last_inventory), (Some(Instant(100)), Some(Instant(200))));
    }

    #[test]
    fn a_reboot_is_needed_since_the_first_snapshot_of_an_unbroken_run() {
        let facts = |flag: bool, ksta: u8| AptFacts {
            apt: true,
            reboot_required: flag,
            needrestart: Some(NeedRestart { kernel_status: Some(ksta), ..NeedRestart::default() }),
            ..AptFacts::default()
        };
        let mut h = AptHistory::default();
        for (at, flag, ksta) in [(1, false, 1), (2, true, 3), (3, true, 3), (4, false, 1), (5, true, 2)] {
            h.add(Instant(at), facts(flag, ksta));
        }
        assert_eq!(
            (h.reboot_since, h.kernel_since),
            (Some(Instant(5)), Some(Instant(5))),
            "a run that broke starts again"
        );
        h.add(Instant(6), facts(true, 1));
        assert_eq!((h.reboot_since, h.kernel_since), (Some(Instant(5)), None));
    }

    #[test]
    fn apt_names_find_dpkgs_multiarch_names() {
        let inventory = crate::snapshot::apt::packages(
            "libaom3:amd64\t3.6.0-1\tamd64\tii\nlibc6\t2.36-9\tamd64\tii\nlibc6:i386\t2.36-9\ti386\tii\n",
        );
        let name = |package| lookup(&inventory, package).map(|p| p.name);
        assert_eq!(name("libaom3"), Some("libaom3:amd64"));
        assert_eq!(name("libc6"), Some("libc6"), "the native one first");
        assert_eq!(name("libaom"), None);
        // `libaom3-dev` sorts between `libaom3` and `libaom3:amd64`.
        let sorted = crate::snapshot::apt::packages(
            "libaom3-dev\t3.6.0-1\tamd64\tii\nlibaom3:amd64\t3.6.0-1\tamd64\tii\nlibc6\t2.36-9\tamd64\tii\nlibc6:i386\t2.36-9\ti386\tii\n",
        );
        let name = |package| lookup(&sorted, package).map(|p| p.name);
        assert_eq!(name("libaom3"), Some("libaom3:amd64"));
        assert_eq!(name("libaom3-dev"), Some("libaom3-dev"));
        assert_eq!((name("libaom"), name("zsh")), (None, None));
    }
}

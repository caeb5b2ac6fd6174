//! The `apt` kind: pending updates (simulated, never applied), held
//! packages, reboots, the installed packages and the configured sources.

pub mod downloads;
pub mod drivers;
pub mod simulate;
pub mod sources;

use super::{Probe, ProbeFailure};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AptFacts {
    /// False on a host without apt-get: not an APT host, not an error.
    pub apt: bool,
    /// `apt-get update`, when the agent ran it: its `E:` and `W:` lines.
    pub update: Option<Update>,
    /// Shared with the versions before, while apt prints the same.
    pub upgrade: Option<Arc<simulate::Simulation>>,
    pub dist_upgrade: Option<Arc<simulate::Simulation>>,
    /// `apt-mark showhold`.
    pub held: Vec<String>,
    /// `/run/reboot-required` exists.
    pub reboot_required: bool,
    /// `/run/reboot-required.pkgs`, each once.
    pub reboot_packages: Vec<String>,
    pub needrestart: Option<NeedRestart>,
    /// `dpkg-query`'s output; none when the probe failed.
    pub inventory: Option<Inventory>,
    pub sources: Vec<sources::Source>,
    /// A Proxmox VE subscription key file is there (`/etc/subscription`).
    pub pve_subscription: bool,
    /// What a dist-upgrade would download, and its change on disk.
    #[serde(default)]
    pub downloads: Option<downloads::Downloads>,
    /// `apt-get -s autoremove`: what autoremove would remove.
    #[serde(default)]
    pub autoremove: Option<Arc<simulate::Simulation>>,
    /// The bytes in /var/cache/apt/archives (what `apt-get clean` frees).
    #[serde(default)]
    pub archives_bytes: Option<u64>,
    /// `ubuntu-drivers devices`, where the tool is installed.
    #[serde(default)]
    pub drivers: Option<Vec<drivers::Device>>,
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

impl NeedRestart {
    /// A newer kernel is installed and waits for a reboot (KSTA 2 or 3).
    pub fn newer_kernel(&self) -> bool {
        matches!(self.kernel_status, Some(2 | 3))
    }
}

/// One line of `dpkg-query -W`, borrowed from the inventory's text
/// ([`packages`]): thousands a host, read only to compare or index them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Package<'a> {
    /// `${binary:Package}`: the name, with `:arch` for a foreign architecture.
    pub name: &'a str,
    pub version: &'a str,
    pub arch: &'a str,
    /// `${db:Status-Abbrev}` (`ii`, `rc`, `hi`, …); none from older probes (3 columns).
    pub status: Option<&'a str>,
}

/// The packages of an inventory's text ([`Inventory::text`]): its
/// `name\tversion\tarch[\tstatus]` lines, sorted by name.
pub fn packages(text: &str) -> Vec<Package<'_>> {
    sorted(text.lines().filter_map(|l| Inventory::line(l, "\t")).collect())
}

fn sorted(mut packages: Vec<Package>) -> Vec<Package> {
    if !packages.windows(2).all(|w| w[0] <= w[1]) {
        packages.sort();
    }
    packages
}

/// What one host's previous `apt` snapshot read from its largest outputs.
/// A host prints the same inventory and simulations day after day: an
/// output equal to the one before is compared, not read again, and what it
/// gave is shared. The result is the same as reading it.
#[derive(Default)]
pub struct Memo {
    inventory: Option<(Inventory, Vec<String>)>,
    /// Per simulation probe: its raw output and stderr, and what they gave.
    simulations: Vec<(&'static str, String, Option<String>, Arc<simulate::Simulation>)>,
}

impl Memo {
    fn simulation(&mut self, key: &'static str, probe: &Probe) -> Arc<simulate::Simulation> {
        let raw = probe.out.map_or("", |r| r.get());
        let same = |(k, out, err, _): &&(&str, String, Option<String>, _)| *k == key && out == raw && *err == probe.err;
        if let Some((.., sim)) = self.simulations.iter().find(same) {
            return Arc::clone(sim);
        }
        let sim = Arc::new(simulate::parse(&all_output(probe)));
        self.simulations.retain(|(k, ..)| *k != key);
        self.simulations.push((key, raw.to_string(), probe.err.clone(), Arc::clone(&sim)));
        sim
    }
}

/// Reads the `apt` probes. A probe that failed is a failure of the host; an
/// output read only in part (a cut simulation, dpkg lines without their
/// columns) is a note on the snapshot, reported as a problem with its path.
pub fn parse(
    probes: &BTreeMap<String, Probe>,
    failures: &mut Vec<ProbeFailure>,
    notes: &mut Vec<String>,
    memo: &mut Memo,
) -> AptFacts {
    if probes.contains_key("apt-absent") {
        return AptFacts::default();
    }
    let text = |key: &str, failures: &mut Vec<ProbeFailure>| super::probe_text(probes, key, failures);
    let mut facts = AptFacts { apt: true, ..AptFacts::default() };
    if let Some(probe) = probes.get("apt-update") {
        let sim = memo.simulation("apt-update", probe);
        let (errors, warnings) = (sim.errors.clone(), sim.warnings.clone());
        facts.update = Some(Update { exit: probe.exit, errors, warnings });
    }
    // A simulation that failed still says why on stderr: its E: lines are the point.
    let mut simulation = |key: &'static str, failures: &mut Vec<ProbeFailure>| {
        let probe = probes.get(key)?;
        if let Some(cause) = probe.failure() {
            failures.push(ProbeFailure { probe: key.into(), cause });
        }
        Some(memo.simulation(key, probe))
    };
    facts.upgrade = simulation("apt-sim-upgrade", failures);
    facts.dist_upgrade = simulation("apt-sim-dist-upgrade", failures);
    facts.autoremove = simulation("apt-sim-autoremove", failures);
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
    facts.inventory = inventory(probes, failures, notes, memo);
    facts.pve_subscription = probes.get("pve-subscription").and_then(Probe::text).is_some_and(|t| !t.trim().is_empty());
    facts.downloads = text("apt-print-uris", failures).map(|t| downloads::parse(&t));
    facts.archives_bytes = text("apt-archives", failures).and_then(|t| downloads::archives_bytes(&t));
    facts.drivers = text("ubuntu-drivers", failures).map(|t| drivers::parse(&t));
    if let Some(t) = text("apt-sources", failures) {
        facts.sources = files(&t).into_iter().flat_map(|(path, body)| sources::parse(&path, &body)).collect();
    }
    facts
}

/// What apt printed on stdout, then on stderr: its `E:` and `W:` lines go to stderr.
fn all_output(probe: &Probe) -> String {
    [probe.text(), probe.err.clone()].into_iter().flatten().collect::<Vec<_>>().join("\n")
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

/// The `dpkg-query` probe's inventory, as the JSON string the snapshot holds.
fn inventory(
    probes: &BTreeMap<String, Probe>,
    failures: &mut Vec<ProbeFailure>,
    notes: &mut Vec<String>,
    memo: &mut Memo,
) -> Option<Inventory> {
    let probe = probes.get("dpkg-query")?;
    if let Some(cause) = probe.failure() {
        failures.push(ProbeFailure { probe: "dpkg-query".into(), cause });
        return None;
    }
    match probe.out.map(|raw| raw.get()).filter(|raw| raw.starts_with('"')) {
        Some(raw) => {
            let (inventory, its_notes) = match memo.inventory.take() {
                Some((same, its_notes)) if *same.0 == *raw => (same, its_notes),
                _ => {
                    let mut its_notes = Vec::new();
                    (Inventory::from_json(raw, &mut its_notes), its_notes)
                }
            };
            notes.extend(its_notes.iter().cloned());
            memo.inventory = Some((inventory.clone(), its_notes));
            Some(inventory)
        }
        None => {
            failures.push(ProbeFailure { probe: "dpkg-query".into(), cause: "output is not text".into() });
            None
        }
    }
}

/// A `dpkg-query` inventory, kept as the JSON string literal the snapshot
/// holds it in: most days it is the same as the day before, and then it is
/// shared with the day before (`Memo`) and compared, not read
/// (`fleet/apt.rs`); it is unescaped and read into packages only when it
/// changed, or for the package index.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Inventory(Arc<str>);

impl Inventory {
    /// From the text dpkg-query printed.
    pub fn read(text: String, notes: &mut Vec<String>) -> Inventory {
        let raw = serde_json::to_string(&text).expect("a string is JSON");
        Inventory::from_json(&raw, notes)
    }

    /// From a JSON string literal. Lines without their columns are noted by
    /// number (and skipped when read); the text is only unescaped and read
    /// line by line when one line's count of tabs is not two or three.
    fn from_json(raw: &str, notes: &mut Vec<String>) -> Inventory {
        let inventory = Inventory(raw.into());
        // One pass over the escaped text: each line's tabs, as `\\t` escapes.
        let inner = inventory.0.get(1..inventory.0.len().saturating_sub(1)).unwrap_or_default();
        let bytes = inner.as_bytes();
        // From escape to escape (found with memchr), not byte by byte.
        let (mut tabs, mut line_start, mut after, mut suspect) = (0, 0, 0, false);
        // A line with anything besides its tabs must have two or three.
        let wrong = |line: std::ops::Range<usize>, tabs: usize| line.len() > 2 * tabs && !(2..=3).contains(&tabs);
        for (at, _) in inner.match_indices('\\') {
            if at < after {
                continue; // the second half of an escaped backslash
            }
            after = at + 2;
            match bytes.get(at + 1) {
                Some(b't') => tabs += 1,
                Some(b'n') => {
                    suspect |= wrong(line_start..at, tabs);
                    (tabs, line_start) = (0, at + 2);
                }
                _ => {}
            }
        }
        suspect |= wrong(line_start..bytes.len(), tabs);
        if suspect {
            let text = inventory.text();
            let bad: Vec<usize> = (text.lines().enumerate())
                .filter(|(_, l)| !l.trim().is_empty() && Self::line(l, "\t").is_none())
                .map(|(i, _)| i + 1)
                .collect();
            if !bad.is_empty() {
                notes.push(format!(
                    "dpkg-query: {} line(s) without name, version and architecture (line {})",
                    bad.len(),
                    numbers(&bad)
                ));
            }
        }
        inventory
    }

    /// The inventory as the snapshot holds it (a JSON string literal): what
    /// tells two inventories apart without reading them.
    pub fn raw(&self) -> &str {
        &self.0
    }

    /// The text dpkg-query printed.
    pub fn text(&self) -> String {
        serde_json::from_str(&self.0).unwrap_or_default()
    }

    /// The lines of the JSON string literal, read in place when its only
    /// escapes are tabs and newlines (dpkg's names and versions hold no
    /// quote, backslash or control character): nothing unescaped or copied.
    /// `None` when it has others.
    fn lines_in_place(&self) -> Option<std::str::Split<'_, &'static str>> {
        let inner = self.0.get(1..self.0.len().saturating_sub(1))?;
        const OTHERS: [&str; 7] = ["\\\\", "\\\"", "\\u", "\\r", "\\/", "\\b", "\\f"];
        if OTHERS.iter().any(|e| inner.contains(e)) {
            return None;
        }
        Some(inner.split("\\n"))
    }

    /// The packages, read in place ([`Inventory::lines_in_place`]).
    fn packages_in_place(&self) -> Option<Vec<Package<'_>>> {
        Some(sorted(self.lines_in_place()?.filter_map(|l| Self::line(l, "\\t")).collect()))
    }

    /// One package's version and status, found without collecting the
    /// others: a scan of the lines in place when it can be.
    pub fn find(&self, name: &str) -> Option<(String, Option<String>)> {
        let owned = |p: &Package| (p.version.to_string(), p.status.map(str::to_string));
        if let Some(lines) = self.lines_in_place() {
            let found =
                lines.filter(|l| l.starts_with(name)).find_map(|l| Self::line(l, "\\t").filter(|p| p.name == name));
            return found.map(|p| owned(&p));
        }
        let mut text = None;
        self.packages(&mut text).iter().find(|p| p.name == name).map(owned)
    }

    /// The packages, sorted by name: read in place when they can be, else
    /// from the text, unescaped into `text`, which they then borrow from.
    pub fn packages<'a>(&'a self, text: &'a mut Option<String>) -> Vec<Package<'a>> {
        match self.packages_in_place() {
            Some(packages) => packages,
            None => packages(text.insert(self.text())),
        }
    }

    /// The same packages, each version replaced by `hidden` (`site.redact`).
    pub fn without_versions(&self, hidden: &str) -> Inventory {
        let mut text = None;
        let lines: Vec<String> = (self.packages(&mut text).iter())
            .map(|p| [p.name, hidden, p.arch, p.status.unwrap_or_default()].join("\t"))
            .collect();
        Inventory::read(lines.join("\n"), &mut Vec::new())
    }

    /// One line's columns, between `tab`s (a tab, or its escape).
    fn line<'t>(line: &'t str, tab: &str) -> Option<Package<'t>> {
        let mut cols = line.split(tab);
        let (name, version, arch) = (cols.next()?, cols.next()?, cols.next()?);
        let status = cols.next().map(str::trim).filter(|s| !s.is_empty());
        if name.is_empty() || cols.next().is_some() {
            return None;
        }
        Some(Package { name, version, arch, status })
    }
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
        let mut notes = Vec::new();
        let text = "zsh\t5.9-4\tamd64\tii \nlibc6:i386\t2.36-9\ti386\tii \nbroken line\nadduser\t3.134\tall\trc\n";
        let text = Inventory::read(text.into(), &mut notes).text();
        let p = packages(&text);
        assert_eq!(p.iter().map(|p| p.name).collect::<Vec<_>>(), ["adduser", "libc6:i386", "zsh"]);
        assert_eq!((p[0].status, p[2].status), (Some("rc"), Some("ii")));
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("line 3"), "{}", notes[0]);
        // Older probes print three columns: installed packages, no status.
        let text = Inventory::read("a\t1\tall\nb\t2\tamd64".into(), &mut notes).text();
        let p = packages(&text);
        assert_eq!((p.len(), p[1].status, notes.len()), (2, None, 1));
    }

    /// An apt snapshot of one host on `day`, with its inventory and upgrade simulation.
    fn snapshot(day: u32, inventory: &str, upgrade: &str) -> Vec<u8> {
        let probe = |out: &str| serde_json::json!({"cmd": "x", "exit": 0, "out": out});
        serde_json::to_vec(&serde_json::json!({
            "schema": "parc.snapshot/1", "kind": "apt", "host": "h",
            "collected_at": format!("2026-11-{day:02}T02:00:00Z"),
            "probes": {"dpkg-query": probe(inventory), "apt-sim-upgrade": probe(upgrade)},
        }))
        .unwrap()
    }

    #[test]
    fn a_host_read_in_a_row_gives_what_each_snapshot_gives_alone() {
        let bad = "zsh\t5.9-4\tamd64\tii \nbroken line\n";
        let good = "zsh\t5.9-5\tamd64\tii \n";
        let sim = "Inst zsh [5.9-4] (5.9-5 Debian:12.5/stable [amd64])\nInst cut";
        let days = [snapshot(1, bad, sim), snapshot(2, bad, sim), snapshot(3, good, sim), snapshot(4, bad, "")];
        let mut memo = crate::snapshot::Memo::default();
        let mut shared = Vec::new();
        for bytes in &days {
            let (alone, in_a_row) =
                (crate::snapshot::parse(bytes).unwrap(), crate::snapshot::parse_with(bytes, &mut memo).unwrap());
            let (crate::snapshot::Facts::Apt(a), crate::snapshot::Facts::Apt(b)) = (&alone.facts, &in_a_row.facts)
            else {
                panic!("apt facts")
            };
            assert_eq!((a, &alone.notes), (b, &in_a_row.notes));
            shared.push(b.clone());
        }
        // The bad line is named on each snapshot that has it, not only on the first.
        let notes = |bytes: &[u8]| crate::snapshot::parse(bytes).unwrap().notes;
        assert!(notes(&days[1]).iter().any(|n| n.contains("dpkg-query") && n.contains("line 2")));
        assert!(notes(&days[2]).iter().all(|n| !n.contains("dpkg-query")));
        // The same output is one value, shared.
        let (one, two) = (shared[0].upgrade.as_ref().unwrap(), shared[1].upgrade.as_ref().unwrap());
        assert!(Arc::ptr_eq(one, two));
        assert!(!Arc::ptr_eq(two, shared[3].upgrade.as_ref().unwrap()));
    }

    #[test]
    fn packages_read_in_place_are_those_read_from_the_text() {
        let mut notes = Vec::new();
        let plain = Inventory::read("zsh\t5.9-4\tamd64\tii \nadduser\t3.134\tall\trc\n\nbroken\n".into(), &mut notes);
        let text = plain.text();
        assert_eq!(plain.packages_in_place(), Some(packages(&text)));
        assert_eq!(packages(&text).len(), 2);
        // Any other escape: read from the text.
        for odd in
            ["we\"ird\t1\tall\tii\n", "back\\slash\t1\tall\tii\n", "cr\t1\tall\tii\r\n", "caf\u{e9}\t1\tall\tii\n"]
        {
            let inventory = Inventory::read(odd.into(), &mut notes);
            let in_place = inventory.packages_in_place();
            assert!(in_place.is_none() || in_place == Some(packages(&inventory.text())), "{odd:?}");
        }
        assert_eq!(Inventory::read("a\\b\t1\tall\tii\n".into(), &mut notes).packages_in_place(), None);
    }

    #[test]
    fn one_package_found_is_the_one_read_with_the_others() {
        let corpus = include_str!("../../../tests/corpus/apt/dpkg-query-3col.tsv");
        let mut notes = Vec::new();
        for inventory in [
            Inventory::read(corpus.into(), &mut notes),
            Inventory::read(format!("we\"ird\t1\tall\tii\n{corpus}"), &mut notes),
        ] {
            let mut text = None;
            let all = inventory.packages(&mut text);
            assert!(all.len() > 700);
            for p in &all {
                assert_eq!(
                    inventory.find(p.name),
                    Some((p.version.to_string(), p.status.map(str::to_string))),
                    "{}",
                    p.name
                );
            }
            // A name that is only the start of others' (`libc` of `libc6`, `libc-bin`) is not one of them.
            assert_eq!(inventory.find("libc"), None);
        }
    }

    #[test]
    fn splits_files_and_keeps_each_name_once() {
        let f = files("==> /run/reboot-required <==\n*** System restart required ***\n\n==> /run/reboot-required.pkgs <==\nlinux-base\nlibc6\nlinux-base\n");
        assert_eq!(f.len(), 2);
        assert_eq!(names(&f[1].1), ["linux-base", "libc6"]);
    }
}

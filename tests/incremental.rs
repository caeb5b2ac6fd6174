//! Incremental builds give the bytes a build from scratch gives. The fleet
//! is the layout agents write — stable paths in git, one commit per host per
//! collection — and each step below changes it the way fleets change, then
//! builds twice: incrementally (with every cache of the previous builds) and
//! from scratch in a folder of its own, and compares every file.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A repository whose `snapshots/` receives `parc demo`'s collections as commits.
struct Fleet {
    tmp: tempfile::TempDir,
    /// Collections not yet committed: stamp → host → kind → file.
    pending: BTreeMap<String, BTreeMap<String, BTreeMap<String, PathBuf>>>,
}

impl Fleet {
    fn new() -> Fleet {
        Fleet::of(&["--hosts", "6", "--days", "6"])
    }

    /// The collections of `parc demo` with `args`, none committed yet.
    fn of(args: &[&str]) -> Fleet {
        let tmp = tempfile::tempdir().unwrap();
        let dated = tmp.path().join("dated");
        parc().arg("demo").args(args).arg("--out").arg(&dated).assert().success();
        let mut pending: BTreeMap<String, BTreeMap<String, BTreeMap<String, PathBuf>>> = BTreeMap::new();
        for file in files(&dated) {
            let parts: Vec<String> = file.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            let stamp = parts[2].trim_end_matches(".json").to_string();
            pending
                .entry(stamp)
                .or_default()
                .entry(parts[0].clone())
                .or_default()
                .insert(parts[1].clone(), dated.join(&file));
        }
        let repo = tmp.path().join("repo");
        std::fs::create_dir_all(repo.join("snapshots")).unwrap();
        git(&repo, &["init", "-q"]);
        Fleet { tmp, pending }
    }

    fn repo(&self) -> PathBuf {
        self.tmp.path().join("repo")
    }

    fn snapshots(&self) -> PathBuf {
        self.repo().join("snapshots")
    }

    /// Commits the next `days` collections, one commit per host (only `host` when given).
    fn commit_days(&mut self, days: usize, host: Option<&str>) {
        let (repo, snapshots) = (self.repo(), self.snapshots());
        let stamps: Vec<String> = self.pending.keys().take(days).cloned().collect();
        for stamp in stamps {
            let hosts = self.pending.get_mut(&stamp).unwrap();
            let names: Vec<String> = hosts.keys().filter(|h| host.is_none_or(|only| only == *h)).cloned().collect();
            for name in names {
                for (kind, from) in hosts.remove(&name).unwrap() {
                    let to = snapshots.join(&name).join(format!("{kind}.json"));
                    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
                    std::fs::copy(&from, &to).unwrap();
                }
                git(&repo, &["add", "-A", "snapshots"]);
                git(&repo, &["commit", "-q", "-m", &format!("parc collect: {name}")]);
            }
            if self.pending[&stamp].is_empty() {
                self.pending.remove(&stamp);
            }
        }
    }

    /// The host with the most commits, which has several.
    fn most_collected(&self) -> String {
        let log = git(&self.repo(), &["log", "--format=%s"]);
        let mut commits: BTreeMap<&str, usize> = BTreeMap::new();
        for host in log.lines().filter_map(|l| l.strip_prefix("parc collect: ")) {
            *commits.entry(host).or_default() += 1;
        }
        let (host, most) = commits.into_iter().max_by_key(|(_, n)| *n).unwrap();
        assert!(most >= 2, "{host} has several versions");
        host.to_string()
    }

    /// Builds incrementally into `site` (from the repository, with its caches),
    /// then from scratch elsewhere (a copy of parc.toml and templates/ beside
    /// it), and compares every file.
    fn assert_incremental_equals_fresh(&self, step: &str) {
        let site = self.tmp.path().join("site");
        build_cmd(&self.snapshots(), &site, &[]).current_dir(self.repo()).assert().success();
        let fresh_base = tempfile::tempdir().unwrap();
        for extra in ["parc.toml", "templates"] {
            let from = self.repo().join(extra);
            if from.is_file() {
                std::fs::copy(&from, fresh_base.path().join(extra)).unwrap();
            } else if from.is_dir() {
                std::fs::create_dir_all(fresh_base.path().join(extra)).unwrap();
                for f in files(&from) {
                    std::fs::copy(from.join(&f), fresh_base.path().join(extra).join(&f)).unwrap();
                }
            }
        }
        let fresh = fresh_base.path().join("site");
        build_cmd(&self.snapshots(), &fresh, &["--no-cache"]).current_dir(fresh_base.path()).assert().success();
        assert_same_site(&site, &fresh, step);
    }
}

#[test]
fn an_incremental_build_is_byte_for_byte_a_build_from_scratch() {
    let mut fleet = Fleet::new();
    fleet.commit_days(3, None);
    fleet.assert_incremental_equals_fresh("first build");

    fleet.commit_days(1, None);
    fleet.assert_incremental_equals_fresh("a new day, one commit per host");

    let host = fleet.pending.values().next().unwrap().keys().next().unwrap().clone();
    fleet.commit_days(1, Some(&host));
    fleet.assert_incremental_equals_fresh("one new commit, one host");

    // A collection of days ago committed again (a revert): content already
    // held, at a later commit, so the host is read from all its versions.
    fleet.commit_days(12, None);
    fleet.assert_incremental_equals_fresh("more collections");
    let host = fleet.most_collected();
    let path = format!("snapshots/{host}/system.json");
    let first = git(&fleet.repo(), &["log", "--reverse", "--format=%H", "--", &path]);
    let older = git(&fleet.repo(), &["show", &format!("{}:{path}", first.lines().next().unwrap())]);
    std::fs::write(fleet.repo().join(&path), older).unwrap();
    git(&fleet.repo(), &["commit", "-q", "-a", "-m", "revert"]);
    fleet.assert_incremental_equals_fresh("an older collection again");

    let gone = std::fs::read_dir(fleet.snapshots()).unwrap().next().unwrap().unwrap().file_name();
    git(&fleet.repo(), &["rm", "-q", "-r", &format!("snapshots/{}", gone.to_string_lossy())]);
    git(&fleet.repo(), &["commit", "-q", "-m", "a host retired"]);
    fleet.assert_incremental_equals_fresh("a host removed");

    // History rewritten: the last three commits dropped, others made instead.
    git(&fleet.repo(), &["reset", "-q", "--hard", "HEAD~3"]);
    fleet.commit_days(1, None);
    fleet.assert_incremental_equals_fresh("history rewritten");

    std::fs::write(fleet.repo().join("parc.toml"), "[fleet]\nstale_after_hours = 1\n[smart]\ntemperature_max = 30\n")
        .unwrap();
    fleet.assert_incremental_equals_fresh("a configuration change");

    std::fs::create_dir_all(fleet.repo().join("templates")).unwrap();
    let host_template = include_str!("../templates/host.html").replace("<h1", "<h1 data-changed=\"yes\"");
    std::fs::write(fleet.repo().join("templates/host.html"), host_template).unwrap();
    fleet.assert_incremental_equals_fresh("a template change");
    let hosts = read_json(&fleet.tmp.path().join("site/api/v1/hosts.json"));
    let page = read(&fleet.tmp.path().join("site").join(hosts[0]["page"].as_str().unwrap()));
    assert!(page.contains("data-changed=\"yes\""), "the changed template was used");

    // A working-tree edit, not committed, on top of the history.
    let edited = files(&fleet.snapshots()).into_iter().find(|f| f.ends_with("system.json")).unwrap();
    let edited = fleet.snapshots().join(edited);
    let text = std::fs::read_to_string(&edited).unwrap().replace("Debian", "Devuan");
    std::fs::write(&edited, text).unwrap();
    fleet.assert_incremental_equals_fresh("an uncommitted edit");
}

#[test]
fn the_caches_can_be_lost_or_come_from_another_version() {
    let mut fleet = Fleet::new();
    fleet.commit_days(2, None);
    fleet.assert_incremental_equals_fresh("first build");
    let cache = fleet.repo().join(".parc-cache");
    // Another parc version's cache: every file says another format.
    for f in files(&cache) {
        let path = cache.join(&f);
        // (Not the inputs kept aside, records named from a file that is.)
        let Ok(text) = String::from_utf8(std::fs::read(&path).unwrap()) else { continue };
        std::fs::write(&path, text.replace(env!("CARGO_PKG_VERSION"), "0.0.0-other")).unwrap();
    }
    fleet.commit_days(1, None);
    fleet.assert_incremental_equals_fresh("a cache from another version");
    // One host's assembly lost, the history's record kept: that host reads
    // the versions the walk did not list from the record.
    fleet.commit_days(6, None);
    fleet.assert_incremental_equals_fresh("more collections");
    // The host with the most versions: its older ones are what is read.
    let host = fleet.most_collected();
    let name = format!("{}.json", parc::slug::hash(&host, 16));
    let lost = files(&cache).into_iter().find(|f| f.ends_with(&name)).unwrap();
    std::fs::remove_file(cache.join(lost)).unwrap();
    fleet.commit_days(1, None);
    fleet.assert_incremental_equals_fresh("one host's assembly lost");
    // The record's last append torn (a build stopped while writing it): its
    // tip no longer says its length, and the record is read, all of it.
    let record = files(&cache).into_iter().find(|f| f.ends_with("history.json")).unwrap();
    let bytes = std::fs::read(cache.join(&record)).unwrap();
    std::fs::write(cache.join(&record), &bytes[..bytes.len() - 10]).unwrap();
    fleet.commit_days(1, None);
    fleet.assert_incremental_equals_fresh("the record's last append torn");
    // Damaged, then lost.
    for f in files(&cache) {
        std::fs::write(cache.join(&f), b"{not json").unwrap();
    }
    fleet.commit_days(1, None);
    fleet.assert_incremental_equals_fresh("a damaged cache");
    std::fs::remove_dir_all(&cache).unwrap();
    fleet.commit_days(1, None);
    fleet.assert_incremental_equals_fresh("no cache");
    // A build stopped while writing pages: one page half-written, the
    // marker still "unfinished", every cache as the last finished build left it.
    let site = fleet.tmp.path().join("site");
    let hosts = read_json(&site.join("api/v1/hosts.json"));
    let page = site.join(hosts[0]["page"].as_str().unwrap());
    let whole = std::fs::read(&page).unwrap();
    std::fs::write(&page, &whole[..whole.len() / 2]).unwrap();
    std::fs::write(site.join(".parc-site"), "unfinished\n").unwrap();
    fleet.assert_incremental_equals_fresh("after a build stopped half-way");
}

#[test]
fn dated_files_too_new_days_and_a_late_file() {
    let tmp = tempfile::tempdir().unwrap();
    let all = tmp.path().join("all");
    parc().args(["demo", "--hosts", "6", "--days", "5", "--out"]).arg(&all).assert().success();
    let snaps = tmp.path().join("snapshots");
    let stamps: Vec<String> = {
        let mut s: Vec<String> =
            files(&all).iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
        s.sort();
        s.dedup_by(|a, b| a[..10] == b[..10]);
        s.into_iter().map(|f| f[..10].to_string()).collect()
    };
    let copy_day = |day: &str| {
        for f in files(&all).iter().filter(|f| f.file_name().unwrap().to_string_lossy().starts_with(day)) {
            std::fs::create_dir_all(snaps.join(f).parent().unwrap()).unwrap();
            std::fs::copy(all.join(f), snaps.join(f)).unwrap();
        }
    };
    let site = tmp.path().join("site");
    let compare = |step: &str| {
        build_cmd(&snaps, &site, &[]).current_dir(tmp.path()).assert().success();
        let fresh_base = tempfile::tempdir().unwrap();
        let fresh = fresh_base.path().join("site");
        build_cmd(&snaps, &fresh, &["--no-cache"]).current_dir(fresh_base.path()).assert().success();
        assert_same_site(&site, &fresh, step);
    };
    // Days 1, 2 and 4 first; then day 5, one after the other (the kept assembly grows)...
    for day in [&stamps[0], &stamps[1], &stamps[3]] {
        copy_day(day);
    }
    compare("first build");
    copy_day(&stamps[4]);
    compare("a new day");
    // ... then day 3, older than what was kept: the hosts are read again, all of them.
    copy_day(&stamps[2]);
    compare("a day that arrived late");
}

#[test]
fn a_host_s_cache_grows_by_a_day_and_is_written_whole_again_past_a_quarter_of_its_size() {
    let tmp = tempfile::tempdir().unwrap();
    let all = tmp.path().join("all");
    parc().args(["demo", "--hosts", "2", "--days", "100", "--kinds", "system", "--out"]).arg(&all).assert().success();
    let mut days: Vec<PathBuf> = files(&all);
    days.sort_by_key(|f| f.file_name().unwrap().to_owned());
    let (snaps, site) = (tmp.path().join("snapshots"), tmp.path().join("site"));
    // Each host's assembled file: the bytes written whole, then each segment a build appended.
    let files_now = || -> Vec<(usize, Vec<usize>)> {
        let cache = tmp.path().join(".parc-cache");
        // A host's file is `assembled/<host>.json`; its months aside are in `assembled/<host>/`.
        let in_assembled = |f: &PathBuf| f.parent().and_then(|p| p.file_name()).is_some_and(|p| p == "assembled");
        (files(&cache).into_iter().filter(in_assembled))
            .map(|f| {
                let text = read(&cache.join(f));
                let lines: Vec<&str> = text.lines().collect();
                let sizes: Vec<usize> = lines.chunks(2).map(|s| s[0].len() + s[1].len() + 2).collect();
                (lines[1].len(), sizes[1..].to_vec())
            })
            .collect()
    };
    let (mut appended, mut whole_again) = (false, false);
    let mut before: Vec<usize> = Vec::new();
    // Ninety days in one build, then a day a build.
    for (n, build) in std::iter::once(&days[..180]).chain(days[180..].chunks(2)).enumerate() {
        for f in build {
            std::fs::create_dir_all(snaps.join(f).parent().unwrap()).unwrap();
            std::fs::copy(all.join(f), snaps.join(f)).unwrap();
        }
        build_cmd(&snaps, &site, &[]).current_dir(tmp.path()).assert().success();
        let now = files_now();
        assert_eq!(now.len(), 2, "a file per host");
        for (first, segments) in &now {
            // Appended only while what was appended before is at most a quarter of the whole.
            let earlier: usize = segments.iter().rev().skip(1).sum();
            assert!(earlier * 4 <= *first, "build {n}: {segments:?} after {first} bytes written whole");
        }
        let counts: Vec<usize> = now.iter().map(|(_, s)| s.len()).collect();
        appended |= counts.iter().any(|&c| c > 0);
        whole_again |= counts.iter().zip(&before).any(|(now, before)| now < before);
        before = counts;
    }
    assert!(appended, "a day appended to a long history");
    assert!(whole_again, "written whole again");
    // A hundred days to November 21st: the months before the last two are aside, a file each.
    let aside = months_aside(&tmp.path().join(".parc-cache"));
    let mut months: Vec<&str> = aside.iter().map(|f| f.file_stem().unwrap().to_str().unwrap()).collect();
    months.sort();
    assert_eq!(months, ["2026-08", "2026-08", "2026-09", "2026-09"], "each host's months aside: {aside:?}");
    let fresh_base = tempfile::tempdir().unwrap();
    let fresh = fresh_base.path().join("site");
    build_cmd(&snaps, &fresh, &["--no-cache"]).current_dir(fresh_base.path()).assert().success();
    assert_same_site(&site, &fresh, "90 days, then a day at a time");
}

/// What hosts keep aside in the cache, `assembled/<host>/<name>`, of the names `named` takes.
fn kept_aside(cache: &std::path::Path, named: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let in_assembled = |f: &PathBuf| f.ancestors().nth(2).and_then(|p| p.file_name()).is_some_and(|p| p == "assembled");
    let name = |f: &PathBuf| f.file_name().unwrap().to_str().is_some_and(&named);
    files(cache).into_iter().filter(in_assembled).filter(name).map(|f| cache.join(f)).collect()
}

/// A host's months kept aside in the cache: `assembled/<host>/<YYYY-MM>.json`.
fn months_aside(cache: &std::path::Path) -> Vec<PathBuf> {
    kept_aside(cache, |name| name.starts_with("20") && name.ends_with(".json"))
}

#[test]
fn a_year_s_months_go_aside_day_by_day_and_a_damaged_one_is_built_again() {
    // Four months as agents commit them, built the way a site is: most at
    // once, then a day a build across the turn of a month, then the rest.
    let mut fleet = Fleet::of(&["--hosts", "4", "--days", "110", "--kinds", "system,disks"]);
    let a_day = fleet.pending.len() / 110;
    assert!(a_day >= 1, "{} collections", fleet.pending.len());
    fleet.commit_days(70 * a_day, None);
    fleet.assert_incremental_equals_fresh("70 days at once");
    for day in 71..=80 {
        fleet.commit_days(a_day, None);
        fleet.assert_incremental_equals_fresh(&format!("day {day}"));
    }
    // A new day compares the day's inputs with the host's file only: none
    // of those kept aside is read.
    fleet.commit_days(a_day, None);
    let site = fleet.tmp.path().join("site");
    let run = build_cmd(&fleet.snapshots(), &site, &["-vv"]).current_dir(fleet.repo()).output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success() && stderr.contains("(8 parsed"), "a day of 4 hosts: {stderr}");
    assert!(!stderr.contains("reading the inputs kept aside"), "{stderr}");
    fleet.commit_days(usize::MAX, None);
    assert!(fleet.pending.is_empty());
    fleet.assert_incremental_equals_fresh("the last 30 days at once");
    let cache = fleet.repo().join(".parc-cache");
    let aside = months_aside(&cache);
    let mut months: Vec<&str> = aside.iter().map(|f| f.file_stem().unwrap().to_str().unwrap()).collect();
    months.sort();
    months.dedup();
    // 110 days to 2026-11-21, from August 4th: the months before the last
    // two go aside as a host's file is written whole (August, at 70 days,
    // for every host; September when it is next written whole).
    assert!(months.iter().all(|m| ["2026-08", "2026-09"].contains(m)), "{aside:?}");
    assert_eq!(aside.iter().filter(|f| f.ends_with("2026-08.json")).count(), 4, "each host's August: {aside:?}");
    // So are the inputs of the commits walked: 40 bytes each, a version's.
    let inputs = kept_aside(&cache, |name| name == "inputs.bin");
    assert_eq!(inputs.len(), 4, "{inputs:?}");
    let records: u64 = inputs.iter().map(|f| std::fs::metadata(f).unwrap().len()).sum();
    assert!(records.is_multiple_of(40) && records / 40 > 4 * 2 * 60, "{records} bytes of inputs aside");

    // One month file lost, another with a byte changed: read back when a
    // new output folder needs every month, found out, and built again.
    std::fs::remove_file(&aside[0]).unwrap();
    let mut bytes = std::fs::read(&aside[3]).unwrap();
    let at = bytes.len() / 2;
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    std::fs::write(&aside[3], bytes).unwrap();
    // And a host's inputs aside cut short: that host is assembled again from the start.
    let file = std::fs::OpenOptions::new().write(true).open(&inputs[1]).unwrap();
    file.set_len(std::fs::metadata(&inputs[1]).unwrap().len() / 2).unwrap();
    let other = fleet.tmp.path().join("other-site");
    let run = build_cmd(&fleet.snapshots(), &other, &[]).current_dir(fleet.repo()).output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(stderr.contains("months kept aside cannot be read"), "{stderr}");
    assert!(stderr.contains("was damaged: building again"), "{stderr}");
    assert!(stderr.contains("inputs.bin: shorter than what was kept aside"), "{stderr}");
    let fresh = fleet.tmp.path().join("fresh-site");
    build_cmd(&fleet.snapshots(), &fresh, &["--no-cache"]).current_dir(fleet.tmp.path()).assert().success();
    assert_same_site(&other, &fresh, "a build with a damaged cache");
    assert!(aside.iter().all(|f| f.exists()), "the months aside written again");
    // Every month read again, into one more output folder: whole, and what was put aside.
    let third = fleet.tmp.path().join("third-site");
    let run = build_cmd(&fleet.snapshots(), &third, &[]).current_dir(fleet.repo()).output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success() && !stderr.contains("cannot be read"), "{stderr}");
    assert_same_site(&third, &fresh, "the build after");
    fleet.assert_incremental_equals_fresh("the site built before");
    // The record of the history's walk lost: every version is listed again,
    // and compared with what the hosts keep, aside too.
    for record in ["history.json", "history.tip.json"] {
        files(&cache).iter().filter(|f| f.ends_with(record)).for_each(|f| std::fs::remove_file(cache.join(f)).unwrap());
    }
    let fourth = fleet.tmp.path().join("fourth-site");
    let run = build_cmd(&fleet.snapshots(), &fourth, &[]).current_dir(fleet.repo()).output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success() && stderr.contains("(0 parsed"), "nothing read again: {stderr}");
    assert_same_site(&fourth, &fresh, "the walk's record lost");
}

#[test]
fn a_changed_program_never_reuses_what_an_older_one_cached() {
    let mut fleet = Fleet::new();
    fleet.commit_days(2, None);
    fleet.assert_incremental_equals_fresh("first build");
    // Another parc with the same version number: the same program with one
    // byte more at its end (a development build, CI building a new commit).
    let other = fleet.tmp.path().join("parc-other");
    let mut bytes = std::fs::read(assert_cmd::cargo::cargo_bin("parc")).unwrap();
    bytes.push(0);
    std::fs::write(&other, bytes).unwrap();
    std::fs::set_permissions(&other, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let run = std::process::Command::new(&other)
        .current_dir(fleet.repo())
        .args(["build", "--snapshots"])
        .arg(fleet.snapshots())
        .arg("--out")
        .arg(fleet.tmp.path().join("site"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(!stderr.contains("nothing changed"), "{stderr}");
    assert!(!stderr.contains("(0 parsed"), "every version is parsed again: {stderr}");
}

#[test]
fn what_is_done_ahead_builds_a_host_as_its_turn_would() {
    use parc::{assemble, cache, parse, source};
    let mut fleet = Fleet::new();
    fleet.commit_days(12, None);
    let (repo, snapshots) = (fleet.repo(), fleet.snapshots());
    let config = parc::config::Config::default();
    let options = parc::pipeline::BuildOptions {
        snapshots: snapshots.clone(),
        out: repo.join("site"),
        base: repo.clone(),
        use_cache: true,
    };
    // Built in this process, so that its caches are this program's own.
    parc::pipeline::build(&config, &options).unwrap();
    // A day's worth of collections: several hosts have something new.
    fleet.commit_days(6, None);

    let max = config.build.max_snapshot_bytes;
    let dir = cache::SourceCache::open(&repo.join(".parc-cache"), &snapshots, |_| true, false).dir;
    let cache = cache::ParseCache::open(&dir, cache::Mode::ReadOnly);
    let history_file = dir.join("history.json");
    let history = source::git::HistoryCache { file: &history_file, read: true, write: false };
    // Never told to stop: every host of the working tree is done ahead.
    let never = std::sync::atomic::AtomicBool::new(false);
    let (found, (mut ahead, cut)) =
        source::discover(&snapshots, None, source::Layout::Snapshots, max, history, |tree, _| {
            // And with a budget of one byte: spent by the first host with something new.
            (
                assemble::ahead(tree, &cache, max, &never, assemble::AHEAD_BYTES),
                assemble::ahead(tree, &cache, max, &never, 1),
            )
        })
        .unwrap();
    let in_tree = std::fs::read_dir(&snapshots).unwrap().count();
    assert!(in_tree >= 2);
    assert_eq!(ahead.len(), in_tree, "every host of the working tree");
    let parsing =
        |done: &std::collections::HashMap<String, assemble::Ahead>| done.values().filter(|a| a.parsed() > 0).count();
    assert!(parsing(&ahead) >= 2, "the new day is in several hosts");
    assert_eq!(parsing(&cut), 1, "once the budget is spent, nothing more is parsed ahead");
    let mut git_repo = parse::Repo::new(found.repository.as_deref());
    let mut parsed_ahead = 0;
    let part = |built: &assemble::Built| {
        let part = built.part.as_ref().unwrap();
        (serde_json::to_string(&part.host).unwrap(), serde_json::to_string(&part.disks).unwrap())
    };
    for (host, candidates) in found.hosts {
        let Some(ahead) = ahead.remove(&host) else { continue };
        let on_its_turn =
            assemble::host(&host, candidates.clone(), &cache, &mut git_repo, max, None, Default::default());
        // What a host's turn parses is the new day, which the working tree
        // holds (a host that collected twice has one more, from the history).
        assert!(ahead.parsed() <= on_its_turn.parsed, "{host}");
        assert_eq!(ahead.parsed() > 0, on_its_turn.parsed > 0, "{host}");
        parsed_ahead += ahead.parsed();
        // Gone from the working tree: only what was parsed ahead can stand for them.
        for file in files(&snapshots.join(&host)) {
            std::fs::remove_file(snapshots.join(&host).join(file)).unwrap();
        }
        let from_ahead = assemble::host(&host, candidates, &cache, &mut git_repo, max, Some(ahead), Default::default());
        assert!(from_ahead.problems.is_empty(), "{host}: {:?}", from_ahead.problems);
        assert_eq!(on_its_turn.problems, from_ahead.problems, "{host}");
        assert_eq!((from_ahead.parsed, from_ahead.versions), (on_its_turn.parsed, on_its_turn.versions), "{host}");
        assert_eq!(part(&from_ahead), part(&on_its_turn), "{host}");
    }
    assert!(ahead.is_empty());
    assert!(parsed_ahead >= 2, "the new day was parsed ahead");
}

/// `snapshots`, `./snapshots` and `snapshots/` are one folder: a build or a
/// plan that spells it otherwise reads every host from the cache.
#[test]
fn the_cache_does_not_depend_on_how_the_folder_is_spelled() {
    let tmp = tempfile::tempdir().unwrap();
    parc().args(["demo", "--hosts", "4", "--days", "3", "--out"]).arg(tmp.path().join("snapshots")).assert().success();
    let build = |snapshots: &str, out: &str| {
        let run =
            parc().current_dir(tmp.path()).args(["build", "--snapshots", snapshots, "--out", out]).assert().success();
        String::from_utf8_lossy(&run.get_output().stderr).into_owned()
    };
    let first = build("snapshots", "site-a");
    assert!(first.contains(" 0 reused)"), "{first}");
    for spelled in ["./snapshots", "snapshots/", "./snapshots/."] {
        let again = build(spelled, "site-b");
        assert!(again.contains("(0 parsed,"), "{spelled}: {again}");
    }
}

/// Two fleets built from one place keep a cache each; a cache another
/// repository left at the same path (a CI cache restored under another
/// project's key) is set aside, and the site is a build from scratch's.
#[test]
fn a_cache_of_another_repository_is_set_aside_and_the_site_is_the_same() {
    let mut ours = Fleet::new();
    ours.commit_days(3, None);
    let mut theirs = Fleet::new();
    theirs.commit_days(2, None);
    let base = tempfile::tempdir().unwrap();
    for (fleet, site) in [(&ours, "a"), (&theirs, "b")] {
        build_cmd(&fleet.snapshots(), &base.path().join(site), &[]).current_dir(base.path()).assert().success();
    }
    let sources: Vec<PathBuf> =
        files(&base.path().join(".parc-cache")).into_iter().filter(|f| f.ends_with("source.json")).collect();
    assert_eq!(sources.len(), 2, "one cache per snapshots folder: {sources:?}");

    // Our cache, their repository at our path.
    ours.assert_incremental_equals_fresh("our own cache");
    for part in [".git", "snapshots"] {
        std::fs::remove_dir_all(ours.repo().join(part)).unwrap();
        std::process::Command::new("cp").arg("-a").arg(theirs.repo().join(part)).arg(ours.repo()).status().unwrap();
    }
    ours.assert_incremental_equals_fresh("another repository's cache");
    let aside: Vec<_> = std::fs::read_dir(ours.repo().join(".parc-cache"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".foreign"))
        .collect();
    assert_eq!(aside.len(), 1, "set aside, not read");
    ours.assert_incremental_equals_fresh("the cache it made since is its own");
}

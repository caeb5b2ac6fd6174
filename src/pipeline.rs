//! `parc build`: the stages in a row, each timed.
//!
//!   1 load     parc.toml, templates, content
//!   2 discover every version of every snapshot (working tree, git history)
//!   3 parse    in parallel, once per content (cache by content hash)
//!   4 assemble the versioned data tree
//!   5 derive   verdicts, moves, backup-needed homes, summary
//!   6 render   HTML, JSON API, Markdown pages, static files

use crate::cache::{self, ParseCache};
use crate::config::Config;
use crate::problem::Problem;
use crate::render::output::{Output, MARKER};
use crate::{assemble, derive, fleet, render, source};
use anyhow::Result;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant as Clock;

pub struct BuildOptions {
    pub snapshots: PathBuf,
    pub out: PathBuf,
    /// Folder that `templates/`, `content/` and `static/` are relative to.
    pub base: PathBuf,
    pub use_cache: bool,
}

/// What a build did, for the summary line and the benchmark.
#[derive(Debug, Default)]
pub struct BuildReport {
    pub hosts: usize,
    pub disks: usize,
    /// Snapshot files and blobs found (one version may be in several).
    pub candidates: usize,
    /// Distinct versions built from.
    pub versions: usize,
    pub parsed: usize,
    pub pages: usize,
    pub unchanged: usize,
    pub problems: Vec<Problem>,
    /// Nothing changed since the last build: nothing was done.
    pub skipped: bool,
    pub seconds: f64,
}

fn timed<T>(stage: &str, f: impl FnOnce() -> T) -> T {
    let start = Clock::now();
    let value = f();
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    match peak_mib() {
        Some(peak) => tracing::info!("{stage} took {ms:.1} ms (peak memory so far {peak} MiB)"),
        None => tracing::info!("{stage} took {ms:.1} ms"),
    }
    value
}

/// The process's peak resident memory, where Linux says it: which stage
/// made a build's peak.
fn peak_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    Some(line.trim().trim_end_matches("kB").trim().parse::<u64>().ok()? / 1024)
}

/// The build's clock, when it watches it (`build.now = "clock"`).
fn clock(config: &Config) -> Option<crate::time::Instant> {
    (config.build.now == crate::config::NowMode::Clock)
        .then(|| crate::time::Instant(jiff::Timestamp::now().as_second()))
}

/// Stage 7: the plan as of the newest snapshot (so that the same inputs give
/// the same site) — the archive runs and the APT updates — shown on the
/// archives and updates pages. It changes nothing: `parc plan` writes the
/// plan that `parc apply` carries out.
fn plan(
    config: &Config,
    options: &BuildOptions,
    fleet: &fleet::Fleet,
    derived: &derive::Derived,
) -> Option<crate::plan::Plan> {
    if config.archive.is_empty() && config.update.is_empty() {
        return None;
    }
    let now = jiff::Timestamp::from_second(fleet.newest.map_or(0, |n| n.0)).ok()?.to_zoned(jiff::tz::TimeZone::UTC);
    let mut plan = match crate::plan::make(&config.archive, &options.snapshots, &now, crate::plan::Reach::Never) {
        Ok(plan) => plan,
        Err(e) => {
            tracing::warn!("cannot plan the archive jobs: {e:#}");
            return None;
        }
    };
    plan.updates = crate::plan::update::plans(config, fleet, &derived.apt, &options.snapshots, &now);
    Some(plan)
}

pub fn build(config: &Config, options: &BuildOptions) -> Result<BuildReport> {
    build_once(config, options, true)
}

/// A build; `again` when a cache found damaged half-way may have it run once more.
fn build_once(config: &Config, options: &BuildOptions, again: bool) -> Result<BuildReport> {
    let start = Clock::now();
    let sources = sources(config, &options.snapshots, &options.base);
    let mode = if options.use_cache { cache::Mode::ReadWrite } else { cache::Mode::WriteOnly };
    let caches: Vec<(cache::SourceCache, ParseCache)> = (sources.iter())
        .map(|s| {
            let source_cache = source_cache(config, &options.base, &s.dir, true);
            let parse_cache = ParseCache::open(&source_cache.dir, mode);
            (source_cache, parse_cache)
        })
        .collect();
    let max_bytes = config.build.max_snapshot_bytes;
    // Templates are parsed while the snapshots are found: neither needs the other.
    let (inputs, found) = rayon::join(
        || timed("loading templates and content", || render::Inputs::load(config, &options.base)),
        || {
            timed("discovering snapshots", || {
                (sources.iter().zip(&caches))
                    .map(|(s, (source_cache, parse_cache))| {
                        let history_file = source_cache.dir.join("history.json");
                        let history =
                            source::git::HistoryCache { file: &history_file, read: options.use_cache, write: true };
                        source::discover(&s.dir, s.name.as_deref(), s.layout, max_bytes, history, |tree, walked| {
                            assemble::ahead(tree, parse_cache, max_bytes, walked, assemble::AHEAD_BYTES)
                        })
                        .map_err(|e| s.failed(e))
                    })
                    .collect::<Result<Vec<_>>>()
            })
        },
    );
    let (inputs, found) = (inputs?, found?);

    let fingerprint =
        timed("fingerprinting the inputs", || fingerprint(config, options, found.iter().map(|(f, _)| f)))?;
    let marker = options.out.join(MARKER);
    let db_missing = config.build.sqlite.as_ref().is_some_and(|db| !options.base.join(db).exists());
    if options.use_cache && !db_missing && std::fs::read_to_string(&marker).is_ok_and(|m| m.trim() == fingerprint) {
        tracing::info!("nothing changed since the last build of {}", options.out.display());
        let problems = read_problems(&options.out);
        return Ok(BuildReport {
            skipped: true,
            problems,
            seconds: start.elapsed().as_secs_f64(),
            ..BuildReport::default()
        });
    }

    let candidates = found.iter().map(|(f, _)| f.versions()).sum();
    for ((source_cache, _), (f, _)) in caches.iter().zip(&found) {
        if let Err(e) = source_cache.claim(f.head.map(|h| h.to_string())) {
            tracing::warn!("cannot write {}: {e}", source_cache.dir.display());
        }
    }
    let assembled = timed("parsing and assembling", || {
        let mut all = Assembled::default();
        for ((found, ahead), (_, parse_cache)) in found.into_iter().zip(&caches) {
            all.add(assemble_all(found, ahead, parse_cache, config));
        }
        all
    });
    for (_, parse_cache) in &caches {
        if let Err(e) = timed("saving the file cache", || parse_cache.save_files()) {
            tracing::warn!("cannot write the file cache: {e}");
        }
    }
    let source_cache = &caches[0].0;
    let Assembled { parts: host_parts, problems, parsed, used } = assembled;
    // What people did (silences, escalations sent) and the output folder
    // with its memo are read while the data tree is merged and judged.
    let ((fleet, derived, plan), beside) = rayon::join(
        || {
            let mut fleet = timed("merging hosts", || fleet::merge(host_parts, used, problems));
            fleet.clock = clock(config);
            let derived = timed("deriving", || derive::derive(&fleet, config));
            let plan = timed("planning", || plan(config, options, &fleet, &derived));
            (fleet, derived, plan)
        },
        || -> Result<_> {
            let (silences, sent) = people(&options.snapshots);
            let listing = render::output::Listing { dir: &source_cache.dir, read: options.use_cache };
            let out = timed("reading the output folder", || Output::open(&options.out, Some(listing)))?;
            // Per output folder: a page is kept only where it was written.
            let memo_file = source_cache.dir.join(format!("pages-{}.json", out.id));
            // A build stopped half-way may have left a page half-written that the
            // memo still takes for whole: its memo is not trusted.
            let reuse = options.use_cache && out.previous_finished;
            let memo = render::memo::RenderMemo::open(&memo_file, render_salt(config, options), reuse);
            Ok((silences, sent, out, memo_file, memo))
        },
    );
    let (mut silences, mut sent, out, memo_file, memo) = beside?;
    let (mut fleet, mut derived, mut plan) = (fleet, derived, plan);
    if config.site.redact {
        timed("redacting", || crate::redact::redact(&mut fleet, &mut derived, plan.as_mut(), &mut silences, &mut sent));
    }
    let site = timed("preparing views", || {
        render::Site::new(
            &fleet,
            &derived,
            config,
            &inputs,
            &memo,
            render::People { plan: plan.as_ref(), silences: &silences, sent: &sent },
        )
    });
    let static_dir = options.base.join(&config.build.static_dir);
    let renderers: [&dyn render::Renderer; 3] = [&render::Html, &render::JsonApi, &render::StaticFiles(&static_dir)];
    // Side by side: each renderer's sequential parts (the lists) fill the
    // cores the other leaves idle.
    renderers.par_iter().try_for_each(|renderer| timed(renderer.name(), || renderer.render(&site, &out)))?;
    // A month aside that could not be read is missing from what was just
    // written, and the memo would keep those pages: the hosts it belongs to
    // had their cache removed, so the build runs again, its memo not trusted.
    if again && caches.iter().any(|(_, parse_cache)| parse_cache.damaged()) {
        tracing::error!("the cache of {} was damaged: building again", source_cache.dir.display());
        drop(site);
        // What this pass holds is freed before the next: not two fleets at once.
        drop((fleet, derived, plan, silences, sent, memo, out));
        let _ = std::fs::remove_file(&memo_file);
        return build_once(config, options, false);
    }
    let (saved, removed) = rayon::join(
        || timed("saving the page memo", || memo.save()),
        || timed("removing files no longer made", || out.prune()),
    );
    if let Err(e) = saved {
        tracing::warn!("cannot write {}: {e}", memo_file.display());
    }
    let removed = removed?;
    if let Some(db) = &config.build.sqlite {
        let report = timed("exporting", || crate::export::sqlite(&site, &options.base.join(db)))?;
        tracing::info!("{}: {} rows, {} written", db.display(), report.rows(), report.added());
    }
    if removed > 0 {
        tracing::info!("removed {removed} files no longer produced");
    }
    out.finish(&fingerprint)?;

    let (hosts, disks, versions) = (fleet.hosts.len(), fleet.disks.len(), fleet.versions);
    let problems = std::mem::take(&mut fleet.problems);
    // The data tree is freed on the side: a fleet's worth of small values
    // takes tens of milliseconds to drop, and the build is done.
    std::thread::spawn(move || drop((fleet, derived)));
    Ok(BuildReport {
        hosts,
        disks,
        candidates,
        versions,
        parsed,
        pages: out.files.load(std::sync::atomic::Ordering::Relaxed),
        unchanged: out.unchanged.load(std::sync::atomic::Ordering::Relaxed),
        problems,
        skipped: false,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// What people did: the silences and the escalation steps sent. What cannot
/// be read is said, and taken as none.
fn people(snapshots: &Path) -> (crate::plan::silence::Silences, Vec<crate::plan::escalation::Sent>) {
    let silences = crate::plan::silence::read(snapshots).unwrap_or_else(|e| {
        tracing::warn!("{e:#}: no finding is silenced");
        Default::default()
    });
    let sent = (crate::plan::escalation::read_sent(snapshots).map(|(sent, _)| sent)).unwrap_or_else(|e| {
        tracing::warn!("{e:#}: no escalation step is known as sent");
        Vec::new()
    });
    (silences, sent)
}

/// `parc export --sqlite`: the data a build renders from, written as a
/// SQLite database at `db` instead of a site.
pub fn export(config: &Config, options: &BuildOptions, db: &Path) -> Result<crate::export::Report> {
    let (mut fleet, mut derived) = analyse(config, &options.snapshots, &options.base)?;
    let mut plan = plan(config, options, &fleet, &derived);
    let (mut silences, mut sent) = people(&options.snapshots);
    if config.site.redact {
        crate::redact::redact(&mut fleet, &mut derived, plan.as_mut(), &mut silences, &mut sent);
    }
    let inputs = render::Inputs::load(config, &options.base)?;
    let memo = render::memo::RenderMemo::open(Path::new(""), String::new(), false);
    let people = render::People { plan: plan.as_ref(), silences: &silences, sent: &sent };
    let site = render::Site::new(&fleet, &derived, config, &inputs, &memo, people);
    crate::export::sqlite(&site, db)
}

/// `parc check`: stages 2 and 3 alone. Every problem, and how many snapshot
/// files were read; nothing is written, the caches included.
/// What stages 3 and 4 made of every host.
#[derive(Default)]
struct Assembled {
    parts: Vec<fleet::HostPart>,
    /// Discovery's problems, then each host's.
    problems: Vec<Problem>,
    /// Versions parsed (not read from the cache), and versions used.
    parsed: usize,
    used: usize,
}

impl Assembled {
    /// Another source's hosts beside these.
    fn add(&mut self, other: Assembled) {
        self.parts.extend(other.parts);
        self.problems.extend(other.problems);
        self.parsed += other.parsed;
        self.used += other.used;
    }
}

/// One snapshots folder of the build, and its name when the site is built from several.
struct Source {
    name: Option<String>,
    dir: PathBuf,
    layout: source::Layout,
}

impl Source {
    /// A source that cannot be read stops the build, naming it: never an empty fleet.
    fn failed(&self, e: anyhow::Error) -> anyhow::Error {
        match &self.name {
            Some(name) => e.context(format!("source {name} ({})", self.dir.display())),
            None => e,
        }
    }
}

/// `[[build.source]]` (paths from the configuration's folder), else `snapshots` alone.
fn sources(config: &Config, snapshots: &Path, base: &Path) -> Vec<Source> {
    if config.build.sources.is_empty() {
        return vec![Source { name: None, dir: snapshots.to_path_buf(), layout: source::Layout::Snapshots }];
    }
    let layout = |format| match format {
        crate::config::SourceFormat::Parc => source::Layout::Snapshots,
        crate::config::SourceFormat::AnsibleFacts => source::Layout::AnsibleFacts,
    };
    (config.build.sources.iter())
        .map(|s| Source { name: Some(s.name.clone()), dir: base.join(&s.path), layout: layout(s.format) })
        .collect()
}

/// Stages 3 and 4 for every host, side by side, from what was done `ahead`.
fn assemble_all(
    found: source::Discovery,
    mut ahead: HashMap<String, assemble::Ahead>,
    cache: &ParseCache,
    config: &Config,
) -> Assembled {
    let repo = found.repository.clone();
    let (walked, unlisted) = (found.walked.clone(), found.unlisted);
    let history = assemble::History { walked: walked.as_ref(), unlisted: unlisted.as_ref() };
    let hosts: Vec<_> = found.hosts.into_iter().map(|(host, c)| (ahead.remove(&host), host, c)).collect();
    let built: Vec<_> = hosts
        .into_par_iter()
        .map_init(
            || crate::parse::Repo::new(repo.as_deref()),
            |repo, (ahead, host, candidates)| {
                assemble::host(&host, candidates, cache, repo, config.build.max_snapshot_bytes, ahead, history)
            },
        )
        .collect();
    let mut out = Assembled { parts: Vec::with_capacity(built.len()), problems: found.problems, parsed: 0, used: 0 };
    for b in built {
        out.parts.extend(b.part);
        out.problems.extend(b.problems);
        out.parsed += b.parsed;
        out.used += b.versions;
    }
    out
}

/// The data tree and what it means, as a build would make them, without
/// rendering and without writing any cache: what `parc plan` decides from.
pub fn analyse(config: &Config, snapshots: &Path, base: &Path) -> Result<(fleet::Fleet, derive::Derived)> {
    let mut all = Assembled::default();
    for (found, cache) in read_only(config, snapshots, base)? {
        all.add(assemble_all(found, HashMap::new(), &cache, config));
    }
    let Assembled { parts, problems, used, .. } = all;
    let mut fleet = fleet::merge(parts, used, problems);
    fleet.clock = clock(config);
    let derived = derive::derive(&fleet, config);
    Ok((fleet, derived))
}

pub fn check(config: &Config, snapshots: &Path, base: &Path) -> Result<(usize, Vec<Problem>)> {
    let (mut candidates, mut problems) = (0, Vec::new());
    for (found, cache) in read_only(config, snapshots, base)? {
        candidates += found.versions();
        let repo = found.repository.clone();
        problems.extend(found.problems);
        problems.par_extend(
            found
                .hosts
                .into_par_iter()
                .map_init(
                    || crate::parse::Repo::new(repo.as_deref()),
                    |repo, (host, c)| {
                        assemble::host(
                            &host,
                            c,
                            &cache,
                            repo,
                            config.build.max_snapshot_bytes,
                            None,
                            Default::default(),
                        )
                        .problems
                    },
                )
                .flatten_iter(),
        );
    }
    problems.sort();
    problems.dedup();
    Ok((candidates, problems))
}

/// Everything the output depends on: parc's version, the config, every
/// snapshot file's path, length and mtime, the git HEAD, and the templates,
/// content and static files. Equal fingerprints mean an equal site.
fn fingerprint<'a>(
    config: &Config,
    options: &BuildOptions,
    sources: impl Iterator<Item = &'a source::Discovery>,
) -> Result<String> {
    let mut hash = Sha256::new();
    hash.update(crate::build_id());
    hash.update(toml::to_string(config)?);
    hash.update(options.snapshots.to_string_lossy().as_bytes());
    // A build that watches the clock says something new as time passes.
    if let Some(clock) = clock(config) {
        hash.update(clock.0.to_le_bytes());
    }
    for found in sources {
        hash.update(found.source.as_deref().unwrap_or_default());
        if let Some(head) = found.head {
            hash.update(head.as_bytes());
        }
        for candidates in found.hosts.values() {
            for c in candidates {
                if let source::Origin::File { path, len, mtime_ns, .. } = &c.origin {
                    hash.update(path.to_string_lossy().as_bytes());
                    hash.update(len.to_le_bytes());
                    hash.update(mtime_ns.to_le_bytes());
                }
            }
        }
        for p in &found.problems {
            hash.update(p.to_string());
        }
    }
    // Silences change what the site says without being snapshots.
    if let Ok(bytes) = std::fs::read(crate::plan::silence::path(&options.snapshots)) {
        hash.update(bytes);
    }
    for dir in [&config.build.templates, &config.build.content, &config.build.static_dir] {
        hash_files(&mut hash, &options.base.join(dir));
    }
    Ok(format!("{:x}", hash.finalize()))
}

/// The cache of the snapshots folder (`cache::SourceCache`); a build sets
/// aside one that another repository left.
fn source_cache(config: &Config, base: &Path, snapshots: &Path, set_aside: bool) -> cache::SourceCache {
    let root = base.join(&config.build.cache_dir);
    cache::SourceCache::open(&root, snapshots, |head| source::git::has_commit(snapshots, head), set_aside)
}

/// Discovery and the parse cache for a command that writes no cache (plan,
/// check, export): a cache of another repository is not read.
fn read_only(config: &Config, snapshots: &Path, base: &Path) -> Result<Vec<(source::Discovery, ParseCache)>> {
    (sources(config, snapshots, base).iter())
        .map(|s| {
            let source_cache = source_cache(config, base, &s.dir, false);
            let history_file = source_cache.dir.join("history.json");
            let history = source::git::HistoryCache { file: &history_file, read: source_cache.readable, write: false };
            let max = config.build.max_snapshot_bytes;
            let (found, ()) = source::discover(&s.dir, s.name.as_deref(), s.layout, max, history, |_, _| ())
                .map_err(|e| s.failed(e))?;
            let mode = if source_cache.readable { cache::Mode::ReadOnly } else { cache::Mode::Off };
            Ok((found, ParseCache::open(&source_cache.dir, mode)))
        })
        .collect()
}

/// Every file under `dir` (none when it does not exist), path and bytes, in a stable order.
fn hash_files(hash: &mut Sha256, dir: &Path) {
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name().into_iter().flatten() {
        if entry.file_type().is_file() {
            hash.update(entry.path().to_string_lossy().as_bytes());
            hash.update(std::fs::read(entry.path()).unwrap_or_default());
        }
    }
}

/// What shapes a page besides its context: parc's version (and so the
/// built-in templates) and the site's own templates.
fn render_salt(config: &Config, options: &BuildOptions) -> String {
    let mut hash = Sha256::new();
    hash.update(crate::build_id());
    hash_files(&mut hash, &options.base.join(&config.build.templates));
    format!("{:x}", hash.finalize())
}

/// The problems of the previous build, for a build that changed nothing.
fn read_problems(out: &Path) -> Vec<Problem> {
    #[derive(serde::Deserialize)]
    struct Stored {
        path: String,
        cause: String,
    }
    let bytes = std::fs::read(out.join("api/v1/problems.json")).unwrap_or_default();
    let stored: Vec<Stored> = serde_json::from_slice(&bytes).unwrap_or_default();
    stored.into_iter().map(|p| Problem::new(p.path, p.cause)).collect()
}

/// The notifications due at `now`, from the findings of the snapshots.
pub fn plan_notifications(
    config: &Config,
    derived: &derive::Derived,
    snapshots: &Path,
    base: &Path,
    now: crate::time::Instant,
) -> Result<(Vec<crate::plan::escalation::Notification>, String)> {
    let tera = crate::render::templates::load(&base.join(&config.build.templates), config.site.language)?;
    let findings: Vec<_> =
        derived.findings.iter().map(|f| (f.clone(), crate::render::findings::text(&tera, "finding.txt", f))).collect();
    let (sent, _) = crate::plan::escalation::read_sent(snapshots)?;
    let silences = crate::plan::silence::read(snapshots)?;
    Ok((
        crate::plan::escalation::plan(&config.escalation, &findings, &sent, &silences, now),
        crate::plan::escalation::inputs(snapshots)?,
    ))
}

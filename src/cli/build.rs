//! `parc build` and `parc check`.

use super::exit;
use crate::config::Config;
use crate::pipeline::{self, BuildOptions};
use anyhow::Result;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct BuildArgs {
    /// Snapshots folder, one sub-folder per host [default: build.snapshots, "snapshots"].
    #[arg(long, value_name = "DIR")]
    pub snapshots: Option<PathBuf>,
    /// Output folder [default: build.out, "site"].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Exit with status 3 when any snapshot had a problem.
    #[arg(long)]
    pub strict: bool,
    /// Ignore the caches and the no-change check: build from scratch.
    #[arg(long)]
    pub no_cache: bool,
    /// "Now" of the findings: newest (the newest snapshot: the same inputs, the same site)
    /// or clock (this build's clock: a fleet gone silent is late) [default: build.now, newest].
    #[arg(long, value_name = "WHEN")]
    pub now: Option<crate::config::NowMode>,
}

#[derive(Args)]
pub struct CheckArgs {
    /// Snapshots folder [default: build.snapshots, "snapshots"].
    #[arg(long, value_name = "DIR")]
    pub snapshots: Option<PathBuf>,
}

#[derive(Args)]
pub struct ExportArgs {
    /// The database to write: made, or brought up to date (a new day appends).
    #[arg(long, value_name = "FILE")]
    pub sqlite: PathBuf,
    /// Snapshots folder [default: build.snapshots, "snapshots"].
    #[arg(long, value_name = "DIR")]
    pub snapshots: Option<PathBuf>,
}

/// The folder relative paths in the config are taken from: the config file's.
pub fn base_of(config_path: &Path) -> PathBuf {
    match config_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

pub fn build(args: BuildArgs, config: &Config, config_path: &Path, quiet: bool) -> Result<u8> {
    let base = base_of(config_path);
    let options = BuildOptions {
        snapshots: args.snapshots.unwrap_or_else(|| base.join(&config.build.snapshots)),
        out: args.out.unwrap_or_else(|| base.join(&config.build.out)),
        base,
        use_cache: !args.no_cache,
    };
    let mut config = config.clone();
    if let Some(now) = args.now {
        config.build.now = now;
    }
    let report = pipeline::build(&config, &options)?;
    for problem in &report.problems {
        eprintln!("problem: {problem}");
    }
    if !quiet {
        if report.skipped {
            eprintln!("nothing changed: {} is up to date ({:.3} s)", options.out.display(), report.seconds);
        } else {
            use crate::words::count;
            eprintln!(
                "built {}, {} from {} in {} ({} parsed, {} reused) into {}: {} ({} unchanged), {}, {:.3} s",
                count(report.hosts, "host", "hosts"),
                count(report.disks, "disk", "disks"),
                count(report.versions, "version", "versions"),
                count(report.candidates, "file", "files"),
                report.parsed,
                report.candidates.saturating_sub(report.parsed),
                options.out.display(),
                count(report.pages, "file", "files"),
                report.unchanged,
                count(report.problems.len(), "problem", "problems"),
                report.seconds
            );
        }
    }
    Ok(if args.strict && !report.problems.is_empty() { exit::PROBLEMS } else { exit::OK })
}

pub fn check(args: CheckArgs, config: &Config, config_path: &Path) -> Result<u8> {
    let base = base_of(config_path);
    let snapshots = args.snapshots.unwrap_or_else(|| base.join(&config.build.snapshots));
    let (versions, problems) = pipeline::check(config, &snapshots, &base)?;
    for problem in &problems {
        super::print(&format!("{problem}\n"))?;
    }
    use crate::words::count;
    eprintln!("{} checked, {}", count(versions, "version", "versions"), count(problems.len(), "problem", "problems"));
    Ok(if problems.is_empty() { exit::OK } else { exit::PROBLEMS })
}

pub fn export(args: ExportArgs, config: &Config, config_path: &Path, quiet: bool) -> Result<u8> {
    let base = base_of(config_path);
    let options = BuildOptions {
        snapshots: args.snapshots.unwrap_or_else(|| base.join(&config.build.snapshots)),
        out: base.join(&config.build.out),
        base,
        use_cache: true,
    };
    let start = std::time::Instant::now();
    let report = pipeline::export(config, &options, &args.sqlite)?;
    if !quiet {
        use crate::words::count;
        eprintln!(
            "exported {} in {} tables into {} ({} written), {:.3} s",
            count(report.rows(), "row", "rows"),
            report.tables.len(),
            args.sqlite.display(),
            report.added(),
            start.elapsed().as_secs_f64()
        );
    }
    Ok(exit::OK)
}

/// The benchmark's baseline: the cost of merely reading and parsing the
/// bytes — every `.json` file under DIR, or with `--git`, every blob of the
/// repository that holds DIR (its whole history), as untyped JSON.
pub fn read_json(dir: &Path, git: bool) -> Result<u8> {
    use rayon::prelude::*;
    let start = std::time::Instant::now();
    let untyped = |data: &[u8]| {
        let _: serde_json::Value = serde_json::from_slice(data).unwrap_or(serde_json::Value::Null);
        data.len() as u64
    };
    let (count, bytes) = if git {
        let repo = git2::Repository::discover(dir)?;
        let mut blobs = Vec::new();
        repo.odb()?.foreach(|oid| {
            blobs.push(*oid);
            true
        })?;
        let path = repo.path().to_path_buf();
        let sizes: Vec<u64> = blobs
            .par_chunks(512)
            .map_init(
                || git2::Repository::open(&path).ok(),
                |repo, chunk| {
                    let Some(repo) = repo else { return Vec::new() };
                    chunk.iter().filter_map(|oid| repo.find_blob(*oid).ok()).map(|b| untyped(b.content())).collect()
                },
            )
            .flatten()
            .collect();
        (sizes.len(), sizes.iter().sum())
    } else {
        let files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
            .into_iter()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "json"))
            .map(|e| e.into_path())
            .collect();
        let bytes: u64 = files.par_iter().map(|p| untyped(&std::fs::read(p).unwrap_or_default())).sum();
        (files.len(), bytes)
    };
    super::print(&format!("read-json files={count} bytes={bytes} seconds={:.3}\n", start.elapsed().as_secs_f64()))?;
    Ok(exit::OK)
}

//! `parc silence`: acknowledge a finding until a date, list, remove.

use super::exit;
use crate::config::Config;
use crate::plan::silence;
use anyhow::{bail, Result};
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct SilenceArgs {
    /// The finding's id, as the findings page and `api/v1/findings.json` show it.
    #[arg(required_unless_present_any = ["list", "remove"], conflicts_with_all = ["list", "remove"])]
    pub id: Option<String>,
    /// The last day the silence holds (YYYY-MM-DD, today or later).
    #[arg(long, value_name = "DATE", requires = "id", required_unless_present_any = ["list", "remove"])]
    pub until: Option<String>,
    /// Why (shown on the site beside the finding).
    #[arg(long, value_name = "TEXT", requires = "id", required_unless_present_any = ["list", "remove"])]
    pub reason: Option<String>,
    /// Silence an id that names no finding of the snapshots, open or closed (one expected soon).
    #[arg(long, requires = "id")]
    pub force: bool,
    /// Print every silence.
    #[arg(long)]
    pub list: bool,
    /// Remove the silence of this finding.
    #[arg(long, value_name = "ID", conflicts_with = "list")]
    pub remove: Option<String>,
    /// Snapshots folder, where `silences.toml` is [default: build.snapshots, "snapshots"].
    #[arg(long, value_name = "DIR")]
    pub snapshots: Option<PathBuf>,
}

pub fn silence(args: SilenceArgs, config: &Config, config_path: &Path) -> Result<u8> {
    let base = super::build::base_of(config_path);
    let snapshots = args.snapshots.unwrap_or_else(|| base.join(&config.build.snapshots));
    crate::snapshot::check_folder(&snapshots)?;
    if args.list {
        let all = silence::read(&snapshots)?;
        let mut text = String::new();
        for s in &all.silences {
            text.push_str(&format!("{}  until {}  by {}  ({}): {}\n", s.id, s.until, s.by, s.at, s.reason));
        }
        super::print(&text)?;
        return Ok(exit::OK);
    }
    if let Some(id) = &args.remove {
        if !silence::remove(&snapshots, id)? {
            bail!("no silence of {id} in {}", silence::path(&snapshots).display());
        }
        eprintln!("removed the silence of {id} from {}", silence::path(&snapshots).display());
        return Ok(exit::OK);
    }
    let (Some(id), Some(until), Some(reason)) = (args.id, args.until, args.reason) else {
        bail!("a silence needs the finding's id, --until DATE and --reason TEXT");
    };
    if !args.force {
        let (_, derived) = crate::pipeline::analyse(config, &snapshots, &base)?;
        let known = derived.findings.iter().chain(derived.closed.iter().map(|c| &c.finding)).any(|f| f.id == id);
        if !known {
            bail!(
                "no finding {id} in {}, open or closed in the last {} days (parc findings lists them); --force silences it anyway",
                snapshots.display(),
                config.findings.closed_days
            );
        }
    }
    let now = jiff::Timestamp::now();
    let replaced = silence::read(&snapshots)?.silences.into_iter().find(|s| s.id == id);
    let s = silence::add(&snapshots, &id, &until, &reason, &now)?;
    if let Some(old) = replaced {
        eprintln!("replaced the silence of {id} until {} by {} ({}): {}", old.until, old.by, old.at, old.reason);
    }
    eprintln!(
        "{id} silenced until {} by {}; commit and push {} like the snapshots",
        s.until,
        s.by,
        silence::path(&snapshots).display()
    );
    Ok(exit::OK)
}

#[derive(Args)]
pub struct FindingsArgs {
    /// Only findings of this kind (repeatable), e.g. smart-failing.
    #[arg(long, value_name = "KIND")]
    pub kind: Vec<String>,
    /// Only findings of this host (repeatable; globs: pve*).
    #[arg(long, value_name = "HOST")]
    pub host: Vec<String>,
    /// Print JSON: the findings.json of the site, one object each.
    #[arg(long)]
    pub json: bool,
    /// Snapshots folder [default: build.snapshots, "snapshots"].
    #[arg(long, value_name = "DIR")]
    pub snapshots: Option<PathBuf>,
}

/// One finding as `parc findings --json` prints it.
#[derive(serde::Serialize)]
struct Listed<'a> {
    id: &'a str,
    host: &'a str,
    kind: crate::derive::findings::Kind,
    severity: crate::derive::findings::Severity,
    since: crate::time::Instant,
    text: String,
    evidence: &'a [crate::derive::findings::Evidence],
    silenced: Option<&'a silence::Silence>,
}

/// `parc findings`: the open findings as of the snapshots, as the findings page lists them.
pub fn findings(args: FindingsArgs, config: &Config, config_path: &Path) -> Result<u8> {
    let base = super::build::base_of(config_path);
    let snapshots = args.snapshots.clone().unwrap_or_else(|| base.join(&config.build.snapshots));
    crate::snapshot::check_folder(&snapshots)?;
    for kind in &args.kind {
        if !crate::derive::findings::Kind::ALL.iter().any(|k| k.as_str() == kind) {
            let known: Vec<&str> = crate::derive::findings::Kind::ALL.iter().map(|k| k.as_str()).collect();
            bail!("no finding kind {kind:?} (known: {})", known.join(", "));
        }
    }
    let hosts: Vec<globset::GlobMatcher> = (args.host.iter())
        .map(|h| globset::Glob::new(h).map(|g| g.compile_matcher()))
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("--host: {e}"))?;
    let (fleet, derived) = crate::pipeline::analyse(config, &snapshots, &base)?;
    let tera = crate::render::templates::load(&base.join(&config.build.templates), config.site.language)?;
    let silences = silence::read(&snapshots)?;
    let now = fleet.newest.unwrap_or(crate::time::Instant(0));
    let listed: Vec<Listed> = (derived.findings.iter())
        .filter(|f| args.kind.is_empty() || args.kind.iter().any(|k| k == f.kind.as_str()))
        .filter(|f| hosts.is_empty() || hosts.iter().any(|h| h.is_match(&f.host)))
        .map(|f| Listed {
            id: &f.id,
            host: &f.host,
            kind: f.kind,
            severity: f.severity,
            since: f.since,
            text: crate::render::findings::text(&tera, "finding.txt", f),
            evidence: &f.evidence,
            silenced: silences.silences.iter().find(|s| s.id == f.id && s.covers(f.since, now)),
        })
        .collect();
    if args.json {
        super::print(&(serde_json::to_string_pretty(&listed)? + "\n"))?;
        return Ok(exit::OK);
    }
    let mut text = String::new();
    for f in &listed {
        let severity = serde_json::to_value(f.severity)?.as_str().unwrap_or_default().to_uppercase();
        let silenced = f.silenced.map(|s| format!(" [silenced until {}]", s.until)).unwrap_or_default();
        text.push_str(&format!(
            "{severity:<8} {}  since {}  {}{silenced}\n  {}\n",
            f.host,
            f.since.date(),
            f.text,
            f.id
        ));
    }
    if listed.is_empty() {
        text.push_str("no open finding\n");
    }
    super::print(&text)?;
    Ok(exit::OK)
}

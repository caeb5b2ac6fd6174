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
    /// The last day the silence holds (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", requires = "id")]
    pub until: Option<String>,
    /// Why (shown on the site beside the finding).
    #[arg(long, value_name = "TEXT", requires = "id")]
    pub reason: Option<String>,
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
    let snapshots = args.snapshots.unwrap_or_else(|| super::build::base_of(config_path).join(&config.build.snapshots));
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
    let s = silence::add(&snapshots, &id, &until, &reason, &jiff::Timestamp::now())?;
    eprintln!(
        "{id} silenced until {} by {}; commit and push {} like the snapshots",
        s.until,
        s.by,
        silence::path(&snapshots).display()
    );
    Ok(exit::OK)
}

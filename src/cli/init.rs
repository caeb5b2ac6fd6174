//! `parc init` and `parc config`.

use super::exit;
use crate::config::Config;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct InitArgs {
    /// The folder of the new project [default: the current folder].
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// Write into a folder that is not empty, over files of the same names.
    #[arg(long)]
    pub force: bool,
    /// Then collect this machine, commit its snapshots and build the site.
    #[arg(long)]
    pub collect: bool,
}

pub fn init(args: InitArgs, quiet: bool) -> Result<u8> {
    let written = crate::init::init(&args.dir, args.force)?;
    if !quiet {
        eprintln!(
            "wrote {} into {} and committed them",
            crate::words::count(written.len(), "file", "files"),
            args.dir.display()
        );
    }
    if !args.collect {
        if !quiet {
            eprintln!("next: cd {} && parc collect --commit && parc serve", args.dir.display());
        }
        return Ok(exit::OK);
    }
    let config_path = args.dir.join("parc.toml");
    let config = Config::load(&config_path, true)?;
    let snapshots = args.dir.join(&config.build.snapshots);
    let outcome = crate::collect::collect_local(&snapshots, None, &config.collect.kinds, &config);
    if !quiet {
        eprint!("{}", crate::collect::summary_table(std::slice::from_ref(&outcome)));
    }
    let files: Vec<PathBuf> = outcome.files().cloned().collect();
    super::commit_and_push(&snapshots, &files, &format!("parc collect: {}", outcome.host), false, &config, quiet)?;
    let built = super::build::build(
        super::build::BuildArgs { snapshots: None, out: None, strict: false, no_cache: false, now: None },
        &config,
        &config_path,
        quiet,
    )?;
    eprintln!(
        "the site is in {}; parc serve answers on http://127.0.0.1:1111/",
        args.dir.join(&config.build.out).display()
    );
    Ok(if outcome.result.is_err() { exit::HOSTS_FAILED } else { built })
}

pub fn config(default: bool) -> Result<u8> {
    if !default {
        anyhow::bail!("give --default: parc config --default prints parc.toml with every key at its default");
    }
    super::print(crate::init::DEFAULT_CONFIG)?;
    Ok(exit::OK)
}

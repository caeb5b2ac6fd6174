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
    /// Ask about the fleet (each question has its default; Enter accepts it).
    #[arg(long)]
    pub interactive: bool,
    /// A host for pull mode, by name (repeatable; [[hosts]]).
    #[arg(long = "ssh-host", value_name = "NAME")]
    pub hosts: Vec<String>,
    /// The git remote the agents push to (the repository's origin).
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
    /// Mail findings to this address ([mail.ops] and an escalation rule).
    #[arg(long, value_name = "ADDRESS")]
    pub mail: Option<String>,
    /// An archive job: the zip's https:// URL (with --archive-expect and --archive-destination).
    #[arg(long, value_name = "URL", requires_all = ["archive_expect", "archive_destination"])]
    pub archive_url: Option<String>,
    /// The file the archive job's zip must hold.
    #[arg(long, value_name = "FILE")]
    pub archive_expect: Option<String>,
    /// Where the archive job's archives go: a folder, sftp://, webdavs:// or ftps://.
    #[arg(long, value_name = "DEST")]
    pub archive_destination: Option<String>,
}

/// Asks `question` on stderr; the answer read from stdin, or `default` for Enter.
fn ask(question: &str, default: &str) -> Result<String> {
    use std::io::BufRead;
    eprint!("{question} [{default}]: ");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let line = line.trim();
    Ok(if line.is_empty() { default.to_string() } else { line.to_string() })
}

fn answers(args: &InitArgs) -> Result<crate::init::Answers> {
    let mut answers = crate::init::Answers {
        hosts: args.hosts.clone(),
        remote: args.remote.clone(),
        mail: args.mail.clone(),
        archive: match (&args.archive_url, &args.archive_expect, &args.archive_destination) {
            (Some(u), Some(e), Some(d)) => Some((u.clone(), e.clone(), d.clone())),
            _ => None,
        },
    };
    if !args.interactive {
        return Ok(answers);
    }
    let none = |s: String| (s != "none").then_some(s);
    let hosts =
        ask("Hosts collected over SSH from here, comma-separated (none: agents push)", &answers.hosts.join(","))?;
    answers.hosts =
        hosts.split(',').map(str::trim).filter(|h| !h.is_empty() && *h != "none").map(String::from).collect();
    answers.remote = none(ask("The git remote agents push to", answers.remote.as_deref().unwrap_or("none"))?);
    answers.mail = none(ask("Mail findings to", answers.mail.as_deref().unwrap_or("none"))?);
    if let Some(url) = none(ask("An archive job's zip URL", "none")?) {
        let expect = ask("The file the zip holds", "dump.sql")?;
        let destination = ask("Where its archives go", "/srv/archives")?;
        answers.archive = Some((url, expect, destination));
    }
    Ok(answers)
}

pub fn init(args: InitArgs, quiet: bool) -> Result<u8> {
    let written = crate::init::init(&args.dir, args.force, &answers(&args)?)?;
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

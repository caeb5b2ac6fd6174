//! The command line: arguments only; the work is in the library modules.

pub mod archive;
pub mod build;
pub mod collect;
pub mod demo;
pub mod findings;
pub mod init;
pub mod serve;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Exit codes, documented in the README.
pub mod exit {
    /// Done, nothing to report.
    pub const OK: u8 = 0;
    /// An error stopped the command (bad config, unwritable output, …).
    pub const ERROR: u8 = 1;
    /// Wrong usage (unknown option, missing argument).
    pub const USAGE: u8 = 2;
    /// `--strict`: the build finished, but some input had problems.
    pub const PROBLEMS: u8 = 3;
    /// `collect`: at least one host failed (every other host was collected).
    pub const HOSTS_FAILED: u8 = 4;
    /// `apply`: an archive run failed (its log says which step and why).
    pub const RUN_FAILED: u8 = 5;
}

/// The exit codes, under `parc --help` as in the README.
const EXIT_CODES: &str = "\
Exit codes:
  0  done
  1  an error stopped the command (configuration, a folder, a template, a write)
  2  wrong usage (an unknown command or option, a missing argument)
  3  build --strict or check: finished, but some snapshot had a problem
  4  collect: at least one host failed (every other host was collected)
  5  apply: a run or an escalation step failed or was refused (its log says why)";

/// Wrong usage found after parsing (a value clap cannot judge): exit status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// Writes to stdout. A reader that went away (`parc check | head`) is not
/// an error: the rest is not written, and the command ends as it would have.
pub fn print(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// `--commit` and `--push`: `files` become a commit of the git repository
/// that holds `dir` (none when nothing changed); then, with `push`, the
/// branch goes to `git.remote`.
fn commit_and_push(
    dir: &std::path::Path,
    files: &[PathBuf],
    message: &str,
    push: bool,
    config: &crate::config::Config,
    quiet: bool,
) -> anyhow::Result<()> {
    use crate::collect::git;
    if !files.is_empty() {
        match git::commit(dir, files, message)? {
            Some(id) if !quiet => eprintln!("committed {id}: {message}"),
            None if !quiet => eprintln!("nothing changed: no commit"),
            _ => {}
        }
    }
    if push {
        let attempts = git::push(dir, &config.git.remote, config.git.push_retries, config.git.timeout())?;
        if !quiet {
            eprintln!("pushed to {} (attempt {attempts})", config.git.remote);
        }
    }
    Ok(())
}

/// parc: a static site and JSON API of your fleet's disks, built from
/// snapshots kept in git.
#[derive(Parser)]
#[command(name = "parc", version, about, long_about = None, max_term_width = 100, after_help = EXIT_CODES)]
pub struct Cli {
    /// Configuration file; defaults apply when the default file is missing.
    #[arg(long, global = true, value_name = "FILE", display_order = 1000)]
    pub config: Option<PathBuf>,

    /// Say more (-v: stage timings, -vv: debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, display_order = 1001)]
    pub verbose: u8,

    /// Say only errors and problems.
    #[arg(short, long, global = true, display_order = 1002)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Build the site and JSON API from every version of every snapshot.
    Build(build::BuildArgs),
    /// Read every snapshot and report every problem, without writing a site.
    Check(build::CheckArgs),
    /// Write the fleet as a SQLite database (and Datasette's metadata.json beside it).
    Export(build::ExportArgs),
    /// Write a new project: parc.toml, snapshots/, the agent's units, CI files; a git repository.
    Init(init::InitArgs),
    /// Print the configuration: --default prints parc.toml with every key at its default.
    Config {
        #[arg(long)]
        default: bool,
    },
    /// Build, serve the site on loopback, and build again when an input changes.
    Serve(serve::ServeArgs),
    /// Run the probe scripts on this machine or over SSH and write the snapshots.
    Collect(collect::CollectArgs),
    /// Print the probe script of a kind (system, disks, apt), or a root wrapper.
    #[command(
        override_usage = "parc probe-script <KIND>\n       parc probe-script --sudo-wrapper\n       parc probe-script --update-wrapper"
    )]
    ProbeScript {
        /// The kind: system, disks or apt.
        #[arg(required_unless_present_any = ["sudo_wrapper", "update_wrapper"], value_name = "KIND")]
        kind: Option<String>,
        /// Print instead `parc-root`, the root wrapper that the sudoers rule of ssh.sudo names.
        #[arg(long, conflicts_with_all = ["kind", "update_wrapper"])]
        sudo_wrapper: bool,
        /// Print instead `parc-update-root`, the root wrapper of APT updates (its own sudoers rule).
        #[arg(long, conflicts_with = "kind")]
        update_wrapper: bool,
    },
    /// Decide the archive runs, retention deletions, mails and APT updates due; change nothing.
    Plan(archive::PlanArgs),
    /// Carry out a plan: archive runs, escalation mails, APT updates.
    Apply(archive::ApplyArgs),
    /// List the open findings as of the snapshots (as the findings page does).
    Findings(findings::FindingsArgs),
    /// Acknowledge a finding until a date (silences.toml), list or remove silences.
    Silence(findings::SilenceArgs),
    /// Read archive names on stdin; print what a retention policy keeps and deletes.
    Retention(archive::RetentionArgs),
    /// Write a generated example fleet (deterministic) as dated snapshot files.
    Demo(demo::DemoArgs),
    /// Benchmark baseline: read every .json file under DIR (with --git, every
    /// blob of its repository) and parse it as untyped JSON.
    #[command(hide = true)]
    ReadJson {
        dir: PathBuf,
        #[arg(long)]
        git: bool,
    },
}

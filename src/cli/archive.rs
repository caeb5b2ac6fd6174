//! `parc retention`, `parc plan` and `parc apply`.

use super::exit;
use crate::action;
use crate::archive::run::Layout;
use crate::config::pattern::Pattern;
use crate::config::Config;
use crate::plan::{self, retention};
use anyhow::{Context, Result};
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct RetentionArgs {
    #[command(flatten)]
    pub policy: retention::Policy,
    /// The archive name pattern.
    #[arg(long, default_value = "%Y%m%d.tgz")]
    pub pattern: String,
    /// Print JSON: {"keep": [{"name", "reasons"}], "delete": [{"name", "reason"}], "ignored": [...]}.
    #[arg(long)]
    pub json: bool,
}

/// Reads archive names on stdin, prints what the policy keeps and deletes.
pub fn retention(args: RetentionArgs) -> Result<u8> {
    use std::io::BufRead;
    let pattern = Pattern::parse(&args.pattern)?;
    let policy = args.policy;
    let mut names = Vec::new();
    for line in std::io::stdin().lock().lines() {
        let line = line.context("cannot read names on stdin")?;
        let name = line.trim();
        if !name.is_empty() {
            names.push(name.to_string());
        }
    }
    let verdict = retention::apply(&policy, &pattern, &names);
    if args.json {
        super::print(&(serde_json::to_string_pretty(&verdict)? + "\n"))?;
        return Ok(exit::OK);
    }
    let mut text = format!("policy: {policy}\n");
    for k in &verdict.keep {
        text.push_str(&format!("keep    {}  ({})\n", k.name, k.reasons.join(", ")));
    }
    for d in &verdict.delete {
        text.push_str(&format!("delete  {}  ({})\n", d.name, d.reason));
    }
    for n in &verdict.ignored {
        text.push_str(&format!("ignore  {n}  (not made by the pattern {pattern}: never deleted)\n"));
    }
    super::print(&text)?;
    Ok(exit::OK)
}

#[derive(Args)]
pub struct PlanArgs {
    /// Snapshots folder [default: build.snapshots, "snapshots"].
    #[arg(long, value_name = "DIR")]
    pub snapshots: Option<PathBuf>,
    /// Where the plan goes ("-": stdout).
    #[arg(short, long, value_name = "FILE", default_value = "plan.json")]
    pub output: PathBuf,
    /// Plan as if it were this time (RFC 3339), to replay or test a schedule.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
}

#[derive(Args)]
pub struct ApplyArgs {
    /// The plan made by `parc plan`.
    pub plan: PathBuf,
    /// Snapshots folder, where run logs go [default: build.snapshots, "snapshots"].
    #[arg(long, value_name = "DIR")]
    pub snapshots: Option<PathBuf>,
    /// Print what would be done; do nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Run as if it were this time (RFC 3339): names the archive and dates the run.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// Commit the run logs and notify.json to the git repository that holds the snapshots folder.
    #[arg(long)]
    pub commit: bool,
    /// Commit, then push the current branch (fetch, replay on the remote branch, retry).
    #[arg(long)]
    pub push: bool,
    /// Only the updates of this host (repeatable); archive jobs and mails wait for another apply.
    #[arg(long, value_name = "NAME")]
    pub host: Vec<String>,
    /// Only the updates of this policy (repeatable); archive jobs and mails wait for another apply.
    #[arg(long, value_name = "NAME")]
    pub policy: Vec<String>,
}

/// `--host` and `--policy`: the plan's updates of those hosts and policies alone.
fn restrict(mut plan: plan::Plan, args: &ApplyArgs) -> Result<plan::Plan> {
    if args.host.is_empty() && args.policy.is_empty() {
        return Ok(plan);
    }
    for (names, of) in [(&args.host, "host"), (&args.policy, "policy")] {
        for name in names {
            let known = plan.updates.iter().any(|u| if of == "host" { &u.host == name } else { &u.policy == name });
            anyhow::ensure!(known, "the plan has no update of {of} {name}");
        }
    }
    plan.jobs.clear();
    plan.notifications.clear();
    plan.notify_inputs.clear();
    plan.updates.retain(|u| {
        (args.host.is_empty() || args.host.contains(&u.host))
            && (args.policy.is_empty() || args.policy.contains(&u.policy))
    });
    Ok(plan)
}

fn now(arg: Option<&str>) -> Result<jiff::Zoned> {
    match arg {
        None => Ok(jiff::Zoned::now()),
        Some(text) => {
            let ts: jiff::Timestamp =
                text.parse().with_context(|| format!("--now {text:?} is not an RFC 3339 time"))?;
            // The offset written decides the local date and time (the archive's name).
            let offset = jiff::fmt::temporal::Pieces::parse(text)
                .ok()
                .and_then(|p| match p.offset() {
                    Some(jiff::fmt::temporal::PiecesOffset::Numeric(n)) => Some(n.offset()),
                    _ => None,
                })
                .unwrap_or(jiff::tz::Offset::UTC);
            Ok(ts.to_zoned(jiff::tz::TimeZone::fixed(offset)))
        }
    }
}

fn snapshots_dir(arg: Option<PathBuf>, config: &Config, config_path: &Path) -> PathBuf {
    arg.unwrap_or_else(|| super::build::base_of(config_path).join(&config.build.snapshots))
}

pub fn plan(args: PlanArgs, config: &Config, config_path: &Path, quiet: bool) -> Result<u8> {
    let snapshots = snapshots_dir(args.snapshots, config, config_path);
    crate::snapshot::check_folder(&snapshots)?;
    let now = now(args.now.as_deref())?;
    let base = super::build::base_of(config_path);
    let plan = action::plan(&action::Context { config, snapshots: &snapshots, base: &base }, &now)?;
    let json = serde_json::to_string_pretty(&plan)? + "\n";
    if args.output.as_os_str() == "-" {
        super::print(&json)?;
    } else {
        std::fs::write(&args.output, &json).with_context(|| format!("cannot write {}", args.output.display()))?;
    }
    if !quiet {
        for j in &plan.jobs {
            let action = match j.action {
                plan::archive::Action::Run => format!("run, as {}", j.archive),
                plan::archive::Action::Skip => "skip".to_string(),
                plan::archive::Action::Refuse => "refuse".to_string(),
            };
            eprintln!("job {}: {action} ({}); retention deletes {}", j.job, j.reason, j.retention.delete.len());
            if let Some(cause) = &j.listing_error {
                eprintln!("job {}: the destination could not be listed: {cause}", j.job);
            }
        }
        for n in &plan.notifications {
            eprintln!("notify {}: {} finding(s) due", n.notify, n.findings.len());
        }
        for u in &plan.updates {
            let decision = match u.decision {
                plan::update::Decision::Update => "update",
                plan::update::Decision::Skip => "skip",
            };
            eprintln!("update {}: {decision} ({}), policy {}", u.host, u.reason, u.policy);
        }
        if plan.jobs.is_empty() && plan.notifications.is_empty() && plan.updates.is_empty() {
            eprintln!("no archive job, notification or update due: the plan is empty");
        }
    }
    Ok(exit::OK)
}

fn apply_options(args: &ApplyArgs, config: &Config, config_path: &Path, quiet: bool) -> Result<action::Options> {
    let base = super::build::base_of(config_path);
    Ok(action::Options {
        dry_run: args.dry_run,
        now: now(args.now.as_deref())?,
        progress: !quiet && crate::progress::on_terminal(),
        lock: base.join(&config.build.cache_dir).join("apply.lock"),
        templates: base.join(&config.build.templates),
        // A committed run's log has its history in git; any other run keeps a file of its own.
        layout: if args.commit || args.push { Layout::Stable } else { Layout::Dated },
    })
}

pub fn apply(args: ApplyArgs, config: &Config, config_path: &Path, quiet: bool) -> Result<u8> {
    let snapshots = snapshots_dir(args.snapshots.clone(), config, config_path);
    let plan = restrict(plan::read(&args.plan)?, &args)?;
    let options = apply_options(&args, config, config_path, quiet)?;
    let base = super::build::base_of(config_path);
    let applied = action::apply(&action::Context { config, snapshots: &snapshots, base: &base }, &plan, &options)?;
    for text in &applied.dry_run {
        super::print(text)?;
    }
    let code = report(&applied, quiet);
    if (args.commit || args.push) && !args.dry_run {
        let summaries: Vec<&str> =
            applied.done.iter().filter(|d| !d.files.is_empty()).filter_map(|d| d.summary.as_deref()).collect();
        let message = if summaries.is_empty() {
            "parc apply: notifications".to_string()
        } else {
            format!("parc apply: {}", summaries.join(", "))
        };
        super::commit_and_push(&snapshots, &applied.files(), &message, args.push, config, quiet)?;
    }
    match applied.refused {
        Some(cause) => Err(cause),
        None => Ok(code),
    }
}

/// `parc apply` when `parc.toml` cannot be read: the plan is refused with
/// that cause, recorded in dated files (nothing is committed without the
/// configuration's git settings), then the error stands.
pub fn apply_unconfigured(args: ApplyArgs, config_path: &Path, cause: anyhow::Error, quiet: bool) -> Result<u8> {
    let defaults = Config::default();
    let snapshots = snapshots_dir(args.snapshots.clone(), &defaults, config_path);
    // Without a plan there is nothing to record: the configuration's error is the one to fix first.
    let Ok(plan) = plan::read(&args.plan) else { return Err(cause) };
    let mut options = apply_options(&args, &defaults, config_path, quiet)?;
    options.layout = Layout::Dated;
    let applied = action::refuse(None, &snapshots, &plan, cause, &options)?;
    report(&applied, quiet);
    Err(applied.refused.expect("a refusal says why"))
}

/// Prints what each action came to (under `--quiet`, only failures); the exit code that calls for.
fn report(applied: &action::Applied, quiet: bool) -> u8 {
    for d in applied.done.iter().filter(|d| !quiet || d.failed) {
        eprintln!("{}", d.headline);
        for f in &d.files {
            eprintln!("  wrote {}", f.display());
        }
    }
    if applied.failed() {
        exit::RUN_FAILED
    } else {
        exit::OK
    }
}

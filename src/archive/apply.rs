//! `parc apply`: carries out a plan, exactly. It refuses a plan whose
//! inputs changed since it was made, never runs twice at once (a lock), and
//! for each job: fetch, download, verify, compare, pack, reach, upload,
//! retention — each step timed and logged, the first failure stopping the
//! run and naming its cause. Retention deletes only what the plan named,
//! only when the run did not fail, never the newest good archive.

use super::destination::{self, Transport};
use super::job::ArchiveJob;
use super::plan::{self, Action, JobPlan, Plan};
use super::retention::{self, Deleted};
use super::run::{LastGood, Outcome, Run, RunSnapshot, Step};
use super::{fetch, lock, pack};
use crate::config::Config;
use anyhow::{anyhow, bail, Context, Result};
use jiff::Zoned;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub struct Options {
    pub dry_run: bool,
    pub now: Zoned,
    /// Draw progress bars (on a terminal).
    pub progress: bool,
    /// Where the lock file goes.
    pub lock: PathBuf,
    /// The site's templates folder (the report and mail templates can be replaced there).
    pub templates: PathBuf,
}

/// What one job's run came to, for the command's own report.
pub struct Done {
    pub job: String,
    pub outcome: Outcome,
    /// The first line of the text log.
    pub headline: String,
    /// The run snapshot and the text log, when written.
    pub files: Vec<PathBuf>,
}

/// What `apply` did: each job's run, and the notifications sent.
pub struct Applied {
    pub runs: Vec<Done>,
    /// A line per mail sent (or not), and the `notify.json` written.
    pub notices: Vec<String>,
    pub notice_failed: bool,
    /// The `notify.json` written, when a step was sent.
    pub notify_file: Option<PathBuf>,
}

/// Carries out `plan`. An error is a refusal (stale plan, lock held, bad
/// configuration): nothing was done. A run that failed is a [`Done`] with
/// outcome `failed`.
pub fn apply(config: &Config, snapshots: &Path, plan: &Plan, opts: &Options) -> Result<Applied> {
    let _lock = if opts.dry_run { None } else { Some(lock::Lock::take(&opts.lock)?) };
    // Notifications: refused when a step was sent or a silence set since the plan.
    if !plan.notify_inputs.is_empty() && crate::notify::send::inputs(snapshots)? != plan.notify_inputs {
        bail!("the plan is stale: notify.json or silences.toml changed since the plan was made; make a new plan");
    }
    // Every job must still hold before anything is done.
    let mut work = Vec::new();
    for planned in &plan.jobs {
        let job = config
            .archive
            .iter()
            .find(|j| j.name == planned.job)
            .ok_or_else(|| anyhow!("the plan is stale: job {} is no longer in the configuration", planned.job))?;
        if let Err(why) = plan::still_holds(job, planned, snapshots)? {
            bail!("{why}");
        }
        work.push((job, planned));
    }
    let templates = crate::render::templates::load(&opts.templates)?;
    let mut done = Vec::new();
    for (job, planned) in work {
        if opts.dry_run {
            crate::cli::print(&dry_run(job, planned))?;
            continue;
        }
        if planned.action == Action::Skip {
            done.push(Done {
                job: job.name.clone(),
                outcome: Outcome::Skipped,
                headline: format!("archive {} SKIPPED: {}", job.name, planned.reason),
                files: Vec::new(),
            });
            continue;
        }
        done.push(run_job(config, &templates, snapshots, plan, job, planned, opts)?);
    }
    // Under the same lock: two applies never send the same step.
    let (notices, notice_failed, notify_file) = if opts.dry_run {
        let lines = plan.notifications.iter().map(|n| {
            let ids: Vec<&str> = n.findings.iter().map(|f| f.finding.as_str()).collect();
            format!("would mail {} about {}", n.notify, ids.join(", "))
        });
        (lines.collect(), false, None)
    } else {
        crate::notify::send::send(config, &templates, snapshots, &plan.notifications, &opts.now)?
    };
    Ok(Applied { runs: done, notices, notice_failed, notify_file })
}

fn dry_run(job: &ArchiveJob, planned: &JobPlan) -> String {
    let mut text = format!("job {}: ", job.name);
    match planned.action {
        Action::Skip => text.push_str(&format!("would skip: {}\n", planned.reason)),
        Action::Run => {
            text.push_str(&format!(
                "would fetch {}, check it holds {}, archive it as {} to {}",
                job.url, job.expect, planned.archive, job.destination
            ));
            text.push_str(&format!(" ({})\n", planned.reason));
            for d in &planned.retention.delete {
                text.push_str(&format!("  would delete {} ({}), if the run does not fail\n", d.name, d.reason));
            }
        }
    }
    text
}

/// Records the steps of a run as they happen.
struct Steps {
    steps: Vec<Step>,
}

impl Steps {
    /// Runs `f` as step `name`; its `Ok` detail or its error goes into the log.
    fn run<T>(&mut self, name: &str, f: impl FnOnce() -> Result<(T, String)>) -> Result<T, (String, String)> {
        let start = Instant::now();
        let result = f();
        let ms = start.elapsed().as_millis() as u64;
        match result {
            Ok((value, detail)) => {
                self.steps.push(Step { step: name.into(), ok: true, ms, detail: Some(detail), error: None });
                Ok(value)
            }
            Err(e) => {
                let cause = crate::problem::error_chain(e.as_ref());
                self.steps.push(Step { step: name.into(), ok: false, ms, detail: None, error: Some(cause.clone()) });
                Err((name.to_string(), cause))
            }
        }
    }
}

fn run_job(
    config: &Config,
    templates: &tera::Tera,
    snapshots: &Path,
    plan: &Plan,
    job: &ArchiveJob,
    planned: &JobPlan,
    opts: &Options,
) -> Result<Done> {
    let started = Instant::now();
    let work = tempfile::tempdir().context("cannot make a work folder")?;
    let mut steps = Steps { steps: Vec::new() };
    let mut run = Run {
        job: job.name.clone(),
        plan: plan.fingerprint.clone(),
        outcome: Outcome::Failed,
        failed_step: None,
        cause: None,
        started_at: opts.now.timestamp().to_string(),
        duration_ms: 0,
        url: job.url.clone(),
        destination: job.destination.clone(),
        zip_bytes: None,
        dump: None,
        archive: None,
        steps: Vec::new(),
        remote: None,
        kept: Vec::new(),
        deleted: Vec::new(),
        last_good: planned.last_good.clone(),
        mail: None,
    };
    let result = steps_of_run(job, planned, opts, work.path(), &mut steps, &mut run);
    match result {
        Ok(outcome) => run.outcome = outcome,
        Err((step, cause)) => {
            run.outcome = Outcome::Failed;
            run.failed_step = Some(step);
            run.cause = Some(cause);
        }
    }
    run.steps = steps.steps;
    run.duration_ms = started.elapsed().as_millis() as u64;

    let host = match &job.host {
        Some(h) => h.clone(),
        None => crate::collect::local::hostname().map_err(anyhow::Error::msg)?,
    };
    crate::collect::check_host_name(&host).map_err(anyhow::Error::msg)?;
    let log = render(templates, "archive-log.txt", &run, planned)?;
    let headline = log.lines().next().unwrap_or_default().to_string();
    if let Some(name) = &job.mail {
        run.mail = Some(mail(config, templates, name, &run, planned, &log));
    }
    let snapshot = RunSnapshot {
        schema: crate::snapshot::SCHEMA.into(),
        kind: super::run::kind(&job.name),
        host: host.clone(),
        collected_at: opts.now.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        agent: serde_json::json!({"version": env!("CARGO_PKG_VERSION"), "mode": "apply"}),
        probes: serde_json::Map::new(),
        run,
    };
    let value = serde_json::to_value(&snapshot)?;
    let path = crate::collect::write_snapshot(snapshots, &host, &snapshot.kind, &value).map_err(anyhow::Error::msg)?;
    let log_path = snapshots.join(&host).join(format!("{}.log", snapshot.kind));
    std::fs::write(&log_path, &log).with_context(|| format!("cannot write {}", log_path.display()))?;
    Ok(Done { job: job.name.clone(), outcome: snapshot.run.outcome, headline, files: vec![path, log_path] })
}

/// The steps; `Err((step, cause))` at the first that fails.
fn steps_of_run(
    job: &ArchiveJob,
    planned: &JobPlan,
    opts: &Options,
    work: &Path,
    steps: &mut Steps,
    run: &mut Run,
) -> Result<Outcome, (String, String)> {
    let timeout = std::time::Duration::from_secs(job.timeout.max(1));
    let zip_path = work.join("download.zip");
    // 1 and 2: the URL answers; the zip comes down whole.
    let mut status = String::new();
    let fetched = steps.run("download", || {
        let f = fetch::download(
            &job.url,
            job.ca_file.as_deref(),
            timeout,
            job.max_bytes,
            &zip_path,
            &mut |line| status = line.to_string(),
            opts.progress,
        )?;
        let detail = format!("{}, {} bytes", f.status, f.bytes);
        Ok((f, detail))
    })?;
    run.zip_bytes = Some(fetched.bytes);
    // 3: a valid zip holding the expected file.
    let dump_path = work.join("dump");
    let dump = steps.run("verify", || {
        let facts = pack::extract(&zip_path, &job.expect, &dump_path)?;
        let detail = format!("{} found, {} bytes, sha256 {}", job.expect, facts.bytes, facts.sha256);
        Ok((facts, detail))
    })?;
    run.dump = Some(dump.clone());
    // 4: the same dump as last time is not archived again (unless asked).
    let previous = planned.last_good.as_ref().map(|g| g.dump_sha256.clone());
    let unchanged = previous.as_deref() == Some(dump.sha256.as_str());
    steps.run("compare", || {
        let detail = match (&previous, unchanged) {
            (None, _) => "no previous dump".to_string(),
            (Some(_), true) if job.archive_unchanged => {
                "identical to the previous dump; archived anyway (archive_unchanged)".into()
            }
            (Some(_), true) => "identical to the previous dump: not archived again".into(),
            (Some(p), false) => format!("differs from the previous dump (sha256 {p})"),
        };
        Ok(((), detail))
    })?;
    let archive_it = !unchanged || job.archive_unchanged;
    // 5: the tar.gz.
    let tgz = work.join(&planned.archive);
    let archive = if archive_it {
        let mtime = opts.now.timestamp().as_second().max(0) as u64;
        let a = steps.run("pack", || {
            let a = pack::tar_gz(&dump_path, &dump.name, mtime, &tgz, &planned.archive)?;
            let detail = format!("{}, {} bytes, sha256 {}", a.name, a.bytes, a.sha256);
            Ok((a, detail))
        })?;
        run.archive = Some(a.clone());
        Some(a)
    } else {
        None
    };
    // 6: the destination is reachable.
    let mut transport: Box<dyn Transport> = steps.run("reach", || {
        let mut t = destination::open(job)?;
        let detail = t.check()?;
        Ok((t, detail))
    })?;
    // 7: upload under a temporary name, verify, rename.
    if let Some(a) = &archive {
        let progress = opts.progress;
        steps.run("upload", || {
            let bar = progress.then(|| crate::progress::bytes(None, "upload"));
            destination::upload_verified(transport.as_mut(), &tgz, &a.name, a.bytes, &a.sha256)?;
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            Ok(((), format!("{} uploaded, size and sha256 verified", a.name)))
        })?;
        run.last_good =
            Some(LastGood { at: run.started_at.clone(), archive: a.name.clone(), dump_sha256: dump.sha256.clone() });
    }
    // 8: retention, only what the plan named and the policy still deletes.
    let newest_good = run.last_good.as_ref().map(|g| g.archive.clone());
    let (remote, kept, deleted) =
        steps.run("retention", || retention_step(job, planned, transport.as_mut(), newest_good.as_deref()))?;
    run.remote = Some(remote);
    run.kept = kept;
    run.deleted = deleted;
    Ok(if archive_it { Outcome::Ok } else { Outcome::Unchanged })
}

type Retained = (Vec<destination::Listed>, Vec<retention::Kept>, Vec<Deleted>);

fn retention_step(
    job: &ArchiveJob,
    planned: &JobPlan,
    transport: &mut dyn Transport,
    newest_good: Option<&str>,
) -> Result<(Retained, String)> {
    let pattern = job.pattern().map_err(anyhow::Error::msg)?;
    let mut listing = transport.list()?;
    let names: Vec<String> = listing.iter().map(|l| l.name.clone()).collect();
    let now = retention::apply(&job.policy(), &pattern, &names);
    // The newest archive there, by the date in its name: never deleted, whatever a plan says.
    let newest = names.iter().filter_map(|n| pattern.date(n).map(|d| (d, n))).max().map(|(_, n)| n.clone());
    let mut deleted = Vec::new();
    for d in &planned.retention.delete {
        let still_deleted = now.delete.iter().any(|x| x.name == d.name);
        let protected = Some(d.name.as_str()) == newest_good || Some(&d.name) == newest.as_ref();
        if !names.contains(&d.name) || !still_deleted || protected || pattern.date(&d.name).is_none() {
            continue;
        }
        transport.delete(&d.name).with_context(|| format!("retention: {}", d.name))?;
        deleted.push(d.clone());
    }
    listing.retain(|l| !deleted.iter().any(|d| d.name == l.name));
    let detail = format!("{} archives there, {} kept, {} deleted", names.len(), now.keep.len(), deleted.len());
    Ok(((listing, now.keep, deleted), detail))
}

/// Renders a run into one of the report templates.
fn render(templates: &tera::Tera, template: &str, run: &Run, planned: &JobPlan) -> Result<String> {
    let mut ctx = tera::Context::new();
    ctx.insert("run", run);
    ctx.insert("status", run.outcome.word());
    ctx.insert("plan", planned);
    templates
        .render(template, &ctx)
        .map_err(|e| anyhow!("cannot render {template}: {}", crate::problem::error_chain(&e)))
}

/// Mails the report when `[mail.NAME]` says so; says what happened, never fails the run.
fn mail(config: &Config, templates: &tera::Tera, name: &str, run: &Run, planned: &JobPlan, log: &str) -> String {
    let settings = match crate::mail::lookup(&config.mail, name) {
        Ok(s) => s,
        Err(e) => return format!("not sent: {e}"),
    };
    let previous = planned.previous.as_ref().map(|p| p.outcome);
    let wanted = match settings.when {
        crate::mail::When::Always => true,
        crate::mail::When::Failure => run.outcome == Outcome::Failed,
        crate::mail::When::Change => previous != Some(run.outcome),
    };
    if !wanted {
        return format!("not sent: when = {:?}", settings.when).to_lowercase();
    }
    let date = run.started_at.get(..10).unwrap_or(&run.started_at);
    let subject =
        settings.subject.replace("{job}", &run.job).replace("{status}", run.outcome.word()).replace("{date}", date);
    let body = match render(templates, "archive-mail.txt", run, planned) {
        Ok(b) => b,
        Err(e) => return format!("not sent: {e}"),
    };
    let attachment = settings.attach_log.then(|| (format!("archive-{}-{date}.log", run.job), log.to_string()));
    match settings.send(&crate::mail::Mail { subject, body, attachment }) {
        Ok(()) => format!("sent to {}", settings.to.join(", ")),
        Err(e) => {
            let cause = crate::problem::error_chain(e.as_ref());
            tracing::error!("archive {}: the report could not be mailed: {cause}", run.job);
            format!("not sent: {cause}")
        }
    }
}

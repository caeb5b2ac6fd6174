//! Archive runs, the first kind of action: each job of a plan carried out
//! exactly. A job whose inputs changed since the plan refuses the plan; for
//! each job: download, verify, compare, pack, reach, upload, retention —
//! each step timed and logged, the first failure stopping the run and naming
//! its cause. Retention deletes only what the plan named, only when the run
//! did not fail, never the newest good archive; an archive at the destination
//! is never overwritten.
//!
//! Every job of the plan leaves a run log, whatever happens: a refusal (stale
//! plan, held lock, configuration error, a name taken), a skip, a failure, or
//! a panic inside parc, caught at the job's boundary.

use super::{Applied, Done, Options};
use crate::archive::destination::{self, Taken, Transport};
use crate::archive::run::{self, DeleteFailed, LastGood, Outcome, Run, RunSnapshot, Step};
use crate::archive::{fetch, pack};
use crate::config::archive::{ArchiveJob, OnExisting};
use crate::config::Config;
use crate::plan::archive::{self as plan, Action, JobPlan};
use crate::plan::retention::{self, Deleted};
use crate::plan::Plan;
use anyhow::{anyhow, Context, Result};
use std::path::Path;
use std::time::Instant;

/// Every job of the plan with its configuration; an error when a job is no
/// longer configured, or its inputs changed since the plan.
fn jobs<'a>(config: &'a Config, snapshots: &Path, plan: &'a Plan) -> Result<Vec<(&'a ArchiveJob, &'a JobPlan)>> {
    let mut work = Vec::new();
    for planned in &plan.jobs {
        let job = config
            .archive
            .iter()
            .find(|j| j.name == planned.job)
            .ok_or_else(|| crate::plan::Stale::Gone { job: planned.job.clone() })?;
        plan::still_holds(job, planned, snapshots)?;
        work.push((job, planned));
    }
    Ok(work)
}

/// Whether every job of the plan still holds.
pub fn check(config: &Config, snapshots: &Path, plan: &Plan) -> Result<()> {
    jobs(config, snapshots, plan).map(drop)
}

/// Carries out every job of the plan (or, in a dry run, says what it would do).
pub fn apply(
    config: &Config,
    snapshots: &Path,
    plan: &Plan,
    templates: &tera::Tera,
    opts: &Options,
    out: &mut Applied,
) -> Result<()> {
    for (job, planned) in jobs(config, snapshots, plan)? {
        if opts.dry_run {
            out.dry_run.push(dry_run(job, planned));
            continue;
        }
        let ctx = Record { config: Some(config), templates, snapshots, plan, planned, opts };
        let done = match planned.action {
            Action::Skip => ctx.write(ctx.unrun(Outcome::Skipped, planned.reason.clone())),
            Action::Refuse => ctx.write(ctx.unrun(Outcome::Refused, planned.reason.clone())),
            Action::Run => run_job(&ctx, job),
        };
        out.done.push(done?);
    }
    Ok(())
}

/// Records every job of `plan` as refused because of `cause`; `config` is
/// `None` when it could not be read (then nothing is mailed).
pub fn refuse(
    config: Option<&Config>,
    snapshots: &Path,
    plan: &Plan,
    cause: &str,
    opts: &Options,
    out: &mut Applied,
) -> Result<()> {
    // The user's templates may be what failed: the built-in ones always render.
    let language = config.map(|c| c.site.language).unwrap_or_default();
    let templates = crate::render::templates::load(&opts.templates, language)
        .unwrap_or_else(|_| crate::render::templates::builtin(language).expect("the built-in templates are valid"));
    for planned in &plan.jobs {
        let ctx = Record { config, templates: &templates, snapshots, plan, planned, opts };
        out.done.push(ctx.write(ctx.unrun(Outcome::Refused, cause.to_string()))?);
    }
    Ok(())
}

fn dry_run(job: &ArchiveJob, planned: &JobPlan) -> String {
    let mut text = format!("job {}: ", job.name);
    match planned.action {
        Action::Skip => text.push_str(&format!("would skip: {}\n", planned.reason)),
        Action::Refuse => text.push_str(&format!("would refuse: {}\n", planned.reason)),
        Action::Run => {
            text.push_str(&format!(
                "would fetch {}, check it holds {}, archive it as {} to {}",
                job.source.url, job.source.expect, planned.archive, job.destination
            ));
            text.push_str(&format!(" ({})\n", planned.reason));
            for d in &planned.retention.delete {
                text.push_str(&format!("  would delete {} ({}), if the run does not fail\n", d.name, d.reason));
            }
        }
    }
    text
}

/// Where a step stopped the run, and how the run ends.
struct Stop {
    step: String,
    cause: String,
    outcome: Outcome,
}

/// Records the steps of a run as they happen.
struct Steps {
    steps: Vec<Step>,
    /// The step under way: the one a panic happened in.
    current: Option<String>,
}

impl Steps {
    /// Runs `f` as step `name`; its `Ok` detail or its error goes into the log.
    /// A [`Taken`] name refuses the run; any other error fails it.
    fn run<T>(&mut self, name: &str, f: impl FnOnce() -> Result<(T, String)>) -> Result<T, Stop> {
        let start = Instant::now();
        self.current = Some(name.to_string());
        let result = f();
        self.current = None;
        let ms = start.elapsed().as_millis() as u64;
        match result {
            Ok((value, detail)) => {
                self.steps.push(Step { step: name.into(), ok: true, ms, detail: Some(detail), error: None });
                Ok(value)
            }
            Err(e) => {
                let cause = crate::problem::error_chain(e.as_ref());
                self.steps.push(Step { step: name.into(), ok: false, ms, detail: None, error: Some(cause.clone()) });
                let outcome = if e.is::<Taken>() { Outcome::Refused } else { Outcome::Failed };
                Err(Stop { step: name.to_string(), cause, outcome })
            }
        }
    }
}

/// What writing one job's run log needs.
struct Record<'a> {
    config: Option<&'a Config>,
    templates: &'a tera::Tera,
    snapshots: &'a Path,
    plan: &'a Plan,
    planned: &'a JobPlan,
    opts: &'a Options,
}

impl Record<'_> {
    /// A run as it starts, carrying what the plan knew.
    fn start(&self) -> Run {
        let planned = self.planned;
        Run::start(run::Start {
            job: planned.job.clone(),
            plan: self.plan.fingerprint.clone(),
            started_at: self.opts.now.timestamp().to_string(),
            url: planned.url.clone(),
            destination: planned.destination.clone(),
            last_good: planned.last_good.clone(),
        })
    }

    /// A run that was not carried out (`skipped` or `refused`), with its cause: it keeps
    /// the listing the plan knew, so the next plan still knows what is at the destination.
    fn unrun(&self, outcome: Outcome, cause: String) -> Run {
        let mut run = self.start();
        run.outcome = outcome;
        run.cause = Some(cause);
        if self.planned.listed_from != plan::ListedFrom::Nothing {
            run.remote = Some(self.planned.listing.clone());
        }
        run
    }

    /// Renders the run's log, mails it when asked, and writes both into the snapshots folder.
    fn write(&self, mut run: Run) -> Result<Done> {
        let planned = self.planned;
        let host = match &planned.host {
            Some(h) => h.clone(),
            None => crate::host::this()?,
        };
        crate::host::check_name(&host)?;
        let log = render(self.templates, "archive-log.txt", &run, planned)?;
        let headline = log.lines().next().unwrap_or_default().to_string();
        let job = self.config.and_then(|c| c.archive.iter().find(|j| j.name == planned.job));
        run.mail = match (self.config, job.and_then(|j| j.mail.as_deref())) {
            (Some(config), Some(name)) => Some(mail(config, self.templates, name, &run, planned, &log)),
            (None, _) => Some("not sent: the configuration could not be read".into()),
            (Some(_), None) => None,
        };
        let snapshot = RunSnapshot {
            schema: crate::snapshot::SCHEMA.into(),
            kind: run::kind(&planned.job),
            host,
            collected_at: self.opts.now.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
            agent: serde_json::json!({"version": env!("CARGO_PKG_VERSION"), "mode": "apply"}),
            probes: serde_json::Map::new(),
            run,
        };
        let files = run::write(self.snapshots, &snapshot, &log, self.opts.layout)?;
        let outcome = snapshot.run.outcome;
        Ok(Done {
            kind: super::Kind::Archive,
            summary: Some(format!("{} {}", planned.job, outcome.word())),
            failed: outcome.is_failure(),
            headline,
            files,
        })
    }
}

fn run_job(ctx: &Record, job: &ArchiveJob) -> Result<Done> {
    let started = Instant::now();
    let work = tempfile::tempdir().context("cannot make a work folder")?;
    let mut steps = Steps { steps: Vec::new(), current: None };
    let mut run = ctx.start();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        steps_of_run(job, ctx.planned, ctx.opts, work.path(), &mut steps, &mut run)
    }));
    let result = result.unwrap_or_else(|panic| {
        // A bug in parc must not lose the run's log: the step it happened in fails with it.
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let step = steps.current.take().unwrap_or_else(|| "apply".into());
        let cause = format!("parc panicked: {message}");
        steps.steps.push(Step { step: step.clone(), ok: false, ms: 0, detail: None, error: Some(cause.clone()) });
        Err(Stop { step, cause, outcome: Outcome::Failed })
    });
    match result {
        Ok(outcome) => run.outcome = outcome,
        Err(stop) => {
            run.outcome = stop.outcome;
            run.failed_step = Some(stop.step);
            run.cause = Some(stop.cause);
        }
    }
    run.steps = steps.steps;
    run.duration_ms = started.elapsed().as_millis() as u64;
    ctx.write(run)
}

/// The steps; `Err` at the first that fails.
fn steps_of_run(
    job: &ArchiveJob,
    planned: &JobPlan,
    opts: &Options,
    work: &Path,
    steps: &mut Steps,
    run: &mut Run,
) -> Result<Outcome, Stop> {
    let timeout = std::time::Duration::from_secs(job.source.timeout.max(1));
    let zip_path = work.join("download.zip");
    // 1 and 2: the URL answers; the zip comes down whole.
    let mut status = String::new();
    let fetched = steps.run("download", || {
        let f = fetch::download(
            &job.source.url,
            job.source.ca_file.as_deref(),
            timeout,
            job.source.max_bytes,
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
        let facts = pack::extract(&zip_path, &job.source.expect, &dump_path)?;
        let detail = format!("{} found, {} bytes, sha256 {}", job.source.expect, facts.bytes, facts.sha256);
        Ok((facts, detail))
    })?;
    run.dump = Some(dump.clone());
    // 4: the same dump as last time is not archived again (unless asked).
    let previous = planned.last_good.as_ref().map(|g| g.dump_sha256.clone());
    let unchanged = previous.as_deref() == Some(dump.sha256.as_str());
    steps.run("compare", || {
        let detail = match (&previous, unchanged) {
            (None, _) => "no previous dump".to_string(),
            (Some(_), true) if job.schedule.archive_unchanged => {
                "identical to the previous dump; archived anyway (archive_unchanged)".into()
            }
            (Some(_), true) => "identical to the previous dump: not archived again".into(),
            (Some(p), false) => format!("differs from the previous dump (sha256 {p})"),
        };
        Ok(((), detail))
    })?;
    let archive_it = !unchanged || job.schedule.archive_unchanged;
    // 5: the tar.gz.
    let tgz = work.join("archive.tgz");
    let archive = if archive_it {
        let mtime = opts.now.timestamp().as_second().max(0) as u64;
        let a = steps.run("pack", || {
            let a = pack::tar_gz(&dump_path, &dump.name, mtime, &tgz, &planned.archive)?;
            let detail = format!("{}, {} bytes, sha256 {}", a.name, a.bytes, a.sha256);
            Ok((a, detail))
        })?;
        Some(a)
    } else {
        None
    };
    // 6: the destination is reachable, and what it holds decides the archive's name:
    // the plan's listing may be a day old, or was never taken.
    let (mut transport, archive) = steps.run("reach", || {
        let mut t = destination::open(job)?;
        let mut detail = t.check()?;
        let archive = match archive {
            Some(mut a) => {
                let (name, said) = name(job, planned, t.as_mut(), opts)?;
                detail = format!("{detail}; {said}");
                a.name = name;
                Some(a)
            }
            None => None,
        };
        Ok(((t, archive), detail))
    })?;
    run.archive = archive.clone();
    // 7: upload under a temporary name, verify, rename (never over an archive).
    if let Some(a) = &archive {
        let progress = opts.progress;
        steps.run("upload", || {
            let bar = progress.then(|| crate::progress::bytes(None, "upload"));
            destination::upload_verified(transport.as_mut(), &tgz, &a.name, a.bytes, &a.sha256)?;
            crate::failpoint::hit("archive-uploaded");
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
    let mut pruned = None;
    let result = steps.run("retention", || {
        let p = prune(job, planned, transport.as_mut(), newest_good.as_deref())?;
        let there = crate::words::count(p.listed, "archive", "archives");
        let detail = format!("{there} there, {} kept, {} deleted", p.kept.len(), p.deleted.len());
        let failure = p.failed.as_ref().map(|f| anyhow!("cannot delete {}: {}", f.name, f.cause));
        pruned = Some(p);
        match failure {
            Some(e) => Err(e),
            None => Ok(((), detail)),
        }
    });
    if let Some(p) = pruned {
        run.remote = Some(p.remote);
        run.kept = p.kept;
        run.deleted = p.deleted;
        run.delete_failed = p.failed;
        run.not_attempted = p.not_attempted;
    }
    result?;
    Ok(if archive_it { Outcome::Ok } else { Outcome::Unchanged })
}

/// The archive's name, from what the destination holds now: the planned
/// one when it is free; when it is taken, a refusal ([`Taken`]) or the
/// first free suffixed name, as `on_existing` says.
fn name(job: &ArchiveJob, planned: &JobPlan, t: &mut dyn Transport, opts: &Options) -> Result<(String, String)> {
    let names: Vec<String> = t.list()?.into_iter().map(|l| l.name).collect();
    if !names.contains(&planned.archive) {
        return Ok((planned.archive.clone(), format!("{} is free", planned.archive)));
    }
    match job.on_existing {
        OnExisting::Refuse => Err(Taken(planned.archive.clone()).into()),
        OnExisting::Suffix => {
            let pattern = job.pattern()?;
            let (free, _) = pattern.free_name(opts.now.datetime(), &names);
            Ok((free.clone(), format!("{} is taken: this run is {free} (on_existing = \"suffix\")", planned.archive)))
        }
    }
}

/// What retention did: each deletion done, the one that failed, the rest not attempted.
struct Pruned {
    /// The destination's files, less those deleted.
    remote: Vec<destination::Listed>,
    listed: usize,
    kept: Vec<retention::Kept>,
    deleted: Vec<Deleted>,
    failed: Option<DeleteFailed>,
    not_attempted: Vec<Deleted>,
}

fn prune(job: &ArchiveJob, planned: &JobPlan, t: &mut dyn Transport, newest_good: Option<&str>) -> Result<Pruned> {
    let pattern = job.pattern()?;
    let mut remote = t.list()?;
    let names: Vec<String> = remote.iter().map(|l| l.name.clone()).collect();
    let now = retention::apply(&job.retention.clone(), &pattern, &names);
    // The newest archive there, by the date in its name: never deleted, whatever a plan says.
    let newest = names.iter().filter_map(|n| pattern.stamp(n).map(|s| (s, n))).max().map(|(_, n)| n.clone());
    let (mut deleted, mut failed, mut not_attempted) = (Vec::new(), None, Vec::new());
    for d in &planned.retention.delete {
        let still_deleted = now.delete.iter().any(|x| x.name == d.name);
        let protected = Some(d.name.as_str()) == newest_good || Some(&d.name) == newest.as_ref();
        if !names.contains(&d.name) || !still_deleted || protected || pattern.date(&d.name).is_none() {
            continue;
        }
        if failed.is_some() {
            not_attempted.push(d.clone());
            continue;
        }
        match t.delete(&d.name) {
            Ok(()) => deleted.push(d.clone()),
            Err(e) => {
                let cause = crate::problem::error_chain(e.as_ref());
                failed = Some(DeleteFailed { name: d.name.clone(), reason: d.reason.clone(), cause });
            }
        }
    }
    remote.retain(|l| !deleted.iter().any(|d| d.name == l.name));
    Ok(Pruned { remote, listed: names.len(), kept: now.keep, deleted, failed, not_attempted })
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
        crate::mail::When::Failure => run.outcome.is_failure(),
        // A skip changes nothing of the job's state.
        crate::mail::When::Change => run.outcome != Outcome::Skipped && previous != Some(run.outcome),
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

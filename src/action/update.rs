//! APT updates, the third kind of action: each host of the plan updated over
//! SSH, canaries first, then up to `max_parallel` at once, no new host
//! started once `max_failures` have failed. A plan's updates hold while each
//! host's newest `apt` snapshot is the one they were planned from; on the
//! host, the simulation is run again and a host that no longer matches the
//! plan is refused, untouched.
//!
//! Per host, each step timed and logged: `check` (the dpkg lock, `dpkg
//! --audit`, room in /boot), `inventory`, `refresh` (`apt-get update`),
//! `simulate`, the action itself (run detached from the SSH session, so a
//! dropped connection cannot stop dpkg halfway), `autoremove`, `clean`,
//! `reboot` (verified by a new boot identity), `collect` (`system` and `apt`
//! again, so the next build shows what changed).

use super::{Applied, Done, Kind, Options};
use crate::archive::run::{self as run_log, Layout};
use crate::collect::ssh::{self, Exec};
use crate::config::update::{Action, Policy, Reboot};
use crate::config::Config;
use crate::plan::update::{newest_apt, Decision, HostUpdate};
use crate::plan::Plan;
use crate::snapshot::update::{BootIdentity, Changed, Outcome, Rebooted, Run, RunSnapshot, Step};
use anyhow::{anyhow, Result};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// Whether every planned update still rests on the host's newest `apt` snapshot.
pub fn check(snapshots: &Path, plan: &Plan) -> Result<()> {
    for u in plan.updates.iter().filter(|u| u.decision == Decision::Update) {
        let Some(planned) = &u.apt_snapshot else { continue };
        let now = newest_apt(snapshots, &u.host, planned.collected_at);
        if now.as_ref().map(|s| (&s.path, &s.sha256)) != Some((&planned.path, &planned.sha256)) {
            return Err(crate::plan::Stale::Apt { host: u.host.clone() }.into());
        }
    }
    Ok(())
}

/// What a dry run says of each host.
pub fn dry_run(updates: &[HostUpdate]) -> Vec<String> {
    updates
        .iter()
        .map(|u| {
            let canary = if u.canary { " (canary)" } else { "" };
            match u.decision {
                Decision::Update => format!("update {}{canary}, policy {}: would run {}\n", u.host, u.policy, u.reason),
                Decision::Skip => format!("update {}{canary}, policy {}: would skip: {}\n", u.host, u.policy, u.reason),
            }
        })
        .collect()
}

/// Carries out every update of the plan, policy by policy.
pub fn apply(
    config: &Config,
    snapshots: &Path,
    plan: &Plan,
    templates: &tera::Tera,
    opts: &Options,
    out: &mut Applied,
) -> Result<()> {
    for policy in &config.update {
        let hosts: Vec<&HostUpdate> =
            plan.updates.iter().filter(|u| u.policy == policy.name && u.decision == Decision::Update).collect();
        let (canaries, rest): (Vec<&HostUpdate>, Vec<&HostUpdate>) = hosts.into_iter().partition(|u| u.canary);
        let ctx = Host { config, snapshots, plan, templates, opts, policy };
        let mut failures = 0;
        for u in &canaries {
            let done = ctx.update(u)?;
            failures += usize::from(done.failed);
            out.done.push(done);
        }
        let mut refusal = (failures > 0).then(|| "a canary failed: no other host of the policy is started".to_string());
        for wave in rest.chunks(policy.max_parallel as usize) {
            if refusal.is_none() && failures >= policy.max_failures as usize {
                refusal = Some(format!("{failures} host(s) failed (max_failures = {})", policy.max_failures));
            }
            if let Some(cause) = &refusal {
                for u in wave {
                    out.done.push(ctx.refuse(u, cause)?);
                }
                continue;
            }
            let done: Vec<Result<Done>> = std::thread::scope(|s| {
                wave.iter()
                    .map(|u| s.spawn(|| ctx.update(u)))
                    .collect::<Vec<_>>()
                    .into_iter()
                    .map(|h| h.join().expect("an update does not panic"))
                    .collect()
            });
            for d in done {
                let d = d?;
                failures += usize::from(d.failed);
                out.done.push(d);
            }
        }
    }
    Ok(())
}

/// What updating a host needs.
struct Host<'a> {
    config: &'a Config,
    snapshots: &'a Path,
    plan: &'a Plan,
    templates: &'a tera::Tera,
    opts: &'a Options,
    policy: &'a Policy,
}

/// Where a step stopped the run.
struct Stop {
    outcome: Outcome,
    cause: String,
}

impl Stop {
    fn failed(cause: impl Into<String>) -> Stop {
        Stop { outcome: Outcome::Failed, cause: cause.into() }
    }
}

/// A run as it goes: its steps, what apt-get printed, the snapshots collected after.
struct Progress {
    run: Run,
    output: String,
    collected: Vec<std::path::PathBuf>,
}

impl Progress {
    /// Runs `f` as step `name`, recording its detail or its error.
    fn step<T>(&mut self, name: &str, f: impl FnOnce(&mut Progress) -> Result<(T, String), Stop>) -> Result<T, Stop> {
        let start = Instant::now();
        let result = f(self);
        let ms = start.elapsed().as_millis() as u64;
        match result {
            Ok((value, detail)) => {
                self.run.steps.push(Step { step: name.into(), ok: true, ms, detail: Some(detail), error: None });
                Ok(value)
            }
            Err(stop) => {
                self.run.steps.push(Step {
                    step: name.into(),
                    ok: false,
                    ms,
                    detail: None,
                    error: Some(stop.cause.clone()),
                });
                self.run.failed_step = Some(name.into());
                Err(stop)
            }
        }
    }
}

/// The environment of every command: no prompt, no pager, no restart questions.
fn environment() -> Vec<(&'static str, String)> {
    [
        ("LC_ALL", "C"),
        ("DEBIAN_FRONTEND", "noninteractive"),
        ("NEEDRESTART_MODE", "l"),
        ("APT_LISTCHANGES_FRONTEND", "none"),
    ]
    .map(|(k, v)| (k, v.to_string()))
    .to_vec()
}

/// The root wrapper of the updates (`parc probe-script --update-wrapper`):
/// as root it is piped to `sh`, through sudo the host's installed copy runs.
pub const UPDATE_WRAPPER: &str = include_str!("parc-update-root.sh");

impl Host<'_> {
    fn destination(&self, host: &str) -> String {
        let entry = self.config.hosts.iter().find(|h| h.name == host);
        entry.and_then(|h| h.ssh.clone()).unwrap_or_else(|| host.to_string())
    }

    fn start(&self, u: &HostUpdate) -> Run {
        Run {
            host: u.host.clone(),
            policy: u.policy.clone(),
            plan: self.plan.fingerprint.clone(),
            action: u.action.to_string(),
            outcome: Outcome::Failed,
            failed_step: None,
            cause: None,
            started_at: self.opts.now.timestamp().to_string(),
            began: jiff::Timestamp::now().to_string(),
            ended: String::new(),
            duration_ms: 0,
            steps: Vec::new(),
            changed: Vec::new(),
            conffiles_kept: Vec::new(),
            reboot: None,
        }
    }

    /// A host not started, with the cause.
    fn refuse(&self, u: &HostUpdate, cause: &str) -> Result<Done> {
        let mut run = self.start(u);
        run.outcome = Outcome::Refused;
        run.cause = Some(cause.to_string());
        self.write(run, String::new())
    }

    fn update(&self, u: &HostUpdate) -> Result<Done> {
        let started = Instant::now();
        let mut progress = Progress { run: self.start(u), output: String::new(), collected: Vec::new() };
        let result = self.steps(u, &mut progress);
        let mut run = progress.run;
        match result {
            Ok(()) => run.outcome = Outcome::Ok,
            Err(stop) => {
                run.outcome = stop.outcome;
                run.cause = Some(stop.cause);
            }
        }
        run.duration_ms = started.elapsed().as_millis() as u64;
        run.ended = jiff::Timestamp::now().to_string();
        let mut done = self.write(run, progress.output)?;
        // Committed with the run: the system and apt snapshots it collected.
        done.files.extend(progress.collected);
        Ok(done)
    }

    fn steps(&self, u: &HostUpdate, p: &mut Progress) -> Result<(), Stop> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
        let control =
            tempfile::Builder::new().prefix("parc-ssh").tempdir_in("/tmp").map_err(|e| Stop::failed(e.to_string()))?;
        let settings = ssh::Settings {
            ssh: self.config.ssh.clone(),
            config_file: None,
            control_dir: control.path().to_path_buf(),
        };
        let destination =
            ssh::Destination::parse(&self.destination(&u.host)).map_err(|e| Stop::failed(e.to_string()))?;
        let timeout = self.config.ssh.timeout();
        let env = environment();
        let connect = || runtime.block_on(ssh::connect(&destination, &settings, timeout));
        let session = p.step("connect", |_| {
            connect()
                .map(|s| (s, format!("ssh {}", self.destination(&u.host))))
                .map_err(|e| Stop::failed(e.to_string()))
        })?;
        // The session in use: made again when the connection drops while dpkg runs.
        let session = std::cell::RefCell::new(session);
        let sh = |script: &str| -> Result<Exec, Stop> {
            runtime.block_on(ssh::exec(&session.borrow(), script, &env)).map_err(|e| Stop::failed(e.to_string()))
        };
        // What needs root goes through the wrapper: as root, piped to sh; else sudo runs the host's copy.
        let wrapper =
            self.config.ssh.update_wrapper.clone().unwrap_or_else(|| "/usr/local/sbin/parc-update-root".into());
        let proxy = self.config.collect.apt_proxy.as_deref();
        let root = |args: &[&str]| -> Result<Exec, Stop> {
            let args: Vec<&str> =
                proxy.map(|p| ["--proxy", p]).into_iter().flatten().chain(args.iter().copied()).collect();
            let args = args.as_slice();
            let run = if self.config.ssh.sudo {
                let words: Vec<String> = args.iter().map(|a| ssh::quote(a)).collect();
                let command = format!("sudo -n {} {}", ssh::quote(&wrapper), words.join(" "));
                runtime.block_on(ssh::exec(&session.borrow(), &command, &env))
            } else {
                runtime.block_on(ssh::exec_with(&session.borrow(), UPDATE_WRAPPER, args, &env))
            };
            run.map_err(|e| Stop::failed(e.to_string()))
        };

        p.step("check", |_| {
            let deadline = Instant::now() + self.policy.lock_wait.0;
            loop {
                let held = root(&["lock-holders"])?;
                let pids =
                    String::from_utf8_lossy(&held.stdout).split_whitespace().map(String::from).collect::<Vec<_>>();
                if pids.is_empty() {
                    break;
                }
                if Instant::now() >= deadline {
                    let who = sh(&format!("ps -o pid=,args= -p {}", pids.join(",")))?;
                    let holders: Vec<String> =
                        String::from_utf8_lossy(&who.stdout).lines().map(|l| l.trim().to_string()).collect();
                    return Err(Stop::failed(format!(
                        "the dpkg lock is held by process {} (waited {})",
                        holders.join("; "),
                        self.policy.lock_wait
                    )));
                }
                std::thread::sleep(Duration::from_secs(1));
            }
            let audit = root(&["audit"])?;
            let said = String::from_utf8_lossy(&audit.stdout).trim().to_string();
            if !said.is_empty() || audit.code != Some(0) {
                return Err(Stop::failed(format!(
                    "dpkg --audit reports an interrupted or broken dpkg: {}",
                    first_lines(&said, 3)
                )));
            }
            // A kernel needs room in /boot (or /boot/firmware), which may have filled since the plan.
            if u.packages.iter().any(|p| crate::plan::update::is_kernel(&p.package)) {
                let df = sh("df -B1 --output=avail,target /boot/firmware /boot 2>/dev/null | tail -n +2")?;
                let free = String::from_utf8_lossy(&df.stdout)
                    .lines()
                    .filter_map(|l| l.split_whitespace().next()?.parse::<u64>().ok())
                    .min();
                if let Some(free) = free.filter(|f| *f < crate::plan::update::BOOT_FREE_BYTES) {
                    return Err(Stop::failed(format!(
                        "/boot has {} MB free, under the 150 MB a kernel needs",
                        free >> 20
                    )));
                }
            }
            Ok(((), "the dpkg lock is free; dpkg --audit is clean".into()))
        })?;

        let inventory = |p: &mut Progress, name: &str| {
            p.step(name, |_| {
                let out = sh("dpkg-query -W -f '${Package}\\t${Version}\\t${db:Status-Abbrev}\\n'")?;
                let text = String::from_utf8_lossy(&out.stdout).into_owned();
                let installed: BTreeMap<String, String> = text
                    .lines()
                    .filter_map(|l| {
                        let mut f = l.split('\t');
                        let (name, version, status) = (f.next()?, f.next()?, f.next()?);
                        status.starts_with("ii").then(|| (name.to_string(), version.to_string()))
                    })
                    .collect();
                let n = installed.len();
                Ok((installed, format!("{n} packages installed")))
            })
        };
        let before = inventory(p, "inventory")?;

        p.step("refresh", |_| {
            let out = root(&["refresh"])?;
            let said = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
            let errors: Vec<&str> = said.lines().filter(|l| l.starts_with("E:") || l.starts_with("Err:")).collect();
            if out.code != Some(0) || !errors.is_empty() {
                return Err(Stop::failed(format!("apt-get update failed: {}", errors.join("; "))));
            }
            Ok(((), "apt-get update".into()))
        })?;

        let names: Vec<&str> = u.packages.iter().map(|p| p.package.as_str()).collect();
        let (command, start): (String, Vec<&str>) = match u.action {
            Action::FullUpgrade => ("dist-upgrade".into(), vec!["start", "dist-upgrade"]),
            Action::Upgrade => ("upgrade".into(), vec!["start", "upgrade"]),
            Action::Security => {
                (format!("install --only-upgrade {}", names.join(" ")), [&["start", "install"][..], &names].concat())
            }
        };
        p.step("simulate", |_| {
            let out = sh(&format!("apt-get -s -y {command}"))?;
            let sim = crate::snapshot::apt::simulate::parse(&String::from_utf8_lossy(&out.stdout));
            use crate::snapshot::apt::simulate::Op;
            let mut now: Vec<(String, Option<String>)> = sim
                .actions
                .iter()
                .filter(|a| matches!(a.op, Op::Upgrade | Op::Install))
                .map(|a| (a.package.clone(), a.to.clone()))
                .collect();
            let mut planned: Vec<(String, Option<String>)> = u.packages.iter().map(|p| (p.package.clone(), p.to.clone())).collect();
            let mut removed: Vec<String> = sim.actions.iter().filter(|a| matches!(a.op, Op::Remove | Op::Purge)).map(|a| a.package.clone()).collect();
            let mut planned_removals = u.removals.clone();
            for v in [&mut now, &mut planned] {
                v.sort();
            }
            removed.sort();
            planned_removals.sort();
            if now != planned || removed != planned_removals {
                let show = |v: &[(String, Option<String>)]| {
                    v.iter().map(|(p, to)| format!("{p} {}", to.as_deref().unwrap_or("-"))).collect::<Vec<_>>().join(", ")
                };
                return Err(Stop {
                    outcome: Outcome::Refused,
                    cause: format!(
                        "the host no longer matches the plan: it would now change {} (planned: {}); nothing was done, make a new plan",
                        show(&now),
                        show(&planned)
                    ),
                });
            }
            Ok(((), format!("apt-get -s {command}: {} change(s), as planned", now.len() + removed.len())))
        })?;

        let step_name = u.action.to_string();
        let said = p.step(&step_name, |_| {
            // Detached: a dropped SSH session cannot stop dpkg halfway; the wrapper keeps its output and status.
            let started = root(&start)?;
            if started.code != Some(0) {
                return Err(Stop::failed(format!(
                    "cannot start apt-get: {}",
                    String::from_utf8_lossy(&started.stderr).trim()
                )));
            }
            // dpkg goes on whatever happens to the connection: a dropped one is made again, and the
            // status read where the wrapper keeps it.
            let mut dropped = Vec::new();
            let code = loop {
                std::thread::sleep(Duration::from_millis(500));
                let rc = match root(&["status"]) {
                    Ok(rc) => rc,
                    Err(lost) => {
                        dropped.push(lost.cause);
                        if dropped.len() > 20 {
                            return Err(Stop::failed(format!(
                                "the connection dropped while apt-get ran and could not be made again ({}); \
                                 apt-get goes on, detached: the next collection shows how it ended",
                                dropped.last().map_or("", String::as_str)
                            )));
                        }
                        std::thread::sleep(Duration::from_secs(1));
                        if let Ok(again) = connect() {
                            *session.borrow_mut() = again;
                        }
                        continue;
                    }
                };
                if let Ok(code) = String::from_utf8_lossy(&rc.stdout).trim().parse::<i32>() {
                    break code;
                }
            };
            let out = root(&["output"])?;
            let said = String::from_utf8_lossy(&out.stdout).into_owned();
            if code != 0 {
                let errors: Vec<&str> =
                    said.lines().filter(|l| l.starts_with("E:") || l.starts_with("dpkg:")).collect();
                return Err(Stop::failed(format!("apt-get {command} exited {code}: {}", errors.join("; "))));
            }
            let note = match dropped.first() {
                Some(first) => format!(" (the connection dropped while it ran and was made again: {first})"),
                None => String::new(),
            };
            Ok((said, format!("apt-get {command}{note}")))
        });
        match said {
            Ok(said) => {
                p.run.conffiles_kept = conffiles_kept(&said);
                p.output = said;
            }
            Err(stop) => return Err(stop),
        }
        if self.policy.autoremove {
            p.step("autoremove", |_| run_ok(&root, "autoremove"))?;
        }
        if self.policy.clean {
            p.step("clean", |_| run_ok(&root, "clean"))?;
        }
        let after = inventory(p, "inventory after")?;
        p.run.changed = changed(&before, &after);

        let required = sh("test -e /run/reboot-required")?.code == Some(0);
        let due = match self.policy.reboot {
            Reboot::Never => false,
            Reboot::Always => true,
            Reboot::WhenRequired => required || u.reboot_expected,
        };
        if due {
            let identity = |s: &openssh::Session| -> Result<BootIdentity, Stop> {
                let out = runtime
                    .block_on(ssh::exec(
                        s,
                        "cat /proc/sys/kernel/random/boot_id; sed 's/.*) //' /proc/1/stat | cut -d' ' -f20",
                        &env,
                    ))
                    .map_err(|e| Stop::failed(e.to_string()))?;
                let text = String::from_utf8_lossy(&out.stdout).into_owned();
                let mut lines = text.lines();
                Ok(BootIdentity {
                    boot_id: lines.next().unwrap_or("").trim().to_string(),
                    pid1_start: lines.next().unwrap_or("").trim().to_string(),
                })
            };
            let before_boot = identity(&session.borrow())?;
            let _ = root(&["reboot"]);
            let _ = runtime.block_on(session.into_inner().close());
            let started = Instant::now();
            let limit = self.policy.reboot_timeout.0;
            let mut back = None;
            while started.elapsed() < limit {
                std::thread::sleep(Duration::from_millis(500));
                let Ok(s) = connect() else { continue };
                if let Ok(now) = identity(&s) {
                    if now != before_boot && !now.boot_id.is_empty() {
                        back = Some(now);
                        let _ = runtime.block_on(s.close());
                        break;
                    }
                }
                let _ = runtime.block_on(s.close());
            }
            let seconds = started.elapsed().as_secs();
            let verified = back.is_some();
            p.run.reboot = Some(Rebooted { before: before_boot, after: back, seconds, verified });
            p.step("reboot", |_| {
                if verified {
                    Ok(((), format!("back with a new boot identity after {seconds} s")))
                } else {
                    Err(Stop::failed(format!(
                        "not back with a new boot identity within {} (reboot_timeout)",
                        self.policy.reboot_timeout
                    )))
                }
            })?;
        } else {
            let _ = runtime.block_on(session.into_inner().close());
        }
        drop(runtime);

        p.step("collect", |p| {
            let target = crate::collect::Target { name: Some(u.host.clone()), destination: self.destination(&u.host) };
            let kinds = ["system".to_string(), "apt".to_string()];
            let outcomes = crate::collect::collect_ssh(self.snapshots, vec![target], &kinds, self.config, None);
            match outcomes.into_iter().next().map(|o| o.result) {
                Some(Ok(files)) => {
                    let n = files.len();
                    p.collected = files;
                    Ok(((), format!("{n} snapshots written")))
                }
                Some(Err(e)) => Err(Stop::failed(format!("collecting again failed: {e}"))),
                None => Err(Stop::failed("collecting again gave nothing")),
            }
        })?;
        Ok(())
    }

    /// Renders the run's log and writes both into the snapshots folder.
    fn write(&self, run: Run, output: String) -> Result<Done> {
        let mut ctx = tera::Context::new();
        ctx.insert("run", &run);
        ctx.insert("status", run.outcome.word());
        ctx.insert("output", &output);
        let log = self
            .templates
            .render("update-log.txt", &ctx)
            .map_err(|e| anyhow!("cannot render update-log.txt: {}", crate::problem::error_chain(&e)))?;
        let headline = log.lines().next().unwrap_or_default().to_string();
        let collected_at = self.opts.now.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string();
        let (host, outcome) = (run.host.clone(), run.outcome);
        let snapshot = RunSnapshot {
            schema: crate::snapshot::SCHEMA.into(),
            kind: "update".into(),
            host: host.clone(),
            collected_at: collected_at.clone(),
            agent: serde_json::json!({"version": env!("CARGO_PKG_VERSION"), "mode": "apply"}),
            probes: serde_json::Map::new(),
            run,
        };
        let layout: Layout = self.opts.layout;
        let files = run_log::write(self.snapshots, &snapshot, &log, layout)?;
        Ok(Done {
            kind: Kind::Update,
            summary: Some(format!("update {host} {}", outcome.word())),
            failed: outcome != Outcome::Ok,
            headline,
            files,
        })
    }
}

fn run_ok(root: &dyn Fn(&[&str]) -> Result<Exec, Stop>, command: &str) -> Result<((), String), Stop> {
    let out = root(&[command])?;
    if out.code != Some(0) {
        let said = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        return Err(Stop::failed(format!("apt-get {command} exited {:?}: {}", out.code, first_lines(&said, 3))));
    }
    Ok(((), format!("apt-get {command}")))
}

fn first_lines(text: &str, n: usize) -> String {
    text.lines().take(n).collect::<Vec<_>>().join("; ")
}

/// The configuration files dpkg kept (`--force-confold`), from its own words.
fn conffiles_kept(said: &str) -> Vec<String> {
    let mut kept = Vec::new();
    let mut current: Option<String> = None;
    for line in said.lines() {
        if let Some(rest) = line.trim().strip_prefix("Configuration file '") {
            current = rest.split('\'').next().map(String::from);
        } else if line.contains("Keeping old config file") {
            kept.extend(current.take());
        }
    }
    kept
}

/// What changed between two inventories.
fn changed(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> Vec<Changed> {
    let mut all: Vec<Changed> = Vec::new();
    for (package, version) in after {
        if before.get(package) != Some(version) {
            all.push(Changed {
                package: package.clone(),
                from: before.get(package).cloned(),
                to: Some(version.clone()),
            });
        }
    }
    for (package, version) in before {
        if !after.contains_key(package) {
            all.push(Changed { package: package.clone(), from: Some(version.clone()), to: None });
        }
    }
    all.sort_by(|a, b| a.package.cmp(&b.package));
    all
}

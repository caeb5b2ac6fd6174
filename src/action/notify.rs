//! Escalation mails, the second kind of action: the notifications of a plan
//! (`plan::escalation` decides which steps are due, `plan::silence` who
//! asked not to be told for a while), sent by `parc apply` and recorded in
//! `notify.json` snapshots so that a step is never sent twice.

use super::{Done, Kind};
use crate::config::Config;
use crate::plan::escalation::{self, Action, Attempt, Notification, Notified, Sent};
use crate::time::Instant;
use anyhow::{anyhow, Result};
use std::path::Path;

/// Whether the notifications still hold: not when a step was sent or a
/// silence set since the plan.
pub fn check(snapshots: &Path, plan: &crate::plan::Plan) -> Result<()> {
    if !plan.notify_inputs.is_empty() && escalation::inputs(snapshots)? != plan.notify_inputs {
        return Err(crate::plan::Stale::Notifications.into());
    }
    Ok(())
}

/// What a dry run says of each mail.
pub fn dry_run(notifications: &[Notification]) -> Vec<String> {
    notifications
        .iter()
        .map(|n| {
            let ids: Vec<&str> = n.findings.iter().map(|f| f.finding.as_str()).collect();
            match n.action {
                Action::Mail => format!("would mail {} about {}\n", n.notify, ids.join(", ")),
                Action::Run | Action::Webhook => format!("would {} for {}\n", n.notify, ids.join(", ")),
            }
        })
        .collect()
}

fn line(headline: String, failed: bool) -> Done {
    Done { kind: Kind::Notify, summary: None, failed, headline, files: Vec::new() }
}

/// Sends the notifications: one mail per recipient per run, grouping every
/// finding due for any mail table that names them (sent through the first
/// such table's settings). A step is recorded in this host's `notify.json`
/// once every recipient of its table got it; otherwise it comes due again
/// at the next run. Returns what each mail came to, and the `notify.json`
/// written.
pub fn send(
    config: &Config,
    tera: &tera::Tera,
    snapshots: &Path,
    notifications: &[Notification],
    now: &jiff::Zoned,
) -> Result<Vec<Done>> {
    if notifications.is_empty() {
        return Ok(Vec::new());
    }
    let at = Instant(now.timestamp().as_second());
    let date = now.strftime("%Y-%m-%d").to_string();
    let mut lines = Vec::new();
    // Recipient → the settings to send with, and what is due for them.
    let mut by_recipient: std::collections::BTreeMap<&str, (&crate::mail::MailConfig, Notification)> =
        Default::default();
    let (mails, hooks): (Vec<&Notification>, Vec<&Notification>) =
        notifications.iter().partition(|n| n.action == Action::Mail);
    for n in &mails {
        let mail = match crate::mail::lookup(&config.mail, &n.notify) {
            Ok(mail) => mail,
            Err(e) => {
                lines.push(line(format!("could not mail {}: {e}", n.notify), true));
                continue;
            }
        };
        for to in &mail.to {
            let entry = by_recipient.entry(to.as_str()).or_insert_with(|| {
                (mail, Notification { notify: to.clone(), action: Action::Mail, findings: Vec::new() })
            });
            for f in &n.findings {
                if !entry.1.findings.iter().any(|g| g.finding == f.finding && g.step == f.step) {
                    entry.1.findings.push(f.clone());
                }
            }
        }
    }
    let mut reached: std::collections::BTreeSet<&str> = Default::default();
    for (to, (settings, merged)) in &by_recipient {
        let outcome = (|| -> Result<()> {
            let worst = merged.findings.iter().map(|f| f.severity).max().map_or("INFO", |s| match s {
                crate::derive::findings::Severity::Critical => "CRITICAL",
                crate::derive::findings::Severity::Warning => "WARNING",
                crate::derive::findings::Severity::Info => "INFO",
            });
            let subject =
                settings.subject.replace("{job}", "findings").replace("{status}", worst).replace("{date}", &date);
            let mut ctx = tera::Context::new();
            ctx.insert("n", merged);
            let body = tera
                .render("findings-mail.txt", &ctx)
                .map_err(|e| anyhow!("cannot render findings-mail.txt: {}", crate::problem::error_chain(&e)))?;
            let one = crate::mail::MailConfig { to: vec![to.to_string()], ..(*settings).clone() };
            one.send(&crate::mail::Mail { subject, body, attachment: None })
        })();
        match outcome {
            Ok(()) => {
                reached.insert(to);
                lines.push(line(format!("mailed {} finding(s) to {to}", merged.findings.len()), false));
            }
            Err(e) => {
                lines.push(line(format!("could not mail {to}: {}", crate::problem::error_chain(e.as_ref())), true));
            }
        }
    }
    let mut sent = Vec::new();
    for n in &mails {
        let Ok(mail) = crate::mail::lookup(&config.mail, &n.notify) else { continue };
        if mail.to.iter().all(|to| reached.contains(to.as_str())) {
            sent.extend(n.findings.iter().map(|f| Sent {
                finding: f.finding.clone(),
                since: f.since,
                step: f.step,
                notify: n.notify.clone(),
                at,
                answer: None,
            }));
        }
    }
    let mut failed = Vec::new();
    for n in &hooks {
        for f in &n.findings {
            match hook(config, n, f) {
                Ok(answer) => {
                    lines.push(line(format!("{} for {}: done", n.notify, f.finding), false));
                    let (finding, notify) = (f.finding.clone(), n.notify.clone());
                    sent.push(Sent { finding, since: f.since, step: f.step, notify, at, answer: Some(answer) });
                }
                Err(e) => {
                    lines.push(line(format!("{} for {} failed: {}", n.notify, f.finding, e.error), true));
                    let (finding, notify) = (f.finding.clone(), n.notify.clone());
                    failed.push(Attempt {
                        finding,
                        since: f.since,
                        step: f.step,
                        notify,
                        at,
                        error: e.error,
                        answer: e.answer,
                    });
                }
            }
        }
    }
    if !sent.is_empty() || !failed.is_empty() {
        let host = crate::host::this()?;
        let (steps, tries) = (sent.len(), failed.len());
        let path = escalation::record(snapshots, &host, sent, failed, now)?;
        let words = match tries {
            0 => format!("recorded {steps} step(s) sent"),
            _ => format!("recorded {steps} step(s) sent, {tries} failed (tried again at the next apply)"),
        };
        let mut record = line(words, false);
        record.files.push(path);
        lines.push(record);
    }
    Ok(lines)
}

/// Runs a command step or a web hook step for one finding, as the
/// configuration has it now: the plan names the step, the configuration
/// says what it does (a web hook's URL is not written into plans).
fn hook(config: &Config, n: &Notification, f: &Notified) -> Result<escalation::Answer, super::hook::Failed> {
    let step = escalation::rule(&config.escalation, &f.kind, &f.host).and_then(|r| r.steps.get(f.step));
    let Some(step) = step.filter(|s| s.label() == n.notify && s.action() == n.action) else {
        let error = format!("step {} is no longer {} in the configuration: plan again", f.step, n.notify);
        return Err(super::hook::Failed { error, answer: None });
    };
    match n.action {
        Action::Run => super::hook::run(step, f),
        _ => super::hook::post(step, f),
    }
}

//! The notifications of a plan, sent by `parc apply` (one mail per mail
//! table) and recorded in `notify.json`.

use crate::config::Config;
use crate::plan::escalation::{self, Notification, Sent};
use crate::time::Instant;
use anyhow::{anyhow, Result};
use std::path::Path;

/// Sends the notifications: one mail per recipient per run, grouping every
/// finding due for any mail table that names them (sent through the first
/// such table's settings). A step is recorded in this host's `notify.json`
/// once every recipient of its table got it; otherwise it comes due again
/// at the next run. Returns a line per mail, whether one failed, and the
/// `notify.json` written.
pub fn send(
    config: &Config,
    tera: &tera::Tera,
    snapshots: &Path,
    notifications: &[Notification],
    now: &jiff::Zoned,
) -> Result<(Vec<String>, bool, Option<std::path::PathBuf>)> {
    if notifications.is_empty() {
        return Ok((Vec::new(), false, None));
    }
    let at = Instant(now.timestamp().as_second());
    let date = now.strftime("%Y-%m-%d").to_string();
    let mut lines = Vec::new();
    let mut failed = false;
    // Recipient → the settings to send with, and what is due for them.
    let mut by_recipient: std::collections::BTreeMap<&str, (&crate::mail::MailConfig, Notification)> =
        Default::default();
    for n in notifications {
        let mail = match crate::mail::lookup(&config.mail, &n.notify) {
            Ok(mail) => mail,
            Err(e) => {
                failed = true;
                lines.push(format!("could not mail {}: {e}", n.notify));
                continue;
            }
        };
        for to in &mail.to {
            let entry = by_recipient
                .entry(to.as_str())
                .or_insert_with(|| (mail, Notification { notify: to.clone(), findings: Vec::new() }));
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
                lines.push(format!("mailed {} finding(s) to {to}", merged.findings.len()));
            }
            Err(e) => {
                failed = true;
                lines.push(format!("could not mail {to}: {}", crate::problem::error_chain(e.as_ref())));
            }
        }
    }
    let mut sent = Vec::new();
    for n in notifications {
        let Ok(mail) = crate::mail::lookup(&config.mail, &n.notify) else { continue };
        if mail.to.iter().all(|to| reached.contains(to.as_str())) {
            sent.extend(n.findings.iter().map(|f| Sent {
                finding: f.finding.clone(),
                since: f.since,
                step: f.step,
                notify: n.notify.clone(),
                at,
            }));
        }
    }
    let mut written = None;
    if !sent.is_empty() {
        let host = crate::host::this().map_err(anyhow::Error::msg)?;
        let path = escalation::record(snapshots, &host, sent, now)?;
        lines.push(format!("wrote {}", path.display()));
        written = Some(path);
    }
    Ok((lines, failed, written))
}

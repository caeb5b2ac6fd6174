//! Escalation, as a monitor's action lists: per finding kind, steps that
//! come due some time after the finding began (`after`), each naming a
//! `[mail.NAME]` table. `parc plan` lists the steps due and not yet sent;
//! `parc apply` sends them, one mail per mail table grouping its findings,
//! and records what it sent in the snapshot `snapshots/<host>/notify.json`,
//! so that a step is never sent twice. A step belongs to an occurrence (a
//! finding's id and its since): a finding that clears stops its escalation,
//! and one that comes back starts again. A silenced finding pauses.

use crate::derive::findings::{Finding, Severity};
use crate::plan::silence::Silences;
use crate::time::Duration;
use crate::time::Instant;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

pub use crate::config::escalation::{Action, Rule, StepRule};

/// One step sent, as `notify.json` records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Sent {
    pub finding: String,
    /// The occurrence's since (seconds since the epoch).
    pub since: Instant,
    /// The step's index in its rule, from 0.
    pub step: usize,
    /// The step's mail table, `run:<program>` or `webhook:<host>`.
    pub notify: String,
    /// When it was sent (seconds since the epoch).
    pub at: Instant,
    /// A command's exit status, or a web hook's HTTP status, and what it answered.
    #[serde(default, flatten, skip_serializing_if = "Option::is_none")]
    pub answer: Option<Answer>,
}

/// What a command or a web hook answered.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Answer {
    /// The command's exit status (none when a signal or the time limit ended it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<i32>,
    /// The web hook's HTTP status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// What it printed (stdout, then stderr) or answered, cut at 4 KiB.
    #[serde(default)]
    pub output: String,
}

/// A step tried and not done: kept until it is sent, tried again at each apply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Attempt {
    pub finding: String,
    pub since: Instant,
    pub step: usize,
    pub notify: String,
    /// When it was last tried.
    pub at: Instant,
    /// Why it failed, in words.
    pub error: String,
    #[serde(default, flatten, skip_serializing_if = "Option::is_none")]
    pub answer: Option<Answer>,
}

/// The snapshot `notify.json`.
#[derive(Debug, Serialize, Deserialize)]
pub struct NotifySnapshot {
    pub schema: String,
    pub kind: String,
    pub host: String,
    pub collected_at: String,
    #[serde(default)]
    pub agent: serde_json::Value,
    #[serde(default)]
    pub probes: serde_json::Map<String, serde_json::Value>,
    pub sent: Vec<Sent>,
    /// Steps that failed at their last try, not sent yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<Attempt>,
}

pub const FILE: &str = "notify.json";

/// Every step recorded in any host's `notify.json`, with the files' bytes (the plan's inputs).
pub fn read_sent(snapshots: &Path) -> Result<(Vec<Sent>, Vec<u8>)> {
    let mut sent = Vec::new();
    let mut bytes = Vec::new();
    let Ok(hosts) = std::fs::read_dir(snapshots) else { return Ok((sent, bytes)) };
    let mut files: Vec<_> = hosts.flatten().map(|h| h.path().join(FILE)).filter(|p| p.is_file()).collect();
    files.sort();
    for path in files {
        let data = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let snap: NotifySnapshot =
            serde_json::from_slice(&data).with_context(|| format!("{} is not a notify snapshot", path.display()))?;
        sent.extend(snap.sent);
        bytes.extend(data);
    }
    Ok((sent, bytes))
}

/// A step of a finding's escalation: which, to whom, when due.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Due {
    pub step: usize,
    /// The step's label (see [`StepRule::label`]).
    pub notify: String,
    pub due: Instant,
    #[serde(default)]
    pub action: Action,
}

/// The rule a finding of `kind` on `host` follows: the first that applies.
pub fn rule<'r>(rules: &'r [Rule], kind: &str, host: &str) -> Option<&'r Rule> {
    rules.iter().find(|r| r.applies(kind, host))
}

/// The steps of `finding`'s escalation: the sent ones, and those not sent yet, in order.
pub fn steps(rules: &[Rule], finding: &Finding, sent: &[Sent]) -> (Vec<Sent>, Vec<Due>) {
    // The first rule that applies: one for a team's hosts comes before the catch-all.
    let Some(rule) = rule(rules, finding.kind.as_str(), &finding.host) else {
        return (Vec::new(), Vec::new());
    };
    let mut done = Vec::new();
    let mut todo = Vec::new();
    for (i, step) in rule.steps.iter().enumerate() {
        match sent.iter().find(|s| s.finding == finding.id && s.since == finding.since && s.step == i) {
            Some(s) => done.push(s.clone()),
            None => todo.push(Due {
                step: i,
                notify: step.label(),
                due: after(finding.since, step.after),
                action: step.action(),
            }),
        }
    }
    (done, todo)
}

fn after(since: Instant, d: Duration) -> Instant {
    let ts = jiff::Timestamp::from_second(since.0).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let civil = ts.to_zoned(jiff::tz::TimeZone::UTC).datetime();
    let later = civil.checked_add(jiff::Span::new().years(d.years).months(d.months).days(d.days).hours(d.hours));
    later
        .ok()
        .and_then(|c| c.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map_or(since, |z| Instant(z.timestamp().as_second()))
}

/// A finding in a planned notification.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Notified {
    pub finding: String,
    pub host: String,
    pub kind: String,
    pub severity: Severity,
    pub text: String,
    pub since: Instant,
    pub step: usize,
}

/// One step to take for some findings: a mail of a mail table carrying
/// them, or a command or a web hook for each.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Notification {
    /// The mail table, `run:<program>` or `webhook:<host>`.
    pub notify: String,
    #[serde(default)]
    pub action: Action,
    pub findings: Vec<Notified>,
}

/// The notifications due at `now`: every step due and not sent, of every
/// finding not silenced, grouped by mail table.
pub fn plan(
    rules: &[Rule],
    findings: &[(Finding, String)],
    sent: &[Sent],
    silences: &Silences,
    now: Instant,
) -> Vec<Notification> {
    let mut by_mail: std::collections::BTreeMap<(String, Action), Vec<Notified>> = Default::default();
    for (f, text) in findings {
        if silences.silences.iter().any(|s| s.id == f.id && s.covers(f.since, now)) {
            continue;
        }
        for due in steps(rules, f, sent).1.into_iter().filter(|d| d.due <= now) {
            by_mail.entry((due.notify.clone(), due.action)).or_default().push(Notified {
                finding: f.id.clone(),
                host: f.host.clone(),
                kind: f.kind.to_string(),
                severity: f.severity,
                text: text.clone(),
                since: f.since,
                step: due.step,
            });
        }
    }
    by_mail.into_iter().map(|((notify, action), findings)| Notification { notify, action, findings }).collect()
}

/// Writes this host's `notify.json`: what it sent before and now, and the
/// steps whose newest try failed (one entry a step, dropped once sent).
pub fn record(
    snapshots: &Path,
    host: &str,
    now_sent: Vec<Sent>,
    now_failed: Vec<Attempt>,
    at: &jiff::Zoned,
) -> Result<std::path::PathBuf> {
    let path = snapshots.join(host).join(FILE);
    let (mut sent, mut failed) = match std::fs::read(&path) {
        Ok(data) => serde_json::from_slice::<NotifySnapshot>(&data).map(|s| (s.sent, s.failed)).unwrap_or_default(),
        Err(_) => Default::default(),
    };
    sent.extend(now_sent);
    let key = |finding: &str, since: Instant, step: usize| (finding.to_string(), since, step);
    let done: std::collections::HashSet<_> = sent.iter().map(|s| key(&s.finding, s.since, s.step)).collect();
    let retried: std::collections::HashSet<_> = now_failed.iter().map(|a| key(&a.finding, a.since, a.step)).collect();
    failed.retain(|a| !retried.contains(&key(&a.finding, a.since, a.step)));
    failed.extend(now_failed);
    failed.retain(|a| !done.contains(&key(&a.finding, a.since, a.step)));
    let snapshot = NotifySnapshot {
        schema: crate::snapshot::SCHEMA.into(),
        kind: "notify".into(),
        host: host.into(),
        collected_at: at.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        agent: serde_json::json!({"version": env!("CARGO_PKG_VERSION"), "mode": "apply"}),
        probes: Default::default(),
        sent,
        failed,
    };
    Ok(crate::snapshot::write(snapshots, host, "notify", &serde_json::to_value(&snapshot)?)?)
}

/// SHA-256 of what notifications are planned from besides the findings:
/// every `notify.json` and `silences.toml`. A plan whose inputs changed
/// (another apply sent a step, a silence was set) is refused.
pub fn inputs(snapshots: &Path) -> Result<String> {
    let (_, sent) = read_sent(snapshots)?;
    let mut h = Sha256::new();
    h.update(sent);
    h.update([0]);
    h.update(std::fs::read(super::silence::path(snapshots)).unwrap_or_default());
    Ok(hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(since: i64) -> Finding {
        Finding {
            id: "smart-failing:h:d".into(),
            host: "h".into(),
            kind: crate::derive::findings::Kind::SmartFailing,
            severity: Severity::Critical,
            values: Default::default(),
            evidence: Vec::new(),
            since: Instant(since),
        }
    }

    fn rules() -> Vec<Rule> {
        let step = |h: i64, notify: &str| StepRule {
            after: Duration { hours: h, ..Duration::default() },
            notify: Some(notify.into()),
            ..StepRule::default()
        };
        vec![Rule {
            kinds: vec!["smart-failing".into()],
            hosts: Vec::new(),
            steps: vec![step(0, "ops"), step(24, "ops"), step(72, "boss")],
        }]
    }

    #[test]
    fn a_rule_for_some_hosts_comes_before_the_catch_all() {
        let proxmox = Rule {
            kinds: vec!["smart-failing".into()],
            hosts: vec!["pve*".into()],
            steps: vec![StepRule { notify: Some("proxmox".into()), ..StepRule::default() }],
        };
        let all = [proxmox, rules().remove(0)];
        let on = |host: &str| Finding { host: host.into(), id: format!("smart-failing:{host}:d"), ..finding(0) };
        let due = |host: &str| plan(&all, &[(on(host), "t".to_string())], &[], &Silences::default(), Instant(3600));
        assert_eq!(due("pve1")[0].notify, "proxmox");
        assert_eq!(due("files")[0].notify, "ops");
        assert!(!all[0].applies("smart-failing", "db1") && all[0].applies("smart-failing", "pve2"));
        assert!(!all[0].applies("smart-watch", "pve1"), "the kinds still count");
    }

    #[test]
    fn steps_come_due_once_and_restart_with_a_new_occurrence() {
        let f = finding(0);
        let list = [(f.clone(), "t".to_string())];
        let none = Silences::default();
        let due = plan(&rules(), &list, &[], &none, Instant(3600));
        assert_eq!(due.len(), 1);
        assert_eq!((due[0].notify.as_str(), due[0].findings[0].step), ("ops", 0));
        let sent = vec![Sent {
            finding: f.id.clone(),
            since: f.since,
            step: 0,
            notify: "ops".into(),
            at: Instant(3600),
            answer: None,
        }];
        assert!(plan(&rules(), &list, &sent, &none, Instant(7200)).is_empty(), "never twice");
        let later = plan(&rules(), &list, &sent, &none, Instant(73 * 3600));
        let steps: Vec<(String, usize)> =
            later.iter().flat_map(|n| n.findings.iter().map(|f| (n.notify.clone(), f.step))).collect();
        assert_eq!(steps, [("boss".to_string(), 2), ("ops".to_string(), 1)]);
        // Cleared and back: a new since, its escalation starts at step 0 again.
        let back = [(finding(100 * 3600), "t".to_string())];
        let again = plan(&rules(), &back, &sent, &none, Instant(100 * 3600));
        assert_eq!(again[0].findings[0].step, 0);
    }

    #[test]
    fn a_silenced_finding_pauses() {
        let f = finding(0);
        let silences = Silences {
            silences: vec![crate::plan::silence::Silence {
                id: f.id.clone(),
                until: "1970-01-05".into(),
                reason: "r".into(),
                by: "b".into(),
                at: "1970-01-01T01:00:00Z".into(),
            }],
        };
        let list = [(f, "t".to_string())];
        assert!(plan(&rules(), &list, &[], &silences, Instant(3 * 86_400)).is_empty());
        assert_eq!(plan(&rules(), &list, &[], &silences, Instant(6 * 86_400)).len(), 2, "resumes when it expires");
    }
}

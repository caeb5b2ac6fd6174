//! What the site publishes of findings: `api/v1/findings.json`, the
//! findings page and the dashboard's first section, an Atom feed, and a
//! shields.io badge per host.

use super::Site;
use crate::derive::findings::{Evidence, Finding, Severity};
use crate::plan::silence::Silence;
use crate::time::Instant;
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::HashMap;

/// One finding (`api/v1/findings.json`).
#[derive(Serialize, JsonSchema)]
pub struct FindingView<'a> {
    /// Stable: the same problem keeps its id from build to build.
    pub id: &'a str,
    pub host: &'a str,
    pub host_slug: String,
    /// `host-stale`, `host-unreachable`, `fleet-stale`, `smart-failing`, `smart-watch`, `filesystem-full`, `reboot-required`,
    /// `security-updates`, `held-packages`, `apt-error`, `archive-failed`, `archive-stale`,
    /// `disk-moved`, `probe-failed`, `update-failed`, `reboot-unverified`.
    pub kind: crate::derive::findings::Kind,
    pub severity: Severity,
    /// What to do, in words.
    pub text: String,
    /// The first snapshot from which the condition held without a break (seconds since the epoch).
    pub since: Instant,
    /// `open`, or `closed`: it held from `since` until `closed`. The list holds the open
    /// findings first, then those closed in the last `findings.closed_days`.
    pub state: State,
    /// The first snapshot that no longer showed it, once closed.
    pub closed: Option<Instant>,
    pub evidence: &'a [Evidence],
    /// The silence that covers it, when one does.
    pub silenced: Option<&'a Silence>,
    pub escalation: Escalation,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Open,
    Closed,
}

/// The escalation steps sent for this occurrence, and the next one due.
#[derive(Serialize, JsonSchema)]
pub struct Escalation {
    pub sent: Vec<SentStep>,
    pub next: Option<NextStep>,
}

#[derive(Serialize, JsonSchema)]
pub struct SentStep {
    pub step: usize,
    pub notify: String,
    pub at: Instant,
}

#[derive(Serialize, JsonSchema)]
pub struct NextStep {
    pub step: usize,
    pub notify: String,
    /// When it is due (seconds since the epoch).
    pub due: Instant,
}

/// Every open finding's view, most severe and oldest first.
pub fn views<'a>(site: &Site<'a>) -> Vec<FindingView<'a>> {
    let now = site.fleet.now().unwrap_or(Instant(0));
    (site.derived.findings.iter())
        .map(|f| {
            let silenced = site.silences.silences.iter().find(|s| s.id == f.id && s.covers(f.since, now));
            view(site, f, None, silenced, "finding.txt")
        })
        .collect()
}

/// Every closed finding's view, the newest closure first.
pub fn closed_views<'a>(site: &Site<'a>) -> Vec<FindingView<'a>> {
    (site.derived.closed.iter())
        .map(|c| {
            let f = &c.finding;
            let silenced = site.silences.silences.iter().find(|s| s.id == f.id && s.during(f.since, c.closed));
            view(site, f, Some(c.closed), silenced, "finding-closed.txt")
        })
        .collect()
}

fn view<'a>(
    site: &Site<'a>,
    f: &'a Finding,
    closed: Option<Instant>,
    silenced: Option<&'a Silence>,
    words: &str,
) -> FindingView<'a> {
    let (sent, todo) = crate::plan::escalation::steps(&site.config.escalation, f, site.sent);
    let escalation = Escalation {
        sent: sent.into_iter().map(|s| SentStep { step: s.step, notify: s.notify, at: s.at }).collect(),
        // Paused while silenced; over once closed.
        next: todo.into_iter().next().filter(|_| silenced.is_none() && closed.is_none()).map(|d| NextStep {
            step: d.step,
            notify: d.notify,
            due: d.due,
        }),
    };
    FindingView {
        id: &f.id,
        host: &f.host,
        host_slug: site.views.host_slug(&f.host).to_string(),
        kind: f.kind,
        severity: f.severity,
        text: text(&site.inputs.tera, words, f),
        since: f.since,
        state: if closed.is_some() { State::Closed } else { State::Open },
        closed,
        evidence: &f.evidence,
        silenced,
        escalation,
    }
}

/// A finding as the page and the feed list it: an anchor, and when it last changed.
#[derive(Serialize)]
pub struct Row<'a> {
    pub slug: String,
    /// The page of the findings list that holds it (`findings.html`, `findings-2.html`, …).
    pub page: String,
    /// When the entry last changed: the occurrence began, or a silence was set.
    pub updated: Instant,
    #[serde(flatten)]
    pub view: &'a FindingView<'a>,
}

/// The findings as rows of the list whose first page is `first`, in pages of `per_page`.
pub fn rows<'a>(views: &'a [FindingView<'a>], first: &str, per_page: usize) -> Vec<Row<'a>> {
    views
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let silenced = v.silenced.and_then(|s| Instant::parse_rfc3339(&s.at).ok());
            let updated = silenced.map_or(v.since, |s| s.max(v.since));
            Row {
                // A closed occurrence has an anchor of its own: the same finding may be open again.
                slug: match v.closed {
                    Some(_) => format!("{}-closed-{}", crate::slug::slug(v.id), v.since.0),
                    None => crate::slug::slug(v.id),
                },
                page: super::html::page_path(first, i / per_page + 1),
                updated: v.closed.map_or(updated, |c| c.max(updated)),
                view: v,
            }
        })
        .collect()
}

/// A finding in words, from the `finding.txt` template (`finding-closed.txt` once closed).
pub fn text(tera: &tera::Tera, template: &str, f: &Finding) -> String {
    let mut ctx = tera::Context::new();
    ctx.insert("f", f);
    match tera.render(template, &ctx) {
        Ok(text) => text.trim().to_string(),
        Err(e) => format!("{} ({})", f.kind, crate::problem::error_chain(&e)),
    }
}

/// A shields.io endpoint (`api/v1/badges/<host>.json`).
#[derive(Serialize, JsonSchema)]
pub struct Badge {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u8,
    pub label: String,
    pub message: String,
    pub color: &'static str,
}

/// Each host's badge: its worst unsilenced finding's severity and how many there are.
pub fn badges<'a>(site: &'a Site, findings: &[FindingView<'a>]) -> Vec<(&'a str, Badge)> {
    // Each host's open findings counted once, not every finding read for every host.
    let mut open: HashMap<&str, (usize, usize)> = HashMap::new();
    for f in findings.iter().filter(|f| f.silenced.is_none()) {
        let (critical, warning) = open.entry(f.host).or_default();
        match f.severity {
            Severity::Critical => *critical += 1,
            Severity::Warning => *warning += 1,
            Severity::Info => {}
        }
    }
    site.views
        .hosts
        .iter()
        .map(|h| {
            let (critical, warning) = open.get(h.name.as_str()).copied().unwrap_or_default();
            let color = match (critical, warning) {
                (0, 0) => "brightgreen",
                (0, _) => "orange",
                _ => "red",
            };
            let mut ctx = tera::Context::new();
            ctx.insert("critical", &critical);
            ctx.insert("warning", &warning);
            let message = site.inputs.tera.render("badge.txt", &ctx).map(|m| m.trim().to_string()).unwrap_or_default();
            (h.slug.as_str(), Badge { schema_version: 1, label: h.name.clone(), message, color })
        })
        .collect()
}

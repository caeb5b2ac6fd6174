//! The Updates page and `api/v1/updates.json`: every APT update run per
//! host, newest first, and the plan's next updates with their skip reasons.

use super::Site;
use crate::plan::update::HostUpdate;
use crate::snapshot::update::{Changed, Outcome, Rebooted};
use crate::time::Instant;
use serde::Serialize;

/// `api/v1/updates.json`.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Updates<'a> {
    /// Every run, newest first.
    pub runs: Vec<RunView<'a>>,
    /// The updates the plan (as of the newest snapshot) would carry out or skip.
    pub next: &'a [HostUpdate],
}

/// One host's update run, as its `update` snapshot recorded it.
#[derive(Serialize, schemars::JsonSchema)]
pub struct RunView<'a> {
    pub host: &'a str,
    pub host_slug: &'a str,
    /// When the run's snapshot was written.
    pub at: Instant,
    pub policy: &'a str,
    pub action: &'a str,
    pub outcome: Outcome,
    pub failed_step: Option<&'a str>,
    pub cause: Option<&'a str>,
    pub changed: &'a [Changed],
    pub conffiles_kept: &'a [String],
    pub reboot: Option<&'a Rebooted>,
    pub duration_ms: u64,
}

pub fn updates<'a>(site: &'a Site) -> Updates<'a> {
    let mut runs: Vec<RunView> = site
        .hosts()
        .into_iter()
        .flat_map(|h| {
            h.host.updates.iter().map(move |u| RunView {
                host: &h.view.name,
                host_slug: &h.view.slug,
                at: u.at,
                policy: &u.run.policy,
                action: &u.run.action,
                outcome: u.run.outcome,
                failed_step: u.run.failed_step.as_deref(),
                cause: u.run.cause.as_deref(),
                changed: &u.run.changed,
                conffiles_kept: &u.run.conffiles_kept,
                reboot: u.run.reboot.as_ref(),
                duration_ms: u.run.duration_ms,
            })
        })
        .collect();
    runs.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.host.cmp(b.host)));
    Updates { runs, next: site.plan.map_or(&[], |p| p.updates.as_slice()) }
}

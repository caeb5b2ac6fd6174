//! APT updates, the third kind of action. A plan's updates hold while each
//! host's newest `apt` snapshot is the one they were planned from. This
//! version plans updates and says what it would do (`--dry-run`); carrying
//! them out over SSH is not built yet, and a plan holding one says so
//! rather than doing part of it.

use super::{Done, Kind};
use crate::plan::update::{newest_apt, Decision, HostUpdate};
use crate::plan::Plan;
use anyhow::Result;
use std::path::Path;

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

/// Each update the plan would carry out, reported as not done.
pub fn apply(updates: &[HostUpdate]) -> Vec<Done> {
    updates
        .iter()
        .filter(|u| u.decision == Decision::Update)
        .map(|u| Done {
            kind: Kind::Update,
            summary: None,
            failed: true,
            headline: format!(
                "update {} NOT DONE: this version of parc plans updates but does not carry them out yet; nothing was changed on the host",
                u.host
            ),
            files: Vec::new(),
        })
        .collect()
}

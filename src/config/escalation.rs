//! `[[escalation]]`: who is told of a finding, and when.

use crate::time::Duration;
use serde::{Deserialize, Serialize};

/// `[[escalation]]` of `parc.toml`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The finding kinds it applies to.
    pub kinds: Vec<String>,
    /// The hosts it applies to (globs: `pve*`); none: every host.
    #[serde(default)]
    pub hosts: Vec<String>,
    pub steps: Vec<StepRule>,
}

impl Rule {
    /// Whether the rule applies to a finding of `kind` on `host`.
    pub fn applies(&self, kind: &str, host: &str) -> bool {
        let host_matches =
            |pattern: &String| globset::Glob::new(pattern).is_ok_and(|g| g.compile_matcher().is_match(host));
        self.kinds.iter().any(|k| k == kind) && (self.hosts.is_empty() || self.hosts.iter().any(host_matches))
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StepRule {
    /// How long after the finding began (`0h`, `24h`, `3d`).
    pub after: Duration,
    /// A `[mail.NAME]` table.
    pub notify: String,
}

//! `[[escalation]]`: who is told of a finding, and when.

use crate::time::Duration;
use serde::{Deserialize, Serialize};

/// `[[escalation]]` of `parc.toml`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The finding kinds it applies to.
    pub kinds: Vec<String>,
    pub steps: Vec<StepRule>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StepRule {
    /// How long after the finding began (`0h`, `24h`, `3d`).
    pub after: Duration,
    /// A `[mail.NAME]` table.
    pub notify: String,
}

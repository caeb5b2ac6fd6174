//! The `update` kind: the log of one host's APT update, as `parc apply`
//! writes it (`snapshots/<host>/update.json`, a text `.log` beside it).

use serde::{Deserialize, Serialize};

pub use super::archive::Step;

/// How an update ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Done (and, when one was due, the reboot verified).
    Ok,
    /// A step failed; the log says which and why.
    Failed,
    /// Not started: the host no longer matched the plan, or an earlier host failed.
    Refused,
}

impl Outcome {
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "FAILED",
            Outcome::Refused => "REFUSED",
        }
    }
}

/// A package the update changed, from the dpkg inventories before and after.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Changed {
    pub package: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// What tells one boot of a host from the next: the kernel's boot id, and
/// PID 1's start time (a container keeps its host's boot id).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BootIdentity {
    pub boot_id: String,
    pub pid1_start: String,
}

/// The reboot, verified by a new boot identity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Rebooted {
    pub before: BootIdentity,
    /// None when the host did not come back within `reboot_timeout`.
    pub after: Option<BootIdentity>,
    pub seconds: u64,
    pub verified: bool,
}

/// The run log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub host: String,
    pub policy: String,
    /// The fingerprint of the plan carried out.
    pub plan: String,
    pub action: String,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    pub started_at: String,
    /// The clock's time when this host's run began and ended (RFC 3339, UTC).
    #[serde(default)]
    pub began: String,
    #[serde(default)]
    pub ended: String,
    pub duration_ms: u64,
    pub steps: Vec<Step>,
    pub changed: Vec<Changed>,
    /// Configuration files kept as they were, where the package brought a new version.
    pub conffiles_kept: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reboot: Option<Rebooted>,
}

/// The snapshot that holds an update's log.
pub type RunSnapshot = super::archive::RunSnapshot<Run>;

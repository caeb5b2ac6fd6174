//! Who is told about findings, and who asked not to be for a while:
//! silences (`silences.toml` in the snapshots folder, versioned like
//! everything else) and escalation (steps planned by `parc plan`, sent by
//! `parc apply`, recorded in `notify.json` snapshots).

pub mod escalation;
pub mod send;
pub mod silence;

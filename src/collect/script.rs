//! The probe scripts, one per kind, compiled into the binary. The same
//! script serves local collection and collection over SSH.

const PRELUDE: &str = include_str!("probes/prelude.sh");

/// The kinds parc has a probe script for.
pub const KINDS: &[(&str, &str)] =
    &[("system", include_str!("probes/system.sh")), ("disks", include_str!("probes/disks.sh"))];

/// The whole script of a kind: the shared prelude, then the kind's probes.
pub fn script(kind: &str) -> Option<String> {
    let (_, body) = KINDS.iter().find(|(k, _)| *k == kind)?;
    Some(format!("{PRELUDE}\n{body}\nfinish\n"))
}

pub fn kind_names() -> Vec<&'static str> {
    KINDS.iter().map(|(k, _)| *k).collect()
}

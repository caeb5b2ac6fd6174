//! The probe scripts, one per kind, compiled into the binary. The same
//! script serves local collection and collection over SSH.

const PRELUDE: &str = include_str!("probes/prelude.sh");

/// The kinds parc has a probe script for.
pub const KINDS: &[(&str, &str)] = &[
    ("system", include_str!("probes/system.sh")),
    ("disks", include_str!("probes/disks.sh")),
    ("apt", include_str!("probes/apt.sh")),
];

/// `parc-root`: the one program sudo lets the probes run as root, which runs
/// exactly the probes' root commands and refuses anything else.
pub const SUDO_WRAPPER: &str = include_str!("probes/parc-root.sh");

/// The whole script of a kind: the shared prelude, then the kind's probes.
pub fn script(kind: &str) -> Option<String> {
    let (_, body) = KINDS.iter().find(|(k, _)| *k == kind)?;
    Some(format!("{PRELUDE}\n{body}\nfinish\n"))
}

/// The script of a kind, or why there is none.
pub fn for_kind(kind: &str) -> Result<String, UnknownKind> {
    script(kind).ok_or_else(|| UnknownKind(kind.to_string()))
}

/// A kind with no probe script.
#[derive(Debug, thiserror::Error)]
#[error("no probe script for kind {0:?} (known: {known})", known = known_kinds())]
pub struct UnknownKind(pub String);

fn known_kinds() -> String {
    KINDS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
}

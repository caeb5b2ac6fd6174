//! Host names: this machine's, and what a name must be to become a folder
//! of the snapshots folder.

/// This machine's host name.
pub fn this() -> Result<String, String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| {
            std::process::Command::new("hostname").output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        })
        .map(|s| s.trim().to_string())
        .map_err(|e| format!("cannot tell this machine's name: {e}"))
}

/// A host name becomes a folder name: it must be one plain path component.
pub fn check_name(name: &str) -> Result<(), String> {
    let bad = name.is_empty()
        || name.len() > 253
        || name.starts_with('.')
        || name.chars().any(|c| c == '/' || c == '\\' || c.is_control());
    if bad {
        Err(format!(
            "{name:?} cannot be a host folder name (empty, starts with '.', or holds '/' or control characters)"
        ))
    } else {
        Ok(())
    }
}

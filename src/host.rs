//! Host names: this machine's, and what a name must be to become a folder
//! of the snapshots folder.

/// What is wrong with a host name.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot tell this machine's name: {0}")]
    Unknown(std::io::Error),
    #[error("{0:?} cannot be a host folder name (empty, starts with '.', or holds '/' or control characters)")]
    NotAFolderName(String),
}

/// This machine's host name.
pub fn this() -> Result<String, Error> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| {
            std::process::Command::new("hostname").output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        })
        .map(|s| s.trim().to_string())
        .map_err(Error::Unknown)
}

/// A host name becomes a folder name: it must be one plain path component.
pub fn check_name(name: &str) -> Result<(), Error> {
    let bad = name.is_empty()
        || name.len() > 253
        || name.starts_with('.')
        || name.chars().any(|c| c == '/' || c == '\\' || c.is_control());
    if bad {
        Err(Error::NotAFolderName(name.to_string()))
    } else {
        Ok(())
    }
}

//! One `parc apply` at a time: a lock file holding the owner's process id
//! and host. A lock whose process is gone (a crash, a reboot) is stale: it
//! is taken over, and the log says so.

use anyhow::{bail, Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct Lock {
    path: PathBuf,
}

impl Lock {
    pub fn take(path: &Path) -> Result<Lock> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let host = crate::host::this().unwrap_or_default();
        for _ in 0..2 {
            match std::fs::OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(mut file) => {
                    writeln!(file, "{} {host}", std::process::id())?;
                    return Ok(Lock { path: path.to_path_buf() });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = std::fs::read_to_string(path).unwrap_or_default();
                    let mut words = text.split_whitespace();
                    let pid: Option<i32> = words.next().and_then(|p| p.parse().ok());
                    let owner_host = words.next().unwrap_or("");
                    let alive = match pid {
                        // Signal 0 asks only whether the process exists.
                        Some(pid) if owner_host == host => {
                            (unsafe { libc::kill(pid, 0) } == 0)
                                || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
                        }
                        // Another host's lock (a shared folder) cannot be checked: it holds.
                        Some(_) => true,
                        None => false,
                    };
                    if alive {
                        bail!(
                            "another parc apply is running (lock {} held by process {})",
                            path.display(),
                            text.trim()
                        );
                    }
                    tracing::warn!("a stale lock {} (process {} is gone) was taken over", path.display(), text.trim());
                    std::fs::remove_file(path)
                        .with_context(|| format!("cannot remove the stale lock {}", path.display()))?;
                }
                Err(e) => return Err(e).with_context(|| format!("cannot create the lock {}", path.display())),
            }
        }
        bail!("cannot take the lock {}", path.display())
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

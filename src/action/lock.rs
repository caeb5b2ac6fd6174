//! One `parc apply` at a time: an exclusive lock on a file (`flock`), held
//! for the life of the process. The kernel lets go when the process ends,
//! however it ends, so there is no stale lock to detect or take over. The
//! file says who holds it (process id and host), for the message that
//! stops a second apply; it is left in place, because removing it would
//! let a waiting process lock a file that no longer has a name.

use anyhow::{bail, Context, Result};
use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

pub struct Lock {
    _file: File,
}

impl Lock {
    pub fn take(path: &Path) -> Result<Lock> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .with_context(|| format!("cannot open the lock {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut owner = String::new();
                let _ = file.read_to_string(&mut owner);
                bail!("another parc apply is running (lock {} held by process {})", path.display(), owner.trim());
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", path.display()));
            }
        }
        let host = crate::host::this().unwrap_or_default();
        file.set_len(0)?;
        file.rewind()?;
        writeln!(file, "{} {host}", std::process::id())
            .with_context(|| format!("cannot write the lock {}", path.display()))?;
        Ok(Lock { _file: file })
    }
}

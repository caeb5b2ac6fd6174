//! A local folder: a disk, or an NFS or SMB/CIFS share mounted by fstab.

use super::{Listed, Taken, Transport};
use anyhow::{bail, Context, Result};
use std::io::Read;
use std::path::{Path, PathBuf};

pub struct Local {
    dir: PathBuf,
    require_mount: bool,
}

impl Local {
    pub fn new(dir: PathBuf, require_mount: bool) -> Local {
        Local { dir, require_mount }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// Whether `dir` is a mount point: its device differs from its parent's
/// (or it is `/`). What `mountpoint -q` decides, without running it.
fn is_mount_point(dir: &Path) -> Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let canonical = dir.canonicalize().with_context(|| format!("{}", dir.display()))?;
    let Some(parent) = canonical.parent() else { return Ok(true) };
    let (here, up) = (std::fs::metadata(&canonical)?, std::fs::metadata(parent)?);
    Ok(here.dev() != up.dev() || here.ino() == up.ino())
}

impl Transport for Local {
    fn check(&mut self) -> Result<String> {
        let meta =
            std::fs::metadata(&self.dir).with_context(|| format!("folder {} is not there", self.dir.display()))?;
        if !meta.is_dir() {
            bail!("{} is not a folder", self.dir.display());
        }
        if self.require_mount && !is_mount_point(&self.dir)? {
            bail!("{} is not a mount point (require_mount = true): is the share mounted?", self.dir.display());
        }
        Ok(format!("folder {}{}", self.dir.display(), if self.require_mount { " (a mount point)" } else { "" }))
    }

    fn list(&mut self) -> Result<Vec<Listed>> {
        let mut listed = Vec::new();
        for entry in std::fs::read_dir(&self.dir).with_context(|| format!("cannot list {}", self.dir.display()))? {
            let entry = entry?;
            let meta = entry.metadata()?;
            if meta.is_file() {
                // A name that is not UTF-8 is not an archive of ours; it is listed as it reads.
                listed.push(Listed { name: entry.file_name().to_string_lossy().into_owned(), bytes: Some(meta.len()) });
            }
        }
        Ok(listed)
    }

    fn put(&mut self, file: &Path, name: &str) -> Result<()> {
        let to = self.path(name);
        std::fs::copy(file, &to).with_context(|| format!("cannot write {}", to.display()))?;
        std::fs::File::open(&to).and_then(|f| f.sync_all()).with_context(|| format!("cannot sync {}", to.display()))
    }

    fn get(&mut self, name: &str, sink: &mut dyn FnMut(&[u8])) -> Result<()> {
        let path = self.path(name);
        let mut file = std::fs::File::open(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            sink(&buf[..n]);
        }
    }

    fn rename(&mut self, from: &str, to: &str) -> Result<()> {
        let (from_path, to_path) = (self.path(from), self.path(to));
        // A hard link is made only where no file is: the one atomic rename
        // that never replaces on every filesystem that has links (NFS among them).
        match std::fs::hard_link(&from_path, &to_path) {
            Ok(()) => {
                return std::fs::remove_file(&from_path)
                    .with_context(|| format!("cannot remove {} once linked", from_path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(Taken(to.to_string()).into()),
            // A share without hard links (SMB without unix extensions): checked, then renamed,
            // under the apply lock.
            Err(_) => {}
        }
        if std::fs::symlink_metadata(&to_path).is_ok() {
            return Err(Taken(to.to_string()).into());
        }
        std::fs::rename(&from_path, &to_path).with_context(|| format!("cannot rename {from} to {to}"))
    }

    fn delete(&mut self, name: &str) -> Result<()> {
        std::fs::remove_file(self.path(name)).with_context(|| format!("cannot delete {}", self.path(name).display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rename_never_replaces_an_archive() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("20261202.tgz"), "the morning's").unwrap();
        std::fs::write(dir.path().join(".20261202.tgz.part"), "the afternoon's").unwrap();
        let mut local = Local::new(dir.path().to_path_buf(), false);
        let err = local.rename(".20261202.tgz.part", "20261202.tgz").unwrap_err();
        assert!(err.is::<Taken>(), "{err:#}");
        assert_eq!(std::fs::read_to_string(dir.path().join("20261202.tgz")).unwrap(), "the morning's");
        local.rename(".20261202.tgz.part", "20261202-2.tgz").unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join("20261202-2.tgz")).unwrap(), "the afternoon's");
        assert!(!dir.path().join(".20261202.tgz.part").exists());
    }
}

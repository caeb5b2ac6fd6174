//! Where archives go. Every transport gives the same operations behind one
//! trait — list, upload (to a temporary name, verified, then renamed),
//! delete — so that retention and the run's log never care which it is.

mod ftps;
mod local;
mod sftp;
mod webdav;

use crate::config::archive::ArchiveJob;
use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

pub use crate::config::destination::Location;
pub use crate::snapshot::archive::Listed;

/// What every transport can do, in the destination's own folder.
pub trait Transport {
    /// Reaches the destination and checks it can be used (connected,
    /// logged in, the folder there); says what was checked.
    fn check(&mut self) -> Result<String>;
    /// Every file in the folder.
    fn list(&mut self) -> Result<Vec<Listed>>;
    /// Writes `file` as `name` (a temporary name), replacing any file of that name.
    fn put(&mut self, file: &Path, name: &str) -> Result<()>;
    /// Reads `name` back through `sink` (to verify what arrived).
    fn get(&mut self, name: &str, sink: &mut dyn FnMut(&[u8])) -> Result<()>;
    /// Renames `from` to `to`, and fails with [`Taken`] where `to` exists:
    /// an archive at the destination is never replaced.
    fn rename(&mut self, from: &str, to: &str) -> Result<()>;
    fn delete(&mut self, name: &str) -> Result<()>;
}

/// Opens the transport of a job's destination.
pub fn open(job: &ArchiveJob) -> Result<Box<dyn Transport>> {
    let location = job.destination.location()?;
    let timeout = std::time::Duration::from_secs(job.source.timeout.max(1));
    Ok(match location {
        Location::Local(path) => Box::new(local::Local::new(path, job.destination.require_mount)),
        Location::Sftp { user, host, port, path } => Box::new(sftp::Sftp::new(sftp::Target {
            user,
            host,
            port,
            path,
            identity_file: job.destination.identity_file.clone(),
            known_hosts: job.destination.known_hosts.clone(),
            timeout,
        })?),
        Location::WebDav { tls, host, path } => {
            let password = job.login.password()?;
            Box::new(webdav::WebDav::new(
                tls,
                &host,
                &path,
                job.login.user.clone(),
                password,
                job.source.ca_file.as_deref(),
                timeout,
            )?)
        }
        Location::Ftps { user, host, port, path } => {
            let user = job.login.user.clone().or(user).unwrap_or_else(|| "anonymous".into());
            let password = job.login.password()?.unwrap_or_default();
            Box::new(ftps::Ftps::new(host, port, path, user, password, job.source.ca_file.clone(), timeout))
        }
    })
}

/// What the job's destination holds, as `parc plan` reads it when no run recorded it.
pub fn list(job: &ArchiveJob) -> Result<Vec<Listed>> {
    let mut transport = open(job)?;
    transport.check()?;
    transport.list()
}

/// The error of a rename onto a name an archive already holds.
#[derive(Debug)]
pub struct Taken(pub String);

impl std::fmt::Display for Taken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is already at the destination, and an archive is never overwritten", self.0)
    }
}

impl std::error::Error for Taken {}

/// The temporary name an upload has until it is verified. It never matches
/// an archive pattern, so retention never sees a half-written file.
pub fn temporary(name: &str) -> String {
    format!(".{name}.part")
}

/// Uploads `file` as `name`: under a temporary name, then the size and
/// SHA-256 of what arrived are checked against the local file, then it is
/// renamed. A failed check removes the temporary file and says what differed.
pub fn upload_verified(t: &mut dyn Transport, file: &Path, name: &str, bytes: u64, sha256: &str) -> Result<()> {
    let part = temporary(name);
    if let Err(e) = t.put(file, &part) {
        // Half a file must not stay behind (a full share, a cut connection).
        let _ = t.delete(&part);
        return Err(e.context(format!("upload of {name} (as {part})")));
    }
    let mut hasher = Sha256::new();
    let mut got = 0u64;
    t.get(&part, &mut |chunk| {
        got += chunk.len() as u64;
        hasher.update(chunk);
    })
    .with_context(|| format!("reading back {part}"))?;
    let digest = hex::encode(hasher.finalize());
    if got != bytes || digest != sha256 {
        let _ = t.delete(&part);
        bail!("upload of {name} is not complete: {got} bytes arrived (sha256 {digest}), {bytes} were sent (sha256 {sha256})");
    }
    if let Err(e) = t.rename(&part, name) {
        let _ = t.delete(&part);
        return Err(e.context(format!("renaming {part} to {name}")));
    }
    Ok(())
}

/// SHA-256 and size of a file.
pub fn sha256_file(path: &Path) -> Result<(u64, String)> {
    let mut file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf).with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((total, hex::encode(hasher.finalize())))
}

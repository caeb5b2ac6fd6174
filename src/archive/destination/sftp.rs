//! SFTP through OpenSSH (the `openssh` crates): `~/.ssh/config`,
//! `identity_file`, `known_hosts` and host-key checking behave as `ssh`
//! does, and an unknown or changed host key is a failure, never trusted.

use super::{Listed, Taken, Transport};
use anyhow::{anyhow, Context, Result};
use openssh::{KnownHosts, Session, SessionBuilder};
use openssh_sftp_client::{Sftp as Client, SftpOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

pub struct Target {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    pub path: String,
    pub identity_file: Option<PathBuf>,
    pub known_hosts: Option<PathBuf>,
    pub timeout: Duration,
}

pub struct Sftp {
    target: Target,
    runtime: tokio::runtime::Runtime,
    client: Option<Client>,
    /// The control socket's folder, removed with the transport.
    _control: tempfile::TempDir,
}

impl Sftp {
    pub fn new(target: Target) -> Result<Sftp> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        Ok(Sftp { target, runtime, client: None, _control: tempfile::tempdir()? })
    }

    fn remote(&self, name: &str) -> String {
        format!("{}/{name}", self.target.path.trim_end_matches('/'))
    }

    fn connect(&mut self) -> Result<()> {
        if self.client.is_none() {
            let t = &self.target;
            let mut builder = SessionBuilder::default();
            builder
                .known_hosts_check(KnownHosts::Strict)
                .connect_timeout(t.timeout)
                .server_alive_interval(t.timeout)
                .control_directory(self._control.path());
            if let Some(user) = &t.user {
                builder.user(user.clone());
            }
            if let Some(port) = t.port {
                builder.port(port);
            }
            if let Some(key) = &t.identity_file {
                builder.keyfile(key);
            }
            if let Some(file) = &t.known_hosts {
                builder.user_known_hosts_file(file);
            }
            let host = t.host.clone();
            let client = self.runtime.block_on(async move {
                let session: Session =
                    builder.connect_mux(&host).await.map_err(|e| anyhow!("ssh to {host}: {}", ssh_cause(&e)))?;
                Client::from_session(session, SftpOptions::default()).await.map_err(|e| anyhow!("sftp on {host}: {e}"))
            })?;
            self.client = Some(client);
        }
        Ok(())
    }
}

/// openssh's error with what ssh itself printed (authentication refused, host key changed…).
fn ssh_cause(e: &openssh::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

impl Transport for Sftp {
    fn check(&mut self) -> Result<String> {
        let dir = self.target.path.clone();
        let host = self.target.host.clone();
        self.connect()?;
        let client = self.client.as_ref().expect("connected");
        let mut fs = client.fs();
        let meta = self.runtime.block_on(fs.metadata(&dir)).with_context(|| format!("folder {dir} on {host}"))?;
        if meta.file_type().is_some_and(|t| !t.is_dir()) {
            anyhow::bail!("{dir} on {host} is not a folder");
        }
        Ok(format!("sftp {host}:{dir}"))
    }

    fn list(&mut self) -> Result<Vec<Listed>> {
        let dir = self.target.path.clone();
        self.connect()?;
        let client = self.client.as_ref().expect("connected");
        let mut fs = client.fs();
        let runtime = &self.runtime;
        runtime.block_on(async {
            let entries = fs.open_dir(&dir).await.with_context(|| format!("cannot list {dir}"))?.read_dir();
            let mut entries = std::pin::pin!(entries);
            let mut listed = Vec::new();
            while let Some(entry) =
                std::future::poll_fn(|cx| futures_core::Stream::poll_next(entries.as_mut(), cx)).await
            {
                let entry = entry.with_context(|| format!("cannot list {dir}"))?;
                if entry.file_type().is_some_and(|t| t.is_file()) {
                    listed.push(Listed {
                        name: entry.filename().to_string_lossy().into_owned(),
                        bytes: entry.metadata().len(),
                    });
                }
            }
            Ok(listed)
        })
    }

    fn put(&mut self, file: &Path, name: &str) -> Result<()> {
        let remote = self.remote(name);
        self.connect()?;
        let client = self.client.as_ref().expect("connected");
        let runtime = &self.runtime;
        runtime.block_on(async {
            use std::io::Read;
            let mut local = std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
            let opened = client.options().write(true).create(true).truncate(true).open(&remote).await?;
            let mut remote_file = std::pin::pin!(openssh_sftp_client::file::TokioCompatFile::new(opened));
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = local.read(&mut buf).with_context(|| format!("cannot read {}", file.display()))?;
                if n == 0 {
                    break;
                }
                remote_file.write_all(&buf[..n]).await.with_context(|| format!("writing {remote}"))?;
            }
            remote_file.flush().await?;
            remote_file.shutdown().await?;
            Ok(())
        })
    }

    fn get(&mut self, name: &str, sink: &mut dyn FnMut(&[u8])) -> Result<()> {
        use tokio::io::AsyncReadExt;
        let remote = self.remote(name);
        self.connect()?;
        let client = self.client.as_ref().expect("connected");
        let runtime = &self.runtime;
        runtime.block_on(async {
            let opened = client.open(&remote).await.with_context(|| format!("cannot read {remote}"))?;
            let mut file = std::pin::pin!(openssh_sftp_client::file::TokioCompatFile::new(opened));
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = file.read(&mut buf).await.with_context(|| format!("reading {remote}"))?;
                if n == 0 {
                    return Ok(());
                }
                sink(&buf[..n]);
            }
        })
    }

    fn rename(&mut self, from: &str, to: &str) -> Result<()> {
        let (from, to) = (self.remote(from), self.remote(to));
        self.connect()?;
        let client = self.client.as_ref().expect("connected");
        let mut fs = client.fs();
        let name = to.rsplit('/').next().unwrap_or(&to).to_string();
        // The server's posix-rename replaces: a hard link (OpenSSH's hardlink
        // extension, link(2)) is made only where no file is.
        if self.runtime.block_on(fs.hard_link(&from, &to)).is_ok() {
            return self.runtime.block_on(fs.remove_file(&from)).with_context(|| format!("cannot remove {from}"));
        }
        // No link (the name is taken, or the server or its filesystem has none):
        // checked, then renamed, under the apply lock.
        if self.runtime.block_on(fs.metadata(&to)).is_ok() {
            return Err(Taken(name).into());
        }
        self.runtime.block_on(fs.rename(&from, &to)).with_context(|| format!("cannot rename {from} to {to}"))
    }

    fn delete(&mut self, name: &str) -> Result<()> {
        let remote = self.remote(name);
        self.connect()?;
        let client = self.client.as_ref().expect("connected");
        let mut fs = client.fs();
        self.runtime.block_on(fs.remove_file(&remote)).with_context(|| format!("cannot delete {remote}"))
    }
}

impl Drop for Sftp {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = self.runtime.block_on(client.close());
        }
    }
}

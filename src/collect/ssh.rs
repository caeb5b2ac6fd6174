//! Runs the probe scripts on other hosts over SSH, with the openssh crate:
//! one multiplexed OpenSSH connection per host, the user's OpenSSH
//! configuration and known_hosts honoured, host keys always checked.

use crate::config::SshConfig;
use openssh::{KnownHosts, Session, SessionBuilder, Stdio};
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Why a host could not be reached, or its script not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0:?}: {1}")]
    Destination(String, &'static str),
    #[error("{0:?}: {1:?} is not a port")]
    Port(String, String),
    /// OpenSSH's own words (connection refused, host key, authentication).
    #[error("{0}")]
    Ssh(String),
    #[error("cannot send the script: {0}")]
    Send(std::io::Error),
    #[error("connection lost: {0}")]
    Lost(std::io::Error),
    #[error("the probe script failed ({status}): {stderr}")]
    ScriptFailed { status: std::process::ExitStatus, stderr: String },
}

impl From<openssh::Error> for Error {
    fn from(e: openssh::Error) -> Error {
        Error::Ssh(describe(&e))
    }
}

/// Where one host is reached.
#[derive(Clone, Debug, PartialEq)]
pub struct Destination {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl Destination {
    /// `[user@]host[:port]`, with `[v6::address]:port` for IPv6.
    pub fn parse(s: &str) -> Result<Destination, Error> {
        let bad = |why| Error::Destination(s.to_string(), why);
        let (user, rest) = match s.rsplit_once('@') {
            Some((u, r)) if !u.is_empty() => (Some(u.to_string()), r),
            Some(_) => return Err(bad("empty user name")),
            None => (None, s),
        };
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(|| bad("unclosed ["))?;
            (host.to_string(), after.strip_prefix(':'))
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) if !h.contains(':') => (h.to_string(), Some(p)),
                _ => (rest.to_string(), None),
            }
        };
        let port = port.map(|p| p.parse::<u16>().map_err(|_| Error::Port(s.to_string(), p.to_string()))).transpose()?;
        if host.is_empty() || host.starts_with('-') {
            return Err(bad("no host name"));
        }
        Ok(Destination { user, host, port })
    }
}

/// Everything a connection needs besides the destination.
#[derive(Clone)]
pub struct Settings {
    pub ssh: SshConfig,
    /// `--ssh-config FILE`, over `ssh.config_file`.
    pub config_file: Option<PathBuf>,
    /// Where OpenSSH's control sockets go (short paths: sockets have a length limit).
    pub control_dir: PathBuf,
}

pub async fn connect(dest: &Destination, settings: &Settings, timeout: Duration) -> Result<Session, Error> {
    let mut builder = SessionBuilder::default();
    // Never silently trust a new host key.
    builder.known_hosts_check(KnownHosts::Strict).connect_timeout(timeout).control_directory(&settings.control_dir);
    if let Some(user) = dest.user.as_ref().or(settings.ssh.user.as_ref()) {
        builder.user(user.clone());
    }
    if let Some(port) = dest.port {
        builder.port(port);
    }
    if let Some(key) = &settings.ssh.identity_file {
        builder.keyfile(key);
    }
    if let Some(file) = &settings.ssh.known_hosts {
        builder.user_known_hosts_file(file);
    }
    if let Some(file) = settings.config_file.as_ref().or(settings.ssh.config_file.as_ref()) {
        builder.config_file(file);
    }
    Ok(builder.connect_mux(&dest.host).await?)
}

/// Runs `script` with `sh -s` on the host; the bytes it printed.
pub async fn run(session: &Session, script: &str, env: &[(&str, String)]) -> Result<Vec<u8>, Error> {
    let done = exec(session, script, env).await?;
    if !done.status.success() {
        return Err(Error::ScriptFailed {
            status: done.status,
            stderr: String::from_utf8_lossy(&done.stderr).trim().to_string(),
        });
    }
    Ok(done.stdout)
}

/// What a command left on the host.
pub struct Exec {
    pub status: std::process::ExitStatus,
    /// The exit status; none when a signal ended it.
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Runs `script` with `sh -s`, whatever its exit status.
pub async fn exec(session: &Session, script: &str, env: &[(&str, String)]) -> Result<Exec, Error> {
    exec_with(session, script, &[], env).await
}

/// [`exec`], with `args` as the script's `$1`, `$2`, ….
pub async fn exec_with(session: &Session, script: &str, args: &[&str], env: &[(&str, String)]) -> Result<Exec, Error> {
    let assignments: Vec<String> = env.iter().map(|(k, v)| format!("{k}={}", quote(v))).collect();
    let words: Vec<String> = args.iter().map(|a| quote(a)).collect();
    let mut child = session
        .raw_command(format!("env {} sh -s -- {}", assignments.join(" "), words.join(" ")))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .await?;
    let mut stdin = child.stdin().take().expect("piped");
    stdin.write_all(script.as_bytes()).await.map_err(Error::Send)?;
    drop(stdin);
    // Read both streams while the script runs: a full pipe would stall it.
    let (mut stdout, mut stderr) = (child.stdout().take().expect("piped"), child.stderr().take().expect("piped"));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let (read_out, read_err) = tokio::join!(stdout.read_to_end(&mut out), stderr.read_to_end(&mut err));
    read_out.and(read_err).map_err(Error::Lost)?;
    let status = child.wait().await?;
    Ok(Exec { status, code: status.code(), stdout: out, stderr: err })
}

/// A single-quoted shell word.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// openssh's errors carry OpenSSH's own message in their source.
fn describe(e: &openssh::Error) -> String {
    let text = crate::problem::error_chain(e);
    text.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::Destination;

    #[test]
    fn destinations() {
        let d = |user: Option<&str>, host: &str, port| Destination {
            user: user.map(String::from),
            host: host.into(),
            port,
        };
        assert_eq!(Destination::parse("pve1").unwrap(), d(None, "pve1", None));
        assert_eq!(Destination::parse("root@pve1:2222").unwrap(), d(Some("root"), "pve1", Some(2222)));
        assert_eq!(Destination::parse("parc@[::1]:22").unwrap(), d(Some("parc"), "::1", Some(22)));
        assert_eq!(Destination::parse("fe80::1").unwrap(), d(None, "fe80::1", None));
        for bad in ["@pve1", "pve1:ssh", "", "-oProxyCommand=x", "[::1"] {
            assert!(Destination::parse(bad).is_err(), "{bad}");
        }
    }
}

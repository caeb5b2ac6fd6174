//! An `[[archive]]` job of `parc.toml`: where the dump comes from, where its
//! archives go, how long they are kept, who is told.

use super::pattern::{BadPattern, Pattern};
use crate::time::Duration;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ArchiveJob {
    /// Names the job: `archive-<name>` snapshots, `api/v1/archives/<name>.json`.
    pub name: String,
    /// The zip to fetch, over HTTPS (or HTTP).
    pub url: String,
    /// An extra trust root for the URL's certificate (PEM), besides the system's.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// The file the zip must hold: the dump.
    pub expect: String,
    /// The archive's name; `%Y %m %d %H %M %S` are the run's local date and time.
    #[serde(default = "default_pattern")]
    pub pattern: String,
    /// Where archives go: `sftp://user@host:port/path`, `webdav[s]://host/path`,
    /// `ftps://user@host:port/path`, or a local path (a mounted share).
    pub destination: String,
    /// SFTP: the private key (only this one is offered).
    #[serde(default)]
    pub identity_file: Option<PathBuf>,
    /// SFTP: the known_hosts file instead of the user's own. Host keys are always checked.
    #[serde(default)]
    pub known_hosts: Option<PathBuf>,
    /// WebDAV and FTPS: the login (FTPS also takes it from the URL).
    #[serde(default)]
    pub user: Option<String>,
    /// WebDAV and FTPS: a file whose first line is the password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// WebDAV and FTPS: an environment variable holding the password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// A local destination must be a mount point (an unmounted share never fills the local disk).
    #[serde(default)]
    pub require_mount: bool,
    /// Archive the dump even when it is identical to the previous run's.
    #[serde(default)]
    pub archive_unchanged: bool,
    /// When the archive's name is already taken at the destination: `refuse`
    /// the run (the default), or `suffix` its name (`20261202-2.tgz`). An
    /// archive at the destination is never overwritten.
    #[serde(default)]
    pub on_existing: OnExisting,
    /// Skip a run that comes sooner than this after the last good one (e.g. `20h`).
    #[serde(default)]
    pub min_interval: Option<Duration>,
    /// The largest zip accepted, in bytes (default 4 GiB).
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
    /// Seconds the download or the upload may stall before the run fails (default 60).
    #[serde(default = "default_timeout")]
    pub timeout: u64,
    /// The site highlights the job, and `archive-stale` is found, when its last good
    /// archive is older than this (default: `[findings] archive_stale_after_hours`, 36).
    #[serde(default)]
    pub stale_after: Option<Duration>,
    /// Names a `[mail.NAME]` table: who is told how the run went.
    #[serde(default)]
    pub mail: Option<String>,
    /// The host folder under the snapshots folder the run's log goes to
    /// (default: this machine's host name).
    #[serde(default)]
    pub host: Option<String>,
    /// Retention, restic's rules: keep the N newest archives…
    #[serde(default)]
    pub keep_last: Option<u32>,
    /// …the newest of each of the N newest hours, days, weeks, months, years that have one…
    #[serde(default)]
    pub keep_hourly: Option<u32>,
    #[serde(default)]
    pub keep_daily: Option<u32>,
    #[serde(default)]
    pub keep_weekly: Option<u32>,
    #[serde(default)]
    pub keep_monthly: Option<u32>,
    #[serde(default)]
    pub keep_yearly: Option<u32>,
    /// …and every archive newer than the newest one minus this (e.g. `30d`).
    #[serde(default)]
    pub keep_within: Option<Duration>,
}

/// What a run does when its archive's name is taken at the destination.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnExisting {
    /// Archive nothing, and say which archive holds the name.
    #[default]
    Refuse,
    /// Archive under the first free `-<n>` name of that date.
    Suffix,
}

fn default_pattern() -> String {
    "%Y%m%d.tgz".into()
}

fn default_max_bytes() -> u64 {
    4 << 30
}

fn default_timeout() -> u64 {
    60
}

impl ArchiveJob {
    pub fn policy(&self) -> Policy {
        Policy {
            keep_last: self.keep_last,
            keep_hourly: self.keep_hourly,
            keep_daily: self.keep_daily,
            keep_weekly: self.keep_weekly,
            keep_monthly: self.keep_monthly,
            keep_yearly: self.keep_yearly,
            keep_within: self.keep_within,
        }
    }

    /// The WebDAV or FTPS password, from `password_file` or `password_env`.
    pub fn password(&self) -> anyhow::Result<Option<String>> {
        crate::secret::password(self.password_file.as_deref(), self.password_env.as_deref())
    }

    pub fn pattern(&self) -> Result<Pattern, BadPattern> {
        Pattern::parse(&self.pattern)
    }

    /// What is wrong with the job, if anything: checked when the file is read.
    pub fn check(&self) -> Result<(), BadJob> {
        let name = &self.name;
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(BadJob::Name(name.clone()));
        }
        let bad = |why| BadJob::Job(name.clone(), why);
        self.pattern().map_err(|e| bad(JobWhy::Pattern(e)))?;
        if self.expect.is_empty() || self.expect.contains("..") {
            return Err(bad(JobWhy::Expect));
        }
        if !(self.url.starts_with("https://") || self.url.starts_with("http://")) {
            return Err(bad(JobWhy::Url(self.url.clone())));
        }
        super::destination::Location::parse(&self.destination).map_err(|e| bad(JobWhy::Destination(e)))?;
        Ok(())
    }
}

/// What is wrong with an archive job.
#[derive(Debug, thiserror::Error)]
pub enum BadJob {
    #[error("archive job name {0:?}: use letters, digits, - and _ only")]
    Name(String),
    #[error("archive job {0}: {1}")]
    Job(String, JobWhy),
}

#[derive(Debug, thiserror::Error)]
pub enum JobWhy {
    #[error(transparent)]
    Pattern(BadPattern),
    #[error("expect must name a file inside the zip")]
    Expect,
    #[error("url {0:?} must be https:// (or http://)")]
    Url(String),
    #[error(transparent)]
    Destination(super::destination::BadDestination),
}

/// The retention rules of a job, as the configuration keys name them.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct Policy {
    pub keep_last: Option<u32>,
    pub keep_hourly: Option<u32>,
    pub keep_daily: Option<u32>,
    pub keep_weekly: Option<u32>,
    pub keep_monthly: Option<u32>,
    pub keep_yearly: Option<u32>,
    pub keep_within: Option<Duration>,
}

impl Policy {
    pub fn is_empty(&self) -> bool {
        self.counts().iter().all(|(_, n)| n.unwrap_or(0) == 0) && self.keep_within.is_none()
    }

    /// Each count rule, by its key.
    pub fn counts(&self) -> [(&'static str, Option<u32>); 6] {
        [
            ("keep_last", self.keep_last),
            ("keep_hourly", self.keep_hourly),
            ("keep_daily", self.keep_daily),
            ("keep_weekly", self.keep_weekly),
            ("keep_monthly", self.keep_monthly),
            ("keep_yearly", self.keep_yearly),
        ]
    }
}

impl fmt::Display for Policy {
    /// `keep_daily 7, keep_within 30d`: the rules that are set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rules: Vec<String> =
            self.counts().iter().filter_map(|(rule, n)| n.filter(|n| *n > 0).map(|n| format!("{rule} {n}"))).collect();
        if let Some(within) = self.keep_within {
            rules.push(format!("keep_within {within}"));
        }
        if rules.is_empty() {
            return f.write_str("no rule (everything is kept)");
        }
        f.write_str(&rules.join(", "))
    }
}

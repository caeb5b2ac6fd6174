//! An `[[archive]]` job of `parc.toml`: where the dump comes from, where its
//! archives go, how long they are kept, who is told.

use super::destination::{BadDestination, Location};
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
    /// Where the dump comes from.
    #[serde(flatten)]
    pub source: Source,
    /// The archive's name; `%Y %m %d %H %M %S` are the run's local date and time.
    #[serde(default = "default_pattern")]
    pub pattern: String,
    /// When the archive's name is already taken at the destination: `refuse`
    /// the run (the default), or `suffix` its name (`20261202-2.tgz`). An
    /// archive at the destination is never overwritten.
    #[serde(default)]
    pub on_existing: OnExisting,
    /// Where archives go.
    #[serde(flatten)]
    pub destination: Destination,
    /// WebDAV and FTPS: the destination's login (FTPS also takes its user from the URL).
    #[serde(flatten)]
    pub login: crate::secret::Login,
    /// When a run is due.
    #[serde(flatten)]
    pub schedule: Schedule,
    /// Which archives are kept: restic's rules.
    #[serde(flatten)]
    pub retention: Policy,
    /// Names a `[mail.NAME]` table: who is told how the run went.
    #[serde(default)]
    pub mail: Option<String>,
    /// The host folder under the snapshots folder the run's log goes to
    /// (default: this machine's host name).
    #[serde(default)]
    pub host: Option<String>,
}

/// Where a job's dump comes from: a zip fetched over HTTPS.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Source {
    /// The zip to fetch, over HTTPS (or HTTP).
    pub url: String,
    /// An extra trust root for the URL's certificate (PEM), besides the system's.
    /// WebDAV and FTPS destinations trust it too.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// The file the zip must hold: the dump.
    pub expect: String,
    /// The largest zip accepted, in bytes (default 4 GiB).
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
    /// Seconds the download or the upload may stall before the run fails (default 60).
    #[serde(default = "default_timeout")]
    pub timeout: u64,
    /// Accept an `http://` url: the dump then travels unencrypted and unauthenticated.
    #[serde(default)]
    pub allow_http: bool,
}

/// Where a job's archives go, and how they are reached.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Destination {
    /// `sftp://user@host:port/path`, `webdav[s]://host/path`,
    /// `ftps://user@host:port/path`, or a local path (a mounted share).
    #[serde(rename = "destination")]
    pub url: String,
    /// SFTP: the private key (only this one is offered).
    #[serde(default)]
    pub identity_file: Option<PathBuf>,
    /// SFTP: the known_hosts file instead of the user's own. Host keys are always checked.
    #[serde(default)]
    pub known_hosts: Option<PathBuf>,
    /// A local destination must be a mount point (an unmounted share never fills the local disk).
    #[serde(default)]
    pub require_mount: bool,
}

impl Destination {
    /// Where `url` points: the transport and its address.
    pub fn location(&self) -> Result<Location, BadDestination> {
        Location::parse(&self.url)
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

/// When a run of a job is due, and when its archives are late.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct Schedule {
    /// Archive the dump even when it is identical to the previous run's.
    #[serde(default)]
    pub archive_unchanged: bool,
    /// Skip a run that comes sooner than this after the last good one (e.g. `20h`).
    #[serde(default)]
    pub min_interval: Option<Duration>,
    /// The site highlights the job, and `archive-stale` is found, when its last good
    /// archive is older than this (default: `[findings] archive_stale_after_hours`, 36).
    #[serde(default)]
    pub stale_after: Option<Duration>,
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
        let source = &self.source;
        if source.expect.is_empty() || source.expect.contains("..") {
            return Err(bad(JobWhy::Expect));
        }
        if source.url.starts_with("http://") && !source.allow_http {
            return Err(bad(JobWhy::Http(source.url.clone())));
        }
        if !(source.url.starts_with("https://") || source.url.starts_with("http://")) {
            return Err(bad(JobWhy::Url(source.url.clone())));
        }
        self.destination.location().map_err(|e| bad(JobWhy::Destination(e)))?;
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
    #[error("url {0:?} must be https://")]
    Url(String),
    #[error(
        "url {0:?} is http://: anyone on the way can read the dump or hand over another; use https://, or set allow_http = true"
    )]
    Http(String),
    #[error(transparent)]
    Destination(BadDestination),
}

/// Retention, restic's rules, as the configuration keys and `parc
/// retention`'s options name them.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, clap::Args)]
pub struct Policy {
    /// Keep the N newest archives.
    #[serde(default)]
    #[arg(long, value_name = "N")]
    pub keep_last: Option<u32>,
    /// Keep the newest archive of each of the N newest hours that have one.
    #[serde(default)]
    #[arg(long, value_name = "N")]
    pub keep_hourly: Option<u32>,
    /// … days.
    #[serde(default)]
    #[arg(long, value_name = "N")]
    pub keep_daily: Option<u32>,
    /// … ISO weeks.
    #[serde(default)]
    #[arg(long, value_name = "N")]
    pub keep_weekly: Option<u32>,
    /// … months.
    #[serde(default)]
    #[arg(long, value_name = "N")]
    pub keep_monthly: Option<u32>,
    /// … years.
    #[serde(default)]
    #[arg(long, value_name = "N")]
    pub keep_yearly: Option<u32>,
    /// Keep every archive newer than the newest one minus this (e.g. 30d, 1y6m, 20h).
    #[serde(default)]
    #[arg(long, value_name = "DURATION", value_parser = Duration::parse)]
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

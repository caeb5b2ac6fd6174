//! Silences: a person acknowledges a finding until a date, with a reason.
//! The finding stays on the site, marked; its escalation pauses; it resumes
//! when the silence expires. A finding that clears closes its silence: if
//! it comes back, it is a new occurrence, which the old silence does not cover.

use crate::time::Instant;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The file, in the snapshots folder.
pub const FILE: &str = "silences.toml";

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Silences {
    #[serde(default, rename = "silence")]
    pub silences: Vec<Silence>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Silence {
    /// The finding's id.
    pub id: String,
    /// The last day it holds (`YYYY-MM-DD`, through the end of that day, UTC).
    pub until: String,
    pub reason: String,
    /// Who set it: the git author (`user.name <user.email>`) of the snapshots repository.
    pub by: String,
    /// When it was set (RFC 3339).
    pub at: String,
}

impl Silence {
    /// The end of `until`, in seconds since the epoch.
    pub fn ends(&self) -> Option<Instant> {
        Instant::parse_rfc3339(&format!("{}T23:59:59Z", self.until)).ok()
    }

    /// Whether it covers an occurrence that began at `since`, at `now`.
    pub fn covers(&self, since: Instant, now: Instant) -> bool {
        let set = Instant::parse_rfc3339(&self.at).ok();
        // Set before the occurrence began: the finding cleared since, and this is a new one.
        let same_occurrence = set.is_some_and(|set| set >= since);
        same_occurrence && self.ends().is_some_and(|end| now <= end)
    }
}

impl Silence {
    /// Whether it was set while an occurrence that held from `since` until `closed` was open.
    pub fn during(&self, since: Instant, closed: Instant) -> bool {
        Instant::parse_rfc3339(&self.at).is_ok_and(|set| set >= since && set <= closed)
    }
}

pub fn path(snapshots: &Path) -> PathBuf {
    snapshots.join(FILE)
}

/// Reads the silences; no file is no silence.
pub fn read(snapshots: &Path) -> Result<Silences> {
    let path = path(snapshots);
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text).with_context(|| format!("invalid {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Silences::default()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

pub fn write(snapshots: &Path, silences: &Silences) -> Result<()> {
    let path = path(snapshots);
    let mut text = String::from("# Findings acknowledged with `parc silence`: shown on the site, escalation paused until the day after `until`.\n\n");
    text.push_str(&toml::to_string(silences)?);
    let tmp = snapshots.join(format!(".{FILE}.tmp"));
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))
}

/// The git author of the snapshots repository, as `git commit` would name
/// it; else the login and host name.
pub fn author(snapshots: &Path) -> String {
    let from_git =
        git2::Repository::discover(snapshots).and_then(|r| r.config()).or_else(|_| git2::Config::open_default());
    if let Ok(config) = from_git {
        if let (Ok(name), Ok(email)) = (config.get_string("user.name"), config.get_string("user.email")) {
            return format!("{name} <{email}>");
        }
    }
    let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into());
    let host = crate::host::this().unwrap_or_default();
    format!("{user}@{host}")
}

/// Adds or replaces the silence of `id`.
pub fn add(snapshots: &Path, id: &str, until: &str, reason: &str, now: &jiff::Timestamp) -> Result<Silence> {
    let Ok(last) = jiff::civil::Date::strptime("%Y-%m-%d", until) else {
        bail!("--until {until:?} is not a date (YYYY-MM-DD)");
    };
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    if last < today {
        bail!("--until {until} is in the past (today is {today}): a silence holds through a day to come");
    }
    if reason.trim().is_empty() {
        bail!("--reason must say why");
    }
    let mut all = read(snapshots)?;
    let silence = Silence {
        id: id.to_string(),
        until: until.to_string(),
        reason: reason.trim().to_string(),
        by: author(snapshots),
        at: now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
    };
    all.silences.retain(|s| s.id != id);
    all.silences.push(silence.clone());
    all.silences.sort_by(|a, b| a.id.cmp(&b.id));
    write(snapshots, &all)?;
    Ok(silence)
}

/// Removes the silence of `id`; whether there was one.
pub fn remove(snapshots: &Path, id: &str) -> Result<bool> {
    let mut all = read(snapshots)?;
    let before = all.silences.len();
    all.silences.retain(|s| s.id != id);
    if all.silences.len() == before {
        return Ok(false);
    }
    write(snapshots, &all)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Instant {
        Instant::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn a_silence_covers_its_occurrence_until_its_last_day() {
        let s = Silence {
            id: "x".into(),
            until: "2026-12-01".into(),
            reason: "disk ordered".into(),
            by: "a".into(),
            at: "2026-11-22T10:00:00Z".into(),
        };
        let since = at("2026-11-20T03:00:00Z");
        assert!(s.covers(since, at("2026-11-25T00:00:00Z")));
        assert!(s.covers(since, at("2026-12-01T23:00:00Z")), "through the end of its last day");
        assert!(!s.covers(since, at("2026-12-02T00:00:01Z")), "expired");
        // The finding cleared and came back after the silence was set: a new occurrence.
        assert!(!s.covers(at("2026-11-23T03:00:00Z"), at("2026-11-25T00:00:00Z")));
    }
}

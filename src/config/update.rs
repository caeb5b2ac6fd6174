//! `[[update]]`: an APT update policy — which hosts, what action, when, how
//! many at once, and whether and how they reboot.

use crate::time::Length;
use serde::{Deserialize, Serialize};
use std::fmt;

/// `[[update]]` of `parc.toml`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Names the policy; each host is in at most one.
    pub name: String,
    /// Globs over inventory names (`[[hosts]]`) or snapshot host names.
    pub hosts: Vec<String>,
    /// Only hosts of these kinds (`physical`, `vm`, `container`,
    /// `raspberry-pi`, `proxmox`); empty: any. A host whose kind is unknown
    /// fits no policy that lists kinds.
    #[serde(default)]
    pub machines: Vec<crate::snapshot::system::MachineKind>,
    pub action: Action,
    /// Update a host whose simulation removes packages (else it is skipped, with the list).
    #[serde(default)]
    pub allow_removals: bool,
    #[serde(default)]
    pub autoremove: bool,
    #[serde(default = "yes")]
    pub clean: bool,
    #[serde(default)]
    pub reboot: Reboot,
    /// Back on SSH with a new boot identity within this, or the reboot step fails.
    #[serde(default = "default_reboot_timeout")]
    pub reboot_timeout: Length,
    /// When hosts may be updated (the control host's local time), e.g. `Sat 02:00-05:00`.
    #[serde(default)]
    pub window: Option<Window>,
    /// Hosts updated alone and first; the rest only if every canary succeeded.
    #[serde(default)]
    pub canary: Vec<String>,
    /// Hosts updated at the same time.
    #[serde(default = "one")]
    pub max_parallel: u32,
    /// Stop starting new hosts after this many failed.
    #[serde(default = "one")]
    pub max_failures: u32,
    /// A host whose newest `apt` snapshot is older is skipped (stale facts).
    #[serde(default = "default_max_age")]
    pub max_age: Length,
    /// How long a host's dpkg lock may stay held by another process before the update fails.
    #[serde(default = "default_lock_wait")]
    pub lock_wait: Length,
}

fn default_lock_wait() -> Length {
    Length::minutes(2)
}

fn yes() -> bool {
    true
}

fn one() -> u32 {
    1
}

fn default_reboot_timeout() -> Length {
    Length::minutes(10)
}

fn default_max_age() -> Length {
    Length::hours(26)
}

/// What an update does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Only the upgrades the newest simulation shows from a security archive.
    Security,
    /// `apt-get upgrade`: no new package, no removal.
    Upgrade,
    /// `apt-get dist-upgrade`: new dependencies installed, conflicts removed.
    FullUpgrade,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            Action::Security => "security",
            Action::Upgrade => "upgrade",
            Action::FullUpgrade => "full-upgrade",
        })
    }
}

/// Whether a host reboots after its update.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Reboot {
    Never,
    /// When the host says a reboot is required (`/run/reboot-required`, a newer kernel).
    #[default]
    WhenRequired,
    Always,
}

/// A weekly maintenance window: days of the week and a time range, in the
/// control host's local time (`Sat 02:00-05:00`, `Mon-Fri 22:00-23:30`,
/// `Sun 23:00-01:00` across midnight, `daily 03:00-04:00`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    text: String,
    /// Monday = 0 … Sunday = 6.
    days: [bool; 7],
    /// Minutes after midnight.
    start: u16,
    end: u16,
}

/// Why a text is not a window.
#[derive(Debug, thiserror::Error)]
#[error("window {text:?}: {why} (e.g. \"Sat 02:00-05:00\", \"Mon-Fri 22:00-23:30\", \"daily 03:00-04:00\")")]
pub struct BadWindow {
    pub text: String,
    pub why: &'static str,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl Window {
    pub fn parse(text: &str) -> Result<Window, BadWindow> {
        let bad = |why| BadWindow { text: text.to_string(), why };
        let mut words = text.split_whitespace();
        let (Some(days_word), Some(range), None) = (words.next(), words.next(), words.next()) else {
            return Err(bad("give the days, then the hours"));
        };
        let day = |w: &str| DAYS.iter().position(|d| w.eq_ignore_ascii_case(d));
        let mut days = [false; 7];
        for part in days_word.split(',') {
            if part.eq_ignore_ascii_case("daily") {
                days = [true; 7];
                continue;
            }
            match part.split_once('-') {
                Some((from, to)) => {
                    let (Some(from), Some(to)) = (day(from), day(to)) else { return Err(bad("unknown day")) };
                    let mut d = from;
                    loop {
                        days[d] = true;
                        if d == to {
                            break;
                        }
                        d = (d + 1) % 7;
                    }
                }
                None => days[day(part).ok_or_else(|| bad("unknown day"))?] = true,
            }
        }
        let (start, end) = range.split_once('-').ok_or_else(|| bad("the hours are HH:MM-HH:MM"))?;
        let minutes = |t: &str| -> Option<u16> {
            let (h, m) = t.split_once(':')?;
            let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
            (h < 24 && m < 60 && m.to_string().len() <= 2).then_some(h * 60 + m)
        };
        let (Some(start), Some(end)) = (minutes(start), minutes(end)) else {
            return Err(bad("the hours are HH:MM-HH:MM"));
        };
        if start == end {
            return Err(bad("the window is empty"));
        }
        Ok(Window { text: text.to_string(), days, start, end })
    }

    /// Whether `at` (a local date and time) falls in the window. A window
    /// across midnight belongs to the day it starts on.
    pub fn contains(&self, at: jiff::civil::DateTime) -> bool {
        let weekday = at.weekday().to_monday_zero_offset() as usize;
        let minute = at.hour() as u16 * 60 + at.minute() as u16;
        if self.start < self.end {
            self.days[weekday] && (self.start..self.end).contains(&minute)
        } else {
            let yesterday = (weekday + 6) % 7;
            (self.days[weekday] && minute >= self.start) || (self.days[yesterday] && minute < self.end)
        }
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Window {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Window::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl Serialize for Window {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl Policy {
    /// Whether the policy names `host` (its inventory or snapshot name).
    pub fn names(&self, host: &str) -> bool {
        self.hosts.iter().any(|pattern| glob_match(pattern, host))
    }

    /// Whether a host of this kind (None: unknown) is one the policy is for.
    pub fn fits(&self, kind: Option<crate::snapshot::system::MachineKind>) -> bool {
        self.machines.is_empty() || kind.is_some_and(|k| self.machines.contains(&k))
    }

    /// What is wrong with the policy, if anything: checked when the file is read.
    pub fn check(&self) -> Result<(), String> {
        let name = &self.name;
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(format!("update policy name {name:?}: use letters, digits, - and _ only"));
        }
        for pattern in &self.hosts {
            globset::Glob::new(pattern).map_err(|e| format!("update policy {name}: hosts {pattern:?}: {e}"))?;
        }
        if self.hosts.is_empty() {
            return Err(format!("update policy {name}: hosts names no host"));
        }
        if let Some(canary) = self.canary.iter().find(|c| !self.names(c)) {
            return Err(format!("update policy {name}: canary {canary:?} is not one of its hosts"));
        }
        if self.max_parallel == 0 || self.max_failures == 0 {
            return Err(format!("update policy {name}: max_parallel and max_failures are at least 1"));
        }
        Ok(())
    }
}

/// `*` and `?` over a host name, as the shell would.
fn glob_match(pattern: &str, name: &str) -> bool {
    globset::Glob::new(pattern).is_ok_and(|g| g.compile_matcher().is_match(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn windows_by_day_across_midnight_and_daily() {
        let sat = Window::parse("Sat 02:00-05:00").unwrap();
        // 2026-12-05 is a Saturday.
        assert!(sat.contains(date(2026, 12, 5).at(2, 0, 0, 0)));
        assert!(sat.contains(date(2026, 12, 5).at(4, 59, 0, 0)));
        assert!(!sat.contains(date(2026, 12, 5).at(5, 0, 0, 0)));
        assert!(!sat.contains(date(2026, 12, 6).at(3, 0, 0, 0)));
        let late = Window::parse("Sun 23:00-01:00").unwrap();
        assert!(late.contains(date(2026, 12, 6).at(23, 30, 0, 0)));
        assert!(late.contains(date(2026, 12, 7).at(0, 30, 0, 0)), "Monday 00:30 is Sunday's window");
        assert!(!late.contains(date(2026, 12, 7).at(23, 30, 0, 0)));
        let week = Window::parse("Mon-Fri 22:00-23:30").unwrap();
        assert!(week.contains(date(2026, 12, 4).at(22, 0, 0, 0)));
        assert!(!week.contains(date(2026, 12, 5).at(22, 0, 0, 0)));
        assert!(Window::parse("daily 03:00-04:00").unwrap().contains(date(2026, 12, 2).at(3, 15, 0, 0)));
        for bad in ["Sat", "Sat 2-5", "Caturday 02:00-05:00", "Sat 02:00-02:00", "Sat 25:00-26:00", "Sat 02:00"] {
            assert!(Window::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hosts_are_globs() {
        let policy: Policy = toml::from_str("name = \"w\"\nhosts = [\"pve*\", \"db1\"]\naction = \"upgrade\"").unwrap();
        assert!(policy.names("pve1") && policy.names("db1") && !policy.names("db10") && !policy.names("files"));
        assert_eq!(policy.max_parallel, 1);
        assert_eq!(policy.reboot, Reboot::WhenRequired);
        assert_eq!(policy.max_age, Length::hours(26));
        assert_eq!(policy.reboot_timeout.to_string(), "10m");
        let policy: Policy =
            toml::from_str("name = \"w\"\nhosts = [\"a\"]\naction = \"security\"\nreboot_timeout = \"1h30m\"").unwrap();
        assert_eq!(policy.reboot_timeout, Length::minutes(90));
        assert!(
            toml::from_str::<Policy>("name = \"w\"\nhosts = [\"a\"]\naction = \"security\"\nmax_age = \"2d\"").is_err()
        );
    }
}

//! The snapshot format (`parc.snapshot/1`) and the parsers of each kind.
//!
//! A snapshot is an envelope around the raw output of standard tools; these
//! modules turn that output into typed facts. They are pure functions of the
//! bytes, so a parse result can be cached by content hash.

pub mod ansible;
pub mod apt;
pub mod archive;
pub mod disks;
pub mod reach;
pub mod system;
pub mod update;

use crate::store::FileError;
use crate::time::Instant;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SCHEMA: &str = "parc.snapshot/1";

/// The envelope as an agent writes it. Probe outputs stay raw JSON text until
/// their parser reads them into typed values: no generic JSON tree is built.
#[derive(Debug, Deserialize)]
pub struct Envelope<'a> {
    /// Always `parc.snapshot/1` for this version of the format.
    pub schema: String,
    /// `system`, `disks`, … : which parser reads the probes.
    pub kind: String,
    /// The host as the agent named it (the folder name wins when they differ).
    pub host: String,
    /// When the probes ran, RFC 3339 with offset.
    pub collected_at: String,
    /// Which agent collected it and how.
    #[serde(default)]
    pub agent: Option<Agent>,
    /// Raw tool outputs by probe key.
    #[serde(borrow, default)]
    pub probes: BTreeMap<String, Probe<'a>>,
    /// `archive-<job>` snapshots: the run's log, as `parc apply` wrote it.
    #[serde(borrow, default)]
    pub run: Option<&'a serde_json::value::RawValue>,
    /// `reach` snapshots: the collection that failed, and why.
    #[serde(default)]
    pub reach: Option<reach::Reach>,
}

#[derive(Debug, Deserialize)]
pub struct Agent {
    #[serde(default)]
    pub version: Option<String>,
    /// `local` or `ssh`.
    #[serde(default)]
    pub mode: Option<String>,
}

/// One tool run: what ran, how it ended, what it printed.
#[derive(Debug, Deserialize)]
pub struct Probe<'a> {
    #[serde(default)]
    pub cmd: Option<String>,
    /// The tool's exit status; absent when it could not be started.
    #[serde(default)]
    pub exit: Option<i64>,
    /// How long it ran, in milliseconds.
    #[serde(default)]
    pub ms: Option<u64>,
    /// The tool's own JSON when it printed JSON, otherwise its text (a JSON string).
    #[serde(default, borrow)]
    pub out: Option<&'a serde_json::value::RawValue>,
    /// What it printed on stderr.
    #[serde(default)]
    pub err: Option<String>,
}

impl Probe<'_> {
    /// The output as text, when the tool printed text.
    pub fn text(&self) -> Option<String> {
        let raw = self.out?.get();
        raw.starts_with('"').then(|| serde_json::from_str(raw).ok()).flatten()
    }

    /// The output as the tool's own JSON: the raw object, or JSON an agent
    /// stored as text.
    pub fn json_text(&self) -> Option<std::borrow::Cow<'_, str>> {
        let raw = self.out?.get();
        if raw.starts_with('"') {
            self.text().map(std::borrow::Cow::Owned)
        } else if raw == "null" {
            None
        } else {
            Some(std::borrow::Cow::Borrowed(raw))
        }
    }

    /// Why this probe cannot be trusted, if it cannot: the tool was missing,
    /// was refused, or exited non-zero with nothing usable.
    pub fn failure(&self) -> Option<String> {
        match self.exit {
            Some(0) => None,
            Some(code) => Some(match self.err.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
                Some(err) => format!("exit {code}: {}", first_line(err)),
                None => format!("exit {code}"),
            }),
            None => Some(self.err.clone().unwrap_or_else(|| "did not run".into())),
        }
    }
}

fn first_line(s: &str) -> &str {
    s.lines().find(|l| !l.trim().is_empty()).unwrap_or(s).trim()
}

/// A probe that failed or printed something parc could not read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeFailure {
    /// The probe key, e.g. `smartctl:/dev/sda`.
    pub probe: String,
    /// What went wrong, in words.
    pub cause: String,
}

/// The typed facts of one snapshot. Externally tagged: an internally tagged
/// enum makes serde buffer every cached result into a generic tree first.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Facts {
    System(system::SystemFacts),
    Disks(disks::DisksFacts),
    Apt(Box<apt::AptFacts>),
    /// An archive run (`archive-<job>`).
    Archive(Box<archive::Run>),
    /// An APT update of the host (`update`).
    Update(Box<update::Run>),
    /// A collection that did not reach the host (`reach`).
    Reach(reach::Reach),
    /// A file of Ansible facts: a `system` and a `disks` version at once.
    Ansible(Box<ansible::Facts>),
    /// A kind this version of parc does not interpret (kept, shown as seen).
    Other,
}

/// One snapshot, parsed: the envelope's header and the typed facts.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Parsed {
    pub kind: String,
    pub host: String,
    pub collected_at: Instant,
    /// `local` or `ssh`, when the agent said.
    pub mode: Option<String>,
    pub facts: Facts,
    /// Probes that failed or could not be read.
    pub failures: Vec<ProbeFailure>,
    /// What was wrong with the file but read around (reported as problems;
    /// the version is kept).
    #[serde(default)]
    pub notes: Vec<String>,
}

impl Parsed {
    /// The envelope's header with no facts, for a version made from another.
    pub fn clone_header(&self) -> Parsed {
        Parsed {
            kind: self.kind.clone(),
            host: self.host.clone(),
            collected_at: self.collected_at,
            mode: self.mode.clone(),
            facts: Facts::Other,
            failures: self.failures.clone(),
            notes: Vec::new(),
        }
    }
}

/// Parses one snapshot file's bytes. An error here means the whole snapshot
/// is unusable; a failed probe inside a good snapshot is not an error.
/// What the parsers keep from one snapshot of a host for the next (see
/// [`apt::Memo`]): reading a host's versions in a row with one memo gives
/// what reading each alone gives, in less time.
#[derive(Default)]
pub struct Memo {
    apt: apt::Memo,
}

/// Why a snapshot is unusable as a whole.
#[derive(Debug, thiserror::Error)]
pub enum Unreadable {
    #[error("invalid JSON: {0}")]
    NotJson(serde_json::Error),
    #[error("not a JSON object: not a parc snapshot")]
    NotAnObject,
    #[error("no \"schema\" field: not a parc snapshot")]
    NoSchema,
    #[error("unknown schema {0:?} (this parc reads {SCHEMA:?})")]
    UnknownSchema(String),
    #[error("invalid snapshot: {0}")]
    Invalid(serde_json::Error),
    #[error("collected_at {value:?} is not an RFC 3339 time: {cause}")]
    CollectedAt { value: String, cause: String },
    #[error("the archive run log is unreadable: {0}")]
    RunLog(serde_json::Error),
    #[error("the update run log is unreadable: {0}")]
    UpdateLog(serde_json::Error),
    #[error("an archive snapshot without its run log (\"run\")")]
    NoRunLog,
    #[error("a reach snapshot without its \"reach\" record")]
    NoReach,
    #[error(transparent)]
    Ansible(#[from] ansible::NoFacts),
}

pub fn parse(bytes: &[u8]) -> Result<Parsed, Unreadable> {
    parse_with(bytes, &mut Memo::default())
}

/// [`parse`], with what the host's previous snapshot gave.
pub fn parse_with(bytes: &[u8], memo: &mut Memo) -> Result<Parsed, Unreadable> {
    // Written by hand or by an agent older than its escaping: read the odd
    // bytes as `\xNN` rather than lose the snapshot, and say so.
    let (text, escaped) = crate::escape::escape_invalid(bytes, crate::escape::Into::JsonString);
    let mut notes = Vec::new();
    if escaped > 0 {
        notes.push(format!("not UTF-8: {escaped} byte(s) read as \\xNN, the rest of the snapshot is kept"));
    }
    let text = text.as_ref();
    // Read in one pass; only a snapshot that does not read is read again for
    // its schema, so that a future format is named as such, not as a type error.
    let envelope: Envelope = match serde_json::from_str::<Envelope>(text) {
        Ok(envelope) if envelope.schema == SCHEMA => envelope,
        Ok(envelope) => return Err(Unreadable::UnknownSchema(envelope.schema)),
        Err(e) => {
            // Not parc's: a file of Ansible facts is read as what it says.
            if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
                if let Some(facts) = ansible::read(&value) {
                    let facts = facts.map_err(Unreadable::Ansible)?;
                    return Ok(Parsed {
                        kind: ansible::KIND.into(),
                        host: String::new(),
                        collected_at: facts.collected_at,
                        mode: Some("ansible".into()),
                        facts: Facts::Ansible(Box::new(facts)),
                        failures: Vec::new(),
                        notes,
                    });
                }
            }
            return Err(why_unreadable(text, e));
        }
    };
    let collected_at = Instant::parse_rfc3339(&envelope.collected_at)
        .map_err(|cause| Unreadable::CollectedAt { value: envelope.collected_at.clone(), cause: cause.to_string() })?;
    let mut failures = Vec::new();
    let facts = match envelope.kind.as_str() {
        "system" => Facts::System(system::parse(&envelope.probes, &mut failures)),
        "disks" => Facts::Disks(disks::parse(&envelope.probes, &mut failures)),
        "apt" => Facts::Apt(Box::new(apt::parse(&envelope.probes, &mut failures, &mut notes, &mut memo.apt))),
        kind if kind.starts_with("archive-") => match envelope.run.map(|r| serde_json::from_str(r.get())) {
            Some(Ok(run)) => Facts::Archive(Box::new(run)),
            Some(Err(e)) => return Err(Unreadable::RunLog(e)),
            None => return Err(Unreadable::NoRunLog),
        },
        "update" => match envelope.run.map(|r| serde_json::from_str(r.get())) {
            Some(Ok(run)) => Facts::Update(Box::new(run)),
            Some(Err(e)) => return Err(Unreadable::UpdateLog(e)),
            None => return Err(Unreadable::NoRunLog),
        },
        "reach" => Facts::Reach(envelope.reach.ok_or(Unreadable::NoReach)?),
        _ => Facts::Other,
    };
    Ok(Parsed {
        kind: envelope.kind,
        host: envelope.host,
        collected_at,
        mode: envelope.agent.and_then(|a| a.mode),
        facts,
        failures,
        notes,
    })
}

/// Why a snapshot's text is not an envelope: not JSON, not an object, another schema, or a field of the wrong shape.
fn why_unreadable(text: &str, error: serde_json::Error) -> Unreadable {
    #[derive(Deserialize)]
    struct Head {
        schema: Option<serde_json::Value>,
    }
    let head: Head = match serde_json::from_str(text) {
        Ok(head) => head,
        Err(e) if e.classify() == serde_json::error::Category::Data => return Unreadable::NotAnObject,
        Err(e) => return Unreadable::NotJson(e),
    };
    match head.schema.as_ref().and_then(|s| s.as_str()) {
        Some(SCHEMA) => Unreadable::Invalid(error),
        Some(other) => Unreadable::UnknownSchema(other.to_string()),
        None => Unreadable::NoSchema,
    }
}

/// Reads a probe's output as typed JSON, recording why when it cannot.
pub(crate) fn probe_json<T: serde::de::DeserializeOwned>(
    probes: &BTreeMap<String, Probe>,
    key: &str,
    failures: &mut Vec<ProbeFailure>,
) -> Option<T> {
    let probe = probes.get(key)?;
    if let Some(cause) = probe.failure() {
        failures.push(ProbeFailure { probe: key.into(), cause });
        return None;
    }
    let Some(json) = probe.json_text() else {
        failures.push(ProbeFailure { probe: key.into(), cause: "no output".into() });
        return None;
    };
    serde_json::from_str(&json)
        .map_err(|e| failures.push(ProbeFailure { probe: key.into(), cause: format!("unreadable output: {e}") }))
        .ok()
}

/// A probe's text output, recording why when there is none to read.
pub(crate) fn probe_text(
    probes: &BTreeMap<String, Probe>,
    key: &str,
    failures: &mut Vec<ProbeFailure>,
) -> Option<String> {
    let probe = probes.get(key)?;
    match (probe.failure(), probe.text()) {
        // du exits 1 when one home is unreadable but still prints the others.
        (Some(cause), Some(text)) if !text.trim().is_empty() => {
            failures.push(ProbeFailure { probe: key.into(), cause: format!("partial output, {cause}") });
            Some(text)
        }
        (Some(cause), _) => {
            failures.push(ProbeFailure { probe: key.into(), cause });
            None
        }
        (None, Some(text)) => Some(text),
        (None, None) => {
            failures.push(ProbeFailure { probe: key.into(), cause: "output is not text".into() });
            None
        }
    }
}

/// Writes a snapshot through a temporary file and a rename: a crash never
/// leaves half a snapshot.
pub fn write(
    dir: &std::path::Path,
    host: &str,
    kind: &str,
    snapshot: &serde_json::Value,
) -> Result<std::path::PathBuf, FileError> {
    let folder = dir.join(host);
    std::fs::create_dir_all(&folder).map_err(|e| FileError::new("create", &folder, e))?;
    let path = folder.join(format!("{kind}.json"));
    let tmp = folder.join(format!(".{kind}.json.tmp"));
    let mut bytes = serde_json::to_vec_pretty(snapshot).expect("a JSON value is written out");
    bytes.push(b'\n');
    std::fs::write(&tmp, bytes).map_err(|e| FileError::new("write", &tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| FileError::new("write", &path, e))?;
    Ok(path)
}

/// The snapshots folder must be there: a mistyped `--snapshots` is no first run.
pub fn check_folder(snapshots: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context;
    let meta = std::fs::metadata(snapshots)
        .with_context(|| format!("cannot open snapshots folder {}", snapshots.display()))?;
    if !meta.is_dir() {
        anyhow::bail!("cannot open snapshots folder {}: not a folder", snapshots.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(schema: &str, collected_at: &str) -> String {
        format!(r#"{{"schema":"{schema}","kind":"system","host":"h","collected_at":"{collected_at}","probes":{{}}}}"#)
    }

    #[test]
    fn names_what_is_wrong_with_a_snapshot() {
        assert!(parse(envelope(SCHEMA, "2026-11-21T03:00:12+01:00").as_bytes()).is_ok());
        let cases = [
            (envelope("parc.snapshot/2", "2026-11-21T03:00:12Z"), "unknown schema"),
            (envelope(SCHEMA, "last tuesday"), "not an RFC 3339 time"),
            (envelope(SCHEMA, "2026-02-31T00:00:00Z"), "not an RFC 3339 time"),
            (envelope(SCHEMA, "2026-11-21T03:00:12+99:99"), "not an RFC 3339 time"),
            (r#"{"schema":"parc.snapshot/1","kind":"disks""#.into(), "invalid JSON"),
            (r#"{"schema":"parc.snapshot/1","kind":7}"#.into(), "invalid snapshot"),
            ("[]".into(), "not a parc snapshot"),
            (r#"{"kind":"system"}"#.into(), "not a parc snapshot"),
        ];
        for (input, expected) in cases {
            let err = parse(input.as_bytes()).unwrap_err().to_string();
            assert!(err.contains(expected), "{input}: {err}");
        }
        // A host name in Latin-1: é is the single byte 0xe9.
        let text = envelope(SCHEMA, "2026-11-21T03:00:12Z").replace("\"h\"", "\"caf#\"");
        let bytes: Vec<u8> = text.bytes().map(|b| if b == b'#' { 0xe9 } else { b }).collect();
        let parsed = parse(&bytes).unwrap();
        assert_eq!((parsed.host.as_str(), parsed.notes.len()), ("caf\\xe9", 1), "kept, with a note");
        assert!(parsed.notes[0].contains("not UTF-8"));
    }
}

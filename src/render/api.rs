//! The static JSON API under `api/v1/`: one file per list and per entity,
//! JSON Schemas, and `index.json` listing every endpoint.

use super::detail::{disk_detail, host_detail, DiskDetail, History, HostDetail};
use super::output::Output;
use super::view::{DiskView, HostView, ReasonView};
use super::Site;
use super::{apt, archive, published, updates};
use crate::derive::risk::Verdict;
use crate::fleet::{self, history::Dated};
use crate::time::Instant;
use anyhow::Result;
use rayon::prelude::*;
use serde::Serialize;

const ROOT: &str = "api/v1";

/// Every list endpoint with its schema; entity endpoints follow a pattern.
const LISTS: &[(&str, &str)] = &[
    ("summary.json", "summary"),
    ("hosts.json", "hosts"),
    ("disks.json", "disks"),
    ("disks/by-serial.json", "disks-by-serial"),
    ("moves.json", "moves"),
    ("at-risk.json", "at-risk"),
    ("backup-needed.json", "backup-needed"),
    ("problems.json", "problems"),
    ("apt/hosts.json", "apt-hosts"),
    ("apt/changes.json", "apt-changes"),
    ("apt/packages.json", "apt-packages"),
    ("apt/pending.json", "apt-pending"),
    ("findings.json", "findings"),
    ("archives.json", "archives"),
    ("updates.json", "updates"),
    ("plan.json", "plan"),
];

/// Each endpoint's JSON Schema, derived from the very types it is written
/// from: the published shape and its schema cannot drift apart.
fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    use schemars::schema_for;
    vec![
        ("summary", schema_for!(published::Summary<'static>)),
        ("hosts", schema_for!(Vec<HostView>)),
        ("host", schema_for!(HostDetail<'static>)),
        ("disks", schema_for!(Vec<DiskView>)),
        ("disk", schema_for!(DiskDetail<'static>)),
        ("host-history", schema_for!(published::HostHistory<'static>)),
        ("disk-history", schema_for!(published::DiskHistory<'static>)),
        ("disks-by-serial", schema_for!(published::BySerial<'static>)),
        ("moves", schema_for!(Vec<published::Move<'static>>)),
        ("at-risk", schema_for!(Vec<AtRisk<'static>>)),
        ("backup-needed", schema_for!(Vec<published::BackupNeeded<'static>>)),
        ("problems", schema_for!(Vec<published::Problem<'static>>)),
        ("apt-hosts", schema_for!(Vec<apt::AptHost>)),
        ("apt-changes", schema_for!(Vec<apt::Change<'static>>)),
        ("apt-packages", schema_for!(Vec<apt::PackageIndex<'static>>)),
        ("apt-pending", schema_for!(Vec<apt::Pending<'static>>)),
        ("findings", schema_for!(Vec<super::findings::FindingView<'static>>)),
        ("badge", schema_for!(super::findings::Badge)),
        ("archives", schema_for!(Vec<archive::RunView<'static>>)),
        ("archive-job", schema_for!(archive::JobView<'static>)),
        ("updates", schema_for!(super::updates::Updates<'static>)),
        ("plan", schema_for!(crate::plan::Plan)),
    ]
}

#[derive(Serialize, schemars::JsonSchema)]
struct AtRisk<'a> {
    disk: &'a str,
    slug: &'a str,
    model: Option<&'a str>,
    serial: Option<&'a str>,
    host: &'a str,
    device: &'a str,
    verdict: Verdict,
    reasons: &'a [ReasonView],
}

#[derive(Serialize)]
struct Index {
    version: &'static str,
    /// The newest snapshot the data comes from.
    newest: Option<Instant>,
    endpoints: Vec<Endpoint>,
    /// The month files of each host's and disk's history: too many to list
    /// one by one, each named in its host's or disk's file (`history`).
    histories: Vec<Histories>,
}

#[derive(Serialize)]
struct Histories {
    /// The pattern of their paths.
    path: &'static str,
    schema: &'static str,
    /// Where each file is named.
    listed_in: &'static str,
}

const HISTORIES: [Histories; 2] = [
    Histories {
        path: "hosts/<slug>/history/<YYYY-MM>.json",
        schema: "schemas/host-history.schema.json",
        listed_in: "hosts/<slug>.json: history[].api",
    },
    Histories {
        path: "disks/<slug>/history/<YYYY-MM>.json",
        schema: "schemas/disk-history.schema.json",
        listed_in: "disks/<slug>.json: history[].api",
    },
];

#[derive(Serialize)]
struct Endpoint {
    path: String,
    schema: String,
    /// The same rows as CSV, beside a list.
    #[serde(skip_serializing_if = "Option::is_none")]
    csv: Option<String>,
}

/// The lists written as CSV too (`csv.rs`): every list of rows.
const CSV: &[&str] = &[
    "hosts.json",
    "disks.json",
    "moves.json",
    "at-risk.json",
    "backup-needed.json",
    "problems.json",
    "apt/hosts.json",
    "apt/changes.json",
    "apt/packages.json",
    "apt/pending.json",
    "findings.json",
    "archives.json",
];

fn csv_path(json: &str) -> Option<String> {
    CSV.contains(&json).then(|| json.replace(".json", ".csv"))
}

/// Writes one endpoint. Its bytes are made in any case, so the output
/// compares them with what the file holds (`output.rs`) and no memo is
/// kept: hashing them would cost more than that comparison, which is
/// skipped anyway when the length changed, as it does when a history grows.
/// Compact, not indented: a quarter fewer bytes to write, to serve, and for
/// an agent to read (`jq .` indents it for a person).
fn json<T: Serialize + ?Sized>(out: &Output, rel: &str, value: &T) -> Result<()> {
    let mut bytes = serde_json::to_vec(value)?;
    bytes.push(b'\n');
    if let Some(csv) = csv_path(rel) {
        let rows = super::csv::of_json(&bytes).map_err(|e| anyhow::anyhow!("cannot write {rel} as CSV: {e}"))?;
        out.write(&format!("{ROOT}/{csv}"), &rows)?;
    }
    out.write(&format!("{ROOT}/{rel}"), &bytes)
}

/// Writes each month of a history to its file. The months before the
/// newest are kept as a whole while their entries hash as when they were
/// written (one key for all of them, not a key and a lookup for each of the
/// twelve files of a year), else each is kept while its own entries do: a
/// new day costs the newest month's file, however long the history. On the
/// first day of a month the group gains the month that closed, and only
/// that month's file is made, while the months before it hash as the group
/// did the day before. The hashes are the history's own, made as its
/// entries were added.
fn months<'a, T: Dated, V: Serialize>(
    site: &Site,
    out: &Output,
    periods: &'a [published::Period],
    history: &'a fleet::History<T>,
    file: impl Fn(&'a str, &'a [T]) -> V,
) -> Result<()> {
    let Some((newest, closed)) = periods.split_last() else { return Ok(()) };
    let file = &file;
    let make = |period: &'a published::Period, slice: &'a [T]| {
        move || -> Result<Vec<u8>> {
            let mut bytes = serde_json::to_vec(&file(&period.period, slice))?;
            bytes.push(b'\n');
            Ok(bytes)
        }
    };
    let months = history.months();
    let length = |months: &[fleet::history::Month]| months.iter().map(|m| m.entries).sum::<usize>();
    if !closed.is_empty() {
        let key = |months: &[fleet::history::Month]| {
            format!("{}:{}:{:016x}", months.len(), length(months), fleet::history::Month::hash_all(months))
        };
        let paths: Vec<String> = closed.iter().map(|p| format!("{ROOT}/{}", p.api)).collect();
        // Named for its first month, which the month that closes does not change.
        let group = format!("{}#closed", paths[0]);
        let before_last = || key(&months[..closed.len() - 1]);
        let kept = site.memo.keep_group(out, &group, key(&months[..closed.len()]), &paths, before_last)?;
        for (i, ((period, month), path)) in closed.iter().zip(months).zip(&paths).enumerate().skip(kept) {
            let key = format!("{}:{:016x}", month.entries, month.hash);
            site.memo.write(out, path, key, make(period, history.month(i)))?;
        }
    }
    out.write(&format!("{ROOT}/{}", newest.api), &make(newest, history.newest_month())()?)
}

pub fn render(site: &Site, out: &Output) -> Result<()> {
    json(out, "summary.json", &published::Summary::of(site))?;
    json(out, "hosts.json", &site.views.hosts)?;
    json(out, "disks.json", &site.views.disks)?;
    json(out, "disks/by-serial.json", &published::BySerial::of(site))?;
    json(out, "moves.json", &published::Move::list(site))?;
    let risky = site.views.at_risk();
    let at_risk: Vec<AtRisk> = risky
        .iter()
        .map(|d| AtRisk {
            disk: &d.id,
            slug: &d.slug,
            model: d.model.as_deref(),
            serial: d.serial.as_deref(),
            host: &d.host,
            device: &d.device,
            verdict: d.verdict,
            reasons: &d.reasons,
        })
        .collect();
    json(out, "at-risk.json", &at_risk)?;
    json(out, "backup-needed.json", &published::BackupNeeded::list(site))?;
    json(out, "problems.json", &published::all(&site.fleet.problems, published::Problem::of))?;
    // The APT lists are the largest: made side by side.
    let apt_lists: [&(dyn Fn() -> Result<()> + Sync); 4] = [
        &|| json(out, "apt/hosts.json", site.apt_hosts()),
        &|| json(out, "apt/changes.json", &apt::changes(site)),
        &|| json(out, "apt/packages.json", site.apt_packages()),
        &|| {
            let pending: Vec<apt::Pending> = site.fleet.hosts.iter().flat_map(apt::pending).collect();
            json(out, "apt/pending.json", &pending)
        },
    ];
    apt_lists.par_iter().try_for_each(|list| list())?;
    let findings = site.findings();
    let listed: Vec<&super::findings::FindingView> = findings.iter().chain(site.closed_findings()).collect();
    json(out, "findings.json", &listed)?;
    let badges = super::findings::badges(site, findings);
    for (slug, badge) in &badges {
        json(out, &format!("badges/{slug}.json"), badge)?;
    }
    json(out, "archives.json", &archive::runs(site))?;
    json(out, "updates.json", &updates::updates(site))?;
    let jobs = archive::jobs(site);
    for job in &jobs {
        json(out, &format!("archives/{}.json", crate::slug::slug(job.job)), job)?;
    }
    // The plan as of the newest snapshot; empty when no job is configured.
    let empty = crate::plan::Plan {
        schema: crate::plan::SCHEMA.into(),
        made_at: String::new(),
        fingerprint: String::new(),
        jobs: Vec::new(),
        notifications: Vec::new(),
        notify_inputs: String::new(),
        updates: Vec::new(),
    };
    json(out, "plan.json", site.plan.unwrap_or(&empty))?;

    site.hosts().into_par_iter().try_for_each(|h| {
        let detail = host_detail(site, h.host, h.view, History::NewestMonth);
        json(out, &h.view.api, &detail)?;
        months(site, out, &detail.history, &h.host.timeline, |period, versions| {
            let timeline = versions.iter().map(published::Version::of).collect();
            published::HostHistory { host: &h.host.name, period, timeline }
        })
    })?;
    site.disks().into_par_iter().try_for_each(|d| {
        let detail = disk_detail(site, d.disk, d.view, History::NewestMonth);
        json(out, &d.view.api, &detail)?;
        months(site, out, &detail.history, &d.disk.sightings, |period, sightings| {
            let sightings = sightings.iter().map(published::Sighting::of).collect();
            published::DiskHistory { disk: &d.disk.id, period, sightings }
        })
    })?;

    for (name, schema) in schemas() {
        let mut bytes = serde_json::to_vec_pretty(&schema)?;
        bytes.push(b'\n');
        out.write(&format!("{ROOT}/schemas/{name}.schema.json"), &bytes)?;
    }
    let mut endpoints: Vec<Endpoint> = LISTS
        .iter()
        .map(|(path, schema)| Endpoint {
            path: path.to_string(),
            schema: format!("schemas/{schema}.schema.json"),
            csv: csv_path(path),
        })
        .collect();
    endpoints.extend(site.views.hosts.iter().map(|h| Endpoint {
        path: h.api.clone(),
        schema: "schemas/host.schema.json".into(),
        csv: None,
    }));
    endpoints.extend(site.views.disks.iter().map(|d| Endpoint {
        path: d.api.clone(),
        schema: "schemas/disk.schema.json".into(),
        csv: None,
    }));
    endpoints.extend(badges.iter().map(|(slug, _)| Endpoint {
        path: format!("badges/{slug}.json"),
        schema: "schemas/badge.schema.json".into(),
        csv: None,
    }));
    endpoints.extend(jobs.iter().map(|j| Endpoint {
        path: format!("archives/{}.json", crate::slug::slug(j.job)),
        schema: "schemas/archive-job.schema.json".into(),
        csv: None,
    }));
    json(
        out,
        "index.json",
        &Index { version: "v1", newest: site.fleet.newest, endpoints, histories: Vec::from(HISTORIES) },
    )
}

//! The tables of the export, and their rows: the JSON API's rows (the same
//! published types), a column per field.

use super::Table;
use crate::render::{apt, archive, published, Site};
use anyhow::Result;
use serde_json::{json, Value};

const T: &str = "TEXT";
const I: &str = "INTEGER";

pub const TABLES: &[Table] = &[
    Table {
        name: "hosts",
        columns: &[
            ("name", T, "name"),
            ("slug", T, "slug"),
            ("os", T, "os"),
            ("os_id", T, "os_id"),
            ("kernel", T, "kernel"),
            ("arch", T, "arch"),
            ("mode", T, "mode"),
            ("first_seen", I, "first_seen"),
            ("last_seen", I, "last_seen"),
            ("stale", I, "stale"),
            ("disks", I, "disks"),
            ("verdict", T, "verdict"),
            ("addresses", T, "addresses"),
        ],
        key: &["name"],
        indexes: &[],
        time: None,
        part: None,
    },
    Table {
        name: "disks",
        columns: &[
            ("id", T, "id"),
            ("slug", T, "slug"),
            ("model", T, "model"),
            ("serial", T, "serial"),
            ("wwn", T, "wwn"),
            ("kind", T, "kind"),
            ("capacity_bytes", I, "capacity_bytes"),
            ("verdict", T, "verdict"),
            ("host", T, "host"),
            ("device", T, "device"),
            ("present", I, "present"),
            ("first_seen", I, "first_seen"),
            ("last_seen", I, "last_seen"),
            ("temperature", I, "temperature"),
            ("power_on_hours", I, "power_on_hours"),
        ],
        key: &["id"],
        indexes: &[&["host"], &["serial"], &["verdict"]],
        time: None,
        part: None,
    },
    Table {
        name: "sightings",
        columns: &[
            ("disk", T, "disk"),
            ("at", I, "at"),
            ("host", T, "host"),
            ("device", T, "device"),
            ("passed", I, "passed"),
            ("temperature", I, "temperature"),
            ("power_on_hours", I, "power_on_hours"),
            ("reallocated", I, "reallocated"),
            ("pending", I, "pending"),
            ("uncorrectable", I, "uncorrectable"),
            ("crc", I, "crc"),
            ("media_errors", I, "media_errors"),
            ("percentage_used", I, "percentage_used"),
        ],
        key: &["disk", "at", "host", "device"],
        indexes: &[&["host", "at"], &["at"]],
        time: Some("at"),
        part: None,
    },
    Table {
        name: "smart_attributes",
        columns: &[
            ("disk", T, "disk"),
            ("id", I, "id"),
            ("name", T, "name"),
            ("value", I, "value"),
            ("worst", I, "worst"),
            ("thresh", I, "thresh"),
            ("raw", I, "raw"),
            ("when_failed", T, "when_failed"),
        ],
        key: &["disk", "id"],
        indexes: &[],
        time: None,
        part: Some("disk"),
    },
    Table {
        name: "moves",
        columns: &[
            ("disk", T, "disk"),
            ("at", I, "at"),
            ("from_host", T, "from"),
            ("to_host", T, "to"),
            ("left_at", I, "left"),
        ],
        key: &["disk", "at"],
        indexes: &[],
        time: None,
        part: None,
    },
    Table {
        name: "filesystems",
        columns: &[("host", T, "host"), ("at", I, "at"), ("target", T, "target"), ("use_percent", I, "use_percent")],
        key: &["host", "at", "target"],
        indexes: &[&["at"]],
        time: Some("at"),
        part: None,
    },
    Table {
        name: "packages",
        columns: &[
            ("host", T, "host"),
            ("package", T, "package"),
            ("arch", T, "arch"),
            ("version", T, "version"),
            ("status", T, "status"),
        ],
        key: &["host", "package", "arch"],
        indexes: &[&["package"]],
        time: None,
        part: Some("host"),
    },
    Table {
        name: "package_changes",
        columns: &[
            ("host", T, "host"),
            ("package", T, "package"),
            ("arch", T, "arch"),
            ("change", T, "change"),
            ("from_version", T, "from"),
            ("to_version", T, "to"),
            ("after", I, "after"),
            ("before", I, "before"),
        ],
        key: &["host", "package", "arch", "before"],
        indexes: &[&["package"], &["before"]],
        time: Some("before"),
        part: None,
    },
    Table {
        name: "pending_upgrades",
        columns: &[
            ("host", T, "host"),
            ("package", T, "package"),
            ("op", T, "op"),
            ("from_version", T, "from"),
            ("to_version", T, "to"),
            ("origins", T, "origins"),
            ("security", I, "security"),
            ("dist_upgrade_only", I, "dist_upgrade_only"),
        ],
        key: &["host", "package", "op"],
        indexes: &[&["package"], &["security"]],
        time: None,
        part: Some("host"),
    },
    Table {
        name: "archive_runs",
        columns: &[
            ("job", T, "job"),
            ("host", T, "host"),
            ("at", I, "at"),
            ("outcome", T, "outcome"),
            ("failed_step", T, "failed_step"),
            ("cause", T, "cause"),
            ("archive", T, "archive"),
            ("archive_bytes", I, "archive_bytes"),
            ("dump_sha256", T, "dump_sha256"),
            ("duration_ms", I, "duration_ms"),
        ],
        key: &["job", "host", "at"],
        indexes: &[&["at"]],
        time: Some("at"),
        part: None,
    },
    Table {
        name: "findings",
        columns: &[
            ("id", T, "id"),
            ("state", T, "state"),
            ("host", T, "host"),
            ("kind", T, "kind"),
            ("severity", T, "severity"),
            ("text", T, "text"),
            ("since", I, "since"),
            ("closed", I, "closed"),
        ],
        key: &["id", "since"],
        indexes: &[&["host"], &["kind"], &["state"]],
        time: None,
        part: None,
    },
];

/// A part of a table of the present: its rows, made only when its
/// fingerprint is not the one the database was written from.
pub struct Part<'a> {
    pub key: String,
    pub fingerprint: String,
    pub rows: Box<dyn FnOnce() -> Vec<Value> + 'a>,
}

/// A part whose fingerprint is its rows'.
fn whole<'a>(key: &str, rows: Vec<Value>) -> Part<'a> {
    let fingerprint = digest(serde_json::to_string(&rows).unwrap_or_default().as_bytes());
    Part { key: key.to_string(), fingerprint, rows: Box::new(move || rows) }
}

fn digest(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    format!("{:x}", Sha256::digest(bytes))
}

/// The parts of the table of the present `name`.
pub fn present<'a>(site: &'a Site, name: &str) -> Result<Vec<Part<'a>>> {
    let one = |rows: Vec<Value>| vec![whole("", rows)];
    Ok(match name {
        "hosts" => one(site.views.hosts.iter().map(to_value).collect()),
        "disks" => one(site.views.disks.iter().map(to_value).collect()),
        "moves" => one(published::Move::list(site).iter().map(to_value).collect()),
        "findings" => one(site.findings().iter().chain(site.closed_findings()).map(to_value).collect()),
        "smart_attributes" => (site.fleet.disks.iter())
            .filter_map(|d| {
                let smart = to_value(&published::Smart::of(d.report.as_ref()?));
                let rows = smart["attributes"].as_array()?.iter().map(|a| {
                    let mut row = a.clone();
                    row["disk"] = json!(d.id);
                    row
                });
                Some(whole(&d.id, rows.collect()))
            })
            .collect(),
        // A host's packages are read only when its newest inventory is not
        // the one written last time: most days, most hosts' is the same.
        "packages" => (site.fleet.hosts.iter())
            .filter_map(|h| {
                let inventory = h.apt.as_ref()?.newest.inventory.as_ref()?;
                let rows = move || {
                    let mut text = None;
                    (inventory.packages(&mut text).into_iter())
                        .map(|p| json!({"host": h.name, "package": p.name, "arch": p.arch, "version": p.version, "status": p.status}))
                        .collect()
                };
                Some(Part { key: h.name.clone(), fingerprint: digest(inventory.raw().as_bytes()), rows: Box::new(rows) })
            })
            .collect(),
        "pending_upgrades" => (site.fleet.hosts.iter())
            .filter(|h| h.apt.is_some())
            .map(|h| whole(&h.name, apt::pending(h).iter().map(to_value).collect()))
            .collect(),
        other => anyhow::bail!("no table {other}"),
    })
}

/// What takes each row of a table of events as it is made.
pub type Emit<'e> = dyn FnMut(&Value) -> Result<()> + 'e;

/// The table of events `name`: how many of its rows are at `after` or
/// before; each of those after it is given to `emit`, when there is one,
/// as it is made (a fleet's sightings are never all in memory at once).
pub fn events(site: &Site, name: &str, after: i64, mut emit: Option<&mut Emit>) -> Result<usize> {
    let mut older = 0;
    let mut add = |at: i64, row: &dyn Fn() -> Value| -> Result<()> {
        if at <= after {
            older += 1;
        } else if let Some(emit) = emit.as_mut() {
            emit(&row())?;
        }
        Ok(())
    };
    match name {
        "sightings" => {
            for d in &site.fleet.disks {
                for s in d.sightings.iter() {
                    add(s.at.0, &|| {
                        let mut row = to_value(&published::Sighting::of(s));
                        let figures = row["figures"].take();
                        if let (Value::Object(row), Value::Object(figures)) = (&mut row, figures) {
                            row.extend(figures);
                        }
                        row["disk"] = json!(d.id);
                        row
                    })?;
                }
            }
        }
        "filesystems" => {
            for h in &site.fleet.hosts {
                for v in h.timeline.iter() {
                    for (target, percent) in &v.use_percent {
                        add(v.at.0, &|| json!({"host": h.name, "at": v.at, "target": target, "use_percent": percent}))?;
                    }
                }
            }
        }
        "package_changes" => {
            for c in apt::changes(site) {
                add(c.before.0, &|| to_value(&c))?;
            }
        }
        "archive_runs" => {
            for r in archive::runs(site) {
                add(r.at.0, &|| to_value(&r))?;
            }
        }
        other => anyhow::bail!("no table {other}"),
    }
    Ok(older)
}

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("the API's types are JSON")
}

/// Datasette's `metadata.json` for the database `stem`: its title, where it
/// comes from, each table shown by its key, an event table newest first.
pub fn metadata(site: &Site, stem: &str) -> Value {
    let tables: serde_json::Map<String, Value> = TABLES
        .iter()
        .map(|t| {
            let mut table = json!({});
            if let Some(time) = t.time {
                table["sort_desc"] = json!(time);
            }
            (t.name.to_string(), table)
        })
        .collect();
    json!({"title": site.config.site.title, "source": "parc", "databases": {stem: {"tables": tables}}})
}

//! `parc demo`: a generated fleet, deterministic, made from real tool outputs.
//!
//! Every smartctl, lsblk, df, LVM and du output starts from a real one in
//! `tests/corpus/`; the generator only changes what changes on a real fleet
//! from day to day (power-on hours, temperature, a growing reallocated count,
//! home sizes, boot ids) and gives each copy of a drive its own serial.
//! Hosts come in groups of eight roles; the first group has plain names and
//! makes the example fleet in `snapshots/`.

use anyhow::{Context, Result};
use archive::ArchiveJob;
use host::Host;
use parc::cli::demo::DemoArgs;
use parc::time::Instant;
use roles::roles;
use serde_json::Value;
use std::path::Path;

macro_rules! corpus {
    ($path:literal) => {
        include_str!(concat!("../../tests/corpus/", $path))
    };
}

mod apt;
mod archive;
mod corpus;
mod host;
mod roles;

/// A small deterministic generator (SplitMix64): the same fleet every time.
struct Dice(u64);

impl Dice {
    fn new(seed: &[u64]) -> Dice {
        Dice(
            seed.iter()
                .fold(0x9e37_79b9_7f4a_7c15, |h, &s| (h ^ s).wrapping_mul(0xbf58_476d_1ce4_e5b9).rotate_left(27)),
        )
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

pub fn run(args: &DemoArgs) -> Result<()> {
    let until = Instant::parse_rfc3339(&format!("{}T02:00:00Z", args.until))
        .map_err(|cause| anyhow::anyhow!("--until must be YYYY-MM-DD: {cause}"))?;
    let every = args.every.max(1);
    let roles = roles();
    let templates: Vec<Value> =
        roles.iter().flat_map(|r| &r.drives).map(|d| serde_json::from_str(d.template).expect("corpus")).collect();
    let files = std::sync::atomic::AtomicUsize::new(0);
    use rayon::prelude::*;
    (0..args.hosts).into_par_iter().try_for_each(|i| -> Result<()> {
        let (role, group) = (&roles[i % roles.len()], i / roles.len());
        let first_template = roles[..i % roles.len()].iter().map(|r| r.drives.len()).sum::<usize>();
        let name = if group == 0 { role.name.to_string() } else { format!("{}-{group:03}", role.name) };
        let mut day = 0;
        // The file server runs the nightly archive job.
        let mut archive = (role.name == "files" && group == 0).then(ArchiveJob::default);
        while day < args.days {
            let days_ago = args.days - 1 - day;
            day += every;
            let minutes = (i % 53) as i64;
            let at = Instant(until.0 - i64::from(days_ago) * 86_400 + minutes * 60 + (i % 41) as i64);
            if days_ago < role.silent_days {
                // Collected over SSH: the control host records that it got no answer.
                if args.kinds.iter().any(|k| k == "system") {
                    write(&args.out.join(&name).join("reach").join(file_name(at)), &unreached(&name, at))?;
                    files.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                continue;
            }
            let progress = (args.days - 1 - days_ago) as u64 * 100 / u64::from(args.days.max(2) - 1);
            let host = Host {
                role,
                name: &name,
                index: i,
                group,
                at,
                days_ago,
                days: args.days,
                progress,
                templates: &templates[first_template..],
            };
            for kind in &args.kinds {
                let (folder, envelope) = match kind.as_str() {
                    "system" => (kind.clone(), host.system()),
                    "disks" => (kind.clone(), host.disks()),
                    "apt" => (kind.clone(), host.apt(args.packages)),
                    "archive" => match &mut archive {
                        Some(job) => ("archive-db".to_string(), job.run(&name, at, days_ago / every)),
                        None => continue,
                    },
                    other => anyhow::bail!("no generator for kind {other:?} (known: system, disks, apt, archive)"),
                };
                let path = args.out.join(&name).join(folder).join(file_name(at));
                write(&path, &envelope)?;
                files.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
        Ok(())
    })?;
    eprintln!("wrote {} snapshots of {} hosts into {}", files.into_inner(), args.hosts, args.out.display());
    Ok(())
}

/// A `reach` snapshot as `parc collect --ssh` writes it for a host that did not answer.
fn unreached(host: &str, at: Instant) -> Value {
    let error = "no answer within 300 s (ssh.timeout)";
    let reach = parc::snapshot::reach::Reach {
        destination: format!("root@{host}"),
        class: parc::snapshot::reach::Class::of(error),
        error: error.into(),
    };
    reach.envelope(host, at)
}

fn file_name(at: Instant) -> String {
    format!("{}.json", at.rfc3339().replace(':', ""))
}

fn write(path: &Path, value: &Value) -> Result<()> {
    std::fs::create_dir_all(path.parent().expect("a file has a folder"))?;
    std::fs::write(path, serde_json::to_vec(value)?).with_context(|| format!("cannot write {}", path.display()))
}

/// lsblk before util-linux 2.33: every number and boolean as a string.
pub(super) fn stringify(v: Value) -> Value {
    match v {
        Value::Number(n) => Value::String(n.to_string()),
        Value::Bool(b) => Value::String(if b { "1" } else { "0" }.into()),
        Value::Array(a) => Value::Array(a.into_iter().map(stringify).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, stringify(v))).collect()),
        other => other,
    }
}

/// FNV-1a: a stable hash of a string, for seeding.
pub(super) fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

//! `parc collect`: runs the probe scripts on this machine or over SSH and
//! writes `DIR/<host>/<kind>.json`; optionally commits and pushes them.

pub mod command;
pub mod git;
pub mod inventory;
pub mod local;
pub mod script;
pub mod sections;
pub mod ssh;

use crate::config::Config;
use crate::time::Instant;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why a host was not collected.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Name(#[from] crate::host::Error),
    #[error(transparent)]
    Script(#[from] script::UnknownKind),
    #[error(transparent)]
    Local(#[from] local::Error),
    #[error(transparent)]
    Ssh(#[from] ssh::Error),
    #[error(transparent)]
    Write(#[from] crate::store::FileError),
    #[error("no answer within {} s (ssh.timeout)", .0.as_secs())]
    NoAnswer(Duration),
}

/// What one host's collection gave.
#[derive(Debug)]
pub struct Outcome {
    /// The host's folder name, or its destination when it never answered.
    pub host: String,
    pub kinds: Vec<String>,
    pub seconds: f64,
    /// The files written, or why the host failed.
    pub result: Result<Vec<PathBuf>, Failure>,
    /// The `reach` snapshot that records a host not reached, when one was written.
    pub reach: Option<PathBuf>,
}

impl Outcome {
    /// A host's outcome: named by the host it reached, or by `fallback`
    /// (its inventory name or destination) when it failed before that.
    fn new(
        result: Result<(String, Vec<PathBuf>), Failure>,
        fallback: &str,
        kinds: &[String],
        start: std::time::Instant,
    ) -> Outcome {
        let seconds = start.elapsed().as_secs_f64();
        let (host, result) = match result {
            Ok((host, written)) => (host, Ok(written)),
            Err(e) => (fallback.to_string(), Err(e)),
        };
        Outcome { host, kinds: kinds.to_vec(), seconds, result, reach: None }
    }

    /// Every file this collection wrote: snapshots, or the record of a host not reached.
    pub fn files(&self) -> impl Iterator<Item = &PathBuf> {
        self.result.as_ref().ok().into_iter().flatten().chain(&self.reach)
    }
}

impl Failure {
    /// The words of a failure to reach the host at all; none when it was
    /// reached (a probe script that failed, a snapshot not written).
    fn unreached(&self) -> Option<String> {
        match self {
            Failure::Ssh(e @ ssh::Error::Ssh(_)) | Failure::Ssh(e @ ssh::Error::Lost(_)) => Some(e.to_string()),
            Failure::NoAnswer(_) => Some(self.to_string()),
            _ => None,
        }
    }
}

/// Where a host not reached is recorded: its inventory name, or the host
/// name of its destination (an address names no host: nothing is recorded).
fn reach_folder(target: &Target) -> Option<String> {
    let name = match &target.name {
        Some(name) => name.clone(),
        None => ssh::Destination::parse(&target.destination).ok()?.host,
    };
    let address = name.parse::<std::net::IpAddr>().is_ok();
    (!address && crate::host::check_name(&name).is_ok()).then_some(name)
}

/// Records a collection that did not reach its host, as a `reach` snapshot.
fn record_unreached(dir: &Path, target: &Target, at: Instant, error: String) -> Option<PathBuf> {
    let host = reach_folder(target)?;
    let reach = crate::snapshot::reach::Reach {
        destination: target.destination.clone(),
        class: crate::snapshot::reach::Class::of(&error),
        error,
    };
    match crate::snapshot::write(dir, &host, "reach", &reach.envelope(&host, at)) {
        Ok(path) => Some(path),
        Err(e) => {
            tracing::warn!("{host}: the failed collection is not recorded: {e}");
            None
        }
    }
}

/// One host to reach over SSH.
#[derive(Clone, Debug)]
pub struct Target {
    /// The inventory name, when the host has one; else the name it reports.
    pub name: Option<String>,
    pub destination: String,
}

/// The inventory (or `--ssh` destinations) as targets.
pub fn targets(destinations: &[String], config: &Config) -> Vec<Target> {
    if destinations.is_empty() {
        return config
            .hosts
            .iter()
            .map(|h| Target {
                name: Some(h.name.clone()),
                destination: h.ssh.clone().unwrap_or_else(|| h.name.clone()),
            })
            .collect();
    }
    destinations
        .iter()
        .map(|d| {
            // A destination that is an inventory name or address takes the inventory's name.
            let known = config.hosts.iter().find(|h| h.name == *d || h.ssh.as_deref() == Some(d.as_str()));
            match known {
                Some(h) => {
                    Target { name: Some(h.name.clone()), destination: h.ssh.clone().unwrap_or_else(|| h.name.clone()) }
                }
                None => Target { name: None, destination: d.clone() },
            }
        })
        .collect()
}

fn environment(config: &Config, sudo: bool) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("LC_ALL", "C".to_string()),
        ("DEBIAN_FRONTEND", "noninteractive".to_string()),
        ("PARC_PROBE_TIMEOUT", config.collect.probe_timeout.to_string()),
    ];
    if config.collect.apt_update {
        env.push(("PARC_APT_UPDATE", "1".to_string()));
    }
    if let Some(proxy) = &config.collect.apt_proxy {
        env.push(("PARC_APT_PROXY", proxy.clone()));
    }
    if sudo {
        env.push(("PARC_SUDO", config.ssh.sudo_prefix()));
    }
    env
}

fn now() -> Instant {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    Instant(secs as i64)
}

/// Collects this machine.
pub fn collect_local(dir: &Path, host: Option<&str>, kinds: &[String], config: &Config) -> Outcome {
    let start = std::time::Instant::now();
    let result = (|| -> Result<_, Failure> {
        let host = match host {
            Some(h) => h.to_string(),
            None => crate::host::this()?,
        };
        crate::host::check_name(&host)?;
        let env = environment(config, config.collect.sudo);
        // Probes run in parallel inside a script; the whole run gets room for
        // the slowest of them, and a margin.
        let limit = Duration::from_secs(config.collect.probe_timeout * 2 + 10);
        let mut written = Vec::new();
        for kind in kinds {
            let script = script::for_kind(kind)?;
            let at = now();
            let output = local::run(&script, &env, limit)?;
            let snapshot = sections::envelope(kind, &host, at, "local", &sections::parse(&output));
            written.push(crate::snapshot::write(dir, &host, kind, &snapshot)?);
        }
        Ok((host, written))
    })();
    Outcome::new(result, host.unwrap_or("localhost"), kinds, start)
}

/// Collects every target over SSH, `ssh.concurrency` at a time; one failing
/// host never stops the others.
pub fn collect_ssh(
    dir: &Path,
    targets: Vec<Target>,
    kinds: &[String],
    config: &Config,
    ssh_config: Option<PathBuf>,
) -> Vec<Outcome> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    let control_dir =
        tempfile::Builder::new().prefix("parc-ssh").tempdir_in("/tmp").expect("a temporary folder in /tmp");
    let settings = ssh::Settings {
        ssh: config.ssh.clone(),
        config_file: ssh_config,
        control_dir: control_dir.path().to_path_buf(),
    };
    let progress = crate::progress::count(targets.len(), "hosts");
    let outcomes = runtime.block_on(async {
        let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(config.ssh.concurrency()));
        let mut tasks = tokio::task::JoinSet::new();
        for (i, target) in targets.into_iter().enumerate() {
            let (permits, settings, kinds, dir) =
                (permits.clone(), settings.clone(), kinds.to_vec(), dir.to_path_buf());
            let (config, progress) = (config.clone(), progress.clone());
            tasks.spawn(async move {
                let _permit = permits.acquire().await.expect("the semaphore stays open");
                let outcome = collect_one(&dir, &target, &kinds, &config, &settings).await;
                progress.inc(1);
                (i, outcome)
            });
        }
        let mut outcomes = Vec::new();
        while let Some(done) = tasks.join_next().await {
            outcomes.push(done.expect("a collection task does not panic"));
        }
        outcomes.sort_by_key(|(i, _)| *i);
        outcomes.into_iter().map(|(_, o)| o).collect::<Vec<_>>()
    });
    progress.finish_and_clear();
    outcomes
}

async fn collect_one(
    dir: &Path,
    target: &Target,
    kinds: &[String],
    config: &Config,
    settings: &ssh::Settings,
) -> Outcome {
    let start = std::time::Instant::now();
    let attempted = now();
    let limit = config.ssh.timeout();
    let work = async {
        let dest = ssh::Destination::parse(&target.destination)?;
        let session = ssh::connect(&dest, settings, limit).await?;
        let env = environment(config, config.ssh.sudo);
        let mut outputs = Vec::new();
        for kind in kinds {
            let script = script::for_kind(kind)?;
            let at = now();
            outputs.push((kind, at, sections::parse(&ssh::run(&session, &script, &env).await?)));
        }
        let host = match &target.name {
            Some(name) => name.clone(),
            None => reported_name(&session, &outputs).await?,
        };
        crate::host::check_name(&host)?;
        let _ = session.close().await;
        let mut written = Vec::new();
        for (kind, at, runs) in outputs {
            written.push(crate::snapshot::write(dir, &host, kind, &sections::envelope(kind, &host, at, "ssh", &runs))?);
        }
        Ok::<_, Failure>((host, written))
    };
    let result = match tokio::time::timeout(limit, work).await {
        Ok(result) => result,
        Err(_) => Err(Failure::NoAnswer(limit)),
    };
    let unreached = result.as_ref().err().and_then(Failure::unreached);
    let mut outcome = Outcome::new(result, target.name.as_deref().unwrap_or(&target.destination), kinds, start);
    outcome.reach = unreached.and_then(|error| record_unreached(dir, target, attempted, error));
    outcome
}

/// The name a host reports: from its `hostname` probe when the system kind
/// was collected, else by asking.
async fn reported_name(
    session: &openssh::Session,
    outputs: &[(&String, Instant, Vec<sections::ProbeRun>)],
) -> Result<String, ssh::Error> {
    let probed = outputs.iter().flat_map(|(_, _, runs)| runs).find(|r| r.key == "hostname" && r.exit == Some(0));
    if let Some(run) = probed {
        return Ok(String::from_utf8_lossy(&run.stdout).trim().to_string());
    }
    let out = session.raw_command("hostname").output().await?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The summary table: host, kinds, seconds, result.
pub fn summary_table(outcomes: &[Outcome]) -> String {
    let width = outcomes.iter().map(|o| o.host.chars().count()).max().unwrap_or(4).max(4);
    let kinds: Vec<String> = outcomes.iter().map(|o| o.kinds.join(",")).collect();
    let kinds_width = kinds.iter().map(|k| k.chars().count()).max().unwrap_or(5).max(5);
    let mut table = format!("{:<width$}  {:<kinds_width$}  {:>7}  result\n", "host", "kinds", "seconds");
    for (o, kinds) in outcomes.iter().zip(&kinds) {
        let result = match &o.result {
            Ok(files) => format!("ok, {}", crate::words::count(files.len(), "snapshot", "snapshots")),
            Err(e) if o.reach.is_some() => format!("FAILED (recorded as reach): {e}"),
            Err(e) => format!("FAILED: {e}"),
        };
        table.push_str(&format!("{:<width$}  {kinds:<kinds_width$}  {:>7.2}  {result}\n", o.host, o.seconds));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_table_keeps_its_columns_whatever_the_kinds() {
        let outcome = |host: &str, kinds: &[&str]| Outcome {
            host: host.into(),
            kinds: kinds.iter().map(|k| k.to_string()).collect(),
            seconds: 1.5,
            result: Ok(vec![PathBuf::from("a")]),
            reach: None,
        };
        let table = summary_table(&[outcome("pve1", &["system", "disks", "apt"]), outcome("pi-garage", &["system"])]);
        let lines: Vec<&str> = table.lines().collect();
        let column = |line: &str, word: &str| line.find(word).unwrap();
        assert_eq!(column(lines[0], "result"), column(lines[1], "ok, 1 snapshot"), "{table}");
        assert_eq!(column(lines[0], "seconds") + "seconds".len(), column(lines[2], "1.50") + 4, "{table}");
    }
}

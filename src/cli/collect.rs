//! `parc collect` and `parc probe-script`.

use super::exit;
use crate::collect::{self, script};
use crate::config::Config;
use anyhow::{bail, Result};
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct CollectArgs {
    /// Snapshots folder to write into [default: build.snapshots, "snapshots"].
    #[arg(long, value_name = "DIR")]
    pub snapshots: Option<PathBuf>,
    /// The host's folder name instead of this machine's name (local collection).
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
    /// Kinds to collect, comma-separated [default: collect.kinds, "system,disks,apt"].
    #[arg(long, value_name = "KINDS", value_delimiter = ',')]
    pub kinds: Option<Vec<String>>,
    /// Collect over SSH from these hosts; with no host, from the inventory ([[hosts]] in parc.toml).
    #[arg(long, value_name = "[USER@]HOST[:PORT]", num_args = 0.., action = clap::ArgAction::Append)]
    pub ssh: Option<Vec<String>>,
    /// An ssh_config file used for every host (ssh -F).
    #[arg(long, value_name = "FILE")]
    pub ssh_config: Option<PathBuf>,
    /// Collect over SSH the hosts of an Ansible inventory: its INI or YAML
    /// file, or `-` for `ansible-inventory --list` JSON on stdin (hosts
    /// given to --ssh then pick among them).
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// Commit the changed snapshots to the git repository that holds the snapshots folder.
    #[arg(long)]
    pub commit: bool,
    /// Commit, then push the current branch (fetch, replay on the remote branch, retry).
    #[arg(long)]
    pub push: bool,
}

/// The hosts of an Ansible inventory (`-`: its JSON on stdin), or of them
/// those `picked` names (by inventory name or destination).
fn inventory(file: &Path, picked: Vec<String>) -> Result<Vec<collect::Target>> {
    let text = if file == Path::new("-") {
        std::io::read_to_string(std::io::stdin())
            .map_err(|e| anyhow::anyhow!("cannot read the inventory on stdin: {e}"))?
    } else {
        std::fs::read_to_string(file)
            .map_err(|e| anyhow::anyhow!("cannot read the inventory {}: {e}", file.display()))?
    };
    let hosts =
        collect::inventory::parse(&text).map_err(|e| super::Usage(format!("the inventory {}: {e}", file.display())))?;
    let mut targets = Vec::new();
    for host in hosts {
        if !picked.is_empty() && !picked.iter().any(|p| *p == host.name || *p == host.destination) {
            continue;
        }
        if let Err(e) = crate::host::check_name(&host.name) {
            return Err(super::Usage(format!("the inventory {}: host {:?}: {e}", file.display(), host.name)).into());
        }
        targets.push(collect::Target { name: Some(host.name), destination: host.destination });
    }
    Ok(targets)
}

pub fn collect(args: CollectArgs, config: &Config, base: &Path, quiet: bool) -> Result<u8> {
    let dir = args.snapshots.unwrap_or_else(|| base.join(&config.build.snapshots));
    let kinds = args.kinds.unwrap_or_else(|| config.collect.kinds.clone());
    for kind in &kinds {
        script::for_kind(kind)?;
    }
    if let Some(host) = &args.host {
        if let Err(e) = crate::host::check_name(host) {
            return Err(super::Usage(format!("--host {host:?}: {e}")).into());
        }
    }
    if args.commit || args.push {
        collect::git::check(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    let ssh = match (&args.inventory, args.ssh) {
        (Some(file), picked) => Some(inventory(file, picked.unwrap_or_default())?),
        (None, ssh) => ssh.map(|d| collect::targets(&d, config)),
    };
    let outcomes = match ssh {
        None => vec![collect::collect_local(&dir, args.host.as_deref(), &kinds, config)],
        Some(targets) => {
            if args.host.is_some() {
                bail!("--host names this machine's snapshots; over SSH, name hosts in the inventory ([[hosts]] in parc.toml)");
            }
            if targets.is_empty() {
                bail!("--ssh without hosts: give [user@]host[:port] or list hosts in parc.toml ([[hosts]])");
            }
            collect::collect_ssh(&dir, targets, &kinds, config, args.ssh_config)
        }
    };
    if !quiet {
        eprint!("{}", collect::summary_table(&outcomes));
    }
    let failed = outcomes.iter().filter(|o| o.result.is_err()).count();
    if args.commit || args.push {
        let files: Vec<PathBuf> = outcomes.iter().flat_map(|o| o.files()).cloned().collect();
        let hosts: Vec<&str> = outcomes.iter().filter(|o| o.result.is_ok()).map(|o| o.host.as_str()).collect();
        let unreached: Vec<&str> = outcomes.iter().filter(|o| o.reach.is_some()).map(|o| o.host.as_str()).collect();
        let mut message = match hosts.as_slice() {
            [one] => format!("parc collect: {one} ({})", kinds.join(", ")),
            many => format!("parc collect: {} hosts ({}): {}", many.len(), kinds.join(", "), many.join(", ")),
        };
        if !unreached.is_empty() {
            message.push_str(&format!("; not reached: {}", unreached.join(", ")));
        }
        super::commit_and_push(&dir, &files, &message, args.push, config, quiet)?;
    }
    Ok(if failed > 0 { exit::HOSTS_FAILED } else { exit::OK })
}

pub fn probe_script(kind: Option<&str>, sudo_wrapper: bool) -> Result<u8> {
    let text = match kind {
        _ if sudo_wrapper => script::SUDO_WRAPPER.to_string(),
        Some(kind) => script::for_kind(kind)?,
        None => bail!("give a kind (system, disks, apt), --sudo-wrapper or --update-wrapper"),
    };
    super::print(&text)?;
    Ok(exit::OK)
}

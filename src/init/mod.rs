//! `parc init`: a working project in a folder — the configuration with
//! every default, the snapshots folder, the agent's units, the CI files —
//! as a git repository with a first commit, the layout agents clone and CI
//! builds. Nothing is overwritten without `force`.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// `parc.toml` with every key at its default (`parc config --default`).
pub const DEFAULT_CONFIG: &str = include_str!("parc.toml");

/// Every file a new project holds: its path, and its text.
pub const FILES: &[(&str, &str)] = &[
    ("parc.toml", DEFAULT_CONFIG),
    (".gitignore", "site/\n.parc-cache/\n"),
    ("snapshots/README.md", include_str!("snapshots.md")),
    ("templates/README.md", include_str!("templates.md")),
    ("content/README.md", include_str!("content.md")),
    ("deploy/README.md", include_str!("deploy.md")),
    ("deploy/parc-collect.service", include_str!("parc-collect.service")),
    ("deploy/parc-collect.timer", include_str!("parc-collect.timer")),
    ("deploy/parc.cron", "0 3 * * * root cd /var/lib/parc/fleet && /usr/local/bin/parc -q collect --commit --push\n"),
    ("deploy/sudoers", "parc ALL=(root) NOPASSWD: /usr/local/sbin/parc-root\n"),
    (".github/workflows/site.yml", include_str!("github.yml")),
    (".gitlab-ci.yml", include_str!("gitlab.yml")),
];

/// What a person tells `parc init` about their fleet: each is a flag, or a
/// question with `--interactive`; each adds to the default configuration.
#[derive(Clone, Debug, Default)]
pub struct Answers {
    /// Hosts for pull mode (`[[hosts]]`).
    pub hosts: Vec<String>,
    /// The git remote the agents push to.
    pub remote: Option<String>,
    /// Who is mailed about findings (`[mail.ops]`, and an escalation rule).
    pub mail: Option<String>,
    /// An archive job: the zip's URL, the file it holds, where archives go.
    pub archive: Option<(String, String, String)>,
}

impl Answers {
    /// The configuration they add, after the defaults.
    pub fn config(&self) -> String {
        let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
        let mut text = String::new();
        for host in &self.hosts {
            text.push_str(&format!("\n[[hosts]]\nname = {}\n", quote(host)));
        }
        if let Some(to) = &self.mail {
            text.push_str(&format!(
                "\n[mail.ops]\nto = [{}]\nfrom = \"parc@localhost\"\ntransport = \"sendmail\"\n\n[[escalation]]\nkinds = [\"smart-failing\", \"host-unreachable\", \"archive-failed\", \"update-failed\"]\nsteps = [ {{ after = \"0h\", notify = \"ops\" }} ]\n",
                quote(to)
            ));
        }
        if let Some((url, expect, destination)) = &self.archive {
            text.push_str(&format!(
                "\n[[archive]]\nname = \"dump\"\nurl = {}\nexpect = {}\ndestination = {}\nkeep_daily = 7\nkeep_weekly = 4\n",
                quote(url),
                quote(expect),
                quote(destination)
            ));
            if self.mail.is_some() {
                text.push_str("mail = \"ops\"\n");
            }
        }
        text
    }
}

/// Writes the project into `dir` and commits it. A folder that holds
/// anything is refused, unless `force`: then the project's files are
/// written over whatever has their names, and nothing else is touched.
pub fn init(dir: &Path, force: bool, answers: &Answers) -> Result<Vec<PathBuf>> {
    let holds = std::fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(false);
    if holds && !force {
        bail!(
            "{} is not empty: parc init writes into an empty folder (--force writes its files there anyway)",
            dir.display()
        );
    }
    // What the answers say must read: one that does not is refused before anything is written.
    let config = tempfile::NamedTempFile::new()?;
    std::fs::write(config.path(), format!("{DEFAULT_CONFIG}{}", answers.config()))?;
    crate::config::Config::load(config.path(), true).context("the answers do not make a valid parc.toml")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if git2::Repository::discover(dir).is_err() {
        // `main`: the branch the GitHub workflow builds on.
        let mut options = git2::RepositoryInitOptions::new();
        options.initial_head("main");
        git2::Repository::init_opts(dir, &options)
            .with_context(|| format!("cannot make a git repository in {}", dir.display()))?;
    }
    let mut written = Vec::new();
    for (rel, text) in FILES {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let text = if *rel == "parc.toml" { format!("{text}{}", answers.config()) } else { text.to_string() };
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    if let Some(remote) = &answers.remote {
        let repo = git2::Repository::discover(dir)?;
        if repo.find_remote("origin").is_err() {
            repo.remote("origin", remote).with_context(|| format!("cannot add the remote {remote}"))?;
        }
    }
    crate::collect::git::commit(dir, &written, "parc init: a new fleet")?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_default_configuration_is_the_defaults() {
        let read: crate::config::Config = toml::from_str(super::DEFAULT_CONFIG).expect("parc.toml of parc init reads");
        let as_json = |c: &crate::config::Config| serde_json::to_value(c).unwrap();
        assert_eq!(
            as_json(&read),
            as_json(&crate::config::Config::default()),
            "every line that is not a comment is a default"
        );
    }
}

//! `parc.toml`: every key has a default, so no file at all is a valid configuration.

pub mod archive;
pub mod destination;
pub mod escalation;
pub mod pattern;
pub mod update;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// What the site says about itself.
    pub site: SiteConfig,
    /// Where `parc build` reads and writes.
    pub build: BuildConfig,
    /// Fleet-wide thresholds.
    pub fleet: FleetConfig,
    /// How SMART figures become a verdict.
    pub smart: SmartConfig,
    /// What `parc collect` probes, and how long a probe may take.
    pub collect: CollectConfig,
    /// How `parc collect --ssh` connects.
    pub ssh: SshConfig,
    /// The inventory: hosts `parc collect --ssh` reaches when none is named.
    pub hosts: Vec<HostEntry>,
    /// Where `parc collect --push` pushes.
    pub git: GitConfig,
    /// Archive jobs (`[[archive]]`), planned by `parc plan`, carried out by `parc apply`.
    pub archive: Vec<archive::ArchiveJob>,
    /// Mail settings by name (`[mail.NAME]`), named by a job's `mail`.
    pub mail: BTreeMap<String, crate::mail::MailConfig>,
    /// When a condition becomes a finding.
    pub findings: FindingsConfig,
    /// Who is told about findings, and when (`[[escalation]]`).
    pub escalation: Vec<escalation::Rule>,
    /// APT update policies (`[[update]]`), planned by `parc plan`.
    pub update: Vec<update::Policy>,
}

/// `[findings]`: the thresholds of the findings (`derive/findings.rs`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct FindingsConfig {
    /// A file system at or above this use (percent) is `filesystem-full`.
    pub filesystem_full_percent: u8,
    /// Per mount point, instead: `"/boot" = 95`.
    pub filesystem_full: BTreeMap<String, u8>,
    /// A reboot required for longer than this is `reboot-required`.
    pub reboot_required_after_hours: u64,
    /// Security upgrades pending for longer than this are `security-updates`.
    pub security_updates_after_hours: u64,
    /// No good archive for longer than this is `archive-stale` (a job's own `stale_after` wins).
    pub archive_stale_after_hours: u64,
    /// A disk move is news (`disk-moved`) for this many days.
    pub disk_moved_days: u64,
    /// Findings that cleared are listed for this many days.
    pub closed_days: u64,
}

impl Default for FindingsConfig {
    fn default() -> Self {
        FindingsConfig {
            filesystem_full_percent: 90,
            filesystem_full: BTreeMap::new(),
            reboot_required_after_hours: 24,
            security_updates_after_hours: 72,
            archive_stale_after_hours: 36,
            disk_moved_days: 7,
            closed_days: 30,
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CollectConfig {
    /// The kinds collected when `--kinds` is not given.
    pub kinds: Vec<String>,
    /// Seconds one probe may run before it is stopped and recorded as timed out.
    pub probe_timeout: u64,
    /// Local collection by a user other than root (a host agent): run the
    /// commands that need root through `sudo -n` and `ssh.sudo_wrapper`.
    pub sudo: bool,
    /// The `apt` kind runs `apt-get update` first (root, network). Off by
    /// default: an agent must not touch the network or the lists unless asked.
    pub apt_update: bool,
    /// An HTTP proxy for APT (`http://apt-cacher:3142`): given to `apt-get
    /// update` and to the updater's runs as `Acquire::http::Proxy`.
    pub apt_proxy: Option<String>,
}

impl CollectConfig {
    /// The proxy goes into a command line on every host: a URL of plain
    /// characters only, so that no shell or APT option can ride along.
    fn check(&self) -> Result<(), String> {
        let Some(proxy) = &self.apt_proxy else { return Ok(()) };
        let rest = proxy.strip_prefix("http://").or_else(|| proxy.strip_prefix("https://"));
        let plain = |c: char| c.is_ascii_alphanumeric() || "._~:/@%+-".contains(c);
        match rest {
            Some(rest) if !rest.is_empty() && rest.chars().all(plain) => Ok(()),
            _ => Err(format!(
                "collect.apt_proxy is {proxy:?}: give an http:// or https:// URL of letters, digits and ._~:/@%+- only"
            )),
        }
    }
}

impl Default for CollectConfig {
    fn default() -> Self {
        CollectConfig {
            kinds: vec!["system".into(), "disks".into(), "apt".into()],
            probe_timeout: 60,
            sudo: false,
            apt_update: false,
            apt_proxy: None,
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SshConfig {
    /// Login name, unless the destination or the OpenSSH configuration gives one.
    pub user: Option<String>,
    /// The private key to use (only this one: `IdentitiesOnly`).
    pub identity_file: Option<PathBuf>,
    /// The known_hosts file, instead of the user's own. Host keys are always checked.
    pub known_hosts: Option<PathBuf>,
    /// An ssh_config file used for every host (`ssh -F`).
    pub config_file: Option<PathBuf>,
    /// Run the commands that need root through `sudo -n` and the root wrapper.
    pub sudo: bool,
    /// The root wrapper sudo runs (`parc probe-script --sudo-wrapper`);
    /// default `/usr/local/sbin/parc-root`. Empty: `sudo -n` runs the
    /// commands themselves.
    pub sudo_wrapper: Option<String>,
    /// The root wrapper `parc apply` runs through sudo to update a host
    /// (`parc probe-script --update-wrapper`); default `/usr/local/sbin/parc-update-root`.
    pub update_wrapper: Option<String>,
    /// Hosts collected at the same time (default 8).
    pub concurrency: Option<usize>,
    /// Seconds a whole host may take, connection included (default 300).
    pub timeout: Option<u64>,
}

impl SshConfig {
    pub fn concurrency(&self) -> usize {
        self.concurrency.unwrap_or(8).max(1)
    }

    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.timeout.unwrap_or(300).max(1))
    }

    /// What the probe scripts put before a command that needs root.
    pub fn sudo_prefix(&self) -> String {
        match self.sudo_wrapper.as_deref().unwrap_or("/usr/local/sbin/parc-root") {
            "" => "sudo -n".into(),
            wrapper => format!("sudo -n {wrapper}"),
        }
    }
}

/// One host of the inventory.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HostEntry {
    /// The host's folder name under the snapshots folder.
    pub name: String,
    /// Where to reach it: `[user@]host[:port]` (default: the name).
    #[serde(default)]
    pub ssh: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct GitConfig {
    /// The remote `--push` pushes to.
    pub remote: String,
    /// How many times a push rejected because another agent pushed first is retried.
    pub push_retries: u32,
    /// Seconds one fetch or push may take before it is stopped (and retried).
    pub timeout: u64,
}

impl GitConfig {
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.timeout.max(1))
    }
}

impl Default for GitConfig {
    fn default() -> Self {
        GitConfig { remote: "origin".into(), push_retries: 20, timeout: 120 }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SiteConfig {
    /// Shown in every page's title and header.
    pub title: String,
    /// Let search engines index the site. Off: every page says `noindex` and
    /// `robots.txt` disallows everything — a fleet's inventory is nobody's search result.
    pub indexable: bool,
    /// Build the site without addresses, user names or package versions
    /// (`redact.rs`): for a site more people may read than may log in.
    pub redact: bool,
    /// The language of every page, mail and text: `en` or `fr`.
    pub language: Language,
}

/// A language the site speaks: its templates are `templates/` (English)
/// or `templates/<code>/`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    En,
    Fr,
}

impl Language {
    /// Its templates' folder under `templates/`; English's is `templates/` itself.
    pub fn folder(self) -> Option<&'static str> {
        match self {
            Language::En => None,
            Language::Fr => Some("fr"),
        }
    }

    /// The language whose folder a template's path (`fr/host.html`) is in.
    pub fn of_folder(path: &str) -> Option<Language> {
        path.starts_with("fr/").then_some(Language::Fr)
    }
}

impl Default for SiteConfig {
    fn default() -> Self {
        SiteConfig { title: "parc".into(), indexable: false, redact: false, language: Language::En }
    }
}

/// What "now" is for a build.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum NowMode {
    #[default]
    Newest,
    Clock,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct BuildConfig {
    /// "Now" of the findings and staleness: `newest` (the newest snapshot,
    /// reproducible) or `clock` (the build's clock: a fleet gone silent is late).
    pub now: NowMode,
    /// The snapshots folder: one sub-folder per host.
    pub snapshots: PathBuf,
    /// The output folder.
    pub out: PathBuf,
    /// Markdown pages with TOML front matter.
    pub content: PathBuf,
    /// Templates that override the built-in ones, by file name.
    pub templates: PathBuf,
    /// Files copied as they are into the output folder.
    #[serde(rename = "static")]
    pub static_dir: PathBuf,
    /// Where incremental builds keep what they remember between builds.
    pub cache_dir: PathBuf,
    /// A snapshot file larger than this is reported and skipped.
    pub max_snapshot_bytes: u64,
    /// Also write the fleet as a SQLite database here (`parc export --sqlite`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sqlite: Option<PathBuf>,
    /// Several snapshots folders built into one site (`[[build.source]]`);
    /// none: `snapshots` alone.
    #[serde(rename = "source", skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<SourceConfig>,
}

/// One snapshots folder of a site built from several.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Its hosts are `<name>/<folder>`: `paris/pve1` and `lyon/pve1` are two.
    pub name: String,
    /// Its folder (a repository's snapshots folder, or a plain one).
    pub path: PathBuf,
    /// `parc` (snapshots), or `ansible-facts`: a folder that
    /// `ansible all -m setup --tree DIR` wrote, one file per host.
    #[serde(default)]
    pub format: SourceFormat,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceFormat {
    #[default]
    Parc,
    AnsibleFacts,
}

impl SourceConfig {
    fn check(sources: &[SourceConfig]) -> Result<(), String> {
        let mut seen = std::collections::BTreeSet::new();
        for source in sources {
            crate::host::check_name(&source.name).map_err(|e| format!("build.source name {:?}: {e}", source.name))?;
            if !seen.insert(&source.name) {
                return Err(format!("two build.source entries are named {}", source.name));
            }
        }
        Ok(())
    }
}

impl Default for BuildConfig {
    fn default() -> Self {
        BuildConfig {
            now: NowMode::Newest,
            snapshots: "snapshots".into(),
            out: "site".into(),
            content: "content".into(),
            templates: "templates".into(),
            static_dir: "static".into(),
            cache_dir: ".parc-cache".into(),
            max_snapshot_bytes: 16 << 20,
            sqlite: None,
            sources: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct FleetConfig {
    /// A host whose newest snapshot is older than this (counted back from the
    /// newest snapshot in the fleet) is listed as not seen.
    pub stale_after_hours: u64,
}

impl Default for FleetConfig {
    fn default() -> Self {
        FleetConfig { stale_after_hours: 48 }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmartConfig {
    /// Used when a drive reports no temperature limit of its own (°C).
    pub temperature_max: i64,
    /// NVMe `percentage_used` at or above which a drive is `watch`.
    pub nvme_percentage_used_watch: u64,
    /// NVMe `percentage_used` at or above which a drive is `failing`.
    pub nvme_percentage_used_failing: u64,
    /// ATA attributes whose raw value is a warning sign, by attribute id.
    pub attributes: BTreeMap<String, AttributeRule>,
}

/// Thresholds on the raw value of one ATA attribute.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeRule {
    /// The attribute's usual name: the rule applies to it, and names the
    /// attribute in reasons when smartctl gives no name.
    pub name: String,
    /// The names smartctl may print for this id that the rule applies to,
    /// or `"all"`. Default: `name` only. Vendors reuse ids above the few
    /// universal ones, so a rule never applies to a name it does not list
    /// (smartctl's `Unknown_Attribute` and no name excepted).
    #[serde(default)]
    pub names: Option<AttributeNames>,
    /// A raw value above this makes the drive `watch`.
    pub watch_above: u64,
    /// A raw value above this makes the drive `failing` (none by default).
    #[serde(default)]
    pub failing_above: Option<u64>,
}

/// `names = ["Reallocated_Sector_Ct", "Retired_Block_Count"]` or `names = "all"`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum AttributeNames {
    List(Vec<String>),
    /// Only `"all"` is accepted (checked when the file is read).
    Word(String),
}

impl AttributeRule {
    /// Whether the rule applies to an attribute smartctl calls `name`.
    pub fn applies_to(&self, name: &str) -> bool {
        if name.is_empty() || name == "Unknown_Attribute" {
            return true;
        }
        match &self.names {
            Some(AttributeNames::Word(_)) => true,
            Some(AttributeNames::List(names)) => names.iter().any(|n| n.eq_ignore_ascii_case(name)),
            None => self.name.eq_ignore_ascii_case(name),
        }
    }
}

impl Default for SmartConfig {
    fn default() -> Self {
        // Backblaze's failure-predicting attributes, as Scrutiny uses them:
        // any raw count above zero is worth watching. Each under the names
        // smartctl's drive database gives the same counter on other drives.
        let critical: [(u8, &[&str]); 9] = [
            (5, &["Reallocated_Sector_Ct", "Retired_Block_Count", "Reallocate_NAND_Blk_Cnt"]),
            (10, &["Spin_Retry_Count"]),
            (184, &["End-to-End_Error", "End-to-End_Error_Count"]),
            (187, &["Reported_Uncorrect", "Uncorrectable_Error_Cnt"]),
            (188, &["Command_Timeout"]),
            (196, &["Reallocated_Event_Count"]),
            (197, &["Current_Pending_Sector", "Current_Pending_ECC_Cnt"]),
            (198, &["Offline_Uncorrectable"]),
            (201, &["Soft_Read_Error_Rate"]),
        ];
        let attributes = critical
            .into_iter()
            .map(|(id, names)| {
                let rule = AttributeRule {
                    name: names[0].into(),
                    names: Some(AttributeNames::List(names.iter().map(|n| n.to_string()).collect())),
                    watch_above: 0,
                    failing_above: None,
                };
                (id.to_string(), rule)
            })
            .collect();
        SmartConfig {
            temperature_max: 60,
            nvme_percentage_used_watch: 80,
            nvme_percentage_used_failing: 100,
            attributes,
        }
    }
}

impl SmartConfig {
    /// The rule for an ATA attribute id, if it is one parc watches.
    pub fn rule(&self, id: u8) -> Option<&AttributeRule> {
        self.attributes.get(&id.to_string())
    }
}

impl Config {
    /// How old an archive job's last good archive may be: the job's own
    /// `stale_after`, else `[findings] archive_stale_after_hours`. The
    /// archives page and the `archive-stale` finding both ask here.
    pub fn archive_stale_after_hours(&self, job: &str) -> i64 {
        let own = self.archive.iter().find(|j| j.name == job).and_then(|j| j.schedule.stale_after);
        own.map_or(self.findings.archive_stale_after_hours as i64, |d| d.hours())
    }

    /// Reads `path`; a missing file means defaults unless the user named it.
    pub fn load(path: &Path, named_by_user: bool) -> Result<Config> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !named_by_user => return Ok(Config::default()),
            Err(e) => return Err(e).with_context(|| format!("cannot read config {}", path.display())),
        };
        let mut config: Config = toml::from_str(&text).with_context(|| format!("invalid config {}", path.display()))?;
        // Attribute rules given in the file add to the built-in ones or replace them by id.
        for (id, rule) in SmartConfig::default().attributes {
            config.smart.attributes.entry(id).or_insert(rule);
        }
        for (key, rule) in &config.smart.attributes {
            if let Some(AttributeNames::Word(word)) = &rule.names {
                anyhow::ensure!(
                    word == "all",
                    "invalid config {}: smart.attributes.{key}.names is {word:?}: give a list of names or \"all\"",
                    path.display()
                );
            }
            key.parse::<u8>().with_context(|| {
                format!(
                    "invalid config {}: smart.attributes key {key:?} is not an attribute id (1-255)",
                    path.display()
                )
            })?;
        }
        config.collect.check().map_err(|e| anyhow::anyhow!("invalid config {}: {e}", path.display()))?;
        SourceConfig::check(&config.build.sources)
            .map_err(|e| anyhow::anyhow!("invalid config {}: {e}", path.display()))?;
        let mut names = std::collections::BTreeSet::new();
        for job in &config.archive {
            job.check().map_err(|e| anyhow::anyhow!("invalid config {}: {e}", path.display()))?;
            anyhow::ensure!(
                names.insert(&job.name),
                "invalid config {}: two archive jobs are named {}",
                path.display(),
                job.name
            );
            if let Some(mail) = &job.mail {
                anyhow::ensure!(
                    config.mail.contains_key(mail),
                    "invalid config {}: archive job {} names mail {mail:?}, but there is no [mail.{mail}] table",
                    path.display(),
                    job.name
                );
            }
        }
        for rule in &config.escalation {
            for pattern in &rule.hosts {
                globset::Glob::new(pattern).map_err(|e| {
                    anyhow::anyhow!("invalid config {}: an escalation rule's hosts {pattern:?}: {e}", path.display())
                })?;
            }
            for step in &rule.steps {
                step.check(&|mail| config.mail.contains_key(mail))
                    .map_err(|e| anyhow::anyhow!("invalid config {}: {e}", path.display()))?;
            }
        }
        for (name, mail) in &config.mail {
            mail.check(name).map_err(|e| anyhow::anyhow!("invalid config {}: {e}", path.display()))?;
        }
        let mut policies = std::collections::BTreeSet::new();
        for policy in &config.update {
            policy.check().map_err(|e| anyhow::anyhow!("invalid config {}: {e}", path.display()))?;
            anyhow::ensure!(
                policies.insert(&policy.name),
                "invalid config {}: two update policies are named {}",
                path.display(),
                policy.name
            );
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_is_found_by_its_attribute_id_of_one_two_or_three_digits() {
        let mut smart = SmartConfig::default();
        let rule = smart.attributes["5"].clone();
        smart.attributes.insert("9".into(), rule.clone());
        smart.attributes.insert("255".into(), rule);
        for id in [5u8, 9, 197, 255] {
            assert!(smart.rule(id).is_some(), "{id}");
        }
        for id in [0u8, 1, 50, 25, 100, 254] {
            assert!(smart.rule(id).is_none(), "{id}");
        }
    }

    #[test]
    fn missing_default_file_gives_defaults_but_a_named_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("parc.toml");
        assert_eq!(Config::load(&path, false).unwrap().fleet.stale_after_hours, 48);
        assert!(Config::load(&path, true).is_err());
    }

    #[test]
    fn keys_override_defaults_and_typos_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("parc.toml");
        std::fs::write(&path, "[fleet]\nstale_after_hours = 6\n[smart.attributes.199]\nname = \"UDMA_CRC_Error_Count\"\nwatch_above = 10\n").unwrap();
        let config = Config::load(&path, true).unwrap();
        assert_eq!(config.fleet.stale_after_hours, 6);
        assert_eq!(config.smart.rule(199).unwrap().watch_above, 10);
        assert_eq!(config.smart.rule(5).unwrap().watch_above, 0, "built-in rules are kept");
        std::fs::write(&path, "[fleet]\nstale_after_hour = 6\n").unwrap();
        let err = format!("{:#}", Config::load(&path, true).unwrap_err());
        assert!(err.contains("stale_after_hour"), "{err}");
        std::fs::write(&path, "[collect]\napt_proxy = \"http://apt-cacher.lan:3142\"\n").unwrap();
        assert_eq!(Config::load(&path, true).unwrap().collect.apt_proxy.as_deref(), Some("http://apt-cacher.lan:3142"));
        for bad in ["apt-cacher.lan:3142", "http://x;id", "http://x -o APT::Update::Pre-Invoke::=id", "http://"] {
            std::fs::write(&path, format!("[collect]\napt_proxy = {bad:?}\n")).unwrap();
            let err = format!("{:#}", Config::load(&path, true).unwrap_err());
            assert!(err.contains("collect.apt_proxy") && err.contains(&path.display().to_string()), "{err}");
        }
    }
}

//! `[[escalation]]`: who is told of a finding, and when.

use crate::time::Duration;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// `[[escalation]]` of `parc.toml`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The finding kinds it applies to.
    pub kinds: Vec<String>,
    /// The hosts it applies to (globs: `pve*`); none: every host.
    #[serde(default)]
    pub hosts: Vec<String>,
    pub steps: Vec<StepRule>,
}

impl Rule {
    /// Whether the rule applies to a finding of `kind` on `host`.
    pub fn applies(&self, kind: &str, host: &str) -> bool {
        let host_matches =
            |pattern: &String| globset::Glob::new(pattern).is_ok_and(|g| g.compile_matcher().is_match(host));
        self.kinds.iter().any(|k| k == kind) && (self.hosts.is_empty() || self.hosts.iter().any(host_matches))
    }
}

/// One step: a mail, a command, or a web hook, some time after the finding began.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StepRule {
    /// How long after the finding began (`0h`, `24h`, `3d`).
    pub after: Duration,
    /// A `[mail.NAME]` table.
    #[serde(default)]
    pub notify: Option<String>,
    /// A command run without a shell, once per finding: the program and its
    /// arguments, where `{id}`, `{host}`, `{kind}`, `{severity}`, `{since}`,
    /// `{text}` and `{step}` stand for the finding's fields.
    #[serde(default)]
    pub run: Option<Vec<String>>,
    /// A URL the finding's JSON is POSTed to, once per finding.
    #[serde(default)]
    pub webhook: Option<String>,
    /// An extra trust root for the web hook's certificate (PEM), besides the system's.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// A bearer token for the web hook, from a file (its first line) or the environment.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    #[serde(default)]
    pub token_env: Option<String>,
    /// Seconds the command or the request may take (default 60).
    #[serde(default)]
    pub timeout: Option<u64>,
}

/// What a step does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    #[default]
    Mail,
    Run,
    Webhook,
}

impl StepRule {
    pub fn action(&self) -> Action {
        match (&self.run, &self.webhook) {
            (Some(_), _) => Action::Run,
            (None, Some(_)) => Action::Webhook,
            _ => Action::Mail,
        }
    }

    /// How a step is named where it is shown and recorded: its mail table,
    /// `run:` and the program's file name, or `webhook:` and the URL's host
    /// (a web hook's path often holds its secret).
    pub fn label(&self) -> String {
        match (&self.notify, &self.run, &self.webhook) {
            (Some(mail), ..) => mail.clone(),
            (None, Some(argv), _) => {
                let program = argv.first().map(String::as_str).unwrap_or_default();
                let name = std::path::Path::new(program).file_name().map(|n| n.to_string_lossy().into_owned());
                format!("run:{}", name.unwrap_or_default())
            }
            (None, None, Some(url)) => {
                let host = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
                let host = host.split(['/', '?', '#']).next().unwrap_or_default();
                // Credentials in the URL are not part of its name.
                format!("webhook:{}", host.rsplit_once('@').map_or(host, |(_, h)| h))
            }
            (None, None, None) => String::new(),
        }
    }

    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.timeout.unwrap_or(60))
    }

    /// What is wrong with the step, if anything.
    pub fn check(&self, mail_tables: &dyn Fn(&str) -> bool) -> Result<(), String> {
        let set = [self.notify.is_some(), self.run.is_some(), self.webhook.is_some()];
        match set.iter().filter(|s| **s).count() {
            1 => {}
            0 => return Err("an escalation step needs notify, run or webhook".into()),
            _ => return Err("an escalation step has one of notify, run and webhook, not several".into()),
        }
        if let Some(mail) = &self.notify {
            if !mail_tables(mail) {
                return Err(format!("an escalation step notifies {mail:?}, but there is no [mail.{mail}] table"));
            }
        }
        if self.run.as_ref().is_some_and(|argv| argv.first().is_none_or(|p| p.is_empty())) {
            return Err("an escalation step's run is empty: give the program and its arguments".into());
        }
        if let Some(url) = &self.webhook {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(format!("an escalation step's webhook {url:?} is not an http(s):// URL"));
            }
        }
        if self.webhook.is_none() && (self.ca_file.is_some() || self.token_file.is_some() || self.token_env.is_some()) {
            return Err("ca_file, token_file and token_env belong to a webhook step".into());
        }
        if self.timeout == Some(0) {
            return Err("an escalation step's timeout is at least 1 second".into());
        }
        Ok(())
    }
}

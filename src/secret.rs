//! Passwords: read from a file or an environment variable, never written in
//! `parc.toml` itself. Each table that takes a password has the two keys
//! `password_file` and `password_env`, and asks here.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A login: a user, and where its password is read from.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct Login {
    pub user: Option<String>,
    /// A file whose first line is the password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// An environment variable holding the password.
    #[serde(default)]
    pub password_env: Option<String>,
}

impl Login {
    /// The password, when one is configured.
    pub fn password(&self) -> Result<Option<String>> {
        password(self.password_file.as_deref(), self.password_env.as_deref())
    }
}

/// The password `password_file` (its first line) or `password_env` gives,
/// when one is configured; an error names where it was looked for.
pub fn password(password_file: Option<&Path>, password_env: Option<&str>) -> Result<Option<String>> {
    match (password_file, password_env) {
        (Some(_), Some(_)) => bail!("set password_file or password_env, not both"),
        (Some(path), None) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read password_file {}", path.display()))?;
            Ok(Some(text.lines().next().unwrap_or("").to_string()))
        }
        (None, Some(var)) => match std::env::var(var) {
            Ok(value) => Ok(Some(value)),
            Err(_) => bail!("password_env names {var}, which is not set"),
        },
        (None, None) => Ok(None),
    }
}

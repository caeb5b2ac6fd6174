//! Passwords: read from a file or an environment variable, never written in
//! `parc.toml` itself.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct Secret {
    /// A file whose first line is the password (mode 600, owned by the user parc runs as).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// An environment variable holding the password.
    #[serde(default)]
    pub password_env: Option<String>,
}

impl Secret {
    /// The password, when one is configured; an error names where it was looked for.
    pub fn get(&self) -> Result<Option<String>> {
        match (&self.password_file, &self.password_env) {
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
}

//! Passwords: read from a file or an environment variable, never written in
//! `parc.toml` itself. Each table that takes a password has the two keys
//! `password_file` and `password_env`, and asks here.

use anyhow::{bail, Context, Result};
use std::path::Path;

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

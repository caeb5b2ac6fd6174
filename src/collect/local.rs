//! Runs a probe script on this machine.

use super::command;
use std::process::Command;
use std::time::Duration;

/// Runs `script` with `sh -s`; the bytes it printed, or why there are none.
/// The whole run is stopped at `limit`, in case a probe outlives its own
/// time limit (a host without `timeout`).
pub fn run(script: &str, env: &[(&str, String)], limit: Duration) -> Result<Vec<u8>, String> {
    let mut sh = Command::new("sh");
    sh.arg("-s").envs(env.iter().map(|(k, v)| (k, v)));
    let done = command::run(&mut sh, script.as_bytes(), limit).map_err(|e| match e {
        command::Unfinished::TimedOut(_) => format!("stopped after {} s (the host time limit)", limit.as_secs()),
        other => other.to_string(),
    })?;
    if !done.status.success() {
        let err = String::from_utf8_lossy(&done.stderr);
        return Err(format!("the probe script failed ({}): {}", done.status, err.trim()));
    }
    Ok(done.stdout)
}

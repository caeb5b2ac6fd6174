//! Runs a probe script on this machine.

use super::command;
use std::process::Command;
use std::time::Duration;

/// Runs `script` with `sh -s`; the bytes it printed, or why there are none.
/// The whole run is stopped at `limit`, in case a probe outlives its own
/// time limit (a host without `timeout`).
pub fn run(script: &str, env: &[(&str, String)], limit: Duration) -> Result<Vec<u8>, Error> {
    let mut sh = Command::new("sh");
    sh.arg("-s").envs(env.iter().map(|(k, v)| (k, v)));
    let done = command::run(&mut sh, script.as_bytes(), limit).map_err(|e| match e {
        command::Unfinished::TimedOut(limit) => Error::TimedOut(limit),
        command::Unfinished::NotStarted(why) => Error::NotStarted(why),
    })?;
    if !done.status.success() {
        let stderr = String::from_utf8_lossy(&done.stderr).trim().to_string();
        return Err(Error::ScriptFailed { status: done.status, stderr });
    }
    Ok(done.stdout)
}

/// Why the probe script gave nothing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    NotStarted(String),
    #[error("stopped after {} s (the host time limit)", .0.as_secs())]
    TimedOut(Duration),
    #[error("the probe script failed ({status}): {stderr}")]
    ScriptFailed { status: std::process::ExitStatus, stderr: String },
}

//! Runs a probe script on this machine.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `script` with `sh -s`; its output, or why there is none. The whole
/// run is stopped at `limit`, in case a probe outlives its own time limit
/// (a host without `timeout`).
pub fn run(script: &str, env: &[(&str, String)], limit: Duration) -> Result<String, String> {
    use std::os::unix::process::CommandExt;
    let mut child = Command::new("sh")
        .arg("-s")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0) // so that a stop reaches every probe it started
        .spawn()
        .map_err(|e| format!("cannot start sh: {e}"))?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(script.as_bytes())
        .map_err(|e| format!("cannot feed the script to sh: {e}"))?;
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        stdout.read_to_end(&mut buf).map(|_| buf)
    });
    let err = std::thread::spawn(move || {
        let mut buf = String::new();
        let _ = stderr.read_to_string(&mut buf);
        buf
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", child.id())]).status();
                let _ = child.wait();
                return Err(format!("stopped after {} s (the host time limit)", limit.as_secs()));
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let out = out.join().expect("reader thread").map_err(|e| e.to_string())?;
    let err = err.join().expect("reader thread");
    if !status.success() {
        return Err(format!("the probe script failed ({status}): {}", err.trim()));
    }
    String::from_utf8(out).map_err(|_| "the probe script printed bytes that are not UTF-8".into())
}

/// This machine's host name.
pub fn hostname() -> Result<String, String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| Command::new("hostname").output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned()))
        .map(|s| s.trim().to_string())
        .map_err(|e| format!("cannot tell this machine's name: {e}"))
}

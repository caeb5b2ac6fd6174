//! Runs a program to the end or to a time limit, away from the terminal.
//!
//! Agents run under cron and systemd, where nobody can answer a prompt. The
//! child gets a session of its own (`setsid`): no controlling terminal, so
//! `ssh` cannot stop to ask about a host key or a passphrase; it fails, and
//! says why on stderr. The session is also a process group, so a stop at the
//! time limit reaches everything the child started.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;
use wait_timeout::ChildExt;

/// What a finished program left.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Why a program gave no result.
#[derive(Debug)]
pub enum Unfinished {
    /// It could not be started (not installed, no permission).
    NotStarted(String),
    /// It ran past the limit and was stopped.
    TimedOut(Duration),
}

impl std::fmt::Display for Unfinished {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Unfinished::NotStarted(why) => f.write_str(why),
            Unfinished::TimedOut(limit) => write!(f, "stopped after {} s (time limit)", limit.as_secs()),
        }
    }
}

/// Runs `command` with `input` on its stdin and both outputs captured.
pub fn run(command: &mut Command, input: &[u8], limit: Duration) -> Result<Finished, Unfinished> {
    let program = command.get_program().to_string_lossy().into_owned();
    // SAFETY: setsid is async-signal-safe and touches no memory of ours.
    unsafe {
        command.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let mut child = command
        .stdin(if input.is_empty() { Stdio::null() } else { Stdio::piped() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Unfinished::NotStarted(format!("cannot start {program}: {e}")))?;
    let feed = child.stdin.take().map(|mut stdin| {
        let input = input.to_vec();
        // A child that exits without reading its input is its own business.
        std::thread::spawn(move || drop(stdin.write_all(&input)))
    });
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped")));
    let status = match child.wait_timeout(limit) {
        Ok(Some(status)) => status,
        _ => {
            // The child leads its own process group: stop all of it.
            // SAFETY: kill takes plain integers and touches no memory of ours.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let _ = child.wait();
            return Err(Unfinished::TimedOut(limit));
        }
    };
    if let Some(feed) = feed {
        let _ = feed.join();
    }
    Ok(Finished {
        status,
        stdout: stdout.join().expect("reader thread"),
        stderr: stderr.join().expect("reader thread"),
    })
}

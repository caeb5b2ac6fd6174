//! Reads what a probe script printed (`===PARC:…===` sections) and builds
//! the snapshot envelope on the collecting side.

use crate::time::Instant;
use serde_json::{json, Map, Value};

/// One probe's run, as the script reported it.
#[derive(Debug, Default, PartialEq)]
pub struct ProbeRun {
    pub key: String,
    pub cmd: String,
    pub stdout: String,
    pub stderr: String,
    pub ms: Option<u64>,
    pub exit: Option<i64>,
}

/// The exit status `timeout` gives a command it had to stop.
pub const TIMED_OUT: i64 = 124;

/// Splits a script's output into probe runs. Only whole lines that are
/// markers count, so a tool's output cannot end a section by accident
/// unless it prints a marker line itself.
pub fn parse(output: &str) -> Vec<ProbeRun> {
    enum Part {
        Out,
        Err,
    }
    let mut runs: Vec<ProbeRun> = Vec::new();
    let mut part = Part::Out;
    for line in output.split_inclusive('\n') {
        let bare = line.trim_end_matches('\n');
        if let Some(marker) = bare.strip_prefix("===PARC:").and_then(|m| m.strip_suffix("===")) {
            if let Some(cmd) = marker.strip_prefix("CMD=") {
                if let Some(run) = runs.last_mut() {
                    run.cmd = cmd.to_string();
                }
                continue;
            } else if marker == "STDERR" {
                part = Part::Err;
                continue;
            } else if let Some(ms) = marker.strip_prefix("MS=") {
                if let Some(run) = runs.last_mut() {
                    run.ms = ms.parse().ok();
                }
                continue;
            } else if let Some(exit) = marker.strip_prefix("EXIT=") {
                if let Some(run) = runs.last_mut() {
                    run.exit = exit.parse().ok();
                }
                continue;
            } else if !marker.is_empty() {
                runs.push(ProbeRun { key: marker.to_string(), ..ProbeRun::default() });
                part = Part::Out;
                continue;
            }
        }
        if let Some(run) = runs.last_mut() {
            match part {
                Part::Out => run.stdout.push_str(line),
                Part::Err => run.stderr.push_str(line),
            }
        }
    }
    for run in &mut runs {
        // The script ends each part with one newline of its own.
        for text in [&mut run.stdout, &mut run.stderr] {
            if text.ends_with('\n') {
                text.pop();
            }
        }
    }
    runs
}

/// The probe as the snapshot format has it: the tool's JSON as JSON, its text as text.
pub fn probe_json(run: &ProbeRun) -> Value {
    let trimmed = run.stdout.trim();
    let out = if trimmed.starts_with('{') || trimmed.starts_with('[') {
        serde_json::from_str::<Value>(trimmed).unwrap_or_else(|_| Value::String(run.stdout.clone()))
    } else {
        Value::String(run.stdout.clone())
    };
    let mut probe = Map::new();
    probe.insert("cmd".into(), json!(run.cmd));
    probe.insert("exit".into(), json!(run.exit));
    if let Some(ms) = run.ms {
        probe.insert("ms".into(), json!(ms));
    }
    probe.insert("out".into(), out);
    let mut err = run.stderr.trim_end().to_string();
    if run.exit == Some(TIMED_OUT) && err.is_empty() {
        err = "timed out: stopped at the probe time limit".into();
    }
    if !err.is_empty() {
        probe.insert("err".into(), json!(err));
    }
    Value::Object(probe)
}

/// The envelope of one kind's snapshot.
pub fn envelope(kind: &str, host: &str, at: Instant, mode: &str, runs: &[ProbeRun]) -> Value {
    let probes: Map<String, Value> = runs.iter().map(|r| (r.key.clone(), probe_json(r))).collect();
    json!({
        "schema": crate::snapshot::SCHEMA,
        "kind": kind,
        "host": host,
        "collected_at": at.rfc3339(),
        "agent": {"version": env!("CARGO_PKG_VERSION"), "mode": mode},
        "probes": probes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sections_with_json_text_stderr_and_time_outs() {
        let output = "===PARC:lsblk===\n===PARC:CMD=lsblk -J===\n{\"blockdevices\": []}\n\n===PARC:STDERR===\n\n===PARC:MS=14===\n===PARC:EXIT=0===\n\
            ===PARC:home===\n===PARC:CMD=du -sb /home/*===\n12\t/home/a\n\n===PARC:STDERR===\ndu: cannot read '/home/b'\n\n===PARC:MS=3===\n===PARC:EXIT=1===\n\
            ===PARC:smartctl:/dev/bus/0:megaraid,1===\n===PARC:CMD=smartctl -j -a -d megaraid,1 /dev/bus/0===\n\n===PARC:STDERR===\n\n===PARC:MS=1000===\n===PARC:EXIT=124===\n";
        let runs = parse(output);
        assert_eq!(runs.len(), 3);
        assert_eq!(
            (runs[0].key.as_str(), runs[0].stdout.as_str(), runs[0].ms, runs[0].exit),
            ("lsblk", "{\"blockdevices\": []}\n", Some(14), Some(0))
        );
        // The tools' own trailing newlines stay; only the script's are removed.
        assert_eq!(
            (runs[1].stdout.as_str(), runs[1].stderr.as_str()),
            ("12\t/home/a\n", "du: cannot read '/home/b'\n")
        );
        assert_eq!(runs[2].key, "smartctl:/dev/bus/0:megaraid,1");
        let lsblk = probe_json(&runs[0]);
        assert_eq!(lsblk["out"], json!({"blockdevices": []}), "JSON output is kept as JSON");
        assert!(lsblk.get("err").is_none());
        assert_eq!(probe_json(&runs[1])["out"], json!("12\t/home/a\n"));
        assert_eq!(probe_json(&runs[1])["err"], json!("du: cannot read '/home/b'"));
        assert_eq!(probe_json(&runs[2])["err"], json!("timed out: stopped at the probe time limit"));
    }

    #[test]
    fn an_envelope_the_builder_reads_back() {
        let runs = parse("===PARC:hostname===\n===PARC:CMD=hostname===\nbox\n\n===PARC:STDERR===\n\n===PARC:MS=1===\n===PARC:EXIT=0===\n");
        let at = Instant::parse_rfc3339("2026-11-21T03:00:00Z").unwrap();
        let value = envelope("system", "box", at, "local", &runs);
        let parsed = crate::snapshot::parse(&serde_json::to_vec(&value).unwrap()).unwrap();
        assert_eq!((parsed.host.as_str(), parsed.collected_at, parsed.mode.as_deref()), ("box", at, Some("local")));
    }
}

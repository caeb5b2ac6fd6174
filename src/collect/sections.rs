//! Reads what a probe script printed (`===PARC:…===` sections) and builds
//! the snapshot envelope on the collecting side.
//!
//! Tools print bytes, not always UTF-8: a home folder named in Latin-1, a USB
//! bridge's model string with a stray byte. A snapshot is JSON, so each byte
//! that is not UTF-8 is written `\xNN` (as `ls -b` and Python's
//! `backslashreplace` do): the output is kept, the name stays readable and
//! the byte can be told back, and the probe records how many bytes it took
//! (`escaped_bytes`). Nothing else of the output changes.

use crate::escape::{escape_invalid, Into};
use crate::time::Instant;
use serde_json::{json, Map, Value};

/// One probe's run, as the script reported it.
#[derive(Debug, Default, PartialEq)]
pub struct ProbeRun {
    pub key: String,
    pub cmd: String,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub ms: Option<u64>,
    pub exit: Option<i64>,
}

/// The exit status `timeout` gives a command it had to stop.
pub const TIMED_OUT: i64 = 124;

/// Splits a script's output into probe runs. Only whole lines that are
/// markers count, so a tool's output cannot end a section by accident
/// unless it prints a marker line itself.
pub fn parse(output: &[u8]) -> Vec<ProbeRun> {
    enum Part {
        Out,
        Err,
    }
    let mut runs: Vec<ProbeRun> = Vec::new();
    let mut part = Part::Out;
    for line in output.split_inclusive(|b| *b == b'\n') {
        let bare = line.strip_suffix(b"\n").unwrap_or(line);
        let marker = bare.strip_prefix(b"===PARC:").and_then(|m| m.strip_suffix(b"===")).map(String::from_utf8_lossy);
        if let Some(marker) = marker {
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
                runs.push(ProbeRun { key: marker.into_owned(), ..ProbeRun::default() });
                part = Part::Out;
                continue;
            }
        }
        if let Some(run) = runs.last_mut() {
            match part {
                Part::Out => run.stdout.extend_from_slice(line),
                Part::Err => run.stderr.extend_from_slice(line),
            }
        }
    }
    for run in &mut runs {
        // The script ends each part with one newline of its own.
        for text in [&mut run.stdout, &mut run.stderr] {
            if text.ends_with(b"\n") {
                text.pop();
            }
        }
    }
    runs
}

/// A tool's stdout as the snapshot keeps it: its JSON as JSON, its text as
/// text; and how many bytes had to be escaped.
fn output(stdout: &[u8]) -> (Value, usize) {
    let trimmed = stdout.trim_ascii();
    if trimmed.starts_with(b"{") || trimmed.starts_with(b"[") {
        let (json, escaped) = escape_invalid(trimmed, Into::JsonString);
        if let Ok(value) = serde_json::from_str::<Value>(&json) {
            return (value, escaped);
        }
    }
    let (text, escaped) = escape_invalid(stdout, Into::Text);
    (Value::String(text.into_owned()), escaped)
}

/// The probe as the snapshot format has it.
pub fn probe_json(run: &ProbeRun) -> Value {
    let (out, escaped_out) = output(&run.stdout);
    let (err, escaped_err) = escape_invalid(&run.stderr, Into::Text);
    let mut probe = Map::new();
    probe.insert("cmd".into(), json!(run.cmd));
    probe.insert("exit".into(), json!(run.exit));
    if let Some(ms) = run.ms {
        probe.insert("ms".into(), json!(ms));
    }
    probe.insert("out".into(), out);
    let mut err = err.trim_end().to_string();
    if run.exit == Some(TIMED_OUT) && err.is_empty() {
        err = "timed out: stopped at the probe time limit".into();
    }
    if !err.is_empty() {
        probe.insert("err".into(), json!(err));
    }
    if escaped_out + escaped_err > 0 {
        probe.insert("escaped_bytes".into(), json!(escaped_out + escaped_err));
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
        let runs = parse(output.as_bytes());
        assert_eq!(runs.len(), 3);
        assert_eq!(
            (runs[0].key.as_str(), runs[0].stdout.as_slice(), runs[0].ms, runs[0].exit),
            ("lsblk", &b"{\"blockdevices\": []}\n"[..], Some(14), Some(0))
        );
        // The tools' own trailing newlines stay; only the script's are removed.
        assert_eq!(
            (runs[1].stdout.as_slice(), runs[1].stderr.as_slice()),
            (&b"12\t/home/a\n"[..], &b"du: cannot read '/home/b'\n"[..])
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
        let runs = parse(b"===PARC:hostname===\n===PARC:CMD=hostname===\nbox\n\n===PARC:STDERR===\n\n===PARC:MS=1===\n===PARC:EXIT=0===\n");
        let at = Instant::parse_rfc3339("2026-11-21T03:00:00Z").unwrap();
        let value = envelope("system", "box", at, "local", &runs);
        let parsed = crate::snapshot::parse(&serde_json::to_vec(&value).unwrap()).unwrap();
        assert_eq!((parsed.host.as_str(), parsed.collected_at, parsed.mode.as_deref()), ("box", at, Some("local")));
    }

    #[test]
    fn bytes_that_are_not_utf8_are_escaped_and_counted_never_dropped() {
        let section = |key: &str, out: &[u8]| {
            let mut bytes = format!("===PARC:{key}===\n===PARC:CMD=x===\n").into_bytes();
            bytes.extend_from_slice(out);
            bytes.extend_from_slice(b"\n===PARC:STDERR===\n\xe9t\xe9\n===PARC:MS=1===\n===PARC:EXIT=0===\n");
            bytes
        };
        // du on a Latin-1 home folder name: text.
        let mut output = section("home", b"4096\t/home/caf\xe9\n8192\t/home/bob\n");
        // lsblk passes a USB bridge's raw byte through inside its JSON.
        output.extend(section("lsblk", b"{\"blockdevices\": [{\"name\": \"sdb\", \"model\": \"USB\xffDisk\"}]}"));
        let runs = parse(&output);
        let home = probe_json(&runs[0]);
        assert_eq!(home["out"], json!("4096\t/home/caf\\xe9\n8192\t/home/bob\n"));
        assert_eq!(home["err"], json!("\\xe9t\\xe9"));
        assert_eq!(home["escaped_bytes"], json!(3));
        let lsblk = probe_json(&runs[1]);
        assert_eq!(lsblk["out"]["blockdevices"][0]["model"], json!("USB\\xffDisk"), "still JSON: {lsblk}");
        assert_eq!(lsblk["out"]["blockdevices"][0]["name"], json!("sdb"));
        assert!(probe_json(&parse(&section("ok", b"plain"))[0]).get("escaped_bytes").is_some(), "stderr counts too");
        let clean =
            b"===PARC:ok===\n===PARC:CMD=x===\nplain\n===PARC:STDERR===\n\n===PARC:MS=1===\n===PARC:EXIT=0===\n";
        assert!(probe_json(&parse(clean)[0]).get("escaped_bytes").is_none());
    }
}

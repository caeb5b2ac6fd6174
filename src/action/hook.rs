//! Escalation steps beyond mail: a command run without a shell, or the
//! finding's JSON POSTed to a URL, once per finding, within a time limit.
//! What each answered is kept for `notify.json`.

use crate::collect::command::Unfinished;
use crate::config::escalation::StepRule;
use crate::plan::escalation::{Answer, Notified};
use std::io::Read;
use std::process::Command;

/// What is kept of an answer: enough to see why, never a whole page.
const KEPT_BYTES: usize = 4096;

/// Why a step failed, and what it answered when it did.
pub struct Failed {
    pub error: String,
    pub answer: Option<Answer>,
}

/// The finding's fields by name, for `{name}` in a command's arguments and
/// `PARC_FINDING_<NAME>` in its environment.
fn fields(f: &Notified) -> [(&'static str, String); 7] {
    [
        ("id", f.finding.clone()),
        ("host", f.host.clone()),
        ("kind", f.kind.clone()),
        (
            "severity",
            serde_json::to_value(f.severity).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default(),
        ),
        ("since", f.since.rfc3339()),
        ("text", f.text.clone()),
        ("step", f.step.to_string()),
    ]
}

/// `{id}`, `{host}`, … of `arg` replaced by the finding's fields.
pub fn expand(arg: &str, f: &Notified) -> String {
    fields(f).iter().fold(arg.to_string(), |arg, (name, value)| arg.replace(&format!("{{{name}}}"), value))
}

/// Runs the step's command for one finding: done when it exits 0 within the
/// time limit (stopped there, with all it started).
pub fn run(step: &StepRule, f: &Notified) -> Result<Answer, Failed> {
    let argv: Vec<String> = step.run.iter().flatten().map(|a| expand(a, f)).collect();
    let Some((program, args)) = argv.split_first() else {
        return Err(Failed { error: "no program to run".into(), answer: None });
    };
    let mut command = Command::new(program);
    command.args(args);
    for (name, value) in fields(f) {
        command.env(format!("PARC_FINDING_{}", name.to_ascii_uppercase()), value);
    }
    command.env("PARC_FINDING_JSON", serde_json::to_string(f).unwrap_or_default());
    let done = crate::collect::command::run(&mut command, &[], step.timeout()).map_err(|e| Failed {
        error: match e {
            Unfinished::TimedOut(limit) => {
                format!("{program} did not finish within {} s (timeout), stopped", limit.as_secs())
            }
            Unfinished::NotStarted(why) => why,
        },
        answer: None,
    })?;
    let answer = Answer { exit: done.status.code(), status: None, output: kept(&[done.stdout, done.stderr].concat()) };
    if done.status.success() {
        Ok(answer)
    } else {
        Err(Failed { error: format!("{program} ended with {}", done.status), answer: Some(answer) })
    }
}

/// The first [`KEPT_BYTES`] of an answer as text, cut at a character.
fn kept(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut end = text.len().min(KEPT_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].trim_end().to_string()
}

/// POSTs the finding's JSON to the step's URL: done on a 2xx answer.
pub fn post(step: &StepRule, f: &Notified) -> Result<Answer, Failed> {
    let url = step.webhook.as_deref().unwrap_or_default();
    let failed = |error: String| Failed { error, answer: None };
    let token = crate::secret::password(step.token_file.as_deref(), step.token_env.as_deref())
        .map_err(|e| failed(format!("the web hook's token: {e}")))?;
    let agent = crate::http::agent(step.ca_file.as_deref(), step.timeout()).map_err(|e| failed(e.to_string()))?;
    let mut request = agent.post(url).header("Content-Type", "application/json");
    if let Some(token) = &token {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let body = serde_json::to_vec(f).unwrap_or_default();
    let mut response = request.send(&body[..]).map_err(|e| {
        // The URL's path may hold its secret: the error names the step, not the URL.
        failed(format!("{} error: {}", crate::http::failure_kind(&e), e.to_string().replace(url, &step.label())))
    })?;
    let status = response.status().as_u16();
    let mut answered = Vec::new();
    let _ = response.body_mut().as_reader().take(KEPT_BYTES as u64).read_to_end(&mut answered);
    let answer = Answer { exit: None, status: Some(status), output: kept(&answered) };
    if (200..300).contains(&status) {
        Ok(answer)
    } else {
        Err(Failed { error: format!("HTTP {status}"), answer: Some(answer) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::derive::findings::Severity;

    fn finding() -> Notified {
        Notified {
            finding: "smart-failing:pve1:d".into(),
            host: "pve1".into(),
            kind: "smart-failing".into(),
            severity: Severity::Critical,
            text: "Disk is failing.".into(),
            since: crate::time::Instant(0),
            step: 1,
        }
    }

    #[test]
    fn arguments_name_the_findings_fields() {
        assert_eq!(
            expand("--host={host} {id}/{step} {since} {nope}", &finding()),
            "--host=pve1 smart-failing:pve1:d/1 1970-01-01T00:00:00Z {nope}"
        );
    }

    #[test]
    fn a_command_over_its_time_limit_is_stopped_and_failed() {
        let step = StepRule { run: Some(vec!["sleep".into(), "30".into()]), timeout: Some(1), ..StepRule::default() };
        let started = std::time::Instant::now();
        let failed = run(&step, &finding()).map(|_| ()).map_err(|f| f.error).expect_err("it fails");
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "stopped at the limit");
        assert!(failed.contains("did not finish within 1 s"), "{failed}");
        let missing = StepRule { run: Some(vec!["/nonexistent/pager".into()]), ..StepRule::default() };
        let error = run(&missing, &finding()).map(|_| ()).map_err(|f| f.error).unwrap_err();
        assert!(error.contains("cannot start /nonexistent/pager"), "{error}");
    }
}

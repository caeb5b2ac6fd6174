//! The file server's nightly `db` archive job: its run logs, as `parc apply` writes them.

use super::*;
use serde_json::{json, Value};

/// The nightly `db` archive job the file server runs: what `parc apply`
/// writes, run after run, with the outcomes a real job meets (a dump that
/// did not change, the export missing for a night, an upload cut short) and
/// retention (keep_daily 7, keep_weekly 4) pruning the destination.
#[derive(Default)]
pub(super) struct ArchiveJob {
    pub(super) runs: usize,
    pub(super) remote: Vec<(String, u64)>,
    pub(super) last_good: Option<parc::snapshot::archive::LastGood>,
    pub(super) previous: Option<parc::snapshot::archive::Outcome>,
}

/// Runs of the demo job, newest last: which run (counted from the newest) fails where.
pub(super) const DEMO_ARCHIVE_404: u32 = 4;
pub(super) const DEMO_ARCHIVE_UPLOAD_CUT: u32 = 1;
pub(super) const DEMO_ARCHIVE_UNCHANGED: u32 = 2;

impl ArchiveJob {
    pub(super) fn run(&mut self, host: &str, at: Instant, runs_left: u32) -> Value {
        use parc::config::pattern::Pattern;
        use parc::plan::retention::{self, Policy};
        use parc::snapshot::archive::{FileFacts, LastGood, Outcome, Run, RunSnapshot, Start, Step};
        let n = self.runs;
        self.runs += 1;
        let url = "https://intranet.example/export/dump.zip";
        let destination = "sftp://backup@nas.example:22/srv/archives/db";
        let pattern = Pattern::parse("%Y%m%d.tgz").expect("a valid pattern");
        let date = jiff::Timestamp::from_second(at.0).expect("a demo time").to_zoned(jiff::tz::TimeZone::UTC);
        let name = pattern.format(date.datetime());
        let step = |step: &str, ms: u64, detail: String| Step {
            step: step.into(),
            ok: true,
            ms,
            detail: Some(detail),
            error: None,
        };
        let failed = |step: &str, ms: u64, error: String| Step {
            step: step.into(),
            ok: false,
            ms,
            detail: None,
            error: Some(error),
        };
        let dump_bytes = 180_000_000 + n as u64 * 1_250_000;
        let unchanged = runs_left == DEMO_ARCHIVE_UNCHANGED && self.last_good.is_some();
        let sha = match (&self.last_good, unchanged) {
            (Some(good), true) => good.dump_sha256.clone(),
            _ => parc::slug::hash(&format!("dump of night {n}"), 32),
        };
        let dump = FileFacts { name: "dump.sql".into(), bytes: dump_bytes, sha256: sha.clone() };
        let zip_bytes = dump_bytes * 22 / 100;
        let archive =
            FileFacts { name: name.clone(), bytes: dump_bytes * 19 / 100, sha256: parc::slug::hash(&name, 32) };
        let mut steps = vec![step("download", 4_100 + (n as u64 % 7) * 130, format!("HTTP 200 OK, {zip_bytes} bytes"))];
        let mut run = Run::start(Start {
            job: "db".into(),
            plan: parc::slug::hash(&format!("plan {n}"), 32),
            started_at: at.rfc3339(),
            url: url.into(),
            destination: destination.into(),
            last_good: self.last_good.clone(),
        });
        run.outcome = Outcome::Ok;
        run.zip_bytes = Some(zip_bytes);
        run.dump = Some(dump.clone());
        run.mail = Some("sent to ops@example.org".into());
        if runs_left == DEMO_ARCHIVE_404 {
            steps = vec![failed("download", 180, format!("HTTP 404 Not Found: {url}"))];
            run.outcome = Outcome::Failed;
            run.failed_step = Some("download".into());
            run.cause = steps[0].error.clone();
            run.zip_bytes = None;
            run.dump = None;
        } else {
            steps.push(step("verify", 2_900, format!("dump.sql found, {dump_bytes} bytes, sha256 {sha}")));
            if unchanged {
                steps.push(step("compare", 0, "identical to the previous dump: not archived again".into()));
                run.outcome = Outcome::Unchanged;
            } else {
                steps.push(step("compare", 0, "differs from the previous dump".into()));
                steps.push(step("pack", 9_800, format!("{name}, {} bytes, sha256 {}", archive.bytes, archive.sha256)));
                run.archive = Some(archive.clone());
            }
            steps.push(step("reach", 350, "sftp nas.example:/srv/archives/db".into()));
            if runs_left == DEMO_ARCHIVE_UPLOAD_CUT {
                let cause = format!(
                    "upload of {name} (as .{name}.part): writing /srv/archives/db/.{name}.part: the connection was closed after 12582912 of {} bytes",
                    archive.bytes
                );
                steps.push(failed("upload", 61_000, cause.clone()));
                run.outcome = Outcome::Failed;
                run.failed_step = Some("upload".into());
                run.cause = Some(cause);
                run.mail = Some("sent to ops@example.org, boss@example.org".into());
            } else {
                if !unchanged {
                    steps.push(step("upload", 14_000, format!("{name} uploaded, size and sha256 verified")));
                    self.remote.push((name.clone(), archive.bytes));
                    run.last_good =
                        Some(LastGood { at: at.rfc3339(), archive: name.clone(), dump_sha256: sha.clone() });
                }
                let policy = Policy { keep_daily: Some(7), keep_weekly: Some(4), ..Policy::default() };
                let names: Vec<String> = self.remote.iter().map(|(n, _)| n.clone()).collect();
                let verdict = retention::apply(&policy, &pattern, &names);
                self.remote.retain(|(r, _)| !verdict.delete.iter().any(|d| &d.name == r));
                steps.push(step(
                    "retention",
                    420,
                    format!(
                        "{} archives there, {} kept, {} deleted",
                        verdict.keep.len() + verdict.delete.len(),
                        verdict.keep.len(),
                        verdict.delete.len()
                    ),
                ));
                run.remote = Some(
                    self.remote
                        .iter()
                        .map(|(r, bytes)| parc::archive::destination::Listed { name: r.clone(), bytes: Some(*bytes) })
                        .collect(),
                );
                run.kept = verdict.keep;
                run.deleted = verdict.delete;
            }
        }
        if self.previous == Some(run.outcome) && run.outcome == Outcome::Ok {
            run.mail = Some("not sent: when = change".into());
        }
        run.duration_ms = steps.iter().map(|s| s.ms).sum::<u64>() + 40;
        run.steps = steps;
        self.last_good = run.last_good.clone();
        self.previous = Some(run.outcome);
        let snapshot = RunSnapshot {
            schema: parc::snapshot::SCHEMA.into(),
            kind: "archive-db".into(),
            host: host.into(),
            collected_at: at.rfc3339(),
            agent: json!({"version": env!("CARGO_PKG_VERSION"), "mode": "apply"}),
            probes: serde_json::Map::new(),
            run,
        };
        serde_json::to_value(snapshot).expect("a run serialises")
    }
}

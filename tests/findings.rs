//! Findings from history: each kind appears, and `since` is the first
//! snapshot of the condition's unbroken run (a condition that clears and
//! comes back starts again); silences mark a finding and pause it; the
//! Atom feed is read by a real feed parser; badges follow shields.io.

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::Path;

/// `df` as `df -B1 --output=source,fstype,target,size,used,avail` prints it, with `/` at `percent`.
fn df(percent: u64) -> String {
    let size: u64 = 100_000_000_000;
    let used = size * percent / 100;
    format!(
        "Filesystem Type Mounted on 1B-blocks Used Avail\n/dev/vda ext4 / {size} {used} {}\n/dev/vdb ext4 /srv {size} 1000 {}\n",
        size - used,
        size - 1000
    )
}

fn day(d: u32) -> String {
    format!("2026-11-{d:02}T03:00:00Z")
}

fn at(d: u32) -> i64 {
    common_instant(&day(d))
}

fn common_instant(s: &str) -> i64 {
    let ts: jiff::Timestamp = s.parse().unwrap();
    ts.as_second()
}

/// An archive run snapshot as `parc apply` writes it.
fn run(host: &str, d: u32, ok: bool, last_good_day: Option<u32>) -> Value {
    let mut run = json!({
        "job": "db", "plan": "p", "outcome": if ok { "ok" } else { "failed" },
        "started_at": day(d), "duration_ms": 10, "url": "https://intranet.example/dump.zip",
        "destination": "/mnt/archives", "steps": [], "kept": [], "deleted": []
    });
    if !ok {
        run["failed_step"] = json!("download");
        run["cause"] = json!("HTTP 404 Not Found: https://intranet.example/dump.zip");
    }
    if let Some(g) = last_good_day {
        run["last_good"] = json!({"at": day(g), "archive": format!("202611{g:02}.tgz"), "dump_sha256": "aa"});
    }
    json!({"schema": "parc.snapshot/1", "kind": "archive-db", "host": host, "collected_at": day(d),
           "agent": {"mode": "apply"}, "probes": {}, "run": run})
}

/// h1 reports six days: `/` full on days 2-3, clear on 4, full again on 5-6;
/// a reallocated count from day 3; the `home` probe broken from day 5; its
/// archive job good on day 3, failing from day 4. h2 stops after day 2.
fn fleet(snaps: &Path) {
    for d in 1..=6 {
        write_dated(snaps, "h1", &system("h1", &day(d)));
        let realloc = if d >= 3 { Some(8) } else { Some(0) };
        let mut snap =
            disks("h1", &day(d), &[("sda", drive("scrutiny-smart-ata.json", "S1", realloc))], "100\t/home/a\n");
        let percent = match d {
            2 | 3 => 95,
            5 => 93,
            6 => 97,
            _ => 50,
        };
        snap["probes"]["df"] = json!({"cmd": "df", "exit": 0, "out": df(percent)});
        if d >= 5 {
            snap["probes"]["home"] =
                json!({"cmd": "du -sb /home/*", "exit": 2, "err": "du: cannot access '/home': Input/output error"});
        }
        write_dated(snaps, "h1", &snap);
        if d >= 3 {
            write_dated(snaps, "h1", &run("h1", d, d == 3, Some(3)));
        }
    }
    for d in 1..=2 {
        write_dated(snaps, "h2", &system("h2", &day(d)));
    }
}

fn build(snaps: &Path, out: &Path) {
    build_cmd(snaps, out, &["--no-cache"]).current_dir(out.parent().unwrap()).assert().success();
}

/// The open findings of `findings.json`, by id.
fn by_id(findings: &Value) -> std::collections::BTreeMap<String, Value> {
    open(findings).into_iter().map(|f| (f["id"].as_str().unwrap().to_string(), f)).collect()
}

/// The open findings, in their order: the closed ones follow them.
fn open(findings: &Value) -> Vec<Value> {
    let all = findings.as_array().unwrap();
    let open: Vec<Value> = all.iter().take_while(|f| f["state"] == "open").cloned().collect();
    assert!(
        all[open.len()..].iter().all(|f| f["state"] == "closed" && f["closed"].is_i64()),
        "open first, then closed"
    );
    open
}

/// The closed findings: (id, since, closed).
fn closed(findings: &Value) -> Vec<(String, i64, i64)> {
    (findings.as_array().unwrap().iter())
        .filter(|f| f["state"] == "closed")
        .map(|f| (f["id"].as_str().unwrap().to_string(), f["since"].as_i64().unwrap(), f["closed"].as_i64().unwrap()))
        .collect()
}

#[test]
fn each_kind_with_since_from_history() {
    let tmp = tempfile::tempdir().unwrap();
    let (snaps, out) = (tmp.path().join("snapshots"), tmp.path().join("site"));
    fleet(&snaps);
    // The machine that runs `parc apply` records the notices it sent, now and then: not a host gone quiet.
    std::fs::create_dir_all(snaps.join("backup")).unwrap();
    std::fs::write(
        snaps.join("backup/notify.json"),
        json!({"schema": "parc.snapshot/1", "kind": "notify", "host": "backup", "collected_at": day(1), "probes": {}, "sent": []}).to_string(),
    )
    .unwrap();
    build(&snaps, &out);
    let findings = read_json(&out.join("api/v1/findings.json"));
    let f = by_id(&findings);
    let ids: Vec<&String> = f.keys().collect();
    assert!(!f.contains_key("host-stale:backup"), "{ids:?}");

    // Full on days 2-3, cleared on 4, back on 5: since day 5, not day 2.
    let fs = &f["filesystem-full:h1:/"];
    assert_eq!(fs["since"], at(5), "{fs}");
    assert_eq!(fs["severity"], "warning");
    assert_eq!(fs["evidence"][0], json!({"what": "use_percent", "value": 97, "kind": "disks", "at": at(6)}));
    assert!(fs["text"].as_str().unwrap().contains("/ on h1 is 97% full"), "{fs}");
    assert!(!ids.iter().any(|i| i.contains("/srv")), "/srv is nearly empty");

    let stale = &f["host-stale:h2"];
    assert_eq!((stale["since"].as_i64(), stale["severity"].as_str()), (Some(at(2)), Some("warning")));

    let smart = f
        .iter()
        .find(|(id, _)| id.starts_with("smart-watch:h1:"))
        .expect("the reallocated count makes the disk `watch`")
        .1;
    assert_eq!(smart["since"], at(3), "the first sighting with the reallocated count");

    // The probe worked on days 1-4, fails from day 5.
    let probe = &f["probe-failed:h1:disks/home"];
    assert_eq!(probe["since"], at(5), "{probe}");

    let failed = &f["archive-failed:h1:db"];
    assert_eq!((failed["since"].as_i64(), failed["severity"].as_str()), (Some(at(4)), Some("critical")));
    assert!(failed["text"].as_str().unwrap().contains("HTTP 404"), "{failed}");
    let stale_archive = &f["archive-stale:h1:db"];
    assert_eq!(stale_archive["since"], at(3), "the last good archive");

    // Most severe first, then oldest first.
    let open = open(&findings);
    let order: Vec<(&str, i64)> =
        open.iter().map(|f| (f["severity"].as_str().unwrap(), f["since"].as_i64().unwrap())).collect();
    let rank = |s: &str| match s {
        "critical" => 0,
        "warning" => 1,
        _ => 2,
    };
    assert!(order.windows(2).all(|w| (rank(w[0].0), w[0].1) <= (rank(w[1].0), w[1].1)), "{order:?}");

    // The ids are stable: a rebuild with one more day keeps them.
    write_dated(&snaps, "h2", &system("h2", &day(7)));
    build(&snaps, &out);
    let again = by_id(&read_json(&out.join("api/v1/findings.json")));
    assert!(!again.contains_key("host-stale:h2"), "h2 reported again: no longer stale");
    assert_eq!(again["filesystem-full:h1:/"]["since"], at(5));
    assert_eq!(again["archive-failed:h1:db"]["id"], "archive-failed:h1:db");

    // The dashboard opens with them.
    let dashboard = read(&out.join("index.html"));
    let first_h2 = dashboard.find("<h2>").unwrap();
    assert!(dashboard[first_h2..].starts_with("<h2>Findings</h2>"), "the first section is the findings");
    assert!(dashboard.contains("archive-failed:h1:db"));
}

#[test]
fn a_silence_marks_the_finding_until_its_day() {
    let tmp = tempfile::tempdir().unwrap();
    let (snaps, out) = (tmp.path().join("snapshots"), tmp.path().join("site"));
    fleet(&snaps);
    let silence = |args: &[&str]| {
        let out =
            parc().current_dir(tmp.path()).arg("silence").args(args).arg("--snapshots").arg(&snaps).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // A cached build first: adding a silence must not be taken for "nothing changed".
    build_cmd(&snaps, &out, &[]).current_dir(tmp.path()).assert().success();
    silence(&["filesystem-full:h1:/", "--until", "2099-12-01", "--reason", "disk ordered"]);
    let file = read(&snaps.join("silences.toml"));
    assert!(file.contains("id = \"filesystem-full:h1:/\"") && file.contains("reason = \"disk ordered\""), "{file}");
    assert!(silence(&["--list"]).contains("filesystem-full:h1:/  until 2099-12-01"));
    build_cmd(&snaps, &out, &[]).current_dir(tmp.path()).assert().success();
    let f = by_id(&read_json(&out.join("api/v1/findings.json")));
    let silenced = &f["filesystem-full:h1:/"]["silenced"];
    assert_eq!(silenced["until"], "2099-12-01");
    assert_eq!(silenced["reason"], "disk ordered");
    assert!(silenced["by"].as_str().is_some_and(|b| !b.is_empty()));
    assert!(f["archive-failed:h1:db"]["silenced"].is_null());
    assert!(read(&out.join("findings.html")).contains("Silenced until 2099-12-01"));

    // What a person gets wrong is refused, and says why.
    let refused = |args: &[&str]| {
        let out =
            parc().current_dir(tmp.path()).arg("silence").args(args).arg("--snapshots").arg(&snaps).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, said) = refused(&["x", "--until", "tomorrow", "--reason", "r"]);
    assert_eq!(code, Some(1), "a bad date is refused: {said}");
    let (code, said) = refused(&["archive-failed:h1:db", "--until", "2020-01-01", "--reason", "r"]);
    assert!(code == Some(1) && said.contains("in the past"), "{said}");
    let (code, said) = refused(&["smart-failing:h9:typo", "--until", "2099-01-01", "--reason", "r"]);
    assert!(code == Some(1) && said.contains("no finding smart-failing:h9:typo") && said.contains("--force"), "{said}");
    let (code, _) = refused(&["smart-failing:h9:typo", "--until", "2099-01-01", "--reason", "r", "--force"]);
    assert_eq!(code, Some(0), "one expected soon, with --force");
    let (code, said) = refused(&["archive-failed:h1:db", "--until", "2099-01-01"]);
    assert_eq!(code, Some(2), "a missing argument is wrong usage: {said}");
    let (code, said) = refused(&["filesystem-full:h1:/", "--until", "2099-12-02", "--reason", "bigger disk"]);
    assert!(
        code == Some(0) && said.contains("replaced the silence of filesystem-full:h1:/ until 2099-12-01"),
        "{said}"
    );
    let missing = parc().current_dir(tmp.path()).args(["silence", "--list", "--snapshots", "nope"]).output().unwrap();
    let said = String::from_utf8_lossy(&missing.stderr);
    assert!(missing.status.code() == Some(1) && said.contains("cannot open snapshots folder nope"), "{said}");

    // Expired: the fleet's newest snapshot is after the silence's last day (set on day 5, by hand).
    std::fs::write(
        snaps.join("silences.toml"),
        "[[silence]]\nid = \"filesystem-full:h1:/\"\nuntil = \"2026-11-05\"\nreason = \"too short\"\nby = \"a\"\nat = \"2026-11-05T12:00:00Z\"\n",
    )
    .unwrap();
    build(&snaps, &out);
    let f = by_id(&read_json(&out.join("api/v1/findings.json")));
    assert!(f["filesystem-full:h1:/"]["silenced"].is_null(), "expired on 2026-11-05, the data is of 2026-11-06");

    silence(&["--remove", "filesystem-full:h1:/"]);
    assert!(silence(&["--list"]).is_empty());
}

#[test]
fn the_feed_reads_in_a_feed_parser_and_badges_follow_shields() {
    let tmp = tempfile::tempdir().unwrap();
    let (snaps, out) = (tmp.path().join("snapshots"), tmp.path().join("site"));
    fleet(&snaps);
    build(&snaps, &out);
    let script = r#"
import feedparser, json, sys
d = feedparser.parse(sys.argv[1])
print(json.dumps({"bozo": bool(d.bozo), "error": str(d.get("bozo_exception", "")), "title": d.feed.get("title"),
                  "entries": [{"id": e.id, "title": e.title, "updated": e.updated, "link": e.link} for e in d.entries]}))
"#;
    let parsed =
        std::process::Command::new("python3").args(["-c", script]).arg(out.join("findings.atom")).output().unwrap();
    assert!(parsed.status.success(), "{} (make test installs feedparser)", String::from_utf8_lossy(&parsed.stderr));
    let feed: Value = serde_json::from_slice(&parsed.stdout).unwrap();
    assert_eq!(feed["bozo"], false, "{feed}");
    let findings = Value::Array(open(&read_json(&out.join("api/v1/findings.json"))));
    assert_eq!(feed["entries"].as_array().unwrap().len(), findings.as_array().unwrap().len());
    let first = &feed["entries"][0];
    assert!(first["title"].as_str().unwrap().starts_with("[critical]"), "{first}");
    assert!(first["link"].as_str().unwrap().contains("findings.html#"), "{first}");
    let ids: std::collections::BTreeSet<&str> =
        feed["entries"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), findings.as_array().unwrap().len(), "one id per entry");

    let h1 = read_json(&out.join("api/v1/badges/h1.json"));
    assert_eq!(h1["schemaVersion"], 1);
    assert_eq!(h1["label"], "h1");
    assert_eq!((h1["message"].as_str(), h1["color"].as_str()), (Some("1 critical"), Some("red")));
    let h2 = read_json(&out.join("api/v1/badges/h2.json"));
    assert_eq!((h2["message"].as_str(), h2["color"].as_str()), (Some("1 warning"), Some("orange")));
}

/// Escalation over time, mailed to a real SMTP server: each step once, one
/// mail per mail table, paused while silenced, stopped when cleared; the
/// site shows what was sent and what comes next.
#[test]
fn escalation_steps_are_mailed_once_pause_when_silenced_and_stop_when_cleared() {
    use common::server::Server;
    let tmp = tempfile::tempdir().unwrap();
    let (snaps, out) = (tmp.path().join("snapshots"), tmp.path().join("site"));
    fleet(&snaps);
    let tls = common::tls::make(&tmp.path().join("tls"));
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let s = |p: &Path| p.display().to_string();
    let smtp = Server::start(&tmp.path().join("run"), "smtp", &[&s(&inbox), &s(&tls.cert), &s(&tls.key), "parc", "pw"]);
    let mail = |name: &str, to: &str| {
        format!(
            "[mail.{name}]\nto = [\"{to}\"]\nfrom = \"parc@example.org\"\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\nuser = \"parc\"\npassword_env = \"PARC_TEST_SMTP\"\nca_file = \"{}\"\n",
            smtp.port,
            s(&tls.ca)
        )
    };
    std::fs::write(
        tmp.path().join("parc.toml"),
        format!(
            "[build]\nsnapshots = \"snapshots\"\n\n[[escalation]]\nkinds = [\"archive-failed\", \"filesystem-full\"]\nsteps = [ {{ after = \"0h\", notify = \"ops\" }}, {{ after = \"24h\", notify = \"ops\" }}, {{ after = \"72h\", notify = \"boss\" }} ]\n\n{}\n{}",
            mail("ops", "ops@example.org"),
            mail("boss", "boss@example.org\", \"ops@example.org")
        ),
    )
    .unwrap();
    let plan = |now: &str| -> Value {
        let out = parc().current_dir(tmp.path()).args(["plan", "--now", now, "-o", "plan.json"]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        read_json(&tmp.path().join("plan.json"))
    };
    let apply = |now: &str| {
        let out = parc()
            .current_dir(tmp.path())
            .env("PARC_TEST_SMTP", "pw")
            .args(["apply", "--now", now, "plan.json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    let due = |plan: &Value| -> Vec<String> {
        let mut due: Vec<String> = plan["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|n| {
                n["findings"].as_array().unwrap().iter().map(move |f| {
                    format!("{} {} {}", n["notify"].as_str().unwrap(), f["finding"].as_str().unwrap(), f["step"])
                })
            })
            .collect();
        due.sort();
        due
    };

    // archive-failed began on day 4 (steps 0, 1, 2 due by day 7), filesystem-full on day 5 (0 and 1).
    let p = plan("2026-11-07T04:00:00Z");
    assert_eq!(
        due(&p),
        [
            "boss archive-failed:h1:db 2",
            "ops archive-failed:h1:db 0",
            "ops archive-failed:h1:db 1",
            "ops filesystem-full:h1:/ 0",
            "ops filesystem-full:h1:/ 1"
        ]
    );
    apply("2026-11-07T04:00:00Z");
    // One mail per recipient: ops is in both tables and gets one mail with all five.
    let mut mails: Vec<String> = (1..=2).map(|i| read(&inbox.join(format!("{i}.eml")))).collect();
    mails.sort_by_key(|m| m.contains("To: ops@example.org"));
    assert_eq!(std::fs::read_dir(&inbox).unwrap().count(), 2, "one mail per recipient");
    let (boss, ops) = (&mails[0], &mails[1]);
    assert!(boss.contains("To: boss@example.org") && boss.contains("1 finding needs attention"), "{boss}");
    assert!(ops.contains("Subject: [parc] findings CRITICAL 2026-11-07"), "{ops}");
    assert!(ops.contains("5 findings need attention"), "{ops}");
    assert!(ops.contains("archive-failed:h1:db") && ops.contains("filesystem-full:h1:/"), "{ops}");
    assert!(read(&snaps.join(format!("{}/notify.json", hostname()))).contains("archive-failed:h1:db"));

    // Never twice.
    assert!(due(&plan("2026-11-07T05:00:00Z")).is_empty());

    // Day 8: filesystem-full's third step is due, but it is silenced: paused.
    let silence_fs = || {
        let out = parc()
            .current_dir(tmp.path())
            .args(["silence", "filesystem-full:h1:/", "--until", "2026-12-31", "--reason", "bigger disk ordered"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    silence_fs();
    assert!(due(&plan("2026-11-08T04:00:00Z")).is_empty(), "paused while silenced");
    let removed =
        parc().current_dir(tmp.path()).args(["silence", "--remove", "filesystem-full:h1:/"]).output().unwrap();
    assert!(removed.status.success());
    let p = plan("2026-11-08T04:00:00Z");
    assert_eq!(due(&p), ["boss filesystem-full:h1:/ 2"], "resumes once the silence is gone");
    std::fs::copy(tmp.path().join("plan.json"), tmp.path().join("old-plan.json")).unwrap();
    apply("2026-11-08T04:00:00Z");
    assert_eq!(std::fs::read_dir(&inbox).unwrap().count(), 4, "boss and ops, one mail each");

    // The same plan again, after its steps were sent: refused, nothing mailed twice.
    let again =
        parc().current_dir(tmp.path()).env("PARC_TEST_SMTP", "pw").args(["apply", "old-plan.json"]).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("the plan is stale"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(std::fs::read_dir(&inbox).unwrap().count(), 4);

    // Silenced again: shown as such on the site.
    silence_fs();

    // The site shows what was sent and what comes next (none left for the archive).
    build_cmd(&snaps, &out, &[])
        .current_dir(tmp.path())
        .arg("--config")
        .arg(tmp.path().join("parc.toml"))
        .assert()
        .success();
    let f = by_id(&read_json(&out.join("api/v1/findings.json")));
    let steps: Vec<i64> = f["archive-failed:h1:db"]["escalation"]["sent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_i64().unwrap())
        .collect();
    assert_eq!(steps, [0, 1, 2]);
    assert!(f["archive-failed:h1:db"]["escalation"]["next"].is_null());
    assert!(f["filesystem-full:h1:/"]["escalation"]["next"].is_null(), "every step sent");
    assert_eq!(f["filesystem-full:h1:/"]["escalation"]["sent"].as_array().unwrap().len(), 3);
    assert_eq!(f["filesystem-full:h1:/"]["silenced"]["reason"], "bigger disk ordered");

    // Cleared: / back to 50% on day 9; its escalation is over.
    let mut snap = disks("h1", &day(9), &[("sda", drive("scrutiny-smart-ata.json", "S1", Some(8)))], "100\t/home/a\n");
    snap["probes"]["df"] = json!({"cmd": "df", "exit": 0, "out": df(50)});
    write_dated(&snaps, "h1", &snap);
    std::fs::remove_file(snaps.join("silences.toml")).unwrap();
    let p = plan("2026-11-12T04:00:00Z");
    assert!(!due(&p).iter().any(|d| d.contains("filesystem-full")), "{:?}", due(&p));
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap().trim().to_string()
}

/// The example fleet shows findings of several kinds, one silenced, one escalated.
#[test]
fn the_example_fleet_has_findings_a_silence_and_an_escalation() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("site");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    build_cmd(
        &root.join("snapshots"),
        &out,
        &["--no-cache", "--config", &root.join("parc.toml").display().to_string()],
    )
    .current_dir(tmp.path())
    .assert()
    .success();
    let findings = Value::Array(open(&read_json(&out.join("api/v1/findings.json"))));
    let all = findings.as_array().unwrap();
    let kinds: std::collections::BTreeSet<&str> = all.iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert!(kinds.len() >= 5, "{kinds:?}");
    // The VM that went silent: the control host's collections recorded why.
    assert!(kinds.contains("host-unreachable"), "{kinds:?}");
    assert!(read(&out.join("hosts/vm-web1.html")).contains("id=\"host-unreachable\""));
    assert_eq!(all.iter().filter(|f| !f["silenced"].is_null()).count(), 1, "one silenced");
    let escalated =
        all.iter().find(|f| !f["escalation"]["sent"].as_array().unwrap().is_empty()).expect("one escalated");
    assert_eq!(escalated["kind"], "smart-failing");
    assert_eq!(all[0]["severity"], "critical", "most severe first");
}

/// The APT findings and a broken probe: each appears, clears and comes
/// back, and `since` starts again with the new occurrence.
#[test]
fn apt_findings_and_a_broken_probe_restart_when_they_come_back() {
    let tmp = tempfile::tempdir().unwrap();
    let (snaps, out) = (tmp.path().join("snapshots"), tmp.path().join("site"));
    let empty = "0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n";
    let security = "Inst openssl [3.0.1] (3.0.2 Debian-Security:12/stable-security [amd64])\n1 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n";
    let locked = "E: Could not get lock /var/lib/dpkg/lock-frontend\n";
    let dpkg = "base-files\t12.4\tamd64\tii \nopenssl\t3.0.1\tamd64\tii \n";
    // Day by day: (security pending, held, apt error, reboot flag, dpkg-query broken).
    let days = [
        (1, true, false, true, true, false),
        (2, true, true, false, true, true),
        (3, false, true, false, false, false),
        (4, true, false, false, false, false),
        (5, true, true, false, true, true),
        (6, true, true, true, true, true),
    ];
    for (d, sec, held, error, reboot, broken) in days {
        let sim = if sec { security } else { empty };
        let mut probes = json!({
            "apt-sim-upgrade": probe(json!(sim)),
            // The error in the second simulation: the first still says what is pending.
            "apt-sim-dist-upgrade": probe(json!(if error { locked } else { sim })),
            "apt-showhold": probe(json!(if held { "linux-image-amd64\n" } else { "" })),
            "reboot-required": probe(json!(if reboot { "==> /run/reboot-required <==\n*** System restart required ***\n" } else { "" })),
            "dpkg-query": probe(json!(dpkg)),
            "apt-sources": probe(json!("==> /etc/apt/sources.list <==\ndeb http://deb.debian.org/debian bookworm main non-free-firmware\n")),
        });
        if broken {
            probes["dpkg-query"] =
                json!({"cmd": "dpkg-query -W", "exit": 2, "err": "dpkg-query: error: cannot access archive"});
        }
        write_dated(&snaps, "a1", &system("a1", &day(d)));
        write_dated(&snaps, "a1", &envelope("apt", "a1", &day(d), probes));
    }
    let config = tmp.path().join("parc.toml");
    std::fs::write(&config, "[findings]\nreboot_required_after_hours = 0\nsecurity_updates_after_hours = 0\n").unwrap();
    build_cmd(&snaps, &out, &["--no-cache", "--config", &config.display().to_string()])
        .current_dir(tmp.path())
        .assert()
        .success();
    let f = by_id(&read_json(&out.join("api/v1/findings.json")));
    let since = |id: &str| {
        f.get(id).unwrap_or_else(|| panic!("no {id} in {:?}", f.keys())).get("since").and_then(Value::as_i64)
    };
    assert_eq!(since("security-updates:a1"), Some(at(4)), "pending on 1-2, none on 3, again from 4");
    assert_eq!(since("held-packages:a1"), Some(at(5)));
    assert_eq!(since("apt-error:a1"), Some(at(6)), "failed on 1, fine on 2-5, failing again on 6");
    assert_eq!(since("reboot-required:a1"), Some(at(5)));
    // dpkg-query worked on day 1, broke on 2, worked on 3-4, broke again on 5.
    assert_eq!(since("probe-failed:a1:apt/dpkg-query"), Some(at(5)));
    assert_eq!(f["held-packages:a1"]["severity"], "info");
    // And each earlier occurrence is kept, closed by the first snapshot that no longer showed it.
    let mut gone = closed(&read_json(&out.join("api/v1/findings.json")));
    gone.sort();
    let expected = [
        ("apt-error:a1", 1, 2),
        ("held-packages:a1", 2, 4),
        ("probe-failed:a1:apt/dpkg-query", 2, 3),
        ("reboot-required:a1", 1, 3),
        ("security-updates:a1", 1, 3),
    ];
    assert_eq!(gone, expected.map(|(id, since, closed)| (id.to_string(), at(since), at(closed))));
}

/// `parc findings` lists what the findings page lists, in the same order,
/// and filters by kind and host.
#[test]
fn parc_findings_lists_the_open_findings_of_the_site() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    build_example(&site);
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots");
    let list = |args: &[&str]| -> serde_json::Value {
        let run = parc().args(["findings", "--json", "--snapshots", example]).args(args).assert().success();
        serde_json::from_slice(&run.get_output().stdout).unwrap()
    };
    let ids = |v: &serde_json::Value| -> Vec<String> {
        v.as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap().to_string()).collect()
    };
    let page = Value::Array(open(&read_json(&site.join("api/v1/findings.json"))));
    let all = list(&[]);
    assert_eq!(ids(&all), ids(&page));
    assert!(all.as_array().unwrap().len() > 5);
    for (cli, site) in all.as_array().unwrap().iter().zip(page.as_array().unwrap()) {
        assert_eq!((&cli["text"], &cli["severity"], &cli["since"]), (&site["text"], &site["severity"], &site["since"]));
    }
    let failing = list(&["--kind", "smart-failing"]);
    assert!(
        !failing.as_array().unwrap().is_empty()
            && failing.as_array().unwrap().iter().all(|f| f["kind"] == "smart-failing")
    );
    let pve = list(&["--host", "pve*"]);
    assert!(
        !pve.as_array().unwrap().is_empty()
            && pve.as_array().unwrap().iter().all(|f| f["host"].as_str().unwrap().starts_with("pve"))
    );
    let text = parc().args(["findings", "--snapshots", example, "--host", "pi-garage"]).assert().success();
    let text = String::from_utf8_lossy(&text.get_output().stdout).into_owned();
    assert!(text.starts_with("CRITICAL pi-garage  since "), "{text}");
    parc().args(["findings", "--snapshots", example, "--kind", "nope"]).assert().code(1);
}

/// A fleet gone silent: only a build that watches the clock says so.
#[test]
fn a_build_on_the_clock_sees_a_silent_fleet() {
    let tmp = tempfile::tempdir().unwrap();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots");
    let kinds = |args: &[&str]| -> Vec<(String, String)> {
        let run = parc().args(["build", "--snapshots", example]).args(args).assert().success();
        drop(run);
        let out = args.iter().position(|a| *a == "--out").map(|i| args[i + 1]).unwrap();
        let findings = read_json(&Path::new(out).join("api/v1/findings.json"));
        findings
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["kind"].as_str().unwrap().into(), f["host"].as_str().unwrap().into()))
            .collect()
    };
    let newest = tmp.path().join("newest");
    let clock = tmp.path().join("clock");
    let by_newest = kinds(&["--out", newest.to_str().unwrap()]);
    let by_clock = kinds(&["--now", "clock", "--out", clock.to_str().unwrap()]);
    assert!(!by_newest.iter().any(|(k, _)| k == "fleet-stale"), "reproducible by default: {by_newest:?}");
    assert!(by_clock.contains(&("fleet-stale".into(), String::new())), "{by_clock:?}");
    // The example fleet's newest snapshots are weeks old: on the clock, every host is stale.
    let stale = |v: &[(String, String)]| v.iter().filter(|(k, _)| k == "host-stale").count();
    assert!(stale(&by_clock) > stale(&by_newest), "{by_clock:?}");
    let page = std::fs::read_to_string(clock.join("findings.html")).unwrap();
    assert!(page.contains("the fleet") && page.contains("collection has stopped across the fleet"), "{page}");
}

/// What cleared is kept: when it opened, when it closed, who silenced it;
/// on the findings page, in the JSON, and in the feed when it was critical.
#[test]
fn closed_findings_are_kept_with_when_they_opened_and_closed() {
    let tmp = tempfile::tempdir().unwrap();
    let (snaps, out) = (tmp.path().join("snapshots"), tmp.path().join("site"));
    fleet(&snaps);
    // Day 7: h2 reports again, h1's archive job works again and its disk is gone.
    write_dated(&snaps, "h2", &system("h2", &day(7)));
    write_dated(&snaps, "h1", &run("h1", 7, true, Some(7)));
    write_dated(&snaps, "h1", &disks("h1", &day(7), &[], "100\t/home/a\n"));
    // Silenced while it was open, on day 3.
    std::fs::write(
        snaps.join("silences.toml"),
        format!("[[silence]]\nid = \"filesystem-full:h1:/\"\nuntil = \"2026-11-10\"\nreason = \"cleaning up\"\nby = \"Anna <anna@example.org>\"\nat = \"{}\"\n", day(3)),
    )
    .unwrap();
    build(&snaps, &out);
    let findings = read_json(&out.join("api/v1/findings.json"));
    let gone = closed(&findings);
    let ids: Vec<&str> = gone.iter().map(|(id, ..)| id.as_str()).collect();
    let find = |id: &str| -> Vec<(i64, i64)> {
        gone.iter().filter(|(i, ..)| i.starts_with(id)).map(|(_, since, closed)| (*since, *closed)).collect()
    };
    assert_eq!(find("host-stale:h2"), [(at(2), at(7))], "{ids:?}");
    assert_eq!(find("archive-failed:h1:db"), [(at(4), at(7))]);
    // Days 2-3, cleared on 4; days 5-6, cleared on 7 (no df in that snapshot).
    assert_eq!(find("filesystem-full:h1:/"), [(at(5), at(7)), (at(2), at(4))]);
    assert_eq!(find("smart-watch:h1:"), [(at(3), at(7))], "watch from 3, gone on 7");
    assert_eq!(gone.first().map(|g| g.2), Some(at(7)), "the newest closure first");
    // The one silenced while open says by whom.
    let fs = (findings.as_array().unwrap().iter())
        .find(|f| f["id"] == "filesystem-full:h1:/" && f["state"] == "closed" && f["since"] == at(2))
        .unwrap();
    assert_eq!(fs["silenced"]["by"], "Anna <anna@example.org>", "{fs}");
    assert!(fs["escalation"]["next"].is_null(), "nothing is due for what closed");

    let page = read(&out.join("findings.html"));
    let part = &page[page.find("id=\"closed\"").expect("a closed part")..];
    assert!(part.contains("Closed in the last 30 days"), "{part}");
    assert!(part.contains("Archive job db on h1 failed.") && part.contains("3 days"), "opened, closed, how long");
    assert!(part.contains("Anna &lt;anna@example.org&gt;: cleaning up"), "who silenced it");
    let feed = read(&out.join("findings.atom"));
    assert!(feed.contains("<title>[closed] Archive job db on h1 failed.</title>"), "a critical closure is news");
    assert!(!feed.contains("[closed] h2 sent"), "a warning's closure is not");

    // Kept for findings.closed_days.
    std::fs::write(tmp.path().join("parc.toml"), "[findings]\nclosed_days = 2\n").unwrap();
    build(&snaps, &out);
    let kept = closed(&read_json(&out.join("api/v1/findings.json")));
    let within: Vec<_> = gone.iter().filter(|c| c.2 == at(7)).cloned().collect();
    assert_eq!(kept, within, "the closure of day 4 is gone, the runs that began before the window are whole");
    assert_eq!(kept.len(), gone.len() - 1);
}

/// Escalation steps that run a real command and POST to a real HTTPS
/// listener: the finding's fields as arguments, environment and JSON; what
/// each answered in `notify.json`; a failure recorded, never marked sent,
/// and tried again at the next apply.
#[test]
fn escalation_runs_a_command_and_posts_a_webhook_and_retries_what_failed() {
    use common::server::Server;
    let tmp = tempfile::tempdir().unwrap();
    let snaps = tmp.path().join("snapshots");
    fleet(&snaps);
    let s = |p: &Path| p.display().to_string();
    let tls = common::tls::make(&tmp.path().join("tls"));
    let web = tmp.path().join("web");
    std::fs::create_dir_all(&web).unwrap();
    let https = Server::start(&tmp.path().join("run"), "https", &[&s(&web), &s(&tls.cert), &s(&tls.key)]);
    std::fs::write(web.join("answer"), "503").unwrap();
    // The on-call pager: prints, logs its arguments and environment, fails while `busy` exists.
    let (log, busy, pager) = (tmp.path().join("paged.log"), tmp.path().join("busy"), tmp.path().join("page-oncall"));
    std::fs::write(
        &pager,
        format!(
            "#!/bin/sh\necho \"$1|$2|$PARC_FINDING_HOST|$PARC_FINDING_KIND\" >> {log}\necho paged\nif [ -e {busy} ]; then echo 'pager busy' >&2; exit 3; fi\n",
            log = s(&log),
            busy = s(&busy)
        ),
    )
    .unwrap();
    assert!(std::process::Command::new("chmod").arg("755").arg(&pager).status().unwrap().success());
    std::fs::write(&busy, "").unwrap();
    std::fs::write(
        tmp.path().join("parc.toml"),
        format!(
            "[build]\nsnapshots = \"snapshots\"\n\n[[escalation]]\nkinds = [\"archive-failed\"]\nsteps = [\n  {{ after = \"0h\", run = [\"{pager}\", \"{{id}}\", \"{{severity}}\"], timeout = 10 }},\n  {{ after = \"0h\", webhook = \"https://127.0.0.1:{port}/hooks/s3cr3t\", ca_file = \"{ca}\", token_env = \"HOOK_TOKEN\" }},\n]\n",
            pager = s(&pager),
            port = https.port,
            ca = s(&tls.ca)
        ),
    )
    .unwrap();
    let now = "2026-11-07T04:00:00Z";
    let plan = || {
        let out = parc().current_dir(tmp.path()).args(["plan", "--now", now, "-o", "plan.json"]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        read(&tmp.path().join("plan.json"))
    };
    let apply = || {
        let out = parc()
            .current_dir(tmp.path())
            .env("HOOK_TOKEN", "tok")
            .args(["apply", "--now", now, "plan.json"])
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout))
    };
    let notify = || read_json(&snaps.join(hostname()).join("notify.json"));

    let planned = plan();
    assert!(planned.contains("\"run:page-oncall\"") && planned.contains("\"webhook:127.0.0.1:"), "{planned}");
    assert!(!planned.contains("s3cr3t"), "a web hook's URL stays out of the plan");
    let (code, said) = apply();
    assert_ne!(code, Some(0), "a failed step fails the apply: {said}");
    let first = notify();
    assert_eq!(first["sent"], json!([]), "nothing failed is marked sent: {first}");
    let failed = first["failed"].as_array().unwrap();
    let by = |label: &str| failed.iter().find(|a| a["notify"].as_str().unwrap().starts_with(label)).unwrap().clone();
    let (run, hook) = (by("run:"), by("webhook:"));
    assert_eq!((run["exit"].clone(), run["finding"].clone()), (json!(3), json!("archive-failed:h1:db")), "{run}");
    assert_eq!(run["output"], "paged\npager busy");
    assert_eq!((hook["status"].clone(), hook["error"].clone()), (json!(503), json!("HTTP 503")), "{hook}");
    assert!(!first.to_string().contains("s3cr3t"));
    assert_eq!(read(&log), "archive-failed:h1:db|critical|h1|archive-failed\n", "arguments and environment");

    // Both work now: the next apply tries them again, and they are sent once.
    std::fs::remove_file(&busy).unwrap();
    std::fs::write(web.join("answer"), "201").unwrap();
    assert!(plan().contains("run:page-oncall"), "what failed is due again");
    let (code, said) = apply();
    assert_eq!(code, Some(0), "{said}");
    let second = notify();
    assert_eq!(second["failed"], Value::Null, "no failure left: {second}");
    let sent = second["sent"].as_array().unwrap();
    assert_eq!(sent.len(), 2, "{second}");
    let answer = |label: &str| sent.iter().find(|s| s["notify"].as_str().unwrap().starts_with(label)).unwrap().clone();
    assert_eq!((answer("run:")["exit"].clone(), answer("run:")["output"].clone()), (json!(0), json!("paged")));
    assert_eq!(answer("webhook:")["status"], 201);
    assert_eq!(answer("webhook:")["output"], "{\"ticket\": 42}");
    let posts: Vec<Value> = (0..2).map(|n| read_json(&web.join(format!("posts/{n}.json")))).collect();
    let post = &posts[1];
    assert_eq!((post["path"].as_str(), post["authorization"].as_str()), (Some("/hooks/s3cr3t"), Some("Bearer tok")));
    assert_eq!(post["content_type"], "application/json");
    let body: Value = serde_json::from_str(post["body"].as_str().unwrap()).unwrap();
    assert_eq!((body["finding"].as_str(), body["severity"].as_str()), (Some("archive-failed:h1:db"), Some("critical")));
    assert!(!web.join("posts/2.json").exists());
    assert!(!plan().contains("run:page-oncall"), "never twice");
}

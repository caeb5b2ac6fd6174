//! Bad input: each case is reported with its path and cause, on stderr and
//! on the problems page; everything else is built; nothing is written
//! outside the output folder nor rendered unescaped; `--strict` exits 3.

mod common;

use common::*;
use serde_json::json;
use std::path::Path;

const AT: &str = "2026-11-01T03:00:00+01:00";
const HOSTILE: &str = "<script>alert(1)</script>";

/// A fleet with one good host and every kind of bad snapshot beside it.
fn hostile_fleet(snaps: &Path, outside: &Path) -> Vec<(&'static str, &'static str)> {
    write_dated(snaps, "good", &system("good", AT));
    let mut smart = drive("scrutiny-smart-fail2.json", HOSTILE, None);
    smart["model_name"] = json!(HOSTILE);
    write_dated(snaps, "good", &disks("good", AT, &[("sda", smart)], &format!("100\t/home/{HOSTILE}\n")));

    let bad = snaps.join("bad");
    std::fs::create_dir_all(bad.join("system")).unwrap();
    let write = |name: &str, bytes: &[u8]| std::fs::write(bad.join("system").join(name), bytes).unwrap();
    let good = serde_json::to_string(&system("bad", AT)).unwrap();
    write("truncated.json", &good.as_bytes()[..good.len() / 2]);
    write("schema.json", good.replace("parc.snapshot/1", "parc.snapshot/9").as_bytes());
    write("missing.json", br#"{"schema":"parc.snapshot/1","kind":"system","host":"bad"}"#);
    write(
        "mistyped.json",
        br#"{"schema":"parc.snapshot/1","kind":"system","host":"bad","collected_at":42,"probes":{}}"#,
    );
    // Latin-1 bytes in a tool's output, from an agent that did not escape them: kept, reported.
    write(
        "latin1.json",
        b"{\"schema\":\"parc.snapshot/1\",\"kind\":\"system\",\"host\":\"bad\",\"collected_at\":\"2026-11-01T05:00:00Z\",\"probes\":{\"os-release\":{\"cmd\":\"cat /etc/os-release\",\"exit\":0,\"out\":\"PRETTY_NAME=\\\"Debian caf\xe9\\\"\\n\"}}}",
    );
    // 50 MB of valid JSON: over the limit, never read.
    let mut huge = Vec::with_capacity(50 << 20);
    huge.extend_from_slice(br#"{"schema":"parc.snapshot/1","pad":""#);
    huge.resize(50 << 20, b'a');
    huge.extend_from_slice(br#""}"#);
    write("huge.json", &huge);
    // A snapshot that claims another host, with a path in its name.
    let mut liar = system("../../etc", "2026-11-01T04:00:00+01:00");
    liar["host"] = json!("../../etc");
    write_dated(snaps, "bad", &liar);
    // A host folder whose name is markup, and a symlink out of the folder.
    write_dated(snaps, "<img src=x onerror=alert(1)>", &system("<img src=x onerror=alert(1)>", AT));
    std::fs::write(outside.join("secret.json"), serde_json::to_vec(&system("good", AT)).unwrap()).unwrap();
    std::os::unix::fs::symlink(outside.join("secret.json"), bad.join("system/link.json")).unwrap();
    vec![
        ("truncated.json", "invalid JSON"),
        ("schema.json", "unknown schema \"parc.snapshot/9\""),
        ("missing.json", "missing field"),
        ("mistyped.json", "invalid type"),
        ("latin1.json", "not UTF-8: 1 byte(s) read as \\xNN, the rest of the snapshot is kept"),
        ("huge.json", "over the limit"),
        ("link.json", "symlink points outside the snapshots folder"),
        ("T040000", "snapshot says host \"../../etc\" but lies in folder \"bad\""),
    ]
}

#[test]
fn every_bad_snapshot_is_reported_and_the_rest_is_built() {
    let tmp = tempfile::tempdir().unwrap();
    let (snaps, out, outside) = (tmp.path().join("snapshots"), tmp.path().join("site"), tmp.path().join("outside"));
    std::fs::create_dir_all(&outside).unwrap();
    let expected = hostile_fleet(&snaps, &outside);
    let before: Vec<_> =
        files(tmp.path()).into_iter().filter(|f| !f.starts_with("site") && !f.starts_with(".parc-cache")).collect();

    let run = build_cmd(&snaps, &out, &[]).assert().success();
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    let problems = read_json(&out.join("api/v1/problems.json"));
    let page = read(&out.join("problems.html"));
    for (file, cause) in &expected {
        let line = stderr
            .lines()
            .find(|l| l.contains(file))
            .unwrap_or_else(|| panic!("no problem for {file} on stderr:\n{stderr}"));
        assert!(line.contains(cause), "{file}: expected {cause:?} in {line:?}");
        assert!(problems
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["path"].as_str().unwrap().contains(file) && p["cause"].as_str().unwrap().contains(cause)));
        assert!(page.contains(file), "{file} is not on the problems page");
    }
    // The good host, the liar (under its folder's name) and the markup host are built.
    let hosts = read_json(&out.join("api/v1/hosts.json"));
    let names: Vec<&str> = hosts.as_array().unwrap().iter().map(|h| h["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["<img src=x onerror=alert(1)>", "bad", "good"]);
    let bad = read_json(&out.join("api/v1/hosts/bad.json"));
    assert_eq!(bad["os"], "Debian caf\\xe9", "the Latin-1 snapshot is the newest: {bad:#}");
    for h in hosts.as_array().unwrap() {
        let slug = h["slug"].as_str().unwrap();
        assert!(slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{slug}");
        assert!(out.join(format!("hosts/{slug}.html")).is_file());
    }
    // Nothing outside the output folder changed; no markup from a snapshot in any page.
    let after: Vec<_> =
        files(tmp.path()).into_iter().filter(|f| !f.starts_with("site") && !f.starts_with(".parc-cache")).collect();
    assert_eq!(before, after);
    for f in files(&out).iter().filter(|f| f.extension().is_some_and(|e| e == "html")) {
        let html = read(&out.join(f));
        assert!(
            !html.contains("<script>alert") && !html.contains("<img src=x"),
            "{} renders markup from a snapshot",
            f.display()
        );
    }
    assert!(
        read(&out.join("hosts/good.html")).contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "hostile strings are shown, escaped"
    );
}

#[test]
fn strict_turns_problems_into_exit_status_3() {
    let tmp = tempfile::tempdir().unwrap();
    let (snaps, out, outside) = (tmp.path().join("snapshots"), tmp.path().join("site"), tmp.path().join("outside"));
    std::fs::create_dir_all(&outside).unwrap();
    hostile_fleet(&snaps, &outside);
    parc().current_dir(tmp.path()).args(["check", "--snapshots"]).arg(&snaps).assert().code(3);
    assert!(!tmp.path().join(".parc-cache").exists(), "check writes nothing, not even the parse cache");
    build_cmd(&snaps, &out, &["--strict"]).assert().code(3);
    assert!(out.join("index.html").is_file(), "the site is still built");
    parc().current_dir(tmp.path()).args(["check", "--snapshots"]).arg(&snaps).assert().code(3);
    // The good host alone is fine.
    std::fs::remove_dir_all(snaps.join("bad")).unwrap();
    std::fs::remove_dir_all(snaps.join("<img src=x onerror=alert(1)>")).unwrap();
    build_cmd(&snaps, &out, &["--strict"]).assert().code(0);
}

#[test]
fn usage_and_config_errors_have_their_own_exit_status() {
    let tmp = tempfile::tempdir().unwrap();
    parc().current_dir(tmp.path()).args(["build", "--frobnicate"]).assert().code(2);
    let run = parc().current_dir(tmp.path()).args(["--config", "nope.toml", "build"]).assert().code(1);
    assert!(String::from_utf8_lossy(&run.get_output().stderr).contains("nope.toml"));
    std::fs::write(tmp.path().join("parc.toml"), "[fleet]\nstale_after = 3\n").unwrap();
    let run = parc().current_dir(tmp.path()).arg("build").assert().code(1);
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    assert!(stderr.contains("parc.toml") && stderr.contains("stale_after"), "{stderr}");
}

/// `parc --help` ends with the exit codes, the same ones the README's table lists.
#[test]
fn help_lists_the_exit_codes_of_the_readme() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table = readme.split("## Exit codes").nth(1).expect("an Exit codes section");
    let codes: Vec<&str> = table
        .lines()
        .skip_while(|l| !l.starts_with("| 0 "))
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| l.split('|').nth(1).map(str::trim))
        .collect();
    assert!(codes.len() >= 6, "{codes:?}");
    let run = parc().arg("--help").assert().success();
    let help = String::from_utf8_lossy(&run.get_output().stdout).to_string();
    let listed = help.split("Exit codes:").nth(1).expect("help lists the exit codes");
    let in_help: Vec<&str> = listed.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert_eq!(in_help, codes, "{help}");
}

#[test]
fn a_folder_parc_did_not_make_is_never_written_into() {
    let tmp = tempfile::tempdir().unwrap();
    let (snaps, out) = (tmp.path().join("snapshots"), tmp.path().join("home"));
    write_dated(&snaps, "good", &system("good", AT));
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("thesis.tex"), "years of work").unwrap();
    let run = build_cmd(&snaps, &out, &[]).assert().code(1);
    assert!(String::from_utf8_lossy(&run.get_output().stderr).contains("not made by parc"));
    assert_eq!(files(&out), [Path::new("thesis.tex")]);
}

#[test]
fn a_reader_that_went_away_is_not_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    let snaps = tmp.path().join("snapshots");
    let mut truncated = serde_json::to_vec(&system("a", AT)).unwrap();
    truncated.truncate(20);
    std::fs::create_dir_all(snaps.join("a/system")).unwrap();
    std::fs::write(snaps.join("a/system/bad.json"), truncated).unwrap();
    let run = |args: &[&str]| {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("parc"));
        cmd.current_dir(tmp.path()).args(args).stdout(closed_pipe());
        cmd.output().unwrap()
    };
    // `parc probe-script disks | head`, `parc check | head`: no panic, the usual status.
    let script = run(&["probe-script", "disks"]);
    assert_eq!(script.status.code(), Some(0), "{}", String::from_utf8_lossy(&script.stderr));
    assert_eq!(String::from_utf8_lossy(&script.stderr), "");
    let check = run(&["check", "--snapshots", "snapshots"]);
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert_eq!(check.status.code(), Some(3), "{stderr}");
    assert!(!stderr.contains("panicked") && stderr.contains("1 problem"), "{stderr}");
}

/// Starts `parc build --no-cache` and kills it after `delay_ms`.
fn killed_build(dir: &Path, snaps: &Path, out: &Path, delay_ms: u64) {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("parc"))
        .current_dir(dir)
        .args(["build", "--no-cache", "--snapshots"])
        .arg(snaps)
        .arg("--out")
        .arg(out)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(delay_ms));
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_build_killed_at_any_point_leaves_a_folder_the_next_build_takes() {
    let tmp = tempfile::tempdir().unwrap();
    let snaps = tmp.path().join("snapshots");
    parc().args(["demo", "--hosts", "16", "--days", "12", "--out"]).arg(&snaps).assert().success();
    let out = tmp.path().join("site");
    let must_build = |what: &str| {
        let next = build_cmd(&snaps, &out, &[]).assert();
        let stderr = String::from_utf8_lossy(&next.get_output().stderr).to_string();
        assert!(next.get_output().status.success(), "after a kill {what}: {stderr}");
    };
    // A first build, killed anywhere from its start to its end (the sweep
    // covers the whole build on this machine: it lasts about 0.5 s).
    for delay_ms in (0..=700).step_by(35) {
        let _ = std::fs::remove_dir_all(&out);
        killed_build(tmp.path(), &snaps, &out, delay_ms);
        must_build(&format!("of a first build at {delay_ms} ms"));
    }
    // Half the fleet goes: a rebuild with many files to prune, killed.
    let mut hosts: Vec<_> = std::fs::read_dir(&snaps).unwrap().map(|e| e.unwrap().path()).collect();
    hosts.sort();
    for host in &hosts[..8] {
        std::fs::remove_dir_all(host).unwrap();
    }
    for delay_ms in [0, 10, 50, 100, 200, 300, 400] {
        killed_build(tmp.path(), &snaps, &out, delay_ms);
        must_build(&format!("of a rebuild at {delay_ms} ms"));
    }
    // And what it left is what a build from scratch makes.
    let fresh = tmp.path().join("fresh");
    build_cmd(&snaps, &fresh, &["--no-cache"]).assert().success();
    assert_same_site(&out, &fresh, "after the kills");
}

#[test]
fn a_blob_over_the_limit_in_the_history_is_reported_not_read() {
    let tmp = tempfile::tempdir().unwrap();
    let snaps = tmp.path().join("snapshots");
    git(tmp.path(), &["init", "-q"]);
    let file = snaps.join("big/system.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let mut big = system("big", AT);
    big["pad"] = json!("a".repeat(4000));
    std::fs::write(&file, serde_json::to_vec(&big).unwrap()).unwrap();
    git(tmp.path(), &["add", "-A"]);
    git(tmp.path(), &["commit", "-q", "-m", "one big snapshot"]);
    // The working tree has a small one now: only the history holds the big one.
    std::fs::write(&file, serde_json::to_vec(&system("big", "2026-11-02T03:00:00+01:00")).unwrap()).unwrap();
    git(tmp.path(), &["commit", "-q", "-a", "-m", "a small one"]);
    std::fs::write(tmp.path().join("parc.toml"), "[build]\nmax_snapshot_bytes = 3000\n").unwrap();

    let run = build_cmd(&snaps, &tmp.path().join("site"), &[]).assert().success();
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    let problem = stderr.lines().find(|l| l.contains("over the limit of 3000 bytes")).expect(&stderr);
    assert!(problem.contains("git:") && problem.contains("big/system.json"), "{problem}");
    let host = read_json(&tmp.path().join("site/api/v1/hosts/big.json"));
    assert_eq!(host["timeline"].as_array().unwrap().len(), 1, "the small version is built, the big one is not");
}

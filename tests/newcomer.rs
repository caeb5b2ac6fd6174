//! What a newcomer trips on, tried as one would: each is refused early and
//! says why, with the exit status the README gives, and the terminal's
//! output reads right.

mod common;

use common::*;

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_file_given_as_the_snapshots_folder_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("snapshots.json");
    std::fs::write(&file, "{}").unwrap();
    for command in ["build", "check"] {
        let out = parc().current_dir(tmp.path()).args([command, "--snapshots"]).arg(&file).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{command}: {}", stderr(&out));
        assert!(stderr(&out).contains("not a folder"), "{}", stderr(&out));
    }
    assert!(!tmp.path().join("site").exists(), "no empty site");
}

#[test]
fn collect_checks_its_arguments_before_it_collects() {
    let tmp = tempfile::tempdir().unwrap();
    let out = parc().current_dir(tmp.path()).args(["collect", "--kinds", "system", "--host", "../x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "a bad --host is wrong usage: {}", stderr(&out));
    // Not a git repository: said before any probe runs, and nothing is written.
    let out = parc()
        .current_dir(tmp.path())
        .args(["collect", "--kinds", "system", "--host", "box", "--snapshots", "snaps", "--commit"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("snaps is not in a git repository"), "{}", stderr(&out));
    assert!(!tmp.path().join("snaps").exists(), "nothing was collected, no folder made");
}

#[test]
fn the_terminal_output_counts_right_and_has_no_colour_in_a_pipe() {
    let tmp = tempfile::tempdir().unwrap();
    let snaps = tmp.path().join("snapshots");
    write_dated(&snaps, "h1", &system("h1", "2026-11-01T03:00:00Z"));
    let out = parc().current_dir(tmp.path()).args(["-v", "build", "--snapshots", "snapshots"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stderr(&out);
    assert!(said.contains("built 1 host, 0 disks from 1 version in 1 file (1 parsed, 0 reused)"), "{said}");
    assert!(said.contains(", 0 problems,"), "{said}");
    assert!(said.contains("INFO") && !said.contains('\x1b'), "no escape codes into a pipe: {said:?}");
}

#[test]
fn an_archive_job_over_plain_http_is_refused_unless_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("s")).unwrap();
    let job = "[[archive]]\nname = \"db\"\nurl = \"http://intranet.example/dump.zip\"\nexpect = \"dump.sql\"\ndestination = \"/srv/archives\"\nkeep_last = 3\n";
    let check = |extra: &str| {
        std::fs::write(tmp.path().join("parc.toml"), format!("{job}{extra}")).unwrap();
        parc().current_dir(tmp.path()).args(["check", "--snapshots", "s"]).output().unwrap()
    };
    let out = check("");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("is http://") && stderr(&out).contains("allow_http = true"), "{}", stderr(&out));
    let out = check("allow_http = true\n");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn the_site_asks_not_to_be_indexed_unless_told() {
    let tmp = tempfile::tempdir().unwrap();
    let snaps = tmp.path().join("snapshots");
    write_dated(&snaps, "h1", &system("h1", "2026-11-01T03:00:00Z"));
    let build = |config: &str| {
        std::fs::write(tmp.path().join("parc.toml"), config).unwrap();
        let out = parc().current_dir(tmp.path()).args(["build", "--no-cache"]).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    };
    build("");
    let site = tmp.path().join("site");
    assert_eq!(read(&site.join("robots.txt")), "User-agent: *\nDisallow: /\n");
    for page in ["index.html", "hosts/h1.html", "findings.html"] {
        assert!(read(&site.join(page)).contains(r#"<meta name="robots" content="noindex, nofollow">"#), "{page}");
    }
    build("[site]\nindexable = true\n");
    assert!(!site.join("robots.txt").exists(), "gone with the setting");
    assert!(!read(&site.join("index.html")).contains("noindex"));
}

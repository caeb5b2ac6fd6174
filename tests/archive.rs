//! Archive jobs end to end, with real servers on loopback: a zip served
//! over TLS, destinations on a local folder (and a mounted tmpfs), SFTP
//! through a real sshd, WebDAV and FTPS servers, and mail received by a
//! real SMTP server. Every failure says its cause and deletes nothing.

mod common;

use common::server::Server;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A job's world: the HTTPS server and its files, the snapshots, the config.
struct World {
    tmp: tempfile::TempDir,
    tls: common::tls::Tls,
    https: Server,
}

impl World {
    fn new() -> World {
        let tmp = tempfile::tempdir().unwrap();
        let tls = common::tls::make(&tmp.path().join("tls"));
        std::fs::create_dir_all(tmp.path().join("www")).unwrap();
        let https = Server::start(
            &tmp.path().join("run"),
            "https",
            &[&s(&tmp.path().join("www")), &s(&tls.cert), &s(&tls.key)],
        );
        World { tmp, tls, https }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    fn url(&self, name: &str) -> String {
        format!("https://127.0.0.1:{}/{name}", self.https.port)
    }

    /// Serves a zip holding `files` as `www/<name>`.
    fn serve_zip(&self, name: &str, files: &[(&str, &[u8])]) {
        let file = std::fs::File::create(self.path("www").join(name)).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        for (member, data) in files {
            zip.start_file(*member, zip::write::SimpleFileOptions::default()).unwrap();
            zip.write_all(data).unwrap();
        }
        zip.finish().unwrap();
    }

    /// Writes parc.toml with one job `db` and the given extra keys.
    fn config(&self, job: &str, extra: &str) {
        let text = format!(
            "[build]\nsnapshots = \"snapshots\"\n\n[[archive]]\nname = \"db\"\nca_file = \"{}\"\nexpect = \"dump.sql\"\nhost = \"backup1\"\ntimeout = 10\n{job}\n{extra}",
            self.tls.ca.display()
        );
        std::fs::write(self.path("parc.toml"), text).unwrap();
    }

    fn parc(&self, args: &[&str]) -> std::process::Output {
        common::parc().current_dir(self.tmp.path()).args(args).output().unwrap()
    }

    /// `parc plan` then `parc apply` at `now`; the apply's output.
    fn run_at(&self, now: &str) -> std::process::Output {
        let plan = self.parc(&["plan", "--now", now, "-o", "plan.json"]);
        assert!(plan.status.success(), "plan: {}", String::from_utf8_lossy(&plan.stderr));
        self.parc(&["apply", "--now", now, "plan.json"])
    }

    fn run_log(&self) -> Value {
        common::read_json(&self.path("snapshots/backup1/archive-db.json"))
    }

    fn text_log(&self) -> String {
        std::fs::read_to_string(self.path("snapshots/backup1/archive-db.log")).unwrap()
    }
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn tar_member(path: &Path) -> (String, String) {
    use std::io::Read;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()));
    let mut entry = archive.entries().unwrap().next().unwrap().unwrap();
    let name = entry.path().unwrap().display().to_string();
    let mut text = String::new();
    entry.read_to_string(&mut text).unwrap();
    (name, text)
}

#[test]
fn runs_to_a_local_folder_skip_an_unchanged_dump_and_prune_by_policy() {
    let w = World::new();
    let dest = w.path("nas");
    std::fs::create_dir_all(&dest).unwrap();
    // Something of the user's that the pattern did not make: never deleted.
    std::fs::write(dest.join("README.txt"), "archives of db\n").unwrap();
    w.config(&format!("url = \"{}\"\ndestination = \"{}\"\nkeep_last = 2", w.url("dump.zip"), s(&dest)), "");

    w.serve_zip("dump.zip", &[("dump.sql", b"-- day 1\n")]);
    let out = w.run_at("2026-11-18T03:00:00+01:00");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(names(&dest), ["20261118.tgz", "README.txt"]);
    assert_eq!(tar_member(&dest.join("20261118.tgz")), ("dump.sql".into(), "-- day 1\n".into()));
    let log = w.run_log();
    assert_eq!(log["kind"], "archive-db");
    assert_eq!(log["run"]["outcome"], "ok");
    let steps: Vec<&str> =
        log["run"]["steps"].as_array().unwrap().iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(steps, ["download", "verify", "compare", "pack", "reach", "upload", "retention"]);
    assert!(w.text_log().starts_with("archive db OK: 20261118.tgz"), "{}", w.text_log());

    // The same dump the next day: reported, not archived again.
    let out = w.run_at("2026-11-19T03:00:00+01:00");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(w.run_log()["run"]["outcome"], "unchanged");
    assert_eq!(names(&dest), ["20261118.tgz", "README.txt"]);
    assert!(w.text_log().starts_with("archive db UNCHANGED"), "{}", w.text_log());

    // Two new dumps: keep_last 2 deletes the oldest, with its reason.
    for (day, text) in [("20", "-- day 3\n"), ("21", "-- day 4\n")] {
        w.serve_zip("dump.zip", &[("export/dump.sql", text.as_bytes())]);
        let out = w.run_at(&format!("2026-11-{day}T03:00:00+01:00"));
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_eq!(names(&dest), ["20261120.tgz", "20261121.tgz", "README.txt"]);
    let run = &w.run_log()["run"];
    assert_eq!(run["deleted"][0]["name"], "20261118.tgz");
    assert_eq!(run["deleted"][0]["reason"], "no rule keeps it (keep_last 2)");
    assert_eq!(run["last_good"]["archive"], "20261121.tgz");
    assert!(w.text_log().contains("deleted 20261118.tgz: no rule keeps it"), "{}", w.text_log());
}

#[test]
fn min_interval_skips_a_run_too_soon_after_a_good_one() {
    let w = World::new();
    let dest = w.path("nas");
    std::fs::create_dir_all(&dest).unwrap();
    w.config(&format!("url = \"{}\"\ndestination = \"{}\"\nmin_interval = \"20h\"", w.url("dump.zip"), s(&dest)), "");
    w.serve_zip("dump.zip", &[("dump.sql", b"x")]);
    assert!(w.run_at("2026-11-20T03:00:00Z").status.success());
    w.serve_zip("dump.zip", &[("dump.sql", b"y")]);
    let plan = w.parc(&["plan", "--now", "2026-11-20T12:00:00Z", "-o", "-"]);
    let plan: Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(plan["jobs"][0]["action"], "skip", "{plan}");
    let plan = w.parc(&["plan", "--now", "2026-11-21T03:00:00Z", "-o", "-"]);
    let plan: Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(plan["jobs"][0]["action"], "run", "{plan}");
}

/// Each failure: exit 5, the failed step and its cause in the log's first
/// line, and the old archives (which the policy would delete) still there.
#[test]
fn failures_name_their_cause_and_delete_nothing() {
    let w = World::new();
    let dest = w.path("nas");
    std::fs::create_dir_all(&dest).unwrap();
    for old in ["20261101.tgz", "20261102.tgz", "20261103.tgz"] {
        std::fs::write(dest.join(old), "old").unwrap();
    }
    w.serve_zip("good.zip", &[("dump.sql", b"data")]);
    w.serve_zip("other.zip", &[("backup.sql", b"data")]);
    std::fs::write(w.path("www/corrupt.zip"), b"PK\x03\x04 this is not a zip at all").unwrap();
    let refused = format!("https://127.0.0.1:{}/dump.zip", common::sshd::free_port());
    let cases = [
        (w.url("missing.zip"), "download", "HTTP 404 Not Found"),
        (refused, "download", "connection error"),
        (w.url("corrupt.zip"), "verify", "not a valid zip"),
        (w.url("other.zip"), "verify", "does not hold dump.sql (it holds: backup.sql)"),
        (w.url("cut/good.zip"), "download", "cut short"),
    ];
    for (url, step, cause) in cases {
        w.config(&format!("url = \"{url}\"\ndestination = \"{}\"\nkeep_last = 1", s(&dest)), "");
        let out = w.run_at("2026-11-21T03:00:00Z");
        assert_eq!(out.status.code(), Some(5), "{url}: {}", stderr(&out));
        let run = &w.run_log()["run"];
        assert_eq!(run["outcome"], "failed", "{url}");
        assert_eq!(run["failed_step"], step, "{url}: {run}");
        assert!(run["cause"].as_str().unwrap().contains(cause), "{url}: {}", run["cause"]);
        let first = w.text_log().lines().next().unwrap().to_string();
        assert!(first.starts_with(&format!("archive db FAILED at {step}: ")) && first.contains(cause), "{first}");
        assert!(stderr(&out).contains(cause), "{}", stderr(&out));
        assert_eq!(names(&dest), ["20261101.tgz", "20261102.tgz", "20261103.tgz"], "{url}: nothing deleted");
    }
    // A TLS failure is told as such: the server's CA is not trusted without ca_file.
    std::fs::write(
        w.path("parc.toml"),
        format!("[[archive]]\nname = \"db\"\nexpect = \"dump.sql\"\nhost = \"backup1\"\nurl = \"{}\"\ndestination = \"{}\"\n", w.url("good.zip"), s(&dest)),
    )
    .unwrap();
    let out = w.run_at("2026-11-22T03:00:00Z");
    assert_eq!(out.status.code(), Some(5));
    assert!(w.run_log()["run"]["cause"].as_str().unwrap().starts_with("TLS error"), "{}", w.run_log()["run"]["cause"]);
}

#[test]
fn a_stale_plan_is_refused_and_two_applies_never_overlap() {
    let w = World::new();
    let dest = w.path("nas");
    std::fs::create_dir_all(&dest).unwrap();
    w.config(&format!("url = \"{}\"\ndestination = \"{}\"", w.url("dump.zip"), s(&dest)), "");
    w.serve_zip("dump.zip", &[("dump.sql", b"one")]);
    assert!(w.parc(&["plan", "--now", "2026-11-21T03:00:00Z", "-o", "old-plan.json"]).status.success());
    assert!(w.run_at("2026-11-21T04:00:00Z").status.success());
    let out = w.parc(&["apply", "old-plan.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("the plan is stale: job db ran at"), "{}", stderr(&out));

    // A live lock stops a second apply; a lock whose process is gone is taken over.
    assert!(w.parc(&["plan", "--now", "2026-11-22T03:00:00Z", "-o", "plan.json"]).status.success());
    let lock = w.path(".parc-cache/apply.lock");
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    std::fs::write(&lock, format!("1 {}", host.trim())).unwrap();
    let out = w.parc(&["apply", "plan.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("another parc apply is running"), "{}", stderr(&out));
    std::fs::write(&lock, format!("999999999 {}", host.trim())).unwrap();
    let out = w.parc(&["apply", "--now", "2026-11-22T03:00:00Z", "plan.json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("stale lock"), "{}", stderr(&out));
    assert!(!lock.exists());

    // --dry-run says what it would do and does nothing.
    w.serve_zip("dump.zip", &[("dump.sql", b"two")]);
    assert!(w.parc(&["plan", "--now", "2026-11-23T03:00:00Z", "-o", "plan.json"]).status.success());
    let before = std::fs::read(w.path("snapshots/backup1/archive-db.json")).unwrap();
    let out = w.parc(&["apply", "--dry-run", "plan.json"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("would fetch"), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(std::fs::read(w.path("snapshots/backup1/archive-db.json")).unwrap(), before);
    assert_eq!(names(&dest), ["20261121.tgz"]);
}

/// A mounted share: `require_mount` refuses an unmounted folder, and an
/// upload cut short by a full disk fails, leaves no partial file and deletes nothing.
#[test]
fn a_share_must_be_mounted_and_a_full_one_fails_the_upload() {
    let w = World::new();
    let share = w.path("share");
    std::fs::create_dir_all(&share).unwrap();
    w.config(
        &format!(
            "url = \"{}\"\ndestination = \"{}\"\nrequire_mount = true\nkeep_last = 1",
            w.url("dump.zip"),
            s(&share)
        ),
        "",
    );
    // Bytes deflate cannot shrink: the archive is bigger than the 64 KiB share.
    let mut x: u64 = 1;
    let random: Vec<u8> = (0..200_000)
        .map(|_| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 56) as u8
        })
        .collect();
    w.serve_zip("dump.zip", &[("dump.sql", &random)]);
    let out = w.run_at("2026-11-21T03:00:00Z");
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(w.run_log()["run"]["failed_step"], "reach");
    assert!(w.run_log()["run"]["cause"].as_str().unwrap().contains("is not a mount point"), "{}", w.run_log());

    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&share)
        .status()
        .unwrap();
    assert!(mounted.success(), "mount a small tmpfs (the tests run as root)");
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(share.clone());
    std::fs::write(share.join("20261101.tgz"), "old").unwrap();
    let out = w.run_at("2026-11-22T03:00:00Z");
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let run = &w.run_log()["run"];
    assert_eq!(run["failed_step"], "upload", "{run}");
    assert!(run["cause"].as_str().unwrap().contains("upload of 20261122.tgz"), "{}", run["cause"]);
    assert_eq!(names(&share), ["20261101.tgz"], "no partial file, nothing deleted");
}

#[test]
fn sftp_through_a_real_sshd_and_a_refused_key() {
    let sshd = common::sshd::Sshd::start();
    let w = World::new();
    let dest = w.path("remote");
    std::fs::create_dir_all(&dest).unwrap();
    std::fs::write(dest.join("20261101.tgz"), "old").unwrap();
    let job = |key: &str| {
        format!(
            "url = \"{}\"\ndestination = \"sftp://root@127.0.0.1:{}{}\"\nidentity_file = \"{}\"\nknown_hosts = \"{}\"\nkeep_last = 1",
            w.url("dump.zip"),
            sshd.port,
            s(&dest),
            s(&sshd.path(key)),
            s(&sshd.path("known_hosts"))
        )
    };
    w.serve_zip("dump.zip", &[("dump.sql", b"over sftp")]);
    w.config(&job("stranger"), "");
    let out = w.run_at("2026-11-21T03:00:00Z");
    assert_eq!(out.status.code(), Some(5));
    let run = &w.run_log()["run"];
    assert_eq!(run["failed_step"], "reach");
    assert!(run["cause"].as_str().unwrap().contains("Permission denied"), "{}", run["cause"]);
    assert_eq!(names(&dest), ["20261101.tgz"]);

    w.config(&job("id"), "");
    let out = w.run_at("2026-11-21T04:00:00Z");
    assert!(out.status.success(), "{}", stderr(&out));
    // The plan knew no listing yet: nothing is deleted before the next plan has seen one.
    assert_eq!(names(&dest), ["20261101.tgz", "20261121.tgz"]);
    assert_eq!(tar_member(&dest.join("20261121.tgz")).1, "over sftp");
    assert_eq!(w.run_log()["run"]["remote"].as_array().unwrap().len(), 2);
    w.serve_zip("dump.zip", &[("dump.sql", b"day two")]);
    let out = w.run_at("2026-11-22T04:00:00Z");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(names(&dest), ["20261122.tgz"], "uploaded, renamed, the older ones pruned over SFTP");

    // A changed host key is a failure, never trusted.
    std::fs::write(
        sshd.path("known_hosts"),
        format!("[127.0.0.1]:{} {}", sshd.port, std::fs::read_to_string(sshd.path("stranger.pub")).unwrap()),
    )
    .unwrap();
    w.serve_zip("dump.zip", &[("dump.sql", b"again")]);
    let out = w.run_at("2026-11-23T03:00:00Z");
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(w.run_log()["run"]["failed_step"], "reach", "{}", w.run_log());
    assert_eq!(names(&dest), ["20261122.tgz"]);
}

#[test]
fn webdav_and_ftps_servers() {
    let w = World::new();
    let dav_root = w.path("dav");
    std::fs::create_dir_all(dav_root.join("db")).unwrap();
    std::fs::write(dav_root.join("db/20261101.tgz"), "old").unwrap();
    let dav = Server::start(&w.path("run"), "webdav", &[&s(&dav_root), "parc", "s3cret"]);
    std::fs::write(w.path("dav-password"), "s3cret\n").unwrap();
    w.serve_zip("dump.zip", &[("dump.sql", b"over webdav")]);
    w.config(
        &format!(
            "url = \"{}\"\ndestination = \"webdav://127.0.0.1:{}/dav/db\"\nuser = \"parc\"\npassword_file = \"{}\"\nkeep_last = 1",
            w.url("dump.zip"),
            dav.port,
            s(&w.path("dav-password"))
        ),
        "",
    );
    let out = w.run_at("2026-11-21T03:00:00Z");
    assert!(out.status.success(), "{}\n{}", stderr(&out), w.text_log());
    assert_eq!(names(&dav_root.join("db")), ["20261101.tgz", "20261121.tgz"]);
    assert_eq!(tar_member(&dav_root.join("db/20261121.tgz")).1, "over webdav");
    w.serve_zip("dump.zip", &[("dump.sql", b"day two")]);
    let out = w.run_at("2026-11-22T03:00:00Z");
    assert!(out.status.success(), "{}\n{}", stderr(&out), w.text_log());
    assert_eq!(names(&dav_root.join("db")), ["20261122.tgz"], "listed by PROPFIND, pruned by DELETE");

    // A wrong password: refused at the destination, said as HTTP 401.
    std::fs::write(w.path("dav-password"), "wrong\n").unwrap();
    w.serve_zip("dump.zip", &[("dump.sql", b"again")]);
    let out = w.run_at("2026-11-23T03:00:00Z");
    assert_eq!(out.status.code(), Some(5));
    assert!(w.run_log()["run"]["cause"].as_str().unwrap().contains("HTTP 401"), "{}", w.run_log());

    let ftp_root = w.path("ftp");
    std::fs::create_dir_all(ftp_root.join("db")).unwrap();
    std::fs::write(ftp_root.join("db/20261101.tgz"), "old").unwrap();
    let ftps =
        Server::start(&w.path("run"), "ftps", &[&s(&ftp_root), &s(&w.tls.cert), &s(&w.tls.key), "parc", "s3cret"]);
    w.serve_zip("dump.zip", &[("dump.sql", b"over ftps")]);
    w.config(
        &format!(
            "url = \"{}\"\ndestination = \"ftps://parc@127.0.0.1:{}/db\"\npassword_env = \"PARC_TEST_FTP\"\nkeep_last = 1",
            w.url("dump.zip"),
            ftps.port
        ),
        "",
    );
    let ftp_run = |now: &str| {
        assert!(w.parc(&["plan", "--now", now, "-o", "plan.json"]).status.success());
        let out = common::parc()
            .current_dir(w.tmp.path())
            .env("PARC_TEST_FTP", "s3cret")
            .args(["apply", "--now", now, "plan.json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}\n{}", stderr(&out), w.text_log());
    };
    ftp_run("2026-11-24T03:00:00Z");
    assert_eq!(names(&ftp_root.join("db")), ["20261101.tgz", "20261124.tgz"]);
    assert_eq!(tar_member(&ftp_root.join("db/20261124.tgz")).1, "over ftps");
    w.serve_zip("dump.zip", &[("dump.sql", b"ftps day two")]);
    ftp_run("2026-11-25T03:00:00Z");
    assert_eq!(names(&ftp_root.join("db")), ["20261125.tgz"], "listed, pruned over FTPS");
}

#[test]
fn the_report_is_mailed_over_smtp_with_starttls_and_auth() {
    let w = World::new();
    let inbox = w.path("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let smtp = Server::start(&w.path("run"), "smtp", &[&s(&inbox), &s(&w.tls.cert), &s(&w.tls.key), "parc", "mailpw"]);
    let dest = w.path("nas");
    std::fs::create_dir_all(&dest).unwrap();
    w.config(
        &format!("url = \"{}\"\ndestination = \"{}\"\nmail = \"ops\"", w.url("dump.zip"), s(&dest)),
        &format!(
            "[mail.ops]\nto = [\"ops@example.org\"]\nfrom = \"parc@example.org\"\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\nuser = \"parc\"\npassword_env = \"PARC_TEST_SMTP\"\nca_file = \"{}\"\n",
            smtp.port,
            s(&w.tls.ca)
        ),
    );
    w.serve_zip("dump.zip", &[("dump.sql", b"mailed")]);
    assert!(w.parc(&["plan", "--now", "2026-11-21T03:00:00+01:00", "-o", "plan.json"]).status.success());
    let out = common::parc()
        .current_dir(w.tmp.path())
        .env("PARC_TEST_SMTP", "mailpw")
        .args(["apply", "--now", "2026-11-21T03:00:00+01:00", "plan.json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(w.run_log()["run"]["mail"], "sent to ops@example.org", "{}", w.run_log());
    let mail = std::fs::read_to_string(inbox.join("1.eml")).unwrap();
    assert!(mail.contains("Subject: [parc] db OK 2026-11-21"), "{mail}");
    assert!(mail.contains("Archived 20261121.tgz"), "{mail}");
    assert!(mail.contains("archive-db-2026-11-21.log"), "the log is attached: {mail}");

    // A wrong password: the run's own result stands, the log says the mail failed.
    w.serve_zip("dump.zip", &[("dump.sql", b"again")]);
    assert!(w.parc(&["plan", "--now", "2026-11-22T03:00:00+01:00", "-o", "plan.json"]).status.success());
    let out = common::parc()
        .current_dir(w.tmp.path())
        .env("PARC_TEST_SMTP", "wrong")
        .args(["apply", "--now", "2026-11-22T03:00:00+01:00", "plan.json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(w.run_log()["run"]["outcome"], "ok");
    assert!(w.run_log()["run"]["mail"].as_str().unwrap().starts_with("not sent: SMTP"), "{}", w.run_log());
}

#[test]
fn retention_reads_names_on_stdin() {
    let input = "20261121.tgz\n20261120.tgz\n20261119.tgz\nnotes.txt\n20261114.tgz\n";
    let out = common::parc()
        .args(["retention", "--keep-daily", "2", "--keep-weekly", "2", "--json"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["keep"][0], serde_json::json!({"name": "20261121.tgz", "reasons": ["keep_daily", "keep_weekly"]}));
    assert_eq!(v["keep"][1]["name"], "20261120.tgz");
    assert_eq!(v["keep"][2], serde_json::json!({"name": "20261114.tgz", "reasons": ["keep_weekly"]}));
    assert_eq!(v["delete"][0]["name"], "20261119.tgz");
    assert_eq!(v["ignored"], serde_json::json!(["notes.txt"]));
    let out = common::parc().args(["retention", "--keep-within", "3d"]).write_stdin(input).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("keep    20261119.tgz  (keep_within 3d)"), "{text}");
    assert!(text.contains("delete  20261114.tgz"), "{text}");
    assert!(text.contains("ignore  notes.txt"), "{text}");
}

/// The example fleet's archive history on the site and in the API: every
/// outcome, the failed step and its cause, the remote archives with the
/// rules that keep them, and the plan.
#[test]
fn the_site_shows_every_run_the_remote_archives_and_the_plan() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("site");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    common::build_cmd(&root.join("snapshots"), &out, &["--no-cache", "--config", &s(&root.join("parc.toml"))])
        .current_dir(tmp.path())
        .assert()
        .success();
    let runs = common::read_json(&out.join("api/v1/archives.json"));
    let runs = runs.as_array().unwrap();
    let outcome = |o: &str| runs.iter().filter(|r| r["outcome"] == o).count();
    assert!(outcome("ok") > 5 && outcome("unchanged") == 1 && outcome("failed") == 2, "{runs:?}");
    let failed: Vec<(&str, &str)> = runs
        .iter()
        .filter(|r| r["outcome"] == "failed")
        .map(|r| (r["failed_step"].as_str().unwrap(), r["cause"].as_str().unwrap()))
        .collect();
    assert!(failed.iter().any(|(step, cause)| *step == "download" && cause.starts_with("HTTP 404")), "{failed:?}");
    assert!(failed.iter().any(|(step, _)| *step == "upload"), "{failed:?}");
    assert!(runs.windows(2).all(|w| w[0]["at"].as_i64() >= w[1]["at"].as_i64()), "newest first");

    let job = common::read_json(&out.join("api/v1/archives/db.json"));
    assert_eq!(job["job"], "db");
    let remote = job["remote"].as_array().unwrap();
    assert!(
        remote
            .iter()
            .any(|a| a["status"] == "kept" && a["reasons"].as_array().unwrap().contains(&"keep_weekly".into())),
        "{remote:?}"
    );
    // The newest good archive is the last good one, and the plan knows it.
    assert_eq!(job["last_good_archive"], remote.iter().find(|a| a["status"] == "kept").unwrap()["name"]);
    assert_eq!(job["plan"]["job"], "db");
    let plan = common::read_json(&out.join("api/v1/plan.json"));
    assert_eq!(plan["schema"], "parc.plan/1");
    assert_eq!(plan["jobs"][0]["inputs"], job["plan"]["inputs"]);

    let page = std::fs::read_to_string(out.join("archives.html")).unwrap();
    assert!(page.contains("HTTP 404 Not Found"), "the cause of a failure is on the page");
    assert!(page.contains("Last good archive"));
    assert!(page.contains("keep_daily"));
}

/// A run written by `parc apply` is a snapshot like any other: the next build shows it.
#[test]
fn a_run_shows_on_the_next_build_and_a_broken_run_log_is_a_problem() {
    let w = World::new();
    let dest = w.path("nas");
    std::fs::create_dir_all(&dest).unwrap();
    w.config(&format!("url = \"{}\"\ndestination = \"{}\"", w.url("missing.zip"), s(&dest)), "");
    assert_eq!(w.run_at("2026-11-21T03:00:00Z").status.code(), Some(5));
    std::fs::create_dir_all(w.path("snapshots/other/archive-x")).unwrap();
    std::fs::write(
        w.path("snapshots/other/archive-x/2026-11-21T000000Z.json"),
        r#"{"schema":"parc.snapshot/1","kind":"archive-x","host":"other","collected_at":"2026-11-21T00:00:00Z","probes":{}}"#,
    )
    .unwrap();
    let out = w.parc(&["build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("archive-x") && stderr(&out).contains("without its run log"), "{}", stderr(&out));
    let runs = common::read_json(&w.path("site/api/v1/archives.json"));
    assert_eq!(runs[0]["job"], "db");
    assert_eq!(runs[0]["failed_step"], "download");
    assert_eq!(runs[0]["host"], "backup1");
}

/// The deployment the user guide describes: cron runs `parc plan && parc
/// apply` as an ordinary user, with no ssh-agent and a bare environment,
/// and SFTP reaches the NAS through that user's own `~/.ssh/config` alias
/// (no identity_file nor known_hosts in parc.toml).
#[test]
fn cron_as_a_plain_user_reaches_sftp_through_its_own_ssh_config() {
    let sshd = common::sshd::Sshd::start();
    let w = World::new();
    let user = common::user::User::create("arch", &w.path("home"));
    user.write(".ssh/nas_key", std::fs::read(sshd.path("id")).unwrap());
    let known = std::fs::read_to_string(sshd.path("known_hosts")).unwrap().replace("[127.0.0.1]", "[nas.lan]");
    user.write(".ssh/known_hosts", known);
    user.write(
        ".ssh/config",
        format!(
            "Host nas.lan\n  HostName 127.0.0.1\n  Port {}\n  User root\n  IdentityFile ~/.ssh/nas_key\n  HostKeyAlias [nas.lan]:{}\n",
            sshd.port, sshd.port
        ),
    );
    let dest = w.path("remote");
    std::fs::create_dir_all(&dest).unwrap();
    let work = w.path("fleet");
    std::fs::create_dir_all(work.join("snapshots")).unwrap();
    std::fs::write(
        work.join("parc.toml"),
        format!(
            "[[archive]]\nname = \"db\"\nurl = \"{}\"\nca_file = \"{}\"\nexpect = \"dump.sql\"\nhost = \"backup1\"\ndestination = \"sftp://nas.lan{}\"\n",
            w.url("dump.zip"),
            s(&w.tls.ca),
            s(&dest)
        ),
    )
    .unwrap();
    user.own(&work);
    std::process::Command::new("chmod").args(["a+r"]).arg(&w.tls.ca).status().unwrap();
    let bin = w.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let parc = bin.join("parc");
    std::fs::copy(assert_cmd::cargo::cargo_bin("parc"), &parc).unwrap();
    w.serve_zip("dump.zip", &[("dump.sql", b"from cron")]);
    let out = user
        .command(
            &work,
            Path::new("/bin/sh"),
            &["-c", &format!("{0} -q plan -o plan.json && {0} -q apply plan.json", s(&parc))],
        )
        .output()
        .unwrap();
    let log = std::fs::read_to_string(work.join("snapshots/backup1/archive-db.log")).unwrap_or_default();
    assert!(out.status.success(), "{}\n{log}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "quiet under cron: {}", String::from_utf8_lossy(&out.stderr));
    let made = names(&dest);
    assert_eq!(made.len(), 1, "{made:?}\n{log}");
    assert_eq!(tar_member(&dest.join(&made[0])).1, "from cron", "{log}");
}

/// `when = "failure"` over SMTPS (implicit TLS): a good run is not mailed,
/// a failed one is, with FAILED in the subject and the cause in the body.
#[test]
fn failures_only_are_mailed_over_implicit_tls() {
    let w = World::new();
    let inbox = w.path("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let smtps =
        Server::start(&w.path("run"), "smtps", &[&s(&inbox), &s(&w.tls.cert), &s(&w.tls.key), "parc", "mailpw"]);
    std::fs::write(w.path("smtp-password"), "mailpw\n").unwrap();
    let dest = w.path("nas");
    std::fs::create_dir_all(&dest).unwrap();
    let mail = format!(
        "[mail.ops]\nto = [\"ops@example.org\", \"boss@example.org\"]\nfrom = \"parc@example.org\"\nwhen = \"failure\"\nattach_log = false\ntransport = \"smtps\"\nhost = \"127.0.0.1\"\nport = {}\nuser = \"parc\"\npassword_file = \"{}\"\nca_file = \"{}\"\n",
        smtps.port,
        s(&w.path("smtp-password")),
        s(&w.tls.ca)
    );
    w.config(&format!("url = \"{}\"\ndestination = \"{}\"\nmail = \"ops\"", w.url("dump.zip"), s(&dest)), &mail);
    w.serve_zip("dump.zip", &[("dump.sql", b"fine")]);
    assert!(w.run_at("2026-11-21T03:00:00Z").status.success());
    assert_eq!(w.run_log()["run"]["mail"], "not sent: when = failure");
    assert!(names(&inbox).is_empty());
    w.config(&format!("url = \"{}\"\ndestination = \"{}\"\nmail = \"ops\"", w.url("gone.zip"), s(&dest)), &mail);
    assert_eq!(w.run_at("2026-11-22T03:00:00Z").status.code(), Some(5));
    assert_eq!(w.run_log()["run"]["mail"], "sent to ops@example.org, boss@example.org");
    let sent = std::fs::read_to_string(inbox.join("1.eml")).unwrap();
    assert!(sent.contains("Subject: [parc] db FAILED 2026-11-22"), "{sent}");
    assert!(sent.contains("It failed at step \"download\"") && sent.contains("HTTP 404 Not Found"), "{sent}");
    assert!(sent.contains("Nothing was deleted."), "{sent}");
}

/// `apply --commit`: the run's snapshot and text log become a commit of the
/// snapshots repository, so git keeps every run.
#[test]
fn apply_commits_the_run_log() {
    let w = World::new();
    let dest = w.path("nas");
    std::fs::create_dir_all(&dest).unwrap();
    common::git(w.tmp.path(), &["init", "-q", "-b", "main"]);
    w.config(&format!("url = \"{}\"\ndestination = \"{}\"", w.url("dump.zip"), s(&dest)), "");
    w.serve_zip("dump.zip", &[("dump.sql", b"committed")]);
    assert!(w.parc(&["plan", "--now", "2026-11-21T03:00:00Z", "-o", "plan.json"]).status.success());
    let out = w.parc(&["apply", "--commit", "--now", "2026-11-21T03:00:00Z", "plan.json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let log = common::git(w.tmp.path(), &["log", "--format=%s", "--name-only", "-1"]);
    assert!(log.starts_with("parc apply: db OK"), "{log}");
    assert!(
        log.contains("snapshots/backup1/archive-db.json") && log.contains("snapshots/backup1/archive-db.log"),
        "{log}"
    );
    assert!(!log.contains("plan.json") && !log.contains("parc.toml"), "only what apply wrote: {log}");
}

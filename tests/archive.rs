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
        std::fs::create_dir_all(tmp.path().join("snapshots")).unwrap();
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

    /// The newest run's snapshot: without `--commit` each run is a dated
    /// pair of files (`archive-db/<time>.json` and `.log`); with it, `archive-db.json`.
    fn newest_run(&self) -> PathBuf {
        newest_run(&self.path("snapshots/backup1"), "archive-db")
    }

    fn run_log(&self) -> Value {
        common::read_json(&self.newest_run())
    }

    fn text_log(&self) -> String {
        std::fs::read_to_string(self.newest_run().with_extension("log")).unwrap()
    }
}

/// The newest run snapshot of `kind` in a host's folder: the dated files
/// `<kind>/<time>[-n].json` (the newest time, then the highest n), else `<kind>.json`.
fn newest_run(host: &Path, kind: &str) -> PathBuf {
    dated_runs(host, kind).pop().unwrap_or_else(|| host.join(format!("{kind}.json")))
}

/// The dated run snapshots of `kind`, oldest first (by time, then by `-n`).
fn dated_runs(host: &Path, kind: &str) -> Vec<PathBuf> {
    let mut dated: Vec<(String, u32, PathBuf)> = std::fs::read_dir(host.join(kind))
        .into_iter()
        .flatten()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            match stem.rsplit_once('-').and_then(|(base, n)| Some((base.to_string(), n.parse().ok()?))) {
                Some((base, n)) => (base, n, p),
                None => (stem, 1, p),
            }
        })
        .collect();
    dated.sort();
    dated.into_iter().map(|(_, _, p)| p).collect()
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

    // A held lock stops a second apply; the file a finished process left does not.
    assert!(w.parc(&["plan", "--now", "2026-11-22T03:00:00Z", "-o", "plan.json"]).status.success());
    let lock = w.path(".parc-cache/apply.lock");
    let held = hold_lock(&lock, "4242 elsewhere");
    let out = w.parc(&["apply", "plan.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("another parc apply is running"), "{}", stderr(&out));
    assert!(stderr(&out).contains("held by process 4242 elsewhere"), "{}", stderr(&out));
    drop(held);
    let out = w.parc(&["apply", "--now", "2026-11-22T03:00:00Z", "plan.json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(lock.exists(), "the lock file stays, unlocked");

    // --dry-run says what it would do and does nothing.
    w.serve_zip("dump.zip", &[("dump.sql", b"two")]);
    assert!(w.parc(&["plan", "--now", "2026-11-23T03:00:00Z", "-o", "plan.json"]).status.success());
    let before = names(&w.path("snapshots/backup1/archive-db"));
    let out = w.parc(&["apply", "--dry-run", "plan.json"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("would fetch"), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(names(&w.path("snapshots/backup1/archive-db")), before);
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
    // No run recorded yet: the plan listed the folder by PROPFIND, and keep_last 1 pruned by DELETE.
    assert_eq!(names(&dav_root.join("db")), ["20261121.tgz"]);
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
        // The plan lists a destination no run recorded: it needs the password too.
        let plan = common::parc()
            .current_dir(w.tmp.path())
            .env("PARC_TEST_FTP", "s3cret")
            .args(["plan", "--now", now, "-o", "plan.json"])
            .output()
            .unwrap();
        assert!(plan.status.success() && !stderr(&plan).contains("could not be listed"), "{}", stderr(&plan));
        let out = common::parc()
            .current_dir(w.tmp.path())
            .env("PARC_TEST_FTP", "s3cret")
            .args(["apply", "--now", now, "plan.json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}\n{}", stderr(&out), w.text_log());
    };
    ftp_run("2026-11-24T03:00:00Z");
    // No run of this destination recorded: the plan listed it over FTPS, keep_last 1 pruned.
    assert_eq!(names(&ftp_root.join("db")), ["20261124.tgz"]);
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
    assert!(outcome("ok") > 5 && outcome("unchanged") >= 1 && outcome("failed") >= 2, "{runs:?}");
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
    let log = std::fs::read_to_string(newest_run(&work.join("snapshots/backup1"), "archive-db").with_extension("log"))
        .unwrap_or_default();
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

fn sha256(path: &Path) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(std::fs::read(path).unwrap());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every run log of the job, oldest first: (outcome, first line of the text log).
fn runs_of(host: &Path) -> Vec<(String, String)> {
    dated_runs(host, "archive-db")
        .iter()
        .map(|p| {
            let log = std::fs::read_to_string(p.with_extension("log")).unwrap();
            (common::read_json(p)["run"]["outcome"].as_str().unwrap().to_string(), log.lines().next().unwrap().into())
        })
        .collect()
}

/// The same day twice at one destination (`folder` is where its files land):
/// the second run, with a changed dump, is refused and the morning's archive
/// keeps its bytes; with `on_existing = "suffix"` it becomes `<day>-2.tgz`.
fn the_days_archive_is_never_overwritten(w: &World, folder: &Path, job: &str, env: &[(&str, &str)]) {
    let parc = |args: &[&str]| {
        let mut cmd = common::parc();
        cmd.current_dir(w.tmp.path()).args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let run = |now: &str| {
        let plan = parc(&["plan", "--now", now, "-o", "plan.json"]);
        assert!(plan.status.success(), "plan: {}", stderr(&plan));
        (plan, parc(&["apply", "--now", now, "plan.json"]))
    };
    w.config(job, "");
    w.serve_zip("dump.zip", &[("dump.sql", b"-- the morning's dump\n")]);
    let (_, out) = run("2026-12-02T03:00:00+01:00");
    assert!(out.status.success(), "{}\n{}", stderr(&out), w.text_log());
    let morning = sha256(&folder.join("20261202.tgz"));

    w.serve_zip("dump.zip", &[("dump.sql", b"-- the afternoon's dump, changed\n")]);
    let (plan, out) = run("2026-12-02T14:00:00+01:00");
    let planned: Value = serde_json::from_slice(&std::fs::read(w.path("plan.json")).unwrap()).unwrap();
    assert_eq!(planned["jobs"][0]["action"], "refuse", "{planned}");
    assert_eq!(planned["jobs"][0]["taken"], "20261202.tgz");
    assert!(stderr(&plan).contains("refuse (20261202.tgz is already at the destination"), "{}", stderr(&plan));
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert_eq!(w.run_log()["run"]["outcome"], "refused");
    assert!(
        w.text_log().starts_with("archive db REFUSED: 20261202.tgz is already at the destination"),
        "{}",
        w.text_log()
    );
    assert_eq!(sha256(&folder.join("20261202.tgz")), morning, "the morning's archive is untouched");

    // on_existing = "suffix": the afternoon's dump is the day's second archive.
    w.config(&format!("{job}\non_existing = \"suffix\""), "");
    let (_, out) = run("2026-12-02T15:00:00+01:00");
    assert!(out.status.success(), "{}\n{}", stderr(&out), w.text_log());
    assert_eq!(w.run_log()["run"]["archive"]["name"], "20261202-2.tgz", "{}", w.text_log());
    assert_eq!(w.run_log()["run"]["last_good"]["archive"], "20261202-2.tgz");
    assert_eq!(tar_member(&folder.join("20261202-2.tgz")).1, "-- the afternoon's dump, changed\n");
    assert_eq!(sha256(&folder.join("20261202.tgz")), morning, "the morning's archive is untouched");
    let log = w.run_log();
    let listed: Vec<&str> =
        log["run"]["kept"].as_array().unwrap().iter().map(|k| k["name"].as_str().unwrap()).collect();
    assert_eq!(listed, ["20261202-2.tgz", "20261202.tgz"], "both kept, the suffixed one the newer");

    // A name taken after the plan was made: the destination is asked again before anything is
    // written, and the run is suffixed, or refused.
    let taken_after_the_plan = |now: &str, name: &str| {
        assert!(parc(&["plan", "--now", now, "-o", "plan.json"]).status.success());
        std::fs::write(folder.join(name), "put there by hand").unwrap();
        let out = parc(&["apply", "--now", now, "plan.json"]);
        assert_eq!(std::fs::read_to_string(folder.join(name)).unwrap(), "put there by hand");
        out
    };
    w.serve_zip("dump.zip", &[("dump.sql", b"-- the next day's dump\n")]);
    let out = taken_after_the_plan("2026-12-03T03:00:00+01:00", "20261203.tgz");
    assert!(out.status.success(), "{}\n{}", stderr(&out), w.text_log());
    assert_eq!(w.run_log()["run"]["archive"]["name"], "20261203-2.tgz", "{}", w.text_log());
    w.config(job, "");
    w.serve_zip("dump.zip", &[("dump.sql", b"-- the day after's dump\n")]);
    let out = taken_after_the_plan("2026-12-04T03:00:00+01:00", "20261204.tgz");
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let refused = w.run_log();
    assert_eq!((&refused["run"]["outcome"], &refused["run"]["failed_step"]), (&"refused".into(), &"reach".into()));
    assert!(!folder.join("20261204-2.tgz").exists());
    assert!(names(folder).iter().all(|n| !n.ends_with(".part")), "{:?}", names(folder));
}

#[test]
fn a_second_run_the_same_day_never_overwrites_a_local_archive() {
    let w = World::new();
    let dest = w.path("nas");
    std::fs::create_dir_all(&dest).unwrap();
    let job = format!("url = \"{}\"\ndestination = \"{}\"\nkeep_last = 5", w.url("dump.zip"), s(&dest));
    the_days_archive_is_never_overwritten(&w, &dest, &job, &[]);
}

#[test]
fn a_second_run_the_same_day_never_overwrites_an_sftp_archive() {
    let sshd = common::sshd::Sshd::start();
    let w = World::new();
    let dest = w.path("remote");
    std::fs::create_dir_all(&dest).unwrap();
    let job = format!(
        "url = \"{}\"\ndestination = \"sftp://root@127.0.0.1:{}{}\"\nidentity_file = \"{}\"\nknown_hosts = \"{}\"\nkeep_last = 5",
        w.url("dump.zip"),
        sshd.port,
        s(&dest),
        s(&sshd.path("id")),
        s(&sshd.path("known_hosts"))
    );
    the_days_archive_is_never_overwritten(&w, &dest, &job, &[]);
}

#[test]
fn a_second_run_the_same_day_never_overwrites_a_webdav_or_ftps_archive() {
    let w = World::new();
    let dav_root = w.path("dav");
    std::fs::create_dir_all(dav_root.join("db")).unwrap();
    let dav = Server::start(&w.path("run"), "webdav", &[&s(&dav_root), "parc", "s3cret"]);
    std::fs::write(w.path("dav-password"), "s3cret\n").unwrap();
    let job = format!(
        "url = \"{}\"\ndestination = \"webdav://127.0.0.1:{}/dav/db\"\nuser = \"parc\"\npassword_file = \"{}\"\nkeep_last = 5",
        w.url("dump.zip"),
        dav.port,
        s(&w.path("dav-password"))
    );
    the_days_archive_is_never_overwritten(&w, &dav_root.join("db"), &job, &[]);

    let w = World::new();
    let ftp_root = w.path("ftp");
    std::fs::create_dir_all(ftp_root.join("db")).unwrap();
    let ftps =
        Server::start(&w.path("run"), "ftps", &[&s(&ftp_root), &s(&w.tls.cert), &s(&w.tls.key), "parc", "s3cret"]);
    let job = format!(
        "url = \"{}\"\ndestination = \"ftps://parc@127.0.0.1:{}/db\"\npassword_env = \"PARC_TEST_FTP\"\nkeep_last = 5",
        w.url("dump.zip"),
        ftps.port
    );
    the_days_archive_is_never_overwritten(&w, &ftp_root.join("db"), &job, &[("PARC_TEST_FTP", "s3cret")]);
}

/// A mistyped `--snapshots` is an error for `plan` and `apply`, never a first
/// run; a destination that holds archives while the snapshots hold no run of
/// the job is planned with what it holds.
#[test]
fn a_missing_snapshots_folder_is_an_error_and_an_unrecorded_destination_is_listed() {
    let w = World::new();
    let dest = w.path("nas");
    std::fs::create_dir_all(&dest).unwrap();
    for old in ["20261130.tgz", "20261201.tgz", "20261202.tgz"] {
        std::fs::write(dest.join(old), old).unwrap();
    }
    w.config(&format!("url = \"{}\"\ndestination = \"{}\"\nkeep_last = 2", w.url("dump.zip"), s(&dest)), "");
    w.serve_zip("dump.zip", &[("dump.sql", b"a dump")]);
    let out = w.parc(&["plan", "--snapshots", "nope-dir", "--now", "2026-12-02T14:00:00Z", "-o", "plan.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot open snapshots folder nope-dir"), "{}", stderr(&out));
    assert!(!w.path("plan.json").exists());

    // The snapshots hold no run: the destination's own listing is the plan's.
    assert!(w.parc(&["plan", "--now", "2026-12-02T14:00:00Z", "-o", "plan.json"]).status.success());
    let plan: Value = serde_json::from_slice(&std::fs::read(w.path("plan.json")).unwrap()).unwrap();
    let job = &plan["jobs"][0];
    assert_eq!(job["listed_from"], "destination", "{job}");
    assert_eq!(job["listing"].as_array().unwrap().len(), 3, "{job}");
    assert_eq!(job["action"], "refuse", "today's name is taken: {job}");
    let out = w.parc(&["apply", "--snapshots", "nope-dir", "--now", "2026-12-02T14:00:00Z", "plan.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot open snapshots folder nope-dir"), "{}", stderr(&out));
    assert!(!w.path("nope-dir").exists(), "the mistyped folder is not made");
    assert_eq!(std::fs::read_to_string(dest.join("20261202.tgz")).unwrap(), "20261202.tgz");

    // The next day: a run, and retention over what the destination holds.
    assert!(w.parc(&["plan", "--now", "2026-12-03T03:00:00Z", "-o", "plan.json"]).status.success());
    let plan: Value = serde_json::from_slice(&std::fs::read(w.path("plan.json")).unwrap()).unwrap();
    let deleted: Vec<&str> = plan["jobs"][0]["retention"]["delete"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!((plan["jobs"][0]["action"].as_str(), deleted), (Some("run"), vec!["20261201.tgz", "20261130.tgz"]));
    let out = w.parc(&["apply", "--now", "2026-12-03T03:00:00Z", "plan.json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(names(&dest), ["20261202.tgz", "20261203.tgz"]);
}

/// A panic inside parc after the upload (a failpoint of debug builds) still
/// writes the run's log with its cause, and the archive that arrived stays.
#[test]
fn a_panic_in_apply_still_writes_the_runs_log() {
    let w = World::new();
    let dest = w.path("nas");
    std::fs::create_dir_all(&dest).unwrap();
    w.config(&format!("url = \"{}\"\ndestination = \"{}\"", w.url("dump.zip"), s(&dest)), "");
    w.serve_zip("dump.zip", &[("dump.sql", b"x")]);
    assert!(w.parc(&["plan", "--now", "2026-12-02T03:00:00Z", "-o", "plan.json"]).status.success());
    let out = common::parc()
        .current_dir(w.tmp.path())
        .env("PARC_FAILPOINT", "archive-uploaded")
        .args(["apply", "--now", "2026-12-02T03:00:00Z", "plan.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let run = &w.run_log()["run"];
    assert_eq!((&run["outcome"], &run["failed_step"]), (&"failed".into(), &"upload".into()), "{run}");
    assert!(run["cause"].as_str().unwrap().contains("parc panicked: failpoint archive-uploaded"), "{run}");
    assert!(w.text_log().starts_with("archive db FAILED at upload: parc panicked"), "{}", w.text_log());
    assert_eq!(names(&dest), ["20261202.tgz"]);
}

/// Retention run as a user who may delete some archives of a sticky folder
/// and not one that root owns: every deletion done is recorded, the one that
/// failed is named with its cause, the rest are listed as not attempted.
#[test]
fn a_partly_failed_prune_records_each_deletion_done() {
    let w = World::new();
    let user = common::user::User::create("prune", &w.path("home"));
    let dest = w.path("nas");
    std::fs::create_dir_all(&dest).unwrap();
    std::process::Command::new("chmod").arg("1777").arg(&dest).status().unwrap();
    for day in ["01", "02", "03", "04", "05"] {
        let file = dest.join(format!("202611{day}.tgz"));
        std::fs::write(&file, day).unwrap();
        if day != "02" {
            user.own(&file);
        }
    }
    let work = w.path("fleet");
    std::fs::create_dir_all(work.join("snapshots")).unwrap();
    std::fs::write(
        work.join("parc.toml"),
        format!(
            "[[archive]]\nname = \"db\"\nurl = \"{}\"\nca_file = \"{}\"\nexpect = \"dump.sql\"\nhost = \"backup1\"\ndestination = \"{}\"\nkeep_last = 1\n",
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
    std::fs::copy(assert_cmd::cargo::cargo_bin("parc"), bin.join("parc")).unwrap();
    w.serve_zip("dump.zip", &[("dump.sql", b"today")]);
    let script = format!(
        "{0} plan --now 2026-11-21T03:00:00Z -o plan.json && {0} apply --now 2026-11-21T03:00:00Z plan.json",
        s(&bin.join("parc"))
    );
    let out = user.command(&work, Path::new("/bin/sh"), &["-c", &script]).output().unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", String::from_utf8_lossy(&out.stderr));
    let host = work.join("snapshots/backup1");
    let run = common::read_json(&newest_run(&host, "archive-db"))["run"].clone();
    let names_of = |v: &Value| -> Vec<String> {
        v.as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!((&run["outcome"], &run["failed_step"]), (&"failed".into(), &"retention".into()), "{run}");
    assert_eq!(names_of(&run["deleted"]), ["20261105.tgz", "20261104.tgz", "20261103.tgz"], "{run}");
    assert_eq!(run["delete_failed"]["name"], "20261102.tgz", "{run}");
    assert!(run["delete_failed"]["cause"].as_str().unwrap().contains("ermi"), "{run}");
    assert_eq!(names_of(&run["not_attempted"]), ["20261101.tgz"], "{run}");
    assert_eq!(run["last_good"]["archive"], "20261121.tgz");
    let log = std::fs::read_to_string(newest_run(&host, "archive-db").with_extension("log")).unwrap();
    assert!(
        log.contains("retention: deleted 3 20261105.tgz 20261104.tgz 20261103.tgz, then failed on 20261102.tgz"),
        "{log}"
    );
    assert!(log.contains("FAILED to delete 20261102.tgz") && log.contains("not attempted 20261101.tgz"), "{log}");
    assert!(!log.contains("nothing was deleted"), "{log}");
    assert_eq!(names(&dest), ["20261101.tgz", "20261102.tgz", "20261121.tgz"]);
}

/// A stale plan, a held lock, a configuration error and a skip each leave a
/// run log with the cause in its first line; the refusals are mailed under
/// `when = "failure"`, the skip is not; and none makes the next plan stale.
#[test]
fn refused_and_skipped_runs_leave_a_log_and_refusals_are_mailed() {
    let w = World::new();
    let inbox = w.path("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let smtp = Server::start(&w.path("run"), "smtp", &[&s(&inbox), &s(&w.tls.cert), &s(&w.tls.key), "parc", "mailpw"]);
    std::fs::write(w.path("smtp-password"), "mailpw\n").unwrap();
    let dest = w.path("nas");
    std::fs::create_dir_all(&dest).unwrap();
    let mail = format!(
        "[mail.ops]\nto = [\"ops@example.org\"]\nfrom = \"parc@example.org\"\nwhen = \"failure\"\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\nuser = \"parc\"\npassword_file = \"{}\"\nca_file = \"{}\"\n",
        smtp.port,
        s(&w.path("smtp-password")),
        s(&w.tls.ca)
    );
    let job = format!(
        "url = \"{}\"\ndestination = \"{}\"\nmail = \"ops\"\nmin_interval = \"20h\"",
        w.url("dump.zip"),
        s(&dest)
    );
    w.config(&job, &mail);
    w.serve_zip("dump.zip", &[("dump.sql", b"one")]);
    let host = w.path("snapshots/backup1");
    let mails = || names(&inbox).len();

    assert!(w.parc(&["plan", "--now", "2026-12-01T03:00:00Z", "-o", "old.json"]).status.success());
    assert!(w.parc(&["apply", "--now", "2026-12-01T03:00:00Z", "old.json"]).status.success());
    assert_eq!(mails(), 0, "an OK run is not mailed under when = failure");

    // A stale plan.
    let out = w.parc(&["apply", "--now", "2026-12-01T05:00:00Z", "old.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("the plan is stale"), "{}", stderr(&out));
    assert!(w.text_log().starts_with("archive db REFUSED: the plan is stale: job db ran at"), "{}", w.text_log());
    assert_eq!(w.run_log()["run"]["mail"], "sent to ops@example.org");
    let sent = std::fs::read_to_string(inbox.join("1.eml")).unwrap();
    assert!(sent.contains("Subject: [parc] db REFUSED 2026-12-01") && sent.contains("It was refused"), "{sent}");

    // A held lock.
    assert!(w.parc(&["plan", "--now", "2026-12-02T03:00:00Z", "-o", "plan.json"]).status.success());
    let held = hold_lock(&w.path(".parc-cache/apply.lock"), "1 host");
    let out = w.parc(&["apply", "--now", "2026-12-02T03:00:00Z", "plan.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(w.text_log().starts_with("archive db REFUSED: another parc apply is running"), "{}", w.text_log());
    assert_eq!(mails(), 2);
    drop(held);

    // A configuration that cannot be read: the plan's jobs are recorded all the same.
    let good = std::fs::read_to_string(w.path("parc.toml")).unwrap();
    std::fs::write(w.path("parc.toml"), format!("{good}\n[[archive]\n")).unwrap();
    let out = w.parc(&["apply", "--now", "2026-12-02T03:00:00Z", "plan.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(w.text_log().starts_with("archive db REFUSED: "), "{}", w.text_log());
    assert!(w.text_log().lines().next().unwrap().contains("parc.toml"), "{}", w.text_log());
    assert_eq!(w.run_log()["run"]["mail"], "not sent: the configuration could not be read");
    std::fs::write(w.path("parc.toml"), good).unwrap();

    // The refusals changed nothing a plan is made from: the same plan still holds, and runs.
    w.serve_zip("dump.zip", &[("dump.sql", b"two")]);
    let out = w.parc(&["apply", "--now", "2026-12-02T03:00:00Z", "plan.json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(w.run_log()["run"]["outcome"], "ok");

    // A skip: logged with its cause, not mailed.
    assert!(w.run_at("2026-12-02T09:00:00Z").status.success());
    assert!(w.text_log().starts_with("archive db SKIPPED: the last good run"), "{}", w.text_log());
    assert_eq!(w.run_log()["run"]["mail"], "not sent: when = failure");
    assert_eq!(mails(), 2);
    let outcomes: Vec<String> = runs_of(&host).into_iter().map(|(o, _)| o).collect();
    assert_eq!(outcomes, ["ok", "refused", "refused", "refused", "ok", "skipped"]);
}

/// Outside git, each run is a dated pair of files that no later run replaces.
#[test]
fn without_git_every_run_keeps_its_own_log() {
    let w = World::new();
    let dest = w.path("nas");
    std::fs::create_dir_all(&dest).unwrap();
    w.config(&format!("url = \"{}\"\ndestination = \"{}\"", w.url("dump.zip"), s(&dest)), "");
    w.serve_zip("dump.zip", &[("dump.sql", b"one")]);
    assert!(w.run_at("2026-12-01T03:00:00+01:00").status.success());
    let first = w.newest_run();
    let bytes = std::fs::read(&first).unwrap();
    w.serve_zip("dump.zip", &[("dump.sql", b"two")]);
    assert!(w.run_at("2026-12-02T03:00:00+01:00").status.success());
    assert_eq!(
        names(&w.path("snapshots/backup1/archive-db")),
        ["2026-12-01T020000Z.json", "2026-12-01T020000Z.log", "2026-12-02T020000Z.json", "2026-12-02T020000Z.log"]
    );
    assert_eq!(std::fs::read(&first).unwrap(), bytes);
    assert!(!w.path("snapshots/backup1/archive-db.json").exists());
    // The build reads them as the job's two runs.
    assert!(w.parc(&["build"]).status.success());
    assert_eq!(common::read_json(&w.path("site/api/v1/archives.json")).as_array().unwrap().len(), 2);
}

/// Each transport's rename refuses a name that is taken (the last guard, when
/// a file arrives between the listing and the rename).
#[test]
fn no_transport_renames_over_an_archive() {
    let sshd = common::sshd::Sshd::start();
    let w = World::new();
    let dav_root = w.path("dav");
    let ftp_root = w.path("ftp");
    let sftp_root = w.path("sftp");
    for d in [dav_root.join("db"), ftp_root.join("db"), sftp_root.clone()] {
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("20261202.tgz"), "the morning's").unwrap();
    }
    let dav = Server::start(&w.path("run"), "webdav", &[&s(&dav_root), "parc", "s3cret"]);
    let ftps =
        Server::start(&w.path("run"), "ftps", &[&s(&ftp_root), &s(&w.tls.cert), &s(&w.tls.key), "parc", "s3cret"]);
    std::fs::write(w.path("password"), "s3cret\n").unwrap();
    let file = w.path("afternoon.tgz");
    std::fs::write(&file, "the afternoon's").unwrap();
    for (destination, folder) in [
        (format!("sftp://root@127.0.0.1:{}{}", sshd.port, s(&sftp_root)), sftp_root.clone()),
        (format!("webdav://127.0.0.1:{}/dav/db", dav.port), dav_root.join("db")),
        (format!("ftps://parc@127.0.0.1:{}/db", ftps.port), ftp_root.join("db")),
        (s(&w.path("sftp")), sftp_root.clone()),
    ] {
        let job: parc::config::archive::ArchiveJob = toml::from_str(&format!(
            "name = \"db\"\nurl = \"https://x/d.zip\"\nexpect = \"d\"\ndestination = \"{destination}\"\nuser = \"parc\"\npassword_file = \"{}\"\nca_file = \"{}\"\nidentity_file = \"{}\"\nknown_hosts = \"{}\"\n",
            s(&w.path("password")),
            s(&w.tls.ca),
            s(&sshd.path("id")),
            s(&sshd.path("known_hosts"))
        ))
        .unwrap();
        let mut t = parc::archive::destination::open(&job).unwrap();
        t.check().unwrap();
        t.put(&file, ".20261202.tgz.part").unwrap();
        let err = t.rename(".20261202.tgz.part", "20261202.tgz").unwrap_err();
        assert!(err.is::<parc::archive::destination::Taken>(), "{destination}: {err:#}");
        assert_eq!(std::fs::read_to_string(folder.join("20261202.tgz")).unwrap(), "the morning's", "{destination}");
        t.rename(".20261202.tgz.part", "20261202-2.tgz").unwrap();
        assert_eq!(std::fs::read_to_string(folder.join("20261202-2.tgz")).unwrap(), "the afternoon's");
        std::fs::remove_file(folder.join("20261202-2.tgz")).unwrap();
    }
}

/// Holds `parc apply`'s lock from this test process, as a running apply
/// would (the kernel's lock, on a file that names its holder).
fn hold_lock(path: &Path, owner: &str) -> std::fs::File {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, owner).unwrap();
    let file = std::fs::File::open(path).unwrap();
    file.try_lock().unwrap();
    file
}

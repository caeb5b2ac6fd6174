//! Helpers for the integration tests: fixture fleets made of real corpus
//! outputs wrapped in snapshot envelopes, and the parc binary.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::path::{Path, PathBuf};

pub fn corpus(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus").join(rel)).unwrap()
}

pub fn corpus_json(rel: &str) -> Value {
    serde_json::from_str(&corpus(rel)).unwrap()
}

pub fn parc() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("parc").unwrap()
}

pub fn probe(out: Value) -> Value {
    json!({"cmd": "test", "exit": 0, "out": out})
}

pub fn envelope(kind: &str, host: &str, at: &str, probes: Value) -> Value {
    json!({"schema": "parc.snapshot/1", "kind": kind, "host": host, "collected_at": at,
           "agent": {"version": "test", "mode": "local"}, "probes": probes})
}

/// A smartctl output from the corpus with its serial, WWN id and a raw
/// reallocated count set, so one real drive can play several.
pub fn drive(template: &str, serial: &str, realloc: Option<u64>) -> Value {
    let mut v = corpus_json(&format!("smartctl/{template}"));
    v["serial_number"] = json!(serial);
    if let Some(w) = v.get_mut("wwn") {
        w["id"] = json!(serial.bytes().map(u64::from).sum::<u64>());
    }
    if let (Some(n), Some(table)) =
        (realloc, v.pointer_mut("/ata_smart_attributes/table").and_then(Value::as_array_mut))
    {
        for a in table.iter_mut().filter(|a| a["id"] == 5) {
            a["raw"] = json!({"value": n, "string": n.to_string()});
        }
    }
    v
}

/// A `disks` envelope: lsblk lists each drive by name, smartctl reports it.
pub fn disks(host: &str, at: &str, drives: &[(&str, Value)], homes: &str) -> Value {
    let blocks: Vec<Value> = drives
        .iter()
        .map(|(name, smart)| {
            json!({"name": name, "type": "disk", "size": smart["user_capacity"]["bytes"], "model": smart["model_name"],
                   "serial": smart["serial_number"], "rota": true,
                   "children": [{"name": format!("{name}1"), "type": "part", "size": 1000, "mountpoint": if *name == "sda" { Some("/") } else { None::<&str> }}]})
        })
        .collect();
    let mut probes = serde_json::Map::new();
    probes.insert("lsblk".into(), probe(json!({"blockdevices": blocks})));
    for (name, smart) in drives {
        let mut smart = smart.clone();
        smart["device"]["name"] = json!(format!("/dev/{name}"));
        probes.insert(format!("smartctl:/dev/{name}"), probe(smart));
    }
    probes.insert("home".into(), probe(json!(homes)));
    envelope("disks", host, at, Value::Object(probes))
}

pub fn system(host: &str, at: &str) -> Value {
    envelope(
        "system",
        host,
        at,
        json!({
            "os-release": probe(json!("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n")),
            "hostname": probe(json!(format!("{host}\n"))),
            "uname": probe(json!("Linux 6.1.0-27-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1 x86_64\n")),
            "boot_id": probe(json!("6a1e2c4e-1b7f-4d55-9a43-0c1c5e0d9e11\n")),
            "uptime": probe(json!("86400.00 172000.00\n")),
        }),
    )
}

/// Writes a dated snapshot file `<dir>/<host>/<kind>/<at>.json`.
pub fn write_dated(dir: &Path, host: &str, snapshot: &Value) -> PathBuf {
    let kind = snapshot["kind"].as_str().unwrap();
    let at = snapshot["collected_at"].as_str().unwrap().replace(':', "");
    let path = dir.join(host).join(kind).join(format!("{at}.json"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, serde_json::to_vec_pretty(snapshot).unwrap()).unwrap();
    path
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn read_json(path: &Path) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every file under `dir`, relative, sorted.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().strip_prefix(dir).unwrap().to_path_buf())
        .collect();
    files.sort();
    files
}

/// Two sites are the same files with the same bytes (`step` names the case).
pub fn assert_same_site(ours: &Path, fresh: &Path, step: &str) {
    let theirs = files(fresh);
    assert_eq!(files(ours), theirs, "{step}: the same files");
    for f in &theirs {
        let (a, b) = (std::fs::read(ours.join(f)).unwrap(), std::fs::read(fresh.join(f)).unwrap());
        assert!(a == b, "{step}: {} differs from a build from scratch", f.display());
    }
}

/// `parc build [flags] --snapshots SNAPS --out OUT`, run from SNAPS's parent folder.
pub fn build_cmd(snapshots: &Path, out: &Path, flags: &[&str]) -> assert_cmd::Command {
    let mut cmd = parc();
    cmd.current_dir(snapshots.parent().unwrap())
        .arg("build")
        .args(flags)
        .arg("--snapshots")
        .arg(snapshots)
        .arg("--out")
        .arg(out);
    cmd
}

/// Builds the example fleet in `snapshots/` into `out`, from `out`'s parent
/// folder so that the parse cache lands there, not in the repository.
pub fn build_example(out: &Path) {
    let snapshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    build_cmd(&snapshots, out, &["--no-cache"]).current_dir(out.parent().unwrap()).assert().success();
}

pub mod debian;
pub mod http;
pub mod proxy;
pub mod server;
pub mod sshd;
pub mod tls;

/// `git ARGS` in `dir`, with an identity and `main` as the first branch; its stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=agent", "-c", "user.email=agent@localhost", "-c", "init.defaultBranch=main"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `DIR/fleet.git`, a bare repository whose `main` holds one commit
/// (`snapshots/README`), as a fleet's git server would.
pub fn bare_remote(dir: &Path) -> PathBuf {
    let remote = dir.join("fleet.git");
    git(dir, &["init", "-q", "--bare", remote.to_str().unwrap()]);
    let seed = dir.join("seed");
    git(dir, &["clone", "-q", remote.to_str().unwrap(), seed.to_str().unwrap()]);
    std::fs::create_dir_all(seed.join("snapshots")).unwrap();
    std::fs::write(seed.join("snapshots/README"), "one folder per host\n").unwrap();
    git(&seed, &["add", "-A"]);
    git(&seed, &["commit", "-q", "-m", "start"]);
    git(&seed, &["push", "-q", "origin", "main"]);
    remote
}

/// Removes a file or folder when dropped, even when the test fails.
pub struct RemoveOnDrop(pub PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0).or_else(|_| std::fs::remove_file(&self.0));
    }
}
pub mod user;

/// A pipe whose reading end is already closed: every write to it fails
/// with EPIPE, as when `parc … | head` has read what it wanted.
pub fn closed_pipe() -> std::process::Stdio {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    unsafe {
        libc::close(fds[0]);
        std::process::Stdio::from(std::os::fd::OwnedFd::from_raw_fd(fds[1]))
    }
}

/// Installs the root wrapper where the README puts it, from
/// `parc probe-script --sudo-wrapper` (atomically: tests run side by side).
pub fn install_sudo_wrapper() -> PathBuf {
    let path = PathBuf::from("/usr/local/sbin/parc-root");
    let script = parc().args(["probe-script", "--sudo-wrapper"]).output().unwrap().stdout;
    let mut tmp = tempfile::NamedTempFile::new_in(path.parent().unwrap()).unwrap();
    std::io::Write::write_all(&mut tmp, &script).unwrap();
    std::fs::set_permissions(tmp.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    tmp.persist(&path).unwrap();
    path
}

/// A single-quoted shell word.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

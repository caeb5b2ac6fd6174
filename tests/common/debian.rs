//! A real Debian 12 host for the APT tests: the root `make test-deps` builds
//! with mmdebstrap, seen through an overlay of its own, run in its own PID,
//! mount, UTS and IPC namespaces with its own sshd on a loopback port. Its
//! only package source is a local repository of packages the test builds
//! with `dpkg-deb`. A "reboot" ends the namespace (its PID 1 exits when
//! `/run/reboot-now` appears, and `/run` is a fresh tmpfs at each boot) and
//! starts it again with a new PID 1. Stopped and unmounted when dropped.

use super::sshd::free_port;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where `make test-deps` builds the root (its name changes with its package list).
pub const ROOT: &str = "/var/cache/parc-test/bookworm-3";

/// PID 1 of the host: a fresh /run, sshd, then wait for a reboot.
const INIT: &str = "mount -t tmpfs tmpfs /run && mkdir -p /run/sshd && \
    /usr/sbin/sshd -D -e -f /etc/ssh/sshd_parc 2>>/var/log/sshd-parc.log & \
    while [ ! -e /run/reboot-now ]; do sleep 0.1; done";

pub struct DebianHost {
    pub name: String,
    dir: tempfile::TempDir,
    pub port: u16,
    /// The root as the host sees it (the overlay's merged folder).
    pub root: PathBuf,
    stop: Arc<AtomicBool>,
    /// A host that does not come back after its next reboot.
    down: Arc<AtomicBool>,
    child: Arc<Mutex<Option<Child>>>,
    keeper: Option<std::thread::JoinHandle<()>>,
}

/// A package the tests build: name, version, what else goes in its control
/// file, and the files it installs (those under /etc are its conffiles;
/// `DEBIAN/preinst` and the like are its maintainer scripts).
pub struct Deb<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub control: &'a str,
    pub files: &'a [(&'a str, &'a str)],
}

/// Builds `debs` into `repo` (a flat repository `apt` reads with `[trusted=yes]`).
pub fn repository(repo: &Path, debs: &[Deb]) {
    std::fs::create_dir_all(repo).unwrap();
    for deb in debs {
        let build = tempfile::tempdir().unwrap();
        let control = build.path().join("DEBIAN");
        std::fs::create_dir_all(&control).unwrap();
        std::fs::write(
            control.join("control"),
            format!(
                "Package: {}\nVersion: {}\nArchitecture: all\nMaintainer: parc tests <tests@example.org>\n{}Description: a package of the parc tests\n",
                deb.name, deb.version, deb.control
            ),
        )
        .unwrap();
        let mut conffiles = String::new();
        for (path, text) in deb.files {
            let target = build.path().join(path.trim_start_matches('/'));
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::write(&target, text).unwrap();
            if path.starts_with("/etc/") {
                conffiles.push_str(&format!("{path}\n"));
            }
            // A maintainer script (`DEBIAN/preinst`, …) must be executable.
            if path.starts_with("DEBIAN/") {
                assert!(Command::new("chmod").arg("755").arg(&target).status().unwrap().success());
            }
        }
        if !conffiles.is_empty() {
            std::fs::write(control.join("conffiles"), conffiles).unwrap();
        }
        let file = repo.join(format!("{}_{}_all.deb", deb.name, deb.version));
        let out = Command::new("dpkg-deb")
            .args(["--build", "--root-owner-group"])
            .arg(build.path())
            .arg(&file)
            .output()
            .unwrap();
        assert!(out.status.success(), "dpkg-deb: {}", String::from_utf8_lossy(&out.stderr));
    }
    let index = Command::new("dpkg-scanpackages").args(["--multiversion", "."]).current_dir(repo).output().unwrap();
    assert!(index.status.success(), "dpkg-scanpackages: {}", String::from_utf8_lossy(&index.stderr));
    std::fs::write(repo.join("Packages"), index.stdout).unwrap();
}

/// Makes `repo` an archive of `label` and `suite` (as Debian's security
/// archive is `Debian-Security`, `bookworm-security`): a Release file
/// naming its `Packages` with its SHA-256.
pub fn release(repo: &Path, label: &str, suite: &str) {
    use sha2::{Digest, Sha256};
    let packages = std::fs::read(repo.join("Packages")).unwrap();
    let text = format!(
        "Origin: Debian\nLabel: {label}\nSuite: {suite}\nCodename: {suite}\nDate: Sat, 21 Nov 2026 00:00:00 UTC\n\
         Architectures: all\nSHA256:\n {} {} Packages\n",
        hex::encode(Sha256::digest(&packages)),
        packages.len()
    );
    std::fs::write(repo.join("Release"), text).unwrap();
}

impl DebianHost {
    /// A host named `name` whose only source is `repo`, with `installed` (file names in `repo`) installed.
    pub fn start(name: &str, repo: &Path, installed: &[&str]) -> DebianHost {
        DebianHost::start_with(name, &[repo], installed)
    }

    /// A host that looks like a virtual machine: a boot id of its own at
    /// each boot (bound over the kernel's), not its container host's.
    pub fn start_vm(name: &str, repo: &Path, installed: &[&str]) -> DebianHost {
        DebianHost::start_as(name, &[repo], installed, true)
    }

    /// A host whose sources are `repos`, with `installed` (file names in any of them) installed.
    pub fn start_with(name: &str, repos: &[&Path], installed: &[&str]) -> DebianHost {
        DebianHost::start_as(name, repos, installed, false)
    }

    fn start_as(name: &str, repos: &[&Path], installed: &[&str], vm: bool) -> DebianHost {
        assert!(Path::new(ROOT).is_dir(), "{ROOT} is missing: `make test-deps` builds it");
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let root = d.join("merged");
        for sub in ["upper", "work", "merged"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        let lower =
            format!("lowerdir={ROOT},upperdir={},workdir={}", d.join("upper").display(), d.join("work").display());
        let ok = Command::new("mount").args(["-t", "overlay", "overlay", "-o", &lower]).arg(&root).status().unwrap();
        assert!(ok.success(), "mount the overlay");
        let port = free_port();
        keygen(&d.join("id"));
        keygen(&root.join("etc/ssh/parc_host_key"));
        std::fs::create_dir_all(root.join("root/.ssh")).unwrap();
        std::fs::copy(d.join("id.pub"), root.join("root/.ssh/authorized_keys")).unwrap();
        std::fs::write(
            root.join("etc/ssh/sshd_parc"),
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey /etc/ssh/parc_host_key\nPermitRootLogin prohibit-password\n\
                 PasswordAuthentication no\nUsePAM no\nPidFile /run/sshd-parc.pid\n"
            ),
        )
        .unwrap();
        let host_key = std::fs::read_to_string(root.join("etc/ssh/parc_host_key.pub")).unwrap();
        let key: Vec<&str> = host_key.split_whitespace().take(2).collect();
        std::fs::write(d.join("known_hosts"), format!("[127.0.0.1]:{port} {}\n", key.join(" "))).unwrap();
        std::fs::write(root.join("etc/hostname"), format!("{name}\n")).unwrap();
        // The host's reboot: its PID 1 ends, and the test starts it again.
        let reboot = root.join("usr/sbin/reboot");
        std::fs::write(&reboot, "#!/bin/sh\ntouch /run/reboot-now\n").unwrap();
        assert!(Command::new("chmod").arg("755").arg(&reboot).status().unwrap().success());
        // No network: the local repositories are the only sources.
        let _ = std::fs::remove_file(root.join("etc/apt/sources.list"));
        let _ = std::fs::remove_dir_all(root.join("etc/apt/sources.list.d"));
        std::fs::create_dir_all(root.join("etc/apt/sources.list.d")).unwrap();
        let mut sources = String::new();
        for (i, repo) in repos.iter().enumerate() {
            copy_dir(repo, &root.join(format!("srv/repo{i}")));
            sources.push_str(&format!("deb [trusted=yes] file:/srv/repo{i} ./\n"));
        }
        std::fs::write(root.join("etc/apt/sources.list.d/parc-tests.list"), sources).unwrap();
        let mut host = DebianHost {
            name: name.into(),
            dir,
            port,
            root,
            stop: Arc::new(AtomicBool::new(false)),
            down: Arc::new(AtomicBool::new(false)),
            child: Arc::new(Mutex::new(None)),
            keeper: None,
        };
        host.boot_keeper(vm);
        host.wait_for_ssh();
        let install: Vec<String> = installed.iter().map(|f| format!("/srv/repo*/{f}")).collect();
        let script = format!(
            "apt-get -qq update && {}",
            if install.is_empty() { "true".into() } else { format!("dpkg -i {}", install.join(" ")) }
        );
        let out = host.ssh(&script);
        assert!(out.status.success(), "setting up {name}: {}", String::from_utf8_lossy(&out.stderr));
        host
    }

    /// Starts PID 1, and again each time it ends (a reboot), until dropped.
    fn boot_keeper(&mut self, vm: bool) {
        let (stop, down, child) = (self.stop.clone(), self.down.clone(), self.child.clone());
        let (root, name) = (self.root.clone(), self.name.clone());
        *child.lock().unwrap() = Some(boot(&root, &name, vm));
        self.keeper = Some(std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(50));
            let mut guard = child.lock().unwrap();
            let ended = guard.as_mut().is_some_and(|c| c.try_wait().ok().flatten().is_some());
            if stop.load(Ordering::SeqCst) {
                return;
            }
            if ended && !down.load(Ordering::SeqCst) {
                *guard = Some(boot(&root, &name, vm));
            }
        }));
    }

    /// After its next reboot, the host stays down.
    pub fn stay_down(&self) {
        self.down.store(true, Ordering::SeqCst);
    }

    pub fn wait_for_ssh(&self) {
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the sshd of {} never listened", self.name);
    }

    pub fn key(&self) -> PathBuf {
        self.dir.path().join("id")
    }

    pub fn known_hosts(&self) -> PathBuf {
        self.dir.path().join("known_hosts")
    }

    /// `root@127.0.0.1:PORT`.
    pub fn destination(&self) -> String {
        format!("root@127.0.0.1:{}", self.port)
    }

    /// Runs `script` on the host as root.
    pub fn ssh(&self, script: &str) -> Output {
        Command::new("ssh")
            .args(["-o", "BatchMode=yes", "-o"])
            .arg(format!("UserKnownHostsFile={}", self.known_hosts().display()))
            .arg("-i")
            .arg(self.key())
            .args(["-p", &self.port.to_string(), "root@127.0.0.1", script])
            .output()
            .unwrap()
    }
}

fn boot(root: &Path, name: &str, vm: bool) -> Child {
    // A virtual machine's boot id changes at each boot; a container's is its host's.
    let boot_id = if vm {
        "mount -t tmpfs tmpfs /run && cat /proc/sys/kernel/random/uuid > /run/boot_id && \
         mount --bind /run/boot_id /proc/sys/kernel/random/boot_id && "
    } else {
        ""
    };
    Command::new("unshare")
        .args(["--pid", "--mount", "--uts", "--ipc", "--fork", "--kill-child", "--mount-proc"])
        .arg(format!("--root={}", root.display()))
        .args(["/bin/sh", "-c", &format!("hostname {name}; {boot_id}{INIT}")])
        .spawn()
        .expect("unshare (util-linux)")
}

fn keygen(path: &Path) {
    let ok =
        Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-f"]).arg(path).status().unwrap().success();
    assert!(ok, "ssh-keygen");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

impl Drop for DebianHost {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(keeper) = self.keeper.take() {
            let _ = keeper.join();
        }
        if let Some(mut child) = self.child.lock().unwrap().take() {
            // unshare --kill-child takes the host's PID 1, and so every process of it, along.
            let _ = child.kill();
            let _ = child.wait();
        }
        // The namespace's processes are gone with its PID 1; the overlay is free.
        for _ in 0..50 {
            if Command::new("umount").arg(&self.root).status().is_ok_and(|s| s.success()) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

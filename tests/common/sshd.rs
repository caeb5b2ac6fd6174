//! A throwaway sshd on 127.0.0.1: its own host key and user key, a free
//! port, key authentication only. Stopped when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Sshd {
    pub dir: tempfile::TempDir,
    pub port: u16,
}

fn keygen(path: &Path) {
    let ok =
        Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-f"]).arg(path).status().unwrap().success();
    assert!(ok, "ssh-keygen");
}

/// A port nothing listens on (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Sshd {
    pub fn start() -> Sshd {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        keygen(&d.join("hostkey"));
        keygen(&d.join("id"));
        keygen(&d.join("stranger")); // a key the server does not know
        std::fs::copy(d.join("id.pub"), d.join("authorized_keys")).unwrap();
        // sshd reads the keys file as the user logging in, who may not be root.
        for (path, mode) in [(d.to_path_buf(), "711"), (d.join("authorized_keys"), "644")] {
            assert!(Command::new("chmod").arg(mode).arg(&path).status().unwrap().success());
        }
        std::fs::create_dir_all("/run/sshd").unwrap();
        let port = free_port();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/hostkey\nPidFile {d}/sshd.pid\nAuthorizedKeysFile {d}/authorized_keys\n\
             PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n\
             MaxStartups 100:30:200\nMaxSessions 100\nSubsystem sftp internal-sftp\n",
            d = d.display()
        );
        std::fs::write(d.join("sshd_config"), config).unwrap();
        let ok = Command::new("/usr/sbin/sshd")
            .arg("-f")
            .arg(d.join("sshd_config"))
            .arg("-E")
            .arg(d.join("sshd.log"))
            .status()
            .unwrap()
            .success();
        assert!(ok, "sshd starts (make test installs openssh-server)");
        let host_key = std::fs::read_to_string(d.join("hostkey.pub")).unwrap();
        let key: Vec<&str> = host_key.split_whitespace().take(2).collect();
        std::fs::write(d.join("known_hosts"), format!("[127.0.0.1]:{port} {}\n", key.join(" "))).unwrap();
        // Wait until it listens.
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Sshd { dir, port }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A parc.toml that reaches this sshd as root with the test key. The
    /// host time limit is generous: the apt probes alone took 14 s over
    /// loopback on a loaded 2-core machine, and these tests are not about time.
    pub fn config(&self, extra: &str) -> String {
        format!(
            "[ssh]\nuser = \"root\"\nidentity_file = \"{}\"\nknown_hosts = \"{}\"\ntimeout = 120\n{extra}",
            self.path("id").display(),
            self.path("known_hosts").display()
        )
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.path("sshd.pid")) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}

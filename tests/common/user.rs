//! A dedicated non-root user for a test, as agents run under cron or
//! systemd: its own home (the one in the password database, which is where
//! OpenSSH reads `~/.ssh`), no ssh-agent, a bare environment. Removed when
//! dropped. Needs root, as `make test` runs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// useradd and userdel lock /etc/passwd: one at a time.
static ACCOUNTS: Mutex<()> = Mutex::new(());

pub struct User {
    pub name: String,
    pub home: PathBuf,
}

fn must(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

impl User {
    /// A new user whose home is `home` (created, owned by the user).
    pub fn create(tag: &str, home: &Path) -> User {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("parc{tag}{}x{n}", std::process::id() % 100_000);
        {
            let _lock = ACCOUNTS.lock().unwrap_or_else(|e| e.into_inner());
            let _ = Command::new("userdel").arg(&name).output();
            must(Command::new("useradd").args(["-M", "-s", "/bin/sh", "-d"]).arg(home).arg(&name));
            // No password, but not locked: sshd (without PAM) refuses locked accounts even with a key.
            must(Command::new("usermod").args(["-p", "*", &name]));
        }
        std::fs::create_dir_all(home.join(".ssh")).unwrap();
        let user = User { name, home: home.to_path_buf() };
        user.own(home);
        // Every folder above the home must let the user pass (tempdirs are 0700).
        for dir in home.ancestors().skip(1).take_while(|d| d.starts_with(std::env::temp_dir())) {
            if dir != std::env::temp_dir() {
                must(Command::new("chmod").arg("711").arg(dir));
            }
        }
        must(Command::new("chmod").arg("700").arg(home.join(".ssh")));
        user
    }

    /// Makes `path` (recursively) the user's.
    pub fn own(&self, path: &Path) {
        must(Command::new("chown").arg("-R").arg(&self.name).arg(path));
    }

    /// Writes a file in the user's home, owned by the user, mode 0600.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.home.join(rel);
        std::fs::write(&path, contents).unwrap();
        must(Command::new("chmod").arg("600").arg(&path));
        self.own(&path);
        path
    }

    /// `program args` as this user, in `dir`, with nothing of ours in its
    /// environment: no SSH_AUTH_SOCK, HOME its own, a plain PATH.
    pub fn command(&self, dir: &Path, program: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new("runuser");
        cmd.current_dir(dir)
            .args(["-u", &self.name, "--", "env", "-i"])
            .arg(format!("HOME={}", self.home.display()))
            .arg("PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
            .arg(program)
            .args(args);
        cmd
    }
}

impl Drop for User {
    fn drop(&mut self) {
        let _lock = ACCOUNTS.lock().unwrap_or_else(|e| e.into_inner());
        let _ = Command::new("userdel").arg(&self.name).output();
    }
}

//! A server of `tests/servers.py` (HTTPS, WebDAV, FTPS, SMTP) on 127.0.0.1,
//! stopped when dropped.

use std::path::Path;
use std::process::{Child, Command};

pub struct Server {
    child: Child,
    pub port: u16,
}

impl Server {
    /// Starts `servers.py MODE ARGS… PORTFILE` and waits until it listens.
    pub fn start(dir: &Path, mode: &str, args: &[&str]) -> Server {
        std::fs::create_dir_all(dir).unwrap();
        let portfile = dir.join(format!("{mode}.port"));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/servers.py");
        let mut child = Command::new("python3").arg(script).arg(mode).args(args).arg(&portfile).spawn().unwrap();
        for _ in 0..400 {
            if let Ok(text) = std::fs::read_to_string(&portfile) {
                let port: u16 = text.trim().parse().unwrap();
                for _ in 0..100 {
                    if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                        return Server { child, port };
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the {mode} server stopped: {status} (make test installs its Python packages)");
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        let _ = child.kill();
        panic!("the {mode} server did not start");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

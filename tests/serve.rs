//! `parc serve` for real: a process on a free loopback port, answered with
//! raw HTTP requests; a new snapshot shows after the rebuild, a broken
//! template is said on the page while the last site is served, and Ctrl-C
//! (SIGINT) stops it cleanly.

mod common;

use common::http::{get, until};
use common::*;
use std::path::Path;
use std::time::{Duration, Instant};

struct Serving(std::process::Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(dir: &Path, port: u16) -> Serving {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_parc"))
        .current_dir(dir)
        .args(["serve", "--port", &port.to_string()])
        .stderr(std::fs::File::create(dir.join("serve.log")).unwrap())
        .spawn()
        .unwrap();
    let serving = Serving(child);
    until("parc serve listens", 30, || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    serving
}

#[test]
fn serves_the_site_rebuilds_on_a_new_snapshot_and_never_leaves_the_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let snaps = tmp.path().join("snapshots");
    write_dated(&snaps, "h1", &system("h1", "2026-11-01T03:00:00Z"));
    std::fs::write(tmp.path().join("secret.txt"), "the secret").unwrap();
    let port = common::sshd::free_port();
    let mut serving = serve(tmp.path(), port);

    let (status, head, body) = get(port, "/");
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("Content-Type: text/html; charset=utf-8"), "{head}");
    assert!(body.contains("/__parc/build"), "the reload script is added");
    let on_disk = read(&tmp.path().join("site/index.html"));
    assert!(!on_disk.contains("__parc"), "but never written into the site");
    assert_eq!(get(port, "/hosts/h1.html").0, 200);
    assert_eq!(get(port, "/hosts/").0, 200, "index.html for a folder");
    assert!(get(port, "/style.css").1.contains("Content-Type: text/css"));
    assert!(get(port, "/api/v1/hosts.json").1.contains("Content-Type: application/json"));
    let (status, _, body) = get(port, "/nope.html");
    assert!(status == 404 && body.contains("Not found"), "the site's 404 page: {body}");

    // Nothing outside site/: .., encoded .., a symlink.
    std::os::unix::fs::symlink(tmp.path().join("secret.txt"), tmp.path().join("site/leak.txt")).unwrap();
    for target in ["/../secret.txt", "/%2e%2e/secret.txt", "/hosts/%2e%2e%2f%2e%2e%2fsecret.txt", "/leak.txt"] {
        let (status, _, body) = get(port, target);
        assert!(status == 404 && !body.contains("the secret"), "{target}: {status}");
    }

    // A new snapshot: the next build shows it, and the page's generation moves on.
    let generation = get(port, "/__parc/build").2;
    write_dated(&snaps, "h2", &system("h2", "2026-11-02T03:00:00Z"));
    until("the new host is served", 30, || get(port, "/hosts/h2.html").0 == 200);
    assert_ne!(get(port, "/__parc/build").2, generation);

    // A template that does not compile: said on the page and in the terminal; the last site is served.
    std::fs::create_dir_all(tmp.path().join("templates")).unwrap();
    std::fs::write(tmp.path().join("templates/host.html"), "{% if %}").unwrap();
    until("the failed build is said", 30, || get(port, "/__parc/build").2.contains("failed"));
    let (status, _, body) = get(port, "/hosts/h2.html");
    assert!(status == 200 && body.contains("The build failed") && body.contains("host.html"), "{body}");
    assert!(read(&tmp.path().join("serve.log")).contains("error:"));
    std::fs::remove_file(tmp.path().join("templates/host.html")).unwrap();
    until("the build works again", 30, || !get(port, "/__parc/build").2.contains("failed"));
    assert!(!get(port, "/hosts/h2.html").2.contains("The build failed"));

    // Ctrl-C: stopped, cleanly.
    assert_eq!(unsafe { libc_kill(serving.0.id() as i32, 2) }, 0);
    let start = Instant::now();
    let status = loop {
        if let Some(status) = serving.0.try_wait().unwrap() {
            break status;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "stopped by SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
    assert!(read(&tmp.path().join("serve.log")).contains("stopped"));
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, signal: i32) -> i32;
}

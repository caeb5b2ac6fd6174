//! Smoke test in headless Chromium (Debian's `chromium`, installed by
//! `make test`): the example site is served over HTTP on 127.0.0.1; the
//! dashboard, a host page and a disk page must load with every element they
//! promise, no console message, and no request that failed.

mod common;

use common::*;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

/// A tiny static file server on loopback; remembers every request that was not served.
fn serve(root: PathBuf) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let failed = Arc::new(Mutex::new(Vec::new()));
    let log = failed.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).map_or(true, |n| n == 0) || header == "\r\n" {
                    break;
                }
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/").split('?').next().unwrap().to_string();
            let mut file = root.join(path.trim_start_matches('/'));
            if path.ends_with('/') {
                file.push("index.html"); // as any web server does
            }
            let mut stream = stream;
            match std::fs::read(&file).ok().filter(|_| !path.contains("..")) {
                Some(body) => {
                    let kind = match file.extension().and_then(|e| e.to_str()) {
                        Some("html") => "text/html; charset=utf-8",
                        Some("css") => "text/css",
                        Some("json") => "application/json",
                        Some("svg") => "image/svg+xml",
                        _ => "text/plain; charset=utf-8",
                    };
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(&body));
                }
                None => {
                    log.lock().unwrap().push(path);
                    let _ =
                        stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                }
            }
        }
    });
    (port, failed)
}

/// Loads `url` in headless Chromium: the DOM after load, and the console lines.
fn load(url: &str) -> (String, Vec<String>) {
    load_with(url, &[])
}

/// [`load`], with more of Chromium's flags (a window size, a screenshot).
fn load_with(url: &str, flags: &[&str]) -> (String, Vec<String>) {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
        ])
        .args([
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(flags)
        .args(["--dump-dom", url])
        .output()
        .expect("chromium is installed (make test installs Debian's chromium)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let console = stderr.lines().filter(|l| l.contains(":CONSOLE")).map(str::to_string).collect();
    (String::from_utf8_lossy(&out.stdout).to_string(), console)
}

fn example_site() -> PathBuf {
    let out = tempfile::tempdir().unwrap().keep();
    build_example(&out.join("site"));
    out.join("site")
}

#[test]
fn the_harness_sees_console_errors_and_missing_files() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("bad.html"),
        "<link rel=stylesheet href=gone.css><p id=x>hi</p><script>console.error('boom')</script>",
    )
    .unwrap();
    let (port, failed) = serve(tmp.path().to_path_buf());
    let (dom, console) = load(&format!("http://127.0.0.1:{port}/bad.html"));
    assert!(dom.contains("<p id=\"x\">hi</p>"), "{dom}");
    assert!(console.iter().any(|l| l.contains("boom")), "{console:?}");
    assert!(failed.lock().unwrap().contains(&"/gone.css".to_string()));
}

#[test]
fn dashboard_host_and_disk_pages_load_cleanly() {
    let site = example_site();
    let disks = read_json(&site.join("api/v1/disks.json"));
    let failing = disks
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["verdict"] == "failing")
        .expect("the example fleet has a failing disk");
    let (port, failed) = serve(site.clone());
    let pages = [
        ("index.html".to_string(), vec!["id=\"summary\"", "id=\"at-risk\"", "id=\"hosts\"", "Failing"]),
        ("hosts/files.html".to_string(), vec!["id=\"host-name\"", "id=\"disks\"", "id=\"homes\"", "vg0-home"]),
        (
            failing["page"].as_str().unwrap().to_string(),
            vec!["id=\"disk-name\"", "id=\"reasons\"", "id=\"sightings\"", "<svg", "polyline"],
        ),
    ];
    let apt_pages = [
        ("apt/index.html".to_string(), vec!["id=\"apt-hosts\"", "id=\"apt-summary\"", "pve2"]),
        (
            "apt/db1.html".to_string(),
            vec!["id=\"apt-host\"", "id=\"apt-reasons\"", "id=\"apt-changes\"", "id=\"apt-anomalies\""],
        ),
        (
            "archives.html".to_string(),
            vec!["id=\"job-db\"", "class=\"archive-runs\"", "HTTP 404 Not Found", "keep_weekly"],
        ),
    ];
    for (page, elements) in pages.into_iter().chain(apt_pages) {
        let (dom, console) = load(&format!("http://127.0.0.1:{port}/{page}"));
        assert!(console.is_empty(), "{page}: console says {console:?}");
        for element in elements {
            assert!(dom.contains(element), "{page}: no {element} in the rendered page");
        }
    }
    // The package index filters from ?q=: only openssl's rows stay shown.
    let (dom, console) = load(&format!("http://127.0.0.1:{port}/apt/packages.html?q=openssl"));
    assert!(console.is_empty(), "packages.html: console says {console:?}");
    let rows: Vec<&str> = dom.split("<tr").skip(2).collect();
    let shown: Vec<&&str> = rows.iter().filter(|r| !r.starts_with(" hidden")).collect();
    assert!(!shown.is_empty() && shown.iter().all(|r| r.contains("openssl")), "{} rows shown", shown.len());
    assert!(rows.len() > shown.len() + 100, "the others are hidden");
    assert_eq!(*failed.lock().unwrap(), Vec::<String>::new(), "requests that failed");
    std::fs::remove_dir_all(site.parent().unwrap()).unwrap();
}

/// The page `parc serve` serves, in Chromium: it loads with no console
/// message, its reload script polls without error, and a build that failed
/// is shown on it.
#[test]
fn the_page_parc_serve_serves_loads_and_shows_a_failed_build() {
    let tmp = tempfile::tempdir().unwrap();
    write_dated(&tmp.path().join("snapshots"), "h1", &system("h1", "2026-11-01T03:00:00Z"));
    let port = common::sshd::free_port();
    let mut serving = Command::new(env!("CARGO_BIN_EXE_parc"))
        .current_dir(tmp.path())
        .args(["serve", "--port", &port.to_string()])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..600 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let (dom, console) = load(&format!("http://127.0.0.1:{port}/hosts/h1.html"));
    assert!(dom.contains("id=\"host-name\"") && dom.contains("/__parc/build"), "{dom}");
    assert!(console.is_empty(), "{console:?}");
    std::fs::create_dir_all(tmp.path().join("templates")).unwrap();
    std::fs::write(tmp.path().join("templates/host.html"), "{% if %}").unwrap();
    let mut shown = false;
    for _ in 0..100 {
        let (dom, _) = load(&format!("http://127.0.0.1:{port}/hosts/h1.html"));
        if dom.contains("The build failed") {
            shown = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let _ = serving.kill();
    let _ = serving.wait();
    assert!(shown, "the failed build is shown on the page");
}

/// Every kind of page on a phone, in English and in French: each loaded
/// in a frame 390 px wide (a headless window is never narrower than 500),
/// photographed, and measured: the page is no wider than its viewport, its
/// menu folds, and its cards are two to a row. With `PARC_SCREENSHOTS` set
/// (`make screenshots`), each page is photographed at 1280 px too.
#[test]
fn every_kind_of_page_fits_a_phone() {
    for language in ["en", "fr"] {
        let out = tempfile::tempdir().unwrap().keep();
        std::fs::write(out.join("parc.toml"), format!("[site]\nlanguage = \"{language}\"\n")).unwrap();
        let site = out.join("site");
        let snapshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
        build_cmd(&snapshots, &site, &["--no-cache"]).current_dir(&out).assert().success();
        phone(&site, language);
        std::fs::remove_dir_all(&out).unwrap();
    }
}

fn phone(site: &Path, language: &str) {
    let disks = read_json(&site.join("api/v1/disks.json"));
    let disk = disks.as_array().unwrap().iter().find(|d| d["verdict"] == "failing").unwrap()["page"].clone();
    let pages = [
        "index.html",
        "findings.html",
        "hosts/index.html",
        "hosts/files.html",
        "disks/index.html",
        disk.as_str().unwrap(),
        "risk.html",
        "moves.html",
        "backup.html",
        "apt/index.html",
        "apt/db1.html",
        "apt/packages.html",
        "archives.html",
        "updates.html",
        "problems.html",
        "search.html?q=WD",
        "404.html",
    ];
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots").join(language);
    std::fs::create_dir_all(shots.join("390")).unwrap();
    let wide = std::env::var_os("PARC_SCREENSHOTS").is_some();
    if wide {
        std::fs::create_dir_all(shots.join("1280")).unwrap();
    }
    let (port, failed) = serve(site.to_path_buf());
    for page in pages {
        let file = page.split('?').next().unwrap().replace('/', "-");
        let harness = format!("phone-{file}");
        std::fs::write(site.join(&harness), PHONE.replace("PAGE", page)).unwrap();
        let shot = shots.join("390").join(file.replace(".html", ".png"));
        let flags = ["--window-size=500,900", "--hide-scrollbars"];
        let (dom, console) = load_with(
            &format!("http://127.0.0.1:{port}/{harness}"),
            &[&flags[..], &[&format!("--screenshot={}", shot.display())]].concat(),
        );
        assert!(console.is_empty(), "{language} {page}: console says {console:?}");
        let fit = dom
            .split("data-fit=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or_else(|| panic!("{language} {page}: not measured"));
        let figures: Vec<i64> = fit.split_whitespace().map(|n| n.parse().unwrap()).collect();
        let [width, viewport, menu, cards] = figures[..] else { panic!("{page}: {fit}") };
        assert_eq!(viewport, 390, "{page}: the frame is a phone's width");
        assert!(width <= viewport, "{language} {page}: the page is {width} px wide on a {viewport} px screen");
        assert_eq!(menu, 0, "{language} {page}: the menu is folded");
        if page == "index.html" {
            assert_eq!(cards, 2, "the dashboard's cards are two to a row");
        }
        assert!(std::fs::metadata(&shot).is_ok_and(|m| m.len() > 1000), "{page}: a screenshot");
        if wide {
            let shot = shots.join("1280").join(file.replace(".html", ".png"));
            let flags = ["--window-size=1280,900", "--hide-scrollbars"];
            load_with(
                &format!("http://127.0.0.1:{port}/{page}"),
                &[&flags[..], &[&format!("--screenshot={}", shot.display())]].concat(),
            );
            assert!(std::fs::metadata(&shot).is_ok_and(|m| m.len() > 1000), "{page}: a wide screenshot");
        }
    }
    assert_eq!(*failed.lock().unwrap(), Vec::<String>::new(), "requests that failed");
}

/// A page in a frame of a phone's width; on load, its measures on `data-fit`:
/// the document's width, the viewport's, the menu's height, cards on the first row.
const PHONE: &str = r#"<!doctype html><html><head><link rel="icon" href="data:,"></head><body style="margin:0">
<iframe id="f" src="PAGE" style="width:390px;height:844px;border:0"></iframe>
<script>
document.getElementById("f").addEventListener("load", function () {
  var w = this.contentWindow, d = w.document;
  var menu = d.querySelector("nav.menu");
  var cards = d.querySelectorAll(".cards > .card"), first = 0;
  for (var i = 0; i < cards.length && cards[i].offsetTop === cards[0].offsetTop; i++) first++;
  document.body.setAttribute("data-fit", [d.documentElement.scrollWidth, w.innerWidth, menu ? menu.offsetHeight : 0, first].join(" "));
});
</script></body></html>"#;

/// The script of every page: a click on a header sorts the table, a word
/// in the filter leaves only the rows that hold it, and the search page
/// finds a disk by its serial.
#[test]
fn tables_sort_and_filter_and_search_finds_a_serial() {
    let site = example_site();
    let disks = read_json(&site.join("api/v1/disks.json"));
    let disk = disks.as_array().unwrap().iter().find(|d| d["verdict"] == "failing").unwrap();
    let (serial, page) = (disk["serial"].as_str().unwrap(), disk["page"].as_str().unwrap());
    let hosts = read_json(&site.join("api/v1/hosts.json"));
    let mut names: Vec<&str> = hosts.as_array().unwrap().iter().map(|h| h["name"].as_str().unwrap()).collect();
    names.sort();
    let pve = names.iter().filter(|n| n.contains("pve")).count();
    std::fs::write(site.join("use.html"), USE.replace("SERIAL", serial)).unwrap();
    let (port, failed) = serve(site.clone());
    let (dom, console) = load(&format!("http://127.0.0.1:{port}/use.html"));
    assert!(console.is_empty(), "console says {console:?}");
    let result = dom.split("data-result=\"").nth(1).and_then(|r| r.split('"').next()).expect("the script ran");
    let parts: Vec<&str> = result.split('|').collect();
    assert_eq!(parts[0], *names.last().unwrap(), "sorted by name, descending: {result}");
    assert_eq!(parts[1], "descending");
    assert_eq!(parts[2], pve.to_string(), "rows holding 'pve'");
    assert_eq!(parts[3], page, "the serial's disk, first");
    assert_eq!(*failed.lock().unwrap(), Vec::<String>::new(), "requests that failed");
    std::fs::remove_dir_all(site.parent().unwrap()).unwrap();
}

/// Uses the hosts list and the search page in frames: sorts by the first
/// column twice, filters by `pve`, searches SERIAL; `data-result` holds the
/// first host, the header's aria-sort, the rows shown, the first result.
const USE: &str = r##"<!doctype html><html><head><link rel="icon" href="data:,"></head><body>
<iframe id="f" src="hosts/index.html"></iframe><iframe id="g" src="search.html?q=SERIAL"></iframe>
<script>
var done = 0, out = [];
function finish() { if (++done === 2) document.body.setAttribute("data-result", out.join("|")); }
document.getElementById("f").addEventListener("load", function () {
  var d = this.contentDocument, t = d.querySelector("main table"), th = t.tHead.rows[0].cells[0];
  var b = th.querySelector("button.sort");
  b.click(); b.click();
  out[0] = t.tBodies[0].rows[0].cells[0].textContent.trim();
  out[1] = th.getAttribute("aria-sort");
  var input = d.querySelector("input.filter");
  input.value = "pve";
  input.dispatchEvent(new Event("input"));
  out[2] = Array.prototype.filter.call(t.tBodies[0].rows, function (r) { return !r.hidden; }).length;
  finish();
});
document.getElementById("g").addEventListener("load", function () {
  var a = this.contentDocument.querySelector("#search-results a");
  out[3] = a ? a.getAttribute("href") : "none";
  finish();
});
</script></body></html>"##;

//! `parc serve`: builds, serves the site on a loopback address, and builds
//! again (incrementally) when the snapshots, templates, content, static
//! files or the configuration change. The open page reloads itself after a
//! build: the server adds a small script to the HTML it serves, never to
//! the files of the site. A build that fails is said on the page and in the
//! terminal, and the site as the last build left it is still served.

pub mod http;

use crate::config::Config;
use crate::pipeline::BuildOptions;
use anyhow::{Context, Result};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

/// Where `/__parc/build` answers with the build's generation: the page's
/// script reloads when it changes.
const BUILD_PATH: &str = "/__parc/build";

pub struct Serve {
    pub config_path: PathBuf,
    /// Whether `--config` named the file (then it must exist).
    pub config_named: bool,
    pub options: BuildOptions,
    pub addr: SocketAddr,
    pub quiet: bool,
}

/// What the pages are served with: the newest build's generation, and the
/// script (with the error of a build that failed) added to each page.
#[derive(Default)]
struct State {
    generation: u64,
    failed: bool,
    snippet: String,
}

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn stop(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// Serves until Ctrl-C. Returns the address it listened on once stopped.
pub fn run(serve: Serve, listening: impl FnOnce(SocketAddr)) -> Result<()> {
    let listener =
        TcpListener::bind(serve.addr).with_context(|| format!("cannot listen on {} (--port, --bind)", serve.addr))?;
    let addr = listener.local_addr()?;
    let serve = Arc::new(serve);
    let state = Arc::new(Mutex::new(State::default()));
    build(&serve, &state);
    // SAFETY: the handler only stores into an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, stop as extern "C" fn(libc::c_int) as libc::sighandler_t);
        libc::signal(libc::SIGTERM, stop as extern "C" fn(libc::c_int) as libc::sighandler_t);
    }
    let _watcher = watch(&serve, &state)?;
    listening(addr);
    listener.set_nonblocking(true)?;
    while !STOP.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let (serve, state) = (serve.clone(), state.clone());
                std::thread::spawn(move || answer(&stream, &serve.options.out, &state));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => tracing::debug!("accept: {e}"),
        }
    }
    Ok(())
}

/// One build, reported in the terminal and, when it failed, on the pages.
fn build(serve: &Serve, state: &Mutex<State>) {
    let result = Config::load(&serve.config_path, serve.config_named)
        .and_then(|config| crate::pipeline::build(&config, &serve.options).map(|report| (config, report)));
    let error = match &result {
        Ok((_, report)) => {
            if !serve.quiet {
                let problems = crate::words::count(report.problems.len(), "problem", "problems");
                eprintln!("built in {:.3} s, {problems}", report.seconds);
            }
            None
        }
        Err(e) => {
            let text = format!("{e:#}");
            eprintln!("error: {text}");
            Some(text)
        }
    };
    // A configuration that does not read still has a templates folder: the default one.
    let (templates, language) = result.as_ref().map_or_else(
        |_| (Config::default().build.templates, Default::default()),
        |(c, _)| (c.build.templates.clone(), c.site.language),
    );
    let snippet = snippet(&serve.options.base.join(templates), language, error.as_deref());
    let mut state = state.lock().expect("no thread panics holding the state");
    state.generation += 1;
    state.failed = error.is_some();
    state.snippet = snippet;
}

/// `serve.html` rendered: the site's own when it compiles, else the built-in one.
fn snippet(templates: &Path, language: crate::config::Language, error: Option<&str>) -> String {
    let mut ctx = tera::Context::new();
    ctx.insert("error", &error);
    let render = |tera: tera::Tera| tera.render("serve.html", &ctx).ok();
    let own = crate::render::templates::load(templates, language).ok().and_then(render);
    own.or_else(|| crate::render::templates::builtin(language).ok().and_then(render)).unwrap_or_default()
}

/// Watches what a build reads; each change (a burst of them) builds again.
fn watch(serve: &Arc<Serve>, state: &Arc<Mutex<State>>) -> Result<notify::RecommendedWatcher> {
    use notify::{RecursiveMode, Watcher};
    let (tx, rx) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok_and(|e| !e.kind.is_access()) {
            let _ = tx.send(());
        }
    })?;
    let base = &serve.options.base;
    let config = Config::load(&serve.config_path, serve.config_named).unwrap_or_default();
    let folders = [&serve.options.snapshots, &base.join(&config.build.templates), &base.join(&config.build.content)];
    for folder in folders.into_iter().chain([&base.join(&config.build.static_dir)]) {
        if folder.is_dir() {
            watcher.watch(folder, RecursiveMode::Recursive)?;
        }
    }
    // The configuration's folder, not the file: an editor replaces the file.
    let config_dir = serve.config_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    watcher.watch(config_dir, RecursiveMode::NonRecursive)?;
    let (serve, state) = (serve.clone(), state.clone());
    std::thread::spawn(move || {
        while rx.recv().is_ok() {
            // A commit or a copy is many events: build once they settle.
            while rx.recv_timeout(Duration::from_millis(150)).is_ok() {}
            build(&serve, &state);
        }
    });
    Ok(watcher)
}

/// Answers one request.
fn answer(stream: &TcpStream, root: &Path, state: &Mutex<State>) {
    let Some(request) = http::read_request(stream) else { return };
    let head_only = request.method == "HEAD";
    let response = if request.method != "GET" && !head_only {
        text(405, "GET or HEAD only\n")
    } else if request.target.split('?').next() == Some(BUILD_PATH) {
        let state = state.lock().expect("no thread panics holding the state");
        text(200, &format!("{}{}\n", state.generation, if state.failed { " failed" } else { "" }))
    } else {
        match http::resolve(root, &request.target) {
            Some(file) => page(200, &file, state),
            None => match http::resolve(root, "/404.html") {
                Some(file) => page(404, &file, state),
                None => text(404, "not found\n"),
            },
        }
    };
    let _ = http::write_response(stream, head_only, &response);
}

fn text(status: u16, body: &str) -> http::Response {
    http::Response { status, content_type: "text/plain; charset=utf-8", body: body.as_bytes().to_vec() }
}

/// A file of the site; an HTML page with the script added before `</body>`.
fn page(status: u16, file: &Path, state: &Mutex<State>) -> http::Response {
    let Ok(mut body) = std::fs::read(file) else { return text(404, "not found\n") };
    let content_type = http::content_type(file);
    if content_type.starts_with("text/html") {
        let snippet = state.lock().expect("no thread panics holding the state").snippet.clone();
        let at = memchr::memmem::rfind(&body, b"</body>").unwrap_or(body.len());
        body.splice(at..at, snippet.into_bytes());
    }
    http::Response { status, content_type, body }
}

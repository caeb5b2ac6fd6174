//! The CI files `parc init` writes, run as a runner would: their checkout
//! depth, their cache and their own shell steps, read from the files, on
//! real clones of a bare remote. As written they build the same site as a
//! full clone, run after run; checked out at depth 1 (what a checkout does
//! when not told), the build says so, and deepened, it is whole again.

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// What a runner is told by a CI file.
#[derive(Debug)]
struct Job {
    /// Commits fetched; 0 is the whole history.
    depth: u32,
    /// The folder kept from run to run.
    cache: String,
    /// Shell scripts, in order.
    steps: Vec<String>,
    /// Where the site is, after the steps.
    site: &'static str,
}

fn after<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_once(key).map(|(_, v)| v.trim())
}

fn number(text: &str) -> u32 {
    text.chars().take_while(char::is_ascii_digit).collect::<String>().parse().unwrap()
}

/// `.github/workflows/site.yml`: `fetch-depth`, the cache's `path`, and each
/// `run:` step (one line, or the block under `run: |`).
fn github(yml: &str) -> Job {
    let lines: Vec<&str> = yml.lines().filter(|l| !l.trim_start().starts_with('#')).collect();
    let depth = lines.iter().find_map(|l| after(l, "fetch-depth:")).map(number).expect("fetch-depth");
    let cache = lines.iter().skip_while(|l| !l.contains("actions/cache")).find_map(|l| after(l, "path:"));
    let mut steps = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        match after(line, "run:") {
            Some("|") => {
                let indent = |l: &str| l.len() - l.trim_start().len();
                let block = lines[i + 1..].iter().take_while(|l| indent(l) > indent(line));
                steps.push(block.map(|l| l.trim()).collect::<Vec<_>>().join("\n"));
            }
            Some(command) => steps.push(command.to_string()),
            None => {}
        }
    }
    Job { depth, cache: cache.expect("a cache path").to_string(), steps, site: "site" }
}

/// `.gitlab-ci.yml`: `GIT_DEPTH`, the cache's `paths`, the `script` lines.
fn gitlab(yml: &str) -> Job {
    let lines: Vec<&str> = yml.lines().filter(|l| !l.trim_start().starts_with('#')).collect();
    let depth = lines.iter().find_map(|l| after(l, "GIT_DEPTH:")).map(number).expect("GIT_DEPTH");
    let cache = lines.iter().find_map(|l| after(l, "paths:")).expect("cache paths");
    let script = lines.iter().skip_while(|l| !l.trim().starts_with("script:")).skip(1);
    let steps = script.map_while(|l| l.trim().strip_prefix("- ")).map(str::to_string).collect();
    Job { depth, cache: cache.trim_matches(['[', ']']).to_string(), steps, site: "public" }
}

/// A runner: a clone at the job's depth, the cache put back, the steps.
struct Runner {
    remote: String,
    dir: PathBuf,
    kept: PathBuf,
    home: PathBuf,
    web: PathBuf,
}

impl Runner {
    fn new(tmp: &Path, remote: &Path, name: &str) -> Runner {
        let r = Runner {
            remote: format!("file://{}", remote.display()),
            dir: tmp.join(name),
            kept: tmp.join(format!("{name}-cache")),
            home: tmp.join(format!("{name}-home")),
            web: tmp.join(format!("{name}-web")),
        };
        std::fs::create_dir_all(&r.home).unwrap();
        std::fs::create_dir_all(&r.web).unwrap();
        r
    }

    fn checkout(&self, depth: u32) {
        let _ = std::fs::remove_dir_all(&self.dir);
        let mut args = vec!["clone", "-q"];
        let depth = depth.to_string();
        if depth != "0" {
            args.extend(["--depth", &depth]);
        }
        args.extend([self.remote.as_str(), self.dir.to_str().unwrap()]);
        git(self.dir.parent().unwrap(), &args);
    }

    /// The job's steps, the cache restored before and saved after; what they printed.
    fn steps(&self, job: &Job) -> String {
        let cache = self.dir.join(&job.cache);
        if self.kept.exists() {
            copy(&self.kept, &cache);
        }
        let parc_dir = Path::new(env!("CARGO_BIN_EXE_parc")).parent().unwrap();
        let path = format!("{}:{}", parc_dir.display(), std::env::var("PATH").unwrap());
        let mut said = String::new();
        for step in &job.steps {
            let out = std::process::Command::new("sh")
                .args(["-e", "-c", step])
                .current_dir(&self.dir)
                .env("PATH", &path)
                .env("HOME", &self.home)
                .env("WEB_SSH_KEY", "not a key: the target is a local folder")
                .env("WEB_TARGET", format!("{}/", self.web.display()))
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(out.status.success(), "step {step:?} failed: {stderr}");
            said.push_str(&stderr);
        }
        let _ = std::fs::remove_dir_all(&self.kept);
        if cache.exists() {
            copy(&cache, &self.kept);
        }
        said
    }

    fn run(&self, job: &Job) -> String {
        self.checkout(job.depth);
        self.steps(job)
    }
}

fn copy(from: &Path, to: &Path) {
    let status = std::process::Command::new("cp").arg("-a").arg(from).arg(to).status().unwrap();
    assert!(status.success());
}

fn snapshot(day: u32) -> Value {
    let mut s = system("alpha", &format!("2026-11-{day:02}T03:00:00Z"));
    s["probes"]["os-release"]["out"] = json!(format!("PRETTY_NAME=\"Debian day {day}\"\nID=debian\n"));
    s
}

fn commit_day(fleet: &Path, day: u32) {
    let path = fleet.join("snapshots/alpha/system.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, serde_json::to_vec_pretty(&snapshot(day)).unwrap()).unwrap();
    git(fleet, &["add", "-A"]);
    git(fleet, &["commit", "-q", "-m", &format!("day {day}")]);
    git(fleet, &["push", "-q", "origin", "HEAD"]);
}

/// (time, os) of every version of alpha.
fn versions(site: &Path) -> Vec<(i64, String)> {
    let host = read_json(&site.join("api/v1/hosts/alpha.json"));
    let timeline = host["timeline"].as_array().unwrap();
    timeline.iter().map(|t| (t["at"].as_i64().unwrap(), t["os"].as_str().unwrap_or("").to_string())).collect()
}

/// The site of a full clone, built from scratch.
fn reference(tmp: &Path, remote: &Path) -> Vec<(i64, String)> {
    let full = Runner::new(tmp, remote, "full");
    full.checkout(0);
    parc().current_dir(&full.dir).args(["build", "--no-cache", "--out", "site"]).assert().success();
    versions(&full.dir.join("site"))
}

fn project(tmp: &Path) -> (PathBuf, PathBuf) {
    let (fleet, remote) = (tmp.join("fleet"), tmp.join("fleet.git"));
    parc().current_dir(tmp).args(["init", "fleet"]).assert().success();
    git(tmp, &["init", "-q", "--bare", remote.to_str().unwrap()]);
    git(&fleet, &["remote", "add", "origin", remote.to_str().unwrap()]);
    for day in 1..=3 {
        commit_day(&fleet, day);
    }
    (fleet, remote)
}

#[test]
fn the_github_workflow_keeps_the_history_and_deploys_the_site() {
    let tmp = tempfile::tempdir().unwrap();
    let (fleet, remote) = project(tmp.path());
    let job = github(&read(&fleet.join(".github/workflows/site.yml")));
    assert_eq!((job.depth, job.cache.as_str(), job.steps.len()), (0, ".parc-cache", 2), "{job:?}");
    let runner = Runner::new(tmp.path(), &remote, "github");

    let said = runner.run(&job);
    assert!(!said.contains("shallow"), "{said}");
    let site = runner.dir.join(job.site);
    assert_eq!(versions(&site).len(), 3);
    assert_eq!(versions(&site), reference(tmp.path(), &remote));
    // The deploy step copied the site where WEB_TARGET says.
    assert_eq!(files(&runner.web), files(&site));
    assert_eq!(read(&runner.web.join("index.html")), read(&site.join("index.html")));

    // The next run: a new commit, the cache of the last run.
    commit_day(&fleet, 4);
    let said = runner.run(&job);
    assert!(said.contains("reused"), "the kept cache is read: {said}");
    assert_eq!(versions(&runner.dir.join(job.site)).len(), 4);
    assert_eq!(versions(&runner.dir.join(job.site)), reference(tmp.path(), &remote));

    // What a checkout does when not told: one commit. Said, with the fix…
    let shallow = Runner::new(tmp.path(), &remote, "shallow");
    shallow.checkout(1);
    let said = shallow.steps(&job);
    assert!(said.contains("a shallow clone") && said.contains("fetch-depth: 0"), "{said}");
    assert_eq!(versions(&shallow.dir.join(job.site)).len(), 1);
    // …and deepened, the same site as a full clone.
    git(&shallow.dir, &["fetch", "-q", "--unshallow"]);
    let said = shallow.steps(&job);
    assert!(!said.contains("shallow"), "{said}");
    assert_eq!(versions(&shallow.dir.join(job.site)), reference(tmp.path(), &remote));
}

#[test]
fn the_gitlab_job_keeps_the_history() {
    let tmp = tempfile::tempdir().unwrap();
    let (fleet, remote) = project(tmp.path());
    let job = gitlab(&read(&fleet.join(".gitlab-ci.yml")));
    assert_eq!((job.depth, job.cache.as_str(), job.steps.len()), (0, ".parc-cache", 1), "{job:?}");
    let runner = Runner::new(tmp.path(), &remote, "gitlab");

    let said = runner.run(&job);
    assert!(!said.contains("shallow"), "{said}");
    assert_eq!(versions(&runner.dir.join(job.site)), reference(tmp.path(), &remote));
    commit_day(&fleet, 4);
    runner.run(&job);
    let site = runner.dir.join(job.site);
    assert_eq!(versions(&site).len(), 4);
    assert_eq!(versions(&site), reference(tmp.path(), &remote));
    assert!(site.join("index.html").is_file() && site.join("robots.txt").is_file());
}

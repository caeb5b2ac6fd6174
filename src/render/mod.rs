//! Stage 6: the site. HTML pages (Tera), the JSON API, Markdown pages and
//! static files, all written through [`output::Output`].

pub mod api;
pub mod apt;
pub mod archive;
pub mod chart;
pub mod content;
pub mod csv;
pub mod detail;
pub mod findings;
mod hash_feed;
pub mod html;
mod listing;
pub mod memo;
pub mod output;
pub mod published;
pub mod search;
pub mod templates;
pub mod updates;
pub mod view;

use crate::config::Config;
use crate::derive::risk::Reason;
use crate::derive::Derived;
use crate::fleet::Fleet;
use anyhow::{Context, Result};
use output::Output;
use std::path::Path;

/// What rendering needs besides the facts: templates and pages, loaded in stage 1.
pub struct Inputs {
    pub tera: tera::Tera,
    pub pages: Vec<content::ContentPage>,
}

impl Inputs {
    pub fn load(config: &Config, base: &Path) -> Result<Inputs> {
        Ok(Inputs {
            tera: templates::load(&base.join(&config.build.templates), config.site.language)?,
            pages: content::load(&base.join(&config.build.content))?,
        })
    }
}

/// What people decided or were told, besides the snapshots: the archive
/// plan, the silences, the escalation steps sent.
pub struct People<'a> {
    pub plan: Option<&'a crate::plan::Plan>,
    pub silences: &'a crate::plan::silence::Silences,
    pub sent: &'a [crate::plan::escalation::Sent],
}

/// A host with what was made of it.
#[derive(Clone, Copy)]
pub struct HostParts<'s> {
    pub host: &'s crate::fleet::Host,
    pub view: &'s view::HostView,
    /// Its APT state, for a host with APT.
    pub apt: Option<&'s crate::derive::apt::AptState>,
}

/// A disk with its view.
#[derive(Clone, Copy)]
pub struct DiskParts<'s> {
    pub disk: &'s crate::fleet::Disk,
    pub view: &'s view::DiskView,
}

/// Everything a renderer reads.
pub struct Site<'a> {
    pub fleet: &'a Fleet,
    pub derived: &'a Derived,
    pub config: &'a Config,
    pub inputs: &'a Inputs,
    pub views: view::Views,
    /// What each page showed last time.
    pub memo: &'a memo::RenderMemo,
    /// The archive plan as of the newest snapshot, when jobs are configured.
    pub plan: Option<&'a crate::plan::Plan>,
    /// `silences.toml` of the snapshots folder.
    pub silences: &'a crate::plan::silence::Silences,
    /// Escalation steps sent (every `notify.json`).
    pub sent: &'a [crate::plan::escalation::Sent],
    /// The APT views and the package index, made once for the pages and the JSON.
    apt_hosts: std::sync::OnceLock<Vec<apt::AptHost>>,
    apt_packages: std::sync::OnceLock<Vec<apt::PackageIndex<'a>>>,
    /// The findings' views, made once for the pages, the feed and the JSON.
    findings: std::sync::OnceLock<Vec<findings::FindingView<'a>>>,
    closed: std::sync::OnceLock<Vec<findings::FindingView<'a>>>,
}

impl<'a> Site<'a> {
    pub fn new(
        fleet: &'a Fleet,
        derived: &'a Derived,
        config: &'a Config,
        inputs: &'a Inputs,
        memo: &'a memo::RenderMemo,
        people: People<'a>,
    ) -> Site<'a> {
        let People { plan, silences, sent } = people;
        let views = view::build(fleet, derived, &|r| reason_text(&inputs.tera, r));
        let (apt_hosts, apt_packages) = Default::default();
        Site {
            fleet,
            derived,
            config,
            inputs,
            views,
            memo,
            plan,
            silences,
            sent,
            apt_hosts,
            apt_packages,
            findings: Default::default(),
            closed: Default::default(),
        }
    }

    /// Every host, in the fleet's order, with its view and APT state (made
    /// as lists in that same order).
    pub fn hosts(&self) -> Vec<HostParts<'_>> {
        let (hosts, views, apt) = (&self.fleet.hosts, &self.views.hosts, &self.derived.apt);
        assert!(hosts.len() == views.len() && hosts.len() == apt.len(), "one view and one APT state a host");
        (0..hosts.len()).map(|i| HostParts { host: &hosts[i], view: &views[i], apt: apt[i].as_ref() }).collect()
    }

    /// Every disk, in the fleet's order, with its view.
    pub fn disks(&self) -> Vec<DiskParts<'_>> {
        let (disks, views) = (&self.fleet.disks, &self.views.disks);
        assert_eq!(disks.len(), views.len(), "one view a disk");
        disks.iter().zip(views).map(|(disk, view)| DiskParts { disk, view }).collect()
    }

    /// Every APT host's view, most urgent first (`apt::hosts`).
    pub fn apt_hosts(&self) -> &[apt::AptHost] {
        self.apt_hosts.get_or_init(|| apt::hosts(self))
    }

    /// Every installed package with each host's version (`apt::packages`).
    pub fn apt_packages(&self) -> &[apt::PackageIndex<'a>] {
        self.apt_packages.get_or_init(|| apt::packages(self.fleet))
    }

    /// Every finding's view, most severe and oldest first (`findings::views`).
    pub fn findings(&self) -> &[findings::FindingView<'a>] {
        self.findings.get_or_init(|| findings::views(self))
    }

    /// Every closed finding's view, the newest closure first (`findings::closed_views`).
    pub fn closed_findings(&self) -> &[findings::FindingView<'a>] {
        self.closed.get_or_init(|| findings::closed_views(self))
    }

    /// A reason with its words (`reason.txt`).
    pub fn reason_view(&self, r: &Reason) -> view::ReasonView {
        view::ReasonView {
            level: r.level,
            code: r.code,
            text: reason_text(&self.inputs.tera, r),
            values: r.values.clone(),
        }
    }
}

/// One way of writing the site from the same views: HTML pages, the JSON
/// API, the static files. The pipeline runs each as a timed stage; `check`
/// runs none.
pub trait Renderer: Sync {
    /// What the stage is called in `-v` output.
    fn name(&self) -> &'static str;
    fn render(&self, site: &Site, out: &Output) -> Result<()>;
}

/// The HTML pages (`html.rs`).
pub struct Html;
/// The JSON API and its schemas (`api.rs`).
pub struct JsonApi;
/// `static/`, and the built-in files it does not replace.
pub struct StaticFiles<'a>(pub &'a Path);

impl Renderer for Html {
    fn name(&self) -> &'static str {
        "rendering pages"
    }

    fn render(&self, site: &Site, out: &Output) -> Result<()> {
        html::render(site, out)
    }
}

impl Renderer for JsonApi {
    fn name(&self) -> &'static str {
        "writing the JSON API"
    }

    fn render(&self, site: &Site, out: &Output) -> Result<()> {
        api::render(site, out)
    }
}

impl Renderer for StaticFiles<'_> {
    fn name(&self) -> &'static str {
        "copying static files"
    }

    fn render(&self, site: &Site, out: &Output) -> Result<()> {
        copy_static(self.0, out)?;
        // A robots.txt of the site's own in static/ wins.
        if !site.config.site.indexable && !self.0.join("robots.txt").is_file() {
            out.write("robots.txt", b"User-agent: *\nDisallow: /\n")?;
        }
        Ok(())
    }
}

/// A reason in words, from the `reason.txt` template.
fn reason_text(tera: &tera::Tera, reason: &Reason) -> String {
    let mut ctx = tera::Context::new();
    ctx.insert("r", reason);
    match tera.render("reason.txt", &ctx) {
        Ok(text) => text.trim().to_string(),
        Err(e) => format!("{} ({})", reason.code, crate::problem::error_chain(&e)),
    }
}

/// `static/` is copied as it is; the built-in files unless replaced.
pub fn copy_static(dir: &Path, out: &Output) -> Result<()> {
    let mut copied = Vec::new();
    if dir.is_dir() {
        for entry in walkdir::WalkDir::new(dir).min_depth(1).sort_by_file_name() {
            let entry = entry?;
            if !entry.file_type().is_file() {
                continue;
            }
            let rel = entry.path().strip_prefix(dir)?.to_string_lossy().replace('\\', "/");
            let bytes =
                std::fs::read(entry.path()).with_context(|| format!("cannot read {}", entry.path().display()))?;
            out.write(&rel, &bytes)?;
            copied.push(rel);
        }
    }
    for (name, text) in templates::STATIC.iter().filter(|(name, _)| !copied.iter().any(|c| c == name)) {
        out.write(name, text.as_bytes())?;
    }
    Ok(())
}

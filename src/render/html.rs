//! The HTML pages: dashboard, hosts, host, disks, disk, moves, SMART risk,
//! backup-needed homes, problems, and the Markdown pages.
//!
//! Each page says what it shows through a [`Fill`], twice when needed:
//! first into a hash, which is compared with the hash of what the page
//! showed last time (`memo.rs`), then, only when that changed, into Tera's
//! context to be rendered. An unchanged page costs one serialisation into a
//! hash: no context, no template, no write.

use super::output::Output;
use super::view::device_rows;
use super::{chart, Site};
use crate::derive::risk::Verdict;
use anyhow::{anyhow, Result};
use rayon::prelude::*;
use serde::Serialize;
use tera::Context;

/// Where a page's values go: a hash of them, or the context Tera renders.
pub enum Fill {
    Hash(super::memo::ContextHash),
    Context(Context),
}

impl Fill {
    pub fn put<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) {
        match self {
            Fill::Hash(hash) => hash.put(key, value),
            Fill::Context(ctx) => ctx.insert(key, value),
        }
    }

    /// Whether the page is being rendered (not only compared).
    pub fn rendering(&self) -> bool {
        matches!(self, Fill::Context(_))
    }
}

/// What every page shows: the site, the way back to the root, the
/// navigation. Only what every page needs, so that a page whose own facts
/// did not change keeps its bytes.
fn base(site: &Site, fill: &mut Fill, root: &str, section: &str) {
    #[derive(Serialize)]
    struct Nav<'a> {
        title: &'a str,
        page: &'a str,
    }
    fill.put("site", &site.config.site);
    fill.put("root", root);
    fill.put("section", section);
    let nav: Vec<Nav> = site.inputs.pages.iter().map(|p| Nav { title: &p.title, page: &p.page }).collect();
    fill.put("pages", &nav);
    fill.put("problem_count", &site.fleet.problems.len());
    fill.put("version", env!("CARGO_PKG_VERSION"));
}

/// [`base`] for a page about the whole fleet, which says how recent its data is.
fn fleet_base(site: &Site, fill: &mut Fill, root: &str, section: &str) {
    base(site, fill, root, section);
    fill.put("newest", &site.fleet.newest);
}

/// Renders `template`; an error names `what` was being rendered and every cause.
fn render_template(site: &Site, template: &str, ctx: &Context, what: &str) -> Result<String> {
    site.inputs
        .tera
        .render(template, ctx)
        .map_err(|e| anyhow!("cannot render {what}: {}", crate::problem::error_chain(&e)))
}

/// Renders a page, unless it was made from the same values last time and is still there.
fn page(site: &Site, out: &Output, template: &str, path: &str, fill: impl Fn(&mut Fill) -> Result<()>) -> Result<()> {
    let mut hash = Fill::Hash(site.memo.hasher(template));
    fill(&mut hash)?;
    let Fill::Hash(hash) = hash else { unreachable!("filled as a hash") };
    let key = hash.finish();
    if !(site.memo.same(path, &key) && out.keep(path)?) {
        let mut ctx = Fill::Context(Context::new());
        fill(&mut ctx)?;
        let Fill::Context(ctx) = ctx else { unreachable!("filled as a context") };
        let html = render_template(site, template, &ctx, &format!("{path} with {template}"))?;
        out.write(path, html.as_bytes())?;
    }
    site.memo.record(path, key);
    Ok(())
}

pub fn render(site: &Site, out: &Output) -> Result<()> {
    let derived = site.derived;
    let risky = site.views.at_risk();

    page(site, out, "dashboard.html", "index.html", |f| {
        fleet_base(site, f, "", "dashboard");
        f.put("summary", &derived.summary);
        f.put("at_risk", &risky);
        f.put("moves", &derived.moves.iter().take(5).collect::<Vec<_>>());
        f.put("backup", &derived.backup.iter().take(5).collect::<Vec<_>>());
        f.put("hosts", &site.views.hosts);
        Ok(())
    })?;
    page(site, out, "hosts.html", "hosts/index.html", |f| {
        fleet_base(site, f, "../", "hosts");
        f.put("hosts", &site.views.hosts);
        Ok(())
    })?;
    page(site, out, "disks.html", "disks/index.html", |f| {
        fleet_base(site, f, "../", "disks");
        f.put("disks", &site.views.disks);
        Ok(())
    })?;
    page(site, out, "moves.html", "moves.html", |f| {
        fleet_base(site, f, "", "moves");
        f.put("moves", &derived.moves);
        Ok(())
    })?;
    let unknown: Vec<_> = site.views.disks.iter().filter(|d| d.present && d.verdict == Verdict::Unknown).collect();
    page(site, out, "risk.html", "risk.html", |f| {
        fleet_base(site, f, "", "risk");
        f.put("disks", &risky);
        f.put("unknown", &unknown);
        Ok(())
    })?;
    page(site, out, "backup.html", "backup.html", |f| {
        fleet_base(site, f, "", "backup");
        f.put("homes", &derived.backup);
        Ok(())
    })?;
    let failed: Vec<_> =
        site.fleet.hosts.iter().filter(|h| !h.failures.is_empty()).map(|h| (&h.name, &h.slug, &h.failures)).collect();
    page(site, out, "problems.html", "problems.html", |f| {
        fleet_base(site, f, "", "problems");
        f.put("problems", &site.fleet.problems);
        f.put("hosts", &failed);
        Ok(())
    })?;
    for content in &site.inputs.pages {
        page(site, out, "page.html", &content.page, |f| {
            base(site, f, "../", "page");
            f.put("page", content);
            Ok(())
        })?;
    }

    site.fleet.hosts.par_iter().zip(&site.views.hosts).try_for_each(|(host, view)| {
        page(site, out, "host.html", &view.page, |f| {
            base(site, f, "../", "hosts");
            f.put("host", view);
            f.put("detail", &super::api::host_detail(site, host, view));
            f.put("devices", &host.disks.as_ref().map(|d| device_rows(&d.devices)).unwrap_or_default());
            Ok(())
        })
    })?;

    site.fleet.disks.par_iter().zip(&site.views.disks).try_for_each(|(disk, view)| {
        let chart = chart::chart(&disk.sightings);
        page(site, out, "disk.html", &view.page, |f| {
            base(site, f, "../", "disks");
            f.put("disk", view);
            f.put("detail", &super::api::disk_detail(site, disk, view));
            match &chart {
                // The chart's figures decide whether the page changed; its SVG is drawn only to render.
                Some(chart) if f.rendering() => {
                    let mut chart_ctx = Context::new();
                    chart_ctx.insert("chart", chart);
                    f.put("chart", &render_template(site, "chart.svg", &chart_ctx, "chart.svg")?);
                }
                Some(chart) => f.put("chart", chart),
                None => {}
            }
            Ok(())
        })
    })?;

    let mut ctx = Context::new();
    ctx.insert("summary", &derived.summary);
    ctx.insert("site", &site.config.site);
    let llms = render_template(site, "llms.txt", &ctx, "llms.txt")?;
    out.write("llms.txt", llms.as_bytes())?;
    Ok(())
}

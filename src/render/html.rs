//! The HTML pages: dashboard, hosts, host, disks, disk, moves, SMART risk,
//! backup-needed homes, problems, and the Markdown pages.

use super::output::Output;
use super::view::device_rows;
use super::{chart, Site};
use crate::derive::risk::Verdict;
use anyhow::{anyhow, Result};
use rayon::prelude::*;
use tera::Context;

/// What every page shows: the site, the way back to the root, the
/// navigation. Only what every page needs: a page whose own facts did not
/// change keeps its bytes, and is not even rendered again.
fn base(site: &Site, root: &str, section: &str) -> Context {
    #[derive(serde::Serialize)]
    struct Nav<'a> {
        title: &'a str,
        page: &'a str,
    }
    let mut ctx = Context::new();
    ctx.insert("site", &site.config.site);
    ctx.insert("root", root);
    ctx.insert("section", section);
    let nav: Vec<Nav> = site.inputs.pages.iter().map(|p| Nav { title: &p.title, page: &p.page }).collect();
    ctx.insert("pages", &nav);
    ctx.insert("problem_count", &site.fleet.problems.len());
    ctx.insert("version", env!("CARGO_PKG_VERSION"));
    ctx
}

/// [`base`] for a page about the whole fleet, which says how recent its data is.
fn fleet_base(site: &Site, root: &str, section: &str) -> Context {
    let mut ctx = base(site, root, section);
    ctx.insert("newest", &site.fleet.newest);
    ctx
}

/// Renders `template`; an error names `what` was being rendered and every cause.
fn render_template(site: &Site, template: &str, ctx: &Context, what: &str) -> Result<String> {
    site.inputs
        .tera
        .render(template, ctx)
        .map_err(|e| anyhow!("cannot render {what}: {}", crate::problem::error_chain(&e)))
}

/// Renders a page, unless it was made from the same context last time and is still there.
fn page(site: &Site, out: &Output, template: &str, path: &str, ctx: &Context) -> Result<()> {
    let key = site.memo.key(template, ctx);
    if !(site.memo.same(path, &key) && out.keep(path)?) {
        let html = render_template(site, template, ctx, &format!("{path} with {template}"))?;
        out.write(path, html.as_bytes())?;
    }
    site.memo.record(path, key);
    Ok(())
}

pub fn render(site: &Site, out: &Output) -> Result<()> {
    let derived = site.derived;
    let risky = site.views.at_risk();

    let mut ctx = fleet_base(site, "", "dashboard");
    ctx.insert("summary", &derived.summary);
    ctx.insert("at_risk", &risky);
    ctx.insert("moves", &derived.moves.iter().take(5).collect::<Vec<_>>());
    ctx.insert("backup", &derived.backup.iter().take(5).collect::<Vec<_>>());
    ctx.insert("hosts", &site.views.hosts);
    page(site, out, "dashboard.html", "index.html", &ctx)?;

    let mut ctx = fleet_base(site, "../", "hosts");
    ctx.insert("hosts", &site.views.hosts);
    page(site, out, "hosts.html", "hosts/index.html", &ctx)?;

    let mut ctx = fleet_base(site, "../", "disks");
    ctx.insert("disks", &site.views.disks);
    page(site, out, "disks.html", "disks/index.html", &ctx)?;

    let mut ctx = fleet_base(site, "", "moves");
    ctx.insert("moves", &derived.moves);
    page(site, out, "moves.html", "moves.html", &ctx)?;

    let mut ctx = fleet_base(site, "", "risk");
    ctx.insert("disks", &risky);
    ctx.insert(
        "unknown",
        &site.views.disks.iter().filter(|d| d.present && d.verdict == Verdict::Unknown).collect::<Vec<_>>(),
    );
    page(site, out, "risk.html", "risk.html", &ctx)?;

    let mut ctx = fleet_base(site, "", "backup");
    ctx.insert("homes", &derived.backup);
    page(site, out, "backup.html", "backup.html", &ctx)?;

    let mut ctx = fleet_base(site, "", "problems");
    ctx.insert("problems", &site.fleet.problems);
    ctx.insert(
        "hosts",
        &site
            .fleet
            .hosts
            .iter()
            .filter(|h| !h.failures.is_empty())
            .map(|h| (&h.name, &h.slug, &h.failures))
            .collect::<Vec<_>>(),
    );
    page(site, out, "problems.html", "problems.html", &ctx)?;

    for content in &site.inputs.pages {
        let mut ctx = base(site, "../", "page");
        ctx.insert("page", content);
        page(site, out, "page.html", &content.page, &ctx)?;
    }

    site.fleet.hosts.par_iter().zip(&site.views.hosts).try_for_each(|(host, view)| {
        let mut ctx = base(site, "../", "hosts");
        ctx.insert("host", view);
        ctx.insert("detail", &super::api::host_detail(site, host, view));
        ctx.insert("devices", &host.disks.as_ref().map(|d| device_rows(&d.devices)).unwrap_or_default());
        page(site, out, "host.html", &view.page, &ctx)
    })?;

    site.fleet.disks.par_iter().zip(&site.views.disks).try_for_each(|(disk, view)| {
        let mut ctx = base(site, "../", "disks");
        ctx.insert("disk", view);
        ctx.insert("detail", &super::api::disk_detail(site, disk, view));
        if let Some(chart) = chart::chart(&disk.sightings) {
            let mut chart_ctx = Context::new();
            chart_ctx.insert("chart", &chart);
            let svg = render_template(site, "chart.svg", &chart_ctx, "chart.svg")?;
            ctx.insert("chart", &svg);
        }
        page(site, out, "disk.html", &view.page, &ctx)
    })?;

    let mut ctx = Context::new();
    ctx.insert("summary", &derived.summary);
    ctx.insert("site", &site.config.site);
    let llms = render_template(site, "llms.txt", &ctx, "llms.txt")?;
    out.write("llms.txt", llms.as_bytes())?;
    Ok(())
}

//! The HTML pages: dashboard, hosts, host, disks, disk, moves, SMART risk,
//! backup-needed homes, problems, and the Markdown pages.
//!
//! Each page says what it shows through a [`Fill`], twice when needed:
//! first into a hash, which is compared with the hash of what the page
//! showed last time (`memo.rs`), then, only when that changed, into Tera's
//! context to be rendered. An unchanged page costs one serialisation into a
//! hash: no context, no template, no write.

use super::apt;
use super::detail::{disk_detail, host_detail, History};
use super::output::Output;
use super::published::{self, BackupNeeded, Move, Summary};
use super::view::device_rows;
use super::{chart, DiskParts, HostParts, Site};
use crate::derive::apt::Status;
use crate::derive::risk::Verdict;
use anyhow::{anyhow, Result};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashMap;
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
    let nav: Vec<Nav> =
        site.inputs.pages.iter().filter(|p| p.nav).map(|p| Nav { title: &p.title, page: &p.page }).collect();
    fill.put("pages", &nav);
    fill.put("problem_count", &site.fleet.problems.len());
    fill.put("version", env!("CARGO_PKG_VERSION"));
}

/// [`base`] for a page about the whole fleet, which says how recent its data is.
fn fleet_base(site: &Site, fill: &mut Fill, root: &str, section: &str) {
    base(site, fill, root, section);
    as_of(fill, "fleet", site.fleet.newest);
}

/// What the footer dates the page's data by: the fleet's newest snapshot, or
/// the host's, or the disk's newest sighting (so that a host page changes
/// with its host, not with the fleet).
fn as_of(fill: &mut Fill, of: &str, newest: Option<crate::time::Instant>) {
    fill.put("as_of", of);
    fill.put("newest", &newest);
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
    site.memo.write(out, path, key(site, template, &fill)?, || made(site, template, path, &fill))
}

/// [`page`] for a page dated by `newest`, its subject's newest data: made
/// without hashing its values when that changed (`RenderMemo::write_dated`).
fn dated_page(
    site: &Site,
    out: &Output,
    template: &str,
    path: &str,
    newest: Option<crate::time::Instant>,
    fill: impl Fn(&mut Fill) -> Result<()>,
) -> Result<()> {
    let newest = newest.map_or_else(String::new, |t| t.0.to_string());
    site.memo.write_dated(out, path, &newest, || key(site, template, &fill), || made(site, template, path, &fill))
}

/// The hash of what `fill` puts into a page of `template`.
fn key(site: &Site, template: &str, fill: &impl Fn(&mut Fill) -> Result<()>) -> Result<String> {
    let mut hash = Fill::Hash(site.memo.hasher(template));
    fill(&mut hash)?;
    let Fill::Hash(hash) = hash else { unreachable!("filled as a hash") };
    Ok(hash.finish())
}

/// The page `template` makes of what `fill` puts into its context.
fn made(site: &Site, template: &str, path: &str, fill: &impl Fn(&mut Fill) -> Result<()>) -> Result<Vec<u8>> {
    let mut ctx = Fill::Context(Context::new());
    fill(&mut ctx)?;
    let Fill::Context(ctx) = ctx else { unreachable!("filled as a context") };
    Ok(render_template(site, template, &ctx, &format!("{path} with {template}"))?.into_bytes())
}

/// Rows per page of a list: a page stays well under a megabyte at any fleet size.
pub const ROWS: usize = 500;

/// Where a list's page is, and the way to the others.
#[derive(Serialize)]
struct Pager {
    page: usize,
    pages: usize,
    /// Rows in the whole list.
    total: usize,
    /// Every page of the list, from the site's root.
    paths: Vec<String>,
}

/// The path of page `n` of the list whose first page is `first`:
/// `hosts/index.html` → `hosts/page-2.html`, `risk.html` → `risk-2.html`.
pub(super) fn page_path(first: &str, n: usize) -> String {
    match (n, first.strip_suffix("/index.html"), first.strip_suffix(".html")) {
        (1, _, _) => first.to_string(),
        (_, Some(folder), _) => format!("{folder}/page-{n}.html"),
        (_, None, Some(stem)) => format!("{stem}-{n}.html"),
        _ => format!("{first}-{n}"),
    }
}

/// A list in pages of [`ROWS`]: `fill` says what each page shows besides its rows.
fn paged<T: Serialize>(
    site: &Site,
    out: &Output,
    template: &str,
    first: &str,
    items: &[T],
    fill: impl Fn(&mut Fill, &[T], bool),
) -> Result<()> {
    let pages = items.len().div_ceil(ROWS).max(1);
    let paths: Vec<String> = (1..=pages).map(|n| page_path(first, n)).collect();
    for (i, path) in paths.iter().enumerate() {
        let rows = &items[(i * ROWS).min(items.len())..((i + 1) * ROWS).min(items.len())];
        page(site, out, template, path, |f| {
            fill(f, rows, i == 0);
            f.put("pager", &Pager { page: i + 1, pages, total: items.len(), paths: paths.clone() });
            Ok(())
        })?;
    }
    Ok(())
}

/// The dashboard's pictures, over the window closed findings are kept for:
/// findings open, and hosts with security updates pending, at each day's end.
fn fleet_charts(site: &Site) -> Vec<chart::Chart> {
    let Some(now) = site.fleet.now() else { return Vec::new() };
    let from = crate::time::Instant(now.0 - site.config.findings.closed_days as i64 * 86_400);
    let findings = site.findings().iter().chain(site.closed_findings());
    let spans: Vec<(i64, i64)> = findings.map(|f| (f.since.0, f.closed.map_or(i64::MAX, |c| c.0))).collect();
    let mut security: Vec<(i64, i64)> = Vec::new();
    for apt in site.fleet.hosts.iter().filter_map(|h| h.apt.as_ref()) {
        let spells = apt.spells.iter().filter(|s| s.condition == crate::fleet::Condition::SecurityUpdates);
        security.extend(spells.map(|s| (s.from.0, s.to.0)));
        security.extend(apt.security_since.map(|s| (s.0, i64::MAX)));
    }
    // How many spans (from, to) hold `t`.
    let holding =
        |spans: &[(i64, i64)], t: crate::time::Instant| spans.iter().filter(|(a, b)| *a <= t.0 && t.0 < *b).count();
    [
        chart::per_day("findings", from, now, |t| holding(&spans, t)),
        chart::per_day("security", from, now, |t| holding(&security, t)),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// How many entries the dashboard shows of each list before it links to the whole list.
const DASHBOARD_ROWS: usize = 50;

pub fn render(site: &Site, out: &Output) -> Result<()> {
    let risky = site.views.at_risk();
    let (summary, moves, backup) = (Summary::of(site), Move::list(site), BackupNeeded::list(site));

    // The dashboard: what needs attention first, never the whole fleet.
    let attention: Vec<_> =
        site.views.hosts.iter().filter(|h| h.stale || matches!(h.verdict, Verdict::Failing | Verdict::Watch)).collect();
    let apt_hosts = site.apt_hosts();
    /// The dashboard's APT card: how many hosts, and of them how many need something.
    #[derive(Serialize)]
    struct AptCard {
        hosts: usize,
        security: usize,
        reboot: usize,
        attention: usize,
    }
    let apt_counts = AptCard {
        hosts: apt_hosts.len(),
        security: apt_hosts.iter().filter(|h| h.security > 0).count(),
        reboot: apt_hosts.iter().filter(|h| h.reboot_required).count(),
        attention: apt_hosts.iter().filter(|h| matches!(h.status, Status::Error | Status::Warning)).count(),
    };
    let findings = super::findings::rows(site.findings(), "findings.html", ROWS);
    // The closed ones are listed after the open ones, on the first page, at most a page of them.
    let closed = super::findings::rows(site.closed_findings(), "findings.html", usize::MAX);
    let closed = &closed[..closed.len().min(ROWS)];
    paged(site, out, "findings.html", "findings.html", &findings, |f, rows, first| {
        fleet_base(site, f, "", "findings");
        f.put("findings", rows);
        f.put("closed", if first { closed } else { &[] });
        f.put("closed_total", &site.closed_findings().len());
        f.put("closed_days", &site.config.findings.closed_days);
    })?;
    let mut ctx = Context::new();
    ctx.insert("site", &site.config.site);
    ctx.insert("findings", &findings);
    // A critical finding that closes is news too.
    let critical: Vec<_> =
        closed.iter().filter(|r| r.view.severity == crate::derive::findings::Severity::Critical).collect();
    ctx.insert("closed", &critical);
    ctx.insert("feed_id", &crate::slug::slug(&site.config.site.title));
    ctx.insert(
        "updated",
        &findings.iter().chain(critical.iter().copied()).map(|f| f.updated).max().or(site.fleet.newest),
    );
    ctx.insert("version", env!("CARGO_PKG_VERSION"));
    out.write("findings.atom", render_template(site, "findings.atom", &ctx, "findings.atom")?.as_bytes())?;
    let charts = fleet_charts(site);
    page(site, out, "dashboard.html", "index.html", |f| {
        fleet_base(site, f, "", "dashboard");
        f.put("charts", &charts);
        f.put("findings", &findings[..findings.len().min(DASHBOARD_ROWS)]);
        f.put("findings_total", &findings.len());
        f.put("summary", &summary);
        f.put("apt", &apt_counts);
        f.put("at_risk", &risky.iter().take(DASHBOARD_ROWS).collect::<Vec<_>>());
        f.put("at_risk_total", &risky.len());
        f.put("moves", &moves[..moves.len().min(5)]);
        f.put("backup", &backup[..backup.len().min(5)]);
        f.put("hosts", &attention.iter().take(DASHBOARD_ROWS).collect::<Vec<_>>());
        f.put("attention_total", &attention.len());
        Ok(())
    })?;
    paged(site, out, "hosts.html", "hosts/index.html", &site.views.hosts, |f, rows, _| {
        fleet_base(site, f, "../", "hosts");
        f.put("hosts", rows);
    })?;
    paged(site, out, "disks.html", "disks/index.html", &site.views.disks, |f, rows, _| {
        fleet_base(site, f, "../", "disks");
        f.put("disks", rows);
    })?;
    paged(site, out, "moves.html", "moves.html", &moves, |f, rows, _| {
        fleet_base(site, f, "", "moves");
        f.put("moves", rows);
    })?;
    let unknown: Vec<_> = site.views.disks.iter().filter(|d| d.present && d.verdict == Verdict::Unknown).collect();
    paged(site, out, "risk.html", "risk.html", &risky, |f, rows, first| {
        fleet_base(site, f, "", "risk");
        f.put("disks", rows);
        // Disks without SMART: on the first page, as many as a page holds.
        f.put("unknown", if first { &unknown[..unknown.len().min(ROWS)] } else { &[] });
        f.put("unknown_total", &unknown.len());
    })?;
    let healthy = BackupNeeded::healthy(site);
    paged(site, out, "backup.html", "backup.html", &backup, |f, rows, first| {
        fleet_base(site, f, "", "backup");
        f.put("homes", rows);
        // Homes on healthy disks: on the first page, as many as a page holds.
        f.put("healthy", if first { &healthy[..healthy.len().min(ROWS)] } else { &[] });
        f.put("healthy_total", &healthy.len());
    })?;
    /// A host whose newest snapshots hold failed probes.
    #[derive(Serialize)]
    struct Failed<'a> {
        name: &'a str,
        slug: &'a str,
        failures: Vec<published::Failure<'a>>,
    }
    let failed: Vec<Failed> = (site.hosts().into_iter())
        .filter(|h| !h.host.failures.is_empty())
        .map(|HostParts { host, view, .. }| Failed {
            name: &view.name,
            slug: &view.slug,
            failures: published::all(&host.failures, published::Failure::of),
        })
        .collect();
    let problems = published::all(&site.fleet.problems, published::Problem::of);
    paged(site, out, "problems.html", "problems.html", &problems, |f, rows, first| {
        fleet_base(site, f, "", "problems");
        f.put("problems", rows);
        f.put("hosts", if first { &failed[..failed.len().min(ROWS)] } else { &[] });
    })?;
    // Search: the page, and the index it reads.
    page(site, out, "search.html", "search.html", |f| {
        fleet_base(site, f, "", "search");
        Ok(())
    })?;
    out.write("search-index.js", &super::search::index(site, &findings))?;
    // What a web server shows for an address the site does not have.
    page(site, out, "404.html", "404.html", |f| {
        fleet_base(site, f, "", "404");
        Ok(())
    })?;
    for content in &site.inputs.pages {
        page(site, out, "page.html", &content.page, |f| {
            base(site, f, "../", "page");
            f.put("page", content);
            Ok(())
        })?;
    }

    let mut host_findings: HashMap<&str, Vec<&super::findings::Row>> = HashMap::new();
    for row in &findings {
        host_findings.entry(row.view.host).or_default().push(row);
    }
    site.hosts().into_par_iter().try_for_each(|HostParts { host, view, apt }| {
        // Made once, for the hash and, when it changed, for the page.
        let detail = host_detail(site, host, view, History::Summary);
        let devices = host.disks.as_ref().map(|d| device_rows(&d.devices)).unwrap_or_default();
        let filesystems = chart::filesystems(&host.timeline);
        dated_page(site, out, "host.html", &view.page, Some(host.last_seen), |f| {
            base(site, f, "../", "hosts");
            as_of(f, "host", Some(host.last_seen));
            f.put("host", view);
            f.put("apt_status", &apt.map(|a| a.status));
            // Its newest APT update, linked to the Updates page.
            #[derive(Serialize)]
            struct LastUpdate<'u> {
                at: crate::time::Instant,
                outcome: crate::snapshot::update::Outcome,
                action: &'u str,
            }
            let last =
                host.updates.last().map(|u| LastUpdate { at: u.at, outcome: u.run.outcome, action: &u.run.action });
            f.put("last_update", &last);
            f.put("findings", host_findings.get(host.name.as_str()).map_or(&[][..], Vec::as_slice));
            f.put("detail", &detail);
            f.put("timeline_total", &host.timeline.len());
            f.put("devices", &devices);
            f.put("filesystems_chart", &filesystems);
            Ok(())
        })
    })?;

    site.disks().into_par_iter().try_for_each(|DiskParts { disk, view }| {
        let charts = chart::smart(&disk.sightings);
        let detail = disk_detail(site, disk, view, History::Summary);
        let newest = disk.sightings.last().map(|s| s.at);
        dated_page(site, out, "disk.html", &view.page, newest, |f| {
            base(site, f, "../", "disks");
            as_of(f, "disk", newest);
            f.put("disk", view);
            f.put("detail", &detail);
            f.put("sightings_total", &disk.sightings.len());
            // A summary keeps the oldest sighting, last. Not a `last` filter:
            // Tera's copies the whole list to take one.
            f.put("first", &detail.sightings.last());
            // Drawn by the `chart` macro of `macros.html`; the steady ones said in words.
            f.put("charts", &charts.charts);
            f.put("steady", &charts.steady);
            Ok(())
        })
    })?;

    render_apt(site, out)?;

    #[derive(Serialize)]
    struct Job<'a> {
        slug: String,
        #[serde(flatten)]
        view: &'a super::archive::JobView<'a>,
    }
    let jobs = super::archive::jobs(site);
    let jobs: Vec<Job> = jobs.iter().map(|view| Job { slug: crate::slug::slug(view.job), view }).collect();
    page(site, out, "archives.html", "archives.html", |f| {
        fleet_base(site, f, "", "archives");
        f.put("jobs", &jobs);
        Ok(())
    })?;
    let updates = super::updates::updates(site);
    page(site, out, "updates.html", "updates.html", |f| {
        fleet_base(site, f, "", "updates");
        f.put("updates", &updates);
        Ok(())
    })?;

    let mut ctx = Context::new();
    ctx.insert("summary", &summary);
    ctx.insert("site", &site.config.site);
    let llms = render_template(site, "llms.txt", &ctx, "llms.txt")?;
    out.write("llms.txt", llms.as_bytes())?;
    Ok(())
}

/// The APT pages: the overview, one page per host, the package index.
fn render_apt(site: &Site, out: &Output) -> Result<()> {
    let hosts = site.apt_hosts();
    let count = |status: Status| hosts.iter().filter(|h| h.status == status).count();
    #[derive(Serialize)]
    struct StatusCount {
        status: Status,
        hosts: usize,
    }
    let counts = [Status::Error, Status::Warning, Status::Updates, Status::Ok]
        .map(|status| StatusCount { status, hosts: count(status) });
    let reboots = hosts.iter().filter(|h| h.reboot_required).count();
    let security = hosts.iter().filter(|h| h.security > 0).count();
    paged(site, out, "apt.html", "apt/index.html", hosts, |f, rows, _| {
        fleet_base(site, f, "../", "apt");
        f.put("hosts", rows);
        f.put("counts", &counts);
        f.put("reboots", &reboots);
        f.put("security_hosts", &security);
        f.put("not_apt", &(site.fleet.hosts.len() - hosts.len()));
    })?;
    let by_name: std::collections::HashMap<&str, &apt::AptHost> = hosts.iter().map(|h| (h.host.as_str(), h)).collect();
    site.fleet.hosts.par_iter().try_for_each(|host| {
        let Some(view) = by_name.get(host.name.as_str()) else { return Ok(()) };
        let history = host.apt.as_ref().expect("a host with an APT view has an APT history");
        // The newest changes: a page stays small however long the history.
        let changes: Vec<apt::Change> =
            history.changes.iter().rev().take(APT_CHANGES).map(|c| apt::change(host, c)).collect();
        let newest = &history.newest;
        page(site, out, "apt-host.html", &view.page, |f| {
            base(site, f, "../", "apt");
            as_of(f, "host", history.at);
            f.put("apt", view);
            f.put("host_page", &format!("hosts/{}.html", view.slug));
            f.put("pending", &apt::pending(host));
            f.put("held", &newest.held);
            f.put("kept_back", &newest.upgrade.as_ref().map(|s| &s.kept_back));
            f.put("phased", &newest.upgrade.as_ref().map(|s| &s.phased));
            f.put("changes", &changes);
            f.put("changes_total", &history.changes.len());
            f.put("anomalies", &history.anomalies.iter().map(apt::Anomaly::of).collect::<Vec<_>>());
            f.put("reboots", &host.reboots.iter().rev().map(published::Reboot::of).collect::<Vec<_>>());
            f.put("reboot_packages", &newest.reboot_packages);
            f.put("needrestart", &newest.needrestart.as_ref().map(apt::Kernel::of));
            Ok(())
        })
    })?;
    // One row per package: each version with how many hosts run it, named
    // when they are few (the page stays small; packages.json has every host).
    #[derive(Serialize)]
    struct Row<'a> {
        package: &'a str,
        versions: Vec<VersionRow<'a>>,
        pending: usize,
        security: usize,
    }
    /// A version, how many hosts run it, and their names when they are few.
    #[derive(Serialize)]
    struct VersionRow<'a> {
        version: &'a str,
        hosts: usize,
        named: Vec<&'a str>,
    }
    const NAMED: usize = 5;
    let packages = site.apt_packages();
    let rows: Vec<Row> = packages
        .iter()
        .map(|p| Row {
            package: &p.package,
            versions: (p.versions.iter())
                .map(|v| VersionRow {
                    version: &v.version,
                    hosts: v.hosts.len(),
                    named: if v.hosts.len() <= NAMED { v.hosts.clone() } else { Vec::new() },
                })
                .collect(),
            pending: p.pending.len(),
            security: p.pending.iter().filter(|x| x.security).count(),
        })
        .collect();
    page(site, out, "apt-packages.html", "apt/packages.html", |f| {
        fleet_base(site, f, "../", "apt");
        f.put("packages", &rows);
        Ok(())
    })
}

/// The newest package changes a host's APT page lists; `apt/changes.json` has them all.
const APT_CHANGES: usize = 200;

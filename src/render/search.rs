//! The search index every page's search box looks through
//! (`search-index.js`, read by `static/parc.js` on `search.html`): each
//! host, disk, package and finding as `[kind, label, detail, where]`, a
//! script rather than JSON so that it loads from a site opened as files.

use super::findings::Row;
use super::Site;
use serde::Serialize;

#[derive(Serialize)]
struct Entry<'a>(&'static str, &'a str, &'a str, &'a str);

/// The bytes of `search-index.js`.
pub fn index(site: &Site, findings: &[Row]) -> Vec<u8> {
    let views = &site.views;
    let mut entries: Vec<Entry> = Vec::with_capacity(views.hosts.len() + views.disks.len() + findings.len());
    entries.extend(views.hosts.iter().map(|h| Entry("h", &h.name, h.os.as_deref().unwrap_or_default(), &h.slug)));
    entries.extend(views.disks.iter().map(|d| {
        let label = d.model.as_deref().unwrap_or(&d.id);
        Entry("d", label, d.serial.as_deref().unwrap_or_default(), &d.slug)
    }));
    entries.extend(site.apt_packages().iter().map(|p| Entry("p", &p.package, "", &p.package)));
    let places: Vec<String> = findings.iter().map(|r| format!("{}#{}", r.page, r.slug)).collect();
    entries.extend(findings.iter().zip(&places).map(|(r, at)| Entry("f", &r.view.text, r.view.host, at)));
    let mut out = b"window.parcSearchIndex=".to_vec();
    serde_json::to_writer(&mut out, &entries).expect("names and texts are JSON");
    // `</script>` in a name cannot end a script: the index is its own file.
    out.extend_from_slice(b";\n");
    out
}

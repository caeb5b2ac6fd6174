//! Templates: the built-in ones are compiled into the binary; a file of the
//! same name in the site's `templates/` folder replaces one, and new names add.

use anyhow::{Context, Result};
use std::collections::HashMap;
use std::path::Path;
use tera::{Tera, Value};

macro_rules! builtin {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/", $name)))),*]
    };
}

/// The built-in templates, by name.
pub const BUILTIN: &[(&str, &str)] = builtin![
    "base.html",
    "dashboard.html",
    "hosts.html",
    "host.html",
    "disks.html",
    "disk.html",
    "moves.html",
    "risk.html",
    "backup.html",
    "problems.html",
    "404.html",
    "search.html",
    "serve.html",
    "apt.html",
    "apt-host.html",
    "apt-packages.html",
    "archives.html",
    "updates.html",
    "findings.html",
    "findings.atom",
    "finding.txt",
    "finding-closed.txt",
    "badge.txt",
    "findings-mail.txt",
    "page.html",
    "macros.html",
    "reason.txt",
    "llms.txt",
    "archive-log.txt",
    "update-log.txt",
    "archive-mail.txt",
];

/// Built-in static files, written unless `static/` has a file of the same name.
pub const STATIC: &[(&str, &str)] = &[
    ("style.css", include_str!("../../static/style.css")),
    ("favicon.svg", include_str!("../../static/favicon.svg")),
    ("parc.js", include_str!("../../static/parc.js")),
];

/// The built-in templates alone: what a run's log is written with when the
/// templates folder cannot be read.
pub fn builtin() -> Result<Tera> {
    compile(BUILTIN.iter().map(|(n, s)| (n.to_string(), s.to_string())).collect())
}

pub fn load(dir: &Path) -> Result<Tera> {
    let mut sources: Vec<(String, String)> = BUILTIN.iter().map(|(n, s)| (n.to_string(), s.to_string())).collect();
    if dir.is_dir() {
        let mut overrides = Vec::new();
        for entry in walkdir::WalkDir::new(dir).min_depth(1).sort_by_file_name() {
            let entry = entry.with_context(|| format!("cannot read templates folder {}", dir.display()))?;
            // The folder's README.md explains it: not a template.
            if !entry.file_type().is_file() || entry.file_name() == "README.md" {
                continue;
            }
            let name = entry.path().strip_prefix(dir)?.to_string_lossy().replace('\\', "/");
            let text = std::fs::read_to_string(entry.path())
                .with_context(|| format!("cannot read template {}", entry.path().display()))?;
            overrides.push((name, text));
        }
        for (name, text) in overrides {
            match sources.iter_mut().find(|(n, _)| *n == name) {
                Some(slot) => slot.1 = text,
                None => sources.push((name, text)),
            }
        }
    }
    compile(sources)
}

fn compile(sources: Vec<(String, String)>) -> Result<Tera> {
    let mut tera = Tera::default();
    tera.autoescape_on(vec![".html", ".svg", ".atom"]);
    tera.set_escape_fn(escape);
    tera.add_raw_templates(sources)
        .map_err(|e| anyhow::anyhow!("invalid template: {}", crate::problem::error_chain(&e)))?;
    tera.register_filter("bytes", bytes);
    tera.register_filter("when", when);
    tera.register_filter("day", day);
    tera.register_filter("rfc3339", rfc3339);
    Ok(tera)
}

/// Escapes what can break out of text or a quoted attribute. Tera's own
/// escaping also turns every `/` into `&#x2F;`, which bloats every link.
fn escape(input: &str) -> String {
    let special = |b: &u8| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'');
    // Most values (names, numbers, dates) have nothing to escape.
    let Some(first) = input.bytes().position(|b| special(&b)) else {
        return input.to_string();
    };
    let mut out = String::with_capacity(input.len() + 16);
    out.push_str(&input[..first]);
    // The special characters are ASCII: the text between them is cut at
    // character boundaries.
    let mut from = first;
    for (at, b) in input.bytes().enumerate().skip(first).filter(|(_, b)| special(b)) {
        out.push_str(&input[from..at]);
        out.push_str(match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => "&#39;",
        });
        from = at + 1;
    }
    out.push_str(&input[from..]);
    out
}

/// `1234567890` → `1.23 GB` (decimal, as drives are sold).
fn bytes(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    let Some(n) = value.as_u64() else {
        return Ok(Value::String(String::new()));
    };
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut size = n as f64;
    let mut unit = 0;
    while size >= 1000.0 && unit < UNITS.len() - 1 {
        size /= 1000.0;
        unit += 1;
    }
    Ok(Value::String(if unit == 0 { format!("{n} B") } else { format!("{size:.2} {}", UNITS[unit]) }))
}

/// An instant (seconds) → `2026-11-21 02:00 UTC`.
fn when(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    let Some(t) = value.as_i64() else {
        return Ok(Value::String(String::new()));
    };
    let iso = crate::time::Instant(t).rfc3339();
    // No-break spaces: a date and its time never wrap over lines in a narrow column.
    Ok(Value::String(format!("{}\u{a0}{}\u{a0}UTC", &iso[..10], &iso[11..16])))
}

/// An instant (seconds) → `2026-11-21T02:00:00Z` (Atom's dates).
fn rfc3339(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    Ok(Value::String(value.as_i64().map(|t| crate::time::Instant(t).rfc3339()).unwrap_or_default()))
}

/// An instant (seconds) → `2026-11-21`.
fn day(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    let Some(t) = value.as_i64() else {
        return Ok(Value::String(String::new()));
    };
    Ok(Value::String(crate::time::Instant(t).date()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_what_breaks_out_of_text_or_an_attribute_and_keeps_the_rest() {
        assert_eq!(super::escape("plain · é/ok"), "plain · é/ok");
        assert_eq!(
            super::escape("é<script>alert('x&y')</script>\"ü"),
            "é&lt;script&gt;alert(&#39;x&amp;y&#39;)&lt;/script&gt;&quot;ü"
        );
        assert_eq!(super::escape("&"), "&amp;");
        assert_eq!(super::escape(""), "");
    }
}

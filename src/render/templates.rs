//! Templates: the built-in ones are compiled into the binary; a file of the
//! same name in the site's `templates/` folder replaces one, and new names add.

pub use crate::config::Language;
use anyhow::{Context, Result};
use std::collections::HashMap;
use std::path::Path;
use tera::{Tera, Value};

macro_rules! builtin {
    ($($name:literal),* $(,)?) => {
        /// The built-in templates, by name.
        pub const BUILTIN: &[(&str, &str)] = &[$(($name, include_str!(concat!("../../templates/", $name)))),*];
        /// Their French (`templates/fr/`), by the same names: every one has its translation.
        pub const BUILTIN_FR: &[(&str, &str)] = &[$(($name, include_str!(concat!("../../templates/fr/", $name)))),*];
    };
}

builtin![
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
pub fn builtin(language: Language) -> Result<Tera> {
    compile(sources(language), language)
}

pub fn load(dir: &Path, language: Language) -> Result<Tera> {
    let mut sources = sources(language);
    if dir.is_dir() {
        let mut overrides = Vec::new();
        for entry in walkdir::WalkDir::new(dir).min_depth(1).sort_by_file_name() {
            let entry = entry.with_context(|| format!("cannot read templates folder {}", dir.display()))?;
            // The folder's README.md explains it: not a template.
            if !entry.file_type().is_file() || entry.file_name() == "README.md" {
                continue;
            }
            let name = entry.path().strip_prefix(dir)?.to_string_lossy().replace('\\', "/");
            // A language's own folder (`fr/`) holds its templates; the others, English's.
            let name = match (language.folder(), Language::of_folder(&name)) {
                (Some(folder), Some(_)) => match name.strip_prefix(folder).and_then(|n| n.strip_prefix('/')) {
                    Some(rest) => rest.to_string(),
                    None => continue,
                },
                (Some(_), None) | (None, Some(_)) => continue,
                (None, None) => name,
            };
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
    compile(sources, language)
}

/// The built-in templates of `language`.
fn sources(language: Language) -> Vec<(String, String)> {
    let own: &[(&str, &str)] = match language {
        Language::En => &[],
        Language::Fr => BUILTIN_FR,
    };
    (BUILTIN.iter())
        .map(|(n, s)| (n.to_string(), own.iter().find(|(o, _)| o == n).map_or(*s, |(_, t)| *t).to_string()))
        .collect()
}

fn compile(sources: Vec<(String, String)>, language: Language) -> Result<Tera> {
    let mut tera = Tera::default();
    tera.autoescape_on(vec![".html", ".svg", ".atom"]);
    tera.set_escape_fn(escape);
    tera.add_raw_templates(sources)
        .map_err(|e| anyhow::anyhow!("invalid template: {}", crate::problem::error_chain(&e)))?;
    tera.register_filter("bytes", move |v: &Value, _: &HashMap<String, Value>| bytes(v, language));
    tera.register_filter("when", move |v: &Value, _: &HashMap<String, Value>| when(v, language));
    tera.register_filter("day", move |v: &Value, _: &HashMap<String, Value>| day(v, language));
    tera.register_filter("number", move |v: &Value, _: &HashMap<String, Value>| number(v, language));
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

/// `1234567890` → `1.23 GB` (decimal, as drives are sold); in French `1,23 Go`.
fn bytes(value: &Value, language: Language) -> tera::Result<Value> {
    let Some(n) = value.as_u64() else {
        return Ok(Value::String(String::new()));
    };
    let units: [&str; 7] = match language {
        Language::En => ["B", "kB", "MB", "GB", "TB", "PB", "EB"],
        Language::Fr => ["o", "ko", "Mo", "Go", "To", "Po", "Eo"],
    };
    let mut size = n as f64;
    let mut unit = 0;
    while size >= 1000.0 && unit < units.len() - 1 {
        size /= 1000.0;
        unit += 1;
    }
    let figure = if unit == 0 { n.to_string() } else { format!("{size:.2}") };
    Ok(Value::String(match language {
        Language::En => format!("{figure} {}", units[unit]),
        Language::Fr => format!("{}\u{a0}{}", figure.replace('.', ","), units[unit]),
    }))
}

/// A whole number: as it is in English, `1 234 567` in French (narrow no-break spaces).
fn number(value: &Value, language: Language) -> tera::Result<Value> {
    let Some(n) = value.as_i64() else {
        return Ok(value.clone());
    };
    let digits = n.unsigned_abs().to_string();
    let grouped = match language {
        Language::En => digits,
        Language::Fr => {
            let mut out = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i) % 3 == 0 {
                    out.push('\u{202f}');
                }
                out.push(c);
            }
            out
        }
    };
    Ok(Value::String(if n < 0 { format!("-{grouped}") } else { grouped }))
}

/// An instant (seconds) of a template's value, as a date and time in UTC.
fn civil(value: &Value) -> Option<jiff::civil::DateTime> {
    crate::time::Instant(value.as_i64()?).civil()
}

/// `2026-11-21` in the language's form: as it is, or `21 nov. 2026`.
fn date(t: &jiff::civil::DateTime, language: Language) -> String {
    match language {
        Language::En => crate::time::ymd(t),
        Language::Fr => {
            const MONTHS: [&str; 12] =
                ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."];
            let month = MONTHS[usize::try_from(t.month() - 1).unwrap_or(0).min(11)];
            format!("{}\u{a0}{month}\u{a0}{}", t.day(), t.year())
        }
    }
}

/// An instant (seconds) → `2026-11-21 02:00 UTC`, `21 nov. 2026, 02:00 UTC`.
fn when(value: &Value, language: Language) -> tera::Result<Value> {
    let Some(t) = civil(value) else {
        return Ok(Value::String(String::new()));
    };
    let (day, hour, minute) = (date(&t, language), t.hour(), t.minute());
    // French joins a date's parts with no-break spaces, as its typography does;
    // English keeps plain ones (its mails stay 7-bit).
    Ok(Value::String(match language {
        Language::En => format!("{day} {hour:02}:{minute:02} UTC"),
        Language::Fr => format!("{day},\u{a0}{hour:02}:{minute:02}\u{a0}UTC"),
    }))
}

/// An instant (seconds) → `2026-11-21T02:00:00Z` (Atom's dates).
fn rfc3339(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    Ok(Value::String(value.as_i64().map(|t| crate::time::Instant(t).rfc3339()).unwrap_or_default()))
}

/// An instant (seconds) → `2026-11-21`, `21 nov. 2026`.
fn day(value: &Value, language: Language) -> tera::Result<Value> {
    Ok(Value::String(civil(value).map(|t| date(&t, language)).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    /// Each French template translates the English one as it is now:
    /// `templates/fr/README.md` names the English text it was made from.
    #[test]
    fn every_translation_is_of_the_english_template_as_it_is() {
        use sha2::{Digest, Sha256};
        let stamps = include_str!("../../templates/fr/README.md");
        let mut stale = Vec::new();
        for (name, english) in super::BUILTIN {
            let hash = format!("{:x}", Sha256::digest(english.as_bytes()));
            let line = format!("| `{name}` | `{}` |", &hash[..16]);
            if !stamps.contains(&line) {
                stale.push(line);
            }
        }
        assert!(
            stale.is_empty(),
            "these English templates changed since their French was written: translate what changed in \
             templates/fr/, then write these lines in templates/fr/README.md:\n{}",
            stale.join("\n")
        );
    }

    #[test]
    fn french_numbers_and_dates() {
        use super::{bytes, number, when, Language::Fr};
        let v = |n: i64| serde_json::json!(n);
        assert_eq!(bytes(&v(1_234_500_000_000), Fr).unwrap(), "1,23\u{a0}To");
        assert_eq!(bytes(&v(512), Fr).unwrap(), "512\u{a0}o");
        assert_eq!(number(&v(1_234_567), Fr).unwrap(), "1\u{202f}234\u{202f}567");
        assert_eq!(number(&v(999), Fr).unwrap(), "999");
        // 2026-12-02T14:05:00Z
        assert_eq!(when(&v(1_796_220_300), Fr).unwrap(), "2\u{a0}déc.\u{a0}2026,\u{a0}14:05\u{a0}UTC");
    }

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

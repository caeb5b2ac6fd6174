//! APT sources: one-line `sources.list` entries and deb822 `.sources` stanzas.
//! Commented-out lines are not sources; a stanza with `Enabled: no` is kept,
//! marked disabled.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// The file it is written in.
    pub file: String,
    /// `deb`, `deb-src`.
    pub types: Vec<String>,
    pub uris: Vec<String>,
    pub suites: Vec<String>,
    pub components: Vec<String>,
    pub enabled: bool,
}

pub fn parse(file: &str, text: &str) -> Vec<Source> {
    if file.ends_with(".sources") {
        deb822(file, text)
    } else {
        one_line(file, text)
    }
}

/// `deb [options] URI SUITE [COMPONENT…]`.
fn one_line(file: &str, text: &str) -> Vec<Source> {
    text.lines()
        .filter_map(|line| {
            let line = line.split('#').next()?.trim();
            let (kind, rest) = line.split_once(char::is_whitespace)?;
            if kind != "deb" && kind != "deb-src" {
                return None;
            }
            let mut rest = rest.trim_start();
            if rest.starts_with('[') {
                rest = rest.split_once(']')?.1.trim_start();
            }
            let mut words = rest.split_whitespace();
            let uri = words.next()?;
            let suite = words.next()?;
            Some(Source {
                file: file.to_string(),
                types: vec![kind.to_string()],
                uris: vec![uri.to_string()],
                suites: vec![suite.to_string()],
                components: words.map(str::to_string).collect(),
                enabled: true,
            })
        })
        .collect()
}

/// Stanzas of `Field: value` lines, separated by empty lines.
fn deb822(file: &str, text: &str) -> Vec<Source> {
    let mut sources = Vec::new();
    let mut current: Option<Source> = None;
    for line in text.lines().chain(std::iter::once("")) {
        if line.trim().is_empty() {
            sources.extend(current.take().filter(|s| !s.types.is_empty() && !s.uris.is_empty()));
            continue;
        }
        if line.starts_with('#') || line.starts_with(char::is_whitespace) {
            continue;
        }
        let Some((field, value)) = line.split_once(':') else { continue };
        let source =
            current.get_or_insert_with(|| Source { file: file.to_string(), enabled: true, ..Source::default() });
        let words = || value.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        match field.trim().to_ascii_lowercase().as_str() {
            "types" => source.types = words(),
            "uris" => source.uris = words(),
            "suites" => source.suites = words(),
            "components" => source.components = words(),
            "enabled" => source.enabled = !matches!(value.trim(), "no" | "false" | "0"),
            _ => {}
        }
    }
    sources
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_formats() {
        let s = parse("/etc/apt/sources.list", "# deb http://x bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] http://deb.debian.org/debian bookworm main contrib # c\n");
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].suites[0].as_str(), s[0].components.len()), ("bookworm", 2));
        let s = parse(
            "/etc/apt/sources.list.d/debian.sources",
            "# header\nTypes: deb deb-src\nURIs: https://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main non-free-firmware\n\nTypes: deb\nURIs: http://x\nSuites: y\nEnabled: no\n",
        );
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].types.len(), s[0].suites.len(), s[0].enabled, s[1].enabled), (2, 2, true, false));
    }
}

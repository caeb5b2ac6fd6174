//! `site.language = "fr"`: the example fleet built in French holds none of
//! the English templates' phrases, its pages say `lang="fr"`, and its dates,
//! sizes and reasons (in the JSON API too) are French.

mod common;

use common::*;
use std::path::Path;

/// The phrases of the English templates: their text between tags and Tera
/// blocks, and the words of the attributes a reader sees, of two words or
/// more (a lone word may be a name the data holds too).
fn english_phrases() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut phrases = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if !path.is_file() {
            continue;
        }
        let text = read(&path);
        let mut chunks = Vec::new();
        let mut rest = text.as_str();
        // Tera blocks and HTML tags end a chunk; a tag's seen attributes are chunks of their own.
        while let Some(at) = rest.find(['{', '<']) {
            chunks.push(rest[..at].to_string());
            let (open, close) = if rest[at..].starts_with('<') { ("<", ">") } else { ("{", "}") };
            let end = rest[at..].find(close).map_or(rest.len(), |e| at + e + 1);
            let inside = &rest[at..end];
            if open == "<" {
                for attribute in ["aria-label=\"", "placeholder=\"", "title=\"", "data-sort=\"", "data-filter=\""] {
                    if let Some(value) = inside.split(attribute).nth(1).and_then(|v| v.split('"').next()) {
                        chunks.push(value.to_string());
                    }
                }
            }
            rest = &rest[end..];
        }
        chunks.push(rest.to_string());
        for chunk in chunks {
            let phrase = chunk.trim().trim_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace()).to_string();
            let words = phrase.split_whitespace().filter(|w| w.chars().any(char::is_alphabetic)).count();
            // Code (a script, a tag cut at a `>` of a Tera test) is not words.
            let code = phrase.contains(['=', '(', '"', '|', ';']) || phrase.starts_with("//");
            // A product's name is the same in both languages.
            let name = ["Raspberry Pi"].contains(&phrase.as_str());
            if words >= 2 && phrase.len() >= 8 && !code && !name && !phrase.contains("parc silence") {
                phrases.push(phrase);
            }
        }
    }
    phrases.sort();
    phrases.dedup();
    phrases
}

#[test]
fn a_french_build_speaks_french() {
    let phrases = english_phrases();
    assert!(phrases.len() > 150, "the English templates' phrases: {}", phrases.len());
    assert!(phrases.iter().any(|p| p == "Nothing needs attention"), "{phrases:?}");

    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("parc.toml"), "[site]\nlanguage = \"fr\"\n").unwrap();
    let site = tmp.path().join("site");
    let snapshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    parc()
        .current_dir(tmp.path())
        .args(["build", "--snapshots"])
        .arg(&snapshots)
        .arg("--out")
        .arg(&site)
        .assert()
        .success();

    let mut english = Vec::new();
    let mut pages = 0;
    for rel in files(&site) {
        let name = rel.to_string_lossy().into_owned();
        if !(name.ends_with(".html") || name.ends_with(".atom") || name.ends_with(".txt")) {
            continue;
        }
        pages += 1;
        let text = read(&site.join(&rel));
        if name.ends_with(".html") {
            assert!(text.contains("<html lang=\"fr\">"), "{name}: lang");
        }
        for phrase in &phrases {
            if text.contains(phrase.as_str()) {
                english.push(format!("{name}: {phrase:?}"));
            }
        }
    }
    assert!(pages > 40, "{pages} pages read");
    english.dedup();
    assert!(english.is_empty(), "English in the French site:\n{}", english.join("\n"));

    // Dates, sizes and words in French, the API's reasons too.
    let dashboard = read(&site.join("index.html"));
    assert!(dashboard.contains("Tableau de bord") && dashboard.contains("\u{a0}nov.\u{a0}2026"), "French dates");
    assert!(dashboard.contains("\u{a0}To") || dashboard.contains("\u{a0}Go"), "French sizes");
    let risk = read_json(&site.join("api/v1/at-risk.json"));
    let text = risk[0]["reasons"][0]["text"].as_str().unwrap();
    assert!(text.contains("smartctl") && !text.contains("overall health assessment"), "{text}");
}

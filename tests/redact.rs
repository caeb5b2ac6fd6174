//! `site.redact = true`: no address, user name or package version of the
//! example fleet appears in any file of its site. What to look for is read
//! from the snapshots themselves (the raw probe outputs, not parc's parse of
//! them), and the same search over the site built without `redact` must find
//! every kind of it, so that the search is known to see what it looks for.

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// What must not appear, by kind.
#[derive(Default)]
struct Secrets {
    addresses: BTreeSet<String>,
    users: BTreeSet<String>,
    versions: BTreeSet<String>,
    /// Whole strings from parc.toml and silences.toml: who silenced, where archives go.
    strings: BTreeSet<String>,
}

fn text<'a>(probes: &'a Value, key: &str) -> Option<&'a str> {
    probes.get(key)?.get("out")?.as_str()
}

fn secrets(snapshots: &Path) -> Secrets {
    let mut s = Secrets::default();
    for entry in walkdir::WalkDir::new(snapshots) {
        let entry = entry.unwrap();
        if entry.path().extension().is_none_or(|e| e != "json") {
            continue;
        }
        let snapshot = read_json(entry.path());
        let probes = &snapshot["probes"];
        for line in text(probes, "home").unwrap_or_default().lines() {
            if let Some((_, path)) = line.split_once('\t') {
                s.users.extend(path.rsplit('/').next().filter(|u| *u != "lost+found").map(str::to_string));
            }
        }
        for link in probes["ip"]["out"].as_array().into_iter().flatten() {
            for a in link["addr_info"].as_array().into_iter().flatten() {
                let local = a["local"].as_str().unwrap();
                // Loopback and link-local are every machine's, and not kept.
                if !local.starts_with("127.") && !local.starts_with("fe80:") && local != "::1" {
                    s.addresses.insert(local.to_string());
                }
            }
        }
        for line in text(probes, "dpkg-query").unwrap_or_default().lines() {
            s.versions.extend(line.split('\t').nth(1).map(str::to_string));
        }
        for key in ["apt-sim-upgrade", "apt-sim-dist-upgrade"] {
            // `Inst name [installed] (candidate origin…)`
            for line in text(probes, key).unwrap_or_default().lines().filter(|l| l.starts_with("Inst ")) {
                let mut words = line.split_whitespace().skip(2);
                for w in words.by_ref().take(2) {
                    s.versions.insert(w.trim_matches(['[', ']', '(']).to_string());
                }
            }
        }
        if let Some(uname) = text(probes, "uname") {
            s.versions.extend(uname.split_whitespace().nth(1).map(str::to_string));
        }
    }
    // Short versions (`2.1`, `43-1`) are also figures that pages show for
    // other reasons; the long ones are a package's alone.
    s.versions.retain(|v| v.len() >= 6);
    let silences: toml::Value = toml::from_str(&read(&snapshots.join("silences.toml"))).unwrap();
    for silence in silences["silence"].as_array().unwrap() {
        let by = silence["by"].as_str().unwrap();
        s.strings.insert(by.to_string());
        s.strings.extend(by.split(['<', '>']).map(str::trim).filter(|w| w.contains('@')).map(str::to_string));
    }
    s.strings.insert("backup@".into());
    s.strings.insert("nas.example".into());
    s
}

/// `word` in `text` as a whole word: what is next to it is no part of a name.
fn has_word(text: &str, word: &str) -> bool {
    let part = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || "_+-".contains(c));
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        !part(before) && before != Some('.') && !part(text[at + word.len()..].chars().next())
    })
}

/// Each secret found in the site, with one file it is in.
fn leaks(site: &Path, s: &Secrets) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = Vec::new();
    for rel in files(site) {
        let bytes = std::fs::read(site.join(&rel)).unwrap();
        let page = String::from_utf8_lossy(&bytes);
        let mut note = |what: String| {
            if !found.iter().any(|(w, _)| *w == what) {
                found.push((what, rel.display().to_string()));
            }
        };
        for a in s.addresses.iter().chain(&s.versions).chain(&s.strings).filter(|a| page.contains(a.as_str())) {
            note(a.clone());
        }
        for u in s.users.iter().filter(|u| has_word(&page, u)) {
            note(format!("user {u}"));
        }
    }
    found
}

fn build(dir: &Path, redact: bool) -> std::path::PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut config = read(&repo.join("parc.toml"));
    if redact {
        assert!(config.contains("\nredact = false"), "the example's parc.toml shows the key");
        config = config.replacen("\nredact = false", "\nredact = true", 1);
    }
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("parc.toml"), config).unwrap();
    // Without the repository's content/: its pages are the project's words, not the fleet's.
    let out = dir.join("site");
    parc()
        .current_dir(dir)
        .args(["build", "--snapshots"])
        .arg(repo.join("snapshots"))
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    out
}

#[test]
fn a_redacted_site_holds_no_address_user_name_or_package_version() {
    let secrets = secrets(&Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"));
    assert!(secrets.addresses.len() >= 5 && secrets.users.len() >= 5 && secrets.versions.len() >= 100);
    let tmp = tempfile::tempdir().unwrap();

    let plain = leaks(&build(tmp.path(), false), &secrets);
    let kinds = [&secrets.addresses, &secrets.versions, &secrets.strings];
    for kind in kinds {
        assert!(kind.iter().any(|k| plain.iter().any(|(w, _)| w == k)), "the plain site shows one of {kind:?}");
    }
    assert!(plain.iter().any(|(w, _)| w.starts_with("user ")), "the plain site shows a user name");

    // Into the same folder, with the caches the plain build left: no page
    // is kept from it.
    let site = build(tmp.path(), true);
    let leaked = leaks(&site, &secrets);
    assert!(leaked.is_empty(), "a redacted site shows {leaked:?}");
    // It is still the fleet's site: every host, their homes under stand-ins.
    let hosts = read_json(&site.join("api/v1/hosts.json"));
    assert_eq!(hosts.as_array().unwrap().len(), 8);
    let backup = read(&site.join("backup.html"));
    assert!(backup.contains("user1"), "homes are shown under stand-in names");
}

#[test]
fn whole_words_only() {
    assert!(has_word("du: /home/anna/.cache", "anna"));
    assert!(has_word("\"user\":\"pi\"", "pi"));
    assert!(!has_word("ws-anna and pi-garage", "anna"));
    assert!(!has_word("ws-anna and pi-garage", "pi"));
    assert!(!has_word("api and apis", "pi"));
}

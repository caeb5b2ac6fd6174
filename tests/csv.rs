//! CSV beside every list of the JSON API: read with Python's csv module and
//! compared with the JSON, cell by cell (`tests/csv_check.py`); linked from
//! the pages that show the list, and named in `index.json`.

mod common;

use common::*;

#[test]
fn every_list_has_its_csv_with_the_same_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    build_example(&site);
    let check = std::process::Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/csv_check.py"))
        .arg(&site)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{said}");
    assert!(said.contains("12 CSV files read"), "{said}");

    let index = read_json(&site.join("api/v1/index.json"));
    let listed: Vec<&str> = index["endpoints"].as_array().unwrap().iter().filter_map(|e| e["csv"].as_str()).collect();
    assert_eq!(listed.len(), 12, "{listed:?}");
    for csv in &listed {
        let bytes = std::fs::read(site.join("api/v1").join(csv)).unwrap();
        assert!(bytes.ends_with(b"\r\n"), "{csv}: RFC 4180 line ends");
        assert!(std::str::from_utf8(&bytes).is_ok(), "{csv}: UTF-8");
    }
    for (page, csv) in [
        ("hosts/index.html", "../api/v1/hosts.csv"),
        ("findings.html", "api/v1/findings.csv"),
        ("risk.html", "api/v1/at-risk.csv"),
        ("apt/index.html", "../api/v1/apt/pending.csv"),
        ("apt/packages.html", "../api/v1/apt/packages.csv"),
    ] {
        assert!(read(&site.join(page)).contains(&format!("href=\"{csv}\" download")), "{page} links {csv}");
    }
    // A quoted cell: a finding's sentence holds commas.
    assert!(read(&site.join("api/v1/findings.csv"))
        .contains(",\"Disk Hitachi HDS721050DLE630 (/dev/sda) on pi-garage is failing: replace it, and"));
}

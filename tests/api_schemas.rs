//! Every file of the JSON API conforms to its schema, checked with a
//! maintained JSON Schema validator (the `jsonschema` crate), on the example
//! site and on a generated fleet where every role appears twice.

mod common;

use common::*;
use serde_json::Value;

/// Every way `value` breaks `schema`, with where.
fn errors(value: &Value, schema: &Value, at: &str) -> Vec<String> {
    let validator = jsonschema::validator_for(schema).unwrap_or_else(|e| panic!("{at}: invalid schema: {e}"));
    validator.iter_errors(value).map(|e| format!("{at}{}: {e}", e.instance_path)).collect()
}

/// parc's own schemas are strict enough to catch a disk parc would never
/// publish: a missing field, a verdict it does not know, a wrong type.
#[test]
fn the_schemas_reject_what_parc_would_never_publish() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    build_example(&site);
    let api = site.join("api/v1");
    let schema = read_json(&api.join("schemas/disk.schema.json"));
    let disks = read_json(&api.join("disks.json"));
    let disk = read_json(&api.join(disks[0]["api"].as_str().unwrap()));
    assert_eq!(errors(&disk, &schema, "disk"), Vec::<String>::new());
    type Break = fn(&mut Value);
    let broken: [(&str, Break); 4] = [
        ("no id", |d| drop(d.as_object_mut().unwrap().remove("id"))),
        ("an unknown verdict", |d| d["verdict"] = "fine".into()),
        ("a capacity in words", |d| d["capacity_bytes"] = "two terabytes".into()),
        ("a reason without its code", |d| drop(d["reasons"][0].as_object_mut().unwrap().remove("code"))),
    ];
    for (what, breaks) in broken {
        let mut bad = disk.clone();
        if what.contains("reason") && bad["reasons"].as_array().unwrap().is_empty() {
            bad["reasons"] =
                disks.as_array().unwrap().iter().find(|d| d["reasons"][0].is_object()).unwrap()["reasons"].clone();
        }
        breaks(&mut bad);
        assert!(!errors(&bad, &schema, "disk").is_empty(), "the disk schema accepts {what}");
    }
}

fn check_site(site: &std::path::Path) {
    let api = site.join("api/v1");
    let index = read_json(&api.join("index.json"));
    let endpoints = index["endpoints"].as_array().unwrap();
    assert!(endpoints.len() > 20, "lists, hosts and disks");
    // Every file of the API is an endpoint of the index, so none escapes its schema.
    // (A list's CSV is named by its entry, as `csv`.)
    let mut listed: std::collections::BTreeSet<String> =
        endpoints.iter().flat_map(|e| [&e["path"], &e["csv"]]).filter_map(|p| p.as_str()).map(String::from).collect();
    // The month files of a history are named in their host's or disk's file,
    // under the patterns `histories` gives with their schema.
    let patterns = index["histories"].as_array().unwrap();
    let mut months = Vec::new();
    for (entity, schema) in [("host", "schemas/host-history.schema.json"), ("disk", "schemas/disk-history.schema.json")]
    {
        let pattern = patterns.iter().find(|p| p["schema"] == schema).expect("a pattern for each history");
        assert!(pattern["path"].as_str().unwrap().contains("/history/<YYYY-MM>.json"), "{pattern}");
        let schema_file = format!("schemas/{entity}.schema.json");
        for endpoint in endpoints.iter().filter(|e| e["schema"] == schema_file.as_str()) {
            let file = read_json(&api.join(endpoint["path"].as_str().unwrap()));
            let periods = file["history"].as_array().unwrap();
            assert!(!periods.is_empty(), "{}: a history of at least one month", endpoint["path"]);
            for period in periods {
                let path = period["api"].as_str().unwrap().to_string();
                listed.insert(path.clone());
                months.push((path, schema));
            }
        }
    }
    for entry in walkdir::WalkDir::new(&api) {
        let path = entry.unwrap().into_path();
        let name = path.strip_prefix(&api).unwrap().to_str().unwrap().to_string();
        if path.is_file() && !name.starts_with("schemas/") && name != "index.json" {
            assert!(listed.contains(&name), "{name} is in the API but not in its index");
        }
    }
    let mut found = Vec::new();
    for endpoint in endpoints {
        let (path, schema) = (endpoint["path"].as_str().unwrap(), endpoint["schema"].as_str().unwrap());
        found.extend(errors(&read_json(&api.join(path)), &read_json(&api.join(schema)), path));
    }
    for (path, schema) in &months {
        found.extend(errors(&read_json(&api.join(path)), &read_json(&api.join(schema)), path));
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn every_endpoint_conforms_to_its_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    build_example(&site);
    check_site(&site);
    // Every role twice over: copies, moves, paging of nothing but what the demo makes.
    let snaps = tmp.path().join("snapshots");
    parc().args(["demo", "--hosts", "16", "--days", "6", "--out"]).arg(&snaps).assert().success();
    let demo = tmp.path().join("demo");
    build_cmd(&snaps, &demo, &[]).assert().success();
    check_site(&demo);
}

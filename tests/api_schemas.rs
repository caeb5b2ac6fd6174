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

#[test]
fn the_validator_catches_what_is_wrong() {
    let schema: Value = serde_json::from_str(
        r#"{"type":"array","items":{"type":"object","required":["a"],"properties":{"a":{"type":"integer"},"v":{"enum":["ok"]}}}}"#,
    )
    .unwrap();
    let found = errors(&serde_json::json!([{"a": 1, "v": "ok"}, {"a": "x"}, {"v": "bad"}]), &schema, "$");
    assert_eq!(found.len(), 3, "{found:?}");
}

fn check_site(site: &std::path::Path) {
    let api = site.join("api/v1");
    let index = read_json(&api.join("index.json"));
    let endpoints = index["endpoints"].as_array().unwrap();
    assert!(endpoints.len() > 20, "lists, hosts and disks");
    let mut found = Vec::new();
    for endpoint in endpoints {
        let (path, schema) = (endpoint["path"].as_str().unwrap(), endpoint["schema"].as_str().unwrap());
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

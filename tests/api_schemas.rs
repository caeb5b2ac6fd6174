//! Every file of the JSON API of the example site conforms to its schema.
//! The validator covers the keywords parc's schemas use: `type`, `required`,
//! `properties`, `items`, `enum`, `additionalProperties`.

mod common;

use common::*;
use serde_json::Value;

fn validate(value: &Value, schema: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        if !types.iter().any(|t| *t == actual || (*t == "number" && actual == "integer")) {
            errors.push(format!("{at}: {actual}, expected {types:?}"));
            return;
        }
    }
    if let Some(Value::Array(allowed)) = schema.get("enum") {
        if !allowed.contains(value) {
            errors.push(format!("{at}: {value} is not one of {allowed:?}"));
        }
    }
    if let (Some(Value::Array(required)), Value::Object(map)) = (schema.get("required"), value) {
        for key in required.iter().filter_map(Value::as_str) {
            if !map.contains_key(key) {
                errors.push(format!("{at}: missing {key:?}"));
            }
        }
    }
    if let Value::Object(map) = value {
        for (key, item) in map {
            match schema.get("properties").and_then(|p| p.get(key)) {
                Some(sub) => validate(item, sub, &format!("{at}.{key}"), errors),
                None => {
                    if let Some(extra) = schema.get("additionalProperties").filter(|e| e.is_object()) {
                        validate(item, extra, &format!("{at}.{key}"), errors);
                    }
                }
            }
        }
    }
    if let (Some(items), Value::Array(list)) = (schema.get("items"), value) {
        for (i, item) in list.iter().enumerate() {
            validate(item, items, &format!("{at}[{i}]"), errors);
        }
    }
}

#[test]
fn the_validator_catches_what_is_wrong() {
    let schema: Value = serde_json::from_str(
        r#"{"type":"array","items":{"type":"object","required":["a"],"properties":{"a":{"type":"integer"},"v":{"enum":["ok"]}}}}"#,
    )
    .unwrap();
    let mut errors = Vec::new();
    validate(&serde_json::json!([{"a": 1, "v": "ok"}, {"a": "x"}, {"v": "bad"}]), &schema, "$", &mut errors);
    assert_eq!(errors.len(), 3, "{errors:?}");
}

#[test]
fn every_endpoint_conforms_to_its_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    build_example(&site);
    let api = site.join("api/v1");
    let index = read_json(&api.join("index.json"));
    let endpoints = index["endpoints"].as_array().unwrap();
    assert!(endpoints.len() > 20, "lists, hosts and disks");
    let mut errors = Vec::new();
    for endpoint in endpoints {
        let (path, schema) = (endpoint["path"].as_str().unwrap(), endpoint["schema"].as_str().unwrap());
        validate(&read_json(&api.join(path)), &read_json(&api.join(schema)), path, &mut errors);
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

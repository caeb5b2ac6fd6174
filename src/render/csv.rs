//! A JSON list as CSV, for a spreadsheet: the same rows, one column per
//! field in the JSON's own order (a nested object's fields as
//! `outer.inner`), RFC 4180 (quoted where needed, CRLF), UTF-8, a header
//! row. A list of plain values is one cell, joined by `; `; a list of
//! objects is one cell holding its JSON.

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::fmt;

/// The CSV of `json`, a JSON array of objects.
pub fn of_json(json: &[u8]) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
    let rows: Vec<Row> = serde_json::from_slice(json)?;
    let mut columns: Vec<&str> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    let flat: Vec<Vec<(String, String)>> = rows.into_iter().map(Row::flat).collect();
    for row in &flat {
        for (name, _) in row {
            if !index.contains_key(name.as_str()) {
                index.insert(name, columns.len());
                columns.push(name);
            }
        }
    }
    let mut out = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    out.write_record(&columns)?;
    let mut record = vec![""; columns.len()];
    for row in &flat {
        record.iter_mut().for_each(|cell| *cell = "");
        for (name, value) in row {
            record[index[name.as_str()]] = value;
        }
        out.write_record(&record)?;
    }
    Ok(out.into_inner()?)
}

/// One object, its fields in order, each as the JSON text it was written as.
struct Row<'a>(Vec<(String, &'a RawValue)>);

impl Row<'_> {
    fn flat(self) -> Vec<(String, String)> {
        let mut out = Vec::with_capacity(self.0.len());
        self.flatten("", &mut out);
        out
    }

    fn flatten(self, prefix: &str, out: &mut Vec<(String, String)>) {
        for (name, raw) in self.0 {
            let name = if prefix.is_empty() { name } else { format!("{prefix}.{name}") };
            let text = raw.get();
            match text.as_bytes().first() {
                Some(b'{') => match serde_json::from_str::<Row>(text) {
                    Ok(row) => row.flatten(&name, out),
                    Err(_) => out.push((name, text.to_string())),
                },
                Some(b'[') => out.push((name, list(text))),
                Some(b'"') => out.push((name, serde_json::from_str(text).unwrap_or_default())),
                Some(b'n') => out.push((name, String::new())),
                _ => out.push((name, text.to_string())),
            }
        }
    }
}

/// A list of plain values joined by `; `, or the JSON of a list of objects.
fn list(text: &str) -> String {
    let items: Vec<serde_json::Value> = serde_json::from_str(text).unwrap_or_default();
    let plain = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(_) | serde_json::Value::Bool(_) => Some(v.to_string()),
        _ => None,
    };
    match items.iter().map(plain).collect::<Option<Vec<String>>>() {
        Some(texts) => texts.join("; "),
        None => text.to_string(),
    }
}

impl<'de> Deserialize<'de> for Row<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Row<'de>, D::Error> {
        struct RowVisitor;
        impl<'de> Visitor<'de> for RowVisitor {
            type Value = Row<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a row: a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Row<'de>, A::Error> {
                let mut fields = Vec::new();
                while let Some(entry) = map.next_entry::<String, &'de RawValue>()? {
                    fields.push(entry);
                }
                Ok(Row(fields))
            }
        }
        d.deserialize_map(RowVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::of_json;

    #[test]
    fn rows_keep_their_order_nest_with_dots_and_quote_what_needs_it() {
        let json = br#"[{"name":"db1","os":{"id":"debian","version":"12"},"tags":["a","b"],"note":"x, \"y\""},
                        {"name":"pi","extra":true,"os":null,"tags":[{"k":1}],"note":null}]"#;
        let csv = String::from_utf8(of_json(json).unwrap()).unwrap();
        assert_eq!(
            csv,
            "name,os.id,os.version,tags,note,extra,os\r\n\
             db1,debian,12,a; b,\"x, \"\"y\"\"\",,\r\n\
             pi,,,\"[{\"\"k\"\":1}]\",,true,\r\n"
        );
    }
}

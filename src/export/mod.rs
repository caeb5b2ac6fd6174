//! `parc export --sqlite FILE` (and `build.sqlite`): the fleet as a SQLite
//! database to query, from the same published types as the JSON API, so
//! that a query and the API agree. Each table is a list of the API's rows
//! (`TABLES`: its columns and the JSON fields they hold, its key, its
//! indexes). A table of things that happen (sightings, file systems' use,
//! package changes, archive runs) is appended to: a new day adds its rows;
//! a table of what is now is written anew; either is written anew when the
//! rows it holds are no longer the first of the new ones (a rewritten
//! history). Beside the database, Datasette's `metadata.json`.

mod tables;

use crate::render::Site;
use anyhow::{bail, Context, Result};
use rusqlite::types::Value as Sql;
use serde_json::Value;
use std::path::Path;
pub use tables::TABLES;

/// What the database records of its own making.
const SCHEMA: &str = "parc.sqlite/1";

/// One table: its name, columns (SQL name, SQL type, JSON field), key,
/// indexes, and how it is kept up to date.
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, &'static str, &'static str)],
    pub key: &'static [&'static str],
    pub indexes: &'static [&'static [&'static str]],
    /// A table of events: the column of their time. It is appended to.
    pub time: Option<&'static str>,
    /// A table of the present written in parts: the column that names the part.
    pub part: Option<&'static str>,
}

/// How many rows each table holds, and how many this export added.
#[derive(Debug, Default)]
pub struct Report {
    pub tables: Vec<(&'static str, usize, usize)>,
}

impl Report {
    pub fn rows(&self) -> usize {
        self.tables.iter().map(|t| t.1).sum()
    }
    pub fn added(&self) -> usize {
        self.tables.iter().map(|t| t.2).sum()
    }
}

/// Writes the database at `path` (made, or brought up to date) and its
/// `metadata.json`.
pub fn sqlite(site: &Site, path: &Path) -> Result<Report> {
    let metadata = path.with_file_name("metadata.json");
    if let Ok(text) = std::fs::read_to_string(&metadata) {
        let ours = serde_json::from_str::<Value>(&text).is_ok_and(|v| v["source"] == "parc");
        if !ours {
            bail!("{} is not one parc wrote (its source is not \"parc\"): it is left as it is", metadata.display());
        }
    }
    let mut db = rusqlite::Connection::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let result = write(site, &mut db).with_context(|| format!("cannot write {}", path.display()))?;
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    std::fs::write(&metadata, serde_json::to_vec_pretty(&tables::metadata(site, &stem))?)
        .with_context(|| format!("cannot write {}", metadata.display()))?;
    Ok(result)
}

fn write(site: &Site, db: &mut rusqlite::Connection) -> Result<Report> {
    db.pragma_update(None, "journal_mode", "WAL")?;
    let tx = db.transaction()?;
    tx.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)", [])?;
    let schema: Option<String> = tx.query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| r.get(0)).ok();
    let fresh = schema.as_deref() != Some(SCHEMA);
    if fresh {
        tx.execute("DROP TABLE IF EXISTS export_parts", [])?;
    }
    // What each part of a table of the present was written from.
    tx.execute(
        "CREATE TABLE IF NOT EXISTS export_parts (tbl TEXT, part TEXT, fingerprint TEXT, PRIMARY KEY (tbl, part))",
        [],
    )?;
    let mut report = Report::default();
    for table in TABLES {
        if fresh {
            tx.execute(&format!("DROP TABLE IF EXISTS {}", table.name), [])?;
        }
        tx.execute(&create(table), [])?;
        for (i, columns) in table.indexes.iter().enumerate() {
            tx.execute(
                &format!("CREATE INDEX IF NOT EXISTS {}_{} ON {} ({})", table.name, i, table.name, columns.join(", ")),
                [],
            )?;
        }
        let mut insert = Insert::new(&tx, table)?;
        match table.time {
            Some(time) => events(&tx, site, table, time, &mut insert)?,
            None => present(&tx, site, table, &mut insert)?,
        }
        let rows: i64 = tx.query_row(&format!("SELECT count(*) FROM {}", table.name), [], |r| r.get(0))?;
        report.tables.push((table.name, rows as usize, insert.written));
    }
    tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?1)", [SCHEMA])?;
    let newest = site.fleet.newest.map(|n| n.rfc3339()).unwrap_or_default();
    tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('newest', ?1)", [newest])?;
    tx.commit()?;
    Ok(report)
}

/// A table of events: the rows newer than its newest, when it holds exactly
/// the rows up to then; else every row anew.
fn events(tx: &rusqlite::Transaction, site: &Site, table: &Table, time: &str, insert: &mut Insert) -> Result<()> {
    let (newest, held): (Option<i64>, i64) =
        tx.query_row(&format!("SELECT max({time}), count(*) FROM {}", table.name), [], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let mut after = newest.unwrap_or(i64::MIN);
    if tables::events(site, table.name, after, None)? as i64 != held {
        tx.execute(&format!("DELETE FROM {}", table.name), [])?;
        after = i64::MIN;
    }
    tables::events(site, table.name, after, Some(&mut |row| insert.row(row)))?;
    Ok(())
}

/// A table of what is now, in parts (a host's packages): a part whose
/// fingerprint changed is written anew, a part no longer there removed.
fn present(tx: &rusqlite::Transaction, site: &Site, table: &Table, insert: &mut Insert) -> Result<()> {
    let mut stored: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    {
        let mut query = tx.prepare("SELECT part, fingerprint FROM export_parts WHERE tbl = ?1")?;
        let rows = query.query_map([table.name], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (part, fingerprint) = row?;
            stored.insert(part, fingerprint);
        }
    }
    let column = table.part;
    let delete = |part: &str| -> Result<()> {
        match column {
            Some(c) => tx.execute(&format!("DELETE FROM {} WHERE {c} = ?1", table.name), [part])?,
            None => tx.execute(&format!("DELETE FROM {}", table.name), [])?,
        };
        Ok(())
    };
    for part in tables::present(site, table.name)? {
        let (key, fingerprint) = (part.key.clone(), part.fingerprint.clone());
        if stored.remove(&key).as_deref() == Some(fingerprint.as_str()) {
            continue;
        }
        delete(&key)?;
        (part.rows)().iter().try_for_each(|row| insert.row(row))?;
        tx.execute(
            "INSERT OR REPLACE INTO export_parts (tbl, part, fingerprint) VALUES (?1, ?2, ?3)",
            [table.name, &key, &fingerprint],
        )?;
    }
    for gone in stored.keys() {
        delete(gone)?;
        tx.execute("DELETE FROM export_parts WHERE tbl = ?1 AND part = ?2", [table.name, gone])?;
    }
    Ok(())
}

fn create(table: &Table) -> String {
    let columns: Vec<String> = table.columns.iter().map(|(name, kind, _)| format!("{name} {kind}")).collect();
    let key = if table.key.is_empty() { String::new() } else { format!(", PRIMARY KEY ({})", table.key.join(", ")) };
    format!("CREATE TABLE IF NOT EXISTS {} ({}{key})", table.name, columns.join(", "))
}

/// A table's prepared insert, and how many rows it wrote.
struct Insert<'t> {
    statement: rusqlite::Statement<'t>,
    table: &'static Table,
    written: usize,
}

impl<'t> Insert<'t> {
    fn new(tx: &'t rusqlite::Transaction, table: &'static Table) -> Result<Insert<'t>> {
        let names: Vec<&str> = table.columns.iter().map(|c| c.0).collect();
        let marks: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
        let sql = format!("INSERT OR REPLACE INTO {} ({}) VALUES ({})", table.name, names.join(", "), marks.join(", "));
        Ok(Insert { statement: tx.prepare(&sql)?, table, written: 0 })
    }

    fn row(&mut self, row: &Value) -> Result<()> {
        let values = self.table.columns.iter().map(|(_, _, json)| sql(&row[*json]));
        self.statement.execute(rusqlite::params_from_iter(values))?;
        self.written += 1;
        Ok(())
    }
}

fn sql(value: &Value) -> Sql {
    match value {
        Value::Null => Sql::Null,
        Value::Bool(b) => Sql::Integer(*b as i64),
        Value::Number(n) => n.as_i64().map(Sql::Integer).or(n.as_f64().map(Sql::Real)).unwrap_or(Sql::Null),
        Value::String(s) => Sql::Text(s.clone()),
        other => Sql::Text(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    /// Every table and column is in the documented schema.
    #[test]
    fn the_schema_is_documented() {
        let doc = include_str!("../../content/docs/sqlite.md");
        for table in super::TABLES {
            let row = doc.lines().find(|l| l.starts_with(&format!("| `{}` |", table.name)));
            let row = row.unwrap_or_else(|| panic!("{} is not in content/docs/sqlite.md", table.name));
            for (column, _, _) in table.columns {
                assert!(row.contains(&format!("`{column}`")), "{}.{column} is not documented", table.name);
            }
        }
    }
}

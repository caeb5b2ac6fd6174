//! `parc export --sqlite` on the example fleet: `sqlite3` queries give what
//! the JSON API says; a new day appends its rows, and the database is then
//! the one an export from scratch makes; `build.sqlite` writes it with the
//! site; Datasette's metadata.json is beside it, and one parc did not write
//! is never overwritten.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;

fn sql(db: &Path, query: &str) -> String {
    let out =
        std::process::Command::new("sqlite3").arg(db).arg(query).output().expect("sqlite3 (make test installs it)");
    assert!(out.status.success(), "{query}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn count(db: &Path, query: &str) -> usize {
    sql(db, query).trim().parse().unwrap()
}

fn list(json: &Value) -> &Vec<Value> {
    json.as_array().unwrap()
}

fn export(dir: &Path, snapshots: &Path, db: &str) -> String {
    let out = parc().current_dir(dir).args(["export", "--sqlite", db, "--snapshots"]).arg(snapshots).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn queries_agree_with_the_json_api() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    build_example(&site);
    let snapshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    export(tmp.path(), &snapshots, "fleet.db");
    let (db, api) = (tmp.path().join("fleet.db"), site.join("api/v1"));

    let hosts = read_json(&api.join("hosts.json"));
    let names: Vec<String> =
        list(&hosts).iter().map(|h| format!("{}|{}", h["name"], h["verdict"]).replace('"', "")).collect();
    assert_eq!(sql(&db, "SELECT name, verdict FROM hosts ORDER BY name").lines().collect::<Vec<_>>(), names);

    let disks = read_json(&api.join("disks.json"));
    assert_eq!(count(&db, "SELECT count(*) FROM disks"), list(&disks).len());
    let mut sightings = 0;
    for disk in list(&disks) {
        let detail = read_json(&api.join(disk["api"].as_str().unwrap()));
        // Every sighting: the month files of its history, oldest first.
        let all: Vec<serde_json::Value> = list(&detail["history"])
            .iter()
            .flat_map(|p| list(&read_json(&api.join(p["api"].as_str().unwrap()))["sightings"]).to_vec())
            .collect();
        sightings += all.len();
        let temperatures: Vec<String> =
            all.iter().map(|s| s["figures"]["temperature"].to_string().replace("null", "")).collect();
        let id = disk["id"].as_str().unwrap().replace('\'', "''");
        let query = format!("SELECT temperature FROM sightings WHERE disk = '{id}' ORDER BY at, host, device");
        assert_eq!(sql(&db, &query).lines().collect::<Vec<_>>(), temperatures, "{id}");
    }
    assert_eq!(count(&db, "SELECT count(*) FROM sightings"), sightings);

    let packages = read_json(&api.join("apt/packages.json"));
    let openssl = list(&packages).iter().find(|p| p["package"] == "openssl").unwrap();
    let running: usize = list(&openssl["versions"]).iter().map(|v| list(&v["hosts"]).len()).sum();
    assert_eq!(count(&db, "SELECT count(*) FROM packages WHERE package = 'openssl'"), running);
    let pending = read_json(&api.join("apt/pending.json"));
    assert_eq!(count(&db, "SELECT count(*) FROM pending_upgrades"), list(&pending).len());
    let security = list(&pending).iter().filter(|p| p["security"] == true).count();
    assert_eq!(count(&db, "SELECT count(*) FROM pending_upgrades WHERE security"), security);
    assert_eq!(
        count(&db, "SELECT count(*) FROM package_changes"),
        list(&read_json(&api.join("apt/changes.json"))).len()
    );
    assert_eq!(count(&db, "SELECT count(*) FROM archive_runs"), list(&read_json(&api.join("archives.json"))).len());
    assert_eq!(count(&db, "SELECT count(*) FROM moves"), list(&read_json(&api.join("moves.json"))).len());
    let findings = read_json(&api.join("findings.json"));
    let ids: Vec<String> =
        list(&findings).iter().map(|f| format!("{}|{}", f["id"], f["state"]).replace('"', "")).collect();
    let mut ids_sorted = ids.clone();
    ids_sorted.sort();
    assert_eq!(sql(&db, "SELECT id, state FROM findings ORDER BY id, state").lines().collect::<Vec<_>>(), ids_sorted);
    assert!(count(&db, "SELECT count(*) FROM filesystems") > 100);
    assert_eq!(sql(&db, "SELECT value FROM meta WHERE key = 'schema'").trim(), "parc.sqlite/1");

    let metadata = read_json(&tmp.path().join("metadata.json"));
    assert_eq!(metadata["source"], "parc");
    assert_eq!(metadata["databases"]["fleet"]["tables"]["sightings"]["sort_desc"], "at");
}

/// Every table's rows, sorted: what two databases are compared by.
fn dump(db: &Path) -> String {
    let tables =
        sql(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('export_parts') ORDER BY name");
    let sorted = |t: &str| {
        let rows = sql(db, &format!("SELECT * FROM {t}"));
        let mut rows: Vec<&str> = rows.lines().collect();
        rows.sort();
        format!("{t}\n{}\n", rows.join("\n"))
    };
    tables.lines().map(sorted).collect()
}

#[test]
fn a_new_day_appends_and_equals_an_export_from_scratch() {
    let tmp = tempfile::tempdir().unwrap();
    let snapshots = tmp.path().join("snapshots");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    let status = std::process::Command::new("cp").arg("-a").arg(&example).arg(&snapshots).status().unwrap();
    assert!(status.success());
    let db = tmp.path().join("fleet.db");
    let said = export(tmp.path(), &snapshots, "fleet.db");
    assert!(said.contains("written"), "{said}");
    let again = export(tmp.path(), &snapshots, "fleet.db");
    assert!(again.contains("(0 written)"), "nothing new, nothing written: {again}");

    // A new day of db1's disks: its sightings and file systems are appended.
    let mut day = read_json(&snapshots.join("db1/disks/2026-11-20T020606Z.json"));
    day["collected_at"] = "2026-11-22T03:06:06+01:00".into();
    write_dated(&snapshots, "db1", &day);
    let before = count(&db, "SELECT count(*) FROM sightings");
    let said = export(tmp.path(), &snapshots, "fleet.db");
    let new = count(&db, "SELECT count(*) FROM sightings") - before;
    assert_eq!(new, count(&db, "SELECT count(*) FROM sightings WHERE at = (SELECT max(at) FROM sightings)"));
    assert!(new >= 2, "db1's disks seen again: {new}");
    let written: usize = said.split('(').nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(written < 100, "a new day writes what is new, not the {before} sightings again: {said}");

    export(tmp.path(), &snapshots, "scratch.db");
    assert_eq!(dump(&db), dump(&tmp.path().join("scratch.db")), "appended = from scratch");
}

#[test]
fn build_sqlite_writes_it_with_the_site_and_a_foreign_metadata_json_is_kept() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("parc.toml"), "[build]\nsqlite = \"fleet.db\"\n").unwrap();
    write_dated(&tmp.path().join("snapshots"), "h1", &system("h1", "2026-11-01T03:00:00Z"));
    parc().current_dir(tmp.path()).args(["build"]).assert().success();
    assert_eq!(sql(&tmp.path().join("fleet.db"), "SELECT name FROM hosts").trim(), "h1");
    // Removed, it is written again, although the site is up to date.
    std::fs::remove_file(tmp.path().join("fleet.db")).unwrap();
    parc().current_dir(tmp.path()).args(["build"]).assert().success();
    assert!(tmp.path().join("fleet.db").is_file());

    std::fs::write(tmp.path().join("metadata.json"), "{\"title\": \"mine\"}").unwrap();
    let out = parc().current_dir(tmp.path()).args(["export", "--sqlite", "fleet.db"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("metadata.json is not one parc wrote"));
    assert_eq!(read(&tmp.path().join("metadata.json")), "{\"title\": \"mine\"}");
}

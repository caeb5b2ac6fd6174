//! The pictures the build draws, on the example fleet: the dashboard's
//! findings and security updates per day, a host's file systems, and a
//! disk's SMART figures — one chart per figure that changed, each with a
//! title and its figures in words, a sentence for one that did not,
//! agreeing with the JSON API.

mod common;

use common::*;
use serde_json::Value;

/// The figures a chart's caption says: `from A to B`, as numbers.
fn caption<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page.find(&format!("<figcaption id=\"{id}-figures\">")).unwrap_or_else(|| panic!("no {id}"));
    let rest = &page[start..];
    &rest[rest.find('>').unwrap() + 1..rest.find("</figcaption>").unwrap()]
}

#[test]
fn the_dashboard_a_host_and_a_disk_draw_their_history() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    build_example(&site);

    let dashboard = read(&site.join("index.html"));
    for id in ["chart-findings", "chart-security"] {
        assert!(dashboard.contains(&format!("<title id=\"{id}-title\">")), "{id} has a title");
    }
    // Today's end of the line is today's count.
    let findings = read_json(&site.join("api/v1/findings.json"));
    let open = findings.as_array().unwrap().iter().filter(|f| f["state"] == "open").count();
    assert!(caption(&dashboard, "chart-findings").contains(&format!(" to {open}")), "{open} open now");
    let apt = read_json(&site.join("api/v1/apt/hosts.json"));
    let security = apt.as_array().unwrap().iter().filter(|h| h["security"].as_u64() > Some(0)).count();
    assert!(caption(&dashboard, "chart-security").contains(&format!(" to {security}")), "{security} hosts now");

    // A host: a line per file system, named in the caption with its use now.
    let host = read_json(&site.join("api/v1/hosts/files.json"));
    let page = read(&site.join("hosts/files.html"));
    let figures = caption(&page, "chart-filesystems");
    for fs in host["filesystems"].as_array().unwrap() {
        let used = fs["used"].as_f64().unwrap();
        // As df counts it: rounded up.
        let percent = (used / (used + fs["avail"].as_f64().unwrap()) * 100.0).ceil() as i64;
        let target = fs["target"].as_str().unwrap();
        assert!(figures.contains(&format!("{target}: from ")), "{target} in {figures}");
        assert!(figures.contains(&format!(" to {percent} %")), "{target} at {percent} % in {figures}");
    }

    // Each disk: a chart for each figure that changed over its history, a
    // sentence for each that kept one value, and nothing for the others.
    let disks = read_json(&site.join("api/v1/disks.json"));
    let (mut drawn, mut said) = (0, 0);
    for disk in disks.as_array().unwrap() {
        let detail = read_json(&site.join("api/v1/").join(disk["api"].as_str().unwrap()));
        let page = read(&site.join(disk["page"].as_str().unwrap()));
        let months = detail["history"].as_array().unwrap().iter();
        let months: Vec<Value> =
            months.map(|m| read_json(&site.join("api/v1/").join(m["api"].as_str().unwrap()))).collect();
        let sightings: Vec<&Value> = months.iter().flat_map(|m| m["sightings"].as_array().unwrap()).collect();
        for figure in
            ["temperature", "reallocated", "pending", "uncorrectable", "crc", "media_errors", "percentage_used"]
        {
            let reported: Vec<(i64, i64)> = sightings
                .iter()
                .filter_map(|s| Some((s["at"].as_i64()?, s["figures"].get(figure)?.as_i64()?)))
                .collect();
            let times: std::collections::BTreeSet<i64> = reported.iter().map(|r| r.0).collect();
            let values: std::collections::BTreeSet<i64> = reported.iter().map(|r| r.1).collect();
            let shown = page.contains(&format!("id=\"chart-{figure}\""));
            let steady = page.contains(&format!("<li id=\"steady-{figure}\">"));
            let what = format!("{}: {figure}, {} times, {} values", disk["id"], times.len(), values.len());
            assert_eq!(shown, times.len() > 1 && values.len() > 1, "{what}: charted");
            assert_eq!(steady, times.len() > 1 && values.len() == 1, "{what}: said to stay");
            if shown {
                drawn += 1;
                let last = reported.last().unwrap().1;
                assert!(caption(&page, &format!("chart-{figure}")).contains(&format!(" to {last}")), "{what}");
            }
            if steady {
                said += 1;
                let line = page.split(&format!("<li id=\"steady-{figure}\">")).nth(1).unwrap();
                let line = &line[..line.find("</li>").unwrap()];
                let value = values.first().unwrap();
                assert!(line.contains(&format!(" stayed at {value}")), "{what}: {line}");
            }
        }
    }
    assert!(said >= 5, "the example's disks say {said} figures stayed the same");
    assert!(drawn >= 10, "the example's disks draw {drawn} charts");
}

/// What the inventory showed: each file system's use in percent, where
/// /home lies in words, a disk's first host, its uncorrectable sectors.
#[test]
fn host_and_disk_pages_say_use_percent_home_and_first_host() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    build_example(&site);
    let host = read_json(&site.join("api/v1/hosts/files.json"));
    let page = read(&site.join("hosts/files.html"));
    for fs in host["filesystems"].as_array().unwrap() {
        let (used, avail) = (fs["used"].as_f64().unwrap(), fs["avail"].as_f64().unwrap());
        let percent = (used / (used + avail) * 100.0).ceil() as i64;
        let row = page.split("<tr>").find(|r| r.starts_with(&format!("<td>{}</td>", fs["target"].as_str().unwrap())));
        assert!(row.unwrap().contains(&format!("<td class=\"num\">{percent} %</td>")), "{}", fs["target"]);
    }
    assert_eq!(host["home_mount"], "/home");
    assert!(page.contains("/home is a file system of its own") && !page.contains("/home is on /home"));

    // A disk that moved: its first host is not the one it is on now.
    let disks = read_json(&site.join("api/v1/disks.json"));
    let moved = read_json(&site.join("api/v1/moves.json"));
    let slug = moved[0]["disk_slug"].as_str().unwrap();
    let disk = disks.as_array().unwrap().iter().find(|d| d["slug"] == slug).unwrap();
    let detail = read_json(&site.join("api/v1/").join(disk["api"].as_str().unwrap()));
    let oldest = read_json(&site.join("api/v1/").join(detail["history"][0]["api"].as_str().unwrap()));
    let first = &oldest["sightings"][0];
    assert_ne!(first["host"], disk["host"], "{slug} moved");
    let page = read(&site.join(disk["page"].as_str().unwrap()));
    let said =
        format!("First seen</dt><dd>{} as {}, ", first["host"].as_str().unwrap(), first["device"].as_str().unwrap());
    assert!(page.contains(&said), "{said}");

    let disk = disks.as_array().unwrap().iter().find(|d| d["verdict"] == "failing").unwrap();
    let detail = read_json(&site.join("api/v1/").join(disk["api"].as_str().unwrap()));
    let page = read(&site.join(disk["page"].as_str().unwrap()));
    assert!(page.contains("<th class=\"num\">Uncorrectable</th>"));
    let uncorrectable = detail["sightings"].as_array().unwrap().last().unwrap()["figures"]["uncorrectable"].as_i64();
    assert!(uncorrectable.is_some(), "an ATA disk reports attribute 198");
}

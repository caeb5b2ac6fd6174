//! What the inventory and the updater this project grew from showed, on the
//! example fleet and on real tool outputs: what each machine is, a
//! Proxmox VE host named as such, a container's restart.

mod common;

use common::disks as disks_snapshot;
use common::*;
use serde_json::{json, Value};

#[test]
fn each_host_says_what_machine_it_is() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    build_example(&site);
    let hosts = read_json(&site.join("api/v1/hosts.json"));
    let host = |name: &str| hosts.as_array().unwrap().iter().find(|h| h["name"] == name).unwrap().clone();
    let pve = host("pve1");
    assert_eq!((pve["machine"].as_str(), pve["os"].as_str()), (Some("proxmox"), Some("Proxmox VE 8.0.3")));
    assert_eq!(pve["base_os"], "Debian GNU/Linux 12 (bookworm)");
    let vm = host("vm-web1");
    assert_eq!((vm["machine"].as_str(), vm["virt"].as_str()), (Some("vm"), Some("kvm")));
    assert_eq!(vm["base_os"], Value::Null, "only a Proxmox host has an OS under its OS");
    assert_eq!(host("pi-garage")["machine"], "raspberry-pi");
    assert_eq!(host("pi-garage")["hardware"], "Raspberry Pi 4 Model B Rev 1.4");
    assert_eq!(host("db1")["machine"], "physical");

    let page = read(&site.join("hosts/pve1.html"));
    assert!(page.contains("<dd id=\"host-os\">Proxmox VE 8.0.3, on Debian GNU/Linux 12 (bookworm)</dd>"));
    assert!(page.contains("<dd id=\"host-machine\">Proxmox VE host</dd>"));
    let page = read(&site.join("hosts/vm-web1.html"));
    assert!(page.contains("<dd id=\"host-machine\">Virtual machine (kvm): QEMU Standard PC (i440FX + PIIX, 1996)</dd>"));
    let system = read_json(&site.join("api/v1/hosts/pve1.json"))["system"].clone();
    assert_eq!((system["pve_version"].as_str(), system["virt"].as_str()), (Some("8.0.3"), Some("none")));
}

/// A `system` snapshot of a container: the boot id is its host's, PID 1's start its own.
fn container(at: &str, pid1: &str) -> Value {
    let mut s = system("ct1", at);
    s["probes"]["virt"] = probe(json!(corpus("system/detect-virt-lxc.txt")));
    s["probes"]["pid1"] = probe(json!(pid1));
    s
}

#[test]
fn a_container_restart_is_a_reboot_by_pid_1s_start() {
    let tmp = tempfile::tempdir().unwrap();
    let (snapshots, site) = (tmp.path().join("snapshots"), tmp.path().join("site"));
    // The same boot id throughout (common::system's): only PID 1's start moves, once.
    for (at, pid1) in
        [("2026-11-19T03:00:00Z", "26\n"), ("2026-11-20T03:00:00Z", "26\n"), ("2026-11-21T03:00:00Z", "911\n")]
    {
        write_dated(&snapshots, "ct1", &container(at, pid1));
    }
    build_cmd(&snapshots, &site, &[]).assert().success();
    let hosts = read_json(&site.join("api/v1/hosts.json"));
    assert_eq!(hosts[0]["machine"], "container");
    let page = read(&site.join("hosts/ct1.html"));
    assert!(page.contains("Container (lxc)"), "{page}");
    let host = read_json(&site.join("api/v1/hosts/ct1.json"));
    let reboots = host["reboots"].as_array().unwrap_or_else(|| panic!("{host}"));
    assert_eq!(reboots.len(), 1, "{reboots:?}");
    assert_eq!(reboots[0]["after"], 1795143600, "between the second and the third snapshot");
}

#[test]
fn update_policies_match_the_kind_of_machine() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("parc.toml");
    std::fs::write(
        &config,
        "[[update]]\nname = \"guests\"\nhosts = [\"*\"]\nmachines = [\"vm\", \"container\"]\naction = \"upgrade\"\nmax_age = \"1000h\"\n\n\
         [[update]]\nname = \"metal\"\nhosts = [\"*\"]\nmachines = [\"physical\", \"raspberry-pi\"]\naction = \"upgrade\"\nmax_age = \"1000h\"\n",
    )
    .unwrap();
    let plan = tmp.path().join("plan.json");
    let snapshots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    parc()
        .current_dir(tmp.path())
        .args(["plan", "--config"])
        .arg(&config)
        .arg("--snapshots")
        .arg(&snapshots)
        .args(["--now", "2026-11-21T10:00:00Z", "-o"])
        .arg(&plan)
        .assert()
        .success();
    let plan = read_json(&plan);
    let policy = |host: &str| {
        let updates = plan["updates"].as_array().unwrap();
        updates.iter().find(|u| u["host"] == host).map(|u| u["policy"].as_str().unwrap().to_string())
    };
    assert_eq!(policy("vm-web1").as_deref(), Some("guests"));
    assert_eq!(policy("db1").as_deref(), Some("metal"));
    assert_eq!(policy("pi-garage").as_deref(), Some("metal"));
    assert_eq!(policy("pve1"), None, "a Proxmox VE host is in neither: no policy lists proxmox");
    assert!(plan["updates"].as_array().unwrap().iter().all(|u| u["skip"] != "two-policies"));
}

#[test]
fn the_bus_and_the_file_system_uuid_are_on_the_pages_and_in_the_api() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    build_example(&site);
    let disks = read_json(&site.join("api/v1/disks.json"));
    let usb = disks.as_array().unwrap().iter().find(|d| d["model"] == "Hitachi HDS721050DLE630").unwrap();
    assert_eq!(usb["tran"], "usb", "the failing Hitachi is behind a USB bridge");
    assert!(read(&site.join(usb["page"].as_str().unwrap())).contains(", bus usb</dd>"));
    let host = usb["host_slug"].as_str().unwrap();
    let page = read(&site.join(format!("hosts/{host}.html")));
    assert!(page.contains("<td>usb</td>"), "the host's disks and block devices name the bus");

    // The VM's real lsblk has no UUID: one given to its disk (its file system is the whole disk) shows.
    let mut lsblk = corpus_json("lsblk/debian12-vm.json");
    let uuid = "0f9c6a5e-8d3b-4c1e-9a77-2b4f1e6d3c21";
    lsblk["blockdevices"][2]["uuid"] = json!(uuid);
    let snapshots = tmp.path().join("snapshots");
    let mut snapshot = disks_snapshot("vm1", "2026-11-21T03:00:00Z", &[], "");
    snapshot["probes"]["lsblk"] = probe(lsblk);
    write_dated(&snapshots, "vm1", &snapshot);
    let site = tmp.path().join("site2");
    build_cmd(&snapshots, &site, &[]).assert().success();
    let host = read_json(&site.join("api/v1/hosts/vm1.json"));
    assert_eq!(host["block_devices"][2]["uuid"], uuid, "{}", host["block_devices"]);
    assert!(read(&site.join("hosts/vm1.html")).contains(&format!("<td class=\"uuid\">{uuid}</td>")));
}

#[test]
fn the_backups_page_names_each_disk_and_lists_the_homes_on_healthy_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    build_example(&site);
    let needed = read_json(&site.join("api/v1/backup-needed.json"));
    let page = read(&site.join("backup.html"));
    let (risky, healthy) = page.split_once("<h2 id=\"healthy\">").unwrap();
    for b in needed.as_array().unwrap() {
        let (model, serial) = (b["disk_model"].as_str().unwrap(), b["disk_serial"].as_str().unwrap());
        let cell = format!("<a href=\"disks/{}.html\">{model} · {serial}</a>", b["disk_slug"].as_str().unwrap());
        assert!(risky.contains(&cell), "{cell}");
        assert!(!healthy.contains(&format!("<td>{}</td>", b["path"].as_str().unwrap())), "{b}");
    }
    // ws-marc's one disk under /home is a healthy NVMe drive: its home is in the second part.
    let disks = read_json(&site.join("api/v1/disks.json"));
    let marc = disks.as_array().unwrap().iter().find(|d| d["host"] == "ws-marc" && d["present"] == true).unwrap();
    assert_eq!(marc["verdict"], "ok");
    let row = healthy.split("<tr>").find(|r| r.contains("<td>/home/marc</td>")).expect("marc's home on a healthy disk");
    assert!(row.contains(&format!("disks/{}.html", marc["slug"].as_str().unwrap())), "{row}");
}

#[test]
fn logical_volumes_carry_their_file_system_and_its_use() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    build_example(&site);
    let host = read_json(&site.join("api/v1/hosts/files.json"));
    let page = read(&site.join("hosts/files.html"));
    let table = page.split("<table id=\"logical-volumes\">").nth(1).unwrap().split("</table>").next().unwrap();
    let lvs = host["logical_volumes"].as_array().unwrap();
    assert!(!lvs.is_empty());
    for lv in lvs {
        let mapper = format!("/dev/mapper/{}-{}", lv["vg_name"].as_str().unwrap(), lv["lv_name"].as_str().unwrap());
        let fs = host["filesystems"].as_array().unwrap().iter().find(|f| f["source"] == mapper.as_str()).unwrap();
        assert_eq!(
            (&lv["mountpoint"], &lv["used"], &lv["free"]),
            (&fs["target"], &fs["used"], &fs["avail"]),
            "{mapper}"
        );
        let (used, free) = (fs["used"].as_u64().unwrap(), fs["avail"].as_u64().unwrap());
        assert_eq!(lv["use_percent"].as_u64(), Some((used * 100).div_ceil(used + free)));
        assert!(table.contains(&format!("<td>{}</td>", fs["target"].as_str().unwrap())));
        assert!(table.contains(&format!("<td class=\"num\">{} %</td>", lv["use_percent"])));
    }
    // pve2's swap volume is mounted nowhere: its file system fields are empty.
    let swap = read_json(&site.join("api/v1/hosts/pve2.json"))["logical_volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["lv_name"] == "swap")
        .cloned()
        .unwrap();
    assert_eq!((swap["mountpoint"].clone(), swap["use_percent"].clone()), (Value::Null, Value::Null));
}

#[test]
fn a_disk_is_found_by_its_serial_or_its_wwn() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    build_example(&site);
    let api = site.join("api/v1");
    let by = read_json(&api.join("disks/by-serial.json"));
    let index = read(&api.join("index.json"));
    assert!(index.contains("\"path\":\"disks/by-serial.json\""), "listed in index.json");
    for d in read_json(&api.join("disks.json")).as_array().unwrap() {
        if let Some(serial) = d["serial"].as_str() {
            let files = by["serials"][serial].as_array().unwrap();
            assert!(files.contains(&d["api"]), "{serial}");
            for file in files {
                assert_eq!(read_json(&api.join(file.as_str().unwrap()))["serial"], serial);
            }
        }
        if let Some(wwn) = d["wwn"].as_str() {
            assert_eq!(by["wwns"][wwn].as_array().unwrap(), &vec![d["api"].clone()], "a WWN names one disk");
        }
    }
    // The MegaRAID drives whose serials were masked to one string: both files, told apart by WWN.
    assert_eq!(by["serials"]["XXXXXXXXXXXX"].as_array().map(Vec::len), Some(2), "{by}");
}

#[test]
fn a_disk_page_says_what_the_disk_does_on_its_host() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    build_example(&site);
    let disks = read_json(&site.join("api/v1/disks.json"));
    let roles = |host: &str, device: &str| {
        let d = disks.as_array().unwrap().iter().find(|d| d["host"] == host && d["device"] == device).unwrap();
        let detail = read_json(&site.join("api/v1").join(d["api"].as_str().unwrap()));
        let page = read(&site.join(d["page"].as_str().unwrap()));
        let roles: Vec<String> = (detail["roles"].as_array().unwrap().iter())
            .map(|r| format!("{} {}", r["role"].as_str().unwrap(), r["name"].as_str().unwrap()))
            .collect();
        (roles, page)
    };
    let (files_sdb, page) = roles("files", "/dev/sdb");
    assert_eq!(files_sdb, ["mounted /home", "mounted /srv", "lvm-pv vg0"], "its LVM volumes, through its partition");
    assert!(page.contains("<dd id=\"disk-roles\">mounted at /home; mounted at /srv; LVM physical volume of vg0</dd>"));
    let (pve1_sda, _) = roles("pve1", "/dev/sda");
    assert!(pve1_sda.contains(&"zfs rpool".to_string()), "a member named by its by-id path: {pve1_sda:?}");
    let (pve2_sdb, _) = roles("pve2", "/dev/sdb");
    assert_eq!(pve2_sdb, ["ceph-osd osd.0"]);
    let (nvme, _) = roles("ws-anna", "/dev/nvme0");
    assert!(nvme.contains(&"mounted /home".to_string()), "smartctl's NVMe controller is lsblk's nvme0n1: {nvme:?}");
}

#[test]
fn a_disk_is_named_by_its_stable_by_id_path() {
    let tmp = tempfile::tempdir().unwrap();
    let (snapshots, site) = (tmp.path().join("snapshots"), tmp.path().join("site"));
    // A real listing where sdb is both a WWN and an ATA model and serial, and
    // a pool whose member is named by the WWN only.
    let mut snapshot =
        disks_snapshot("st1", "2026-11-21T03:00:00Z", &[("sdb", corpus_json("smartctl/scrutiny-smart-ata.json"))], "");
    snapshot["probes"]["by-id"] = probe(json!(corpus("by-id/seagate-find-ls.txt")));
    let zpool = "  pool: tank\n state: ONLINE\nconfig:\n\n\tNAME STATE READ WRITE CKSUM\n\ttank ONLINE 0 0 0\n\t  /dev/disk/by-id/wwn-0x5000c50091ca4d74 ONLINE 0 0 0\n";
    snapshot["probes"]["zpool"] = probe(json!(zpool));
    write_dated(&snapshots, "st1", &snapshot);
    build_cmd(&snapshots, &site, &[]).assert().success();
    let disks = read_json(&site.join("api/v1/disks.json"));
    let disk = &disks[0];
    assert_eq!(disk["by_id"], "ata-ST4000NM0033-9ZM170_Z1ZB45BD", "the model and serial before the WWN");
    let page = read(&site.join(disk["page"].as_str().unwrap()));
    assert!(
        page.contains("<dd id=\"disk-by-id\" class=\"uuid\">/dev/disk/by-id/ata-ST4000NM0033-9ZM170_Z1ZB45BD</dd>"),
        "{page}"
    );
    let detail = read_json(&site.join("api/v1").join(disk["api"].as_str().unwrap()));
    assert_eq!(detail["roles"][0], json!({"role": "zfs", "name": "tank"}), "the WWN member is sdb by its link");
    let host = read_json(&site.join("api/v1/hosts/st1.json"));
    assert_eq!(host["block_devices"][0]["by_id"], "ata-ST4000NM0033-9ZM170_Z1ZB45BD");
    assert_eq!(host["block_devices"][0]["children"][0]["by_id"], Value::Null, "the listing has no sdb1");
    assert!(read(&site.join("hosts/st1.html")).contains("<td class=\"uuid\">ata-ST4000NM0033-9ZM170_Z1ZB45BD</td>"));

    // The example fleet's hosts list their links too.
    let site = tmp.path().join("example");
    build_example(&site);
    let disks = read_json(&site.join("api/v1/disks.json"));
    let pve1 = disks.as_array().unwrap().iter().find(|d| d["host"] == "pve1" && d["device"] == "/dev/sda").unwrap();
    assert!(pve1["by_id"].as_str().unwrap().starts_with("ata-Samsung_SSD_860_EVO_500GB_"), "{pve1}");
}

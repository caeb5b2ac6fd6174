//! A host on one day: its `system` and `disks` snapshots.

use super::corpus::*;
use super::roles::*;
use super::*;
use serde_json::{json, Value};

pub(super) struct Host<'a> {
    pub(super) role: &'a Role,
    pub(super) name: &'a str,
    pub(super) index: usize,
    pub(super) group: usize,
    pub(super) at: Instant,
    pub(super) days_ago: u32,
    /// Days in the whole history.
    pub(super) days: u32,
    /// How far into the history this version is, 0..=100.
    pub(super) progress: u64,
    pub(super) templates: &'a [Value],
}

impl Host<'_> {
    pub(super) fn envelope(&self, kind: &str, probes: serde_json::Map<String, Value>) -> Value {
        // Collected at 03:xx Paris time, as a host's timer would.
        let local = Instant(self.at.0 + 3600).rfc3339();
        json!({"schema": parc::snapshot::SCHEMA, "kind": kind, "host": self.name,
               "collected_at": format!("{}+01:00", &local[..19]),
               "agent": {"version": env!("CARGO_PKG_VERSION"), "mode": if self.index.is_multiple_of(3) || self.role.silent_days > 0 { "ssh" } else { "local" }},
               "probes": probes})
    }

    pub(super) fn probe(cmd: &str, out: Value, ms: u64) -> Value {
        json!({"cmd": cmd, "exit": 0, "ms": ms, "out": out})
    }

    pub(super) fn system(&self) -> Value {
        let mut dice = Dice::new(&[self.index as u64, 7]);
        // A reboot every ten days or so: the boot id changes with it.
        let boot = (self.days_ago / 10) as u64;
        let boot_id = format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            dice.next() as u32 ^ boot as u32,
            dice.below(0xffff),
            boot,
            dice.below(0xfff),
            dice.next() & 0xffff_ffff_ffff
        );
        let uptime = (self.days_ago % 10) as u64 * 86_400 + 3_600 + dice.below(3_000);
        let octet = 10 + self.index % 240;
        let subnet = 1 + self.index / 240 % 250;
        let mut probes = serde_json::Map::new();
        probes.insert("os-release".into(), Self::probe("cat /etc/os-release", json!(self.role.os_release), 1));
        probes.insert("hostname".into(), Self::probe("hostname", json!(format!("{}\n", self.name)), 1));
        probes.insert(
            "uname".into(),
            Self::probe(
                "uname -srvm",
                json!(format!("Linux {} #1 SMP PREEMPT_DYNAMIC {}\n", self.role.kernel, self.role.arch)),
                1,
            ),
        );
        probes.insert(
            "boot_id".into(),
            Self::probe("cat /proc/sys/kernel/random/boot_id", json!(format!("{boot_id}\n")), 1),
        );
        probes.insert(
            "uptime".into(),
            Self::probe("cat /proc/uptime", json!(format!("{uptime}.42 {}.17\n", uptime * 3)), 1),
        );
        let ip = json!([
            {"ifindex": 1, "ifname": "lo", "addr_info": [{"family": "inet", "local": "127.0.0.1", "prefixlen": 8, "scope": "host"}]},
            {"ifindex": 2, "ifname": "eth0", "addr_info": [{"family": "inet", "local": format!("192.0.{subnet}.{octet}"), "prefixlen": 24, "scope": "global"},
                                                          {"family": "inet6", "local": "fe80::5054:ff:fe12:3456", "prefixlen": 64, "scope": "link"}]}]);
        probes.insert("ip".into(), Self::probe("ip -j addr", ip, 3));
        // What each machine is, as its tools answer: bare metal prints `none` and exits 1.
        let virt = if self.role.name == "vm-web1" {
            Self::probe("systemd-detect-virt", json!(VIRT_KVM), 12)
        } else {
            json!({"cmd": "systemd-detect-virt", "exit": 1, "ms": 9, "out": "none\n"})
        };
        probes.insert("virt".into(), virt);
        let dmi = match self.role.name {
            "vm-web1" => Some(DMI_QEMU),
            "ws-anna" | "ws-marc" => Some(DMI_PLACEHOLDERS),
            _ => None,
        };
        if let Some(dmi) = dmi {
            let cmd = "cat /sys/class/dmi/id/sys_vendor /sys/class/dmi/id/product_name";
            probes.insert("dmi".into(), Self::probe(cmd, json!(dmi), 1));
        }
        if self.role.name == "pi-garage" {
            probes.insert("device-tree".into(), Self::probe("cat /proc/device-tree/model", json!(RPI4_MODEL), 1));
        }
        if self.role.name.starts_with("pve") {
            probes.insert("pveversion".into(), Self::probe("pveversion", json!(PVEVERSION), 420));
        }
        probes.insert("pid1".into(), Self::probe("sed 's/.*) //' /proc/1/stat | cut -d' ' -f20", json!(PID1_START), 1));
        self.envelope("system", probes)
    }

    pub(super) fn disks(&self) -> Value {
        let role = self.role;
        let mut probes = serde_json::Map::new();
        let mut blocks: Vec<Value> = Vec::new();
        let mut scan = Vec::new();
        let mut by_id = String::from("total 0\n");
        for (d, (drive, template)) in role.drives.iter().zip(self.templates).enumerate() {
            // A span that ends at 100 holds the last day too.
            if self.progress < drive.span.0 || (self.progress >= drive.span.1 && drive.span.1 < 100) {
                continue;
            }
            let smart = self.smart(drive, template, d);
            if let Some(block) = drive.block {
                let rotational = smart["rotation_rate"].as_u64().unwrap_or(0) > 0;
                blocks.push(json!({"name": block, "type": "disk", "size": smart["user_capacity"]["bytes"].as_u64().or(smart["nvme_total_capacity"].as_u64()),
                    "model": smart["model_name"], "serial": smart["serial_number"], "rota": rotational, "tran": drive.tran,
                    "mountpoint": null, "mountpoints": [null], "children": drive.children}));
                by_id.push_str(&by_id_links(block, drive, &smart));
            }
            let (dev, dtype) = drive.probe.split_once(':').unwrap_or((drive.probe, ""));
            scan.push(json!({"name": dev, "info_name": dev, "type": if dtype.is_empty() { smart["device"]["type"].clone() } else { json!(dtype) }, "protocol": smart["device"]["protocol"]}));
            let cmd = if dtype.is_empty() {
                format!("smartctl -j -a {dev}")
            } else {
                format!("smartctl -j -a -d {dtype} {dev}")
            };
            let exit = smart["smartctl"]["exit_status"].as_u64().unwrap_or(0);
            probes.insert(
                format!("smartctl:{}", drive.probe),
                json!({"cmd": cmd, "exit": exit, "ms": 180 + d as u64 * 40, "out": smart}),
            );
        }
        // Block devices only lsblk knows (an SD card) get their own serial per copy too.
        blocks.extend(role.extra_block.iter().cloned().map(|mut block| {
            if let Some(serial) = block["serial"].as_str() {
                block["serial"] = json!(self.serial(serial));
            }
            // An SD card is named by its card name (SC32G here) and serial.
            if let (Some(name @ "mmcblk0"), Some(serial)) = (block["name"].as_str(), block["serial"].as_str()) {
                let card = format!("mmc-SC32G_{serial}");
                by_id.push_str(&format!("lrwxrwxrwx 1 root root 13 Nov 30 06:12 {card} -> ../../{name}\n"));
                for n in 1..=block["children"].as_array().map_or(0, Vec::len) {
                    by_id.push_str(&format!(
                        "lrwxrwxrwx 1 root root 15 Nov 30 06:12 {card}-part{n} -> ../../{name}p{n}\n"
                    ));
                }
            }
            block
        }));
        let lsblk = if role.name == "vm-web1" {
            serde_json::from_str(VM_LSBLK).expect("corpus")
        } else {
            json!({"blockdevices": blocks})
        };
        let lsblk = if role.old_lsblk { stringify(lsblk) } else { lsblk };
        probes.insert("lsblk".into(), Self::probe("lsblk -J -b -o NAME,TYPE,SIZE,MODEL,SERIAL,WWN,FSTYPE,MOUNTPOINT,MOUNTPOINTS,ROTA,UUID,PKNAME,TRAN,VENDOR,REV,HOTPLUG", lsblk, 14));
        let mut scan_out: Value = serde_json::from_str(SCAN_NONE).expect("corpus");
        if !scan.is_empty() {
            scan_out["devices"] = json!(scan);
        }
        probes.insert("smartctl-scan".into(), Self::probe("smartctl --scan-open -j", scan_out, 90));
        if role.name != "vm-web1" {
            probes.insert("by-id".into(), Self::probe("ls -l /dev/disk/by-id", json!(by_id), 2));
        }
        probes.insert(
            "df".into(),
            Self::probe("df -B1 --output=source,fstype,target,size,used,avail", json!(role.df), 4),
        );
        let du = if role.name == "vm-web1" {
            VM_DU.to_string()
        } else {
            let mut dice = Dice::new(&[self.index as u64, self.days_ago as u64, 3]);
            role.homes
                .iter()
                .map(|(user, bytes)| {
                    // Homes grow a little every day, with some noise.
                    let grown = bytes + bytes / 400 * self.progress + dice.below(bytes / 200 + 1);
                    format!("{grown}\t/home/{user}\n")
                })
                .collect()
        };
        probes.insert("home".into(), Self::probe("du -sb /home/*", json!(du), 900));
        for (key, out) in &role.extra_probes {
            let probe = if let Some(device) = key.strip_prefix("smartctl:") {
                json!({"cmd": format!("smartctl -j -a {device}"), "exit": out["smartctl"]["exit_status"], "ms": 30, "out": out})
            } else {
                let out =
                    if key == "zpool" { json!(self.zpool(out.as_str().unwrap_or_default())) } else { out.clone() };
                Self::probe(key, out, 25)
            };
            probes.insert(key.clone(), probe);
        }
        self.envelope("disks", probes)
    }

    /// A drive's smartctl output for this day, from its real template.
    pub(super) fn smart(&self, drive: &Drive, template: &Value, d: usize) -> Value {
        let mut v = template.clone();
        let mut dice = Dice::new(&[self.index as u64, d as u64, self.days_ago as u64]);
        let template_serial = v["serial_number"].as_str().unwrap_or_default().to_string();
        let serial = self.serial(drive.serial.unwrap_or(&template_serial));
        if !serial.is_empty() {
            v["serial_number"] = json!(serial);
        }
        if let Some(id) = v["wwn"]["id"].as_u64() {
            // One WWN per copy: the first group keeps the template's; the
            // others, masked serials too (they share the serial, never the WWN).
            let salt = if serial == template_serial && self.group == 0 {
                0
            } else {
                let seed = if self.group == 0 { vec![fnv(&serial)] } else { vec![fnv(&serial), self.group as u64] };
                Dice::new(&seed).below(1 << 20)
            };
            v["wwn"]["id"] = json!(id ^ salt);
        }
        let (dev, _) = drive.probe.split_once(':').unwrap_or((drive.probe, ""));
        if !drive.probe.contains("megaraid") {
            v["device"]["name"] = json!(dev);
            v["device"]["info_name"] = json!(dev);
            if let Some(t) = v["device"]["type"].as_str().and_then(|t| t.split_once('+')) {
                v["device"]["type"] = json!(t.0);
                // Off the controller, its pass-through quirks go too: exit bit 2 and its warning.
                if let Some(exit) = v["smartctl"]["exit_status"].as_u64() {
                    v["smartctl"]["exit_status"] = json!(exit & !4);
                }
                if let Some(tool) = v.get_mut("smartctl").and_then(Value::as_object_mut) {
                    tool.remove("messages");
                }
            }
        }
        let hours = self.days_ago as u64 * 24;
        if let Some(h) = v["power_on_time"]["hours"].as_u64() {
            v["power_on_time"]["hours"] = json!(h.saturating_sub(hours));
        }
        if let Some(t) = v["temperature"]["current"].as_i64() {
            if t > 0 {
                let t = t - 2 + dice.below(5) as i64;
                v["temperature"]["current"] = json!(t);
                if let Some(log) = v.get_mut("nvme_smart_health_information_log") {
                    log["temperature"] = json!(t);
                }
            }
        }
        // `pointer_mut`, not `v[..]`: indexing a Value mutably inserts the keys it misses.
        if let Some(table) = v.pointer_mut("/ata_smart_attributes/table").and_then(Value::as_array_mut) {
            for a in table {
                let id = a["id"].as_u64();
                if id == Some(9) {
                    if let Some(h) = a["raw"]["value"].as_u64() {
                        a["raw"]["value"] = json!(h.saturating_sub(hours));
                        a["raw"]["string"] = json!(h.saturating_sub(hours).to_string());
                    }
                }
                if id == Some(5) && drive.grows > 0 {
                    // The count climbs over the history and ends at the template's value.
                    let end = a["raw"]["value"].as_u64().unwrap_or(0);
                    let now = end - drive.grows + drive.grows * self.progress / 100;
                    a["raw"]["value"] = json!(now);
                    a["raw"]["string"] = json!(now.to_string());
                }
            }
        }
        if v["local_time"]["time_t"].is_u64() {
            v["local_time"] = json!({"time_t": self.at.0, "asctime": self.at.rfc3339()});
        }
        v
    }

    /// The first group's serial as given; later groups change its tail, keeping
    /// its shape (and masked serials stay masked).
    pub(super) fn serial(&self, serial: &str) -> String {
        if self.group == 0 || serial.len() < 4 || parc::fleet::identity::looks_masked(serial) {
            return serial.to_string();
        }
        let mut dice = Dice::new(&[self.group as u64, fnv(serial)]);
        let keep = serial.len() - 4;
        let tail: String =
            (0..4).map(|_| b"0123456789ABCDEFGHJKLMNPRSTVWXYZ"[dice.below(32) as usize] as char).collect();
        format!("{}{tail}", &serial[..keep])
    }

    pub(super) fn zpool(&self, template: &str) -> String {
        let serials: Vec<String> = self
            .role
            .drives
            .iter()
            .zip(self.templates)
            .take(2)
            .map(|(drive, t)| self.serial(drive.serial.unwrap_or(t["serial_number"].as_str().unwrap_or_default())))
            .collect();
        template.replace("{A}", &serials[0]).replace("{B}", &serials[1])
    }
}

/// The lines `ls -l /dev/disk/by-id` prints for a drive and its partitions,
/// named as udev's 60-persistent-storage rules name them.
fn by_id_links(block: &str, drive: &Drive, smart: &Value) -> String {
    let model = smart["model_name"].as_str().unwrap_or_default().replace(' ', "_");
    let serial = smart["serial_number"].as_str().unwrap_or_default();
    let mut names = match drive.tran {
        "nvme" => vec![format!("nvme-{model}_{serial}")],
        "usb" => vec![format!("usb-{model}_{serial}-0:0")],
        "sata" | "ata" => vec![format!("ata-{model}_{serial}")],
        "sas" => vec![format!("scsi-S{model}_{serial}")],
        _ => Vec::new(),
    };
    if let (Some(naa), Some(oui), Some(id)) =
        (smart["wwn"]["naa"].as_u64(), smart["wwn"]["oui"].as_u64(), smart["wwn"]["id"].as_u64())
    {
        names.push(format!("wwn-0x{naa:x}{oui:06x}{id:09x}"));
    }
    let mut lines = String::new();
    for name in &names {
        lines.push_str(&format!("lrwxrwxrwx 1 root root  9 Nov 30 06:12 {name} -> ../../{block}\n"));
        for child in drive.children.as_array().into_iter().flatten() {
            let Some(part) = child["name"].as_str() else { continue };
            let number = part.strip_prefix(block).map(|n| n.trim_start_matches('p')).unwrap_or_default();
            if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) {
                lines
                    .push_str(&format!("lrwxrwxrwx 1 root root 10 Nov 30 06:12 {name}-part{number} -> ../../{part}\n"));
            }
        }
    }
    lines
}

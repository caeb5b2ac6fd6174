//! Ansible's facts (`ansible all -m setup --tree DIR`, whose files wrap them
//! in `ansible_facts`, or its JSON fact cache, whose files are the facts):
//! what they say of a host's system and disks, as parc's own kinds hold it.
//! What the facts lack (SMART, homes, APT) is simply absent.

use super::disks::{by_id, df, lsblk::BlockDevice, lvm, DisksFacts};
use super::system::{Address, SystemFacts};
use crate::time::Instant;
use serde_json::{Map, Value};

/// The kind a file of facts stands for: a `system` and a `disks` version
/// at once (`parse.rs` makes the two).
pub const KIND: &str = "ansible-facts";

/// One file of facts: a `system` and a `disks` version at its time.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Facts {
    pub collected_at: Instant,
    pub system: SystemFacts,
    pub disks: DisksFacts,
}

/// Why a file that looks like Ansible's holds no facts.
#[derive(Debug, thiserror::Error)]
pub enum NoFacts {
    /// Ansible wrote the file for a host it could not gather (`rc`, `msg`).
    #[error("Ansible gathered no facts: {0}")]
    Failed(String),
    #[error("the facts have no ansible_date_time: no time to date them by")]
    NoTime,
}

/// The facts of `value`, when it is a file of Ansible facts at all (`None`: it is not).
pub fn read(value: &Value) -> Option<Result<Facts, NoFacts>> {
    let top = value.as_object()?;
    let facts = match top.get("ansible_facts") {
        Some(Value::Object(facts)) => facts,
        _ if top.keys().any(|k| k.starts_with("ansible_")) => top,
        _ => return None,
    };
    if !facts.contains_key("ansible_date_time") {
        // Ansible writes the file of a host it could not gather too.
        if let Some(msg) = top.get("msg").and_then(Value::as_str) {
            return Some(Err(NoFacts::Failed(msg.to_string())));
        }
        return Some(Err(NoFacts::NoTime));
    }
    Some(facts_of(facts))
}

fn facts_of(f: &Map<String, Value>) -> Result<Facts, NoFacts> {
    let fact = |key: &str| f.get(key).and_then(text);
    let time = f.get("ansible_date_time").ok_or(NoFacts::NoTime)?;
    let epoch = time.get("epoch").and_then(number).map(|e| Instant(e as i64));
    let collected_at = epoch
        .or_else(|| time.get("iso8601").and_then(Value::as_str).and_then(|t| Instant::parse_rfc3339(t).ok()))
        .ok_or(NoFacts::NoTime)?;
    let distribution = fact("ansible_distribution");
    let version = fact("ansible_distribution_version");
    let codename = fact("ansible_distribution_release");
    // os-release's PRETTY_NAME, as lsb_release describes it, else made alike.
    let os = f.get("ansible_lsb").and_then(|l| l.get("description")).and_then(text).or_else(|| {
        let name = distribution.clone()?;
        Some(match (&version, &codename) {
            (Some(v), Some(c)) => format!("{name} {v} ({c})"),
            (Some(v), None) => format!("{name} {v}"),
            _ => name,
        })
    });
    let virt = match fact("ansible_virtualization_role").as_deref() {
        Some("guest") => fact("ansible_virtualization_type"),
        Some("host") => Some("none".into()),
        _ => None,
    };
    let placeholder =
        |s: &String| ["NA", "N/A", "None", "To Be Filled By O.E.M.", "Default string"].contains(&s.as_str());
    let hardware: Vec<String> = [fact("ansible_system_vendor"), fact("ansible_product_name")]
        .into_iter()
        .flatten()
        .filter(|s| !placeholder(s))
        .collect();
    let mut addresses = Vec::new();
    for name in f.get("ansible_interfaces").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        let Some(iface) = f.get(&format!("ansible_{}", name.replace('-', "_"))) else { continue };
        if name == "lo" {
            continue;
        }
        let v4 = iface.get("ipv4").and_then(|v| v.get("address")).and_then(text);
        let v6 = iface.get("ipv6").and_then(Value::as_array).into_iter().flatten();
        for address in v4.into_iter().chain(v6.filter_map(|a| a.get("address").and_then(text))) {
            addresses.push(Address { interface: name.to_string(), address });
        }
    }
    let system = SystemFacts {
        hostname: fact("ansible_hostname"),
        os,
        os_id: distribution.map(|d| d.to_lowercase()),
        os_version: version,
        os_codename: codename,
        kernel: fact("ansible_kernel"),
        arch: fact("ansible_architecture"),
        uptime_seconds: f.get("ansible_uptime_seconds").and_then(number),
        addresses,
        virt,
        hardware: (!hardware.is_empty()).then(|| hardware.join(" ")),
        ..SystemFacts::default()
    };
    Ok(Facts { collected_at, system, disks: disks(f) })
}

fn disks(f: &Map<String, Value>) -> DisksFacts {
    let mounts: Vec<&Value> = f.get("ansible_mounts").and_then(Value::as_array).into_iter().flatten().collect();
    let mounted = |name: &str| -> Vec<String> {
        let device = format!("/dev/{name}");
        (mounts.iter())
            .filter(|m| m.get("device").and_then(Value::as_str) == Some(device.as_str()))
            .filter_map(|m| m.get("mount").and_then(text))
            .collect()
    };
    let mut by_id = Vec::new();
    let mut links = |name: &str, device: &Value| {
        let ids = device.get("links").and_then(|l| l.get("ids")).and_then(Value::as_array);
        for id in ids.into_iter().flatten().filter_map(Value::as_str) {
            by_id.push(by_id::Link { name: id.to_string(), device: name.to_string() });
        }
    };
    let size = |d: &Value| Some(d.get("sectors").and_then(number)? * d.get("sectorsize").and_then(number)?);
    let mut devices = Vec::new();
    for (name, d) in f.get("ansible_devices").and_then(Value::as_object).into_iter().flatten() {
        links(name, d);
        let mut children = Vec::new();
        for (part, p) in d.get("partitions").and_then(Value::as_object).into_iter().flatten() {
            links(part, p);
            children.push(BlockDevice {
                name: part.clone(),
                kind: "part".into(),
                size: size(p),
                uuid: p.get("uuid").and_then(text),
                mountpoints: mounted(part),
                ..BlockDevice::default()
            });
        }
        devices.push(BlockDevice {
            name: name.clone(),
            kind: "disk".into(),
            size: size(d),
            model: d.get("model").and_then(text),
            serial: d.get("serial").and_then(text),
            wwn: d.get("wwn").and_then(text),
            mountpoints: mounted(name),
            rotational: d.get("rotational").and_then(number).map(|r| r != 0),
            vendor: d.get("vendor").and_then(text),
            children,
            ..BlockDevice::default()
        });
    }
    let filesystems = (mounts.iter())
        .filter_map(|m| {
            let (total, avail) = (m.get("size_total").and_then(number)?, m.get("size_available").and_then(number)?);
            let (fstype, target) = (m.get("fstype").and_then(text)?, m.get("mount").and_then(text)?);
            (!df::VIRTUAL.contains(&fstype.as_str())).then(|| df::Filesystem {
                source: m.get("device").and_then(text).unwrap_or_default(),
                target,
                fstype,
                size: total,
                used: total.saturating_sub(avail),
                avail,
            })
        })
        .collect();
    let lvm = f.get("ansible_lvm");
    let gigabytes = |v: Option<&Value>| v.and_then(number_f).map(|g| (g * 1024.0 * 1024.0 * 1024.0) as u64);
    let physical_volumes = (lvm.and_then(|l| l.get("pvs")).and_then(Value::as_object).into_iter().flatten())
        .map(|(pv, v)| lvm::PhysicalVolume {
            pv_name: pv.clone(),
            vg_name: v.get("vg").and_then(text).unwrap_or_default(),
            size: gigabytes(v.get("size_g")),
            free: gigabytes(v.get("free_g")),
        })
        .collect();
    let logical_volumes = (lvm.and_then(|l| l.get("lvs")).and_then(Value::as_object).into_iter().flatten())
        .map(|(lv, v)| lvm::LogicalVolume {
            lv_name: lv.clone(),
            vg_name: v.get("vg").and_then(text).unwrap_or_default(),
            size: gigabytes(v.get("size_g")),
        })
        .collect();
    DisksFacts { devices, filesystems, physical_volumes, logical_volumes, by_id, ..DisksFacts::default() }
}

/// A fact's text: Ansible writes null for none, and numbers as numbers or text.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn number(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn number_f(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

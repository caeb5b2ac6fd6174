//! `lsblk -J -b -o NAME,TYPE,SIZE,MODEL,SERIAL,WWN,FSTYPE,MOUNTPOINT,MOUNTPOINTS,ROTA,…`
//!
//! util-linux changed its JSON over the years: before 2.33 every value is a
//! string (`"rota":"1"`, `"size":"500107862016"`), later ones print numbers and
//! booleans; `mountpoints` (an array, with `null` for none) arrived in 2.37.

use serde::{Deserialize, Deserializer};

/// Kept in the cache as an array of its fields: a host has a tree of them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BlockDevice {
    /// Kernel name, e.g. `sda`, `nvme0n1p2`, `vg0-home`.
    pub name: String,
    /// lsblk's TYPE: `disk`, `part`, `lvm`, `crypt`, `raid1`, `loop`, `rom`, …
    pub kind: String,
    pub size: Option<u64>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub wwn: Option<String>,
    pub fstype: Option<String>,
    /// The file system's UUID (lsblk's UUID).
    pub uuid: Option<String>,
    pub mountpoints: Vec<String>,
    /// Spinning disk (`ROTA`).
    pub rotational: Option<bool>,
    /// Transport: `sata`, `nvme`, `usb`, `mmc`, …
    pub tran: Option<String>,
    pub vendor: Option<String>,
    pub hotplug: Option<bool>,
    pub children: Vec<BlockDevice>,
}
crate::store::cached_as_array!(BlockDevice {
    name,
    kind,
    size,
    model,
    serial,
    wwn,
    fstype,
    uuid,
    mountpoints,
    rotational,
    tran,
    vendor,
    hotplug,
    children
});

pub fn parse(out: LsblkOutput) -> Vec<BlockDevice> {
    out.blockdevices.into_iter().map(RawDevice::into_device).collect()
}

#[derive(Deserialize)]
pub struct LsblkOutput {
    blockdevices: Vec<RawDevice>,
}

#[derive(Deserialize)]
struct RawDevice {
    name: String,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default, deserialize_with = "flexible_u64")]
    size: Option<u64>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    serial: Option<String>,
    #[serde(default)]
    wwn: Option<String>,
    #[serde(default)]
    fstype: Option<String>,
    #[serde(default)]
    uuid: Option<String>,
    #[serde(default)]
    mountpoint: Option<String>,
    #[serde(default)]
    mountpoints: Option<Vec<Option<String>>>,
    #[serde(default, deserialize_with = "flexible_bool")]
    rota: Option<bool>,
    #[serde(default)]
    tran: Option<String>,
    #[serde(default)]
    vendor: Option<String>,
    #[serde(default, deserialize_with = "flexible_bool")]
    hotplug: Option<bool>,
    #[serde(default)]
    children: Vec<RawDevice>,
}

impl RawDevice {
    fn into_device(self) -> BlockDevice {
        let mut mountpoints: Vec<String> = self.mountpoints.unwrap_or_default().into_iter().flatten().collect();
        if let Some(m) = self.mountpoint {
            if !mountpoints.contains(&m) {
                mountpoints.insert(0, m);
            }
        }
        BlockDevice {
            name: self.name,
            kind: self.kind.unwrap_or_default(),
            size: self.size,
            model: clean(self.model),
            serial: clean(self.serial),
            wwn: clean(self.wwn),
            fstype: clean(self.fstype),
            uuid: clean(self.uuid),
            mountpoints,
            rotational: self.rota,
            tran: clean(self.tran),
            vendor: clean(self.vendor),
            hotplug: self.hotplug,
            children: self.children.into_iter().map(RawDevice::into_device).collect(),
        }
    }
}

/// lsblk pads model and vendor with spaces; an empty value means none.
fn clean(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NumOrText {
    Num(u64),
    Bool(bool),
    Text(String),
}

fn flexible_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Option::<NumOrText>::deserialize(d)? {
        Some(NumOrText::Num(n)) => Some(n),
        Some(NumOrText::Text(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

fn flexible_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Option::<NumOrText>::deserialize(d)? {
        Some(NumOrText::Bool(b)) => Some(b),
        Some(NumOrText::Num(n)) => Some(n != 0),
        Some(NumOrText::Text(s)) => match s.trim() {
            "1" | "true" => Some(true),
            "0" | "false" => Some(false),
            _ => None,
        },
        None => None,
    })
}

impl BlockDevice {
    /// This device and everything under it, depth first.
    pub fn walk(&self) -> Box<dyn Iterator<Item = &BlockDevice> + '_> {
        Box::new(std::iter::once(self).chain(self.children.iter().flat_map(|c| c.walk())))
    }

    /// A whole disk worth tracking: not a loop, zram or RAM device, and not empty.
    pub fn is_physical_disk(&self) -> bool {
        self.kind == "disk"
            && self.size.unwrap_or(0) > 0
            && !["zram", "ram", "loop", "nbd"].iter().any(|p| self.name.starts_with(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_old_string_forms_and_nested_children() {
        let old = r#"{"blockdevices":[{"name":"sda","type":"disk","size":"500107862016","model":"Samsung SSD 860 ","serial":"S3YZ","rota":"0","hotplug":"0",
            "mountpoint":null,"children":[{"name":"sda1","type":"part","size":"536870912","mountpoint":"/boot/efi","rota":"0"},
            {"name":"sda2","type":"part","size":"499570991104","rota":"0","children":[{"name":"vg0-home","type":"lvm","size":"400000000000","mountpoint":"/home","rota":"0"}]}]}]}"#;
        let devices = parse(serde_json::from_str(old).unwrap());
        let sda = &devices[0];
        assert_eq!(
            (sda.size, sda.rotational, sda.model.as_deref()),
            (Some(500107862016), Some(false), Some("Samsung SSD 860"))
        );
        let names: Vec<_> = sda.walk().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["sda", "sda1", "sda2", "vg0-home"]);
        assert_eq!(sda.children[1].children[0].mountpoints, ["/home"]);
    }
}

//! `ceph-volume lvm list --format json`: which OSD lives on which device.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CephOsd {
    pub id: String,
    /// The devices holding the OSD's data, e.g. `/dev/sdb`.
    pub devices: Vec<String>,
}

#[derive(Deserialize)]
pub struct Volume {
    #[serde(default)]
    devices: Vec<String>,
}

pub fn parse(list: BTreeMap<String, Vec<Volume>>) -> Vec<CephOsd> {
    list.into_iter()
        .map(|(id, volumes)| {
            let mut devices: Vec<String> = volumes.into_iter().flat_map(|v| v.devices).collect();
            devices.sort();
            devices.dedup();
            CephOsd { id, devices }
        })
        .collect()
}

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

#[cfg(test)]
mod tests {
    #[test]
    fn reads_osds_and_their_devices() {
        let list = serde_json::from_str(
            r#"{"0": [{"devices": ["/dev/sdb"], "lv_name": "osd-block-3f1c", "type": "block", "tags": {"ceph.osd_id": "0"}},
                      {"devices": ["/dev/nvme0n1"], "type": "db"}],
                "1": [{"devices": ["/dev/sdc"], "type": "block"}]}"#,
        )
        .unwrap();
        let osds = super::parse(list);
        assert_eq!(osds.len(), 2);
        assert_eq!(
            (osds[0].id.as_str(), osds[0].devices.clone()),
            ("0", vec!["/dev/nvme0n1".to_string(), "/dev/sdb".into()])
        );
    }
}

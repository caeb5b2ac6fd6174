//! `ubuntu-drivers devices`: each device that has drivers to offer, and the
//! one the tool recommends.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Device {
    /// `model`, else `vendor`, else the sysfs path.
    pub model: String,
    /// The package marked `recommended`.
    pub recommended: Option<String>,
}

pub fn parse(text: &str) -> Vec<Device> {
    let mut devices: Vec<Device> = Vec::new();
    for line in text.lines() {
        if let Some(path) = line.strip_prefix("== ").and_then(|l| l.strip_suffix(" ==")) {
            devices.push(Device { model: path.to_string(), recommended: None });
            continue;
        }
        let (Some((key, value)), Some(device)) = (line.split_once(':'), devices.last_mut()) else { continue };
        let value = value.trim();
        match key.trim() {
            "model" | "vendor" if device.model.starts_with('/') => device.model = value.to_string(),
            "model" => device.model = value.to_string(),
            "driver" => {
                // PACKAGE - distro non-free recommended
                let (package, tags) = value.split_once(" - ").unwrap_or((value, ""));
                if tags.split_whitespace().any(|t| t == "recommended") {
                    device.recommended = Some(package.trim().to_string());
                }
            }
            _ => {}
        }
    }
    devices
}

//! `smartctl -j -a DEVICE` (smartmontools 7+), for ATA/SATA, NVMe and SCSI/SAS.
//!
//! smartctl's exit status is a bit mask, not success or failure: a healthy
//! disk with old errors in its log exits 64. So a report is read whatever the
//! exit status, and the bits are kept for the verdict.

use serde::{Deserialize, Serialize};

/// What one smartctl run says about one device.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SmartReport {
    /// The probe key, e.g. `smartctl:/dev/bus/0:megaraid,1`.
    pub probe: String,
    /// `device.name`, e.g. `/dev/sda`.
    pub device: Option<String>,
    /// `device.type`, e.g. `sat`, `nvme`, `sat+megaraid,1`.
    pub device_type: Option<String>,
    /// `ATA`, `NVMe` or `SCSI`.
    pub protocol: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    /// World Wide Name as lsblk prints it, `0x5000cca…`.
    pub wwn: Option<String>,
    pub firmware: Option<String>,
    pub capacity_bytes: Option<u64>,
    /// Spindle speed; 0 for solid state.
    pub rotation_rate: Option<u64>,
    pub form_factor: Option<String>,
    /// smartctl's overall health self-assessment (`smart_status.passed`).
    pub passed: Option<bool>,
    /// smartctl's exit status bits.
    pub exit_status: Option<u64>,
    /// smartctl's own error and warning messages.
    pub messages: Vec<String>,
    /// Current temperature, °C.
    pub temperature: Option<i64>,
    /// The drive's own temperature limit, °C, when it reports one.
    pub temperature_limit: Option<i64>,
    pub power_on_hours: Option<u64>,
    /// ATA SMART attributes.
    pub attributes: Vec<AtaAttribute>,
    /// NVMe health log.
    pub nvme: Option<NvmeHealth>,
    /// SCSI/SAS health figures.
    pub scsi: Option<ScsiHealth>,
    /// ATA: errors recorded in the self-test log.
    pub self_test_errors: Option<u64>,
    /// ATA: entries in the device error log.
    pub error_log_count: Option<u64>,
}

/// Kept in the cache as an array of its fields: a SATA disk has dozens.
#[derive(Clone, Debug, PartialEq)]
pub struct AtaAttribute {
    pub id: u8,
    pub name: String,
    /// Normalised value, worst seen and the vendor's failure threshold.
    pub value: u16,
    pub worst: u16,
    pub thresh: u16,
    /// `now` or `past` when the value fell to the threshold, else empty.
    pub when_failed: String,
    /// The raw count as smartctl prints it first (`2111 (12437 0)` → 2111).
    pub raw: u64,
}
crate::store::cached_as_array!(AtaAttribute { id, name, value, worst, thresh, when_failed, raw });

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NvmeHealth {
    pub critical_warning: u64,
    pub available_spare: Option<u64>,
    pub available_spare_threshold: Option<u64>,
    pub percentage_used: Option<u64>,
    pub media_errors: u64,
    pub unsafe_shutdowns: Option<u64>,
    pub error_log_entries: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScsiHealth {
    /// Sectors remapped since manufacture (the SCSI analogue of ATA 5).
    pub grown_defects: Option<u64>,
    /// Read and write errors the drive could not correct.
    pub uncorrected_errors: u64,
}

impl SmartReport {
    /// Whether the drive answered with any health data at all.
    pub fn has_health_data(&self) -> bool {
        self.passed.is_some() || !self.attributes.is_empty() || self.nvme.is_some() || self.scsi.is_some()
    }

    pub fn attribute(&self, id: u8) -> Option<&AtaAttribute> {
        self.attributes.iter().find(|a| a.id == id)
    }
}

/// Why a text is not smartctl's report.
#[derive(Debug, thiserror::Error)]
pub enum Unreadable {
    #[error("unreadable smartctl output: {0}")]
    Json(serde_json::Error),
    #[error("not smartctl JSON (no \"smartctl\" or \"device\" section)")]
    NotSmartctl,
    /// The probe failed before it printed any JSON: its own words.
    #[error("{0}")]
    Probe(String),
}

/// Reads smartctl's JSON text. `Err` when it is not smartctl output at all.
pub fn parse(probe: &str, json: &str) -> Result<SmartReport, Unreadable> {
    let raw: Raw = serde_json::from_str(json).map_err(Unreadable::Json)?;
    if raw.smartctl.is_none() && raw.device.is_none() {
        return Err(Unreadable::NotSmartctl);
    }
    let tool = raw.smartctl.unwrap_or_default();
    let device = raw.device.unwrap_or_default();
    let scsi_model = match (&raw.vendor, &raw.product) {
        (Some(v), Some(p)) => Some(format!("{} {}", v.trim(), p.trim())),
        _ => None,
    };
    let temperature = raw.temperature.unwrap_or_default();
    let limit = [temperature.op_limit_max, temperature.drive_trip, temperature.limit_max]
        .into_iter()
        .flatten()
        .find(|&t| t > 0);
    let scsi = (raw.scsi_grown_defect_list.is_some() || raw.scsi_error_counter_log.is_some()).then(|| ScsiHealth {
        grown_defects: raw.scsi_grown_defect_list,
        uncorrected_errors: raw
            .scsi_error_counter_log
            .map(|log| {
                [log.read, log.write, log.verify].into_iter().flatten().map(|c| c.total_uncorrected_errors).sum()
            })
            .unwrap_or(0),
    });
    Ok(SmartReport {
        probe: probe.to_string(),
        device: device
            .name
            .or_else(|| probe.strip_prefix("smartctl:").map(|d| d.split(':').next().unwrap_or(d).to_string())),
        device_type: device.r#type,
        protocol: device.protocol,
        model: clean(raw.model_name).or(clean(raw.scsi_model_name)).or(scsi_model),
        serial: clean(raw.serial_number),
        wwn: raw.wwn.map(|w| format!("0x{:x}{:06x}{:09x}", w.naa, w.oui, w.id)),
        firmware: clean(raw.firmware_version).or(clean(raw.revision)),
        capacity_bytes: raw.user_capacity.map(|c| c.bytes).or(raw.nvme_total_capacity).filter(|&b| b > 0),
        rotation_rate: raw.rotation_rate,
        form_factor: raw.form_factor.and_then(|f| f.name),
        passed: raw.smart_status.map(|s| s.passed),
        exit_status: tool.exit_status,
        messages: tool.messages.into_iter().map(|m| m.string).collect(),
        temperature: temperature.current.filter(|&t| t > 0),
        temperature_limit: limit,
        power_on_hours: raw.power_on_time.map(|p| p.hours),
        attributes: raw
            .ata_smart_attributes
            .map(|t| t.table.into_iter().filter_map(RawAttribute::into_attribute).collect())
            .unwrap_or_default(),
        nvme: raw.nvme_smart_health_information_log.map(|h| NvmeHealth {
            critical_warning: h.critical_warning.unwrap_or(0),
            available_spare: h.available_spare,
            available_spare_threshold: h.available_spare_threshold,
            percentage_used: h.percentage_used,
            media_errors: h.media_errors.unwrap_or(0),
            unsafe_shutdowns: h.unsafe_shutdowns,
            error_log_entries: h.num_err_log_entries,
        }),
        scsi,
        self_test_errors: raw.ata_smart_self_test_log.and_then(|l| l.standard).and_then(|s| s.error_count_total),
        error_log_count: raw.ata_smart_error_log.and_then(|l| l.summary).and_then(|s| s.count),
    })
}

fn clean(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

#[derive(Deserialize, Default)]
struct Raw {
    smartctl: Option<Tool>,
    device: Option<Device>,
    model_name: Option<String>,
    scsi_model_name: Option<String>,
    vendor: Option<String>,
    product: Option<String>,
    revision: Option<String>,
    serial_number: Option<String>,
    wwn: Option<Wwn>,
    firmware_version: Option<String>,
    user_capacity: Option<Capacity>,
    nvme_total_capacity: Option<u64>,
    rotation_rate: Option<u64>,
    form_factor: Option<FormFactor>,
    smart_status: Option<Status>,
    temperature: Option<Temperature>,
    power_on_time: Option<PowerOn>,
    ata_smart_attributes: Option<AttributeTable>,
    nvme_smart_health_information_log: Option<NvmeLog>,
    scsi_grown_defect_list: Option<u64>,
    scsi_error_counter_log: Option<ScsiErrorLog>,
    ata_smart_self_test_log: Option<SelfTestLog>,
    ata_smart_error_log: Option<ErrorLog>,
}

#[derive(Deserialize, Default)]
struct Tool {
    exit_status: Option<u64>,
    #[serde(default)]
    messages: Vec<Message>,
}

#[derive(Deserialize)]
struct Message {
    string: String,
}

#[derive(Deserialize, Default)]
struct Device {
    name: Option<String>,
    r#type: Option<String>,
    protocol: Option<String>,
}

#[derive(Deserialize)]
struct Wwn {
    naa: u64,
    oui: u64,
    id: u64,
}

#[derive(Deserialize)]
struct Capacity {
    bytes: u64,
}

#[derive(Deserialize)]
struct FormFactor {
    name: Option<String>,
}

#[derive(Deserialize)]
struct Status {
    passed: bool,
}

#[derive(Deserialize, Default)]
struct Temperature {
    current: Option<i64>,
    op_limit_max: Option<i64>,
    limit_max: Option<i64>,
    drive_trip: Option<i64>,
}

#[derive(Deserialize)]
struct PowerOn {
    hours: u64,
}

#[derive(Deserialize)]
struct AttributeTable {
    table: Vec<RawAttribute>,
}

#[derive(Deserialize)]
struct RawAttribute {
    id: u64,
    #[serde(default)]
    name: String,
    #[serde(default)]
    value: u16,
    #[serde(default)]
    worst: u16,
    #[serde(default)]
    thresh: u16,
    #[serde(default)]
    when_failed: String,
    raw: RawValue,
}

#[derive(Deserialize)]
struct RawValue {
    value: u64,
    #[serde(default)]
    string: String,
}

impl RawAttribute {
    fn into_attribute(self) -> Option<AtaAttribute> {
        let raw = first_number(&self.raw.string).unwrap_or(self.raw.value);
        Some(AtaAttribute {
            id: u8::try_from(self.id).ok()?,
            name: self.name,
            value: self.value,
            worst: self.worst,
            thresh: self.thresh,
            when_failed: self.when_failed,
            raw,
        })
    }
}

/// The first number smartctl prints in a raw value: vendors pack several
/// counters into the 48-bit integer (`2111 (12437 0)`, Seagate's `12 12 12`
/// for 188 Command_Timeout is 51540393996 as one integer), and the first
/// printed number is the one that counts. `0x…` is read as hex. `None` when
/// smartctl printed no number (then the integer is all there is).
pub fn first_number(printed: &str) -> Option<u64> {
    let start = printed.find(|c: char| c.is_ascii_digit())?;
    let rest = &printed[start..];
    if let Some(hex) = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
        let digits: String = hex.chars().take_while(char::is_ascii_hexdigit).collect();
        if !digits.is_empty() {
            return u64::from_str_radix(&digits, 16).ok();
        }
    }
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::first_number;

    #[test]
    fn the_first_printed_number_of_a_packed_raw_value() {
        assert_eq!(first_number("2111 (12437 0)"), Some(2111));
        assert_eq!(first_number("36 (Min/Max 0/48)"), Some(36));
        assert_eq!(first_number("12 12 12"), Some(12), "Seagate's three counters in 188");
        assert_eq!(first_number("18900 (310 1222)"), Some(18900));
        assert_eq!(first_number("  7"), Some(7));
        assert_eq!(first_number("0x000c000c000c"), Some(0xc000c000c), "hex48 prints one hex number");
        assert_eq!(first_number("-"), None);
        assert_eq!(first_number(""), None);
    }
}

#[derive(Deserialize)]
struct NvmeLog {
    critical_warning: Option<u64>,
    available_spare: Option<u64>,
    available_spare_threshold: Option<u64>,
    percentage_used: Option<u64>,
    media_errors: Option<u64>,
    unsafe_shutdowns: Option<u64>,
    num_err_log_entries: Option<u64>,
}

#[derive(Deserialize)]
struct ScsiErrorLog {
    read: Option<ScsiCounters>,
    write: Option<ScsiCounters>,
    verify: Option<ScsiCounters>,
}

#[derive(Deserialize)]
struct ScsiCounters {
    #[serde(default)]
    total_uncorrected_errors: u64,
}

#[derive(Deserialize)]
struct SelfTestLog {
    standard: Option<SelfTestCount>,
}

#[derive(Deserialize)]
struct SelfTestCount {
    error_count_total: Option<u64>,
}

#[derive(Deserialize)]
struct ErrorLog {
    summary: Option<ErrorSummary>,
}

#[derive(Deserialize)]
struct ErrorSummary {
    count: Option<u64>,
}

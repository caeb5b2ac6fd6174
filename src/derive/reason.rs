//! A reason: a code with values, and how much it weighs. The words are in
//! the templates (`reason.txt`), so a translation needs no code change.

use crate::code::codes;
use serde::Serialize;
use std::collections::BTreeMap;

/// How much a reason weighs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Worth knowing, changes nothing.
    Info,
    Watch,
    Failing,
    Unknown,
}

codes! {
    /// What a reason is about: SMART's (`risk`), then APT's (`apt`).
    pub enum Code {
        SmartFailed = "smart_failed",
        ExitDiskFailing = "exit_disk_failing",
        AttributeFailedNow = "attribute_failed_now",
        AttributeFailedPast = "attribute_failed_past",
        AtaAttribute = "ata_attribute",
        ExitPrefailNow = "exit_prefail_now",
        ExitPrefailPast = "exit_prefail_past",
        ErrorLog = "error_log",
        SelfTestErrors = "self_test_errors",
        CommandFailed = "command_failed",
        NvmeCriticalWarning = "nvme_critical_warning",
        NvmeMediaErrors = "nvme_media_errors",
        NvmeSpareLow = "nvme_spare_low",
        NvmeWear = "nvme_wear",
        ScsiGrownDefects = "scsi_grown_defects",
        ScsiUncorrected = "scsi_uncorrected",
        Temperature = "temperature",
        Grew = "grew",
        NoSmart = "no_smart",
        AptUpdateFailed = "apt_update_failed",
        AptUpdateWarnings = "apt_update_warnings",
        AptSimulationFailed = "apt_simulation_failed",
        AptDistUpgradeRemoves = "apt_dist_upgrade_removes",
        AptHeld = "apt_held",
        AptKeptBack = "apt_kept_back",
        AptForeignRelease = "apt_foreign_release",
        PveEnterpriseWithoutSubscription = "pve_enterprise_without_subscription",
        PveNoRepository = "pve_no_repository",
        DebianNoNonFreeFirmware = "debian_no_non_free_firmware",
        RpiBootFull = "rpi_boot_full",
        DebianComponentsUneven = "debian_components_uneven",
        PveMetaPackageMissing = "pve_meta_package_missing",
        PveKernelNotRunning = "pve_kernel_not_running",
        UbuntuDriverRecommended = "ubuntu_driver_recommended",
        AptSpaceShort = "apt_space_short",
        AptUpgrades = "apt_upgrades",
        RebootRequired = "reboot_required",
        KernelUpgradePending = "kernel_upgrade_pending",
        ServicesToRestart = "services_to_restart",
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reason {
    pub level: Level,
    pub code: Code,
    /// The figures the words need.
    pub values: BTreeMap<&'static str, serde_json::Value>,
}

impl Reason {
    pub fn new(
        level: Level,
        code: Code,
        values: impl IntoIterator<Item = (&'static str, serde_json::Value)>,
    ) -> Reason {
        Reason { level, code, values: values.into_iter().collect() }
    }
}

#[cfg(test)]
mod tests {
    use super::Code;

    #[test]
    fn every_code_has_words_and_every_word_a_code() {
        let template = include_str!("../../templates/reason.txt");
        let mut worded = crate::code::worded(template, "r.code");
        worded.sort();
        let mut codes: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        codes.sort();
        assert_eq!(codes, worded, "reason.txt and derive::reason::Code differ");
    }
}

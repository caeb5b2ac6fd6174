//! The real tool outputs the generator starts from (`tests/corpus/`), built into parc
//! so that `parc demo` makes the same fleet anywhere.

pub(super) const ATA_860: &str = corpus!("smartctl/scrutiny-smart-ata-full.json");
pub(super) const ATA_840: &str = corpus!("smartctl/scrutiny-smart-ata-failed-scrutiny.json");
pub(super) const ATA_WD14: &str = corpus!("smartctl/scrutiny-smart-ata.json");
pub(super) const ATA_HITACHI_FAILING: &str = corpus!("smartctl/scrutiny-smart-fail2.json");
pub(super) const MEGARAID0: &str = corpus!("smartctl/scrutiny-smart-megaraid0.json");
pub(super) const MEGARAID1: &str = corpus!("smartctl/scrutiny-smart-megaraid1.json");
pub(super) const NVME_970: &str = corpus!("smartctl/scrutiny-smart-nvme-failed.json");
pub(super) const NVME_INTEL: &str = corpus!("smartctl/scrutiny-smart-nvme.json");
pub(super) const NVME_MP510: &str = corpus!("smartctl/scrutiny-smart-nvme2.json");
pub(super) const SAS_DEFECTS: &str = corpus!("smartctl/scrutiny-smart-scsi.json");
pub(super) const SAS_OK: &str = corpus!("smartctl/scrutiny-smart-scsi2.json");
pub(super) const NO_SMART: &str = corpus!("smartctl/virtio-disk-unable-to-detect.json");
pub(super) const SCAN_NONE: &str = corpus!("smartctl/scan-open-none-found.json");
pub(super) const VM_LSBLK: &str = corpus!("lsblk/debian12-vm-loop-mounted.json");
pub(super) const VM_DF: &str = corpus!("df/debian12-vm.txt");
pub(super) const VM_DU: &str = corpus!("home/du-sb-home.txt");
pub(super) const VM_PVS: &str = corpus!("lvm/pvs-one-pv-no-lv.json");
pub(super) const VM_LVS: &str = corpus!("lvm/lvs-empty.json");
pub(super) const DPKG: &str = corpus!("apt/dpkg-query-3col.tsv");
pub(super) const SIM_DEBIAN12: &str = corpus!("apt/debian12-sim-upgrade.txt");
pub(super) const SIM_RASPIOS: &str = corpus!("apt/raspios11-sim-upgrade.txt");
pub(super) const SIM_UBUNTU_KEPT: &str = corpus!("apt/ubuntu-apt-full-upgrade-kept-back-phased.txt");
pub(super) const SIM_UBUNTU_PHASED: &str = corpus!("apt/ubuntu2404-sim-upgrade-phased.txt");
pub(super) const SHOWHOLD: &str = corpus!("apt/ubuntu2204-apt-mark-showhold.txt");
pub(super) const REBOOT_PKGS: &str = corpus!("apt/ubuntu-reboot-required-pkgs-duplicates.txt");
pub(super) const NEEDRESTART_KSTA3: &str = corpus!("apt/needrestart-b-debian11-ksta3.txt");
pub(super) const NEEDRESTART_PERL: &str = corpus!("apt/needrestart-b-with-perl-warnings.txt");
pub(super) const UPDATE_PVE_401: &str = corpus!("apt/pve8-apt-update-401.txt");
pub(super) const SOURCES_DEBIAN12: &str = corpus!("apt/debian12-debian.sources");
pub(super) const SOURCES_UBUNTU: &str = corpus!("apt/ubuntu2404-ubuntu.sources");
pub(super) const SOURCES_PVE: &str = corpus!("apt/pve8-sources.list-no-non-free-firmware");
pub(super) const SOURCES_PVE_ENTERPRISE: &str = corpus!("apt/pve8-pve-enterprise.list-commented");

//! The eight roles a generated fleet is made of: each host's drives, partitions and file systems.

use super::corpus::*;
use serde_json::{json, Value};

/// One physical drive in the demo fleet.
pub(super) struct Drive {
    pub(super) template: &'static str,
    /// smartctl's probe key suffix and device, e.g. `/dev/sda` or `/dev/bus/0:megaraid,1`.
    pub(super) probe: &'static str,
    /// lsblk's name, when lsblk sees the drive itself.
    pub(super) block: Option<&'static str>,
    /// The serial of the first group's copy; `None` keeps the template's
    /// (masked serials stay masked, and so do their WWNs).
    pub(super) serial: Option<&'static str>,
    /// Reallocated sectors that appear over the history (0: none).
    pub(super) grows: u64,
    /// Present only for this fraction of the history (start, end) in 0..=100.
    pub(super) span: (u64, u64),
    /// lsblk's children and the transport.
    pub(super) children: Value,
    pub(super) tran: &'static str,
}

impl Drive {
    pub(super) fn new(
        template: &'static str,
        probe: &'static str,
        block: Option<&'static str>,
        tran: &'static str,
        children: Value,
    ) -> Drive {
        Drive { template, probe, block, serial: None, grows: 0, span: (0, 100), children, tran }
    }
}

/// One host role: its OS and its drives and layout.
pub(super) struct Role {
    pub(super) name: &'static str,
    pub(super) os_release: &'static str,
    pub(super) kernel: &'static str,
    pub(super) arch: &'static str,
    pub(super) drives: Vec<Drive>,
    /// Extra block devices lsblk shows (RAID volumes, SD cards, VMs).
    pub(super) extra_block: Vec<Value>,
    /// Probes whose output is fixed (failed smartctl, LVM, ZFS, Ceph).
    pub(super) extra_probes: Vec<(String, Value)>,
    pub(super) df: String,
    pub(super) homes: Vec<(&'static str, u64)>,
    /// lsblk before util-linux 2.33 prints every value as a string.
    pub(super) old_lsblk: bool,
    /// Stops reporting this many days before the end.
    pub(super) silent_days: u32,
}

pub(super) fn part(name: &str, size: u64, fstype: Option<&str>, mount: Option<&str>, children: Value) -> Value {
    json!({"name": name, "type": "part", "size": size, "fstype": fstype, "mountpoint": mount,
           "mountpoints": [mount], "children": children})
}

pub(super) fn lvm(name: &str, size: u64, mount: Option<&str>) -> Value {
    json!({"name": name, "type": "lvm", "size": size, "fstype": "ext4", "mountpoint": mount, "mountpoints": [mount]})
}

pub(super) fn df(rows: &[(&str, &str, &str, u64, u64)]) -> String {
    let mut text = "Filesystem              Type     Mounted on                                   1B-blocks        Used       Avail\n".to_string();
    for (source, fstype, target, size, used) in rows {
        text.push_str(&format!("{source:<23} {fstype:<8} {target:<36} {size:>16} {used:>11} {:>11}\n", size - used));
    }
    text
}

pub(super) const GB: u64 = 1_000_000_000;

pub(super) fn roles() -> Vec<Role> {
    let debian12 = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n";
    let zfs_status = "  pool: rpool\n state: ONLINE\n  scan: scrub repaired 0B in 00:04:11 with 0 errors on Sun Nov  8 00:28:12 2026\nconfig:\n\n\tNAME                                                       STATE     READ WRITE CKSUM\n\trpool                                                      ONLINE       0     0     0\n\t  mirror-0                                                 ONLINE       0     0     0\n\t    /dev/disk/by-id/ata-Samsung_SSD_860_EVO_500GB_{A}-part3  ONLINE       0     0     0\n\t    /dev/disk/by-id/ata-Samsung_SSD_860_EVO_500GB_{B}-part3  ONLINE       0     0     0\n\nerrors: No known data errors\n";
    let boot_parts = |d: &str| {
        json!([
            part(&format!("{d}1"), 1_048_576, None, None, json!([])),
            part(&format!("{d}2"), 536_870_912, Some("vfat"), Some("/boot/efi"), json!([])),
            part(&format!("{d}3"), 499_570_991_104, Some("zfs_member"), None, json!([]))
        ])
    };
    let mut moved = Drive::new(
        ATA_WD14,
        "/dev/sda",
        Some("sda"),
        "sata",
        json!([part("sda1", 14_000_517_545_984, Some("ext4"), Some("/srv/media"), json!([]))]),
    );
    moved.span = (0, 55);
    moved.serial = Some("9RK1ZT3C");
    let mut moved_back = Drive::new(
        ATA_WD14,
        "/dev/sdc",
        Some("sdc"),
        "sata",
        json!([part("sdc1", 14_000_517_545_984, Some("ext4"), Some("/srv/media"), json!([]))]),
    );
    moved_back.span = (55, 100);
    moved_back.serial = Some("9RK1ZT3C");
    let mut growing = Drive::new(
        MEGARAID1,
        "/dev/sdb",
        Some("sdb"),
        "sata",
        json!([part(
            "sdb1",
            4_000_785_104_896,
            Some("LVM2_member"),
            None,
            json!([lvm("vg0-home", 3_000_000_000_000, Some("/home")), lvm("vg0-srv", 900_000_000_000, Some("/srv"))])
        )]),
    );
    growing.grows = 24;
    growing.serial = Some("WD-WCC131K8E2F5");
    let mega0 = Drive::new(MEGARAID0, "/dev/bus/0:megaraid,0", None, "", json!([]));
    let mega1 = Drive::new(MEGARAID1, "/dev/bus/0:megaraid,1", None, "", json!([]));
    let mut second_860 = Drive::new(ATA_860, "/dev/sdb", Some("sdb"), "sata", boot_parts("sdb"));
    second_860.serial = Some("S3YZNB0KB00871K");
    vec![
        Role {
            name: "pve1",
            os_release: debian12,
            kernel: "6.2.16-3-pve",
            arch: "x86_64",
            drives: vec![
                Drive::new(ATA_860, "/dev/sda", Some("sda"), "sata", boot_parts("sda")),
                second_860,
                moved_back,
            ],
            extra_block: vec![],
            extra_probes: vec![("zpool".into(), json!(zfs_status))],
            df: df(&[("rpool/ROOT/pve-1", "zfs", "/", 480 * GB, 41 * GB), ("rpool/home", "zfs", "/home", 440 * GB, 3 * GB),
                     ("/dev/sda2", "vfat", "/boot/efi", 536_608_768, 8_892_416), ("/dev/sdc1", "ext4", "/srv/media", 13_779 * GB, 9_120 * GB)]),
            homes: vec![("admin", 2_100_000_000)],
            old_lsblk: false,
            silent_days: 0,
        },
        Role {
            name: "files",
            os_release: "NAME=\"Ubuntu\"\nVERSION=\"18.04.6 LTS (Bionic Beaver)\"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME=\"Ubuntu 18.04.6 LTS\"\nVERSION_ID=\"18.04\"\n",
            kernel: "4.15.0-213-generic",
            arch: "x86_64",
            drives: vec![
                Drive::new(ATA_840, "/dev/sda", Some("sda"), "sata",
                    json!([part("sda1", 536_870_912, Some("vfat"), Some("/boot/efi"), json!([])),
                           part("sda2", 499_569_942_528, Some("ext4"), Some("/"), json!([]))])),
                growing,
            ],
            extra_block: vec![],
            extra_probes: vec![
                ("pvs".into(), json!({"report": [{"pv": [{"pv_name": "/dev/sdb1", "vg_name": "vg0", "pv_size": "3.64t", "pv_free": "92.00g"}]}]})),
                ("lvs".into(), json!({"report": [{"lv": [{"lv_name": "home", "vg_name": "vg0", "lv_size": "2.73t"}, {"lv_name": "srv", "vg_name": "vg0", "lv_size": "838.19g"}]}]})),
            ],
            df: df(&[("/dev/sda2", "ext4", "/", 491 * GB, 38 * GB), ("/dev/sda1", "vfat", "/boot/efi", 536_608_768, 6_291_456),
                     ("/dev/mapper/vg0-home", "ext4", "/home", 2_950 * GB, 1_210 * GB), ("/dev/mapper/vg0-srv", "ext4", "/srv", 885 * GB, 402 * GB)]),
            homes: vec![("alice", 412_000_000_000), ("bob", 187_500_000_000), ("carol", 96_300_000_000), ("dave", 301_000_000_000), ("erin", 4_700_000_000)],
            old_lsblk: true,
            silent_days: 0,
        },
        Role {
            name: "pi-garage",
            os_release: "PRETTY_NAME=\"Raspbian GNU/Linux 11 (bullseye)\"\nNAME=\"Raspbian GNU/Linux\"\nVERSION_ID=\"11\"\nVERSION=\"11 (bullseye)\"\nID=raspbian\nID_LIKE=debian\n",
            kernel: "6.1.21-v8+",
            arch: "aarch64",
            drives: vec![Drive::new(ATA_HITACHI_FAILING, "/dev/sda", Some("sda"), "usb",
                json!([part("sda1", 500_106_813_440, Some("ext4"), Some("/srv/backup"), json!([]))]))],
            extra_block: vec![json!({"name": "mmcblk0", "type": "disk", "size": 31_914_983_424u64, "serial": "0x9c7d0e3b", "tran": null, "rota": false,
                "children": [part("mmcblk0p1", 268_435_456, Some("vfat"), Some("/boot"), json!([])),
                             part("mmcblk0p2", 31_645_499_392, Some("ext4"), Some("/"), json!([]))]})],
            extra_probes: vec![("smartctl:/dev/mmcblk0".into(), no_smart("/dev/mmcblk0"))],
            df: df(&[("/dev/root", "ext4", "/", 31 * GB, 9 * GB), ("/dev/mmcblk0p1", "vfat", "/boot", 268_435_456, 231_735_296),
                     ("/dev/sda1", "ext4", "/srv/backup", 492 * GB, 301 * GB)]),
            homes: vec![("pi", 1_800_000_000)],
            old_lsblk: false,
            silent_days: 0,
        },
        Role {
            name: "ws-anna",
            os_release: debian12,
            kernel: "6.1.0-27-amd64",
            arch: "x86_64",
            drives: vec![Drive::new(NVME_970, "/dev/nvme0", Some("nvme0n1"), "nvme",
                json!([part("nvme0n1p1", 536_870_912, Some("vfat"), Some("/boot/efi"), json!([])),
                       part("nvme0n1p2", 100 * GB, Some("ext4"), Some("/"), json!([])),
                       part("nvme0n1p3", 399 * GB, Some("ext4"), Some("/home"), json!([]))]))],
            extra_block: vec![],
            extra_probes: vec![],
            df: df(&[("/dev/nvme0n1p2", "ext4", "/", 98 * GB, 31 * GB), ("/dev/nvme0n1p1", "vfat", "/boot/efi", 536_608_768, 6_291_456),
                     ("/dev/nvme0n1p3", "ext4", "/home", 391 * GB, 212 * GB)]),
            homes: vec![("anna", 208_000_000_000), ("guest", 310_000_000)],
            old_lsblk: false,
            silent_days: 0,
        },
        Role {
            name: "ws-marc",
            os_release: "PRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\nVERSION=\"24.04.1 LTS (Noble Numbat)\"\nID=ubuntu\nID_LIKE=debian\n",
            kernel: "6.8.0-48-generic",
            arch: "x86_64",
            drives: vec![
                Drive::new(NVME_INTEL, "/dev/nvme0", Some("nvme0n1"), "nvme",
                    json!([part("nvme0n1p1", 1_127_219_200, Some("vfat"), Some("/boot/efi"), json!([])),
                           part("nvme0n1p2", 1_023_080_251_392, Some("ext4"), Some("/"), json!([]))])),
                moved,
            ],
            extra_block: vec![],
            extra_probes: vec![],
            df: df(&[("/dev/nvme0n1p2", "ext4", "/", 1_006 * GB, 388 * GB), ("/dev/nvme0n1p1", "vfat", "/boot/efi", 1_124_999_168, 6_291_456)]),
            homes: vec![("marc", 341_000_000_000)],
            old_lsblk: false,
            silent_days: 0,
        },
        Role {
            name: "pve2",
            os_release: debian12,
            kernel: "6.2.16-3-pve",
            arch: "x86_64",
            drives: vec![
                Drive::new(NVME_MP510, "/dev/nvme0", Some("nvme0n1"), "nvme",
                    json!([part("nvme0n1p1", 1_048_576, None, None, json!([])),
                           part("nvme0n1p2", 1_073_741_824, Some("vfat"), Some("/boot/efi"), json!([])),
                           part("nvme0n1p3", 479_028_122_112, Some("LVM2_member"), None,
                               json!([lvm("pve-swap", 8_589_934_592, None), lvm("pve-root", 96_636_764_160, Some("/"))]))])),
                Drive::new(SAS_DEFECTS, "/dev/sdb", Some("sdb"), "sas",
                    json!([{"name": "ceph--3f1c--osd--block--0", "type": "lvm", "size": 4_000_783_007_744u64, "fstype": null}])),
                Drive::new(SAS_OK, "/dev/sdc", Some("sdc"), "sas",
                    json!([{"name": "ceph--8a2e--osd--block--1", "type": "lvm", "size": 1_200_241_598_464u64, "fstype": null}])),
            ],
            extra_block: vec![],
            extra_probes: vec![
                ("pvs".into(), json!({"report": [{"pv": [{"pv_name": "/dev/nvme0n1p3", "vg_name": "pve", "pv_size": "446.12g", "pv_free": "16.00g"}]}]})),
                ("lvs".into(), json!({"report": [{"lv": [{"lv_name": "root", "vg_name": "pve", "lv_size": "90.00g"}, {"lv_name": "swap", "vg_name": "pve", "lv_size": "8.00g"}]}]})),
                ("ceph-osd".into(), json!({"0": [{"devices": ["/dev/sdb"], "type": "block"}], "1": [{"devices": ["/dev/sdc"], "type": "block"}]})),
            ],
            df: df(&[("/dev/mapper/pve-root", "ext4", "/", 94 * GB, 12 * GB), ("/dev/nvme0n1p2", "vfat", "/boot/efi", 1_071_624_192, 8_892_416)]),
            homes: vec![],
            old_lsblk: false,
            silent_days: 0,
        },
        Role {
            name: "db1",
            os_release: "PRETTY_NAME=\"Debian GNU/Linux 11 (bullseye)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"11\"\nVERSION=\"11 (bullseye)\"\nVERSION_CODENAME=bullseye\nID=debian\n",
            kernel: "5.10.0-32-amd64",
            arch: "x86_64",
            drives: vec![mega0, mega1],
            extra_block: vec![json!({"name": "sda", "type": "disk", "size": 3_999_688_294_400u64, "model": "MR9361-8i", "vendor": "AVAGO", "rota": true, "tran": null,
                "children": [part("sda1", 536_870_912, Some("vfat"), Some("/boot/efi"), json!([])),
                             part("sda2", 200 * GB, Some("ext4"), Some("/"), json!([])),
                             part("sda3", 3_799 * GB, Some("ext4"), Some("/home"), json!([]))]})],
            extra_probes: vec![],
            df: df(&[("/dev/sda2", "ext4", "/", 196 * GB, 71 * GB), ("/dev/sda3", "ext4", "/home", 3_739 * GB, 690 * GB)]),
            homes: vec![("postgres", 655_000_000_000), ("deploy", 12_400_000_000)],
            old_lsblk: false,
            silent_days: 0,
        },
        Role {
            name: "vm-web1",
            os_release: debian12,
            kernel: "6.1.0-27-cloud-amd64",
            arch: "x86_64",
            drives: vec![],
            extra_block: vec![],
            extra_probes: vec![
                ("smartctl:/dev/vda".into(), serde_json::from_str(NO_SMART).expect("corpus")),
                ("pvs".into(), serde_json::from_str(VM_PVS).expect("corpus")),
                ("lvs".into(), serde_json::from_str(VM_LVS).expect("corpus")),
            ],
            df: VM_DF.to_string(),
            homes: vec![],
            old_lsblk: false,
            silent_days: 4,
        },
    ]
}

/// smartctl's answer for a device it cannot identify (a real output, renamed).
pub(super) fn no_smart(device: &str) -> Value {
    let mut v: Value = serde_json::from_str(NO_SMART).expect("corpus");
    v["smartctl"]["argv"] = json!(["smartctl", "-j", "-a", device]);
    v["smartctl"]["messages"][0]["string"] = json!(format!("{device}: Unable to detect device type"));
    v
}

//! `parc demo`: a generated fleet, deterministic, made from real tool outputs.
//!
//! Every smartctl, lsblk, df, LVM and du output starts from a real one in
//! `tests/corpus/`; the generator only changes what changes on a real fleet
//! from day to day (power-on hours, temperature, a growing reallocated count,
//! home sizes, boot ids) and gives each copy of a drive its own serial.
//! Hosts come in groups of eight roles; the first group has plain names and
//! makes the example fleet in `snapshots/`.

use crate::time::Instant;
use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::path::Path;

macro_rules! corpus {
    ($path:literal) => {
        include_str!(concat!("../tests/corpus/", $path))
    };
}

const ATA_860: &str = corpus!("smartctl/scrutiny-smart-ata-full.json");
const ATA_840: &str = corpus!("smartctl/scrutiny-smart-ata-failed-scrutiny.json");
const ATA_WD14: &str = corpus!("smartctl/scrutiny-smart-ata.json");
const ATA_HITACHI_FAILING: &str = corpus!("smartctl/scrutiny-smart-fail2.json");
const MEGARAID0: &str = corpus!("smartctl/scrutiny-smart-megaraid0.json");
const MEGARAID1: &str = corpus!("smartctl/scrutiny-smart-megaraid1.json");
const NVME_970: &str = corpus!("smartctl/scrutiny-smart-nvme-failed.json");
const NVME_INTEL: &str = corpus!("smartctl/scrutiny-smart-nvme.json");
const NVME_MP510: &str = corpus!("smartctl/scrutiny-smart-nvme2.json");
const SAS_DEFECTS: &str = corpus!("smartctl/scrutiny-smart-scsi.json");
const SAS_OK: &str = corpus!("smartctl/scrutiny-smart-scsi2.json");
const NO_SMART: &str = corpus!("smartctl/virtio-disk-unable-to-detect.json");
const SCAN_NONE: &str = corpus!("smartctl/scan-open-none-found.json");
const VM_LSBLK: &str = corpus!("lsblk/debian12-vm-loop-mounted.json");
const VM_DF: &str = corpus!("df/debian12-vm.txt");
const VM_DU: &str = corpus!("home/du-sb-home.txt");
const VM_PVS: &str = corpus!("lvm/pvs-one-pv-no-lv.json");
const VM_LVS: &str = corpus!("lvm/lvs-empty.json");
const DPKG: &str = corpus!("apt/dpkg-query-3col.tsv");
const SIM_DEBIAN12: &str = corpus!("apt/debian12-sim-upgrade.txt");
const SIM_RASPIOS: &str = corpus!("apt/raspios11-sim-upgrade.txt");
const SIM_UBUNTU_KEPT: &str = corpus!("apt/ubuntu-apt-full-upgrade-kept-back-phased.txt");
const SIM_UBUNTU_PHASED: &str = corpus!("apt/ubuntu2404-sim-upgrade-phased.txt");
const SHOWHOLD: &str = corpus!("apt/ubuntu2204-apt-mark-showhold.txt");
const REBOOT_PKGS: &str = corpus!("apt/ubuntu-reboot-required-pkgs-duplicates.txt");
const NEEDRESTART_KSTA3: &str = corpus!("apt/needrestart-b-debian11-ksta3.txt");
const NEEDRESTART_PERL: &str = corpus!("apt/needrestart-b-with-perl-warnings.txt");
const UPDATE_PVE_401: &str = corpus!("apt/pve8-apt-update-401.txt");
const SOURCES_DEBIAN12: &str = corpus!("apt/debian12-debian.sources");
const SOURCES_UBUNTU: &str = corpus!("apt/ubuntu2404-ubuntu.sources");
const SOURCES_PVE: &str = corpus!("apt/pve8-sources.list-no-non-free-firmware");
const SOURCES_PVE_ENTERPRISE: &str = corpus!("apt/pve8-pve-enterprise.list-commented");

#[derive(clap::Args)]
pub struct DemoArgs {
    /// How many hosts.
    #[arg(long, default_value_t = 8)]
    pub hosts: usize,
    /// How many days of history.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// A snapshot every this many days.
    #[arg(long, default_value_t = 1)]
    pub every: u32,
    /// The day of the newest snapshot (YYYY-MM-DD).
    #[arg(long, default_value = "2026-11-21")]
    pub until: String,
    /// Where to write: one folder per host.
    #[arg(long, value_name = "DIR")]
    pub out: std::path::PathBuf,
    /// The kinds to write, comma-separated (`archive`: the file server's nightly `db` job).
    #[arg(long, value_delimiter = ',', default_value = "system,disks,apt,archive")]
    pub kinds: Vec<String>,
    /// Packages in each inventory: the real 707-package one, padded with
    /// copies of its lines under other names when more (a bench's 2,000).
    #[arg(long, default_value_t = 707)]
    pub packages: usize,
}

/// A small deterministic generator (SplitMix64): the same fleet every time.
struct Dice(u64);

impl Dice {
    fn new(seed: &[u64]) -> Dice {
        Dice(
            seed.iter()
                .fold(0x9e37_79b9_7f4a_7c15, |h, &s| (h ^ s).wrapping_mul(0xbf58_476d_1ce4_e5b9).rotate_left(27)),
        )
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// One physical drive in the demo fleet.
struct Drive {
    template: &'static str,
    /// smartctl's probe key suffix and device, e.g. `/dev/sda` or `/dev/bus/0:megaraid,1`.
    probe: &'static str,
    /// lsblk's name, when lsblk sees the drive itself.
    block: Option<&'static str>,
    /// The serial of the first group's copy; `None` keeps the template's
    /// (masked serials stay masked, and so do their WWNs).
    serial: Option<&'static str>,
    /// Reallocated sectors that appear over the history (0: none).
    grows: u64,
    /// Present only for this fraction of the history (start, end) in 0..=100.
    span: (u64, u64),
    /// lsblk's children and the transport.
    children: Value,
    tran: &'static str,
}

impl Drive {
    fn new(
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
struct Role {
    name: &'static str,
    os_release: &'static str,
    kernel: &'static str,
    arch: &'static str,
    drives: Vec<Drive>,
    /// Extra block devices lsblk shows (RAID volumes, SD cards, VMs).
    extra_block: Vec<Value>,
    /// Probes whose output is fixed (failed smartctl, LVM, ZFS, Ceph).
    extra_probes: Vec<(String, Value)>,
    df: String,
    homes: Vec<(&'static str, u64)>,
    /// lsblk before util-linux 2.33 prints every value as a string.
    old_lsblk: bool,
    /// Stops reporting this many days before the end.
    silent_days: u32,
}

fn part(name: &str, size: u64, fstype: Option<&str>, mount: Option<&str>, children: Value) -> Value {
    json!({"name": name, "type": "part", "size": size, "fstype": fstype, "mountpoint": mount,
           "mountpoints": [mount], "children": children})
}

fn lvm(name: &str, size: u64, mount: Option<&str>) -> Value {
    json!({"name": name, "type": "lvm", "size": size, "fstype": "ext4", "mountpoint": mount, "mountpoints": [mount]})
}

fn df(rows: &[(&str, &str, &str, u64, u64)]) -> String {
    let mut text = "Filesystem              Type     Mounted on                                   1B-blocks        Used       Avail\n".to_string();
    for (source, fstype, target, size, used) in rows {
        text.push_str(&format!("{source:<23} {fstype:<8} {target:<36} {size:>16} {used:>11} {:>11}\n", size - used));
    }
    text
}

const GB: u64 = 1_000_000_000;

fn roles() -> Vec<Role> {
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
            kernel: "6.8.12-4-pve",
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
            kernel: "6.8.12-4-pve",
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
fn no_smart(device: &str) -> Value {
    let mut v: Value = serde_json::from_str(NO_SMART).expect("corpus");
    v["smartctl"]["argv"] = json!(["smartctl", "-j", "-a", device]);
    v["smartctl"]["messages"][0]["string"] = json!(format!("{device}: Unable to detect device type"));
    v
}

pub fn run(args: &DemoArgs) -> Result<()> {
    let until = Instant::parse_rfc3339(&format!("{}T02:00:00Z", args.until))
        .map_err(|cause| anyhow::anyhow!("--until must be YYYY-MM-DD: {cause}"))?;
    let every = args.every.max(1);
    let roles = roles();
    let templates: Vec<Value> =
        roles.iter().flat_map(|r| &r.drives).map(|d| serde_json::from_str(d.template).expect("corpus")).collect();
    let files = std::sync::atomic::AtomicUsize::new(0);
    use rayon::prelude::*;
    (0..args.hosts).into_par_iter().try_for_each(|i| -> Result<()> {
        let (role, group) = (&roles[i % roles.len()], i / roles.len());
        let first_template = roles[..i % roles.len()].iter().map(|r| r.drives.len()).sum::<usize>();
        let name = if group == 0 { role.name.to_string() } else { format!("{}-{group:03}", role.name) };
        let mut day = 0;
        // The file server runs the nightly archive job.
        let mut archive = (role.name == "files" && group == 0).then(ArchiveJob::default);
        while day < args.days {
            let days_ago = args.days - 1 - day;
            day += every;
            if days_ago < role.silent_days {
                continue;
            }
            let progress = (args.days - 1 - days_ago) as u64 * 100 / u64::from(args.days.max(2) - 1);
            let minutes = (i % 53) as i64;
            let at = Instant(until.0 - i64::from(days_ago) * 86_400 + minutes * 60 + (i % 41) as i64);
            let host = Host {
                role,
                name: &name,
                index: i,
                group,
                at,
                days_ago,
                days: args.days,
                progress,
                templates: &templates[first_template..],
            };
            for kind in &args.kinds {
                let (folder, envelope) = match kind.as_str() {
                    "system" => (kind.clone(), host.system()),
                    "disks" => (kind.clone(), host.disks()),
                    "apt" => (kind.clone(), host.apt(args.packages)),
                    "archive" => match &mut archive {
                        Some(job) => ("archive-db".to_string(), job.run(&name, at, days_ago / every)),
                        None => continue,
                    },
                    other => anyhow::bail!("no generator for kind {other:?} (known: system, disks, apt, archive)"),
                };
                let path = args.out.join(&name).join(folder).join(file_name(at));
                write(&path, &envelope)?;
                files.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
        Ok(())
    })?;
    eprintln!("wrote {} snapshots of {} hosts into {}", files.into_inner(), args.hosts, args.out.display());
    Ok(())
}

fn file_name(at: Instant) -> String {
    format!("{}.json", at.rfc3339().replace(':', ""))
}

fn write(path: &Path, value: &Value) -> Result<()> {
    std::fs::create_dir_all(path.parent().expect("a file has a folder"))?;
    std::fs::write(path, serde_json::to_vec(value)?).with_context(|| format!("cannot write {}", path.display()))
}

struct Host<'a> {
    role: &'a Role,
    name: &'a str,
    index: usize,
    group: usize,
    at: Instant,
    days_ago: u32,
    /// Days in the whole history.
    days: u32,
    /// How far into the history this version is, 0..=100.
    progress: u64,
    templates: &'a [Value],
}

impl Host<'_> {
    fn envelope(&self, kind: &str, probes: serde_json::Map<String, Value>) -> Value {
        // Collected at 03:xx Paris time, as a host's timer would.
        let local = Instant(self.at.0 + 3600).rfc3339();
        json!({"schema": crate::snapshot::SCHEMA, "kind": kind, "host": self.name,
               "collected_at": format!("{}+01:00", &local[..19]),
               "agent": {"version": env!("CARGO_PKG_VERSION"), "mode": if self.index.is_multiple_of(3) { "ssh" } else { "local" }},
               "probes": probes})
    }

    fn probe(cmd: &str, out: Value, ms: u64) -> Value {
        json!({"cmd": cmd, "exit": 0, "ms": ms, "out": out})
    }

    fn system(&self) -> Value {
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
        self.envelope("system", probes)
    }

    fn disks(&self) -> Value {
        let role = self.role;
        let mut probes = serde_json::Map::new();
        let mut blocks: Vec<Value> = Vec::new();
        let mut scan = Vec::new();
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
    fn smart(&self, drive: &Drive, template: &Value, d: usize) -> Value {
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
    fn serial(&self, serial: &str) -> String {
        if self.group == 0 || serial.len() < 4 || crate::fleet::identity::looks_masked(serial) {
            return serial.to_string();
        }
        let mut dice = Dice::new(&[self.group as u64, fnv(serial)]);
        let keep = serial.len() - 4;
        let tail: String =
            (0..4).map(|_| b"0123456789ABCDEFGHJKLMNPRSTVWXYZ"[dice.below(32) as usize] as char).collect();
        format!("{}{tail}", &serial[..keep])
    }

    fn zpool(&self, template: &str) -> String {
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

/// lsblk before util-linux 2.33: every number and boolean as a string.
fn stringify(v: Value) -> Value {
    match v {
        Value::Number(n) => Value::String(n.to_string()),
        Value::Bool(b) => Value::String(if b { "1" } else { "0" }.into()),
        Value::Array(a) => Value::Array(a.into_iter().map(stringify).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, stringify(v))).collect()),
        other => other,
    }
}

/// FNV-1a: a stable hash of a string, for seeding.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// What a role's `apt` snapshots say, from real apt outputs. Each host
/// upgrades (or not) at one point of its history: its inventory takes the
/// simulation's new versions, and the simulation empties.
struct AptRole {
    /// `apt-get -s upgrade` before the upgrade.
    sim: &'static str,
    sources: Vec<(&'static str, String)>,
    held: &'static str,
    /// `apt-get update`'s output, when the agent runs it.
    update: Option<&'static str>,
    needrestart: Option<&'static str>,
    /// When it upgrades (progress, 0..=100), and a package that stays behind.
    upgrade_at: Option<u64>,
    left_behind: Option<&'static str>,
    /// A package the upgrade removes (its configuration stays: `rc`).
    removes: Option<&'static str>,
    /// The reboot-required flag: set from the upgrade on (or from the start),
    /// cleared by the next reboot unless it survives reboots.
    reboot_flag: bool,
    flag_survives: bool,
}

fn apt_role(name: &str) -> AptRole {
    let plain = AptRole {
        sim: SIM_DEBIAN12,
        sources: vec![("/etc/apt/sources.list.d/debian.sources", SOURCES_DEBIAN12.to_string())],
        held: "",
        update: None,
        needrestart: None,
        upgrade_at: None,
        left_behind: None,
        removes: None,
        reboot_flag: false,
        flag_survives: false,
    };
    let pve = vec![
        ("/etc/apt/sources.list", SOURCES_PVE.to_string()),
        ("/etc/apt/sources.list.d/pve-enterprise.list", SOURCES_PVE_ENTERPRISE.to_string()),
    ];
    match name {
        // Pending security updates on a Proxmox host on pve-no-subscription.
        "pve1" => AptRole { sources: pve, ..plain },
        // Proxmox with the enterprise repository enabled and no subscription: update fails with 401.
        "pve2" => AptRole {
            sources: pve
                .into_iter()
                .map(|(f, t)| (f, t.replace("# deb https://enterprise", "deb https://enterprise")))
                .collect(),
            update: Some(UPDATE_PVE_401),
            ..plain
        },
        // Ubuntu 18.04: kept-back upgrades, and a reboot needed.
        "files" => AptRole {
            sim: SIM_UBUNTU_KEPT,
            sources: vec![("/etc/apt/sources.list.d/ubuntu.sources", SOURCES_UBUNTU.to_string())],
            reboot_flag: true,
            ..plain
        },
        // A Raspberry Pi whose /boot is nearly full.
        "pi-garage" => AptRole { sim: SIM_RASPIOS, sources: Vec::new(), ..plain },
        // Upgrades a third of the way through; one package removed; reboots after.
        "ws-anna" => AptRole {
            upgrade_at: Some(35),
            removes: Some("linux-perf"),
            reboot_flag: true,
            needrestart: Some(NEEDRESTART_KSTA3),
            ..plain
        },
        // Ubuntu 24.04: held kernel packages, upgrades deferred by phasing.
        "ws-marc" => AptRole {
            sim: SIM_UBUNTU_PHASED,
            sources: vec![("/etc/apt/sources.list.d/ubuntu.sources", SOURCES_UBUNTU.to_string())],
            held: SHOWHOLD,
            needrestart: Some(NEEDRESTART_PERL),
            ..plain
        },
        // Debian 11 with bookworm sources; its upgrade passed one package over.
        "db1" => AptRole { upgrade_at: Some(60), left_behind: Some("openssl"), ..plain },
        // Upgraded early; the reboot-required flag outlives every reboot since.
        "vm-web1" => AptRole { upgrade_at: Some(20), reboot_flag: true, flag_survives: true, ..plain },
        _ => plain,
    }
}

impl Host<'_> {
    fn apt(&self, packages: usize) -> Value {
        let role = apt_role(self.role.name);
        let upgraded = role.upgrade_at.is_some_and(|at| self.progress >= at);
        // The inventory: the real one, with the simulation's versions once upgraded.
        let mut versions: Vec<(String, String, String, &str)> = DPKG
            .lines()
            .filter_map(|l| {
                let mut c = l.split('\t');
                Some((c.next()?.to_string(), c.next()?.to_string(), c.next()?.to_string(), "ii "))
            })
            .collect();
        // A larger inventory: the real lines again, under names of their own.
        let real = versions.len();
        for i in real..packages {
            let (name, version, arch, status) = versions[i % real].clone();
            versions.push((format!("{name}-x{}", i / real), version, arch, status));
        }
        let sim = crate::snapshot::apt::simulate::parse(role.sim);
        if upgraded {
            for action in &sim.actions {
                if Some(action.package.as_str()) == role.left_behind {
                    continue;
                }
                if let Some(p) = versions
                    .iter_mut()
                    .find(|p| p.0 == action.package || p.0.split(':').next() == Some(&action.package))
                {
                    p.1 = action.to.clone().unwrap_or_default();
                }
            }
            if let Some(gone) = role.removes {
                if let Some(p) = versions.iter_mut().find(|p| p.0 == gone) {
                    p.3 = "rc ";
                }
            }
        }
        let dpkg: String = versions.iter().map(|(n, v, a, s)| format!("{n}\t{v}\t{a}\t{s}\n")).collect();
        // After the upgrade, apt has nothing left to do (but what it passed over).
        let sim_text = if upgraded {
            let left: Vec<&str> = role
                .sim
                .lines()
                .filter(|l| {
                    role.left_behind
                        .is_some_and(|p| l.starts_with(&format!("Inst {p} ")) || l.starts_with(&format!("Conf {p} ")))
                })
                .collect();
            format!(
                "Reading package lists...\nBuilding dependency tree...\nReading state information...\nCalculating upgrade...\n{} upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n{}",
                left.len() / 2,
                left.iter().map(|l| format!("{l}\n")).collect::<String>()
            )
        } else {
            role.sim.to_string()
        };
        // Reboots happen every ten days (see `system`); the flag is cleared by the first one after it was set.
        // Without an upgrade in the history, the flag was set in the last few days.
        let flag = role.reboot_flag
            && match role.upgrade_at {
                None => self.days_ago < 6,
                Some(at) => upgraded && (role.flag_survives || self.days_before(at) / 10 == self.days_ago / 10),
            };
        let reboot = if flag {
            format!("==> /run/reboot-required <==\n*** System restart required ***\n\n==> /run/reboot-required.pkgs <==\n{REBOOT_PKGS}\n")
        } else {
            String::new()
        };
        let sources: String = role.sources.iter().map(|(f, t)| format!("==> {f} <==\n{t}\n")).collect();
        let mut probes = serde_json::Map::new();
        if let Some(update) = role.update {
            let (out, err): (Vec<&str>, Vec<&str>) =
                update.lines().partition(|l| !l.starts_with("E: ") && !l.starts_with("W: "));
            probes.insert("apt-update".into(), json!({"cmd": "apt-get -q update", "exit": 100, "ms": 2400, "out": out.join("\n"), "err": err.join("\n")}));
        }
        probes.insert("apt-sim-upgrade".into(), Self::probe("apt-get -s -y upgrade", json!(sim_text), 900));
        probes.insert("apt-sim-dist-upgrade".into(), Self::probe("apt-get -s -y dist-upgrade", json!(sim_text), 950));
        probes.insert("apt-showhold".into(), Self::probe("apt-mark showhold", json!(role.held), 120));
        probes.insert(
            "reboot-required".into(),
            Self::probe("for f in /run/reboot-required /run/reboot-required.pkgs; do …; done", json!(reboot), 2),
        );
        if let Some(n) = role.needrestart.filter(|_| !role.reboot_flag || flag) {
            probes.insert("needrestart".into(), Self::probe("needrestart -b", json!(n), 1800));
        }
        probes.insert(
            "dpkg-query".into(),
            Self::probe(
                "dpkg-query -W -f='${binary:Package}\\t${Version}\\t${Architecture}\\t${db:Status-Abbrev}\\n'",
                json!(dpkg),
                60,
            ),
        );
        probes.insert("apt-sources".into(), Self::probe("for f in /etc/apt/sources.list …; done", json!(sources), 3));
        self.envelope("apt", probes)
    }

    /// How many days before the end the history is `progress` % through.
    fn days_before(&self, progress: u64) -> u32 {
        let span = u64::from(self.days.max(2) - 1);
        (span - progress * span / 100) as u32
    }
}

/// The nightly `db` archive job the file server runs: what `parc apply`
/// writes, run after run, with the outcomes a real job meets (a dump that
/// did not change, the export missing for a night, an upload cut short) and
/// retention (keep_daily 7, keep_weekly 4) pruning the destination.
#[derive(Default)]
struct ArchiveJob {
    runs: usize,
    remote: Vec<(String, u64)>,
    last_good: Option<crate::snapshot::archive::LastGood>,
    previous: Option<crate::snapshot::archive::Outcome>,
}

/// Runs of the demo job, newest last: which run (counted from the newest) fails where.
const DEMO_ARCHIVE_404: u32 = 4;
const DEMO_ARCHIVE_UPLOAD_CUT: u32 = 1;
const DEMO_ARCHIVE_UNCHANGED: u32 = 2;

impl ArchiveJob {
    fn run(&mut self, host: &str, at: Instant, runs_left: u32) -> Value {
        use crate::config::pattern::Pattern;
        use crate::plan::retention::{self, Policy};
        use crate::snapshot::archive::{FileFacts, LastGood, Outcome, Run, RunSnapshot, Step};
        let n = self.runs;
        self.runs += 1;
        let url = "https://intranet.example/export/dump.zip";
        let destination = "sftp://backup@nas.example:22/srv/archives/db";
        let pattern = Pattern::parse("%Y%m%d.tgz").expect("a valid pattern");
        let date = jiff::Timestamp::from_second(at.0).expect("a demo time").to_zoned(jiff::tz::TimeZone::UTC);
        let name = pattern.format(date.datetime());
        let step = |step: &str, ms: u64, detail: String| Step {
            step: step.into(),
            ok: true,
            ms,
            detail: Some(detail),
            error: None,
        };
        let failed = |step: &str, ms: u64, error: String| Step {
            step: step.into(),
            ok: false,
            ms,
            detail: None,
            error: Some(error),
        };
        let dump_bytes = 180_000_000 + n as u64 * 1_250_000;
        let unchanged = runs_left == DEMO_ARCHIVE_UNCHANGED && self.last_good.is_some();
        let sha = match (&self.last_good, unchanged) {
            (Some(good), true) => good.dump_sha256.clone(),
            _ => crate::slug::hash(&format!("dump of night {n}"), 32),
        };
        let dump = FileFacts { name: "dump.sql".into(), bytes: dump_bytes, sha256: sha.clone() };
        let zip_bytes = dump_bytes * 22 / 100;
        let archive =
            FileFacts { name: name.clone(), bytes: dump_bytes * 19 / 100, sha256: crate::slug::hash(&name, 32) };
        let mut steps = vec![step("download", 4_100 + (n as u64 % 7) * 130, format!("HTTP 200 OK, {zip_bytes} bytes"))];
        let mut run = Run {
            job: "db".into(),
            plan: crate::slug::hash(&format!("plan {n}"), 32),
            outcome: Outcome::Ok,
            failed_step: None,
            cause: None,
            started_at: at.rfc3339(),
            duration_ms: 0,
            url: url.into(),
            destination: destination.into(),
            zip_bytes: Some(zip_bytes),
            dump: Some(dump.clone()),
            archive: None,
            steps: Vec::new(),
            remote: None,
            kept: Vec::new(),
            deleted: Vec::new(),
            delete_failed: None,
            not_attempted: Vec::new(),
            last_good: self.last_good.clone(),
            mail: Some("sent to ops@example.org".into()),
        };
        if runs_left == DEMO_ARCHIVE_404 {
            steps = vec![failed("download", 180, format!("HTTP 404 Not Found: {url}"))];
            run.outcome = Outcome::Failed;
            run.failed_step = Some("download".into());
            run.cause = steps[0].error.clone();
            run.zip_bytes = None;
            run.dump = None;
        } else {
            steps.push(step("verify", 2_900, format!("dump.sql found, {dump_bytes} bytes, sha256 {sha}")));
            if unchanged {
                steps.push(step("compare", 0, "identical to the previous dump: not archived again".into()));
                run.outcome = Outcome::Unchanged;
            } else {
                steps.push(step("compare", 0, "differs from the previous dump".into()));
                steps.push(step("pack", 9_800, format!("{name}, {} bytes, sha256 {}", archive.bytes, archive.sha256)));
                run.archive = Some(archive.clone());
            }
            steps.push(step("reach", 350, "sftp nas.example:/srv/archives/db".into()));
            if runs_left == DEMO_ARCHIVE_UPLOAD_CUT {
                let cause = format!(
                    "upload of {name} (as .{name}.part): writing /srv/archives/db/.{name}.part: the connection was closed after 12582912 of {} bytes",
                    archive.bytes
                );
                steps.push(failed("upload", 61_000, cause.clone()));
                run.outcome = Outcome::Failed;
                run.failed_step = Some("upload".into());
                run.cause = Some(cause);
                run.mail = Some("sent to ops@example.org, boss@example.org".into());
            } else {
                if !unchanged {
                    steps.push(step("upload", 14_000, format!("{name} uploaded, size and sha256 verified")));
                    self.remote.push((name.clone(), archive.bytes));
                    run.last_good =
                        Some(LastGood { at: at.rfc3339(), archive: name.clone(), dump_sha256: sha.clone() });
                }
                let policy = Policy { keep_daily: Some(7), keep_weekly: Some(4), ..Policy::default() };
                let names: Vec<String> = self.remote.iter().map(|(n, _)| n.clone()).collect();
                let verdict = retention::apply(&policy, &pattern, &names);
                self.remote.retain(|(r, _)| !verdict.delete.iter().any(|d| &d.name == r));
                steps.push(step(
                    "retention",
                    420,
                    format!(
                        "{} archives there, {} kept, {} deleted",
                        verdict.keep.len() + verdict.delete.len(),
                        verdict.keep.len(),
                        verdict.delete.len()
                    ),
                ));
                run.remote = Some(
                    self.remote
                        .iter()
                        .map(|(r, bytes)| crate::archive::destination::Listed { name: r.clone(), bytes: Some(*bytes) })
                        .collect(),
                );
                run.kept = verdict.keep;
                run.deleted = verdict.delete;
            }
        }
        if self.previous == Some(run.outcome) && run.outcome == Outcome::Ok {
            run.mail = Some("not sent: when = change".into());
        }
        run.duration_ms = steps.iter().map(|s| s.ms).sum::<u64>() + 40;
        run.steps = steps;
        self.last_good = run.last_good.clone();
        self.previous = Some(run.outcome);
        let snapshot = RunSnapshot {
            schema: crate::snapshot::SCHEMA.into(),
            kind: "archive-db".into(),
            host: host.into(),
            collected_at: at.rfc3339(),
            agent: json!({"version": env!("CARGO_PKG_VERSION"), "mode": "apply"}),
            probes: serde_json::Map::new(),
            run,
        };
        serde_json::to_value(snapshot).expect("a run serialises")
    }
}

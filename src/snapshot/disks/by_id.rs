//! `ls -l /dev/disk/by-id`: udev's stable names, each a link to the kernel's
//! name of a disk or partition, which changes from boot to boot.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Link {
    /// The name in /dev/disk/by-id (`ata-ST4000NM0033-9ZM170_Z1ZB45BD`).
    pub name: String,
    /// The kernel's name it points to (`sdb`).
    pub device: String,
}

/// Reads `ls -l` lines, or `find -ls` ones with full paths: the word before
/// ` -> ` is the link, the last part of what follows it the device. udev
/// escapes spaces in names, so a name is one word.
pub fn parse(text: &str) -> Vec<Link> {
    text.lines()
        .filter_map(|line| {
            let (left, target) = line.split_once(" -> ")?;
            let name = left.split_whitespace().last()?.rsplit('/').next()?;
            let device = target.trim().rsplit('/').next()?;
            (!name.is_empty() && !device.is_empty())
                .then(|| Link { name: name.to_string(), device: device.to_string() })
        })
        .collect()
}

/// The name to show for the device lsblk calls `device` (`sdb`, `nvme0n1p1`):
/// the bus's model-and-serial name first, as ZFS and Proxmox advise, then the
/// WWN, then NVMe's EUI; udev names only what it could identify.
pub fn preferred<'a>(links: &'a [Link], device: &str) -> Option<&'a str> {
    const BUSES: [&str; 7] = ["ata-", "nvme-", "scsi-", "usb-", "mmc-", "virtio-", "wwn-"];
    let rank = |name: &str| {
        let bus = BUSES.iter().position(|b| name.starts_with(b)).unwrap_or(BUSES.len());
        // nvme-eui.… and nvme-nvme.… are numbers, not a model and serial.
        let numeric = name.starts_with("nvme-eui.") || name.starts_with("nvme-nvme.");
        (numeric, bus, !name.contains('_'), name.len())
    };
    links.iter().filter(|l| l.device == device).map(|l| l.name.as_str()).min_by_key(|name| (rank(name), *name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ls_and_find_forms_and_prefers_model_and_serial() {
        let ls = "total 0\nlrwxrwxrwx 1 root root  9 Aug 19 21:11 ata-DELLBOSS_VD_39674b31f52c0010 -> ../../sda\n\
                  lrwxrwxrwx 1 root root 10 Aug 19 21:11 ata-DELLBOSS_VD_39674b31f52c0010-part1 -> ../../sda1\n";
        assert_eq!(
            parse(ls),
            [
                Link { name: "ata-DELLBOSS_VD_39674b31f52c0010".into(), device: "sda".into() },
                Link { name: "ata-DELLBOSS_VD_39674b31f52c0010-part1".into(), device: "sda1".into() },
            ]
        );
        let find = " 28733    0 lrwxrwxrwx   1 root     root            9 Sep 30 12:15 /dev/disk/by-id/wwn-0x5000c50091ca4d74 -> ../../sdb\n \
                    28730    0 lrwxrwxrwx   1 root     root            9 Sep 30 12:15 /dev/disk/by-id/ata-ST4000NM0033-9ZM170_Z1ZB45BD -> ../../sdb\n";
        let links = parse(find);
        assert_eq!(preferred(&links, "sdb"), Some("ata-ST4000NM0033-9ZM170_Z1ZB45BD"));
        assert_eq!(preferred(&links, "sdc"), None);
        let nvme = [
            Link { name: "nvme-eui.3825004235000591".into(), device: "nvme0n1".into() },
            Link { name: "nvme-Samsung_SSD_970_EVO_Plus_1TB_S4EWNF0M".into(), device: "nvme0n1".into() },
        ];
        assert_eq!(preferred(&nvme, "nvme0n1"), Some("nvme-Samsung_SSD_970_EVO_Plus_1TB_S4EWNF0M"));
        assert_eq!(preferred(&nvme[..1], "nvme0n1"), Some("nvme-eui.3825004235000591"));
    }

    #[test]
    fn lines_without_a_link_are_skipped() {
        assert!(parse("ls: cannot access '/dev/disk/by-id': No such file or directory\n -> \n").is_empty());
    }
}

//! Kind `system`: who the host is and what it runs.

use super::{probe_json, probe_text, Probe, ProbeFailure};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SystemFacts {
    /// `hostname` as the machine prints it.
    pub hostname: Option<String>,
    /// os-release `PRETTY_NAME`, e.g. `Debian GNU/Linux 12 (bookworm)`.
    pub os: Option<String>,
    /// os-release `ID`, e.g. `debian`, `ubuntu`, `raspbian`.
    pub os_id: Option<String>,
    /// os-release `VERSION_ID`.
    pub os_version: Option<String>,
    /// os-release `VERSION_CODENAME`, e.g. `bookworm`.
    #[serde(default)]
    pub os_codename: Option<String>,
    /// Kernel release, e.g. `6.1.0-13-amd64`.
    pub kernel: Option<String>,
    /// Machine architecture, e.g. `x86_64`, `aarch64`.
    pub arch: Option<String>,
    /// `/proc/sys/kernel/random/boot_id`: changes at every boot.
    pub boot_id: Option<String>,
    /// Seconds since boot.
    pub uptime_seconds: Option<u64>,
    /// Global addresses (loopback and link-local left out), `addr/prefix`.
    pub addresses: Vec<Address>,
    /// What `systemd-detect-virt` said: `none`, `kvm`, `lxc`, `docker`, …
    #[serde(default)]
    pub virt: Option<String>,
    /// The board (`/proc/device-tree/model`, e.g. `Raspberry Pi 4 Model B Rev 1.4`)
    /// or the DMI vendor and product (`QEMU Standard PC (Q35 + ICH9, 2009)`).
    #[serde(default)]
    pub hardware: Option<String>,
    /// Whether the hardware came from the device tree (a board) or DMI.
    #[serde(default)]
    pub device_tree: bool,
    /// The `pve-manager` version `pveversion` printed, e.g. `8.0.3`: a Proxmox VE host.
    #[serde(default)]
    pub pve_version: Option<String>,
    /// PID 1's start, in clock ticks after the kernel's boot (`/proc/1/stat`):
    /// in a container, where `boot_id` is the host's, it tells a restart.
    #[serde(default)]
    pub pid1_start: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Address {
    pub interface: String,
    pub address: String,
}

/// A machine's kind, as update policies match it (`machines = ["vm"]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MachineKind {
    Physical,
    Vm,
    Container,
    RaspberryPi,
    /// A Proxmox VE host (physical or nested): its reboot stops its guests.
    Proxmox,
}

pub fn parse(probes: &BTreeMap<String, Probe>, failures: &mut Vec<ProbeFailure>) -> SystemFacts {
    let mut facts = SystemFacts {
        hostname: probe_text(probes, "hostname", failures).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
        boot_id: probe_text(probes, "boot_id", failures).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
        ..SystemFacts::default()
    };
    if let Some(text) = probe_text(probes, "os-release", failures) {
        let release = os_release(&text);
        facts.os = release.get("PRETTY_NAME").cloned();
        facts.os_id = release.get("ID").cloned();
        facts.os_version = release.get("VERSION_ID").cloned();
        facts.os_codename = release.get("VERSION_CODENAME").cloned();
    }
    if let Some(text) = probe_text(probes, "uname", failures) {
        (facts.kernel, facts.arch) = uname(&text);
    }
    if let Some(text) = probe_text(probes, "uptime", failures) {
        facts.uptime_seconds = text.split_whitespace().next().and_then(|s| s.parse::<f64>().ok()).map(|s| s as u64);
    }
    if let Some(links) = probe_json::<Vec<IpLink>>(probes, "ip", failures) {
        facts.addresses = addresses(links);
    }
    facts.virt = virt(probes, failures);
    if let Some(text) = probe_text(probes, "device-tree", failures) {
        facts.hardware = words(&text);
        facts.device_tree = facts.hardware.is_some();
    }
    if facts.hardware.is_none() {
        facts.hardware = probe_text(probes, "dmi", failures).and_then(|t| dmi(&t));
    }
    facts.pve_version = probe_text(probes, "pveversion", failures).and_then(|t| pve_version(&t));
    facts.pid1_start = probe_text(probes, "pid1", failures).and_then(|t| t.trim().parse().ok());
    facts
}

/// `systemd-detect-virt` prints `none` and exits 1 on bare metal: that is an
/// answer, not a failure.
fn virt(probes: &BTreeMap<String, Probe>, failures: &mut Vec<ProbeFailure>) -> Option<String> {
    let probe = probes.get("virt")?;
    let answer = probe.text().and_then(|t| words(&t)).filter(|w| !w.contains(' '));
    match (probe.exit, answer) {
        (Some(0), Some(word)) => Some(word),
        (Some(1), Some(word)) if word == "none" => Some(word),
        _ => probe_text(probes, "virt", failures).and_then(|t| words(&t)).filter(|w| !w.contains(' ')),
    }
}

/// The text's words joined by one space (device-tree strings end in NUL).
fn words(text: &str) -> Option<String> {
    let joined =
        text.split(|c: char| c.is_whitespace() || c == '\0').filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ");
    (!joined.is_empty()).then_some(joined)
}

/// `sys_vendor` then `product_name`, one per line; firmware placeholders left out.
fn dmi(text: &str) -> Option<String> {
    const PLACEHOLDERS: [&str; 4] =
        ["To Be Filled By O.E.M.", "System manufacturer", "System Product Name", "Default string"];
    let parts: Vec<String> =
        text.lines().filter_map(words).filter(|w| !PLACEHOLDERS.iter().any(|p| w.eq_ignore_ascii_case(p))).collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// `pve-manager/8.0.3/bbf3993334bfa916 (running kernel: 6.2.16-3-pve)` → `8.0.3`.
fn pve_version(text: &str) -> Option<String> {
    let rest = text.trim().strip_prefix("pve-manager/")?;
    let version = rest.split(['/', ' ']).next()?;
    (!version.is_empty()).then(|| version.to_string())
}

/// `KEY=value` lines, values unquoted as the os-release spec allows.
fn os_release(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| {
            let v = v.trim();
            let v = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(v);
            (k.trim().to_string(), v.replace("\\\"", "\""))
        })
        .collect()
}

/// `uname -srvm` prints `Linux <release> <version…> <machine>`; the version
/// has spaces, so the release is the second word and the machine the last.
fn uname(text: &str) -> (Option<String>, Option<String>) {
    let words: Vec<&str> = text.split_whitespace().collect();
    match words.as_slice() {
        [_, release, .., machine] => (Some(release.to_string()), Some(machine.to_string())),
        [release] => (Some(release.to_string()), None),
        _ => (None, None),
    }
}

#[derive(Deserialize)]
struct IpLink {
    #[serde(default)]
    ifname: String,
    #[serde(default)]
    addr_info: Vec<IpAddr>,
}

#[derive(Deserialize)]
struct IpAddr {
    #[serde(default)]
    local: Option<String>,
    #[serde(default)]
    prefixlen: Option<u8>,
    #[serde(default)]
    scope: Option<String>,
}

fn addresses(links: Vec<IpLink>) -> Vec<Address> {
    links
        .into_iter()
        .flat_map(|link| {
            let ifname = link.ifname;
            link.addr_info.into_iter().filter_map(move |a| {
                if a.scope.as_deref() != Some("global") {
                    return None;
                }
                let local = a.local?;
                let address = match a.prefixlen {
                    Some(p) => format!("{local}/{p}"),
                    None => local,
                };
                Some(Address { interface: ifname.clone(), address })
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_os_release_uname_and_ip() {
        let release = os_release("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n");
        assert_eq!(release["PRETTY_NAME"], "Debian GNU/Linux 12 (bookworm)");
        assert_eq!(release["VERSION_ID"], "12");
        let (kernel, arch) = uname("Linux 6.1.0-13-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1 (2023-09-29) x86_64\n");
        assert_eq!((kernel.as_deref(), arch.as_deref()), (Some("6.1.0-13-amd64"), Some("x86_64")));
        let links: Vec<IpLink> = serde_json::from_str(
            r#"[{"ifname":"lo","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host"}]},
                {"ifname":"eth0","addr_info":[{"family":"inet","local":"192.0.2.10","prefixlen":24,"scope":"global"},
                                               {"family":"inet6","local":"fe80::1","prefixlen":64,"scope":"link"}]}]"#,
        )
        .unwrap();
        assert_eq!(addresses(links), vec![Address { interface: "eth0".into(), address: "192.0.2.10/24".into() }]);
    }
}

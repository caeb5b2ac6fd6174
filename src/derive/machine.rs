//! What a host is: a physical machine, a VM, a container, a Raspberry Pi or
//! a Proxmox VE host; and the OS name to show for it.

use crate::fleet::Host;
use crate::snapshot::system::SystemFacts;

pub use crate::snapshot::system::MachineKind as Kind;

/// `systemd-detect-virt`'s container answers; any other but `none` is a VM.
const CONTAINERS: [&str; 10] =
    ["openvz", "lxc", "lxc-libvirt", "systemd-nspawn", "docker", "podman", "rkt", "wsl", "proot", "pouch"];

/// DMI vendors and products of hypervisors, for hosts without systemd-detect-virt.
const HYPERVISORS: [&str; 9] =
    ["QEMU", "KVM", "VMware", "VirtualBox", "innotek", "Xen", "Bochs", "Parallels", "Virtual Machine"];

#[derive(Clone, Debug)]
pub struct Machine {
    /// None when the host's snapshots do not say (older agents).
    pub kind: Option<Kind>,
    /// `systemd-detect-virt`'s answer: `none`, `kvm`, `lxc`, …
    pub virt: Option<String>,
    /// The board or the DMI vendor and product.
    pub hardware: Option<String>,
    /// The Proxmox VE version (`pveversion`, else the `pve-manager` package).
    pub proxmox: Option<String>,
}

impl Machine {
    /// The OS to show: Proxmox VE with its version on a Proxmox host, else os-release's name.
    pub fn os(&self, system: Option<&SystemFacts>) -> Option<String> {
        match &self.proxmox {
            Some(version) => Some(format!("Proxmox VE {version}")),
            None => system.and_then(|s| s.os.clone()),
        }
    }
}

/// The version of an installed package in the host's newest inventory.
pub fn installed(host: &Host, package: &str) -> Option<String> {
    let (version, status) = host.apt.as_ref()?.newest.inventory.as_ref()?.find(package)?;
    status.is_none_or(|s| s.starts_with('i') || s.starts_with('h')).then_some(version)
}

pub fn machine(host: &Host) -> Machine {
    let system = host.system.as_ref();
    let virt = system.and_then(|s| s.virt.clone());
    let hardware = system.and_then(|s| s.hardware.clone());
    let proxmox = system.and_then(|s| s.pve_version.clone()).or_else(|| installed(host, "pve-manager"));
    let board =
        system.is_some_and(|s| s.device_tree) && hardware.as_deref().is_some_and(|h| h.starts_with("Raspberry Pi"));
    let dmi_vm = !system.is_some_and(|s| s.device_tree)
        && hardware.as_deref().is_some_and(|h| HYPERVISORS.iter().any(|v| h.contains(v)));
    let kind = match virt.as_deref() {
        Some(v) if CONTAINERS.contains(&v) => Some(Kind::Container),
        _ if proxmox.is_some() => Some(Kind::Proxmox),
        Some(v) if v != "none" => Some(Kind::Vm),
        None if dmi_vm => Some(Kind::Vm),
        _ if board => Some(Kind::RaspberryPi),
        Some(_) => Some(Kind::Physical),
        None if hardware.is_some() => Some(Kind::Physical),
        None => None,
    };
    Machine { kind, virt, hardware, proxmox }
}

# kind: system — who the host is and what it runs.
probe os-release 'cat /etc/os-release'
probe hostname 'hostname 2>/dev/null || cat /proc/sys/kernel/hostname'
probe ip 'ip -j addr'
probe uname 'uname -srvm'
probe boot_id 'cat /proc/sys/kernel/random/boot_id'
probe uptime 'cat /proc/uptime'
# What the machine is: a VM or container, a board, a Proxmox VE host.
has systemd-detect-virt && probe virt 'systemd-detect-virt'
[ -r /sys/class/dmi/id/sys_vendor ] && probe dmi 'cat /sys/class/dmi/id/sys_vendor /sys/class/dmi/id/product_name'
[ -r /proc/device-tree/model ] && probe device-tree 'cat /proc/device-tree/model'
has pveversion && probe pveversion 'pveversion'
# PID 1's start (field 22 of its stat, after the command in parentheses): a container's restart.
probe pid1 "sed 's/.*) //' /proc/1/stat | cut -d' ' -f20"

# kind: system — who the host is and what it runs.
probe os-release 'cat /etc/os-release'
probe hostname 'hostname 2>/dev/null || cat /proc/sys/kernel/hostname'
probe ip 'ip -j addr'
probe uname 'uname -srvm'
probe boot_id 'cat /proc/sys/kernel/random/boot_id'
probe uptime 'cat /proc/uptime'

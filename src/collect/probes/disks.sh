# kind: disks — block devices, SMART, file systems, LVM, homes, ZFS, Ceph.
COLS=NAME,TYPE,SIZE,MODEL,SERIAL,WWN,FSTYPE,MOUNTPOINT,MOUNTPOINTS,ROTA,UUID,PKNAME,TRAN,VENDOR,REV,HOTPLUG
# util-linux before 2.37 has no MOUNTPOINTS column: ask again without it.
probe lsblk "lsblk -J -b -o $COLS 2>/dev/null || lsblk -J -b -o $(echo $COLS | sed 's/,MOUNTPOINTS//')"

# Every disk smartctl can open, behind RAID controllers too (-d megaraid,N …).
probe smartctl-scan "$SUDO smartctl --scan-open -j"
: > "$TMP/seen"
limited $SUDO smartctl --scan-open 2>/dev/null > "$TMP/scan"
while read -r dev _ type _; do
  case $dev in /dev/*) ;; *) continue ;; esac
  case $type in
    *,*) probe "smartctl:$dev:$type" "$SUDO smartctl -j -a -d $type $dev" ;;
    *) probe "smartctl:$dev" "$SUDO smartctl -j -a $dev" ;;
  esac
  echo "$dev" >> "$TMP/seen"
done < "$TMP/scan"
# Disks the scan missed (virtual disks, SD cards, no smartctl at all) are
# probed too, so that why there is no SMART is on record.
for dev in $(limited lsblk -dn -o NAME,TYPE 2>/dev/null | awk '$2 == "disk" { print "/dev/" $1 }'); do
  case $dev in /dev/zram*|/dev/ram*|/dev/loop*) continue ;; esac
  case $dev in /dev/nvme*n*) ctrl=${dev%n*} ;; *) ctrl=$dev ;; esac
  grep -qx -e "$dev" -e "$ctrl" "$TMP/seen" && continue
  probe "smartctl:$dev" "$SUDO smartctl -j -a $dev"
done

# udev's stable names (none in a container).
[ -d /dev/disk/by-id ] && probe by-id 'ls -l /dev/disk/by-id'
probe df 'df -B1 --output=source,fstype,target,size,used,avail'
if has pvs; then
  probe pvs "$SUDO pvs --reportformat json --units b --nosuffix"
  probe lvs "$SUDO lvs --reportformat json --units b --nosuffix"
fi
probe home "$SUDO du -sb /home/*"
has zpool && probe zpool 'zpool status -P'
has ceph-volume && probe ceph-osd "$SUDO ceph-volume lvm list --format json"

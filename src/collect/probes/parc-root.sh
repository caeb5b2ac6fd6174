#!/bin/sh
# parc-root: runs as root exactly the commands parc's probe scripts need, and
# nothing else. sudo allows this one program; this program allows only these
# argument lists:
#
#   smartctl --scan-open [-j]
#   smartctl -j -a [-d TYPE] /dev/DEVICE
#   pvs|lvs --reportformat json --units b --nosuffix
#   du -sb /home/NAME...
#   ceph-volume lvm list --format json
#   apt-get -q update [-o Acquire::http::Proxy=URL]   (only with collect.apt_update)
#   needrestart -b
#
# Install (root):
#   parc probe-script --sudo-wrapper > /usr/local/sbin/parc-root
#   chown root:root /usr/local/sbin/parc-root && chmod 755 /usr/local/sbin/parc-root
# and in /etc/sudoers.d/parc:
#   parc ALL=(root) NOPASSWD: /usr/local/sbin/parc-root
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

refuse() {
  echo "parc-root: refused: $*" >&2
  exit 126
}

# A device node: /dev/ and plain characters, never "..".
device() {
  case $1 in
    *..* | *[!A-Za-z0-9/_.:-]*) return 1 ;;
    /dev/?*) return 0 ;;
  esac
  return 1
}

# A smartctl device type: sat, nvme, megaraid,N, sat+megaraid,N, cciss,N, ...
device_type() {
  case $1 in
    '' | *[!a-z0-9,+]*) return 1 ;;
  esac
  return 0
}

# An APT proxy option with a plain http(s) URL (collect.apt_proxy).
proxy_option() {
  case $1 in
    Acquire::http::Proxy=http://?* | Acquire::http::Proxy=https://?*) ;;
    *) return 1 ;;
  esac
  case ${1#Acquire::http::Proxy=} in
    *[!A-Za-z0-9._~:/@%+-]*) return 1 ;;
  esac
  return 0
}

# One folder right under /home.
home() {
  case $1 in
    /home/*/* | /home/. | /home/.. | *[[:cntrl:]]*) return 1 ;;
    /home/?*) return 0 ;;
  esac
  return 1
}

[ $# -ge 1 ] || refuse "no command"
command=$1
shift
case $command in
  smartctl)
    if [ $# -eq 1 ] && [ "$1" = --scan-open ]; then exec smartctl --scan-open; fi
    if [ $# -eq 2 ] && [ "$1" = --scan-open ] && [ "$2" = -j ]; then exec smartctl --scan-open -j; fi
    if [ $# -eq 3 ] && [ "$1" = -j ] && [ "$2" = -a ] && device "$3"; then exec smartctl -j -a "$3"; fi
    if [ $# -eq 5 ] && [ "$1" = -j ] && [ "$2" = -a ] && [ "$3" = -d ] && device_type "$4" && device "$5"; then
      exec smartctl -j -a -d "$4" "$5"
    fi
    ;;
  pvs | lvs)
    if [ $# -eq 5 ] && [ "$1 $2 $3 $4 $5" = "--reportformat json --units b --nosuffix" ]; then
      exec "$command" --reportformat json --units b --nosuffix
    fi
    ;;
  du)
    if [ $# -ge 2 ] && [ "$1" = -sb ]; then
      shift
      for folder in "$@"; do home "$folder" || refuse "du -sb $folder"; done
      exec du -sb -- "$@"
    fi
    ;;
  apt-get)
    if [ $# -eq 2 ] && [ "$1 $2" = "-q update" ]; then
      DEBIAN_FRONTEND=noninteractive exec apt-get -q update
    fi
    if [ $# -eq 4 ] && [ "$1 $2 $3" = "-q update -o" ] && proxy_option "$4"; then
      DEBIAN_FRONTEND=noninteractive exec apt-get -q update -o "$4"
    fi
    ;;
  needrestart)
    if [ $# -eq 1 ] && [ "$1" = -b ]; then exec needrestart -b; fi
    ;;
  ceph-volume)
    if [ $# -eq 4 ] && [ "$1 $2 $3 $4" = "lvm list --format json" ]; then
      exec ceph-volume lvm list --format json
    fi
    ;;
esac
refuse "$command $*"

#!/bin/sh
# parc-update-root: runs as root exactly the commands parc apply's updates
# need, and nothing else. Apart from parc-root (collection, read-only): a
# host gives this one only to the account that updates it. sudo allows this
# one program; this program allows only these commands:
#
#   lock-holders                     fuser of dpkg's two locks
#   audit                            dpkg --audit
#   refresh                          apt-get -q update
#   start upgrade|dist-upgrade       apt-get -y upgrade or dist-upgrade, detached
#   start install PACKAGE...         apt-get -y install --only-upgrade PACKAGE..., detached
#   status | output                  the detached run's exit status and output
#   autoremove | clean               apt-get -y autoremove, apt-get clean
#   reboot                           a reboot, a second later
#
# Any of them may follow `--proxy URL` (collect.apt_proxy): apt-get then
# downloads through that HTTP proxy. The URL is plain characters only.
#
# Install (root):
#   parc probe-script --update-wrapper > /usr/local/sbin/parc-update-root
#   chown root:root /usr/local/sbin/parc-update-root && chmod 755 /usr/local/sbin/parc-update-root
# and in /etc/sudoers.d/parc-update:
#   parc-update ALL=(root) NOPASSWD: /usr/local/sbin/parc-update-root
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LC_ALL=C DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=l APT_LISTCHANGES_FRONTEND=none
export PATH LC_ALL DEBIAN_FRONTEND NEEDRESTART_MODE APT_LISTCHANGES_FRONTEND
STATE=/var/lib/parc-update
OPTIONS="-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"
PROXY=""

refuse() {
  echo "parc-update-root: refused: $*" >&2
  exit 126
}

# A package name as Debian allows it (with an optional :arch).
package() {
  case $1 in
    '' | -* | *[!a-z0-9.+:-]*) return 1 ;;
  esac
  return 0
}

# The apt-get run detached from the SSH session: its output and exit status stay in $STATE.
detached() {
  mkdir -p "$STATE" && rm -f "$STATE/rc" "$STATE/out" || exit 1
  # shellcheck disable=SC2086
  setsid sh -c 'apt-get -y -q '"$OPTIONS"' "$@" > '"$STATE"'/out 2>&1 < /dev/null; echo $? > '"$STATE"'/rc' parc "$@" \
    > /dev/null 2>&1 < /dev/null &
  exit 0
}

if [ "$1" = --proxy ] && [ $# -ge 2 ]; then
  case $2 in
    http://?* | https://?*) ;;
    *) refuse "--proxy $2" ;;
  esac
  case $2 in
    *[!A-Za-z0-9._~:/@%+-]*) refuse "--proxy $2" ;;
  esac
  PROXY="-o Acquire::http::Proxy=$2"
  OPTIONS="$OPTIONS $PROXY"
  shift 2
fi

[ $# -ge 1 ] || refuse "no command"
command=$1
shift
case $command in
  lock-holders) [ $# -eq 0 ] && exec fuser /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock ;;
  audit) [ $# -eq 0 ] && exec dpkg --audit ;;
  # shellcheck disable=SC2086
  refresh) [ $# -eq 0 ] && exec apt-get -q $PROXY update ;;
  start)
    case "$1" in
      upgrade | dist-upgrade) [ $# -eq 1 ] && detached "$1" ;;
      install)
        shift
        [ $# -ge 1 ] || refuse "start install: no package"
        for p in "$@"; do package "$p" || refuse "start install $p"; done
        detached install --only-upgrade "$@"
        ;;
    esac
    ;;
  status) [ $# -eq 0 ] && exec cat "$STATE/rc" ;;
  output) [ $# -eq 0 ] && exec cat "$STATE/out" ;;
  autoremove) [ $# -eq 0 ] && exec apt-get -y -q $OPTIONS autoremove ;;
  clean) [ $# -eq 0 ] && exec apt-get -q clean ;;
  reboot)
    [ $# -eq 0 ] && { setsid sh -c 'sleep 1; systemctl reboot || reboot' > /dev/null 2>&1 < /dev/null & exit 0; }
    ;;
esac
refuse "$command $*"

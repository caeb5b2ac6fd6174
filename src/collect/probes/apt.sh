# kind: apt — pending updates, held packages, reboots, installed packages.
# Never interactive, never the network unless PARC_APT_UPDATE=1 (collect.apt_update).
export DEBIAN_FRONTEND=noninteractive
# Files are printed the way `tail` prints several: a "==> path <==" line before each.
if ! has apt-get; then
  # Not an APT host: said once, and nothing else is asked.
  probe apt-absent 'echo "apt-get not found"'
else
  if [ "${PARC_APT_UPDATE:-0}" = 1 ]; then
    # collect.apt_proxy: checked by parc and by parc-root to be a plain URL.
    probe apt-update "$SUDO apt-get -q update${PARC_APT_PROXY:+ -o Acquire::http::Proxy=$PARC_APT_PROXY}"
    # The simulations read the lists the update writes.
    wait
  fi
  probe apt-sim-upgrade 'apt-get -s -y upgrade'
  probe apt-sim-dist-upgrade 'apt-get -s -y dist-upgrade'
  # What they would download (sizes -s does not print), what autoremove and clean would free.
  probe apt-print-uris 'apt-get --print-uris -y dist-upgrade'
  probe apt-sim-autoremove 'apt-get -s autoremove'
  probe apt-archives 'du -sb --exclude=partial /var/cache/apt/archives'
  has ubuntu-drivers && probe ubuntu-drivers 'ubuntu-drivers devices'
  probe apt-showhold 'apt-mark showhold'
  # Absent files are the normal answer: no reboot needed.
  probe reboot-required 'for f in /run/reboot-required /run/reboot-required.pkgs; do [ -f "$f" ] && { echo "==> $f <=="; cat "$f"; echo; }; done; true'
  has needrestart && probe needrestart "$SUDO needrestart -b"
  probe dpkg-query "dpkg-query -W -f='\${binary:Package}\t\${Version}\t\${Architecture}\t\${db:Status-Abbrev}\n'"
  probe apt-sources 'for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do [ -f "$f" ] && { echo "==> $f <=="; cat "$f"; echo; }; done; true'
  probe apt-policy 'apt-cache policy'
  # Proxmox VE: whether a subscription key is installed (the enterprise repository needs one).
  [ -d /etc/pve ] && probe pve-subscription 'for f in /etc/subscription; do [ -s "$f" ] && echo "$f"; done; true'
fi

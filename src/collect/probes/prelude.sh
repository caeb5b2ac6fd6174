#!/bin/sh
# parc probe script. POSIX sh; prints one section per probe:
#
#   ===PARC:<probe key>===
#   ===PARC:CMD=<command>===
#   <what the command printed on stdout>
#   ===PARC:STDERR===
#   <what it printed on stderr>
#   ===PARC:MS=<milliseconds>===
#   ===PARC:EXIT=<exit status; 124 when it ran past its time limit>===
#
# Environment: PARC_PROBE_TIMEOUT (seconds per probe, default 60),
# PARC_SUDO (the prefix of the commands that need root, e.g.
# "sudo -n /usr/local/sbin/parc-root") and PARC_PATH (the PATH the probes run
# with; default: PATH and the sbin folders).
export LC_ALL=C
# LVM warns about every descriptor it inherits; they are ours, not leaks.
export LVM_SUPPRESS_FD_WARNINGS=1
PATH=${PARC_PATH:-$PATH:/usr/local/sbin:/usr/sbin:/sbin}
LIMIT=${PARC_PROBE_TIMEOUT:-60}
SUDO=${PARC_SUDO:-}
TMP=$(mktemp -d 2>/dev/null) || { TMP=/tmp/parc.$$; mkdir -p "$TMP"; }
trap 'rm -rf "$TMP"' EXIT

now_ms() { date +%s%3N 2>/dev/null || echo $(($(date +%s) * 1000)); }

# probe KEY COMMAND: runs COMMAND with sh -c under the time limit, in the
# background, so that a host takes about as long as its slowest tool.
N=0
probe() {
  N=$((N + 1))
  run_probe "$1" "$2" "$N" > "$TMP/$N" &
}

run_probe() {
  printf '===PARC:%s===\n===PARC:CMD=%s===\n' "$1" "$2"
  start=$(now_ms)
  if command -v timeout >/dev/null 2>&1; then
    timeout -k 2 "$LIMIT" sh -c "$2" 2>"$TMP/$3.err"
  else
    sh -c "$2" 2>"$TMP/$3.err"
  fi
  rc=$?
  end=$(now_ms)
  printf '\n===PARC:STDERR===\n'
  cat "$TMP/$3.err"
  printf '\n===PARC:MS=%s===\n===PARC:EXIT=%s===\n' "$((end - start))" "$rc"
}

# finish: waits for every probe and prints the sections in the order they began.
finish() {
  wait
  i=1
  while [ "$i" -le "$N" ]; do
    cat "$TMP/$i"
    i=$((i + 1))
  done
}

has() { command -v "$1" >/dev/null 2>&1; }

# limited COMMAND...: runs COMMAND in the foreground under the time limit.
limited() {
  if has timeout; then timeout -k 2 "$LIMIT" "$@"; else "$@"; fi
}

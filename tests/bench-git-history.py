#!/usr/bin/env python3
"""Turns `parc demo`'s dated files into the layout agents write: a git
repository whose `snapshots/<host>/<kind>.json` is overwritten at each
collection, one commit per host per collection, in time order.

    bench-git-history.py DATED_DIR REPO [--since STAMP] [--until STAMP] [--host NAME] [--skip-host NAME] [--per-day]

Collections whose file stamp (e.g. 2026-11-21T020202Z) is before --since or
at/after --until are left out, so a bench can add a later day as new commits
to the same repository (run again with --since); --host keeps one host,
--skip-host leaves one out. --per-day makes one commit a day of every
host's collections, as a control host's `parc collect --ssh --commit` does
(pull mode), instead of one per host. Uses git fast-import: 30,000
commits take seconds, not minutes.
"""
import argparse
import os
import subprocess
import sys
from collections import defaultdict

args = argparse.ArgumentParser()
args.add_argument("dated")
args.add_argument("repo")
args.add_argument("--since", default="")
args.add_argument("--until", default="")
args.add_argument("--host", default="")
args.add_argument("--skip-host", default="")
args.add_argument("--per-day", action="store_true")
a = args.parse_args()

collections = defaultdict(dict)  # (stamp, host) -> {kind: path}
for host in sorted(os.listdir(a.dated)):
    if (a.host and host != a.host) or host == a.skip_host:
        continue
    for kind in sorted(os.listdir(os.path.join(a.dated, host))):
        folder = os.path.join(a.dated, host, kind)
        for name in os.listdir(folder):
            stamp = name[: -len(".json")]
            if stamp < a.since or (a.until and stamp >= a.until):
                continue
            collections[(stamp, host)][kind] = os.path.join(folder, name)

if not os.path.isdir(a.repo):
    subprocess.run(["git", "init", "-q", "-b", "main", a.repo], check=True)
has_head = subprocess.run(["git", "-C", a.repo, "rev-parse", "-q", "--verify", "HEAD"], capture_output=True).returncode == 0

importer = subprocess.Popen(["git", "-C", a.repo, "fast-import", "--quiet"], stdin=subprocess.PIPE)
out = importer.stdin
import calendar, time

# Commits in time order: (stamp of its last collection, committer, [(host, kinds)]).
commits = []
if a.per_day:
    days = defaultdict(list)
    for (stamp, host), kinds in sorted(collections.items()):
        days[stamp[:10]].append((stamp, host, kinds))
    for day, day_collections in sorted(days.items()):
        commits.append((max(c[0] for c in day_collections), "control", [(h, k) for _, h, k in day_collections]))
else:
    for (stamp, host), kinds in sorted(collections.items()):
        commits.append((stamp, host, [(host, kinds)]))

first = True
for stamp, committer, changes in commits:
    # 2026-11-21T020202Z -> seconds since the epoch, for the commit's date.
    when = calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H%M%SZ"))
    names = ", ".join(sorted({k for _, kinds in changes for k in kinds}))
    subject = changes[0][0] if len(changes) == 1 else f"{len(changes)} hosts"
    message = f"parc collect: {subject} ({names})\n".encode()
    out.write(b"commit refs/heads/main\n")
    out.write(f"committer {committer} <parc@{committer}> {when} +0000\n".encode())
    out.write(b"data %d\n" % len(message) + message)
    if first and has_head:
        out.write(b"from refs/heads/main^0\n")
    first = False
    for host, kinds in changes:
        for kind, path in sorted(kinds.items()):
            data = open(path, "rb").read()
            out.write(f"M 100644 inline snapshots/{host}/{kind}.json\n".encode())
            out.write(b"data %d\n" % len(data) + data + b"\n")
out.close()
if importer.wait() != 0:
    sys.exit("git fast-import failed")
subprocess.run(["git", "-C", a.repo, "checkout", "-q", "-f", "main"], check=True)

#!/usr/bin/env python3
"""Writes N hosts' Ansible facts (`ansible -m setup --tree` files) from the
real file in tests/corpus/ansible/, each host with two disks of its own,
for the benchmark against ansible-cmdb and Hugo, and a Hugo site that
renders the same bytes (a page per host and per disk, through a content
adapter over its data files).

    bench-facts.py N DIR
"""
import copy
import json
import os
import sys

n, out = int(sys.argv[1]), sys.argv[2]
here = os.path.dirname(os.path.abspath(__file__))
tree = json.load(open(os.path.join(here, "corpus/ansible/setup-tree-debian12-docker.json")))
facts_dir = os.path.join(out, "facts")
data_dir = os.path.join(out, "hugo/data/facts")
os.makedirs(facts_dir, exist_ok=True)
os.makedirs(data_dir, exist_ok=True)
for i in range(n):
    host = f"h{i:04d}"
    t = copy.deepcopy(tree)
    f = t["ansible_facts"]
    f["ansible_hostname"] = host
    for d, name in enumerate(["sda", "sdb"]):
        serial = f"S{i:04d}{d}"
        f["ansible_devices"][name] = {
            "holders": [], "host": "SATA controller", "model": "Samsung SSD 860", "serial": serial,
            "links": {"ids": [f"ata-Samsung_SSD_860_{serial}"], "labels": [], "masters": [], "uuids": []},
            "partitions": {f"{name}1": {"sectors": 976771055, "sectorsize": 512, "size": "465.76 GB", "uuid": None,
                                        "links": {"ids": [], "labels": [], "masters": [], "uuids": []}}},
            "removable": "0", "rotational": "0", "sectors": 976773168, "sectorsize": "512", "size": "465.76 GB",
            "vendor": "ATA", "virtual": 1,
        }
    text = json.dumps(t)
    with open(os.path.join(facts_dir, host), "w") as fh:
        fh.write(text)
    with open(os.path.join(data_dir, host + ".json"), "w") as fh:
        fh.write(text)

site = os.path.join(out, "hugo")
os.makedirs(os.path.join(site, "content/hosts"), exist_ok=True)
os.makedirs(os.path.join(site, "layouts/_default"), exist_ok=True)
open(os.path.join(site, "hugo.toml"), "w").write('baseURL = "http://localhost/"\ndisableKinds = ["taxonomy", "term", "RSS", "sitemap"]\n')
open(os.path.join(site, "content/hosts/_content.gotmpl"), "w").write("""{{ range $name, $t := site.Data.facts }}
  {{ $f := $t.ansible_facts }}
  {{ $.AddPage (dict "kind" "page" "path" $name "title" $name "content" (dict "mediaType" "text/markdown" "value" "")
       "params" (dict "os" $f.ansible_lsb.description "kernel" $f.ansible_kernel "mounts" $f.ansible_mounts "devices" $f.ansible_devices)) }}
  {{ range $dev, $d := $f.ansible_devices }}{{ with $d.serial }}
    {{ $.AddPage (dict "kind" "page" "path" (printf "disks/%s" .) "title" . "content" (dict "mediaType" "text/markdown" "value" "")
         "params" (dict "host" $name "device" $dev "model" $d.model "size" $d.size)) }}
  {{ end }}{{ end }}
{{ end }}
""")
open(os.path.join(site, "layouts/_default/single.html"), "w").write("""<!doctype html><title>{{ .Title }}</title><h1>{{ .Title }}</h1>
<dl>{{ range $k, $v := .Params }}{{ if not (reflect.IsMap $v) }}{{ if not (reflect.IsSlice $v) }}<dt>{{ $k }}</dt><dd>{{ $v }}</dd>{{ end }}{{ end }}{{ end }}</dl>
{{ with .Params.mounts }}<table>{{ range . }}<tr><td>{{ .mount }}</td><td>{{ .device }}</td><td>{{ .fstype }}</td><td>{{ .size_total }}</td><td>{{ .size_available }}</td></tr>{{ end }}</table>{{ end }}
{{ with .Params.devices }}<table>{{ range $n, $d := . }}<tr><td>{{ $n }}</td><td>{{ $d.model }}</td><td>{{ $d.serial }}</td><td>{{ $d.size }}</td></tr>{{ end }}</table>{{ end }}
""")
open(os.path.join(site, "layouts/_default/list.html"), "w").write("""<!doctype html><title>{{ .Title }}</title><ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul>
""")

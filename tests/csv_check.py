"""Reads every CSV of a built site's API with Python's csv module and
compares it with the JSON list beside it: the same rows, the same cells.
Usage: csv_check.py SITE; prints what differs and exits 1, or the count."""
import csv, json, pathlib, sys


def text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        if all(isinstance(v, (str, int, float)) and not isinstance(v, bool) or isinstance(v, bool) for v in value):
            return "; ".join(text(v) for v in value)
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def flat(row, prefix=""):
    for key, value in row.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            yield from flat(value, name)
        else:
            yield name, text(value)


def main(site):
    api = pathlib.Path(site) / "api" / "v1"
    checked, wrong = 0, []
    for path in sorted(api.rglob("*.csv")):
        rows = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        with open(path, newline="", encoding="utf-8") as f:
            table = list(csv.DictReader(f))
        if len(table) != len(rows):
            wrong.append(f"{path}: {len(table)} rows, the JSON has {len(rows)}")
            continue
        for i, (cells, row) in enumerate(zip(table, rows)):
            expected = dict(flat(row))
            got = {k: v for k, v in cells.items() if v != "" or k in expected}
            if {k: v for k, v in got.items() if v != ""} != {k: v for k, v in expected.items() if v != ""}:
                wrong.append(f"{path} row {i + 1}: {cells} is not {expected}")
                break
        checked += 1
    for w in wrong:
        print(w)
    print(f"{checked} CSV files read")
    sys.exit(1 if wrong or checked == 0 else 0)


main(sys.argv[1])

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Read one number out of `dpdnsctl --json stats` (stdin) for the integration tests.

    jsonget.py KEY [KEY ...]

Each KEY is tried in turn; the first that resolves is printed:
  - a dotted path ("fastpath.drop.runt", "workers.0.rx_pkts"): walked exactly;
  - a plain key ("rx_pkts"): every value under that key anywhere in the document is
    summed, so per-worker blocks add up to the total; a found object or list of numbers
    is summed as well.
Exit 3 and print "missing" when no KEY resolves.
"""
import json
import sys


def total(v):
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, dict):
        return sum(total(x) for x in v.values())
    if isinstance(v, list):
        return sum(total(x) for x in v)
    raise ValueError("not a number")


def walk(doc, path):
    cur = doc
    for part in path.split("."):
        if isinstance(cur, list):
            cur = cur[int(part)]
        else:
            cur = cur[part]
    return cur


def find(doc, key, out):
    if isinstance(doc, dict):
        for k, v in doc.items():
            if k == key:
                out.append(v)
            else:
                find(v, key, out)
    elif isinstance(doc, list):
        for v in doc:
            find(v, key, out)


def main():
    doc = json.load(sys.stdin)
    for key in sys.argv[1:]:
        try:
            if "." in key:
                print(int(total(walk(doc, key))))
                return 0
            found = []
            find(doc, key, found)
            if found:
                print(int(sum(total(v) for v in found)))
                return 0
        except (KeyError, IndexError, ValueError, TypeError):
            continue
    print("missing")
    return 3


if __name__ == "__main__":
    sys.exit(main())

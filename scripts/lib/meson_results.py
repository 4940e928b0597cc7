#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Count a `meson test` run from its testlog.json: prints "PASSED FAILED SKIPPED" on the
first line, then the name and result of every test that did not pass."""
import json
import sys

GOOD = {"OK", "EXPECTEDFAIL"}
SKIP = {"SKIP"}

passed = failed = skipped = 0
bad = []
try:
    with open(sys.argv[1]) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            t = json.loads(line)
            r = t.get("result", "ERROR")
            if r in GOOD:
                passed += 1
            elif r in SKIP:
                skipped += 1
            else:
                failed += 1
                bad.append("%s (%s)" % (t.get("name", "?"), r))
except OSError:
    pass
print(passed, failed, skipped)
for b in bad:
    print(b)

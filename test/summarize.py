#!/usr/bin/python3
"""Adds up the summaries of the test runners (the unit runner's
"unit: N passed, M failed" and pytest's "N passed, M failed, K skipped in
Xs") into one closing line: "apigw: N passed, M failed[, K skipped]".
A suite run in parts (the integration tests in parallel with -m "not
serial", then -m serial alone) gives a log per part: each counts its own
tests, the deselected ones are the other part's and not counted. Exits
non-zero when a log has no summary or anything failed."""
import re
import sys

COUNTS = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed)")
DESELECTED = re.compile(r"\b(\d+ deselected|no tests ran)\b.* in [\d.]+s\b")


def summary_of(path):
    try:
        lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        found = COUNTS.findall(line)
        # a part may have selected none of the tests: "N deselected in Xs"
        if (found and ("passed" in line or "failed" in line or "error" in line)
                or DESELECTED.search(line)):
            return {kind.rstrip("s") if kind.startswith("error") else kind: int(n)
                    for n, kind in found}
    return None


def main(paths):
    total = {"passed": 0, "failed": 0, "skipped": 0}
    ok = True
    for path in paths:
        s = summary_of(path)
        if s is None:
            print("summary: no test summary in %s" % path)
            ok = False
            continue
        total["passed"] += s.get("passed", 0) + s.get("xpassed", 0)
        total["failed"] += s.get("failed", 0) + s.get("error", 0)
        total["skipped"] += s.get("skipped", 0) + s.get("xfailed", 0)
    line = "apigw: %d passed, %d failed" % (total["passed"], total["failed"])
    if total["skipped"]:
        line += ", %d skipped" % total["skipped"]
    print(line)
    return 0 if ok and total["failed"] == 0 and total["passed"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

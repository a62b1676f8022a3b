#!/usr/bin/python3
"""Owns the parsing of one `wrk --latency` text report for test/bench/run.sh.

    wrkparse.py WRK_OUTPUT [key=value ...]

Prints one JSON object on one line: requests, duration_s, rps, latency
percentiles in ms (p50, p75, p90, p99), avg_ms, non2xx, socket_errors,
plus every key=value given (numbers become numbers). Exits 1, with the
reason on stderr, when the report lacks the request count or the latency
distribution (wrk failed to connect, was killed, ...)."""
import json
import re
import sys

TIME_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
DURATION_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}

REQUESTS = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h),")
RPS = re.compile(r"^Requests/sec:\s+([\d.]+)")
PERCENTILE = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$")
AVG = re.compile(r"^\s+Latency\s+([\d.]+)(us|ms|s|m|h)\s")
NON2XX = re.compile(r"^\s*Non-2xx or 3xx responses:\s+(\d+)")
SOCKET = re.compile(r"^\s*Socket errors: connect (\d+), read (\d+), "
                    r"write (\d+), timeout (\d+)")


def number(text):
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def parse(text):
    out = {"non2xx": 0, "socket_errors": 0, "socket_errors_detail": None}
    for line in text.splitlines():
        m = REQUESTS.match(line)
        if m:
            out["requests"] = int(m.group(1))
            out["duration_s"] = float(m.group(2)) * DURATION_UNITS[m.group(3)]
            continue
        m = RPS.match(line)
        if m:
            out["rps"] = float(m.group(1))
            continue
        m = PERCENTILE.match(line)
        if m:
            out["p" + m.group(1) + "_ms"] = float(m.group(2)) * TIME_UNITS[m.group(3)]
            continue
        m = AVG.match(line)
        if m and "avg_ms" not in out:
            out["avg_ms"] = float(m.group(1)) * TIME_UNITS[m.group(2)]
            continue
        m = NON2XX.match(line)
        if m:
            out["non2xx"] = int(m.group(1))
            continue
        m = SOCKET.match(line)
        if m:
            parts = [int(x) for x in m.groups()]
            out["socket_errors"] = sum(parts)
            out["socket_errors_detail"] = dict(zip(
                ("connect", "read", "write", "timeout"), parts))
    missing = [k for k in ("requests", "rps", "p50_ms", "p99_ms") if k not in out]
    return out, missing


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8", errors="replace") as f:
        text = f.read()
    out, missing = parse(text)
    if missing:
        print("wrkparse: %s: no %s in the wrk report" % (argv[1], ", ".join(missing)),
              file=sys.stderr)
        return 1
    for kv in argv[2:]:
        key, _, value = kv.partition("=")
        out[key] = number(value)
    print(json.dumps(out, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

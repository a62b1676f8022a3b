#!/usr/bin/python3
"""Owns the measuring and reporting half of test/bench/bench_aggregate.sh
(the aggregation benchmark); the shell script starts and stops the servers.

    bench_aggregate.py check URL EXPECT
        One GET: exit 0 when it answers 200 with the expected JSON, else 1
        with the reason. EXPECT is one JSON file (the body must be those
        exact bytes) or several joined by commas (the body must be their
        objects merged at the root, in order, and X-Apigw-Completed must
        say "true").
    bench_aggregate.py latency --out FILE [--warmup N] [--blocks B]
                               --path NAME URL EXPECT REQUESTS ...
        Sequential GETs, one keep-alive connection per path, the paths
        interleaved in B blocks; every answer is checked as by `check`.
        Writes percentiles (ms) per path to FILE and prints them.
    bench_aggregate.py backend BACKEND_PY [ARG ...]
        Runs test/backends/backend.py with TCP_NODELAY on its connections:
        it writes a response's head and body in two sends, so without it
        Nagle's algorithm and the client's delayed ACK hold every body back
        for ~40 ms, which would swamp the 50 ms being measured.
    bench_aggregate.py threads --pid PID --seconds S --out FILE
        Samples the thread ids of PID and its children every 100 ms for S
        seconds; writes how many ids appeared that were not there at the
        start (threads or processes created during the run).
    bench_aggregate.py report --dir WORK --out results.json
                              [--target-p50 60] [--target-ratio 0.45]
                              [--strict]
        Reads WORK/meta.json, latency.json and runs.jsonl (wrk records from
        wrkparse.py with CPU ticks, backend connection counts and thread
        samples), prints the tables and verdicts, writes results.json.
        Exit 0, or 1 with --strict when a target is missed.
"""
import argparse
import http.client
import json
import os
import statistics
import sys
import time
from urllib.parse import urlsplit

# ---------------------------------------------------------------- checks


def load_expected(spec):
    """(exact_bytes or None, merged_object or None) for an EXPECT spec."""
    files = [f for f in spec.split(",") if f]
    if len(files) == 1:
        with open(files[0], "rb") as f:
            return f.read(), None
    merged = {}
    for name in files:
        with open(name, "rb") as f:
            doc = json.loads(f.read())
        if not isinstance(doc, dict):
            raise ValueError("%s does not hold a JSON object" % name)
        merged.update(doc)
    return None, merged


def verify(status, headers, body, exact, merged):
    """None when the answer is the expected one, else why not."""
    if status != 200:
        text = " ".join(body[:400].decode("utf-8", "replace").split())
        return "status %d (%s)" % (status, text[:160])
    if exact is not None and body != exact:
        return "body differs from the backend's file: %r" % body[:200]
    if merged is not None:
        try:
            doc = json.loads(body)
        except ValueError:
            return "body is not JSON: %r" % body[:200]
        if doc != merged:
            return "body is not the merge of the backends' objects: %r" % body[:300]
    if merged is not None:
        value = headers.get("X-Apigw-Completed")
        if value != "true":
            return "X-Apigw-Completed is %r, not \"true\"" % value
    return None


class Client:
    """One keep-alive HTTP/1.1 connection to one URL, reopened on failure.
    ready() opens it, or reopens it when it has been idle long enough for
    httpd's KeepAliveTimeout (15 s) to be near, so that the timed get()
    never races a server closing an idle connection; it is not retried."""

    IDLE_MAX = 5.0

    def __init__(self, url, timeout=10.0):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.target = parts.path + ("?" + parts.query if parts.query else "")
        self.timeout = timeout
        self.conn = None
        self.last = 0.0

    def ready(self):
        if self.conn is not None and time.monotonic() - self.last > self.IDLE_MAX:
            self.close()
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port,
                                                   timeout=self.timeout)
            self.conn.connect()

    def get(self):
        if self.conn is None:
            self.ready()
        try:
            self.conn.request("GET", self.target, headers={"Accept": "application/json"})
            resp = self.conn.getresponse()
            body = resp.read()
            self.last = time.monotonic()
            if resp.will_close:
                self.close()
            return resp.status, resp.headers, body
        except (OSError, http.client.HTTPException):
            self.close()
            raise

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def cmd_check(args):
    try:
        exact, merged = load_expected(args.expect)
        client = Client(args.url)
        status, headers, body = client.get()
        client.close()
    except (OSError, ValueError, http.client.HTTPException) as e:
        print("GET %s: %s" % (args.url, e), file=sys.stderr)
        return 1
    why = verify(status, headers, body, exact, merged)
    if why:
        print("GET %s: %s" % (args.url, why), file=sys.stderr)
        return 1
    return 0


# ---------------------------------------------------------------- latency


def percentile(sorted_values, q):
    """Nearest-rank percentile, q in 0..100."""
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1,
                   int(round(q / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def latency_summary(samples):
    s = sorted(samples)
    if not s:
        return {"n": 0}
    return {"n": len(s), "p50_ms": statistics.median(s), "p90_ms": percentile(s, 90),
            "p99_ms": percentile(s, 99), "mean_ms": statistics.fmean(s),
            "min_ms": s[0], "max_ms": s[-1]}


def cmd_latency(args):
    paths = []
    for name, url, expect, count in args.path:
        exact, merged = load_expected(expect)
        paths.append({"name": name, "url": url, "exact": exact, "merged": merged,
                      "count": int(count), "client": Client(url), "samples": [],
                      "errors": 0, "first_error": None})

    def one(p, record):
        try:
            p["client"].ready()
        except OSError as e:
            if record:
                p["errors"] += 1
                p["first_error"] = p["first_error"] or "connect: %s" % e
            return
        t0 = time.perf_counter()
        try:
            status, headers, body = p["client"].get()
            why = verify(status, headers, body, p["exact"], p["merged"])
        except (OSError, http.client.HTTPException) as e:
            why = "%s: %s" % (type(e).__name__, e)
        ms = (time.perf_counter() - t0) * 1e3
        if not record:
            return
        if why:
            p["errors"] += 1
            p["first_error"] = p["first_error"] or why
        else:
            p["samples"].append(ms)

    for p in paths:
        for _ in range(args.warmup):
            one(p, False)
    blocks = max(1, args.blocks)
    for b in range(blocks):
        order = paths if b % 2 == 0 else list(reversed(paths))
        for p in order:
            n = p["count"] // blocks + (1 if b < p["count"] % blocks else 0)
            for _ in range(n):
                one(p, True)
    out = {}
    for p in paths:
        p["client"].close()
        s = latency_summary(p["samples"])
        s.update({"url": p["url"], "errors": p["errors"], "first_error": p["first_error"]})
        out[p["name"]] = s
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=2, sort_keys=True)
    return 0


# ---------------------------------------------------------------- backend


def cmd_backend(args):
    import runpy
    import socketserver
    socketserver.StreamRequestHandler.disable_nagle_algorithm = True
    sys.argv = [args.script] + args.args
    runpy.run_path(args.script, run_name="__main__")
    return 0


# ---------------------------------------------------------------- threads


def pid_tree(root):
    """root and its direct children (httpd's parent and its child processes)."""
    pids = [root]
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == root:
            pids.append(int(name))
    return pids


def tids(pids):
    seen = set()
    for pid in pids:
        try:
            seen.update(int(t) for t in os.listdir("/proc/%d/task" % pid))
        except OSError:
            pass
    return seen


def cmd_threads(args):
    pids = pid_tree(args.pid)
    start = tids(pids)
    new = set()
    samples = 0
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        time.sleep(0.1)
        if samples % 10 == 9:      # a new child process: once a second
            pids = pid_tree(args.pid)
        new |= tids(pids) - start
        samples += 1
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"threads_at_start": len(start), "new_threads": len(new),
                   "samples": samples}, f)
    return 0


# ---------------------------------------------------------------- report

TPUT = ("pp", "one", "agg")
CONN_PER_REQ_MAX = 0.01


def load_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def per_req_us(ticks, clk_tck, requests):
    if ticks is None or not requests:
        return None
    return ticks / float(clk_tck) * 1e6 / requests


def summarize(runs):
    if not runs:
        return None
    rps = [r["rps"] for r in runs]
    return {
        "runs": len(runs),
        "median_rps": median(rps), "min_rps": min(rps), "max_rps": max(rps),
        "median_p50_ms": median(r["p50_ms"] for r in runs),
        "median_p99_ms": median(r["p99_ms"] for r in runs),
        "median_httpd_cpu_us_per_req": median(r["httpd_cpu_us_per_req"] for r in runs),
        "median_backend_cpu_us_per_req": median(r["backend_cpu_us_per_req"] for r in runs),
        "requests": sum(r["requests"] for r in runs),
        "backend_requests": sum(r["requests"] * r["backend_calls"] for r in runs),
        "backend_connections_opened": sum(max(r["conn_opened"], 0) for r in runs),
        "backend_connections_opened_per_round": [r["conn_opened"] for r in runs],
        "backend_connections_established": [r["established_after"] for r in runs],
        "backend_b_connections_established": [r.get("established_after_b") for r in runs],
        "new_threads": sum(r.get("new_threads", 0) for r in runs),
        "non2xx": sum(r.get("non2xx", 0) for r in runs),
        "socket_errors": sum(r.get("socket_errors", 0) for r in runs),
    }


def paired(runs, num, den, field="rps"):
    by_round = {}
    for r in runs:
        by_round.setdefault(r["round"], {})[r["path"]] = r.get(field)
    return [v[num] / v[den] for _, v in sorted(by_round.items())
            if v.get(num) is not None and v.get(den)]


def fmt(value, spec, missing="-"):
    return missing if value is None else format(value, spec)


def verdict(ok):
    return "PASS" if ok else "FAIL"


def report_latency(meta, lat, target):
    print()
    print("Latency: %d backends each answering after %d ms (backend.py), sequential "
          "GETs on one keep-alive connection, %d warm-up requests per path, paths "
          "interleaved in %d blocks"
          % (meta["latency_backends"], meta["latency_delay_ms"],
             meta["latency_warmup"], meta["latency_blocks"]))
    print("  %-44s %6s %8s %8s %8s %8s %7s"
          % ("path", "n", "p50 ms", "p90 ms", "p99 ms", "mean ms", "errors"))
    for key in meta["latency_order"]:
        s = lat.get(key)
        if not s:
            continue
        print("  %-44s %6d %8s %8s %8s %8s %7d"
              % (meta["latency_labels"][key], s["n"], fmt(s.get("p50_ms"), ".2f"),
                 fmt(s.get("p90_ms"), ".2f"), fmt(s.get("p99_ms"), ".2f"),
                 fmt(s.get("mean_ms"), ".2f"), s["errors"]))
        if s.get("first_error"):
            print("    first error: %s" % s["first_error"])
    for note in meta.get("latency_notes", []):
        print("  note: " + note)
    agg = lat.get("agg", {})
    p50 = agg.get("p50_ms")
    ok = p50 is not None and p50 <= target and agg.get("errors", 1) == 0
    return p50, ok


def report_throughput(meta, summary):
    print()
    print("Throughput: %d rounds x %ss per path, wrk -t1 -c%d, alternating order, "
          "%ss warm-up per path; medians"
          % (meta["rounds"], meta["duration"], meta["connections"], meta["warmup"]))
    print("  %-4s %-40s %8s %15s %7s %7s %10s %10s"
          % ("", "path", "req/s", "(min-max)", "p50 ms", "p99 ms", "httpd CPU",
             "backend CPU"))
    for key in TPUT:
        s = summary.get(key)
        if not s:
            continue
        print("  %-4s %-40s %8.0f %15s %7.2f %7.2f %7s us %8s us"
              % (key, meta["labels"][key], s["median_rps"],
                 "(%.0f-%.0f)" % (s["min_rps"], s["max_rps"]),
                 s["median_p50_ms"], s["median_p99_ms"],
                 fmt(s["median_httpd_cpu_us_per_req"], ".0f"),
                 fmt(s["median_backend_cpu_us_per_req"], ".0f")))
    print("  (CPU per client request: httpd = the gateway, backend = nginx; the "
          "aggregated path makes %d backend requests per client request)"
          % meta["agg_backend_calls"])


def report_connections(meta, summary):
    print()
    print("Backend connections during the measured runs (after warm-up). opened: "
          "nginx's connection counter ($connection) read before and after each run; "
          "open: established to both backend ports after each run (every path's "
          "pool; the second port only the aggregated path uses); new threads: "
          "thread ids in httpd sampled every 100 ms")
    print("  %-4s %13s %7s %18s %22s %12s"
          % ("", "backend reqs", "opened", "opened per round", "open after each run",
             "new threads"))
    for key in TPUT:
        s = summary.get(key)
        if not s:
            continue
        print("  %-4s %13d %7d %18s %22s %12d"
              % (key, s["backend_requests"], s["backend_connections_opened"],
                 " ".join(str(x) for x in s["backend_connections_opened_per_round"]),
                 " ".join(str(x) for x in s["backend_connections_established"]),
                 s["new_threads"]))
    agg = summary["agg"]
    per_req = agg["backend_connections_opened"] / float(max(agg["backend_requests"], 1))
    # A connection set up per request would be 1.0 here. Once warm the
    # pools only grow when a run spreads its client connections over the
    # httpd children differently than the runs before it did.
    ok = per_req < CONN_PER_REQ_MAX and agg["new_threads"] == 0
    return per_req, ok


def cmd_report(args):
    with open(os.path.join(args.dir, "meta.json"), encoding="utf-8") as f:
        meta = json.load(f)
    lat = {}
    if os.path.exists(os.path.join(args.dir, "latency.json")):
        with open(os.path.join(args.dir, "latency.json"), encoding="utf-8") as f:
            lat = json.load(f)
    runs = load_jsonl(os.path.join(args.dir, "runs.jsonl"))
    for r in runs:
        r["httpd_cpu_us_per_req"] = per_req_us(r.get("httpd_cpu_ticks"), r["clk_tck"],
                                                r["requests"])
        r["backend_cpu_us_per_req"] = per_req_us(r.get("backend_cpu_ticks"),
                                                  r["clk_tck"], r["requests"])
    summary = {p: summarize([r for r in runs if r["path"] == p]) for p in TPUT}
    if not all(summary.values()):
        print("report: runs are missing for some of %s in %s" % (", ".join(TPUT), args.dir),
              file=sys.stderr)
        return 1

    lat_p50, lat_ok = report_latency(meta, lat, args.target_p50)
    report_throughput(meta, summary)
    agg_one = paired(runs, "agg", "one")
    agg_pp = paired(runs, "agg", "pp")
    cpu_one_agg = paired(runs, "one", "agg", "httpd_cpu_us_per_req")
    ratio_pp_cpu = median(paired(runs, "pp", "agg", "httpd_cpu_us_per_req"))
    ratio = median(agg_one)
    ratio_pp = median(agg_pp)
    ratio_cpu = median(cpu_one_agg)
    of_medians = summary["agg"]["median_rps"] / summary["one"]["median_rps"]
    print("  per-round agg/one: " + " ".join("%.3f" % x for x in agg_one))
    print("  per-round agg/pp:  " + " ".join("%.3f" % x for x in agg_pp))
    conn_per_req, conn_ok = report_connections(meta, summary)
    errors = sum(s["non2xx"] + s["socket_errors"] for s in summary.values())
    tput_ok = ratio is not None and ratio >= args.target_ratio
    spread = (max(agg_one) - min(agg_one)) if agg_one else 0.0

    results = {
        "meta": meta,
        "targets": {"latency_p50_ms": args.target_p50, "ratio_agg_one": args.target_ratio},
        "latency": lat,
        "latency_verdict": verdict(lat_ok),
        "throughput": summary,
        "ratio_agg_one": ratio,
        "ratio_agg_one_of_medians": of_medians,
        "ratio_agg_one_per_round": agg_one,
        "ratio_agg_one_by_cpu": ratio_cpu,
        "ratio_agg_pp": ratio_pp,
        "noisy": len(agg_one) > 1 and spread > 0.2,
        "ratio_agg_one_spread": spread,
        "ratio_agg_pp_per_round": agg_pp,
        "ratio_agg_pp_by_cpu": ratio_pp_cpu,
        "throughput_verdict": verdict(tput_ok),
        "backend_connections_opened_per_backend_request": conn_per_req,
        "connections_verdict": verdict(conn_ok),
        "errors": errors,
        "runs": runs,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, args.out)

    print()
    print("Summary (one run, load average %s at start, %s at end, %s CPUs; other "
          "people's jobs share this machine, hence medians and paired rounds)"
          % (" ".join(meta.get("loadavg_start", [])), " ".join(meta.get("loadavg_end", [])),
             meta.get("nproc")))
    if errors:
        print("WARNING: %d non-2xx responses or socket errors during the wrk runs; "
              "see the raw wrk reports" % errors)
    direct = lat.get("direct", {}).get("p50_ms")
    seq = lat.get("seq", {}).get("p50_ms")
    print("latency: aggregated p50 %s ms over 3 x %d ms backends (p90 %s, p99 %s) "
          "-> %s (target p50 <= %g ms)  [one backend directly %s ms, so the gateway "
          "adds %s ms; sequential %s ms]"
          % (fmt(lat_p50, ".2f"), meta["latency_delay_ms"],
             fmt(lat.get("agg", {}).get("p90_ms"), ".2f"),
             fmt(lat.get("agg", {}).get("p99_ms"), ".2f"), verdict(lat_ok), args.target_p50,
             fmt(direct, ".2f"),
             fmt(lat_p50 - direct if lat_p50 is not None and direct is not None else None,
                 ".2f"),
             fmt(seq, ".1f")))
    print("throughput: aggregated/pass-through %s -> %s (target >= %.2f)  [median of %d "
          "paired rounds, spread %.2f; ratio of medians %.3f; by httpd CPU per request %s]"
          % (fmt(ratio, ".3f"), verdict(tput_ok), args.target_ratio, len(agg_one), spread,
             of_medians, fmt(ratio_cpu, ".3f")))
    print("throughput: aggregated/mod_proxy %s, by httpd CPU per request %s  (aggregated "
          "%.0f req/s, pass-through %.0f, mod_proxy %.0f)"
          % (fmt(ratio_pp, ".3f"), fmt(ratio_pp_cpu, ".3f"), summary["agg"]["median_rps"],
             summary["one"]["median_rps"], summary["pp"]["median_rps"]))
    open_b = [x for x in summary["agg"]["backend_b_connections_established"] if x is not None]
    if len(agg_one) > 1 and spread > 0.2:
        print("NOISY: per-round agg/one spans %.2f-%.2f; other jobs took CPU during some "
              "runs. The ratio by httpd CPU per request (%s) does not depend on how busy "
              "the machine is; more rounds (--rounds 9) narrow the median"
              % (min(agg_one), max(agg_one), fmt(ratio_cpu, ".3f")))
    print("connections: aggregated path opened %d backend connections for %d backend "
          "requests (%.5f per request, target < %g; %s kept open to its second "
          "backend), %d new httpd threads -> %s"
          % (summary["agg"]["backend_connections_opened"], summary["agg"]["backend_requests"],
             conn_per_req, CONN_PER_REQ_MAX, (max(open_b) if open_b else "-"),
             summary["agg"]["new_threads"], verdict(conn_ok)))
    print("results: %s" % args.out)
    failed = not (lat_ok and tput_ok and conn_ok)
    return 1 if (args.strict and failed) else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("url")
    c.add_argument("expect")
    c.set_defaults(func=cmd_check)
    l = sub.add_parser("latency")
    l.add_argument("--out", required=True)
    l.add_argument("--warmup", type=int, default=20)
    l.add_argument("--blocks", type=int, default=5)
    l.add_argument("--path", nargs=4, action="append", required=True,
                   metavar=("NAME", "URL", "EXPECT", "REQUESTS"))
    l.set_defaults(func=cmd_latency)
    b = sub.add_parser("backend")
    b.add_argument("script")
    b.add_argument("args", nargs=argparse.REMAINDER)
    b.set_defaults(func=cmd_backend)
    t = sub.add_parser("threads")
    t.add_argument("--pid", type=int, required=True)
    t.add_argument("--seconds", type=float, required=True)
    t.add_argument("--out", required=True)
    t.set_defaults(func=cmd_threads)
    r = sub.add_parser("report")
    r.add_argument("--dir", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--target-p50", type=float, default=60.0)
    r.add_argument("--target-ratio", type=float, default=0.45)
    r.add_argument("--strict", action="store_true")
    r.set_defaults(func=cmd_report)
    args = ap.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

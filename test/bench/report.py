#!/usr/bin/python3
"""Owns the numbers test/bench/run.sh reports: reads the per-run records it
collected (one JSON object per wrk run, from wrkparse.py plus CPU ticks),
prints the tables and the closing summary lines, and writes results.json.

    report.py --dir WORKDIR --out results.json [--target 0.97] [--strict]

WORKDIR holds meta.json, runs.jsonl and, after --sweep, sweep.jsonl.
Medians everywhere: the machine is noisy, and the runs alternate so each
path sees the same drift. The b/a verdict uses the median of the per-round
ratios (a and b measured back to back); the ratio of the medians is shown
beside it. Exit status: 0, or 1 with --strict when the verdict is FAIL."""
import argparse
import json
import os
import statistics
import sys

PATHS = ("a", "b", "np")


def load_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def cpu_us_per_request(run):
    ticks = run.get("server_cpu_ticks")
    if ticks is None or not run.get("requests"):
        return None
    return ticks / float(run["clk_tck"]) * 1e6 / run["requests"]


def summarize(runs):
    if not runs:
        return None
    rps = [r["rps"] for r in runs]
    return {
        "runs": len(runs),
        "median_rps": median(rps),
        "min_rps": min(rps),
        "max_rps": max(rps),
        "median_p50_ms": median(r["p50_ms"] for r in runs),
        "median_p99_ms": median(r["p99_ms"] for r in runs),
        "median_cpu_us_per_req": median(r.get("cpu_us_per_req") for r in runs),
        "non2xx": sum(r.get("non2xx", 0) for r in runs),
        "socket_errors": sum(r.get("socket_errors", 0) for r in runs),
    }


def paired_ratios(runs, num, den, field="rps"):
    by_round = {}
    for r in runs:
        by_round.setdefault(r["round"], {})[r["path"]] = r.get(field)
    return [v[num] / v[den] for _, v in sorted(by_round.items())
            if v.get(num) is not None and v.get(den)]


def fmt(value, spec, missing="-"):
    return missing if value is None else format(value, spec)


def print_path_table(meta, summary):
    print()
    print("%d rounds x %ss per path, wrk -t1 -c%d, alternating order; medians"
          % (meta["rounds"], meta["duration"], meta["connections"]))
    print("%-4s %-32s %9s %17s %8s %8s %11s %7s"
          % ("", "path", "req/s", "(min-max)", "p50 ms", "p99 ms",
             "CPU us/req", "errors"))
    for key in PATHS:
        s = summary.get(key)
        if not s:
            continue
        print("%-4s %-32s %9.0f %17s %8.2f %8.2f %11s %7d"
              % (key, meta["labels"][key], s["median_rps"],
                 "(%.0f-%.0f)" % (s["min_rps"], s["max_rps"]),
                 s["median_p50_ms"], s["median_p99_ms"],
                 fmt(s["median_cpu_us_per_req"], ".1f"),
                 s["non2xx"] + s["socket_errors"]))


def print_sweep_table(meta, sweep, np_rps):
    print()
    print("MPM sweep for path b (%s), %d rounds x %ss per layout, medians"
          % (meta["labels"]["b"], meta.get("sweep_rounds", meta["rounds"]),
             meta["duration"]))
    print("%-16s %9s %17s %8s %8s %11s %10s %7s"
          % ("layout", "req/s", "(min-max)", "p50 ms", "p99 ms", "CPU us/req",
             "x nginx", "errors"))
    for layout in meta.get("sweep_layouts", []):
        s = sweep.get(layout)
        if not s:
            print("%-16s %9s" % (layout, "no data"))
            continue
        xn = s["median_rps"] / np_rps if np_rps else None
        print("%-16s %9.0f %17s %8.2f %8.2f %11s %10s %7d"
              % (layout, s["median_rps"],
                 "(%.0f-%.0f)" % (s["min_rps"], s["max_rps"]),
                 s["median_p50_ms"], s["median_p99_ms"],
                 fmt(s["median_cpu_us_per_req"], ".1f"),
                 fmt(xn, ".2f") + ("x" if xn is not None else ""),
                 s["non2xx"] + s["socket_errors"]))
    for note in meta.get("sweep_notes", []):
        print("  note: " + note)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--target", type=float, default=0.97)
    ap.add_argument("--strict", action="store_true")
    args = ap.parse_args()

    with open(os.path.join(args.dir, "meta.json"), encoding="utf-8") as f:
        meta = json.load(f)
    runs = load_jsonl(os.path.join(args.dir, "runs.jsonl"))
    sweep_runs = load_jsonl(os.path.join(args.dir, "sweep.jsonl"))
    for r in runs + sweep_runs:
        r["cpu_us_per_req"] = cpu_us_per_request(r)

    summary = {p: summarize([r for r in runs if r["path"] == p]) for p in PATHS}
    if not summary["a"] or not summary["b"]:
        print("report: no runs for paths a and b in %s" % args.dir, file=sys.stderr)
        return 1
    ba = paired_ratios(runs, "b", "a")
    bn = paired_ratios(runs, "b", "np")
    ratio = median(ba)
    # CPU per request of a over b: the throughput ratio a CPU-bound httpd
    # would show, much less disturbed by other load on the machine
    cpu_ratio = median(paired_ratios(runs, "a", "b", "cpu_us_per_req"))
    spread = (max(ba) - min(ba)) if ba else 0.0
    noisy = len(ba) > 1 and spread > 0.10
    ratio_of_medians = summary["b"]["median_rps"] / summary["a"]["median_rps"]
    np_rps = summary["np"]["median_rps"] if summary.get("np") else None
    vs_nginx = median(bn)
    passed = ratio is not None and ratio >= args.target
    errors = sum(s["non2xx"] + s["socket_errors"] for s in summary.values() if s)

    sweep = {}
    for layout in meta.get("sweep_layouts", []):
        sweep[layout] = summarize([r for r in sweep_runs if r.get("layout") == layout])

    print_path_table(meta, summary)
    print("per-round b/a: " + " ".join("%.3f" % x for x in ba))
    print("per-round CPU a/b: " + " ".join(
        "%.3f" % x for x in paired_ratios(runs, "a", "b", "cpu_us_per_req")))
    if sweep_runs:
        print_sweep_table(meta, sweep, np_rps)

    results = {
        "meta": meta,
        "target": args.target,
        "summary": summary,
        "ratio_apigw_modproxy": ratio,
        "ratio_apigw_modproxy_of_medians": ratio_of_medians,
        "ratio_apigw_modproxy_per_round": ba,
        "verdict": "PASS" if passed else "FAIL",
        "ratio_apigw_modproxy_by_cpu": cpu_ratio,
        "ratio_apigw_modproxy_spread": spread,
        "noisy": noisy,
        "ratio_apigw_nginx_proxy": vs_nginx,
        "ratio_apigw_nginx_proxy_of_medians":
            summary["b"]["median_rps"] / np_rps if np_rps else None,
        "ratio_apigw_nginx_proxy_per_round": bn,
        "cpu_us_per_req": {p: summary[p]["median_cpu_us_per_req"]
                           for p in PATHS if summary.get(p)},
        "errors": errors,
        "runs": runs,
        "sweep": sweep if sweep_runs else None,
        "sweep_runs": sweep_runs,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, args.out)

    print()
    if errors:
        print("WARNING: %d non-2xx responses or socket errors during the runs; "
              "see the raw wrk reports" % errors)
    print("ratio apigw/mod_proxy: %.3f (%s >= %.2f)  [median of %d paired "
          "rounds; ratio of medians %.3f]"
          % (ratio, "PASS" if passed else "FAIL", args.target, len(ba),
             ratio_of_medians))
    if noisy:
        print("NOISY: per-round b/a spans %.2f-%.2f (load average %s at start); "
              "a 0.03 difference is not resolved in this run: use more rounds "
              "or a quieter machine, and see the CPU-based ratio"
              % (min(ba), max(ba), " ".join(meta.get("loadavg_start", []))))
    if cpu_ratio is not None:
        print("ratio apigw/mod_proxy by CPU per request: %.3f" % cpu_ratio)
    if vs_nginx is not None:
        print("apigw vs nginx proxy: %.2fx" % vs_nginx)
    print("CPU/request: mod_proxy %s us, apigw %s us%s"
          % (fmt(summary["a"]["median_cpu_us_per_req"], ".0f"),
             fmt(summary["b"]["median_cpu_us_per_req"], ".0f"),
             (", nginx proxy %s us" % fmt(summary["np"]["median_cpu_us_per_req"], ".0f"))
             if summary.get("np") else ""))
    print("results: %s" % args.out)
    return 1 if (args.strict and not passed) else 0


if __name__ == "__main__":
    sys.exit(main())

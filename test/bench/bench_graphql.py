#!/usr/bin/python3
"""Owns the client side of test/bench/bench_graphql.sh: registering routes
through the admin API's GraphQL resource, timing `routes` queries, polling
as the console does, and the report.

    bench_graphql.py register --base URL --routes N --backend HOST:PORT --out F
    bench_graphql.py query --base URL --queries N --expect N --out F
    bench_graphql.py poll --base URL --out F          (until SIGTERM)
    bench_graphql.py report --work DIR --out F [--strict]
"""
import argparse
import json
import signal
import statistics
import sys
import time

import requests

REGISTER = """mutation RegisterRoute($input: RegisterRouteInput!) {
  registerRoute(input: $input) { id path targetUrl methods enabled environment }
}"""

ROUTE_FIELDS = """id environment path targetUrl methods enabled createdAt
updatedAt cors { allowOrigins allowMethods allowHeaders exposeHeaders
allowCredentials maxAgeSeconds } rateLimit { average period burst by }
requestHeaders { action name value } responseHeaders { action name value }
pathRewrite { type value replacement } queryPolicy { mode names }
bodyLimits { requestBytes responseBytes } timeoutSeconds
circuitBreaker { preset expression checkSeconds fallbackSeconds
recoverySeconds } cacheTtlSeconds"""

ROUTES = "query Routes($env: String!) { routes(environment: $env) { %s } }" \
    % ROUTE_FIELDS

# what the console's operations view and dashboard ask each second
OPERATIONS = """{ operations { time pools { name lbmethod members { pool name
state suspendedSince suspendedUntil reason suspensions retries } }
breakers { id section backend expression state since trips window {
requests networkErrors status5xx status4xx } } rateLimits { section policy
admitted rejected delayed } } environments { name } }"""
DASHBOARD = "query Dash($env: String!) { routes(environment: $env) " \
    "{ id path targetUrl methods enabled } }"

TARGETS = {"register_s": 10.0, "query_median_ms": 50.0, "polled_ratio": 0.97}


def gql(session, base, query, variables=None):
    r = session.post(base + "/admin/graphql", json={
        "query": query, "variables": variables or {}}, timeout=30)
    r.raise_for_status()
    doc = r.json()
    if doc.get("errors"):
        raise SystemExit("GraphQL errors: %s" % doc["errors"][:3])
    return doc["data"]


def cmd_register(a):
    s = requests.Session()
    t0 = time.perf_counter()
    for i in range(a.routes):
        gql(s, a.base, REGISTER, {"input": {
            "environment": "default",
            "path": "/bench/r%d/{id}" % i,
            "targetUrl": "http://%s/items/{id}" % a.backend,
            "methods": ["GET"],
            "cors": {"allowOrigins": ["https://app.example"]},
            "rateLimit": {"average": 1000, "period": "1s", "burst": 50},
            "requestHeaders": [{"action": "set", "name": "X-Route",
                                "value": "r%d" % i}],
            "timeoutSeconds": 10}})
    took = time.perf_counter() - t0
    json.dump({"routes": a.routes, "seconds": took}, open(a.out, "w"))
    print("bench-graphql: registered %d routes in %.2f s (%.1f ms each)"
          % (a.routes, took, took * 1e3 / a.routes), file=sys.stderr)


def cmd_query(a):
    s = requests.Session()
    times = []
    for i in range(a.queries + 3):
        t0 = time.perf_counter()
        data = gql(s, a.base, ROUTES, {"env": "default"})
        dt = (time.perf_counter() - t0) * 1e3
        if len(data["routes"]) != a.expect:
            raise SystemExit("routes answered %d routes, not %d"
                             % (len(data["routes"]), a.expect))
        if i >= 3:                      # the first answers warm the child
            times.append(dt)
    times.sort()
    doc = {"median_ms": statistics.median(times),
           "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))],
           "queries": len(times), "routes": a.expect}
    json.dump(doc, open(a.out, "w"))
    print("bench-graphql: routes query over %d routes: median %.1f ms, "
          "p99 %.1f ms" % (a.expect, doc["median_ms"], doc["p99_ms"]),
          file=sys.stderr)


def cmd_poll(a):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    s = requests.Session()
    polls = 0
    nxt = time.monotonic()
    while not stop:
        gql(s, a.base, OPERATIONS)
        gql(s, a.base, DASHBOARD, {"env": "default"})
        polls += 1
        nxt += 1.0
        while not stop and time.monotonic() < nxt:
            time.sleep(0.05)
    json.dump({"polls": polls}, open(a.out, "w"))


def cmd_report(a):
    reg = json.load(open(a.work + "/register.json"))
    q = json.load(open(a.work + "/query.json"))
    runs = [json.loads(l) for l in open(a.work + "/runs.jsonl") if l.strip()]
    by = {}
    for r in runs:
        by.setdefault(r["round"], {})[r["path"]] = r
    ratios = [v["polled"]["rps"] / v["idle"]["rps"] for v in by.values()
              if "polled" in v and "idle" in v and v["idle"]["rps"] > 0]
    errors = sum(r["non2xx"] + r["socket_errors"] for r in runs)
    figures = {
        "register_s": reg["seconds"],
        "query_median_ms": q["median_ms"],
        "query_p99_ms": q["p99_ms"],
        "polled_ratio": statistics.median(ratios) if ratios else 0.0,
        "polled_ratios": ratios,
        "wrk_errors": errors,
    }
    ok = {
        "register_s": figures["register_s"] <= TARGETS["register_s"],
        "query_median_ms":
            figures["query_median_ms"] <= TARGETS["query_median_ms"],
        "polled_ratio": figures["polled_ratio"] >= TARGETS["polled_ratio"],
    }
    json.dump({"figures": figures, "targets": TARGETS, "ok": ok},
              open(a.out, "w"), indent=2)
    print("bench-graphql: 1  %d routes registered one by one: %.2f s "
          "(target <= %.0f s) %s" % (reg["routes"], figures["register_s"],
          TARGETS["register_s"], "ok" if ok["register_s"] else "FAIL"))
    print("bench-graphql: 2  routes query over %d routes: median %.1f ms, "
          "p99 %.1f ms (target median <= %.0f ms) %s"
          % (q["routes"], figures["query_median_ms"], figures["query_p99_ms"],
             TARGETS["query_median_ms"],
             "ok" if ok["query_median_ms"] else "FAIL"))
    print("bench-graphql: 3  throughput with a console polling / idle: "
          "median %.3f of %d pairs [%s] (target >= %.2f) %s"
          % (figures["polled_ratio"], len(ratios),
             " ".join("%.3f" % r for r in ratios), TARGETS["polled_ratio"],
             "ok" if ok["polled_ratio"] else "FAIL"))
    if errors:
        print("bench-graphql: %d wrk errors (non-2xx or socket)" % errors)
    if a.strict and not all(ok.values()):
        return 1
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("register")
    p.add_argument("--base", required=True)
    p.add_argument("--routes", type=int, required=True)
    p.add_argument("--backend", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("query")
    p.add_argument("--base", required=True)
    p.add_argument("--queries", type=int, required=True)
    p.add_argument("--expect", type=int, required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("poll")
    p.add_argument("--base", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("report")
    p.add_argument("--work", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--strict", action="store_true")
    a = ap.parse_args()
    return {"register": cmd_register, "query": cmd_query, "poll": cmd_poll,
            "report": cmd_report}[a.cmd](a) or 0


if __name__ == "__main__":
    sys.exit(main())

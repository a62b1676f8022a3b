#!/usr/bin/python3
"""Owns the client side of the runtime-routes benchmark
(test/bench/bench_routes.sh): registering routes through the admin API,
measuring how fast a write reaches every child (and another gateway), the
steady stream of writes of the churn figure, a gateway's first answer on
a route after its start, and the report.

    bench_routes.py envs     --admin HOST:PORT NAME...
    bench_routes.py register --admin HOST:PORT --env E --shape S --count N
                             --backend PORT [--conns C] [--ids FILE]
    bench_routes.py served   --url URL [--timeout S]
    bench_routes.py propagate --admin HOST:PORT --probe HOST:PORT --env E
                             --writes N --log FILE --pids "P1 P2" ...
    bench_routes.py churn    --admin HOST:PORT --ids FILE --rate R
                             --seconds S --backends P1,P2 --out FILE
    bench_routes.py first200 --url URL --since NS [--timeout S]
    bench_routes.py report   --work DIR --out results.json

Every request is plain HTTP/1.1 on 127.0.0.1 through raw sockets or
http.client (nothing to install). Each subcommand prints one JSON object
on stdout (report prints the tables and the summary block)."""
import argparse
import http.client
import json
import os
import queue
import random
import socket
import statistics
import subprocess
import sys
import threading
import time

JSON_HDR = {"Content-Type": "application/json"}
MEASURED = "/api/v1/items/{id}"      # the route every throughput figure uses


def hostport(text):
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


def pct(values, q):
    """The q-th percentile (nearest rank) of values, or None."""
    if not values:
        return None
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(q / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


# ---- a keep-alive admin client ----

class Admin:
    def __init__(self, addr, timeout=30):
        self.host, self.port = hostport(addr)
        self.timeout = timeout
        self.conn = None

    def request(self, method, path, body=None):
        """(status, parsed JSON or text); one retry on a dropped
        keep-alive connection."""
        data = json.dumps(body) if body is not None else None
        headers = dict(JSON_HDR) if body is not None else {}
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port,
                                                       timeout=self.timeout)
            try:
                self.conn.request(method, "/admin" + path, body=data,
                                  headers=headers)
                resp = self.conn.getresponse()
                text = resp.read().decode("utf-8", "replace")
                if resp.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                try:
                    return resp.status, json.loads(text)
                except ValueError:
                    return resp.status, text
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise RuntimeError("unreachable")


# ---- a one-shot GET on a new connection ----

def get_once(host, port, path, extra=b"", timeout=5.0):
    """GET on a new connection; the status (0 when refused or cut)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((host, port))
        s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: "
                  + ("%s:%d" % (host, port)).encode()
                  + b"\r\nConnection: close\r\n" + extra + b"\r\n")
        buf = b""
        while b"\r\n" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                return 0
            buf += chunk
        # read to the end: the request is over (and logged) once the
        # server closes
        while s.recv(65536):
            pass
        parts = buf.split(b" ", 2)
        return int(parts[1]) if len(parts) > 1 else 0
    except OSError:
        return 0
    finally:
        s.close()


# ---- envs ----

def cmd_envs(a):
    adm = Admin(a.admin)
    out = {}
    for name in a.names:
        st, doc = adm.request("POST", "/environments", {"name": name})
        if st not in (201, 409):
            print("envs: POST environments %s: %d %s" % (name, st, doc),
                  file=sys.stderr)
            return 1
        out[name] = st
    print(json.dumps(out))
    return 0


# ---- register ----

def route_paths(shape, count):
    """The paths of an environment of count routes; the measured route
    first. varied (and small): /svc{i%500}/v{i%3}/items{i}/{id}, spread
    over the shards; prefix: /api/v1/items/{id}/f{i}, every one with the
    measured route's leading static text (the shard key: up to four
    leading static segments, here api/v1/items), so all in its shard and
    its trie: the sharding's worst case."""
    paths = [MEASURED]
    for i in range(1, count):
        if shape == "prefix":
            paths.append("/api/v1/items/{id}/f%d" % i)
        else:
            paths.append("/svc%d/v%d/items%d/{id}" % (i % 500, i % 3, i))
    return paths


def cmd_register(a):
    paths = route_paths(a.shape, a.count)
    target = "http://127.0.0.1:%d/items/{id}" % a.backend
    todo = queue.Queue()
    for p in paths:
        todo.put(p)
    ids, errors, lock = {}, [], threading.Lock()

    def worker():
        adm = Admin(a.admin)
        while True:
            try:
                p = todo.get_nowait()
            except queue.Empty:
                return
            body = {"path": p, "targetUrl": target, "methods": ["GET"],
                    "environment": a.env}
            try:
                st, doc = adm.request("POST", "/routes", body)
            except Exception as e:       # noqa: BLE001 (reported)
                st, doc = 0, str(e)
            with lock:
                if st == 201:
                    ids[p] = doc["id"]
                else:
                    errors.append("%s: %s %s" % (p, st, str(doc)[:200]))

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(a.conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.monotonic() - t0
    if a.ids:
        with open(a.ids, "w") as f:
            json.dump({"measured": ids.get(MEASURED), "paths": ids}, f)
    print(json.dumps({"env": a.env, "shape": a.shape, "count": a.count,
                      "registered": len(ids), "seconds": round(secs, 3),
                      "per_second": round(len(ids) / secs, 1) if secs else None,
                      "errors": len(errors), "first_errors": errors[:5],
                      "last_path": paths[-1]}))
    return 0 if not errors else 1


# ---- served: until a URL answers 200 ----

def cmd_served(a):
    host, port, path = split_url(a.url)
    t0 = time.monotonic()
    st = 0
    while time.monotonic() - t0 < a.timeout:
        st = get_once(host, port, path)
        if st == 200:
            print(json.dumps({"url": a.url, "seconds":
                              round(time.monotonic() - t0, 3)}))
            return 0
        time.sleep(0.01)
    print(json.dumps({"url": a.url, "status": st, "timeout": a.timeout}))
    return 1


def split_url(url):
    rest = url.split("://", 1)[1]
    hp, _, path = rest.partition("/")
    host, port = hostport(hp)
    return host, port, "/" + path


# ---- first200: a gateway's first answer after its start ----

def cmd_first200(a):
    host, port, path = split_url(a.url)
    child = None
    if a.exec_:
        # the clock starts at the exec of the server (this poller is
        # already running: its own start is not counted)
        out = open(a.exec_out or os.devnull, "w")
        a.since = time.time_ns()
        child = subprocess.Popen(a.exec_, stdout=out, stderr=subprocess.STDOUT,
                                 start_new_session=True)
    deadline = time.time() + a.timeout
    tries = 0
    while time.time() < deadline:
        tries += 1
        st = get_once(host, port, path, timeout=2.0)
        if st == 200:
            ms = (time.time_ns() - a.since) / 1e6
            print(json.dumps({"ms": round(ms, 1), "tries": tries,
                              "pid": child.pid if child else None}))
            return 0
        if child and child.poll() is not None:
            break
        time.sleep(0.001)
    print(json.dumps({"ms": None, "tries": tries,
                      "pid": child.pid if child else None}))
    return 1


# ---- propagate: from a write's 201 to a 200 in every child ----

class ProbeLog:
    """Follows the gateway's probe log ("PID PROBE-ID STATUS" lines)."""

    def __init__(self, path):
        self.f = open(path, "r")
        self.f.seek(0, os.SEEK_END)
        self.buf = ""
        self.seen = {}                   # probe id -> (pid, status)

    def poll(self):
        chunk = self.f.read()
        if not chunk:
            return
        self.buf += chunk
        lines = self.buf.split("\n")
        self.buf = lines.pop()
        for line in lines:
            parts = line.split()
            if len(parts) == 3:
                self.seen[parts[1]] = (parts[0], parts[2])


def propagate_one(a, adm, log, pids, n, tag, target):
    """Registers one route; returns (ms to a 200 in every child or None,
    {pid: ms}, write ms)."""
    if a.shape == "prefix":              # the measured route's shard
        path = "/api/v1/items/{id}/p%s%d" % (tag, n)
    else:                                # one of the 256 shards
        path = "/prop%s%d/v1/items/{id}" % (tag, n)
    probe_path = path.replace("{id}", "1")
    host, port = hostport(a.probe)
    results = []                         # (probe id, t_recv, status)
    lock = threading.Lock()
    stop = threading.Event()
    t_ack = [None]
    started = threading.Event()

    def prober(k):
        seq = 0
        started.wait()
        while not stop.is_set():
            seq += 1
            pid = "%s-%d-%d-%d" % (tag, n, k, seq)
            st = get_once(host, port, probe_path,
                          b"X-Probe: " + pid.encode() + b"\r\n")
            with lock:
                results.append((pid, time.monotonic(), st))
            if a.probe_gap:
                time.sleep(a.probe_gap / 1000.0)

    threads = [threading.Thread(target=prober, args=(k,))
               for k in range(a.probers)]
    for t in threads:
        t.start()
    body = {"path": path, "targetUrl": target, "methods": ["GET"],
            "environment": a.env}
    t_send = time.monotonic()
    st, doc = adm.request("POST", "/routes", body)
    t_ack[0] = time.monotonic()
    started.set()
    if st != 201:
        stop.set()
        for t in threads:
            t.join()
        raise RuntimeError("POST routes %s: %d %s" % (path, st, doc))
    first = {}
    deadline = t_ack[0] + a.timeout
    while time.monotonic() < deadline:
        time.sleep(0.001)
        log.poll()
        with lock:
            snapshot = list(results)
        for pid_, t_recv, status in snapshot:
            if status != 200:
                continue
            got = log.seen.get(pid_)
            if not got:
                continue
            child = got[0]
            if child not in first or t_recv < first[child]:
                first[child] = t_recv
        if all(p in first for p in pids):
            break
    stop.set()
    for t in threads:
        t.join()
    # late log lines for what was received
    time.sleep(0.01)
    log.poll()
    per_child = {c: round((t - t_ack[0]) * 1000, 2) for c, t in first.items()}
    done = all(p in first for p in pids)
    overall = max(per_child[p] for p in pids) if done else None
    return overall, per_child, (t_ack[0] - t_send) * 1000, len(results), \
        t_ack[0]


def cmd_propagate(a):
    adm = Admin(a.admin)
    log = ProbeLog(a.log)
    pids = a.pids.split()
    target = "http://127.0.0.1:%d/items/{id}" % a.backend
    rows, misses = [], 0
    for n in range(1, a.writes + 1):
        overall, per_child, wms, probes, t_ack = propagate_one(
            a, adm, log, pids, n, a.tag, target)
        if overall is None:
            misses += 1
        rows.append({"write": n, "ms": overall, "per_child": per_child,
                     "write_ms": round(wms, 2), "probes": probes,
                     "t_ack": t_ack})
        if a.pause:
            time.sleep(random.uniform(0, a.pause / 1000.0))
    vals = [r["ms"] for r in rows if r["ms"] is not None]
    first_child = [min(r["per_child"].values()) for r in rows if r["per_child"]]
    out = {"label": a.label, "writes": a.writes, "children": len(pids),
           "timeouts": misses, "timeout_s": a.timeout,
           "p50_ms": pct(vals, 50), "p90_ms": pct(vals, 90),
           "p99_ms": pct(vals, 99), "max_ms": max(vals) if vals else None,
           "first_child_p50_ms": pct(first_child, 50),
           "write_p50_ms": pct([r["write_ms"] for r in rows], 50),
           "write_p99_ms": pct([r["write_ms"] for r in rows], 99),
           "probes_per_write": pct([r["probes"] for r in rows], 50),
           "rows": rows}
    print(json.dumps(out))
    return 0


# ---- churn: PATCHes of targetUrl at a steady rate ----

def cmd_churn(a):
    with open(a.ids) as f:
        doc = json.load(f)
    ids = [i for p, i in doc["paths"].items() if i != doc["measured"]]
    ports = [int(p) for p in a.backends.split(",")]
    jobs = queue.Queue()
    lat, statuses, lock = [], {}, threading.Lock()
    rnd = random.Random(a.seed)

    def worker():
        adm = Admin(a.admin)
        while True:
            job = jobs.get()
            if job is None:
                return
            rid, port = job
            t0 = time.monotonic()
            try:
                st, _ = adm.request("PATCH", "/routes/" + rid, {
                    "targetUrl": "http://127.0.0.1:%d/items/{id}" % port})
            except Exception:            # noqa: BLE001 (counted)
                st = 0
            with lock:
                lat.append((time.monotonic() - t0) * 1000)
                statuses[st] = statuses.get(st, 0) + 1

    threads = [threading.Thread(target=worker) for _ in range(a.conns)]
    for t in threads:
        t.start()
    n = int(a.rate * a.seconds)
    t0 = time.monotonic()
    late = 0
    for k in range(n):
        due = t0 + k / a.rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        elif now - due > 1.0 / a.rate:
            late += 1
        if jobs.qsize() > a.conns * 4:
            late += 1                    # the gateway cannot keep up
        jobs.put((rnd.choice(ids), ports[k % len(ports)]))
    for _ in threads:
        jobs.put(None)
    for t in threads:
        t.join()
    secs = time.monotonic() - t0
    out = {"writes": n, "seconds": round(secs, 3),
           "per_second": round(n / secs, 1), "late": late,
           "statuses": {str(k): v for k, v in sorted(statuses.items())},
           "p50_ms": round(pct(lat, 50), 2), "p99_ms": round(pct(lat, 99), 2),
           "max_ms": round(max(lat), 2)}
    with open(a.out, "w") as f:
        json.dump(out, f)
    print(json.dumps(out))
    return 0


# ---- snapwatch: how long each child takes to write the route snapshot ----

def cmd_snapwatch(a):
    """Until SIGTERM: the life of each child's temporary snapshot file
    (SNAPSHOT.PID, renamed over SNAPSHOT when complete), i.e. how long the
    child's builder thread spent writing it."""
    import signal
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    pids = a.pids.split()
    since, spans, windows = {}, [], []
    end = time.monotonic() + a.max_seconds
    while not stop.is_set() and time.monotonic() < end:
        now = time.monotonic()
        for p in pids:
            there = os.path.exists(a.snapshot + "." + p)
            if there and p not in since:
                since[p] = now
            elif not there and p in since:
                t0 = since.pop(p)
                spans.append(round((now - t0) * 1000, 1))
                windows.append((p, t0, now))
        time.sleep(0.001)
    with open(a.out, "w") as f:
        json.dump({"writes": len(spans), "spans_ms": spans,
                   "windows": windows,
                   "p50_ms": pct(spans, 50), "max_ms": max(spans) if spans
                   else None}, f)
    return 0


# ---- report: the tables, the summary block, results.json ----

def load_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def load_json(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def median(v):
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None


def median_ci(v, n=2000):
    """95 % interval of the median (bootstrap, fixed seed)."""
    if len(v) < 3:
        return (None, None)
    rnd = random.Random(1)
    meds = sorted(statistics.median(rnd.choices(v, k=len(v)))
                  for _ in range(n))
    return (meds[int(n * 0.025)], meds[int(n * 0.975) - 1])


def paired(runs, num, den, field="rps"):
    by = {}
    for r in runs:
        by.setdefault(r["round"], {})[r["path"]] = r.get(field)
    return [v[num] / v[den] for _, v in sorted(by.items())
            if v.get(num) is not None and v.get(den)]


def f1(v, spec=".1f"):
    return "-" if v is None else format(v, spec)


def cmd_report(a):
    w = a.work
    runs = load_jsonl(os.path.join(w, "runs.jsonl"))
    for r in runs:
        r["cpu_us"] = (r["server_cpu_ticks"] / float(r["clk_tck"]) * 1e6
                       / max(r["requests"], 1))
    non200 = load_jsonl(os.path.join(w, "non200.jsonl"))
    regs = {e: load_json(os.path.join(w, "reg-%s.json" % e))
            for e in ("small", "big", "prefix")}
    props = {k: load_json(os.path.join(w, "prop-%s.json" % k))
             for k in ("g3", "fleet", "g1big", "g1prefix")}
    starts = load_jsonl(os.path.join(w, "startup.jsonl"))
    churn_cpu = load_json(os.path.join(w, "churn-cpu.json"))
    writers = [load_json(os.path.join(w, n)) for n in sorted(os.listdir(w))
               if n.startswith("churn-w") and n.endswith(".json")]
    n = "{:,}".format(a.routes)
    label = {"static": "static <ApiEndpoint>, 10-route environment",
             "rt10": "runtime route, 10 routes",
             "rt10k": "runtime route, %s routes (spread)" % n,
             "rt1shard": "runtime route, %s routes in its shard" % n,
             "quiet": "%s routes, no writes" % n,
             "churn": "%s routes, %s writes/s" % (n, a.rate)}
    results = {"summary": {}, "ratios": {}, "figures": {}}
    rows = []                    # (figure, what, value, target, verdict)

    def verdict(ok):
        return "PASS" if ok else "FAIL"

    # -- per-path table
    print()
    print("figures 1-2: %s rounds x %ss per path; figure 5: %s rounds x %ss; "
          "wrk -t1 -c%s; medians" % (a.rounds, a.duration, a.churn_rounds,
                                     a.churn_duration, a.connections))
    print("%-9s %-44s %9s %8s %8s %10s %6s" % ("", "path", "req/s", "p50 ms",
                                             "p99 ms", "CPU us/req", "errors"))
    for p in ("static", "rt10", "rt10k", "rt1shard", "quiet", "churn"):
        rs = [r for r in runs if r["path"] == p]
        if not rs:
            continue
        s = {"median_rps": median([r["rps"] for r in rs]),
             "median_p50_ms": median([r["p50_ms"] for r in rs]),
             "median_p99_ms": median([r["p99_ms"] for r in rs]),
             "median_cpu_us_per_req": median([r["cpu_us"] for r in rs]),
             "errors": sum(r["non2xx"] + r["socket_errors"] for r in rs),
             "runs": len(rs)}
        results["summary"][p] = s
        print("%-9s %-44s %9.0f %8.2f %8.2f %10.1f %6d"
              % (p, label[p], s["median_rps"], s["median_p50_ms"],
                 s["median_p99_ms"], s["median_cpu_us_per_req"], s["errors"]))

    # -- ratios
    print()
    for key, num, den, what, target in (
            ("1", "rt10", "static", "runtime route / static <ApiEndpoint>", 0.97),
            ("2", "rt10k", "rt10", "%s routes / 10, same route" % n, 0.97),
            ("2x", "rt1shard", "rt10", "%s routes in its shard / 10" % n, None),
            ("5", "churn", "quiet", "with writes / without", 0.9)):
        rps = paired(runs, num, den)
        if not rps:
            continue
        cpu = paired(runs, den, num, "cpu_us")    # inverted: higher is better
        lo, hi = median_ci(rps)
        m = median(rps)
        results["ratios"]["%s/%s" % (num, den)] = {
            "rps_median": m, "rps_median_ci95": [lo, hi], "rps_rounds": rps,
            "cpu_median": median(cpu), "target": target}
        print("%-3s %-9s %-40s req/s %.3f%s; by CPU per request %.3f%s"
              % (key, "%s/%s" % (num, den), what, m,
                 " (95 %% interval %.3f-%.3f)" % (lo, hi) if lo else "",
                 median(cpu), "  (target >= %.2f)" % target if target else ""))
        print("    rounds " + " ".join("%.3f" % x for x in rps))

    # -- registration
    print()
    for e, what in (("small", "10 routes"), ("big", "spread over the shards"),
                    ("prefix", "one shard")):
        d = regs[e]
        if d:
            print("registration through the admin API, environment %-6s "
                  "(%s): %d routes in %.1f s, %.0f/s, %d errors"
                  % (e, what, d["registered"], d["seconds"], d["per_second"],
                     d["errors"]))
    results["registration"] = regs

    # -- propagation
    print()
    for k, d in props.items():
        if not d:
            continue
        print("propagation, %s: %d writes, 201 to a 200 in every child: "
              "p50 %s, p90 %s, p99 %s, max %s ms; first child p50 %s ms; "
              "%d timeouts (%.0f s); the POST itself p50 %s, p99 %s ms"
              % (d["label"], d["writes"], f1(d["p50_ms"]), f1(d["p90_ms"]),
                 f1(d["p99_ms"]), f1(d["max_ms"]),
                 f1(d["first_child_p50_ms"]), d["timeouts"], d["timeout_s"],
                 f1(d["write_p50_ms"]), f1(d["write_p99_ms"])))
    results["propagation"] = props

    snaps = {k: load_json(os.path.join(w, "snap-%s.json" % k))
             for k in ("g3", "churn")}
    for k, what in (("g3", "during the propagation writes"),
                    ("churn", "during the churn with no load")):
        d = snaps[k]
        if d and d["writes"]:
            print("snapshot file written by the builder threads %s: %d times,"
                  " %s ms each (p50), max %s ms; a builder writing it serves "
                  "no change meanwhile" % (what, d["writes"], f1(d["p50_ms"]),
                                          f1(d["max_ms"])))
    results["snapshots"] = snaps
    d, sn = props.get("g3"), snaps.get("g3")
    if d:
        slow = [r for r in d["rows"] if r["ms"] is None or r["ms"] > 50]
        during = 0
        for r in slow:
            # the child that took longest: was it writing the snapshot
            # between the 201 and its first 200?
            child = max(r["per_child"], key=r["per_child"].get) \
                if r["per_child"] else None
            end = r["t_ack"] + (r["per_child"].get(child, 0) if child else
                                3000) / 1000.0
            if sn and any(w[0] == child and w[1] < end and w[2] > r["t_ack"]
                          for w in sn.get("windows", [])):
                during += 1
        print("propagation writes over 50 ms: %d of %d; %d of them while "
              "the slow child was writing the snapshot file"
              % (len(slow), d["writes"], during))
        results["propagation_slow"] = {"over_50ms": len(slow),
                                       "during_snapshot": during}

    # -- startup
    big = [s["result"]["ms"] for s in starts if s["key"] == "big"]
    small = [s["result"]["ms"] for s in starts if s["key"] == "small"]
    builds = [s["build"] for s in starts
              if s["key"] == "big" and s.get("build")]
    if big:
        print()
        print("starts of a gateway (1 child), exec of httpd to the first 200 "
              "on the last route: %s routes %s ms, 10 routes %s ms"
              % (n, " ".join("%.0f" % x for x in big),
                 " ".join("%.0f" % x for x in small)))
    if builds:
        print("the child's first table of %s routes, by its own clock "
              "(AGW00725): %s ms; reading the store %s ms, compiling %s ms; "
              "opening the store before it %s ms"
              % (n, " ".join("%d" % b["ms"] for b in builds),
                 " ".join("%d" % b["read_ms"] for b in builds),
                 " ".join("%d" % b["compile_ms"] for b in builds),
                 " ".join("%d" % b["open_ms"] for b in builds)))
    results["startup_ms"] = {"big": big, "small": small, "builds": builds}

    # -- churn
    if churn_cpu:
        print()
        print("churn with no request load: %d writes in %.1f s; httpd CPU "
              "%.2f s = %.1f ms per write, %.0f %% of one core; busiest "
              "threads: %s" % (churn_cpu["writes"], churn_cpu["seconds"],
                               churn_cpu["cpu_s"],
                               churn_cpu["cpu_ms_per_write"],
                               100 * churn_cpu["cpu_share_of_one_core"],
                               ", ".join("%s/%s %.0f %%" % (
                                   t["pid"], t["tid"],
                                   100 * t["share_of_one_core"])
                                   for t in churn_cpu["busiest_threads"])))
    if writers:
        rates = [x["per_second"] for x in writers]
        st = {}
        for x in writers:
            for k, v in x["statuses"].items():
                st[k] = st.get(k, 0) + v
        print("churn writers: %s writes/s achieved (median), PATCH p50 %s "
              "ms, p99 %s ms, max %s ms; statuses %s; %d late"
              % (f1(median(rates)), f1(median([x["p50_ms"] for x in writers])),
                 f1(max(x["p99_ms"] for x in writers)),
                 f1(max(x["max_ms"] for x in writers)),
                 json.dumps(st), sum(x["late"] for x in writers)))
    results["churn"] = {"no_load": churn_cpu, "writers": writers,
                        "server_non200": non200}

    # -- the summary block
    print()
    print("=" * 78)
    print("runtime routes: summary")
    def ratio_row(fig, key, what, target):
        r = results["ratios"].get(key)
        if not r:
            return
        lo, hi = r["rps_median_ci95"]
        noisy = lo is None or hi - lo > 0.06
        val = "%.3f (CPU %.3f)%s" % (r["rps_median"], r["cpu_median"],
                                     " NOISY" if noisy else "")
        rows.append((fig, what, val, ">= %.2f" % target if target else "-",
                     verdict(r["rps_median"] >= target) if target else ""))
        r["noisy"] = noisy

    ratio_row("1", "rt10/static", "runtime route / static <ApiEndpoint>, "
              "req/s", 0.97)
    ratio_row("2", "rt10k/rt10", "%s routes / 10, same route, req/s" % n, 0.97)
    ratio_row("2+", "rt1shard/rt10", "%s routes in one shard / 10, req/s" % n,
              None)
    d = props.get("g3")
    if d:
        ok = d["p99_ms"] is not None and d["p99_ms"] <= 50 and not d["timeouts"]
        rows.append(("3", "propagation to every child (%d), p99 of %d writes"
                     % (d["children"], d["writes"]),
                     "%s ms" % f1(d["p99_ms"]) + (" (%d timeouts)" % d["timeouts"]
                                                  if d["timeouts"] else ""),
                     "<= 50 ms", verdict(ok)))
    d = props.get("fleet")
    if d:
        ok = (d["p99_ms"] is not None and d["p99_ms"] <= 1100
              and not d["timeouts"])
        rows.append(("3b", "second gateway on PostgreSQL, p50 / p99 of %d"
                     % d["writes"], "%s / %s ms" % (f1(d["p50_ms"], ".0f"),
                                                    f1(d["p99_ms"], ".0f")),
                     "<= 1100 ms", verdict(ok)))
    for k, what in (("g1big", "one child, %s spread, p99" % n),
                    ("g1prefix", "one child, into a %s-route shard, p99" % n)):
        d = props.get(k)
        if d:
            rows.append(("3+", "propagation, " + what,
                         "%s ms" % f1(d["p99_ms"]), "-", ""))
    if builds:
        bm = median([b["ms"] for b in builds])
        rows.append(("4", "rebuild of a %s-route table (a child's first, "
                     "its own clock)" % n, "%.0f ms" % bm, "<= 200 ms",
                     verdict(bm <= 200)))
    if big and small:
        ub, base = median(big), median(small)
        rows.append(("4", "start on %s routes to a 200 on the last "
                     "(upper bound)" % n, "%.0f ms" % ub, "", ""))
        rows.append(("4", "  minus the same start on 10 routes",
                     "%.0f ms" % (ub - base), "<= 200 ms",
                     verdict(ub <= 200 or ub - base <= 200)))
    r5 = results["ratios"].get("churn/quiet", {}).get("rps_median")
    if r5 is not None:
        ratio_row("5", "churn/quiet", "churn %s writes/s: req/s with / "
                  "without" % a.rate, 0.9)
        churn_runs = [r for r in runs if r["path"] == "churn"]
        wrk_bad = sum(r["non2xx"] + r["socket_errors"] for r in churn_runs)
        srv_bad = sum(x["server_non200"] for x in non200
                      if x["path"] == "churn")
        quiet_bad = (sum(r["non2xx"] + r["socket_errors"] for r in runs
                         if r["path"] == "quiet")
                     + sum(x["server_non200"] for x in non200
                           if x["path"] == "quiet"))
        total = sum(r["requests"] for r in churn_runs)
        rows.append(("5", "non-200 under churn (wrk %d, server log %d) of %d"
                     % (wrk_bad, srv_bad, total), "%d" % max(wrk_bad, srv_bad),
                     "== 0", verdict(wrk_bad == 0 and srv_bad == 0)))
        results["churn"]["non200"] = {"wrk": wrk_bad, "server": srv_bad,
                                      "requests": total,
                                      "quiet_runs": quiet_bad}
    crashed = bool(a.crashes.strip())
    for fig, what, val, target, v in rows:
        print("%-3s %-56s %22s %9s %s" % (fig, what, val, target, v))
    if any(r.get("noisy") for r in results["ratios"].values()):
        print("NOISY: a ratio's 95 %% interval is wider than 0.06 (load average"
              " %s at start, %s at end): a 3 %% difference is not resolved "
              "in this run; see its CPU-per-request ratio, or --callgrind"
              % (a.load_start, a.load_end))
    if crashed:
        print("CRASH: a child died of a signal:\n" + a.crashes)
    fails = [r for r in rows if r[4] == "FAIL"]
    print("verdict: %s" % ("FAIL (%s)" % ", ".join(r[0] for r in fails)
                           if fails else "PASS"))
    print("=" * 78)
    results["rows"] = [dict(zip(("figure", "what", "value", "target",
                                 "verdict"), r)) for r in rows]
    results["verdict"] = "FAIL" if fails else "PASS"
    results["crashes"] = a.crashes
    results["runs"] = runs
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(results, f, indent=2)
    os.replace(tmp, a.out)
    print("results: %s" % a.out)
    if crashed:
        return 2
    return 1 if (a.strict == "1" and fails) else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("envs")
    p.add_argument("--admin", required=True)
    p.add_argument("names", nargs="+")

    p = sub.add_parser("register")
    p.add_argument("--admin", required=True)
    p.add_argument("--env", required=True)
    p.add_argument("--shape", choices=("varied", "prefix", "small"),
                   required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--backend", type=int, required=True)
    p.add_argument("--conns", type=int, default=16)
    p.add_argument("--ids")

    p = sub.add_parser("served")
    p.add_argument("--url", required=True)
    p.add_argument("--timeout", type=float, default=30)

    p = sub.add_parser("first200")
    p.add_argument("--url", required=True)
    p.add_argument("--since", type=int, default=0,
                   help="time.time_ns() of the start")
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--exec-out", help="the started server's output")
    p.add_argument("--exec", dest="exec_", nargs=argparse.REMAINDER,
                   help="starts this server, the clock with it")

    p = sub.add_parser("propagate")
    p.add_argument("--admin", required=True)
    p.add_argument("--probe", required=True, help="HOST:PORT probed")
    p.add_argument("--env", required=True)
    p.add_argument("--writes", type=int, default=100)
    p.add_argument("--log", required=True)
    p.add_argument("--pids", required=True)
    p.add_argument("--backend", type=int, required=True)
    p.add_argument("--probers", type=int, default=4)
    p.add_argument("--probe-gap", type=float, default=0.5,
                   help="ms between one prober's requests")
    p.add_argument("--timeout", type=float, default=3.0)
    p.add_argument("--pause", type=float, default=20,
                   help="random pause between writes, up to this (ms)")
    p.add_argument("--tag", default="w")
    p.add_argument("--shape", choices=("varied", "prefix"), default="varied",
                   help="prefix: the new routes go into the measured "
                        "route's shard (the prefix environment's)")
    p.add_argument("--label", default="")

    p = sub.add_parser("churn")
    p.add_argument("--admin", required=True)
    p.add_argument("--ids", required=True)
    p.add_argument("--rate", type=float, default=50)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--backends", required=True)
    p.add_argument("--conns", type=int, default=4)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True)

    p = sub.add_parser("snapwatch")
    p.add_argument("--snapshot", required=True)
    p.add_argument("--max-seconds", type=float, default=600)
    p.add_argument("--pids", required=True)
    p.add_argument("--out", required=True)

    p = sub.add_parser("report")
    p.add_argument("--work", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--strict", default="0")
    p.add_argument("--rounds", default="")
    p.add_argument("--duration", default="")
    p.add_argument("--connections", default="")
    p.add_argument("--churn-rounds", default="")
    p.add_argument("--churn-duration", default="")
    p.add_argument("--rate", default="")
    p.add_argument("--routes", type=int, default=10000)
    p.add_argument("--crashes", default="")
    p.add_argument("--load-start", default="?")
    p.add_argument("--load-end", default="?")

    a = ap.parse_args()
    return {"envs": cmd_envs, "register": cmd_register, "served": cmd_served,
            "first200": cmd_first200, "propagate": cmd_propagate,
            "churn": cmd_churn, "snapwatch": cmd_snapwatch,
            "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())

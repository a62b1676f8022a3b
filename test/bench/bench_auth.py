#!/usr/bin/python3
"""Owns the client side of the authentication benchmark
(test/bench/bench_auth.sh, which starts and stops the servers and runs
wrk): the keys, the token and the API key file, the checks that every
path answers as it should, and the report.

    bench_auth.py setup  --dir DIR [--keys N]
    bench_auth.py check  --token FILE --apikey FILE KIND=URL...
    bench_auth.py latency --a URL --b URL --pid-a PID --pid-b PID
                          --token FILE --apikey FILE --seconds S
                          --round N --tag T --out FILE
    bench_auth.py report --work DIR --out results.json [--strict 1]

setup writes into DIR: jwks.json (a JWK set of two RSA 2048 public keys),
token (an RS256 token PyJWT signed with the first, kid "bench-1", iss,
aud, sub, iat, exp in an hour), apikeys.txt (N keys, "NAME SHA256HEX
ROLES" per line) and apikey (one of those keys, in clear). check sends
each URL a request with the credentials, one without and one with a
wrong credential; KIND is none (200 every time), jwt or key (200, 401,
401). latency measures figure 3: one keep-alive connection to each of
two URLs, a request on one then on the other (the order swapped every
pair) for S seconds, each timed alone; it appends to FILE one JSON line
with each side's median time and httpd's CPU per request (the gateway's
process tree). report reads DIR/runs.jsonl (one line per wrk run:
wrkparse.py's JSON with round, path and httpd's CPU ticks) and
DIR/latency.jsonl, and prints the figures.
Needs python3-jwt and python3-cryptography (Debian's)."""
import argparse
import base64
import hashlib
import http.client
import json
import os
import random
import secrets
import socket
import statistics
import sys
import time
import urllib.parse

ISS = "https://issuer.bench"
AUD = "api://bench-gateway"
KID = "bench-1"

# (key, label, numerator, denominator, target): figures 1 and 2
RATIOS = (("jwt/none", "auth jwt (RS256, cached) / none", "jwt", "none", 0.95),
          ("key/none", "auth apikey / none", "key", "none", 0.97))
LABEL = {"none": "<ApiEndpoint>, no authentication",
         "jwt": "AuthType jwt, RS256, one token (cached)",
         "key": "AuthType apikey, X-API-Key"}


# ---- setup ----

def b64u_int(n):
    return base64.urlsafe_b64encode(
        n.to_bytes((n.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()


def public_jwk(key, kid):
    n = key.public_key().public_numbers()
    return {"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
            "n": b64u_int(n.n), "e": b64u_int(n.e)}


def write(path, text):
    """A file httpd (root at configtest, www-data after) can read."""
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)


def cmd_setup(a):
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    signer = rsa.generate_private_key(65537, 2048)
    other = rsa.generate_private_key(65537, 2048)
    write(os.path.join(a.dir, "jwks.json"), json.dumps(
        {"keys": [public_jwk(signer, KID), public_jwk(other, "bench-2")]},
        indent=1))
    now = int(time.time())
    token = jwt.encode({"sub": "bench-user", "iss": ISS, "aud": AUD,
                        "iat": now, "exp": now + 3600,
                        "scope": "items:read items:write",
                        "roles": ["reader"]},
                       signer, algorithm="RS256", headers={"kid": KID})
    write(os.path.join(a.dir, "token"), token)
    lines = ["# bench_auth.py setup: %d API keys (NAME SHA256HEX ROLES)"
             % a.keys]
    keys = []
    for i in range(a.keys):
        key = "bk_" + secrets.token_urlsafe(30)
        keys.append(key)
        lines.append("client-%03d %s %s" % (
            i, hashlib.sha256(key.encode()).hexdigest(),
            "reader" if i % 2 else "reader,writer"))
    write(os.path.join(a.dir, "apikeys.txt"), "\n".join(lines) + "\n")
    # a key from the middle of the file: nothing is special about it
    write(os.path.join(a.dir, "apikey"), keys[a.keys // 2])
    print(json.dumps({"token_bytes": len(token), "keys": a.keys,
                      "iss": ISS, "aud": AUD, "kid": KID}))
    return 0


# ---- check ----

def get(url, headers):
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        c.request("GET", u.path + ("?" + u.query if u.query else ""),
                  headers=headers)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def cmd_check(a):
    token = open(a.token).read().strip()
    apikey = open(a.apikey).read().strip()
    good = {"Authorization": "Bearer " + token, "X-API-Key": apikey}
    # the same token with its signature's last characters changed, and a
    # key that is in no line of the file
    head, _, sig = token.rpartition(".")
    forged = head + "." + sig[:-4] + ("AAAA" if sig[-4:] != "AAAA" else "BBBB")
    wrong = {"Authorization": "Bearer " + forged,
             "X-API-Key": "bk_" + secrets.token_urlsafe(30)}
    bad = 0
    body0 = None
    for spec in a.urls:
        kind, _, url = spec.partition("=")
        expect = {"none": (200, 200, 200), "jwt": (200, 401, 401),
                  "key": (200, 401, 401)}[kind]
        got = []
        for headers in (good, {}, wrong):
            status, body = get(url, headers)
            got.append(status)
            if status == 200:
                if body0 is None:
                    body0 = body
                elif body != body0:
                    print("bench-auth: %s answered another body: %r"
                          % (url, body[:200]), file=sys.stderr)
                    bad += 1
        ok = tuple(got) == expect
        print("bench-auth: check %-4s %s: with credentials %d, without %d, "
              "wrong %d%s" % (kind, url, got[0], got[1], got[2],
                              "" if ok else "  (expected %d %d %d)" % expect),
              file=sys.stderr)
        bad += not ok
    return 1 if bad else 0


# ---- latency ----

class Conn:
    """One keep-alive HTTP/1.1 connection with raw sockets: the least
    client work per request, so the gateway's time dominates."""

    def __init__(self, url, headers):
        u = urllib.parse.urlsplit(url)
        self.addr = (u.hostname, u.port)
        self.req = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\n%s\r\n" % (
            u.path, u.hostname, u.port,
            "".join("%s: %s\r\n" % kv for kv in headers.items()))).encode()
        self.sock = None
        self.buf = b""

    def connect(self):
        self.sock = socket.create_connection(self.addr, timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def _more(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the server")
        self.buf += chunk

    def get(self):
        """One request; its status (the body read whole)."""
        self.sock.sendall(self.req)
        while b"\r\n\r\n" not in self.buf:
            self._more()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, chunked = 0, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if not chunked:
            while len(self.buf) < length:
                self._more()
            self.buf = self.buf[length:]
            return status
        while True:
            while b"\r\n" not in self.buf:
                self._more()
            size_line, _, self.buf = self.buf.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            while len(self.buf) < size + 2:
                self._more()
            self.buf = self.buf[size + 2:]
            if size == 0:
                return status


def tree_ticks(root):
    """utime+stime of root, its children, and the children it reaped."""
    total = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as fh:
                f = fh.read().rpartition(")")[2].split()
        except OSError:
            continue
        pid, ppid = int(d), int(f[1])
        if pid == root:
            total += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
        elif ppid == root:
            total += int(f[11]) + int(f[12])
    return total


def cmd_latency(a):
    headers = {"Authorization": "Bearer " + open(a.token).read().strip(),
               "X-API-Key": open(a.apikey).read().strip()}
    sides = (Conn(a.a, headers), Conn(a.b, headers))
    pids = (a.pid_a, a.pid_b)
    times = ([], [])
    bad = 0
    hz = float(os.sysconf("SC_CLK_TCK"))
    clock = time.perf_counter_ns
    n = cur = 0
    try:
        for cur, c in enumerate(sides):
            c.connect()
            for _ in range(20):         # the connection's first requests
                c.get()
        ticks0 = [tree_ticks(p) for p in pids]
        end = time.monotonic() + a.seconds
        while time.monotonic() < end:
            for i in ((0, 1) if n % 2 == 0 else (1, 0)):
                cur = i
                t0 = clock()
                status = sides[i].get()
                times[i].append((clock() - t0) / 1000.0)
                bad += status != 200
            n += 1
        ticks1 = [tree_ticks(p) for p in pids]
    except (OSError, ValueError, IndexError) as e:
        print("bench-auth: latency: %s after %d pairs: %s"
              % ((a.a, a.b)[cur], n, e), file=sys.stderr)
        return 1
    row = {"round": a.round, "tag": a.tag, "pairs": n, "non200": bad,
           "seconds": a.seconds}
    for i, side in enumerate(("a", "b")):
        row[side + "_p50_us"] = statistics.median(times[i])
        row[side + "_p10_us"] = sorted(times[i])[len(times[i]) // 10]
        row[side + "_cpu_us"] = ((ticks1[i] - ticks0[i]) / hz * 1e6
                                 / len(times[i]))
    with open(a.out, "a") as fh:
        fh.write(json.dumps(row) + "\n")
    print("bench-auth:   %-8s %6d pairs  p50 %6.1f / %6.1f us  (%+.1f)  "
          "CPU %5.1f / %5.1f us/req%s"
          % (a.tag, n, row["a_p50_us"], row["b_p50_us"],
             row["b_p50_us"] - row["a_p50_us"], row["a_cpu_us"],
             row["b_cpu_us"], "  NON-200 %d" % bad if bad else ""),
          file=sys.stderr)
    return 0


# ---- report ----

def load_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def median(v):
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None


def median_ci(v, n=2000):
    """95 % interval of the median (bootstrap, fixed seed: reproducible)."""
    if len(v) < 3:
        return (None, None)
    rnd = random.Random(1)
    meds = sorted(statistics.median(rnd.choices(v, k=len(v)))
                  for _ in range(n))
    return (meds[int(n * 0.025)], meds[int(n * 0.975) - 1])


def by_round(runs):
    out = {}
    for r in runs:
        out.setdefault(r["round"], {})[r["path"]] = r
    return [v for _, v in sorted(out.items())]


def paired(runs, num, den, fn):
    return [fn(v[num], v[den]) for v in by_round(runs)
            if num in v and den in v]


def f(v, spec=".3f"):
    return "-" if v is None else format(v, spec)


def cmd_report(a):
    runs = load_jsonl(os.path.join(a.work, "runs.jsonl"))
    meta = json.load(open(os.path.join(a.work, "meta.json")))
    for r in runs:
        r["cpu_us"] = (r["server_cpu_ticks"] / float(r["clk_tck"]) * 1e6
                       / max(r["requests"], 1))
    results = {"meta": meta, "summary": {}, "ratios": {}, "rows": []}
    print()
    print("%d rounds: figures 1-2 wrk -t1 -c%d %ds per path, figure 3 "
          "%ds of alternated requests; httpd 1x%d threads (worker); medians"
          % (meta["rounds"], meta["connections"], meta["duration"],
             meta["lat_duration"], meta["threads"]))
    print("%-10s %-42s %9s %8s %8s %10s %6s" % (
        "", "path", "req/s", "p50 ms", "p99 ms", "CPU us/req", "errors"))
    errors = 0
    for p in ("none", "jwt", "key"):
        rs = [r for r in runs if r["path"] == p]
        if not rs:
            continue
        s = {"median_rps": median([r["rps"] for r in rs]),
             "median_p50_ms": median([r["p50_ms"] for r in rs]),
             "median_p99_ms": median([r["p99_ms"] for r in rs]),
             "median_cpu_us_per_req": median([r["cpu_us"] for r in rs]),
             "errors": sum(r["non2xx"] + r["socket_errors"] for r in rs),
             "runs": len(rs)}
        errors += s["errors"]
        results["summary"][p] = s
        print("%-10s %-42s %9.0f %8.3f %8.3f %10.1f %6d" % (
            p, LABEL[p], s["median_rps"], s["median_p50_ms"],
            s["median_p99_ms"], s["median_cpu_us_per_req"], s["errors"]))

    rows = []                  # (text, missed, noisy)
    print()
    for key, label, num, den, target in RATIOS:
        rps = paired(runs, num, den, lambda x, y: x["rps"] / y["rps"])
        if not rps:
            continue
        cpu = paired(runs, num, den, lambda x, y: y["cpu_us"] / x["cpu_us"])
        lo, hi = median_ci(rps)
        m = median(rps)
        missed = m < target
        noisy = lo is not None and lo < target <= hi
        results["ratios"][key] = {
            "rps_median": m, "rps_median_ci95": [lo, hi], "rps_rounds": rps,
            "cpu_median": median(cpu), "target": target, "missed": missed}
        print("%-9s %-34s req/s %.3f%s; by CPU per request %.3f  "
              "(target >= %.2f)" % (key, label, m,
                                    " (95 %% interval %.3f-%.3f)" % (lo, hi)
                                    if lo is not None else "",
                                    median(cpu), target))
        print("          rounds " + " ".join("%.3f" % x for x in rps))
        rows.append(("%s: %.3f (target >= %.2f)" % (label, m, target),
                     missed, noisy, lo, hi))

    # figure 3: per round, the uncached side's median request time minus
    # the cached side's (one connection each, requests alternated)
    lat = load_jsonl(os.path.join(a.work, "latency.jsonl"))
    for tag, what in (("jwt", "/jwt/: ApiJwtCache 0 - ApiJwtCache 1024"),
                      ("none", "control, /none/: the same two gateways")):
        rs = [r for r in lat if r["tag"] == tag]
        if not rs:
            continue
        diff = [r["b_p50_us"] - r["a_p50_us"] for r in rs]
        cpu = [r["b_cpu_us"] - r["a_cpu_us"] for r in rs]
        errors += sum(r["non200"] for r in rs)
        lo, hi = median_ci(diff)
        m = median(diff)
        results["latency_" + tag] = {
            "p50_diff_median_us": m, "p50_diff_ci95": [lo, hi],
            "p50_diff_rounds": diff, "cpu_diff_median_us": median(cpu),
            "cpu_diff_rounds": cpu,
            "a_p50_us": median([r["a_p50_us"] for r in rs]),
            "b_p50_us": median([r["b_p50_us"] for r in rs]),
            "pairs": sum(r["pairs"] for r in rs)}
        print()
        print("%s, one connection each, %d pairs: median request time "
              "%.1f - %.1f us = %+.1f us%s; httpd CPU per request %+.1f us"
              % (what, results["latency_" + tag]["pairs"],
                 results["latency_" + tag]["b_p50_us"],
                 results["latency_" + tag]["a_p50_us"], m,
                 " (95 %% interval %.1f-%.1f)" % (lo, hi)
                 if lo is not None else "", median(cpu)))
        print("          rounds " + " ".join("%.1f" % x for x in diff))
        if tag == "jwt":
            rows.append(("uncached RS256 verification: %.0f \u00b5s "
                         "(httpd CPU per request: %.0f \u00b5s)"
                         % (m, median(cpu)), False, False, None, None))

    print()
    print("=" * 78)
    print("authentication: summary (load average %s at start, %s at end; "
          "%s s)" % (meta["load_start"], a.load_end, a.elapsed))
    for text, missed, noisy, lo, hi in rows:
        note = ""
        if missed:
            note = "  MISSED"
        if noisy:
            note += "  (NOISY: 95 %% interval %.3f-%.3f holds the target)" \
                    % (lo, hi)
        print(text + note)
        results["rows"].append({"text": text, "missed": missed,
                                "noisy": noisy})
    if errors:
        print("ERRORS: %d non-2xx answers or socket errors in the measured "
              "runs: the figures are not valid" % errors)
    if a.crashes.strip():
        print("CRASH: a child died of a signal:\n" + a.crashes.strip())
    missed = [r for r in rows if r[1]]
    verdict = "FAIL" if (missed or errors or a.crashes.strip()) else "PASS"
    print("verdict: %s" % verdict)
    print("=" * 78)
    results.update({"verdict": verdict, "errors": errors,
                    "crashes": a.crashes, "runs": runs})
    tmp = a.out + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(results, fh, indent=2)
    os.replace(tmp, a.out)
    print("results: %s" % a.out)
    if a.crashes.strip():
        return 2
    return 1 if (a.strict == "1" and verdict == "FAIL") else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("setup")
    p.add_argument("--dir", required=True)
    p.add_argument("--keys", type=int, default=100)
    p = sub.add_parser("check")
    p.add_argument("--token", required=True)
    p.add_argument("--apikey", required=True)
    p.add_argument("urls", nargs="+", metavar="KIND=URL")
    p = sub.add_parser("latency")
    p.add_argument("--a", required=True, help="the cached side's URL")
    p.add_argument("--b", required=True, help="the uncached side's URL")
    p.add_argument("--pid-a", type=int, required=True)
    p.add_argument("--pid-b", type=int, required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--apikey", required=True)
    p.add_argument("--seconds", type=float, default=2)
    p.add_argument("--round", type=int, default=0)
    p.add_argument("--tag", default="jwt")
    p.add_argument("--out", required=True)
    p = sub.add_parser("report")
    p.add_argument("--work", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--strict", default="0")
    p.add_argument("--crashes", default="")
    p.add_argument("--load-end", default="?")
    p.add_argument("--elapsed", default="?")
    a = ap.parse_args()
    return {"setup": cmd_setup, "check": cmd_check, "latency": cmd_latency,
            "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())

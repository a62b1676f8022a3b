# Runtime routes served, in depth, on one gateway with a SQLite store:
# every policy group of a route applied to real exchanges with the echo
# backend (CORS, request and response headers, path rewrites, query
# policies, body limits, timeout, response cache, methods), {vars} that
# never reach the backend as path separators, balancer:// targets (and
# one naming no balancer: stored, not served, logged); live changes
# (20 quick PATCHes each served by every child within 0.5 s, deletions,
# an environment emptied, an environment copied and served on its
# virtual host); requests in flight finishing on their own table;
# graceful and full restarts serving throughout (a slow store too); the
# store unusable at run time (write lock held) and
# unopenable at startup (the snapshot served); kill -9 in the middle of a
# stream of writes losing no acknowledged one and leaving none half-done.
import json
import os
import shutil
import signal
import subprocess
import threading
import time

import pytest
import requests

from conftest import SLOW_CHILD_EXIT, raw_get
from test_admin_api import (Admin, admin_conf, assert_json_error, route,
                            store_dir)  # noqa: F401 (fixture)
from test_runtime_routes import store  # noqa: F401 (fixture)

# two children: every child follows the store
pytestmark = pytest.mark.children(2)

# how long a change through the admin API may take to be served by every
# child (the brief of this feature: 0.5 s)
BUDGET = 0.5
# answers in a row, each on a new connection, that show a change is
# served everywhere (the connections spread over both children)
STREAK = 10

# The response cache's store, for cacheTtlSeconds (without one a route
# only gets its Cache-Control header).
SHMCB = """<IfModule !socache_shmcb_module>
  LoadModule socache_shmcb_module /usr/lib/apache2/modules/mod_socache_shmcb.so
</IfModule>
"""

# which child (%P) answered what: evidence that both children serve
PIDLOG = 'CustomLog "@RUN@/pids.log" "%P %U%q %>s"\n'

TIMEOUT_LOGS = ("AH01102", "AH00898")   # a backend slower than the timeout


def serving_conf(store, backend, extra=""):
    return SHMCB + admin_conf(store, PIDLOG + """
<Proxy balancer://pool>
  BalancerMember %s
</Proxy>
""" % backend.url + extra)


@pytest.fixture
def served(store, backend, gateway):
    gw = gateway(serving_conf(store, backend))
    return gw, Admin(gw)


def fresh(gw, path, method="GET", port=None, **kw):
    """One request on a connection of its own (new connections land on
    either child)."""
    h = {"Connection": "close"}
    h.update(kw.pop("headers", {}))
    url = gw.url(path) if port is None else \
        "http://127.0.0.1:%d%s" % (port, path)
    return requests.request(method, url, headers=h, timeout=10, **kw)


def served_everywhere(gw, path, ok, since=None, budget=BUDGET, port=None,
                      streak=STREAK):
    """Requests on new connections until `streak` in a row satisfy ok(r);
    asserts the last one that did not was sent within budget of since
    (default: now). Returns the seconds from since to that last miss (0
    when there was none)."""
    since = time.monotonic() if since is None else since
    deadline = since + budget * 2 + 1
    last_miss, row, last = None, 0, None
    while row < streak:
        sent = time.monotonic()
        last = fresh(gw, path, port=port)
        if ok(last):
            row += 1
        else:
            row, last_miss = 0, sent
            if sent > deadline:
                pytest.fail("%s: not served as expected %.1fs after the "
                            "change: %d %s" % (path, sent - since,
                                               last.status_code,
                                               last.text[:300]))
    late = 0.0 if last_miss is None else last_miss - since
    assert late < budget, "an answer %.3fs after the change was still " \
        "the old one (%d %s)" % (late, last.status_code, last.text[:200])
    return late


def echo_path(expected):
    return lambda r: r.status_code == 200 and r.json()["path"] == expected


def status_is(code):
    return lambda r: r.status_code == code


def register(gw, admin, doc, probe=None, ok=None):
    """Registers doc and waits until every child serves it (probe: the
    path to try, ok: what its answer must be; default any status but
    404)."""
    doc = admin.register(doc)
    if probe is not None:
        served_everywhere(gw, probe, ok or (lambda r: r.status_code != 404),
                          budget=2.0)
    return doc


def pids(gw):
    """{pid: number of requests} of the pids log."""
    seen = {}
    try:
        with open(os.path.join(gw.run_dir, "pids.log")) as f:
            for line in f:
                pid = line.split(" ", 1)[0]
                seen[pid] = seen.get(pid, 0) + 1
    except OSError:
        pass
    return seen


def admin_everywhere(gw, admin):
    """Admin reads until both children have answered one (each then has
    its connection to the store open)."""
    for _ in range(200):
        r = admin.get("/routes", headers={"Connection": "close"})
        assert r.status_code == 200, r.text
        seen = set()
        try:
            with open(os.path.join(gw.run_dir, "pids.log")) as f:
                seen = {l.split(" ", 1)[0] for l in f
                        if " /admin/routes " in l}
        except OSError:
            pass
        if len(seen) >= 2:
            return
    pytest.fail("admin requests never reached both children")


def wait_log(gw, needle, timeout=5.0, tag=None):
    """The error-log lines holding needle, once one does (and, with tag,
    once one of them also holds that log tag: the admin API logs a route's
    id at once, a child reporting it only after its next refresh)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [l for l in gw.error_log_text().splitlines() if needle in l]
        if lines and (tag is None or any(tag in l for l in lines)):
            return lines
        assert time.monotonic() < deadline, \
            "%r not logged:\n%s" % (needle, gw.error_log_text())
        time.sleep(0.02)


# ================================================================ policies

CORS_ORIGIN = "https://app.example"


def cors_route(gw, admin, backend):
    register(gw, admin, route(
        "/sv/cors/*", backend.url + "/{*}", methods=["GET", "PUT"],
        cors={"allowOrigins": [CORS_ORIGIN], "allowHeaders": ["X-Custom"],
              "exposeHeaders": ["X-Backend"], "allowCredentials": True,
              "maxAgeSeconds": 600}), "/sv/cors/a")


def test_cors_preflight(served, backend):
    gw, admin = served
    origin = CORS_ORIGIN
    cors_route(gw, admin, backend)
    before = backend.stats()["requests"]
    r = fresh(gw, "/sv/cors/a", "OPTIONS", headers={
        "Origin": origin, "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "x-custom"})
    assert r.status_code == 204, r.text
    assert r.headers["Access-Control-Allow-Origin"] == origin
    assert r.headers["Access-Control-Allow-Credentials"] == "true"
    # what was asked, once checked, as KrakenD (rs/cors) answers
    assert r.headers["Access-Control-Allow-Methods"] == "PUT"
    assert r.headers["Access-Control-Allow-Headers"] == "x-custom"
    assert r.headers["Access-Control-Max-Age"] == "600"
    assert "Origin" in r.headers["Vary"]
    assert r.content == b""
    # a refused origin, a header not allowed, a method the route does not
    # serve: the preflight status, no CORS header at all
    for o, h, m in (("https://evil.example", "x-custom", "PUT"),
                    (origin, "x-other", "PUT"), (origin, "x-custom", "POST")):
        r = fresh(gw, "/sv/cors/a", "OPTIONS", headers={
            "Origin": o, "Access-Control-Request-Method": m,
            "Access-Control-Request-Headers": h})
        assert r.status_code == 204, r.text
        assert not [k for k in r.headers
                    if k.lower().startswith("access-control-")], r.headers
    # no preflight reached the backend
    assert backend.stats()["requests"] == before


def test_cors_actual_requests(served, backend):
    gw, admin = served
    origin = CORS_ORIGIN
    cors_route(gw, admin, backend)
    r = fresh(gw, "/sv/cors/a", headers={"Origin": origin})
    assert r.status_code == 200 and r.json()["path"] == "/a", r.text
    assert r.headers["Access-Control-Allow-Origin"] == origin
    assert r.headers["Access-Control-Expose-Headers"] == "X-Backend"
    r = fresh(gw, "/sv/cors/a", headers={"Origin": "https://evil.example"})
    assert r.status_code == 200 and r.json()["path"] == "/a", r.text
    assert "Access-Control-Allow-Origin" not in r.headers


def test_request_and_response_headers(served, backend):
    gw, admin = served
    register(gw, admin, route(
        "/sv/hdr/*", backend.url + "/{*}",
        requestHeaders=[
            {"action": "set", "name": "X-Tenant", "value": "acme"},
            {"action": "add", "name": "X-Added", "value": "second"},
            {"action": "unset", "name": "X-Drop"}],
        responseHeaders=[
            {"action": "set", "name": "X-Api-Version", "value": "2"},
            {"action": "add", "name": "X-Multi", "value": "one"},
            {"action": "add", "name": "X-Multi", "value": "two"},
            {"action": "unset", "name": "X-Backend"}]), "/sv/hdr/a")
    r = fresh(gw, "/sv/hdr/a", headers={
        "X-Tenant": "evil", "X-Drop": "secret", "X-Keep": "mine"})
    assert r.status_code == 200, r.text
    h = r.json()["headers"]
    assert h["X-Tenant"] == "acme"
    assert h["X-Added"] == "second"
    assert "X-Drop" not in h
    # a route is a proxy: the client's other headers go through
    assert h["X-Keep"] == "mine"
    assert r.headers["X-Api-Version"] == "2"
    assert r.headers["X-Multi"] == "one, two"
    assert "X-Backend" not in r.headers
    assert "X-Tenant" not in r.headers
    # a backend's header of the same name is overridden
    r = fresh(gw, "/sv/hdr/__header/200/X-Api-Version/1/")
    assert r.headers["X-Api-Version"] == "2"


def test_header_values_are_expressions(served, backend):
    """A value is an ap_expr string, as in ApiRequestHeader and
    ApiResponseHeader (the validators the route model shares with the
    directives accept "%{...}" for that reason)."""
    gw, admin = served
    register(gw, admin, route(
        "/sv/expr/*", backend.url + "/{*}",
        requestHeaders=[{"action": "set", "name": "X-Client-Ip",
                         "value": "%{REMOTE_ADDR}"}],
        responseHeaders=[{"action": "set", "name": "X-Path",
                          "value": "%{REQUEST_URI}"}]), "/sv/expr/a")
    r = fresh(gw, "/sv/expr/a")
    assert r.status_code == 200, r.text
    assert r.json()["headers"]["X-Client-Ip"] == "127.0.0.1"
    assert r.headers["X-Path"] == "/sv/expr/a"


def test_path_rewrites(served, backend):
    gw, admin = served
    admin.register(route("/api/strip/*", backend.url + "/api/strip/{*}",
                         pathRewrite={"type": "stripPrefix",
                                      "value": "/api"}))
    admin.register(route("/sv/add/*", backend.url + "/{*}",
                         pathRewrite={"type": "addPrefix",
                                      "value": "/internal"}))
    register(gw, admin, route(
        "/old/*", backend.url + "/old/{*}",
        pathRewrite={"type": "regex", "value": "^/old/([^/]+)/(.*)$",
                     "replacement": "/new/$2/of/$1"}), "/old/a/b")

    def path(p):
        r = fresh(gw, p)
        assert r.status_code == 200, (p, r.text)
        return r.json()["path"]

    assert path("/api/strip/users/1") == "/strip/users/1"
    assert path("/sv/add/users") == "/internal/users"
    assert path("/old/alice/orders/42") == "/new/orders/42/of/alice"
    assert path("/old/alice") == "/old/alice"          # no match: as is
    # values stay percent-encoded through the rewrite
    assert path("/old/a%20b/c%3Fd") == "/new/c%3Fd/of/a%20b"


Q = "?page=2&debug=1&x=%20y&token=s&limit=5"


def query_of(gw, path):
    r = fresh(gw, path)
    assert r.status_code == 200, (path, r.text)
    return r.json()["query"]


def test_query_policies(served, backend):
    gw, admin = served
    admin.register(route("/sv/q/none", backend.url + "/none"))
    admin.register(route("/sv/q/fixed", backend.url + "/fixed?src=gw"))
    admin.register(route("/sv/q/all", backend.url + "/all",
                         queryPolicy={"mode": "all"}))
    register(gw, admin, route("/sv/q/allow", backend.url + "/allow",
                              queryPolicy={"mode": "allow",
                                           "names": ["page", "limit"]}),
             "/sv/q/allow")
    # default: none forwarded (the target's own query stays)
    assert query_of(gw, "/sv/q/none" + Q) == ""
    assert query_of(gw, "/sv/q/fixed" + Q) == "src=gw"
    assert query_of(gw, "/sv/q/all" + Q) == Q[1:]
    assert query_of(gw, "/sv/q/allow" + Q) == "page=2&limit=5"


def test_query_deny_list(served, backend):
    """mode deny: every query string but the names listed (the route is
    accepted by the admin API, so it must be served)."""
    gw, admin = served
    register(gw, admin, route("/sv/q/deny", backend.url + "/deny",
                              queryPolicy={"mode": "deny",
                                           "names": ["debug", "token"]}),
             "/sv/q/deny")
    assert query_of(gw, "/sv/q/deny" + Q) == "page=2&x=%20y&limit=5"
    assert query_of(gw, "/sv/q/deny?debug=1") == ""


def test_body_limits(served, backend):
    gw, admin = served
    register(gw, admin, route("/sv/lim/*", backend.url + "/{*}",
                              methods=["GET", "POST"],
                              bodyLimits={"requestBytes": 100,
                                          "responseBytes": 1000}),
             "/sv/lim/x")
    r = fresh(gw, "/sv/lim/__digest/", "POST", data=b"x" * 100)
    assert r.status_code == 200 and r.json()["length"] == 100, r.text
    before = backend.stats()["requests"]
    r = fresh(gw, "/sv/lim/__digest/", "POST", data=b"x" * 101)
    doc = assert_json_error(r, 413)
    assert backend.stats()["requests"] == before, "a refused body was sent"
    r = fresh(gw, "/sv/lim/__big/1000")
    assert r.status_code == 200 and len(r.content) == 1000
    r = fresh(gw, "/sv/lim/__big/1001")
    doc = assert_json_error(r, 502)
    assert "larger than 1000 bytes" in doc["error"], doc


@pytest.mark.serial         # wall-clock bounds: run alone
@pytest.mark.allow_log(*TIMEOUT_LOGS)
def test_timeout(served, backend):
    gw, admin = served
    register(gw, admin, route("/sv/slow/*", backend.url + "/{*}",
                              timeoutSeconds=1), "/sv/slow/x")
    t0 = time.monotonic()
    r = fresh(gw, "/sv/slow/__delay/1600")
    elapsed = time.monotonic() - t0
    assert_json_error(r, 504)
    assert 0.95 <= elapsed < 1.5, elapsed
    r = fresh(gw, "/sv/slow/__delay/200")
    assert r.status_code == 200, r.text


def test_cache_ttl(served, backend):
    gw, admin = served
    register(gw, admin, route("/sv/cached/*", backend.url + "/{*}",
                              cacheTtlSeconds=30), "/sv/cached/probe")
    r = fresh(gw, "/sv/cached/a")
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "public, max-age=30"
    assert r.headers["X-Cache"] == "MISS"
    before = backend.stats()["requests"]
    # from the cache, in every child (it is shared): the backend is not
    # asked again
    for _ in range(6):
        r2 = fresh(gw, "/sv/cached/a")
        assert r2.status_code == 200, r2.text
        assert r2.headers["X-Cache"] == "HIT", r2.headers
        assert r2.json() == r.json()
        assert r2.headers["Cache-Control"].startswith("public, max-age=")
    assert backend.stats()["requests"] == before
    # another path is another entry
    assert fresh(gw, "/sv/cached/b").headers["X-Cache"] == "MISS"


def test_methods_405_with_allow(served, backend):
    gw, admin = served
    register(gw, admin, route("/sv/m", backend.url + "/m",
                              methods=["POST", "PUT"]), "/sv/m",
             status_is(405))
    r = fresh(gw, "/sv/m")
    doc = assert_json_error(r, 405)
    allow = {m.strip() for m in r.headers["Allow"].split(",")}
    assert {"POST", "PUT"} <= allow and "GET" not in allow, allow
    assert "GET" in doc["error"]
    r = fresh(gw, "/sv/m", "PUT", data=b"{}")
    assert r.status_code == 200 and r.json()["method"] == "PUT", r.text


def test_vars_never_become_path_separators(served, backend):
    gw, admin = served
    admin.register(route("/sv/esc/{id}", backend.url + "/items/{id}/end"))
    register(gw, admin, route("/sv/wild/*", backend.url + "/files/{*}"),
             "/sv/wild/x")
    before = backend.stats()["requests"]

    def answer(target):
        return raw_get(gw.port, target)

    # plain escaping
    r = answer("/sv/esc/a%20b")
    assert r.status == 200 and r.json()["path"] == "/items/a%20b/end"
    r = answer("/sv/esc/a%3Fb%23c")
    assert r.status == 200, r.body
    assert r.json()["path"] == "/items/a%3Fb%23c/end" \
        and r.json()["query"] == ""
    # an encoded slash or dot-dot: refused by httpd (404), or sent
    # escaped; never a separator
    seen = []
    for target in ("/sv/esc/a%2Fb", "/sv/esc/%2E%2E", "/sv/esc/.%2e",
                   "/sv/esc/..%2F..%2Fetc", "/sv/esc/%252E%252E",
                   "/sv/wild/a/%2e%2e/%2e%2e/secret",
                   "/sv/wild/%2e%2e%2f%2e%2e%2fsecret",
                   "/sv/wild/%252e%252e/%252e%252e/secret"):
        r = answer(target)
        assert r is not None, target
        assert r.status in (200, 400, 404), (target, r.status, r.body)
        if r.status != 200:
            continue
        p = r.json()["path"]
        seen.append(p)
        segments = p.split("?")[0].split("/")
        assert ".." not in segments and "." not in segments, (target, p)
        assert p.startswith("/items/") or p.startswith("/files/"), \
            (target, p)
        if p.startswith("/items/"):
            # one segment between /items/ and /end
            assert len(segments) == 4 and segments[3] == "end", (target, p)
    # at least the double-encoded ones reach the backend, escaped
    assert "/items/%252E%252E/end" in seen, seen
    assert backend.stats()["requests"] - before == 2 + len(seen)


def test_balancer_targets(served, backend):
    gw, admin = served
    register(gw, admin, route("/sv/bal/{id}", "balancer://pool/bal/{id}"),
             "/sv/bal/1")
    r = fresh(gw, "/sv/bal/7")
    assert r.status_code == 200 and r.json()["path"] == "/bal/7", r.text


@pytest.mark.allow_log("AGW00715")
def test_balancer_target_naming_no_balancer(served, backend):
    gw, admin = served
    doc = admin.register(route("/sv/nobal/{id}", "balancer://nope/x/{id}"))
    # stored as registered
    r = admin.get("/routes/" + doc["id"])
    assert r.status_code == 200 and r.json()["targetUrl"] \
        == "balancer://nope/x/{id}"
    # every child reports it, names the route and why; it is not served
    lines = wait_log(gw, doc["id"], tag="AGW00715")
    bad = [l for l in lines if "AGW00715" in l]
    assert bad, lines
    assert "is not served" in bad[0] and "balancer" in bad[0], bad[0]
    assert "targetUrl" in bad[0], bad[0]
    # the other routes are served, this one is not
    register(gw, admin, route("/sv/fine", backend.url + "/fine"), "/sv/fine")
    for _ in range(STREAK):
        assert fresh(gw, "/sv/nobal/1").status_code == 404


# ================================================================ live changes

def test_twenty_quick_patches_each_served_everywhere(served, backend):
    gw, admin = served
    doc = register(gw, admin, route("/sv/live/{id}",
                                    backend.url + "/v0/{id}"),
                   "/sv/live/1", echo_path("/v0/1"))
    lates = []
    for i in range(1, 21):
        r = admin.patch("/routes/" + doc["id"],
                        {"targetUrl": backend.url + "/v%d/{id}" % i})
        acked = time.monotonic()
        assert r.status_code == 200, r.text
        assert r.json()["targetUrl"].endswith("/v%d/{id}" % i)
        lates.append(served_everywhere(gw, "/sv/live/%d" % i,
                                       echo_path("/v%d/%d" % (i, i)),
                                       since=acked))
    # both children answered
    assert len(pids(gw)) >= 2, pids(gw)
    assert max(lates) < BUDGET, lates


def test_deleted_route_answers_404_everywhere(served, backend):
    gw, admin = served
    doc = register(gw, admin, route("/sv/del/{id}", backend.url + "/d/{id}"),
                   "/sv/del/1", echo_path("/d/1"))
    other = register(gw, admin, route("/sv/keep", backend.url + "/keep"),
                     "/sv/keep")
    r = admin.delete("/routes/" + doc["id"])
    acked = time.monotonic()
    assert r.status_code == 200 and r.json() == {"deletedCount": 1}
    served_everywhere(gw, "/sv/del/1", status_is(404), since=acked)
    # the other route of the environment is untouched
    served_everywhere(gw, "/sv/keep", echo_path("/keep"))
    assert other["id"] != doc["id"]


def test_deleting_all_routes_of_an_environment(store, backend, gateway):
    gw = gateway(serving_conf(store, backend, """
Listen 127.0.0.1:@PORT@
Listen 127.0.0.1:@PORT2@
<VirtualHost 127.0.0.1:@PORT2@>
  ApiEnvironment staging
</VirtualHost>
"""), extra_ports=1)
    admin = Admin(gw)
    assert admin.post("/environments", {"name": "staging"}).status_code == 201
    for i in range(5):
        admin.register(route("/sv/env/%d/{id}" % i,
                             backend.url + "/s%d/{id}" % i,
                             environment="staging"))
    admin.register(route("/sv/env/0/{id}", backend.url + "/prod/{id}"))
    port2 = gw.ports[1]
    for i in range(5):
        served_everywhere(gw, "/sv/env/%d/x" % i, echo_path("/s%d/x" % i),
                          budget=2.0, port=port2)
    r = admin.delete("/routes?environment=staging")
    acked = time.monotonic()
    assert r.status_code == 200 and r.json() == {"deletedCount": 5}, r.text
    for i in range(5):
        served_everywhere(gw, "/sv/env/%d/x" % i, status_is(404),
                          since=acked, port=port2)
    # the default environment's route of the same path is still served
    served_everywhere(gw, "/sv/env/0/x", echo_path("/prod/x"))
    assert admin.routes("staging") == []


def test_environment_copied_and_served_on_its_virtual_host(store, backend,
                                                           gateway):
    gw = gateway(serving_conf(store, backend, """
Listen 127.0.0.1:@PORT@
Listen 127.0.0.1:@PORT2@
<VirtualHost 127.0.0.1:@PORT2@>
  ApiEnvironment staging
</VirtualHost>
"""), extra_ports=1)
    admin = Admin(gw)
    port2 = gw.ports[1]
    docs = [admin.register(route("/sv/copy/%d/{id}" % i,
                                 backend.url + "/c%d/{id}" % i))
            for i in range(3)]
    served_everywhere(gw, "/sv/copy/2/x", echo_path("/c2/x"), budget=2.0)
    # not in staging yet
    assert fresh(gw, "/sv/copy/0/x", port=port2).status_code == 404
    r = admin.post("/environments", {"name": "staging", "from": "default",
                                     "copyRoutes": True})
    acked = time.monotonic()
    assert r.status_code == 201 and r.json()["copiedRoutes"] == 3, r.text
    for i in range(3):
        served_everywhere(gw, "/sv/copy/%d/x" % i, echo_path("/c%d/x" % i),
                          since=acked if i == 0 else None, port=port2)
    copies = admin.routes("staging")
    assert len(copies) == 3
    assert not {d["id"] for d in copies} & {d["id"] for d in docs}
    # the copies are routes of their own: changing one leaves the original
    staged = [d for d in copies if d["path"] == "/sv/copy/1/{id}"][0]
    r = admin.patch("/routes/" + staged["id"],
                    {"targetUrl": backend.url + "/staged/{id}"})
    assert r.status_code == 200, r.text
    served_everywhere(gw, "/sv/copy/1/x", echo_path("/staged/x"), port=port2)
    served_everywhere(gw, "/sv/copy/1/x", echo_path("/c1/x"))
    # the environment deleted: its host serves nothing, default is kept
    r = admin.delete("/environments/staging")
    acked = time.monotonic()
    assert r.status_code == 200 and r.json() == {"deletedCount": 3}, r.text
    for i in range(3):
        served_everywhere(gw, "/sv/copy/%d/x" % i, status_is(404),
                          since=acked if i == 0 else None, port=port2)
    served_everywhere(gw, "/sv/copy/0/x", echo_path("/c0/x"))


def test_requests_in_flight_finish_on_their_table(served, backend):
    """Slow requests hold the table they matched on; the route deleted
    and its shard rebuilt many times meanwhile, each still completes."""
    gw, admin = served
    doc = register(gw, admin, route("/sv/fly/*", backend.url + "/{*}"),
                   "/sv/fly/x")
    neighbour = register(gw, admin, route("/sv/fly2/{id}",
                                          backend.url + "/n0/{id}"),
                         "/sv/fly2/x")
    results = []

    def slow(i):
        try:
            r = fresh(gw, "/sv/fly/__delay/1500/%d" % i)
            results.append((i, r.status_code, r.json()["path"]))
        except Exception as e:           # reported by the assertion below
            results.append((i, "error", repr(e)))

    threads = [threading.Thread(target=slow, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
        time.sleep(0.03)
    time.sleep(0.2)
    # the shard rebuilt again and again (same leading text), then the
    # route itself deleted
    for i in range(1, 11):
        r = admin.patch("/routes/" + neighbour["id"],
                        {"targetUrl": backend.url + "/n%d/{id}" % i})
        assert r.status_code == 200, r.text
    r = admin.delete("/routes/" + doc["id"])
    acked = time.monotonic()
    assert r.status_code == 200, r.text
    served_everywhere(gw, "/sv/fly/x", status_is(404), since=acked)
    served_everywhere(gw, "/sv/fly2/x", echo_path("/n10/x"))
    for t in threads:
        t.join(10)
    assert sorted(results) == [(i, 200, "/__delay/1500/%d" % i)
                               for i in range(6)], results


# ================================================================ restarts

def hammer(gw, paths, stop, out):
    """Requests on new connections over paths until stop is set:
    (path, status or exception name) into out."""
    i = 0
    while not stop.is_set():
        path = paths[i % len(paths)]
        i += 1
        try:
            r = fresh(gw, path)
            out.append((path, r.status_code,
                        r.json().get("path") if r.status_code == 200
                        else r.text[:200]))
        except requests.RequestException as e:
            out.append((path, type(e).__name__, str(e)[:200]))


def restart_generation(gw, sig, count):
    os.kill(gw.proc.pid, sig)
    deadline = time.monotonic() + 20
    while gw.error_log_text().count("resuming normal operations") < count:
        assert time.monotonic() < deadline, gw.error_log_text()
        time.sleep(0.02)


@pytest.mark.allow_log(*SLOW_CHILD_EXIT)
def test_restarts_keep_every_route_served(served, backend):
    gw, admin = served
    paths = []
    for i in range(6):
        # routes in several shards (their leading text differs)
        register(gw, admin, route("/sv%d/r/{id}" % i,
                                  backend.url + "/r%d/{id}" % i),
                 "/sv%d/r/x" % i)
        paths.append("/sv%d/r/x" % i)
    expected = {p: "/r%s/x" % p[3] for p in paths}
    for sig, generation in ((signal.SIGUSR1, 2), (signal.SIGUSR1, 3),
                            (signal.SIGHUP, 4)):
        out, stop = [], threading.Event()
        hammers = [threading.Thread(target=hammer,
                                    args=(gw, paths[i:] + paths[:i], stop,
                                          out))
                   for i in range(8)]
        for t in hammers:
            t.start()
        time.sleep(0.2)
        restart_generation(gw, sig, generation)
        # the new children serve for a while
        time.sleep(1.0)
        stop.set()
        for t in hammers:
            t.join(15)
        answers = [o for o in out if isinstance(o[1], int)]
        wrong = [o for o in answers
                 if o[1] != 200 or o[2] != expected[o[0]]]
        assert not wrong, (sig, wrong[:10], len(answers))
        errors = [o for o in out if not isinstance(o[1], int)]
        if sig == signal.SIGUSR1:
            # graceful: no connection is refused or cut
            assert not errors, errors[:5]
        assert len(answers) > 20, out[:5]
        # and every child of the new generation serves every route
        for p in paths:
            served_everywhere(gw, p, echo_path(expected[p]), budget=0.01)


@pytest.mark.allow_log(*SLOW_CHILD_EXIT)
def test_graceful_restart_with_a_slow_store_keeps_routes_served(
        store, served, backend):
    """The new children of a graceful restart must serve the routes as the
    old ones did, even when the store is slow to answer them (here:
    another process holds its write lock, which opening the store
    waits for)."""
    gw, admin = served
    paths = []
    for i in range(3):
        register(gw, admin, route("/sw%d/r/{id}" % i,
                                  backend.url + "/w%d/{id}" % i),
                 "/sw%d/r/x" % i)
        paths.append("/sw%d/r/x" % i)
    lock = WriteLock(store[len("sqlite3:"):])
    try:
        out, stop = [], threading.Event()
        hammers = [threading.Thread(target=hammer, args=(gw, paths, stop,
                                                         out))
                   for _ in range(4)]
        for t in hammers:
            t.start()
        time.sleep(0.2)
        restart_generation(gw, signal.SIGUSR1, 2)
        time.sleep(1.0)
        stop.set()
        for t in hammers:
            t.join(15)
    finally:
        lock.release()
    wrong = [o for o in out if o[1] != 200
             or o[2] != "/w%s/x" % o[0][3]]
    assert not wrong, (len(wrong), len(out), wrong[:3])


# ================================================================ the store

class WriteLock:
    """Another process holding the SQLite store's write lock (BEGIN
    IMMEDIATE), as httpd's User (so no file it may create is root's)."""

    SCRIPT = r"""
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
c.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
c.execute("ROLLBACK")
c.close()
"""

    def __init__(self, path):
        kw = {}
        if os.geteuid() == 0:
            import pwd
            pw = pwd.getpwnam("www-data")

            def drop():
                os.setgid(pw.pw_gid)
                os.setuid(pw.pw_uid)
            kw["preexec_fn"] = drop
        self.proc = subprocess.Popen(["/usr/bin/python3", "-c", self.SCRIPT,
                                      path], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, **kw)
        line = self.proc.stdout.readline()
        assert line == b"locked\n", line

    def release(self):
        self.proc.stdin.write(b"\n")
        self.proc.stdin.close()
        assert self.proc.wait(10) == 0
        self.proc.stdout.close()


@pytest.mark.allow_log("AGW00702")
def test_store_write_locked_at_run_time(store, served, backend):
    """Another process holds the store's write lock: routes served keep
    answering, a write answers 503 JSON (after the store's busy timeout
    and apr_dbd's retries: about 16 s today, so one write only), and once
    the lock is released writes work and are served, without a restart.
    Takes about 20 s."""
    gw, admin = served
    kept = register(gw, admin, route("/sv/kept/{id}", backend.url + "/k/{id}"),
                    "/sv/kept/1", echo_path("/k/1"))
    # every child has opened its admin connection to the store (an open
    # takes the write lock too)
    admin_everywhere(gw, admin)
    lock = WriteLock(store[len("sqlite3:"):])
    try:
        out, stop = [], threading.Event()
        t = threading.Thread(target=hammer, args=(gw, ["/sv/kept/2"], stop,
                                                  out))
        t.start()
        t0 = time.monotonic()
        try:
            r = requests.post(admin.url("/routes"), timeout=60,
                              data=json.dumps(route("/sv/new",
                                                    backend.url + "/n")),
                              headers={"Content-Type": "application/json",
                                       "Connection": "close"})
        finally:
            stop.set()
            t.join(15)
        waited = time.monotonic() - t0
        assert_json_error(r, 503)
        assert waited < 20, waited
        # the route served throughout, as it was
        assert len(out) > 20, out[:3]
        assert all(o[1:] == (200, "/k/2") for o in out), \
            [o for o in out if o[1:] != (200, "/k/2")][:5]
    finally:
        lock.release()
    doc = register(gw, admin, route("/sv/new", backend.url + "/n"),
                   "/sv/new", echo_path("/n"))
    r = admin.patch("/routes/" + kept["id"],
                    {"targetUrl": backend.url + "/k2/{id}"})
    assert r.status_code == 200, r.text
    served_everywhere(gw, "/sv/kept/4", echo_path("/k2/4"))
    assert sorted(d["id"] for d in admin.routes()) \
        == sorted([kept["id"], doc["id"]])




def wait_snapshot(path, ids, timeout=12.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(path) as f:
                doc = json.load(f)
            if {r["id"] for r in doc["routes"]} == set(ids):
                return doc
        except (OSError, ValueError, KeyError):
            pass
        assert time.monotonic() < deadline, "no snapshot of %s at %s" % (
            ids, path)
        time.sleep(0.05)


@pytest.mark.allow_log("AGW00704", "AGW00718", "AGW00719", "AGW00720")
def test_store_unopenable_at_startup_serves_the_snapshot(store_dir, store,
                                                         backend, gateway):
    db = store[len("sqlite3:"):]
    gw = gateway(serving_conf(store, backend))
    admin = Admin(gw)
    docs = [admin.register(route("/sv/snap/%d/{id}" % i,
                                 backend.url + "/s%d/{id}" % i))
            for i in range(3)]
    off = admin.register(route("/sv/snap/off", backend.url + "/off",
                               enabled=False))
    snap = wait_snapshot(db + ".snapshot.json",
                         [d["id"] for d in docs] + [off["id"]])
    assert snap["generation"] > 0
    gw.stop()
    # the database replaced by something that is not one; the snapshot
    # beside it stays
    saved = os.path.join(store_dir, "saved")
    os.mkdir(saved)
    for name in os.listdir(store_dir):
        if name.startswith("routes.sqlite") and "snapshot" not in name:
            shutil.move(os.path.join(store_dir, name), saved)
    with open(db, "wb") as f:
        f.write(b"this is not a SQLite database\n" * 200)
    os.chmod(db, 0o666)
    gw2 = gateway(serving_conf(store, backend))
    started = time.monotonic()
    admin2 = Admin(gw2)
    assert_json_error(admin2.post("/routes", route("/sv/snap/new",
                                                   backend.url + "/n")), 503)
    # a new child's first requests wait for its first table (here the
    # snapshot's, after the store was given up for 2 s): served, not 404
    served_everywhere(gw2, "/sv/snap/0/x", echo_path("/s0/x"),
                      since=started, budget=3.5)
    for i in (1, 2):
        served_everywhere(gw2, "/sv/snap/%d/x" % i, echo_path("/s%d/x" % i),
                          budget=0.01)
    assert fresh(gw2, "/sv/snap/off").status_code == 404
    lines = wait_log(gw2, "AGW00718")
    assert "serving the 4 routes of the snapshot" in lines[0], lines[0]
    # the store back: followed again, writes work
    os.unlink(db)
    for name in os.listdir(saved):
        shutil.move(os.path.join(saved, name), store_dir)
    deadline = time.monotonic() + 3
    while True:
        r = admin2.post("/routes", route("/sv/snap/new", backend.url + "/n"))
        if r.status_code == 201 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert r.status_code == 201, r.text
    served_everywhere(gw2, "/sv/snap/new", echo_path("/n"), budget=2.0)
    served_everywhere(gw2, "/sv/snap/0/x", echo_path("/s0/x"), budget=0.01)
    wait_log(gw2, "AGW00720")


def test_kill_9_loses_no_acknowledged_write(store, backend, gateway):
    gw = gateway(serving_conf(store, backend))
    admin = Admin(gw)
    acked, in_flight, envs, errors = {}, {}, {}, []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(w):
        n = 0
        while not stop.is_set():
            n += 1
            path = "/sv/k%d/%d/{id}" % (w, n)
            target = backend.url + "/t%d/%d/{id}" % (w, n)
            with lock:
                in_flight[w] = ("post", path, target)
            try:
                r = requests.post(admin.url("/routes"), timeout=10,
                                  data=json.dumps(route(path, target)),
                                  headers={"Content-Type": "application/json",
                                           "Connection": "close"})
            except requests.RequestException:
                return
            if r.status_code != 201:
                errors.append(r.text)
                return
            doc = r.json()
            with lock:
                acked[doc["id"]] = {"path": path, "targetUrl": target}
            patched = target.replace("/t", "/p")
            with lock:
                in_flight[w] = ("patch", doc["id"], patched)
            try:
                r = requests.patch(admin.url("/routes/" + doc["id"]),
                                   timeout=10,
                                   data=json.dumps({"targetUrl": patched}),
                                   headers={"Content-Type":
                                            "application/json",
                                            "Connection": "close"})
            except requests.RequestException:
                return
            if r.status_code != 200:
                errors.append(r.text)
                return
            with lock:
                acked[doc["id"]]["targetUrl"] = patched
                in_flight.pop(w, None)

    def copier():
        n = 0
        while not stop.is_set():
            n += 1
            name = "copy%d" % n
            with lock:
                in_flight["env"] = ("env", name, None)
            try:
                r = requests.post(admin.url("/environments"), timeout=10,
                                  data=json.dumps({"name": name,
                                                   "from": "default",
                                                   "copyRoutes": True}),
                                  headers={"Content-Type": "application/json",
                                           "Connection": "close"})
            except requests.RequestException:
                return
            if r.status_code != 201:
                errors.append(r.text)
                return
            with lock:
                envs[name] = r.json()["copiedRoutes"]
                in_flight.pop("env", None)
            time.sleep(0.05)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    threads.append(threading.Thread(target=copier))
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while len(acked) < 40 and time.monotonic() < deadline:
        time.sleep(0.01)
    # the whole process group: parent and children at once
    os.killpg(gw.pgid, signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join(15)
    assert not errors, errors
    assert len(acked) >= 40, len(acked)
    assert envs, "no environment copy was acknowledged"
    gw.proc.wait(10)
    with lock:
        acked_now = {k: dict(v) for k, v in acked.items()}
        flying = list(in_flight.values())
    gw2 = gateway(serving_conf(store, backend))
    admin2 = Admin(gw2)
    stored = {d["id"]: d for d in admin2.routes()}
    # every acknowledged write is there, as acknowledged (or as the
    # write in flight on that route left it)
    for rid, want in acked_now.items():
        assert rid in stored, "acknowledged route %s lost" % rid
        got = stored[rid]
        assert got["path"] == want["path"], got
        patched = [f for f in flying if f[0] == "patch" and f[1] == rid]
        assert got["targetUrl"] in [want["targetUrl"]] \
            + [f[2] for f in patched], (got, want)
    # nothing else but a registration in flight
    extra = [d for rid, d in stored.items() if rid not in acked_now]
    flying_paths = {f[1] for f in flying if f[0] == "post"}
    assert all(d["path"] in flying_paths for d in extra), (extra, flying)
    # each copied environment whole
    names = Admin(gw2).environments()
    for name, count in envs.items():
        assert name in names, name
        assert len(admin2.routes(name)) == count, name
    # and the routes are served from the store again
    some = sorted(acked_now)[:3]
    for rid in some:
        want = stored[rid]
        path = want["path"].replace("{id}", "z")
        served_everywhere(gw2, path, echo_path(
            want["targetUrl"][len(backend.url):].replace("{id}", "z")),
            budget=2.0)

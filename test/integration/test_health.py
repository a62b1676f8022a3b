# SetHandler apigw-health on a real httpd: KrakenD's /__health document
# (which an imported krakend.json serves by default) unchanged, liveness
# at <location>/live, readiness at <location>/ready: 503 while every
# member of a pool an endpoint uses is suspended or disabled (real
# members, suspended by mod_apigw_breaker or disabled through
# balancer-manager) and 200 again once one is back; 503 while the route
# store cannot be opened and no snapshot was served, 200 "degraded" while
# the snapshot is served, 200 once the store answers.
import json
import os
import re
import shutil
import time

import pytest
import requests

from sus_util import MEMBER_FAILURE_TAGS, BalancerManager, members  # noqa: F401
from test_admin_api import Admin, admin_conf, route, store_dir  # noqa: F401
from test_runtime_routes import store  # noqa: F401 (fixture)

# two children: every child sees the pools' states
pytestmark = pytest.mark.children(2)

HEALTH = """<Location "/__health">
  SetHandler apigw-health
</Location>
"""

NOW = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
# the runtime-route lines of a store that cannot be opened: the admin
# API's (AGW00702, AGW00704), no snapshot (AGW00717), store lost, snapshot
# served, store back (AGW00718-00720)
STORE_DOWN_TAGS = ("AGW00702", "AGW00704", "AGW00717", "AGW00718",
                   "AGW00719", "AGW00720")


def get(gw, path, method="GET"):
    """One request on a connection of its own (either child answers)."""
    return requests.request(method, gw.url(path), timeout=10,
                            headers={"Connection": "close"})


def ready(gw):
    r = get(gw, "/__health/ready")
    assert r.status_code in (200, 503), (r.status_code, r.text)
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert r.headers["Cache-Control"] == "no-store"
    doc = r.json()
    assert doc["status"] in {200: ("ready", "degraded"),
                             503: ("unready",)}[r.status_code], doc
    assert NOW.match(doc["now"]), doc
    assert set(doc["checks"]) == {"routes", "pools"}, doc
    return r.status_code, doc


def ready_streak(gw, status, timeout, streak=6, word=None, ok=None):
    """Readiness until `streak` answers in a row (new connections, so both
    children) have this HTTP status (and this "status" word, and ok(doc));
    the last document."""
    deadline = time.monotonic() + timeout
    row, last = 0, None
    while row < streak:
        code, last = ready(gw)
        good = code == status and (word is None or last["status"] == word) \
            and (ok is None or ok(last))
        row = row + 1 if good else 0
        assert time.monotonic() < deadline or row, \
            "readiness not %d within %.1fs: %s" % (status, timeout, last)
        if row < streak:
            time.sleep(0.05)
    return last


def test_health_answers_liveness(gateway):
    gw = gateway(HEALTH)
    url = "http://127.0.0.1:%d/__health" % gw.port
    r = requests.get(url, timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert r.headers["Cache-Control"] == "no-store"
    # KrakenD's document, byte for byte
    assert re.fullmatch(rb'\{"agents":\{\},"now":"\d{4}-\d\d-\d\dT\d\d:\d\d:'
                        rb'\d\dZ","status":"ok"\}', r.content), r.content
    h = requests.head(url, timeout=10)
    assert h.status_code == 200 and h.content == b""
    # under the location, other than live and ready: the same document
    r = requests.get(url + "/x", timeout=10)
    assert r.status_code == 200 and r.json()["agents"] == {}, r.text
    r = requests.post(url, data=b"x", timeout=10)
    assert r.status_code == 405
    assert "GET" in r.headers.get("Allow", "")
    # elsewhere the handler is not in the way
    assert requests.get("http://127.0.0.1:%d/other" % gw.port,
                        timeout=10).status_code == 404


def test_live_and_ready_with_a_normal_config(backend, members, gateway):
    a = members("a")
    gw = gateway(HEALTH + f"""
<Proxy balancer://pool>
  BalancerMember {a.url}
</Proxy>
<ApiEndpoint "/v1/direct">
  ApiBackend {backend.url}/d
</ApiEndpoint>
<ApiEndpoint "/v1/pooled">
  ApiBackend balancer://pool/p
</ApiEndpoint>
""")
    r = get(gw, "/__health/live")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert r.headers["Cache-Control"] == "no-store"
    doc = r.json()
    assert doc["status"] == "alive" and NOW.match(doc["now"]), doc
    code, doc = ready(gw)
    assert code == 200 and doc["status"] == "ready", doc
    assert doc["checks"]["routes"] == {"status": "pass", "inUse": False}
    # the pool is checked; the direct backend has no pool state
    assert doc["checks"]["pools"] == {"status": "pass", "checked": 1,
                                      "failing": []}, doc
    for path in ("/__health/live", "/__health/ready"):
        h = get(gw, path, "HEAD")
        assert h.status_code == 200 and h.content == b"", path
        assert int(h.headers["Content-Length"]) > 0
        for method in ("POST", "PUT", "DELETE"):
            r = get(gw, path, method)
            assert r.status_code == 405, (path, method)
            assert "GET" in r.headers.get("Allow", ""), r.headers
    assert get(gw, "/v1/pooled").status_code == 200


@pytest.mark.allow_log(*MEMBER_FAILURE_TAGS)
def test_ready_503_while_every_member_is_suspended(members, gateway):
    a, b = members("a", "status/503"), members("b", "status/503")
    gw = gateway(HEALTH + f"""
<Proxy balancer://pool>
  BalancerMember {a.url}
  BalancerMember {b.url}
  ProxySet lbmethod=failover
</Proxy>
ApiBalancerSuspend balancer://pool codes=503 initial=4s max=4s
<ApiEndpoint "/v1/x">
  ApiBackend balancer://pool/x
  ProxyErrorOverride On 503
</ApiEndpoint>
""")
    code, doc = ready(gw)
    assert code == 200 and doc["checks"]["pools"]["status"] == "pass", doc
    # a answers 503: suspended, the request replayed on b, suspended too
    for _ in range(4):
        get(gw, "/v1/x")
        code, doc = ready(gw)
        if code == 503:
            break
    assert code == 503, doc
    suspended_at = time.monotonic()
    assert doc["status"] == "unready", doc
    assert doc["checks"]["routes"]["status"] == "pass", doc
    pools = doc["checks"]["pools"]
    assert pools["status"] == "fail" and pools["checked"] == 1, pools
    assert pools["reason"], pools
    assert pools["failing"] == [{
        "name": "balancer://pool",
        "members": [{"name": a.url, "state": "suspended"},
                    {"name": b.url, "state": "suspended"}]}], pools
    # every child sees it (the states are in shared memory)
    ready_streak(gw, 503, timeout=2)
    # a returns: once its suspension is over the balancer tries it again,
    # so the host is ready (and a serves)
    a.mode("ok")
    doc = ready_streak(gw, 200, timeout=8)
    assert time.monotonic() - suspended_at > 3, "ready before the " \
        "suspension (4 s) was over"
    assert doc["status"] == "ready" and doc["checks"]["pools"] == {
        "status": "pass", "checked": 1, "failing": []}, doc
    r = get(gw, "/v1/x")
    assert r.status_code == 200 and r.headers["X-Member"] == "a"
    ready_streak(gw, 200, timeout=2)


def test_ready_follows_disabled_members_of_endpoint_pools_only(members,
                                                               gateway):
    a, b, c = members("a"), members("b"), members("c")
    gw = gateway(HEALTH + f"""
<Proxy balancer://pool>
  BalancerMember {a.url}
  BalancerMember {b.url}
</Proxy>
<Proxy balancer://other>
  BalancerMember {c.url}
</Proxy>
<ApiEndpoint "/v1/x">
  ApiBackend balancer://pool/x
</ApiEndpoint>
<ApiEndpoint "/v1/direct">
  ApiBackend {c.url}/d
</ApiEndpoint>
ProxyPass /p balancer://other
<Location /balancer-manager>
  SetHandler balancer-manager
</Location>
""")
    bm = BalancerManager(gw.url(""))
    # a pool only a ProxyPass uses is no endpoint's: not checked
    bm.set_member("other", c.url, w_status_D=1)
    doc = ready_streak(gw, 200, timeout=3)
    assert doc["checks"]["pools"]["checked"] == 1, doc
    bm.set_member("pool", a.url, w_status_D=1)
    doc = ready_streak(gw, 200, timeout=3)          # b is left
    bm.set_member("pool", b.url, w_status_D=1)
    doc = ready_streak(gw, 503, timeout=3)
    assert doc["checks"]["pools"]["failing"] == [{
        "name": "balancer://pool",
        "members": [{"name": a.url, "state": "disabled"},
                    {"name": b.url, "state": "disabled"}]}], doc
    bm.set_member("pool", b.url, w_status_D=0)
    doc = ready_streak(gw, 200, timeout=3)
    assert doc["checks"]["pools"]["failing"] == [], doc
    assert get(gw, "/v1/x").status_code == 200


def unopenable(store):
    """The SQLite store replaced by a file that is no database."""
    path = store[len("sqlite3:"):]
    with open(path, "wb") as f:
        f.write(b"this is not a SQLite database\n" * 200)
    os.chmod(path, 0o666)
    return path


@pytest.mark.allow_log(*STORE_DOWN_TAGS)
def test_ready_503_while_the_store_is_unreachable_without_snapshot(
        store_dir, store, gateway):
    db = unopenable(store)
    gw = gateway(admin_conf(store, HEALTH))
    assert get(gw, "/__health/live").status_code == 200
    doc = ready_streak(gw, 503, timeout=3)
    routes = doc["checks"]["routes"]
    assert doc["status"] == "unready" and routes["status"] == "fail", doc
    assert routes["inUse"] is True and routes["environment"] == "default"
    assert routes["source"] == "none" and routes["refreshed"] is None
    assert routes["routes"] == 0 and "snapshot" in routes["reason"], routes
    assert doc["checks"]["pools"]["status"] == "pass", doc
    # after the snapshot's delay (2 s): none there, still unready
    deadline = time.monotonic() + 5
    while "AGW00717" not in gw.error_log_text():
        assert time.monotonic() < deadline, gw.error_log_text()
        time.sleep(0.05)
    ready_streak(gw, 503, timeout=2)
    # the store answers (a fresh database): ready
    os.unlink(db)
    doc = ready_streak(gw, 200, timeout=5, word="ready")
    routes = doc["checks"]["routes"]
    assert routes["status"] == "pass", doc
    assert routes["source"] == "store" and NOW.match(routes["refreshed"])
    assert "reason" not in routes, routes


@pytest.mark.allow_log(*STORE_DOWN_TAGS)
def test_ready_degraded_while_the_snapshot_is_served(store_dir, store,
                                                     backend, gateway):
    db = store[len("sqlite3:"):]
    gw = gateway(admin_conf(store, HEALTH))
    admin = Admin(gw)
    ids = {admin.register(route("/hv/%d" % i, backend.url + "/h%d" % i))["id"]
           for i in range(3)}
    doc = ready_streak(gw, 200, timeout=3)
    routes = doc["checks"]["routes"]
    assert routes["status"] == "pass" and routes["source"] == "store", doc
    assert routes["routes"] == 3 and routes["generation"] > 0, routes
    generation = routes["generation"]
    deadline = time.monotonic() + 12
    while True:
        try:
            with open(db + ".snapshot.json") as f:
                if {r["id"] for r in json.load(f)["routes"]} == ids:
                    break
        except (OSError, ValueError, KeyError):
            pass
        assert time.monotonic() < deadline, "no snapshot of the routes"
        time.sleep(0.05)
    gw.stop()
    saved = os.path.join(store_dir, "saved")
    os.mkdir(saved)
    for name in os.listdir(store_dir):
        if name.startswith("routes.sqlite") and "snapshot" not in name:
            shutil.move(os.path.join(store_dir, name), saved)
    unopenable(store)
    gw2 = gateway(admin_conf(store, HEALTH))
    # served from the snapshot (after 2 s): ready, degraded
    doc = ready_streak(gw2, 200, timeout=6, word="degraded")
    routes = doc["checks"]["routes"]
    assert routes["status"] == "degraded", doc
    assert routes["source"] == "snapshot" and routes["routes"] == 3, routes
    assert routes["generation"] == generation and routes["refreshed"] is None
    assert "snapshot" in routes["reason"], routes
    assert get(gw2, "/hv/1").json()["path"] == "/h1"
    # the store back: read again, ready and no longer degraded
    os.unlink(db)
    for name in os.listdir(saved):
        shutil.move(os.path.join(saved, name), store_dir)
    doc = ready_streak(gw2, 200, timeout=5, word="ready")
    routes = doc["checks"]["routes"]
    assert routes["status"] == "pass" and routes["source"] == "store"
    assert routes["routes"] == 3 and NOW.match(routes["refreshed"]), routes


def test_ready_checks_the_pools_of_runtime_routes(store_dir, store, members,
                                                  gateway):
    a = members("a")
    gw = gateway(admin_conf(store, HEALTH + f"""
<Proxy balancer://rpool>
  BalancerMember {a.url}
</Proxy>
<Location /balancer-manager>
  SetHandler balancer-manager
</Location>
"""))
    doc = ready_streak(gw, 200, timeout=3)
    assert doc["checks"]["pools"]["checked"] == 0, doc
    Admin(gw).register(route("/rv/{id}", "balancer://rpool/r/{id}"))
    deadline = time.monotonic() + 3
    while get(gw, "/rv/1").status_code != 200:
        assert time.monotonic() < deadline, "the route is not served"
        time.sleep(0.05)
    # served by every child: the pool is checked by every one
    ready_streak(gw, 200, timeout=3,
                 ok=lambda d: d["checks"]["pools"]["checked"] == 1)
    BalancerManager(gw.url("")).set_member("rpool", a.url, w_status_D=1)
    doc = ready_streak(gw, 503, timeout=3)
    assert doc["checks"]["pools"]["failing"] == [{
        "name": "balancer://rpool",
        "members": [{"name": a.url, "state": "disabled"}]}], doc
    assert doc["checks"]["routes"]["status"] == "pass", doc
    assert doc["checks"]["routes"]["routes"] == 1, doc

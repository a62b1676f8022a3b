# The rate limit and the circuit breaker of runtime routes (a route's
# rateLimit and circuitBreaker, registered through the admin API) enforced
# by mod_apigw_ratelimit and mod_apigw_breaker as they enforce an
# <ApiEndpoint>'s: 429 with the same RateLimit-* and Retry-After headers
# and JSON body, one bucket per route shared by every child, kept when
# the route changes in other ways and started afresh when its limit
# changes, keys by header and by an ap_expr expression compiled at run
# time; a route's limit adding to the limits of its <Location>; the
# breaker tripping to 503 without contacting the backend, logged and
# shown on the status page, back to standby after its fallback, its state
# kept or started afresh likewise; invalid settings refused by the admin
# API with the field at fault. Every gateway's error log must stay clean.
import concurrent.futures
import itertools
import os
import time

import pytest
import requests

from breaker_util import (FAIL, OK, STATUS_LOCATION, TRIPPED,
                          graceful_restart, is_refusal, status, wait_log)
from test_admin_api import (Admin, admin_conf, assert_json_error, route,
                            store_dir)  # noqa: F401 (fixture)

# two children: every child serves the routes and shares their buckets
pytestmark = pytest.mark.children(2)

# how long a registered or changed route may take to be served
PROPAGATION = 2.0


def get(gw, path, headers=None, session=None):
    return (session or requests).get(gw.url(path), headers=headers or {},
                                     timeout=10)


_probes = itertools.count()


def settle(gw, admin, backend):
    """Every child serves what the store holds now: a probe route
    registered after it (each child's table follows the store in order)
    is served on 12 new connections in a row, which land on either
    child. Probes reach the backend: count its requests after this."""
    path = "/probe/%d" % next(_probes)
    admin.register(route(path, backend.url + "/probe"))
    deadline = time.monotonic() + PROPAGATION
    served = 0
    while served < 12:
        r = requests.get(gw.url(path), headers={"Connection": "close"},
                         timeout=10)
        served = served + 1 if r.status_code == 200 else 0
        assert time.monotonic() < deadline, "the probe is not served"
        if not served:
            time.sleep(0.01)


def register(gw, admin, backend, doc):
    """Registers doc; returns it once every child serves it."""
    doc = admin.register(doc)
    settle(gw, admin, backend)
    return doc


def patch(gw, admin, backend, route_id, change):
    r = admin.patch("/routes/" + route_id, change)
    assert r.status_code == 200, r.text
    settle(gw, admin, backend)


def expect_429(r, retry_max, limit):
    """The rate limiter's refusal, as test_ratelimit.py checks it for a
    static limit."""
    assert r.status_code == 429, r.text
    assert r.headers["Content-Type"].split(";")[0] == "application/json"
    assert r.json() == {"status": 429, "error": "rate limit exceeded"}
    retry = int(r.headers["Retry-After"])
    assert 1 <= retry <= retry_max
    assert r.headers["RateLimit-Limit"] == str(limit)
    assert r.headers["RateLimit-Remaining"] == "0"
    assert int(r.headers["RateLimit-Reset"]) >= retry
    assert r.headers["Cache-Control"] == "no-store"


@pytest.fixture
def store(store_dir):
    return "sqlite3:" + os.path.join(store_dir, "routes.sqlite")


@pytest.fixture
def served(store, gateway):
    gw = gateway(admin_conf(store, "LogLevel apigw_breaker:notice\n"
                            + STATUS_LOCATION))
    return gw, Admin(gw)


LIMIT = {"average": 2, "period": "1m", "burst": 2}


# ---------------------------------------------------------------- limits

def test_route_limit_answers_429_with_headers(served, backend):
    gw, admin = served
    register(gw, admin, backend, route("/rp/limited/{id}",
                                       backend.url + "/x/{id}",
                                       rateLimit=LIMIT))
    sent = backend.stats()["requests"]
    r = get(gw, "/rp/limited/1")
    assert r.status_code == 200, r.text
    assert r.json()["path"] == "/x/1"
    assert r.headers["RateLimit-Limit"] == "2"
    assert r.headers["RateLimit-Remaining"] == "1"
    assert 0 < int(r.headers["RateLimit-Reset"]) <= 30
    r = get(gw, "/rp/limited/2")
    assert r.status_code == 200, r.text
    assert r.headers["RateLimit-Remaining"] == "0"
    # every path of the route shares its bucket (by defaults to endpoint)
    for path in ("/rp/limited/1", "/rp/limited/3"):
        expect_429(get(gw, path), 30, 2)
    # the refusals never reached the backend
    assert backend.stats()["requests"] - sent == 2
    # a second route with the same numbers has a bucket of its own
    register(gw, admin, backend, route("/rp/other", backend.url + "/other",
                                       rateLimit=LIMIT))
    assert get(gw, "/rp/other").headers["RateLimit-Remaining"] == "1"


def test_route_limit_is_shared_by_every_child(served, backend):
    gw, admin = served
    register(gw, admin, backend, route("/rp/shared", backend.url + "/shared",
                                       rateLimit={"average": 5,
                                                  "period": "1m",
                                                  "burst": 5}))

    def one(_):
        # a connection each: the requests spread over the children
        return requests.get(gw.url("/rp/shared"), timeout=10,
                            headers={"Connection": "close"}).status_code

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(one, range(40)))
    assert codes.count(200) == 5, codes
    assert codes.count(429) == 35, codes


def test_route_change_keeps_or_restarts_the_bucket(served, backend):
    gw, admin = served
    doc = register(gw, admin, backend, route("/rp/change", backend.url + "/a",
                                             rateLimit=LIMIT))
    assert [get(gw, "/rp/change").status_code for _ in range(2)] == [200, 200]
    expect_429(get(gw, "/rp/change"), 30, 2)
    # another target, the same limit: the same bucket, still empty
    patch(gw, admin, backend, doc["id"], {"targetUrl": backend.url + "/b"})
    expect_429(get(gw, "/rp/change"), 30, 2)
    # another limit: a new bucket
    patch(gw, admin, backend, doc["id"],
          {"rateLimit": {"average": 3, "period": "1m", "burst": 3}})
    r = get(gw, "/rp/change")
    assert r.status_code == 200, r.text
    assert r.json()["path"] == "/b"
    assert r.headers["RateLimit-Limit"] == "3"
    assert r.headers["RateLimit-Remaining"] == "2"
    assert [get(gw, "/rp/change").status_code for _ in range(3)] \
        == [200, 200, 429]
    # the limit removed: no limit at all
    patch(gw, admin, backend, doc["id"], {"rateLimit": None})
    for _ in range(5):
        r = get(gw, "/rp/change")
        assert r.status_code == 200, r.text
        assert "RateLimit-Limit" not in r.headers


def test_route_limit_by_header(served, backend):
    gw, admin = served
    register(gw, admin, backend, route("/rp/keyed", backend.url + "/k",
                                       rateLimit={"average": 1,
                                                  "period": "1m",
                                                  "by": "header:X-Api-Key"}))
    a, b = {"X-Api-Key": "alpha"}, {"X-Api-Key": "beta"}
    assert get(gw, "/rp/keyed", a).status_code == 200
    expect_429(get(gw, "/rp/keyed", a), 60, 1)
    assert get(gw, "/rp/keyed", b).status_code == 200
    assert get(gw, "/rp/keyed", b).status_code == 429
    # no header at all is a key of its own
    assert get(gw, "/rp/keyed").status_code == 200


def test_route_limit_by_expression(served, backend):
    """The expression is compiled by ap_expr_parse in a child, at run
    time (by the builder thread), and evaluated per request."""
    gw, admin = served
    register(gw, admin, backend,
             route("/rp/tenant", backend.url + "/t",
                   rateLimit={"average": 1, "period": "1m",
                              "by": "expr:%{tolower:%{HTTP:X-Tenant}}"}))
    one, two = {"X-Tenant": "One"}, {"X-Tenant": "two"}
    r = get(gw, "/rp/tenant", one)
    assert r.status_code == 200, r.text
    # a limit's key never adds Vary
    assert "X-Tenant" not in r.headers.get("Vary", "")
    assert get(gw, "/rp/tenant", {"X-Tenant": "ONE"}).status_code == 429
    assert get(gw, "/rp/tenant", two).status_code == 200
    assert get(gw, "/rp/tenant", two).status_code == 429


def test_route_limit_adds_to_its_locations(store, gateway, backend):
    """A route's limit is its own: the limits of the <Location> its path
    falls in apply too, as they do to an <ApiEndpoint> in it."""
    gw = gateway(admin_conf(store, """
<Location "/rp/">
  ApiRateLimit average=2 period=1m burst=2 name=outer
  ApiRateLimitHeaders draft
</Location>
"""))
    admin = Admin(gw)
    register(gw, admin, backend, route("/rp/both", backend.url + "/both",
                                       rateLimit={"average": 5,
                                                  "period": "1m",
                                                  "burst": 5}))
    r = get(gw, "/rp/both")
    assert r.status_code == 200, r.text
    assert r.headers["RateLimit-Policy"] == \
        '"outer";q=2;w=60, "limit-2";q=5;w=60'
    assert r.headers["RateLimit"].startswith('"outer";r=1;t=')
    assert '"limit-2";r=4;t=' in r.headers["RateLimit"]
    assert get(gw, "/rp/both").status_code == 200
    # the outer limit refuses; the route's gets its token back
    r = get(gw, "/rp/both")
    assert r.status_code == 429, r.text
    assert r.headers["RateLimit-Policy"] == '"outer";q=2;w=60'


def test_invalid_limit_refused(served, backend):
    gw, admin = served
    r = admin.post("/routes", route(
        "/rp/bad", backend.url + "/bad",
        rateLimit={"average": 1, "period": "1m", "by": "expr:%{HTTP:X"}))
    doc = assert_json_error(r, 400)
    assert doc["field"].startswith("rateLimit"), doc
    assert "cannot parse the expression" in doc["error"], doc
    assert admin.routes() == []


# ---------------------------------------------------------------- breakers

def breaker_route(backend, path, **breaker):
    return route(path + "/*", backend.url + "/{*}", circuitBreaker=breaker)


def route_state(gw, route_id):
    found = [s for s in status(gw)["routes"] if s["route"] == route_id]
    assert len(found) == 1, status(gw)
    return found[0]


def trip_route(gw, path):
    """Enough failures (min-requests is 10): the next request after an
    evaluation is due is refused. Returns it."""
    for _ in range(10):
        assert get(gw, path + "/" + FAIL).status_code == 500
    time.sleep(0.15)
    return get(gw, path + "/" + OK)


def test_route_breaker_trips_to_503(served, backend):
    gw, admin = served
    doc = register(gw, admin, backend,
                   breaker_route(backend, "/rp/cb", preset="5xx",
                                 fallbackSeconds=30))
    r = trip_route(gw, "/rp/cb")
    assert is_refusal(r), (r.status_code, r.text)
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["Cache-Control"] == "no-store"
    assert 25 <= int(r.headers["Retry-After"]) <= 30
    sent = backend.stats()["requests"]
    for _ in range(10):
        # on new connections: every child refuses
        r = requests.get(gw.url("/rp/cb/" + OK), timeout=10,
                         headers={"Connection": "close"})
        assert is_refusal(r), (r.status_code, r.text)
    # not one of those reached the backend
    assert backend.stats()["requests"] == sent
    lines = wait_log(gw, TRIPPED)
    assert len(lines) == 1, lines
    assert "[apigw_breaker:notice]" in lines[0]
    assert "circuit breaker of runtime route %s tripped" % doc["id"] \
        in lines[0], lines[0]
    assert "ResponseCodeRatio(500, 600, 0, 600)=1 over 10 requests" \
        in lines[0], lines[0]
    assert "answering 503 for 30s" in lines[0]
    doc_status = status(gw)
    assert doc_status["route_slots"] == 256
    s = route_state(gw, doc["id"])
    assert s["state"] == "tripped" and s["trips"] == 1, s


def test_route_breaker_recovers(served, backend):
    gw, admin = served
    register(gw, admin, backend,
             breaker_route(backend, "/rp/back", preset="5xx",
                           fallbackSeconds=1, recoverySeconds=0))
    assert is_refusal(trip_route(gw, "/rp/back"))
    time.sleep(1.2)
    # fallback elapsed, no ramp: admitted again, then standby
    for _ in range(5):
        r = get(gw, "/rp/back/" + OK)
        assert r.status_code == 200, r.text
    time.sleep(0.15)
    assert get(gw, "/rp/back/" + OK).status_code == 200


def test_route_change_keeps_or_restarts_the_breaker(served, backend):
    gw, admin = served
    doc = register(gw, admin, backend,
                   breaker_route(backend, "/rp/kept", preset="5xx",
                                 fallbackSeconds=30))
    assert is_refusal(trip_route(gw, "/rp/kept"))
    # another method added, the same breaker: still open
    patch(gw, admin, backend, doc["id"], {"methods": ["GET", "POST"]})
    r = requests.post(gw.url("/rp/kept/" + OK), timeout=10)
    assert is_refusal(r), (r.status_code, r.text)
    assert is_refusal(get(gw, "/rp/kept/" + OK))
    # another breaker: a new state, in standby
    patch(gw, admin, backend, doc["id"],
          {"circuitBreaker": {"preset": "5xx", "fallbackSeconds": 20}})
    r = get(gw, "/rp/kept/" + OK)
    assert r.status_code == 200, r.text
    assert r.json()["path"] == "/" + OK


def test_rate_limited_requests_are_not_measured(served, backend):
    """A request the route's limit refuses never reaches the breaker."""
    gw, admin = served
    doc = register(gw, admin, backend,
                   route("/rp/both/*", backend.url + "/{*}",
                         rateLimit={"average": 3, "period": "1m",
                                    "burst": 3},
                         circuitBreaker={"preset": "5xx"}))
    codes = [get(gw, "/rp/both/" + FAIL).status_code for _ in range(12)]
    assert codes == [500] * 3 + [429] * 9, codes
    time.sleep(0.15)
    s = route_state(gw, doc["id"])
    assert s["state"] == "standby", s
    assert s["window"]["requests"] == 3, s
    assert s["window"]["5xx"] == 3, s


def test_route_states_survive_a_graceful_restart(served, backend):
    gw, admin = served
    register(gw, admin, backend, route("/rp/gr-limit", backend.url + "/l",
                                       rateLimit=LIMIT))
    doc = register(gw, admin, backend,
                   breaker_route(backend, "/rp/gr-cb", preset="5xx",
                                 fallbackSeconds=60))
    assert [get(gw, "/rp/gr-limit").status_code for _ in range(3)] \
        == [200, 200, 429]
    assert is_refusal(trip_route(gw, "/rp/gr-cb"))
    before = route_state(gw, doc["id"])
    graceful_restart(gw)
    settle(gw, admin, backend)
    # the same bucket, still empty; the same state, still tripped
    expect_429(get(gw, "/rp/gr-limit"), 30, 2)
    assert is_refusal(get(gw, "/rp/gr-cb/" + OK))
    after = route_state(gw, doc["id"])
    assert after["state"] == "tripped", after
    assert after["since"] == before["since"] and after["trips"] == 1, after


def test_invalid_breaker_refused(served, backend):
    gw, admin = served
    r = admin.post("/routes", breaker_route(
        backend, "/rp/bad", expression="NetworkErrorRatio() > "))
    doc = assert_json_error(r, 400)
    assert doc["field"].startswith("circuitBreaker"), doc
    assert "position" in doc["error"], doc
    assert admin.routes() == []

# The "operations" view of the GraphQL management API (POST /admin/graphql)
# on a real httpd: balancer pools with their members' suspension state
# (mod_proxy_balancer's shared memory and mod_apigw_breaker's progression),
# circuit breakers and rate-limit counters, and the two actions,
# resumeMember and resetBreaker, whose effect every child sees.
#
# mod_apigw answers the query through optional functions of the sibling
# modules (apigw_ops_* in common/apigw_contract.h): mod_apigw_breaker's
# apigw_sus_ops.c and apigw_cb_ops.c, mod_apigw_ratelimit's apigw_rl_ops.c.
import datetime
import os
import re
import time

import pytest
import requests

from breaker_util import UNREACHABLE_LOGS, is_refusal
from conftest import free_port
from sus_util import MEMBER_FAILURE_TAGS, members  # noqa: F401 (fixture)
from test_admin_api import store_dir  # noqa: F401 (fixture)

# two children: every child sees the actions' effect
pytestmark = [pytest.mark.allow_log(*(MEMBER_FAILURE_TAGS + UNREACHABLE_LOGS)),
              pytest.mark.children(2)]

RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

ADMIN = """
LogLevel warn apigw:notice apigw_breaker:notice
<Location /admin>
  SetHandler apigw-admin
  Require ip 127.0.0.1
</Location>
"""

OPERATIONS = """{ operations { time
  pools { name lbmethod members { pool name state reason suspensions retries
                                  suspendedSince suspendedUntil } }
  breakers { id section backend expression state since trips
             window { requests networkErrors status5xx status4xx } }
  rateLimits { section policy admitted rejected delayed } } }"""


def gql(gw, query):
    """The GraphQL answer: (HTTP status, its JSON document)."""
    r = requests.post(gw.url("/admin/graphql"), json={"query": query},
                      timeout=10)
    assert r.headers["Content-Type"].split(";")[0] in (
        "application/json", "application/graphql-response+json"), \
        (r.status_code, r.headers, r.text)
    return r.status_code, r.json()


def data(gw, query):
    status, doc = gql(gw, query)
    assert status == 200 and not doc.get("errors"), (status, doc)
    return doc["data"]


def operations(gw):
    return data(gw, OPERATIONS)["operations"]


def when(text):
    assert RFC3339_MS.match(text), text
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def pool_of(ops, name):
    found = [p for p in ops["pools"] if p["name"] == name]
    assert len(found) == 1, ops["pools"]
    return found[0]


def member_of(ops, pool, url):
    found = [m for m in pool_of(ops, pool)["members"] if m["name"] == url]
    assert len(found) == 1, pool_of(ops, pool)
    return found[0]


def breaker_of(ops, section):
    found = [b for b in ops["breakers"] if b["section"] == section]
    assert len(found) == 1, ops["breakers"]
    return found[0]


def wait_for(pred, timeout=10.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def fresh_get(gw, path):
    """On a new connection, so it may land on any child."""
    return requests.get(gw.url(path), headers={"Connection": "close"},
                        timeout=10)


def test_suspended_member_breaker_and_counters_then_actions(
        members, gateway, store_dir):
    a, b = members("a"), members("b")
    dead = free_port()
    gw = gateway(f"""
ApiRouteStore sqlite3:{os.path.join(store_dir, "routes.sqlite")}
<Proxy balancer://pool>
  BalancerMember {a.url}
  BalancerMember {b.url}
  ProxySet lbmethod=byrequests
</Proxy>
ApiBalancerSuspend balancer://pool codes=connect-refused initial=60s factor=2 max=10m
<Location /p>
  ProxyPass balancer://pool
  ApiRateLimit average=1000 period=1s burst=1000 by=ip
</Location>
<Location /q>
  ProxyPass http://127.0.0.1:{dead}/
  ApiCircuitBreaker "NetworkErrorRatio() > 0.5" min-requests=3 check=50ms fallback=60s
</Location>
""" + ADMIN)
    ops = operations(gw)
    assert when(ops["time"])
    pool = pool_of(ops, "balancer://pool")
    assert pool["lbmethod"] == "byrequests"
    assert [m["name"] for m in pool["members"]] == [a.url, b.url]
    for m in pool["members"]:
        assert m == {"pool": "balancer://pool", "name": m["name"],
                     "state": "active", "reason": None, "suspensions": 0,
                     "retries": 0, "suspendedSince": None,
                     "suspendedUntil": None}, m

    # a's backend dies: the first request that picks a suspends it (and
    # is answered by b)
    a.kill()
    sent = 0
    for _ in range(20):
        r = fresh_get(gw, "/p/x")
        sent += 1
        assert r.status_code == 200 and r.headers["X-Member"] == "b"
        if member_of(operations(gw), "balancer://pool", a.url)["state"] \
                == "suspended":
            break
    ops = operations(gw)
    ma = member_of(ops, "balancer://pool", a.url)
    assert ma["state"] == "suspended", ma
    assert ma["suspensions"] == 1 and ma["retries"] == 0, ma
    # the error that suspended it, as the policy's codes= names it: the
    # refused connection to the killed backend
    assert ma["reason"] == "connect-refused", ma
    since, until = when(ma["suspendedSince"]), when(ma["suspendedUntil"])
    assert abs((until - since).total_seconds() - 60) < 0.01, ma
    assert abs((now() - since).total_seconds()) < 10, ma
    assert member_of(ops, "balancer://pool", b.url)["state"] == "active"
    assert "AGW02505" in gw.error_log_text()

    # the rate limit counted every request to /p
    limits = [c for c in ops["rateLimits"] if c["section"] == "<Location /p>"]
    assert len(limits) == 1, ops["rateLimits"]
    assert limits[0]["admitted"] == sent and limits[0]["rejected"] == 0
    assert limits[0]["delayed"] == 0
    assert "1000" in limits[0]["policy"] and "ip" in limits[0]["policy"]

    # the breaker of /q trips on its refused connections
    q = breaker_of(ops, "<Location /q>")
    assert q["state"] == "closed" and q["trips"] == 0, q
    assert q["backend"] is None
    assert q["expression"] == "NetworkErrorRatio() > 0.5"
    assert re.match(r"^.+:\d+$", q["id"]), q
    for _ in range(4):
        fresh_get(gw, "/q/x")
    time.sleep(0.1)
    fresh_get(gw, "/q/x")
    assert wait_for(lambda: breaker_of(operations(gw), "<Location /q>")
                    ["state"] == "open", timeout=5)
    assert is_refusal(fresh_get(gw, "/q/x"))
    q = breaker_of(operations(gw), "<Location /q>")
    assert q["trips"] == 1 and when(q["since"]), q
    # the window was emptied when it tripped; refusals are not counted
    assert q["window"] == {"requests": 0, "networkErrors": 0,
                           "status5xx": 0, "status4xx": 0}, q
    assert [b["id"] for b in operations(gw)["breakers"]].count(q["id"]) == 1

    # a comes back but stays suspended for its 60 s: nothing reaches it
    a.start()
    for _ in range(6):
        assert fresh_get(gw, "/p/x").headers["X-Member"] == "b"
    assert a.hits() == []

    # resumeMember: active now, in every child
    done = data(gw, 'mutation { resumeMember(pool: "balancer://pool", '
                'member: "%s") { pool name state reason suspensions '
                'suspendedUntil } }' % a.url)["resumeMember"]
    assert done == {"pool": "balancer://pool", "name": a.url,
                    "state": "active", "reason": None, "suspensions": 0,
                    "suspendedUntil": None}, done
    ma = member_of(operations(gw), "balancer://pool", a.url)
    assert ma["state"] == "active" and ma["suspensions"] == 0, ma
    # resumed: no reason any more
    assert ma["reason"] is None, ma
    got = [fresh_get(gw, "/p/x").headers["X-Member"] for _ in range(12)]
    assert "a" in got, got
    assert len(a.hits()) >= 1
    log = gw.error_log_text()
    assert re.search(r"\[apigw_breaker:notice\].*AGW02040: balancer://pool: "
                     r"member %s resumed" % re.escape(a.url), log), log

    # resetBreaker: closed, its window empty, its trips kept
    done = data(gw, 'mutation { resetBreaker(id: "%s") { id state trips '
                'window { requests } } }' % q["id"])["resetBreaker"]
    assert done == {"id": q["id"], "state": "closed", "trips": 1,
                    "window": {"requests": 0}}, done
    q2 = breaker_of(operations(gw), "<Location /q>")
    assert q2["state"] == "closed" and q2["trips"] == 1, q2
    assert when(q2["since"]) > when(q["since"])
    # admitted again (mod_proxy's own 503 for the dead backend, not the
    # breaker's refusal)
    assert not is_refusal(fresh_get(gw, "/q/x"))
    assert re.search(r"\[apigw_breaker:notice\].*AGW02041: circuit breaker "
                     r"%s .*reset" % re.escape(q["id"]),
                     gw.error_log_text())


def test_unknown_pool_member_or_breaker_is_an_error(members, gateway,
                                                    store_dir):
    a = members("a")
    gw = gateway(f"""
ApiRouteStore sqlite3:{os.path.join(store_dir, "routes.sqlite")}
<Proxy balancer://pool>
  BalancerMember {a.url}
</Proxy>
ProxyPass /p balancer://pool
""" + ADMIN)
    for query in ['mutation { resumeMember(pool: "balancer://nope", '
                  'member: "%s") { state } }' % a.url,
                  'mutation { resumeMember(pool: "balancer://pool", '
                  'member: "http://127.0.0.1:9") { state } }',
                  'mutation { resetBreaker(id: "nope:1") { state } }']:
        status, doc = gql(gw, query)
        assert doc.get("errors"), (status, doc)
        assert not (doc.get("data") or {}).get("resumeMember"), doc
        assert not (doc.get("data") or {}).get("resetBreaker"), doc
    # nothing changed
    ops = operations(gw)
    assert member_of(ops, "balancer://pool", a.url)["state"] == "active"
    assert ops["breakers"] == [] and ops["rateLimits"] == []


def test_member_in_mod_proxy_error_without_policy(members, gateway,
                                                  store_dir):
    a, b = members("a"), members("b")
    gw = gateway(f"""
ApiRouteStore sqlite3:{os.path.join(store_dir, "routes.sqlite")}
<Proxy balancer://plain>
  BalancerMember {a.url} retry=30
  BalancerMember {b.url}
</Proxy>
ProxyPass /p balancer://plain
""" + ADMIN)
    a.kill()
    for _ in range(10):
        assert fresh_get(gw, "/p/x").status_code == 200
        if member_of(operations(gw), "balancer://plain", a.url)["state"] \
                != "active":
            break
    ma = member_of(operations(gw), "balancer://plain", a.url)
    # mod_proxy's own error state: suspended, no progression, no reason
    assert ma["state"] == "suspended", ma
    assert ma["reason"] is None and ma["suspensions"] == 0, ma
    since, until = when(ma["suspendedSince"]), when(ma["suspendedUntil"])
    assert abs((until - since).total_seconds() - 30) < 0.01, ma
    # resumed like balancer-manager would: back in the rotation
    a.start()
    done = data(gw, 'mutation { resumeMember(pool: "balancer://plain", '
                'member: "%s") { state } }' % a.url)["resumeMember"]
    assert done == {"state": "active"}, done
    got = [fresh_get(gw, "/p/x").headers["X-Member"] for _ in range(8)]
    assert "a" in got, got

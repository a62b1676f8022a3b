# Failover and load-balance groups, retries and the timeout action, on real
# balancers in front of real members: declared order and going back to the
# primary; strict round robin across children; stock lbmethods with a
# suspension policy; session affinity by header and by cookie, with its
# timeout; replay of idempotent requests only, delay between retries,
# budget; fault (504 JSON), discard (no answer) and never.
import socket
import time

import pytest
import requests

from conftest import raw_get
from sus_util import MEMBER_FAILURE_TAGS, members  # noqa: F401  (fixture)

# two children: round robin across children
pytestmark = [pytest.mark.allow_log(*MEMBER_FAILURE_TAGS),
              pytest.mark.children(2)]


def member_of(gw, path="/p/x", **kw):
    r = requests.get(gw.url(path), **kw)
    assert r.status_code == 200, r.text
    return r.headers["X-Member"]


def pool_conf(urls, lbmethod, extra="", member_opts=""):
    lines = "\n".join("  BalancerMember %s %s" % (u, member_opts) for u in urls)
    return f"""
<Proxy balancer://pool>
{lines}
  ProxySet lbmethod={lbmethod}
</Proxy>
{extra}
ProxyPass /p balancer://pool
"""


def test_failover_in_declared_order_and_back_to_primary(members, gateway):
    a, b, c = members("a"), members("b"), members("c")
    gw = gateway(pool_conf([a.url, b.url, c.url], "failover",
                           "ApiBalancerSuspend balancer://pool initial=1s"))
    assert {member_of(gw) for _ in range(6)} == {"a"}
    a.kill()
    assert [member_of(gw) for _ in range(4)] == ["b"] * 4
    b.kill()
    assert [member_of(gw) for _ in range(4)] == ["c"] * 4
    a.start()
    time.sleep(1.2)                   # a's suspension ends
    assert member_of(gw) == "a"
    b.start()


def test_roundrobin_takes_turns_across_children(members, gateway):
    ms = [members(n) for n in "abc"]
    gw = gateway(pool_conf([m.url for m in ms], "roundrobin"))
    got = [member_of(gw, headers={"Connection": "close"}) for _ in range(30)]
    # new connections land on either child: the turn is shared
    assert {n: got.count(n) for n in "abc"} == {"a": 10, "b": 10, "c": 10}, got
    for i in range(3, 30):
        assert got[i] == got[i - 3], got


def test_stock_lbmethod_with_suspension(members, gateway):
    a, b = members("a"), members("b")
    dead = a.url
    a.stop()
    gw = gateway(pool_conf([dead, b.url], "byrequests",
                           "ApiBalancerSuspend balancer://pool initial=30s"))
    assert [member_of(gw) for _ in range(6)] == ["b"] * 6
    assert gw.error_log_text().count("AGW02505") == 1


def test_affinity_by_header_with_session_timeout(members, gateway):
    ms = [members(n) for n in "abc"]
    gw = gateway(pool_conf([m.url for m in ms], "roundrobin",
                           "ApiBalancerAffinity balancer://pool "
                           "header=X-Client-Id timeout=2s"))
    u1 = {"X-Client-Id": "u1"}
    first = member_of(gw, headers=u1)                     # turn 0
    assert first == "a"
    assert {member_of(gw, headers=u1) for _ in range(5)} == {"a"}
    assert member_of(gw) == "b"                           # turn 1
    assert member_of(gw, headers={"X-Client-Id": "u2"}) == "c"   # turn 2
    assert member_of(gw, headers={"X-Client-Id": "u2"}) == "c"
    time.sleep(2.5)                                       # u1 expired
    assert member_of(gw, headers=u1) == "a"               # turn 3 = a
    assert member_of(gw, headers=u1) == "a"
    assert member_of(gw) == "b"
    # the session's member goes away: it moves, and stays where it went
    ms[0].kill()
    moved = member_of(gw, headers=u1)
    assert moved in ("b", "c")
    assert {member_of(gw, headers=u1) for _ in range(3)} == {moved}


def test_affinity_by_cookie_learned_from_the_member(members, gateway):
    ms = [members(n) for n in "abc"]
    gw = gateway(pool_conf([m.url for m in ms], "roundrobin",
                           "ApiBalancerAffinity balancer://pool cookie=SID"))
    r = requests.get(gw.url("/p/__setcookie/SID/s-42/login"))
    owner = r.headers["X-Member"]
    assert r.cookies.get("SID") == "s-42"
    jar = {"SID": "s-42"}
    assert {member_of(gw, cookies=jar) for _ in range(6)} == {owner}
    # without the cookie, the turns go on
    assert len({member_of(gw) for _ in range(3)}) == 3


@pytest.mark.serial         # wall-clock bounds: run alone
def test_idempotent_request_replayed_others_not(members, gateway):
    a, b = members("a", "slow/2000"), members("b")
    gw = gateway(pool_conf([a.url, b.url], "failover",
                           "ApiBalancerRetries 1", member_opts="timeout=1"))
    t0 = time.monotonic()
    assert member_of(gw) == "b"                 # a timed out, replayed on b
    assert 0.9 < time.monotonic() - t0 < 1.9
    a.reset()
    b.reset()
    a.mode("slow", 2000)
    r = requests.post(gw.url("/p/x"), data=b"order=1")
    # not replayed: the timeout is answered (fault, the default)
    assert r.status_code == 504
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {"status": 504, "error": "the backend did not answer in time"}
    assert [h[1] for h in a.hits()] == ["POST"]
    assert b.hits() == []


def test_request_whose_connect_failed_is_sent_elsewhere(members, gateway):
    a, b = members("a"), members("b")
    dead = a.url
    a.stop()
    gw = gateway(pool_conf([dead, b.url], "failover",
                           "ApiBalancerSuspend balancer://pool initial=0 max=0"))
    for i in range(3):
        r = requests.post(gw.url("/p/x"), data=b"n=%d" % i)
        assert r.status_code == 200 and r.headers["X-Member"] == "b"
    assert [h[1] for h in b.hits()] == ["POST"] * 3


@pytest.mark.serial         # wall-clock bounds: run alone
def test_retry_delay_between_attempts(members, gateway):
    a, b, c = members("a", "close"), members("b", "close"), members("c")
    gw = gateway(pool_conf([a.url, b.url, c.url], "failover",
                           "ApiBalancerRetries 2 delay=300ms",
                           member_opts="disablereuse=on"))
    t0 = time.monotonic()
    assert member_of(gw) == "c"
    took = time.monotonic() - t0
    assert 0.6 <= took < 1.5, took
    ta, tb = a.hits()[0][0], b.hits()[0][0]
    assert 0.29 <= tb - ta < 0.8, tb - ta


@pytest.mark.serial         # wall-clock bounds: run alone
def test_retries_stop_at_the_budget(members, gateway):
    ms = [members(n, "slow/3000") for n in "abcd"]
    gw = gateway(pool_conf([m.url for m in ms], "roundrobin",
                           "ApiBalancerRetries 5 within=2500ms",
                           member_opts="timeout=1"))
    t0 = time.monotonic()
    r = requests.get(gw.url("/p/x"))
    took = time.monotonic() - t0
    assert r.status_code == 504 and r.json()["status"] == 504
    tried = sum(len(m.hits()) for m in ms)
    assert 2 <= tried <= 3, tried
    assert took < 3.6, took


def test_timeout_action_discard_closes_without_answer(members, gateway):
    a = members("a", "slow/2000")
    gw = gateway(pool_conf([a.url], "roundrobin",
                           "ApiBalancerTimeoutAction discard",
                           member_opts="timeout=1"))
    with socket.create_connection(("127.0.0.1", gw.port), timeout=5) as s:
        s.sendall(b"GET /p/x HTTP/1.1\r\nHost: x\r\n\r\n")
        data = s.recv(1024)
    assert data == b""
    gw.wait_access_log('"GET /p/x HTTP/1.1" 504')


@pytest.mark.serial         # wall-clock bounds: run alone
def test_timeout_action_never_waits_for_the_member(members, gateway):
    a = members("a", "slow/2500")
    gw = gateway(pool_conf([a.url], "roundrobin",
                           "ApiBalancerTimeoutAction never",
                           member_opts="timeout=1"))
    t0 = time.monotonic()
    assert member_of(gw) == "a"
    assert time.monotonic() - t0 >= 2.4


def test_timeout_action_fault_is_json(members, gateway):
    a = members("a", "slow/2000")
    gw = gateway(pool_conf([a.url], "roundrobin",
                           "ApiBalancerSuspend balancer://pool initial=1s",
                           member_opts="timeout=1"))
    r = raw_get(gw.port, "/p/x")
    assert r.status == 504
    assert r.headers["content-type"] == "application/json"
    assert r.json()["error"] == "the backend did not answer in time"


def test_retries_and_action_per_location_and_endpoint(members, gateway):
    a, b = members("a", "slow/2000"), members("b")
    gw = gateway(f"""
<Proxy balancer://pool>
  BalancerMember {a.url} timeout=1
  BalancerMember {b.url} timeout=1
  ProxySet lbmethod=failover
  ApiBalancerRetries 0
</Proxy>
ProxyPass /p balancer://pool
<Location /p/retry>
  ApiBalancerRetries 1
</Location>
<ApiEndpoint "/v1/x" GET>
  ApiBackend balancer://pool/x
  ApiBalancerRetries 1
  ApiTimeout 3s
</ApiEndpoint>
""")
    r = requests.get(gw.url("/p/x"))              # the section's 0 retries
    assert r.status_code == 504
    assert member_of(gw, "/p/retry") == "b"
    r = requests.get(gw.url("/v1/x"))
    assert r.status_code == 200 and r.headers["X-Member"] == "b"


@pytest.mark.serial         # wall-clock bounds: run alone
@pytest.mark.parametrize("within", ["", " within=10s"])
def test_api_timeout_bounds_the_retries(members, gateway, within):
    """The endpoint's deadline bounds the attempts, also when within= is
    longer (a retry started after it would meet a 1 ms socket timeout and
    count a healthy member as failed)."""
    ms = [members(n, "slow/3000") for n in "abc"]
    gw = gateway(f"""
<Proxy balancer://pool>
  BalancerMember {ms[0].url}
  BalancerMember {ms[1].url}
  BalancerMember {ms[2].url}
  ProxySet lbmethod=roundrobin
</Proxy>
<ApiEndpoint "/v1/x" GET>
  ApiBackend balancer://pool/x
  ApiBalancerRetries 3{within}
  ApiTimeout 1500ms
</ApiEndpoint>
""")
    t0 = time.monotonic()
    r = requests.get(gw.url("/v1/x"))
    took = time.monotonic() - t0
    assert r.status_code == 504 and r.json()["status"] == 504
    assert 1.4 < took < 2.5, took
    # the endpoint's time was used up by the first attempt: no retry
    assert sum(len(m.hits()) for m in ms) == 1


def test_refused_post_is_retried_with_its_body(members, backend_factory, gateway):
    a, b = members("a"), backend_factory("b")
    dead = a.url
    a.stop()
    # maxattempts=0: mod_proxy_balancer does not fail over by itself, the
    # retry loop does
    gw = gateway(f"""
<Proxy balancer://pool>
  BalancerMember {dead}
  BalancerMember {b.url}
  ProxySet lbmethod=failover maxattempts=0
  ApiBalancerSuspend initial=0 max=0
  ApiBalancerRetries 1
</Proxy>
ProxyPass /p balancer://pool
""")
    for i in range(3):
        r = requests.post(gw.url("/p/orders"), data=b"order=%d" % i)
        assert r.status_code == 200, r.text
        doc = r.json()
        assert (doc["backend"], doc["method"], doc["body"]) == ("b", "POST", "order=%d" % i)

# Member suspension (WSO2/Synapse semantics) on real balancers: suspension
# lengths progress initial, x factor, capped at max, measured from when the
# member saw its probes; a success resets the progression; the timeout state
# with its retries and retry delay; a suspended member is in
# mod_proxy_balancer's own error state, shown by balancer-manager, where an
# operator can take it back; the same policies for an <ApiEndpoint> whose
# backend is the balancer.
import re
import time

import pytest
import requests

from sus_util import (MEMBER_FAILURE_TAGS, BalancerManager, Driver, bursts,
                      diffs, members)  # noqa: F401  (fixture)

pytestmark = pytest.mark.allow_log(*MEMBER_FAILURE_TAGS)


def suspensions_logged(gw):
    """The lengths (ms) of the AGW02505 lines, in order."""
    return [int(x) for x in re.findall(r"AGW02505: .*? suspended for (\d+)ms",
                                       gw.error_log_text())]


def wait_for(pred, timeout=10.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def test_progression_initial_factor_max_then_reset(members, gateway):
    a, b = members("a", "status/503"), members("b")
    gw = gateway(f"""
<Proxy balancer://pool>
  BalancerMember {a.url}
  BalancerMember {b.url}
  ProxySet lbmethod=failover
</Proxy>
ApiBalancerSuspend balancer://pool codes=503 initial=1s factor=2 max=4s
ProxyErrorOverride On 503
ProxyPass /p balancer://pool
""")
    drv = Driver(gw.port, "/p/x", threads=1, pause=0.02).start()
    try:
        # a's probes: at 0, +1s, +1+2s, +1+2+4s, +1+2+4+4s
        assert wait_for(lambda: len(a.hits()) >= 5, timeout=20), a.hits()
        a.mode("ok")
        assert wait_for(lambda: len(suspensions_logged(gw)) >= 5, timeout=6)
        assert wait_for(lambda: "AGW02507" in gw.error_log_text(), timeout=6)
        # the next probe succeeds: a serves again (it is the primary)
        n = len(a.hits())
        assert wait_for(lambda: len(a.hits()) >= n + 20, timeout=8)
        before = len(suspensions_logged(gw))
        a.mode("status", 503)
        assert wait_for(lambda: len(suspensions_logged(gw)) > before, timeout=5)
    finally:
        drv.stop()
    # every answer came from b while a failed: the 503s were replayed
    assert not drv.failures(), drv.failures()[:5]
    logged = suspensions_logged(gw)
    assert logged[:5] == [1000, 2000, 4000, 4000, 4000], logged
    # after the success the first suspension is initial again
    assert logged[before] == 1000, logged
    assert "AGW02507" in gw.error_log_text()           # active again


def test_progression_measured_from_probe_times(members, gateway):
    a, b = members("a", "status/503"), members("b")
    gw = gateway(f"""
<Proxy balancer://pool>
  BalancerMember {a.url}
  BalancerMember {b.url}
  ProxySet lbmethod=failover
</Proxy>
ApiBalancerSuspend balancer://pool codes=503 initial=1s factor=2 max=4s
ProxyPass /p balancer://pool
""")
    drv = Driver(gw.port, "/p/x", threads=2, pause=0.01).start()
    try:
        assert wait_for(lambda: len(a.hits()) >= 6, timeout=25), a.hits()
    finally:
        drv.stop()
    probes = bursts([h[0] for h in a.hits()], gap=0.3)
    gaps = diffs(probes)[:5]
    expected = [1, 2, 4, 4, 4]
    assert len(gaps) >= 4, probes
    for got, want in zip(gaps, expected):
        # a probe leaves within a few ms of the end of the suspension
        # (requests every 10 ms from two threads); generous on a busy box
        assert want - 0.05 <= got <= want + 0.6, (gaps, expected)
    # one probe per suspension, not one per child or thread (the first
    # failure may meet several requests in flight)
    later = [h for h in a.hits() if h[0] >= probes[1] - 0.01]
    assert len(later) == len(probes) - 1, a.hits()


def test_timeout_state_retries_and_delay(members, gateway):
    a, b = members("a", "slow/1500"), members("b")
    gw = gateway(f"""
<Proxy balancer://pool>
  BalancerMember {a.url} timeout=1
  BalancerMember {b.url} timeout=1
  ProxySet lbmethod=failover
</Proxy>
ApiBalancerSuspend balancer://pool codes=connect-refused initial=3s
ApiBalancerMarkForSuspension balancer://pool codes=read-timeout retries=2 retry-delay=1s
ApiBalancerRetries 1 within=5s
ProxyPass /p balancer://pool
""")
    drv = Driver(gw.port, "/p/x", threads=1, pause=0.02).start()
    try:
        # a: timeout (1s) + delay 1s, twice; then a 3s suspension
        assert wait_for(lambda: len(a.hits()) >= 4, timeout=20), a.hits()
        a.mode("ok")
        assert wait_for(lambda: "AGW02507" in gw.error_log_text(), timeout=8)
    finally:
        drv.stop()
    probes = bursts([h[0] for h in a.hits()], gap=0.3)
    gaps = diffs(probes)[:3]
    # each gap: the 1 s the attempt waited, then the delay or the suspension
    for got, want in zip(gaps, [2, 2, 4]):
        assert want - 0.05 <= got <= want + 0.7, gaps
    log = gw.error_log_text()
    assert len(re.findall(r"AGW02506: .*timeout state after read-timeout "
                          r"\((\d) of 2 retries", log)) == 2, log
    assert suspensions_logged(gw)[0] == 3000
    # every request was answered: a's timeouts were replayed on b
    assert not drv.failures(), drv.failures()[:5]
    assert all(r[2] in ("a", "b") for r in drv.results)


def test_success_in_timeout_state_returns_member_to_active(members, gateway):
    a, b = members("a", "close"), members("b")
    gw = gateway(f"""
<Proxy balancer://pool>
  BalancerMember {a.url} disablereuse=on
  BalancerMember {b.url}
  ProxySet lbmethod=failover
</Proxy>
ApiBalancerMarkForSuspension balancer://pool retries=3 retry-delay=500ms
ProxyPass /p balancer://pool
""")
    r = requests.get(gw.url("/p/x"))
    assert r.status_code == 200 and r.headers["X-Member"] == "b"
    assert "AGW02506" in gw.error_log_text()
    a.mode("ok")
    time.sleep(0.6)
    assert wait_for(lambda: requests.get(gw.url("/p/x")).headers["X-Member"] == "a",
                    timeout=3)
    assert "AGW02507" in gw.error_log_text()
    assert "AGW02505" not in gw.error_log_text()


def test_balancer_manager_shows_suspension_and_operator_reenables(members, gateway):
    a, b = members("a", "status/503"), members("b")
    gw = gateway(f"""
<Proxy balancer://pool>
  BalancerMember {a.url}
  BalancerMember {b.url}
  ProxySet lbmethod=failover
</Proxy>
ApiBalancerSuspend balancer://pool codes=503 initial=60s factor=2 max=10m
ProxyPass /p balancer://pool
<Location /balancer-manager>
  SetHandler balancer-manager
</Location>
""")
    bm = BalancerManager(gw.url(""))
    assert "failover" in bm.methods("pool") and "roundrobin" in bm.methods("pool")
    requests.get(gw.url("/p/x"))                  # a answers 503: suspended
    assert suspensions_logged(gw) == [60000]
    assert "Err" in bm.member_status("pool", a.url)
    assert "Ok" in bm.member_status("pool", b.url)
    xml = bm.xml()
    assert re.search(r"<httpd:name>%s</httpd:name>.*?<httpd:status>Init Err "
                     r"</httpd:status>.*?<httpd:retry>60</httpd:retry>"
                     % re.escape(a.url), xml, re.S), xml
    # suspended: a gets nothing
    a.reset()
    a.mode("ok")
    for _ in range(5):
        assert requests.get(gw.url("/p/x")).headers["X-Member"] == "b"
    assert a.hits() == []

    # the operator takes it back: Ignore Errors on, then off again
    bm.set_member("pool", a.url, w_status_I=1)
    assert requests.get(gw.url("/p/x")).headers["X-Member"] == "a"
    bm.set_member("pool", a.url, w_status_I=0)
    assert bm.member_status("pool", a.url).strip() == "Init Ok"
    assert requests.get(gw.url("/p/x")).headers["X-Member"] == "a"
    assert "AGW02509" in gw.error_log_text()
    # its progression starts afresh: the next suspension is initial
    a.mode("status", 503)
    requests.get(gw.url("/p/x"))
    assert suspensions_logged(gw) == [60000, 60000]
    assert "Err" in bm.member_status("pool", a.url)


def test_uncounted_errors_fail_over_without_suspending(members, gateway):
    a, b = members("a", "close"), members("b")
    gw = gateway(f"""
<Proxy balancer://pool>
  BalancerMember {a.url} disablereuse=on
  BalancerMember {b.url}
  ProxySet lbmethod=failover
</Proxy>
ApiBalancerSuspend balancer://pool codes=connect-refused,503 initial=30s
ProxyPass /p balancer://pool
""")
    for _ in range(4):
        r = requests.get(gw.url("/p/x"))
        assert r.status_code == 200 and r.headers["X-Member"] == "b"
    # a closed every connection: not a listed error, never suspended, so
    # each request tried it first
    assert len(a.hits()) == 4
    assert "AGW02505" not in gw.error_log_text()


def test_member_policy_overrides_balancer_policy(members, gateway):
    a, b, c = members("a", "status/503"), members("b", "status/503"), members("c")
    gw = gateway(f"""
<Proxy balancer://pool>
  BalancerMember {a.url}
  BalancerMember {b.url}
  BalancerMember {c.url}
  ProxySet lbmethod=failover
  ApiBalancerSuspend codes=503 initial=2s
</Proxy>
ApiBalancerSuspend balancer://pool {b.url} initial=7s max=7s
ProxyPass /p balancer://pool
""")
    requests.get(gw.url("/p/x"))
    requests.get(gw.url("/p/x"))
    logged = re.findall(r"member (\S+) suspended for (\d+)ms", gw.error_log_text())
    assert (a.url, "2000") in logged and (b.url, "7000") in logged, logged


def test_disabled_suspension_only_fails_over(members, gateway):
    a, b = members("a"), members("b")
    dead = a.url
    a.stop()
    gw = gateway(f"""
<Proxy balancer://pool>
  BalancerMember {dead}
  BalancerMember {b.url}
  ProxySet lbmethod=failover
</Proxy>
ApiBalancerSuspend balancer://pool initial=0 max=0
ProxyPass /p balancer://pool
""")
    for _ in range(3):
        r = requests.get(gw.url("/p/x"))
        assert r.status_code == 200 and r.headers["X-Member"] == "b"
    assert "AGW02505" not in gw.error_log_text()
    # the dead member was tried every time (its refusals in the log)
    assert gw.error_log_text().count("AH00957") >= 3


def test_policies_apply_to_api_endpoint_backends(members, gateway):
    a, b = members("a", "status/503"), members("b")
    gw = gateway(f"""
<Proxy balancer://users>
  BalancerMember {a.url}
  BalancerMember {b.url}
  ProxySet lbmethod=failover
</Proxy>
ApiBalancerSuspend balancer://users codes=503 initial=1s factor=3 max=10s
<ApiEndpoint "/v1/users/{{id}}" GET>
  ApiBackend balancer://users/users/{{id}}
  ProxyErrorOverride On 503
</ApiEndpoint>
""")
    drv = Driver(gw.port, "/v1/users/7", threads=1, pause=0.02).start()
    try:
        assert wait_for(lambda: len(a.hits()) >= 3, timeout=10), a.hits()
    finally:
        drv.stop()
    assert suspensions_logged(gw)[:3] == [1000, 3000, 9000]
    assert not drv.failures(), drv.failures()[:5]
    assert {r[2] for r in drv.results} == {"b"}
    assert a.hits()[0][2] == "/users/7"

# Failover under load: three members behind a failover group and behind a
# round-robin group, GETs from eight kept-alive clients for 11 s, one
# member killed (SIGKILL) and later restarted on its port: not one request
# may fail while a member is alive, and the restarted member serves again.
# And members killed in the middle of their responses never crash a child.
import threading
import time

import pytest
import requests

from sus_util import MEMBER_FAILURE_TAGS, Driver, members  # noqa: F401

# eight clients for 11 s, not one failure allowed: a load of its own, run
# alone
pytestmark = [pytest.mark.allow_log(*MEMBER_FAILURE_TAGS), pytest.mark.serial]


@pytest.mark.parametrize("lbmethod", ["roundrobin", "failover"])
def test_no_failed_request_while_a_member_is_alive(members, gateway, lbmethod):
    ms = [members(n) for n in "abc"]
    gw = gateway(f"""
<Proxy balancer://pool>
  BalancerMember {ms[0].url}
  BalancerMember {ms[1].url}
  BalancerMember {ms[2].url}
  ProxySet lbmethod={lbmethod}
</Proxy>
ApiBalancerSuspend balancer://pool initial=1s factor=2 max=2s
ApiBalancerRetries 2
ProxyPass /p balancer://pool
""")
    # the victim dies after 2 s of load and is suspended for 1 s, then
    # 2 s at a time: restarted 4 s later, it is probed again within 2 s
    victim = ms[0]                    # the primary of the failover group
    drv = Driver(gw.port, "/p/items/1", threads=8).start()
    try:
        time.sleep(2)
        killed_at = time.time()
        victim.kill()
        time.sleep(4)
        victim.start()
        restarted_at = time.time()
        time.sleep(5)
    finally:
        drv.stop()
    results = drv.results
    assert len(results) > 1000, len(results)
    assert not drv.failures(), "%d of %d failed, first: %s" % (
        len(drv.failures()), len(results), drv.failures()[:5])
    served = lambda name, t0, t1: sum(                   # noqa: E731
        1 for t, _, m in results if m == name and t0 <= t < t1)
    others = [m.name for m in ms[1:]]
    assert sum(served(n, killed_at + 0.5, restarted_at) for n in others) > 100
    assert served(victim.name, killed_at + 0.5, restarted_at) == 0
    # back after its suspension: a failover group returns to its primary
    assert served(victim.name, restarted_at + 3, time.time()) > 100
    assert "AGW02505" in gw.error_log_text()
    assert "AGW02507" in gw.error_log_text()


def test_members_killed_mid_response_crash_no_child(members, backend_factory,
                                                    gateway):
    staller, spare = backend_factory("staller"), members("spare")
    gw = gateway(f"""
<Proxy balancer://pool>
  BalancerMember {staller.url}
  BalancerMember {spare.url}
  ProxySet lbmethod=failover
</Proxy>
ApiBalancerSuspend balancer://pool initial=1s
ApiBalancerRetries 1
ProxyPass /p balancer://pool
""")
    outcomes = []

    def stalled_get():
        try:
            r = requests.get(gw.url("/p/__stall/3000"), timeout=10)
            outcomes.append(("status", r.status_code, len(r.content),
                             int(r.headers.get("Content-Length", -1))))
        except requests.RequestException as e:
            outcomes.append(("error", type(e).__name__, 0, 0))

    threads = [threading.Thread(target=stalled_get) for _ in range(6)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    staller.proc.kill()               # kill -9 with half-sent responses
    staller.proc.wait()
    for t in threads:
        t.join(timeout=15)
    assert len(outcomes) == 6
    # a client got an error or a body cut short (the gateway aborted the
    # connection), never something passed off as a whole response
    for kind, what, n, declared in outcomes:
        assert kind == "error" or what != 200 or n < declared, outcomes
    # the gateway serves on, from the spare
    for _ in range(5):
        r = requests.get(gw.url("/p/x"))
        assert r.status_code == 200 and r.headers["X-Member"] == "spare"

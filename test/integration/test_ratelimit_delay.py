# mod_apigw_ratelimit, delay=: requests that find no token but would find
# one within delay= wait for it instead of being refused. Measured on raw
# sockets (all requests leave within a millisecond): each waits until its
# token exists, never less; the one that would wait too long is refused at
# once; ApiRateLimitMaxDelayed caps the requests waiting in a child (the
# others refused at once, their reserved tokens given back); a stopping
# server cuts the waits short instead of hanging its children.
import os
import signal
import socket
import time

import pytest

from conftest import SLOW
from ratelimit_util import STATUS, burst_of, limit_status, proxied, status

# waits measured to the tens of milliseconds: the module runs alone
pytestmark = pytest.mark.serial

ONE_CHILD = {"APIGW_SERVERS": "1"}


def test_requests_wait_for_their_token(gateway, backend):
    # a token every 250 ms: which requests wait and which are refused does
    # not depend on how quickly a busy machine gets them through
    gw = gateway("ApiRateLimitMaxDelayed 20\n" + STATUS + proxied(
        backend, "ApiRateLimit average=4 period=1s delay=1s"))
    answers = burst_of(gw.port, "/rl/x", 6)
    t0 = min(a.sent for a in answers)
    assert max(a.sent for a in answers) - t0 < 0.05
    ok = sorted((a for a in answers if a.status == 200), key=lambda a: a.done)
    refused = [a for a in answers if a.status == 429]
    # 1 at once and 4 that wait 250 ms, 500 ms, 750 ms, 1 s; the sixth
    # would wait 1.25 s: refused at once
    assert len(ok) == 5 and len(refused) == 1, [a.status for a in answers]
    for i, a in enumerate(ok):
        waited = a.done - t0
        assert waited >= i * 0.25 - 0.01, (i, waited)      # never early
        assert waited <= i * 0.25 + 1.0 * SLOW, (i, waited)
    # refused at once: long before the last one's 1 s wait was over
    assert refused[0].done < ok[-1].done - 0.3
    assert refused[0].header("Retry-After") in ("1", "2")
    st = status(gw)["limits"][0]
    assert (st["admitted"], st["delayed"], st["rejected"]) == (5, 4, 1)
    assert st["delay"] == 1
    assert backend.stats()["requests"] == 5


def test_max_delayed_caps_waiting_requests(gateway, backend):
    gw = gateway("ApiRateLimitMaxDelayed 2\nLogLevel warn apigw_ratelimit:info\n"
                 + STATUS + proxied(backend, "ApiRateLimit average=5 "
                                    "period=1s delay=2s name=capped"),
                 env=ONE_CHILD)
    answers = burst_of(gw.port, "/rl/x", 6)
    t0 = min(a.sent for a in answers)
    ok = [a for a in answers if a.status == 200]
    refused = [a for a in answers if a.status == 429]
    # one at once, two waiting (the cap), three refused at once
    assert len(ok) == 3 and len(refused) == 3, [a.status for a in answers]
    assert max(a.done for a in ok) - t0 >= 0.39
    for a in refused:                   # at once, not after a wait
        assert a.done < max(b.done for b in ok) - 0.15
        assert a.header("Retry-After") == "1"
    log = gw.error_log_text()
    assert log.count("ApiRateLimitMaxDelayed requests already waiting") == 3
    # The refused ones gave their reserved tokens back: the bucket holds
    # three reservations, up to (server's first arrival) + 600 ms, not six
    # (+ 1200 ms). That arrival was before the first refusal was complete,
    # so 650 ms after that a request proceeds without waiting; without the
    # refunds it would wait, and count as delayed.
    time.sleep(max(0.0, min(a.done for a in refused) + 0.65 - time.monotonic()))
    late = burst_of(gw.port, "/rl/x", 1)[0]
    assert late.status == 200, late.data
    st = limit_status(gw, name="capped")
    assert (st["admitted"], st["delayed"], st["rejected"]) == (4, 2, 3)


def test_refusal_after_a_reserved_wait_frees_the_delay_slot(gateway, backend):
    # the first limit reserves a token with a wait (taking the child's one
    # delay slot), the second refuses: the reservation and the slot must
    # both be given back, or no request could ever wait again
    gw = gateway("ApiRateLimitMaxDelayed 1\n" + STATUS + proxied(backend, """
ApiRateLimit average=1 period=1s delay=2s name=waits
ApiRateLimit average=1 period=1h by=header:K name=strict
"""), env=ONE_CHILD)
    assert burst_of(gw.port, "/rl/x", 1, "K: x\r\n")[0].status == 200
    for _ in range(5):
        assert burst_of(gw.port, "/rl/x", 1, "K: x\r\n")[0].status == 429
    # a request that has to wait still can
    a = burst_of(gw.port, "/rl/x", 1, "K: y\r\n")[0]
    assert a.status == 200, a.data
    waits = limit_status(gw, name="waits")
    assert (waits["admitted"], waits["delayed"]) == (2, 1), waits


def test_zero_max_delayed_refuses_as_without_delay(gateway, backend):
    gw = gateway("ApiRateLimitMaxDelayed 0\n" + proxied(
        backend, "ApiRateLimit average=10 period=1s delay=1s"))
    answers = burst_of(gw.port, "/rl/x", 3)
    assert sorted(a.status for a in answers) == [200, 429, 429]


def test_tier_with_its_own_delay(gateway, backend):
    gw = gateway("ApiRateLimitMaxDelayed 20\n" + proxied(backend, """
ApiRateLimit name=p average=10 period=1s tier=header:X-Plan
ApiRateLimitTier p patient average=10 delay=500ms
"""))
    answers = burst_of(gw.port, "/rl/x", 4)
    assert sorted(a.status for a in answers) == [200, 429, 429, 429]
    # the same numbers with delay= in the tier: they wait instead
    answers = burst_of(gw.port, "/rl/x", 4, "X-Plan: patient\r\n")
    assert [a.status for a in answers] == [200] * 4
    t0 = min(a.sent for a in answers)
    assert max(a.done for a in answers) - t0 >= 0.29


def test_stopping_server_cuts_waits_short(gateway, backend):
    gw = gateway("LogLevel warn apigw_ratelimit:info\n" + proxied(
        backend, "ApiRateLimit average=1 period=5s delay=10s"),
        env=ONE_CHILD)
    # the first is answered at once (and before the others are sent, so
    # that a busy machine cannot reorder them); the others wait 5 s, 10 s
    first = burst_of(gw.port, "/rl/x", 1)[0]
    assert first.status == 200, first.data
    req = b"GET /rl/x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    socks = []
    for _ in range(2):
        s = socket.create_connection(("127.0.0.1", gw.port), timeout=10)
        s.sendall(req)
        socks.append(s)
    time.sleep(0.5)
    stopped_at = time.monotonic()
    os.kill(gw.proc.pid, signal.SIGTERM)
    for s in socks:
        s.settimeout(5)
        try:
            data = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            data = b""
        # refused (or the connection closed by the stopping child), fast
        assert data == b"" or data.startswith(b"HTTP/1.1 429"), data
        assert time.monotonic() - stopped_at < 3.0 * SLOW
        s.close()
    gw.proc.wait(timeout=10)
    assert time.monotonic() - stopped_at < 5.0 * SLOW
    assert "AH00045" not in gw.error_log_text()     # no child hung

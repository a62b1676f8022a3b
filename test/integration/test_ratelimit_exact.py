# mod_apigw_ratelimit, exactness under sustained load: N concurrent
# keep-alive clients hammer one limited URL for T seconds, served by
# several httpd child processes (worker, event and prefork MPMs). The
# number admitted must be burst + average x T / period within 2 % (the
# tolerance of Traefik's own test) and never more; every refused request
# is a 429 that never reached the backend; the children that served the
# load all shared the bucket; the status counters agree with the clients.
# T is the server's: from the first request httpd received to the last
# (the access log's %{usec}t), so a slow client or a slow build (ASan)
# cannot stretch it; "never more" is also checked against the clients'
# own, wider, window.
# The formula holds only while requests never stop arriving for longer
# than burst / rate (0.6 s here): such a pause fills the bucket and its
# later tokens are lost, as they must be. On a machine busy enough to pause the clients,
# the test replays the arrival times httpd logged through a reference
# token bucket: the count must match that model (the limiter is exact on
# the load it really got) in every attempt, and the formula in an attempt
# the model shows was saturated; an attempt that was not is run again
# with a fresh bucket, up to three times.
import math
import time

import pytest

from ratelimit_util import (ARRIVALS_LOG, STATUS, hammer, limit_status,
                            logged_arrivals, proxied, reference_bucket)

# 16 clients hammering for 5 s: a load of their own, measured to 2 %;
# the module runs alone
pytestmark = pytest.mark.serial

SECONDS = 5
CLIENTS = 16

# bursts of 0.6 s of tokens: a client paused that long by a busy machine
# loses nothing (the bucket has not filled), so the formula still holds
CASES = [
    # MPM, average, period (s), burst
    ("worker", 100, 1.0, 60, "1s"),
    ("event", 6000, 60.0, 60, "1m"),
    ("prefork", 50, 0.5, 60, "500ms"),
]


@pytest.mark.children(2)
@pytest.mark.parametrize("mpm,average,period,burst,period_text", CASES,
                         ids=[c[0] for c in CASES])
def test_admitted_is_exact(gateway, backend, mpm, average, period, burst,
                           period_text):
    env = {"APIGW_MPM": mpm}
    if mpm == "worker":
        # 3 children of 8 threads for 16 keep-alive clients: no child can
        # take them all (a worker thread holds its connection). Event needs
        # no such squeeze (and, that short of threads, closes idle
        # keep-alive connections under the clients' feet).
        env.update(APIGW_SERVERS="3", APIGW_THREADS="8")
    gw = gateway(ARRIVALS_LOG + STATUS + proxied(
        backend, f"ApiRateLimit average={average} period={period_text} "
                 f"burst={burst} by=header:X-Attempt name=exact"),
        env=env)
    rate = average / period
    admitted = rejected = 0
    for attempt in ("a1", "a2", "a3"):
        headers = {"X-Attempt": attempt}
        if mpm == "event":
            # one event child would keep every keep-alive connection: a
            # connection per request spreads them over the children
            headers["Connection"] = "close"
        h = hammer([gw.url("/rl/x")], SECONDS, CLIENTS, headers)
        assert not h.errors, h.errors[:5]
        assert set(h.codes) <= {200, 429}, h.codes
        admitted += h.admitted
        rejected += h.codes.get(429, 0)
        # the log lines land after the answers: wait for all of them
        deadline = time.monotonic() + 10
        while True:
            pids, times = logged_arrivals(gw, attempt)
            if len(times) >= h.total or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert len(times) == h.total, (len(times), h.codes)
        window = (max(times) - min(times)) / 1e6
        expected = burst + rate * window
        model = reference_bucket(times, average, period, burst)
        print("%s %s: %d admitted of %d in %.3f s; formula %.1f (%+.2f %%), "
              "reference bucket on the logged arrivals %d"
              % (mpm, attempt, h.admitted, h.total, window, expected,
                 100.0 * (h.admitted - expected) / expected, model))
        # the load is far above the limit, or the test proves nothing
        assert h.total >= 2 * expected, h.codes
        # never more, by the server's clock nor by the clients'
        assert h.admitted <= burst + math.floor(rate * window) + 1, \
            (h.admitted, expected, window)
        assert h.admitted <= burst + math.ceil(rate * h.window), \
            (h.admitted, h.window)
        # exact on the load it got (admission runs a little after the
        # logged arrival: a few requests of leeway)
        assert abs(h.admitted - model) <= max(3, 0.005 * model), \
            (h.admitted, model)
        if model >= 0.995 * expected:
            break                       # saturated: the formula applies
        gaps = sorted(b - a for a, b in zip(sorted(times), sorted(times)[1:]))
        print("%s %s: the load paused (longest gaps %s us): again"
              % (mpm, attempt, gaps[-3:]))
    assert abs(h.admitted - expected) <= 0.02 * expected, \
        (h.admitted, expected, window)
    # refused requests never reached the backend
    assert backend.stats()["requests"] == admitted
    # several children served the load, from one shared bucket
    assert len([p for p, n in pids.items() if n >= 20]) >= 2, pids
    st = limit_status(gw, name="exact")
    assert (st["admitted"], st["rejected"]) == (admitted, rejected)

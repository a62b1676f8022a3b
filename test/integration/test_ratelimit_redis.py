# mod_apigw_ratelimit, cluster mode (ApiRateLimitStore): buckets on a real
# redis-server shared by two separate gateways (in turn, and hammered at
# once for 5 s: exact within 2 %, never more), the 429 headers, tiers and
# delay= on Redis, Redis down with ApiRateLimitStoreFailure open (admit,
# one log line, counted as store errors) and closed (503 JSON), limiting
# resuming after Redis restarts, password= with requirepass (never
# logged), and configtest errors.
import math
import socket
import time

import pytest
import requests

from ratelimit_util import (ARRIVALS_LOG, STATUS, burst_of, hammer,
                            limit_status, logged_arrivals,
                            redis, redis_factory,  # noqa: F401
                            reference_bucket)


def conf(backend, store, limit="average=5 period=1m burst=5", extra=""):
    return f"""
{store}
{extra}
ProxyPass "/rl/" "{backend.url}/rl/"
<Location "/rl/">
ApiRateLimit name=shared {limit}
</Location>
"""


def get(gw, path="/rl/x"):
    return requests.get(gw.url(path), timeout=10)


ONE_CHILD = {"APIGW_SERVERS": "1"}

# Tests that are not about timeouts give the store a generous one: on a
# busy machine (or under ASan) a first call, which connects, authenticates
# and loads the script, can take longer than the default 50 ms, and the
# request would then be admitted by ApiRateLimitStoreFailure open.


def test_two_gateways_share_the_limit(gateway, backend, redis):
    text = conf(backend, f"ApiRateLimitStore {redis.url} timeout=2s")
    gw1 = gateway(text)
    gw2 = gateway(text)
    codes = [get(gw1 if i % 2 else gw2).status_code for i in range(20)]
    assert codes.count(200) == 5, codes
    assert codes.count(429) == 15, codes
    assert backend.stats()["requests"] == 5


def test_429_headers_as_in_local_mode(gateway, backend, redis):
    gw = gateway(conf(backend, f"ApiRateLimitStore {redis.url}/3 timeout=2s",
                      "average=3 period=1m burst=3"))
    for left in (2, 1, 0):
        r = get(gw)
        assert r.status_code == 200, r.text
        assert r.headers["RateLimit-Limit"] == "3"
        assert r.headers["RateLimit-Remaining"] == str(left)
        assert 0 < int(r.headers["RateLimit-Reset"]) <= (3 - left) * 20
    r = get(gw)
    assert r.status_code == 429, r.text
    assert r.headers["Content-Type"].split(";")[0] == "application/json"
    assert r.json() == {"status": 429, "error": "rate limit exceeded"}
    retry = int(r.headers["Retry-After"])
    assert 1 <= retry <= 20
    assert r.headers["RateLimit-Limit"] == "3"
    assert r.headers["RateLimit-Remaining"] == "0"
    assert int(r.headers["RateLimit-Reset"]) >= retry
    assert r.headers["Cache-Control"] == "no-store"
    # the bucket lives in database 3, with a TTL
    out = redis.cli("--scan", "--pattern", "apigw:rl:*", db=3)
    keys = out.split()
    assert len(keys) == 1, out
    ttl = redis.cli("PTTL", keys[0], db=3).strip()
    assert 0 < int(ttl) <= 61000


@pytest.mark.allow_log("AGW01005")
def test_redis_down_failure_open_then_restart(gateway, backend, redis):
    gw = gateway(conf(backend, f"ApiRateLimitStore {redis.url} timeout=2s",
                      "average=2 period=1m burst=2"), env=ONE_CHILD)
    assert [get(gw).status_code for _ in range(3)] == [200, 200, 429]
    redis.stop()
    # down: everything passes, and the outage is logged once
    assert [get(gw).status_code for _ in range(10)] == [200] * 10
    log = gw.error_log_text()
    assert log.count("AGW01005") == 1, log
    assert "requests are admitted" in log
    # back (empty: a new bucket)
    redis.start()
    assert [get(gw).status_code for _ in range(3)] == [200, 200, 429]
    assert gw.error_log_text().count("AGW01005") == 1


@pytest.mark.allow_log("AGW01005")
def test_redis_down_failure_closed(gateway, backend, redis, json_error):
    gw = gateway(conf(backend, f"ApiRateLimitStore {redis.url} timeout=2s",
                      extra="ApiRateLimitStoreFailure closed"), env=ONE_CHILD)
    assert get(gw).status_code == 200
    redis.stop()
    for _ in range(5):
        r = get(gw)
        json_error(r, 503)
        assert r.json()["error"] == "rate limit store unavailable"
    assert gw.error_log_text().count("AGW01005") == 1
    assert "refused with 503" in gw.error_log_text()
    redis.start()
    assert [get(gw).status_code for _ in range(5)] == [200] * 5
    assert get(gw).status_code == 429
    assert backend.stats()["requests"] == 6


@pytest.mark.allow_log("AGW01005")
def test_password(gateway, backend, redis_factory):
    secret = "s3cr3t-Pa55word"
    rd = redis_factory(password=secret)
    gw = gateway(conf(backend,
                      f"ApiRateLimitStore {rd.url} timeout=2s password={secret}",
                      "average=1 period=1m burst=1"), env=ONE_CHILD)
    assert [get(gw).status_code for _ in range(2)] == [200, 429]
    # a wrong password: failure open, logged without the password
    wrong = "WrongPa55-xyz"
    gw2 = gateway(conf(backend,
                       f"ApiRateLimitStore {rd.url} timeout=2s password={wrong}",
                       "average=1 period=1m burst=1"), env=ONE_CHILD)
    assert [get(gw2).status_code for _ in range(3)] == [200] * 3
    log2 = gw2.error_log_text()
    assert log2.count("AGW01005") == 1, log2
    for gw_ in (gw, gw2):
        text = gw_.error_log_text() + gw_.output_text()
        assert secret not in text and wrong not in text


@pytest.mark.parametrize("line, message", [
    ("ApiRateLimitStore http://127.0.0.1:6379", "is not a redis:// URL"),
    ("ApiRateLimitStore redis://", "needs a host"),
    ("ApiRateLimitStore redis://127.0.0.1:", "empty port"),
    ("ApiRateLimitStore redis://127.0.0.1:99999", "port must be"),
    ("ApiRateLimitStore redis://127.0.0.1:6379/x", "database must be"),
    ("ApiRateLimitStore redis://127.0.0.1:6379 timeout=soon", "timeout=soon"),
    ("ApiRateLimitStore redis://127.0.0.1:6379 pasword=hunter2",
     "unknown option"),
    ("ApiRateLimitStore", "needs redis://"),
    ("ApiRateLimitStoreFailure maybe", "use open"),
    ("<Location /x>\nApiRateLimitStore redis://127.0.0.1:6379\n</Location>",
     "not allowed"),
])
def test_config_errors(configtest, line, message):
    ok, out = configtest(line + "\n")
    assert not ok, out
    assert message in out, out
    assert "hunter2" not in out


def test_valid_config_passes(configtest):
    ok, out = configtest("ApiRateLimitStore redis://127.0.0.1:6379/2 "
                         "password=x timeout=100ms\n"
                         "ApiRateLimitStoreFailure closed\n"
                         "<VirtualHost 127.0.0.1:@PORT@>\n"
                         "ApiRateLimitStore redis://localhost\n"
                         "ApiRateLimitStoreFailure open\n"
                         "</VirtualHost>\n")
    assert ok, out


@pytest.mark.serial         # wall-clock bounds: run alone
@pytest.mark.allow_log("AGW01005")
def test_unresponsive_store_times_out(gateway, backend):
    # a listener that never answers: connecting works, the commands time out
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        port = s.getsockname()[1]
        gw = gateway(conf(backend, f"ApiRateLimitStore redis://127.0.0.1:{port} "
                                   "timeout=100ms"), env=ONE_CHILD)
        for _ in range(3):
            start = time.monotonic()
            assert get(gw).status_code == 200
            assert time.monotonic() - start < 2.0
        log = gw.error_log_text()
        assert log.count("AGW01005") == 1, log


def test_two_gateways_together_are_exact(gateway, backend, redis):
    # both gateways (two children each) hammered at once for 5 s: together
    # they admit burst + average x T / period within 2 %, never more (T and
    # the reference bucket as in test_ratelimit_exact.py, on the arrivals
    # both gateways logged)
    text = ARRIVALS_LOG + STATUS + conf(
        backend, f"ApiRateLimitStore {redis.url} timeout=2s",
        "average=50 period=1s burst=30 by=header:X-Attempt")
    gws = [gateway(text), gateway(text)]
    admitted = 0
    for attempt in ("a1", "a2", "a3"):
        h = hammer([g.url("/rl/x") for g in gws], 5, 16,
                   {"X-Attempt": attempt})
        assert not h.errors, h.errors[:5]
        assert set(h.codes) <= {200, 429}, h.codes
        admitted += h.admitted
        deadline = time.monotonic() + 10
        while True:
            logs = [logged_arrivals(g, attempt) for g in gws]
            times = logs[0][1] + logs[1][1]
            if len(times) >= h.total or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert len(times) == h.total
        window = (max(times) - min(times)) / 1e6
        expected = 30 + 50 * window
        model = reference_bucket(times, 50, 1.0, 30)
        print("two gateways on redis %s: %d admitted of %d in %.3f s; "
              "formula %.1f (%+.2f %%), reference bucket %d"
              % (attempt, h.admitted, h.total, window, expected,
                 100.0 * (h.admitted - expected) / expected, model))
        assert h.total >= 2 * expected, h.codes
        assert h.admitted <= 30 + math.floor(50 * window) + 1, \
            (h.admitted, expected)
        assert h.admitted <= 30 + math.ceil(50 * h.window), h.admitted
        assert abs(h.admitted - model) <= max(3, 0.005 * model), \
            (h.admitted, model)
        if model >= 0.995 * expected:
            break
    assert abs(h.admitted - expected) <= 0.02 * expected, \
        (h.admitted, expected)
    assert backend.stats()["requests"] == admitted
    a = limit_status(gws[0], name="shared")["admitted"]
    b = limit_status(gws[1], name="shared")["admitted"]
    assert a + b == admitted and a > 0 and b > 0


def test_tiers_on_redis(gateway, backend, redis):
    gw = gateway(f"ApiRateLimitStore {redis.url} timeout=2s\n" + f"""
ProxyPass "/rl/" "{backend.url}/rl/"
<Location "/rl/">
ApiRateLimit name=plan average=1 period=1m by=header:X-Key tier=header:X-Plan
ApiRateLimitTier plan gold average=3 burst=3
</Location>
""")
    gold = {"X-Key": "k", "X-Plan": "gold"}
    codes = [requests.get(gw.url("/rl/"), headers=gold, timeout=10).status_code
             for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = requests.get(gw.url("/rl/"), headers={"X-Key": "k"}, timeout=10)
    assert r.status_code == 200 and r.headers["RateLimit-Limit"] == "1"


@pytest.mark.serial         # wall-clock bounds: run alone
def test_delay_on_redis(gateway, backend, redis):
    # a token every 500 ms, so that however slowly a busy machine gets the
    # requests to Redis, which ones wait and which are refused is the same
    gw = gateway(f"ApiRateLimitStore {redis.url} timeout=2s\n"
                 "ApiRateLimitMaxDelayed 20\n"
                 + conf(backend, "", "average=2 period=1s delay=1s"))
    answers = burst_of(gw.port, "/rl/x", 5)
    t0 = min(a.sent for a in answers)
    ok = sorted((a for a in answers if a.status == 200), key=lambda a: a.done)
    # 1 at once, 2 waiting 500 ms and 1 s, 2 refused at once
    assert len(ok) == 3, [a.status for a in answers]
    for i, a in enumerate(ok):
        assert a.done - t0 >= i * 0.5 - 0.01, (i, a.done - t0)
    for a in answers:                   # refused at once, not after a wait
        if a.status == 429:
            assert a.done < ok[-1].done - 0.2


@pytest.mark.allow_log("AGW01005")
def test_store_errors_are_counted(gateway, backend, redis):
    gw = gateway(STATUS + conf(backend, f"ApiRateLimitStore {redis.url} timeout=2s",
                               "average=1 period=1m"), env=ONE_CHILD)
    assert get(gw).status_code == 200
    redis.stop()
    assert [get(gw).status_code for _ in range(4)] == [200] * 4
    st = limit_status(gw, name="shared")
    assert (st["admitted"], st["store_errors"]) == (1, 4)
    doc = requests.get(gw.url("/rl-status"), timeout=5).json()
    assert doc["store"]["url"] == redis.url + "/0"
    assert doc["store"]["failure"] == "open"
    assert doc["store"]["down_in_this_process"] is True
    redis.start()

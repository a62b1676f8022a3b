# mod_apigw_ratelimit, local limits: bursts then 429 with RateLimit-* and
# Retry-After headers and a JSON body, refill after the period (below and
# above 1s), keys by ip (as mod_remoteip decides) and by header, exact
# counts across the two child processes under concurrency, inheritance,
# name= replacement and "off", configtest errors, and the same limits in a
# plain <Location> with ProxyPass and inside <ApiEndpoint>.
import concurrent.futures
import os
import signal
import time

import pytest
import requests

from ratelimit_util import proxied

STOCK = "/usr/lib/apache2/modules"


def get(gw, path, headers=None, session=None):
    return (session or requests).get(gw.url(path), headers=headers or {},
                                     timeout=10)


def expect_429(r, retry_max, limit):
    assert r.status_code == 429, r.text
    assert r.headers["Content-Type"].split(";")[0] == "application/json"
    assert r.json() == {"status": 429, "error": "rate limit exceeded"}
    retry = int(r.headers["Retry-After"])
    assert 1 <= retry <= retry_max
    assert r.headers["RateLimit-Limit"] == str(limit)
    assert r.headers["RateLimit-Remaining"] == "0"
    assert int(r.headers["RateLimit-Reset"]) >= retry


def test_burst_then_429_with_headers(gateway, backend):
    gw = gateway(proxied(backend,
                         "ApiRateLimit average=3 period=1m burst=3"))
    for left in (2, 1, 0):
        r = get(gw, "/rl/x")
        assert r.status_code == 200, r.text
        assert r.json()["path"] == "/rl/x"
        assert r.headers["RateLimit-Limit"] == "3"
        assert r.headers["RateLimit-Remaining"] == str(left)
        # the bucket is full again (3 - left) * 20s from now
        assert 0 < int(r.headers["RateLimit-Reset"]) <= (3 - left) * 20
    r = get(gw, "/rl/x")
    expect_429(r, 20, 3)
    assert r.headers["Cache-Control"] == "no-store"
    assert backend.stats()["requests"] == 3


def test_default_burst_is_one(gateway, backend):
    gw = gateway(proxied(backend, "ApiRateLimit average=10 period=1m"))
    assert get(gw, "/rl/a").status_code == 200
    r = get(gw, "/rl/a")
    expect_429(r, 6, 10)        # 6s to the next token


@pytest.mark.serial         # wall-clock bounds: run alone
def test_refill_above_and_below_one_second(gateway, backend):
    gw = gateway(proxied(backend,
                         "ApiRateLimit average=2 period=2s burst=2",
                         "/slow/")
                 + proxied(backend,
                           "ApiRateLimit average=1 period=900ms", "/fast/"))
    assert [get(gw, "/slow/").status_code for _ in range(3)] == [200, 200, 429]
    slow_done = time.monotonic()
    assert [get(gw, "/fast/").status_code for _ in range(2)] == [200, 429]
    time.sleep(1.0)
    assert [get(gw, "/fast/").status_code for _ in range(2)] == [200, 429]
    time.sleep(max(0.0, 2.1 - (time.monotonic() - slow_done)))
    # the slow bucket is full again: two, not more
    assert [get(gw, "/slow/").status_code for _ in range(3)] == [200, 200, 429]


def test_period_in_minutes_spaces_requests(gateway, backend):
    gw = gateway(proxied(backend, "ApiRateLimit average=6 period=1m"))
    assert get(gw, "/rl/").status_code == 200
    r = get(gw, "/rl/")
    expect_429(r, 10, 6)
    assert int(r.headers["Retry-After"]) >= 9       # one per 10s


def test_keys_by_header_are_separate_buckets(gateway, backend):
    gw = gateway(proxied(backend,
                         "ApiRateLimit average=1 period=1m by=header:X-Api-Key"))
    a, b = {"X-Api-Key": "alpha"}, {"X-Api-Key": "beta"}
    assert get(gw, "/rl/", a).status_code == 200
    assert get(gw, "/rl/", a).status_code == 429
    assert get(gw, "/rl/", b).status_code == 200
    assert get(gw, "/rl/", b).status_code == 429
    # no header at all is a key of its own
    assert get(gw, "/rl/").status_code == 200
    assert get(gw, "/rl/").status_code == 429
    assert get(gw, "/rl/", {"X-Api-Key": "gamma"}).status_code == 200


def test_keys_by_cookie_and_combined(gateway, backend):
    gw = gateway(proxied(backend,
                         "ApiRateLimit average=1 period=1m by=cookie:sid,ip"))
    assert get(gw, "/rl/", {"Cookie": "a=1; sid=one"}).status_code == 200
    assert get(gw, "/rl/", {"Cookie": "sid=one"}).status_code == 429
    assert get(gw, "/rl/", {"Cookie": "sid=two; a=1"}).status_code == 200


def test_keys_by_ip_follow_remoteip(gateway, backend):
    gw = gateway(f"""
LoadModule remoteip_module {STOCK}/mod_remoteip.so
RemoteIPHeader X-Real-IP
RemoteIPInternalProxy 127.0.0.1
""" + proxied(backend, "ApiRateLimit average=1 period=1m by=ip"))
    one, two = {"X-Real-IP": "192.0.2.1"}, {"X-Real-IP": "192.0.2.2"}
    assert get(gw, "/rl/", one).status_code == 200
    assert get(gw, "/rl/", one).status_code == 429
    assert get(gw, "/rl/", two).status_code == 200
    # X-Forwarded-For is not read by the limiter itself
    three = {"X-Real-IP": "192.0.2.3", "X-Forwarded-For": "198.51.100.1"}
    four = {"X-Real-IP": "192.0.2.3", "X-Forwarded-For": "198.51.100.2"}
    assert get(gw, "/rl/", three).status_code == 200
    assert get(gw, "/rl/", four).status_code == 429


@pytest.mark.children(2)
def test_limits_are_shared_by_all_children(gateway, backend):
    # Each round sends 30 concurrent requests on 30 connections with a key
    # of its own; exactly 5 pass. A round in which both children served at
    # least 5 proves the count is shared (per-child counters would admit
    # 10); rounds repeat until one does.
    gw = gateway(f"""
CustomLog "@RUN@/pids.log" "%P %{{X-Round}}i %>s"
""" + proxied(backend, "ApiRateLimit average=5 period=1m burst=5 "
                        "by=header:X-Round"))

    def one(key):
        with requests.Session() as s:
            return s.get(gw.url("/rl/c"), timeout=20,
                         headers={"Connection": "close",
                                  "X-Round": key}).status_code

    proven = False
    for rnd in range(6):
        key = "round-%d" % rnd
        with concurrent.futures.ThreadPoolExecutor(max_workers=30) as pool:
            codes = list(pool.map(one, [key] * 30))
        assert codes.count(200) == 5, codes
        assert codes.count(429) == 25, codes
        deadline = time.monotonic() + 5
        while True:
            with open(gw.run_dir + "/pids.log") as f:
                served = [l.split()[0] for l in f if " %s " % key in l]
            if len(served) == 30 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        per_child = {pid: served.count(pid) for pid in set(served)}
        if len(per_child) >= 2 and min(per_child.values()) >= 5:
            proven = True
            break
    assert backend.stats()["requests"] == 5 * (rnd + 1)
    assert proven, "one child served (almost) everything in every round"


def test_exact_count_under_sustained_concurrency(gateway, backend):
    # 120 requests on 40 connections against a burst of 20: exactly 20 pass
    gw = gateway(proxied(backend,
                         "ApiRateLimit average=20 period=1h burst=20"))

    def many(_):
        with requests.Session() as s:
            return [s.get(gw.url("/rl/m"), timeout=20).status_code
                    for _ in range(3)]

    with concurrent.futures.ThreadPoolExecutor(max_workers=40) as pool:
        codes = sum(pool.map(many, range(40)), [])
    assert codes.count(200) == 20, codes
    assert codes.count(429) == 100


def test_inheritance_replacement_and_off(gateway, backend):
    gw = gateway(f"""
ProxyPass "/in/" "{backend.url}/in/"
<Location "/in/">
  ApiRateLimit average=2 period=1m burst=2 name=outer
</Location>
<Location "/in/both/">
  ApiRateLimit average=1 period=1m name=inner
</Location>
<Location "/in/replaced/">
  ApiRateLimit average=4 period=1m burst=4 name=outer
</Location>
<Location "/in/off/">
  ApiRateLimit off
</Location>
<Location "/in/off-and-own/">
  ApiRateLimit off
  ApiRateLimit average=1 period=1m
</Location>
""")
    # /in/both/ has outer (2, shared with /in/) and inner (1)
    r = get(gw, "/in/both/")
    assert r.status_code == 200
    assert r.headers["RateLimit-Remaining"] == "0"      # the tighter one
    assert get(gw, "/in/both/").status_code == 429      # inner refuses...
    assert get(gw, "/in/x").status_code == 200          # ...and gave back
    assert get(gw, "/in/x").status_code == 429          # outer: 2 used
    # same name: the inner limit replaces the outer one
    codes = [get(gw, "/in/replaced/").status_code for _ in range(5)]
    assert codes == [200] * 4 + [429]
    # off: nothing inherited, no headers
    for _ in range(5):
        r = get(gw, "/in/off/")
        assert r.status_code == 200
        assert "RateLimit-Limit" not in r.headers
    assert [get(gw, "/in/off-and-own/").status_code
            for _ in range(2)] == [200, 429]


def test_server_level_limit_and_average_zero(gateway, backend):
    gw = gateway(f"""
ApiRateLimit average=2 period=1m burst=2 name=global
ProxyPass "/g/" "{backend.url}/g/"
ProxyPass "/free/" "{backend.url}/free/"
<Location "/free/">
  ApiRateLimit average=0 period=1s name=global
</Location>
""")
    assert [get(gw, "/g/").status_code for _ in range(3)] == [200, 200, 429]
    for _ in range(5):
        r = get(gw, "/free/")
        assert r.status_code == 200
        assert "RateLimit-Limit" not in r.headers


def test_custom_status_and_info_log(gateway, backend):
    gw = gateway("LogLevel warn apigw_ratelimit:info\n" + proxied(
        backend, "ApiRateLimit average=1 period=1m status=503 name=tight "
                 "by=header:X-Secret"))
    assert get(gw, "/rl/", {"X-Secret": "hunter2"}).status_code == 200
    r = get(gw, "/rl/", {"X-Secret": "hunter2"})
    assert r.status_code == 503
    assert r.json() == {"status": 503, "error": "rate limit exceeded"}
    assert int(r.headers["Retry-After"]) >= 1
    deadline = time.monotonic() + 5
    while "AGW01001" not in gw.error_log_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = [l for l in gw.error_log_text().splitlines() if "AGW01001" in l]
    assert len(lines) == 1, lines
    assert "[apigw_ratelimit:info]" in lines[0]
    assert "rate limit tight" in lines[0]
    assert "hunter2" not in gw.error_log_text()     # never a key's value


def test_inside_api_endpoint(gateway, backend):
    gw = gateway(f"""
<ApiEndpoint "/v1/items/{{id}}" GET>
  ApiBackend {backend.url}/items/{{id}}
  ApiRateLimit average=2 period=1m burst=2 by=header:X-Tenant
</ApiEndpoint>
<ApiEndpoint "/v1/free" GET>
  ApiBackend {backend.url}/free
</ApiEndpoint>
""")
    t1, t2 = {"X-Tenant": "one"}, {"X-Tenant": "two"}
    r = get(gw, "/v1/items/1", t1)
    assert r.status_code == 200
    assert r.json()["path"] == "/items/1"
    assert r.headers["RateLimit-Remaining"] == "1"
    assert get(gw, "/v1/items/2", t1).status_code == 200
    expect_429(get(gw, "/v1/items/3", t1), 30, 2)
    assert get(gw, "/v1/items/3", t2).status_code == 200
    r = get(gw, "/v1/free")
    assert r.status_code == 200 and "RateLimit-Limit" not in r.headers
    assert backend.stats()["requests"] == 4


@pytest.mark.allow_log("AH01630")
def test_access_control_runs_first(gateway, backend):
    gw = gateway(proxied(backend, """
ApiRateLimit average=1 period=1m
<RequireAny>
  Require env allowed
</RequireAny>
SetEnvIf X-Let-In yes allowed
"""))
    # refused by Require: no token spent
    for _ in range(3):
        assert get(gw, "/rl/").status_code == 403
    assert get(gw, "/rl/", {"X-Let-In": "yes"}).status_code == 200
    assert get(gw, "/rl/", {"X-Let-In": "yes"}).status_code == 429


def test_zone_size(gateway, backend):
    gw = gateway("ApiRateLimitZone 64k\n"
                 + proxied(backend, "ApiRateLimit average=1 period=1m by=header:K"))
    for i in range(100):        # more keys than slots in some windows
        assert get(gw, "/rl/", {"K": str(i)}).status_code == 200
    assert get(gw, "/rl/", {"K": "99"}).status_code == 429


CONFIG_ERRORS = [
    ("ApiRateLimit", "ApiRateLimit needs average=N period=DURATION"),
    ("ApiRateLimit period=1s", "ApiRateLimit needs average=N"),
    ("ApiRateLimit average=5", "ApiRateLimit needs period=DURATION"),
    ("ApiRateLimit average=x period=1s", "average=x is not a whole number"),
    ("ApiRateLimit average=-1 period=1s", "average=-1 is not a whole number"),
    ("ApiRateLimit average=5 period=soon", "ApiRateLimit: period=soon"),
    ("ApiRateLimit average=5 period=0s", "period= must be greater than zero"),
    ("ApiRateLimit average=5 period=1s burst=0", "burst=0 is out of range"),
    ("ApiRateLimit average=5 period=1s rate=3", "unknown option 'rate'"),
    ("ApiRateLimit average=5 period=1s average=6", "average= given twice"),
    ("ApiRateLimit average=5 period=1s by=user", "unknown key 'user' in by="),
    ("ApiRateLimit average=5 period=1s by=header:", "needs a name"),
    ("ApiRateLimit average=5 period=1s by=ip,", "has an empty key"),
    ("ApiRateLimit average=5 period=1s status=200", "status=200 must be"),
    ("ApiRateLimit average=5 period=1s fast", "options are key=value"),
    ("ApiRateLimit off now", "ApiRateLimit off takes no options"),
    ("ApiRateLimit average=1 period=1s name=a\n"
     "ApiRateLimit average=2 period=1s name=a", "name=a is already used"),
    ("ApiRateLimitZone 1k", "ApiRateLimitZone must be at least 4k"),
    ("ApiRateLimitZone lots", "ApiRateLimitZone lots"),
    ("<Location /x>\nApiRateLimitZone 1M\n</Location>",
     "ApiRateLimitZone not allowed in <Location> context"),
    ("<VirtualHost 127.0.0.1:@PORT@>\nApiRateLimitZone 1M\n</VirtualHost>",
     "ApiRateLimitZone cannot occur within <VirtualHost> section"),
    ("<ApiEndpoint /v1/x>\nApiBackend http://127.0.0.1:9/x\n"
     "ApiRateLimit average=1\n</ApiEndpoint>",
     "ApiRateLimit needs period=DURATION"),
]


@pytest.mark.parametrize("conf,message", CONFIG_ERRORS,
                         ids=[c[1][:30] for c in CONFIG_ERRORS])
def test_config_errors(configtest, conf, message):
    ok, out = configtest(conf + "\n")
    assert not ok, out
    assert message in out, out


def test_valid_config_passes(configtest):
    ok, out = configtest("""
ApiRateLimitZone 2M
ApiRateLimit average=100 period=1m burst=20 by=ip name=global
<VirtualHost 127.0.0.1:@PORT@>
  ApiRateLimit average=10 period=500ms by=header:X-Key,cookie:sid,env:TIER
</VirtualHost>
<Location /a>
  ApiRateLimit off
  ApiRateLimit average=0 period=1s name=global status=503
</Location>
<ApiEndpoint "/v1/x">
  ApiBackend http://127.0.0.1:9/x
  ApiRateLimit average=6 period=1m by=endpoint
</ApiEndpoint>
""")
    assert ok, out


def test_counters_survive_graceful_restart(gateway, backend):
    gw = gateway(proxied(backend, "ApiRateLimit average=2 period=1h burst=2"))
    assert [get(gw, "/rl/").status_code for _ in range(3)] == [200, 200, 429]
    before = gw.error_log_text().count("resuming normal operations")
    os.kill(gw.proc.pid, signal.SIGUSR1)        # graceful restart
    deadline = time.monotonic() + 15
    while (gw.error_log_text().count("resuming normal operations") == before
           and time.monotonic() < deadline):
        time.sleep(0.05)
    assert gw.error_log_text().count("resuming normal operations") > before
    time.sleep(0.3)
    r = get(gw, "/rl/")
    expect_429(r, 1800, 2)


def test_example_config_passes(configtest):
    path = os.path.join(os.path.dirname(__file__), "..", "..", "conf",
                        "examples", "ratelimit.conf")
    with open(path) as f:
        text = f.read().replace("127.0.0.1:8080", "127.0.0.1:@PORT@")
    ok, out = configtest(text)
    assert ok, out

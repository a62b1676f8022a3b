# The response cache (ApiCache On over ApiCacheTTL, socache shmcb): hits
# served without the backend (its request counter does not move), X-Cache
# HIT/MISS, Age, expiry, the key (path and only the query strings that
# reach the backend), Vary, what is never stored (private, no-store,
# Set-Cookie, errors, POST, requests with Authorization) unless ApiCache's
# options say so, HEAD, policies still applied on hits, a stampede of 50
# concurrent misses reaching the backend once or twice, memcache/redis
# providers named in ApiCacheStore, and configtest errors.
import concurrent.futures
import os
import re
import shutil
import subprocess
import time

import pytest
import requests

SHMCB = """<IfModule !socache_shmcb_module>
  LoadModule socache_shmcb_module /usr/lib/apache2/modules/mod_socache_shmcb.so
</IfModule>
"""


def cache_conf(b):
    return SHMCB + f"""
<ApiEndpoint "/v1/c/*" GET POST>
  ApiBackend {b.url}/{{*}}
  ApiInputQueryStrings page
  ApiInputHeaders Accept-Language Authorization
  ApiCacheTTL 60s
  ApiCache On
  ApiResponseHeader add X-Added once
  ApiCorsAllowOrigins https://app.example.com
</ApiEndpoint>
<ApiEndpoint "/v1/short/*">
  ApiBackend {b.url}/{{*}}
  ApiCacheTTL 1s
  ApiCache On
</ApiEndpoint>
<ApiEndpoint "/v1/lax/*">
  ApiBackend {b.url}/{{*}}
  ApiInputHeaders Authorization
  ApiCacheTTL 60s
  ApiCache On authorization set-cookie private
</ApiEndpoint>
<ApiEndpoint "/v1/ttl-only/*">
  ApiBackend {b.url}/{{*}}
  ApiCacheTTL 60s
</ApiEndpoint>
<ApiEndpoint "/v1/slow/*">
  ApiBackend {b.url}/{{*}}
  ApiCacheTTL 60s
  ApiCache On
  ApiTimeout 5s
</ApiEndpoint>
"""


def hits(backend):
    return backend.stats()["requests"]


def assert_age(r, stored_after, stored_before, sent, received, ttl=60):
    """A hit's Age is the whole seconds since its entry was stored (which
    happened between stored_after and stored_before, time.monotonic()),
    as seen between sent and received; its max-age is what is left of the
    TTL. Returns the Age."""
    age = r.headers["Age"]
    assert age.isdigit(), "Age %r is not a non-negative integer" % age
    age = int(age)
    # 0.1 s of slack: httpd reads the wall clock, the test the monotonic one
    assert int(max(0.0, sent - stored_before - 0.1)) <= age, \
        (age, sent - stored_before)
    assert age <= received - stored_after + 0.1, (age, received - stored_after)
    m = re.fullmatch(r"public, max-age=(\d+)", r.headers["Cache-Control"])
    assert m, r.headers["Cache-Control"]
    # each whole-second count rounds down, and the entry's expiry is taken
    # a moment before its store time
    assert ttl - 2 <= age + int(m.group(1)) <= ttl, (age, m.group(1))
    return age


def test_hit_served_without_the_backend(backend, gateway):
    gw = gateway(cache_conf(backend))
    before = hits(backend)
    t0 = time.monotonic()
    r1 = requests.get(gw.url("/v1/c/items/1"))
    t1 = time.monotonic()
    assert r1.status_code == 200 and r1.headers["X-Cache"] == "MISS"
    assert "Age" not in r1.headers
    assert r1.headers["Cache-Control"] == "public, max-age=60"
    assert hits(backend) == before + 1
    for _ in range(5):
        sent = time.monotonic()
        r = requests.get(gw.url("/v1/c/items/1"))
        received = time.monotonic()
        assert r.status_code == 200
        assert r.headers["X-Cache"] == "HIT"
        assert r.content == r1.content
        assert r.headers["Content-Type"] == r1.headers["Content-Type"]
        assert r.headers["X-Backend"] == "backend"
        assert_age(r, t0, t1, sent, received)
        # response header rules run once per response, hits included
        assert r.headers["X-Added"] == "once"
    # Age counts the entry's time in the cache, max-age what it has left
    time.sleep(max(0.0, t1 + 2.2 - time.monotonic()))
    sent = time.monotonic()
    r = requests.get(gw.url("/v1/c/items/1"))
    received = time.monotonic()
    assert r.headers["X-Cache"] == "HIT" and r.content == r1.content
    assert assert_age(r, t0, t1, sent, received) >= 2
    assert hits(backend) == before + 1
    # HEAD is answered from the GET's entry
    r = requests.head(gw.url("/v1/c/items/1"))
    assert r.status_code == 200 and r.headers["X-Cache"] == "HIT"
    assert r.headers["Content-Length"] == str(len(r1.content))
    # CORS is applied per request on hits
    r = requests.get(gw.url("/v1/c/items/1"),
                     headers={"Origin": "https://app.example.com"})
    assert r.headers["X-Cache"] == "HIT"
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert hits(backend) == before + 1
    # ApiCacheTTL without ApiCache: no gateway cache
    requests.get(gw.url("/v1/ttl-only/a"))
    r = requests.get(gw.url("/v1/ttl-only/a"))
    assert "X-Cache" not in r.headers
    assert hits(backend) == before + 3


def test_key_is_path_and_forwarded_query(backend, gateway):
    gw = gateway(cache_conf(backend))
    before = hits(backend)
    assert requests.get(gw.url("/v1/c/k?page=1")).headers["X-Cache"] == "MISS"
    # a query string that does not reach the backend does not split the key
    r = requests.get(gw.url("/v1/c/k?page=1&utm=x"))
    assert r.headers["X-Cache"] == "HIT" and r.json()["query"] == "page=1"
    assert requests.get(gw.url("/v1/c/k?page=2")).headers["X-Cache"] == "MISS"
    assert requests.get(gw.url("/v1/c/other")).headers["X-Cache"] == "MISS"
    assert hits(backend) == before + 3


def test_key_holds_the_virtual_host(backend, gateway):
    # two name-based vhosts declare the same endpoint over the same backend
    # URL; each tells the backend which site it is, so their answers differ
    # and one site's entry must never answer the other
    site = """
<VirtualHost 127.0.0.1:@PORT@>
  ServerName {name}.test
  <ApiEndpoint "/v1/site/*" GET>
    ApiBackend {url}/{{*}}
    ApiRequestHeader set X-Site {name}
    ApiCacheTTL 60s
    ApiCache On
  </ApiEndpoint>
</VirtualHost>
"""
    gw = gateway(SHMCB + site.format(name="one", url=backend.url)
                 + site.format(name="two", url=backend.url))
    before = hits(backend)
    for name in ("one", "two", "one", "two"):
        r = requests.get(gw.url("/v1/site/page"),
                         headers={"Host": name + ".test"})
        assert r.status_code == 200
        assert r.json()["headers"]["X-Site"] == name, r.json()
    assert hits(backend) == before + 2
    r = requests.get(gw.url("/v1/site/page"), headers={"Host": "two.test"})
    assert r.headers["X-Cache"] == "HIT" and r.json()["headers"]["X-Site"] == "two"


def test_expiry(backend, gateway):
    gw = gateway(cache_conf(backend))
    before = hits(backend)
    assert requests.get(gw.url("/v1/short/e")).headers["X-Cache"] == "MISS"
    assert requests.get(gw.url("/v1/short/e")).headers["X-Cache"] == "HIT"
    time.sleep(1.6)
    assert requests.get(gw.url("/v1/short/e")).headers["X-Cache"] == "MISS"
    assert hits(backend) == before + 2


def test_vary(backend, gateway):
    gw = gateway(cache_conf(backend))
    path = "/v1/c/__header/200/Vary/Accept-Language/"
    before = hits(backend)

    def get(lang):
        r = requests.get(gw.url(path), headers={"Accept-Language": lang})
        assert r.json()["headers"]["Accept-Language"] == lang
        return r.headers["X-Cache"]

    assert get("en") == "MISS"
    assert get("de") == "MISS"
    assert get("en") == "HIT"
    assert get("de") == "HIT"
    assert get("fr") == "MISS"
    assert hits(backend) == before + 3
    r = requests.get(gw.url(path), headers={"Accept-Language": "en"})
    assert {v.strip() for v in r.headers["Vary"].split(",")} == \
        {"Accept-Language", "Origin"}


@pytest.mark.parametrize("path", [
    "/v1/c/__header/200/Cache-Control/private/",
    "/v1/c/__header/200/Cache-Control/no-store/",
    "/v1/c/__header/200/Cache-Control/no-cache, max-age=0/",
    "/v1/c/__header/200/Set-Cookie/sid=1/",
    "/v1/c/__header/200/Vary/*/",
    "/v1/c/__status/404/",
    "/v1/c/__status/500/",
    "/v1/c/__status/201/",
])
def test_not_stored(backend, gateway, path):
    gw = gateway(cache_conf(backend))
    before = hits(backend)
    for _ in range(3):
        r = requests.get(gw.url(path))
        assert r.headers.get("X-Cache") == "MISS"
    assert hits(backend) == before + 3


def test_not_cached_for_post_or_authorization(backend, gateway):
    gw = gateway(cache_conf(backend))
    before = hits(backend)
    for _ in range(2):
        r = requests.post(gw.url("/v1/c/p"), data=b"x")
        assert r.status_code == 200 and "X-Cache" not in r.headers
    for _ in range(2):
        r = requests.get(gw.url("/v1/c/auth"), headers={"Authorization": "Bearer a"})
        assert r.status_code == 200 and "X-Cache" not in r.headers
    # nor does a request with Authorization see what others stored
    requests.get(gw.url("/v1/c/auth"))
    r = requests.get(gw.url("/v1/c/auth"), headers={"Authorization": "Bearer a"})
    assert "X-Cache" not in r.headers
    assert hits(backend) == before + 6


def test_options_lift_the_rules(backend, gateway):
    gw = gateway(cache_conf(backend))
    before = hits(backend)
    for path, headers in (
            ("/v1/lax/__header/200/Cache-Control/private/", {}),
            ("/v1/lax/__header/200/Set-Cookie/sid=1/", {}),
            ("/v1/lax/auth", {"Authorization": "Bearer a"})):
        r = requests.get(gw.url(path), headers=headers)
        assert r.headers["X-Cache"] == "MISS"
        r = requests.get(gw.url(path), headers=headers)
        assert r.headers["X-Cache"] == "HIT", path
    # a stored Set-Cookie is never handed to another client
    r = requests.get(gw.url("/v1/lax/__header/200/Set-Cookie/sid=1/"))
    assert r.headers["X-Cache"] == "HIT" and "Set-Cookie" not in r.headers
    assert hits(backend) == before + 3


def test_stampede_of_concurrent_misses(backend, gateway):
    gw = gateway(cache_conf(backend))
    before = hits(backend)
    url = gw.url("/v1/slow/__delay/500/stampede")

    def one(_):
        s = requests.Session()
        r = s.get(url, timeout=30)
        return r.status_code, r.headers.get("X-Cache"), r.json()["path"]

    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(one, range(50)))
    assert all(status == 200 for status, _, _ in results), results
    assert all(path == "/__delay/500/stampede" for _, _, path in results)
    fetched = hits(backend) - before
    print("stampede: 50 concurrent misses, %d backend fetch(es)" % fetched)
    assert 1 <= fetched <= 3, fetched
    assert sum(1 for _, x, _ in results if x == "HIT") >= 47


def test_uncacheable_answer_releases_the_waiters(backend, gateway):
    """The first fetch brings back something not storable: the requests
    that waited for it go to the backend themselves instead of hanging."""
    gw = gateway(cache_conf(backend))
    url = gw.url("/v1/slow/__delay/300/__status/500/")

    def one(_):
        t = time.monotonic()
        r = requests.get(url, timeout=30)
        return r.status_code, time.monotonic() - t

    with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(one, range(10)))
    assert all(s == 200 for s, _ in results), results     # __delay echoes 200
    assert all(t < 4.0 for _, t in results), results


@pytest.mark.parametrize("conf,needle", [
    ('<ApiEndpoint "/v1/x">\n ApiBackend http://127.0.0.1:9/x\n ApiCache On\n</ApiEndpoint>',
     "needs an ApiCacheTTL"),
    ('<ApiEndpoint "/v1/x">\n ApiBackend http://127.0.0.1:9/x\n ApiCacheTTL 5s\n'
     ' ApiCache On everything\n</ApiEndpoint>', "unknown option 'everything'"),
    ('<ApiEndpoint "/v1/x">\n ApiBackend http://127.0.0.1:9/x\n ApiCacheTTL 5s\n'
     ' ApiCache Maybe\n</ApiEndpoint>', "neither On nor Off"),
    ("ApiCacheStore nosuch:x", "no socache provider 'nosuch'"),
    ("ApiCacheMaxEntrySize 10", "between 1k and 64M"),
])
def test_configtest_errors(configtest, conf, needle):
    ok, out = configtest(SHMCB + conf + "\n")
    assert not ok
    assert needle in out, out


def test_configtest_needs_a_provider(configtest):
    ok, out = configtest("""
<ApiEndpoint "/v1/x">
  ApiBackend http://127.0.0.1:9/x
  ApiCacheTTL 5s
  ApiCache On
</ApiEndpoint>
""")
    assert not ok
    assert "AGW00630" in out and "socache_shmcb_module" in out, out


def test_server_level_cache_applies_to_endpoints_with_a_ttl(backend, gateway):
    gw = gateway(SHMCB + f"""
ApiCache On
<ApiEndpoint "/v1/ttl/*">
  ApiBackend {backend.url}/{{*}}
  ApiCacheTTL 60s
</ApiEndpoint>
<ApiEndpoint "/v1/no-ttl/*">
  ApiBackend {backend.url}/{{*}}
</ApiEndpoint>
<ApiEndpoint "/v1/off/*">
  ApiBackend {backend.url}/{{*}}
  ApiCacheTTL 60s
  ApiCache Off
</ApiEndpoint>
""")
    before = hits(backend)
    assert requests.get(gw.url("/v1/ttl/a")).headers["X-Cache"] == "MISS"
    assert requests.get(gw.url("/v1/ttl/a")).headers["X-Cache"] == "HIT"
    for path in ("/v1/no-ttl/a", "/v1/off/a"):
        for _ in range(2):
            assert "X-Cache" not in requests.get(gw.url(path)).headers
    assert hits(backend) == before + 5


def test_store_providers_configtest(configtest):
    for mod, spec in (("memcache", "memcache:127.0.0.1:11211"),
                      ("redis", "redis:127.0.0.1:6379")):
        ok, out = configtest(f"""
LoadModule socache_{mod}_module /usr/lib/apache2/modules/mod_socache_{mod}.so
ApiCacheStore {spec}
<ApiEndpoint "/v1/x">
  ApiBackend http://127.0.0.1:9/x
  ApiCacheTTL 5s
  ApiCache On
</ApiEndpoint>
""")
        assert ok, out


@pytest.fixture
def redis_server(tmp_path):
    """A redis-server on a free 127.0.0.1 port, no persistence."""
    from conftest import free_port, port_open
    exe = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.access(exe, os.X_OK):
        # the test command installs it (deps): missing, the test fails
        pytest.fail("redis-server is missing (%s): ./apxs-build.sh deps "
                    "installs it" % exe, pytrace=False)
    port = free_port()
    log = open(os.path.join(str(tmp_path), "redis.log"), "wb")
    proc = subprocess.Popen([exe, "--save", "", "--appendonly", "no", "--port",
                             str(port), "--bind", "127.0.0.1"], stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 10
    while not port_open(port):
        assert proc.poll() is None and time.monotonic() < deadline, \
            "redis-server did not start"
        time.sleep(0.02)
    yield port
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


def test_a_fleet_shares_the_cache_on_redis(backend, gateway, redis_server):
    """Two gateways with ApiCacheStore redis:...: what one fetched, the
    other serves without the backend."""
    conf = f"""
LoadModule socache_redis_module /usr/lib/apache2/modules/mod_socache_redis.so
ApiCacheStore redis:127.0.0.1:{redis_server}
<ApiEndpoint "/v1/r/*">
  ApiBackend {backend.url}/{{*}}
  ApiCacheTTL 60s
  ApiCache On
</ApiEndpoint>
"""
    gw1 = gateway(conf)
    gw2 = gateway(conf)
    before = hits(backend)
    r1 = requests.get(gw1.url("/v1/r/shared"))
    assert r1.headers["X-Cache"] == "MISS"
    r2 = requests.get(gw2.url("/v1/r/shared"))
    assert r2.headers["X-Cache"] == "HIT" and r2.content == r1.content
    assert requests.get(gw1.url("/v1/r/shared")).headers["X-Cache"] == "HIT"
    assert hits(backend) == before + 1

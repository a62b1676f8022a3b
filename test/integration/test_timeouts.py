# ApiTimeout at endpoint, server and default (2s) level, measured on the
# wall clock, and the backend connection pool: kept-alive connections are
# reused, a connection that timed out never is.
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

TIMEOUT_LOGS = ("AH01102", "AH00898")   # status line read failed; proxy error

# timeouts measured on the wall clock: the module runs alone
pytestmark = pytest.mark.serial


def conf(b):
    return f"""
<ApiEndpoint "/v1/fast/*">
  ApiBackend {b.url}/{{*}}
  ApiTimeout 500ms
</ApiEndpoint>
<ApiEndpoint "/v1/server/*">
  ApiBackend {b.url}/{{*}}
</ApiEndpoint>
# after the endpoints on purpose: the server level is read when it starts
ApiTimeout 0.8s
"""


def timed_get(url, session=requests):
    t0 = time.monotonic()
    r = session.get(url, timeout=30)
    return r, time.monotonic() - t0


def assert_504(r):
    assert r.status_code == 504, r.text
    assert r.headers["Content-Type"] == "application/json"
    doc = r.json()
    assert doc["status"] == 504 and doc["error"]


@pytest.mark.allow_log(*TIMEOUT_LOGS)
def test_endpoint_timeout(backend, gateway):
    gw = gateway(conf(backend))
    r, elapsed = timed_get(gw.url("/v1/fast/__delay/2000"))
    assert_504(r)
    assert 0.45 <= elapsed < 1.5, elapsed
    r, elapsed = timed_get(gw.url("/v1/fast/__delay/100"))
    assert r.status_code == 200 and r.json()["path"] == "/__delay/100"


@pytest.mark.allow_log(*TIMEOUT_LOGS)
def test_server_timeout_applies_without_an_endpoint_one(backend, gateway):
    gw = gateway(conf(backend))
    r, elapsed = timed_get(gw.url("/v1/server/__delay/2500"))
    assert_504(r)
    assert 0.75 <= elapsed < 1.5, elapsed
    r, elapsed = timed_get(gw.url("/v1/server/__delay/400"))
    assert r.status_code == 200, r.text


@pytest.mark.allow_log(*TIMEOUT_LOGS)
def test_default_timeout_is_two_seconds(backend, gateway):
    gw = gateway(f"""
<ApiEndpoint "/v1/default/*">
  ApiBackend {backend.url}/{{*}}
</ApiEndpoint>
<ApiEndpoint "/v1/patient/*">
  ApiBackend {backend.url}/{{*}}
  ApiTimeout 4s
</ApiEndpoint>
""")
    # side by side: each is timed on its own
    with ThreadPoolExecutor(3) as pool:
        under, patient, over = pool.map(timed_get, (
            gw.url("/v1/default/__delay/1300"),
            gw.url("/v1/patient/__delay/2400"),     # over 2s is fine here
            gw.url("/v1/default/__delay/4000")))
    assert under[0].status_code == 200, under[0].text
    assert patient[0].status_code == 200, patient[0].text
    r, elapsed = over
    assert_504(r)
    assert 1.95 <= elapsed < 3.0, elapsed


@pytest.mark.allow_log(*TIMEOUT_LOGS)
def test_a_timed_out_connection_is_not_reused(backend, gateway):
    gw = gateway(conf(backend))
    with requests.Session() as s:
        assert s.get(gw.url("/v1/fast/warm")).status_code == 200
        warm = backend.stats()["connections"]
        assert s.get(gw.url("/v1/fast/again")).status_code == 200
        assert backend.stats()["connections"] == warm      # reused
        assert_504(s.get(gw.url("/v1/fast/__delay/1500")))
        before = backend.stats()["connections"]
        r = s.get(gw.url("/v1/fast/after"))
        # a new connection, and the late answer to the delayed request is
        # not mistaken for this one's
        assert r.status_code == 200 and r.json()["path"] == "/after"
        assert backend.stats()["connections"] > before
        time.sleep(1.1)         # the delayed answer is written meanwhile
        r = s.get(gw.url("/v1/fast/later"))
        assert r.status_code == 200 and r.json()["path"] == "/later"


@pytest.mark.children(2)
def test_kept_alive_backend_connections_are_reused(backend, gateway):
    gw = gateway(conf(backend))
    start = backend.stats()
    for i in range(30):                      # a new client connection each
        r = requests.get(gw.url("/v1/server/n/%d" % i))
        assert r.status_code == 200 and r.json()["path"] == "/n/%d" % i
    with requests.Session() as s:
        for i in range(30):
            assert s.get(gw.url("/v1/fast/s/%d" % i)).json()["path"] == "/s/%d" % i
    end = backend.stats()
    assert end["requests"] - start["requests"] == 60
    # two children, each with its pool (one per endpoint timeout)
    assert end["connections"] - start["connections"] <= 6, (start, end)

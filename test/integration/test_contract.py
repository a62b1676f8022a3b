# The contract between the modules (common/apigw_contract.h, README "The
# contract between the modules"): a request one module refused gets no
# work from a later phase of another.
import threading
import time

import pytest
import requests

SHMCB = """<IfModule !socache_shmcb_module>
  LoadModule socache_shmcb_module /usr/lib/apache2/modules/mod_socache_shmcb.so
</IfModule>
"""


def refused_conf(b):
    return SHMCB + f"""
<ApiEndpoint "/v1/slow/*">
  ApiBackend {b.url}/{{*}}
  ApiInputHeaders X-Client
  ApiCacheTTL 60s
  ApiCache On
  ApiTimeout 10s
  ApiRateLimit average=1 period=1m burst=1 by=header:X-Client
</ApiEndpoint>
"""


@pytest.mark.serial         # wall-clock bounds: run alone
def test_a_refused_request_does_no_cache_work(backend, gateway):
    """While one request fills the cache for a URL (holding the fill
    lock, its backend slow), a request the rate limiter refuses for the
    same URL is answered at once: it neither looks the cache up (no
    X-Cache field) nor waits for the fill."""
    gw = gateway(refused_conf(backend))
    url = gw.url("/v1/slow/__delay/2500/item")
    before = backend.stats()["requests"]
    first = {}

    def fill():
        first["r"] = requests.get(url, headers={"X-Client": "a"}, timeout=30)

    t = threading.Thread(target=fill)
    t.start()
    time.sleep(0.5)                    # the fill is under way
    started = time.monotonic()
    r = requests.get(url, headers={"X-Client": "a"}, timeout=30)
    took = time.monotonic() - started
    t.join()
    assert r.status_code == 429, r.text
    assert r.json()["status"] == 429
    assert "X-Cache" not in r.headers, r.headers
    # the fill answers about 2 s after the refusal was sent: a refused
    # request that waited for it would take that long
    assert took < 1.2, took
    assert first["r"].status_code == 200
    assert first["r"].headers["X-Cache"] == "MISS"
    assert backend.stats()["requests"] == before + 1
    # another client is admitted and served from the cache
    r = requests.get(url, headers={"X-Client": "b"}, timeout=30)
    assert r.status_code == 200 and r.headers["X-Cache"] == "HIT"

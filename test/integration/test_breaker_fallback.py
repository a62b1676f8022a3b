# mod_apigw_breaker, fallback-backend: while a breaker is open its
# requests are served by another real backend (same path and query, under
# the fallback's prefix) instead of a refusal, the primary backend is not
# contacted, and the fallback's answers do not count in the breaker's
# window; for a plain ProxyPass location and for an <ApiEndpoint>, also
# when the primary is down, and the fallback's own failure is an answer of
# mod_proxy's, not a crash.
import time

import pytest
import requests

from breaker_util import (FAIL, TRIPPED, UNREACHABLE_LOGS, STATUS_LOCATION,
                          get, is_refusal, state_of, wait_log)
from conftest import free_port


def test_fallback_for_a_proxypass_location(gateway, backend_factory):
    primary, fallback = backend_factory("primary"), backend_factory("fallback")
    gw = gateway(f"""
ProxyPass "/cb/" "{primary.url}/"
<Location "/cb/">
  ApiCircuitBreaker "ResponseCodeRatio(500, 600, 0, 600) > 0.5" min-requests=3 fallback=30s fallback-backend={fallback.url}
</Location>
""" + STATUS_LOCATION)
    for _ in range(3):
        assert get(gw, "/cb/" + FAIL).status_code == 500
    time.sleep(0.15)
    hits = primary.stats()["requests"]
    assert hits == 3
    for i in range(10):
        r = get(gw, "/cb/items/%d?view=full&x=%%20y" % i)
        assert r.status_code == 200, r.text
        doc = r.json()
        assert doc["backend"] == "fallback"
        assert doc["path"] == "/items/%d" % i
        assert doc["query"] == "view=full&x=%20y"
    assert primary.stats()["requests"] == hits
    assert fallback.stats()["requests"] == 10
    s = state_of(gw, "/cb/")
    assert s["state"] == "tripped"
    assert s["window"]["requests"] == 0      # the fallback's do not count
    line = wait_log(gw, TRIPPED)[0]
    assert "sending requests to " + fallback.url in line


@pytest.mark.allow_log(*UNREACHABLE_LOGS)
def test_fallback_for_an_endpoint_whose_backend_is_down(gateway,
                                                       backend_factory):
    fallback = backend_factory("fallback")
    dead = free_port()
    gw = gateway(f"""
<ApiEndpoint "/v1/items/{{id}}" GET POST>
  ApiBackend http://127.0.0.1:{dead}/items/{{id}}
  ApiInputQueryStrings view
  ApiInputHeaders X-Request-Id
  ApiCircuitBreaker "NetworkErrorRatio() > 0.5" min-requests=2 fallback=30s fallback-backend={fallback.url}/degraded/
</ApiEndpoint>
""" + STATUS_LOCATION)
    assert get(gw, "/v1/items/1").status_code == 502
    assert get(gw, "/v1/items/2").status_code == 502
    time.sleep(0.15)
    r = get(gw, "/v1/items/7?view=full&drop=me",
            headers={"X-Request-Id": "abc", "X-Secret": "no"})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["backend"] == "fallback"
    # the endpoint's own shaping applies to the fallback too
    assert doc["path"] == "/degraded/items/7"
    assert doc["query"] == "view=full"
    assert doc["headers"].get("X-Request-Id") == "abc"
    assert "X-Secret" not in doc["headers"]
    r = requests.post(gw.url("/v1/items/8"), data=b"payload", timeout=10)
    assert r.status_code == 200
    assert r.json()["body"] == "payload"
    assert r.json()["method"] == "POST"
    assert fallback.stats()["requests"] == 2


@pytest.mark.allow_log(*UNREACHABLE_LOGS)
def test_fallback_backend_down_too(gateway, backend):
    dead = free_port()
    gw = gateway(f"""
ProxyPass "/cb/" "{backend.url}/"
<Location "/cb/">
  ApiCircuitBreaker "ResponseCodeRatio(500, 600, 0, 600) > 0.5" min-requests=2 fallback=30s fallback-backend=http://127.0.0.1:{dead}
</Location>
""" + STATUS_LOCATION)
    for _ in range(2):
        assert get(gw, "/cb/" + FAIL).status_code == 500
    time.sleep(0.15)
    for _ in range(3):
        r = get(gw, "/cb/x")
        # mod_proxy's own answer for an unreachable backend
        assert r.status_code == 503
        assert not is_refusal(r)
    assert backend.stats()["requests"] == 2
    assert state_of(gw, "/cb/")["state"] == "tripped"


def test_fallback_while_recovering(gateway, backend_factory):
    primary, fallback = backend_factory("primary"), backend_factory("fallback")
    gw = gateway(f"""
ProxyPass "/cb/" "{primary.url}/"
<Location "/cb/">
  ApiCircuitBreaker "ResponseCodeRatio(500, 600, 0, 600) > 0.5" min-requests=2 fallback=500ms recovery=3s fallback-backend={fallback.url}
</Location>
""" + STATUS_LOCATION)
    for _ in range(2):
        assert get(gw, "/cb/" + FAIL).status_code == 500
    time.sleep(0.7)
    served = {"primary": 0, "fallback": 0}
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        r = get(gw, "/cb/ok")
        assert r.status_code == 200
        served[r.json()["backend"]] += 1
    # during the ramp some go to the primary, the others to the fallback
    assert served["primary"] > 0 and served["fallback"] > 0, served

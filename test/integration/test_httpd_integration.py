# mod_apigw among the rest of httpd: mod_rewrite passing a path on to an
# endpoint, <Location> and <Proxy> sections merged under the endpoint's own,
# balancer:// endpoints bounded by ApiTimeout, Expect: 100-continue, and
# graceful and full restarts of a running gateway.
import os
import signal
import socket
import time

import pytest
import requests

from conftest import SLOW, SLOW_CHILD_EXIT, _parse_one


def test_rewrite_passes_through_to_an_endpoint(backend, gateway):
    gw = gateway(f"""
RewriteEngine On
RewriteRule "^/old/users/(.*)$" "/v1/users/$1" [PT]
<ApiEndpoint "/v1/users/{{user}}">
  ApiBackend {backend.url}/users/{{user}}
</ApiEndpoint>
""")
    r = requests.get(gw.url("/old/users/alice"))
    assert r.status_code == 200 and r.json()["path"] == "/users/alice"


@pytest.mark.allow_log("AH01630")
def test_location_and_proxy_sections_merge_under_the_endpoint(backend, gateway):
    gw = gateway(f"""
<Location "/v1/admin">
  Require all denied
</Location>
<Proxy "{backend.url}/vault*">
  Require all denied
</Proxy>
<ApiEndpoint "/v1/admin/report">
  ApiBackend {backend.url}/report
</ApiEndpoint>
<ApiEndpoint "/v1/admin/open">
  ApiBackend {backend.url}/open
  Require all granted
</ApiEndpoint>
<ApiEndpoint "/v1/vault/{{key}}">
  ApiBackend {backend.url}/vault/{{key}}
</ApiEndpoint>
<ApiEndpoint "/v1/keys/{{key}}">
  ApiBackend {backend.url}/keys/{{key}}
</ApiEndpoint>
""")
    before = backend.stats()["requests"]
    assert requests.get(gw.url("/v1/admin/report")).status_code == 403
    assert requests.get(gw.url("/v1/vault/k1")).status_code == 403
    assert backend.stats()["requests"] == before
    # the endpoint's own section is merged last, so its Require wins
    r = requests.get(gw.url("/v1/admin/open"))
    assert r.status_code == 200 and r.json()["path"] == "/open"
    r = requests.get(gw.url("/v1/keys/k1"))
    assert r.status_code == 200 and r.json()["path"] == "/keys/k1"


@pytest.mark.serial         # wall-clock bounds: run alone
@pytest.mark.allow_log("AH01102", "AH00898")
def test_api_timeout_bounds_a_balancer_backend(backend_factory, gateway):
    b1, b2 = backend_factory("b1"), backend_factory("b2")
    gw = gateway(f"""
<Proxy balancer://slow>
  BalancerMember http://127.0.0.1:{b1.port}
  BalancerMember http://127.0.0.1:{b2.port}
</Proxy>
<ApiEndpoint "/v1/slow/*">
  ApiBackend balancer://slow/{{*}}
  ApiTimeout 500ms
</ApiEndpoint>
""")
    t0 = time.monotonic()
    r = requests.get(gw.url("/v1/slow/__delay/2500"))
    elapsed = time.monotonic() - t0
    assert r.status_code == 504, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert elapsed < 1.5, elapsed
    for _ in range(4):          # the members are not put out of service
        assert requests.get(gw.url("/v1/slow/ok")).status_code == 200


def test_expect_100_continue(backend, gateway):
    gw = gateway(f"""
<ApiEndpoint "/v1/upload" POST>
  ApiBackend {backend.url}/upload
</ApiEndpoint>
""")
    body = b"x" * 5000
    with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as s:
        s.sendall(b"POST /v1/upload HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: text/plain\r\nExpect: 100-continue\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body))
        data = s.recv(1024)
        assert data.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), data
        data = data[len(b"HTTP/1.1 100 Continue\r\n\r\n"):]
        s.sendall(body)
        while _parse_one(data) is None:
            chunk = s.recv(65536)
            assert chunk, data
            data += chunk
    resp, rest = _parse_one(data)
    assert resp.status == 200 and rest == b""
    doc = resp.json()
    assert doc["body"] == body.decode()
    assert doc["headers"]["Content-Type"] == "text/plain"


def wait_generation(gw, count, timeout=15.0):
    deadline = time.monotonic() + timeout * SLOW
    while time.monotonic() < deadline:
        if gw.error_log_text().count("resuming normal operations") >= count:
            return
        time.sleep(0.05)
    raise AssertionError("no restart within %ss:\n%s" % (timeout, gw.error_log_text()))


# A restart stops the old children: the same slow exit the teardown
# tolerates (conftest.SLOW_CHILD_EXIT) can show here; serving must not suffer.
@pytest.mark.allow_log(*SLOW_CHILD_EXIT)
@pytest.mark.parametrize("sig,tag", [(signal.SIGUSR1, "AH00297"),
                                     (signal.SIGHUP, "AH00298")],
                         ids=["graceful", "restart"])
def test_restart_keeps_serving(backend, gateway, sig, tag):
    gw = gateway(f"""
<Proxy balancer://pool>
  BalancerMember {backend.url}
</Proxy>
<ApiEndpoint "/v1/users/{{user}}">
  ApiBackend {backend.url}/users/{{user}}
  ApiTimeout 700ms
</ApiEndpoint>
<ApiEndpoint "/v1/pool/{{user}}">
  ApiBackend balancer://pool/pool/{{user}}
</ApiEndpoint>
""")
    with requests.Session() as s:
        for i in range(3):
            assert s.get(gw.url("/v1/users/a%d" % i)).json()["path"] == "/users/a%d" % i
    for generation in (2, 3):
        os.kill(gw.proc.pid, sig)
        wait_generation(gw, generation)
        assert tag in gw.error_log_text()
        for i in range(6):
            r = requests.get(gw.url("/v1/users/b%d" % i))
            assert r.status_code == 200 and r.json()["path"] == "/users/b%d" % i
            r = requests.get(gw.url("/v1/pool/c%d" % i))
            assert r.status_code == 200 and r.json()["path"] == "/pool/c%d" % i

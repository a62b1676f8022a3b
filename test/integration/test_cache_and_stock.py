# ApiCacheTTL's Cache-Control on 2xx answers only, and stock httpd
# directives inside <ApiEndpoint>: Require, Basic auth with an
# AuthUserFile, Header on the response, LimitRequestBody (declared and
# chunked bodies), ErrorDocument; the JSON bodies that replace httpd's own
# error pages for endpoints.
import os
import subprocess
import time

import pytest
import requests

from conftest import free_port


def cache_conf(b, dead_port):
    return f"""
<ApiEndpoint "/v1/cached/*" GET POST>
  ApiBackend {b.url}/{{*}}
  ApiCacheTTL 300s
</ApiEndpoint>
<ApiEndpoint "/v1/minutes/*">
  ApiBackend {b.url}/{{*}}
  ApiCacheTTL 5m
</ApiEndpoint>
<ApiEndpoint "/v1/off/*">
  ApiBackend {b.url}/{{*}}
  ApiCacheTTL off
</ApiEndpoint>
<ApiEndpoint "/v1/plain/*">
  ApiBackend {b.url}/{{*}}
</ApiEndpoint>
<ApiEndpoint "/v1/cached-down">
  ApiBackend http://127.0.0.1:{dead_port}/down
  ApiCacheTTL 300s
</ApiEndpoint>
<ApiEndpoint "/v1/cached-slow/*">
  ApiBackend {b.url}/{{*}}
  ApiCacheTTL 300s
  ApiTimeout 300ms
</ApiEndpoint>
"""


@pytest.mark.allow_log("AH00957", "AH00959", "AH01114",   # the backend down
                       "AH01102", "AH00898")              # the slow one
def test_cache_control_on_2xx_only(backend, gateway):
    gw = gateway(cache_conf(backend, free_port()))
    public = "public, max-age=300"
    r = requests.get(gw.url("/v1/cached/item"))
    assert r.status_code == 200 and r.headers["Cache-Control"] == public
    r = requests.head(gw.url("/v1/cached/item"))
    assert r.status_code == 200 and r.headers["Cache-Control"] == public
    r = requests.post(gw.url("/v1/cached/__status/201/"), data=b"x")
    assert r.status_code == 201 and r.headers["Cache-Control"] == public
    r = requests.get(gw.url("/v1/minutes/item"))
    assert r.headers["Cache-Control"] == public
    # backend errors and redirects are not cacheable
    for status in (301, 404, 500, 503):
        r = requests.get(gw.url("/v1/cached/__status/%d/" % status),
                         allow_redirects=False)
        assert r.status_code == status
        assert "Cache-Control" not in r.headers, status
    # nor are the gateway's own errors
    for path, status in (("/v1/cached-down", 502),
                         ("/v1/cached-slow/__delay/1500", 504)):
        r = requests.get(gw.url(path))
        assert r.status_code == status
        assert r.headers["Content-Type"] == "application/json"
        assert r.headers["Cache-Control"] == "no-store"
    r = requests.post(gw.url("/v1/minutes/item"))            # 405
    assert r.status_code == 405 and "public" not in r.headers.get("Cache-Control", "")
    # without a TTL, or with it off, no Cache-Control
    assert "Cache-Control" not in requests.get(gw.url("/v1/plain/item")).headers
    assert "Cache-Control" not in requests.get(gw.url("/v1/off/item")).headers


def test_cache_ttl_replaces_the_backends_own_on_2xx_only(backend, gateway):
    gw = gateway(cache_conf(backend, free_port()))
    r = requests.get(gw.url("/v1/cached/__header/200/Cache-Control/no-cache/"))
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "public, max-age=300"
    r = requests.get(gw.url("/v1/cached/__header/500/Cache-Control/private/"))
    assert r.status_code == 500 and r.headers["Cache-Control"] == "private"
    r = requests.get(gw.url("/v1/plain/__header/200/Cache-Control/private/"))
    assert r.headers["Cache-Control"] == "private"


@pytest.fixture
def htpasswd(world_readable_dir):
    path = os.path.join(world_readable_dir, "htpasswd")
    subprocess.run(["htpasswd", "-cbB", "-C", "5", path, "alice", "s3cret"],
                   check=True, capture_output=True)
    os.chmod(path, 0o644)
    return path


def stock_conf(b, htpasswd):
    return f"""
<ApiEndpoint "/v1/denied">
  ApiBackend {b.url}/denied
  Require all denied
</ApiEndpoint>
<ApiEndpoint "/v1/private/{{id}}">
  ApiBackend {b.url}/private/{{id}}
  AuthType Basic
  AuthName "gateway"
  AuthUserFile "{htpasswd}"
  Require valid-user
</ApiEndpoint>
<ApiEndpoint "/v1/tagged">
  ApiBackend {b.url}/tagged
  Header set X-From-Endpoint yes
</ApiEndpoint>
<ApiEndpoint "/v1/open">
  ApiBackend {b.url}/open
</ApiEndpoint>
<ApiEndpoint "/v1/upload" POST>
  ApiBackend {b.url}/__digest/upload
  LimitRequestBody 10
</ApiEndpoint>
<ApiEndpoint "/v1/upload-big" POST>
  ApiBackend {b.url}/__digest/upload
  LimitRequestBody 100000
</ApiEndpoint>
<ApiEndpoint "/v1/custom-denied">
  ApiBackend {b.url}/denied
  Require all denied
  ErrorDocument 403 "denied by policy"
</ApiEndpoint>
"""


def backend_counters(backend, settle=None, timeout=5.0):
    """The backend's whole /__stats document (requests, cut, cut_bytes...)
    without our own probes; with settle, polled until settle(doc) holds or
    timeout passes (the backend counts a cut body when it sees the end of
    the connection, a moment after the gateway answered)."""
    deadline = time.monotonic() + timeout
    while True:
        doc = requests.get(backend.url + "/__stats", timeout=5,
                           headers={"Connection": "close"}).json()
        # counted as one of Backend.stats()'s own probes, which it subtracts
        backend._probes += 1
        doc["requests"] -= backend._probes
        doc["connections"] -= backend._probes
        if settle is None or settle(doc) or time.monotonic() > deadline:
            return doc
        time.sleep(0.05)


def assert_json_error_body(r, status):
    assert r.status_code == status
    assert r.headers["Content-Type"] == "application/json", r.text
    assert r.json() == {"status": status, "error": r.json()["error"]}
    assert r.json()["error"]


@pytest.mark.allow_log("AH01630")          # client denied by server configuration
def test_require_all_denied(backend, gateway, htpasswd):
    gw = gateway(stock_conf(backend, htpasswd))
    before = backend.stats()["requests"]
    r = requests.get(gw.url("/v1/denied"))
    assert_json_error_body(r, 403)
    assert r.headers["Cache-Control"] == "no-store"
    assert requests.head(gw.url("/v1/denied")).status_code == 403
    assert backend.stats()["requests"] == before
    assert requests.get(gw.url("/v1/open")).status_code == 200


@pytest.mark.allow_log("AH01617", "AH01618")   # wrong password, unknown user
def test_basic_auth(backend, gateway, htpasswd):
    gw = gateway(stock_conf(backend, htpasswd))
    before = backend.stats()["requests"]
    r = requests.get(gw.url("/v1/private/1"))
    assert_json_error_body(r, 401)
    assert r.headers["WWW-Authenticate"] == 'Basic realm="gateway"'
    for creds in (("alice", "wrong"), ("bob", "s3cret")):
        assert requests.get(gw.url("/v1/private/1"), auth=creds).status_code == 401
    assert backend.stats()["requests"] == before
    r = requests.get(gw.url("/v1/private/1"), auth=("alice", "s3cret"))
    assert r.status_code == 200
    doc = r.json()
    assert doc["path"] == "/private/1"
    # the credentials stay at the gateway (no ApiInputHeaders)
    assert "Authorization" not in doc["headers"]
    log = gw.wait_access_log('"GET /v1/private/1 HTTP/1.1" 200')
    assert any(" alice [" in l and '" 200 ' in l for l in log.splitlines())


@pytest.mark.allow_log("AH01630")
def test_refusals_keep_the_connection_usable(backend, gateway, htpasswd, pipeline):
    """The JSON bodies that replace httpd's error pages are framed right:
    the next request on the connection is answered normally."""
    gw = gateway(stock_conf(backend, htpasswd))
    req = b"".join(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % p for p in (
        b"/v1/private/1", b"/v1/denied", b"/v1/open"))
    responses = pipeline(gw.port, req, expect=3)
    assert [r.status for r in responses] == [401, 403, 200]
    for r in responses[:2]:
        assert r.headers["content-type"] == "application/json"
        assert r.json()["status"] == r.status
    assert responses[2].json()["path"] == "/open"


def test_header_set_on_the_response(backend, gateway, htpasswd):
    gw = gateway(stock_conf(backend, htpasswd))
    r = requests.get(gw.url("/v1/tagged"))
    assert r.status_code == 200 and r.headers["X-From-Endpoint"] == "yes"
    assert r.json()["path"] == "/tagged"
    assert "X-From-Endpoint" not in requests.get(gw.url("/v1/open")).headers


def test_limit_request_body(backend, gateway, htpasswd, pipeline):
    gw = gateway(stock_conf(backend, htpasswd))
    r = requests.post(gw.url("/v1/upload"), data=b"0123456789")
    assert r.status_code == 200 and r.json()["length"] == 10
    before = backend.stats()["requests"]
    r = requests.post(gw.url("/v1/upload"), data=b"0123456789A")
    assert_json_error_body(r, 413)
    r = requests.post(gw.url("/v1/upload"), data=b"x" * 100_000)
    assert r.status_code == 413
    assert backend.stats()["requests"] == before
    # a body over the limit is not read as the next request either
    smuggled = b"GET /v1/open HTTP/1.1\r\nHost: x\r\n\r\n"
    responses = pipeline(gw.port, b"POST /v1/upload HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(smuggled) + smuggled)
    assert responses and responses[0].status == 413
    assert all(r.status != 200 for r in responses)
    assert backend.stats()["requests"] == before


@pytest.mark.allow_log("AH01095", "AH02608", "AH01097")   # body read failed
def test_limit_request_body_counts_chunked_bodies(backend, gateway, htpasswd):
    gw = gateway(stock_conf(backend, htpasswd))

    def chunked(total, piece=1000):
        for i in range(0, total, piece):
            yield b"c" * min(piece, total - i)
    r = requests.post(gw.url("/v1/upload"), data=chunked(8, 3))
    assert r.status_code == 200 and r.json()["length"] == 8
    before = backend.stats()["requests"]
    r = requests.post(gw.url("/v1/upload"), data=chunked(100, 7))
    assert_json_error_body(r, 413)
    assert backend.stats()["requests"] == before
    # over the limit only after the first 64 KB have been streamed: the
    # backend has been called by then (the body streams to it), once, but
    # the body is cut off at the limit: never its end, never more than
    # LimitRequestBody bytes of it, never an answer from the backend
    before = backend_counters(backend)
    try:
        r = requests.post(gw.url("/v1/upload-big"), data=chunked(3_000_000, 50_000))
        assert_json_error_body(r, 413)
    except requests.exceptions.ConnectionError:
        pass                        # or the exchange is aborted
    after = backend_counters(backend, settle=lambda c: c["cut"] > before["cut"])
    assert after["requests"] - before["requests"] == 1, (before, after)
    assert after["cut"] - before["cut"] == 1, (before, after)
    assert 0 < after["cut_bytes"] - before["cut_bytes"] <= 100_000, (before, after)
    r = requests.post(gw.url("/v1/upload-big"), data=chunked(99_000, 5_000))
    assert r.status_code == 200 and r.json()["length"] == 99_000


@pytest.mark.allow_log("AH01630")
def test_an_error_document_string_wins_over_the_json_body(backend, gateway, htpasswd):
    gw = gateway(stock_conf(backend, htpasswd))
    r = requests.get(gw.url("/v1/custom-denied"))
    assert r.status_code == 403
    assert r.text == "denied by policy"

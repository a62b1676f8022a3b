# Backends that fail and bodies that are large: an unreachable backend, one
# that drops the connection (on a new or a kept-alive client connection) and
# one that answers garbage are 502 JSON; one that dies or stalls mid-body
# gives the client a response it can tell is cut (Content-Length short, no
# last chunk) while the gateway child lives on; a backend's own error status
# passes through; 20 MB responses and multi-megabyte request bodies stream
# through intact.
import hashlib
import os
import time

import pytest
import requests

from conftest import free_port

# connect failed, worker put in error state, HTTP: failed to make connection
UNREACHABLE_LOGS = ("AH00957", "AH00959", "AH01114")
# error reading the status line, the proxy's error, error reading the body
BROKEN_LOGS = ("AH01102", "AH00898", "AH01110")


def conf(b, dead_port):
    return f"""
<ApiEndpoint "/v1/x/*" GET POST PUT>
  ApiBackend {b.url}/{{*}}
</ApiEndpoint>
<ApiEndpoint "/v1/down">
  ApiBackend http://127.0.0.1:{dead_port}/down
</ApiEndpoint>
"""


def assert_json_error(r, status):
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == "application/json"
    doc = r.json()
    assert doc["status"] == status and doc["error"]
    assert r.headers.get("X-Backend") is None
    return doc


@pytest.mark.allow_log(*UNREACHABLE_LOGS)
def test_unreachable_backend_is_502_json(backend, gateway):
    gw = gateway(conf(backend, free_port()))
    for _ in range(3):      # also once the worker is marked in error
        assert_json_error(requests.get(gw.url("/v1/down")), 502)
    assert requests.get(gw.url("/v1/x/ok")).status_code == 200


@pytest.mark.allow_log(*BROKEN_LOGS)
def test_backend_dropping_the_connection_is_502_json(backend, gateway):
    gw = gateway(conf(backend, free_port()))
    before = backend.stats()["requests"]
    assert_json_error(requests.get(gw.url("/v1/x/__drop/")), 502)
    assert backend.stats()["requests"] == before + 1
    r = requests.get(gw.url("/v1/x/next"))
    assert r.status_code == 200 and r.json()["path"] == "/next"


@pytest.mark.allow_log(*BROKEN_LOGS)
def test_backend_dropping_on_a_kept_alive_client_connection_closes_it(
        backend, gateway):
    """mod_proxy's rule, kept on purpose (README, errors): when the backend
    drops a request that came on a kept-alive client connection, httpd
    closes that client connection without an answer, so that the client
    may retry; a fresh connection gets 502 JSON (test above). The gateway
    itself goes on serving."""
    gw = gateway(conf(backend, free_port()))
    with requests.Session() as s:
        assert s.get(gw.url("/v1/x/first")).status_code == 200
        with pytest.raises(requests.exceptions.ConnectionError):
            s.post(gw.url("/v1/x/__drop/"), data=b"order=1")
    r = requests.get(gw.url("/v1/x/after"))
    assert r.status_code == 200 and r.json()["path"] == "/after"


@pytest.mark.children(2)
@pytest.mark.allow_log(*BROKEN_LOGS)
def test_backend_dying_mid_body_truncates_and_the_child_survives(
        backend, gateway, raw):
    gw = gateway(conf(backend, free_port()))
    resp = raw(gw.port, "/v1/x/__partial/")
    assert resp is not None
    assert resp.status == 200
    assert resp.headers.get("content-length") in (None, "1000")
    assert not resp.complete or resp.headers.get("content-length") is None
    assert resp.body.startswith(b'{"partial": "xxxx')
    assert len(resp.body) < 1000
    again = raw(gw.port, "/v1/x/__partial/")
    assert again.status == 200 and len(again.body) < 1000
    for i in range(4):      # both children still answer
        r = requests.get(gw.url("/v1/x/after/%d" % i))
        assert r.status_code == 200 and r.json()["path"] == "/after/%d" % i
    assert "exit signal" not in gw.error_log_text()


@pytest.mark.allow_log(*BROKEN_LOGS)
def test_a_chunked_body_cut_off_is_not_terminated_for_the_client(
        backend, gateway, raw):
    """No terminating 0-chunk: the client must not take the part for the
    whole."""
    gw = gateway(conf(backend, free_port()))
    resp = raw(gw.port, "/v1/x/__partial_chunked/")
    assert resp.status == 200
    assert resp.headers.get("transfer-encoding") == "chunked"
    assert b'{"partial": "zzz' in resp.body
    assert not resp.body.endswith(b"0\r\n\r\n"), resp.body[-20:]
    r = requests.get(gw.url("/v1/x/after"))
    assert r.status_code == 200 and r.json()["path"] == "/after"


@pytest.mark.serial         # wall-clock bounds: run alone
@pytest.mark.allow_log(*BROKEN_LOGS)
def test_a_backend_stalling_mid_body_is_cut_at_the_timeout(backend, gateway, raw):
    gw = gateway(f"""
<ApiEndpoint "/v1/short/*">
  ApiBackend {backend.url}/{{*}}
  ApiTimeout 600ms
</ApiEndpoint>
""")
    t0 = time.monotonic()
    resp = raw(gw.port, "/v1/short/__stall/2500/")
    elapsed = time.monotonic() - t0
    assert resp.status == 200
    assert not resp.complete, len(resp.body)
    assert elapsed < 2.0, elapsed
    r = requests.get(gw.url("/v1/short/__stall/100/"))       # a short pause is fine
    assert r.status_code == 200 and len(r.json()["stalled"]) == 2000


@pytest.mark.allow_log(*BROKEN_LOGS, "AGW00104")
def test_garbage_from_the_backend_is_502_json(backend, gateway):
    gw = gateway(conf(backend, free_port()))
    for kind in ("status", "raw"):
        before = backend.stats()["requests"]
        r = requests.get(gw.url("/v1/x/__garbage/%s/" % kind))
        assert backend.stats()["requests"] == before + 1
        assert_json_error(r, 502)
        assert b"not http" not in r.content


def test_backend_error_status_passes_through(backend, gateway):
    gw = gateway(conf(backend, free_port()))
    for status in (400, 404, 500, 503):
        r = requests.get(gw.url("/v1/x/__status/%d/p" % status))
        assert r.status_code == status
        assert r.headers["X-Backend"] == "backend"      # the backend's answer
        assert r.json()["path"] == "/__status/%d/p" % status


def test_large_response_streams_through(backend, gateway):
    gw = gateway(conf(backend, free_port()))
    size = 20 * 1024 * 1024
    with requests.get(gw.url("/v1/x/__big/%d" % size), stream=True) as r:
        assert r.status_code == 200
        assert r.headers["Content-Length"] == str(size)
        n, digest = 0, hashlib.sha256()
        for chunk in r.iter_content(1 << 20):
            n += len(chunk)
            digest.update(chunk)
    assert n == size
    assert digest.hexdigest() == hashlib.sha256(b"a" * size).hexdigest()


def test_request_bodies_are_forwarded_intact(backend, gateway):
    gw = gateway(conf(backend, free_port()))
    body = os.urandom(3 * 1024 * 1024 + 17)
    r = requests.post(gw.url("/v1/x/__digest/"), data=body,
                      headers={"Content-Type": "application/octet-stream"})
    doc = r.json()
    assert (doc["method"], doc["length"]) == ("POST", len(body))
    assert doc["sha256"] == hashlib.sha256(body).hexdigest()
    assert doc["headers"]["Content-Type"] == "application/octet-stream"

    def chunks():           # chunked upload, 2 MB in uneven pieces
        for i in range(0, len(body) - 1024 * 1024, 100_003):
            yield body[i:i + 100_003]
    sent = b"".join(chunks())
    doc = requests.put(gw.url("/v1/x/__digest/"), data=chunks()).json()
    assert (doc["method"], doc["length"]) == ("PUT", len(sent))
    assert doc["sha256"] == hashlib.sha256(sent).hexdigest()

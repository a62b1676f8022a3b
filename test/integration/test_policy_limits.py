# Body limits: ApiRequestBodyLimit (413 with a JSON body before any backend
# is contacted, for declared and chunked bodies, the smaller of it and
# LimitRequestBody winning) and ApiResponseBodyLimit (502 with a JSON body
# for a declared length over it; an undeclared, chunked body that crosses
# it mid-stream gets the client connection aborted, so the client never
# takes a cut body for a whole one).
import socket

import pytest
import requests


def limits_conf(b):
    return f"""
ApiRequestBodyLimit 1M
<ApiEndpoint "/v1/upload" POST PUT>
  ApiBackend {b.url}/__digest/upload
  ApiRequestBodyLimit 100
</ApiEndpoint>
<ApiEndpoint "/v1/upload-stock" POST>
  ApiBackend {b.url}/__digest/upload
  ApiRequestBodyLimit 1000
  LimitRequestBody 50
</ApiEndpoint>
<ApiEndpoint "/v1/upload-big" POST>
  ApiBackend {b.url}/__digest/upload
  ApiRequestBodyLimit 200k
</ApiEndpoint>
<ApiEndpoint "/v1/upload-server" POST>
  ApiBackend {b.url}/__digest/upload
</ApiEndpoint>
<ApiEndpoint "/v1/download/*">
  ApiBackend {b.url}/{{*}}
  ApiResponseBodyLimit 100k
</ApiEndpoint>
<ApiEndpoint "/v1/tiny/*">
  ApiBackend {b.url}/{{*}}
  ApiResponseBodyLimit 1k
</ApiEndpoint>
<ApiEndpoint "/v1/free/*">
  ApiBackend {b.url}/{{*}}
</ApiEndpoint>
"""


def chunked(total, piece):
    for i in range(0, total, piece):
        yield b"c" * min(piece, total - i)


def expect_json(r, status):
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert r.json()["status"] == status and r.json()["error"]


def test_request_limit_declared(backend, gateway):
    gw = gateway(limits_conf(backend))
    r = requests.post(gw.url("/v1/upload"), data=b"x" * 100)
    assert r.status_code == 200 and r.json()["length"] == 100
    before = backend.stats()["requests"]
    expect_json(requests.post(gw.url("/v1/upload"), data=b"x" * 101), 413)
    expect_json(requests.put(gw.url("/v1/upload"), data=b"x" * 5000), 413)
    # LimitRequestBody smaller than ApiRequestBodyLimit: the smaller wins
    expect_json(requests.post(gw.url("/v1/upload-stock"), data=b"x" * 51), 413)
    # the server's limit where the endpoint sets none
    expect_json(requests.post(gw.url("/v1/upload-server"),
                              data=b"x" * (1024 * 1024 + 1)), 413)
    assert backend.stats()["requests"] == before
    r = requests.post(gw.url("/v1/upload-server"), data=b"x" * 1024 * 1024)
    assert r.status_code == 200 and r.json()["length"] == 1024 * 1024


@pytest.mark.allow_log("AH01095", "AH02608", "AH01097")   # body read failed
def test_request_limit_chunked(backend, gateway):
    gw = gateway(limits_conf(backend))
    r = requests.post(gw.url("/v1/upload"), data=chunked(100, 7))
    assert r.status_code == 200 and r.json()["length"] == 100
    before = backend.stats()["requests"]
    expect_json(requests.post(gw.url("/v1/upload"), data=chunked(101, 7)), 413)
    assert backend.stats()["requests"] == before
    # over the limit only after a good part has been streamed: 413, or the
    # exchange aborted; never a 200
    try:
        r = requests.post(gw.url("/v1/upload-big"), data=chunked(2_000_000, 50_000))
        assert r.status_code == 413
    except requests.exceptions.ConnectionError:
        pass
    r = requests.post(gw.url("/v1/upload-big"), data=chunked(200 * 1024, 10_000))
    assert r.status_code == 200 and r.json()["length"] == 200 * 1024


def test_response_limit_declared(backend, gateway):
    gw = gateway(limits_conf(backend))
    r = requests.get(gw.url("/v1/download/__big/102400"))
    assert r.status_code == 200 and len(r.content) == 102400
    r = requests.get(gw.url("/v1/download/__big/102401"))
    expect_json(r, 502)
    assert "larger than 102400 bytes" in r.json()["error"]
    r = requests.get(gw.url("/v1/download/__big/50000000"))
    expect_json(r, 502)
    # the gateway is fine afterwards, and other endpoints have no limit
    r = requests.get(gw.url("/v1/free/__big/2000000"))
    assert r.status_code == 200 and len(r.content) == 2000000
    r = requests.get(gw.url("/v1/download/x"))
    assert r.status_code == 200


def read_raw(port, path):
    """GET over a raw socket: (head, body bytes, cleanly ended?)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path.encode())
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not chunk:
            break
        data += chunk
        if data.endswith(b"\r\n0\r\n\r\n"):
            break
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body, data.endswith(b"\r\n0\r\n\r\n")


def test_response_limit_undeclared(backend, gateway):
    gw = gateway(limits_conf(backend))
    # under the limit: a complete chunked body
    head, body, complete = read_raw(gw.port, "/v1/download/__chunked/100000")
    assert b" 200 " in head.split(b"\r\n")[0] and complete
    # crossing it mid-stream: the head went out, the body never ends
    head, body, complete = read_raw(gw.port, "/v1/download/__chunked/1000000")
    assert b" 200 " in head.split(b"\r\n")[0]
    assert b"chunked" in head.lower()
    assert not complete
    assert len(body) < 300_000
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(gw.url("/v1/download/__chunked/1000000")).content
    # crossing it in the first block read, before the head went out: a
    # clean 502 (or, when the backend's first bytes came alone, the cut)
    try:
        r = requests.get(gw.url("/v1/tiny/__chunked/5000"))
        expect_json(r, 502)
    except (requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ConnectionError):
        pass
    r = requests.get(gw.url("/v1/free/__chunked/1000000"))
    assert r.status_code == 200 and len(r.content) == 1000000


@pytest.mark.parametrize("body,needle", [
    ("ApiRequestBodyLimit 0", "greater than zero"),
    ("ApiRequestBodyLimit lots", "ApiRequestBodyLimit lots"),
    ("ApiResponseBodyLimit 10q", "ApiResponseBodyLimit 10q"),
])
def test_configtest_errors(configtest, body, needle):
    ok, out = configtest(f"""
<ApiEndpoint "/v1/x">
  ApiBackend http://127.0.0.1:9/x
  {body}
</ApiEndpoint>
""")
    assert not ok
    assert needle in out, out


@pytest.mark.allow_log("AH01095", "AH02608", "AH01097")
def test_request_limit_on_an_aggregating_endpoint(backend_factory, gateway):
    b1, b2 = backend_factory("one"), backend_factory("two")
    gw = gateway(f"""
<ApiEndpoint "/v1/agg" POST>
  ApiBackend {b1.url}/__digest/a group=one
  ApiBackend {b2.url}/__digest/b group=two
  ApiRequestBodyLimit 100
</ApiEndpoint>
""")
    r = requests.post(gw.url("/v1/agg"), data=b"x" * 100)
    assert r.status_code == 200 and r.json()["one"]["length"] == 100
    before = b1.stats()["requests"] + b2.stats()["requests"]
    expect_json(requests.post(gw.url("/v1/agg"), data=b"x" * 101), 413)
    expect_json(requests.post(gw.url("/v1/agg"), data=chunked(500, 50)), 413)
    assert b1.stats()["requests"] + b2.stats()["requests"] == before
    r = requests.post(gw.url("/v1/agg"), data=chunked(90, 30))
    assert r.status_code == 200 and r.json()["two"]["length"] == 90

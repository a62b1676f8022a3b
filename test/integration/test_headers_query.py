# What of the client's request reaches the backend: ApiInputHeaders
# (allow-list, case-insensitive, default none, *), the body headers that
# always pass, mod_proxy's X-Forwarded-*, RequestHeader inside
# <ApiEndpoint>; what stays the client's business with the gateway
# (Connection, the headers the logs see, nothing secret in mod_apigw's own
# log lines); and ApiInputQueryStrings (allow-list, case-sensitive, repeats
# and order kept, default none, *, merged with a template query).
import socket
import time

import requests

CLIENT_HEADERS = {
    "Authorization": "Bearer secret-token",
    "Cookie": "session=abc",
    "X-Custom": "custom-value",
    "X-Other": "other-value",
    "User-Agent": "apigw-it/1.0",
    "Accept": "text/plain",
}

# What mod_proxy_http itself puts in every request to a backend (and
# X-Forwarded-Host, see test_proxy_adds_x_forwarded_headers).
# mod_proxy adds these to every backend request (ProxyAddHeaders), and
# the gateway its trace (ApiTraceContext, on by default; test_trace.py)
PROXY_ADDED = {"host", "x-forwarded-for", "x-forwarded-host",
               "x-forwarded-server", "connection", "traceparent"}


def header_conf(b):
    return f"""
LogFormat "%{{User-Agent}}i|%{{Cookie}}i|%r" client_headers
CustomLog "@RUN@/client-headers.log" client_headers

<ApiEndpoint "/v1/none">
  ApiBackend {b.url}/none
</ApiEndpoint>
<ApiEndpoint "/v1/some">
  ApiBackend {b.url}/some
  ApiInputHeaders x-custom AUTHORIZATION
</ApiEndpoint>
<ApiEndpoint "/v1/all">
  ApiBackend {b.url}/all
  ApiInputHeaders *
</ApiEndpoint>
<ApiEndpoint "/v1/body" POST PUT>
  ApiBackend {b.url}/body
</ApiEndpoint>
<ApiEndpoint "/v1/set">
  ApiBackend {b.url}/set
  RequestHeader set X-Gateway "gw-1"
  RequestHeader set X-Custom "from-gateway"
</ApiEndpoint>
<ApiEndpoint "/v1/small" POST>
  ApiBackend {b.url}/small
  LimitRequestBody 5
</ApiEndpoint>
"""


def lower_keys(d):
    return {k.lower(): v for k, v in d.items()}


def test_no_client_header_is_forwarded_by_default(backend, gateway):
    gw = gateway(header_conf(backend))
    doc = requests.get(gw.url("/v1/none"), headers=dict(
        CLIENT_HEADERS, **{"X-Forwarded-For": "6.6.6.6"})).json()
    got = lower_keys(doc["headers"])
    assert set(got) == PROXY_ADDED, got
    assert got["host"] == "127.0.0.1:%d" % backend.port
    # the client's own X-Forwarded-For is not passed on either
    assert got["x-forwarded-for"] == "127.0.0.1"


def test_proxy_adds_x_forwarded_headers(backend, gateway):
    """mod_proxy's X-Forwarded-* headers describe the client's request,
    whatever the allow-list: X-Forwarded-Host is the Host the client used."""
    gw = gateway(header_conf(backend))
    missing = []
    for path in ("/v1/all", "/v1/none", "/v1/some"):
        doc = requests.get(gw.url(path), headers={"Host": "api.example.test"}).json()
        got = lower_keys(doc["headers"])
        assert got["x-forwarded-for"] == "127.0.0.1", path
        assert got["x-forwarded-server"] == "127.0.0.1", path
        if got.get("x-forwarded-host") != "api.example.test":
            missing.append((path, got))
    assert not missing, "X-Forwarded-Host missing or wrong: %s" % missing


def test_allow_listed_headers_case_insensitively(backend, gateway):
    gw = gateway(header_conf(backend))
    sent = dict(CLIENT_HEADERS)
    sent["X-CUSTOM"] = sent.pop("X-Custom")
    sent["authorization"] = sent.pop("Authorization")
    doc = requests.get(gw.url("/v1/some"), headers=sent).json()
    got = lower_keys(doc["headers"])
    assert set(got) == PROXY_ADDED | {"x-custom", "authorization"}, got
    assert got["x-custom"] == "custom-value"
    assert got["authorization"] == "Bearer secret-token"


def test_star_forwards_every_header(backend, gateway):
    gw = gateway(header_conf(backend))
    doc = requests.get(gw.url("/v1/all"), headers=dict(
        CLIENT_HEADERS, **{"X-Forwarded-For": "6.6.6.6"})).json()
    got = lower_keys(doc["headers"])
    for k, v in CLIENT_HEADERS.items():
        assert got[k.lower()] == v, k
    assert "accept-encoding" in got        # what requests adds is kept too
    assert got["x-forwarded-for"] == "6.6.6.6, 127.0.0.1"


def test_body_headers_always_reach_the_backend(backend, gateway):
    gw = gateway(header_conf(backend))
    body = b'{"name": "alice", "tags": ["x"]}'
    r = requests.post(gw.url("/v1/body"), data=body,
                      headers=dict(CLIENT_HEADERS, **{"Content-Type": "application/json"}))
    doc = r.json()
    got = lower_keys(doc["headers"])
    assert doc["body"] == body.decode()
    assert got["content-type"] == "application/json"
    assert got["content-length"] == str(len(body))
    assert "authorization" not in got and "x-custom" not in got
    assert set(got) == PROXY_ADDED | {"content-type", "content-length"}

    # a chunked body arrives whole, with its type
    def chunks():
        yield b"part-1;"
        yield b"part-2"
    doc = requests.put(gw.url("/v1/body"), data=chunks(),
                       headers={"Content-Type": "text/plain"}).json()
    got = lower_keys(doc["headers"])
    assert doc["method"] == "PUT"
    assert doc["body"] == "part-1;part-2"
    assert got["content-type"] == "text/plain"


def test_request_header_inside_the_endpoint_reaches_the_backend(backend, gateway):
    gw = gateway(header_conf(backend))
    doc = requests.get(gw.url("/v1/set"), headers=CLIENT_HEADERS).json()
    got = lower_keys(doc["headers"])
    assert got["x-gateway"] == "gw-1"
    assert got["x-custom"] == "from-gateway"
    assert "authorization" not in got and "cookie" not in got
    # and only inside that endpoint
    doc = requests.get(gw.url("/v1/none"), headers=CLIENT_HEADERS).json()
    assert "x-gateway" not in lower_keys(doc["headers"])


def test_the_clients_connection_header_is_honoured(backend, gateway, raw):
    """Connection: close from an HTTP/1.1 client, keep-alive from an HTTP/1.0
    one, are the client's business with the gateway, whatever the
    allow-list forwards to the backend."""
    gw = gateway(header_conf(backend))
    wrong = []
    for path in ("/v1/all", "/v1/none", "/v1/some"):
        t0 = time.monotonic()
        with socket.create_connection(("127.0.0.1", gw.port), timeout=2.5) as s:
            s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                      % path.encode())
            data = b""
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except socket.timeout:
                pass
        elapsed = time.monotonic() - t0
        head = data.split(b"\r\n\r\n")[0].lower()
        if (not data.startswith(b"HTTP/1.1 200") or elapsed > 2
                or b"\r\nconnection: close" not in head):
            wrong.append("%s with Connection: close: connection still open after "
                         "%.1fs, response head %r" % (path, elapsed, head))
        resp = raw(gw.port, path, headers={"Connection": "keep-alive"})
        r10 = raw_http10_keepalive(gw.port, path)
        if b"\r\nconnection: keep-alive" not in r10.lower():
            wrong.append("%s, HTTP/1.0 with Connection: keep-alive: %r"
                         % (path, r10.split(b"\r\n\r\n")[0]))
        assert resp.status == 200
    assert not wrong, "\n".join(wrong)


def raw_http10_keepalive(port, path):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET %s HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" % path.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def test_logs_still_see_the_client_headers(backend, gateway):
    gw = gateway(header_conf(backend))
    for path in ("/v1/none", "/v1/some", "/v1/set"):
        assert requests.get(gw.url(path), headers=CLIENT_HEADERS).status_code == 200
    r = requests.post(gw.url("/v1/small"), data=b"12345", headers=CLIENT_HEADERS)
    assert r.status_code == 200
    r = requests.post(gw.url("/v1/small"), data=b"123456", headers=CLIENT_HEADERS)
    assert r.status_code == 413
    gw.stop()       # flushes the logs
    with open(gw.run_dir + "/client-headers.log") as f:
        lines = f.read().splitlines()
    expected = (["apigw-it/1.0|session=abc|GET %s HTTP/1.1" % p
                 for p in ("/v1/none", "/v1/some", "/v1/set")]
                + ["apigw-it/1.0|session=abc|POST /v1/small HTTP/1.1"] * 2)
    assert sorted(lines) == sorted(expected), \
        "User-Agent|Cookie|request as logged:\n" + "\n".join(lines)
    assert '"GET /v1/some HTTP/1.1" 200' in gw.access_log_text()  # stopped


def query_conf(b):
    return f"""
<ApiEndpoint "/v1/q/none">
  ApiBackend {b.url}/q
</ApiEndpoint>
<ApiEndpoint "/v1/q/some">
  ApiBackend {b.url}/q
  ApiInputQueryStrings a b
  ApiInputQueryStrings c_d
</ApiEndpoint>
<ApiEndpoint "/v1/q/all">
  ApiBackend {b.url}/q
  ApiInputQueryStrings *
</ApiEndpoint>
<ApiEndpoint "/v1/q/tpl/{{id}}">
  ApiBackend {b.url}/q?src=gw&id={{id}}
  ApiInputQueryStrings a
</ApiEndpoint>
<ApiEndpoint "/v1/q/open">
  ApiBackend {b.url}/q?
  ApiInputQueryStrings a
</ApiEndpoint>
<ApiEndpoint "/v1/q/amp">
  ApiBackend {b.url}/q?src=gw&
  ApiInputQueryStrings a
</ApiEndpoint>
"""


def backend_query(gw, path_and_query):
    r = requests.get(gw.url(path_and_query))
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["path"] == "/q"
    return doc["query"]


def test_query_strings_default_none(backend, gateway):
    gw = gateway(query_conf(backend))
    assert backend_query(gw, "/v1/q/none?a=1&b=2&token=x") == ""
    assert backend_query(gw, "/v1/q/none") == ""


def test_query_allow_list_is_case_sensitive_keeps_repeats_and_order(
        backend, gateway, raw):
    gw = gateway(query_conf(backend))
    assert backend_query(
        gw, "/v1/q/some?b=2&x=9&a=1&A=5&a=3&ab=7&c_d=4&B=0&b") == \
        "b=2&a=1&a=3&c_d=4&b"
    assert backend_query(gw, "/v1/q/some?a=%20x%26y&b=caf%C3%A9") == \
        "a=%20x%26y&b=caf%C3%A9"
    assert backend_query(gw, "/v1/q/some?&&a=1&&") == "a=1"
    # names compare decoded, values go on as the client encoded them
    doc = raw(gw.port, "/v1/q/some?%61=encoded-name&%41=no").json()
    assert doc["query"] == "%61=encoded-name"
    assert backend_query(gw, "/v1/q/some?x=1&y=2") == ""


def test_query_star_forwards_all_as_sent(backend, gateway):
    gw = gateway(query_conf(backend))
    assert backend_query(gw, "/v1/q/all?x=1&y=%20z&x=2&A=b+c") == \
        "x=1&y=%20z&x=2&A=b+c"


def test_query_allow_list_with_a_template_query(backend, gateway):
    gw = gateway(query_conf(backend))
    assert backend_query(gw, "/v1/q/tpl/7?z=0&a=1&a=2") == "src=gw&id=7&a=1&a=2"
    assert backend_query(gw, "/v1/q/tpl/7?z=0") == "src=gw&id=7"
    assert backend_query(gw, "/v1/q/tpl/7") == "src=gw&id=7"
    assert backend_query(gw, "/v1/q/tpl/a%26b?a=1") == "src=gw&id=a%26b&a=1"
    # a template query left open takes the client's without an empty pair
    assert backend_query(gw, "/v1/q/open?a=1&z=2") == "a=1"
    assert backend_query(gw, "/v1/q/open?z=2") == ""
    assert backend_query(gw, "/v1/q/amp?a=1") == "src=gw&a=1"


def test_mod_apigw_logs_no_query_strings_or_header_values(backend, gateway):
    """README, Security: nothing mod_apigw logs holds header values or
    query strings, even at its most verbose level."""
    gw = gateway(query_conf(backend) + header_conf(backend).split("\n", 3)[3],
                 env={"APIGW_LOGLEVEL": "warn apigw:trace8"})
    r = requests.get(gw.url("/v1/q/all?token=QUERY-SECRET-1"),
                     headers={"X-Custom": "HEADER-SECRET-2"})
    assert r.status_code == 200
    r = requests.get(gw.url("/v1/q/tpl/ID-SECRET-3?a=QUERY-SECRET-4"))
    assert r.status_code == 200
    r = requests.get(gw.url("/v1/some"), headers={"X-Custom": "HEADER-SECRET-5",
                                                  "Authorization": "Basic SECRET-6"})
    assert r.status_code == 200
    gw.stop()
    log = gw.error_log_text()
    assert "[apigw:trace" in log            # the level took effect
    leaked = [l for l in log.splitlines() if "SECRET" in l]
    assert not leaked, "\n".join(leaked)

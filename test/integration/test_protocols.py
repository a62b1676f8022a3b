# Protocols through real gateways, end to end: WebSockets (the handshake
# checked at the edge, the tunnel, its idle timeout, the per-child bound,
# the CORS origin check, the rate limiter), server-sent events (flushed as
# written, ApiStreamIdleTimeout instead of ApiTimeout), HTTP/2 to the
# gateway (h2c and h2 over TLS) and gRPC through an endpoint to an h2c
# backend (gateway errors as gRPC statuses, the breaker).
#
# The backends: test/backends/ws_backend.py, backend.py and
# grpc_backend.py (the ws_backend, backend and grpc_backend fixtures of
# conftest.py); test_proto_backends.py tests them alone.
import base64
import json
import os
import re
import resource
import selectors
import socket
import subprocess
import threading
import time

import grpc
import pytest
import requests
import websocket

import grpc_util
from conftest import ProtoBackend, free_port, raw_request
from test_admin_api import Admin, admin_conf, store_dir  # noqa: F401 (fixture)
from test_runtime_routes import store  # noqa: F401 (fixture)
KEY = base64.b64encode(b"0123456789abcdef").decode()


# ---------------------------------------------------------------- backends

def ws_stats(port):
    return requests.get("http://127.0.0.1:%d/__stats" % port, timeout=5,
                        headers={"Connection": "close"}).json()


# ---------------------------------------------------------------- raw HTTP

def handshake(path, port, headers=None, method="GET", key=KEY, version="13",
              connection="Upgrade"):
    """The bytes of a WebSocket opening handshake; a header set to None in
    headers is left out (key/version/connection None: left out too)."""
    h = {"Host": "127.0.0.1:%d" % port, "Upgrade": "websocket",
         "Connection": connection, "Sec-WebSocket-Key": key,
         "Sec-WebSocket-Version": version}
    h.update(headers or {})
    lines = ["%s %s HTTP/1.1" % (method, path)]
    lines += ["%s: %s" % (k, v) for k, v in h.items() if v is not None]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def read_head(sock):
    """(status, {lower-case name: value}, bytes after the head)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed after %r" % data)
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), headers, rest


def refused(port, request_bytes):
    """A handshake the gateway must answer itself: the RawResponse."""
    resp = raw_request(port, request_bytes, timeout=10)
    assert resp is not None, "no answer"
    return resp


def assert_json_refusal(resp, status, needle=None):
    assert resp.status == status, (resp.status, resp.body)
    assert resp.headers["content-type"].split(";")[0] == "application/json"
    doc = resp.json()
    assert doc["status"] == status and doc["error"], doc
    if needle:
        assert needle in doc["error"], doc
    return doc


def ws_connect(gw, path, **kw):
    kw.setdefault("timeout", 5)
    return websocket.create_connection("ws://127.0.0.1:%d%s" % (gw.port, path), **kw)


def ws_conf(ws_backend, extra="", methods="GET", path="/ws/{room}",
            backend_line=None):
    be = backend_line or "ApiBackend ws://127.0.0.1:%d/rooms/{room}" % ws_backend.port
    return f"""
<ApiEndpoint "{path}" {methods}>
  {be}
  {extra}
</ApiEndpoint>
"""


# ---------------------------------------------------------------- WebSocket

@pytest.mark.parametrize("scheme", ["ws", "upgrade"])
def test_ws_handshake_headers_and_echo(ws_backend, gateway, scheme):
    """The handshake headers reach the backend whatever ApiInputHeaders
    says (others do not); the subprotocol is negotiated through; text,
    a 200 KB binary message and a burst of 100 echo back."""
    line = None
    if scheme == "upgrade":
        line = ("ApiBackend http://127.0.0.1:%d/rooms/{room} upgrade=websocket"
                % ws_backend.port)
    gw = gateway(ws_conf(ws_backend, backend_line=line))
    ws = ws_connect(gw, "/ws/lobby", subprotocols=["superchat"],
                    header=["X-Custom: secret",
                            "Sec-WebSocket-Extensions: x-test-ext"])
    try:
        assert ws.getsubprotocol() == "superchat"
        hello = json.loads(ws.recv())
        assert hello["hello"] is True and hello["path"] == "/rooms/lobby"
        assert hello["protocol"] == "superchat"
        hdrs = {k.lower(): v for k, v in hello["headers"].items()}
        assert hdrs["sec-websocket-version"] == "13"
        assert len(base64.b64decode(hdrs["sec-websocket-key"])) == 16
        assert hdrs["sec-websocket-protocol"] == "superchat"
        assert hdrs["sec-websocket-extensions"] == "x-test-ext"
        assert "x-custom" not in hdrs, hdrs
        ws.send("hello there")
        assert ws.recv() == "hello there"
        blob = os.urandom(200 * 1024)
        ws.send_binary(blob)
        op, frame = ws.recv_data_frame(True)
        assert op == websocket.ABNF.OPCODE_BINARY and frame.data == blob
        ws.send("__burst 100")
        assert [ws.recv() for _ in range(100)] == ["burst %d" % i for i in range(100)]
    finally:
        ws.close()
    assert ws_stats(ws_backend.port)["handshakes"] == 1


def test_ws_listed_input_header_is_forwarded(ws_backend, gateway):
    """ApiInputHeaders still governs the other headers of a handshake."""
    gw = gateway(ws_conf(ws_backend, "ApiInputHeaders X-Custom"))
    ws = ws_connect(gw, "/ws/a?x=1", header=["X-Custom: yes", "X-Other: no"])
    try:
        hello = json.loads(ws.recv())
        hdrs = {k.lower(): v for k, v in hello["headers"].items()}
        assert hdrs.get("x-custom") == "yes" and "x-other" not in hdrs, hdrs
        assert hello["protocol"] is None and ws.getsubprotocol() is None
    finally:
        ws.close()


def _idle_close_after(ws):
    """Seconds from now until the gateway ends ws (no traffic meanwhile)."""
    t0 = time.monotonic()
    try:
        got = ws.recv()
    except (websocket.WebSocketConnectionClosedException, ConnectionError,
            OSError):
        got = None
    elapsed = time.monotonic() - t0
    assert not got, "a message on an idle WebSocket: %r" % got
    return elapsed


def test_ws_idle_timeout_not_api_timeout(ws_backend, gateway):
    """ApiTimeout (1s) never cuts an open WebSocket; ApiWebSocketIdleTimeout
    does, about 2 s after the last traffic, whatever ApiTimeout is."""
    gw = gateway(f"""
<ApiEndpoint "/long/{{room}}" GET>
  ApiBackend ws://127.0.0.1:{ws_backend.port}/rooms/{{room}}
  ApiTimeout 1s
  ApiWebSocketIdleTimeout 5s
</ApiEndpoint>
<ApiEndpoint "/short1/{{room}}" GET>
  ApiBackend ws://127.0.0.1:{ws_backend.port}/rooms/{{room}}
  ApiTimeout 1s
  ApiWebSocketIdleTimeout 2s
</ApiEndpoint>
<ApiEndpoint "/short10/{{room}}" GET>
  ApiBackend ws://127.0.0.1:{ws_backend.port}/rooms/{{room}}
  ApiTimeout 10s
  ApiWebSocketIdleTimeout 2s
</ApiEndpoint>
""")
    socks = {name: ws_connect(gw, "/%s/r" % name, timeout=8)
             for name in ("long", "short1", "short10")}
    try:
        for ws in socks.values():
            json.loads(ws.recv())                       # hello
            ws.send("ping")
            assert ws.recv() == "ping"
        closed = {}

        def wait(name):
            closed[name] = _idle_close_after(socks[name])

        threads = [threading.Thread(target=wait, args=(n,))
                   for n in ("short1", "short10")]
        for t in threads:
            t.start()
        time.sleep(2.5)
        socks["long"].send("still there")           # idle 2.5 s > ApiTimeout
        assert socks["long"].recv() == "still there"
        for t in threads:
            t.join(10)
        for name in ("short1", "short10"):
            assert 1.5 <= closed[name] <= 4.0, closed
    finally:
        for ws in socks.values():
            ws.close()
    deadline = time.monotonic() + 5
    while ws_stats(ws_backend.port)["open"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ws_stats(ws_backend.port)["open"] == 0


@pytest.mark.allow_log("AH00957", "AH01114")
def test_ws_slot_given_back_whatever_the_outcome(ws_backend, gateway):
    """ApiWebSocketMaxPerChild 1: handshakes the backend refuses (its 403
    and 500 pass through), one to a backend that is down (502 JSON) and a
    closed WebSocket all give their slot back."""
    gw = gateway(f"""
ApiWebSocketMaxPerChild 1
<ApiEndpoint "/rej/{{code}}" GET>
  ApiBackend ws://127.0.0.1:{ws_backend.port}/x/__reject/{{code}}/y
</ApiEndpoint>
<ApiEndpoint "/dead" GET>
  ApiBackend ws://127.0.0.1:{free_port()}/x
</ApiEndpoint>
""" + ws_conf(ws_backend), env={"APIGW_SERVERS": "1", "APIGW_THREADS": "8"})
    for code in (403, 500, 403):
        resp = refused(gw.port, handshake("/rej/%d" % code, gw.port))
        assert resp.status == code and resp.json()["error"] == "rejected", resp.body
    assert_json_refusal(refused(gw.port, handshake("/dead", gw.port)), 502)
    for i in range(3):
        deadline = time.monotonic() + 5
        while True:
            try:
                ws = ws_connect(gw, "/ws/r%d" % i)
                break
            except websocket.WebSocketBadStatusException as e:
                assert e.status_code == 503
                assert time.monotonic() < deadline, "slot not given back"
                time.sleep(0.05)
        ws.send("x")
        json.loads(ws.recv())
        assert ws.recv() == "x"
        ws.close()
    assert ws_stats(ws_backend.port)["handshakes"] == 3


def test_ws_http10_handshake_refused_at_the_gateway(ws_backend, gateway):
    """RFC 6455 4.1: a handshake is HTTP/1.1 at least; an HTTP/1.0 one is
    400 JSON at the gateway and never reaches the backend."""
    gw = gateway(ws_conf(ws_backend, "ApiWebSocketIdleTimeout 1s"))
    req = handshake("/ws/lobby", gw.port).replace(b" HTTP/1.1\r\n", b" HTTP/1.0\r\n", 1)
    resp = raw_request(gw.port, req, timeout=5)
    assert resp is not None, "no response head at all"
    assert_json_refusal(resp, 400)
    assert ws_stats(ws_backend.port)["handshakes"] == 0


def test_ws_handshake_with_a_body_refused(ws_backend, gateway):
    """A handshake is a bodyless GET: one announcing a body is 400 JSON at
    the gateway, the backend never sees it."""
    gw = gateway(ws_conf(ws_backend))
    req = handshake("/ws/lobby", gw.port,
                    headers={"Content-Length": "5"}) + b"hello"
    assert_json_refusal(raw_request(gw.port, req, timeout=5), 400, "no body")
    assert ws_stats(ws_backend.port)["handshakes"] == 0


def test_ws_upgrade_listing_several_protocols(ws_backend, gateway):
    """Upgrade: h2c, websocket is a WebSocket handshake like the plain
    one: checked, and upgraded (mod_proxy_http is handed "websocket")."""
    gw = gateway(ws_conf(ws_backend))
    with socket.create_connection(("127.0.0.1", gw.port), timeout=5) as s:
        s.sendall(handshake("/ws/lobby", gw.port,
                            headers={"Upgrade": "h2c, websocket"}))
        status, headers, rest = read_head(s)
        assert status == 101, (status, headers)
        assert headers["upgrade"].lower() == "websocket", headers
        # the backend's hello through the tunnel (closing before it races
        # the tunnel's creation: mod_proxy logs AH10240)
        while b"hello" not in rest:
            chunk = s.recv(4096)
            assert chunk, rest
            rest += chunk
    deadline = time.monotonic() + 5
    while ws_stats(ws_backend.port)["handshakes"] != 1:
        assert time.monotonic() < deadline, ws_stats(ws_backend.port)
        time.sleep(0.05)


BAD_HANDSHAKES = [
    # (id, handshake() keyword arguments, status, part of the error)
    ("no-key", dict(key=None), 400, "Sec-WebSocket-Key"),
    ("short-key", dict(key="c2hvcnQ="), 400, "Sec-WebSocket-Key"),
    ("key-17-bytes", dict(key=base64.b64encode(b"0123456789abcdefg").decode()),
     400, "Sec-WebSocket-Key"),
    ("key-not-base64", dict(key="!!!!!!!!!!!!!!!!!!!!!!=="), 400,
     "Sec-WebSocket-Key"),
    ("version-8", dict(version="8"), 426, "13"),
    ("no-version", dict(version=None), 426, "13"),
    ("post", dict(method="POST"), 400, "GET"),
    ("no-connection-upgrade", dict(connection="keep-alive"), 400, "Connection"),
    ("no-connection", dict(connection=None), 400, "Connection"),
]


@pytest.mark.parametrize("kw, status, part",
                         [c[1:] for c in BAD_HANDSHAKES],
                         ids=[c[0] for c in BAD_HANDSHAKES])
def test_ws_bad_handshake_refused_at_the_gateway(ws_backend, gateway, kw, status,
                                                 part):
    """A broken handshake is answered by the gateway (JSON, 426 with
    Sec-WebSocket-Version: 13 for a version); the backend sees nothing."""
    gw = gateway(ws_conf(ws_backend, methods="GET POST"))
    headers = {"Connection": "close"} if kw.get("connection", "") is None else None
    if kw.get("method") == "POST":
        headers = {"Content-Length": "0"}
    resp = refused(gw.port, handshake("/ws/lobby", gw.port, headers, **kw))
    assert_json_refusal(resp, status, part)
    if status == 426:
        assert resp.headers.get("sec-websocket-version") == "13"
    assert ws_stats(ws_backend.port)["handshakes"] == 0
    # the endpoint itself works
    ws = ws_connect(gw, "/ws/lobby")
    ws.close()
    assert ws_stats(ws_backend.port)["handshakes"] == 1


def test_ws_endpoint_without_upgrade_is_plain_http(ws_backend, gateway):
    """A request without Upgrade to a WebSocket endpoint is proxied as
    plain HTTP."""
    gw = gateway(ws_conf(ws_backend))
    r = requests.get(gw.url("/ws/lobby"), timeout=5)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["websocket"] is False and doc["path"] == "/rooms/lobby"
    assert ws_stats(ws_backend.port)["handshakes"] == 0


def test_ws_upgrade_refused_by_non_websocket_endpoints(ws_backend, backend, gateway):
    """An Upgrade to an endpoint with a plain http backend, or to an
    aggregating one, is 400 JSON; neither backend sees it."""
    gw = gateway(f"""
<ApiEndpoint "/plain/{{room}}" GET>
  ApiBackend http://127.0.0.1:{ws_backend.port}/rooms/{{room}}
</ApiEndpoint>
<ApiEndpoint "/agg/{{room}}" GET>
  ApiBackend http://127.0.0.1:{ws_backend.port}/rooms/{{room}}
  ApiBackend {backend.url}/other/{{room}}
</ApiEndpoint>
""")
    resp = refused(gw.port, handshake("/plain/lobby", gw.port))
    assert_json_refusal(resp, 400, "does not accept WebSocket upgrades")
    resp = refused(gw.port, handshake("/agg/lobby", gw.port))
    assert_json_refusal(resp, 400, "aggregat")
    assert ws_stats(ws_backend.port)["handshakes"] == 0
    assert backend.stats()["requests"] == 0
    # without Upgrade both answer
    assert requests.get(gw.url("/plain/lobby"), timeout=5).json()["websocket"] is False
    assert requests.get(gw.url("/agg/lobby"), timeout=5).status_code == 200


def _at(out, path, line):
    return "line %d of %s" % (line, path) in out or "%s:%d" % (path, line) in out


WS_CONFIG_ERRORS = [
    # (id, conf, needle of the line the message must point at, message parts)
    # A WebSocket backend in an aggregating endpoint.
    ("ws-backend-aggregated", """
<ApiEndpoint "/agg">
  ApiBackend http://127.0.0.1:9/a
  ApiBackend ws://127.0.0.1:9/b
</ApiEndpoint>
""", "ApiBackend ws://", ["ApiBackend ws://127.0.0.1:9/b",
                           "needs an endpoint of its own"]),
    ("upgrade-backend-aggregated", """
<ApiEndpoint "/agg">
  ApiBackend http://127.0.0.1:9/a
  ApiBackend http://127.0.0.1:9/b upgrade=websocket
</ApiEndpoint>
""", "upgrade=websocket", ["ApiBackend http://127.0.0.1:9/b",
                            "needs an endpoint of its own"]),
    ("upgrade-on-h2c-backend", """
<ApiEndpoint "/x">
  ApiBackend h2c://127.0.0.1:9/x upgrade=websocket
</ApiEndpoint>
""", "upgrade=websocket", ["an HTTP/2 backend cannot carry a WebSocket"]),
    ("upgrade-balancer-plain-member", """
<Proxy balancer://wsp>
  BalancerMember ws://127.0.0.1:9
  BalancerMember http://127.0.0.1:10
</Proxy>
<ApiEndpoint "/x">
  ApiBackend balancer://wsp/x upgrade=websocket
</ApiEndpoint>
""", "ApiBackend balancer://", ["AGW00105", "http://127.0.0.1:10",
                                "takes no WebSocket"]),
    ("upgrade-h2c", """
<ApiEndpoint "/x">
  ApiBackend http://127.0.0.1:9/x upgrade=h2c
</ApiEndpoint>
""", "upgrade=h2c", ["only upgrade=websocket"]),
    ("idle-0s", """
<ApiEndpoint "/x">
  ApiBackend ws://127.0.0.1:9/x
  ApiWebSocketIdleTimeout 0s
</ApiEndpoint>
""", "ApiWebSocketIdleTimeout", ["between 1s and 24h"]),
    ("idle-25h", """
ApiWebSocketIdleTimeout 25h
""", "ApiWebSocketIdleTimeout", ["between 1s and 24h"]),
    ("stream-idle-0s", """
ApiStreamIdleTimeout 0s
""", "ApiStreamIdleTimeout", ["between 1s and 24h"]),
    ("max-per-child-0", """
ApiWebSocketMaxPerChild 0
""", "ApiWebSocketMaxPerChild", ["ApiWebSocketMaxPerChild 0"]),
    ("idle-in-location", """
<Location "/x">
  ApiWebSocketIdleTimeout 5s
</Location>
""", "ApiWebSocketIdleTimeout", ["ApiWebSocketIdleTimeout belongs in"]),
    ("max-per-child-in-endpoint", """
<ApiEndpoint "/x">
  ApiBackend ws://127.0.0.1:9/x
  ApiWebSocketMaxPerChild 5
</ApiEndpoint>
""", "ApiWebSocketMaxPerChild", ["ApiWebSocketMaxPerChild"]),
]


@pytest.mark.parametrize("conf, needle, parts",
                         [c[1:] for c in WS_CONFIG_ERRORS],
                         ids=[c[0] for c in WS_CONFIG_ERRORS])
def test_ws_config_errors(configtest, conf, needle, parts):
    """Each mistake fails configtest with what and where (file:line)."""
    ok, out = configtest(conf)
    assert not ok, out
    assert "the configuration has errors" in out
    line = configtest.line(needle)
    assert _at(out, configtest.path, line), \
        "no mention of %s:%d in:\n%s" % (configtest.path, line, out)
    for part in parts:
        assert part in out, out


def test_ws_valid_config_passes(configtest):
    """The valid forms of the same directives pass configtest."""
    ok, out = configtest("""
ApiWebSocketIdleTimeout 24h
ApiStreamIdleTimeout 1s
ApiWebSocketMaxPerChild 100000
<VirtualHost 127.0.0.1:@PORT@>
  ApiWebSocketIdleTimeout 10m
</VirtualHost>
<ApiEndpoint "/ws">
  ApiBackend ws://127.0.0.1:9/x
  ApiWebSocketIdleTimeout 1s
  ApiStreamIdleTimeout 24h
</ApiEndpoint>
<ApiEndpoint "/up">
  ApiBackend http://127.0.0.1:9/x upgrade=websocket
</ApiEndpoint>
<Proxy balancer://wsp>
  BalancerMember ws://127.0.0.1:9
  BalancerMember http://127.0.0.1:10 upgrade=websocket
</Proxy>
<ApiEndpoint "/pool">
  ApiBackend balancer://wsp/x upgrade=websocket
</ApiEndpoint>
""")
    assert ok, out
    assert "Syntax OK" in out


def test_ws_origin_checked_against_cors_list(ws_backend, gateway):
    """Cross-site WebSocket hijacking: with a CORS list, a foreign Origin
    is refused 403 before the backend; listed ones (wildcard included) and
    no Origin at all (not a browser) open. Without CORS any origin opens."""
    gw = gateway(f"""
LogLevel warn apigw:info
<ApiEndpoint "/ws/{{room}}" GET>
  ApiBackend ws://127.0.0.1:{ws_backend.port}/rooms/{{room}}
  ApiCors On
  ApiCorsAllowOrigins https://app.example.com https://*.example.org
</ApiEndpoint>
<ApiEndpoint "/open/{{room}}" GET>
  ApiBackend ws://127.0.0.1:{ws_backend.port}/rooms/{{room}}
</ApiEndpoint>
""")
    for origin in ("https://evil.example.net", "http://app.example.com",
                   "https://example.org", "null"):
        resp = refused(gw.port, handshake("/ws/lobby", gw.port, {"Origin": origin}))
        assert_json_refusal(resp, 403)
    assert ws_stats(ws_backend.port)["handshakes"] == 0
    for origin in ("https://app.example.com", "https://x.example.org", None):
        ws = ws_connect(gw, "/ws/lobby", origin=origin) if origin else \
            ws_connect(gw, "/ws/lobby", suppress_origin=True)
        try:
            assert json.loads(ws.recv())["hello"] is True
        finally:
            ws.close()
    ws = ws_connect(gw, "/open/lobby", origin="https://evil.example.net")
    ws.close()
    assert ws_stats(ws_backend.port)["handshakes"] == 4
    refusals = [l for l in gw.error_log_text().splitlines() if "AGW00801" in l]
    assert len(refusals) == 4 and all("[apigw:info]" in l for l in refusals), refusals
    assert "evil.example.net" in refusals[0]


def test_ws_rate_limit_counts_handshakes(ws_backend, gateway):
    """ApiRateLimit on a WebSocket endpoint counts handshakes: with a
    bucket of 2, the third handshake within the minute is 429."""
    gw = gateway(ws_conf(ws_backend, "ApiRateLimit average=2 period=1m burst=2"))
    opened = []
    try:
        with pytest.raises(websocket.WebSocketBadStatusException) as info:
            for _ in range(5):
                opened.append(ws_connect(gw, "/ws/lobby"))
        assert info.value.status_code == 429
    finally:
        for ws in opened:
            ws.close()
    assert len(opened) == 2
    assert ws_stats(ws_backend.port)["handshakes"] == len(opened)


def test_ws_bound_per_child(ws_backend, backend, gateway):
    """ApiWebSocketMaxPerChild 3 on one child of 8 threads: the 4th
    WebSocket is 503 with Retry-After while plain requests still pass;
    closing one frees its slot."""
    gw = gateway(ws_conf(ws_backend) + f"""
LogLevel warn apigw:info
ApiWebSocketMaxPerChild 3
<ApiEndpoint "/plain/*" GET>
  ApiBackend {backend.url}/{{*}}
</ApiEndpoint>
""", env={"APIGW_SERVERS": "1", "APIGW_THREADS": "8"})
    opened = [ws_connect(gw, "/ws/r%d" % i) for i in range(3)]
    try:
        for ws in opened:
            assert json.loads(ws.recv())["hello"] is True
        with pytest.raises(websocket.WebSocketBadStatusException) as info:
            opened.append(ws_connect(gw, "/ws/r3"))
        assert info.value.status_code == 503
        resp = refused(gw.port, handshake("/ws/r3", gw.port))
        assert_json_refusal(resp, 503)
        assert resp.headers.get("retry-after", "").isdigit(), resp.headers
        r = requests.get(gw.url("/plain/x"), timeout=5)
        assert r.status_code == 200 and r.json()["path"] == "/x"
        for ws in opened:                       # the three still work
            ws.send("alive")
            assert ws.recv() == "alive"
        opened.pop(0).close()
        deadline = time.monotonic() + 5
        while True:                             # the slot comes back
            try:
                opened.append(ws_connect(gw, "/ws/again"))
                break
            except websocket.WebSocketBadStatusException as e:
                assert e.status_code == 503
                assert time.monotonic() < deadline, "the slot never came back"
                time.sleep(0.05)
        assert json.loads(opened[-1].recv())["path"] == "/rooms/again"
    finally:
        for ws in opened:
            ws.close()
    assert ws_stats(ws_backend.port)["handshakes"] == 4
    refusals = [l for l in gw.error_log_text().splitlines() if "AGW00802" in l]
    assert len(refusals) >= 2 and all("[apigw:info]" in l for l in refusals), refusals


def _storm(port, n, hold_budget, drain_budget, while_held):
    """n connections at once, each sending a valid handshake: the 101s are
    held until every connection has its answer (or hold_budget passes),
    then closed; the rest get drain_budget more. while_held() runs just
    before the 101s are closed. -> (counts per status, or "eof", "none"
    (no answer), "connect-error-N"...; most 101s held at once)."""
    sel = selectors.DefaultSelector()
    conns = {}
    counts = {}
    held = []
    most_held = 0
    data = handshake("/ws/storm", port)
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        conns[s] = b""
        sel.register(s, selectors.EVENT_WRITE)

    def done(s, what):
        counts[what] = counts.get(what, 0) + 1
        sel.unregister(s)
        del conns[s]
        if what == 101 and not released:
            held.append(s)
        else:
            s.close()

    def release():
        while_held()
        for s in held:
            s.close()
        held.clear()
        return True

    released = False
    deadline = time.monotonic() + hold_budget
    while conns:
        now = time.monotonic()
        if not released and now > deadline:
            released = release()
            deadline = now + drain_budget
        elif released and now > deadline:
            break
        for key, ev in sel.select(timeout=0.1):
            s = key.fileobj
            if ev & selectors.EVENT_WRITE:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    done(s, "connect-error-%d" % err)
                    continue
                try:
                    s.send(data)            # small: never partial here
                except OSError:
                    done(s, "send-error")
                    continue
                sel.modify(s, selectors.EVENT_READ)
                continue
            try:
                chunk = s.recv(4096)
            except OSError:
                chunk = b""
            if not chunk:
                done(s, "eof")
                continue
            conns[s] += chunk
            if b"\r\n" in conns[s]:
                line = conns[s].split(b"\r\n", 1)[0].split()
                done(s, int(line[1]) if len(line) > 1 and line[1].isdigit()
                     else "garbage")
                most_held = max(most_held, len(held))
        if not conns and not released:
            released = release()
    counts["none"] = len(conns)
    for s in list(conns) + held:
        s.close()
    sel.close()
    return counts, most_held


def storm_size(want=10000, spare=500):
    """want, or as many sockets as this process may open (its soft limit
    raised to the hard one) less spare."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    top = want + spare if hard == resource.RLIM_INFINITY else min(hard, want + spare)
    if soft != resource.RLIM_INFINITY and soft < top:
        resource.setrlimit(resource.RLIMIT_NOFILE, (top, hard))
    return min(want, top - spare)


# a storm client that closes just after its 101 races the tunnel's
# creation, and mod_proxy_http logs that at error; on a loaded machine the
# storm's connections can occupy every worker for a moment, which the MPM
# reports (AH00286) while the refusals go on
@pytest.mark.allow_log("AH10240", "AH00286")
def test_ws_hostile_handshake_storm(ws_backend, backend, gateway):
    """HOSTILE: 10,000 connections send a valid handshake at once to two
    children of 32 threads (default bound 24 each): every one is answered
    101 or 503 (none crashes a child, none is left unanswered), no more
    than 48 tunnels are open at once, and afterwards plain requests and a
    new WebSocket still work. (Fewer when this process may not open that
    many sockets; the number is printed.)"""
    n = storm_size()
    gw = gateway(ws_conf(ws_backend, "ApiWebSocketIdleTimeout 30s") + f"""
<ApiEndpoint "/plain/*" GET>
  ApiBackend {backend.url}/{{*}}
</ApiEndpoint>
""", env={"APIGW_SERVERS": "2", "APIGW_THREADS": "32"})
    during = []

    def plain_request():                # a quarter of the threads is left
        r = requests.get(gw.url("/plain/during"), timeout=5)
        during.append((r.status_code, r.json().get("path")))

    t0 = time.monotonic()
    counts, most_held = _storm(gw.port, n, hold_budget=25, drain_budget=10,
                               while_held=plain_request)
    elapsed = time.monotonic() - t0
    print("storm of %d: %s, most held %d, %.1fs" % (n, counts, most_held,
                                                    elapsed))
    assert counts["none"] == 0, counts
    del counts["none"]
    assert set(counts) <= {101, 503}, counts
    assert sum(counts.values()) == n, counts
    assert 1 <= most_held <= 48, (most_held, counts)
    assert counts.get(503, 0) >= n - 48 * 3, counts
    assert during == [(200, "/during")], during
    r = requests.get(gw.url("/plain/after"), timeout=5)
    assert r.status_code == 200 and r.json()["path"] == "/after"
    deadline = time.monotonic() + 10
    while ws_stats(ws_backend.port)["open"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ws_stats(ws_backend.port)["open"] == 0
    socks = [ws_connect(gw, "/ws/after%d" % i) for i in range(2)]
    for ws in socks:
        ws.send("ok")
        json.loads(ws.recv())
        assert ws.recv() == "ok"
        ws.close()


# ---------------------------------------------------------------- SSE

def sse_get(port, path, timeout=15):
    """GET an event stream on a raw socket, decoding the chunks as they
    come. -> (head headers, [(event dict, seconds after the head, time.time()
    at its arrival)], complete: the last chunk arrived, seconds from the
    head to the end)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: "
                   "text/event-stream\r\nConnection: close\r\n\r\n"
                   % (path, port)).encode())
        status, headers, buf = read_head(s)
        t0 = time.monotonic()
        assert status == 200, (status, buf)
        assert headers.get("transfer-encoding") == "chunked", headers
        events, text, complete = [], b"", False
        while not complete:
            while True:                     # whole chunks in buf
                eol = buf.find(b"\r\n")
                if eol < 0:
                    break
                size = int(buf[:eol].split(b";")[0], 16)
                if len(buf) < eol + 2 + size + 2:
                    break
                if size == 0:
                    complete = True
                    break
                text += buf[eol + 2:eol + 2 + size]
                buf = buf[eol + 2 + size + 2:]
                while b"\n\n" in text:
                    event, _, text = text.partition(b"\n\n")
                    for line in event.split(b"\n"):
                        if line.startswith(b"data: "):
                            events.append((json.loads(line[6:]),
                                           time.monotonic() - t0, time.time()))
            if complete:
                break
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                chunk = b""
            if not chunk:
                break
            buf += chunk
        return headers, events, complete, time.monotonic() - t0


def sse_conf(backend, extra):
    return f"""
<ApiEndpoint "/events/{{n}}/{{ms}}" GET>
  ApiBackend {backend.url}/__sse/{{n}}/{{ms}}/
  {extra}
</ApiEndpoint>
<ApiEndpoint "/idle/{{ms}}" GET>
  ApiBackend {backend.url}/__sse_idle/{{ms}}/
  {extra}
</ApiEndpoint>
<ApiEndpoint "/json/*" GET>
  ApiBackend {backend.url}/{{*}}
  {extra}
</ApiEndpoint>
"""


def test_sse_events_flow_as_written_past_api_timeout(backend, gateway):
    """Events reach the client one by one as the backend writes them (not
    buffered), and a 3 s stream outlives ApiTimeout 1s."""
    gw = gateway(sse_conf(backend, "ApiTimeout 1s"))
    headers, events, complete, total = sse_get(gw.port, "/events/10/300")
    assert headers["content-type"].startswith("text/event-stream"), headers
    assert [e["i"] for e, _, _ in events] == list(range(10)), events
    assert complete, events
    arrivals = [t for _, t, _ in events]
    assert arrivals[0] < 0.2, arrivals          # with the head, not later
    # spaced as written (300 ms): the ith at least i * 300 ms - 100 ms after
    # the first (a late event on a loaded machine only pushes it later),
    # and each one within 0.5 s of its writing (buffered, the first would
    # wait 2.7 s)
    assert all(t - arrivals[0] >= i * 0.3 - 0.1 for i, t in enumerate(arrivals)), arrivals
    latencies = [wall - e["t"] for e, _, wall in events]
    assert all(lat < 0.5 for lat in latencies), latencies
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    assert sorted(gaps)[len(gaps) // 2] >= 0.2, gaps
    assert total >= 2.6, total


def test_sse_stream_idle_timeout_replaces_api_timeout(backend, gateway):
    """A 2 s silence between events with ApiTimeout 1s and
    ApiStreamIdleTimeout 3s: both events arrive, the stream completes."""
    gw = gateway(sse_conf(backend, "ApiTimeout 1s\n  ApiStreamIdleTimeout 3s"))
    _, events, complete, total = sse_get(gw.port, "/idle/2000")
    assert [e["i"] for e, _, _ in events] == [0, 1] and complete, events
    assert events[0][1] < 0.2 and 1.9 <= events[1][1] <= 3.0, events


@pytest.mark.allow_log("AH01110")
def test_sse_cut_after_stream_idle_timeout(backend, gateway):
    """A 5 s silence with ApiStreamIdleTimeout 2s: the first event arrives,
    then the response ends early, incomplete, after about 2 s."""
    gw = gateway(sse_conf(backend, "ApiTimeout 1s\n  ApiStreamIdleTimeout 2s"))
    _, events, complete, total = sse_get(gw.port, "/idle/5000")
    assert [e["i"] for e, _, _ in events] == [0], events
    assert not complete
    assert 1.8 <= total <= 3.5, total
    r = requests.get(gw.url("/json/after"), timeout=5)   # still serving
    assert r.status_code == 200 and r.json()["path"] == "/after"


@pytest.mark.serial         # wall-clock bounds: run alone
def test_sse_response_body_limit_counts_as_it_streams(backend, gateway):
    """ApiResponseBodyLimit counts an event stream as it passes: the
    events under the limit reach the client, then the stream is cut."""
    gw = gateway(sse_conf(backend, "ApiResponseBodyLimit 200"))
    with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as s:
        s.sendall(("GET /events/20/100 HTTP/1.1\r\nHost: x\r\n"
                   "Connection: close\r\n\r\n").encode())
        status, headers, buf = read_head(s)
        t0 = time.monotonic()
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    assert status == 200, (status, headers)
    assert b'"i": 0' in buf, buf
    assert b'"i": 19' not in buf and not buf.endswith(b"0\r\n\r\n"), buf
    assert time.monotonic() - t0 < 1.5      # cut, not waited out (2 s)


def test_sse_head_and_short_streams(backend, gateway):
    """HEAD on an event stream, and streams shorter than one read, end
    after their backend connection went back to the pool: answered whole,
    again and again on kept-alive connections (ASan: no use of the
    released connection)."""
    gw = gateway(sse_conf(backend, "ApiStreamIdleTimeout 5s"))
    s = requests.Session()
    for _ in range(20):
        r = s.head(gw.url("/events/3/0"), timeout=5)
        assert r.status_code == 200, r.status_code
        assert r.headers["Content-Type"].startswith("text/event-stream")
        r = s.get(gw.url("/events/2/0"), timeout=5)
        assert r.status_code == 200 and r.text.count("data: ") == 2, r.text


@pytest.mark.serial         # wall-clock bounds: run alone
@pytest.mark.allow_log("AH01102", "AH00898", "AH01110")
def test_plain_response_stalling_is_still_cut_at_api_timeout(backend, gateway):
    """Regression guard: a JSON (non-stream) response stalling mid-body
    longer than ApiTimeout is cut at ApiTimeout, even with a long
    ApiStreamIdleTimeout."""
    gw = gateway(sse_conf(backend, "ApiTimeout 1s\n  ApiStreamIdleTimeout 1m"))
    t0 = time.monotonic()
    resp = raw_request(gw.port, ("GET /json/__stall/3000/x HTTP/1.1\r\nHost: x\r\n"
                                 "Connection: close\r\n\r\n").encode())
    elapsed = time.monotonic() - t0
    assert resp.status == 200 and not resp.complete, len(resp.body)
    assert 0.8 <= elapsed < 2.0, elapsed
    r = requests.get(gw.url("/json/__stall/200/x"), timeout=5)
    assert r.status_code == 200 and len(r.json()["stalled"]) == 2000


# ---------------------------------------------------------------- HTTP/2

def curl(*args, timeout=15):
    """curl's -w output (stdout) for a request; the body goes to a temp
    file named by the caller if wanted."""
    p = subprocess.run(["curl", "-s", "--noproxy", "*", "--max-time", "10"]
                       + list(args), capture_output=True, text=True,
                       timeout=timeout)
    return p.stdout


def test_h2c_to_the_gateway_keeps_policies(backend, gateway, tmp_path):
    """Protocols h2c: a request over HTTP/2 (prior knowledge) is proxied
    (2 200), with the endpoint's response header and rate limit."""
    gw = gateway(f"""
Protocols h2c http/1.1
<ApiEndpoint "/v1/*" GET>
  ApiBackend {backend.url}/{{*}}
  ApiResponseHeader set X-Test yes
</ApiEndpoint>
<ApiEndpoint "/limited" GET>
  ApiBackend {backend.url}/limited
  ApiRateLimit average=1 period=1m
</ApiEndpoint>
""")
    body = tmp_path / "body"
    head = tmp_path / "head"
    fmt = "%{http_version} %{http_code}"
    out = curl("--http2-prior-knowledge", "-o", str(body), "-D", str(head),
               "-w", fmt, gw.url("/v1/hello?a=1"))
    assert out == "2 200", out
    assert json.loads(body.read_text())["path"] == "/hello"
    assert re.search(r"(?im)^x-test: yes\r?$", head.read_text()), head.read_text()
    assert curl("--http2-prior-knowledge", "-o", "/dev/null", "-w", fmt,
                gw.url("/limited")) == "2 200"
    out = curl("--http2-prior-knowledge", "-o", str(body), "-w", fmt,
               gw.url("/limited"))
    assert out == "2 429", out
    assert json.loads(body.read_text())["status"] == 429
    # HTTP/1.1 on the same port still works
    assert curl("--http1.1", "-o", "/dev/null", "-w", fmt,
                gw.url("/v1/x")) == "1.1 200"
    assert backend.stats()["requests"] == 3


@pytest.mark.allow_log("AH01882")
def test_h2_over_tls_to_the_gateway(backend, gateway):
    """A TLS virtual host with Protocols h2: curl --http2 negotiates h2
    (ALPN) and gets 2 200 through the endpoint."""
    gw = gateway(f"""
Listen 127.0.0.1:@PORT@
Listen 127.0.0.1:@PORT2@
<ApiEndpoint "/v1/*" GET>
  ApiBackend {backend.url}/{{*}}
</ApiEndpoint>
<VirtualHost 127.0.0.1:@PORT2@>
  Protocols h2 http/1.1
  SSLEngine on
  SSLCertificateFile ${{APIGW_TLS_CERT}}
  SSLCertificateKeyFile ${{APIGW_TLS_KEY}}
  <ApiEndpoint "/tls/*" GET>
    ApiBackend {backend.url}/tls/{{*}}
    ApiResponseHeader set X-Tls yes
  </ApiEndpoint>
</VirtualHost>
""", extra_ports=1)
    url = "https://127.0.0.1:%d/tls/hello" % gw.ports[1]
    out = curl("-k", "--http2", "-o", "/dev/null", "-D", "-", "-w",
               "\n%{http_version} %{http_code}", url)
    assert out.rstrip().endswith("2 200"), out
    assert re.search(r"(?im)^x-tls: yes\r?$", out), out
    assert curl("-o", "/dev/null", "-w", "%{http_code}",
                gw.url("/v1/plain")) == "200"


# ---------------------------------------------------------------- gRPC

def grpc_conf(grpc_backend, extra="", input_headers="ApiInputHeaders *"):
    return f"""
Protocols h2c http/1.1
<ApiEndpoint "/apigw.test.Echo/{{method}}" POST>
  ApiBackend h2c://127.0.0.1:{grpc_backend.port}/apigw.test.Echo/{{method}}
  {input_headers}
  {extra}
</ApiEndpoint>
"""


def grpc_target(gw):
    return "127.0.0.1:%d" % gw.port


def grpc_fails(gw, payload, code, timeout=5):
    """Calls Unary with payload, expects failure code: the RpcError."""
    with pytest.raises(grpc.RpcError) as info:
        grpc_util.unary(grpc_target(gw), payload, timeout=timeout)
    assert info.value.code() == code, (info.value.code(), info.value.details())
    return info.value


def grpc_raw_error(gw, path):
    """A gRPC-looking POST over h2c by curl: (HTTP status, headers)."""
    out = curl("--http2-prior-knowledge", "-o", "/dev/null", "-D", "-",
               "-H", "Content-Type: application/grpc", "-H", "TE: trailers",
               "--data-binary", "", gw.url(path))
    lines = out.replace("\r", "").split("\n")
    status = int(lines[0].split()[1])
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        if k:
            headers.setdefault(k.strip().lower(), v.strip())
    return status, headers


@pytest.mark.parametrize("input_headers", ["ApiInputHeaders *", ""],
                         ids=["input-headers-all", "input-headers-default"])
def test_grpc_unary_and_stream_through_gateway(grpc_backend, gateway, input_headers):
    """Unary echo with its trailer, a backend error with its status and
    message, and a server stream whose messages arrive spaced with their
    trailer; with or without ApiInputHeaders (content-type and te pass
    anyway; custom metadata only when listed)."""
    gw = gateway(grpc_conf(grpc_backend, input_headers=input_headers))
    target = grpc_target(gw)
    body, _, trailing = grpc_util.unary(target, b"ping")
    assert body == b"echo:ping" and trailing.get("x-echo-trailer") == "yes"
    err = grpc_fails(gw, b"fail:boom", grpc.StatusCode.INVALID_ARGUMENT)
    assert err.details() == "boom"
    body, _, _ = grpc_util.unary(target, b"meta", metadata=[("x-probe", "m1")])
    meta = dict((k, v) for k, v in json.loads(body))
    assert (meta.get("x-probe") == "m1") == bool(input_headers), meta
    messages, trailing = grpc_util.server_stream(target, b"5:200")
    assert [m for m, _ in messages] == [b"msg %d" % i for i in range(5)]
    # spaced as sent: the ith at least i * 200 ms - 50 ms after the first
    # (delays on a loaded machine only push one later), most gaps >= 150 ms
    t0 = messages[0][1]
    assert all(t - t0 >= i * 0.2 - 0.05 for i, (_, t) in enumerate(messages)), messages
    gaps = [b - a for (_, a), (_, b) in zip(messages, messages[1:])]
    assert sorted(gaps)[len(gaps) // 2] >= 0.15, gaps
    assert trailing.get("x-count") == "5"


def _stream(gw, request, timeout=10):
    """A server-streaming call through gw: ([(message, seconds)], the
    RpcError or None, seconds until it ended)."""
    got, error = [], None
    t0 = time.monotonic()
    with grpc.insecure_channel(grpc_target(gw),
                               options=grpc_util.CHANNEL_OPTIONS) as channel:
        call = channel.unary_stream(grpc_util.SERVER_STREAM)(request, timeout=timeout)
        try:
            for message in call:
                got.append((message, time.monotonic() - t0))
        except grpc.RpcError as e:
            error = e
    return got, error, time.monotonic() - t0


def self_signed(tmp_path):
    """A certificate for 127.0.0.1 that is its own CA: (cert, key) paths."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1",
                    "-addext", "basicConstraints=critical,CA:TRUE",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


@pytest.mark.allow_log("AH01882")
def test_wss_backend(gateway, request, tmp_path):
    """ApiBackend wss://: the tunnel over TLS to the backend (SSLProxyEngine,
    its certificate verified), the handshake headers and echo as for ws://."""
    cert, key = self_signed(tmp_path)
    wss = ProtoBackend("ws_backend.py", ["--tls", str(cert), str(key)])
    request.addfinalizer(wss.stop)
    gw = gateway(f"""
SSLProxyEngine on
SSLProxyCACertificateFile {cert}
<ApiEndpoint "/ws/{{room}}" GET>
  ApiBackend wss://127.0.0.1:{wss.port}/rooms/{{room}}
</ApiEndpoint>
""")
    ws = ws_connect(gw, "/ws/secure", subprotocols=["chat"])
    hello = json.loads(ws.recv())
    assert hello["path"] == "/rooms/secure" and hello["protocol"] == "chat"
    ws.send("over TLS")
    assert ws.recv() == "over TLS"
    ws.close()


@pytest.mark.allow_log("AH01882")
def test_grpc_over_tls_to_an_h2_backend(gateway, request, tmp_path):
    """ApiBackend h2://: mod_proxy_http2 over TLS (SSLProxyEngine, the
    backend's certificate verified against its own CA file), trailers and
    gateway errors as for h2c."""
    cert, key = self_signed(tmp_path)
    tls = ProtoBackend("grpc_backend.py", ["--tls", str(cert), str(key)])
    request.addfinalizer(tls.stop)
    gw = gateway(f"""
Protocols h2c http/1.1
SSLProxyEngine on
SSLProxyCACertificateFile {cert}
<ApiEndpoint "/apigw.test.Echo/{{method}}" POST>
  ApiBackend h2://127.0.0.1:{tls.port}/apigw.test.Echo/{{method}}
  ApiTimeout 1s
</ApiEndpoint>
""")
    reply, _, trailing = grpc_util.unary(grpc_target(gw), b"secure")
    assert reply == b"echo:secure"
    assert trailing.get("x-echo-trailer") == "yes", trailing
    messages, trailing = grpc_util.server_stream(grpc_target(gw), b"3:100")
    assert [m for m, _ in messages] == [b"msg 0", b"msg 1", b"msg 2"]
    assert trailing.get("x-count") == "3", trailing
    err = grpc_fails(gw, b"sleep:3000", grpc.StatusCode.DEADLINE_EXCEEDED)
    assert "1000ms" in err.details(), err.details()


def test_grpc_stream_longer_than_api_timeout(grpc_backend, gateway):
    """A server stream lasting 2 s (a message every 400 ms) with ApiTimeout
    1s completes: ApiTimeout is not a bound on the whole stream."""
    gw = gateway(grpc_conf(grpc_backend, "ApiTimeout 1s"))
    messages, trailing = grpc_util.server_stream(grpc_target(gw), b"6:400")
    assert len(messages) == 6 and trailing.get("x-count") == "6"


def test_grpc_stream_idle_timeout_refused_for_h2c(configtest):
    """mod_proxy_http2 waits ApiTimeout between a stream's messages, so an
    endpoint's own ApiStreamIdleTimeout over an h2c:// backend would be a
    promise not kept: configtest refuses it, saying what to do instead."""
    ok, out = configtest("""
<ApiEndpoint "/apigw.test.Echo/{method}" POST>
  ApiBackend h2c://127.0.0.1:9/apigw.test.Echo/{method}
  ApiStreamIdleTimeout 3s
</ApiEndpoint>
""")
    assert not ok, out
    assert "AGW00800" in out and "h2c://" in out, out
    assert "endpoint of its own with a longer ApiTimeout" in out, out
    assert _at(out, configtest.path, configtest.line("<ApiEndpoint")), out


def test_grpc_streaming_method_with_its_own_timeout(grpc_backend, gateway):
    """The documented way for long quiet spells: the streaming method gets
    an endpoint of its own with a longer ApiTimeout, which bounds each wait;
    the unary method keeps its short one and its deadline."""
    gw = gateway(f"""
Protocols h2c http/1.1
<ApiEndpoint "/apigw.test.Echo/ServerStream" POST>
  ApiBackend h2c://127.0.0.1:{grpc_backend.port}/apigw.test.Echo/ServerStream
  ApiTimeout 4s
</ApiEndpoint>
<ApiEndpoint "/apigw.test.Echo/{{method}}" POST>
  ApiBackend h2c://127.0.0.1:{grpc_backend.port}/apigw.test.Echo/{{method}}
  ApiTimeout 1s
</ApiEndpoint>
""")
    got, error, elapsed = _stream(gw, b"2:1500")
    assert error is None, (got, error.code(), error.details(), elapsed)
    assert [m for m, _ in got] == [b"msg 0", b"msg 1"]
    err = grpc_fails(gw, b"sleep:3000", grpc.StatusCode.DEADLINE_EXCEEDED)
    assert "1000ms" in err.details(), err.details()


@pytest.mark.serial         # wall-clock bounds: run alone
def test_grpc_deadline_from_api_timeout(grpc_backend, gateway):
    """A backend slower than ApiTimeout 1s: DEADLINE_EXCEEDED naming
    1000ms, within about 1.5 s; the gateway serves on."""
    gw = gateway(grpc_conf(grpc_backend, "ApiTimeout 1s"))
    t0 = time.monotonic()
    err = grpc_fails(gw, b"sleep:3000", grpc.StatusCode.DEADLINE_EXCEEDED)
    elapsed = time.monotonic() - t0
    assert "1000ms" in err.details(), err.details()
    assert elapsed < 1.6, elapsed
    assert grpc_util.unary(grpc_target(gw), b"again")[0] == b"echo:again"


def test_grpc_gateway_errors_are_grpc_statuses(grpc_backend, gateway):
    """The gateway's own refusals of a gRPC call are Trailers-Only gRPC
    answers (HTTP 200, application/grpc, grpc-status, grpc-message): a
    rate limit is RESOURCE_EXHAUSTED, a path without endpoint UNIMPLEMENTED."""
    gw = gateway(grpc_conf(grpc_backend, "ApiRateLimit average=1 period=1m"))
    assert grpc_util.unary(grpc_target(gw), b"one")[0] == b"echo:one"
    err = grpc_fails(gw, b"two", grpc.StatusCode.RESOURCE_EXHAUSTED)
    assert err.details()
    status, headers = grpc_raw_error(gw, "/apigw.test.Echo/Unary")
    assert status == 200, headers
    assert headers["content-type"].startswith("application/grpc"), headers
    assert headers.get("grpc-status") == "8", headers
    assert headers.get("grpc-message"), headers
    with pytest.raises(grpc.RpcError) as info:
        grpc_util.unary(grpc_target(gw), b"x", method="/other.Service/Call")
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED, info.value
    status, headers = grpc_raw_error(gw, "/other.Service/Call")
    assert status == 200 and headers.get("grpc-status") == "12", (status, headers)
    assert headers["content-type"].startswith("application/grpc"), headers
    assert headers.get("grpc-message"), headers
    assert headers.get("cache-control") == "no-store", headers


def test_grpc_httpd_refusal_is_a_grpc_status(grpc_backend, gateway, tmp_path):
    """httpd's own 401 (Require inside the endpoint) reaches a gRPC client
    as UNAUTHENTICATED with WWW-Authenticate as metadata, not an HTML page."""
    users = tmp_path / "users"
    users.write_text("")
    gw = gateway(grpc_conf(grpc_backend, f"""AuthType Basic
  AuthName grpc
  AuthUserFile {users}
  Require valid-user"""))
    with pytest.raises(grpc.RpcError) as info:
        grpc_util.unary(grpc_target(gw), b"x")
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED, info.value
    meta = dict(info.value.trailing_metadata() or ())
    assert meta.get("www-authenticate", "").startswith("Basic"), meta


@pytest.mark.serial         # wall-clock bounds: run alone
@pytest.mark.allow_log("AH00957", "AH00959")
def test_grpc_backend_down_is_unavailable(grpc_backend, gateway):
    """The gRPC backend stopped: UNAVAILABLE, answered at once."""
    gw = gateway(grpc_conf(grpc_backend))
    assert grpc_util.unary(grpc_target(gw), b"up")[0] == b"echo:up"
    grpc_backend.stop()
    t0 = time.monotonic()
    grpc_fails(gw, b"down", grpc.StatusCode.UNAVAILABLE)
    assert time.monotonic() - t0 < 1.0
    status, headers = grpc_raw_error(gw, "/apigw.test.Echo/Unary")
    assert status == 200 and headers.get("grpc-status") == "14", (status, headers)


@pytest.mark.allow_log("AGW02505")
def test_grpc_status_suspends_a_balancer_member(backend_factory, gateway,
                                                request):
    """Member suspension judges a gRPC member by its grpc-status: a call
    the primary answers INVALID_ARGUMENT (HTTP 200, grpc-status 3 in the
    trailers) counts as a 400, so codes=400 suspends it and the next call
    goes to the other member."""
    a, b = ProtoBackend("grpc_backend.py"), ProtoBackend("grpc_backend.py")
    request.addfinalizer(a.stop)
    request.addfinalizer(b.stop)
    gw = gateway(f"""
Protocols h2c http/1.1
<Proxy balancer://grpcpool>
  BalancerMember h2c://127.0.0.1:{a.port}
  BalancerMember h2c://127.0.0.1:{b.port}
  ProxySet lbmethod=failover
</Proxy>
ApiBalancerSuspend balancer://grpcpool codes=400 initial=30s
<ApiEndpoint "/apigw.test.Echo/{{method}}" POST>
  ApiBackend balancer://grpcpool/apigw.test.Echo/{{method}}
</ApiEndpoint>
""")
    assert grpc_util.unary(grpc_target(gw), b"one")[0] == b"echo:one"
    grpc_fails(gw, b"fail:bad", grpc.StatusCode.INVALID_ARGUMENT)
    deadline = time.monotonic() + 5
    while "AGW02505" not in gw.error_log_text():
        assert time.monotonic() < deadline, gw.error_log_text()
        time.sleep(0.05)
    line = [l for l in gw.error_log_text().splitlines() if "AGW02505" in l][0]
    assert str(a.port) in line and "400" in line, line
    a.stop()                            # only b can answer from now on
    assert grpc_util.unary(grpc_target(gw), b"two")[0] == b"echo:two"


def _until_breaker_open(gw, payload, code, budget=5.0):
    """Calls with payload (each failing with code) until the breaker
    refuses one: its RpcError; the number of calls it took."""
    deadline = time.monotonic() + budget
    n = 0
    while True:
        n += 1
        with pytest.raises(grpc.RpcError) as info:
            grpc_util.unary(grpc_target(gw), payload, timeout=5)
        e = info.value
        if e.code() == grpc.StatusCode.UNAVAILABLE and \
                "circuit breaker open" in (e.details() or ""):
            return e, n
        assert e.code() == code, (e.code(), e.details())
        assert time.monotonic() < deadline, "the breaker never opened (%d calls)" % n
        time.sleep(0.12)                # past the breaker's check interval


@pytest.mark.parametrize("breaker, payload, code", [
    # the backend's own grpc-status 3 (in HTTP 200 trailers) counts as 400
    ('"ResponseCodeRatio(400, 500, 0, 600) > 0.5"', b"fail:x",
     grpc.StatusCode.INVALID_ARGUMENT),
    # ApiTimeout: the gateway's 504, a network error
    ('"NetworkErrorRatio() > 0.5"', b"sleep:1200",
     grpc.StatusCode.DEADLINE_EXCEEDED),
], ids=["grpc-status-4xx", "timeouts"])
@pytest.mark.serial         # wall-clock bounds: run alone
def test_grpc_failures_trip_the_breaker(grpc_backend, gateway, breaker, payload,
                                        code):
    """A breaker on the gRPC endpoint judges calls by their gRPC outcome:
    once most of its window (min-requests=3, the good call included) failed
    it refuses calls as UNAVAILABLE ("circuit breaker open", Retry-After)
    at once, without reaching the backend (a sleep:3000 returns in well
    under a second)."""
    gw = gateway(grpc_conf(grpc_backend, "ApiTimeout 1s\n  ApiCircuitBreaker %s "
                           "min-requests=3 fallback=30s" % breaker))
    assert grpc_util.unary(grpc_target(gw), b"ok")[0] == b"echo:ok"
    err, calls = _until_breaker_open(gw, payload, code)
    assert calls >= 3 and calls <= 5, calls
    t0 = time.monotonic()
    err = grpc_fails(gw, b"sleep:3000", grpc.StatusCode.UNAVAILABLE)
    assert time.monotonic() - t0 < 0.5
    assert "circuit breaker open" in err.details()
    status, headers = grpc_raw_error(gw, "/apigw.test.Echo/Unary")
    assert status == 200 and headers.get("grpc-status") == "14", (status, headers)
    assert headers.get("retry-after", "").isdigit(), headers


# ---------------------------------------------------------------- runtime routes

def test_ws_runtime_route(store, ws_backend, gateway):  # noqa: F811
    """A route registered through the admin API with a ws:// target is a
    WebSocket endpoint like an <ApiEndpoint>: the handshake checked, the
    tunnel open, its CORS origin list enforced; an http:// route refuses
    upgrades."""
    gw = gateway(admin_conf(store, ""))
    admin = Admin(gw)
    admin.register({"path": "/live/{room}",
                    "targetUrl": "ws://127.0.0.1:%d/rooms/{room}" % ws_backend.port,
                    "cors": {"allowOrigins": ["https://app.example.com"]}})
    admin.register({"path": "/plain/{room}",
                    "targetUrl": "http://127.0.0.1:%d/rooms/{room}" % ws_backend.port})
    deadline = time.monotonic() + 5
    while True:
        try:
            ws = ws_connect(gw, "/live/lobby", origin="https://app.example.com")
            break
        except (websocket.WebSocketBadStatusException, OSError):
            assert time.monotonic() < deadline, "the route was never served"
            time.sleep(0.05)
    hello = json.loads(ws.recv())
    assert hello["path"] == "/rooms/lobby", hello
    ws.send("over a runtime route")
    assert ws.recv() == "over a runtime route"
    ws.close()
    with pytest.raises(websocket.WebSocketBadStatusException) as info:
        ws_connect(gw, "/live/lobby", origin="https://evil.example.net")
    assert info.value.status_code == 403
    resp = raw_request(gw.port, handshake("/plain/lobby", gw.port), timeout=5)
    assert_json_refusal(resp, 400, "does not accept WebSocket upgrades")
    assert ws_stats(ws_backend.port)["handshakes"] == 1


def test_ws_through_a_balancer(ws_backend, gateway):
    """balancer://NAME with upgrade=websocket and ws:// members: the
    handshake goes through the pool and the tunnel opens."""
    gw = gateway(f"""
<Proxy balancer://wspool>
  BalancerMember ws://127.0.0.1:{ws_backend.port}
</Proxy>
<ApiEndpoint "/ws/{{room}}" GET>
  ApiBackend balancer://wspool/rooms/{{room}} upgrade=websocket
</ApiEndpoint>
""")
    ws = ws_connect(gw, "/ws/pooled")
    assert json.loads(ws.recv())["path"] == "/rooms/pooled"
    ws.send("through the pool")
    assert ws.recv() == "through the pool"
    ws.close()


@pytest.mark.allow_log("AH01102", "AH00898")
def test_grpc_shape_only_for_posts(backend, gateway):
    """A GET that claims a gRPC Content-Type is no gRPC call: its errors
    stay JSON (and so can never be taken for a cacheable 200)."""
    gw = gateway(f"""
<ApiEndpoint "/slow/*" GET>
  ApiBackend {backend.url}/{{*}}
  ApiTimeout 500ms
</ApiEndpoint>
""")
    r = requests.get(gw.url("/slow/__delay/2000/x"), timeout=5,
                     headers={"Content-Type": "application/grpc"})
    assert r.status_code == 504, r.status_code
    assert r.headers["Content-Type"].startswith("application/json")


def test_ws_handshake_skips_the_response_cache(ws_backend, gateway):
    """On an endpoint with ApiCache, a plain GET is cached, but a handshake
    on the same URL never is answered from it: it opens a WebSocket."""
    gw = gateway("""<IfModule !socache_shmcb_module>
  LoadModule socache_shmcb_module /usr/lib/apache2/modules/mod_socache_shmcb.so
</IfModule>
""" + ws_conf(ws_backend, "ApiCacheTTL 60s\n  ApiCache On"))
    first = requests.get(gw.url("/ws/cached"), timeout=5)
    again = requests.get(gw.url("/ws/cached"), timeout=5)
    assert first.status_code == again.status_code == 200
    assert again.headers.get("X-Cache") == "HIT", again.headers
    ws = ws_connect(gw, "/ws/cached")
    assert json.loads(ws.recv())["hello"] is True
    ws.send("live")
    assert ws.recv() == "live"
    ws.close()

# The protocol backends themselves, without a gateway: the WebSocket server
# (test/backends/ws_backend.py), the server-sent events of backend.py and the
# gRPC server (test/backends/grpc_backend.py), so that a gateway test failing
# through them is known to fail in the gateway.
import base64
import hashlib
import http.client
import json
import os
import socket
import time

import grpc
import pytest
import websocket

import grpc_util
from conftest import ProtoBackend
KEY = base64.b64encode(b"0123456789abcdef").decode()


def _start(request, script):
    """Start test/backends/<script> --port 0; its port, stopped at the end."""
    b = ProtoBackend(script)
    request.addfinalizer(b.stop)
    return b.port


@pytest.fixture
def ws_port(request):
    return _start(request, "ws_backend.py")


@pytest.fixture
def http_port(request):
    return _start(request, "backend.py")


@pytest.fixture
def grpc_target(request):
    return "127.0.0.1:%d" % _start(request, "grpc_backend.py")


def raw(port, data, timeout=5):
    """Send data, read until the server closes; (status, head text, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        got = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    head, _, body = got.partition(b"\r\n\r\n")
    return int(head.split()[1]), head.decode("latin-1"), body


def handshake(path="/ws", extra=""):
    return ("GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n%s\r\n"
            % (path, KEY, extra)).encode()


def ws_stats(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        c.request("GET", "/__stats")
        r = c.getresponse()
        assert r.status == 200 and r.getheader("Content-Length")
        return json.loads(r.read())
    finally:
        c.close()


# ---------------------------------------------------------------- WebSocket

def test_ws_hello_echo_binary_ping(ws_port):
    ws = websocket.create_connection("ws://127.0.0.1:%d/chat/room?a=1&b=2" % ws_port,
                                     header=["X-Probe: p1"], timeout=5)
    try:
        hello = json.loads(ws.recv())
        assert hello["hello"] is True
        assert hello["path"] == "/chat/room" and hello["query"] == "a=1&b=2"
        assert hello["protocol"] is None
        assert hello["headers"]["X-Probe"] == "p1"
        assert hello["headers"]["Sec-WebSocket-Version"] == "13"
        ws.send("hello there")
        assert ws.recv() == "hello there"
        blob = os.urandom(70000)                 # a 64-bit length
        ws.send_binary(blob)
        op, frame = ws.recv_data_frame(True)
        assert op == websocket.ABNF.OPCODE_BINARY and frame.data == blob
        ws.send("x" * 300)                       # a 16-bit length
        assert ws.recv() == "x" * 300
        ws.ping(b"are you there")
        op, frame = ws.recv_data_frame(True)
        assert op == websocket.ABNF.OPCODE_PONG and frame.data == b"are you there"
        for payload, op, fin in (("frag", websocket.ABNF.OPCODE_TEXT, 0),
                                 ("men", websocket.ABNF.OPCODE_CONT, 0),
                                 ("ted", websocket.ABNF.OPCODE_CONT, 1)):
            ws.send_frame(websocket.ABNF.create_frame(payload, op, fin=fin))
        assert ws.recv() == "fragmented"
        assert ws_stats(ws_port) == {"handshakes": 1, "open": 1, "messages": 4,
                                     "closed": 0}
    finally:
        ws.close()
    deadline = time.monotonic() + 5
    while ws_stats(ws_port)["open"] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ws_stats(ws_port) == {"handshakes": 1, "open": 0, "messages": 4, "closed": 1}


@pytest.mark.parametrize("offered, chosen", [
    (["nope", "superchat", "chat"], "superchat"),
    (["chat", "superchat"], "chat"),
])
def test_ws_subprotocol_choice(ws_port, offered, chosen):
    ws = websocket.create_connection("ws://127.0.0.1:%d/" % ws_port,
                                     subprotocols=offered, timeout=5)
    try:
        assert ws.getsubprotocol() == chosen
        assert json.loads(ws.recv())["protocol"] == chosen
    finally:
        ws.close()


def test_ws_no_supported_subprotocol_no_header(ws_port):
    with socket.create_connection(("127.0.0.1", ws_port), timeout=5) as s:
        s.sendall(handshake(extra="Sec-WebSocket-Version: 13\r\n"
                                  "Sec-WebSocket-Protocol: mqtt, wamp\r\n"))
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(4096)
    head = head.split(b"\r\n\r\n")[0].decode()
    assert head.startswith("HTTP/1.1 101 ")
    accept = base64.b64encode(hashlib.sha1(
        KEY.encode() + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()).decode()
    assert "Sec-WebSocket-Accept: %s" % accept in head.splitlines()
    assert "sec-websocket-protocol" not in head.lower()


def test_ws_accept_value_rfc_example(ws_port):
    data = ("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    with socket.create_connection(("127.0.0.1", ws_port), timeout=5) as s:
        s.sendall(data.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(4096)
    assert b"\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in head


def test_ws_bad_handshakes(ws_port):
    status, head, body = raw(ws_port, handshake(
        extra="Sec-WebSocket-Version: 8\r\nConnection: close\r\n"))
    assert status == 426
    assert "\r\nSec-WebSocket-Version: 13" in head
    assert "error" in json.loads(body)
    status, _, body = raw(ws_port, handshake().replace(KEY.encode(), b"c2hvcnQ=")
                          .replace(b"\r\n\r\n", b"\r\nSec-WebSocket-Version: 13\r\n"
                                                b"Connection: close\r\n\r\n"))
    assert status == 400 and "Sec-WebSocket-Key" in json.loads(body)["error"]
    status, _, body = raw(ws_port, handshake("/a/__reject/403/b", extra=(
        "Sec-WebSocket-Version: 13\r\nConnection: close\r\n")))
    assert status == 403 and json.loads(body)["error"] == "rejected"
    assert ws_stats(ws_port)["handshakes"] == 0


def test_ws_commands(ws_port):
    ws = websocket.create_connection("ws://127.0.0.1:%d/cmd" % ws_port, timeout=5)
    try:
        ws.recv()                                   # hello
        ws.send("__burst 5")
        assert [ws.recv() for _ in range(5)] == ["burst %d" % i for i in range(5)]
        t0 = time.monotonic()
        ws.send("__sleep 200")
        assert ws.recv() == "slept 200"
        assert time.monotonic() - t0 >= 0.19
        ws.send("__close 4001")
        op, frame = ws.recv_data_frame(True)
        assert op == websocket.ABNF.OPCODE_CLOSE and frame.data[:2] == b"\x0f\xa1"
    finally:
        ws.close()


def test_ws_unmasked_frame_gets_1002(ws_port):
    with socket.create_connection(("127.0.0.1", ws_port), timeout=5) as s:
        s.sendall(handshake(extra="Sec-WebSocket-Version: 13\r\n"))
        got = b""
        while got.count(b"}") < 2:                  # the 101 and the hello
            got += s.recv(65536)
        s.sendall(b"\x81\x02hi")                    # unmasked text frame
        rest = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
    assert rest[:1] == b"\x88" and rest[2:4] == b"\x03\xea"   # close 1002


# ---------------------------------------------------------------- SSE

def _events(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("GET", path)
        r = c.getresponse()
        assert r.status == 200
        assert r.getheader("Content-Type") == "text/event-stream"
        assert r.getheader("Cache-Control") == "no-cache"
        assert r.getheader("Transfer-Encoding") == "chunked"
        assert r.getheader("Content-Length") is None
        t0, events = time.monotonic(), []
        while True:
            line = r.readline()
            if not line:
                break
            if line.startswith(b"data: "):
                events.append((json.loads(line[6:]), time.monotonic() - t0))
        return events
    finally:
        c.close()


@pytest.mark.serial          # arrival times to 80 ms: alone, not among workers
def test_sse_events_spaced(http_port):
    events = _events(http_port, "/__sse/4/100/feed")
    assert [e["i"] for e, _ in events] == [0, 1, 2, 3]
    arrivals = [t for _, t in events]
    assert arrivals[0] < 0.08                       # the first one at once
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    assert all(g >= 0.08 for g in gaps), gaps
    sent = [e["t"] for e, _ in events]
    assert all(b - a >= 0.09 for a, b in zip(sent, sent[1:])), sent


def test_sse_idle(http_port):
    events = _events(http_port, "/__sse_idle/400/x")
    assert [e["i"] for e, _ in events] == [0, 1]
    assert events[0][1] < 0.08 and events[1][1] - events[0][1] >= 0.38


# ---------------------------------------------------------------- gRPC

def test_grpc_unary_and_trailers(grpc_target):
    body, initial, trailing = grpc_util.unary(grpc_target, b"ping")
    assert body == b"echo:ping"
    assert trailing.get("x-echo-trailer") == "yes"
    body, _, _ = grpc_util.unary(grpc_target, b"meta", metadata=[("x-probe", "m1")])
    assert ["x-probe", "m1"] in json.loads(body)
    t0 = time.monotonic()
    body, _, _ = grpc_util.unary(grpc_target, b"sleep:200")
    assert body == b"echo:sleep:200" and time.monotonic() - t0 >= 0.19


def test_grpc_unary_failure(grpc_target):
    with pytest.raises(grpc.RpcError) as info:
        grpc_util.unary(grpc_target, b"fail:no such thing")
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.details() == "no such thing"


def test_grpc_server_stream(grpc_target):
    messages, trailing = grpc_util.server_stream(grpc_target, b"4:100")
    assert [m for m, _ in messages] == [b"msg %d" % i for i in range(4)]
    # streamed as the backend sends them, 100 ms apart, not buffered: a
    # delay on a loaded machine pushes one message later and shortens the
    # next gap, so the whole span is what is checked (300 ms sent)
    times = [t for _, t in messages]
    assert times[-1] - times[0] >= 0.2, times
    assert trailing.get("x-count") == "4"

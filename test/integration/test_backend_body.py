# What a backend receives with the client's body on an aggregating
# endpoint (the gateway's own libcurl client), against a backend that
# records each request head as it arrived on the wire and the framing of
# its body:
#   - the client's Content-Type when it sent one, none of the gateway's own
#     (libcurl would add application/x-www-form-urlencoded to a POST);
#   - ApiBackendChunkedBody Off (default): Content-Length; On (KrakenD's Go
#     client, and what the importer writes): Transfer-Encoding: chunked and
#     no Content-Length; server, virtual host and endpoint levels;
#   - a POST, PUT or PATCH without a body: Content-Length: 0 in both modes;
#     GET and DELETE without a body: neither header;
#   - bodies of several MiB both ways, intact;
#   - a 307/308 re-sends method and body (chunked too), a 303 goes on with
#     GET and no body nor Content-Type; a body libcurl must send again on a
#     fresh connection (a kept-alive one the backend dropped) arrives whole;
#   - the directive at configtest.
import hashlib
import http.client
import json
import os
import socket
import threading

import pytest
import requests

MIB = 1024 * 1024


class RawBackend:
    """A keep-alive HTTP/1.1 backend on its own thread, recording every
    request: method, target, the head's (name, value) lines in order,
    framing ("length", "chunked" or "none"), chunk sizes and body.

        /r307/..., /r308/...   307/308 with Location: /echo/after
        /r303/...              303 with Location: /echo/after
        /drop/...              on a connection's second or later request:
                               read it whole, close without an answer
        anything else          200 {"n": <request number>}
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []
        self.connections = 0
        self.socks = []
        self.stopping = False
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.connections += 1
                cid = self.connections
                self.socks.append(conn)
            threading.Thread(target=self._serve, args=(conn, cid),
                             daemon=True).start()

    @staticmethod
    def _read_body(f, lines):
        names = {k.lower(): v for k, v in lines}
        if "chunked" in names.get("transfer-encoding", "").lower():
            parts, sizes = [], []
            while True:
                size = int(f.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while f.readline() not in (b"\r\n", b"\n", b""):
                        pass                    # trailer fields
                    return "chunked", b"".join(parts), sizes
                sizes.append(size)
                parts.append(f.read(size))
                f.readline()
        if "content-length" in names:
            return "length", f.read(int(names["content-length"])), []
        return "none", b"", []

    def _serve(self, conn, cid):
        conn.settimeout(30)
        f = conn.makefile("rb")
        nth = 0
        try:
            while True:
                line = f.readline()
                if not line:
                    return
                method, target, _ = line.decode("latin-1").split(" ", 2)
                lines = []
                while True:
                    h = f.readline().decode("latin-1").rstrip("\r\n")
                    if not h:
                        break
                    k, _, v = h.partition(":")
                    lines.append((k, v.strip()))
                framing, body, sizes = self._read_body(f, lines)
                nth += 1
                rec = {"method": method, "target": target, "lines": lines,
                       "framing": framing, "body": body, "chunks": sizes,
                       "conn": cid, "nth": nth}
                with self.lock:
                    self.requests.append(rec)
                    n = len(self.requests)
                if target.startswith("/drop/") and nth > 1:
                    return                      # no answer: closed below
                parts = target.split("/")
                if parts[1] in ("r307", "r308", "r303"):
                    self._answer(conn, int(parts[1][1:]), b"",
                                 "Location: /echo/after\r\n")
                    continue
                self._answer(conn, 200, json.dumps({"n": n}).encode())
        except (OSError, ValueError):
            return
        finally:
            f.close()
            conn.close()

    @staticmethod
    def _answer(conn, status, body, extra=""):
        conn.sendall(("HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                      "Content-Length: %d\r\n%s\r\n"
                      % (status, len(body), extra)).encode() + body)

    def clear(self):
        with self.lock:
            self.requests = []

    def taken(self):
        with self.lock:
            got, self.requests = self.requests, []
        return got

    def stop(self):
        self.stopping = True
        self.listener.close()
        with self.lock:
            for s in self.socks:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self.thread.join(5)


@pytest.fixture
def raw_backend(request):
    b = RawBackend()
    request.addfinalizer(b.stop)
    return b


def values(rec, name):
    """Every value of header name in the request head, in order."""
    return [v for k, v in rec["lines"] if k.lower() == name.lower()]


def assert_length(rec, body):
    assert values(rec, "Content-Length") == [str(len(body))], rec["lines"]
    assert values(rec, "Transfer-Encoding") == [], rec["lines"]
    assert rec["framing"] == "length" and rec["body"] == body


def assert_chunked(rec, body):
    assert values(rec, "Transfer-Encoding") == ["chunked"], rec["lines"]
    assert values(rec, "Content-Length") == [], rec["lines"]
    assert rec["framing"] == "chunked" and rec["body"] == body
    assert rec["chunks"] and sum(rec["chunks"]) == len(body)


def assert_empty(rec, length):
    """No body: Content-Length: 0 when length, else neither header."""
    assert values(rec, "Content-Length") == (["0"] if length else []), \
        rec["lines"]
    assert values(rec, "Transfer-Encoding") == [], rec["lines"]
    assert rec["body"] == b""


def send(gw, method, path, body=None, headers=None):
    """One request with http.client: nothing added but Host and
    Content-Length (Transfer-Encoding: chunked for an iterator body);
    Content-Type only when headers have it."""
    c = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=30)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


METHODS = "GET POST PUT PATCH DELETE"


def endpoints(url):
    return f"""
<ApiEndpoint "/cl" {METHODS}>
  ApiBackend {url}/echo/cl
  ApiOutputEncoding json
</ApiEndpoint>
<ApiEndpoint "/ch" {METHODS}>
  ApiBackend {url}/echo/ch
  ApiOutputEncoding json
  ApiBackendChunkedBody On
</ApiEndpoint>
"""


# ---------------------------------------------------------------- headers

def test_content_type_forwarded_or_absent(raw_backend, gateway):
    gw = gateway(endpoints(raw_backend.url))
    body = b'{"foo":"bar"}'
    for path in ("/cl", "/ch"):
        st, _, _ = send(gw, "POST", path, body)
        assert st == 200
        st, _, _ = send(gw, "POST", path, body,
                        {"Content-Type": "application/json; charset=utf-8"})
        assert st == 200
        st, _, _ = send(gw, "PUT", path, b"a=1",
                        {"content-type": "text/plain"})
        assert st == 200
        bare, typed, put = raw_backend.taken()
        assert values(bare, "Content-Type") == [], bare["lines"]
        assert values(typed, "Content-Type") == [
            "application/json; charset=utf-8"], typed["lines"]
        assert put["method"] == "PUT"
        assert values(put, "Content-Type") == ["text/plain"], put["lines"]
        for rec in (bare, typed, put):
            assert values(rec, "Expect") == [], rec["lines"]
        check = assert_length if path == "/cl" else assert_chunked
        check(bare, body)
        check(typed, body)
        check(put, b"a=1")


def test_length_or_chunked_per_directive(raw_backend, gateway):
    gw = gateway(endpoints(raw_backend.url))
    body = b'{"foo":"bar"}'
    for method in ("POST", "PUT", "PATCH", "DELETE", "GET"):
        assert send(gw, method, "/cl", body)[0] == 200
        assert send(gw, method, "/ch", body)[0] == 200
        cl, ch = raw_backend.taken()
        assert cl["method"] == ch["method"] == method
        assert_length(cl, body)
        assert_chunked(ch, body)
    # a client's chunked body is buffered: Content-Length when Off
    st, _, _ = send(gw, "POST", "/cl", iter([b'{"foo":', b'"bar"}']))
    assert st == 200
    assert_length(raw_backend.taken()[0], body)
    st, _, _ = send(gw, "POST", "/ch", iter([b'{"foo":', b'"bar"}']))
    assert st == 200
    assert_chunked(raw_backend.taken()[0], body)


def test_no_body_length_zero_for_post_put_patch(raw_backend, gateway):
    gw = gateway(endpoints(raw_backend.url))
    for path in ("/cl", "/ch"):
        for method in ("POST", "PUT", "PATCH"):
            # no body at all, and an explicit Content-Length: 0
            assert send(gw, method, path)[0] == 200
            assert send(gw, method, path, b"")[0] == 200
            for rec in raw_backend.taken():
                assert rec["method"] == method
                assert_empty(rec, length=True)
                assert values(rec, "Content-Type") == [], rec["lines"]
        for method in ("GET", "DELETE"):
            assert send(gw, method, path)[0] == 200
            (rec,) = raw_backend.taken()
            assert rec["method"] == method
            assert_empty(rec, length=False)
            assert values(rec, "Content-Type") == [], rec["lines"]


def test_large_body_both_ways(raw_backend, gateway):
    gw = gateway(endpoints(raw_backend.url))
    body = os.urandom(6 * MIB + 12345)
    for path in ("/cl", "/ch"):
        st, _, _ = send(gw, "POST", path, body,
                        {"Content-Type": "application/octet-stream"})
        assert st == 200
        (rec,) = raw_backend.taken()
        assert hashlib.sha256(rec["body"]).digest() == \
            hashlib.sha256(body).digest()
        if path == "/cl":
            assert_length(rec, body)
        else:
            assert_chunked(rec, body)
            assert len(rec["chunks"]) > 1     # streamed, not one chunk


# ---------------------------------------------------------------- resending

@pytest.mark.parametrize("chunked", ["On", "Off"])
def test_redirect_resends_the_body(raw_backend, gateway, chunked):
    gw = gateway(f"""
<ApiEndpoint "/r/{{code}}" POST PUT>
  ApiBackend {raw_backend.url}/r{{code}}/x
  ApiOutputEncoding json
  ApiBackendChunkedBody {chunked}
</ApiEndpoint>
""")
    body = b"x" * (256 * 1024) + b"end"
    check = assert_chunked if chunked == "On" else assert_length
    for code, method in (("307", "POST"), ("308", "PUT")):
        st, h, _ = send(gw, method, "/r/" + code, body,
                        {"Content-Type": "application/json"})
        assert st == 200, h
        assert h["X-Apigw-Completed"] == "true"
        first, again = raw_backend.taken()
        assert first["target"] == "/r%s/x" % code
        assert again["target"] == "/echo/after"
        for rec in (first, again):
            assert rec["method"] == method
            check(rec, body)
            assert values(rec, "Content-Type") == ["application/json"]
    # 303: GET without the body and the headers that described it
    st, _, _ = send(gw, "POST", "/r/303", body,
                    {"Content-Type": "application/json"})
    assert st == 200
    first, after = raw_backend.taken()
    check(first, body)
    assert after["method"] == "GET"
    assert_empty(after, length=False)
    assert values(after, "Content-Type") == [], after["lines"]
    # a 307 on a POST without a body: Content-Length: 0 again
    assert send(gw, "POST", "/r/307")[0] == 200
    for rec in raw_backend.taken():
        assert rec["method"] == "POST"
        assert_empty(rec, length=True)


# one worker thread: httpd says it reached MaxRequestWorkers
@pytest.mark.allow_log("AH00286")
@pytest.mark.parametrize("chunked", ["On", "Off"])
def test_body_sent_again_on_a_fresh_connection(raw_backend, gateway, chunked):
    """One worker thread, so one client and its connection cache: the
    second call reuses the first one's connection, which the backend
    closes after reading the request; libcurl then rewinds the body (a
    chunked one through the engine's seek callback) and sends it on a new
    connection."""
    gw = gateway(f"""
<ApiEndpoint "/d" POST>
  ApiBackend {raw_backend.url}/drop/x
  ApiOutputEncoding json
  ApiBackendChunkedBody {chunked}
</ApiEndpoint>
""", env={"APIGW_SERVERS": "1", "APIGW_THREADS": "1"})
    check = assert_chunked if chunked == "On" else assert_length
    one, two = b"first" * 1000, b"second" * 1000
    assert send(gw, "POST", "/d", one)[0] == 200
    st, h, _ = send(gw, "POST", "/d", two)
    assert st == 200 and h["X-Apigw-Completed"] == "true", h
    recs = raw_backend.taken()
    assert [(r["conn"], r["nth"]) for r in recs] == [(1, 1), (1, 2), (2, 1)]
    check(recs[0], one)
    check(recs[1], two)
    check(recs[2], two)


# ---------------------------------------------------------------- levels

def test_server_vhost_and_endpoint_levels(raw_backend, gateway):
    gw = gateway(f"""
Listen 127.0.0.1:@PORT@
Listen 127.0.0.1:@PORT2@
ApiBackendChunkedBody On
<ApiEndpoint "/inherit" POST>
  ApiBackend {raw_backend.url}/echo/inherit
  ApiOutputEncoding json
</ApiEndpoint>
<ApiEndpoint "/own" POST>
  ApiBackend {raw_backend.url}/echo/own
  ApiOutputEncoding json
  ApiBackendChunkedBody Off
</ApiEndpoint>
<VirtualHost 127.0.0.1:@PORT2@>
  ApiBackendChunkedBody Off
</VirtualHost>
""", extra_ports=1)
    body = b"hello"
    assert requests.post(gw.url("/inherit"), data=body,
                         timeout=10).status_code == 200
    assert_chunked(raw_backend.taken()[0], body)
    assert requests.post(gw.url("/own"), data=body,
                         timeout=10).status_code == 200
    assert_length(raw_backend.taken()[0], body)
    # the virtual host's own setting, for the endpoints it serves too
    assert requests.post(gw.url2(2, "/inherit"), data=body,
                         timeout=10).status_code == 200
    assert_length(raw_backend.taken()[0], body)


def test_directive_is_checked(configtest):
    ok, out = configtest("""
<Location "/x">
  ApiBackendChunkedBody On
</Location>
""")
    assert not ok and "ApiBackendChunkedBody belongs in" in out, out
    ok, out = configtest("""
ApiBackendChunkedBody sometimes
""")
    assert not ok and "ApiBackendChunkedBody" in out, out
    ok, out = configtest("""
ApiBackendChunkedBody On
<VirtualHost 127.0.0.1:@PORT@>
  ApiBackendChunkedBody Off
</VirtualHost>
<ApiEndpoint "/a" POST>
  ApiBackend http://127.0.0.1:9/a
  ApiOutputEncoding json
  ApiBackendChunkedBody Off
</ApiEndpoint>
""")
    assert ok, out

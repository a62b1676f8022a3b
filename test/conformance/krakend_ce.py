#!/usr/bin/python3
"""Runs krakend-ce's own integration specs against this gateway.

The specs (../shared/conformance/krakend-ce: krakend.json and specs/*.json)
are krakend-ce's tests/fixtures; this runner does what krakend-ce's Go
runner (tests/integration.go) does with them, against httpd + mod_apigw:

  - the mock backend of integration.go (mock_backend.py) on a free port;
  - the gateway (./apxs-build.sh run CONF) on another free port, loaded with
    the fixture through ApiImportKrakenD (a copy whose ports are rewritten);
  - each spec's request sent as Go's http.DefaultClient sends it (headers,
    Accept-Encoding: gzip, redirects followed, gzip undone), and the answer
    checked as integration.go's assertResponse checks it.

A spec whose endpoint needs a component the project will not support
(validation/cel, modifier/lua-*, auth/signer) or a backend on the Internet
is "not applicable" (N/A), with the reason.

    /usr/bin/python3 test/conformance/krakend_ce.py [--build-dir DIR]
        [--only NAME...] [--keep] [--verbose] [--no-identity] [DIR]

Prints PASS/FAIL/N/A per spec, then "krakend-ce: N passed, M failed, K not
applicable"; exits 1 when a spec failed or the gateway did not start.
"""

import argparse
import decimal
import errno
import gzip
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
BUILD_SCRIPT = os.path.join(TOP, "apxs-build.sh")
DEFAULT_DIR = os.path.join(os.path.dirname(TOP), "shared", "conformance", "krakend-ce")

sys.path.insert(0, HERE)
from mock_backend import (MockBackend, canonical_header_key, go_json,  # noqa: E402
                          go_quote, go_utf8, is_token, url_unescape,
                          valid_encoded_path, url_escape_path)

START_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0

# ---------------------------------------------------------------------------
# Identity: what KrakenD 2.13.8 says of itself. The specs were recorded
# against it, so the bodies the mock echoes show the headers KrakenD sent to
# its backends (User-Agent: KrakenD Version 2.13.8, ...). These lines go
# into the gateway's conf; --no-identity leaves them out. More lines of
# this kind belong here.
IDENTITY_CONF = """\
ApiBackendUserAgent "KrakenD Version 2.13.8"
Header always set X-Krakend "Version 2.13.8"
"""
# ---------------------------------------------------------------------------

# KrakenD's built-in /__debug/ endpoint, which the fixture's backends on the
# gateway's own port (127.0.0.1:8080) call: 200 {"message":"pong"} (gin's
# c.JSON) for any path under /__debug. Stock httpd: mod_rewrite maps the
# path to a file; core serves it (GET, HEAD and POST).
BUILTINS_CONF = """\
RewriteEngine On
RewriteRule "^/__debug(/.*)?$" "{builtin}/pong.json" [L]
<Directory "{builtin}">
    AllowOverride None
    Require all granted
    ForceType "application/json; charset=utf-8"
    FileETag None
    Header unset Last-Modified
    Header unset Accept-Ranges
</Directory>
"""
PONG = b'{"message":"pong"}'

# Components this project will not support: an endpoint that needs one
# makes its specs N/A. Keys of extra_config (a trailing '*' is a prefix).
UNSUPPORTED = ("validation/cel", "modifier/lua-*", "auth/signer")


class RunnerError(Exception):
    pass


# ============================================================ spec decoding
# integration.go decodes a spec with encoding/json into TestCase: field
# names match case-insensitively, the last duplicate key wins, numbers in
# interface{} values are float64, a value of the wrong type fails the spec.

class Pairs(list):
    """A JSON object as its (key, value) pairs, in document order."""


def _loads_pairs(text):
    return json.loads(text, object_pairs_hook=Pairs,
                      parse_constant=_reject_constant)


def _reject_constant(name):
    raise ValueError("invalid JSON literal %s" % name)


def to_iface(v, where):
    """interface{} as encoding/json builds it: dict, list, float, str,
    bool, None."""
    if isinstance(v, Pairs):
        out = {}
        for k, val in v:
            out[k] = to_iface(val, where)
        return out
    if isinstance(v, list):
        return [to_iface(x, where) for x in v]
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        try:
            f = float(v)
        except OverflowError:
            raise RunnerError("json: cannot unmarshal number %s into Go value "
                              "of type float64 (%s)" % (v, where))
        if f in (float("inf"), float("-inf")):
            raise RunnerError("json: cannot unmarshal number %s into Go value "
                              "of type float64 (%s)" % (v, where))
        return f
    raise RunnerError("unexpected JSON value in %s" % where)


def _fields(pairs, names, where):
    """The struct fields of a JSON object: name -> value (None when null)."""
    if not isinstance(pairs, Pairs):
        raise RunnerError("json: cannot unmarshal %s into Go value of type %s"
                          % (_json_kind(pairs), where))
    out = {}
    for k, v in pairs:
        for n in names:
            if k == n or k.lower() == n.lower():
                out[n] = v
                break
    return out


def _json_kind(v):
    if isinstance(v, Pairs):
        return "object"
    if isinstance(v, list):
        return "array"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, str):
        return "string"
    if v is None:
        return "null"
    return "number"


def decode_case(pairs, name):
    f = _fields(pairs, ("name", "error", "in", "out", "next"), "tests.TestCase")
    case = {"name": name, "error": "", "in": {}, "out": {}, "next": []}
    if f.get("error") is not None:
        if not isinstance(f["error"], str):
            raise RunnerError("json: cannot unmarshal %s into Go struct field "
                              "TestCase.error of type string" % _json_kind(f["error"]))
        case["error"] = f["error"]
    inp = {"url": "", "method": "", "header": None, "body": None}
    if f.get("in") is not None:
        fi = _fields(f["in"], ("url", "method", "header", "body"), "tests.Input")
        for key in ("url", "method"):
            if fi.get(key) is not None:
                if not isinstance(fi[key], str):
                    raise RunnerError("json: cannot unmarshal %s into Go struct field "
                                      "Input.in.%s of type string" % (_json_kind(fi[key]), key))
                inp[key] = fi[key]
        if fi.get("header") is not None:
            if not isinstance(fi["header"], Pairs):
                raise RunnerError("json: cannot unmarshal %s into Go struct field "
                                  "Input.in.header of type map[string]string"
                                  % _json_kind(fi["header"]))
            hdr = {}
            for k, v in fi["header"]:
                if v is None:
                    v = ""
                if not isinstance(v, str):
                    raise RunnerError("json: cannot unmarshal %s into Go struct field "
                                      "Input.in.header of type string" % _json_kind(v))
                hdr.pop(k, None)
                hdr[k] = v
            inp["header"] = hdr
        if "body" in fi:
            inp["body"] = to_iface(fi["body"], "in.body")
    case["in"] = inp
    out = {"status_code": 0, "body": None, "header": None, "schema": None}
    if f.get("out") is not None:
        fo = _fields(f["out"], ("status_code", "body", "header", "schema"), "tests.Output")
        sc = fo.get("status_code")
        if sc is not None:
            if isinstance(sc, bool) or not isinstance(sc, int):
                raise RunnerError("json: cannot unmarshal %s into Go struct field "
                                  "Output.out.status_code of type int" % json.dumps(sc))
            out["status_code"] = sc
        if "body" in fo:
            out["body"] = to_iface(fo["body"], "out.body")
        if fo.get("header") is not None:
            if not isinstance(fo["header"], Pairs):
                raise RunnerError("json: cannot unmarshal %s into Go struct field "
                                  "Output.out.header of type map[string][]string"
                                  % _json_kind(fo["header"]))
            hdr = {}
            for k, vs in fo["header"]:
                if vs is not None:
                    if not isinstance(vs, list):
                        raise RunnerError("json: cannot unmarshal %s into Go struct field "
                                          "Output.out.header of type []string" % _json_kind(vs))
                    vs = ["" if x is None else x for x in vs]
                    if not all(isinstance(x, str) for x in vs):
                        raise RunnerError("json: cannot unmarshal into Go struct field "
                                          "Output.out.header of type string")
                hdr.pop(k, None)
                hdr[k] = vs
            out["header"] = hdr
        if fo.get("schema") is not None:
            if not isinstance(fo["schema"], Pairs):
                raise RunnerError("json: cannot unmarshal %s into Go struct field "
                                  "Output.out.schema of type map[string]interface {}"
                                  % _json_kind(fo["schema"]))
            out["schema"] = to_iface(fo["schema"], "out.schema")
    case["out"] = out
    if f.get("next") is not None:
        if not isinstance(f["next"], list):
            raise RunnerError("json: cannot unmarshal %s into Go struct field "
                              "TestCase.next of type []tests.TestCase" % _json_kind(f["next"]))
        case["next"] = [decode_case(x, "%s/next[%d]" % (name, i))
                        for i, x in enumerate(f["next"])]
    return case


# ============================================================ port rewriting

def rewrite_ports(text, gw_port, mock_port):
    """The fixture and specs name the gateway 127.0.0.1:8080 / localhost:8080
    and the mock :8081; a plain substitution on the JSON text moves them to
    the ports of this run (request URLs and expected values alike, e.g.
    "X-Forwarded-Host":["localhost:8080"], Referer .../127.0.0.1:8081/...)."""
    text = text.replace("127.0.0.1:8080", "127.0.0.1:%d" % gw_port)
    text = text.replace("localhost:8080", "localhost:%d" % gw_port)
    text = text.replace(":8081", ":%d" % mock_port)
    text = re.sub(r'("port"\s*:\s*)8080\b', r"\g<1>%d" % gw_port, text)
    return text


# ============================================================ N/A

def _ptr(*tokens):
    return "".join("/" + str(t).replace("~", "~0").replace("/", "~1") for t in tokens)


def _unsupported_key(key):
    for u in UNSUPPORTED:
        if u.endswith("*") and key.startswith(u[:-1]) or key == u:
            return True
    return False


def _local_host(url):
    try:
        host = urllib.parse.urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host == "localhost":
        return True
    try:
        import ipaddress
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _segments_match(pattern, path, fold):
    ps = pattern.split("/")
    xs = path.split("/")
    if len(ps) != len(xs):
        return False
    for p, x in zip(ps, xs):
        if len(p) > 2 and p.startswith("{") and p.endswith("}"):
            if x == "":
                return False
        elif (p.lower() != x.lower()) if fold else (p != x):
            return False
    return True


def find_endpoint(fixture, method, path):
    """The fixture endpoint a request reaches as KrakenD's router (gin)
    routes it: exact match first; then gin's RedirectFixedPath and
    RedirectTrailingSlash (the path cleaned, matched case-insensitively, a
    trailing slash added or removed), which answer with a redirect the
    client follows. (index, endpoint) or None (KrakenD answers it itself:
    404, 405, CORS preflight, /__health ...)."""
    eps = fixture.get("endpoints") or []
    if not isinstance(eps, list):
        return None

    def lookup(p, fold):
        for i, ep in enumerate(eps):
            if not isinstance(ep, dict) or not isinstance(ep.get("endpoint"), str):
                continue
            if str(ep.get("method") or "GET").upper() != method:
                continue
            if _segments_match(ep["endpoint"], p, fold):
                return i, ep
        return None

    hit = lookup(path, False)
    if hit:
        return hit
    clean = "/" + "/".join(s for s in path.split("/") if s not in ("", "."))
    for cand in (clean, clean.rstrip("/") or "/", clean.rstrip("/") + "/"):
        hit = lookup(cand, True)
        if hit:
            return hit
    return None


def not_applicable(fixture, case):
    """The reasons the spec's endpoint is beyond the project, [] if none."""
    url = case["in"]["url"]
    method = case["in"]["method"] or "GET"
    try:
        path = urllib.parse.unquote(urllib.parse.urlsplit(url).path) or "/"
    except ValueError:
        return []
    hit = find_endpoint(fixture, method.upper(), path)
    if hit is None:
        return []
    i, ep = hit
    reasons = []
    ec = ep.get("extra_config")
    if isinstance(ec, dict):
        for key in ec:
            if _unsupported_key(key):
                reasons.append("needs %s (%s)" % (key, _ptr("endpoints", i, "extra_config", key)))
    root_hosts = fixture.get("host") if isinstance(fixture.get("host"), list) else []
    for j, be in enumerate(ep.get("backend") or []):
        if not isinstance(be, dict):
            continue
        bec = be.get("extra_config")
        if isinstance(bec, dict):
            for key in bec:
                if _unsupported_key(key):
                    reasons.append("needs %s (%s)" % (key, _ptr("endpoints", i, "backend", j,
                                                        "extra_config", key)))
        if isinstance(be.get("host"), list) and be["host"]:
            hosts = [(h, _ptr("endpoints", i, "backend", j, "host", k))
                     for k, h in enumerate(be["host"])]
        else:
            hosts = [(h, _ptr("host", k)) for k, h in enumerate(root_hosts)]
        for h, ptr in hosts:
            if isinstance(h, str) and not _local_host(h):
                reasons.append("backend on the Internet: %s (%s)" % (h, ptr))
    return reasons


# ============================================================ Go's client

class GoError(Exception):
    """An error as Go's http.Client returns it (its Error() text)."""


class NewRequestError(GoError):
    """An error of http.NewRequest: Check returns it whatever `error` says."""


def url_error(method, url, err):
    """url.Error{Op, URL, Err}.Error(): `Get "http://...": err`."""
    m = method or "GET"
    op = m[:1] + m[1:].lower() if m.isascii() else m
    return GoError("%s %s: %s" % (op, go_quote(url), err))


class GoURL:
    """The parts of a net/url.URL the client needs (bytes)."""

    def __init__(self, scheme, user, host, path, raw_path, raw_query, force_query):
        self.scheme, self.user, self.host = scheme, user, host
        self.path, self.raw_path = path, raw_path
        self.raw_query, self.force_query = raw_query, force_query

    def escaped_path(self):
        if self.raw_path and valid_encoded_path(self.raw_path) and \
                url_unescape(self.raw_path) == self.path:
            return self.raw_path
        if self.path == b"*":
            return b"*"
        return url_escape_path(self.path)

    def request_uri(self):
        r = self.escaped_path() or b"/"
        if self.force_query or self.raw_query:
            r += b"?" + self.raw_query
        return r

    def string(self, with_user=True):
        out = b""
        if self.scheme:
            out += self.scheme + b":"
        if self.scheme or self.host or self.user:
            out += b"//"
            if self.user and with_user:
                out += self.user + b"@"
            out += self.host
        p = self.escaped_path()
        if p and not p.startswith(b"/") and self.host:
            p = b"/" + p
        out += p
        if self.force_query or self.raw_query:
            out += b"?" + self.raw_query
        return out.decode("utf-8", "surrogateescape")

    def hostname(self):
        h = self.host
        if h.startswith(b"["):
            return h[1:h.find(b"]")]
        return h.rpartition(b":")[0] if b":" in h else h

    def port(self):
        h = self.host
        if h.startswith(b"["):
            rest = h[h.find(b"]") + 1:]
            return rest[1:] if rest.startswith(b":") else b""
        return h.rpartition(b":")[2] if b":" in h else b""


def parse_url(text):
    """url.Parse (the absolute http URLs of the specs and Location
    values already resolved): a GoURL or GoError."""
    raw = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    if any(c < 0x20 or c == 0x7F for c in raw):
        raise GoError("parse %s: net/url: invalid control character in URL" % go_quote(raw))
    raw = raw.split(b"#", 1)[0]
    m = re.match(rb"^([A-Za-z][A-Za-z0-9+.\-]*):", raw)
    scheme, rest = b"", raw
    if m:
        scheme, rest = m.group(1).lower(), raw[m.end():]
    elif raw[:1] == b":":
        raise GoError("parse %s: missing protocol scheme" % go_quote(raw))
    force_query = False
    if rest.endswith(b"?") and rest.count(b"?") == 1:
        force_query, rest, query = True, rest[:-1], b""
    else:
        rest, _, query = rest.partition(b"?")
    user, host = b"", b""
    if rest.startswith(b"//"):
        end = rest.find(b"/", 2)
        auth, rest = (rest[2:], b"") if end < 0 else (rest[2:end], rest[end:])
        if b"@" in auth:
            user, _, host = auth.rpartition(b"@")
        else:
            host = auth
        port = host.rpartition(b"]")[2] if host.startswith(b"[") else host
        if b":" in port:
            p = port.rpartition(b":")[2]
            if p and not p.isdigit():
                raise GoError("parse %s: invalid port %s after host"
                              % (go_quote(raw), go_quote(b":" + p)))
    path = url_unescape(rest)
    if path is None:
        bad = re.search(rb"%(.{0,2})", rest)
        raise GoError("parse %s: invalid URL escape %s"
                      % (go_quote(raw), go_quote(bad.group(0) if bad else b"%")))
    raw_path = b"" if url_escape_path(path) == rest else rest
    return GoURL(scheme, user, host, path, raw_path, query, force_query)


def _valid_header_value(v):
    return all(not (c < 0x20 and c != 0x09) and c != 0x7F for c in v)


class _GoResponse(http.client.HTTPResponse):
    """http.client's response reader, skipping every 1xx but 101 as Go's
    Transport does (http.client skips 100 only)."""

    def _read_status(self):
        seen = 0
        while True:
            version, status, reason = super()._read_status()
            if 100 <= status <= 199 and status != 101:
                http.client.parse_headers(self.fp)
                seen += 1
                if seen > 5:
                    raise http.client.HTTPException(
                        "net/http: too many 1xx informational responses")
                continue
            return version, status, reason


http.client._MAXHEADERS = 10000      # Go has no such limit


class Answer:
    """What Go's client hands back: status, canonical header map (name ->
    [bytes]), body (bytes, gzip undone when the transport asked for it)."""

    def __init__(self):
        self.status = 0
        self.reason = ""
        self.proto = ""
        self.header = {}
        self.body = b""
        self.url = ""

    def get(self, k):
        vs = self.header.get(k)
        return vs[0] if vs else b""


def _header_add(h, k, v):
    h.setdefault(k, []).append(v)


def round_trip(method, url, header, host, body, timeout):
    """One request, as Go's Transport writes it; an Answer or GoError
    (the error text without the url.Error prefix)."""
    if url.scheme not in (b"http", b"https"):
        raise GoError("unsupported protocol scheme %s" % go_quote(url.scheme))
    if not url.host:
        raise GoError("http: no Host in request URL")
    for k, vs in header.items():
        if not is_token(k):
            raise GoError("net/http: invalid header field name %s" % go_quote(k))
        for v in vs:
            if not _valid_header_value(v):
                raise GoError("net/http: invalid header field value for %s" % go_quote(k))
    host_hdr = host or url.host
    if any(c in b" /\r\n\t" or c < 0x20 for c in host_hdr):
        raise GoError("http: invalid Host header")
    if b"%" in host_hdr and host_hdr.startswith(b"["):
        host_hdr = host_hdr[:host_hdr.find(b"%")] + host_hdr[host_hdr.find(b"]"):]
    ruri = url.request_uri()
    # Transport: Accept-Encoding: gzip unless the request has one, a Range,
    # or is a HEAD
    added_gzip = (header.get(b"Accept-Encoding", [b""])[0] == b"" and
                  header.get(b"Range", [b""])[0] == b"" and method != b"HEAD")
    out = bytearray(method + b" " + ruri + b" HTTP/1.1\r\n")
    out += b"Host: " + host_hdr + b"\r\n"
    ua = b"Go-http-client/1.1"
    if b"User-Agent" in header:
        ua = header[b"User-Agent"][0] if header[b"User-Agent"] else b""
    if ua:
        out += b"User-Agent: " + ua.replace(b"\n", b" ").replace(b"\r", b" ").strip(b" \t") + b"\r\n"
    # transferWriter: Content-Length when there is a body, or for
    # POST/PUT/PATCH even without one
    if body is not None and len(body) > 0 or method in (b"POST", b"PUT", b"PATCH"):
        out += b"Content-Length: %d\r\n" % (len(body) if body else 0)
    for k in sorted(header):
        if k in (b"Host", b"User-Agent", b"Content-Length", b"Transfer-Encoding", b"Trailer"):
            continue
        for v in header[k]:
            out += k + b": " + v.replace(b"\n", b" ").replace(b"\r", b" ").strip(b" \t") + b"\r\n"
    if added_gzip:
        out += b"Accept-Encoding: gzip\r\n"
    out += b"\r\n"
    if body:
        out += body
    port = url.port() or (b"443" if url.scheme == b"https" else b"80")
    hostname = url.hostname().decode("ascii", "replace")
    sock = _dial(hostname, int(port), timeout)
    try:
        return _exchange(sock, url, hostname, method, out, added_gzip)
    except socket.timeout:
        raise GoError("timeout (the runner's --timeout)")
    except OSError as e:
        why = {errno.ECONNRESET: "connection reset by peer",
               errno.EPIPE: "broken pipe"}.get(e.errno, e.strerror or str(e))
        raise GoError("read tcp %s: %s" % (url.host.decode("latin-1"), why))
    finally:
        sock.close()


def _exchange(sock, url, hostname, method, out, added_gzip):
    """Send the request, read the answer as Go's Transport reads it."""
    if url.scheme == b"https":
        import ssl
        sock = ssl.create_default_context().wrap_socket(sock, server_hostname=hostname)
    sock.sendall(bytes(out))
    resp = _GoResponse(sock, method=method.decode("latin-1"))
    try:
        resp.begin()
    except http.client.RemoteDisconnected:
        raise GoError("EOF")
    except (http.client.HTTPException, ValueError) as e:
        raise GoError("net/http: HTTP/1.x transport connection broken: "
                      "malformed HTTP response (%s)" % e)
    except socket.timeout:
        raise GoError("timeout awaiting response headers (the runner's --timeout)")
    ans = Answer()
    ans.status, ans.reason = resp.status, resp.reason
    ans.proto = "HTTP/1.1" if resp.version == 11 else "HTTP/1.0"
    for k, v in resp.msg._headers:
        kb = k.encode("latin-1", "replace")
        vb = v.encode("latin-1", "replace").replace(b"\r\n", b"").strip(b" \t\r\n")
        _header_add(ans.header, canonical_header_key(kb), vb)
    try:
        data = resp.read()
    except http.client.IncompleteRead:
        raise GoError("unexpected EOF")
    except socket.timeout:
        raise GoError("timeout reading the body (the runner's --timeout)")
    h = ans.header
    # http.ReadResponse: fixPragmaCacheControl, Transfer-Encoding out of
    # the header, one Content-Length, none with chunked
    if h.get(b"Pragma", [b""])[0] == b"no-cache" and b"Cache-Control" not in h:
        h[b"Cache-Control"] = [b"no-cache"]
    te = h.pop(b"Transfer-Encoding", None)
    chunked = bool(te) and te[-1].lower() == b"chunked"
    cls = h.get(b"Content-Length")
    if cls and len(cls) > 1:
        if any(c.strip() != cls[0].strip() for c in cls[1:]):
            raise GoError("http: message cannot contain multiple Content-Length "
                          "headers; got %s" % cls)
        h[b"Content-Length"] = [cls[0].strip()]
    no_body = method == b"HEAD" or 100 <= ans.status <= 199 or ans.status in (204, 304)
    if chunked and not no_body:
        h.pop(b"Content-Length", None)
    length = -1
    if not no_body and not chunked and h.get(b"Content-Length"):
        try:
            length = int(h[b"Content-Length"][0])
        except ValueError:
            length = -1
    has_body = not no_body and length != 0
    if added_gzip and has_body and h.get(b"Content-Encoding", [b""])[0].lower() == b"gzip":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise GoError("gzip: %s" % e)
        h.pop(b"Content-Encoding", None)
        h.pop(b"Content-Length", None)
    ans.body = data
    return ans


def _dial(hostname, port, timeout):
    try:
        infos = socket.getaddrinfo(hostname, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise GoError("dial tcp: lookup %s: %s" % (hostname, e.strerror))
    first_err = None
    for family, stype, proto, _, addr in infos:
        s = socket.socket(family, stype, proto)
        s.settimeout(timeout)
        try:
            s.connect(addr)
            return s
        except OSError as e:
            s.close()
            shown = "[%s]:%d" % addr[:2] if family == socket.AF_INET6 else "%s:%d" % addr[:2]
            why = "connection refused" if isinstance(e, ConnectionRefusedError) else \
                (e.strerror or str(e)).lower()
            if first_err is None:
                first_err = "dial tcp %s: connect: %s" % (shown, why)
    raise GoError(first_err or "dial tcp: no address")


def _is_domain_or_subdomain(sub, parent):
    if sub == parent:
        return True
    if b":" in sub or b"%" in sub:          # IPv6 literal: exact only
        return False
    return sub.endswith(b"." + parent) if parent else False


def go_do(inp, timeout):
    """integration.go's newRequest + http.DefaultClient.Do: an Answer, or
    GoError. Redirects are followed as Go follows them (10 at most)."""
    method = inp["method"] or "GET"
    if not is_token(method.encode("utf-8", "surrogateescape")):
        raise NewRequestError("net/http: invalid method %s" % go_quote(method))
    body = None
    if inp["body"] is not None:
        b = inp["body"]
        body = b.encode("utf-8", "surrogateescape") if isinstance(b, str) else go_json(b)
    try:
        url = parse_url(inp["url"])
    except GoError as e:
        raise NewRequestError(str(e))
    header = {}
    host = b""
    spec_header = inp["header"] or {}
    if "Host" in spec_header:
        host = spec_header["Host"].encode("utf-8", "surrogateescape")
    for k, v in spec_header.items():
        _header_add(header, canonical_header_key(k.encode("utf-8", "surrogateescape")),
                    v.encode("utf-8", "surrogateescape"))
    mb = method.encode("utf-8", "surrogateescape")
    first_method = method
    reqs = []                  # (method, url, host) of each hop
    strip_sensitive = False
    include_body = True
    cur = (mb, url, host, header, body)
    while True:
        mb, url, host, hdr, b = cur
        reqs.append(cur)
        try:
            ans = round_trip(mb, url, hdr, host, b, timeout)
        except GoError as e:
            raise url_error(first_method, url.string(with_user=False), e)
        ans.url = url.string()
        code = ans.status
        loc = ans.get(b"Location")
        if code in (301, 302, 303):
            redirect_method = mb if mb in (b"GET", b"HEAD") else b"GET"
            hop_body = False
        elif code in (307, 308):
            if not loc:
                return ans
            redirect_method = mb
            hop_body = True
        else:
            return ans
        if not hop_body:
            include_body = False
        if not loc:
            return ans
        loc_text = loc.decode("utf-8", "surrogateescape")
        try:
            new_url = parse_url(urllib.parse.urljoin(url.string(), loc_text))
        except (GoError, ValueError) as e:
            raise url_error(first_method, url.string(with_user=False),
                            "failed to parse Location header %s: %s" % (go_quote(loc), e))
        new_host = b""
        if host and host != url.host and not re.match(rb"^[A-Za-z][A-Za-z0-9+.\-]*:", loc):
            new_host = host
        ireq_url = reqs[0][1]
        if not strip_sensitive and ireq_url.host != new_url.host:
            if not _is_domain_or_subdomain(new_url.hostname().lower(),
                                           ireq_url.hostname().lower()):
                strip_sensitive = True
        new_hdr = {}
        for k, vs in reqs[0][3].items():
            if strip_sensitive and k in (b"Authorization", b"Www-Authenticate", b"Cookie",
                                         b"Cookie2", b"Proxy-Authorization",
                                         b"Proxy-Authenticate"):
                continue
            new_hdr[k] = list(vs)
        last_url = url
        if not (last_url.scheme == b"https" and new_url.scheme == b"http"):
            explicit = new_hdr.get(b"Referer", [b""])[0]
            ref = explicit or last_url.string(with_user=False).encode("utf-8", "surrogateescape")
            if ref:
                new_hdr[b"Referer"] = [ref]
        if len(reqs) >= 10:
            raise GoError("%s %s: stopped after 10 redirects" % (
                first_method[:1] + first_method[1:].lower(), go_quote(loc)))
        new_body = reqs[0][4] if include_body else None
        cur = (redirect_method, new_url, new_host, new_hdr, new_body)


# ============================================================ comparison

def go_deep_equal(a, b):
    """reflect.DeepEqual on interface{} values from encoding/json."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, float) and isinstance(b, float) and a == b
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if isinstance(a, list) or isinstance(b, list):
        return isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and \
            all(go_deep_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys() and \
            all(go_deep_equal(a[k], b[k]) for k in a)
    return False


def go_unmarshal(data):
    """json.Unmarshal(b, &body) into interface{}; None when invalid (Go
    leaves body nil)."""
    try:
        text = go_utf8(data)
        v = json.loads(text, object_pairs_hook=Pairs, parse_constant=_reject_constant)
        return to_iface(v, "body")
    except (ValueError, RunnerError, RecursionError):
        return None


def _fmt_values(vs):
    """fmt's %s of a []string: [a b]."""
    return "[" + " ".join(vs) + "]"


SHOW_LIMIT = [400]          # characters of a body in a difference; --verbose: all


def _cut(s):
    lim = SHOW_LIMIT[0]
    if lim and len(s) > lim:
        return s[:lim] + "...(%d more)" % (len(s) - lim)
    return s


def _show(b, limit=20000):
    s = go_utf8(b) if isinstance(b, (bytes, bytearray)) else b
    if len(s) > limit:
        s = s[:limit] + "... (%d more)" % (len(s) - limit)
    return s


def _first_difference(have, want):
    n = min(len(have), len(want))
    for i in range(n):
        if have[i] != want[i]:
            return i
    return n


def assert_response(ans, out):
    """integration.go's assertResponse: a list of differences."""
    errs = []
    if ans.status != out["status_code"]:
        errs.append("unexpected status code. have: %d, want: %d"
                    % (ans.status, out["status_code"]))
    shown_map = False
    for k, vs in (out["header"] or {}).items():
        ck = canonical_header_key(k)
        kb = ck.encode("utf-8", "surrogateescape")
        hs = ans.header.get(kb)
        want = [v.encode("utf-8", "surrogateescape") for v in vs] if vs is not None else None
        if hs is not None and want == hs:
            continue
        have_s = [go_utf8(v) for v in hs] if hs is not None else None
        if hs is not None:
            shown_want = '[""] (absent)' if vs == [""] else _fmt_values(vs or [])
            errs.append("unexpected value for header %s. have: %s, want: %s"
                        % (ck, _fmt_values(have_s), shown_want))
            continue
        if not vs:
            errs.append("header %s expected with no value: Go's runner panics (index "
                        "out of range) when it is absent" % ck)
            continue
        if vs[0] != "":
            if shown_map:
                errs.append("header %s not present" % ck)
                continue
            shown_map = True
            shown = " ".join("%s:%s" % (go_utf8(n), _fmt_values([go_utf8(v) for v in ans.header[n]]))
                             for n in sorted(ans.header))
            errs.append("header %s not present: map[%s]" % (ck, shown))
    # body: gunzipped here too when Content-Encoding still says gzip
    data = ans.body
    ce = ans.header.get(b"Content-Encoding")
    if ce and ce[0] in (b"gzip", b"x-gzip"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            if data[:2] == b"\x1f\x8b":
                return errs + ["reading the gzip body: unexpected EOF"]
    schema = out["schema"]
    if schema:
        if len(data) == 0:
            return errs + ["cannot validate empty body"]
        try:
            instance = json.loads(go_utf8(data), object_pairs_hook=_schema_obj,
                                  parse_float=decimal.Decimal, parse_int=int,
                                  parse_constant=_reject_constant)
        except (ValueError, RecursionError) as e:
            return errs + ["problem unmarshaling the body: %s" % e]
        problems = validate_schema(schema, instance)
        if problems:
            return errs + ["problem validating the body: " + "\n\t\t".join(problems)]
    elif out["body"] is not None:
        want = out["body"]
        if isinstance(want, str):
            wb = want.encode("utf-8", "surrogateescape")
            if data != wb:
                at = _first_difference(data, wb)
                errs.append("unexpected body (first difference at byte %d).\n\t\thave: %s"
                            "\n\t\twant: %s" % (at, _cut(go_quote(data)), _cut(go_quote(wb))))
        else:
            have = go_unmarshal(data)
            if not go_deep_equal(have, want):
                shown = go_json(have).decode("utf-8") if have is not None else \
                    "(not JSON) " + go_quote(data)
                errs.append("unexpected body (compared as JSON).\n\t\thave: %s\n\t\twant: %s"
                            % (_cut(shown), _cut(go_json(want).decode("utf-8"))))
    return errs


# ============================================================ JSON schema
# What santhosh-tekuri/jsonschema (v6, the validator integration.go uses)
# checks, for the keywords of drafts 4 to 2020-12 that take no network:
# type, enum, const, properties, patternProperties, additionalProperties,
# required, min/maxProperties, dependencies, dependentRequired/Schemas,
# propertyNames, items, prefixItems, additionalItems, min/maxItems,
# uniqueItems, contains, min/maxContains, min/maxLength, pattern, minimum,
# maximum, exclusiveMinimum/Maximum, multipleOf, allOf, anyOf, oneOf, not,
# if/then/else, local $ref. format is not asserted.

def _schema_obj(pairs):
    out = {}
    for k, v in pairs:
        out[k] = v
    return out


def _sch_num(v):
    """A schema number as the validator gets it: Go marshalled the
    float64 the spec decoded to (shortest form), read back exactly."""
    return decimal.Decimal(repr(float(v)))


def _jtype(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, decimal.Decimal, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "invalid"


def _is_int(v):
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return True
    if isinstance(v, decimal.Decimal):
        return v == v.to_integral_value()
    if isinstance(v, float):
        return v == int(v)
    return False


def _jequal(a, b):
    ta, tb = _jtype(a), _jtype(b)
    if ta != tb:
        return False
    if ta == "number":
        return decimal.Decimal(a if not isinstance(a, float) else repr(a)) == \
            decimal.Decimal(b if not isinstance(b, float) else repr(b))
    if ta == "array":
        return len(a) == len(b) and all(_jequal(x, y) for x, y in zip(a, b))
    if ta == "object":
        return a.keys() == b.keys() and all(_jequal(a[k], b[k]) for k in a)
    return a == b


def _quote1(v):
    if isinstance(v, str):
        return "'" + v.replace("'", "\\'") + "'"
    return go_json(v).decode("utf-8") if not isinstance(v, decimal.Decimal) else str(v)


def _draft_of(schema):
    s = schema.get("$schema") if isinstance(schema, dict) else None
    if isinstance(s, str):
        for key, d in (("draft-04", 4), ("draft-06", 6), ("draft-07", 7),
                       ("2019-09", 2019), ("2020-12", 2020)):
            if key in s:
                return d
    return 2020


def validate_schema(schema, instance):
    """['- at '/ptr': message', ...]; [] when the instance is valid."""
    v = _Validator(schema)
    errs = v.check(schema, instance, "", 0)
    return ["- at '%s': %s" % (p, m) for p, m in errs]


class _Validator:
    def __init__(self, root):
        self.root = root
        self.draft = _draft_of(root)

    def resolve(self, ref):
        if not ref.startswith("#"):
            raise RunnerError("$ref %s: only local references are supported" % ref)
        node = self.root
        frag = urllib.parse.unquote(ref[1:])
        if frag and not frag.startswith("/"):
            raise RunnerError("$ref %s: anchors are not supported" % ref)
        for tok in frag.split("/")[1:] if frag else []:
            tok = tok.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and tok in node:
                node = node[tok]
            elif isinstance(node, list) and tok.isdigit() and int(tok) < len(node):
                node = node[int(tok)]
            else:
                raise RunnerError("$ref %s: json-pointer not found" % ref)
        return node

    def check(self, s, v, ptr, depth):
        if depth > 200:
            return [(ptr, "$ref cycle")]
        if s is True or s == {}:
            return []
        if s is False:
            return [(ptr, "false schema")]
        if not isinstance(s, dict):
            return []
        d = self.draft
        if "$ref" in s and isinstance(s["$ref"], str):
            errs = self.check(self.resolve(s["$ref"]), v, ptr, depth + 1)
            if d < 2019:
                return errs
        else:
            errs = []
        t = _jtype(v)
        types = s.get("type")
        if types is not None:
            tl = types if isinstance(types, list) else [types]
            ok = t in tl or (t == "number" and "integer" in tl and _is_int(v))
            if not ok:
                return errs + [(ptr, "got %s, want %s" % (t, " or ".join(map(str, tl))))]
        if "const" in s and d >= 6 and not _jequal(v, s["const"]):
            errs.append((ptr, "value must be %s" % _quote1(s["const"])))
        if isinstance(s.get("enum"), list) and not any(_jequal(v, e) for e in s["enum"]):
            errs.append((ptr, "value must be one of %s"
                         % ", ".join(_quote1(e) for e in s["enum"])))
        if t == "object":
            errs += self.check_object(s, v, ptr, depth)
        elif t == "array":
            errs += self.check_array(s, v, ptr, depth)
        elif t == "string":
            n = len(v)
            if "minLength" in s and n < int(_sch_num(s["minLength"])):
                errs.append((ptr, "minLength: got %d, want %s" % (n, s["minLength"])))
            if "maxLength" in s and n > int(_sch_num(s["maxLength"])):
                errs.append((ptr, "maxLength: got %d, want %s" % (n, s["maxLength"])))
            if isinstance(s.get("pattern"), str) and not re.search(s["pattern"], v):
                errs.append((ptr, "%s does not match pattern %s"
                             % (_quote1(v), _quote1(s["pattern"]))))
        elif t == "number":
            errs += self.check_number(s, v, ptr)
        for sub in s.get("allOf") or []:
            e = self.check(sub, v, ptr, depth + 1)
            if e:
                errs.append((ptr, "allOf failed"))
                errs += e
                break
        if s.get("anyOf"):
            if not any(not self.check(sub, v, ptr, depth + 1) for sub in s["anyOf"]):
                errs.append((ptr, "anyOf failed"))
        if s.get("oneOf"):
            good = [i for i, sub in enumerate(s["oneOf"]) if not self.check(sub, v, ptr, depth + 1)]
            if len(good) != 1:
                errs.append((ptr, "oneOf failed, none matched" if not good else
                             "oneOf failed, subschemas %d, %d matched" % tuple(good[:2])))
        if "not" in s and not self.check(s["not"], v, ptr, depth + 1):
            errs.append((ptr, "not failed"))
        if "if" in s and d >= 7:
            if not self.check(s["if"], v, ptr, depth + 1):
                if "then" in s:
                    errs += self.check(s["then"], v, ptr, depth + 1)
            elif "else" in s:
                errs += self.check(s["else"], v, ptr, depth + 1)
        return errs

    def check_number(self, s, v, ptr):
        errs = []
        n = decimal.Decimal(v) if not isinstance(v, float) else decimal.Decimal(repr(v))
        d = self.draft
        if "minimum" in s:
            m = _sch_num(s["minimum"])
            excl = d < 6 and s.get("exclusiveMinimum") is True
            if n < m or (excl and n == m):
                errs.append((ptr, "minimum: got %s, want %s" % (n, m)))
        if "maximum" in s:
            m = _sch_num(s["maximum"])
            excl = d < 6 and s.get("exclusiveMaximum") is True
            if n > m or (excl and n == m):
                errs.append((ptr, "maximum: got %s, want %s" % (n, m)))
        if d >= 6:
            em = s.get("exclusiveMinimum")
            if isinstance(em, (int, float)) and not isinstance(em, bool) and n <= _sch_num(em):
                errs.append((ptr, "exclusiveMinimum: got %s, want %s" % (n, _sch_num(em))))
            ex = s.get("exclusiveMaximum")
            if isinstance(ex, (int, float)) and not isinstance(ex, bool) and n >= _sch_num(ex):
                errs.append((ptr, "exclusiveMaximum: got %s, want %s" % (n, _sch_num(ex))))
        if "multipleOf" in s:
            m = _sch_num(s["multipleOf"])
            if m and (n / m) != (n / m).to_integral_value():
                errs.append((ptr, "multipleOf: %s is not a multiple of %s" % (n, m)))
        return errs

    def check_object(self, s, v, ptr, depth):
        errs = []
        d = self.draft
        if "minProperties" in s and len(v) < int(_sch_num(s["minProperties"])):
            errs.append((ptr, "minProperties: got %d, want %s" % (len(v), s["minProperties"])))
        if "maxProperties" in s and len(v) > int(_sch_num(s["maxProperties"])):
            errs.append((ptr, "maxProperties: got %d, want %s" % (len(v), s["maxProperties"])))
        req = s.get("required")
        if isinstance(req, list):
            missing = [r for r in req if isinstance(r, str) and r not in v]
            if missing:
                errs.append((ptr, "missing propert%s %s" % (
                    "y" if len(missing) == 1 else "ies", ", ".join(_quote1(m) for m in missing))))
        deps = s.get("dependencies") if d < 2019 else None
        for name, dep in (deps or {}).items():
            if name in v:
                if isinstance(dep, list):
                    miss = [r for r in dep if r not in v]
                    if miss:
                        errs.append((ptr, "properties %s required, if %s exists"
                                     % (", ".join(_quote1(m) for m in miss), _quote1(name))))
                else:
                    errs += self.check(dep, v, ptr, depth + 1)
        if d >= 2019:
            for name, dep in (s.get("dependentRequired") or {}).items():
                if name in v:
                    miss = [r for r in dep if r not in v]
                    if miss:
                        errs.append((ptr, "properties %s required, if %s exists"
                                     % (", ".join(_quote1(m) for m in miss), _quote1(name))))
            for name, dep in (s.get("dependentSchemas") or {}).items():
                if name in v:
                    errs += self.check(dep, v, ptr, depth + 1)
        props = s.get("properties") if isinstance(s.get("properties"), dict) else {}
        pats = s.get("patternProperties") if isinstance(s.get("patternProperties"), dict) else {}
        addl = s.get("additionalProperties")
        extra = []
        for name, val in v.items():
            p = ptr + "/" + name.replace("~", "~0").replace("/", "~1")
            seen = False
            if name in props:
                seen = True
                errs += self.check(props[name], val, p, depth + 1)
            for rx, sub in pats.items():
                if re.search(rx, name):
                    seen = True
                    errs += self.check(sub, val, p, depth + 1)
            if not seen and addl is not None:
                if addl is False:
                    extra.append(name)
                elif addl is not True:
                    errs += self.check(addl, val, p, depth + 1)
        if extra:
            errs.append((ptr, "additional propert%s %s not allowed" % (
                "y" if len(extra) == 1 else "ies", ", ".join(_quote1(x) for x in extra))))
        if d >= 6 and "propertyNames" in s:
            for name in v:
                if self.check(s["propertyNames"], name, ptr, depth + 1):
                    errs.append((ptr, "invalid propertyName %s" % _quote1(name)))
        return errs

    def check_array(self, s, v, ptr, depth):
        errs = []
        d = self.draft
        if "minItems" in s and len(v) < int(_sch_num(s["minItems"])):
            errs.append((ptr, "minItems: got %d, want %s" % (len(v), s["minItems"])))
        if "maxItems" in s and len(v) > int(_sch_num(s["maxItems"])):
            errs.append((ptr, "maxItems: got %d, want %s" % (len(v), s["maxItems"])))
        if s.get("uniqueItems") is True:
            for i in range(len(v)):
                for j in range(i):
                    if _jequal(v[i], v[j]):
                        errs.append((ptr, "items at %d and %d are equal" % (j, i)))
                        break
                else:
                    continue
                break
        evaluated = 0
        if d < 2020:
            items = s.get("items")
            if isinstance(items, list):
                for i, item in enumerate(v[:len(items)]):
                    errs += self.check(items[i], item, "%s/%d" % (ptr, i), depth + 1)
                evaluated = min(len(v), len(items))
                addl = s.get("additionalItems")
                if addl is False and evaluated != len(v):
                    errs.append((ptr, "got %d items, want %d" % (len(v), evaluated)))
                elif isinstance(addl, dict):
                    for i, item in enumerate(v[evaluated:], evaluated):
                        errs += self.check(addl, item, "%s/%d" % (ptr, i), depth + 1)
            elif items is not None:
                for i, item in enumerate(v):
                    errs += self.check(items, item, "%s/%d" % (ptr, i), depth + 1)
        else:
            prefix = s.get("prefixItems") or []
            for i, item in enumerate(v[:len(prefix)]):
                errs += self.check(prefix[i], item, "%s/%d" % (ptr, i), depth + 1)
            evaluated = min(len(v), len(prefix))
            if "items" in s:
                for i, item in enumerate(v[evaluated:], evaluated):
                    errs += self.check(s["items"], item, "%s/%d" % (ptr, i), depth + 1)
        if d >= 6 and "contains" in s:
            matched = sum(1 for item in v if not self.check(s["contains"], item, ptr, depth + 1))
            lo = int(_sch_num(s["minContains"])) if d >= 2019 and "minContains" in s else 1
            if matched < lo:
                errs.append((ptr, "contains: %d items match, want at least %d" % (matched, lo)))
            if d >= 2019 and "maxContains" in s and matched > int(_sch_num(s["maxContains"])):
                errs.append((ptr, "maxContains: %d items match" % matched))
        return errs


# ============================================================ the gateway

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port, timeout=0.2):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def pids_using(path):
    """Processes whose command line mentions path (our httpd.conf)."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if path in cmd:
            found.append(int(d))
    return found


def _tail(path, n=40):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return "(no %s)" % path
    return "\n".join(lines[-n:]) if lines else "(empty)"


class Gateway:
    """httpd run by `./apxs-build.sh run CONF` in its own process group
    (as test/integration/conftest.py runs it)."""

    def __init__(self, work, build_dir, conf_text):
        self.work = work
        self.build_dir = build_dir
        self.conf_text = conf_text
        self.conf_path = os.path.join(work, "gateway.conf")
        self.run_dir = os.path.join(work, "run")
        self.out_path = os.path.join(work, "gateway.out")
        self.httpd_conf = os.path.join(self.run_dir, "httpd.conf")
        self.error_log = os.path.join(self.run_dir, "error.log")
        self.proc = None

    def start(self, port):
        with open(self.conf_path, "w") as f:
            f.write(self.conf_text)
        if os.path.isdir(self.run_dir):
            shutil.rmtree(self.run_dir)
        env = dict(os.environ)
        env["APIGW_BUILD_DIR"] = self.build_dir
        env["APIGW_RUN_DIR"] = self.run_dir
        with open(self.out_path, "wb") as out:
            self.proc = subprocess.Popen(
                [BUILD_SCRIPT, "run", self.conf_path], cwd=TOP, env=env,
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        self.pgid = self.proc.pid
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return "apxs-build.sh run exited with %d" % self.proc.returncode
            if "resuming normal operations" in self._read(self.error_log) and port_open(port):
                return None
            time.sleep(0.02)
        return "no connection accepted on port %d within %.0fs" % (port, START_TIMEOUT)

    @staticmethod
    def _read(path):
        try:
            with open(path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def logs(self):
        return self._read(self.error_log) + self._read(self.out_path)

    def report(self, why):
        return ("gateway did not start (%s)\n--- %s:\n%s\n--- apxs-build.sh run output "
                "(%s):\n%s\n--- error.log (%s), last lines:\n%s"
                % (why, self.conf_path, self.conf_text.rstrip(), self.out_path,
                   _tail(self.out_path), self.error_log, _tail(self.error_log)))

    def _group_alive(self):
        try:
            os.killpg(self.pgid, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True

    def stop(self):
        """SIGTERM, wait; SIGKILL whatever outlives it. Problems, [] if clean."""
        if self.proc is None:
            return []
        proc, self.proc = self.proc, None
        problems = []
        if proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                problems.append("httpd (pid %d) ignored SIGTERM for %ss" % (proc.pid, STOP_TIMEOUT))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (self._group_alive() or pids_using(self.httpd_conf)):
            time.sleep(0.05)
        left = pids_using(self.httpd_conf)
        if self._group_alive() or left:
            problems.append("httpd processes outlived the parent: %s" % left)
            try:
                os.killpg(self.pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            for pid in pids_using(self.httpd_conf):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        return problems


def make_conf(work, gw_port, mock_port, identity, do_import, extra):
    builtin = os.path.join(work, "builtin")
    lines = [
        "# Generated by test/conformance/krakend_ce.py: the gateway under test,",
        "# loaded with krakend-ce's integration fixture (ports rewritten).",
        "Listen 127.0.0.1:%d" % gw_port,
        "ServerName localhost",
        "",
    ]
    if do_import:
        lines += ['ApiImportKrakenD "%s"' % os.path.join(work, "krakend.json"), ""]
    if identity:
        lines += ["# ---- identity (KrakenD 2.13.8; left out with --no-identity) ----",
                  IDENTITY_CONF.rstrip("\n"),
                  "# ---- end of identity ----", ""]
    lines += ["# ---- KrakenD's built-in /__debug/ (the fixture's backends on the",
              "# gateway's own port call it) ----",
              BUILTINS_CONF.format(builtin=builtin).rstrip("\n"), ""]
    if extra:
        lines += ["# ---- --extra-conf ----",
                  extra.replace("@GWPORT@", str(gw_port)).replace("@MOCKPORT@", str(mock_port))
                  .replace("@WORK@", work).rstrip("\n"), ""]
    return "\n".join(lines) + "\n"


# ============================================================ running specs

def check_case(case, timeout):
    """integration.go's Runner.Check, then the `next` cases: (differences,
    the last answer)."""
    try:
        ans = go_do(case["in"], timeout)
    except NewRequestError as e:
        return [str(e)], None
    except GoError as e:
        if str(e) != case["error"]:
            return [str(e)], None
        diffs, ans = [], None
    else:
        diffs = assert_response(ans, case["out"])
    for i, nxt in enumerate(case["next"]):
        sub, _ = check_case(nxt, timeout)
        diffs += ["next[%d]: %s" % (i, d) for d in sub]
    return diffs, ans


def show_answer(ans):
    lines = ["%s %d %s" % (ans.proto, ans.status, ans.reason)]
    for k in sorted(ans.header):
        for v in ans.header[k]:
            lines.append("%s: %s" % (go_utf8(k), go_utf8(v)))
    lines.append("")
    lines.append(_show(ans.body, 10 ** 9))
    return "\n".join(lines)


def load_specs(spec_dir):
    names = {}
    for fn in sorted(os.listdir(spec_dir)):
        if fn.endswith(".json"):
            with open(os.path.join(spec_dir, fn), "rb") as f:
                names[fn[:-5]] = f.read().decode("utf-8", "surrogateescape")
    return names


def parse_args(argv):
    ap = argparse.ArgumentParser(
        description="Check the gateway against krakend-ce's integration specs.")
    ap.add_argument("dir", nargs="?", default=DEFAULT_DIR,
                    help="the krakend-ce folder: krakend.json and specs/ (default %(default)s)")
    ap.add_argument("--build-dir", default=os.environ.get("APIGW_BUILD_DIR") or
                    os.path.join(TOP, "build"),
                    help="the built modules (default $APIGW_BUILD_DIR or build/)")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="run these specs only")
    ap.add_argument("--keep", action="store_true", help="keep the work folder and print it")
    ap.add_argument("--verbose", action="store_true", help="print the whole answer of a failure")
    ap.add_argument("--no-identity", action="store_true",
                    help="leave out the lines that give the gateway KrakenD's identity")
    ap.add_argument("--no-import", action="store_true",
                    help="leave out ApiImportKrakenD (to try the runner without it)")
    ap.add_argument("--extra-conf", metavar="FILE",
                    help="append FILE to the gateway's conf (@GWPORT@, @MOCKPORT@, "
                    "@WORK@ replaced)")
    ap.add_argument("--timeout", type=float, default=30.0,
                    help="seconds a request may take (Go's client has no limit; default 30)")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.verbose:
        SHOW_LIMIT[0] = 0
    spec_dir = os.path.join(args.dir, "specs")
    fixture_path = os.path.join(args.dir, "krakend.json")
    try:
        with open(fixture_path, encoding="utf-8") as f:
            fixture_text = f.read()
        specs = load_specs(spec_dir)
    except OSError as e:
        print("krakend-ce: %s" % e, file=sys.stderr)
        return 2
    if args.only:
        unknown = [n for n in args.only if n not in specs]
        if unknown:
            print("krakend-ce: no such spec: %s" % " ".join(unknown), file=sys.stderr)
            return 2
        specs = {n: specs[n] for n in sorted(set(args.only))}
    extra = None
    if args.extra_conf:
        with open(args.extra_conf, encoding="utf-8") as f:
            extra = f.read()
    build_dir = os.path.abspath(args.build_dir)
    work = tempfile.mkdtemp(prefix="krakend-ce-")
    # httpd's children may run as another user (www-data under root): they
    # read the fixture copy and the /__debug file from here
    os.chmod(work, 0o755)
    mock = gateway = mock_log = None
    interrupted = False

    def on_term(signum, frame):
        raise KeyboardInterrupt

    old_term = signal.signal(signal.SIGTERM, on_term)
    rc = 1
    try:
        mock_log = open(os.path.join(work, "mock.log"), "a", buffering=1)

        def log(msg):
            mock_log.write("%.3f %s\n" % (time.time(), msg))

        mock = MockBackend(port=0, log=log).start()
        os.makedirs(os.path.join(work, "builtin"))
        with open(os.path.join(work, "builtin", "pong.json"), "wb") as f:
            f.write(PONG)
        why = None
        for attempt in range(4):
            gw_port = free_port()
            while gw_port == mock.port:
                gw_port = free_port()
            with open(os.path.join(work, "krakend.json"), "w", encoding="utf-8") as f:
                f.write(rewrite_ports(fixture_text, gw_port, mock.port))
            gateway = Gateway(work, build_dir, make_conf(
                work, gw_port, mock.port, not args.no_identity, not args.no_import, extra))
            why = gateway.start(gw_port)
            if why is None:
                break
            logs = gateway.logs()
            if attempt < 3 and "Address already in use" in logs:
                gateway.stop()
                continue
            break
        if why is not None:
            print(gateway.report(why))
            return 1
        fixture = json.loads(rewrite_ports(fixture_text, gw_port, mock.port))
        passed = failed = na = 0
        for name, text in specs.items():
            try:
                case = decode_case(_loads_pairs(rewrite_ports(text, gw_port, mock.port)), name)
            except (ValueError, RunnerError) as e:
                print("FAIL %s: the spec cannot be read: %s" % (name, e))
                failed += 1
                continue
            reasons = not_applicable(fixture, case)
            if reasons:
                print("N/A  %s: %s" % (name, "; ".join(reasons)))
                na += 1
                continue
            try:
                diffs, ans = check_case(case, args.timeout)
            except RunnerError as e:
                diffs, ans = ["runner: %s" % e], None
            except Exception as e:          # a runner bug: report it, go on
                import traceback
                diffs, ans = ["runner error: %s\n%s" % (e, traceback.format_exc())], None
            if not diffs:
                print("PASS %s" % name)
                passed += 1
                continue
            failed += 1
            if len(diffs) == 1 and "\n" not in diffs[0]:
                print("FAIL %s: %s" % (name, diffs[0]))
            else:
                print("FAIL %s:" % name)
                for d in diffs:
                    print("    " + d.replace("\n\t\t", "\n        ").replace("\n\t", "\n    "))
            if args.verbose and ans is not None:
                print("    --- the answer:")
                print("\n".join("    | " + ln for ln in show_answer(ans).split("\n")))
            sys.stdout.flush()
        print("krakend-ce: %d passed, %d failed, %d not applicable" % (passed, failed, na))
        rc = 1 if failed else 0
    except KeyboardInterrupt:
        interrupted = True
        print("krakend-ce: interrupted", file=sys.stderr)
        rc = 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        problems = []
        if gateway is not None:
            problems = gateway.stop()
        if mock is not None:
            mock.stop()
        if mock_log is not None:
            mock_log.close()
        for p in problems:
            print("krakend-ce: %s" % p, file=sys.stderr)
        if args.keep:
            print("krakend-ce: work folder kept: %s" % work, file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
        signal.signal(signal.SIGTERM, old_term)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if interrupted:
        return 130
    return rc


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""The mock backend of krakend-ce's integration tests (tests/integration.go),
answering byte for byte what its Go server answers.

Routes, as registered on a Go 1.25 http.ServeMux there:

  /param_forwarding/  echo (the request as JSON)        } all behind
  /xml                a fixed XML document              } checkXForwardedFor:
  /collection/        a JSON array of 10 objects        } 400 "invalid
  /delayed/           echo after a delay (200 ms)       } X-Forwarded-For"
  /redirect/          http.Redirect to /param_forwarding/ with the query } unless
                      (status from ?status=)                              } loopback
  /jwk/symmetric      a fixed JWK set

What Go's server does around the handlers is reproduced too: ServeMux's
301 from /param_forwarding to /param_forwarding/ (a subtree root asked
without its slash) and to the cleaned path, its 404 "404 page not found\\n",
r.Header as Go builds it (canonical names, values in arrival order, Host
and Transfer-Encoding taken out, Content-Length kept), r.URL.Path decoded,
r.URL.Query(), encoding/json's output (sorted keys, <>& escaped, "\\n" at
the end), the response framing (Date; Content-Length when the body fits
Go's 2048-byte buffer, chunked above; nothing else), keep-alive, 100-continue
only when the handler reads the body, a closed connection without an answer
where the Go handler panics (/redirect/ without ?status=).

Strings are handled as bytes, as Go's are.

Import it (MockBackend(port=0).start() ... .stop()) or run it:
    /usr/bin/python3 test/conformance/mock_backend.py --port 8081
"""

import argparse
import email.utils
import http.server
import ipaddress
import socket
import sys
import threading
import time

__all__ = ["MockBackend", "go_json", "canonical_header_key", "go_quote"]

# ---------------------------------------------------------------- Go helpers

# net/http's StatusText (Go 1.25).
STATUS_TEXT = {
    100: "Continue", 101: "Switching Protocols", 102: "Processing",
    103: "Early Hints",
    200: "OK", 201: "Created", 202: "Accepted",
    203: "Non-Authoritative Information", 204: "No Content",
    205: "Reset Content", 206: "Partial Content", 207: "Multi-Status",
    208: "Already Reported", 226: "IM Used",
    300: "Multiple Choices", 301: "Moved Permanently", 302: "Found",
    303: "See Other", 304: "Not Modified", 305: "Use Proxy",
    307: "Temporary Redirect", 308: "Permanent Redirect",
    400: "Bad Request", 401: "Unauthorized", 402: "Payment Required",
    403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    406: "Not Acceptable", 407: "Proxy Authentication Required",
    408: "Request Timeout", 409: "Conflict", 410: "Gone",
    411: "Length Required", 412: "Precondition Failed",
    413: "Request Entity Too Large", 414: "Request URI Too Long",
    415: "Unsupported Media Type", 416: "Requested Range Not Satisfiable",
    417: "Expectation Failed", 418: "I'm a teapot",
    421: "Misdirected Request", 422: "Unprocessable Entity", 423: "Locked",
    424: "Failed Dependency", 425: "Too Early", 426: "Upgrade Required",
    428: "Precondition Required", 429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    451: "Unavailable For Legal Reasons",
    500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout",
    505: "HTTP Version Not Supported", 506: "Variant Also Negotiates",
    507: "Insufficient Storage", 508: "Loop Detected", 510: "Not Extended",
    511: "Network Authentication Required",
}

# RFC 7230 tchar: the bytes Go accepts in a header name or a method.
_TOKEN = frozenset(b"!#$%&'*+-.^_`|~0123456789"
                   b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def is_token(b):
    return len(b) > 0 and all(c in _TOKEN for c in b)


def canonical_header_key(key):
    """textproto.CanonicalMIMEHeaderKey, on str or bytes (same type back).
    A key holding a byte outside the token set is returned unchanged."""
    as_bytes = isinstance(key, (bytes, bytearray))
    b = bytes(key) if as_bytes else key.encode("utf-8", "surrogateescape")
    if not all(c in _TOKEN for c in b):
        return key
    out = bytearray()
    upper = True
    for c in b:
        if upper and 0x61 <= c <= 0x7a:
            c -= 0x20
        elif not upper and 0x41 <= c <= 0x5a:
            c += 0x20
        out.append(c)
        upper = c == 0x2d
    return bytes(out) if as_bytes else out.decode("utf-8", "surrogateescape")


def _rune_at(b, i):
    """utf8.DecodeRune: (text, size) of the valid sequence at b[i], or
    (None, 1) for an invalid byte (Go's RuneError, width 1)."""
    c = b[i]
    if c < 0x80:
        return chr(c), 1
    if 0xC2 <= c <= 0xDF:
        n = 2
    elif 0xE0 <= c <= 0xEF:
        n = 3
    elif 0xF0 <= c <= 0xF4:
        n = 4
    else:
        return None, 1
    try:
        return b[i:i + n].decode("utf-8"), n
    except UnicodeDecodeError:
        return None, 1


def go_utf8(b):
    """The str Go would see ranging over b: each invalid byte becomes one
    U+FFFD (Python's 'replace' groups some sequences differently)."""
    if isinstance(b, str):
        return b
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        pass
    out, i = [], 0
    while i < len(b):
        r, n = _rune_at(b, i)
        out.append("\ufffd" if r is None else r)
        i += n
    return "".join(out)


_HEX = "0123456789abcdef"


def _json_string(s, out):
    """encoding/json's string encoding with HTML escaping (Go 1.22+)."""
    if isinstance(s, str):
        # lone surrogates (from "\\ud800" in a JSON text) are U+FFFD in Go
        b = s.encode("utf-8", "replace") if not _has_surrogate(s) else \
            "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch
                    for ch in s).encode("utf-8")
    else:
        b = bytes(s)
    out.append(b'"')
    i, n = 0, len(b)
    start = 0
    while i < n:
        c = b[i]
        if c < 0x80:
            if 0x20 <= c and c not in (0x22, 0x5C, 0x3C, 0x3E, 0x26):
                i += 1
                continue
            out.append(b[start:i])
            if c in (0x22, 0x5C):
                out.append(b"\\" + bytes([c]))
            elif c == 0x0A:
                out.append(b"\\n")
            elif c == 0x0D:
                out.append(b"\\r")
            elif c == 0x09:
                out.append(b"\\t")
            elif c == 0x08:
                out.append(b"\\b")
            elif c == 0x0C:
                out.append(b"\\f")
            else:
                out.append(("\\u00" + _HEX[c >> 4] + _HEX[c & 0xF]).encode())
            i += 1
            start = i
            continue
        r, size = _rune_at(b, i)
        if r is None:
            out.append(b[start:i])
            out.append(b"\\ufffd")
            i += 1
            start = i
            continue
        if r in ("\u2028", "\u2029"):
            out.append(b[start:i])
            out.append(b"\\u2028" if r == "\u2028" else b"\\u2029")
            i += size
            start = i
            continue
        i += size
    out.append(b[start:])
    out.append(b'"')


def _has_surrogate(s):
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in s)


def go_float(f):
    """encoding/json's float64 text (strconv 'f' or 'e', shortest)."""
    if f != f or f in (float("inf"), float("-inf")):
        raise ValueError("json: unsupported value: %r" % f)
    a = abs(f)
    if a != 0 and (a < 1e-6 or a >= 1e21):
        r = repr(f)                     # shortest digits, 'e' form here
        mant, _, exp = r.partition("e")
        if mant.endswith(".0"):
            mant = mant[:-2]
        sign = exp[0] if exp[0] in "+-" else "+"
        digits = exp.lstrip("+-").lstrip("0") or "0"
        if len(digits) < 2 and sign == "+":
            digits = digits.rjust(2, "0")   # Go: e+21; e-7 after cleanup
        return "%se%s%s" % (mant, sign, digits)
    if f == int(f):
        s = str(int(f))
        return "-0" if (s == "0" and str(f).startswith("-")) else s
    from decimal import Decimal
    return format(Decimal(repr(f)), "f")


def _json_value(v, out):
    if v is None:
        out.append(b"null")
    elif v is True:
        out.append(b"true")
    elif v is False:
        out.append(b"false")
    elif isinstance(v, int):
        out.append(str(v).encode())
    elif isinstance(v, float):
        out.append(go_float(v).encode())
    elif isinstance(v, (str, bytes, bytearray)):
        _json_string(v, out)
    elif isinstance(v, dict):
        items = []
        for k, val in v.items():
            kb = k if isinstance(k, (bytes, bytearray)) else \
                str(k).encode("utf-8", "surrogatepass")
            items.append((bytes(kb), val))
        items.sort(key=lambda kv: kv[0])
        out.append(b"{")
        for j, (k, val) in enumerate(items):
            if j:
                out.append(b",")
            _json_string(k, out)
            out.append(b":")
            _json_value(val, out)
        out.append(b"}")
    elif isinstance(v, (list, tuple)):
        out.append(b"[")
        for j, item in enumerate(v):
            if j:
                out.append(b",")
            _json_value(item, out)
        out.append(b"]")
    else:
        raise TypeError("go_json: cannot encode %r" % (v,))


def go_json(v, newline=False):
    """json.Marshal (newline=False) / json.NewEncoder(w).Encode (True):
    bytes; str and bytes values are Go strings, dict keys sorted."""
    out = []
    _json_value(v, out)
    if newline:
        out.append(b"\n")
    return b"".join(out)


def go_quote(s):
    """strconv.Quote (close enough for error messages)."""
    b = s if isinstance(s, (bytes, bytearray)) else s.encode("utf-8")
    out, i = ['"'], 0
    esc = {0x07: "\\a", 0x08: "\\b", 0x0C: "\\f", 0x0A: "\\n", 0x0D: "\\r",
           0x09: "\\t", 0x0B: "\\v", 0x5C: "\\\\", 0x22: '\\"'}
    while i < len(b):
        r, n = _rune_at(b, i)
        if r is None:
            out.append("\\x%02x" % b[i])
        elif ord(r) in esc:
            out.append(esc[ord(r)])
        elif r.isprintable():
            out.append(r)
        elif ord(r) < 0x10000:
            out.append("\\x%02x" % ord(r) if ord(r) < 0x80 else "\\u%04x" % ord(r))
        else:
            out.append("\\U%08x" % ord(r))
        i += n
    out.append('"')
    return "".join(out)


# net/url escaping ------------------------------------------------------------

_UNRESERVED = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        b"0123456789-_.~")
_HEXDIGITS = frozenset(b"0123456789abcdefABCDEF")


def _should_escape_path(c):
    """url.shouldEscape(c, encodePath)."""
    if c in _UNRESERVED:
        return False
    if c in b"$&+,/:;=@":
        return False
    return True                      # '?' and everything else


def url_escape_path(b):
    """url.escape(s, encodePath) on bytes."""
    out = bytearray()
    for c in b:
        if _should_escape_path(c):
            out += b"%%%02X" % c
        else:
            out.append(c)
    return bytes(out)


def url_unescape(b, query=False):
    """url.unescape: bytes, or None for an invalid escape. query: '+' is
    a space (QueryUnescape); in a path it stays."""
    if b"%" not in b and not (query and b"+" in b):
        return bytes(b)
    out, i, n = bytearray(), 0, len(b)
    while i < n:
        c = b[i]
        if c == 0x25:
            if i + 2 >= n or b[i + 1] not in _HEXDIGITS or b[i + 2] not in _HEXDIGITS:
                return None
            out.append(int(b[i + 1:i + 3], 16))
            i += 3
        elif c == 0x2B and query:
            out.append(0x20)
            i += 1
        else:
            out.append(c)
            i += 1
    return bytes(out)


def valid_encoded_path(b):
    """url.validEncoded(s, encodePath)."""
    for c in b:
        if c in b"!$&'()*+,;=:@[]%":
            continue
        if _should_escape_path(c):
            return False
    return True


def escaped_path(raw):
    """URL.EscapedPath() of a URL whose path was set from raw (setPath)."""
    path = url_unescape(raw)
    if path is None:
        return None, None
    if raw and valid_encoded_path(raw):
        return path, raw
    return path, url_escape_path(path)


def go_path_clean(p):
    """path.Clean on bytes."""
    if p == b"":
        return b"."
    rooted = p.startswith(b"/")
    parts = []
    for seg in p.split(b"/"):
        if seg in (b"", b"."):
            continue
        if seg == b"..":
            if parts and parts[-1] != b"..":
                parts.pop()
            elif not rooted:
                parts.append(b"..")
            continue
        parts.append(seg)
    out = b"/".join(parts)
    if rooted:
        return b"/" + out
    return out or b"."


def clean_path(p):
    """net/http cleanPath."""
    if p == b"":
        return b"/"
    if not p.startswith(b"/"):
        p = b"/" + p
    np = go_path_clean(p)
    if p.endswith(b"/") and np != b"/":
        np += b"/"
    return np


def parse_query(raw):
    """url.ParseQuery: {name: [values]} in bytes, bad pairs skipped."""
    m = {}
    for key in raw.split(b"&") if raw else []:
        if b";" in key or key == b"":
            continue
        k, _, v = key.partition(b"=")
        k = url_unescape(k, query=True)
        if k is None:
            continue
        v = url_unescape(v, query=True)
        if v is None:
            continue
        m.setdefault(k, []).append(v)
    return m


def hex_escape_non_ascii(b):
    out = bytearray()
    for c in b:
        if c >= 0x80:
            out += b"%" + format(c, "x").encode()
        else:
            out.append(c)
    return bytes(out)


def html_escape(b):
    return (b.replace(b"&", b"&amp;").replace(b"<", b"&lt;")
            .replace(b">", b"&gt;").replace(b'"', b"&#34;")
            .replace(b"'", b"&#39;"))


def go_atoi(s):
    """strconv.Atoi: (int, None) or (None, error text)."""
    text = s.decode("latin-1")
    digits = s[1:] if s[:1] in (b"+", b"-") else s
    if not digits or not all(0x30 <= c <= 0x39 for c in digits):
        return None, "strconv.Atoi: parsing %s: invalid syntax" % go_quote(s)
    v = int(text)
    if not -(1 << 63) <= v < (1 << 63):
        return None, "strconv.Atoi: parsing %s: value out of range" % go_quote(s)
    return v, None


def go_parse_ip_loopback(s):
    """net.ParseIP(s) != nil && ip.IsLoopback()."""
    try:
        text = s.decode("ascii")
    except UnicodeDecodeError:
        return False
    if "%" in text or not text:
        return False
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


# ---------------------------------------------------------------- requests

MAX_HEADER_BYTES = (1 << 20) + 4096      # DefaultMaxHeaderBytes + slop
MAX_POST_HANDLER_READ = 256 << 10        # maxPostHandlerReadBytes
BUFFER_BEFORE_CHUNKING = 2048            # bufferBeforeChunkingSize

ERROR_HEADERS = b"\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"


class BadRequest(Exception):
    """What Go's conn.serve writes raw before closing."""

    def __init__(self, raw):
        super().__init__(raw)
        self.raw = raw


def bad_request(text=None, code=400):
    reason = STATUS_TEXT.get(code, "")
    if text is None:
        pub = b"%d %s" % (code, reason.encode())
        return BadRequest(b"HTTP/1.1 " + pub + ERROR_HEADERS + pub)
    t = text.encode() if isinstance(text, str) else text
    return BadRequest(b"HTTP/1.1 %d %s: %s%s%d %s: %s" % (
        code, reason.encode(), t, ERROR_HEADERS, code, reason.encode(), t))


class Header:
    """http.Header: canonical name -> list of bytes values, insertion order
    kept (Go sorts the names when it writes them)."""

    def __init__(self):
        self.m = {}

    def add(self, k, v):
        self.m.setdefault(k, []).append(v)

    def set(self, k, v):
        self.m[k] = [v]

    def get(self, k):
        vs = self.m.get(k)
        return vs[0] if vs else b""

    def has(self, k):
        return k in self.m

    def delete(self, k):
        self.m.pop(k, None)

    def values(self, k):
        return self.m.get(k)


class Body:
    """The request body reader (Content-Length or chunked)."""

    def __init__(self, rfile, length, chunked):
        self.rfile = rfile
        self.left = length           # for identity bodies
        self.chunked = chunked
        self.chunk_left = 0
        self.eof = (length == 0 and not chunked)
        self.error = False
        self.read_any = False

    def _read_line(self):
        line = self.rfile.readline(4096)
        if not line.endswith(b"\n"):
            raise EOFError("unexpected EOF")
        return line

    def read(self, limit=None):
        """Up to limit bytes (all when None); b'' at EOF."""
        self.read_any = True
        out = bytearray()
        try:
            while not self.eof and (limit is None or len(out) < limit):
                want = None if limit is None else limit - len(out)
                if not self.chunked:
                    n = self.left if want is None else min(want, self.left)
                    data = self.rfile.read(n)
                    if len(data) < n:
                        out += data
                        self.error = True
                        self.eof = True
                        break
                    out += data
                    self.left -= n
                    if self.left == 0:
                        self.eof = True
                    continue
                if self.chunk_left == 0:
                    line = self._read_line().rstrip(b"\r\n").rstrip(b" \t")
                    size = line.split(b";", 1)[0].strip(b" \t")
                    if not size or len(size) > 16 or not all(c in _HEXDIGITS for c in size):
                        raise EOFError("malformed chunked encoding")
                    self.chunk_left = int(size, 16)
                    if self.chunk_left == 0:
                        while self._read_line() not in (b"\r\n", b"\n"):
                            pass             # trailers
                        self.eof = True
                        break
                n = self.chunk_left if want is None else min(want, self.chunk_left)
                data = self.rfile.read(n)
                if len(data) < n:
                    raise EOFError("unexpected EOF")
                out += data
                self.chunk_left -= n
                if self.chunk_left == 0:
                    if self.rfile.read(2) != b"\r\n":
                        raise EOFError("malformed chunked encoding")
        except (EOFError, OSError):
            self.error = True
            self.eof = True
        return bytes(out)


class Request:
    pass


def parse_request_uri(raw):
    """url.ParseRequestURI: (scheme, host, raw_path, raw_query, force_query)
    with raw_path still escaped, or None when Go refuses it."""
    if any(c < 0x20 or c == 0x7F for c in raw):
        return None
    if raw == b"*":
        return (b"", b"", b"*", b"", False)
    scheme, host, rest = b"", b"", raw
    if not raw.startswith(b"/"):
        colon = raw.find(b":")
        if colon <= 0:
            return None
        scheme_candidate = raw[:colon]
        if not (scheme_candidate[:1].isalpha() and all(
                c in b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-."
                for c in scheme_candidate)):
            return None
        scheme, rest = scheme_candidate.lower(), raw[colon + 1:]
    force_query = False
    if rest.endswith(b"?") and rest.count(b"?") == 1:
        force_query, rest, query = True, rest[:-1], b""
    else:
        rest, _, query = rest.partition(b"?")
    if scheme:
        if not rest.startswith(b"//"):
            return None if not rest.startswith(b"/") else (scheme, b"", rest, query, force_query)
        auth_end = rest.find(b"/", 2)
        if auth_end < 0:
            host, rest = rest[2:], b""
        else:
            host, rest = rest[2:auth_end], rest[auth_end:]
        host = host.rpartition(b"@")[2]
    return (scheme, host, rest, query, force_query)


# ---------------------------------------------------------------- the server

class Response:
    """A handler's output: status, header map, body; informational
    (1xx) headers sent before it; panic: close without an answer."""

    def __init__(self):
        self.status = None
        self.header = Header()
        self.body = bytearray()
        self.interim = []            # (code, [(k, v)...]) 1xx sent before
        self.panic = False

    def write_header(self, code):
        if code < 100 or code > 999:
            self.panic = True        # checkWriteHeaderCode panics
            raise _Panic()
        if self.status is not None:
            return                   # superfluous WriteHeader: ignored
        if 100 <= code <= 199 and code != 101:
            hdrs = [(k, v) for k in sorted(self.header.m) for v in self.header.m[k]
                    if k not in (b"Content-Length", b"Transfer-Encoding")]
            self.interim.append((code, hdrs))
            return
        self.status = code

    def write(self, data):
        if self.status is None:
            self.write_header(200)
        self.body += data


class _Panic(Exception):
    pass


def http_error(w, text, code):
    """http.Error."""
    w.header.delete(b"Content-Length")
    w.header.set(b"Content-Type", b"text/plain; charset=utf-8")
    w.header.set(b"X-Content-Type-Options", b"nosniff")
    w.write_header(code)
    w.write(text + b"\n")


def http_redirect(w, r, url, code):
    """http.Redirect (Go 1.25)."""
    has_scheme = False
    colon = url.find(b":")
    if colon > 0 and all(c in b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-."
                         for c in url[:colon]) and url[:1].isalpha():
        has_scheme = True
    if not has_scheme and not url.startswith(b"//"):
        oldpath = r.path or b"/"
        if url == b"" or url[0:1] != b"/":
            olddir = oldpath[:oldpath.rfind(b"/") + 1]
            url = olddir + url
        query = b""
        i = url.find(b"?")
        if i != -1:
            url, query = url[:i], url[i:]
        trailing = url.endswith(b"/")
        url = go_path_clean(url)
        if trailing and not url.endswith(b"/"):
            url += b"/"
        url += query
    had_ct = w.header.has(b"Content-Type")
    w.header.set(b"Location", hex_escape_non_ascii(url))
    if not had_ct and r.method in (b"GET", b"HEAD"):
        w.header.set(b"Content-Type", b"text/html; charset=utf-8")
    w.write_header(code)
    if not had_ct and r.method == b"GET":
        body = (b'<a href="' + html_escape(url) + b'">' +
                STATUS_TEXT.get(code, "").encode() + b"</a>.\n")
        w.write(body + b"\n")           # fmt.Fprintln adds a second newline


def url_string(path, raw_query, force_query=False, scheme=b"", host=b""):
    """url.URL{...}.String() for a URL without RawPath."""
    out = b""
    if scheme:
        out += scheme + b":"
    if scheme or host:
        out += b"//" + host
    p = b"*" if path == b"*" else url_escape_path(path)
    if p and not p.startswith(b"/") and host:
        p = b"/" + p
    out += p
    if force_query or raw_query:
        out += b"?" + raw_query
    return out


class Handlers:
    """integration.go's handlers."""

    def __init__(self, delay):
        self.delay = delay

    def check_xff(self, h):
        def wrapped(w, r):
            if not go_parse_ip_loopback(r.header.get(b"X-Forwarded-For")):
                http_error(w, b"invalid X-Forwarded-For", 400)
                return
            h(w, r)
        return wrapped

    def echo(self, w, r):
        w.header.add(b"Content-Type", b"application/json")
        w.header.add(b"Set-Cookie", b"test1=test1")
        w.header.add(b"Set-Cookie", b"test2=test2")
        r.header.delete(b"X-Forwarded-For")
        query = parse_query(r.raw_query)
        resp = {
            "path": r.path,
            "query": query,
            "headers": dict(r.header.m),
            "foo": 42,
        }
        if query.get(b"dump_body", [b""])[0] == b"1":
            resp["body"] = r.body.read()
        w.write(go_json(resp, newline=True))

    def delayed(self, w, r):
        time.sleep(self.delay)
        self.echo(w, r)

    def xml(self, w, r):
        w.header.add(b"Content-Type", b"application/xml; charset=utf-8")
        w.write(b"""<?xml version="1.0" encoding="UTF-8"?>
<user type="admin">
  <name>Elliot</name>
  <social>
    <facebook>https://facebook.com</facebook>
    <twitter>https://twitter.com</twitter>
    <youtube>https://youtube.com</youtube>
  </social>
</user>""")

    def collection(self, w, r):
        w.header.add(b"Content-Type", b"application/json")
        res = [{"path": r.path, "i": i} for i in range(10)]
        w.write(go_json(res, newline=True))

    def redirect(self, w, r):
        query = parse_query(r.raw_query)
        status = query.get(b"status")
        code = 301
        if status is None or status[0] != b"301":
            if status is None:
                raise _Panic()       # status[0] on a nil slice
            code, err = go_atoi(status[0])
            if err is not None:
                http_error(w, err.encode(), 400)
                return
        # u := r.URL; u.Path = "/param_forwarding/"; u.String()
        url = url_string(b"/param_forwarding/", r.raw_query, r.force_query,
                         r.url_scheme, r.url_host)
        http_redirect(w, r, url, code)

    def jwk(self, w, r):
        w.header.add(b"Content-Type", b"application/json")
        w.write(b"""{
  "keys": [
    {
      "kty": "oct",
      "alg": "A128KW",
      "k": "GawgguFyGrWKav7AX4VKUg",
      "kid": "sim1"
    },
    {
      "kty": "oct",
      "k": "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow",
      "kid": "sim2",
      "alg": "HS256"
    }
  ]
}""")

    def routes(self):
        """(segments, multi, handler) as the ServeMux patterns."""
        x = self.check_xff
        return [
            ([b"param_forwarding"], True, x(self.echo)),
            ([b"xml"], False, x(self.xml)),
            ([b"collection"], True, x(self.collection)),
            ([b"delayed"], True, x(self.delayed)),
            ([b"redirect"], True, x(self.redirect)),
            ([b"jwk", b"symmetric"], False, self.jwk),
        ]


def _segments(path):
    """Go's routing segments of a cleaned escaped path: (unescaped
    segments, trailing slash)."""
    trailing = path.endswith(b"/") and path != b"/"
    body = path.strip(b"/")
    segs = [url_unescape(s) or s for s in body.split(b"/")] if body else []
    return segs, trailing or path == b"/"


def _match(routes, path):
    """(handler, exact) of the pattern path matches, or (None, False)."""
    segs, trailing = _segments(path)
    for lits, multi, h in routes:
        if multi:
            if len(segs) >= len(lits) and segs[:len(lits)] == lits and \
                    (len(segs) > len(lits) or trailing):
                exact = trailing and len(segs) == len(lits)
                return h, exact
        elif segs == lits and not trailing:
            return h, True
    return None, False


class MockHandler(http.server.BaseHTTPRequestHandler):
    """A Go net/http server loop over one connection (the parent class
    gives the socket plumbing only: handle() is ours)."""

    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.server.track(self.connection, True)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log(self, msg):
        if self.server.log is not None:
            self.server.log(msg)

    def handle(self):
        last_method = None
        try:
            while True:
                keep = self.serve_one(last_method)
                if keep is None:
                    return
                last_method, keep = keep
                if not keep:
                    return
        except (ConnectionError, OSError, socket.timeout):
            return

    # -- reading

    def read_head(self, last_method):
        """Request line and header lines (bytes, without CRLF), or None."""
        total = 0
        lines = []
        first = True
        while True:
            line = self.rfile.readline(MAX_HEADER_BYTES + 1)
            if not line:
                if first:
                    return None
                raise EOFError
            total += len(line)
            if total > MAX_HEADER_BYTES:
                pub = b"431 Request Header Fields Too Large"
                raise BadRequest(b"HTTP/1.1 " + pub + ERROR_HEADERS + pub)
            if not line.endswith(b"\n"):
                raise EOFError
            line = line[:-1]
            if line.endswith(b"\r"):
                line = line[:-1]
            if first and last_method == b"POST" and line == b"":
                continue             # Go's tolerance after a POST
            first = False
            if line == b"" and lines:
                return lines
            lines.append(line)

    def parse(self, lines):
        reqline = lines[0]
        method, sp1, rest = reqline.partition(b" ")
        uri, sp2, proto = rest.partition(b" ")
        if not sp1 or not sp2:
            raise bad_request()
        if proto == b"HTTP/1.1":
            major, minor = 1, 1
        elif proto == b"HTTP/1.0":
            major, minor = 1, 0
        elif len(proto) == 8 and proto.startswith(b"HTTP/") and proto[5:6].isdigit() \
                and proto[6:7] == b"." and proto[7:8].isdigit():
            major, minor = proto[5] - 0x30, proto[7] - 0x30
        else:
            raise bad_request()
        if not is_token(method):
            raise bad_request()
        parsed = parse_request_uri(uri)
        if parsed is None:
            raise bad_request()
        if major != 1:
            raise bad_request("unsupported protocol version", 505)
        r = Request()
        r.method, r.request_uri, r.major, r.minor = method, uri, major, minor
        r.url_scheme, r.url_host, raw_path, r.raw_query, r.force_query = parsed
        if raw_path == b"*":
            r.path, r.escaped_path = b"*", b"*"
        else:
            r.path, r.escaped_path = escaped_path(raw_path)
            if r.path is None:
                raise bad_request()
        # textproto.ReadMIMEHeader
        header = Header()
        raw_lines = lines[1:]
        if raw_lines and raw_lines[0][:1] in (b" ", b"\t"):
            raise bad_request()
        joined = []
        for line in raw_lines:
            if line[:1] in (b" ", b"\t") and joined:
                joined[-1] = joined[-1].rstrip(b" \t") + b" " + line.strip(b" \t")
            else:
                joined.append(line)
        for line in joined:
            k, colon, v = line.partition(b":")
            if not colon or not is_token(k):
                raise bad_request()
            v = v.strip(b" \t\r\n")
            if any((c < 0x20 and c != 0x09) or c == 0x7F for c in v):
                raise bad_request()
            header.add(canonical_header_key(k), v)
        hosts = header.values(b"Host")
        if hosts is not None and len(hosts) > 1:
            raise bad_request()                      # too many Host headers
        r.host = r.url_host or (hosts[0] if hosts else b"")
        # fixPragmaCacheControl
        pragma = header.values(b"Pragma")
        if pragma and pragma[0] == b"no-cache" and not header.has(b"Cache-Control"):
            header.set(b"Cache-Control", b"no-cache")
        r.wants_close = _should_close(major, minor, header)
        r.wants_10_keepalive = (major, minor) == (1, 0) and \
            _has_token(header.get(b"Connection"), b"keep-alive")
        # transfer: Transfer-Encoding, Content-Length
        chunked = False
        te = header.values(b"Transfer-Encoding")
        if te is not None:
            header.delete(b"Transfer-Encoding")
            if (major, minor) >= (1, 1):
                if len(te) != 1 or te[0].lower() != b"chunked":
                    raise BadRequest(b"HTTP/1.1 501 Not Implemented" + ERROR_HEADERS +
                                     b"Unsupported transfer encoding")
                chunked = True
        cls = header.values(b"Content-Length")
        if cls is not None and len(cls) > 1:
            first = cls[0].strip()
            if any(c.strip() != first for c in cls[1:]):
                raise bad_request()
            header.set(b"Content-Length", first)
            cls = header.values(b"Content-Length")
        length = 0
        if chunked:
            header.delete(b"Content-Length")
            length = -1
        elif cls:
            cl = cls[0].strip()
            if not cl or not cl.isdigit() or len(cl) > 18:
                raise bad_request()
            length = int(cl)
        r.content_length = length
        # (c *conn).readRequest
        if (major, minor) >= (1, 1) and not hosts and method != b"CONNECT":
            raise bad_request("missing required Host header")
        if hosts and len(hosts) == 1 and not _valid_host_header(hosts[0]):
            raise bad_request("malformed Host header")
        header.delete(b"Host")
        r.header = header
        r.body = Body(self.rfile, 0 if chunked else length, chunked)
        expect = header.get(b"Expect")
        r.expects_continue = _has_token(expect, b"100-continue")
        r.expect_other = bool(expect) and not r.expects_continue
        return r

    # -- one exchange

    def serve_one(self, last_method):
        try:
            lines = self.read_head(last_method)
        except EOFError:
            return None
        except BadRequest as e:
            self.wfile.write(e.raw)
            return None
        if lines is None:
            return None
        try:
            r = self.parse(lines)
        except BadRequest as e:
            self.wfile.write(e.raw)
            self.log("bad request: %r" % lines[:1])
            return None
        self.log("%s %s" % (r.method.decode("latin-1"), r.request_uri.decode("latin-1")))
        if r.expect_other:
            w = Response()
            w.header.set(b"Connection", b"close")
            w.write_header(417)
            self.send(r, w, close=True)
            return None
        continue_ok = r.expects_continue and (r.major, r.minor) >= (1, 1) \
            and r.content_length != 0
        if continue_ok:
            body = r.body
            orig_read = body.read

            def read_after_continue(limit=None):
                if not body.read_any:
                    self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                    self.wfile.flush()
                    body.continue_sent = True
                return orig_read(limit)
            body.continue_sent = False
            body.read = read_after_continue
        w = Response()
        try:
            self.dispatch(w, r)
            if w.status is None:
                w.write_header(200)
        except _Panic:
            self.log("  handler panic: connection closed")
            return None                   # Go closes without an answer
        # closeAfterReply, then what cw.writeHeader decides about the
        # request body the handler left unread
        close = r.wants_close
        if continue_ok and not r.body.eof:
            close = True                  # 100-continue asked, body unread
        elif r.content_length != 0 and not close and not r.body.eof:
            rest = r.body.read(MAX_POST_HANDLER_READ + 1)
            if len(rest) > MAX_POST_HANDLER_READ or r.body.error:
                close = True
        keep = self.send(r, w, close)
        return r.method, keep and not close

    def dispatch(self, w, r):
        routes = self.server.routes
        path = clean_path(r.escaped_path) if r.method != b"CONNECT" else r.escaped_path
        h, exact = _match(routes, path)
        if not exact and not path.endswith(b"/"):
            h2, exact2 = _match(routes, path + b"/")
            if h2 is not None and exact2:
                u = url_string(clean_path(r.path) + b"/", r.raw_query)
                http_redirect(w, r, u, 301)
                return
        if path != r.escaped_path:
            u = url_string(path, r.raw_query)
            http_redirect(w, r, u, 301)
            return
        if h is None:
            http_error(w, b"404 page not found", 404)
            return
        h(w, r)

    def send(self, r, w, close):
        """Write w as Go's chunkWriter would; True when the connection
        can serve another request."""
        is11 = (r.major, r.minor) >= (1, 1)
        proto = b"HTTP/1.1 " if is11 else b"HTTP/1.0 "
        out = bytearray()
        for code, hdrs in w.interim:
            out += proto + _status_line(code)
            for k, v in hdrs:
                out += k + b": " + v + b"\r\n"
            out += b"\r\n"
        code = w.status
        header = Header()
        header.m = {k: list(v) for k, v in w.header.m.items()}
        is_head = r.method == b"HEAD"
        body_allowed = not (100 <= code <= 199 or code in (204, 304))
        body = bytes(w.body) if body_allowed else b""
        extra_date = None if header.has(b"Date") else email.utils.formatdate(usegmt=True).encode()
        extra_cl = None
        extra_conn = b""
        extra_te = b""
        chunking = False
        big = len(body) > BUFFER_BEFORE_CHUNKING
        has_te = header.has(b"Transfer-Encoding")
        if not big and not has_te and body_allowed and not header.has(b"Content-Length") \
                and (not is_head or len(body) > 0):
            extra_cl = str(len(body)).encode()
        has_cl = extra_cl is not None or header.has(b"Content-Length")
        if r.wants_10_keepalive and (is_head or has_cl or not body_allowed):
            if not header.has(b"Connection"):
                extra_conn = b"keep-alive"
        elif not is11 or r.wants_close:
            close = True
        if code == 204:
            header.delete(b"Transfer-Encoding")
        elif not body_allowed:
            for k in ((b"Content-Type", b"Content-Length", b"Transfer-Encoding")
                      if code == 304 else (b"Content-Length", b"Transfer-Encoding")):
                header.delete(k)
        if is_head or not body_allowed:
            pass
        elif has_cl:
            pass
        elif is11:
            if not has_te:
                chunking = True
                extra_te = b"chunked"
        else:
            close = True
            header.delete(b"Transfer-Encoding")
        if close and not _has_token(header.get(b"Connection"), b"close"):
            header.delete(b"Connection")
            if is11:
                extra_conn = b"close"
        out += proto + _status_line(code)
        for k in sorted(header.m):
            for v in header.m[k]:
                v = v.replace(b"\r", b" ").replace(b"\n", b" ").strip(b" \t")
                out += k + b": " + v + b"\r\n"
        if extra_date:
            out += b"Date: " + extra_date + b"\r\n"
        if extra_cl is not None:
            out += b"Content-Length: " + extra_cl + b"\r\n"
        if extra_conn:
            out += b"Connection: " + extra_conn + b"\r\n"
        if extra_te:
            out += b"Transfer-Encoding: " + extra_te + b"\r\n"
        out += b"\r\n"
        if not is_head and body:
            if chunking:
                out += b"%x\r\n" % len(body) + body + b"\r\n"
            else:
                out += body
        if chunking and not is_head:
            out += b"0\r\n\r\n"
        self.wfile.write(bytes(out))
        self.wfile.flush()
        self.log("  -> %d (%d bytes)" % (code, len(body)))
        return not close


def _status_line(code):
    text = STATUS_TEXT.get(code, "")
    if text:
        return b"%d %s\r\n" % (code, text.encode())
    return b"%03d status code %d\r\n" % (code, code)


def _has_token(v, token):
    return any(t.strip(b" \t").lower() == token for t in v.split(b","))


def _should_close(major, minor, header):
    conn = header.get(b"Connection")
    if (major, minor) < (1, 1):
        return not _has_token(conn, b"keep-alive")
    return _has_token(conn, b"close")


def _valid_host_header(h):
    ok = frozenset(b"!$%&'()*+,-.0123456789:;=@[]_~"
                   b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    return all(c in ok or c >= 0x80 for c in h)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self):
        # socketserver's bind only: HTTPServer's getfqdn() may wait on DNS
        import socketserver
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def track(self, sock, add):
        with self.conn_lock:
            if add:
                self.conns.add(sock)
            else:
                self.conns.discard(sock)

    def handle_error(self, request, client_address):
        if self.log is not None:
            import traceback
            self.log("mock backend error: %s" % traceback.format_exc())


class MockBackend:
    """The mock backend in a thread: MockBackend(port=0).start(); .port;
    .stop() closes the listener and every open connection."""

    def __init__(self, port=0, host="127.0.0.1", delay=0.2, log=None):
        self.host, self.want_port, self.delay, self.log = host, port, delay, log
        self.server = None
        self.thread = None

    @property
    def port(self):
        return self.server.server_address[1]

    def start(self):
        srv = _Server((self.host, self.want_port), MockHandler)
        srv.conns = set()
        srv.conn_lock = threading.Lock()
        srv.log = self.log
        srv.routes = Handlers(self.delay).routes()
        self.server = srv
        self.thread = threading.Thread(target=srv.serve_forever,
                                       kwargs={"poll_interval": 0.1},
                                       name="mock-backend", daemon=True)
        self.thread.start()
        return self

    def stop(self):
        srv = self.server
        if srv is None:
            return
        self.server = None
        srv.shutdown()
        srv.server_close()
        with srv.conn_lock:
            conns = list(srv.conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(argv=None):
    ap = argparse.ArgumentParser(description="krakend-ce's integration mock backend")
    ap.add_argument("--port", type=int, default=8081)
    ap.add_argument("--host", default="127.0.0.1",
                    help="address to listen on (default 127.0.0.1)")
    ap.add_argument("--delay", type=float, default=0.2,
                    help="seconds /delayed/ waits (default 0.2)")
    ap.add_argument("--quiet", action="store_true", help="no request log")
    args = ap.parse_args(argv)

    def log(msg):
        sys.stderr.write(msg + "\n")
        sys.stderr.flush()

    mock = MockBackend(args.port, args.host, args.delay, None if args.quiet else log)
    mock.start()
    log("mock backend on http://%s:%d/ (Ctrl-C stops it)" % (args.host, mock.port))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        mock.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""A real WebSocket (RFC 6455) backend for the tests, standard library only.

Plain HTTP/1.1 and WebSocket handshakes on the same port:

    GET /__stats            (no Upgrade) {"handshakes": N, "open": N,
                            "messages": N, "closed": N}: 101s sent,
                            WebSockets open now, data messages received,
                            WebSockets ended (any way)
    anything else, no Upgrade   200, echo: method, path, query, headers
                            as JSON (with "websocket": false)
    anything else, Upgrade: websocket   the handshake: GET, HTTP/1.1,
                            Connection with the "upgrade" token, a
                            Sec-WebSocket-Key of 16 base64 bytes, else 400
                            {"error": ...}; a Sec-WebSocket-Version other
                            than 13 gets 426 with Sec-WebSocket-Version: 13
    .../__reject/<code>/... a valid handshake answered with that status
                            ({"error": "rejected", ...}) instead of 101

Subprotocols: the first of the client's Sec-WebSocket-Protocol list that is
"chat" or "superchat" is chosen and echoed in the 101; none, no header.

After the 101 the server sends one text message, JSON {"hello": true,
"path", "query" (raw, or ""), "protocol" (chosen or null), "headers" (the
request's, names as sent)}, then echoes each text message as text and each
binary one as binary (fragments reassembled; client frames must be masked,
else close 1002). Ping gets a pong with its payload; a close is answered
with the same code, then the TCP connection is closed. Text commands:

    __close <code>          the server sends a close with that code, waits
                            (5 s at most) for the client's, then closes
    __sleep <ms>            wait, then answer "slept <ms>"
    __burst <n>             send "burst 0" ... "burst <n-1>" back to back

Non-101 answers keep the connection alive unless the client asked for
close (or spoke HTTP/1.0 without keep-alive). Idle connections just wait
(the server's own timeout is 15 minutes).

--port 0 picks a free port; the chosen one is printed as "PORT <n>".
--tls CERT KEY (PEM files) serves TLS instead (wss://).
SIGTERM closes the listening socket and exits.
"""
import argparse
import base64
import binascii
import hashlib
import json
import re
import signal
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SUPPORTED_PROTOCOLS = ("chat", "superchat")
MAX_MESSAGE = 64 * 1024 * 1024
MAX_HEAD_LINE = 65536
MAX_HEADERS = 200
REJECT = re.compile(r"/__reject/(\d{3})(?:/|$)")

STATS = {"handshakes": 0, "open": 0, "messages": 0, "closed": 0}
LOCK = threading.Lock()

REASONS = {101: "Switching Protocols", 200: "OK", 400: "Bad Request",
           403: "Forbidden", 404: "Not Found", 426: "Upgrade Required",
           500: "Internal Server Error", 502: "Bad Gateway",
           503: "Service Unavailable"}

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


class ProtocolError(Exception):
    """The client broke RFC 6455: close with this code."""

    def __init__(self, code, reason):
        super().__init__(reason)
        self.code = code
        self.reason = reason


class BadRequest(Exception):
    pass


def tokens(value):
    return [t.strip().lower() for t in (value or "").split(",") if t.strip()]


def accept_key(key):
    return base64.b64encode(hashlib.sha1(key.encode("ascii") + GUID).digest()).decode()


class Handler(socketserver.StreamRequestHandler):
    timeout = 900  # no idle timeout shorter than 10 minutes
    disable_nagle_algorithm = True

    # ------------------------------------------------------------ HTTP

    def handle(self):
        try:
            while self._one_request():
                pass
        except (OSError, ValueError):
            pass  # client gone, or the stream timed out

    def _read_head(self):
        """(method, target, version, [(name, value)]) or None at EOF."""
        line = self.rfile.readline(MAX_HEAD_LINE + 1)
        while line in (b"\r\n", b"\n"):  # tolerate empty lines between requests
            line = self.rfile.readline(MAX_HEAD_LINE + 1)
        if not line:
            return None
        if len(line) > MAX_HEAD_LINE or not line.endswith(b"\n"):
            raise BadRequest("request line too long or cut")
        parts = line.decode("latin-1").strip().split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            raise BadRequest("bad request line")
        headers = []
        while True:
            h = self.rfile.readline(MAX_HEAD_LINE + 1)
            if not h.endswith(b"\n"):
                raise BadRequest("header line too long or cut")
            if h in (b"\r\n", b"\n"):
                break
            if len(headers) >= MAX_HEADERS:
                raise BadRequest("too many headers")
            text = h.decode("latin-1").rstrip("\r\n")
            if text[:1] in (" ", "\t") and headers:  # obsolete folding
                name, value = headers[-1]
                headers[-1] = (name, value + " " + text.strip())
                continue
            name, sep, value = text.partition(":")
            if not sep or not name or name != name.strip():
                raise BadRequest("bad header line")
            headers.append((name, value.strip()))
        return parts[0], parts[1], parts[2], headers

    def _discard_body(self, get):
        te = get("Transfer-Encoding")
        if te and "chunked" in tokens(te):
            while True:
                size = int(self.rfile.readline(MAX_HEAD_LINE).split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline(MAX_HEAD_LINE) not in (b"\r\n", b"\n", b""):
                        pass
                    return
                self.rfile.read(size)
                self.rfile.readline(MAX_HEAD_LINE)
        n = int(get("Content-Length") or 0)
        if n:
            self.rfile.read(n)

    def _send_http(self, status, doc, keep_alive, extra=(), head_only=False):
        body = json.dumps(doc).encode()
        lines = ["HTTP/1.1 %d %s" % (status, REASONS.get(status, "Status")),
                 "Server: apigw-test-ws-backend"]
        no_body = status < 200 or status in (204, 304)
        if no_body:
            body = b""
        else:
            lines += ["Content-Type: application/json",
                      "Content-Length: %d" % len(body)]
        lines += ["%s: %s" % kv for kv in extra]
        if not keep_alive:
            lines.append("Connection: close")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if not head_only:
            data += body
        self.connection.sendall(data)
        return keep_alive

    def _one_request(self):
        """Serve one request; True to read another on this connection."""
        try:
            head = self._read_head()
        except (BadRequest, UnicodeError) as e:
            self._send_http(400, {"error": str(e)}, False)
            return False
        if head is None:
            return False
        method, target, version, headers = head

        def get(name):
            vals = [v for k, v in headers if k.lower() == name.lower()]
            return ", ".join(vals) if vals else None

        conn = tokens(get("Connection"))
        if version == "HTTP/1.0":
            keep_alive = "keep-alive" in conn
        else:
            keep_alive = "close" not in conn
        try:
            self._discard_body(get)
        except ValueError:
            self._send_http(400, {"error": "bad chunked body"}, False)
            return False
        path, _, query = target.partition("?")
        head_only = method == "HEAD"

        if "websocket" not in tokens(get("Upgrade")):
            if path == "/__stats":
                with LOCK:
                    doc = dict(STATS)
                return self._send_http(200, doc, keep_alive, head_only=head_only)
            doc = {"websocket": False, "method": method, "path": path,
                   "query": query, "headers": self._header_dict(headers)}
            return self._send_http(200, doc, keep_alive, head_only=head_only)

        # a WebSocket handshake
        error = None
        if method != "GET":
            error = "a WebSocket handshake must be a GET, not %s" % method
        elif version != "HTTP/1.1":
            error = "a WebSocket handshake needs HTTP/1.1, not %s" % version
        elif "upgrade" not in conn:
            error = "Connection lacks the upgrade token: %r" % get("Connection")
        if error:
            return self._send_http(400, {"error": error}, keep_alive)
        if get("Sec-WebSocket-Version") != "13":
            return self._send_http(
                426, {"error": "unsupported Sec-WebSocket-Version %r"
                      % get("Sec-WebSocket-Version")},
                keep_alive, [("Sec-WebSocket-Version", "13")])
        key = (get("Sec-WebSocket-Key") or "").strip()
        try:
            raw = base64.b64decode(key.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeError, ValueError):
            raw = b""
        if len(raw) != 16:
            return self._send_http(400, {"error": "bad Sec-WebSocket-Key %r" % key},
                                   keep_alive)
        m = REJECT.search(path)
        if m:
            code = int(m.group(1))
            return self._send_http(code, {"error": "rejected", "status": code,
                                          "path": path}, keep_alive)

        offered = [p.strip() for p in (get("Sec-WebSocket-Protocol") or "").split(",")
                   if p.strip()]
        protocol = next((p for p in offered if p in SUPPORTED_PROTOCOLS), None)
        lines = ["HTTP/1.1 101 Switching Protocols",
                 "Upgrade: websocket",
                 "Connection: Upgrade",
                 "Sec-WebSocket-Accept: %s" % accept_key(key)]
        if protocol:
            lines.append("Sec-WebSocket-Protocol: %s" % protocol)
        self.connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        with LOCK:
            STATS["handshakes"] += 1
            STATS["open"] += 1
        try:
            hello = {"hello": True, "path": path, "query": query,
                     "protocol": protocol, "headers": self._header_dict(headers)}
            self._send_frame(OP_TEXT, json.dumps(hello).encode())
            self._websocket()
        finally:
            with LOCK:
                STATS["open"] -= 1
                STATS["closed"] += 1
        return False

    @staticmethod
    def _header_dict(headers):
        out = {}
        for k, v in headers:
            out[k] = out[k] + ", " + v if k in out else v
        return out

    # ------------------------------------------------------------ WebSocket

    def _send_frame(self, opcode, payload):
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x80 | opcode, n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
        self.connection.sendall(head + payload)

    def _send_close(self, code, reason=b""):
        self._send_frame(OP_CLOSE, struct.pack("!H", code) + reason if code else b"")

    def _read_exact(self, n):
        data = self.rfile.read(n)
        if data is None or len(data) < n:
            raise EOFError
        return data

    def _read_frame(self):
        """(fin, opcode, payload) of the next client frame."""
        b0, b1 = self._read_exact(2)
        fin, rsv, opcode = b0 & 0x80, b0 & 0x70, b0 & 0x0F
        masked, n = b1 & 0x80, b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read_exact(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read_exact(8))[0]
        if rsv:
            raise ProtocolError(1002, "RSV bits set without an extension")
        if opcode not in (OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG):
            raise ProtocolError(1002, "unknown opcode %d" % opcode)
        if opcode >= 8 and (not fin or n > 125):
            raise ProtocolError(1002, "bad control frame")
        if not masked:
            raise ProtocolError(1002, "client frames must be masked")
        if n > MAX_MESSAGE:
            raise ProtocolError(1009, "frame too big")
        mask = self._read_exact(4)
        payload = self._read_exact(n)
        if n:  # unmask: XOR the whole payload at once with the repeated key
            key = (mask * (n // 4 + 1))[:n]
            payload = (int.from_bytes(payload, "big")
                       ^ int.from_bytes(key, "big")).to_bytes(n, "big")
        return bool(fin), opcode, payload

    def _messages(self):
        """Yield (opcode, payload) of data messages; handle control frames.
        Returns when the close handshake is done."""
        kind, parts, size = None, [], 0
        while True:
            fin, opcode, payload = self._read_frame()
            if opcode == OP_PING:
                self._send_frame(OP_PONG, payload)
                continue
            if opcode == OP_PONG:
                continue
            if opcode == OP_CLOSE:
                if len(payload) == 1:
                    raise ProtocolError(1002, "close payload of one byte")
                self._send_frame(OP_CLOSE, payload)  # same code (and reason)
                return
            if opcode == OP_CONT:
                if kind is None:
                    raise ProtocolError(1002, "continuation without a message")
            else:
                if kind is not None:
                    raise ProtocolError(1002, "new message inside a fragmented one")
                kind = opcode
            parts.append(payload)
            size += len(payload)
            if size > MAX_MESSAGE:
                raise ProtocolError(1009, "message too big")
            if fin:
                data = b"".join(parts)
                done_kind = kind
                kind, parts, size = None, [], 0
                if done_kind == OP_TEXT:
                    try:
                        data.decode("utf-8")
                    except UnicodeDecodeError:
                        raise ProtocolError(1007, "text message not UTF-8")
                with LOCK:
                    STATS["messages"] += 1
                yield done_kind, data

    def _await_close(self):
        """After our close: wait for the client's (5 s at most)."""
        self.connection.settimeout(5)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            _, opcode, _ = self._read_frame()
            if opcode == OP_CLOSE:
                return

    def _websocket(self):
        try:
            for opcode, data in self._messages():
                if opcode == OP_BINARY:
                    self._send_frame(OP_BINARY, data)
                    continue
                text = data.decode("utf-8")
                cmd, _, arg = text.partition(" ")
                if cmd == "__close" and arg.strip().isdigit() and int(arg) < 65536:
                    self._send_close(int(arg))
                    try:
                        self._await_close()
                    except (ProtocolError, EOFError, OSError, ValueError):
                        pass
                    break
                if cmd == "__sleep" and arg.strip().isdigit():
                    time.sleep(int(arg) / 1000.0)
                    self._send_frame(OP_TEXT, ("slept %s" % arg.strip()).encode())
                    continue
                if cmd == "__burst" and arg.strip().isdigit():
                    for i in range(int(arg)):
                        self._send_frame(OP_TEXT, b"burst %d" % i)
                    continue
                self._send_frame(OP_TEXT, data)
        except ProtocolError as e:
            try:
                self._send_close(e.code, e.reason.encode()[:120])
            except OSError:
                pass
        except EOFError:
            pass
        # we close the TCP connection (the server's side of RFC 6455 7.1.1)
        try:
            self.connection.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = ap.parse_args()
    srv = Server(("127.0.0.1", args.port), Handler)
    if args.tls:                        # wss:// (and https:// for /__stats)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls[0], args.tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)

    def on_term(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_term)
    print("PORT %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

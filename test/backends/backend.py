#!/usr/bin/python3
"""A real HTTP/1.1 backend for the tests and the demo, controlled by its path.

    /__status/<code>/...    answer with that status (JSON body)
    /__delay/<ms>/...       wait, then echo
    /__drop/...             close the connection without answering
    /__partial/...          send the head and half the body, then close
    /__big/<bytes>          a body of that many bytes, streamed in chunks
    /__chunked/<bytes>      the same without Content-Length (chunked)
    /__stats                {"connections": N, "requests": N, "cut": N,
                            "cut_bytes": N} so far: "cut" counts the
                            requests whose body ended before its end
                            (connection closed or reset), "cut_bytes"
                            the body bytes those brought
    /__json/<text>          the raw text as an application/json body
    /__reply/<code>/<ms>/<body>   wait <ms>, then answer <code> with the
                            percent-decoded body as application/json
                            (?ctype=<type> for another Content-Type)
    /__digest/...           {"length", "sha256"} of the request body, with
                            method and headers (for bodies too big to echo)
    /__header/<code>/<name>/<value>/...   echo with that status and header
    /__headers/<code>/<n>/<name1>/<value1>/.../<name_n>/<value_n>/...
                            echo with that status and n headers, in order
    /__stall/<ms>/...       the head and half the body, a pause, the rest
    /__partial_chunked/...  a chunked body cut off before its last chunk
    /__garbage/<kind>/...   not HTTP ("raw") or a bad status line ("status"),
                            then close
    /__sse/<n>/<ms>/...     server-sent events: 200 text/event-stream,
                            chunked, n events one every <ms> (the first at
                            once), each its own chunk, flushed:
                            id: <i>\ndata: {"i": <i>, "t": <time.time()>}
                            then the last chunk; a client gone ends it quietly
    /__sse_idle/<ms>/...    the same head and one event, <ms> without a byte,
                            a second event, the end
    anything else           echo: method, path, query, headers, body as JSON

--port 0 picks a free port; the chosen one is printed as "PORT <n>".
"""
import argparse
import hashlib
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

STATS = {"connections": 0, "requests": 0, "cut": 0, "cut_bytes": 0}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "apigw-test-backend"
    # head and body go out in two writes: without this, Nagle and delayed
    # ACKs add ~40 ms to every answer on a kept-alive connection
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        with LOCK:
            STATS["connections"] += 1

    def log_message(self, fmt, *args):  # quiet: the tests read responses
        pass

    @staticmethod
    def _count_cut(received):
        with LOCK:
            STATS["cut"] += 1
            STATS["cut_bytes"] += received

    def _body(self):
        """The request body. One cut short is counted in STATS (cut,
        cut_bytes); a chunked one then fails the request as it always did."""
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            data = self.rfile.read(n)
            if len(data) < n:
                self._count_cut(len(data))
            return data
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            try:
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    if size == 0:
                        self.rfile.readline()
                        return data
                    data += self.rfile.read(size)
                    self.rfile.readline()
            except (ValueError, OSError):
                self._count_cut(len(data))
                raise
        return b""

    def _send(self, status, body, ctype="application/json", extra=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _echo(self, status=200, body=b"", extra=None):
        path, _, query = self.path.partition("?")
        doc = {
            "backend": self.server.name,
            "method": self.command,
            "path": path,
            "query": query,
            "headers": {k: v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
        }
        headers = {"X-Backend": self.server.name}
        headers.update(extra or {})
        self._send(status, json.dumps(doc).encode(), extra=headers)

    def _sse(self, offsets):
        """Server-sent events, chunked, one event per chunk, the ith sent
        offsets[i] seconds after the head. A client gone ends it quietly."""
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if self.command == "HEAD":
                return
            start = time.monotonic()
            for i, offset in enumerate(offsets):
                wait = start + offset - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                event = ("id: %d\ndata: %s\n\n"
                         % (i, json.dumps({"i": i, "t": time.time()}))).encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:  # the client went away
            self.close_connection = True

    def handle_any(self):
        with LOCK:
            STATS["requests"] += 1
        body = self._body()
        parts = self.path.split("?")[0].split("/")
        ctl = parts[1] if len(parts) > 1 else ""
        if ctl == "__status":
            return self._echo(int(parts[2]), body)
        if ctl == "__delay":
            time.sleep(int(parts[2]) / 1000.0)
            return self._echo(200, body)
        if ctl == "__drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if ctl == "__partial":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b'{"partial": "' + b"x" * 100)
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if ctl == "__big":
            n = int(parts[2])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(n))
            self.end_headers()
            chunk = b"a" * 65536
            while n > 0:
                self.wfile.write(chunk[:min(n, len(chunk))])
                n -= len(chunk)
            return
        if ctl == "__chunked":
            n = int(parts[2])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            while n > 0:
                k = min(n, 16384)
                self.wfile.write(b"%x\r\n%s\r\n" % (k, b"c" * k))
                n -= k
            self.wfile.write(b"0\r\n\r\n")
            return
        if ctl == "__stats":
            with LOCK:
                doc = dict(STATS)
            return self._send(200, json.dumps(doc).encode())
        if ctl == "__digest":
            doc = {"backend": self.server.name, "method": self.command,
                   "length": len(body), "sha256": hashlib.sha256(body).hexdigest(),
                   "headers": {k: v for k, v in self.headers.items()}}
            return self._send(200, json.dumps(doc).encode())
        if ctl == "__header":
            return self._echo(int(parts[2]), body, {parts[3]: unquote(parts[4])})
        if ctl == "__headers":
            n = int(parts[3])
            return self._echo(int(parts[2]), body,
                              {parts[4 + 2 * i]: unquote(parts[5 + 2 * i])
                               for i in range(n)})
        if ctl == "__stall":
            payload = json.dumps({"stalled": "y" * 2000}).encode()
            half = len(payload) // 2
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload[:half])
            self.wfile.flush()
            time.sleep(int(parts[2]) / 1000.0)
            try:
                self.wfile.write(payload[half:])
                self.wfile.flush()
            except OSError:
                self.close_connection = True
            return
        if ctl == "__partial_chunked":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b'{"partial": "' + b"z" * 100
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if ctl == "__garbage":
            if parts[2] == "status":
                self.wfile.write(b"HTTP/1.1 2x0 Whatever\r\nContent-Length: 2\r\n\r\nok")
            else:
                self.wfile.write(b"this is not http at all\r\n\r\n")
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if ctl == "__sse":
            n, ms = int(parts[2]), int(parts[3])
            return self._sse([i * ms / 1000.0 for i in range(n)])
        if ctl == "__sse_idle":
            return self._sse([0.0, int(parts[2]) / 1000.0])
        if ctl == "__json":
            return self._send(200, unquote("/".join(parts[2:])).encode())
        if ctl == "__reply":
            time.sleep(int(parts[3]) / 1000.0)
            query = dict(q.split("=", 1) for q in self.path.partition("?")[2].split("&")
                         if "=" in q)
            return self._send(int(parts[2]), unquote("/".join(parts[4:])).encode(),
                              unquote(query.get("ctype", "application/json")))
        return self._echo(200, body)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--name", default="backend")
    args = ap.parse_args()
    srv = Server(("127.0.0.1", args.port), Handler)
    srv.name = args.name
    print("PORT %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

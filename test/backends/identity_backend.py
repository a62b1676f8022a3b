#!/usr/bin/python3
"""A backend for what the gateway's own HTTP client does: compression and
redirect chains (test/integration/test_backend_identity.py).

    /__gzip/...         echo (method, path, query, headers, body as JSON),
                        gzip-compressed with Content-Encoding: gzip when the
                        request's Accept-Encoding names gzip (or ?always=1),
                        plain otherwise; X-Gzipped: 1 or 0 says which
    /__hops/<k>/...     302 to /__hops/<k-1>/... (same origin, relative
                        Location) until k is 0, then echo
    anything else       echo

--port 0 picks a free port; the chosen one is printed as "PORT <n>".
"""
import argparse
import gzip
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "apigw-identity-backend"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # quiet
        pass

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status, body, extra):
        self.send_response(status)
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        body = self._body()
        path, _, query = self.path.partition("?")
        parts = path.split("/")
        ctl = parts[1] if len(parts) > 1 else ""
        if ctl == "__hops" and int(parts[2]) > 0:
            rest = "/".join(parts[3:])
            location = "/__hops/%d/%s" % (int(parts[2]) - 1, rest)
            return self._send(302, b"", {"Location": location,
                                         "Content-Type": "text/plain"})
        doc = json.dumps({
            "method": self.command, "path": path, "query": query,
            "headers": {k: v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
        }).encode()
        extra = {"Content-Type": "application/json", "X-Gzipped": "0"}
        if ctl == "__gzip":
            asked = "gzip" in (self.headers.get("Accept-Encoding") or "")
            if asked or "always=1" in query:
                doc = gzip.compress(doc)
                extra.update({"Content-Encoding": "gzip", "X-Gzipped": "1",
                              "Vary": "Accept-Encoding"})
        return self._send(200, doc, extra)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    srv = Server(("127.0.0.1", args.port), Handler)
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

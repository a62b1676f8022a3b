#!/usr/bin/python3
"""A JWK-set server for the JWT tests (mod_apigw_auth's ApiJwtKeys URLs).

    GET /jwks.json          the file --file names, read again on every
                            request (a test rotates keys by rewriting it),
                            as application/json; each one is counted
    GET /jwk/symmetric      the same (krakend-ce's test backend path)
    GET /count              {"count": N}: how many key-set fetches so far
                            (not counted itself)
    GET /__delay/<ms>/...   wait, then serve the key set (counted)
    anything else           404

--port 0 picks a free port, printed as "PORT <n>". --cert and --key serve
HTTPS with that certificate. A missing or unreadable file is a 500. The
process stops on SIGTERM (a test kills it to take the key server down).
"""
import argparse
import json
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COUNT = {"fetches": 0}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "apigw-test-jwks"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def _send(self, status, body, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _keys(self):
        with LOCK:
            COUNT["fetches"] += 1
        try:
            with open(self.server.file, "rb") as f:
                body = f.read()
        except OSError as e:
            return self._send(500, json.dumps({"error": str(e)}).encode())
        return self._send(200, body)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/count":
            with LOCK:
                n = COUNT["fetches"]
            return self._send(200, json.dumps({"count": n}).encode())
        if path in ("/jwks.json", "/jwk/symmetric"):
            return self._keys()
        if path.startswith("/__delay/"):
            time.sleep(int(path.split("/")[2]) / 1000.0)
            return self._keys()
        return self._send(404, b'{"error":"not found"}')

    do_HEAD = do_GET


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--file", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    args = ap.parse_args()
    srv = Server(("127.0.0.1", args.port), Handler)
    srv.file = args.file
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
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

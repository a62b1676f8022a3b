#!/usr/bin/python3
"""A balancer member for the suspension and failover tests: a real HTTP/1.1
server whose behaviour the test switches at run time, and which records
when each request arrived (the tests measure suspensions from it).

    /__ctl/mode/ok              answer 200 (the default)
    /__ctl/mode/status/<code>   answer that status
    /__ctl/mode/close           close the connection without answering
    /__ctl/mode/slow/<ms>       wait, then answer 200
    /__ctl/hits                 {"hits": [[unix time, method, path], ...]}
    /__ctl/reset                forget the hits
    /__setcookie/<name>/<value>/...   (any mode but close) also set a cookie
    anything else               recorded, then answered as the mode says:
                                {"member": NAME, "path": ..., "n": hits}

Each response is written with one send, so a member killed in the middle
never leaves half a response. Control requests are not recorded.

--port 0 picks a free port; the chosen one is printed as "PORT <n>".
"""
import argparse
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"mode": ["ok"], "hits": []}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "apigw-test-member"

    def log_message(self, fmt, *args):
        pass

    def _send(self, status, doc, headers=None):
        body = json.dumps(doc).encode()
        head = ["HTTP/1.1 %d %s" % (status, self.responses.get(status, ("X",))[0]),
                "Content-Type: application/json",
                "Content-Length: %d" % len(body),
                "X-Member: %s" % self.server.name]
        for k, v in (headers or {}).items():
            head.append("%s: %s" % (k, v))
        data = ("\r\n".join(head) + "\r\n\r\n").encode()
        if self.command != "HEAD":
            data += body
        self.wfile.write(data)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        parts = self.path.split("?")[0].split("/")
        if len(parts) > 2 and parts[1] == "__ctl":
            return self._control(parts[2:])
        with LOCK:
            STATE["hits"].append([time.time(), self.command, self.path])
            count = len(STATE["hits"])
            mode = STATE["mode"]
        headers = {}
        if len(parts) > 3 and parts[1] == "__setcookie":
            headers["Set-Cookie"] = "%s=%s; Path=/" % (parts[2], parts[3])
        if mode[0] == "close":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if mode[0] == "slow":
            time.sleep(int(mode[1]) / 1000.0)
        status = int(mode[1]) if mode[0] == "status" else 200
        try:
            self._send(status, {"member": self.server.name, "path": self.path,
                                "n": count}, headers)
        except OSError:
            self.close_connection = True

    def _control(self, args):
        if args[0] == "mode":
            with LOCK:
                STATE["mode"] = args[1:] or ["ok"]
            return self._send(200, {"mode": args[1:]})
        if args[0] == "hits":
            with LOCK:
                hits = list(STATE["hits"])
            return self._send(200, {"hits": hits})
        if args[0] == "reset":
            with LOCK:
                STATE["hits"] = []
            return self._send(200, {"reset": True})
        return self._send(404, {"error": "unknown control"})

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--name", default="member")
    ap.add_argument("--mode", default="ok", help="initial mode, e.g. status/503")
    args = ap.parse_args()
    STATE["mode"] = args.mode.split("/")
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

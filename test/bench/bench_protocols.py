#!/usr/bin/python3
"""Owns the client side of the protocols benchmark
(test/bench/bench_protocols.sh, which starts and stops the servers): a fast
WebSocket echo backend, the three load clients, their checks and the report.
Standard library only, except the gRPC client (python3-grpcio).

    bench_protocols.py ws-backend --port 0
        A WebSocket echo server on asyncio (one process, no threads): the
        handshake, one JSON hello message like test/backends/ws_backend.py's
        ({"hello": true, "path", "query", ...}), then every data frame
        echoed as it came (text as text, binary as binary), pings ponged, a
        close answered and the connection closed. Several times faster than
        ws_backend.py (a thread per connection, frames read through a
        buffered file), so that the backend does not cap both paths.
        Prints "PORT <n>".
    bench_protocols.py check-ws URL ROOM_PATH
        One WebSocket: 101, the hello (its path must be ROOM_PATH), one echo.
    bench_protocols.py check-grpc HOST:PORT[/SERVICE/METHOD]
        One unary call (default /apigw.test.Echo/Unary): b"echo:" + the
        request, trailing metadata x-echo-trailer: yes.
    bench_protocols.py check-sse URL
        URL (with {n} and {ms}) for 3 events 10 ms apart: 3 events, in order.
    bench_protocols.py ws   --gateway URL --direct URL [--proxypass URL] --out FILE ...
    bench_protocols.py grpc --gateway H:P --direct H:P [--proxypass H:P/S/M] --out FILE ...
        Throughput: rounds of one run through the gateway and one direct,
        back to back (the order swapped every other round; with
        --proxypass a third run on a plain mod_proxy ProxyPass of the same
        httpd, next to the gateway's in both orders), each DURATION
        seconds of closed-loop request/response load from worker
        processes forked once (the client is not held by one GIL), the
        connections opened before the timed window. Appends one JSON record
        per run to FILE (rate, errors, round-trip percentiles, CPU seconds
        of httpd, the backend and the client in the window) and prints a
        line per run.
    bench_protocols.py sse  --gateway URL --direct URL --out FILE ...
        Latency: STREAMS concurrent event streams of EVENTS events INTERVAL
        ms apart, through the gateway and direct in turn; each event's
        arrival (time.time() when its bytes were read) minus the backend's
        time.time() when it wrote it (same machine, same clock). Writes
        every latency per path and round to FILE.
    bench_protocols.py report --work DIR --out results.json [--strict]
        Reads meta.json, runs.jsonl, sse.json and the gateway's error log,
        prints the tables and the summary block, writes results.json. Exit
        0; 1 with --strict when a figure misses its target; 2 when httpd
        crashed.

The gRPC client imports grpc in its worker processes only, after the fork
(grpc's core does not survive a fork of a process that loaded it)."""
import argparse
import asyncio
import base64
import hashlib
import json
import multiprocessing
import os
import random
import re
import selectors
import signal
import socket
import statistics
import struct
import sys
import time
from urllib.parse import urlsplit

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
GRPC_METHOD = "/apigw.test.Echo/Unary"
GRPC_OPTIONS = [("grpc.enable_http_proxy", 0)]
# a small text message: what a chat or a ticker sends
WS_MESSAGE = b'{"op":"echo","seq":42,"text":"hello, room"}'
GRPC_MESSAGE = b"bench-protocols unary payload 0123456789"


def pct(values, q):
    """The q-th percentile (nearest rank) of values, or None."""
    if not values:
        return None
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(q / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


# ---------------------------------------------------------------- CPU

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid):
    with open("/proc/%d/stat" % pid) as f:
        line = f.read()
    return line[line.rindex(")") + 2:].split()  # [0] is field 3 (state)


def tree_cpu(pid):
    """CPU seconds of pid, its living children and the children it reaped."""
    if not pid:
        return 0.0
    ticks = 0
    try:
        f = _stat_fields(pid)
        ticks += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
    except (OSError, ValueError, IndexError):
        return 0.0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            f = _stat_fields(int(name))
            if int(f[1]) == pid:
                ticks += int(f[11]) + int(f[12])
        except (OSError, ValueError, IndexError):
            continue
    return ticks / float(CLK_TCK)


def own_cpu():
    t = os.times()
    return t.user + t.system


# ---------------------------------------------------------------- WebSocket


def ws_frame(opcode, payload, mask=None):
    """One final frame; masked (a client's) when mask holds 4 bytes."""
    n = len(payload)
    bit = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, bit | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, bit | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, bit | 127, n)
    if mask:
        return head + mask + unmask(payload, mask)
    return head + payload


def unmask(payload, mask):
    n = len(payload)
    if not n:
        return b""
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


class EchoProtocol(asyncio.BufferedProtocol):
    """The ws-backend's connection: handshake, hello, echo. A
    BufferedProtocol: the loop reads into one buffer per connection (a
    plain Protocol gets a fresh 256 KiB bytes object per read, an mmap,
    mremap and munmap each: three times the CPU per message)."""

    def connection_made(self, transport):
        self.tr = transport
        self.buf = bytearray()
        self.rbuf = bytearray(65536)
        self.view = memoryview(self.rbuf)
        self.open = False
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def get_buffer(self, sizehint):
        return self.view

    def buffer_updated(self, nbytes):
        self.data_received(self.rbuf[:nbytes])

    def _http_error(self, status, text):
        body = json.dumps({"error": text}).encode()
        self.tr.write(b"HTTP/1.1 %d Bad Request\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
                      % (status, len(body), body))
        self.tr.close()

    def _handshake(self):
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buf) > 65536:
                self._http_error(400, "head too long")
            return False
        head = bytes(self.buf[:end]).decode("latin-1")
        del self.buf[:end + 4]
        lines = head.split("\r\n")
        parts = lines[0].split()
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip()] = v.strip()
        low = {k.lower(): v for k, v in headers.items()}
        key = low.get("sec-websocket-key", "")
        if len(parts) != 3 or parts[0] != "GET" \
                or "websocket" not in low.get("upgrade", "").lower() or not key:
            self._http_error(400, "not a WebSocket handshake")
            return False
        path, _, query = parts[1].partition("?")
        accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest())
        hello = json.dumps({"hello": True, "path": path, "query": query,
                            "protocol": None, "headers": headers}).encode()
        self.tr.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept
                      + b"\r\n\r\n" + ws_frame(1, hello))
        self.open = True
        return True

    def data_received(self, data):
        self.buf += data
        if not self.open and not self._handshake():
            return
        buf, pos, n, out = self.buf, 0, len(self.buf), []
        while n - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            ln, hl = b1 & 0x7F, 2
            if ln == 126:
                if n - pos < 4:
                    break
                ln, hl = int.from_bytes(buf[pos + 2:pos + 4], "big"), 4
            elif ln == 127:
                if n - pos < 10:
                    break
                ln, hl = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
            masked = b1 & 0x80
            if masked:
                hl += 4
            if n - pos < hl + ln:
                break
            payload = bytes(buf[pos + hl:pos + hl + ln])
            if masked:
                payload = unmask(payload, bytes(buf[pos + hl - 4:pos + hl]))
            pos += hl + ln
            op = b0 & 0x0F
            if op in (0, 1, 2):        # data (fragments echoed as they came)
                if ln < 126:
                    out.append(bytes((b0, ln)) + payload)
                elif ln < 65536:
                    out.append(struct.pack("!BBH", b0, 126, ln) + payload)
                else:
                    out.append(struct.pack("!BBQ", b0, 127, ln) + payload)
            elif op == 9:
                out.append(ws_frame(10, payload))
            elif op == 8:
                out.append(ws_frame(8, payload))
                self.tr.write(b"".join(out))
                self.tr.close()
                return
        del buf[:pos]
        if out:
            self.tr.write(b"".join(out))


def cmd_ws_backend(a):
    async def serve():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(EchoProtocol, "127.0.0.1", a.port,
                                          backlog=512, reuse_address=True)
        print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        await stop.wait()
        server.close()
    asyncio.run(serve())
    return 0


class WsClient:
    """A blocking WebSocket client on one socket, fast enough to load a
    gateway from a few processes: the request frame is built once, the echo
    is checked by its bytes."""

    def __init__(self, url, timeout=5.0):
        u = urlsplit(url)
        self.path = u.path + ("?" + u.query if u.query else "")
        self.sock = socket.create_connection((u.hostname, u.port or 80), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16))
        self.sock.sendall(b"GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                          b"Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                          b"Sec-WebSocket-Version: 13\r\n\r\n"
                          % (self.path.encode(), u.hostname.encode(), u.port or 80, key))
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise OSError("connection closed during the handshake: %r" % self.buf[:200])
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        status = head.split(b"\r\n")[0]
        if b" 101 " not in status + b" ":
            raise OSError("handshake answered %r" % head[:300])
        want = base64.b64encode(hashlib.sha1(key + GUID).digest())
        if want.lower() not in head.lower():
            raise OSError("bad Sec-WebSocket-Accept in %r" % head[:300])
        self.mask = os.urandom(4)

    def read_frame(self):
        """(opcode, payload) of the next (unmasked) server frame."""
        while True:
            if len(self.buf) >= 2:
                ln, hl = self.buf[1] & 0x7F, 2
                if ln == 126 and len(self.buf) >= 4:
                    ln, hl = struct.unpack("!H", self.buf[2:4])[0], 4
                elif ln == 127 and len(self.buf) >= 10:
                    ln, hl = struct.unpack("!Q", self.buf[2:10])[0], 10
                if ln < 126 or hl > 2:
                    if len(self.buf) >= hl + ln:
                        op, payload = self.buf[0] & 0x0F, self.buf[hl:hl + ln]
                        self.buf = self.buf[hl + ln:]
                        return op, payload
            chunk = self.sock.recv(65536)
            if not chunk:
                raise OSError("connection closed")
            self.buf += chunk

    def hello(self):
        op, payload = self.read_frame()
        if op != 1:
            raise OSError("first message: opcode %d, not the hello" % op)
        doc = json.loads(payload)
        if doc.get("hello") is not True:
            raise OSError("first message is not the hello: %r" % payload[:200])
        return doc

    def echo_loop(self, message, deadline, rtts):
        """Request/response echo of message until deadline (monotonic);
        the number of echoes completed. Raises OSError on a wrong answer."""
        request = ws_frame(1, message, self.mask)
        expect = ws_frame(1, message)
        n, want, sock, clock = 0, len(expect), self.sock, time.monotonic
        if self.buf:
            raise OSError("unexpected bytes before the first echo: %r" % self.buf[:100])
        while True:
            t0 = clock()
            if t0 >= deadline:
                return n
            sock.sendall(request)
            got = sock.recv(want)
            while len(got) < want:
                more = sock.recv(want - len(got))
                if not more:
                    raise OSError("connection closed after %d echoes" % n)
                got += more
            if got != expect:
                raise OSError("echo %d differs: %r" % (n, got[:100]))
            rtts.append(clock() - t0)
            n += 1

    def close(self):
        try:
            self.sock.sendall(ws_frame(8, struct.pack("!H", 1000), self.mask))
            self.sock.settimeout(1)
            while True:
                op, _ = self.read_frame()
                if op == 8:
                    break
        except (OSError, ValueError):
            pass
        try:
            self.sock.close()
        except OSError:
            pass


def cmd_check_ws(a):
    c = WsClient(a.url)
    try:
        hello = c.hello()
        if hello.get("path") != a.room_path:
            print("hello path %r, not %r" % (hello.get("path"), a.room_path))
            return 1
        n = c.echo_loop(WS_MESSAGE, time.monotonic() + 0.05, [])
        if n < 1:
            print("no echo in 50 ms")
            return 1
    finally:
        c.close()
    print("ws ok: %s (hello path %s, %d echoes in 50 ms)" % (a.url, a.room_path, n))
    return 0


# ---------------------------------------------------------------- workers

def ws_worker(conn):
    """One WebSocket connection per run: ("open", url) -> ("ready", err),
    ("go", t0, t1) -> ("done", result)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    client = None
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg[0] == "quit":
            return
        if msg[0] == "open":
            try:
                client = WsClient(msg[1])
                client.hello()
                conn.send(("ready", None))
            except (OSError, ValueError) as e:
                client = None
                conn.send(("ready", "%s: %s" % (type(e).__name__, e)))
            continue
        if msg[0] == "go":
            t0, t1 = msg[1], msg[2]
            rtts, n, err, cpu = [], 0, None, 0.0
            if client is None:
                err = "not connected"
            else:
                wait = t0 - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                c0 = own_cpu()
                try:
                    n = client.echo_loop(WS_MESSAGE, t1, rtts)
                except (OSError, ValueError) as e:
                    n, err = len(rtts), "%s: %s" % (type(e).__name__, e)
                cpu = own_cpu() - c0
                client.close()
                client = None
            conn.send(("done", {"count": n, "error": err, "cpu": cpu,
                                "rtts": rtts[::max(1, len(rtts) // 2000)]}))


def grpc_target(spec):
    """ "host:port" or "host:port/a.Service/Method" -> (target, method)"""
    target, sep, path = spec.partition("/")
    return target, ("/" + path) if sep else GRPC_METHOD


def grpc_worker(conn, inflight):
    """One gRPC channel per run (grpc.aio), inflight calls in flight:
    ("open", target) -> ("ready", err), ("go", t0, t1) -> ("done", result)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import grpc  # only here: after the fork
    import grpc.aio
    loop = asyncio.new_event_loop()
    state = {}

    async def open_channel(spec):
        target, method = grpc_target(spec)
        ch = grpc.aio.insecure_channel(target, options=GRPC_OPTIONS)
        call = ch.unary_unary(method, request_serializer=None,
                              response_deserializer=None)
        await asyncio.wait_for(ch.channel_ready(), 5)
        for _ in range(3):     # the connection and the gateway's h2 streams warm
            got = await call(GRPC_MESSAGE, timeout=5)
            if got != b"echo:" + GRPC_MESSAGE:
                raise ValueError("answer %r" % got[:100])
        state["ch"], state["call"] = ch, call

    async def run(t0, t1):
        call, rtts, errors = state["call"], [], []
        count = [0]
        want = b"echo:" + GRPC_MESSAGE
        clock = time.monotonic

        async def one():
            while True:
                s = clock()
                if s >= t1:
                    return
                try:
                    got = await call(GRPC_MESSAGE, timeout=5)
                except grpc.RpcError as e:
                    errors.append("%s %s" % (e.code(), e.details()))
                    if len(errors) > 50:
                        return
                    continue
                if got != want:
                    errors.append("answer %r" % got[:80])
                    continue
                rtts.append(clock() - s)
                count[0] += 1
        wait = t0 - clock()
        if wait > 0:
            await asyncio.sleep(wait)
        c0 = own_cpu()
        await asyncio.gather(*(one() for _ in range(inflight)))
        return count[0], errors, rtts, own_cpu() - c0

    async def close():
        ch = state.pop("ch", None)
        state.pop("call", None)
        if ch is not None:
            await ch.close()

    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            break
        if msg[0] == "quit":
            break
        if msg[0] == "open":
            try:
                loop.run_until_complete(open_channel(msg[1]))
                conn.send(("ready", None))
            except Exception as e:  # noqa: BLE001 - reported to the driver
                loop.run_until_complete(close())
                conn.send(("ready", "%s: %s" % (type(e).__name__, e)))
            continue
        if msg[0] == "go":
            if "call" not in state:
                conn.send(("done", {"count": 0, "error": "not connected", "cpu": 0.0, "rtts": []}))
                continue
            n, errors, rtts, cpu = loop.run_until_complete(run(msg[1], msg[2]))
            loop.run_until_complete(close())
            err = None
            if errors:
                err = "%d failed calls, e.g. %s" % (len(errors), errors[0])
            conn.send(("done", {"count": n, "error": err, "cpu": cpu,
                                "errors": len(errors),
                                "rtts": rtts[::max(1, len(rtts) // 2000)]}))
    loop.close()


class Pool:
    """Worker processes forked once; each run opens its connections, then
    runs them all in one timed window."""

    def __init__(self, target, nworkers, *args):
        ctx = multiprocessing.get_context("fork")
        self.conns, self.procs = [], []
        for _ in range(nworkers):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=target, args=(child,) + args, daemon=True)
            p.start()
            child.close()
            self.conns.append(parent)
            self.procs.append(p)

    def run(self, where, duration, pids):
        for c in self.conns:
            c.send(("open", where))
        errs = [m[1] for m in (c.recv() for c in self.conns) if m[1]]
        if errs:
            for c in self.conns:       # close what did open
                c.send(("go", 0, 0))
            for c in self.conns:
                c.recv()
            return None, errs
        t0 = time.monotonic() + 0.05
        t1 = t0 + duration
        for c in self.conns:
            c.send(("go", t0, t1))
        time.sleep(max(0, t0 - time.monotonic()))
        cpu0 = {k: tree_cpu(p) for k, p in pids.items()}
        time.sleep(max(0, t1 - time.monotonic()))
        cpu1 = {k: tree_cpu(p) for k, p in pids.items()}
        wall = time.monotonic() - t0
        results = [c.recv()[1] for c in self.conns]
        return (results, {k: cpu1[k] - cpu0[k] for k in pids}, wall), []

    def close(self):
        for c in self.conns:
            try:
                c.send(("quit",))
            except OSError:
                pass
        for p in self.procs:
            p.join(5)
            if p.is_alive():
                p.terminate()
                p.join(2)


def parse_pids(text):
    """ "httpd=12 backend=34" -> {"httpd": 12, "backend": 34}"""
    out = {}
    for item in (text or "").split():
        k, _, v = item.partition("=")
        if v.isdigit():
            out[k] = int(v)
    return out


def throughput(a, fig, pool, unit):
    """Rounds of (gateway, direct) runs on pool; appends records to a.out."""
    pids = parse_pids(a.pids)
    targets = {"gw": a.gateway, "direct": a.direct}
    if a.proxypass:
        targets["pp"] = a.proxypass
    per_run_conns = a.workers * (a.inflight if fig == "grpc" else 1)
    failures = 0
    if a.warmup > 0:
        for path in targets:
            res, errs = pool.run(targets[path], a.warmup, pids)
            if errs:
                print("%s warm-up of %s failed: %s" % (fig, path, errs[0]), file=sys.stderr)
                return 1
    with open(a.out, "a") as out:
        for rnd in range(1, a.rounds + 1):
            # the gateway's run next to each one it is compared with
            order = ["direct", "gw", "pp"] if rnd % 2 else ["pp", "gw", "direct"]
            for path in [p for p in order if p in targets]:
                res, errs = pool.run(targets[path], a.duration, pids)
                if errs:
                    rec = {"fig": fig, "round": rnd, "path": path, "rate": None,
                           "count": 0, "errors": len(errs), "error": errs[0]}
                    failures += 1
                else:
                    results, cpu, wall = res
                    count = sum(r["count"] for r in results)
                    errors = [r["error"] for r in results if r["error"]]
                    rtts = [x for r in results for x in r["rtts"]]
                    rec = {"fig": fig, "round": rnd, "path": path, "count": count,
                           "seconds": wall, "rate": count / wall,
                           "errors": sum(r.get("errors", 1 if r["error"] else 0)
                                         for r in results),
                           "error": errors[0] if errors else None,
                           "rtt_p50_ms": 1e3 * pct(rtts, 50) if rtts else None,
                           "rtt_p99_ms": 1e3 * pct(rtts, 99) if rtts else None,
                           "client_cpu_s": sum(r["cpu"] for r in results),
                           "connections": per_run_conns}
                    for k, v in cpu.items():
                        rec[k + "_cpu_s"] = v
                    if errors:
                        failures += 1
                out.write(json.dumps(rec) + "\n")
                out.flush()
                print_run(rec, unit)
    return 0 if failures < a.rounds else 1


def print_run(rec, unit):
    if rec.get("rate") is None:
        print("bench-protocols: %-4s r%-2d %-6s FAILED: %s"
              % (rec["fig"], rec["round"], rec["path"], rec["error"]), file=sys.stderr)
        return
    w = rec["seconds"]
    cores = "  cores: client %.2f httpd %.2f backend %.2f" % (
        rec["client_cpu_s"] / w, rec.get("httpd_cpu_s", 0) / w,
        rec.get("backend_cpu_s", 0) / w)
    print("bench-protocols: %-4s r%-2d %-6s %8.0f %-7s  rtt p50 %6.3f ms  p99 %6.3f ms%s%s"
          % (rec["fig"], rec["round"], rec["path"], rec["rate"], unit,
             rec["rtt_p50_ms"] or 0, rec["rtt_p99_ms"] or 0, cores,
             "  ERRORS %d: %s" % (rec["errors"], rec["error"]) if rec["error"] else ""),
          file=sys.stderr)


def cmd_ws(a):
    a.inflight = 1
    pool = Pool(ws_worker, a.workers)
    try:
        return throughput(a, "ws", pool, "msg/s")
    finally:
        pool.close()


def cmd_grpc(a):
    pool = Pool(grpc_worker, a.workers, a.inflight)
    try:
        return throughput(a, "grpc", pool, "calls/s")
    finally:
        pool.close()


def cmd_check_grpc(a):
    def child(conn):
        import grpc
        try:
            target, method = grpc_target(a.target)
            with grpc.insecure_channel(target, options=GRPC_OPTIONS) as ch:
                call = ch.unary_unary(method, request_serializer=None,
                                      response_deserializer=None)
                body, info = call.with_call(b"check", timeout=5)
                trailers = dict(info.trailing_metadata() or ())
            ok = body == b"echo:check" and trailers.get("x-echo-trailer") == "yes"
            conn.send((ok, "answer %r, trailers %r" % (body, trailers)))
        except Exception as e:  # noqa: BLE001
            conn.send((False, "%s: %s" % (type(e).__name__, e)))
    ctx = multiprocessing.get_context("fork")
    parent, kid = ctx.Pipe()
    p = ctx.Process(target=child, args=(kid,))
    p.start()
    ok, text = parent.recv() if parent.poll(15) else (False, "no answer in 15 s")
    p.join(5)
    print("grpc %s: %s %s" % ("ok" if ok else "FAILED", a.target, text))
    return 0 if ok else 1


# ---------------------------------------------------------------- SSE

def sse_streams(url, streams, timeout):
    """Opens streams GETs of url at once, reads them to the end; per stream
    [(i, latency_s)], plus a list of problems."""
    u = urlsplit(url)
    sel = selectors.DefaultSelector()
    state = []
    for k in range(streams):
        s = socket.create_connection((u.hostname, u.port), timeout=5)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: text/event-stream\r\n"
                   "Connection: close\r\n\r\n" % (u.path, u.hostname, u.port)).encode())
        s.setblocking(False)
        st = {"sock": s, "buf": b"", "head": None, "events": [], "k": k}
        state.append(st)
        sel.register(s, selectors.EVENT_READ, st)
    deadline = time.monotonic() + timeout
    problems, left = [], streams
    data_re = re.compile(rb"data: (\{[^\n]*\})\n")
    while left and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.5):
            st = key.data
            try:
                chunk = st["sock"].recv(65536)
            except BlockingIOError:
                continue
            except OSError as e:
                chunk = b""
                problems.append("stream %d: %s" % (st["k"], e))
            now = time.time()
            if not chunk:
                sel.unregister(st["sock"])
                st["sock"].close()
                left -= 1
                continue
            st["buf"] += chunk
            if st["head"] is None:
                if b"\r\n\r\n" not in st["buf"]:
                    continue
                st["head"], _, st["buf"] = st["buf"].partition(b"\r\n\r\n")
                if b" 200 " not in st["head"].split(b"\r\n")[0] + b" ":
                    problems.append("stream %d: %r" % (st["k"], st["head"][:200]))
            last = 0
            for m in data_re.finditer(st["buf"]):
                doc = json.loads(m.group(1))
                st["events"].append((doc["i"], now - doc["t"]))
                last = m.end()
            st["buf"] = st["buf"][last:]
    for st in state:
        if st["sock"].fileno() >= 0:
            problems.append("stream %d: not ended within %.0f s" % (st["k"], timeout))
            sel.unregister(st["sock"])
            st["sock"].close()
    sel.close()
    return [st["events"] for st in state], problems


def cmd_check_sse(a):
    url = a.url.replace("{n}", "3").replace("{ms}", "10")
    per, problems = sse_streams(url, 1, 10)
    ids = [i for i, _ in per[0]]
    if problems or ids != [0, 1, 2]:
        print("sse FAILED: %s: events %r %s" % (url, ids, "; ".join(problems)))
        return 1
    print("sse ok: %s (3 events, %s ms)" % (
        url, " ".join("%.2f" % (1e3 * l) for _, l in per[0])))
    return 0


def cmd_sse(a):
    urls = {p: u.replace("{n}", str(a.events)).replace("{ms}", str(a.interval))
            for p, u in (("gw", a.gateway), ("direct", a.direct))}
    doc = {"streams": a.streams, "events": a.events, "interval_ms": a.interval,
           "rounds": []}
    timeout = a.events * a.interval / 1000.0 + 15
    bad = 0
    for rnd in range(1, a.rounds + 1):
        order = ("gw", "direct") if rnd % 2 else ("direct", "gw")
        row = {"round": rnd}
        for path in order:
            per, problems = sse_streams(urls[path], a.streams, timeout)
            lat = [l * 1e3 for ev in per for _, l in ev]
            missing = sum(a.events - len(ev) for ev in per)
            disorder = sum(1 for ev in per if [i for i, _ in ev] != sorted(i for i, _ in ev))
            if missing or disorder:
                problems.append("%d events missing, %d streams out of order" % (missing, disorder))
            bad += bool(problems)
            row[path] = {"latency_ms": [round(x, 4) for x in lat], "problems": problems}
            print("bench-protocols: sse  r%-2d %-6s %5d events  p50 %6.3f ms  p99 %6.3f ms  "
                  "max %7.3f ms%s" % (rnd, path, len(lat), pct(lat, 50) or 0, pct(lat, 99) or 0,
                                      max(lat) if lat else 0,
                                      "  PROBLEMS: " + "; ".join(problems) if problems else ""),
                  file=sys.stderr)
        doc["rounds"].append(row)
    with open(a.out, "w") as f:
        json.dump(doc, f)
    return 0 if bad < 2 * a.rounds else 1


# ---------------------------------------------------------------- report

def median_ci(v, n=2000):
    """95 % interval of the median (bootstrap, fixed seed: reproducible)."""
    if len(v) < 3:
        return (None, None)
    rnd = random.Random(1)
    meds = sorted(statistics.median(rnd.choices(v, k=len(v))) for _ in range(n))
    return (meds[int(n * 0.025)], meds[int(n * 0.975) - 1])


def p99_diff_ci(gw, direct, q=99, n=400):
    """95 % interval of pct(gw, q) - pct(direct, q), resampling the events
    (bootstrap, fixed seed)."""
    if len(gw) < 100 or len(direct) < 100:
        return (None, None)
    rnd = random.Random(1)
    d = sorted(pct(rnd.choices(gw, k=len(gw)), q) - pct(rnd.choices(direct, k=len(direct)), q)
               for _ in range(n))
    return (d[int(n * 0.025)], d[int(n * 0.975) - 1])


def load_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


LEVEL = re.compile(r"\[(?:[a-z_0-9]+:)?(emerg|alert|crit|error|warn)\]")


def error_log_summary(paths):
    """Counts of warn-or-worse lines and the most frequent messages."""
    counts, msgs, crashes = {}, {}, []
    for path in paths:
        try:
            lines = open(path, errors="replace").read().splitlines()
        except OSError:
            continue
        for line in lines:
            if "AH00052" in line or "exit signal" in line:
                crashes.append(line)
            m = LEVEL.search(line)
            if not m:
                continue
            counts[m.group(1)] = counts.get(m.group(1), 0) + 1
            text = line[m.end():]
            text = re.sub(r"\[(pid|client) [^\]]*\]", "", text)
            text = re.sub(r"\d+", "N", text).strip()
            msgs[text] = msgs.get(text, 0) + 1
    top = sorted(msgs.items(), key=lambda kv: -kv[1])[:6]
    return counts, top, crashes


def cmd_report(a):
    meta = json.load(open(os.path.join(a.work, "meta.json")))
    runs = load_jsonl(os.path.join(a.work, "runs.jsonl"))
    sse_path = os.path.join(a.work, "sse.json")
    sse = json.load(open(sse_path)) if os.path.exists(sse_path) else None
    results = {"meta": meta, "figures": {}}
    rows = []

    def verdict(ok, noisy=False):
        return "NOISY" if noisy else ("PASS" if ok else "FAIL")

    for fig, unit, target, what in (
            ("ws", "msg/s", meta["ws_target"], "WebSocket echo msg/s, gateway / direct"),
            ("grpc", "calls/s", meta["grpc_target"], "gRPC unary calls/s, gateway / direct")):
        rs = [r for r in runs if r["fig"] == fig]
        if not rs:
            continue
        print()
        if fig == "ws":
            print("figure 1: WebSocket echo, %d connections (one per client process), "
                  "%ss runs, request/response of %d bytes; backend: %s"
                  % (meta["ws_connections"], meta["duration"], len(WS_MESSAGE),
                     meta["ws_backend"]))
        else:
            print("figure 2: gRPC unary, %d client processes x %d calls in flight, %ss runs; "
                  "backend test/backends/grpc_backend.py" % (meta["grpc_procs"],
                                                             meta["grpc_inflight"],
                                                             meta["duration"]))
        print("paths: gw through the gateway's <ApiEndpoint>, direct to the backend%s"
              % (", pp a plain ProxyPass in the same httpd" if meta.get("proxypass") else ""))
        print("%-7s %10s %19s %9s %9s %26s %7s" % ("path", unit, "(min-max)", "p50 ms",
                                                  "p99 ms", "cores: client/httpd/backend",
                                                  "errors"))
        summary = {}
        for path in ("gw", "direct", "pp"):
            if path == "pp" and not any(r["path"] == "pp" for r in rs):
                continue
            ok = [r for r in rs if r["path"] == path and r.get("rate") is not None]
            errs = sum(r.get("errors", 0) for r in rs if r["path"] == path)
            if not ok:
                print("%-7s no successful run" % path)
                summary[path] = {"errors": errs}
                continue
            rate = [r["rate"] for r in ok]
            share = lambda k: median(r.get(k, 0) / r["seconds"] for r in ok)  # noqa: E731
            s = {"median_rate": median(rate), "min_rate": min(rate), "max_rate": max(rate),
                 "median_rtt_p50_ms": median(r["rtt_p50_ms"] for r in ok),
                 "median_rtt_p99_ms": median(r["rtt_p99_ms"] for r in ok),
                 "cores_client": share("client_cpu_s"), "cores_httpd": share("httpd_cpu_s"),
                 "cores_backend": share("backend_cpu_s"), "errors": errs, "runs": len(ok)}
            # httpd CPU per message: the gateway's own cost
            if path in ("gw", "pp"):
                s["httpd_cpu_us_per_msg"] = median(1e6 * r.get("httpd_cpu_s", 0) / r["count"]
                                                   for r in ok if r["count"])
            s["backend_cpu_us_per_msg"] = median(1e6 * r.get("backend_cpu_s", 0) / r["count"]
                                                 for r in ok if r["count"])
            summary[path] = s
            print("%-7s %10.0f %19s %9.3f %9.3f %26s %7d"
                  % (path, s["median_rate"], "(%.0f-%.0f)" % (s["min_rate"], s["max_rate"]),
                     s["median_rtt_p50_ms"], s["median_rtt_p99_ms"],
                     "%.2f / %.2f / %.2f" % (s["cores_client"], s["cores_httpd"],
                                             s["cores_backend"]), errs))
        by = {}
        for r in rs:
            if r.get("rate") is not None:
                by.setdefault(r["round"], {})[r["path"]] = r["rate"]
        ratios = [v["gw"] / v["direct"] for _, v in sorted(by.items())
                  if v.get("gw") and v.get("direct")]
        pp_ratios = [v["gw"] / v["pp"] for _, v in sorted(by.items())
                     if v.get("gw") and v.get("pp")]
        lo, hi = median_ci(ratios)
        med = median(ratios)
        errors = sum(s.get("errors", 0) for s in summary.values())
        one = "echo" if fig == "ws" else "call"
        if "gw" in summary and "httpd_cpu_us_per_msg" in summary["gw"]:
            print("httpd CPU per %s through the gateway: %.1f us%s; the backend's: %.1f us "
                  "(gateway), %.1f us (direct)"
                  % (one, summary["gw"]["httpd_cpu_us_per_msg"],
                     " (plain ProxyPass: %.1f us)" % summary["pp"]["httpd_cpu_us_per_msg"]
                     if summary.get("pp", {}).get("httpd_cpu_us_per_msg") else "",
                     summary["gw"]["backend_cpu_us_per_msg"],
                     summary.get("direct", {}).get("backend_cpu_us_per_msg") or 0))
            d = summary.get("direct", {})
            if d.get("median_rate"):
                # on a saturated machine the ratio is about what the client
                # and backend spend per echo over that plus httpd's
                own = 1e6 * (d["cores_client"] + d["cores_backend"]) / d["median_rate"]
                print("direct, the client and the backend spend %.1f us of CPU per %s "
                      "together: a proxy costing %.1f us on the same cores would "
                      "give about %.2f" % (own, one, summary["gw"]["httpd_cpu_us_per_msg"],
                                           own / (own + summary["gw"]["httpd_cpu_us_per_msg"])))
        if med is not None:
            print("gateway/direct per round: %s" % " ".join("%.3f" % x for x in ratios))
            print("median %.3f%s  (target >= %.2f)" % (
                med, "  95 %% interval %.3f-%.3f" % (lo, hi) if lo is not None else "", target))
        noisy = lo is None or (lo < target <= hi)
        ok = med is not None and med >= target and errors == 0
        rows.append(("1" if fig == "ws" else "2", what,
                     "%.3f" % med if med is not None else "-",
                     ">= %.2f" % target,
                     verdict(ok, noisy and errors == 0 and med is not None)))
        fig_verdict = rows[-1][4]
        pp_med = median(pp_ratios)
        if pp_med is not None:
            plo, phi = median_ci(pp_ratios)
            print("gateway/plain ProxyPass per round: %s" % " ".join("%.3f" % x for x in pp_ratios))
            print("median %.3f%s  (no target: mod_apigw's own share)" % (
                pp_med, "  95 %% interval %.3f-%.3f" % (plo, phi) if plo is not None else ""))
            rows.append(("1+" if fig == "ws" else "2+", "  gateway / plain ProxyPass, same httpd",
                         "%.3f" % pp_med, "-", ""))
        results["figures"][fig] = {"summary": summary, "ratios": ratios, "median_ratio": med,
                                   "ratio_ci95": [lo, hi], "target": target,
                                   "proxypass_ratios": pp_ratios,
                                   "proxypass_median_ratio": pp_med,
                                   "errors": errors, "verdict": fig_verdict}

    if sse:
        print()
        print("figure 3: server-sent events, %d streams x %d events %d ms apart, %d round(s); "
              "latency = arrival at the client - the backend's time.time() at its write"
              % (sse["streams"], sse["events"], sse["interval_ms"], len(sse["rounds"])))
        lat = {"gw": [], "direct": []}
        problems = []
        per_round = []
        for row in sse["rounds"]:
            for p in ("gw", "direct"):
                lat[p] += row[p]["latency_ms"]
                problems += row[p]["problems"]
            if row["gw"]["latency_ms"] and row["direct"]["latency_ms"]:
                per_round.append(pct(row["gw"]["latency_ms"], 99)
                                 - pct(row["direct"]["latency_ms"], 99))
        print("%-7s %7s %9s %9s %9s %9s" % ("path", "events", "p50 ms", "p90 ms", "p99 ms", "max ms"))
        for p in ("gw", "direct"):
            v = lat[p]
            if v:
                print("%-7s %7d %9.3f %9.3f %9.3f %9.3f" % (p, len(v), pct(v, 50), pct(v, 90),
                                                           pct(v, 99), max(v)))
        target = meta["sse_target_ms"]
        if lat["gw"] and lat["direct"]:
            add99 = pct(lat["gw"], 99) - pct(lat["direct"], 99)
            add50 = pct(lat["gw"], 50) - pct(lat["direct"], 50)
            lo, hi = p99_diff_ci(lat["gw"], lat["direct"])
            print("added by the gateway: p50 %+.3f ms, p99 %+.3f ms%s (target p99 <= %.0f ms)"
                  % (add50, add99, "  95 %% interval %+.3f..%+.3f" % (lo, hi)
                     if lo is not None else "", target))
            if per_round:
                print("p99 added per round: %s ms" % " ".join("%+.3f" % x for x in per_round))
            noisy = lo is not None and lo <= target < hi
            ok = add99 <= target and not problems
            rows.append(("3", "SSE latency added at p99 (gateway - direct)",
                         "%.3f ms" % add99, "<= %.0f ms" % target,
                         verdict(ok, noisy and not problems)))
            rows.append(("3", "  at p50 (no target)", "%.3f ms" % add50, "-", ""))
            results["figures"]["sse"] = {
                "added_p99_ms": add99, "added_p50_ms": add50, "added_p99_ci95": [lo, hi],
                "per_round_added_p99_ms": per_round, "problems": problems, "target_ms": target,
                "gw": {"p50": pct(lat["gw"], 50), "p99": pct(lat["gw"], 99), "n": len(lat["gw"])},
                "direct": {"p50": pct(lat["direct"], 50), "p99": pct(lat["direct"], 99),
                           "n": len(lat["direct"])},
                "verdict": rows[-2][4]}
        for pr in problems[:5]:
            print("  problem: %s" % pr)

    counts, top, crashes = error_log_summary(a.logs)
    results["error_log"] = {"counts": counts, "top": top, "crashes": crashes}
    print()
    print("gateway error log (%s): %s" % (
        ", ".join(os.path.relpath(p) for p in a.logs if os.path.exists(p)) or "empty",
        ", ".join("%d %s" % (n, lv) for lv, n in sorted(counts.items())) or "no warnings or errors"))
    for text, n in top:
        print("  %5d x %s" % (n, text[:150]))

    print()
    print("=" * 78)
    print("protocols: summary (load average %s at start, %s at end; %s s)"
          % (meta.get("load_start"), a.load_end, a.elapsed))
    for fig, what, val, target, v in rows:
        print("%-3s %-48s %11s %9s %s" % (fig, what, val, target, v))
    if any(r[4] == "NOISY" for r in rows):
        print("NOISY: the 95 % interval of the figure holds its target: this run does "
              "not resolve it; more --rounds, or a quieter machine")
    if crashes:
        print("CRASH: a child of httpd died of a signal:\n  " + "\n  ".join(crashes[:5]))
    fails = [r for r in rows if r[4] == "FAIL"]
    print("verdict: %s" % ("FAIL (%s)" % ", ".join(sorted({r[0] for r in fails}))
                           if fails else "PASS"))
    print("=" * 78)
    results["rows"] = [dict(zip(("figure", "what", "value", "target", "verdict"), r))
                       for r in rows]
    results["verdict"] = "FAIL" if fails else "PASS"
    results["runs"] = runs
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(results, f, indent=2)
    os.replace(tmp, a.out)
    print("results: %s" % os.path.relpath(a.out))
    if crashes:
        return 2
    return 1 if a.strict and fails else 0


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("ws-backend")
    p.add_argument("--port", type=int, default=0)
    p = sub.add_parser("check-ws")
    p.add_argument("url")
    p.add_argument("room_path")
    p = sub.add_parser("check-grpc")
    p.add_argument("target")
    p = sub.add_parser("check-sse")
    p.add_argument("url")
    for name in ("ws", "grpc"):
        p = sub.add_parser(name)
        p.add_argument("--gateway", required=True)
        p.add_argument("--direct", required=True)
        p.add_argument("--proxypass", default="")
        p.add_argument("--out", required=True)
        p.add_argument("--rounds", type=int, default=10)
        p.add_argument("--duration", type=float, default=2)
        p.add_argument("--warmup", type=float, default=1)
        p.add_argument("--workers", type=int, default=8 if name == "ws" else 4)
        p.add_argument("--inflight", type=int, default=4)
        p.add_argument("--pids", default="", help='"httpd=PID backend=PID"')
    p = sub.add_parser("sse")
    p.add_argument("--gateway", required=True)
    p.add_argument("--direct", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--streams", type=int, default=5)
    p.add_argument("--events", type=int, default=200)
    p.add_argument("--interval", type=int, default=20)
    p = sub.add_parser("report")
    p.add_argument("--work", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--logs", nargs="*", default=[])
    p.add_argument("--load-end", default="?")
    p.add_argument("--elapsed", default="?")
    p.add_argument("--strict", action="store_true")
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(143))
    # a background job of a script starts with SIGINT ignored: Ctrl-C
    # should still end the client (the worker processes ignore it)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    return {"ws-backend": cmd_ws_backend, "check-ws": cmd_check_ws,
            "check-grpc": cmd_check_grpc, "check-sse": cmd_check_sse,
            "ws": cmd_ws, "grpc": cmd_grpc, "sse": cmd_sse,
            "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)

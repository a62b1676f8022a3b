#!/usr/bin/python3
"""A real gRPC backend (python3-grpcio, h2c) for the tests, without protobuf:
the service apigw.test.Echo takes and returns raw bytes.

    /apigw.test.Echo/Unary          b"echo:" + the request, trailing metadata
                                    x-echo-trailer: yes; special requests:
        b"fail:<text>"              abort INVALID_ARGUMENT, details <text>
        b"sleep:<ms>..."            wait <ms> first (less if cancelled)
        b"meta"                     JSON [[key, value], ...] of the call's
                                    invocation metadata (instead of echo:)
    /apigw.test.Echo/ServerStream   request b"<n>:<ms>": n messages b"msg <i>",
                                    one every <ms> (the first at once), then
                                    OK with trailing metadata x-count: <n>

Listens on 127.0.0.1 only, without TLS (gRPC over h2c, prior knowledge),
or with TLS (h2 by ALPN) given --tls CERT KEY (PEM files).
--port 0 picks a free port; the chosen one is printed as "PORT <n>".
SIGTERM stops the server (cancelling the calls in flight) and exits.
"""
import argparse
import json
import signal
import sys
import threading
import time
from concurrent import futures

import grpc

SERVICE = "apigw.test.Echo"


def _sleep(context, seconds):
    """Sleep, but stop early once the call is cancelled or past its deadline."""
    end = time.monotonic() + seconds
    while context.is_active():
        left = end - time.monotonic()
        if left <= 0:
            return True
        time.sleep(min(left, 0.01))
    return False


def unary(request, context):
    context.set_trailing_metadata((("x-echo-trailer", "yes"),))
    if request.startswith(b"fail:"):
        context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                      request[5:].decode("utf-8", "replace"))
    if request.startswith(b"sleep:"):
        digits = request[6:].split(b":")[0].strip()
        ms = int(digits) if digits.isdigit() else 0
        if not _sleep(context, ms / 1000.0):
            context.abort(grpc.StatusCode.CANCELLED, "cancelled while sleeping")
    if request == b"meta":
        return json.dumps([[k, v if isinstance(v, str) else v.decode("latin-1")]
                           for k, v in context.invocation_metadata()]).encode()
    return b"echo:" + request


def server_stream(request, context):
    try:
        n_text, _, ms_text = request.decode("ascii").partition(":")
        n, ms = int(n_text), int(ms_text or 0)
    except (UnicodeDecodeError, ValueError):
        context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                      "the request must be b'<n>:<ms>', not %r" % request)
    context.set_trailing_metadata((("x-count", str(n)),))
    start = time.monotonic()
    for i in range(n):
        if not _sleep(context, start + i * ms / 1000.0 - time.monotonic()):
            return
        yield b"msg %d" % i


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = ap.parse_args()

    handler = grpc.method_handlers_generic_handler(SERVICE, {
        "Unary": grpc.unary_unary_rpc_method_handler(
            unary, request_deserializer=None, response_serializer=None),
        "ServerStream": grpc.unary_stream_rpc_method_handler(
            server_stream, request_deserializer=None, response_serializer=None),
    })
    pool = futures.ThreadPoolExecutor(max_workers=16)
    server = grpc.server(pool, handlers=(handler,))
    address = "127.0.0.1:%d" % args.port
    if args.tls:
        with open(args.tls[0], "rb") as c, open(args.tls[1], "rb") as k:
            creds = grpc.ssl_server_credentials([(k.read(), c.read())])
        port = server.add_secure_port(address, creds)
    else:
        port = server.add_insecure_port(address)
    if not port:
        print("cannot listen on 127.0.0.1:%d" % args.port, file=sys.stderr)
        return 1
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    server.start()
    print("PORT %d" % port, flush=True)
    while not stop.wait(0.5):
        pass
    server.stop(0).wait(5)
    pool.shutdown(wait=True, cancel_futures=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

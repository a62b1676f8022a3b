# gRPC clients for the tests, over h2c (prior knowledge, no TLS), talking to
# test/backends/grpc_backend.py straight or through a gateway. Messages are
# raw bytes (no protobuf); metadata comes back as dicts (the last value of a
# repeated key wins).
#
#   body, initial, trailing = unary("127.0.0.1:%d" % port, b"hi")
#   assert body == b"echo:hi" and trailing["x-echo-trailer"] == "yes"
#
#   msgs, trailing = server_stream(target, b"3:100")   # [(b"msg 0", t0), ...]
#
# A failed call raises grpc.RpcError (e.code(), e.details(),
# e.trailing_metadata()). target is "host:port"; "http://host:port" is taken too.
import time

import grpc

UNARY = "/apigw.test.Echo/Unary"
SERVER_STREAM = "/apigw.test.Echo/ServerStream"

# never through an http_proxy of the environment
CHANNEL_OPTIONS = [("grpc.enable_http_proxy", 0)]


def _target(target):
    for scheme in ("http://", "grpc://"):
        if target.startswith(scheme):
            target = target[len(scheme):]
    return target.rstrip("/")


def _md(metadata):
    return {k: v for k, v in (metadata or ())}


def unary(target, payload, metadata=None, timeout=5, method=UNARY):
    """(response bytes, initial metadata dict, trailing metadata dict) of one
    unary call; raises grpc.RpcError when the call fails."""
    with grpc.insecure_channel(_target(target), options=CHANNEL_OPTIONS) as channel:
        call = channel.unary_unary(method, request_serializer=None,
                                   response_deserializer=None)
        response, info = call.with_call(payload, metadata=metadata, timeout=timeout)
        return response, _md(info.initial_metadata()), _md(info.trailing_metadata())


def server_stream(target, payload, timeout=10, metadata=None, method=SERVER_STREAM):
    """([(message, time.monotonic() at its arrival), ...], trailing metadata
    dict) of one server-streaming call; raises grpc.RpcError when it fails."""
    with grpc.insecure_channel(_target(target), options=CHANNEL_OPTIONS) as channel:
        call = channel.unary_stream(method, request_serializer=None,
                                    response_deserializer=None)
        responses = call(payload, metadata=metadata, timeout=timeout)
        got = []
        for message in responses:
            got.append((message, time.monotonic()))
        return got, _md(responses.trailing_metadata())

# Structured access logs: the apigw_json LogFormat of
# conf/examples/logging.conf (read from that file, so the documented line
# is the tested one) writes one valid JSON object per line whatever the
# client sent, with the notes the modules set: endpoint, backend as
# configured, backend time, rate limit, breaker and cache decisions, trace.
import json
import os
import re
import time

import pytest
import requests

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "conf",
                       "examples", "logging.conf")


def log_format():
    with open(EXAMPLE) as f:
        for line in f:
            if line.startswith("LogFormat ") and line.rstrip().endswith(
                    " apigw_json"):
                return line.rstrip()
    raise AssertionError("no apigw_json LogFormat in " + EXAMPLE)


def conf(b):
    return f"""
{log_format()}
CustomLog api.json.log apigw_json
<IfModule !socache_shmcb_module>
  LoadModule socache_shmcb_module /usr/lib/apache2/modules/mod_socache_shmcb.so
</IfModule>

<ApiEndpoint "/v1/orders/{{id}}" GET>
    ApiBackend {b.url}/orders/{{id}}
    ApiRateLimit average=100 period=1s burst=100 by=ip
    ApiCircuitBreaker 5xx
</ApiEndpoint>
<ApiEndpoint "/v1/cached">
    ApiBackend {b.url}/cached
    ApiCache On
    ApiCacheTTL 30s
</ApiEndpoint>
<ApiEndpoint "/v1/scarce">
    ApiBackend {b.url}/scarce
    ApiRateLimit average=2 period=1m burst=2 by=ip
</ApiEndpoint>
<ApiEndpoint "/v1/both">
    ApiBackend {b.url}/one group=one
    ApiBackend {b.url}/two group=two
</ApiEndpoint>
<ApiEndpoint "/v1/files/{{name}}">
    ApiBackend {b.url}/files/{{name}}
</ApiEndpoint>
"""


def entries(gw, n, timeout=5.0):
    """The first n log lines, each parsed (every one must parse)."""
    path = os.path.join(gw.run_dir, "api.json.log")
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except OSError:
            raw = b""
        lines = raw.decode("utf-8").splitlines()   # strict: valid UTF-8
        if len(lines) >= n or time.monotonic() > deadline:
            assert len(lines) >= n, raw
            return [json.loads(l) for l in lines]
        time.sleep(0.02)


def test_a_request_through_an_endpoint(backend, gateway):
    gw = gateway(conf(backend))
    r = requests.get(gw.url("/v1/orders/17?x=1"), headers={
        "User-Agent": "log-test/1"})
    assert r.status_code == 200
    sent = {k.lower(): v for k, v in r.json()["headers"].items()}
    e = entries(gw, 1)[0]
    assert e["method"] == "GET" and e["uri"] == "/v1/orders/17"
    assert e["query"] == "x=1" and e["protocol"] == "HTTP/1.1"
    assert e["status"] == 200 and e["remote"] == "127.0.0.1"
    assert e["user_agent"] == "log-test/1" and e["user"] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", e["time"])
    assert isinstance(e["bytes"], int) and e["bytes"] == len(r.content)
    assert isinstance(e["duration_us"], int)
    assert e["endpoint"] == "/v1/orders/{id}"
    # as configured: never the expanded URL
    assert e["backend"] == backend.url + "/orders/{id}"
    assert isinstance(e["backend_time_us"], int)
    assert 0 < e["backend_time_us"] <= e["duration_us"]
    assert e["ratelimit"] == "admitted" and e["breaker"] == "closed"
    assert e["cache"] is None
    assert e["route_id"] is None and e["environment"] is None
    assert e["gateway_status"] is None
    assert sent["traceparent"].split("-")[1] == e["trace_id"]
    assert re.fullmatch(r"[0-9a-f]{16}", e["span_id"])


@pytest.mark.children(2)
def test_cache_and_rate_limit_decisions(backend, gateway):
    gw = gateway(conf(backend))
    for _ in range(2):
        assert requests.get(gw.url("/v1/cached")).status_code == 200
    codes = [requests.get(gw.url("/v1/scarce")).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    got = entries(gw, 5)
    cached = [e for e in got if e["uri"] == "/v1/cached"]
    scarce = [e for e in got if e["uri"] == "/v1/scarce"]
    assert sorted(e["cache"] for e in cached) == ["hit", "miss"]
    hit = [e for e in cached if e["cache"] == "hit"][0]
    assert hit["backend_time_us"] is None     # no backend was called
    # two children write the lines: not always in the requests' order
    assert sorted((e["ratelimit"], e["status"]) for e in scarce) == [
        ("admitted", 200), ("admitted", 200), ("rejected", 429)]
    for e in scarce:
        assert (e["backend_time_us"] is None) == (e["status"] == 429)


def test_aggregated_backends_are_listed(backend, gateway):
    gw = gateway(conf(backend))
    assert requests.get(gw.url("/v1/both")).status_code == 200
    e = entries(gw, 1)[0]
    assert e["backend"] == f"{backend.url}/one, {backend.url}/two"
    assert isinstance(e["backend_time_us"], int)


def test_a_request_no_endpoint_serves(backend, gateway):
    gw = gateway(conf(backend))
    assert requests.get(gw.url("/nowhere")).status_code == 404
    e = entries(gw, 1)[0]
    assert e["status"] == 404
    for key in ("endpoint", "backend", "backend_time_us", "trace_id",
                "ratelimit", "breaker", "cache"):
        assert e[key] is None, key


def test_hostile_requests_still_make_json(backend, gateway):
    gw = gateway(conf(backend))
    hostile = ["/v1/files/a%22b%5Cc", "/v1/files/%0Anew%0Dline",
               "/v1/files/%FF%FEbad", "/v1/files/%C3%A9t%C3%A9",
               "/v1/files/%01%1F%7F"]
    for path in hostile:
        requests.get(gw.url(path) + '?q="\\', headers={
            "User-Agent": b'ua "quoted" \\ \xff\xfe \xc3\xa9'})
    got = entries(gw, len(hostile))       # each line parses as JSON
    # the decoded path; bytes outside UTF-8 become U+FFFD
    assert sorted(e["uri"] for e in got) == sorted([
        '/v1/files/a"b\\c', "/v1/files/\nnew\rline",
        "/v1/files/\ufffd\ufffdbad", "/v1/files/\u00e9t\u00e9",
        "/v1/files/\x01\x1f\x7f"])
    for e in got:
        # a control character cannot reach a backend URL: the gateway's 400
        assert e["status"] == (400 if re.search("[\x00-\x1f]", e["uri"])
                               else 200), e
        # bytes outside UTF-8 become U+FFFD, the rest is kept, escaped
        assert e["user_agent"] == 'ua "quoted" \\ \ufffd\ufffd \u00e9'
        assert e["query"] == 'q=%22%5C'
        assert e["endpoint"] == "/v1/files/{name}"

# W3C Trace Context through endpoints (apigw_trace_request.c): a client's
# valid traceparent is continued with a new span id for each backend call
# (aggregated calls included) and passed with its valid tracestate; a
# missing or malformed one is replaced by a trace started here, sampled at
# ApiTraceSample; ApiTraceContext Off leaves the headers alone; the trace
# and span ids are request notes a LogFormat can write.
import os
import re
import time

import pytest
import requests

TP = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"


def conf(b, extra=""):
    return f"""
LogFormat "%{{apigw-trace-id}}n %{{apigw-span-id}}n %{{apigw-trace-sampled}}n %U" traces
CustomLog "@RUN@/traces.log" traces
{extra}
<ApiEndpoint "/v1/plain">
  ApiBackend {b.url}/plain
</ApiEndpoint>
<ApiEndpoint "/v1/open">
  ApiBackend {b.url}/open
  ApiInputHeaders traceparent tracestate
</ApiEndpoint>
<ApiEndpoint "/v1/both">
  ApiBackend {b.url}/one group=one
  ApiBackend {b.url}/two group=two
</ApiEndpoint>
"""


def received(doc):
    return {k.lower(): v for k, v in doc["headers"].items()}


def parse(tp):
    m = TP.match(tp)
    assert m, tp
    return m.groups()


def log_line(gw, path, timeout=5.0):
    """The fields of the last traces.log line for path (lines land after
    the answer)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(os.path.join(gw.run_dir, "traces.log")) as f:
                lines = [l.split() for l in f if l.rstrip().endswith(" " + path)]
        except OSError:
            lines = []
        if lines:
            return lines[-1]
        assert time.monotonic() < deadline, "no trace log line for " + path
        time.sleep(0.02)


def test_a_trace_is_started_and_passed_on(backend, gateway):
    gw = gateway(conf(backend))
    r = requests.get(gw.url("/v1/plain"))
    assert r.status_code == 200
    got = received(r.json())
    trace, span, flags = parse(got["traceparent"])
    assert flags == "01"               # ApiTraceSample defaults to 1
    assert "tracestate" not in got
    logged = log_line(gw, "/v1/plain")
    assert logged[0] == trace and logged[2] == "1"
    # the backend call is a span of its own, child of the gateway's
    assert re.fullmatch(r"[0-9a-f]{16}", logged[1]) and logged[1] != span


def test_a_client_trace_is_continued_with_a_new_span(backend, gateway):
    gw = gateway(conf(backend))
    for flags in ("01", "00"):
        r = requests.get(gw.url("/v1/plain"), headers={
            "traceparent": f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-{flags}",
            "tracestate": "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"})
        got = received(r.json())
        trace, span, got_flags = parse(got["traceparent"])
        assert (trace, got_flags) == (CLIENT_TRACE, flags)
        assert span != CLIENT_SPAN
        # passed on though ApiInputHeaders does not list it
        assert got["tracestate"] == "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"


def test_a_later_version_is_read_as_version_00(backend, gateway):
    gw = gateway(conf(backend))
    r = requests.get(gw.url("/v1/plain"), headers={
        "traceparent": f"01-{CLIENT_TRACE}-{CLIENT_SPAN}-01-what-comes-next"})
    trace, _, flags = parse(received(r.json())["traceparent"])
    assert (trace, flags) == (CLIENT_TRACE, "01")


@pytest.mark.parametrize("bad", [
    f"00-{CLIENT_TRACE.upper()}-{CLIENT_SPAN}-01",      # upper case
    f"ff-{CLIENT_TRACE}-{CLIENT_SPAN}-01",              # version ff
    f"00-{'0' * 32}-{CLIENT_SPAN}-01",                  # zero trace id
    f"00-{CLIENT_TRACE}-{'0' * 16}-01",                 # zero parent id
    f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01-extra",        # 00 is exact
    f"00-{CLIENT_TRACE}-{CLIENT_SPAN}",                 # short
    "garbage",
])
def test_a_malformed_traceparent_is_replaced(backend, gateway, bad):
    gw = gateway(conf(backend))
    # even where the endpoint forwards the client's trace headers
    for path in ("/v1/plain", "/v1/open"):
        r = requests.get(gw.url(path), headers={
            "traceparent": bad, "tracestate": "congo=t61rcWkgMzE"})
        got = received(r.json())
        trace, _, flags = parse(got["traceparent"])
        assert trace != CLIENT_TRACE and flags == "01"
        assert "tracestate" not in got     # it belonged to the bad one


@pytest.mark.parametrize("state", ["Upper=1", "a=1,a=2", "=x", "k=" + "v" * 300,
                                   ",".join(f"k{i}=v" for i in range(33))])
def test_a_malformed_tracestate_is_dropped(backend, gateway, state):
    gw = gateway(conf(backend))
    r = requests.get(gw.url("/v1/open"), headers={
        "traceparent": f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01",
        "tracestate": state})
    got = received(r.json())
    assert parse(got["traceparent"])[0] == CLIENT_TRACE
    assert "tracestate" not in got


def test_each_aggregated_call_has_its_own_span(backend, gateway):
    gw = gateway(conf(backend))
    r = requests.get(gw.url("/v1/both"), headers={
        "traceparent": f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01",
        "tracestate": "congo=t61rcWkgMzE"})
    assert r.status_code == 200
    doc = r.json()
    one, two = received(doc["one"]), received(doc["two"])
    t1, s1, f1 = parse(one["traceparent"])
    t2, s2, f2 = parse(two["traceparent"])
    assert t1 == t2 == CLIENT_TRACE and f1 == f2 == "01"
    assert len({s1, s2, CLIENT_SPAN}) == 3
    assert one["tracestate"] == two["tracestate"] == "congo=t61rcWkgMzE"
    logged = log_line(gw, "/v1/both")
    assert logged[0] == CLIENT_TRACE and logged[1] not in (s1, s2)


def test_an_aggregated_call_started_here(backend, gateway):
    gw = gateway(conf(backend))
    doc = requests.get(gw.url("/v1/both")).json()
    t1, s1, _ = parse(received(doc["one"])["traceparent"])
    t2, s2, _ = parse(received(doc["two"])["traceparent"])
    assert t1 == t2 and s1 != s2
    assert log_line(gw, "/v1/both")[0] == t1


def test_sample_ratio_zero(backend, gateway):
    gw = gateway(conf(backend, "ApiTraceSample 0"))
    for _ in range(5):
        got = received(requests.get(gw.url("/v1/plain")).json())
        assert parse(got["traceparent"])[2] == "00"
    assert log_line(gw, "/v1/plain")[2] == "0"
    # the caller's decision stands
    got = received(requests.get(gw.url("/v1/plain"), headers={
        "traceparent": f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"}).json())
    assert parse(got["traceparent"])[2] == "01"


def test_sample_ratio_half_samples_some(backend, gateway):
    gw = gateway(conf(backend, "ApiTraceSample 0.5"))
    flags = [parse(received(requests.get(gw.url("/v1/plain")).json())
                   ["traceparent"])[2] for _ in range(60)]
    # 60 draws at 1/2: all equal has a chance of 2 in 10^18
    assert set(flags) == {"00", "01"}


def test_trace_context_off(backend, gateway):
    gw = gateway(conf(backend, "ApiTraceContext Off"))
    got = received(requests.get(gw.url("/v1/plain"), headers={
        "traceparent": f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"}).json())
    assert "traceparent" not in got       # not allow-listed, not added
    tp = f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"
    got = received(requests.get(gw.url("/v1/open"), headers={
        "traceparent": tp}).json())
    assert got["traceparent"] == tp       # the client's, as allow-listed
    doc = requests.get(gw.url("/v1/both")).json()
    assert "traceparent" not in received(doc["one"])
    assert log_line(gw, "/v1/plain")[0] == "-"


def test_a_virtual_host_may_turn_it_off(backend, gateway):
    gw = gateway("Listen 127.0.0.1:@PORT@\n" + conf(backend) + f"""
Listen 127.0.0.1:@PORT2@
<VirtualHost 127.0.0.1:@PORT2@>
  ApiTraceContext Off
  <ApiEndpoint "/v2/plain">
    ApiBackend {backend.url}/plain
  </ApiEndpoint>
</VirtualHost>
""", extra_ports=1)
    assert "traceparent" in received(requests.get(gw.url("/v1/plain")).json())
    assert "traceparent" not in received(
        requests.get(gw.url2(2, "/v2/plain")).json())


@pytest.mark.parametrize("line,message", [
    ("ApiTraceSample 2", "a ratio from 0 to 1"),
    ("ApiTraceSample -0.1", "a ratio from 0 to 1"),
    ("ApiTraceSample abc", "a ratio from 0 to 1"),
    ("ApiTraceSample nan", "a ratio from 0 to 1"),
    ("ApiTraceContext maybe", "ApiTraceContext"),
    ("<Location /x>\nApiTraceSample 0.5\n</Location>", "not allowed"),
])
def test_config_errors(configtest, line, message):
    ok, out = configtest(line + "\n")
    assert not ok
    assert message in out, out

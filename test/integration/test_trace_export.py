# ApiTraceExport: sampled spans (the gateway's, one per backend call) sent
# as OTLP/HTTP JSON to a real HTTP receiver started by the test; batched
# off the request path, and dropped (never waited for) when the collector
# is down or failing.
import http.server
import json
import threading
import time

import pytest
import requests

from conftest import free_port

CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"


class Collector:
    """An OTLP/HTTP receiver: keeps every POSTed document."""

    def __init__(self, status=200, delay=0.0):
        self.docs = []
        self.paths = []
        self.status = status
        self.delay = delay
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                outer.paths.append((self.path,
                                    self.headers.get("Content-Type")))
                outer.docs.append(json.loads(body))
                time.sleep(outer.delay)
                self.send_response(outer.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def url(self):
        return "http://127.0.0.1:%d/v1/traces" % self.port

    def spans(self):
        out = []
        for d in self.docs:
            for rs in d["resourceSpans"]:
                for ss in rs["scopeSpans"]:
                    out.extend(ss["spans"])
        return out

    def wait_spans(self, n, timeout=10.0):
        deadline = time.monotonic() + timeout
        while len(self.spans()) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.spans()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def collector():
    c = Collector()
    yield c
    c.stop()


def conf(b, url, extra=""):
    return f"""
ApiTraceExport {url} service=orders-gw
{extra}
<ApiEndpoint "/v1/orders/{{id}}">
  ApiBackend {b.url}/orders/{{id}}
</ApiEndpoint>
<ApiEndpoint "/v1/both">
  ApiBackend {b.url}/one group=one
  ApiBackend {b.url}/two group=two
</ApiEndpoint>
<Location "/metrics">
  SetHandler apigw-metrics
</Location>
<ApiEndpoint "/v1/down">
  ApiBackend http://127.0.0.1:{free_port()}/nothing
</ApiEndpoint>
"""


def counter(gw, name):
    for line in requests.get(gw.url("/metrics")).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError("no " + name)


def wait_counter(gw, name, want, timeout=10.0):
    deadline = time.monotonic() + timeout
    while counter(gw, name) < want and time.monotonic() < deadline:
        time.sleep(0.1)
    return counter(gw, name)


def attrs(span):
    out = {}
    for a in span["attributes"]:
        v = a["value"]
        out[a["key"]] = v.get("stringValue", v.get("intValue"))
    return out


def test_a_request_becomes_two_spans(backend, gateway, collector):
    gw = gateway(conf(backend, collector.url()))
    r = requests.get(gw.url("/v1/orders/7"), headers={
        "traceparent": f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"})
    assert r.status_code == 200
    sent = r.json()["headers"]
    sent = {k.lower(): v for k, v in sent.items()}
    spans = collector.wait_spans(2)
    assert len(spans) == 2
    assert collector.paths[0] == ("/v1/traces", "application/json")
    doc = collector.docs[0]
    res = doc["resourceSpans"][0]["resource"]["attributes"]
    assert {"key": "service.name",
            "value": {"stringValue": "orders-gw"}} in res
    server = [s for s in spans if s["kind"] == 2][0]
    client = [s for s in spans if s["kind"] == 3][0]
    assert server["traceId"] == client["traceId"] == CLIENT_TRACE
    assert server["parentSpanId"] == CLIENT_SPAN
    assert client["parentSpanId"] == server["spanId"]
    # the backend got the client span's id as its parent
    assert sent["traceparent"] == f"00-{CLIENT_TRACE}-{client['spanId']}-01"
    assert server["name"] == "GET /v1/orders/{id}"
    a = attrs(server)
    assert a["http.route"] == "/v1/orders/{id}"
    assert a["http.request.method"] == "GET"
    assert a["http.response.status_code"] == "200"
    assert attrs(client)["apigw.backend"] == backend.url + "/orders/{id}"
    for s in (server, client):
        assert int(s["endTimeUnixNano"]) >= int(s["startTimeUnixNano"]) > 0
        assert s["status"]["code"] == 0
    assert int(client["startTimeUnixNano"]) >= int(server["startTimeUnixNano"])


def test_aggregated_calls_are_spans_of_their_own(backend, gateway, collector):
    gw = gateway(conf(backend, collector.url()))
    doc = requests.get(gw.url("/v1/both")).json()
    spans = collector.wait_spans(3)
    assert len(spans) == 3
    server = [s for s in spans if s["kind"] == 2][0]
    assert "parentSpanId" not in server           # started here
    calls = sorted((s for s in spans if s["kind"] == 3),
                   key=lambda s: s["name"])
    assert [c["name"] for c in calls] == [f"backend {backend.url}/one",
                                           f"backend {backend.url}/two"]
    for c, group in zip(calls, ("one", "two")):
        got = {k.lower(): v for k, v in doc[group]["headers"].items()}
        assert got["traceparent"].split("-")[2] == c["spanId"]
        assert c["parentSpanId"] == server["spanId"]
        assert c["traceId"] == server["traceId"]


@pytest.mark.allow_log("AH00957", "AH01114")
def test_a_failed_call_is_an_error_span(backend, gateway, collector):
    gw = gateway(conf(backend, collector.url()))
    assert requests.get(gw.url("/v1/down")).status_code == 502
    spans = collector.wait_spans(2)
    server = [s for s in spans if s["kind"] == 2][0]
    assert server["status"]["code"] == 2
    assert attrs(server)["http.response.status_code"] == "502"


def test_unsampled_traces_are_not_exported(backend, gateway, collector):
    gw = gateway(conf(backend, collector.url(), "ApiTraceSample 0"))
    for _ in range(5):
        assert requests.get(gw.url("/v1/orders/1")).status_code == 200
    # a sampled one from a client still is
    requests.get(gw.url("/v1/orders/2"), headers={
        "traceparent": f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"})
    spans = collector.wait_spans(2)
    time.sleep(1.5)                        # one more flush interval
    spans = collector.spans()
    assert len(spans) == 2
    assert {s["traceId"] for s in spans} == {CLIENT_TRACE}


@pytest.mark.children(2)
def test_many_requests_are_batched(backend, gateway, collector):
    gw = gateway(conf(backend, collector.url()))
    s = requests.Session()
    for i in range(200):
        assert s.get(gw.url("/v1/orders/%d" % i)).status_code == 200
    spans = collector.wait_spans(400)
    assert len(spans) == 400
    assert len(collector.docs) < 100       # batched, not one POST a request
    assert len({x["traceId"] for x in spans}) == 200
    # counted in the metrics, summed over the children
    assert wait_counter(gw, "apigw_trace_exported_requests_total", 200) == 200
    assert counter(gw, "apigw_trace_dropped_requests_total") == 0


@pytest.mark.allow_log("AGW00821")
def test_a_collector_down_costs_nothing(backend, gateway):
    port = free_port()
    gw = gateway(conf(backend, "http://127.0.0.1:%d/v1/traces" % port))
    t0 = time.monotonic()
    s = requests.Session()
    for i in range(100):
        assert s.get(gw.url("/v1/orders/%d" % i)).status_code == 200
    assert time.monotonic() - t0 < 10
    # the export failure is said, at most once a minute per child
    deadline = time.monotonic() + 5
    while "AGW00821" not in gw.error_log_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    log = gw.error_log_text()
    assert "AGW00821" in log and "dropped" in log
    assert log.count("AGW00821") <= 2      # one per child at most
    assert wait_counter(gw, "apigw_trace_dropped_requests_total", 100) == 100
    assert counter(gw, "apigw_trace_exported_requests_total") == 0


@pytest.mark.allow_log("AGW00821")
def test_a_failing_collector_is_counted_as_dropped(backend, gateway):
    c = Collector(status=503)
    try:
        gw = gateway(conf(backend, c.url()))
        assert requests.get(gw.url("/v1/orders/1")).status_code == 200
        c.wait_spans(2)
        deadline = time.monotonic() + 5
        while "AGW00821" not in gw.error_log_text() \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "the collector answered 503" in gw.error_log_text()
    finally:
        c.stop()


@pytest.mark.parametrize("line,message", [
    ("ApiTraceExport", "needs the collector's URL"),
    ("ApiTraceExport ftp://x/v1/traces", "an http:// or https:// URL"),
    ("ApiTraceExport /v1/traces", "an http:// or https:// URL"),
    ("ApiTraceExport http://127.0.0.1:4318/v1/traces queue=0", "queue="),
    ("ApiTraceExport http://127.0.0.1:4318/v1/traces colour=red",
     "unknown option"),
    ("<VirtualHost 127.0.0.1:@PORT@>\nApiTraceExport http://127.0.0.1:4318/"
     "\n</VirtualHost>", "cannot occur within"),
])
def test_config_errors(configtest, line, message):
    ok, out = configtest(line + "\n")
    assert not ok
    assert message in out, out


def test_default_service_name_and_the_drain_at_stop(backend, gateway,
                                                     collector):
    """Without service= the resource is "mod_apigw"; the spans of a
    request answered just before httpd stops are sent as the child exits
    (within its 2 s drain), not lost with the queue."""
    gw = gateway(conf(backend, collector.url()).replace(" service=orders-gw",
                                                        ""))
    assert requests.get(gw.url("/v1/orders/8")).status_code == 200
    time.sleep(0.2)             # its log_transaction, where spans are queued
    assert gw.stop() == []
    spans = collector.wait_spans(2, timeout=5)
    assert len(spans) == 2
    res = collector.docs[0]["resourceSpans"][0]["resource"]["attributes"]
    assert {"key": "service.name",
            "value": {"stringValue": "mod_apigw"}} in res

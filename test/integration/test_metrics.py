# The gateway's Prometheus metrics (SetHandler apigw-metrics,
# mod_apigw/apigw_metrics.c) on a real httpd: a known number of requests
# per endpoint, method and status class, then the exact counts, histogram
# counts and bytes in the scrape; `promtool check metrics` on the output;
# the OpenMetrics variant (checked by prometheus_client's strict parser);
# escaped label values; counts summed over several children and kept over
# a graceful restart; balancer members, breakers, rate limits, the
# response cache, aggregation and a runtime route; 405 for other methods.
import concurrent.futures
import json
import os
import re
import subprocess
import time

import pytest
import requests

from breaker_util import UNREACHABLE_LOGS, graceful_restart, is_refusal
from conftest import free_port
from sus_util import MEMBER_FAILURE_TAGS, members  # noqa: F401 (fixture)
from test_admin_api import (Admin, admin_conf, route,
                            store_dir)  # noqa: F401 (fixture)

PROM_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OM_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
# what Prometheus itself sends
PROM_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/"
               "openmetrics-text;version=0.0.1;q=0.75,text/plain;"
               "version=0.0.4;q=0.5,*/*;q=0.1")
CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")

METRICS = """
<Location "/metrics">
  SetHandler apigw-metrics
</Location>
"""

SHMCB = """<IfModule !socache_shmcb_module>
  LoadModule socache_shmcb_module /usr/lib/apache2/modules/mod_socache_shmcb.so
</IfModule>
"""

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)')


def unescape(v):
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n"
                  else m.group(1), v)


def parse(text):
    """{(name, ((label, value), ...)): float} of every sample line."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        labels = {}
        if m.group(2):
            pos = 0
            for lm in LABEL.finditer(m.group(2)):
                assert lm.start() == pos, line
                labels[lm.group(1)] = unescape(lm.group(2))
                pos = lm.end()
            assert pos == len(m.group(2)), line
        key = (m.group(1), tuple(sorted(labels.items())))
        assert key not in out, "duplicate series: %r" % line
        out[key] = float(m.group(3))
    return out


def val(s, name, **labels):
    """The sample's value, or None when the series is absent."""
    return s.get((name, tuple(sorted(labels.items()))))


def ep(endpoint, method="GET", route_id="", environment=""):
    return {"endpoint": endpoint, "method": method, "route_id": route_id,
            "environment": environment}


def scrape(gw, accept=None):
    headers = {"Accept": accept} if accept else {}
    r = requests.get(gw.url("/metrics"), headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    return r


def promtool(text):
    """promtool check metrics: the real parser (and linter) passes it."""
    p = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                       capture_output=True, timeout=60)
    assert p.returncode == 0, (p.stdout + p.stderr).decode()


def count(s, endpoint, method="GET", **more):
    return sum(val(s, "apigw_requests_total", code_class=c,
                   **ep(endpoint, method, **more)) or 0 for c in CLASSES)


def settled(gw, pred, timeout=5.0):
    """The parsed scrape once pred(it) holds (requests are counted at
    log_transaction, just after the client has its answer); the last
    scrape when it never does, for the caller's exact assertions."""
    deadline = time.monotonic() + timeout
    while True:
        s = parse(scrape(gw).text)
        if pred(s) or time.monotonic() > deadline:
            return s
        time.sleep(0.02)


def get(gw, path, **kw):
    kw.setdefault("timeout", 10)
    return requests.get(gw.url(path), **kw)


def endpoints_conf(b):
    return METRICS + f"""
<ApiEndpoint "/m/plain" GET>
  ApiBackend {b.url}/plain
</ApiEndpoint>
<ApiEndpoint "/m/users/{{id}}" GET POST>
  ApiBackend {b.url}/users/{{id}}
</ApiEndpoint>
<ApiEndpoint "/m/status/{{code}}">
  ApiBackend {b.url}/__status/{{code}}/x
</ApiEndpoint>
<ApiEndpoint "/m/agg">
  ApiBackend {b.url}/__reply/200/0/%7B%22a%22%3A1%7D
  ApiBackend {b.url}/__status/500/x
</ApiEndpoint>
"""


def test_counts_histograms_and_bytes_per_endpoint(backend, gateway):
    gw = gateway(endpoints_conf(backend))
    before = parse(scrape(gw).text)
    # configured endpoints are there from the start, at zero
    for c in CLASSES:
        assert val(before, "apigw_requests_total", code_class=c,
                   **ep("/m/plain")) == 0
    assert val(before, "apigw_requests_total", code_class="2xx",
               **ep("/m/users/{id}", "POST")) == 0
    assert val(before, "apigw_requests_in_flight", **ep("/m/plain")) == 0
    # a method the endpoint has no series for yet
    assert val(before, "apigw_requests_total", code_class="2xx",
               **ep("/m/users/{id}", "DELETE")) is None

    out_plain = 0
    for _ in range(3):
        r = get(gw, "/m/plain")
        assert r.status_code == 200
        out_plain += len(r.content)
    for i in range(2):
        assert get(gw, "/m/users/%d" % i).status_code == 200
    body = json.dumps({"name": "x" * 100}).encode()
    r = requests.post(gw.url("/m/users/9"), data=body, timeout=10,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 200
    for _ in range(2):
        assert get(gw, "/m/status/404").status_code == 404
    assert get(gw, "/m/status/503").status_code == 503
    assert get(gw, "/m/status/302", allow_redirects=False).status_code == 302
    r = get(gw, "/m/agg")
    assert r.status_code == 200 and r.json() == {"a": 1}, r.text
    # no endpoint: not counted anywhere
    assert get(gw, "/nowhere").status_code == 404

    s = settled(gw, lambda s: count(s, "/m/agg") == 1
                and count(s, "/m/status/{code}") == 4
                and count(s, "/m/plain") == 3)
    want = {("/m/plain", "GET"): {"2xx": 3},
            ("/m/users/{id}", "GET"): {"2xx": 2},
            ("/m/users/{id}", "POST"): {"2xx": 1},
            ("/m/status/{code}", "GET"): {"3xx": 1, "4xx": 2, "5xx": 1},
            ("/m/agg", "GET"): {"2xx": 1}}
    for (path, method), classes in want.items():
        labels = ep(path, method)
        for c in CLASSES:
            assert val(s, "apigw_requests_total", code_class=c, **labels) \
                == classes.get(c, 0), (path, method, c)
        n = sum(classes.values())
        assert val(s, "apigw_request_duration_seconds_count", **labels) == n
        assert val(s, "apigw_request_duration_seconds_bucket", le="+Inf",
                   **labels) == n
        # every one of these reached its backend
        assert val(s, "apigw_backend_duration_seconds_count", **labels) == n
        assert val(s, "apigw_requests_in_flight", **labels) == 0
        # fast local answers: the sums are small but not zero
        total = val(s, "apigw_request_duration_seconds_sum", **labels)
        backend_total = val(s, "apigw_backend_duration_seconds_sum", **labels)
        assert 0 < total < 5 * n and 0 <= backend_total <= total
    # buckets are cumulative
    buckets = [(k[1], v) for k, v in s.items()
               if k[0] == "apigw_request_duration_seconds_bucket"
               and dict(k[1])["endpoint"] == "/m/plain"]
    les = sorted((float(dict(l)["le"]), v) for l, v in buckets)
    assert [v for _, v in les] == sorted(v for _, v in les)
    assert len(les) == 12 and les[-1] == (float("inf"), 3)
    # bytes: the response bodies as the client got them, the request body
    assert val(s, "apigw_response_bytes_total", **ep("/m/plain")) == out_plain
    assert val(s, "apigw_request_bytes_total",
               **ep("/m/users/{id}", "POST")) == len(body)
    assert val(s, "apigw_request_bytes_total", **ep("/m/plain")) == 0
    # the aggregation: two backend calls, one failed: a partial answer
    assert val(s, "apigw_aggregate_backend_calls_total") == 2
    assert val(s, "apigw_aggregate_partial_responses_total") == 1
    assert not [k for k in s if dict(k[1]).get("endpoint") == "/nowhere"]
    promtool(scrape(gw).text)


def test_promtool_and_types(backend, gateway):
    gw = gateway(endpoints_conf(backend))
    get(gw, "/m/plain")
    r = scrape(gw)
    assert r.headers["Content-Type"] == PROM_TYPE
    text = r.text
    promtool(text)
    # every family has its HELP and TYPE, before its samples
    assert "# TYPE apigw_requests_total counter" in text
    assert "# TYPE apigw_request_duration_seconds histogram" in text
    assert "# TYPE apigw_backend_duration_seconds histogram" in text
    assert "# TYPE apigw_requests_in_flight gauge" in text
    for m in re.finditer(r"^# TYPE (\S+) ", text, re.M):
        assert "# HELP %s " % m.group(1) in text
    assert "# EOF" not in text
    # HEAD: the headers alone
    h = requests.head(gw.url("/metrics"), timeout=10)
    assert h.status_code == 200 and h.content == b""
    assert h.headers["Content-Type"] == PROM_TYPE


def test_openmetrics_when_asked(backend, gateway):
    from prometheus_client.openmetrics.parser import \
        text_string_to_metric_families
    gw = gateway(endpoints_conf(backend))
    for _ in range(2):
        get(gw, "/m/plain")
    settled(gw, lambda s: count(s, "/m/plain") == 2)
    r = scrape(gw, PROM_ACCEPT)
    assert r.headers["Content-Type"] == OM_TYPE
    assert r.headers["Vary"] == "Accept"
    text = r.text
    assert text.endswith("# EOF\n")
    assert "# TYPE apigw_requests counter" in text
    fams = {f.name: f for f in text_string_to_metric_families(text)}
    assert fams["apigw_requests"].type == "counter"
    assert fams["apigw_request_duration_seconds"].type == "histogram"
    got = [x for x in fams["apigw_requests"].samples
           if x.labels == dict(ep("/m/plain"), code_class="2xx")]
    assert len(got) == 1 and got[0].name == "apigw_requests_total" \
        and got[0].value == 2
    # text/plain, or nothing said: the 0.0.4 format
    assert scrape(gw, "text/plain").headers["Content-Type"] == PROM_TYPE
    assert scrape(gw, "application/openmetrics-text;q=0.2,text/plain") \
        .headers["Content-Type"] == PROM_TYPE


def test_label_values_escaped(backend, gateway):
    # a pattern with a double quote, a backslash and non-ASCII text
    gw = gateway(METRICS + r'''
<ApiEndpoint "/m/a\"b\\c">
  ApiBackend %s/x
</ApiEndpoint>
<ApiEndpoint "/m/café">
  ApiBackend %s/y
</ApiEndpoint>
''' % (backend.url, backend.url))
    text = scrape(gw).text
    assert 'endpoint="/m/a\\"b\\\\c"' in text, text
    promtool(text)
    s = parse(text)
    assert val(s, "apigw_requests_total", code_class="2xx",
               **ep('/m/a"b\\c')) == 0
    assert get(gw, "/m/caf%C3%A9").status_code == 200
    s = settled(gw, lambda s: count(s, "/m/café") == 1)
    assert val(s, "apigw_requests_total", code_class="2xx",
               **ep("/m/café")) == 1


def test_metrics_handler_methods(backend, gateway):
    gw = gateway(endpoints_conf(backend))
    for method in ("POST", "PUT", "DELETE"):
        r = requests.request(method, gw.url("/metrics"), timeout=10)
        assert r.status_code == 405, (method, r.status_code)
        assert "GET" in r.headers["Allow"]
    # nothing was counted for them
    s = parse(scrape(gw).text)
    assert not [k for k in s if dict(k[1]).get("endpoint") == "/metrics"]


# two children of few threads: a child whose threads are all busy stops
# accepting, so concurrent requests spread over both
CHILDREN = {"APIGW_SERVERS": "2", "APIGW_THREADS": "2"}


def children_conf(b):
    return 'CustomLog "@RUN@/pids.log" "%P %U"\n' + METRICS + f"""
<ApiEndpoint "/m/slow">
  ApiBackend {b.url}/__delay/150/x
</ApiEndpoint>
"""


def spread_requests(gw, n):
    def one(_):
        return requests.get(gw.url("/m/slow"), timeout=20,
                            headers={"Connection": "close"}).status_code
    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one, range(n)))


def serving_pids(gw):
    with open(os.path.join(gw.run_dir, "pids.log")) as f:
        return {l.split()[0] for l in f if l.split()[1:2] == ["/m/slow"]}


def test_counts_summed_over_children(backend, gateway):
    gw = gateway(children_conf(backend), env=CHILDREN)
    sent = 0
    for _ in range(5):
        codes = spread_requests(gw, 8)
        assert codes == [200] * 8
        sent += 8
        if len(serving_pids(gw)) >= 2:
            break
    assert len(serving_pids(gw)) >= 2, "one child served every request"
    # whichever child answers the scrape sees every child's requests
    for _ in range(4):
        r = requests.get(gw.url("/metrics"), timeout=10,
                         headers={"Connection": "close"})
        s = parse(r.text)
        if count(s, "/m/slow") != sent:
            s = settled(gw, lambda s: count(s, "/m/slow") == sent)
        assert count(s, "/m/slow") == sent
        assert val(s, "apigw_request_duration_seconds_count",
                   **ep("/m/slow")) == sent
        # each took at least the backend's 150 ms
        assert val(s, "apigw_request_duration_seconds_bucket", le="0.1",
                   **ep("/m/slow")) == 0
        assert val(s, "apigw_backend_duration_seconds_sum",
                   **ep("/m/slow")) >= 0.15 * sent


def test_in_flight_while_a_request_waits(backend, gateway):
    gw = gateway(METRICS + f"""
<ApiEndpoint "/m/wait">
  ApiBackend {backend.url}/__delay/3000/x
  ApiTimeout 10s
</ApiEndpoint>
""")
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        fut = [pool.submit(get, gw, "/m/wait") for _ in range(2)]
        s = settled(gw, lambda s: val(s, "apigw_requests_in_flight",
                                      **ep("/m/wait")) == 2, timeout=2.5)
        assert val(s, "apigw_requests_in_flight", **ep("/m/wait")) == 2
        assert [f.result().status_code for f in fut] == [200, 200]
    s = settled(gw, lambda s: count(s, "/m/wait") == 2)
    assert count(s, "/m/wait") == 2
    assert val(s, "apigw_requests_in_flight", **ep("/m/wait")) == 0


def test_counters_survive_graceful_restart(backend, gateway):
    gw = gateway(endpoints_conf(backend), env=CHILDREN)
    for _ in range(4):
        assert get(gw, "/m/plain").status_code == 200
    settled(gw, lambda s: count(s, "/m/plain") == 4)
    graceful_restart(gw)
    assert get(gw, "/m/plain").status_code == 200
    s = settled(gw, lambda s: count(s, "/m/plain") == 5)
    assert count(s, "/m/plain") == 5
    assert val(s, "apigw_request_duration_seconds_count",
               **ep("/m/plain")) == 5
    # another set of endpoint patterns: the counters start afresh
    with open(gw.conf_path) as f:
        conf = f.read()
    with open(gw.conf_path, "w") as f:
        f.write(conf.replace('"/m/agg"', '"/m/agg2"'))
    graceful_restart(gw)
    s = parse(scrape(gw).text)
    assert count(s, "/m/plain") == 0
    assert val(s, "apigw_requests_total", code_class="2xx",
               **ep("/m/agg2")) == 0


@pytest.mark.allow_log(*(MEMBER_FAILURE_TAGS + UNREACHABLE_LOGS))
def test_members_breakers_and_rate_limits(members, gateway):
    a, b = members("a"), members("b")
    dead = free_port()
    gw = gateway(METRICS + f"""
<Proxy balancer://pool>
  BalancerMember {a.url}
  BalancerMember {b.url}
  ProxySet lbmethod=byrequests
</Proxy>
ApiBalancerSuspend balancer://pool codes=connect-refused initial=60s factor=2 max=10m
<Location /p>
  ProxyPass balancer://pool
  ApiRateLimit average=1000 period=1s burst=1000 by=ip
</Location>
<Location /q>
  ProxyPass http://127.0.0.1:{dead}/
  ApiCircuitBreaker "NetworkErrorRatio() > 0.5" min-requests=3 check=50ms fallback=60s
</Location>
""")
    pool = "balancer://pool"
    s = parse(scrape(gw).text)
    for m in (a, b):
        assert val(s, "apigw_member_state", pool=pool, member=m.url,
                   state="active") == 1
        assert val(s, "apigw_member_state", pool=pool, member=m.url,
                   state="suspended") == 0
        assert val(s, "apigw_member_suspensions_total", pool=pool,
                   member=m.url) == 0
    a.kill()
    sent = 0
    for _ in range(20):
        r = requests.get(gw.url("/p/x"), headers={"Connection": "close"},
                         timeout=10)
        sent += 1
        assert r.status_code == 200
        if val(parse(scrape(gw).text), "apigw_member_state", pool=pool,
               member=a.url, state="suspended") == 1:
            break
    text = scrape(gw).text
    promtool(text)
    s = parse(text)
    assert val(s, "apigw_member_state", pool=pool, member=a.url,
               state="suspended") == 1
    assert val(s, "apigw_member_state", pool=pool, member=a.url,
               state="active") == 0
    assert val(s, "apigw_member_suspensions_total", pool=pool,
               member=a.url) == 1
    assert val(s, "apigw_member_suspended_reason", pool=pool, member=a.url,
               reason="connect-refused") == 1
    assert val(s, "apigw_member_state", pool=pool, member=b.url,
               state="active") == 1
    limit = [k for k in s if k[0] == "apigw_ratelimit_admitted_total"
             and dict(k[1])["section"] == "<Location /p>"]
    assert len(limit) == 1, s.keys()
    assert s[limit[0]] == sent
    assert val(s, "apigw_ratelimit_rejected_total", **dict(limit[0][1])) == 0
    assert val(s, "apigw_ratelimit_delayed_total", **dict(limit[0][1])) == 0

    breaker = [dict(k[1])["breaker"] for k in s
               if k[0] == "apigw_breaker_trips_total"]
    assert len(breaker) == 1 and re.match(r"^.+:\d+$", breaker[0]), breaker
    bid = breaker[0]
    assert val(s, "apigw_breaker_state", breaker=bid, state="closed") == 1
    # fewer than min-requests: the window fills, nothing trips
    for _ in range(2):
        assert requests.get(gw.url("/q/x"), timeout=10).status_code == 503
    # the breaker counts its window after the answer, as these metrics do
    s = settled(gw, lambda s: val(s, "apigw_breaker_window_requests",
                                  breaker=bid) == 2)
    assert val(s, "apigw_breaker_window_requests", breaker=bid) == 2
    assert val(s, "apigw_breaker_window_network_errors", breaker=bid) == 2
    assert val(s, "apigw_breaker_window_status_4xx", breaker=bid) == 0
    assert val(s, "apigw_breaker_state", breaker=bid, state="closed") == 1
    for _ in range(2):
        requests.get(gw.url("/q/x"), timeout=10)
    time.sleep(0.1)
    requests.get(gw.url("/q/x"), timeout=10)
    deadline = time.monotonic() + 5
    while val(parse(scrape(gw).text), "apigw_breaker_state", breaker=bid,
              state="open") != 1 and time.monotonic() < deadline:
        requests.get(gw.url("/q/x"), timeout=10)
        time.sleep(0.05)
    assert is_refusal(requests.get(gw.url("/q/x"), timeout=10))
    s = parse(scrape(gw).text)
    assert val(s, "apigw_breaker_state", breaker=bid, state="open") == 1
    assert val(s, "apigw_breaker_state", breaker=bid, state="closed") == 0
    assert val(s, "apigw_breaker_trips_total", breaker=bid) == 1


@pytest.mark.allow_log(*(MEMBER_FAILURE_TAGS + UNREACHABLE_LOGS))
def test_member_requests_and_errors_by_code(members, gateway):
    """Attempts and failures per member, by the suspension error-code
    names, in a pool with no suspension policy of ours: an endpoint's
    balancer backend whose one member answers 503, then a member that is
    gone (connect-refused, failed over by mod_proxy_balancer itself)."""
    a, b = members("a"), members("b")
    a.mode("status", 503)
    gw = gateway(METRICS + f"""
<Proxy balancer://plain>
  BalancerMember {a.url}
  BalancerMember {b.url}
  ProxySet lbmethod=byrequests
</Proxy>
<ApiEndpoint "/m/pool/{{x}}">
  ApiBackend balancer://plain/{{x}}
</ApiEndpoint>
""")
    pool = "balancer://plain"
    s = parse(scrape(gw).text)
    for m in (a, b):
        assert val(s, "apigw_member_requests_total", pool=pool,
                   member=m.url) == 0
    codes = [requests.get(gw.url("/m/pool/x"), timeout=10).status_code
             for _ in range(6)]
    assert sorted(codes) == [200] * 3 + [503] * 3, codes
    s = settled(gw, lambda s: val(s, "apigw_member_requests_total",
                                  pool=pool, member=b.url) == 3)
    assert val(s, "apigw_member_requests_total", pool=pool,
               member=a.url) == 3
    assert val(s, "apigw_member_errors_total", pool=pool, member=a.url,
               code="503") == 3
    assert val(s, "apigw_member_requests_total", pool=pool,
               member=b.url) == 3
    # only the codes a member had: b has no error series at all
    assert not [k for k in s if k[0] == "apigw_member_errors_total"
                and dict(k[1])["member"] == b.url], s
    b.kill()
    a.mode("ok")
    for _ in range(4):
        assert requests.get(gw.url("/m/pool/x"), timeout=10).status_code \
            == 200
    text = scrape(gw).text
    promtool(text)
    s = parse(text)
    assert val(s, "apigw_member_errors_total", pool=pool, member=b.url,
               code="connect-refused") == 1
    assert val(s, "apigw_member_requests_total", pool=pool,
               member=b.url) == 4
    assert val(s, "apigw_member_requests_total", pool=pool,
               member=a.url) == 7
    assert val(s, "apigw_member_errors_total", pool=pool, member=a.url,
               code="503") == 3


def test_response_cache_counters(backend, gateway):
    gw = gateway(SHMCB + METRICS + f"""
<ApiEndpoint "/m/c/*" GET>
  ApiBackend {backend.url}/{{*}}
  ApiCacheTTL 60s
  ApiCache On
</ApiEndpoint>
""")
    for path in ("/m/c/a", "/m/c/a", "/m/c/a", "/m/c/b"):
        assert get(gw, path).status_code == 200
    s = settled(gw, lambda s: count(s, "/m/c/*") == 4)
    assert val(s, "apigw_cache_misses_total") == 2
    assert val(s, "apigw_cache_stores_total") == 2
    assert val(s, "apigw_cache_hits_total") == 2
    assert count(s, "/m/c/*") == 4
    # hits never reach the backend
    assert val(s, "apigw_backend_duration_seconds_count",
               **ep("/m/c/*")) == 2
    assert val(s, "apigw_cache_evictions_total") == 0


def test_response_cache_evictions(backend, gateway):
    """A store too small for what is stored drops older entries before
    they expire: shmcb's own count of them, as the scrape reads it."""
    gw = gateway(SHMCB + METRICS + f"""
ApiCacheStore "shmcb:@RUN@/cache(65536)"
<ApiEndpoint "/m/e/{{n}}" GET>
  ApiBackend {backend.url}/__big/{{n}}
  ApiCacheTTL 60s
  ApiCache On
</ApiEndpoint>
""")
    assert val(parse(scrape(gw).text), "apigw_cache_evictions_total") == 0
    for n in range(3000, 3060):
        assert get(gw, "/m/e/%d" % n).status_code == 200
    text = scrape(gw).text
    promtool(text)
    s = parse(text)
    assert val(s, "apigw_cache_stores_total") == 60
    # 60 entries of 3 kB in 64 kB: most of them dropped to make room
    assert 20 <= val(s, "apigw_cache_evictions_total") < 60
    # the scrape's own answer carries none of the store's status text
    assert "CacheDiscardCount" not in text


def test_runtime_route_series(store_dir, gateway, backend):
    store = "sqlite3:" + os.path.join(store_dir, "routes.sqlite")
    gw = gateway(admin_conf(store, METRICS))
    admin = Admin(gw)
    doc = admin.register(route("/rt/m/{id}", backend.url + "/users/{id}"))
    deadline = time.monotonic() + 5
    while get(gw, "/rt/m/1").status_code != 200:
        assert time.monotonic() < deadline, "the route is not served"
        time.sleep(0.01)
    for i in range(2, 5):
        assert get(gw, "/rt/m/%d" % i).status_code == 200
    labels = ep("/rt/m/{id}", route_id=doc["id"], environment="default")
    s = settled(gw, lambda s: count(s, **labels) == 4)
    assert count(s, **labels) == 4
    assert val(s, "apigw_request_duration_seconds_count", **labels) == 4
    assert val(s, "apigw_metrics_route_slots", state="used") == 1
    # the environment as the answering child serves it
    s = settled(gw, lambda s: val(s, "apigw_runtime_routes",
                                  environment="default") == 1)
    assert val(s, "apigw_runtime_routes", environment="default") == 1
    assert val(s, "apigw_runtime_routes_generation",
               environment="default") >= 1
    assert abs(val(s, "apigw_runtime_routes_refresh_timestamp_seconds",
                   environment="default") - time.time()) < 60
    assert val(s, "apigw_runtime_routes_store_ok", environment="default") == 1
    assert val(s, "apigw_runtime_routes_from_snapshot",
               environment="default") == 0
    # a second route, deleted again: its series stays (counters never go
    # back), the environment's count follows the store
    other = admin.register(route("/rt/m2", backend.url + "/x"))
    deadline = time.monotonic() + 5
    while get(gw, "/rt/m2").status_code != 200:
        assert time.monotonic() < deadline, "the route is not served"
        time.sleep(0.01)
    assert admin.delete("/routes/" + other["id"]).status_code == 200
    s = settled(gw, lambda s: val(s, "apigw_runtime_routes",
                                  environment="default") == 1
                and count(s, "/rt/m2", route_id=other["id"],
                          environment="default") == 1)
    assert count(s, "/rt/m2", route_id=other["id"],
                 environment="default") == 1
    assert val(s, "apigw_metrics_route_slots", state="used") == 2
    promtool(scrape(gw).text)


def test_runtime_routes_past_the_pool_count_as_overflow(store_dir, gateway,
                                                        backend):
    """256 slots: two more routes count under the overflow series."""
    store = "sqlite3:" + os.path.join(store_dir, "routes.sqlite")
    gw = gateway(admin_conf(store, METRICS), env={"APIGW_SERVERS": "1"})
    admin = Admin(gw)
    n = 258
    ids = [admin.register(route("/ov/%d" % i, backend.url + "/x"))["id"]
           for i in range(n)]
    deadline = time.monotonic() + 10
    while get(gw, "/ov/%d" % (n - 1)).status_code != 200:
        assert time.monotonic() < deadline, "the routes are not served"
        time.sleep(0.01)
    with requests.Session() as session:
        for i in range(n):
            assert session.get(gw.url("/ov/%d" % i), timeout=10) \
                .status_code == 200
    overflow = ep("", route_id="(overflow)")
    # the last route took its slot first (the wait above): the two before
    # it found none
    s = settled(gw, lambda s: count(s, **overflow) == 2)
    assert count(s, **overflow) == 2
    assert val(s, "apigw_metrics_route_slots", state="used") == 256
    assert val(s, "apigw_metrics_route_slots", state="free") == 0
    assert count(s, "/ov/0", route_id=ids[0], environment="default") == 1
    assert count(s, "/ov/%d" % (n - 1), route_id=ids[-1],
                 environment="default") == 2
    for i in (n - 3, n - 2):
        assert count(s, "/ov/%d" % i, route_id=ids[i],
                     environment="default") == 0
    promtool(scrape(gw).text)


def test_same_pattern_in_two_hosts_is_one_series(backend, gateway):
    gw = gateway(f"""
Listen 127.0.0.1:@PORT@
Listen 127.0.0.1:@PORT2@
<ApiEndpoint "/m/shared">
  ApiBackend {backend.url}/one
</ApiEndpoint>
<VirtualHost 127.0.0.1:@PORT2@>
  <ApiEndpoint "/m/shared">
    ApiBackend {backend.url}/two
  </ApiEndpoint>
</VirtualHost>
""" + METRICS, extra_ports=1)
    assert get(gw, "/m/shared").status_code == 200
    for _ in range(2):
        assert requests.get(gw.url2(2, "/m/shared"), timeout=10) \
            .status_code == 200
    s = settled(gw, lambda s: count(s, "/m/shared") == 3)
    assert count(s, "/m/shared") == 3
    promtool(scrape(gw).text)


def test_metrics_off(backend, gateway):
    gw = gateway("ApiMetrics Off\n" + endpoints_conf(backend))
    assert get(gw, "/m/plain").status_code == 200
    r = requests.get(gw.url("/metrics"), timeout=10)
    assert r.status_code == 404
    assert "apigw_requests_total" not in r.text


def test_metrics_directive_errors(configtest):
    ok, out = configtest("""
<VirtualHost 127.0.0.1:@PORT@>
  ApiMetrics Off
</VirtualHost>
""")
    assert not ok, out
    line = configtest.line("ApiMetrics Off")
    assert "%s:%d" % (configtest.path, line) in out or \
        "line %d of %s" % (line, configtest.path) in out, out
    assert "ApiMetrics cannot occur within <VirtualHost> section" in out, out
    ok, out = configtest("ApiMetrics maybe\n")
    assert not ok and "ApiMetrics must be On or Off" in out, out
    ok, out = configtest("ApiMetrics On\n" + METRICS)
    assert ok, out

# mod_apigw_breaker, circuit breakers through their states with a real
# httpd and real backends: tripping within one check period once the
# expression holds (and not before the evaluation is due), answering the
# breaker's status as JSON without contacting the backend (the backend's
# own hit counter proves it), the linear admission ramp while recovering,
# re-tripping during recovery, back to standby, min-requests, network
# errors (refused, timed out, dropped), latency quantiles, each state
# change logged once with the values, the status page, and a backend
# killed (-9) in the middle of a response.
import signal
import threading
import time

import pytest
import requests

from breaker_util import (FAIL, OK, RECOVERING, RETRIPPED, STANDBY, TRIPPED,
                          BROKEN_LOGS, TIMEOUT_LOGS, UNREACHABLE_LOGS,
                          STATUS_LOCATION, breaker, get, is_refusal, log_lines,
                          proxied, state_of, status, trip, values_in,
                          wait_log, expect_refused, wait_state)
from conftest import free_port, line_of

RATIO_5XX = '"ResponseCodeRatio(500, 600, 0, 600) > 0.5"'


def test_trips_and_refuses_without_contacting_the_backend(gateway, backend):
    gw = gateway(proxied(backend, f"ApiCircuitBreaker {RATIO_5XX} "
                                  "min-requests=4 fallback=30s"))
    # the backend's own failures pass through until the breaker trips
    assert trip(gw, failures=4) == [500] * 4
    assert backend.stats()["requests"] == 4
    # the next request finds an evaluation due (check=100ms): refused
    time.sleep(0.15)
    r = get(gw, "/cb/" + OK)
    assert is_refusal(r), r.text
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["Cache-Control"] == "no-store"
    assert 25 <= int(r.headers["Retry-After"]) <= 30
    for _ in range(20):
        assert is_refusal(get(gw, "/cb/" + OK))
        assert is_refusal(requests.post(gw.url("/cb/post"), data=b"x" * 1000,
                                         timeout=10))
    # not one of those reached the backend
    assert backend.stats()["requests"] == 4
    lines = wait_log(gw, TRIPPED)
    assert len(lines) == 1, lines
    assert "[apigw_breaker:notice]" in lines[0]
    assert '<Location "/cb/">' in lines[0]
    assert "ResponseCodeRatio(500, 600, 0, 600)=1 over 4 requests" in lines[0]
    assert "answering 503 for 30s" in lines[0]
    s = state_of(gw, "/cb/")
    assert s["state"] == "tripped" and s["trips"] == 1
    assert s["admission"] == 0


@pytest.mark.serial         # wall-clock bounds: run alone
def test_trips_within_one_check_period(gateway, backend):
    """check=1s: the first request evaluates (too few requests yet), the
    next evaluation is due one period later; the breaker then trips at the
    first request at or after it, not before."""
    gw = gateway(proxied(backend, f"ApiCircuitBreaker {RATIO_5XX} "
                                  "check=1s min-requests=3 fallback=30s"))
    with requests.Session() as s:
        start = time.monotonic()
        assert trip(gw, failures=3, session=s) == [500] * 3
        held = time.monotonic()
        passed = 0
        while True:
            # the backend keeps failing: the condition keeps holding
            r = get(gw, "/cb/" + FAIL, s)
            if is_refusal(r):
                refused = time.monotonic()
                break
            assert r.status_code == 500
            passed += 1
            assert time.monotonic() - held < 3, "did not trip"
            time.sleep(0.02)
    # at most one evaluation per check: none between the first request
    # and one period later, so requests were still admitted...
    assert refused - start >= 0.95, refused - start
    assert passed >= 1
    # ...and tripped within one period of the condition holding
    assert refused - held <= 1.0 + 0.5, refused - held
    assert backend.stats()["requests"] == 3 + passed


def test_ramp_while_recovering_then_standby(gateway, backend):
    gw = gateway(proxied(backend, f"ApiCircuitBreaker {RATIO_5XX} "
                                  "min-requests=3 fallback=1s recovery=4s"))
    trip(gw, failures=3)
    expect_refused(gw, "/cb/" + OK)
    time.sleep(1.1)
    # the status page moves the state on as a request would
    s = wait_state(gw, "/cb/", "recovering")
    begun = time.monotonic() - s["for_ms"] / 1000.0
    seen = [[0, 0] for _ in range(4)]        # [admitted, refused] a second
    after = []
    with requests.Session() as sess:
        while time.monotonic() - begun < 5.5:
            r = get(gw, "/cb/" + OK, sess)
            t = time.monotonic() - begun
            if is_refusal(r):
                code = "refused"
            else:
                assert r.status_code == 200, r.text
                code = "admitted"
            if t < 3.9:
                seen[int(t)][code == "refused"] += 1
            elif t > 4.4:
                after.append(code)
    share = [a / float(a + b) for a, b in seen]
    assert all(a + b >= 10 for a, b in seen), seen
    # linear ramp: about 1/8, 3/8, 5/8, 7/8 of the requests
    assert share[0] < 0.35, share
    assert share[3] > 0.6, share
    assert share[0] < share[1] < share[3] and share[0] < share[2] < share[3], \
        share
    # back to standby: everything admitted
    assert after and set(after) == {"admitted"}, after
    assert state_of(gw, "/cb/")["state"] == "standby"
    for tag in (TRIPPED, RECOVERING, STANDBY):
        assert len(log_lines(gw, tag)) == 1, (tag, gw.error_log_text())
    standby = log_lines(gw, STANDBY)[0]
    assert "back to standby" in standby
    assert values_in(standby)["ResponseCodeRatio(500, 600, 0, 600)"] == 0
    assert "over 4s" in log_lines(gw, RECOVERING)[0]


def test_trips_again_while_recovering(gateway, backend):
    gw = gateway(proxied(backend, f"ApiCircuitBreaker {RATIO_5XX} "
                                  "min-requests=3 fallback=1s recovery=5s"))
    trip(gw, failures=3)
    expect_refused(gw, "/cb/" + OK)
    time.sleep(1.1)
    wait_state(gw, "/cb/", "recovering")
    # the few failing requests admitted early in the recovery trip it again
    deadline = time.monotonic() + 8
    admitted = 0
    while not log_lines(gw, RETRIPPED) and time.monotonic() < deadline:
        if not is_refusal(get(gw, "/cb/" + FAIL)):
            admitted += 1
    lines = wait_log(gw, RETRIPPED)
    assert len(lines) == 1, gw.error_log_text()
    assert "tripped again while recovering" in lines[0]
    assert admitted >= 3
    s = state_of(gw, "/cb/")
    assert s["state"] == "tripped" and s["trips"] == 2
    assert is_refusal(get(gw, "/cb/" + OK))


def test_min_requests(gateway, backend):
    gw = gateway(proxied(backend, f"ApiCircuitBreaker {RATIO_5XX} "
                                  "min-requests=5 fallback=30s"))
    # 2 failures out of 2, then 4 out of 4: too few to judge
    assert trip(gw, failures=2) == [500, 500]
    time.sleep(0.3)
    assert get(gw, "/cb/" + FAIL).status_code == 500
    assert get(gw, "/cb/" + FAIL).status_code == 500
    time.sleep(0.3)
    s = state_of(gw, "/cb/")
    assert s["state"] == "standby"
    assert s["window"]["requests"] == 4 and s["window"]["5xx"] == 4
    assert s["condition"] is False
    # the fifth makes the window large enough: tripped
    assert get(gw, "/cb/" + FAIL).status_code == 500
    expect_refused(gw, "/cb/" + OK)
    assert backend.stats()["requests"] == 5
    assert "over 5 requests" in wait_log(gw, TRIPPED)[0]


def test_default_min_requests_is_ten(gateway, backend):
    gw = gateway(proxied(backend, f"ApiCircuitBreaker {RATIO_5XX}"))
    assert trip(gw, failures=9) == [500] * 9
    time.sleep(0.3)
    assert state_of(gw, "/cb/")["state"] == "standby"
    assert get(gw, "/cb/" + OK).status_code == 200     # 9/10 is 90%
    wait_state(gw, "/cb/", "tripped", timeout=2)
    assert breaker(gw, "/cb/")["min_requests"] == 10


@pytest.mark.allow_log(*UNREACHABLE_LOGS)
def test_refused_connections_are_network_errors(gateway):
    dead = free_port()
    gw = gateway(f"""
ProxyPass "/pp/" "http://127.0.0.1:{dead}/"
<Location "/pp/">
  ApiCircuitBreaker "NetworkErrorRatio() > 0.5" min-requests=3
</Location>
<ApiEndpoint "/v1/down" GET>
  ApiBackend http://127.0.0.1:{dead}/down
  ApiCircuitBreaker "NetworkErrorRatio() > 0.5" min-requests=3
</ApiEndpoint>
""" + STATUS_LOCATION)
    # mod_proxy answers 503 for a plain ProxyPass, mod_apigw 502 JSON
    assert [get(gw, "/pp/x").status_code for _ in range(3)] == [503] * 3
    assert [get(gw, "/v1/down").status_code for _ in range(3)] == [502] * 3
    expect_refused(gw, "/pp/x")
    expect_refused(gw, "/v1/down")
    lines = wait_log(gw, TRIPPED, 2)
    assert len(lines) == 2, lines
    for line in lines:
        assert values_in(line)["NetworkErrorRatio()"] == 1
    s = state_of(gw, "/v1/down")
    assert s["state"] == "tripped"


@pytest.mark.allow_log(*TIMEOUT_LOGS, *BROKEN_LOGS)
def test_timeouts_and_dropped_connections_are_network_errors(gateway,
                                                             backend):
    gw = gateway(f"""
<ApiEndpoint "/v1/x/*" GET>
  ApiBackend {backend.url}/{{*}}
  ApiTimeout 300ms
  ApiCircuitBreaker "NetworkErrorRatio() >= 0.5" min-requests=4 fallback=30s
</ApiEndpoint>
""" + STATUS_LOCATION)
    assert get(gw, "/v1/x/__delay/1500/a").status_code == 504
    assert get(gw, "/v1/x/__drop/b").status_code == 502
    assert get(gw, "/v1/x/ok").status_code == 200
    assert get(gw, "/v1/x/ok").status_code == 200
    # 2 network errors of 4: the next evaluation trips it
    expect_refused(gw, "/v1/x/ok")
    line = wait_log(gw, TRIPPED)[0]
    assert "NetworkErrorRatio()=0.5 over 4 requests" in line, line


def test_backend_5xx_is_not_a_network_error(gateway, backend):
    gw = gateway(proxied(backend, 'ApiCircuitBreaker "NetworkErrorRatio() > 0" '
                                  "min-requests=1"))
    assert get(gw, "/cb/__status/503/x").status_code == 503
    assert get(gw, "/cb/__status/500/x").status_code == 500
    time.sleep(0.2)
    s = state_of(gw, "/cb/")
    assert s["state"] == "standby"
    assert s["window"]["5xx"] == 2 and s["window"]["network_errors"] == 0
    # but a 502 or 504 the backend sends is counted as one (Traefik's rule)
    assert get(gw, "/cb/__status/502/x").status_code == 502
    expect_refused(gw, "/cb/" + OK)


def test_latency_quantile(gateway, backend):
    gw = gateway(proxied(backend, 'ApiCircuitBreaker '
                                  '"LatencyAtQuantileMS(50.0) > 150" '
                                  "min-requests=3 fallback=30s"))
    for _ in range(3):
        assert get(gw, "/cb/ok").status_code == 200
    time.sleep(0.2)
    s = state_of(gw, "/cb/")
    assert s["state"] == "standby"
    assert s["values"]["LatencyAtQuantileMS(50.0)"] < 150
    for _ in range(4):
        assert get(gw, "/cb/__delay/300/x").status_code == 200
    expect_refused(gw, "/cb/" + OK)
    line = wait_log(gw, TRIPPED)[0]
    assert 150 < values_in(line)["LatencyAtQuantileMS(50.0)"] < 2000, line


def test_off_and_inheritance(gateway, backend):
    gw = gateway(f"""
ProxyPass "/cb/inner/" "{backend.url}/"
ProxyPass "/cb/off/" "{backend.url}/"
ProxyPass "/cb/own/" "{backend.url}/"
ProxyPass "/cb/" "{backend.url}/"
<Location "/cb/">
  ApiCircuitBreaker {RATIO_5XX} min-requests=3 fallback=30s
</Location>
<Location "/cb/inner/">
  Header set X-Inner yes
</Location>
<Location "/cb/off/">
  ApiCircuitBreaker off
</Location>
<Location "/cb/own/">
  ApiCircuitBreaker {RATIO_5XX} min-requests=3 fallback=30s
</Location>
""" + STATUS_LOCATION)
    trip(gw, "/cb/inner/", failures=3)
    # /cb/inner/ used the breaker of /cb/: one state for both
    expect_refused(gw, "/cb/x")
    r = get(gw, "/cb/inner/x")
    assert is_refusal(r)
    # off: no breaker; a section's own breaker is its own
    assert get(gw, "/cb/off/x").status_code == 200
    assert get(gw, "/cb/own/x").status_code == 200
    names = [b["section"] for b in status(gw)["breakers"]]
    assert names == ['<Location "/cb/">', '<Location "/cb/own/">']
    assert state_of(gw, '"/cb/own/"')["state"] == "standby"


def test_endpoints_presets_and_plain_locations(gateway, backend):
    gw = gateway(f"""
<ApiEndpoint "/v1/a/*" GET>
  ApiBackend {backend.url}/{{*}}
  ApiCircuitBreaker 5xx min-requests=2 fallback=30s
</ApiEndpoint>
<ApiEndpoint "/v1/b/*" GET>
  ApiBackend {backend.url}/{{*}}
  ApiCircuitBreaker errors-50 min-requests=2 fallback=30s
</ApiEndpoint>
""" + STATUS_LOCATION)
    assert get(gw, "/v1/a/" + FAIL).status_code == 500
    assert get(gw, "/v1/a/" + FAIL).status_code == 500
    expect_refused(gw, "/v1/a/ok")
    # the other endpoint has a breaker of its own
    assert get(gw, "/v1/b/ok").status_code == 200
    a = breaker(gw, "/v1/a/")
    assert a["preset"] == "5xx"
    assert a["expression"] == "ResponseCodeRatio(500, 600, 0, 600) > 0.25"
    b = breaker(gw, "/v1/b/")
    assert b["preset"] == "errors-50"
    assert b["states"][0]["state"] == "standby"


def test_proxy_section(gateway, backend):
    gw = gateway(f"""
ProxyPass "/p/" "{backend.url}/"
<Proxy "{backend.url}/*">
  ApiCircuitBreaker {RATIO_5XX} min-requests=2 fallback=30s
</Proxy>
""" + STATUS_LOCATION)
    assert trip(gw, "/p/", failures=2) == [500, 500]
    expect_refused(gw, "/p/ok")
    assert backend.stats()["requests"] == 2
    assert breaker(gw, "<Proxy")["states"][0]["state"] == "tripped"


def test_scope_backend(gateway, backend_factory):
    a, b = backend_factory("a"), backend_factory("b")
    gw = gateway(f"""
RewriteEngine On
RewriteRule "^/sb/a/(.*)$" "{a.url}/$1" [P]
RewriteRule "^/sb/b/(.*)$" "{b.url}/$1" [P]
<Location "/sb/">
  ApiCircuitBreaker {RATIO_5XX} min-requests=2 fallback=30s scope=backend
</Location>
""" + STATUS_LOCATION)
    assert get(gw, "/sb/a/" + FAIL).status_code == 500
    assert get(gw, "/sb/a/" + FAIL).status_code == 500
    assert get(gw, "/sb/b/ok").json()["backend"] == "b"
    expect_refused(gw, "/sb/a/ok")
    # the other backend of the same section is still served
    for _ in range(5):
        assert get(gw, "/sb/b/ok").status_code == 200
    assert a.stats()["requests"] == 2
    entry = breaker(gw, "/sb/")
    assert entry["scope"] == "backend"
    states = {s["backend"]: s["state"] for s in entry["states"]}
    assert states == {a.url: "tripped", b.url: "standby"}
    line = wait_log(gw, TRIPPED)[0]
    assert "for backend " + a.url in line


def test_status_page(gateway, backend):
    gw = gateway(f"""
<ApiEndpoint "/v1/s" GET>
  ApiBackend {backend.url}/s
  ApiCircuitBreaker "NetworkErrorRatio() > 0.5 || LatencyAtQuantileMS(99) > 2000" check=250ms fallback=5s recovery=3s status=502 min-requests=7
</ApiEndpoint>
""" + STATUS_LOCATION)
    for _ in range(3):
        assert get(gw, "/v1/s").status_code == 200
    # an outcome is counted at log_transaction, after the client has its
    # answer: the status page may be served before the last one is in
    deadline = time.monotonic() + 5
    while True:
        doc = status(gw)
        window = doc["breakers"][0]["states"][0]["window"]
        if window["requests"] >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert set(doc) == {"time", "slots", "breakers"}
    assert doc["slots"] >= 1
    (b,) = doc["breakers"]
    assert b["section"] == '<ApiEndpoint "/v1/s" GET>'
    assert b["line"] == line_of(gw.text, "ApiCircuitBreaker")
    assert b["file"].endswith("gateway.conf")
    assert b["expression"] == ("NetworkErrorRatio() > 0.5 || "
                               "LatencyAtQuantileMS(99.0) > 2000")
    assert b["preset"] is None and b["scope"] == "endpoint"
    assert (b["check_ms"], b["fallback_ms"], b["recovery_ms"]) == (250, 5000,
                                                                   3000)
    assert (b["status"], b["min_requests"]) == (502, 7)
    assert b["fallback_backend"] is None
    (s,) = b["states"]
    assert s["backend"] is None and s["state"] == "standby"
    assert s["admission"] == 1 and s["trips"] == 0
    assert s["window"] == {"requests": 3, "network_errors": 0, "1xx": 0,
                           "2xx": 3, "3xx": 0, "4xx": 0, "5xx": 0}
    assert set(s["values"]) == {"NetworkErrorRatio()",
                                "LatencyAtQuantileMS(99.0)"}
    assert 0 < s["values"]["LatencyAtQuantileMS(99.0)"] < 2000
    assert s["condition"] is False
    r = requests.post(gw.url("/breakers"), timeout=10)
    assert r.status_code == 405


def test_custom_status(gateway, backend):
    gw = gateway(proxied(backend, f"ApiCircuitBreaker {RATIO_5XX} "
                                  "min-requests=1 status=429 fallback=30s"))
    assert get(gw, "/cb/" + FAIL).status_code == 500
    expect_refused(gw, "/cb/" + OK, 429)


@pytest.mark.allow_log(*BROKEN_LOGS, *UNREACHABLE_LOGS)
def test_backend_killed_mid_response(gateway, backend):
    """kill -9 of the backend while it streams a body: the client's
    response is cut, no child crashes (the harness checks the log), the
    refused connections that follow trip the breaker."""
    gw = gateway(proxied(backend, 'ApiCircuitBreaker "NetworkErrorRatio() > '
                                  '0.5" min-requests=3 fallback=30s'))
    result = {}

    def slow():
        try:
            r = requests.get(gw.url("/cb/__stall/3000/x"), timeout=20)
            result["len"] = len(r.content)
        except requests.exceptions.RequestException as e:
            result["error"] = repr(e)

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.8)
    backend.proc.send_signal(signal.SIGKILL)
    backend.proc.wait()
    t.join(20)
    assert not t.is_alive()
    assert "error" in result or result["len"] < 2000, result
    codes = [get(gw, "/cb/x").status_code for _ in range(3)]
    assert codes == [503] * 3, codes            # mod_proxy: refused
    r = expect_refused(gw, "/cb/x")
    assert r.headers["Content-Type"] == "application/json"
    assert values_in(wait_log(gw, TRIPPED)[0])["NetworkErrorRatio()"] >= 0.75

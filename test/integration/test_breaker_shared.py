# mod_apigw_breaker, state shared by every child process (worker MPM, two
# children): slow requests counted by both children trip one breaker whose
# window neither child alone would have filled, both children then refuse
# without contacting the backend, the change is logged once; a graceful
# restart keeps the state, also after edits elsewhere in the file that
# move the breaker's line.
import concurrent.futures
import time

import pytest
import requests

from breaker_util import (TRIPPED, STATUS_LOCATION, graceful_restart,
                          is_refusal, log_lines, state_of, wait_log)

# two children of few threads: a child whose threads are all busy stops
# accepting, so slow requests spread over both
CHILDREN = {"APIGW_SERVERS": "2", "APIGW_THREADS": "4"}
N = 16
SLOW = "__delay/300/x"          # 200, but slow: "failing" for the latency


def conf(backend):
    return f"""
CustomLog "@RUN@/pids.log" "%P %{{X-Round}}i %>s"
ProxyPass "/cb/" "{backend.url}/"
<Location "/cb/">
  ApiCircuitBreaker "LatencyAtQuantileMS(50.0) > 150" min-requests={N} fallback=60s
</Location>
""" + STATUS_LOCATION


def one(gw, path, tag):
    # a connection of its own, so the two children share the requests
    with requests.Session() as s:
        r = s.get(gw.url(path), timeout=20,
                  headers={"Connection": "close", "X-Round": tag})
        return r.status_code, is_refusal(r)


def served_by(gw, tag, count, timeout=5.0):
    """pid -> number of requests tagged tag, once count are logged."""
    deadline = time.monotonic() + timeout
    while True:
        with open(gw.run_dir + "/pids.log") as f:
            pids = [l.split()[0] for l in f if l.split()[1:2] == [tag]]
        if len(pids) >= count or time.monotonic() > deadline:
            return {p: pids.count(p) for p in set(pids)}
        time.sleep(0.05)


# 16 and then 30 requests at once on 2 x 4 threads, on purpose: when the
# MPM's once-a-second check finds every thread busy it says so (AH00286)
@pytest.mark.allow_log("AH00286")
def test_breaker_state_is_shared_by_the_children(gateway_factory,
                                                 backend_factory):
    """N slow requests spread over both children: a per-child window would
    hold fewer than min-requests=N and never trip. Rounds repeat, each with
    a fresh gateway, until the requests were really spread."""
    for attempt in range(6):
        backend = backend_factory("b%d" % attempt)
        gw = gateway_factory(conf(backend), env=CHILDREN)
        tag = "fail-%d" % attempt
        with concurrent.futures.ThreadPoolExecutor(max_workers=N) as pool:
            codes = list(pool.map(lambda _: one(gw, "/cb/" + SLOW, tag)[0],
                                  range(N)))
        assert codes == [200] * N, codes
        spread = served_by(gw, tag, N)
        if len(spread) >= 2:
            break
        gw.stop()
    assert len(spread) >= 2, "one child served every failure in every round"
    time.sleep(0.15)
    hits = backend.stats()["requests"]
    assert hits == N
    # the first request after the evaluation is due trips it, in whichever
    # child; then both children refuse
    r = requests.get(gw.url("/cb/ok"), timeout=10)
    assert is_refusal(r), r.text
    for rnd in range(6):
        tag = "refused-%d" % rnd
        with concurrent.futures.ThreadPoolExecutor(max_workers=30) as pool:
            results = list(pool.map(lambda _: one(gw, "/cb/ok", tag),
                                    range(30)))
        assert all(refused for _, refused in results), results
        refusers = served_by(gw, tag, 30)
        if len(refusers) >= 2:
            break
    assert len(refusers) >= 2, "one child answered every request"
    assert backend.stats()["requests"] == hits
    lines = wait_log(gw, TRIPPED)
    time.sleep(0.3)
    assert len(log_lines(gw, TRIPPED)) == 1, lines
    assert "over %d requests" % N in lines[0]
    assert state_of(gw, "/cb/")["trips"] == 1


def test_state_survives_graceful_restart(gateway, backend):
    gw = gateway(conf(backend), env=CHILDREN)
    with concurrent.futures.ThreadPoolExecutor(max_workers=N) as pool:
        codes = list(pool.map(lambda _: one(gw, "/cb/" + SLOW, "s")[0],
                              range(N)))
    assert codes == [200] * N
    time.sleep(0.15)
    assert is_refusal(requests.get(gw.url("/cb/ok"), timeout=10))
    before = state_of(gw, "/cb/")
    assert before["state"] == "tripped"
    graceful_restart(gw)
    assert is_refusal(requests.get(gw.url("/cb/ok"), timeout=10))
    after = state_of(gw, "/cb/")
    assert after["state"] == "tripped"
    assert after["since"] == before["since"] and after["trips"] == 1
    # lines added above it move the breaker; it is still the same breaker
    with open(gw.conf_path) as f:
        text = f.read()
    with open(gw.conf_path, "w") as f:
        f.write(text.replace("ProxyPass", "# an edit\n<Location \"/other/\">\n"
                             "  Header set X-O 1\n</Location>\nProxyPass", 1))
    graceful_restart(gw)
    assert is_refusal(requests.get(gw.url("/cb/ok"), timeout=10))
    moved = state_of(gw, "/cb/")
    assert moved["state"] == "tripped" and moved["since"] == before["since"]
    assert backend.stats()["requests"] == N
    assert len(log_lines(gw, TRIPPED)) == 1

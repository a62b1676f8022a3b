# Helpers of the circuit-breaker integration tests (test_breaker_*.py):
# configurations, the status page, waiting for a state, reading the
# breaker's log lines and telling the breaker's own refusals from the
# backend's answers.
import json
import os
import re
import signal
import time

import requests

STATUS_PATH = "/breakers"
STATUS_LOCATION = f"""
<Location "{STATUS_PATH}">
  SetHandler apigw-breaker-status
</Location>
"""

TRIPPED = "AGW02010"
RETRIPPED = "AGW02011"
RECOVERING = "AGW02012"
STANDBY = "AGW02013"

# mod_proxy's lines for a backend that refuses connections, times out or
# drops them: expected in tests that make backends fail on purpose
UNREACHABLE_LOGS = ("AH00957", "AH00959", "AH01114")
BROKEN_LOGS = ("AH01102", "AH00898", "AH01110")
TIMEOUT_LOGS = ("AH01102", "AH00898", "AH01110", "AH01095")

# the failing and healthy paths of backend.py
FAIL = "__status/500/x"
OK = "ok"


def proxied(backend, breaker, path="/cb/", extra=""):
    """A ProxyPass location with a breaker, and the status page."""
    return f"""
ProxyPass "{path}" "{backend.url}/"
<Location "{path}">
  {breaker}
  {extra}
</Location>
""" + STATUS_LOCATION


def get(gw, path, session=None, **kw):
    kw.setdefault("timeout", 15)
    return (session or requests).get(gw.url(path), **kw)


def is_refusal(r, status=503):
    """The breaker's own answer (not the backend's, not mod_proxy's)."""
    if r.status_code != status:
        return False
    try:
        doc = r.json()
    except ValueError:
        return False
    return doc == {"status": status, "error": "circuit breaker open"}


def status(gw):
    r = requests.get(gw.url(STATUS_PATH), timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    return r.json()


def breaker(gw, section_part):
    """The status entry of the breaker whose section holds section_part."""
    found = [b for b in status(gw)["breakers"] if section_part in b["section"]]
    assert len(found) == 1, found
    return found[0]


def state_of(gw, section_part, backend=None):
    b = breaker(gw, section_part)
    for s in b["states"]:
        if s["backend"] == backend:
            return s
    raise AssertionError("no state for backend %r in %r" % (backend, b))


def wait_state(gw, section_part, want, timeout=10.0, backend=None):
    deadline = time.monotonic() + timeout
    while True:
        s = state_of(gw, section_part, backend)
        if s["state"] == want or time.monotonic() > deadline:
            assert s["state"] == want, json.dumps(s)
            return s
        time.sleep(0.05)


def log_lines(gw, tag):
    return [l for l in gw.error_log_text().splitlines() if tag in l]


def wait_log(gw, tag, count=1, timeout=5.0):
    deadline = time.monotonic() + timeout
    while len(log_lines(gw, tag)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return log_lines(gw, tag)


def trip(gw, path_prefix="/cb/", failures=3, session=None):
    """Sends failures failing requests; returns their status codes."""
    return [get(gw, path_prefix + FAIL, session).status_code
            for _ in range(failures)]


def expect_refused(gw, path, status=503):
    """Once an evaluation is due (check=100ms, the default, has passed),
    the next request evaluates the condition before it is admitted: it is
    refused if the breaker trips. Returns the refusal."""
    time.sleep(0.15)
    r = get(gw, path)
    assert is_refusal(r, status), "not refused: %d %s" % (r.status_code,
                                                           r.text)
    return r


def graceful_restart(gw):
    before = gw.error_log_text().count("resuming normal operations")
    os.kill(gw.proc.pid, signal.SIGUSR1)
    deadline = time.monotonic() + 20
    while (gw.error_log_text().count("resuming normal operations") == before
           and time.monotonic() < deadline):
        time.sleep(0.05)
    assert gw.error_log_text().count("resuming normal operations") > before
    time.sleep(0.3)


def values_in(line):
    """{"NetworkErrorRatio()": 0.8, ...} from a state-change log line."""
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r"(\w+\([^)]*\))=([0-9.]+)", line)}

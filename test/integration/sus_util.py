# Helpers of the member-suspension and failover tests: balancer members
# the tests switch, stop, kill and restart (test/backends/member.py), a
# load generator of idempotent GETs, and a balancer-manager client.
import http.client
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.parse

import pytest
import requests

import forked_backends
from conftest import port_open

# mod_proxy's own lines when members fail: connect refused (AH00957,
# AH00959, AH01114), status line not read (AH01102, AH00898), response
# broken (AH01110, AH01102), member disabled (AH00940), no member left
# (AH01170), and ours: a member suspended (AGW02505) or in the timeout
# state (AGW02506).
MEMBER_FAILURE_TAGS = ("AH00957", "AH00959", "AH01114", "AH01102", "AH00898",
                       "AH01110", "AH00940", "AH01170", "AH01084", "AH01097",
                       "AGW02505", "AGW02506")


class Member:
    """One member.py process; restart() brings it back on the same port."""

    def __init__(self, workdir, name, mode="ok", port=0):
        self.name = name
        self.workdir = workdir
        self.port = port
        self.proc = None
        self.start(mode)

    def start(self, mode="ok"):
        log = os.path.join(self.workdir, "member-%s.log" % self.name)
        deadline = time.monotonic() + 10
        while True:
            self.proc = forked_backends.spawn(
                "member.py", ["--port", str(self.port), "--name", self.name,
                              "--mode", mode], log)
            line = self.proc.readline(10)
            m = re.match(rb"PORT (\d+)", line)
            if m:
                self.port = int(m.group(1))
                self.url = "http://127.0.0.1:%d" % self.port
                return self
            self.proc.wait()
            if time.monotonic() > deadline:
                raise RuntimeError("member %s did not start: %r" % (self.name, line))
            time.sleep(0.1)          # the old process's port not free yet

    def _ctl(self, path):
        r = requests.get(self.url + "/__ctl/" + path, timeout=5,
                         headers={"Connection": "close"})
        r.raise_for_status()
        return r.json()

    def mode(self, *mode):
        return self._ctl("mode/" + "/".join(str(m) for m in mode))

    def hits(self):
        """[(unix time, method, path), ...] of the requests it got."""
        return [tuple(h) for h in self._ctl("hits")["hits"]]

    def reset(self):
        self._ctl("reset")

    def kill(self, sig=signal.SIGKILL):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.kill(signal.SIGTERM)


@pytest.fixture
def members(tmp_path):
    """members(name, mode="ok") -> Member; all stopped after the test."""
    made = []

    def make(name, mode="ok"):
        m = Member(str(tmp_path), name, mode)
        made.append(m)
        return m

    yield make
    for m in made:
        m.stop()
    for m in made:
        deadline = time.monotonic() + 5
        while port_open(m.port) and time.monotonic() < deadline:
            time.sleep(0.05)


def bursts(times, gap=0.5):
    """Start times of groups of hits: a hit within gap of the previous one
    belongs to its group (requests that were in flight together)."""
    starts = []
    last = None
    for t in sorted(times):
        if last is None or t - last > gap:
            starts.append(t)
        last = t
    return starts


def diffs(ts):
    return [round(b - a, 3) for a, b in zip(ts, ts[1:])]


class Driver:
    """Threads sending GETs to url on kept-alive connections until stop();
    every answer is recorded as (time, status or error text, member)."""

    def __init__(self, port, path, threads=1, pause=0.0, timeout=15):
        self.port = port
        self.path = path
        self.pause = pause
        self.timeout = timeout
        self.results = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True)
                         for _ in range(threads)]

    def start(self):
        for t in self._threads:
            t.start()
        return self

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(timeout=self.timeout + 5)

    def _run(self):
        conn = None
        while not self._stop.is_set():
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                  timeout=self.timeout)
            t = time.time()
            try:
                conn.request("GET", self.path)
                resp = conn.getresponse()
                body = resp.read()
                member = resp.getheader("X-Member")
                outcome = resp.status
                if resp.status == 200:
                    try:
                        json.loads(body)
                    except ValueError:
                        outcome = "bad body %r" % body[:60]
                if resp.will_close:
                    conn.close()
                    conn = None
            except Exception as e:            # noqa: BLE001 - any failure counts
                outcome = "%s: %s" % (type(e).__name__, e)
                member = None
                conn.close()
                conn = None
            with self._lock:
                self.results.append((t, outcome, member))
            if self.pause:
                time.sleep(self.pause)
        if conn is not None:
            conn.close()

    def failures(self):
        return [r for r in self.results if r[1] != 200]


def wrk_available():
    return subprocess.run(["which", "wrk"], capture_output=True).returncode == 0


class BalancerManager:
    """balancer-manager driven over HTTP as an operator's browser does:
    its nonce from the page, a Referer naming the server."""

    def __init__(self, base, path="/balancer-manager"):
        self.base = base
        self.url = base + path
        host = urllib.parse.urlsplit(base).hostname
        self.headers = {"Referer": "http://%s%s" % (host, path)}

    def page(self):
        # balancer-manager logs AH10187 for any request without a Referer
        # naming the server, parameters or not
        r = requests.get(self.url, timeout=5, headers=self.headers)
        r.raise_for_status()
        return r.text

    def nonce(self, balancer):
        m = re.search(r"\?b=%s&amp;nonce=([0-9a-f-]+)" % re.escape(balancer),
                      self.page())
        assert m, "no nonce for %s on the balancer-manager page" % balancer
        return m.group(1)

    def member_status(self, balancer, member_url):
        """The Status cell of member_url's row, e.g. "Init Err "."""
        text = self.page()
        m = re.search(r"w=%s&amp;nonce=[^\"]*\">[^<]*</a></td>(?:<td>[^<]*</td>){4}"
                      r"<td>([^<]*)</td>" % re.escape(member_url), text)
        assert m, "no row for %s:\n%s" % (member_url, text)
        return m.group(1)

    def xml(self):
        r = requests.get(self.url + "?xml=1", timeout=5, headers=self.headers)
        r.raise_for_status()
        return r.text

    def methods(self, balancer):
        r = requests.get(self.url, timeout=5, headers=self.headers,
                         params={"b": balancer, "nonce": self.nonce(balancer)})
        return re.findall(r"<option value='([a-z]+)'", r.text)

    def set_member(self, balancer, member_url, **fields):
        """POSTs the member's edit form with fields (w_status_I=1, ...)."""
        data = {"b": balancer, "w": member_url, "nonce": self.nonce(balancer)}
        data.update({k: str(v) for k, v in fields.items()})
        r = requests.post(self.url, data=data, headers=self.headers, timeout=5)
        r.raise_for_status()
        return r.text

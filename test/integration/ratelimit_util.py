# Helpers of the mod_apigw_ratelimit integration tests (test_ratelimit*.py):
# a real redis-server on a free port, the config of a limited <Location>
# with ProxyPass, the status document, and a load generator that hammers a
# URL from many keep-alive connections for a fixed time and says what
# happened, for the exactness tests; and a burst of requests on raw
# sockets, sent within a millisecond, whose answers are timed (delay=).
import concurrent.futures
import math
import os
import re
import selectors
import socket
import shutil
import subprocess
import threading
import time

import pytest
import requests

from conftest import free_port, port_open

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"


def proxied(b, limits, path="/rl/"):
    """A ProxyPass to backend b and a <Location> holding `limits`."""
    return f"""
ProxyPass "{path}" "{b.url}{path}"
<Location "{path}">
{limits}
</Location>
"""


STATUS = """
<Location "/rl-status">
  SetHandler apigw-ratelimit-status
</Location>
"""


def status(gw):
    """The apigw-ratelimit-status document (needs STATUS in the conf)."""
    r = requests.get(gw.url("/rl-status"), timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0] == "application/json"
    return r.json()


def limit_status(gw, line=None, name=None):
    """One limit's entry of the status document, by name or line."""
    for l in status(gw)["limits"]:
        if (name is not None and l["name"] == name) or \
                (line is not None and l["line"] == line):
            return l
    raise AssertionError("no limit %r/%r in the status" % (name, line))


class Redis:
    """redis-server on 127.0.0.1, no persistence, in its own session."""

    def __init__(self, workdir, password=None):
        self.port = free_port()
        self.password = password
        self.log_path = os.path.join(workdir, "redis-%d.log" % self.port)
        self.proc = None
        self.start()

    def start(self):
        args = [REDIS, "--save", "", "--appendonly", "no", "--port",
                str(self.port), "--bind", "127.0.0.1", "--daemonize", "no"]
        if self.password:
            args += ["--requirepass", self.password]
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=self.log,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + 10
        while not port_open(self.port):
            assert self.proc.poll() is None, "redis-server exited"
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.02)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        assert self.proc.poll() is not None, "redis-server still running"
        deadline = time.monotonic() + 5
        while port_open(self.port) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not port_open(self.port), "something still listens on redis's port"

    def cli(self, *args, db=0):
        out = subprocess.run(["redis-cli", "-p", str(self.port), "-n",
                              str(db)] + list(args), capture_output=True,
                             text=True, timeout=10)
        return out.stdout

    @property
    def url(self):
        return "redis://127.0.0.1:%d" % self.port


@pytest.fixture
def redis_factory(tmp_path):
    # the test command installs redis-server: missing, the run fails
    if not os.access(REDIS, os.X_OK):
        pytest.fail("the Redis tests need Debian's redis-server: %s is "
                    "missing (./apxs-build.sh deps installs it)" % REDIS)
    made = []

    def make(password=None):
        r = Redis(str(tmp_path), password)
        made.append(r)
        return r

    yield make
    for r in made:
        r.stop()


@pytest.fixture
def redis(redis_factory):
    return redis_factory()


def reference_bucket(times_us, average, period_s, burst):
    """How many requests arriving at times_us an ideal token bucket admits
    (the GCRA with the interval rounded up, as the module computes it)."""
    iv = math.ceil(period_s * 1e6 / average)
    tol = (burst - 1) * iv
    tat = n = 0
    for t in sorted(times_us):
        t0 = max(tat, t)
        if t0 - t <= tol:
            n += 1
            tat = t0 + iv
    return n


# an access log of when httpd received each request, by the X-Attempt
# header the load carries
ARRIVALS_LOG = """
LogFormat "%P %>s %{usec}t %{X-Attempt}i" arrivals
CustomLog "@RUN@/arrivals.log" arrivals
"""


def logged_arrivals(gw, attempt):
    """From ARRIVALS_LOG, for one attempt: {pid: answers} and the arrival
    times (microseconds) httpd logged."""
    pids, times = {}, []
    with open(gw.run_dir + "/arrivals.log") as f:
        text = f.read()
    for line in text.splitlines():
        m = re.match(r"(\d+) (\d{3}) (\d+) (\S+)$", line.strip())
        if m and m.group(4) == attempt:
            pids[m.group(1)] = pids.get(m.group(1), 0) + 1
            times.append(int(m.group(3)))
    return pids, times


class Hammered:
    """What hammer() saw: status counts, the client-side window (seconds
    from the first request sent to the last answer received) and, per
    answer, when it was sent and received (monotonic)."""

    def __init__(self):
        self.codes = {}
        self.first_sent = None
        self.last_done = None
        self.errors = []
        self.lock = threading.Lock()

    def add(self, code):
        with self.lock:
            self.codes[code] = self.codes.get(code, 0) + 1

    @property
    def admitted(self):
        return self.codes.get(200, 0)

    @property
    def window(self):
        return self.last_done - self.first_sent

    @property
    def total(self):
        return sum(self.codes.values())


def hammer(urls, seconds, clients, headers=None):
    """`clients` threads, each on its own keep-alive connection (spread
    over `urls` in turn), send GETs back to back for `seconds`."""
    out = Hammered()
    start = time.monotonic() + 0.2          # all threads start together
    stop = start + seconds

    def one(i):
        url = urls[i % len(urls)]
        with requests.Session() as s:
            while time.monotonic() < start:
                time.sleep(0.001)
            with out.lock:
                if out.first_sent is None:
                    out.first_sent = time.monotonic()
            while time.monotonic() < stop:
                try:
                    r = s.get(url, headers=headers or {}, timeout=10)
                    out.add(r.status_code)
                except requests.RequestException as e:
                    with out.lock:
                        out.errors.append(repr(e))
                with out.lock:
                    out.last_done = time.monotonic()

    with concurrent.futures.ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(one, range(clients)))
    return out


class Answer:
    def __init__(self, sent):
        self.sent = sent
        self.done = None
        self.data = b""

    @property
    def status(self):
        line = self.data.split(b"\r\n", 1)[0].split()
        return int(line[1]) if len(line) > 1 else None

    def header(self, name):
        head = self.data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        for l in head.split("\r\n")[1:]:
            k, _, v = l.partition(":")
            if k.strip().lower() == name.lower():
                return v.strip()
        return None

    @property
    def elapsed(self):
        return self.done - self.sent


def burst_of(port, path, n, headers="", timeout=30.0):
    """n connections opened first, then n requests sent back to back; the
    answers, each with when it was sent and when it was complete."""
    socks = [socket.create_connection(("127.0.0.1", port), timeout=10)
             for _ in range(n)]
    req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
           "%s\r\n" % (path, headers)).encode()
    answers = {}
    for s in socks:
        s.sendall(req)
        answers[s] = Answer(time.monotonic())
    sel = selectors.DefaultSelector()
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    left = n
    while left and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, BlockingIOError):
                chunk = b""
            if chunk:
                answers[s].data += chunk
                continue
            answers[s].done = time.monotonic()
            sel.unregister(s)
            s.close()
            left -= 1
    sel.close()
    for s in socks:
        if s.fileno() >= 0:
            s.close()
    assert left == 0, "%d answers did not complete in %ss" % (left, timeout)
    return list(answers.values())

# mod_apigw_ratelimit, cluster mode (ApiRateLimitStore): buckets on a real
# redis-server shared by two separate gateways, the 429 headers, Redis
# down with ApiRateLimitStoreFailure open (admit, one log line) and closed
# (503 JSON), limiting resuming after Redis restarts, password= with
# requirepass (never logged), and configtest errors.
import os
import shutil
import subprocess
import time

import pytest
import requests

from conftest import free_port, port_open

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"

pytestmark = pytest.mark.skipif(not os.path.exists(REDIS),
                                reason="redis-server is not installed")


class Redis:
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

    @property
    def url(self):
        return "redis://127.0.0.1:%d" % self.port


@pytest.fixture
def redis_factory(tmp_path):
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


def conf(backend, store, limit="average=5 period=1m burst=5", extra=""):
    return f"""
{store}
{extra}
ProxyPass "/rl/" "{backend.url}/rl/"
<Location "/rl/">
ApiRateLimit name=shared {limit}
</Location>
"""


def get(gw, path="/rl/x"):
    return requests.get(gw.url(path), timeout=10)


ONE_CHILD = {"APIGW_SERVERS": "1"}


def test_two_gateways_share_the_limit(gateway, backend, redis):
    text = conf(backend, f"ApiRateLimitStore {redis.url}")
    gw1 = gateway(text)
    gw2 = gateway(text)
    codes = [get(gw1 if i % 2 else gw2).status_code for i in range(20)]
    assert codes.count(200) == 5, codes
    assert codes.count(429) == 15, codes
    assert backend.stats()["requests"] == 5


def test_429_headers_as_in_local_mode(gateway, backend, redis):
    gw = gateway(conf(backend, f"ApiRateLimitStore {redis.url}/3 timeout=200ms",
                      "average=3 period=1m burst=3"))
    for left in (2, 1, 0):
        r = get(gw)
        assert r.status_code == 200, r.text
        assert r.headers["RateLimit-Limit"] == "3"
        assert r.headers["RateLimit-Remaining"] == str(left)
        assert 0 < int(r.headers["RateLimit-Reset"]) <= (3 - left) * 20
    r = get(gw)
    assert r.status_code == 429, r.text
    assert r.headers["Content-Type"].split(";")[0] == "application/json"
    assert r.json() == {"status": 429, "error": "rate limit exceeded"}
    retry = int(r.headers["Retry-After"])
    assert 1 <= retry <= 20
    assert r.headers["RateLimit-Limit"] == "3"
    assert r.headers["RateLimit-Remaining"] == "0"
    assert int(r.headers["RateLimit-Reset"]) >= retry
    assert r.headers["Cache-Control"] == "no-store"
    # the bucket lives in database 3, with a TTL
    out = subprocess.run(["redis-cli", "-p", str(redis.port), "-n", "3",
                          "--scan", "--pattern", "apigw:rl:*"],
                         capture_output=True, text=True, timeout=10).stdout
    keys = out.split()
    assert len(keys) == 1, out
    ttl = subprocess.run(["redis-cli", "-p", str(redis.port), "-n", "3",
                          "PTTL", keys[0]], capture_output=True, text=True,
                         timeout=10).stdout.strip()
    assert 0 < int(ttl) <= 61000


@pytest.mark.allow_log("AGW01005")
def test_redis_down_failure_open_then_restart(gateway, backend, redis):
    gw = gateway(conf(backend, f"ApiRateLimitStore {redis.url}",
                      "average=2 period=1m burst=2"), env=ONE_CHILD)
    assert [get(gw).status_code for _ in range(3)] == [200, 200, 429]
    redis.stop()
    # down: everything passes, and the outage is logged once
    assert [get(gw).status_code for _ in range(10)] == [200] * 10
    log = gw.error_log_text()
    assert log.count("AGW01005") == 1, log
    assert "requests are admitted" in log
    # back (empty: a new bucket)
    redis.start()
    assert [get(gw).status_code for _ in range(3)] == [200, 200, 429]
    assert gw.error_log_text().count("AGW01005") == 1


@pytest.mark.allow_log("AGW01005")
def test_redis_down_failure_closed(gateway, backend, redis, json_error):
    gw = gateway(conf(backend, f"ApiRateLimitStore {redis.url}",
                      extra="ApiRateLimitStoreFailure closed"), env=ONE_CHILD)
    assert get(gw).status_code == 200
    redis.stop()
    for _ in range(5):
        r = get(gw)
        json_error(r, 503)
        assert r.json()["error"] == "rate limit store unavailable"
    assert gw.error_log_text().count("AGW01005") == 1
    assert "refused with 503" in gw.error_log_text()
    redis.start()
    assert [get(gw).status_code for _ in range(5)] == [200] * 5
    assert get(gw).status_code == 429
    assert backend.stats()["requests"] == 6


@pytest.mark.allow_log("AGW01005")
def test_password(gateway, backend, redis_factory):
    secret = "s3cr3t-Pa55word"
    rd = redis_factory(password=secret)
    gw = gateway(conf(backend,
                      f"ApiRateLimitStore {rd.url} password={secret}",
                      "average=1 period=1m burst=1"), env=ONE_CHILD)
    assert [get(gw).status_code for _ in range(2)] == [200, 429]
    # a wrong password: failure open, logged without the password
    wrong = "WrongPa55-xyz"
    gw2 = gateway(conf(backend,
                       f"ApiRateLimitStore {rd.url} password={wrong}",
                       "average=1 period=1m burst=1"), env=ONE_CHILD)
    assert [get(gw2).status_code for _ in range(3)] == [200] * 3
    log2 = gw2.error_log_text()
    assert log2.count("AGW01005") == 1, log2
    for gw_ in (gw, gw2):
        text = gw_.error_log_text() + gw_.output_text()
        assert secret not in text and wrong not in text


@pytest.mark.parametrize("line, message", [
    ("ApiRateLimitStore http://127.0.0.1:6379", "is not a redis:// URL"),
    ("ApiRateLimitStore redis://", "needs a host"),
    ("ApiRateLimitStore redis://127.0.0.1:", "empty port"),
    ("ApiRateLimitStore redis://127.0.0.1:99999", "port must be"),
    ("ApiRateLimitStore redis://127.0.0.1:6379/x", "database must be"),
    ("ApiRateLimitStore redis://127.0.0.1:6379 timeout=soon", "timeout=soon"),
    ("ApiRateLimitStore redis://127.0.0.1:6379 pasword=hunter2",
     "unknown option"),
    ("ApiRateLimitStore", "needs redis://"),
    ("ApiRateLimitStoreFailure maybe", "use open"),
    ("<Location /x>\nApiRateLimitStore redis://127.0.0.1:6379\n</Location>",
     "not allowed"),
])
def test_config_errors(configtest, line, message):
    ok, out = configtest(line + "\n")
    assert not ok, out
    assert message in out, out
    assert "hunter2" not in out


def test_valid_config_passes(configtest):
    ok, out = configtest("ApiRateLimitStore redis://127.0.0.1:6379/2 "
                         "password=x timeout=100ms\n"
                         "ApiRateLimitStoreFailure closed\n"
                         "<VirtualHost 127.0.0.1:@PORT@>\n"
                         "ApiRateLimitStore redis://localhost\n"
                         "ApiRateLimitStoreFailure open\n"
                         "</VirtualHost>\n")
    assert ok, out


@pytest.mark.allow_log("AGW01005")
def test_unresponsive_store_times_out(gateway, backend):
    # a listener that never answers: connecting works, the commands time out
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        port = s.getsockname()[1]
        gw = gateway(conf(backend, f"ApiRateLimitStore redis://127.0.0.1:{port} "
                                   "timeout=100ms"), env=ONE_CHILD)
        for _ in range(3):
            start = time.monotonic()
            assert get(gw).status_code == 200
            assert time.monotonic() - start < 2.0
        log = gw.error_log_text()
        assert log.count("AGW01005") == 1, log

"""`./apxs-build.sh demo`: it stops cleanly — on Ctrl-C (SIGINT to its
whole process group, as a terminal sends it), on SIGTERM to the script, and
when one of its processes dies, it leaves no process and no port behind —
and each item of the menu it prints really shows what it says: the tests
below run the menu's own curl commands, item by item, against one running
demo, and check their output (and a little more through the same URLs).

The demo runs as a newcomer runs it, in a process group of its own, on
free ports, with the modules this test run built (APIGW_BUILD_DIR: the
build step finds them up to date) and a private run folder."""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import requests

from conftest import BUILD_SCRIPT, TOP, free_port, gateway_env, port_open

START_TIMEOUT = 300         # deps are checked; a build only if sources changed
STOP_TIMEOUT = 30


def group_alive(pgid):
    """The pids still in process group pgid."""
    out = subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True,
                         text=True).stdout.split()
    return [int(p) for p in out]


def terminal_signals():
    """In the demo's process, before it runs: SIGINT and SIGQUIT as a
    terminal's foreground job has them. A test run started in the
    background (nohup ... &) ignores both, and bash cannot trap a signal
    ignored when it started."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


@pytest.fixture
def demo(tmp_path):
    """Starts the demo; yields (proc, ports, its output file, its run
    folder); whatever a failed test left is killed, group-wide, at the
    end."""
    yield from started_demo(tmp_path)


def started_demo(tmp_path):
    """The demo started, once its first endpoint answers (and its runtime
    route is registered: the menu is printed after that)."""
    ports = {"APIGW_PORT": free_port(),
             "APIGW_DEMO_USERS_PORT": free_port(),
             "APIGW_DEMO_ORDERS_PORT": free_port()}
    # httpd's children (www-data) keep the route store in the run folder:
    # not under pytest's tmp_path, which sits in a 0700 folder
    run = tempfile.mkdtemp(prefix="apigw-demo-")
    os.chmod(run, 0o755)
    env = gateway_env({k: str(v) for k, v in ports.items()})
    env["APIGW_RUN_DIR"] = run
    log = open(tmp_path / "demo.out", "w")
    proc = subprocess.Popen([BUILD_SCRIPT, "demo"], stdout=log,
                            stderr=subprocess.STDOUT, env=env,
                            start_new_session=True,
                            preexec_fn=terminal_signals)
    try:
        deadline = time.time() + START_TIMEOUT
        url = "http://127.0.0.1:%d/v1/users/alice" % ports["APIGW_PORT"]
        while True:
            assert proc.poll() is None, (tmp_path / "demo.out").read_text()
            try:
                if requests.get(url, timeout=2).status_code == 200 \
                        and "Ctrl-C stops the demo" in \
                        (tmp_path / "demo.out").read_text():
                    break
            except requests.RequestException:
                pass
            assert time.time() < deadline, "the demo never answered " + url
            time.sleep(0.2)
        yield proc, ports, tmp_path / "demo.out", run
    finally:
        if group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=STOP_TIMEOUT)
        log.close()
        shutil.rmtree(run, ignore_errors=True)


# connect() refused, the worker put in error, no connection to the backend
DEAD_BACKEND_LOGS = ("AH00957", "AH00959", "AH01114")


def assert_all_gone(proc, ports, out, run, allow=()):
    """The script ended, nothing of its group runs, no port is held, and
    httpd logged nothing at warn or worse (but the log tags in allow)."""
    try:
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail("the demo script did not end: " + out.read_text())
    deadline = time.time() + STOP_TIMEOUT
    while group_alive(proc.pid) and time.time() < deadline:
        time.sleep(0.1)
    left = group_alive(proc.pid)
    assert not left, "processes left behind: %s" % subprocess.run(
        ["ps", "-o", "pid,args", "-p", ",".join(map(str, left))],
        capture_output=True, text=True).stdout
    for name, port in ports.items():
        assert not port_open(port), "%s (%d) still answers" % (name, port)
    assert "demo stopped" in out.read_text()
    for log in glob.glob(os.path.join(run, "error.log")):
        bad = [line for line in open(log) if (":warn]" in line
               or ":error]" in line or ":crit]" in line or ":emerg]" in line)
               and not any(tag in line for tag in allow)]
        assert not bad, "".join(bad)


def test_ctrl_c_stops_everything(demo):
    proc, ports, out, run = demo
    os.killpg(proc.pid, signal.SIGINT)        # what a terminal's Ctrl-C does
    assert_all_gone(proc, ports, out, run)
    assert proc.returncode == 130


def test_sigterm_stops_everything(demo):
    proc, ports, out, run = demo
    proc.send_signal(signal.SIGTERM)          # the script alone
    assert_all_gone(proc, ports, out, run)
    assert proc.returncode == 143


def test_a_dead_backend_stops_the_demo(demo):
    proc, ports, out, run = demo
    users = subprocess.run(
        ["pgrep", "-g", str(proc.pid), "-f",
         "backend.py --port %d" % ports["APIGW_DEMO_USERS_PORT"]],
        capture_output=True, text=True).stdout.split()
    assert len(users) == 1, users
    os.kill(int(users[0]), signal.SIGKILL)
    # a request still queued in httpd when the backend died (one the
    # start-up loop above gave up on, on a busy machine) finds it refusing
    # connections: mod_proxy says so, as it must
    assert_all_gone(proc, ports, out, run, allow=DEAD_BACKEND_LOGS)


# ---- the menu: each item shows what it says ----

@pytest.fixture(scope="module")
def running(tmp_path_factory):
    """One demo for every menu test: (ports, the menu as
    {number: (title, [command, ...])}, the gateway's base URL)."""
    gen = started_demo(tmp_path_factory.mktemp("demo"))
    proc, ports, out, run = next(gen)
    try:
        yield ports, menu_of(out.read_text()), \
            "http://127.0.0.1:%d" % ports["APIGW_PORT"]
    finally:
        gen.close()


def menu_of(text):
    """The numbered items of the demo's menu and their shell commands:
    the indented lines under an item that run curl or sleep (a line that
    is only a URL is for a browser), without the "(...)" note after them."""
    items, current = {}, None
    for line in text.splitlines():
        m = re.match(r"^\s*(\d+)\. (.+)$", line)
        if m:
            current = int(m.group(1))
            items[current] = (m.group(2), [])
            continue
        if current is None or not line.startswith("      "):
            continue
        cmd = re.sub(r"\s{2,}\([^()]*\)\s*$", "", line.strip())
        if cmd.startswith(("curl", "for ", "sleep")):
            items[current][1].append(cmd)
    return items


def run_item(running, number, word):
    """Runs the commands of menu item `number` (whose title must name
    `word`) with bash, one by one; their outputs."""
    title, cmds = running[1][number]
    assert word.lower() in title.lower(), (number, title)
    assert cmds, "menu item %d has no command" % number
    outs = []
    for cmd in cmds:
        p = subprocess.run(["bash", "-c", cmd], capture_output=True,
                           text=True, timeout=60)
        assert p.returncode == 0, (cmd, p.stdout, p.stderr)
        outs.append(p.stdout)
    return outs


def head_and_body(out):
    """`curl -i` output: (status, {lower-case header: value}, body)."""
    head, _, body = out.replace("\r\n", "\n").partition("\n\n")
    lines = head.split("\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), headers, body


def test_menu_numbers_every_capability(running):
    items = running[1]
    assert sorted(items) == list(range(1, len(items) + 1)), items
    titles = " | ".join(t for t, _ in items.values()).lower()
    for word in ("index", "aggregation", "rate limit", "circuit breaker",
                 "failover", "cors", "cache", "status pages", "metrics",
                 "health", "openapi", "runtime routes", "graphql",
                 "console"):
        assert word in titles, word


def test_1_index_lists_every_endpoint_of_the_demo(running):
    out, = run_item(running, 1, "index")
    doc = json.loads(out)
    assert doc["gateway"]["status"] == "alive"
    listed = doc["endpoints"]
    assert all(set(e) == {"endpoint", "shows"} and e["shows"]
               for e in listed), listed
    paths = [e["endpoint"].split(" ", 1)[1] for e in listed]
    # every endpoint and page demo.conf declares is in the index
    conf = open(os.path.join(TOP, "conf", "demo.conf")).read()
    declared = re.findall(r'^<ApiEndpoint "([^"]+)"', conf, re.M)
    pages = re.findall(r'^<Location "([^"]+)"', conf, re.M)
    for path in declared:
        assert path == "/" or path in paths, path
    for page in pages:
        assert any(p.startswith(page) for p in paths), page
    # and nothing it lists is unknown to the gateway
    for e in listed:
        method, path = e["endpoint"].split(" ", 1)
        if method.startswith("GET") and "{" not in path \
                and path not in ("/v1/limited", "/v1/slow"):
            url = running[2] + path.replace("*", "a/b")
            assert requests.get(url, timeout=10).status_code != 404, path


def test_2_an_endpoint(running):
    status, h, body = head_and_body(run_item(running, 2, "endpoint")[0])
    assert status == 200
    assert h["cache-control"] == "public, max-age=60"
    assert json.loads(body)["path"] == "/users/summary/alice"


def test_3_aggregation(running):
    status, h, body = head_and_body(run_item(running, 3, "aggregation")[0])
    assert status == 200
    assert h["x-apigw-completed"] == "true"
    doc = json.loads(body)
    assert doc["user"]["backend"] == "users"
    assert doc["orders"]["backend"] == "orders"


def test_4_timeout(running):
    status, _, body = head_and_body(run_item(running, 4, "timeout")[0])
    assert status == 504, body


def test_5_rate_limit_429_with_ratelimit_headers(running):
    counts, refused = run_item(running, 5, "rate limit")
    assert counts.split() == ["200"] * 5
    status, h, body = head_and_body(refused)
    assert status == 429
    assert h["ratelimit-limit"] == "5"
    assert h["ratelimit-remaining"] == "0"
    assert int(h["retry-after"]) >= 1
    assert h["ratelimit-policy"] == '"demo-limited";q=5;w=60'
    assert json.loads(body)["error"] == "rate limit exceeded"
    limits = requests.get(running[2] + "/ratelimit-status",
                          timeout=10).json()["limits"]
    mine, = [x for x in limits if x["name"] == "demo-limited"]
    assert mine["admitted"] == 5 and mine["rejected"] == 1


def backend_requests(running):
    """The requests the orders backend has had, those asking this
    included (its /__stats counts itself)."""
    port = running[0]["APIGW_DEMO_ORDERS_PORT"]
    return requests.get("http://127.0.0.1:%d/__stats" % port,
                        timeout=10).json()["requests"]


def test_6_breaker_trips_and_recovers(running):
    title, cmds = running[1][6]
    assert "circuit breaker" in title
    before = None
    outs = []
    for cmd in cmds:
        if cmd.startswith("sleep"):         # the backend was not called
            assert backend_requests(running) == before + 1, \
                "the backend was called while the breaker was open"
        p = subprocess.run(["bash", "-c", cmd], capture_output=True,
                           text=True, timeout=60)
        assert p.returncode == 0, (cmd, p.stderr)
        outs.append(p.stdout)
        if before is None:
            before = backend_requests(running)
    trip, open_answer, status_page, recovery = outs
    # five 500s from the backend, then the gateway's own 503
    assert trip.split() == ["500"] * 5 + ["503"], trip
    status, h, body = head_and_body(open_answer)
    assert status == 503
    assert 1 <= int(h["retry-after"]) <= 5
    assert json.loads(body)["error"] == "circuit breaker open"
    state, = json.loads(status_page)["breakers"][0]["states"]
    assert state["state"] == "tripped"
    # recovering: refused at first, then let through, then standby
    seen = recovery.split()
    assert seen[0] == "503" and seen[-1] == "200", seen
    breaker, = [b for b in requests.get(running[2] + "/breakers",
                                        timeout=10).json()["breakers"]
                if "/v1/flaky/" in b["section"]]
    assert breaker["states"][0]["state"] == "standby"
    assert breaker["states"][0]["trips"] == 1


def test_7_failover_with_a_suspended_member(running):
    answer, states = run_item(running, 7, "failover")
    status, h, _ = head_and_body(answer)
    assert status == 200
    assert h["x-backend"] == "users"                # the secondary
    assert 'member="http://127.0.0.1:9",state="suspended"} 1' in states
    users = running[0]["APIGW_DEMO_USERS_PORT"]
    assert 'member="http://127.0.0.1:%d",state="active"} 1' % users in states
    # balancer-manager shows the primary in mod_proxy's error state
    page = requests.get(running[2] + "/balancer-manager", timeout=10).text
    row = re.search(r">http://127\.0\.0\.1:9</a></td>(.*?)</tr>", page, re.S)
    assert row and "Init Err" in row.group(1), page
    # and the gateway stays ready: the pool has a usable member
    assert requests.get(running[2] + "/health/ready",
                        timeout=10).status_code == 200


def test_8_cors_preflight(running):
    status, h, _ = head_and_body(run_item(running, 8, "cors")[0])
    assert status == 204
    assert h["access-control-allow-origin"] == "https://app.example.com"
    assert h["access-control-allow-methods"] == "PUT"
    assert h["access-control-allow-headers"] == "authorization"
    assert h["access-control-max-age"] == "600"


def test_9_cache_hit(running):
    before = backend_requests(running)
    both, = run_item(running, 9, "cache")
    hits = re.findall(r"^X-Cache: (\w+)", both, re.M)
    assert hits == ["MISS", "HIT"], both
    assert backend_requests(running) == before + 2      # a miss, /__stats


def test_10_status_pages(running):
    limits, breakers = run_item(running, 10, "status pages")
    assert any(x["name"] == "demo-limited"
               for x in json.loads(limits)["limits"])
    assert any("/v1/flaky/{status}" in b["section"]
               for b in json.loads(breakers)["breakers"])
    page = requests.get(running[2] + "/balancer-manager", timeout=10)
    assert "balancer://inventory" in page.text


def test_11_metrics_parse(running):
    from prometheus_client.parser import text_string_to_metric_families
    requests.get(running[2] + "/v1/users/alice", timeout=10)
    shown, = run_item(running, 11, "metrics")
    assert re.search(r'^apigw_requests_total\{endpoint="/v1/users/\{user\}"',
                     shown, re.M), shown
    text = requests.get(running[2] + "/metrics", timeout=10).text
    names = {f.name for f in text_string_to_metric_families(text)}
    for name in ("apigw_requests", "apigw_member_state",
                 "apigw_breaker_state", "apigw_ratelimit_admitted",
                 "apigw_cache_hits"):
        assert name in names, sorted(names)


def test_12_health(running):
    live, ready = run_item(running, 12, "health")
    assert head_and_body(live)[0] == 200
    status, _, body = head_and_body(ready)
    assert status == 200
    assert json.loads(body)["status"] == "ready"


def test_13_openapi(running):
    shown = run_item(running, 13, "openapi")[0].split()
    doc = requests.get(running[2] + "/openapi.json", timeout=10).json()
    assert doc["openapi"].startswith("3.1")
    assert shown == list(doc["paths"])
    for path in ("/v1/users/{user}", "/v1/limited", "/v2/users/{id}"):
        assert path in shown, shown


def test_14_runtime_routes(running):
    served, listed, created, new = run_item(running, 14, "runtime routes")
    status, _, body = head_and_body(served)
    assert status == 200 and json.loads(body)["path"] == "/users/alice"
    assert any(r["path"] == "/v2/users/{id}" for r in json.loads(listed))
    assert head_and_body(created)[0] == 201
    status, _, body = head_and_body(new)
    assert status == 200 and json.loads(body)["path"] == "/orders"


def test_15_graphql(running):
    doc = json.loads(run_item(running, 15, "graphql")[0])
    assert any(r["path"] == "/v2/users/{id}" for r in doc["data"]["routes"])


def test_16_console(running):
    title, cmds = running[1][16]
    assert "console" in title
    r = requests.get(running[2] + "/admin/", timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")

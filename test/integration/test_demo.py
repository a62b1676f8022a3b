"""`./apxs-build.sh demo` stops cleanly: on Ctrl-C (SIGINT to its whole
process group, as a terminal sends it), on SIGTERM to the script, and when
one of its processes dies, it leaves no process and no port behind.

The demo runs as a newcomer runs it, in a process group of its own, on
free ports, with the modules this test run built (APIGW_BUILD_DIR: the
build step finds them up to date) and a private run folder."""
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import requests

from conftest import BUILD_SCRIPT, free_port, gateway_env, port_open

START_TIMEOUT = 120         # deps are checked, the build is up to date
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
    """Starts the demo; yields (proc, ports); whatever a failed test left
    is killed, group-wide, at the end."""
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
                if requests.get(url, timeout=2).status_code == 200:
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


def assert_all_gone(proc, ports, out, run):
    """The script ended, nothing of its group runs, no port is held, and
    httpd logged nothing at warn or worse."""
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
        bad = [line for line in open(log) if ":warn]" in line
               or ":error]" in line or ":crit]" in line or ":emerg]" in line]
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
    assert_all_gone(proc, ports, out, run)

# Helpers of the edge-policy tests (test_policy_*.py): a real headless
# Chromium driven over the DevTools protocol (Debian's chromium and
# python3-websocket, no other moving part), and a tiny page server that
# gives the browser an origin of its own.
#
#   def test_x(gateway, pages, browser):
#       page = browser.open("http://127.0.0.1:%d/" % pages.port)
#       result = page.fetch(gw.url("/v1/x"), {"headers": {"X-Custom": "1"}})
#       assert result["ok"] and result["status"] == 200
#
# `browser` is a browser context of its own (cookies, caches, connections)
# in one Chromium per pytest worker, started by the first test that needs it.
#
# The browser resolves *.example.test to 127.0.0.1 and nothing else, so no
# test traffic leaves the machine. A missing browser (APIGW_CHROMIUM,
# /usr/bin/chromium by default) or python3-websocket fails the test: the
# test command installs both.
import atexit
import http.server
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request

import pytest

CHROMIUM = os.environ.get("APIGW_CHROMIUM", "/usr/bin/chromium")

PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>apigw CORS test page</title></head>
<body><p>cross-origin calls are made from here</p></body></html>
"""


class PageServer:
    """Serves PAGE on a free 127.0.0.1 port, in a thread."""

    def __init__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(PAGE)))
                self.end_headers()
                self.wfile.write(PAGE)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Page:
    """One tab, over its DevTools websocket."""

    def __init__(self, ws_url):
        import websocket                     # python3-websocket
        self.ws = websocket.create_connection(ws_url, timeout=30,
                                              suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method, params=None, timeout=30):
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method,
                                 "params": params or {}}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            self.events.append(msg)
        raise TimeoutError(method)

    def wait_event(self, name, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            for i, ev in enumerate(self.events):
                if ev.get("method") == name:
                    del self.events[i]
                    return ev
            if time.monotonic() > deadline:
                raise TimeoutError(name)
            self.events.append(json.loads(self.ws.recv()))

    def navigate(self, url):
        self.call("Page.enable")
        self.call("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired")

    def evaluate(self, expression):
        res = self.call("Runtime.evaluate", {
            "expression": expression, "awaitPromise": True,
            "returnByValue": True})
        if "exceptionDetails" in res:
            raise RuntimeError("JavaScript failed: %s" % res["exceptionDetails"])
        return res["result"].get("value")

    def fetch(self, url, options=None, read_headers=()):
        """fetch(url, options) in the page; what its JavaScript saw:
        {"ok": True, "status", "body", "headers": {name: value|None}} or
        {"ok": False, "error"} when the browser refused the response."""
        js = """
(async () => {
  try {
    const r = await fetch(%s, %s);
    const headers = {};
    for (const name of %s) headers[name] = r.headers.get(name);
    return {ok: true, status: r.status, body: await r.text(), headers};
  } catch (e) {
    return {ok: false, error: String(e)};
  }
})()""" % (json.dumps(url), json.dumps(options or {}),
           json.dumps(list(read_headers)))
        return self.evaluate(js)

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass


class Chromium:
    """Headless Chromium in its own process group, with a throw-away
    profile; every process it started is killed on exit."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.profile = os.path.join(workdir, "chromium-profile")
        self.proc = None
        self.pages = []

    def __enter__(self):
        # ./apxs-build.sh test installs both (deps): one missing is a broken
        # test machine, so the test fails rather than skips
        if not os.access(CHROMIUM, os.X_OK):
            pytest.fail("the browser tests need Debian's chromium: %s is "
                        "missing or not executable (APIGW_CHROMIUM names "
                        "another; ./apxs-build.sh deps installs chromium)"
                        % CHROMIUM, pytrace=False)
        try:
            import websocket  # noqa: F401
        except ImportError:
            pytest.fail("the browser tests need python3-websocket, missing "
                        "from /usr/bin/python3 (./apxs-build.sh deps "
                        "installs it)", pytrace=False)
        os.makedirs(self.profile, exist_ok=True)
        log_path = os.path.join(self.workdir, "chromium.log")
        self.log = open(log_path, "wb")
        args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-sync",
                "--disable-component-update", "--disable-default-apps",
                "--disable-domain-reliability", "--metrics-recording-only",
                "--password-store=basic", "--use-mock-keychain",
                # only loopback, under names that make distinct origins
                "--host-resolver-rules=MAP *.example.test 127.0.0.1, "
                "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--user-data-dir=" + self.profile,
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0", "about:blank"]
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log,
                                     stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if os.path.exists(port_file):
                with open(port_file) as f:
                    lines = f.read().split("\n")
                if lines and lines[0].strip().isdigit():
                    self.port = int(lines[0])
                    return self
            time.sleep(0.05)
        self._kill()
        with open(log_path, "rb") as f:
            out = f.read().decode("utf-8", "replace")[-2000:]
        pytest.fail("chromium (%s) did not start: %s" % (CHROMIUM, out),
                    pytrace=False)

    def browser_ws_url(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/json/version"
                                    % self.port, timeout=10) as resp:
            return json.loads(resp.read())["webSocketDebuggerUrl"]

    def open(self, url):
        req = urllib.request.Request(
            "http://127.0.0.1:%d/json/new?about:blank" % self.port, method="PUT")
        with urllib.request.urlopen(req, timeout=10) as resp:
            target = json.loads(resp.read())
        page = Page(target["webSocketDebuggerUrl"])
        self.pages.append(page)
        page.navigate(url)
        return page

    def _kill(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.log.close()

    def __exit__(self, *exc):
        for p in self.pages:
            p.close()
        self._kill()
        shutil.rmtree(self.profile, ignore_errors=True)
        return False


@pytest.fixture
def pages():
    """A page server: the origin the browser's pages come from."""
    s = PageServer()
    yield s
    s.stop()


class BrowserContext:
    """A browser context of the worker's Chromium (shared_chromium()):
    cookies, caches (the CORS preflight cache too), storage and
    connections of its own, as a fresh browser would have; its tabs close
    with it. Opens tabs like Chromium.open."""

    def __init__(self, chromium):
        self.chromium = chromium
        self.control = Page(chromium.browser_ws_url())
        self.id = self.control.call("Target.createBrowserContext",
                                    {"disposeOnDetach": True})["browserContextId"]
        self.pages = []

    def open(self, url):
        target = self.control.call("Target.createTarget", {
            "url": "about:blank", "browserContextId": self.id})["targetId"]
        page = Page("ws://127.0.0.1:%d/devtools/page/%s"
                    % (self.chromium.port, target))
        self.pages.append(page)
        page.navigate(url)
        return page

    def close(self):
        for p in self.pages:
            p.close()
        try:
            self.control.call("Target.disposeBrowserContext",
                              {"browserContextId": self.id}, timeout=10)
        finally:
            self.control.close()


_shared = None


def shared_chromium():
    """One Chromium per pytest worker, started on first use and stopped
    when the worker exits: a start costs seconds of CPU, a context
    (BrowserContext) next to nothing."""
    global _shared
    if _shared is not None and _shared.proc.poll() is not None:
        _shared = None              # it died: the next test gets a new one
    if _shared is None:
        workdir = tempfile.mkdtemp(prefix="apigw-chromium-")
        _shared = Chromium(workdir).__enter__()
        atexit.register(_stop_shared, _shared, workdir)
    return _shared


def _stop_shared(chromium, workdir):
    chromium.__exit__(None, None, None)
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def browser():
    """A browser context of its own in the worker's Chromium."""
    ctx = BrowserContext(shared_chromium())
    yield ctx
    ctx.close()

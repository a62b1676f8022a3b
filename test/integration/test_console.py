# The web console of the admin API (mod_apigw/console/, served by
# apigw_console.c at <admin>/ and <admin>/console/NAME), driven in a real
# headless Chromium over the DevTools protocol (policy_util's Chromium)
# against a real gateway: every change is made through the page, which
# talks only to <admin>/graphql, and checked on the gateway's own traffic.
#
#   the files: Content-Type, ETag and 304, the security headers, 404
#   a route added through the form, called (200), switched off (404) and
#   on, rate-limited from the Security tab (429s), an environment
#   branched with copies and deleted, a route deleted
#   a server-side validation error beside its field, on its tab
#   no console error and no CSP violation on any page
#   a phone-size viewport without horizontal overflow
#   the operations view: a member suspended when its backend is killed,
#   resumed from the page
#   an API key created from the API keys view (a refused name beside its
#   field; the key shown once, then gone from the page), listed, working
#   at the gateway, revoked after a confirmation (401)
#
# Screenshots for the docs (docs/img/console-*.png, 1280x800):
#   APIGW_CONSOLE_SCREENSHOTS=1 /usr/bin/python3 -m pytest \
#       test/integration/test_console.py -k screenshots
# or /usr/bin/python3 test/integration/test_console.py (the same test).
import json
import os
import re
import sys
import time

import pytest
import requests

from conftest import TOP
from policy_util import browser  # noqa: F401 (fixture)
from sus_util import MEMBER_FAILURE_TAGS, members  # noqa: F401 (fixture)
from test_admin_api import Admin, admin_conf, store_dir  # noqa: F401 (fixture)
from test_runtime_routes import store  # noqa: F401 (fixture)

# two children: every child serves what the console changed
pytestmark = pytest.mark.children(2)

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; "
       "img-src 'self' data:; connect-src 'self'; form-action 'none'; "
       "frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
DOCS_IMG = os.path.join(TOP, "docs", "img")

# Records what the page reports: CSP violations (the event), uncaught
# errors, console.error; added before any script of the page runs.
RECORDER = """
window.__consoleProblems = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__consoleProblems.push('CSP violation: ' + e.violatedDirective +
                                ' ' + (e.blockedURI || '') + ' ' + (e.sourceFile || ''));
});
"""


class ConsolePage:
    """The console in one Chromium tab: waits, clicks and form fields by
    CSS selector, problems the page reported, screenshots."""

    def __init__(self, browser, url, width=1280, height=800, mobile=False):
        self.page = browser.open("about:blank")
        self.url = url
        self.page.call("Runtime.enable")
        self.page.call("Log.enable")
        self.page.call("Page.addScriptToEvaluateOnNewDocument",
                       {"source": RECORDER})
        self.viewport(width, height, mobile)
        self.page.navigate(url)
        self.wait("window.apigwConsole && window.apigwConsole.view")

    def viewport(self, width, height, mobile=False):
        self.page.call("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1,
            "mobile": mobile})

    # -- the page's JavaScript

    def js(self, expression):
        return self.page.evaluate(expression)

    def reload(self):
        """The page loaded again (the URL's fragment kept), its script
        running."""
        self.page.events = [e for e in self.page.events
                            if e.get("method") != "Page.loadEventFired"]
        self.page.call("Page.reload", {"ignoreCache": True})
        self.page.wait_event("Page.loadEventFired")
        self.wait("window.apigwConsole && window.apigwConsole.view")

    def wait(self, expression, timeout=10.0, what=None):
        """Until expression (JavaScript) is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = self.js(expression)
            except RuntimeError:
                value = None        # between two documents: try again
            if value:
                return value
            if time.monotonic() > deadline:
                pytest.fail("the console never showed %s (%s); banner: %r; "
                            "form: %r" % (what or expression,
                                          self.js("location.hash"),
                                          self.banner(),
                                          self.text("#form-summary")),
                            pytrace=False)
            time.sleep(0.05)

    def exists(self, selector):
        return self.js("!!document.querySelector(%s)" % json.dumps(selector))

    def visible(self, selector):
        return self.js("""(() => { const e = document.querySelector(%s);
            return !!e && e.getClientRects().length > 0; })()"""
                       % json.dumps(selector))

    def wait_visible(self, selector, timeout=10.0):
        return self.wait("(() => { const e = document.querySelector(%s);"
                         " return !!e && e.getClientRects().length > 0; })()"
                         % json.dumps(selector), timeout, selector)

    def click(self, selector):
        self.wait_visible(selector)
        self.js("document.querySelector(%s).click()" % json.dumps(selector))

    def fill(self, selector, value):
        """A text field's value, as typing would leave it (input, change)."""
        self.wait_visible(selector)
        self.js("""(() => { const e = document.querySelector(%s);
            e.focus(); e.value = %s;
            e.dispatchEvent(new Event('input', {bubbles: true}));
            e.dispatchEvent(new Event('change', {bubbles: true})); })()"""
                % (json.dumps(selector), json.dumps(str(value))))

    def check(self, selector, on=True):
        """A checkbox or radio set as a click would."""
        self.wait_visible(selector)
        if self.js("document.querySelector(%s).checked" % json.dumps(selector)) != on:
            self.click(selector)

    def select(self, selector, value):
        self.fill(selector, value)

    def text(self, selector):
        return self.js("(document.querySelector(%s) || {}).textContent || ''"
                       % json.dumps(selector))

    def key(self, key, code=None, vk=None):
        """A real key press on the focused element (Input domain)."""
        for kind in ("keyDown", "keyUp"):
            self.page.call("Input.dispatchKeyEvent", {
                "type": kind, "key": key, "code": code or key,
                "windowsVirtualKeyCode": vk or 0})

    def focused(self):
        return self.js("document.activeElement && (document.activeElement.id "
                       "|| document.activeElement.getAttribute('data-testid'))")

    def banner(self):
        return self.js("document.getElementById('banner').hidden ? '' : "
                       "document.getElementById('banner-text').textContent")

    # -- the console's parts

    def go(self, fragment):
        self.js("location.hash = %s" % json.dumps(fragment))

    def rows(self):
        """[{id, path, enabled}] of the dashboard's table."""
        return self.js("""Array.from(document.querySelectorAll(
            '#routes-body tr[data-testid=route-row]')).map((tr) => ({
              id: tr.dataset.routeId, path: tr.dataset.path,
              enabled: tr.querySelector('[role=switch]').getAttribute('aria-checked') === 'true'}))""")

    def wait_rows(self, pred, what, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            rows = self.rows()
            if pred(rows):
                return rows
            if time.monotonic() > deadline:
                pytest.fail("dashboard rows never showed %s: %r (banner %r)"
                            % (what, rows, self.banner()), pytrace=False)
            time.sleep(0.05)

    def row_selector(self, path):
        return "#routes-body tr[data-path=%s]" % json.dumps(path)

    def problems(self):
        """CSP violations, uncaught exceptions, console errors, error-level
        log entries (a refused resource, a CSP report) so far."""
        found = list(self.js("window.__consoleProblems || []") or [])
        for ev in self.page.events:
            m, p = ev.get("method"), ev.get("params", {})
            if m == "Runtime.exceptionThrown":
                found.append("exception: %s" % json.dumps(p.get("exceptionDetails"))[:500])
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                found.append("console.%s: %s" % (p["type"], json.dumps(p.get("args"))[:500]))
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                found.append("log: %s %s" % (p["entry"].get("text"), p["entry"].get("url", "")))
        return found

    def drain(self):
        """Reads the events that arrived while nothing was asked."""
        self.js("1")

    def screenshot(self, path):
        data = self.page.call("Page.captureScreenshot", {"format": "png"})["data"]
        import base64
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))


# ---------------------------------------------------------------- fixtures

def console_conf(store, extra=""):
    return admin_conf(store, extra)


@pytest.fixture
def console(store, backend, gateway, browser):
    """(gateway, Admin, ConsolePage at <admin>/) on a SQLite store."""
    gw = gateway(console_conf(store))
    page = ConsolePage(browser, gw.url("/admin/"))
    yield gw, Admin(gw), page
    page.drain()
    assert page.problems() == []


def wait_status(url, code, timeout=5.0, **kw):
    """Requests on fresh connections until one answers code (a change is
    served by every child within moments)."""
    deadline = time.monotonic() + timeout
    while True:
        r = requests.get(url, timeout=10, headers={"Connection": "close"}, **kw)
        if r.status_code == code or time.monotonic() > deadline:
            assert r.status_code == code, "%s: %d %s" % (url, r.status_code, r.text[:200])
            return r
        time.sleep(0.05)


def steady(url, code, count=10, **kw):
    """count answers in a row on fresh connections are code."""
    wait_status(url, code, **kw)
    for _ in range(count):
        r = requests.get(url, timeout=10, headers={"Connection": "close"}, **kw)
        assert r.status_code == code, "%s: %d" % (url, r.status_code)


def add_route(page, path, target, methods=("GET",)):
    """The General tab filled and saved; back on the dashboard."""
    page.click("[data-testid=add-route]")
    page.wait("window.apigwConsole.view === 'editor'")
    page.fill("#f-path", path)
    page.fill("#f-target", target)
    for m in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"):
        page.check("#f-method-" + m, m in methods)
    page.click("[data-testid=route-save]")
    page.wait("window.apigwConsole.view === 'apis'", what="the dashboard after saving")
    return page.wait_rows(lambda rows: any(r["path"] == path for r in rows),
                          "the new route " + path)


# ---------------------------------------------------------------- the files

def test_console_files_headers_and_etags(store, gateway):
    gw = gateway(console_conf(store))
    r = requests.get(gw.url("/admin"), allow_redirects=False, timeout=10)
    assert r.status_code in (301, 302, 303, 307, 308), r.status_code
    assert r.headers["Location"].endswith("/admin/"), r.headers
    for path, ctype in (("/admin/", "text/html"),
                        ("/admin/console/console.js", "text/javascript"),
                        ("/admin/console/console.css", "text/css"),
                        ("/admin/console/icon.svg", "image/svg+xml")):
        r = requests.get(gw.url(path), timeout=10)
        assert r.status_code == 200, (path, r.status_code)
        assert r.headers["Content-Type"].split(";")[0] == ctype, r.headers
        for name, value in SECURITY_HEADERS.items():
            assert r.headers.get(name) == value, (path, name, r.headers)
        assert r.headers["Cache-Control"] == "no-cache"
        etag = r.headers["ETag"]
        assert etag.startswith('"') and etag.endswith('"') and len(etag) > 8
        assert int(r.headers["Content-Length"]) == len(r.content) > 0
        again = requests.get(gw.url(path), headers={"If-None-Match": etag},
                             timeout=10)
        assert again.status_code == 304 and again.content == b""
        assert again.headers["ETag"] == etag
        other = requests.get(gw.url(path), timeout=10,
                             headers={"If-None-Match": '"other", W/%s' % etag})
        assert other.status_code == 304
        stale = requests.get(gw.url(path), headers={"If-None-Match": '"x"'},
                             timeout=10)
        assert stale.status_code == 200 and stale.content == r.content
        head = requests.head(gw.url(path), timeout=10)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["ETag"] == etag
    html = requests.get(gw.url("/admin/"), timeout=10).text
    # nothing inline: the CSP would refuse it
    assert "<script>" not in html and "style=" not in html
    assert 'src="console/console.js"' in html
    # markup only from the page itself: the script builds elements and
    # sets text, so nothing the API returns can become HTML
    js = requests.get(gw.url("/admin/console/console.js"), timeout=10).text
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML",
                 "document.write", "eval(", "new Function"):
        assert sink not in js, sink
    assert requests.get(gw.url("/admin/console/nothing.js"),
                        timeout=10).status_code == 404
    assert requests.get(gw.url("/admin/console/embed.sh"),
                        timeout=10).status_code == 404


# ---------------------------------------------------------------- the scenario

def test_route_added_switched_limited_branched_deleted(console, backend):
    gw, admin, page = console
    assert page.js("window.apigwConsole.view") == "apis"
    page.wait_visible("[data-testid=routes-empty]")
    assert page.js("document.getElementById('env-select').value") == "default"

    # added through the General tab, served
    add_route(page, "/ui/users/{id}", backend.url + "/users/{id}",
              methods=("GET", "POST"))
    r = wait_status(gw.url("/ui/users/7"), 200)
    assert r.json()["path"] == "/users/7"
    doc = [d for d in admin.routes("default") if d["path"] == "/ui/users/{id}"][0]
    assert sorted(doc["methods"]) == ["GET", "POST"] and doc["enabled"]

    # switched off: 404; on: 200
    toggle = page.row_selector("/ui/users/{id}") + " [data-testid=toggle-enabled]"
    page.click(toggle)
    page.wait_rows(lambda rows: not rows[0]["enabled"], "the route off")
    steady(gw.url("/ui/users/7"), 404)
    page.click(toggle)
    page.wait_rows(lambda rows: rows[0]["enabled"], "the route on")
    steady(gw.url("/ui/users/7"), 200)

    # a rate limit from the Security tab: 2 a minute, no burst beyond
    page.click(page.row_selector("/ui/users/{id}") + " [data-testid=edit]")
    page.wait("window.apigwConsole.view === 'editor'")
    assert page.js("document.getElementById('f-path').value") == "/ui/users/{id}"
    page.click("[data-testid=tab-security]")
    page.wait_visible("#f-rl-on")
    page.check("#f-rl-on")
    page.fill("#f-rl-average", "2")
    page.fill("#f-rl-period", "1m")
    page.fill("#f-rl-burst", "2")
    page.click("[data-testid=route-save]")
    page.wait("window.apigwConsole.view === 'apis'")
    page.wait("document.querySelector('#routes-body').textContent.includes('Rate limit 2/1m')")
    doc = admin.get("/routes/" + doc["id"]).json()
    assert doc["rateLimit"]["average"] == 2 and doc["rateLimit"]["period"] == "1m"
    deadline = time.monotonic() + 5
    codes = []
    while 429 not in codes and time.monotonic() < deadline:
        codes.append(requests.get(gw.url("/ui/users/7"), timeout=10).status_code)
    assert 429 in codes, codes
    assert set(codes) <= {200, 429}, codes

    # branched with copies: the copies shown in the new environment
    add_route(page, "/ui/orders", backend.url + "/orders")
    page.click("[data-testid=env-branch]")
    page.wait_visible("#branch-name")
    assert page.text("#branch-from") == "default"
    page.fill("#branch-name", "staging")
    page.check("#branch-copy")
    page.click("[data-testid=branch-create]")
    page.wait("document.getElementById('env-select').value === 'staging'",
              what="the branched environment selected")
    copies = admin.routes("staging")
    assert sorted(d["path"] for d in copies) == ["/ui/orders", "/ui/users/{id}"]
    originals = {r["id"] for r in admin.routes("default")}
    assert not {d["id"] for d in copies} & originals
    # never the default's rows under the staging name, even while it loads
    assert not {r["id"] for r in page.rows()} & originals
    rows = page.wait_rows(lambda rows: {r["id"] for r in rows} == {d["id"] for d in copies},
                          "the two copies")
    assert sorted(r["path"] for r in rows) == ["/ui/orders", "/ui/users/{id}"]
    assert page.text("#routes-caption") == "Custom APIs of staging"
    assert not page.js("document.getElementById('env-delete').disabled")

    # one copy deleted (confirmed), then the whole environment
    page.click(page.row_selector("/ui/orders") + " [data-testid=delete]")
    page.wait_visible("[data-testid=confirm-ok]")
    page.click("[data-testid=confirm-ok]")
    page.wait_rows(lambda rows: [r["path"] for r in rows] == ["/ui/users/{id}"],
                   "the copy deleted")
    assert [d["path"] for d in admin.routes("staging")] == ["/ui/users/{id}"]
    page.click("[data-testid=env-delete]")
    page.wait_visible("[data-testid=confirm-ok]")
    page.click("[data-testid=confirm-ok]")
    page.wait("document.getElementById('env-select').value === 'default'")
    assert admin.environments() == ["default"]
    assert page.js("document.getElementById('env-delete').disabled")
    assert page.js("Array.from(document.getElementById('env-select').options)"
                   ".map(o => o.value)") == ["default"]

    # the original deleted; cancelling first keeps it
    sel = page.row_selector("/ui/users/{id}") + " [data-testid=delete]"
    page.wait_rows(lambda rows: len(rows) == 2, "default's two routes")
    page.click(sel)
    page.click("[data-testid=confirm-cancel]")
    assert len(admin.routes("default")) == 2
    page.click(sel)
    page.click("[data-testid=confirm-ok]")
    page.wait_rows(lambda rows: [r["path"] for r in rows] == ["/ui/orders"],
                   "the route deleted")
    wait_status(gw.url("/ui/users/7"), 404)
    assert page.banner() == ""


def test_server_validation_error_beside_its_field(console, backend):
    gw, admin, page = console
    page.go("#new")
    page.wait("window.apigwConsole.view === 'editor'")
    page.fill("#f-path", "/ui/bad")
    page.fill("#f-target", backend.url + "/x")
    # a timeout the server refuses (1 to 300), typed on the Resilience tab
    page.click("[data-testid=tab-resilience]")
    page.fill("#f-timeout", "301")
    page.click("[data-testid=tab-general]")
    page.click("[data-testid=route-save]")
    err = page.wait("(() => { const p = document.querySelector("
                    "'#panel-resilience [data-testid=field-error]');"
                    " return p && p.textContent; })()", what="the field error")
    assert "300" in err, err
    # beside the field, named by it, on the tab now shown, focused
    assert page.js("document.getElementById('f-timeout').getAttribute('aria-invalid')") == "true"
    assert page.js("""(() => { const f = document.getElementById('f-timeout');
        const p = document.querySelector('#panel-resilience .field-error');
        return f.getAttribute('aria-describedby').split(' ').includes(p.id)
          && f.closest('.field') === p.closest('.field'); })()""")
    assert page.js("document.getElementById('tab-resilience').getAttribute('aria-selected')") == "true"
    assert page.visible("#f-timeout")
    assert page.focused() == "f-timeout"
    assert admin.routes("default") == []
    assert page.banner() == ""

    # a list item: the origin the server names, by line
    page.fill("#f-timeout", "")
    page.click("[data-testid=tab-security]")
    page.check("#f-cors-on")
    page.check("#f-cors-listed")
    page.fill("#f-cors-origins", "https://ok.example\nnot an origin")
    page.click("[data-testid=route-save]")
    err = page.wait("(() => { const p = document.querySelector("
                    "'#panel-security [data-testid=field-error]');"
                    " return p && p.textContent; })()", what="the origin's error")
    assert err.startswith("Line 2"), err
    assert page.js("document.getElementById('f-cors-origins').getAttribute('aria-invalid')") == "true"
    assert admin.routes("default") == []

    # fixed: saved, the errors gone
    page.fill("#f-cors-origins", "https://ok.example")
    page.click("[data-testid=route-save]")
    page.wait("window.apigwConsole.view === 'apis'")
    page.wait_rows(lambda rows: len(rows) == 1, "the route saved")
    doc = admin.routes("default")[0]
    assert doc["cors"]["allowOrigins"] == ["https://ok.example"]

    # a conflict (the same path again) without a field: the banner, or
    # beside the path when the server names it
    page.go("#new")
    page.wait("window.apigwConsole.view === 'editor'")
    page.fill("#f-path", "/ui/bad")
    page.fill("#f-target", backend.url + "/y")
    page.click("[data-testid=route-save]")
    page.wait("!!document.querySelector('[data-testid=field-error]') || "
              "!document.getElementById('banner').hidden", what="the conflict")
    assert len(admin.routes("default")) == 1


def test_tabs_keyboard_and_editing_clears_groups(console, backend):
    gw, admin, page = console
    admin.register({"path": "/ui/kb", "targetUrl": backend.url + "/kb",
                    "timeoutSeconds": 30,
                    "requestHeaders": [{"action": "set", "name": "X-A", "value": "1"}],
                    "circuitBreaker": {"preset": "5xx"}})
    page.reload()
    page.wait("window.apigwConsole.view === 'apis'")
    page.wait_rows(lambda rows: len(rows) == 1, "the route")
    page.click(page.row_selector("/ui/kb") + " [data-testid=edit]")
    page.wait("window.apigwConsole.view === 'editor'")
    # a tablist: arrows move and select, Home/End, roving tabindex
    page.js("document.getElementById('tab-general').focus()")
    page.key("ArrowRight", vk=39)
    assert page.focused() == "tab-security"
    assert page.visible("#panel-security") and not page.visible("#panel-general")
    page.key("End", vk=35)
    assert page.focused() == "tab-resilience"
    page.key("ArrowRight", vk=39)
    assert page.focused() == "tab-general"
    page.key("ArrowLeft", vk=37)
    assert page.focused() == "tab-resilience"
    assert page.js("Array.from(document.querySelectorAll('[role=tab]'))"
                   ".map(t => t.tabIndex)") == [-1, -1, -1, 0]
    # focus moved by the keyboard is visible
    assert page.js("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    # Tab leaves the tablist for the selected panel
    page.key("Tab", vk=9)
    assert page.focused() == "panel-resilience"
    # the values shown; the breaker and the timeout cleared, a header removed
    assert page.js("document.getElementById('f-timeout').value") == "30"
    assert page.js("document.getElementById('f-cb-on').checked")
    assert page.js("document.getElementById('f-cb-preset').value") == "5xx"
    page.fill("#f-timeout", "")
    page.check("#f-cb-on", False)
    page.click("[data-testid=tab-transform]")
    assert page.js("document.querySelectorAll('#f-reqh .rule').length") == 1
    page.click("#f-reqh [data-testid=rule-remove]")
    page.click("[data-testid=resh-add]")
    page.fill("#f-resh .rule-name", "X-Served-By")
    page.fill("#f-resh .rule-value", "console")
    page.click("[data-testid=route-save]")
    page.wait("window.apigwConsole.view === 'apis'")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        doc = admin.routes("default")[0]
        if doc.get("responseHeaders"):
            break
        time.sleep(0.05)
    assert doc.get("timeoutSeconds") is None, doc
    assert doc.get("circuitBreaker") is None, doc
    assert not doc.get("requestHeaders"), doc
    assert doc["responseHeaders"] == [{"action": "set", "name": "X-Served-By",
                                       "value": "console"}], doc
    r = wait_status(gw.url("/ui/kb"), 200)
    assert r.headers.get("X-Served-By") == "console"


def test_phone_viewport_has_no_horizontal_overflow(console, backend):
    gw, admin, page = console
    for i in range(3):
        admin.register({"path": "/ui/a-rather-long-path/segment/%d/{id}" % i,
                        "targetUrl": backend.url + "/some/long/target/path/{id}",
                        "methods": ["GET", "POST", "PUT", "DELETE"],
                        "rateLimit": {"average": 100, "period": "1s"}})
    page.viewport(390, 844, mobile=True)
    page.reload()
    page.wait("window.apigwConsole.view === 'apis'")
    page.wait_rows(lambda rows: len(rows) == 3, "three routes")
    overflow = ("document.documentElement.scrollWidth - "
                "document.documentElement.clientWidth")
    assert page.js(overflow) <= 0
    # the table reflowed: each cell on a line of its own
    assert page.js("getComputedStyle(document.querySelector('#routes-body td')).display") != "table-cell"
    for tab in ("general", "security", "transform", "resilience"):
        if tab == "general":
            page.go("#edit/" + admin.routes("default")[0]["id"])
            page.wait("window.apigwConsole.view === 'editor'")
        page.click("[data-testid=tab-%s]" % tab)
        assert page.js(overflow) <= 0, tab
    page.go("#operations")
    page.wait("window.apigwConsole.view === 'ops'")
    page.wait("document.getElementById('ops-time').textContent", what="the operations")
    assert page.js(overflow) <= 0


# ---------------------------------------------------------------- API keys

KEYS_CONF = """
<ApiEndpoint "/ui/keyed">
  ApiBackend {b}/keyed
  AuthType apikey
  AuthName "api"
  ApiKeyStore on
  Require valid-user
</ApiEndpoint>
"""


def keyed_status(gw, key, code, timeout=5.0):
    """Requests with key on fresh connections until one answers code."""
    deadline = time.monotonic() + timeout
    while True:
        r = requests.get(gw.url("/ui/keyed"), timeout=10,
                         headers={"Connection": "close", "X-API-Key": key})
        if r.status_code == code or time.monotonic() > deadline:
            assert r.status_code == code, (r.status_code, r.text[:200])
            return r
        time.sleep(0.02)


def test_api_key_created_shown_once_listed_and_revoked(store, backend,
                                                       gateway, browser):
    gw = gateway(console_conf(store, KEYS_CONF.format(b=backend.url)))
    admin = Admin(gw)
    page = ConsolePage(browser, gw.url("/admin/"))
    page.wait("window.apigwConsole.view === 'apis'")
    page.click("[data-testid=nav-keys]")
    page.wait("window.apigwConsole.view === 'keys'")
    assert page.js("document.getElementById('nav-keys')"
                   ".getAttribute('aria-current')") == "page"
    page.wait_visible("[data-testid=keys-empty]")

    # a name the server refuses: its error beside the field, focused
    page.fill("#k-name", "has space")
    page.click("[data-testid=key-create]")
    err = page.wait("(() => { const p = document.querySelector("
                    "'#key-form [data-testid=field-error]');"
                    " return p && p.textContent; })()", what="the name's error")
    assert "64 characters" in err, err
    assert page.js("document.getElementById('k-name')"
                   ".getAttribute('aria-invalid')") == "true"
    assert page.focused() == "k-name"
    assert admin.get("/apikeys").json() == {"apiKeys": []}

    # created: the key shown once, with the note that says so
    page.fill("#k-name", "ui-bot")
    page.fill("#k-roles", "reader, writer")
    page.click("[data-testid=key-create]")
    page.wait_visible("[data-testid=key-created]")
    key = page.js("document.getElementById('key-created-value').value")
    assert re.match(r"^agw_[A-Za-z0-9_-]{43}$", key), key
    assert "will not be shown again" in page.text("[data-testid=key-created]")
    assert page.focused() == "key-created-value"
    assert not page.exists("#key-form [data-testid=field-error]")
    assert page.js("document.getElementById('k-name').value") == ""
    # listed, on the page and by the API
    row = "#keys-body tr[data-name=\"ui-bot\"]"
    page.wait_visible(row)
    assert "reader" in page.text(row) and "writer" in page.text(row)
    assert [(k["name"], k["roles"]) for k in
            admin.get("/apikeys").json()["apiKeys"]] == [
        ("ui-bot", ["reader", "writer"])]
    # it works at the gateway
    r = keyed_status(gw, key, 200)
    assert r.json()["path"] == "/keyed"

    # another view and back: the key is no longer on the page
    page.go("#apis")
    page.wait("window.apigwConsole.view === 'apis'")
    page.go("#apikeys")
    page.wait("window.apigwConsole.view === 'keys'")
    page.wait_visible(row)
    assert not page.visible("[data-testid=key-created]")
    assert page.js("Array.from(document.querySelectorAll('input'))"
                   ".every(i => !i.value.includes(%s))"
                   " && !document.body.textContent.includes(%s)"
                   % (json.dumps(key), json.dumps(key)))

    # the phone-size viewport: no horizontal scrolling here either
    page.viewport(390, 844, mobile=True)
    assert page.js("document.documentElement.scrollWidth - "
                   "document.documentElement.clientWidth") <= 0
    page.viewport(1280, 800)

    # revoked after a confirmation (cancelled once: kept)
    page.click(row + " [data-testid=revoke]")
    page.wait_visible("[data-testid=confirm-ok]")
    assert "ui-bot" in page.text("#confirm-title")
    page.click("[data-testid=confirm-cancel]")
    assert len(admin.get("/apikeys").json()["apiKeys"]) == 1
    page.click(row + " [data-testid=revoke]")
    page.wait_visible("[data-testid=confirm-ok]")
    assert page.text("#confirm-ok") == "Revoke"
    page.click("[data-testid=confirm-ok]")
    page.wait_visible("[data-testid=keys-empty]")
    assert admin.get("/apikeys").json() == {"apiKeys": []}
    keyed_status(gw, key, 401)
    assert page.banner() == ""
    page.drain()
    assert page.problems() == []
    # the page never put the key in a log
    assert key not in gw.error_log_text() + gw.access_log_text()


# ---------------------------------------------------------------- operations

OPS_CONF = """
<Proxy balancer://pool>
  BalancerMember {a}
  BalancerMember {b}
  ProxySet lbmethod=failover
</Proxy>
ApiBalancerSuspend balancer://pool codes=connect-refused initial=60s
ProxyPass /p balancer://pool
"""


def operations_ready(gw):
    """Whether the gateway's operations query reports pools (the data of
    mod_apigw_breaker); the reason when not."""
    r = requests.post(gw.url("/admin/graphql"), timeout=10,
                      json={"query": "{ operations { pools { name members { name state } } } }"})
    if r.status_code == 404:
        return "no /admin/graphql on this gateway"
    try:
        doc = r.json()
    except ValueError:
        return "/admin/graphql answered %d %s" % (r.status_code, r.text[:200])
    if doc.get("errors"):
        return "operations: %s" % doc["errors"][0].get("message")
    if not (doc.get("data") or {}).get("operations", {}).get("pools"):
        return "operations reports no pool: %r" % doc
    return None


@pytest.mark.allow_log(*MEMBER_FAILURE_TAGS)
def test_operations_member_suspended_and_resumed(store, members, gateway, browser):
    a, b = members("a"), members("b")
    gw = gateway(console_conf(store, OPS_CONF.format(a=a.url, b=b.url)))
    why = operations_ready(gw)
    if why:
        pytest.skip("the operations data of mod_apigw_breaker is not "
                    "there yet: " + why)
    page = ConsolePage(browser, gw.url("/admin/#operations"))
    page.wait("window.apigwConsole.view === 'ops'")
    member = "[data-testid=member-row][data-member=%s]" % json.dumps(a.url)
    page.wait("(() => { const r = document.querySelector(%s);"
              " return r && r.dataset.state === 'active'; })()" % json.dumps(member),
              what="member a active")
    # a killed: the next request to it is refused, a is suspended
    a.kill()
    for _ in range(3):
        assert requests.get(gw.url("/p/x"), timeout=10).status_code == 200
    page.wait("(() => { const r = document.querySelector(%s);"
              " return r && r.dataset.state === 'suspended'; })()" % json.dumps(member),
              timeout=10, what="member a suspended (refreshed every 3 s)")
    assert page.text(member + " [data-testid=member-state]") == "suspended"
    assert page.exists(member + " [data-testid=resume]")
    # back, and resumed from the page
    a.start()
    page.click(member + " [data-testid=resume]")
    page.wait("(() => { const r = document.querySelector(%s);"
              " return r && r.dataset.state === 'active'; })()" % json.dumps(member),
              what="member a resumed")
    deadline = time.monotonic() + 5
    seen = set()
    while "a" not in seen and time.monotonic() < deadline:
        seen.add(requests.get(gw.url("/p/x"), timeout=10).headers.get("X-Member"))
    assert "a" in seen, seen
    page.drain()
    assert page.problems() == []


# ---------------------------------------------------------------- screenshots

def save_screenshots(page, admin, backend_url, folder=DOCS_IMG):
    """docs/img/console-*.png at 1280x800: the dashboard, each tab of the
    editor and the operations view."""
    os.makedirs(folder, exist_ok=True)
    examples = [
        {"path": "/v1/users/{id}", "targetUrl": backend_url + "/users/{id}",
         "methods": ["GET", "PUT", "DELETE"],
         "cors": {"allowOrigins": ["https://app.example.com"], "allowCredentials": True,
                  "allowHeaders": ["Authorization", "Content-Type"], "maxAgeSeconds": 600},
         "rateLimit": {"average": 100, "period": "1s", "burst": 20, "by": "ip"},
         "requestHeaders": [{"action": "set", "name": "X-Gateway", "value": "apigw"},
                            {"action": "unset", "name": "Cookie"}],
         "responseHeaders": [{"action": "set", "name": "Cache-Control", "value": "no-store"}],
         "pathRewrite": {"type": "stripPrefix", "value": "/v1"},
         "queryPolicy": {"mode": "allow", "names": ["fields", "expand"]},
         "bodyLimits": {"requestBytes": 1048576},
         "timeoutSeconds": 15,
         "circuitBreaker": {"preset": "errors-50", "fallbackSeconds": 30}},
        {"path": "/v1/orders", "targetUrl": "balancer://pool/orders",
         "methods": ["GET", "POST"], "cacheTtlSeconds": 30},
        {"path": "/v1/search/*", "targetUrl": backend_url + "/search/{*}",
         "enabled": False},
    ]
    ids = [admin.register(doc)["id"] for doc in examples]
    page.viewport(1280, 800)
    page.go("#apis")
    page.reload()
    page.wait("window.apigwConsole.view === 'apis'")
    page.wait_rows(lambda rows: len(rows) == 3, "the examples")
    shots = ["console-dashboard.png"]
    page.screenshot(os.path.join(folder, shots[0]))
    page.go("#edit/" + ids[0])
    page.wait("window.apigwConsole.view === 'editor'")
    for tab in ("general", "security", "transform", "resilience"):
        page.click("[data-testid=tab-%s]" % tab)
        page.js("document.activeElement.blur()")
        name = "console-tab-%s.png" % tab
        page.screenshot(os.path.join(folder, name))
        shots.append(name)
    page.go("#operations")
    page.wait("window.apigwConsole.view === 'ops'")
    page.wait("document.getElementById('ops-time').textContent", what="operations")
    page.screenshot(os.path.join(folder, "console-operations.png"))
    shots.append("console-operations.png")
    return shots


@pytest.mark.skipif(os.environ.get("APIGW_CONSOLE_SCREENSHOTS") != "1",
                    reason="writes docs/img/console-*.png: opt in with "
                           "APIGW_CONSOLE_SCREENSHOTS=1")
@pytest.mark.allow_log(*MEMBER_FAILURE_TAGS)
def test_screenshots(store, backend, members, gateway, browser):
    a, b = members("a"), members("b")
    gw = gateway(console_conf(store, OPS_CONF.format(a=a.url, b=b.url) + """
<ApiEndpoint "/v1/stock">
  ApiBackend balancer://pool/stock
  ApiRateLimit average=50 period=1s burst=10
  ApiCircuitBreaker "NetworkErrorRatio() > 0.5"
</ApiEndpoint>
"""))
    page = ConsolePage(browser, gw.url("/admin/"))
    a.kill()
    for _ in range(3):
        requests.get(gw.url("/p/x"), timeout=10)
        requests.get(gw.url("/v1/stock"), timeout=10)
    shots = save_screenshots(page, Admin(gw), backend.url)
    assert len(shots) == 6


if __name__ == "__main__":
    os.environ["APIGW_CONSOLE_SCREENSHOTS"] = "1"
    sys.exit(pytest.main([__file__, "-k", "screenshots", "-p", "no:cacheprovider"]
                         + sys.argv[1:]))

# Bot detection at the gateway (ApiBotAllow, ApiBotDeny, ApiBotPatterns,
# ApiBotEmptyUserAgent; KrakenD's security/bot-detector): a refused
# User-Agent is answered 403 with the gateway's JSON error before any
# backend is contacted, before authentication and rate limits, CORS
# preflights included; the allow-list beats the deny-list and the
# patterns; an endpoint's settings replace its server's directive by
# directive; a runtime route takes its server's; a pattern too costly to
# match refuses the request within its bounds; what is logged, at which
# level; and configtest's refusals.
import os
import time

import pytest
import requests
from urllib3.util import SKIP_HEADER

from conftest import raw_request
from test_admin_api import Admin, admin_conf, route, store_dir  # noqa: F401


def bots_conf(b):
    return f"""
ApiBotPatterns "(?i)curl" "^python-urllib/"
ApiBotDeny "EvilBot/1.0" "Mozilla/5.0 (compatible; BadCrawler/2.1)"

<ApiEndpoint "/v1/open">
  ApiBackend {b.url}/open
</ApiEndpoint>
<ApiEndpoint "/v1/strict">
  ApiBackend {b.url}/strict
  ApiBotAllow "curl/8.0 (trusted-monitor)" EvilBot/1.0
  ApiBotEmptyUserAgent deny
</ApiEndpoint>
<ApiEndpoint "/v1/override">
  ApiBackend {b.url}/override
  ApiBotPatterns "^Scrapy/"
</ApiEndpoint>
<ApiEndpoint "/v1/cors" GET PUT>
  ApiBackend {b.url}/cors
  ApiCorsAllowOrigins http://app.example.test
</ApiEndpoint>
<ApiEndpoint "/v1/pass" GET OPTIONS>
  ApiBackend {b.url}/pass
  ApiCorsAllowOrigins http://app.example.test
  ApiCorsPreflight passthrough
</ApiEndpoint>
<ApiEndpoint "/v1/auth">
  ApiBackend {b.url}/auth
  AuthType Basic
  AuthName gw
  AuthBasicProvider file
  AuthUserFile /nonexistent/htpasswd
  Require valid-user
</ApiEndpoint>
<ApiEndpoint "/v1/limited">
  ApiBackend {b.url}/limited
  ApiRateLimit average=2 period=1m burst=2
</ApiEndpoint>
<ApiEndpoint "/v1/agg/{{id}}">
  ApiBackend {b.url}/one/{{id}} group=one
  ApiBackend {b.url}/two/{{id}} group=two
</ApiEndpoint>
<ApiEndpoint "/v1/costly">
  ApiBackend {b.url}/costly
  ApiBotPatterns "^(a+)+$"
</ApiEndpoint>
"""


BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"


def get(gw, path, ua=BROWSER, **kw):
    """ua None: no User-Agent at all (urllib3 would add its own)."""
    return requests.get(gw.url(path), headers={
        "User-Agent": SKIP_HEADER if ua is None else ua}, timeout=10, **kw)


def expect_refused(r):
    assert r.status_code == 403, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {"status": 403, "error": "Forbidden"}


def test_deny_list_is_exact(backend, gateway):
    gw = gateway(bots_conf(backend))
    before = backend.stats()["requests"]
    expect_refused(get(gw, "/v1/open", "EvilBot/1.0"))
    expect_refused(get(gw, "/v1/open",
                       "Mozilla/5.0 (compatible; BadCrawler/2.1)"))
    assert backend.stats()["requests"] == before
    # exact and case-sensitive: anything else is admitted
    for ua in ("evilbot/1.0", "EvilBot/1.01", "xEvilBot/1.0", BROWSER):
        assert get(gw, "/v1/open", ua).status_code == 200, ua
    assert backend.stats()["requests"] == before + 4


def test_patterns_search_anywhere(backend, gateway):
    gw = gateway(bots_conf(backend))
    before = backend.stats()["requests"]
    for ua in ("curl/8.5.0", "Mozilla/5.0 libCURL-based", "python-urllib/3.11"):
        expect_refused(get(gw, "/v1/open", ua))
    assert backend.stats()["requests"] == before
    # "^python-urllib/" is anchored: elsewhere in the value it does not match
    assert get(gw, "/v1/open", "my python-urllib/3").status_code == 200
    # the default: a request without User-Agent is admitted
    assert get(gw, "/v1/open", None).status_code == 200


def test_allow_list_beats_deny_list_and_patterns(backend, gateway):
    gw = gateway(bots_conf(backend))
    # on the endpoint's allow-list: admitted despite the server's pattern
    # and deny-list
    assert get(gw, "/v1/strict", "curl/8.0 (trusted-monitor)").status_code == 200
    assert get(gw, "/v1/strict", "EvilBot/1.0").status_code == 200
    # the same values elsewhere are still refused
    expect_refused(get(gw, "/v1/open", "curl/8.0 (trusted-monitor)"))
    expect_refused(get(gw, "/v1/open", "EvilBot/1.0"))
    # exact: another curl is refused on the endpoint too
    expect_refused(get(gw, "/v1/strict", "curl/8.0"))


def test_endpoint_replaces_server_per_directive(backend, gateway):
    gw = gateway(bots_conf(backend))
    # the endpoint's ApiBotPatterns replace the server's ...
    assert get(gw, "/v1/override", "curl/8.5.0").status_code == 200
    expect_refused(get(gw, "/v1/override", "Scrapy/2.11 (+https://scrapy.org)"))
    assert get(gw, "/v1/override", "NotScrapy/2.11").status_code == 200
    # ... while the server's ApiBotDeny still applies there
    expect_refused(get(gw, "/v1/override", "EvilBot/1.0"))


def test_empty_user_agent(backend, gateway):
    gw = gateway(bots_conf(backend))
    before = backend.stats()["requests"]
    expect_refused(get(gw, "/v1/strict", None))
    # an empty header is no User-Agent either
    r = raw_request(gw.port, b"GET /v1/strict HTTP/1.1\r\nHost: x\r\n"
                    b"User-Agent: \r\nConnection: close\r\n\r\n")
    assert r.status == 403 and r.json() == {"status": 403, "error": "Forbidden"}
    assert backend.stats()["requests"] == before
    assert get(gw, "/v1/strict").status_code == 200
    # where ApiBotEmptyUserAgent is not set: allowed
    r = raw_request(gw.port, b"GET /v1/open HTTP/1.1\r\nHost: x\r\n"
                    b"Connection: close\r\n\r\n")
    assert r.status == 200


def preflight(gw, path, ua):
    return requests.options(gw.url(path), headers={
        "Origin": "http://app.example.test",
        "Access-Control-Request-Method": "PUT", "User-Agent": ua},
        timeout=10)


def test_preflight_is_checked(backend, gateway):
    gw = gateway(bots_conf(backend))
    before = backend.stats()["requests"]
    r = preflight(gw, "/v1/cors", BROWSER)
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == "http://app.example.test"
    # answered by the gateway at the same point, refused the same way,
    # without CORS headers (the browser stops there)
    r = preflight(gw, "/v1/cors", "curl/8.5.0")
    expect_refused(r)
    assert "Access-Control-Allow-Origin" not in r.headers
    # a preflight passed through to the backend is checked too
    expect_refused(preflight(gw, "/v1/pass", "EvilBot/1.0"))
    assert backend.stats()["requests"] == before
    assert preflight(gw, "/v1/pass", BROWSER).status_code == 200
    assert backend.stats()["requests"] == before + 1
    # the actual request from an allowed origin: refused, with the CORS
    # headers an error of a CORS endpoint gets
    r = requests.put(gw.url("/v1/cors"), headers={
        "Origin": "http://app.example.test", "User-Agent": "curl/8"},
        timeout=10)
    expect_refused(r)
    assert r.headers["Access-Control-Allow-Origin"] == "http://app.example.test"
    gw.wait_access_log('"OPTIONS /v1/cors HTTP/1.1" 403')


def test_refused_before_authentication(backend, gateway):
    gw = gateway(bots_conf(backend))
    expect_refused(get(gw, "/v1/auth", "curl/8.5.0"))
    # a client that is admitted meets authentication
    r = get(gw, "/v1/auth")
    assert r.status_code == 401, r.text


def test_refused_before_rate_limits(backend, gateway):
    gw = gateway(bots_conf(backend))
    before = backend.stats()["requests"]
    for _ in range(5):
        expect_refused(get(gw, "/v1/limited", "EvilBot/1.0"))
    assert backend.stats()["requests"] == before
    # the refusals took nothing from the bucket (burst 2)
    assert get(gw, "/v1/limited").status_code == 200
    assert get(gw, "/v1/limited").status_code == 200
    assert get(gw, "/v1/limited").status_code == 429


def test_aggregating_endpoint(backend, gateway):
    gw = gateway(bots_conf(backend))
    before = backend.stats()["requests"]
    expect_refused(get(gw, "/v1/agg/7", "curl/8.5.0"))
    assert backend.stats()["requests"] == before
    r = get(gw, "/v1/agg/7")
    assert r.status_code == 200, r.text
    assert backend.stats()["requests"] == before + 2


@pytest.mark.serial         # wall-clock bounds: run alone
@pytest.mark.allow_log("AGW00651")
def test_costly_pattern_is_bounded(backend, gateway):
    gw = gateway(bots_conf(backend))
    assert get(gw, "/v1/costly").status_code == 200
    expect_refused(get(gw, "/v1/costly", "a" * 20))
    before = backend.stats()["requests"]
    # "^(a+)+$" on a's and a '!' backtracks exponentially: the match is
    # cut off at its bound and the request refused
    t = time.monotonic()
    expect_refused(get(gw, "/v1/costly", "a" * 40 + "!"))
    assert time.monotonic() - t < 2
    assert backend.stats()["requests"] == before
    assert "AGW00651" in gw.error_log_text()
    assert "^(a+)+$" in gw.error_log_text()


def test_log_lines(backend, gateway):
    gw = gateway(bots_conf(backend), env={"APIGW_LOGLEVEL": "info"})
    expect_refused(get(gw, "/v1/open", "EvilBot/1.0"))
    expect_refused(get(gw, "/v1/open", "x curl y"))
    expect_refused(get(gw, "/v1/strict", None))
    log = gw.error_log_text()
    lines = [l for l in log.splitlines() if "AGW00650" in l]
    assert len(lines) == 3, log
    assert all("[apigw:info]" in l and "/v1/" in l for l in lines), lines
    assert "ApiBotDeny" in lines[0]
    assert 'ApiBotPatterns "(?i)curl"' in lines[1]
    assert "ApiBotEmptyUserAgent deny" in lines[2]
    # the User-Agent itself only at debug
    assert "EvilBot" not in log and "x curl y" not in log
    assert "AGW00652" not in log


def test_user_agent_logged_at_debug(backend, gateway):
    gw = gateway(bots_conf(backend),
                 env={"APIGW_LOGLEVEL": "warn apigw:debug"})
    expect_refused(get(gw, "/v1/open", "EvilBot/1.0"))
    deadline = time.monotonic() + 5
    while "AGW00652" not in gw.error_log_text() and time.monotonic() < deadline:
        time.sleep(0.02)
    lines = [l for l in gw.error_log_text().splitlines() if "AGW00652" in l]
    assert len(lines) == 1 and '"EvilBot/1.0"' in lines[0], lines


def test_without_bot_directives_nothing_changes(backend, gateway):
    gw = gateway(f"""
<ApiEndpoint "/v1/plain">
  ApiBackend {backend.url}/plain
  ApiCorsAllowOrigins http://app.example.test
</ApiEndpoint>""")
    for ua in ("curl/8.5.0", "EvilBot/1.0", None):
        assert get(gw, "/v1/plain", ua).status_code == 200


def test_runtime_route_takes_the_servers_rules(store_dir, backend, gateway):
    store = "sqlite3:" + os.path.join(store_dir, "routes.sqlite")
    gw = gateway(admin_conf(store, 'ApiBotDeny "EvilBot/1.0"\n'))
    admin = Admin(gw)
    admin.register(route("/rt/bots", backend.url + "/rt"))
    deadline = time.monotonic() + 3
    while get(gw, "/rt/bots").status_code != 200:
        assert time.monotonic() < deadline, "the route is not served"
        time.sleep(0.02)
    before = backend.stats()["requests"]
    expect_refused(get(gw, "/rt/bots", "EvilBot/1.0"))
    assert backend.stats()["requests"] == before
    # the admin API is no endpoint: no bot policy there
    assert admin.get("/routes", headers={"User-Agent": "EvilBot/1.0"}) \
        .status_code == 200


# ------------------------------------------------------------ configtest

def at(out, path, line):
    return ("line %d of %s" % (line, path) in out
            or "%s:%d" % (path, line) in out)


B = "http://127.0.0.1:9"        # never contacted: configtest only

CASES = [
    ("bad-regex", f"""
<ApiEndpoint "/v1/a">
  ApiBackend {B}/a
  ApiBotPatterns "^ok" "(unclosed"
</ApiEndpoint>
""", "ApiBotPatterns", ['ApiBotPatterns: regex "(unclosed" does not compile',
                        "missing closing parenthesis"]),
    ("bad-regex-server", """
ApiBotPatterns "a{2,1}"
""", "ApiBotPatterns", ['regex "a{2,1}" does not compile', "out of order"]),
    ("empty-ua-word", f"""
<ApiEndpoint "/v1/a">
  ApiBackend {B}/a
  ApiBotEmptyUserAgent maybe
</ApiEndpoint>
""", "ApiBotEmptyUserAgent", ["'maybe' is neither allow nor deny"]),
    ("control-character", f"""
<ApiEndpoint "/v1/a">
  ApiBackend {B}/a
  ApiBotDeny EvilBot "Bad\x01Bot"
</ApiEndpoint>
""", "ApiBotDeny", ["ApiBotDeny: 'Bad", "holds CR, LF or another control "
                    "character"]),
    ("trailing-space", f"""
<ApiEndpoint "/v1/a">
  ApiBackend {B}/a
  ApiBotAllow "Monitor/1.0 "
</ApiEndpoint>
""", "ApiBotAllow", ["'Monitor/1.0 ' starts or ends with a space"]),
    ("in-location", """
<Location "/x">
  ApiBotDeny EvilBot
</Location>
""", "ApiBotDeny", ["ApiBotDeny belongs in the server config, a "
                    "<VirtualHost> or an <ApiEndpoint>"]),
]


@pytest.mark.parametrize("conf,needle,parts", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_configtest_refuses(configtest, conf, needle, parts):
    ok, out = configtest(conf)
    assert not ok, out
    assert at(out, configtest.path, configtest.line(needle)), out
    for part in parts:
        assert part in out, out


def test_configtest_accepts(configtest):
    ok, out = configtest(f"""
ApiBotEmptyUserAgent allow
ApiBotPatterns "(?i)(bot|crawler|spider)" "^Go-http-client/"
<VirtualHost 127.0.0.1:@PORT@>
  ApiBotDeny "BadBot/1.0"
  <ApiEndpoint "/v1/a">
    ApiBackend {B}/a
    ApiBotAllow "Googlebot/2.1 (+http://www.google.com/bot.html)"
    ApiBotEmptyUserAgent Deny
  </ApiEndpoint>
</VirtualHost>
""")
    assert ok, out

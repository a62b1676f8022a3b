# CORS at the gateway (ApiCors*): what a real headless Chromium lets a
# page's JavaScript see when it calls the gateway from another origin —
# simple requests, preflighted ones with a custom header and a non-simple
# method, credentials, a denied origin, a wildcard-subdomain origin, an
# exposed header — and, header by header over plain HTTP, the preflight
# answers (never reaching the backend), the allow-list, Vary, max age,
# private network access, passthrough, the backend's own CORS headers
# being replaced, inheritance from the server, and configtest errors.
import requests
import pytest

from conftest import free_port
from policy_util import browser, pages  # noqa: F401  (fixtures)


def cors_conf(b, page_port):
    page = "http://127.0.0.1:%d" % page_port
    return f"""
<ApiEndpoint "/v1/open/*" GET POST PUT>
  ApiBackend {b.url}/{{*}}
  ApiCors On
</ApiEndpoint>
<ApiEndpoint "/v1/listed/*" GET PUT DELETE>
  ApiBackend {b.url}/{{*}}
  ApiInputHeaders Cookie X-Custom
  ApiCorsAllowOrigins {page} http://*.example.test:{page_port}
  ApiCorsAllowHeaders X-Custom Content-Type
  ApiCorsExposeHeaders X-Backend
  ApiCorsAllowCredentials On
  ApiCorsMaxAge 10m
</ApiEndpoint>
<ApiEndpoint "/v1/denied">
  ApiBackend {b.url}/denied
  ApiCorsAllowOrigins https://app.example.com
</ApiEndpoint>
<ApiEndpoint "/v1/nocred">
  ApiBackend {b.url}/nocred
  ApiCorsAllowOrigins {page}
</ApiEndpoint>
<ApiEndpoint "/v1/methods/*" GET POST PUT>
  ApiBackend {b.url}/{{*}}
  ApiCorsAllowOrigins {page}
  ApiCorsAllowMethods GET POST
  ApiCorsAllowHeaders *
</ApiEndpoint>
<ApiEndpoint "/v1/pass/*" GET OPTIONS>
  ApiBackend {b.url}/{{*}}
  ApiCorsAllowOrigins {page}
  ApiCorsPreflight passthrough
</ApiEndpoint>
<ApiEndpoint "/v1/status200">
  ApiBackend {b.url}/status200
  ApiCorsAllowOrigins {page}
  ApiCorsPreflight answer 200
  ApiCorsAllowPrivateNetwork On
</ApiEndpoint>
<ApiEndpoint "/v1/plain">
  ApiBackend {b.url}/plain
</ApiEndpoint>
"""


def preflight(url, origin, method="GET", headers=None, extra=None):
    h = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        h["Access-Control-Request-Headers"] = headers
    h.update(extra or {})
    return requests.options(url, headers=h)


def vary(r):
    return [v.strip() for v in r.headers["Vary"].split(",")]


# ------------------------------------------------------------ the browser

def test_browser_simple_request_any_origin(backend, gateway, pages, browser):
    gw = gateway(cors_conf(backend, pages.port))
    page = browser.open("http://127.0.0.1:%d/" % pages.port)
    got = page.fetch(gw.url("/v1/open/things"), read_headers=["X-Backend"])
    assert got["ok"], got
    assert got["status"] == 200
    assert '"path": "/things"' in got["body"]
    # not exposed: JavaScript cannot read it
    assert got["headers"]["X-Backend"] is None


def test_browser_preflighted_request_with_custom_header(backend, gateway,
                                                        pages, browser):
    gw = gateway(cors_conf(backend, pages.port))
    page = browser.open("http://127.0.0.1:%d/" % pages.port)
    before = backend.stats()["requests"]
    got = page.fetch(gw.url("/v1/listed/items"),
                     {"method": "PUT", "headers": {"X-Custom": "from-js",
                                                   "Content-Type": "application/json"},
                      "body": '{"a":1}'},
                     read_headers=["X-Backend"])
    assert got["ok"], got
    assert got["status"] == 200
    import json
    doc = json.loads(got["body"])
    assert doc["method"] == "PUT" and doc["headers"]["X-Custom"] == "from-js"
    # exposed: JavaScript reads it
    assert got["headers"]["X-Backend"] == "backend"
    # the preflight was answered by the gateway: one request reached the
    # backend, the PUT itself
    assert backend.stats()["requests"] - before == 1
    # each line lands after its answer was sent: wait for both
    gw.wait_access_log('"OPTIONS /v1/listed/items HTTP/1.1" 204')
    gw.wait_access_log('"PUT /v1/listed/items HTTP/1.1" 200')


def test_browser_credentials(backend, gateway, pages, browser):
    gw = gateway(cors_conf(backend, pages.port))
    page = browser.open("http://127.0.0.1:%d/" % pages.port)
    # a cookie of 127.0.0.1 (cookies ignore ports): sent with credentials
    page.evaluate("document.cookie = 'sid=s3cret; path=/'")
    got = page.fetch(gw.url("/v1/listed/me"), {"credentials": "include"})
    assert got["ok"], got
    assert "sid=s3cret" in got["body"]
    # without ApiCorsAllowCredentials the browser refuses the answer
    got = page.fetch(gw.url("/v1/nocred"), {"credentials": "include"})
    assert not got["ok"], got
    assert "Failed to fetch" in got["error"]
    # ... but the same call without credentials is fine
    got = page.fetch(gw.url("/v1/nocred"))
    assert got["ok"] and got["status"] == 200, got


def test_browser_denied_origin(backend, gateway, pages, browser):
    gw = gateway(cors_conf(backend, pages.port))
    page = browser.open("http://127.0.0.1:%d/" % pages.port)
    got = page.fetch(gw.url("/v1/denied"))
    assert not got["ok"], got
    assert "Failed to fetch" in got["error"]
    # a preflighted call is stopped at the preflight: the backend never
    # sees the PUT
    before = backend.stats()["requests"]
    got = page.fetch(gw.url("/v1/methods/x"), {"method": "PUT"})
    assert not got["ok"], got
    assert backend.stats()["requests"] == before
    # an endpoint without CORS: the browser blocks it as well
    got = page.fetch(gw.url("/v1/plain"))
    assert not got["ok"], got


def test_browser_wildcard_subdomain_origin(backend, gateway, pages, browser):
    gw = gateway(cors_conf(backend, pages.port))
    # the page at app.example.test, the gateway at api.example.test: the
    # allow-list has http://*.example.test:PORT
    page = browser.open("http://app.example.test:%d/" % pages.port)
    url = "http://api.example.test:%d/v1/listed/w" % gw.port
    got = page.fetch(url, {"headers": {"X-Custom": "1"}},
                     read_headers=["X-Backend"])
    assert got["ok"], got
    assert got["headers"]["X-Backend"] == "backend"
    # the same page on another port is another origin: not listed
    page2 = browser.open("http://127.0.0.1:%d/" % pages.port)
    got = page2.fetch("http://api.example.test:%d/v1/denied" % gw.port)
    assert not got["ok"], got


# ------------------------------------------------------------ header by header

def test_preflight_answered_by_the_gateway(backend, gateway, pages):
    gw = gateway(cors_conf(backend, pages.port))
    origin = "http://127.0.0.1:%d" % pages.port
    before = backend.stats()["requests"]
    r = preflight(gw.url("/v1/listed/a"), origin, "PUT", "x-custom, content-type")
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == origin
    assert r.headers["Access-Control-Allow-Credentials"] == "true"
    # what was asked, once checked (as KrakenD's rs/cors answers), never
    # the configured lists
    assert r.headers["Access-Control-Allow-Methods"] == "PUT"
    assert r.headers["Access-Control-Allow-Headers"] == "x-custom, content-type"
    assert r.headers["Access-Control-Max-Age"] == "600"
    assert vary(r) == ["Origin", "Access-Control-Request-Method",
                       "Access-Control-Request-Headers"]
    assert r.content == b""
    # the headers as the client wrote them; none asked, none answered
    r = preflight(gw.url("/v1/listed/a"), origin, "DELETE", "Content-Type,X-CUSTOM")
    assert r.headers["Access-Control-Allow-Methods"] == "DELETE"
    assert r.headers["Access-Control-Allow-Headers"] == "Content-Type,X-CUSTOM"
    r = preflight(gw.url("/v1/listed/a"), origin, "HEAD")
    assert r.headers["Access-Control-Allow-Methods"] == "HEAD"
    assert "Access-Control-Allow-Headers" not in r.headers
    # any origin, no credentials: "*"
    r = preflight(gw.url("/v1/open/a"), "https://anyone.example.org", "PUT")
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in r.headers
    assert r.headers["Access-Control-Allow-Methods"] == "PUT"
    # configured status
    r = preflight(gw.url("/v1/status200"), origin)
    assert r.status_code == 200 and r.headers["Content-Length"] == "0"
    assert backend.stats()["requests"] == before


def test_preflight_refusals_carry_no_cors_headers(backend, gateway, pages):
    gw = gateway(cors_conf(backend, pages.port))
    origin = "http://127.0.0.1:%d" % pages.port
    before = backend.stats()["requests"]
    cases = [
        ("/v1/listed/a", "http://127.0.0.1:1", "GET", None),      # origin
        ("/v1/listed/a", "http://evil.example.test:%d" % pages.port + ".evil",
         "GET", None),
        ("/v1/listed/a", origin, "GET", "X-Other"),               # header
        ("/v1/listed/a", origin, "GET", "X-Custom, X-Other"),
        ("/v1/methods/a", origin, "PUT", None),                   # method
        ("/v1/listed/a", origin, "POST", None),                   # not served
        ("/v1/listed/a", origin, "put", None),                    # case
        ("/v1/denied", "https://app.example.com", "DELETE", None),
        ("/v1/status200", origin, "PATCH", None),
    ]
    for path, o, m, h in cases:
        r = preflight(gw.url(path), o, m, h)
        assert r.status_code == (200 if path == "/v1/status200" else 204), \
            (path, o, m)
        assert r.content == b"" and "Content-Type" not in r.headers
        assert not [k for k in r.headers if k.lower().startswith("access-control-")], \
            (path, o, m, h, r.headers)
    assert backend.stats()["requests"] == before
    # ApiCorsAllowHeaders * reflects what is asked
    r = preflight(gw.url("/v1/methods/a"), origin, "POST", "X-A, X-B")
    assert r.headers["Access-Control-Allow-Headers"] == "X-A, X-B"
    assert r.headers["Access-Control-Allow-Methods"] == "POST"
    # a path no endpoint has is not the gateway's: httpd answers OPTIONS
    r = preflight(gw.url("/v2/nothing"), origin, "GET")
    assert r.status_code != 204
    assert not [k for k in r.headers if k.lower().startswith("access-control-")]


def test_actual_request_headers(backend, gateway, pages):
    gw = gateway(cors_conf(backend, pages.port))
    origin = "http://127.0.0.1:%d" % pages.port
    r = requests.get(gw.url("/v1/listed/a"), headers={"Origin": origin})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == origin
    assert r.headers["Access-Control-Allow-Credentials"] == "true"
    assert r.headers["Access-Control-Expose-Headers"] == "X-Backend"
    assert "Origin" in r.headers["Vary"]
    # wildcard subdomains: any depth, same scheme and port
    for o, ok in (("http://a.example.test:%d" % pages.port, True),
                  ("http://a.b.example.test:%d" % pages.port, True),
                  ("http://example.test:%d" % pages.port, False),
                  ("https://a.example.test:%d" % pages.port, False),
                  ("http://a.example.test:%d" % (pages.port + 1), False),
                  ("http://aexample.test:%d" % pages.port, False)):
        r = requests.get(gw.url("/v1/listed/a"), headers={"Origin": o})
        assert (r.headers.get("Access-Control-Allow-Origin") == o) == ok, o
    # a disallowed origin: no CORS header, the request otherwise unchanged
    r = requests.get(gw.url("/v1/listed/a"), headers={"Origin": "https://evil.test"})
    assert r.status_code == 200 and r.json()["path"] == "/a"
    assert not [k for k in r.headers if k.lower().startswith("access-control-")]
    assert "Origin" in r.headers["Vary"]
    # gateway errors carry them too (a browser can read the JSON error)
    r = requests.get(gw.url("/v1/listed/__status/503/"), headers={"Origin": origin})
    assert r.status_code == 503
    assert r.headers["Access-Control-Allow-Origin"] == origin


@pytest.mark.allow_log("AH00957", "AH01114", "AH01630")
def test_cors_and_security_headers_on_httpd_errors(backend, gateway):
    # errors httpd itself answers (a Require refusal, an unreachable
    # backend) start a fresh response: the gateway's headers still go on
    # it, once each
    origin = "https://app.example.test"
    gw = gateway(f"""
<ApiEndpoint "/v1/denied">
  ApiBackend {backend.url}/x
  ApiCorsAllowOrigins {origin}
  ApiSecurityHeaders On
  Require all denied
</ApiEndpoint>
<ApiEndpoint "/v1/down">
  ApiBackend http://127.0.0.1:{free_port()}/x
  ApiCorsAllowOrigins {origin}
  ApiCorsExposeHeaders X-Request-Id
  ApiSecurityHeaders On
</ApiEndpoint>
""")
    # an unreachable backend of a plain (non-balancer) endpoint is 502: the
    # gateway turns mod_proxy's 503 into it
    for path, status in (("/v1/denied", 403), ("/v1/down", 502)):
        r = requests.get(gw.url(path), headers={"Origin": origin})
        assert r.status_code == status, (path, r.status_code, r.text)
        assert r.headers["Content-Type"] == "application/json", path
        assert r.json()["status"] == status, (path, r.text)
        assert r.headers["Access-Control-Allow-Origin"] == origin, path
        assert r.headers["Vary"].count("Origin") == 1, r.headers["Vary"]
        assert r.headers["X-Frame-Options"] == "DENY", path
    assert r.headers["Access-Control-Expose-Headers"] == "X-Request-Id"


def test_backend_cors_headers_are_replaced(backend, gateway, pages):
    gw = gateway(cors_conf(backend, pages.port))
    origin = "http://127.0.0.1:%d" % pages.port
    r = requests.get(gw.url("/v1/listed/__header/200/Access-Control-Allow-Origin/*/"),
                     headers={"Origin": origin})
    assert r.headers["Access-Control-Allow-Origin"] == origin
    # several, next to each other and after another field: every one goes,
    # the gateway's take their place once, the other fields stay
    r = requests.get(gw.url("/v1/listed/__headers/200/5/"
                            "X-Before/1/"
                            "Access-Control-Allow-Origin/*/"
                            "access-control-expose-headers/X-Evil/"
                            "Access-Control-Allow-Credentials/false/"
                            "X-After/2/"), headers={"Origin": origin})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == origin
    assert r.headers["Access-Control-Expose-Headers"] == "X-Backend"
    assert r.headers["Access-Control-Allow-Credentials"] == "true"
    assert r.headers["X-Before"] == "1" and r.headers["X-After"] == "2"
    # endpoints without CORS pass the backend's through
    r = requests.get(gw.url("/v1/plain"))
    assert "Access-Control-Allow-Origin" not in r.headers


def test_private_network_and_passthrough(backend, gateway, pages):
    gw = gateway(cors_conf(backend, pages.port))
    origin = "http://127.0.0.1:%d" % pages.port
    r = preflight(gw.url("/v1/status200"), origin,
                  extra={"Access-Control-Request-Private-Network": "true"})
    assert r.headers["Access-Control-Allow-Private-Network"] == "true"
    r = preflight(gw.url("/v1/listed/a"), origin,
                  extra={"Access-Control-Request-Private-Network": "true"})
    assert "Access-Control-Allow-Private-Network" not in r.headers
    # passthrough: the backend gets the OPTIONS, the gateway adds its headers
    before = backend.stats()["requests"]
    r = preflight(gw.url("/v1/pass/x"), origin, "GET")
    assert r.status_code == 200
    assert r.json()["method"] == "OPTIONS" and r.json()["path"] == "/x"
    assert r.headers["Access-Control-Allow-Origin"] == origin
    assert r.headers["Access-Control-Allow-Methods"] == "GET"
    assert backend.stats()["requests"] == before + 1
    # a method the path does not serve: the backend still answers, the
    # gateway adds nothing
    r = preflight(gw.url("/v1/pass/x"), origin, "PUT")
    assert r.status_code == 200 and r.json()["method"] == "OPTIONS"
    assert not [k for k in r.headers if k.lower().startswith("access-control-")]
    # private network allowed: Vary names its request header too
    r = preflight(gw.url("/v1/status200"), origin)
    assert vary(r)[-1] == "Access-Control-Request-Private-Network"


def test_server_level_cors_is_inherited_and_can_be_turned_off(backend, gateway):
    gw = gateway(f"""
ApiCorsAllowOrigins https://app.example.com
ApiCorsMaxAge 30s
<VirtualHost 127.0.0.1:@PORT@>
  <ApiEndpoint "/v1/inner">
    ApiBackend {backend.url}/inner
    ApiCorsMaxAge 1m
  </ApiEndpoint>
</VirtualHost>
<ApiEndpoint "/v1/a">
  ApiBackend {backend.url}/a
</ApiEndpoint>
<ApiEndpoint "/v1/off">
  ApiBackend {backend.url}/off
  ApiCors Off
</ApiEndpoint>
""")
    o = "https://app.example.com"
    r = preflight(gw.url("/v1/a"), o)
    assert r.headers["Access-Control-Allow-Origin"] == o
    assert r.headers["Access-Control-Max-Age"] == "30"
    r = preflight(gw.url("/v1/inner"), o)
    assert r.headers["Access-Control-Max-Age"] == "60"
    assert r.headers["Access-Control-Allow-Origin"] == o
    r = requests.get(gw.url("/v1/off"), headers={"Origin": o})
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers
    assert preflight(gw.url("/v1/off"), o).status_code == 405


@pytest.mark.parametrize("body,needle", [
    ("ApiCorsAllowOrigins *\n  ApiCorsAllowCredentials On",
     "cannot be combined with ApiCorsAllowCredentials"),
    ("ApiCorsAllowCredentials On\n  ApiCorsAllowOrigins *",
     "cannot be combined with ApiCorsAllowCredentials"),
    ("ApiCorsAllowOrigins https://example.com/", "no path"),
    ("ApiCorsAllowOrigins example.com", "scheme://host"),
    ("ApiCorsAllowOrigins https://a.*.example.com", "first label"),
    ("ApiCorsAllowMethods get", "unknown method"),
    ("ApiCorsAllowHeaders X:Y", "not a valid header name"),
    ("ApiCorsMaxAge soon", "ApiCorsMaxAge soon"),
    ("ApiCorsPreflight answer 404", "2xx"),
    ("ApiCorsPreflight skip", "neither answer nor passthrough"),
])
def test_configtest_errors(configtest, body, needle):
    ok, out = configtest(f"""
<ApiEndpoint "/v1/x">
  ApiBackend http://127.0.0.1:9/x
  {body}
</ApiEndpoint>
""")
    assert not ok
    assert needle in out, out


def test_configtest_credentials_need_a_list_across_levels(configtest):
    ok, out = configtest("""
ApiCorsAllowCredentials On
<ApiEndpoint "/v1/x">
  ApiBackend http://127.0.0.1:9/x
</ApiEndpoint>
""")
    assert not ok
    assert "AGW00601" in out and "needs an ApiCorsAllowOrigins list" in out
    assert "configtest-1.conf:3" in out        # the endpoint's line


def test_configtest_cors_not_in_location(configtest):
    ok, out = configtest("""
<Location "/x">
  ApiCors On
</Location>
""")
    assert not ok
    assert "ApiCors belongs in the server config" in out

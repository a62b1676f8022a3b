# ApiRedirectTrailingSlash and ApiRedirectFixedPath (Gin's
# RedirectTrailingSlash and RedirectFixedPath, on in KrakenD): a request no
# endpoint serves is redirected to the path an endpoint of its method would
# serve — its trailing slash toggled, or its path cleaned and its static
# segments compared case-insensitively — 301 for GET, 307 for any other
# method, the query kept, the variables as the client spelled them. Off by
# default; each directive on its own; a virtual host's own setting; no
# redirect where nothing would match; hostile paths never give a Location
# off this host.
import pytest
import requests

from conftest import raw_request


def redirect_conf(b, fixed="On", slash="On"):
    lines = ""
    if fixed:
        lines += "ApiRedirectFixedPath %s\n" % fixed
    if slash:
        lines += "ApiRedirectTrailingSlash %s\n" % slash
    return lines + f"""
<ApiEndpoint "/static">
  ApiBackend {b.url}/static
</ApiEndpoint>
<ApiEndpoint "/v1/Users/{{user}}/Orders" GET POST>
  ApiBackend {b.url}/orders/{{user}}
</ApiEndpoint>
<ApiEndpoint "/v1/slash/">
  ApiBackend {b.url}/slash
</ApiEndpoint>
<ApiEndpoint "/v1/files/*">
  ApiBackend {b.url}/files/{{*}}
</ApiEndpoint>
<ApiEndpoint "/v1/reports/Report.{{fmt}}">
  ApiBackend {b.url}/reports/{{fmt}}
  ApiDisableRest On
</ApiEndpoint>
<ApiEndpoint "/{{tenant}}/home">
  ApiBackend {b.url}/home/{{tenant}}
</ApiEndpoint>
<ApiEndpoint "/v1/posted" POST>
  ApiBackend {b.url}/posted
</ApiEndpoint>
"""


def moved(gw, raw, target, method="GET", headers=None):
    """The redirect's status and Location, on the wire (nothing followed)."""
    resp = raw(gw.port, target, method=method, headers=headers)
    assert resp is not None, target
    return resp.status, resp.headers.get("location")


def test_fixed_path_case_and_cleaning(backend, gateway, raw):
    gw = gateway(redirect_conf(backend))
    before = backend.stats()["requests"]
    assert moved(gw, raw, "/StAtic") == (301, "/static")
    assert moved(gw, raw, "/STATIC/") == (301, "/static")
    # static text compared case-insensitively, variables kept as written
    assert moved(gw, raw, "/V1/USERS/AlIce/ORDERS") == \
        (301, "/v1/Users/AlIce/Orders")
    assert moved(gw, raw, "/v1/reports/REPORT.Csv") == \
        (301, "/v1/reports/Report.Csv")
    assert moved(gw, raw, "/V1/FILES/A/b.TXT") == (301, "/v1/files/A/b.TXT")
    assert moved(gw, raw, "/ACME/HOME") == (301, "/ACME/home")
    # what httpd leaves of "//", "/./", "/../" is cleaned too
    assert moved(gw, raw, "/v1/./USERS/x/../bob/orders") == \
        (301, "/v1/Users/bob/Orders")
    # nothing reached a backend
    assert backend.stats()["requests"] == before
    # followed, the request gets its endpoint
    r = requests.get(gw.url("/StAtic"))
    assert r.status_code == 200 and r.json()["path"] == "/static"
    assert [h.status_code for h in r.history] == [301]
    r = requests.get(gw.url("/V1/USERS/AlIce/ORDERS"))
    assert r.json()["path"] == "/orders/AlIce"


def test_trailing_slash(backend, gateway, raw):
    gw = gateway(redirect_conf(backend))
    assert moved(gw, raw, "/static/") == (301, "/static")
    assert moved(gw, raw, "/v1/slash") == (301, "/v1/slash/")
    assert moved(gw, raw, "/v1/files") == (301, "/v1/files/")
    assert moved(gw, raw, "/v1/Users/bob/Orders/") == \
        (301, "/v1/Users/bob/Orders")
    r = requests.get(gw.url("/v1/slash"))
    assert r.status_code == 200 and r.json()["path"] == "/slash"


def test_status_by_method_and_query_kept(backend, gateway, raw):
    gw = gateway(redirect_conf(backend))
    assert moved(gw, raw, "/StAtic?a=1&b=%2F&c=%20x") == \
        (301, "/static?a=1&b=%2F&c=%20x")
    # any method but GET: 307, which keeps the method and the body
    assert moved(gw, raw, "/v1/users/bob/orders", method="POST") == \
        (307, "/v1/Users/bob/Orders")
    assert moved(gw, raw, "/StAtic", method="HEAD") == (307, "/static")
    assert moved(gw, raw, "/v1/posted/?x=1", method="POST") == \
        (307, "/v1/posted?x=1")
    r = requests.post(gw.url("/v1/users/bob/orders?q=2"), data=b"payload")
    assert [h.status_code for h in r.history] == [307]
    doc = r.json()
    assert (doc["method"], doc["path"], doc["body"]) == \
        ("POST", "/orders/bob", "payload")
    # an escaped character in a variable stays escaped in the Location
    assert moved(gw, raw, "/v1/USERS/a%20b%3Fc/orders") == \
        (301, "/v1/Users/a%20b%3fc/Orders")


@pytest.mark.parametrize("target,method", [
    ("/nothing/here", "GET"),
    ("/STATIC/more", "GET"),
    ("/V1/USERS", "GET"),                       # no endpoint has that path
    ("/v1/users//orders", "GET"),               # an empty variable
    ("/StAtic", "PUT"),                         # no PUT endpoint there
    ("/static/", "DELETE"),
    ("/v1/POSTED", "GET"),                      # only POST there
    ("/", "GET"),
])
def test_no_redirect_where_nothing_would_match(backend, gateway, raw, target,
                                               method):
    gw = gateway(redirect_conf(backend))
    status, location = moved(gw, raw, target, method=method)
    assert status in (404, 405), (target, method, status)
    assert location is None


def test_a_served_path_is_not_redirected(backend, gateway, raw, json_error):
    gw = gateway(redirect_conf(backend))
    r = requests.get(gw.url("/static"), allow_redirects=False)
    assert r.status_code == 200 and r.json()["path"] == "/static"
    # a path endpoints have with other methods: 405 as without redirects
    r = requests.get(gw.url("/v1/posted"), allow_redirects=False)
    json_error(r, 405)


def test_off_by_default_and_each_directive_alone(backend, gateway_factory,
                                                 raw):
    gw = gateway_factory(redirect_conf(backend, fixed=None, slash=None))
    for target in ("/StAtic", "/static/", "/v1/slash"):
        assert moved(gw, raw, target) == (404, None), target
    gw.stop()
    gw = gateway_factory(redirect_conf(backend, fixed="Off", slash="On"))
    assert moved(gw, raw, "/static/") == (301, "/static")
    assert moved(gw, raw, "/StAtic") == (404, None)
    assert moved(gw, raw, "/STATIC/") == (404, None)
    gw.stop()
    # the fixed path also takes a trailing slash off or on, as Gin's does
    gw = gateway_factory(redirect_conf(backend, fixed="On", slash="Off"))
    assert moved(gw, raw, "/StAtic") == (301, "/static")
    assert moved(gw, raw, "/static/") == (301, "/static")
    assert moved(gw, raw, "/V1/SLASH") == (301, "/v1/slash/")


def test_virtual_host_setting(backend, gateway):
    gw = gateway(f"""
Listen 127.0.0.1:@PORT@
Listen 127.0.0.1:@PORT2@
ApiRedirectFixedPath On
<ApiEndpoint "/static">
  ApiBackend {backend.url}/static
</ApiEndpoint>
<VirtualHost 127.0.0.1:@PORT2@>
  ApiRedirectFixedPath Off
  ApiRedirectTrailingSlash On
</VirtualHost>
""", extra_ports=1)
    r = requests.get(gw.url("/STATIC"), allow_redirects=False)
    assert (r.status_code, r.headers.get("Location")) == (301, "/static")
    # the virtual host inherits the endpoint, not the main server's switch
    r = requests.get(gw.url2(2, "/STATIC"), allow_redirects=False)
    assert r.status_code == 404
    r = requests.get(gw.url2(2, "/static/"), allow_redirects=False)
    assert (r.status_code, r.headers.get("Location")) == (301, "/static")


def off_site(location):
    """A Location a browser would take to another host."""
    return location is not None and (
        "://" in location or location.startswith("//")
        or location.startswith("/\\") or not location.startswith("/"))


def with_host(port, target, host):
    req = ("GET %s HTTP/1.1\r\nHost: %s\r\nX-Forwarded-Prefix: //evil.com\r\n"
           "Connection: close\r\n\r\n" % (target, host)).encode("latin-1")
    return raw_request(port, req)


HOSTILE = [
    "//evil.com/HOME", "//evil.com/StAtic", "///evil.com/HOME",
    "/%2fevil.com/HOME", "/%2Fevil.com/home/", "/%2F%2Fevil.com/HOME",
    "/%5cevil.com/HOME", "/%5C%5Cevil.com/HOME", "/\\evil.com/HOME",
    "/%2e%2e/StAtic", "/%2e%2e/%2e%2e//evil.com/HOME", "/.//evil.com/HOME",
    "//evil.com/../StAtic", "/./%2F/evil.com/HOME", "http://evil.com/StAtic",
    "//evil.com/", "/%09/evil.com/HOME", "/evil.com%2F%2F/HOME",
    "/%2F/evil.com/home", "//%2Fevil.com/HOME",
]


@pytest.mark.allow_log("AH10244", "AH00126", "AH00127")
@pytest.mark.parametrize("merge,encoded", [
    ("On", "Off"), ("Off", "On"), ("Off", "NoDecode")])
def test_hostile_paths_never_leave_the_host(backend, gateway, merge, encoded):
    gw = gateway("MergeSlashes %s\nAllowEncodedSlashes %s\n" % (merge, encoded)
                 + redirect_conf(backend))
    redirected = 0
    for target in HOSTILE:
        for host in ("127.0.0.1:%d" % gw.port, "evil.com"):
            resp = with_host(gw.port, target, host)
            if resp is None:
                continue                    # httpd closed: nothing to follow
            loc = resp.headers.get("location")
            assert not off_site(loc), (target, host, resp.status, loc)
            if resp.status in (301, 307):
                assert loc, target
                redirected += 1
    assert redirected > 0
    # what a cleaned hostile path still reaches is a path of this host
    resp = with_host(gw.port, "//evil.com/HOME", "evil.com")
    assert (resp.status, resp.headers.get("location")) == (301, "/evil.com/home")


def test_an_endpoint_path_naming_a_host_gets_no_redirect(backend, gateway,
                                                         raw):
    # an endpoint path with an empty first segment would be a Location
    # "//evil.com/x", another host to a browser; httpd takes a request's
    # leading "//" for one "/", so no request reaches it, and nothing is
    # redirected there either
    gw = gateway(f"""
MergeSlashes Off
ApiRedirectTrailingSlash On
ApiRedirectFixedPath On
<ApiEndpoint "//evil.com/x">
  ApiBackend {backend.url}/x
</ApiEndpoint>
""")
    for target in ("//evil.com/x", "//evil.com/x/", "//evil.com/X",
                   "/evil.com/x", "/./evil.com/x/", "///evil.com/x"):
        resp = raw(gw.port, target)
        assert (resp.status, resp.headers.get("location")) == (404, None), \
            target


def test_configtest(configtest):
    ok, out = configtest("""
<ApiEndpoint "/x">
  ApiBackend http://127.0.0.1:9/x
  ApiRedirectFixedPath On
</ApiEndpoint>
""")
    assert not ok
    assert "ApiRedirectFixedPath" in out, out
    ok, out = configtest("ApiRedirectTrailingSlash maybe\n")
    assert not ok
    assert "ApiRedirectTrailingSlash" in out, out
    ok, out = configtest("ApiRedirectTrailingSlash On\nApiRedirectFixedPath Off\n")
    assert ok, out

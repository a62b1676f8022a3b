# Request and response shaping: ApiRequestHeader / ApiResponseHeader
# (set, add, unset, ap_expr values, inheritance, CR/LF refused at
# configtest), the security headers preset, ApiPathRewrite (strip-prefix,
# add-prefix, regex with groups, in order) and ApiDenyQueryStrings (all
# but the denied names; exclusive with ApiInputQueryStrings).
import requests
import pytest


def shaping_conf(b):
    return f"""
ApiResponseHeader set X-Served-By gateway
<ApiEndpoint "/v1/req/*" GET POST>
  ApiBackend {b.url}/{{*}}
  ApiInputHeaders X-Keep X-Drop X-Client
  ApiRequestHeader set X-Tenant acme
  ApiRequestHeader set X-Client-Ip "%{{REMOTE_ADDR}}"
  ApiRequestHeader set X-Client "replaced"
  ApiRequestHeader add X-Added second
  ApiRequestHeader unset X-Drop
  ApiRequestHeader set X-Method "%{{REQUEST_METHOD}} %{{REQUEST_URI}}"
</ApiEndpoint>
<ApiEndpoint "/v1/star/*">
  ApiBackend {b.url}/{{*}}
  ApiInputHeaders *
  ApiRequestHeader set X-Tenant acme
  ApiRequestHeader unset User-Agent
</ApiEndpoint>
<ApiEndpoint "/v1/resp/*">
  ApiBackend {b.url}/{{*}}
  ApiResponseHeader set X-Api-Version 2
  ApiResponseHeader add X-Multi one
  ApiResponseHeader add X-Multi two
  ApiResponseHeader unset X-Backend
  ApiResponseHeader set X-Path "%{{REQUEST_URI}}"
  ApiResponseHeader set X-Served-By endpoint
</ApiEndpoint>
<ApiEndpoint "/v1/secure/*">
  ApiBackend {b.url}/{{*}}
  ApiSecurityHeaders On
</ApiEndpoint>
<ApiEndpoint "/v1/secure-frames/*">
  ApiBackend {b.url}/{{*}}
  ApiSecurityHeaders On
  ApiResponseHeader set X-Frame-Options SAMEORIGIN
</ApiEndpoint>
<ApiEndpoint "/v1/plain/*">
  ApiBackend {b.url}/{{*}}
</ApiEndpoint>
<ApiEndpoint "/api/strip/*">
  ApiBackend {b.url}/api/strip/{{*}}
  ApiPathRewrite strip-prefix /api
</ApiEndpoint>
<ApiEndpoint "/v1/add/*">
  ApiBackend {b.url}/{{*}}
  ApiPathRewrite add-prefix /internal/
</ApiEndpoint>
<ApiEndpoint "/old/*">
  ApiBackend {b.url}/old/{{*}}
  ApiPathRewrite regex "^/old/([^/]+)/(.*)$" "/new/$2/of/$1"
  ApiInputQueryStrings q
</ApiEndpoint>
<ApiEndpoint "/chain/*">
  ApiBackend {b.url}/api/v1/{{*}}?fixed=1
  ApiPathRewrite strip-prefix /api
  ApiPathRewrite regex "^/v1/(.*)" "/$1"
  ApiPathRewrite add-prefix /svc
</ApiEndpoint>
<ApiEndpoint "/v1/deny/*">
  ApiBackend {b.url}/{{*}}
  ApiDenyQueryStrings debug token
</ApiEndpoint>
<ApiEndpoint "/v1/deny-fixed">
  ApiBackend {b.url}/fixed?source=gw
  ApiDenyQueryStrings debug
</ApiEndpoint>
"""


def test_request_headers(backend, gateway):
    gw = gateway(shaping_conf(backend))
    r = requests.get(gw.url("/v1/req/x?a=1"), headers={
        "X-Keep": "first", "X-Drop": "gone", "X-Client": "mine",
        "X-Tenant": "evil"})
    h = r.json()["headers"]
    assert h["X-Tenant"] == "acme"
    assert h["X-Client-Ip"] == "127.0.0.1"
    assert h["X-Client"] == "replaced"
    assert h["X-Keep"] == "first" and h["X-Added"] == "second"
    assert "X-Drop" not in h
    assert h["X-Method"] == "GET /v1/req/x"
    # the response does not get them
    assert "X-Tenant" not in r.headers
    # with ApiInputHeaders * too; the logs still see the client's headers
    r = requests.get(gw.url("/v1/star/y"), headers={"User-Agent": "ua-of-client",
                                                     "X-Other": "o"})
    h = r.json()["headers"]
    assert h["X-Tenant"] == "acme" and h["X-Other"] == "o"
    assert "User-Agent" not in h


def test_response_headers(backend, gateway):
    gw = gateway(shaping_conf(backend))
    r = requests.get(gw.url("/v1/resp/a?b=1"))
    assert r.status_code == 200
    assert r.headers["X-Api-Version"] == "2"
    assert r.headers["X-Multi"] == "one, two"
    assert "X-Backend" not in r.headers
    assert r.headers["X-Path"] == "/v1/resp/a"
    # the endpoint's set wins over the server's
    assert r.headers["X-Served-By"] == "endpoint"
    # a backend header is overridden
    r = requests.get(gw.url("/v1/resp/__header/200/X-Api-Version/1/"))
    assert r.headers["X-Api-Version"] == "2"
    # on the backend's errors and on the gateway's own ones too
    r = requests.get(gw.url("/v1/resp/__status/404/"))
    assert r.status_code == 404 and r.headers["X-Api-Version"] == "2"
    r = requests.post(gw.url("/v1/resp/a"))
    assert r.status_code == 405
    # server-level rules reach every endpoint
    r = requests.get(gw.url("/v1/plain/a"))
    assert r.headers["X-Served-By"] == "gateway"


SECURITY = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def test_security_headers_preset(backend, gateway):
    gw = gateway(shaping_conf(backend))
    for path in ("/v1/secure/a", "/v1/secure/__status/500/",
                 "/v1/secure/__header/200/X-Frame-Options/ALLOWALL/"):
        r = requests.get(gw.url(path))
        for k, v in SECURITY.items():
            assert r.headers.get(k) == v, (path, k, r.headers)
        assert r.headers.get("X-Frame-Options") == "DENY"
    # one of them overridden by a response header rule
    r = requests.get(gw.url("/v1/secure-frames/a"))
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    r = requests.get(gw.url("/v1/plain/a"))
    for k in SECURITY:
        assert k not in r.headers


@pytest.mark.allow_log("AH00957", "AH01114")     # the unreachable backend
def test_security_headers_on_gateway_errors(backend, gateway):
    gw = gateway("""
ApiSecurityHeaders On
<ApiEndpoint "/v1/down">
  ApiBackend http://127.0.0.1:9/down
</ApiEndpoint>
""")
    r = requests.get(gw.url("/v1/down"))
    assert r.status_code == 502
    for k, v in SECURITY.items():
        assert r.headers.get(k) == v


def test_path_rewrite(backend, gateway):
    gw = gateway(shaping_conf(backend))

    def path(p):
        r = requests.get(gw.url(p))
        assert r.status_code == 200, r.text
        return r.json()["path"], r.json()["query"]

    assert path("/api/strip/users/1") == ("/strip/users/1", "")
    assert path("/v1/add/users") == ("/internal/users", "")
    assert path("/old/alice/orders/42?q=1&x=2") == ("/new/orders/42/of/alice", "q=1")
    assert path("/old/alice") == ("/old/alice", "")        # no match: as is
    assert path("/chain/users?x=1") == ("/svc/users", "fixed=1")
    # values stay percent-encoded through the rewrite
    assert path("/old/a%20b/c%3Fd") == ("/new/c%3Fd/of/a%20b", "")


def test_path_rewrite_on_every_backend_of_an_aggregating_endpoint(backend, gateway):
    gw = gateway(f"""
<ApiEndpoint "/agg/{{id}}">
  ApiBackend {backend.url}/api/one/{{id}} group=one
  ApiBackend {backend.url}/api/two/{{id}}?fixed=1 group=two
  ApiInputQueryStrings page
  ApiPathRewrite strip-prefix /api
  ApiPathRewrite regex "^/two/(.*)$" "/second/$1"
</ApiEndpoint>
""")
    r = requests.get(gw.url("/agg/a%20b?page=2&drop=1"))
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["one"]["path"] == "/one/a%20b"
    assert doc["one"]["query"] == "page=2"
    assert doc["two"]["path"] == "/second/a%20b"
    assert doc["two"]["query"] == "fixed=1&page=2"


def test_path_rewrite_never_climbs_out_of_its_prefix(backend, gateway):
    # a rule capturing part of a segment could make "/internal/../admin"
    # of "/v1../admin": refused 404, never sent; on an aggregating endpoint
    # that backend fails and the others answer
    gw = gateway(f"""
<ApiEndpoint "/api/*">
  ApiBackend {backend.url}/{{*}}
  ApiPathRewrite regex "^/v1(.*)$" "$1"
  ApiPathRewrite add-prefix /internal
</ApiEndpoint>
<ApiEndpoint "/agg/{{id}}">
  ApiBackend {backend.url}/v1/{{id}} group=one
  ApiBackend {backend.url}/fixed/{{id}} group=two
  ApiPathRewrite regex "^/v1/x(.*)$" "$1"
</ApiEndpoint>
""")
    r = requests.get(gw.url("/api/v1/users"))
    assert r.status_code == 200 and r.json()["path"] == "/internal/users"
    for climbing in ("/api/v1../admin", "/api/v1%2e%2e/admin", "/api/v1."):
        r = requests.get(gw.url(climbing))
        assert r.status_code == 404, (climbing, r.text)
        assert r.json() == {"status": 404,
                            "error": "no resource has that path"}
    r = requests.get(gw.url("/api/v1.../x"))
    assert r.status_code == 200 and r.json()["path"] == "/internal/.../x"
    r = requests.get(gw.url("/agg/x.."))
    assert r.status_code == 200, r.text
    assert "one" not in r.json() and r.json()["two"]["path"] == "/fixed/x.."
    assert r.headers.get("X-Apigw-Completed") == "false"


@pytest.mark.allow_log("AGW00605")
def test_path_rewrite_past_its_bounds_is_refused(backend, gateway):
    # 2^20 ways to split the a's: the match stops at its step limit, and the
    # request is answered 500 rather than forwarded unrewritten
    gw = gateway(f"""
<ApiEndpoint "/r/*">
  ApiBackend {backend.url}/{{*}}
  ApiPathRewrite regex "^/(?:a+)+$" "/rewritten"
</ApiEndpoint>
""")
    assert requests.get(gw.url("/r/aaaa")).json()["path"] == "/rewritten"
    r = requests.get(gw.url("/r/" + "a" * 20 + "!"))
    assert r.status_code == 500, r.text
    assert r.json()["error"] == "the backend path cannot be rewritten"


def test_query_deny_list(backend, gateway):
    gw = gateway(shaping_conf(backend))

    def query(p):
        return requests.get(gw.url(p)).json()["query"]

    assert query("/v1/deny/x?a=1&debug=1&b=%20&token=s&a=2") == "a=1&b=%20&a=2"
    assert query("/v1/deny/x?debug=1") == ""
    assert query("/v1/deny/x") == ""
    assert query("/v1/deny/x?d%65bug=1&keep") == "keep"
    assert query("/v1/deny-fixed?x=1&debug=2") == "source=gw&x=1"
    assert query("/v1/deny-fixed") == "source=gw"


@pytest.mark.parametrize("body,needle", [
    ('ApiRequestHeader set X-A "a\\nb"', "CR, LF"),
    ('ApiResponseHeader set X-A "a\\r\\nX-Evil: 1"', "CR, LF"),
    ("ApiResponseHeader set Bad:Name x", "not a valid header name"),
    ("ApiResponseHeader replace X-A x", "unknown action"),
    ("ApiResponseHeader set X-A", "needs a value"),
    ("ApiRequestHeader unset X-A x", "takes no value"),
    ('ApiRequestHeader set X-A "%{unknown_function:x}"', "cannot parse"),
    ("ApiPathRewrite regex ^/(a /b", "does not compile"),
    ("ApiPathRewrite regex ^/a /b/$1", "has 0 group"),
    ("ApiPathRewrite strip-prefix api", "must start with '/'"),
    ("ApiPathRewrite swap /a", "unknown rewrite"),
    ("ApiDenyQueryStrings a&b", "not a valid query string name"),
    ("ApiInputQueryStrings a\n  ApiDenyQueryStrings b", "cannot both be used"),
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


def test_configtest_endpoint_only(configtest):
    for line in ("ApiPathRewrite strip-prefix /a", "ApiDenyQueryStrings a"):
        ok, out = configtest(line + "\n")
        assert not ok
        assert "not allowed here" in out, out


def test_policies_on_an_aggregating_endpoint(backend_factory, gateway):
    """The response-side policies work whichever handler answers: here the
    gateway's own aggregation handler (two backends merged)."""
    b1, b2 = backend_factory("one"), backend_factory("two")
    gw = gateway(f"""
<IfModule !socache_shmcb_module>
  LoadModule socache_shmcb_module /usr/lib/apache2/modules/mod_socache_shmcb.so
</IfModule>
<ApiEndpoint "/v1/agg">
  ApiBackend {b1.url}/a group=one
  ApiBackend {b2.url}/b group=two
  ApiDenyQueryStrings secret
  ApiSecurityHeaders On
  ApiCorsAllowOrigins https://app.example.com
  ApiResponseHeader set X-Agg yes
  ApiCacheTTL 60s
  ApiCache On
</ApiEndpoint>
""")
    h = {"Origin": "https://app.example.com"}
    r = requests.get(gw.url("/v1/agg?x=1&secret=s"), headers=h)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["one"]["query"] == "x=1" and doc["two"]["query"] == "x=1"
    assert r.headers["X-Agg"] == "yes"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert r.headers["X-Cache"] == "MISS"
    before = (b1.stats()["requests"], b2.stats()["requests"])
    r2 = requests.get(gw.url("/v1/agg?x=1&secret=other"), headers=h)
    assert r2.headers["X-Cache"] == "HIT" and r2.json() == doc
    assert r2.headers["X-Agg"] == "yes"
    assert (b1.stats()["requests"], b2.stats()["requests"]) == before

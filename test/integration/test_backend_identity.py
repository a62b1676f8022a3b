# What a backend receives from the gateway's own HTTP client, compared with
# what KrakenD's Go client sends: the User-Agent (ApiBackendUserAgent, also
# on mod_proxy pass-through endpoints) or X-Forwarded-Via; gzip asked for
# and decoded (a no-op endpoint's answer then without Content-Encoding),
# the client's Accept-Encoding sent as written when it is forwarded; no
# Accept and no X-Forwarded-Server of the gateway's own; same-origin
# redirects followed with Go's method rules and a Referer, up to 10
# requests, on balancer members too; a redirect elsewhere never followed.
import gzip
import json
import os
import time
from urllib.parse import quote

import pytest
import requests

from conftest import ProtoBackend

UA = "KrakenD Version 2.13.8"
CLIENT_UA = "client-app/1.0"


@pytest.fixture
def ident_backend(request):
    """test/backends/identity_backend.py: gzip and redirect chains."""
    b = ProtoBackend("identity_backend.py")
    request.addfinalizer(b.stop)
    return b


def get(gw, path, **kw):
    kw.setdefault("timeout", 10)
    return requests.get(gw.url(path), **kw)


def lower_keys(d):
    return {k.lower(): v for k, v in d.items()}


def redirect_to(b, status, location):
    """A backend.py URL answering status with that Location (echo body)."""
    return "%s/__header/%d/Location/%s" % (b.url, status,
                                           quote(location, safe=""))


# ---------------------------------------------------------------- User-Agent

def test_user_agent_set_forwarded_or_off(backend, gateway):
    gw = gateway(f"""
<ApiEndpoint "/set">
  ApiBackend {backend.url}/a group=a
  ApiBackend {backend.url}/b group=b
  ApiBackendUserAgent "{UA}"
</ApiEndpoint>
<ApiEndpoint "/star">
  ApiBackend {backend.url}/a group=a
  ApiBackend {backend.url}/b group=b
  ApiBackendUserAgent "{UA}"
  ApiInputHeaders *
</ApiEndpoint>
<ApiEndpoint "/listed">
  ApiBackend {backend.url}/a group=a
  ApiBackend {backend.url}/b group=b
  ApiBackendUserAgent "{UA}"
  ApiInputHeaders user-agent
</ApiEndpoint>
<ApiEndpoint "/off">
  ApiBackend {backend.url}/a group=a
  ApiBackend {backend.url}/b group=b
</ApiEndpoint>
""")
    sent = {"User-Agent": CLIENT_UA}
    doc = get(gw, "/set", headers=sent).json()
    for part in ("a", "b"):
        h = lower_keys(doc[part]["headers"])
        assert h["user-agent"] == UA, h
        assert "x-forwarded-via" not in h, h
    for path in ("/star", "/listed"):
        doc = get(gw, path, headers=sent).json()
        for part in ("a", "b"):
            h = lower_keys(doc[part]["headers"])
            assert h["user-agent"] == CLIENT_UA, (path, h)
            assert h["x-forwarded-via"] == UA, (path, h)
    doc = get(gw, "/off", headers=sent).json()
    for part in ("a", "b"):
        h = lower_keys(doc[part]["headers"])
        assert "user-agent" not in h and "x-forwarded-via" not in h, h


def test_user_agent_server_vhost_endpoint_and_pass_through(backend, gateway):
    gw = gateway(f"""
Listen 127.0.0.1:@PORT@
Listen 127.0.0.1:@PORT2@
LogFormat "%{{User-Agent}}i|%{{X-Forwarded-Via}}i|%U" ua_log
CustomLog "@RUN@/ua.log" ua_log

ApiBackendUserAgent "gw-main/1"
<ApiEndpoint "/agg">
  ApiBackend {backend.url}/a group=a
  ApiBackend {backend.url}/b group=b
</ApiEndpoint>
<ApiEndpoint "/quiet">
  ApiBackend {backend.url}/a group=a
  ApiBackend {backend.url}/b group=b
  ApiBackendUserAgent off
</ApiEndpoint>
<ApiEndpoint "/plain">
  ApiBackend {backend.url}/plain
</ApiEndpoint>
<ApiEndpoint "/plain-star">
  ApiBackend {backend.url}/plain
  ApiInputHeaders *
</ApiEndpoint>

<VirtualHost 127.0.0.1:@PORT2@>
  ApiBackendUserAgent "gw-vhost/2"
</VirtualHost>
""", extra_ports=1)
    sent = {"User-Agent": CLIENT_UA}
    doc = get(gw, "/agg", headers=sent).json()
    assert doc["a"]["headers"]["User-Agent"] == "gw-main/1"
    doc = get(gw, "/quiet", headers=sent).json()
    assert "User-Agent" not in doc["a"]["headers"]
    # a mod_proxy pass-through endpoint gets it too
    h = get(gw, "/plain", headers=sent).json()["headers"]
    assert h["User-Agent"] == "gw-main/1" and "X-Forwarded-Via" not in h
    h = get(gw, "/plain-star", headers=sent).json()["headers"]
    assert h["User-Agent"] == CLIENT_UA and h["X-Forwarded-Via"] == "gw-main/1"
    # the virtual host's own setting, for the endpoints it inherits too
    doc = requests.get(gw.url2(2, "/agg"), headers=sent, timeout=10).json()
    assert doc["b"]["headers"]["User-Agent"] == "gw-vhost/2"
    h = requests.get(gw.url2(2, "/plain"), headers=sent, timeout=10).json()
    assert h["headers"]["User-Agent"] == "gw-vhost/2"
    # the logs see what the client sent, not what the backend got
    path = os.path.join(gw.run_dir, "ua.log")
    deadline = time.monotonic() + 5
    lines = []
    while len(lines) < 6 and time.monotonic() < deadline:
        time.sleep(0.05)
        with open(path) as f:
            lines = f.read().splitlines()
    assert len(lines) == 6, lines
    for line in lines:
        assert line.startswith(CLIENT_UA + "|-|"), line


def test_user_agent_directive_is_checked(configtest):
    ok, out = configtest(f"""
<ApiEndpoint "/a">
  ApiBackend http://127.0.0.1:9/a
  ApiBackendUserAgent "bad\x01agent"
</ApiEndpoint>
""")
    assert not ok and "control characters" in out, out
    ok, out = configtest("""
<Location "/x">
  ApiBackendUserAgent "gw/1"
</Location>
""")
    assert not ok and "ApiBackendUserAgent belongs in" in out, out
    ok, out = configtest("""
ApiBackendUserAgent ""
""")
    assert not ok and "ApiBackendUserAgent" in out, out
    ok, out = configtest(f"""
ApiBackendUserAgent "{UA}"
<VirtualHost 127.0.0.1:@PORT@>
  ApiBackendUserAgent off
</VirtualHost>
""")
    assert ok, out


# ---------------------------------------------------------------- headers

def test_no_accept_no_x_forwarded_server_gzip_asked(backend, gateway):
    gw = gateway(f"""
<ApiEndpoint "/agg">
  ApiBackend {backend.url}/a group=a
  ApiBackend {backend.url}/b group=b
</ApiEndpoint>
<ApiEndpoint "/accept">
  ApiBackend {backend.url}/a group=a
  ApiBackend {backend.url}/b group=b
  ApiInputHeaders Accept Accept-Encoding
</ApiEndpoint>
""")
    r = get(gw, "/agg", headers={"Host": "api.example.test",
                                 "Accept": "application/xml",
                                 "Accept-Encoding": "br"})
    for part in ("a", "b"):
        h = lower_keys(r.json()[part]["headers"])
        assert "accept" not in h, h                 # libcurl's */* is not sent
        assert "x-forwarded-server" not in h, h
        assert h["accept-encoding"] == "gzip", h    # as Go's transport asks
        assert h["x-forwarded-for"] == "127.0.0.1"
        assert h["x-forwarded-host"] == "api.example.test"
        assert "user-agent" not in h, h
    r = get(gw, "/accept", headers={"Accept": "application/xml",
                                    "Accept-Encoding": "br;q=1, gzip;q=0.5"})
    h = lower_keys(r.json()["a"]["headers"])
    assert h["accept"] == "application/xml"
    assert h["accept-encoding"] == "br;q=1, gzip;q=0.5"   # as the client wrote


# ---------------------------------------------------------------- gzip

def test_gzip_backend_is_decoded(ident_backend, gateway):
    b = ident_backend
    gw = gateway(f"""
<ApiEndpoint "/merged">
  ApiBackend {b.url}/__gzip/one group=one
  ApiBackend {b.url}/__gzip/two group=two
</ApiEndpoint>
<ApiEndpoint "/merged-fwd">
  ApiBackend {b.url}/__gzip/one group=one
  ApiBackend {b.url}/__gzip/two group=two
  ApiInputHeaders Accept-Encoding
</ApiEndpoint>
""")
    r = get(gw, "/merged")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["one"]["path"] == "/__gzip/one"
    assert doc["two"]["headers"]["Accept-Encoding"] == "gzip"
    # the client's own Accept-Encoding: sent as it is, still decoded
    r = get(gw, "/merged-fwd", headers={"Accept-Encoding": "gzip, deflate"})
    assert r.json()["one"]["headers"]["Accept-Encoding"] == "gzip, deflate"
    assert r.headers["X-Apigw-Completed"] == "true"


def test_noop_answer_decoded_or_passed_encoded(ident_backend, gateway, raw):
    b = ident_backend
    gw = gateway(f"""
<ApiEndpoint "/noop">
  ApiBackend {b.url}/__gzip/noop
  ApiOutputEncoding no-op
  ApiSequential on
</ApiEndpoint>
<ApiEndpoint "/noop-fwd">
  ApiBackend {b.url}/__gzip/noop
  ApiOutputEncoding no-op
  ApiSequential on
  ApiInputHeaders Accept-Encoding
</ApiEndpoint>
""")
    # the gateway asked for gzip and decoded it: no Content-Encoding left,
    # the length is the decoded body's
    r = raw(gw.port, "/noop", headers={"Accept-Encoding": "identity"})
    assert r.status == 200 and r.complete
    assert "content-encoding" not in r.headers, r.headers
    assert r.headers["x-gzipped"] == "1"
    assert int(r.headers["content-length"]) == len(r.body)
    doc = json.loads(r.body)
    assert doc["headers"]["Accept-Encoding"] == "gzip"
    # the client's Accept-Encoding forwarded: the body as the backend
    # encoded it for the client
    r = raw(gw.port, "/noop-fwd", headers={"Accept-Encoding": "gzip"})
    assert r.status == 200 and r.complete
    assert r.headers["content-encoding"] == "gzip"
    assert int(r.headers["content-length"]) == len(r.body)
    assert json.loads(gzip.decompress(r.body))["path"] == "/__gzip/noop"
    r = raw(gw.port, "/noop-fwd", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in r.headers
    assert r.headers["x-gzipped"] == "0"
    assert json.loads(r.body)["headers"]["Accept-Encoding"] == "identity"


# ---------------------------------------------------------------- redirects

@pytest.mark.parametrize("status,method,body", [
    (301, "GET", ""), (302, "GET", ""), (303, "GET", ""),
    (307, "POST", '{"n":1}'), (308, "POST", '{"n":1}')])
def test_same_origin_redirect_followed(backend, gateway, status, method, body):
    first = redirect_to(backend, status, "/after/%d?x=1" % status)
    gw = gateway(f"""
<ApiEndpoint "/r" GET POST>
  ApiBackend {first} group=r
  ApiBackend {backend.url}/other group=other
</ApiEndpoint>
""")
    r = requests.post(gw.url("/r"), data=b'{"n":1}', timeout=10,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.headers["X-Apigw-Completed"] == "true"
    doc = r.json()["r"]
    assert (doc["path"], doc["query"]) == ("/after/%d" % status, "x=1")
    assert doc["method"] == method
    assert doc["body"] == body
    h = lower_keys(doc["headers"])
    assert h["referer"] == first
    if method == "GET":
        assert "content-type" not in h and "content-length" not in h, h
    else:
        assert h["content-type"] == "application/json"
    # a GET stays a GET, without a body
    doc = get(gw, "/r").json()["r"]
    assert (doc["method"], doc["body"]) == ("GET", "")


def test_redirect_chain_is_bounded(ident_backend, gateway):
    b = ident_backend
    gw = gateway(f"""
<ApiEndpoint "/nine">
  ApiBackend {b.url}/__hops/9/end group=r
  ApiBackend {b.url}/x group=other
</ApiEndpoint>
<ApiEndpoint "/ten">
  ApiBackend {b.url}/__hops/10/end group=r
  ApiBackend {b.url}/x group=other
  ApiReturnErrorDetails hops
</ApiEndpoint>
""")
    doc = get(gw, "/nine").json()          # 10 requests, as Go allows
    assert doc["r"]["path"] == "/__hops/0/end"
    assert doc["r"]["headers"]["Referer"] == b.url + "/__hops/1/end"
    r = get(gw, "/ten")
    assert r.headers["X-Apigw-Completed"] == "false", r.text
    assert r.json()["error_hops_r"]["http_status_code"] == 302


def test_cross_origin_redirect_not_followed(backend_factory, gateway):
    here = backend_factory("here")
    elsewhere = backend_factory("elsewhere")
    gw = gateway(f"""
<ApiEndpoint "/r">
  ApiBackend {redirect_to(here, 302, elsewhere.url + "/steal")} group=r
  ApiBackend {here.url}/ok group=ok
  ApiReturnErrorDetails x
</ApiEndpoint>
<ApiEndpoint "/host">
  ApiBackend {redirect_to(here, 307, "http://localhost:%d/x" % here.port)} group=r
  ApiBackend {here.url}/ok group=ok
</ApiEndpoint>
<ApiEndpoint "/noop">
  ApiBackend {redirect_to(here, 301, elsewhere.url + "/steal")}
  ApiOutputEncoding no-op
  ApiSequential on
</ApiEndpoint>
""")
    r = get(gw, "/r")
    assert r.status_code == 200
    assert r.headers["X-Apigw-Completed"] == "false"
    doc = r.json()
    assert doc["ok"]["path"] == "/ok"
    assert doc["error_x_r"]["http_status_code"] == 302
    # same port, another host name: another origin
    assert get(gw, "/host").headers["X-Apigw-Completed"] == "false"
    # no-op passes the redirect on to the client, unfollowed
    r = get(gw, "/noop", allow_redirects=False)
    assert r.status_code == 301
    assert r.headers["Location"] == elsewhere.url + "/steal"
    assert elsewhere.stats()["requests"] == 0


@pytest.mark.allow_log(pattern=r"failonstatus|AH01168|AH02460")
def test_balancer_member_redirect_and_its_outcome(backend_factory, gateway):
    one = backend_factory("one")
    two = backend_factory("two")
    # member one redirects (same origin) to a 503; two answers
    bad = "%s/__header/302/Location/%s" % (one.url, quote("/__status/503",
                                                          safe=""))
    gw = gateway(f"""
<Proxy balancer://pool>
  BalancerMember {bad} retry=60
  BalancerMember {two.url}/__header/307/Location/%2Fafter retry=60
  ProxySet lbmethod=byrequests failonstatus=503
</Proxy>
<ApiEndpoint "/lb">
  ApiBackend balancer://pool/x group=a
  ApiBackend {two.url}/ok group=ok
</ApiEndpoint>
""")
    results = [get(gw, "/lb") for _ in range(6)]
    complete = [r.headers["X-Apigw-Completed"] for r in results]
    # the redirected 503 is reported for member one, which is put in
    # error state: at most its first call failed
    assert complete.count("false") == 1, complete
    good = [r.json()["a"] for r in results if "a" in r.json()]
    assert good and all(d["backend"] == "two" and d["path"] == "/after"
                        for d in good), good
    assert all(d["headers"]["Referer"].startswith(two.url + "/__header/307/")
               for d in good)

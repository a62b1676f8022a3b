# ApiErrorFormat json|krakend [messages]: the shape of the answers the
# gateway gives itself, end to end on a real httpd with real backends.
# One gateway, three virtual hosts with the same endpoints: JSON (the
# default), krakend, and krakend messages (KrakenD's router option
# return_error_msg). For each: a path no endpoint takes (also a path of
# the host that is no endpoint at all), a path's other method (405, Allow,
# the completed header false), JWT and API-key refusals (401, 403,
# WWW-Authenticate kept), the bot policy's 403, every backend of an
# aggregating endpoint failing (500: lura's error text with messages), a
# rate limit's 429, an unreachable backend's 502, a body over
# LimitRequestBody (413); an endpoint's setting against its server's;
# ApiImportKrakenD turning it on (with messages from return_error_msg);
# configtest's refusals.
import hashlib
import json
import os
import re

import pytest
import requests

from auth_util import (claims, jwk, jwks, keys, sign, www_authenticate,
                       write_file)
from conftest import free_port

# an unreachable pass-through backend: connect failed, worker in error
# state, HTTP: failed to make connection (see test_failures.py)
UNREACHABLE_LOGS = ("AH00957", "AH00959", "AH01114")

# mod_authz_core: a user Require refused
AUTHZ_FAILED = "AH01631"

APIKEY = "k-" + "7" * 30
APIKEY_USER = "k-" + "8" * 30
COMPLETED = "X-Krakend-Completed"


def endpoints(b, dead, jwks_file, key_file):
    """The endpoints every host of the gateway has."""
    return f"""
  <ApiEndpoint "/v1/ok" GET>
    ApiBackend {b.url}/ok
  </ApiEndpoint>
  <ApiEndpoint "/v1/jwt">
    ApiBackend {b.url}/jwt
    AuthType jwt
    AuthName api
    ApiJwtKeys file:{jwks_file}
    ApiJwtAlgorithms RS256
    Require jwt-role admin
  </ApiEndpoint>
  <ApiEndpoint "/v1/key">
    ApiBackend {b.url}/key
    AuthType apikey
    AuthName api
    ApiKeyFile {key_file}
    Require apikey-role admin
  </ApiEndpoint>
  <ApiEndpoint "/v1/bots">
    ApiBackend {b.url}/bots
    ApiBotDeny "EvilBot/1.0"
  </ApiEndpoint>
  <ApiEndpoint "/v1/agg/{{id}}">
    ApiBackend {b.url}/__status/404/a/{{id}} group=a
    ApiBackend http://127.0.0.1:{dead}/b group=b
  </ApiEndpoint>
  <ApiEndpoint "/v1/one">
    ApiBackend {b.url}/__status/404/one
    ApiOutputEncoding json
  </ApiEndpoint>
  <ApiEndpoint "/v1/slow">
    ApiBackend {b.url}/__delay/3000/slow
    ApiOutputEncoding json
    ApiTimeout 300ms
  </ApiEndpoint>
  <ApiEndpoint "/v1/limited">
    ApiBackend {b.url}/limited
    ApiRateLimit average=1 period=1m burst=1
  </ApiEndpoint>
  <ApiEndpoint "/v1/down">
    ApiBackend http://127.0.0.1:{dead}/down
  </ApiEndpoint>
  <ApiEndpoint "/v1/small" POST>
    ApiBackend {b.url}/small
    LimitRequestBody 10
  </ApiEndpoint>
"""


@pytest.fixture
def hosts(backend, gateway, world_readable_dir):
    """The gateway: {"json": port, "krakend": port, "messages": port},
    plus the backend and the dead port."""
    K = keys()
    jwks_file = write_file(os.path.join(world_readable_dir, "jwks.json"),
                           jwks(jwk(K.rsa, "rsa1")))
    key_file = write_file(os.path.join(world_readable_dir, "apikeys"),
                          "admin %s admin\nuser %s read\n" % (
                              hashlib.sha256(APIKEY.encode()).hexdigest(),
                              hashlib.sha256(APIKEY_USER.encode()).hexdigest()))
    dead = free_port()
    eps = endpoints(backend, dead, jwks_file, key_file)
    gw = gateway(f"""
Listen 127.0.0.1:@PORT@
Listen 127.0.0.1:@PORT2@
Listen 127.0.0.1:@PORT3@
ApiCompletedHeader {COMPLETED}
<VirtualHost 127.0.0.1:@PORT@>
{eps}
  <ApiEndpoint "/v1/kd-here" GET>
    ApiBackend {backend.url}/__status/500/kd
    ApiOutputEncoding json
    ApiErrorFormat krakend
  </ApiEndpoint>
  <ApiEndpoint "/v1/kd-cors" GET>
    ApiBackend {backend.url}/kd-cors
    ApiCorsAllowOrigins http://app.example.test
    ApiBotDeny "EvilBot/1.0"
    ApiErrorFormat krakend
  </ApiEndpoint>
</VirtualHost>
<VirtualHost 127.0.0.1:@PORT2@>
  ApiErrorFormat krakend
{eps}
  <ApiEndpoint "/v1/json-here" GET>
    ApiBackend {backend.url}/__status/500/js
    ApiOutputEncoding json
    ApiErrorFormat json
  </ApiEndpoint>
</VirtualHost>
<VirtualHost 127.0.0.1:@PORT3@>
  ApiErrorFormat krakend messages
{eps}
</VirtualHost>
""", extra_ports=2)

    class Hosts:
        pass
    h = Hosts()
    h.gw, h.backend, h.dead = gw, backend, dead
    h.port = {"json": gw.ports[0], "krakend": gw.ports[1],
              "messages": gw.ports[2]}
    return h


def url(h, fmt, path):
    return "http://127.0.0.1:%d%s" % (h.port[fmt], path)


def get(h, fmt, path, **kw):
    kw.setdefault("timeout", 10)
    return requests.get(url(h, fmt, path), **kw)


def expect_json(r, status):
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["Content-Type"] == "application/json", r.headers
    assert r.headers.get("Cache-Control") == "no-store", r.headers
    doc = r.json()
    assert doc["status"] == status and doc["error"], doc
    return doc


def expect_empty(r, status):
    """KrakenD's refusals and failures: no body, no type, not cached."""
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.content == b"", r.content[:300]
    assert "Content-Type" not in r.headers, r.headers
    assert "Cache-Control" not in r.headers, r.headers
    assert r.headers.get("Content-Length") == "0", r.headers


def expect_text(r, status, body, ctype):
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.content == body.encode(), r.content[:300]
    assert r.headers.get("Content-Type") == ctype, r.headers
    assert "Cache-Control" not in r.headers, r.headers


KRAKEND = ("krakend", "messages")


# ================================================================ 404, 405

@pytest.mark.parametrize("fmt", KRAKEND)
def test_unmatched_path_is_gins_404(hosts, fmt):
    # a path of no endpoint: an API-looking one and one of the host itself
    for path in ("/v1/nothing", "/favicon.ico", "/"):
        r = get(hosts, fmt, path)
        expect_text(r, 404, "404 page not found", "text/plain")
    # HEAD: the same head, no body
    r = requests.head(url(hosts, fmt, "/v1/nothing"), timeout=10)
    assert r.status_code == 404 and r.content == b""
    assert r.headers["Content-Type"] == "text/plain"
    assert r.headers["Content-Length"] == "18"


def test_unmatched_path_json_host_is_unchanged(hosts):
    # the JSON host leaves httpd's own page for a path that is no endpoint
    r = get(hosts, "json", "/v1/nothing")
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("fmt", KRAKEND)
def test_wrong_method_is_gins_405(hosts, fmt):
    r = requests.post(url(hosts, fmt, "/v1/ok"), data=b"x", timeout=10)
    expect_text(r, 405, "405 method not allowed", "text/plain")
    assert r.headers[COMPLETED] == "false"
    assert r.headers["Allow"] == "GET, HEAD"


def test_wrong_method_json(hosts):
    r = requests.post(url(hosts, "json", "/v1/ok"), data=b"x", timeout=10)
    expect_json(r, 405)
    assert r.headers["Allow"] == "GET, HEAD"
    assert COMPLETED not in r.headers


# ================================================================ refusals

def jwt_cases():
    K = keys()
    return [
        (None, 401, False),
        ("a.bad.token", 401, True),
        (sign(K.rsa, "RS256", claims(roles=["user"]), kid="rsa1"), 403, True),
    ]


@pytest.mark.allow_log(AUTHZ_FAILED)
@pytest.mark.parametrize("fmt", ("json",) + KRAKEND)
def test_jwt_refusals(hosts, fmt):
    before = hosts.backend.stats()["requests"]
    for token, status, _ in jwt_cases():
        h = {"Authorization": "Bearer " + token} if token else {}
        r = get(hosts, fmt, "/v1/jwt", headers=h)
        if fmt == "json":
            expect_json(r, status)
        else:
            expect_empty(r, status)
            assert COMPLETED not in r.headers
        scheme, params = www_authenticate(r)
        assert scheme == "Bearer" and params["realm"] == "api"
    assert hosts.backend.stats()["requests"] == before
    # a token that grants access is served as ever
    ok = sign(keys().rsa, "RS256", claims(roles=["admin"]), kid="rsa1")
    r = get(hosts, fmt, "/v1/jwt", headers={"Authorization": "Bearer " + ok})
    assert r.status_code == 200, r.text


@pytest.mark.allow_log(AUTHZ_FAILED)
@pytest.mark.parametrize("fmt", ("json",) + KRAKEND)
def test_apikey_refusals(hosts, fmt):
    for key, status in ((None, 401), ("nope", 401), (APIKEY_USER, 403)):
        r = get(hosts, fmt, "/v1/key",
                headers={"X-API-Key": key} if key else {})
        if fmt == "json":
            expect_json(r, status)
        else:
            expect_empty(r, status)
        if status == 401:
            assert www_authenticate(r)[0] == "ApiKey"
    assert get(hosts, fmt, "/v1/key",
               headers={"X-API-Key": APIKEY}).status_code == 200


@pytest.mark.parametrize("fmt", ("json",) + KRAKEND)
def test_bot_policy_403(hosts, fmt):
    r = get(hosts, fmt, "/v1/bots", headers={"User-Agent": "EvilBot/1.0"})
    if fmt == "json":
        expect_json(r, 403)
    else:
        expect_empty(r, 403)
        assert COMPLETED not in r.headers
    assert get(hosts, fmt, "/v1/bots", headers={
        "User-Agent": "Mozilla/5.0"}).status_code == 200


# ================================================================ failed backends

def test_every_backend_failed_json(hosts):
    for path in ("/v1/agg/7", "/v1/one", "/v1/slow"):
        r = get(hosts, "json", path)
        expect_json(r, 500)
        assert COMPLETED not in r.headers


def test_every_backend_failed_krakend(hosts):
    for path in ("/v1/agg/7", "/v1/one", "/v1/slow"):
        r = get(hosts, "krakend", path)
        expect_empty(r, 500)
        assert r.headers[COMPLETED] == "false"


def test_every_backend_failed_messages(hosts):
    b, plain = hosts.backend, "text/plain; charset=utf-8"
    # a status error as lura's HTTP client words it: status, the backend's
    # method and URL pattern ({{.Var}}), the URL called
    r = get(hosts, "messages", "/v1/one")
    expect_text(r, 500, "invalid status code 404 [GET /__status/404/one]: "
                "%s/__status/404/one" % b.url, plain)
    assert r.headers[COMPLETED] == "false"
    # two failures, one a line (lura's merge error): a status, and Go's
    # url.Error for a backend that cannot be reached
    r = get(hosts, "messages", "/v1/agg/7")
    assert r.status_code == 500 and r.headers["Content-Type"] == plain
    assert "Cache-Control" not in r.headers
    lines = r.text.split("\n")
    assert lines[0] == ("invalid status code 404 [GET /__status/404/a/{{.Id}}]: "
                        "%s/__status/404/a/7" % b.url), r.text
    assert re.fullmatch(r'Get "http://127\.0\.0\.1:%d/b": .+' % hosts.dead,
                        lines[1]), r.text
    assert len(lines) == 2
    # the endpoint's timeout: the request context's deadline
    r = get(hosts, "messages", "/v1/slow")
    expect_text(r, 500, "context deadline exceeded", plain)
    assert r.headers[COMPLETED] == "false"


# ================================================================ the rest

@pytest.mark.allow_log(*UNREACHABLE_LOGS)
@pytest.mark.parametrize("fmt", ("json",) + KRAKEND)
def test_other_answers(hosts, fmt):
    # a rate limit's 429: a refusal, never a text
    assert get(hosts, fmt, "/v1/limited").status_code == 200
    r = get(hosts, fmt, "/v1/limited")
    if fmt == "json":
        expect_json(r, 429)
    else:
        expect_empty(r, 429)
    assert r.headers.get("Retry-After")
    # a body over LimitRequestBody
    r = requests.post(url(hosts, fmt, "/v1/small"), data=b"x" * 100,
                      timeout=10)
    if fmt == "json":
        expect_json(r, 413)
    else:
        expect_empty(r, 413)
    # an unreachable pass-through backend: 502, its text with messages
    r = get(hosts, fmt, "/v1/down")
    if fmt == "json":
        expect_json(r, 502)
    elif fmt == "krakend":
        expect_empty(r, 502)
    else:
        expect_text(r, 502, "the backend is unreachable",
                    "text/plain; charset=utf-8")


# ================================================================ scope

def test_endpoint_setting_wins_over_its_servers(hosts):
    # krakend on one endpoint of the JSON host: its 500 and its 405
    r = get(hosts, "json", "/v1/kd-here")
    expect_empty(r, 500)
    assert r.headers[COMPLETED] == "false"
    r = requests.post(url(hosts, "json", "/v1/kd-here"), timeout=10)
    expect_text(r, 405, "405 method not allowed", "text/plain")
    # also a CORS preflight the bot policy refuses before any route runs
    r = requests.options(url(hosts, "json", "/v1/kd-cors"), timeout=10,
                         headers={"User-Agent": "EvilBot/1.0",
                                  "Origin": "http://app.example.test",
                                  "Access-Control-Request-Method": "GET"})
    expect_empty(r, 403)
    # the host's other endpoints stay JSON
    expect_json(get(hosts, "json", "/v1/one"), 500)
    # json on one endpoint of the krakend host
    expect_json(get(hosts, "krakend", "/v1/json-here"), 500)
    expect_json(requests.post(url(hosts, "krakend", "/v1/json-here"),
                              timeout=10), 405)
    expect_empty(get(hosts, "krakend", "/v1/one"), 500)


# ================================================================ import

def write_kd(tmp_path, doc):
    path = os.path.join(str(tmp_path), "krakend.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
    return path


def kd_doc(b, router=None):
    doc = {"version": 3, "endpoints": [
        {"endpoint": "/crash", "backend": [{"host": [b.url],
                                            "url_pattern": "/__status/404/u"}]},
        {"endpoint": "/fine", "backend": [{"host": [b.url],
                                           "url_pattern": "/fine"}]},
    ]}
    if router is not None:
        doc["extra_config"] = {"router": router}
    return doc


def test_import_turns_krakend_answers_on(tmp_path, backend, gateway):
    kd = write_kd(tmp_path, kd_doc(backend, {"return_error_msg": True}))
    gw = gateway("ApiImportKrakenD %s\n" % kd)
    expect_text(requests.get(gw.url("/unknown"), timeout=10), 404,
                "404 page not found", "text/plain")
    r = requests.post(gw.url("/crash"), timeout=10)
    expect_text(r, 405, "405 method not allowed", "text/plain")
    assert r.headers[COMPLETED] == "false"
    r = requests.get(gw.url("/crash"), timeout=10)
    expect_text(r, 500, "invalid status code 404 [GET /__status/404/u]: "
                "%s/__status/404/u" % backend.url, "text/plain; charset=utf-8")
    assert r.headers[COMPLETED] == "false"
    assert requests.get(gw.url("/fine"), timeout=10).status_code == 200
    # the router is no note any more
    assert "/extra_config/router" not in gw.output_text() + gw.error_log_text()


def test_import_without_messages_and_json_after_it(tmp_path, backend, gateway):
    kd = write_kd(tmp_path, kd_doc(backend))
    gw = gateway("ApiImportKrakenD %s\n" % kd)
    r = requests.get(gw.url("/crash"), timeout=10)
    expect_empty(r, 500)
    assert r.headers[COMPLETED] == "false"
    # an ApiErrorFormat after the import has the last word
    gw2 = gateway("ApiImportKrakenD %s\nApiErrorFormat json\n" % kd)
    expect_json(requests.get(gw2.url("/crash"), timeout=10), 500)
    r = requests.get(gw2.url("/unknown"), timeout=10)
    assert r.status_code == 404 and r.headers["Content-Type"].startswith(
        "text/html")


# ================================================================ configtest

@pytest.mark.parametrize("line, needle", [
    ("ApiErrorFormat xml", "unknown format 'xml'"),
    ("ApiErrorFormat json messages", "messages goes with krakend"),
    ("ApiErrorFormat krakend loud", "unknown option 'loud'"),
    ("ApiErrorFormat", "ApiErrorFormat"),
    ('<Location "/x">\n  ApiErrorFormat krakend\n</Location>',
     "belongs in the server config"),
])
def test_configtest_refuses(configtest, line, needle):
    ok, out = configtest(line + "\n")
    assert not ok, out
    assert needle in out, out


def test_configtest_accepts(configtest, backend):
    ok, out = configtest(f"""
ApiErrorFormat KRAKEND Messages
<VirtualHost 127.0.0.1:@PORT@>
  ApiErrorFormat json
</VirtualHost>
<ApiEndpoint "/v1/x">
  ApiBackend {backend.url}/x
  ApiErrorFormat krakend
</ApiEndpoint>
""")
    assert ok, out

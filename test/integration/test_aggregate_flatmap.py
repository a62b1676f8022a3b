# KrakenD's flatmap_filter as ApiFlatmap (on one backend's response, or on
# the merged answer), and KrakenD's per-backend error details as ApiBackend
# error-details=NAME: real httpd, real backends, and the configuration
# mistakes configtest refuses with file and line.
import json
from urllib.parse import quote

import pytest
import requests

from test_config_errors import at

B = "http://127.0.0.1:9"        # never contacted: configtest only


def reply(b, body, status=200, ctype=None):
    """A backend URL answering body (a dict, list or text)."""
    text = body if isinstance(body, str) else json.dumps(body)
    url = "%s/__reply/%d/0/%s" % (b.url, status, quote(text, safe=""))
    if ctype:
        url += "?ctype=" + quote(ctype, safe="")
    return url


def get(gw, path, **kw):
    kw.setdefault("timeout", 10)
    return requests.get(gw.url(path), **kw)


# ---------------------------------------------------------------- ApiFlatmap

def test_krakend_ce_flatmap_case(backend, gateway):
    """krakend-ce's /flatmap/{id}: a 10-element collection, three
    backend-level operations."""
    items = [{"i": i, "path": "/collection/2"} for i in range(10)]
    gw = gateway(f"""
<ApiEndpoint "/flatmap/{{id}}">
  ApiBackend {reply(backend, items)} collection
  ApiFlatmap backend=0 move collection paths
  ApiFlatmap backend=0 del paths.*.i
  ApiFlatmap backend=0 move paths.*.path paths.*.url
  ApiCacheTTL 3600s
  ApiCompletedHeader X-Krakend-Completed
</ApiEndpoint>
""")
    r = get(gw, "/flatmap/2")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json() == {"paths": [{"url": "/collection/2"}] * 10}
    assert r.text == json.dumps({"paths": [{"url": "/collection/2"}] * 10},
                                separators=(",", ":"))
    assert r.headers["X-Krakend-Completed"] == "true"
    assert r.headers["Cache-Control"] == "public, max-age=3600"


def test_backend_level_by_name_group_and_position(backend, gateway):
    shipping = {"shipping_id": "f15f", "zone": {"state": "NY", "zip": "10001"}}
    education = {
        "kindergarten": [{"name": "TEST Kinder"}, {"name": "Lil' Elephants"},
                         {"name": "Bright Rainbows"}],
        "schools": [{"title": "Brookside Elementary"},
                    {"title": "Oak Tree School"}]}
    gw = gateway(f"""
<ApiEndpoint "/both">
  ApiBackend {reply(backend, shipping)} name=ship
  ApiBackend {reply(backend, {"data": education, "x": 1})} target=data group=edu
  ApiBackend {reply(backend, {"untouched": {"zone": 1}})}
  ApiFlatmap backend=ship move zone.state shipping_state
  ApiFlatmap backend=edu del kindergarten.0
  ApiFlatmap backend=ship move zone.zip shipping_zip
  ApiFlatmap backend=1 move schools.*.title schools.*.name
  ApiFlatmap backend=edu append kindergarten schools
</ApiEndpoint>
<ApiEndpoint "/emptied">
  ApiBackend {reply(backend, shipping)} name=ship
  ApiFlatmap backend=ship move zone.state shipping_state
  ApiFlatmap backend=ship move zone.zip shipping_zip
</ApiEndpoint>
""")
    r = get(gw, "/both")
    assert r.status_code == 200, r.text
    # target, then the operations in their order, then group
    assert r.json() == {
        "shipping_id": "f15f", "shipping_state": "NY", "shipping_zip": "10001",
        "zone": None,
        "edu": {"schools": [{"name": "Brookside Elementary"},
                            {"name": "Oak Tree School"},
                            {"name": "Lil' Elephants"},
                            {"name": "Bright Rainbows"}]},
        "untouched": {"zone": 1}}
    assert r.headers["X-Apigw-Completed"] == "true"
    # an object emptied by the operations is null, as KrakenD's docs say
    assert get(gw, "/emptied").json() == {
        "shipping_id": "f15f", "shipping_state": "NY",
        "shipping_zip": "10001", "zone": None}


def test_endpoint_level_on_the_merged_answer(backend, gateway):
    gw = gateway(f"""
<ApiEndpoint "/merged">
  ApiBackend {reply(backend, {"users": [{"id": 1, "pw": "x"}, {"id": 2, "pw": "y"}]})}
  ApiBackend {reply(backend, {"admins": [{"id": 9, "pw": "z"}]})} group=more
  ApiBackend {reply(backend, {"gone": 1}, status=503)} name=down
  ApiFlatmap append more.admins users
  ApiFlatmap del users.*.pw more secret
  ApiFlatmap move users people
  ApiStatic {{"secret": "static data comes after the operations"}}
  ApiStatic strategy=errored {{"degraded": true}}
</ApiEndpoint>
<ApiEndpoint "/single">
  ApiBackend {reply(backend, {"a": {"b": [1, 2]}})}
  ApiFlatmap move a.b list
  ApiFlatmap del list.0
</ApiEndpoint>
""")
    r = get(gw, "/merged")
    assert r.status_code == 200, r.text
    # the operations ran before ApiStatic, as KrakenD's static middleware
    # wraps its flatmap one
    assert r.json() == {"people": [{"id": 1}, {"id": 2}, {"id": 9}],
                        "secret": "static data comes after the operations",
                        "degraded": True}
    assert r.headers["X-Apigw-Completed"] == "false"
    # KrakenD loads the endpoint's flatmap with several backends only;
    # here it applies to one as well
    assert get(gw, "/single").json() == {"a": None, "list": [2]}


def test_endpoint_level_sees_the_error_details(backend, gateway):
    gw = gateway(f"""
<ApiEndpoint "/details-moved">
  ApiBackend {reply(backend, {"a": 1})}
  ApiBackend {reply(backend, "nope", status=404, ctype="text/plain")} error-details=b
  ApiFlatmap move error_b.http_status_code failed_with
  ApiFlatmap del error_b
</ApiEndpoint>
""")
    r = get(gw, "/details-moved")
    assert r.status_code == 200
    assert r.json() == {"a": 1, "failed_with": 404}


def test_backend_level_after_the_decoders_wrapping(backend, gateway):
    """The operations see what the decoder made: safejson's array goes
    under "collection", a scalar under "content"."""
    gw = gateway(f"""
<ApiEndpoint "/safe">
  ApiBackend {reply(backend, {"ok": 1})}
  ApiBackend {reply(backend, [1, 2])} encoding=safejson
  ApiBackend {reply(backend, "7")} encoding=safejson
  ApiFlatmap backend=1 move collection nums
  ApiFlatmap backend=2 move content seven
</ApiEndpoint>
""")
    r = get(gw, "/safe")
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": 1, "nums": [1, 2], "seven": 7}
    assert r.headers["X-Apigw-Completed"] == "true"


# ---------------------------------------------------------------- error-details=

def test_krakend_ce_detail_error_case(backend, gateway):
    """krakend-ce's /detail_error: the first backend answers, the second
    fails with Go's plain 404; both carry return_error_details."""
    not_found = reply(backend, "404 page not found\n", status=404,
                      ctype="text/plain; charset=utf-8")
    gw = gateway(f"""
<ApiEndpoint "/detail_error">
  ApiBackend {backend.url}/param_forwarding/ error-details=backend_a
  ApiBackend {not_found} error-details=backend_b
  ApiCacheTTL 3600s
</ApiEndpoint>
""")
    r = get(gw, "/detail_error")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    doc = r.json()
    assert doc.pop("error_backend_b") == {
        "http_status_code": 404,
        "http_body_encoding": "text/plain; charset=utf-8",
        "http_body": "404 page not found\n"}
    # the rest is the first backend's answer, as it is
    assert doc["path"] == "/param_forwarding/"
    assert doc["method"] == "GET"
    assert set(doc) == {"backend", "method", "path", "query", "headers",
                        "body"}
    assert "error_backend_a" not in r.text
    assert r.headers["X-Apigw-Completed"] == "false"
    assert "Cache-Control" not in r.headers


def test_error_details_forms(backend, gateway):
    gw = gateway(f"""
<ApiEndpoint "/json-body">
  ApiBackend {reply(backend, {"a": 1})}
  ApiBackend {reply(backend, {"why": "gone"}, status=410)} error-details=orders group=o
</ApiEndpoint>
<ApiEndpoint "/all-failed">
  ApiBackend {reply(backend, "", status=500)} error-details=one
  ApiBackend {reply(backend, "x", status=502, ctype="text/plain")} error-details=two
</ApiEndpoint>
<ApiEndpoint "/single">
  ApiBackend {reply(backend, "missing", status=404, ctype="text/plain")} error-details=only
</ApiEndpoint>
<ApiEndpoint "/transport">
  ApiBackend {reply(backend, {"a": 1})}
  ApiBackend http://127.0.0.1:1/nothing-listens error-details=dead
  ApiBackend {reply(backend, {"b": 1}, status=200)} error-details=fine
</ApiEndpoint>
<ApiEndpoint "/with-endpoint-details">
  ApiBackend {reply(backend, {"a": 1})} name=users
  ApiBackend {reply(backend, {"why": "gone"}, status=404)} name=orders
  ApiBackend {reply(backend, "t", status=400, ctype="text/plain")} name=mine error-details=own
  ApiReturnErrorDetails backend
</ApiEndpoint>
""")
    # a JSON body stays text, as KrakenD's http_body is the body's string;
    # the details go at the root, not under the backend's group
    r = get(gw, "/json-body")
    assert r.status_code == 200
    assert r.json() == {"a": 1, "error_orders": {
        "http_status_code": 410, "http_body": '{"why": "gone"}',
        "http_body_encoding": "application/json"}}
    # every backend failed with a status: KrakenD answers 200 with the
    # details; an empty body has no http_body
    r = get(gw, "/all-failed")
    assert r.status_code == 200
    assert r.json() == {
        "error_one": {"http_status_code": 500,
                      "http_body_encoding": "application/json"},
        "error_two": {"http_status_code": 502, "http_body": "x",
                      "http_body_encoding": "text/plain"}}
    assert r.headers["X-Apigw-Completed"] == "false"
    # one backend with error-details= is called by the gateway (not
    # passed through)
    r = get(gw, "/single")
    assert r.status_code == 200
    assert r.json() == {"error_only": {"http_status_code": 404,
                                       "http_body": "missing",
                                       "http_body_encoding": "text/plain"}}
    # a call that failed in transport has no details (KrakenD's come with
    # a status only); a backend that answered adds none
    r = get(gw, "/transport")
    assert r.status_code == 200
    assert r.json() == {"a": 1, "b": 1}
    assert r.headers["X-Apigw-Completed"] == "false"
    # ApiReturnErrorDetails keeps its own form for the other backends
    r = get(gw, "/with-endpoint-details")
    assert r.status_code == 200
    doc = r.json()
    assert doc["a"] == 1
    assert doc["error_backend_orders"]["http_status_code"] == 404
    assert doc["error_backend_orders"]["http_body"] == {"why": "gone"}
    assert doc["error_own"] == {"http_status_code": 400, "http_body": "t",
                                "http_body_encoding": "text/plain"}
    assert "error_backend_mine" not in doc


# ---------------------------------------------------------------- configtest

CASES = [
    ("unknown-operation", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a
  ApiFlatmap rename a b
</ApiEndpoint>
""", ["ApiFlatmap rename"], ['unknown operation "rename"']),

    ("move-needs-two-paths", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a
  ApiFlatmap move a
</ApiEndpoint>
""", ["ApiFlatmap move"], ["move needs two paths", "got 1"]),

    ("del-needs-a-path", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a
  ApiFlatmap backend=0 del
</ApiEndpoint>
""", ["ApiFlatmap backend=0 del"], ["del needs at least one path"]),

    ("no-operation", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a
  ApiFlatmap backend=0
</ApiEndpoint>
""", ["ApiFlatmap backend=0"], ["needs an operation"]),

    ("bad-path", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a
  ApiFlatmap del a..b
</ApiEndpoint>
""", ["ApiFlatmap del"], ["a..b", "segment is empty"]),

    ("move-ends-in-wildcard", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a
  ApiFlatmap move a.* b
</ApiEndpoint>
""", ["ApiFlatmap move"], ["ends in *"]),

    ("rename-other-parent", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a
  ApiFlatmap move a.*.b1.*.c a.*.x.*.c
</ApiEndpoint>
""", ["ApiFlatmap move"], ["a rename"]),

    ("append-to-many", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a
  ApiFlatmap append a b.*.c
</ApiEndpoint>
""", ["ApiFlatmap append"], ["cannot hold *"]),

    ("no-such-backend", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a name=users
  ApiBackend {B}/b
  ApiFlatmap backend=orders del x
</ApiEndpoint>
""", ["ApiFlatmap backend=orders"], ["backend=orders", "no such backend"]),

    ("backend-position-out-of-range", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a
  ApiBackend {B}/b
  ApiFlatmap backend=2 del x
</ApiEndpoint>
""", ["ApiFlatmap backend=2"], ["no such backend"]),

    ("flatmap-with-allow", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a allow=x
  ApiFlatmap backend=0 del x
</ApiEndpoint>
""", ["ApiFlatmap backend=0", "ApiBackend"], ["allow=, deny= or mapping="]),

    ("flatmap-with-noop-output", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a
  ApiOutputEncoding no-op
  ApiFlatmap del x
</ApiEndpoint>
""", ["ApiFlatmap del"], ["no-op"]),

    ("flatmap-on-noop-backend", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a encoding=no-op
  ApiBackend {B}/b
  ApiFlatmap backend=0 del x
</ApiEndpoint>
""", ["ApiFlatmap backend=0", "ApiBackend"], ["encoding=no-op"]),

    ("flatmap-outside-endpoint", """
ApiFlatmap del x
""", ["ApiFlatmap"], ["ApiFlatmap not allowed here"]),

    ("error-details-bad-name", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a error-details=a.b
</ApiEndpoint>
""", ["ApiBackend"], ["error-details", "letters, digits"]),

    ("error-details-empty", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a error-details
</ApiEndpoint>
""", ["ApiBackend"], ["error-details needs a value"]),

    ("error-details-noop", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a encoding=no-op error-details=x
  ApiBackend {B}/b
</ApiEndpoint>
""", ["ApiBackend"], ["error-details does not apply"]),
]


@pytest.mark.parametrize("conf,lines,parts", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_flatmap_config_error(configtest, conf, lines, parts):
    ok, out = configtest(conf)
    assert not ok, out
    for needle in lines:
        line = configtest.line(needle)
        assert at(out, configtest.path, line), \
            "no mention of %s:%d (%s) in:\n%s" % (configtest.path, line,
                                                   needle, out)
    for part in parts:
        assert part in out, out


def test_valid_flatmap_config_passes(configtest):
    ok, out = configtest(f"""
<ApiEndpoint "/a/{{id}}">
  ApiBackend {B}/u/{{id}} name=user target=data group=g error-details=user
  ApiBackend {B}/list collection
  ApiBackend {B}/x deny=secret error-details=x-1
  ApiFlatmap backend=user move a.*.b1.*.c a.*.b1.*.d
  ApiFlatmap backend=user move zone.state shipping_state
  ApiFlatmap backend=1 move collection paths
  ApiFlatmap backend=1 del paths.*.i paths.0
  ApiFlatmap backend=1 append paths.*.more paths
  ApiFlatmap "move" "g.a" "g.b"
  ApiFlatmap del secret
  ApiOutputEncoding negotiate
</ApiEndpoint>
""")
    assert ok, out

# The admin API (SetHandler apigw-admin): the REST management of runtime
# routes and their environments, kept in the route store (ApiRouteStore,
# SQLite by default). Routes are stored here, not served: these tests
# register, read, replace, patch and delete them, and check what the API
# refuses (validation, hostile bodies, cross-site writes, wrong methods),
# that each write is audited in the error log (AGW00700), that routes
# survive a restart and that several children write to one store.
import datetime
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from urllib.parse import urlparse

import pytest
import requests

from conftest import raw_exchange, raw_request

JSON = {"Content-Type": "application/json"}
UUID_V4 = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
RFC3339 = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
AUDIT = "AGW00700"

# LogLevel: the audit line is at notice, below the suite's default (warn)
ADMIN_LOCATION = """
LogLevel warn apigw:notice
<Location "/admin">
  SetHandler apigw-admin
  Require all granted
</Location>
"""


def admin_conf(store=None, extra=""):
    head = "ApiRouteStore %s\n" % store if store else ""
    return head + ADMIN_LOCATION + extra


def route(path="/v1/users/{id}", target=None, **more):
    """A route body; the target, unless given, has the path's variables."""
    if target is None:
        target = "http://127.0.0.1:9/users/{id}" if "{id}" in path \
            else "http://127.0.0.1:9/x"
    doc = {"path": path, "targetUrl": target}
    doc.update(more)
    return doc


def parse_time(text):
    assert RFC3339.match(text), text
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


class Admin:
    """A client of one gateway's admin API."""

    def __init__(self, gw):
        self.gw = gw
        self.origin = "http://127.0.0.1:%d" % gw.port

    def url(self, path):
        return self.gw.url("/admin" + path)

    def request(self, method, path, body=None, headers=None, data=None):
        h = {}
        if body is not None:
            h.update(JSON)
            data = json.dumps(body)
        h.update(headers or {})
        return requests.request(method, self.url(path), data=data, headers=h,
                                timeout=30)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    # -- shortcuts that assert success

    def register(self, doc=None, **kw):
        r = self.post("/routes", doc or route(), **kw)
        assert r.status_code == 201, r.text
        return r.json()

    def routes(self, environment=None):
        path = "/routes" if environment is None \
            else "/routes?environment=" + environment
        r = self.get(path)
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"].split(";")[0] == "application/json"
        doc = r.json()
        assert isinstance(doc, list), doc
        return doc

    def environments(self):
        r = self.get("/environments")
        assert r.status_code == 200, r.text
        doc = r.json()
        assert isinstance(doc, list), doc
        return sorted(e["name"] for e in doc)

    def state(self):
        """Everything the store holds, as the API shows it."""
        return {env: sorted(self.routes(env), key=lambda d: d["id"])
                for env in self.environments()}

    def audit_lines(self):
        return [l for l in self.gw.error_log_text().splitlines()
                if AUDIT in l]


@pytest.fixture
def store_dir():
    """A folder the gateway's children (www-data) can write, for an
    explicit ApiRouteStore file: the children open the store as the user
    they run as, and pytest's tmp_path (so the run folder, the default
    store's) sits under a folder only root may enter."""
    d = tempfile.mkdtemp(prefix="apigw-admin-")
    os.chmod(d, 0o777)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def admin(store_dir, gateway):
    """An admin API on a fresh SQLite store of its own."""
    store = "sqlite3:" + os.path.join(store_dir, "routes.sqlite")
    return Admin(gateway(admin_conf(store)))


@pytest.fixture
def enterable_tmp_path(tmp_path):
    """tmp_path and the folders above it made enterable (o+x, not
    readable) by the children, for the default store in the run folder;
    their modes restored afterwards."""
    changed = []
    d = str(tmp_path)
    while d not in ("/", "/tmp"):
        mode = os.stat(d).st_mode & 0o7777
        if not mode & 0o001:
            os.chmod(d, mode | 0o001)
            changed.append((d, mode))
        d = os.path.dirname(d)
    yield tmp_path
    for d, mode in changed:
        os.chmod(d, mode)


def assert_json_error(resp, status, field=None):
    assert resp.status_code == status, (resp.status_code, resp.text)
    assert resp.headers["Content-Type"].split(";")[0] == "application/json", \
        resp.headers
    doc = resp.json()
    assert doc["status"] == status, doc
    assert isinstance(doc["error"], str) and doc["error"], doc
    if field is not None:
        assert doc.get("field") == field, doc
    return doc


def still_serving(a):
    """A following request is answered (the child that refused is fine)."""
    r = requests.get(a.url("/routes"), headers={"Connection": "close"},
                     timeout=10)
    assert r.status_code == 200, r.text


# ------------------------------------------------------------ listing

def test_list_of_a_new_store_is_empty(admin):
    assert admin.routes() == []
    assert admin.routes("default") == []


def test_list_of_an_unknown_environment_is_404(admin):
    assert_json_error(admin.get("/routes?environment=nowhere"), 404)


# ------------------------------------------------------------ register

def test_register_answers_201_with_id_times_and_location(admin):
    before = datetime.datetime.now(datetime.timezone.utc)
    r = admin.post("/routes", route(methods=["GET", "POST"]))
    assert r.status_code == 201, r.text
    assert r.headers["Content-Type"].split(";")[0] == "application/json"
    doc = r.json()
    assert UUID_V4.match(doc["id"]), doc
    assert urlparse(r.headers["Location"]).path == "/admin/routes/" + doc["id"]
    assert doc["path"] == "/v1/users/{id}"
    assert doc["targetUrl"] == "http://127.0.0.1:9/users/{id}"
    assert doc["methods"] == ["GET", "POST"]
    assert doc["environment"] == "default"
    assert doc["enabled"] is True
    created = parse_time(doc["createdAt"])
    parse_time(doc["updatedAt"])
    slack = datetime.timedelta(seconds=5)
    assert before - slack <= created <= before + slack + slack, doc


def test_register_applies_the_defaults(admin):
    doc = admin.register(route())
    assert doc["methods"] == ["GET"]
    assert doc["enabled"] is True
    assert doc["environment"] == "default"


def test_registered_route_is_read_back_and_listed(admin):
    doc = admin.register(route(timeoutSeconds=5, enabled=False,
                               cors={"allowOrigins": ["https://a.example"]}))
    r = admin.get("/routes/" + doc["id"])
    assert r.status_code == 200, r.text
    assert r.json() == doc
    assert admin.routes() == [doc]


def test_each_registration_gets_its_own_id(admin):
    ids = {admin.register(route("/v1/n%d/{id}" % i))["id"] for i in range(3)}
    assert len(ids) == 3
    assert sorted(d["id"] for d in admin.routes()) == sorted(ids)


def test_get_of_an_unknown_id_is_404(admin):
    admin.register(route())
    assert_json_error(admin.get("/routes/%s" % uuid.uuid4()), 404)


def test_register_into_another_environment(admin):
    r = admin.post("/environments", {"name": "staging"})
    assert r.status_code == 201, r.text
    doc = admin.register(route(environment="staging"))
    assert doc["environment"] == "staging"
    assert admin.routes("staging") == [doc]
    assert admin.routes() == []


def test_register_into_a_missing_environment_is_refused(admin):
    r = admin.post("/routes", route(environment="nowhere"))
    assert r.status_code in (400, 404), r.text
    assert_json_error(r, r.status_code)
    assert admin.environments() == ["default"]
    assert admin.routes() == []


# ------------------------------------------------------------ replace, patch

def test_put_replaces_the_route_keeping_id_and_creation(admin):
    old = admin.register(route(methods=["GET"], timeoutSeconds=5))
    time.sleep(0.05)
    r = admin.put("/routes/" + old["id"],
                  route(path="/v2/people/{id}",
                        target="https://127.0.0.1:8443/people/{id}",
                        methods=["GET", "DELETE"], enabled=False))
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["id"] == old["id"]
    assert new["createdAt"] == old["createdAt"]
    assert parse_time(new["updatedAt"]) > parse_time(old["updatedAt"])
    assert new["path"] == "/v2/people/{id}"
    assert new["targetUrl"] == "https://127.0.0.1:8443/people/{id}"
    assert new["methods"] == ["GET", "DELETE"]
    assert new["enabled"] is False
    # a full replacement: what the body leaves out is gone
    assert "timeoutSeconds" not in new, new
    assert admin.get("/routes/" + old["id"]).json() == new
    assert admin.routes() == [new]


def test_patch_replaces_only_the_fields_present(admin):
    old = admin.register(route(methods=["GET", "POST"], timeoutSeconds=5))
    time.sleep(0.05)
    r = admin.patch("/routes/" + old["id"],
                    {"enabled": False, "timeoutSeconds": 7})
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["enabled"] is False
    assert new["timeoutSeconds"] == 7
    for kept in ("id", "path", "targetUrl", "methods", "environment",
                 "createdAt"):
        assert new[kept] == old[kept], kept
    assert parse_time(new["updatedAt"]) > parse_time(old["updatedAt"])
    assert admin.get("/routes/" + old["id"]).json() == new


def test_patch_null_removes_a_group(admin):
    old = admin.register(route(cors={"allowOrigins": ["https://a.example"]}))
    r = admin.patch("/routes/" + old["id"], {"cors": None})
    assert r.status_code == 200, r.text
    assert "cors" not in r.json()
    assert "cors" not in admin.get("/routes/" + old["id"]).json()


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_replace_or_patch_of_an_unknown_id_is_404(admin, method):
    admin.register(route())
    before = admin.state()
    r = admin.request(method, "/routes/%s" % uuid.uuid4(), route())
    assert_json_error(r, 404)
    assert admin.state() == before


@pytest.mark.parametrize("method,body,field", [
    ("PUT", route(timeoutSeconds=0), "timeoutSeconds"),
    ("PUT", {"path": "/v1/x"}, "targetUrl"),
    ("PATCH", {"timeoutSeconds": 0}, "timeoutSeconds"),
    ("PATCH", {"targetUrl": "file:///etc/passwd"}, "targetUrl"),
    ("PATCH", {"path": None}, "path"),
    ("PATCH", {"id": "00000000-0000-4000-8000-000000000000"}, "id"),
    ("PATCH", {"colour": "blue"}, "colour"),
])
def test_invalid_replace_or_patch_changes_nothing(admin, method, body, field):
    doc = admin.register(route(timeoutSeconds=5))
    before = admin.state()
    r = admin.request(method, "/routes/" + doc["id"], body)
    assert_json_error(r, 400, field)
    assert admin.state() == before
    assert admin.get("/routes/" + doc["id"]).json() == doc


# ------------------------------------------------------------ delete

def test_delete_a_route_then_again_is_404(admin):
    doc = admin.register(route())
    keep = admin.register(route(path="/v1/keep"))
    r = admin.delete("/routes/" + doc["id"])
    assert r.status_code == 200, r.text
    assert r.json() == {"deletedCount": 1}
    assert_json_error(admin.get("/routes/" + doc["id"]), 404)
    assert_json_error(admin.delete("/routes/" + doc["id"]), 404)
    assert admin.routes() == [keep]


def test_delete_the_routes_of_an_environment(admin):
    for i in range(3):
        admin.register(route(path="/v1/r%d" % i))
    assert admin.post("/environments", {"name": "qa"}).status_code == 201
    other = admin.register(route(environment="qa"))
    r = admin.delete("/routes?environment=default")
    assert r.status_code == 200, r.text
    assert r.json() == {"deletedCount": 3}
    assert admin.routes() == []
    assert admin.routes("qa") == [other]
    assert admin.environments() == ["default", "qa"]   # environments stay


def test_delete_the_routes_of_an_unknown_environment_is_404(admin):
    admin.register(route())
    before = admin.state()
    assert_json_error(admin.delete("/routes?environment=nowhere"), 404)
    assert admin.state() == before


# ------------------------------------------------------------ environments

def test_a_new_store_has_the_default_environment(admin):
    r = admin.get("/environments")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0] == "application/json"
    assert r.json() == [{"name": "default"}]


def test_create_an_environment_copying_the_routes(admin):
    a = admin.register(route(methods=["GET", "PUT"], timeoutSeconds=9,
                             rateLimit={"average": 10, "period": "1s",
                                        "burst": 2, "by": "ip"}))
    b = admin.register(route(path="/v1/off", target="http://127.0.0.1:9/off",
                             enabled=False,
                             cors={"allowOrigins": ["https://a.example"]}))
    r = admin.post("/environments",
                   {"name": "staging", "from": "default", "copyRoutes": True})
    assert r.status_code == 201, r.text
    assert r.json() == {"name": "staging", "copiedRoutes": 2}
    assert admin.environments() == ["default", "staging"]
    copies = admin.routes("staging")
    assert len(copies) == 2
    originals = {d["path"]: d for d in (a, b)}
    volatile = ("id", "environment", "createdAt", "updatedAt")
    for c in copies:
        o = originals[c["path"]]
        assert UUID_V4.match(c["id"]) and c["id"] not in (a["id"], b["id"])
        assert c["environment"] == "staging"
        assert {k: v for k, v in c.items() if k not in volatile} == \
            {k: v for k, v in o.items() if k not in volatile}
        # the copy is a route of its own
        assert admin.get("/routes/" + c["id"]).json() == c
    assert sorted(d["id"] for d in admin.routes()) == sorted([a["id"], b["id"]])


def test_create_an_empty_environment(admin):
    admin.register(route())
    r = admin.post("/environments", {"name": "qa"})
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["name"] == "qa"
    assert doc.get("copiedRoutes", 0) == 0
    assert admin.routes("qa") == []
    assert admin.environments() == ["default", "qa"]


def test_create_an_existing_environment_is_409(admin):
    assert admin.post("/environments", {"name": "qa"}).status_code == 201
    admin.register(route(environment="qa"))
    before = admin.state()
    assert_json_error(admin.post("/environments", {"name": "qa"}), 409)
    assert_json_error(admin.post("/environments",
                                 {"name": "default", "from": "qa",
                                  "copyRoutes": True}), 409)
    assert admin.state() == before


def test_create_an_environment_from_a_missing_one_creates_nothing(admin):
    r = admin.post("/environments",
                   {"name": "staging", "from": "nowhere", "copyRoutes": True})
    assert r.status_code in (400, 404), r.text
    assert_json_error(r, r.status_code)
    assert admin.environments() == ["default"]


@pytest.mark.parametrize("body,field", [
    ({"name": "prod env"}, "name"),
    ({"name": ""}, "name"),
    ({}, "name"),
    ({"name": "qa", "copyRoutes": "yes"}, "copyRoutes"),
    ({"name": "qa", "colour": "blue"}, "colour"),
])
def test_invalid_environment_is_refused(admin, body, field):
    r = admin.post("/environments", body)
    assert_json_error(r, 400, field)
    assert admin.environments() == ["default"]


def test_delete_an_environment_and_its_routes(admin):
    kept = admin.register(route())
    admin.register(route(path="/v1/other"))
    r = admin.post("/environments",
                   {"name": "staging", "from": "default", "copyRoutes": True})
    assert r.status_code == 201, r.text
    copies = admin.routes("staging")
    r = admin.delete("/environments/staging")
    assert r.status_code == 200, r.text
    assert r.json() == {"deletedCount": 2}
    assert admin.environments() == ["default"]
    assert_json_error(admin.get("/routes?environment=staging"), 404)
    for c in copies:
        assert_json_error(admin.get("/routes/" + c["id"]), 404)
    assert kept["id"] in [d["id"] for d in admin.routes()]
    assert len(admin.routes()) == 2


def test_delete_the_default_environment_is_400(admin):
    admin.register(route())
    before = admin.state()
    assert_json_error(admin.delete("/environments/default"), 400)
    assert admin.state() == before


def test_delete_an_unknown_environment_is_404(admin):
    assert_json_error(admin.delete("/environments/nowhere"), 404)
    assert admin.environments() == ["default"]


# ------------------------------------------------------------ validation

HOSTILE_ROUTES = [
    ("timeout-zero", route(path="/v1/x", target="http://127.0.0.1:9/x",
                           timeoutSeconds=0), "timeoutSeconds"),
    ("timeout-too-long", route(timeoutSeconds=301), "timeoutSeconds"),
    ("unknown-field", route(colour="blue"), "colour"),
    ("wrong-type-number", route(timeoutSeconds="30"), "timeoutSeconds"),
    ("wrong-type-bool", route(enabled="yes"), "enabled"),
    ("wrong-type-path", {"path": ["/a"], "targetUrl": "http://h/"}, "path"),
    ("missing-target", {"path": "/v1/x"}, "targetUrl"),
    ("file-url", route(target="file:///etc/passwd"), "targetUrl"),
    ("gopher-url", route(target="gopher://127.0.0.1:70/x"), "targetUrl"),
    ("userinfo-url", route(target="http://user@host/"), "targetUrl"),
    ("crlf-target", route(target="http://h/a\r\nX-Evil: 1"), "targetUrl"),
    ("crlf-path", route(path="/a\r\nb", target="http://h/"), "path"),
    ("crlf-header", route(requestHeaders=[
        {"action": "set", "name": "X-A", "value": "a\r\nX-Evil: 1"}]),
     "requestHeaders[0].value"),
    ("dotdot-path", route(path="/a/../b", target="http://h/"), "path"),
    ("dotdot-target", route(target="http://h/a/../admin"), "targetUrl"),
    ("dotdot-encoded", route(target="http://h/a/%2e%2E/admin"), "targetUrl"),
    ("bad-regex", route(pathRewrite={"type": "regex", "value": "(",
                                     "replacement": "/"}),
     "pathRewrite.value"),
    ("id-given", route(id=str(uuid.uuid4())), "id"),
    ("created-given", route(createdAt="2024-01-01T00:00:00Z"), "createdAt"),
    ("bad-method", route(methods=["GET", "TRACE"]), "methods[1]"),
    ("bad-environment", route(environment="prod env"), "environment"),
]


@pytest.mark.parametrize("body,field", [c[1:] for c in HOSTILE_ROUTES],
                         ids=[c[0] for c in HOSTILE_ROUTES])
def test_invalid_route_is_refused_naming_the_field(admin, body, field):
    seed = admin.register(route(path="/v1/seed"))
    before = admin.state()
    r = admin.post("/routes", body)
    assert_json_error(r, 400, field)
    assert admin.state() == before
    assert admin.routes() == [seed]
    still_serving(admin)


@pytest.mark.parametrize("data", [
    b"", b"[]", b'"x"', b'{"path":', b'{"path":"/a"} trailing',
    b'{"path":"/\xff","targetUrl":"http://h"}',
    b'{"path":"/a","path":"/b","targetUrl":"http://h"}',
], ids=["empty", "array", "string", "truncated", "trailing", "not-utf8",
        "duplicate-key"])
def test_body_that_is_not_a_route_object_is_400(admin, data):
    before = admin.state()
    r = admin.post("/routes", data=data, headers=JSON)
    assert_json_error(r, 400)
    assert admin.state() == before
    still_serving(admin)


@pytest.mark.parametrize("shape", ["arrays", "objects"])
def test_json_nested_10000_deep_is_refused(admin, shape):
    before = admin.state()
    deep = 10000
    if shape == "arrays":
        data = "[" * deep + "]" * deep
    else:
        data = '{"path":"/a","targetUrl":"http://h/","cors":' + \
            '{"a":' * deep + "1" + "}" * deep + "}"
    r = admin.post("/routes", data=data.encode(), headers=JSON)
    assert_json_error(r, 400)
    assert admin.state() == before
    still_serving(admin)


def big_route_body(size):
    head = b'{"path":"/v1/x","targetUrl":"http://127.0.0.1:9/x","pad":"'
    return head + b"a" * (size - len(head) - 2) + b'"}'


def test_10mb_body_is_refused(admin):
    before = admin.state()
    r = admin.post("/routes", data=big_route_body(10 * 1024 * 1024),
                   headers=JSON)
    assert r.status_code in (400, 413), r.text[:300]
    assert_json_error(r, r.status_code)
    assert admin.state() == before
    still_serving(admin)


def test_10mb_chunked_body_is_refused(admin):
    """Without a Content-Length the handler still stops at its limit."""
    body = big_route_body(10 * 1024 * 1024)

    def chunks():
        for i in range(0, len(body), 65536):
            yield body[i:i + 65536]

    before = admin.state()
    try:
        r = requests.post(admin.url("/routes"), data=chunks(), headers=JSON,
                          timeout=30)
    except requests.ConnectionError as e:
        pytest.fail("the connection broke instead of an answer: %s" % e)
    assert r.status_code in (400, 413), r.text[:300]
    assert_json_error(r, r.status_code)
    assert admin.state() == before
    still_serving(admin)


# ------------------------------------------------------------ cross-site safety

@pytest.mark.parametrize("method,ctype", [
    ("POST", None), ("POST", "text/plain"),
    ("POST", "application/x-www-form-urlencoded"),
    ("POST", "multipart/form-data; boundary=x"),
    ("POST", "application/jsonx"), ("POST", "text/plain; x=application/json"),
    ("PUT", "text/plain"), ("PATCH", "text/plain"),
])
def test_write_without_json_content_type_is_415(admin, method, ctype):
    doc = admin.register(route())
    before = admin.state()
    path = "/routes" if method == "POST" else "/routes/" + doc["id"]
    h = {"Content-Type": ctype} if ctype else {}
    body = json.dumps(route(path="/v1/other")).encode()
    if ctype is None:
        # requests adds no Content-Type to bytes data: sent without one
        r = requests.request(method, admin.url(path), data=body, timeout=10)
        assert "Content-Type" not in r.request.headers
    else:
        r = requests.request(method, admin.url(path), data=body, headers=h,
                             timeout=10)
    assert_json_error(r, 415)
    assert admin.state() == before


def test_environment_create_without_json_content_type_is_415(admin):
    r = requests.post(admin.url("/environments"),
                      data=json.dumps({"name": "qa"}),
                      headers={"Content-Type": "text/plain"}, timeout=10)
    assert_json_error(r, 415)
    assert admin.environments() == ["default"]


def test_json_content_type_with_charset_is_accepted(admin):
    r = admin.post("/routes", route(),
                   headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 201, r.text
    assert admin.routes() == [r.json()]


@pytest.mark.parametrize("origin", [
    "http://evil.example", "null", "http://127.0.0.1:1",
    "https://127.0.0.1:@PORT@",
])
def test_write_from_a_foreign_origin_is_403(admin, origin):
    origin = origin.replace("@PORT@", str(admin.gw.port))
    doc = admin.register(route())
    assert admin.post("/environments", {"name": "qa"}).status_code == 201
    before = admin.state()
    h = {"Origin": origin}
    rid = "/routes/" + doc["id"]
    writes = [
        admin.post("/routes", route(path="/v1/evil"), headers=h),
        admin.put(rid, route(path="/v1/evil"), headers=h),
        admin.patch(rid, {"enabled": False}, headers=h),
        admin.delete(rid, headers=h),
        admin.delete("/routes?environment=default", headers=h),
        admin.post("/environments", {"name": "evil"}, headers=h),
        admin.delete("/environments/qa", headers=h),
    ]
    for r in writes:
        assert_json_error(r, 403)
    assert admin.state() == before


def test_write_from_the_gateways_own_origin_is_accepted(admin):
    h = {"Origin": admin.origin}
    r = admin.post("/routes", route(), headers=h)
    assert r.status_code == 201, r.text
    rid = "/routes/" + r.json()["id"]
    r = admin.patch(rid, {"enabled": False}, headers=h)
    assert r.status_code == 200, r.text
    r = admin.delete(rid, headers=h)
    assert r.status_code == 200, r.text
    assert admin.routes() == []


# ------------------------------------------------------------ methods, paths

@pytest.mark.parametrize("method,path,allowed,refused", [
    ("PUT", "/routes", {"GET", "POST"}, {"PUT", "PATCH"}),
    ("PATCH", "/routes", {"GET", "POST"}, {"PUT", "PATCH"}),
    ("POST", "/routes/@ID@", {"GET", "PUT", "PATCH", "DELETE"}, {"POST"}),
    ("PUT", "/environments", {"GET", "POST"}, {"PUT", "PATCH"}),
    ("DELETE", "/environments", {"GET", "POST"}, {"DELETE"}),
])
def test_wrong_method_is_405_with_allow(admin, method, path, allowed, refused):
    doc = admin.register(route())
    before = admin.state()
    path = path.replace("@ID@", doc["id"])
    r = admin.request(method, path, route(path="/v1/x"))
    assert_json_error(r, 405)
    allow = {m.strip() for m in r.headers.get("Allow", "").split(",")}
    assert allowed <= allow, r.headers
    assert not (refused & allow), r.headers
    assert admin.state() == before


@pytest.mark.parametrize("path", ["/nope", "/routes/x/y", "/environments/default/x",
                                  "/routesx"])
def test_unknown_sub_path_is_404_json(admin, path):
    assert_json_error(admin.get(path), 404)


def test_sub_paths_are_relative_to_the_location(admin):
    """Only /admin/routes[/ID] and /admin/environments[/NAME] exist: a
    collection's name deeper down is no alias of it."""
    doc = admin.register(route())
    assert admin.post("/environments", {"name": "qa"}).status_code == 201
    before = admin.state()
    assert_json_error(admin.get("/nope/routes"), 404)
    assert_json_error(admin.get("/a/b/routes/" + doc["id"]), 404)
    assert_json_error(admin.delete("/x/routes?environment=default"), 404)
    assert_json_error(admin.delete("/x/routes/" + doc["id"]), 404)
    assert_json_error(admin.delete("/x/environments/qa"), 404)
    assert admin.state() == before


def test_an_environment_named_routes_is_deleted_alone(admin):
    """DELETE /admin/environments/routes names the environment "routes",
    not the routes collection (of the default environment)."""
    kept = admin.register(route())
    r = admin.post("/environments", {"name": "routes"})
    assert r.status_code == 201, r.text
    r = admin.delete("/environments/routes")
    assert r.status_code == 200, r.text
    assert r.json() == {"deletedCount": 0}
    assert admin.environments() == ["default"]
    assert admin.routes() == [kept]


@pytest.mark.parametrize("arg", ["qa%2F", "%zz", "qa%00"])
def test_an_undecodable_environment_argument_is_not_the_default(admin, arg):
    """A query argument that cannot be decoded is refused, never taken
    for the default environment."""
    kept = admin.register(route())
    port = admin.gw.port
    # raw: requests would re-encode %zz
    deleted = raw_request(port, (
        "DELETE /admin/routes?environment=%s HTTP/1.1\r\nHost: 127.0.0.1:%d"
        "\r\nConnection: close\r\n\r\n" % (arg, port)).encode())
    listed = raw_request(port, (
        "GET /admin/routes?environment=%s HTTP/1.1\r\nHost: 127.0.0.1:%d"
        "\r\nConnection: close\r\n\r\n" % (arg, port)).encode())
    assert admin.routes() == [kept], (deleted.status, deleted.body)
    assert deleted.status in (400, 404), (deleted.status, deleted.body)
    assert listed.status in (400, 404), (listed.status, listed.body)


def test_foreign_origin_with_a_matching_host_is_403(admin):
    """The own origin is the gateway's (http://127.0.0.1:PORT), not
    whatever the request's Host says: a DNS-rebound page sends Host and
    Origin of its own name."""
    doc = admin.register(route())
    before = admin.state()
    evil = "evil.example:%d" % admin.gw.port
    h = {"Host": evil, "Origin": "http://" + evil}
    assert_json_error(admin.delete("/routes/" + doc["id"], headers=h), 403)
    assert_json_error(admin.post("/routes", route(path="/v1/evil"),
                                 headers=h), 403)
    assert admin.state() == before


def test_a_location_elsewhere_serves_and_locates_its_routes(store_dir,
                                                            gateway):
    store = "sqlite3:" + os.path.join(store_dir, "routes.sqlite")
    gw = gateway("ApiRouteStore %s\n" % store + """
<Location "/mgmt/api">
  SetHandler apigw-admin
  Require all granted
</Location>
""")
    r = requests.post(gw.url("/mgmt/api/routes"), data=json.dumps(route()),
                      headers=JSON, timeout=10)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert urlparse(r.headers["Location"]).path == "/mgmt/api/routes/" + rid
    r = requests.get(gw.url("/mgmt/api/routes/" + rid), timeout=10)
    assert r.status_code == 200 and r.json()["id"] == rid


@pytest.mark.parametrize("case", ["415", "403", "405", "404"])
def test_a_refused_requests_body_is_never_read_as_a_request(admin, case):
    """On a kept-alive connection the body of a refused request is
    discarded: a request hidden in it is not answered."""
    doc = admin.register(route())
    smuggled = (b"DELETE /admin/routes/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"\r\n" % doc["id"].encode())
    target, extra = {
        "415": ("/admin/routes", b"Content-Type: text/plain\r\n"),
        "403": ("/admin/routes", b"Content-Type: application/json\r\n"
                b"Origin: http://evil.example\r\n"),
        "405": ("/admin/environments/default",
                b"Content-Type: application/json\r\n"),
        "404": ("/admin/nope", b"Content-Type: application/json\r\n"),
    }[case]
    req = (b"POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s"
           b"Content-Length: %d\r\n\r\n" % (target.encode(), admin.gw.port,
                                           extra, len(smuggled))) + smuggled
    answers = raw_exchange(admin.gw.port, req, expect=2, timeout=2)
    assert [a.status for a in answers] == [int(case)], \
        [(a.status, a.body) for a in answers]
    assert admin.routes() == [doc]


# ------------------------------------------------------------ audit

def wait_audit(a, count, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        lines = a.audit_lines()
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.02)


def audit_message(line):
    return line[line.index(AUDIT):]


ANONYMOUS = re.compile(r"""(^|[\s=:,;"'(\[])-($|[\s,;"')\]])""")


def test_each_write_logs_one_audit_line(admin):
    """One notice line per write naming the action, the id or environment
    and the user ("-" without authentication); reads log none."""
    steps = []

    def step(what, resp, status, needle, action):
        assert resp.status_code == status, (what, resp.text)
        steps.append((what, needle, action))
        lines = wait_audit(admin, len(steps))
        assert len(lines) == len(steps), (what, lines)
        time.sleep(0.1)                      # and no second line
        assert len(admin.audit_lines()) == len(steps), (what, lines)

    doc = admin.register(route())
    steps.append(("register", doc["id"], r"creat|regist|add|insert|post"))
    assert len(wait_audit(admin, 1)) == 1
    rid = "/routes/" + doc["id"]
    step("replace", admin.put(rid, route(path="/v1/p")), 200, doc["id"],
         r"replac|updat|put")
    step("patch", admin.patch(rid, {"enabled": False}), 200, doc["id"],
         r"patch|updat|modif|chang")
    step("create-env", admin.post("/environments",
                                  {"name": "staging", "from": "default",
                                   "copyRoutes": True}),
         201, "staging", r"creat|add|copy|post")
    step("delete", admin.delete(rid), 200, doc["id"], r"delet|remov")
    step("delete-env-routes", admin.delete("/routes?environment=staging"),
         200, "staging", r"delet|remov|clear|purg")
    step("delete-env", admin.delete("/environments/staging"), 200,
         "staging", r"delet|remov")
    # reads are not audited
    admin.routes()
    admin.environments()
    admin.get(rid)
    time.sleep(0.1)
    lines = admin.audit_lines()
    assert len(lines) == len(steps), lines
    for line, (what, needle, action) in zip(lines, steps):
        assert re.search(r"\[(apigw:)?notice\]", line), (what, line)
        msg = audit_message(line)
        assert needle in msg, (what, line)
        assert re.search(action, msg, re.I), (what, line)
        assert ANONYMOUS.search(msg.replace(needle, "")), (what, line)


@pytest.fixture
def htpasswd(world_readable_dir):
    path = os.path.join(world_readable_dir, "htpasswd")
    subprocess.run(["htpasswd", "-bc", path, "alice", "s3cret"], check=True,
                   capture_output=True)
    os.chmod(path, 0o644)
    return path


def auth_conf(htpasswd, store):
    return f"""
ApiRouteStore {store}
LogLevel warn apigw:notice
<Location "/admin">
  SetHandler apigw-admin
  AuthType Basic
  AuthName "admin"
  AuthUserFile "{htpasswd}"
  Require valid-user
</Location>
"""


@pytest.mark.allow_log("AH01617")       # mod_auth_basic: wrong password
def test_basic_auth_guards_the_api_and_names_the_user(store_dir, gateway,
                                                     htpasswd):
    store = "sqlite3:" + os.path.join(store_dir, "routes.sqlite")
    a = Admin(gateway(auth_conf(htpasswd, store)))
    assert a.get("/routes").status_code == 401
    r = a.post("/routes", route())
    assert r.status_code == 401
    r = requests.get(a.url("/routes"), auth=("alice", "wrong"), timeout=10)
    assert r.status_code == 401
    assert a.audit_lines() == []
    r = requests.get(a.url("/routes"), auth=("alice", "s3cret"), timeout=10)
    assert r.status_code == 200, r.text
    assert r.json() == []                 # nothing stored by the refused POST
    r = requests.post(a.url("/routes"), data=json.dumps(route()),
                      headers=JSON, auth=("alice", "s3cret"), timeout=10)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    lines = wait_audit(a, 1)
    assert len(lines) == 1, lines
    assert rid in lines[0] and "alice" in audit_message(lines[0]), lines
    assert "s3cret" not in a.gw.error_log_text()


# ------------------------------------------------------------ store

def test_routes_survive_a_restart(store_dir, gateway):
    store = "sqlite3:" + os.path.join(store_dir, "routes.sqlite")
    first = gateway(admin_conf(store))
    a = Admin(first)
    doc = a.register(route(timeoutSeconds=12))
    assert a.post("/environments", {"name": "qa"}).status_code == 201
    other = a.register(route(path="/v1/qa", environment="qa"))
    assert first.stop() == []
    b = Admin(gateway(admin_conf(store)))
    assert b.routes() == [doc]
    assert b.routes("qa") == [other]
    assert b.get("/routes/" + doc["id"]).json() == doc
    assert b.environments() == ["default", "qa"]


def test_explicit_store_path_is_used(store_dir, gateway):
    path = os.path.join(store_dir, "routes.sqlite")
    gw = gateway(admin_conf("sqlite3:" + path))
    Admin(gw).register(route())
    with open(path, "rb") as f:
        assert f.read(16) == b"SQLite format 3\0"
    assert not os.path.exists(os.path.join(gw.run_dir, "apigw-routes.sqlite"))


def test_default_store_is_in_the_runtime_dir(enterable_tmp_path, gateway):
    gw = gateway(admin_conf())
    a = Admin(gw)
    doc = a.register(route())
    assert a.routes() == [doc]
    path = os.path.join(gw.run_dir, "apigw-routes.sqlite")
    assert os.path.isfile(path), os.listdir(gw.run_dir)
    with open(path, "rb") as f:
        assert f.read(16) == b"SQLite format 3\0"


def test_relative_store_path_is_under_server_root(enterable_tmp_path, gateway):
    gw = gateway(admin_conf("sqlite3:my-routes.sqlite"))
    Admin(gw).register(route())
    assert os.path.isfile(os.path.join(gw.run_dir, "my-routes.sqlite")), \
        os.listdir(gw.run_dir)
    assert not os.path.exists(os.path.join(gw.run_dir, "apigw-routes.sqlite"))


def test_route_store_directive_is_server_config_only(configtest):
    ok, out = configtest("""
<Location "/admin">
  SetHandler apigw-admin
  ApiRouteStore sqlite3:/tmp/x.sqlite
</Location>
""")
    assert not ok, out
    assert "ApiRouteStore" in out, out


def test_route_store_directive_refuses_an_unknown_kind(configtest):
    ok, out = configtest("ApiRouteStore mysql:host=db\n" + ADMIN_LOCATION)
    assert not ok, out
    assert "ApiRouteStore" in out or "sqlite3" in out, out


def test_40_sequential_registrations_over_fresh_connections(admin):
    """With two child processes on one SQLite file every write succeeds
    (no SQLITE_BUSY surfacing as 503)."""
    ids = []
    for i in range(40):
        r = requests.post(admin.url("/routes"),
                          data=json.dumps(route(path="/v1/r%d" % i)),
                          headers={"Content-Type": "application/json",
                                   "Connection": "close"}, timeout=30)
        assert r.status_code == 201, (i, r.status_code, r.text)
        ids.append(r.json()["id"])
    assert len(set(ids)) == 40
    listed = admin.routes()
    assert len(listed) == 40
    assert sorted(d["id"] for d in listed) == sorted(ids)


@pytest.mark.children(2)
def test_concurrent_registrations_all_succeed(admin):
    """Writers at the same time, in both children and in several threads
    of each: each write answered 201 and stored once."""
    results = []
    lock = threading.Lock()

    def writer(n):
        for i in range(10):
            try:
                r = requests.post(
                    admin.url("/routes"),
                    data=json.dumps(route(path="/v1/w%d/%d" % (n, i))),
                    headers={"Content-Type": "application/json",
                             "Connection": "close"}, timeout=30)
                item = (r.status_code, r.text)
            except requests.RequestException as e:
                item = (0, str(e))
            with lock:
                results.append(item)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bad = [x for x in results if x[0] != 201]
    assert not bad, bad[:5]
    ids = [json.loads(text)["id"] for _, text in results]
    assert len(set(ids)) == 60
    assert sorted(d["id"] for d in admin.routes()) == sorted(ids)


# ------------------------------------------------------------ robustness

def test_a_raw_request_with_a_lying_content_length_is_answered(admin):
    """A body shorter than its Content-Length: the handler waits for the
    rest, then answers (400/408) or closes; the server keeps serving."""
    port = admin.gw.port
    body = json.dumps(route()).encode()
    req = (b"POST /admin/routes HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           b"Content-Type: application/json\r\nConnection: close\r\n"
           b"Content-Length: %d\r\n\r\n" % (len(body) + 50)) + body
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(req)
        s.shutdown(socket.SHUT_WR)
        try:
            data = s.recv(65536)
        except (socket.timeout, ConnectionResetError):
            data = b""
    if data:
        status = int(data.split(b" ", 2)[1])
        assert status in (400, 408), data[:300]
    assert admin.routes() == []
    still_serving(admin)


def test_route_id_with_encoded_path_tricks_is_404(admin):
    doc = admin.register(route())
    # /admin/routes/%2e%2e is /admin/ once httpd resolves the dot
    # segment: the console's page, not a route
    for target, ok in (("/admin/routes/%2e%2e", (200,)),
                       ("/admin/routes/" + doc["id"] + "%00", (400, 404))):
        r = raw_request(admin.gw.port,
                        ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         "Connection: close\r\n\r\n" % target).encode())
        assert r is not None and r.status in ok, (target, r and r.status)
        if r.status == 200:
            assert r.headers["content-type"].startswith("text/html"), \
                r.headers
    assert admin.routes() == [doc]
    still_serving(admin)


def test_reads_answer_only_to_our_host_names(admin):
    """A page that rebinds its own name to the gateway's address cannot
    read the routes either: a foreign Host is refused on every method;
    the gateway's names (its address, ServerName, localhost) are not."""
    admin.register(route())
    evil = {"Host": "evil.example:%d" % admin.gw.port}
    assert_json_error(admin.request("GET", "/routes", headers=evil), 403)
    assert_json_error(admin.request("GET", "/environments", headers=evil),
                      403)
    for ours in ("127.0.0.1:%d" % admin.gw.port, "localhost:%d" % admin.gw.port):
        r = admin.request("GET", "/routes", headers={"Host": ours})
        assert r.status_code == 200 and len(r.json()) == 1, r.text


def test_deleting_routes_needs_an_explicit_environment(admin):
    """DELETE routes (or routes/ from an empty id) never empties the
    default environment by itself."""
    admin.register(route())
    before = admin.state()
    for path in ("/routes", "/routes/"):
        r = admin.request("DELETE", path)
        assert_json_error(r, 400)
        assert r.json()["field"] == "environment"
    assert admin.state() == before
    r = admin.request("DELETE", "/routes?environment=default")
    assert r.status_code == 200 and r.json() == {"deletedCount": 1}


def test_an_undecodable_environment_name_in_a_path_is_404(admin):
    r = admin.request("DELETE", "/environments/%FF%FE")
    assert_json_error(r, 404)
    r.content.decode("utf-8")           # the answer is valid UTF-8


def test_a_quoted_handler_name_is_recognised(store_dir, gateway, configtest):
    store = "sqlite3:" + os.path.join(store_dir, "routes.sqlite")
    gw = gateway("ApiRouteStore %s\n" % store + """
<Location "/admin">
  SetHandler "apigw-admin"
  Require all granted
</Location>
""")
    r = requests.get(gw.url("/admin/routes"), timeout=10)
    assert r.status_code == 200 and r.json() == [], r.text
    ok, out = configtest('<Location "/open">\n  SetHandler "apigw-admin"\n'
                         '</Location>\n')
    assert ok and "AGW00705" in out, out

# API keys in the route store, managed through the admin API: the REST
# resources (apikeys: create, list, revoke), their errors (validation
# naming the field, conflicts, unknown names, cross-site writes, wrong
# methods, a store that cannot be opened: 503), the GraphQL equivalents
# (apiKeys, createApiKey, revokeApiKey), the audit lines, the key shown
# once and never stored, logged or listed, keys kept across a restart, and
# the keys at work: mod_apigw_auth's `ApiKeyStore on` accepting a key
# created through the API in every child within a second (measured) and
# refusing it (401) once revoked, roles checked by `Require apikey-role`;
# a route's change does not make the children read the keys again; one
# case on PostgreSQL, with a second gateway on the same store.
import hashlib
import json
import os
import re
import sqlite3
import time

import pytest
import requests
from graphql import parse
from graphql.utils.build_client_schema import build_client_schema
from graphql.utils.introspection_query import introspection_query
from graphql.validation import validate

from gql_util import Gql, check_errors, doc
from pg_util import pg_cluster  # noqa: F401  (fixture)
from test_admin_api import (Admin, admin_conf, assert_json_error,  # noqa: F401
                            enterable_tmp_path, route, store_dir)
from test_runtime_routes import store  # noqa: F401  (fixture)

# two children: a key's change reaches every child
pytestmark = pytest.mark.children(2)

AUDIT = "AGW00700"
KEY_FORMAT = re.compile(r"^agw_[A-Za-z0-9_-]{43}$")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
JSON = {"Content-Type": "application/json"}
# a key created through the API works in every child within this (the
# builders follow the store every few milliseconds; the target is 50 ms)
SERVED_WITHIN = 1.0

LIST = doc("query Keys { apiKeys { name roles createdAt } }")
CREATE = doc("mutation Create($name: String!, $roles: [String!]) { "
             "createApiKey(name: $name, roles: $roles) { name roles "
             "createdAt key } }")
REVOKE = doc("mutation Revoke($name: String!) { revokeApiKey(name: $name) }")


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def protected(backend):
    """Endpoints guarded by the store's keys (mod_apigw_auth)."""
    return """
<ApiEndpoint "/ak/any">
  ApiBackend {b}/any
  AuthType apikey
  AuthName "api"
  ApiKeyStore on
  Require valid-user
</ApiEndpoint>
<ApiEndpoint "/ak/writer">
  ApiBackend {b}/writer
  AuthType apikey
  AuthName "api"
  ApiKeyStore on
  Require apikey-role writer
</ApiEndpoint>
""".format(b=backend.url)


def create(admin, name, roles=None, **kw):
    body = {"name": name}
    if roles is not None:
        body["roles"] = roles
    r = admin.post("/apikeys", body, **kw)
    assert r.status_code == 201, r.text
    return r


def listed(admin):
    r = admin.get("/apikeys")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0] == "application/json"
    assert r.headers["Cache-Control"] == "no-store"
    d = r.json()
    assert set(d) == {"apiKeys"}, d
    for k in d["apiKeys"]:
        assert set(k) == {"name", "roles", "createdAt"}, k
    return d["apiKeys"]


def fresh_get(gw, path, key=None):
    """On a new connection: either child may answer."""
    h = {"Connection": "close"}
    if key is not None:
        h["X-API-Key"] = key
    return requests.get(gw.url(path), headers=h, timeout=10)


def until_streak(gw, path, key, status, budget, streak=8):
    """Seconds until `streak` answers in a row on fresh connections are
    status; fails after budget."""
    t0 = time.monotonic()
    row = 0
    while row < streak:
        r = fresh_get(gw, path, key)
        row = row + 1 if r.status_code == status else 0
        if row == 0:
            assert time.monotonic() - t0 < budget, (
                "%s still %d (%s) after %.2fs" % (path, r.status_code,
                                                  r.text[:200], budget))
            time.sleep(0.005)
    return time.monotonic() - t0


def until_first(gw, path, key, status, budget):
    """Seconds until one answer is status (the poll the brief measures)."""
    t0 = time.monotonic()
    while True:
        r = fresh_get(gw, path, key)
        elapsed = time.monotonic() - t0
        if r.status_code == status:
            return elapsed
        assert elapsed < budget, "%s: %d after %.2fs" % (path, r.status_code,
                                                         elapsed)
        time.sleep(0.005)


def sqlite_rows(store):
    db = sqlite3.connect(store[len("sqlite3:"):])
    try:
        return db.execute("SELECT name, hash, roles, created_at "
                          "FROM api_keys ORDER BY name").fetchall()
    finally:
        db.close()


@pytest.fixture
def keys_gw(store, backend, gateway):
    """A gateway on a fresh SQLite store, its admin API and endpoints that
    take the store's keys."""
    gw = gateway(admin_conf(store, protected(backend)))
    return gw, Admin(gw)


# ------------------------------------------------------------ REST

def test_create_list_revoke(keys_gw, store):
    gw, admin = keys_gw
    assert listed(admin) == []
    r = create(admin, "ci-bot", ["reader", "writer"])
    assert r.headers["Content-Type"].split(";")[0] == "application/json"
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Location"].endswith("/admin/apikeys/ci-bot")
    d = r.json()
    assert list(d) == ["name", "roles", "createdAt", "key"], d
    assert d["name"] == "ci-bot" and d["roles"] == ["reader", "writer"]
    assert RFC3339.match(d["createdAt"]), d
    assert KEY_FORMAT.match(d["key"]), d["key"]
    created = time.time()

    # no roles given, null, an empty list: none
    others = [create(admin, n, roles).json() for n, roles in
              (("zeta", None), ("Alpha.svc@corp", []), ("mid_1", None))]
    assert all(o["roles"] == [] for o in others)
    keys = {d["name"]: d["key"]} | {o["name"]: o["key"] for o in others}
    assert len(set(keys.values())) == 4       # each its own random key

    # listed by name (byte order), never with a key or a hash
    got = listed(admin)
    assert [k["name"] for k in got] == ["Alpha.svc@corp", "ci-bot", "mid_1",
                                        "zeta"]
    assert got[1] == {"name": "ci-bot", "roles": ["reader", "writer"],
                      "createdAt": d["createdAt"]}
    text = admin.get("/apikeys").text
    for k in keys.values():
        assert k not in text and sha(k) not in text

    # the store keeps the SHA-256 only
    rows = sqlite_rows(store)
    assert [(n, h, roles) for n, h, roles, _ in rows] == sorted(
        (n, sha(k), "reader,writer" if n == "ci-bot" else "")
        for n, k in keys.items())
    assert abs(rows[1][3] / 1e6 - created) < 60
    with open(store[len("sqlite3:"):], "rb") as f:
        raw = f.read()
    for k in keys.values():
        assert k.encode() not in raw

    # revoked: 204 and no body; then 404
    r = admin.delete("/apikeys/ci-bot")
    assert r.status_code == 204 and r.content == b"", (r.status_code, r.text)
    assert_json_error(admin.delete("/apikeys/ci-bot"), 404)
    assert [k["name"] for k in listed(admin)] == ["Alpha.svc@corp", "mid_1",
                                                  "zeta"]
    # an item has no GET; the collection no DELETE
    assert admin.get("/apikeys/zeta").status_code == 405
    assert admin.delete("/apikeys").status_code == 405


def test_each_change_is_audited_with_the_user(keys_gw):
    gw, admin = keys_gw
    key = create(admin, "ci-bot", ["deploy"]).json()["key"]
    admin.delete("/apikeys/ci-bot")
    lines = admin.audit_lines()
    assert any("created API key ci-bot (roles deploy) by -" in l
               for l in lines), lines
    assert any("revoked API key ci-bot by -" in l for l in lines), lines
    assert key not in gw.error_log_text()


@pytest.mark.parametrize("body,field", [
    ({}, "name"),
    ({"roles": ["a"]}, "name"),
    ({"name": ""}, "name"),
    ({"name": "x" * 65}, "name"),
    ({"name": "ci bot"}, "name"),
    ({"name": "ci/bot"}, "name"),
    ({"name": "caf\u00e9"}, "name"),
    ({"name": "a\nb"}, "name"),
    ({"name": 5}, "name"),
    ({"name": None}, "name"),
    ({"name": "ok", "roles": "reader"}, "roles"),
    ({"name": "ok", "roles": {"a": 1}}, "roles"),
    ({"name": "ok", "roles": ["reader", 7]}, "roles[1]"),
    ({"name": "ok", "roles": ["reader", None]}, "roles[1]"),
    ({"name": "ok", "roles": ["reader", "bad role"]}, "roles[1]"),
    ({"name": "ok", "roles": [""]}, "roles[0]"),
    ({"name": "ok", "roles": ["r" * 65]}, "roles[0]"),
    ({"name": "ok", "roles": ["a", "b", "a"]}, "roles[2]"),
    ({"name": "ok", "roles": ["r%d" % i for i in range(33)]}, "roles"),
    ({"name": "ok", "key": "agw_mine"}, "key"),
    ({"name": "ok", "hash": "0" * 64}, "hash"),
])
def test_invalid_key_is_refused_naming_the_field(keys_gw, body, field):
    gw, admin = keys_gw
    d = assert_json_error(admin.post("/apikeys", body), 400, field)
    assert d["error"].startswith(field + ":"), d
    assert listed(admin) == []


def test_limits_are_accepted(keys_gw):
    gw, admin = keys_gw
    name = "A-z_0.9@" + "x" * 56
    roles = ["r%02d" % i for i in range(32)]
    d = create(admin, name, roles).json()
    assert d["name"] == name and d["roles"] == roles
    assert listed(admin)[0]["roles"] == roles


@pytest.mark.parametrize("data", [b"", b"[]", b'"ci-bot"', b"{", b"null",
                                  b'{"name":"a","name":"b"}'])
def test_body_that_is_not_a_key_object_is_400(keys_gw, data):
    gw, admin = keys_gw
    assert_json_error(admin.post("/apikeys", data=data, headers=JSON), 400)
    assert listed(admin) == []


def test_a_taken_name_is_409(keys_gw):
    gw, admin = keys_gw
    first = create(admin, "ci-bot", ["a"]).json()
    d = assert_json_error(admin.post("/apikeys", {"name": "ci-bot"}), 409,
                          "name")
    assert "ci-bot" in d["error"] and "already exists" in d["error"]
    assert listed(admin) == [{"name": "ci-bot", "roles": ["a"],
                              "createdAt": first["createdAt"]}]


@pytest.mark.parametrize("name", ["nobody", "bad%20name", "x" * 70])
def test_revoking_an_unknown_key_is_404(keys_gw, name):
    gw, admin = keys_gw
    create(admin, "ci-bot")
    assert_json_error(admin.delete("/apikeys/" + name), 404)
    assert [k["name"] for k in listed(admin)] == ["ci-bot"]


def test_writes_follow_the_admin_apis_cross_site_rules(keys_gw):
    gw, admin = keys_gw
    r = admin.post("/apikeys", data=json.dumps({"name": "a"}),
                   headers={"Content-Type": "text/plain"})
    assert_json_error(r, 415)
    r = admin.post("/apikeys", {"name": "a"},
                   headers={"Origin": "https://evil.example"})
    assert_json_error(r, 403)
    create(admin, "kept")
    r = admin.delete("/apikeys/kept", headers={"Origin": "http://evil.example"})
    assert_json_error(r, 403)
    # the gateway's own origin is fine
    create(admin, "b", headers={"Origin": admin.origin})
    assert [k["name"] for k in listed(admin)] == ["b", "kept"]
    r = admin.request("PUT", "/apikeys", {"name": "a"})
    assert_json_error(r, 405)
    assert r.headers["Allow"] == "GET, POST"
    r = admin.request("PATCH", "/apikeys/kept", {"roles": []})
    assert_json_error(r, 405)
    assert r.headers["Allow"] == "DELETE"


def test_the_key_is_never_logged(store, backend, gateway):
    gw = gateway("LogLevel warn apigw:debug apigw_auth:debug\n"
                 + admin_conf(store, protected(backend)).replace(
                     "LogLevel warn apigw:notice\n", ""))
    admin = Admin(gw)
    made = [create(admin, "k%d" % i, ["writer"]).json()["key"]
            for i in range(3)]
    for key in made:
        until_streak(gw, "/ak/writer", key, 200, 5)
        assert fresh_get(gw, "/ak/any", key + "x").status_code == 401
    g = Gql(gw)
    made.append(g.run(CREATE, {"name": "via-gql"})["createApiKey"]["key"])
    admin.delete("/apikeys/k0")
    until_streak(gw, "/ak/any", made[0], 401, 5)
    gw.wait_access_log("/ak/any")
    logs = gw.error_log_text() + gw.access_log_text() + gw.output_text()
    for key in made:
        assert key not in logs
        assert key[4:] not in logs
        assert sha(key) not in logs
    assert "created API key k1" in logs


# ------------------------------------------------------------ at work

@pytest.mark.serial         # wall-clock bounds: run alone
def test_created_key_authenticates_within_a_second_revoked_401(keys_gw):
    gw, admin = keys_gw
    r = fresh_get(gw, "/ak/any", "agw_" + "x" * 43)
    assert r.status_code == 401
    t0 = time.monotonic()
    key = create(admin, "ci-bot", ["reader"]).json()["key"]
    first = until_first(gw, "/ak/any", key, 200, SERVED_WITHIN)
    # every child: a streak of fresh connections, within the same second
    until_streak(gw, "/ak/any", key, 200, SERVED_WITHIN - (time.monotonic() - t0))
    print("created key served after %.1f ms" % (first * 1000))
    r = fresh_get(gw, "/ak/any", key)
    assert r.json()["path"] == "/any"
    # the request's user is the key's name
    gw.wait_access_log(" ci-bot [")

    t0 = time.monotonic()
    r = admin.delete("/apikeys/ci-bot")
    assert r.status_code == 204
    gone = until_first(gw, "/ak/any", key, 401, SERVED_WITHIN)
    until_streak(gw, "/ak/any", key, 401, SERVED_WITHIN - (time.monotonic() - t0))
    print("revoked key refused after %.1f ms" % (gone * 1000))


@pytest.mark.allow_log("AH01631")
def test_roles_are_the_keys(keys_gw):
    gw, admin = keys_gw
    reader = create(admin, "reader-bot", ["reader"]).json()["key"]
    writer = create(admin, "writer-bot", ["reader", "writer"]).json()["key"]
    none = create(admin, "plain").json()["key"]
    until_streak(gw, "/ak/writer", writer, 200, 5)
    for key in (reader, none):
        until_streak(gw, "/ak/any", key, 200, 5)
        assert fresh_get(gw, "/ak/writer", key).status_code == 403


def test_route_changes_do_not_reload_the_keys(store, backend, gateway):
    """The children read the keys again when a key was written, not for a
    route's change (the store's keys version): counted by their debug
    line."""
    gw = gateway("LogLevel warn apigw:debug\n"
                 + admin_conf(store, protected(backend)).replace(
                     "LogLevel warn apigw:notice\n", ""))
    admin = Admin(gw)

    def loads():
        """The pid of each child's load, in order."""
        return re.findall(r"\[pid (\d+):tid \d+\][^\n]*loaded from the "
                          r"store", gw.error_log_text())

    key = create(admin, "ci-bot").json()["key"]
    until_streak(gw, "/ak/any", key, 200, 5)
    # every child has loaded the key: once, or twice when its first load
    # (the empty set) came before the key; then the count stands still
    deadline = time.monotonic() + 5
    before = loads()
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = loads()
        if now == before and len(set(now)) >= 2:
            break
        before = now
    children = set(before)
    assert len(children) >= 2, before
    for i in range(5):
        doc = admin.register(route("/ak/route%d" % i, backend.url + "/r"))
        until_streak(gw, "/ak/route%d" % i, None, 200, 5, streak=4)
        admin.delete("/routes/" + doc["id"])
    time.sleep(0.3)
    assert loads() == before
    create(admin, "other")
    deadline = time.monotonic() + 5
    while len(loads()) < len(before) + len(children) \
            and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)
    # each child, once
    assert sorted(loads()[len(before):]) == sorted(children)


def test_keys_survive_a_restart(store, backend, gateway):
    conf = admin_conf(store, protected(backend))
    gw = gateway(conf)
    key = create(Admin(gw), "ci-bot", ["writer"]).json()["key"]
    until_streak(gw, "/ak/writer", key, 200, 5)
    gw.stop()
    gw2 = gateway(conf)
    # a new child's first request waits for its first key set
    assert fresh_get(gw2, "/ak/writer", key).status_code == 200
    until_streak(gw2, "/ak/writer", key, 200, 5)
    assert [k["name"] for k in listed(Admin(gw2))] == ["ci-bot"]


@pytest.mark.allow_log("AGW00702", "AGW00704", "AGW00717", "AGW00719")
def test_store_that_cannot_be_opened_is_503(store_dir, store, backend,
                                            gateway):
    with open(store[len("sqlite3:"):], "wb") as f:
        f.write(b"this is not a SQLite database\n" * 200)
    os.chmod(store[len("sqlite3:"):], 0o666)
    gw = gateway(admin_conf(store, protected(backend)))
    admin = Admin(gw)
    for r in (admin.get("/apikeys"), admin.post("/apikeys", {"name": "a"}),
              admin.delete("/apikeys/a")):
        d = assert_json_error(r, 503)
        assert "unavailable" in d["error"], d
        assert "sqlite" not in d["error"] and store_dir not in d["error"]
    d = Gql(gw).fails(LIST, code="INTERNAL_SERVER_ERROR")
    assert "unavailable" in d["errors"][0]["message"]
    # and no key is taken, whatever is sent
    assert fresh_get(gw, "/ak/any", "agw_" + "x" * 43).status_code == 401


# ------------------------------------------------------------ GraphQL

def test_graphql_create_list_revoke(keys_gw):
    gw, admin = keys_gw
    g = Gql(gw)
    # the documents are the schema's (introspected)
    client = build_client_schema(g.run(introspection_query))
    for text in (LIST, CREATE, REVOKE):
        assert not validate(client, parse(text)), text

    assert g.run(LIST) == {"apiKeys": []}
    made = g.run(CREATE, {"name": "ci-bot", "roles": ["reader", "writer"]})
    k = made["createApiKey"]
    assert k["name"] == "ci-bot" and k["roles"] == ["reader", "writer"]
    assert KEY_FORMAT.match(k["key"]) and RFC3339.match(k["createdAt"])
    plain = g.run(CREATE, {"name": "plain"})["createApiKey"]
    assert plain["roles"] == []
    nulled = g.run(CREATE, {"name": "nulled", "roles": None})["createApiKey"]
    assert nulled["roles"] == []
    # REST and GraphQL see the same keys
    rest = create(admin, "rest-bot", ["x"]).json()
    assert g.run(LIST)["apiKeys"] == listed(admin)
    assert [x["name"] for x in listed(admin)] == ["ci-bot", "nulled",
                                                  "plain", "rest-bot"]
    assert {"name": "rest-bot", "roles": ["x"],
            "createdAt": rest["createdAt"]} in g.run(LIST)["apiKeys"]
    # the key works, then is revoked
    until_streak(gw, "/ak/writer", k["key"], 200, 5)
    assert g.run(REVOKE, {"name": "ci-bot"}) == {"revokeApiKey": True}
    until_streak(gw, "/ak/writer", k["key"], 401, 5)
    d = g.fails(REVOKE, {"name": "ci-bot"}, code="NOT_FOUND")
    assert d["errors"][0]["extensions"].get("field") == "name", d
    assert d["data"] is None
    assert [x["name"] for x in g.run(LIST)["apiKeys"]] == ["nulled", "plain",
                                                           "rest-bot"]
    lines = admin.audit_lines()
    assert any("revoked API key ci-bot by -" in l for l in lines), lines


@pytest.mark.parametrize("variables,field", [
    ({"name": ""}, "name"),
    ({"name": "has space"}, "name"),
    ({"name": "ok", "roles": ["fine", "bad/role"]}, "roles[1]"),
    ({"name": "ok", "roles": ["a", "a"]}, "roles[1]"),
    ({"name": "ok", "roles": ["r%d" % i for i in range(33)]}, "roles"),
])
def test_graphql_invalid_input_names_the_field(keys_gw, variables, field):
    gw, admin = keys_gw
    d = Gql(gw).fails(CREATE, variables, code="BAD_USER_INPUT")
    assert d["errors"][0]["extensions"]["field"] == field, d
    assert listed(admin) == []


def test_graphql_conflict_and_type_errors(keys_gw):
    gw, admin = keys_gw
    g = Gql(gw)
    g.run(CREATE, {"name": "ci-bot"})
    d = g.fails(CREATE, {"name": "ci-bot"}, code="CONFLICT")
    assert "already exists" in d["errors"][0]["message"]
    # a role that is not a string, no name: refused before anything runs
    check_errors(g.answer(g.post(CREATE, {"name": "x", "roles": [1]})))
    check_errors(g.answer(g.post(CREATE, {"roles": []})))
    # a mutation by GET is refused
    r = g.get(REVOKE, {"name": "ci-bot"})
    assert r.status_code == 405
    # a cross-site write is refused
    r = g.post(CREATE, {"name": "evil"},
               headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert [k["name"] for k in listed(admin)] == ["ci-bot"]


# ------------------------------------------------------------ PostgreSQL

def test_keys_on_postgresql_shared_by_two_gateways(pg_cluster,  # noqa: F811
                                                   enterable_tmp_path,
                                                   backend, gateway):
    pg_cluster.psql("CREATE DATABASE apikeys")
    conninfo = pg_cluster.conninfo.replace("dbname=postgres",
                                           "dbname=apikeys")
    conf = ('ApiRouteStore pgsql:"%s"\nApiRouteRefresh 200ms\n' % conninfo
            + admin_conf(None, protected(backend)))
    a = gateway(conf)
    b = gateway(conf)
    admin_a, admin_b = Admin(a), Admin(b)
    key = create(admin_a, "ci-bot", ["writer"]).json()["key"]
    until_streak(a, "/ak/writer", key, 200, SERVED_WITHIN)
    # the other gateway: through the store, within its refresh period
    until_streak(b, "/ak/writer", key, 200, 3)
    assert [k["name"] for k in listed(admin_b)] == ["ci-bot"]
    assert pg_cluster.psql("SELECT name || ' ' || hash || ' ' || roles "
                           "FROM api_keys", db="apikeys") == \
        "ci-bot %s writer" % sha(key)
    assert_json_error(admin_b.post("/apikeys", {"name": "ci-bot"}), 409,
                      "name")
    r = admin_b.delete("/apikeys/ci-bot")
    assert r.status_code == 204
    until_streak(b, "/ak/writer", key, 401, SERVED_WITHIN)
    until_streak(a, "/ak/writer", key, 401, 3)
    assert listed(admin_a) == []
    for gw in (a, b):
        assert key not in gw.error_log_text()
        assert "host=127.0.0.1" not in gw.error_log_text()

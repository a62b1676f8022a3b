# The admin API's GraphQL resource (<admin location>/graphql): every query
# and mutation of mod_apigw/console/schema.graphql against a real
# gateway and store (routes served through the gateway for
# setRouteEnabled), the language through the API (operations, variables,
# aliases, fragments, directives), introspection read back by
# graphql-core's build_client_schema (every document this file sends is
# validated against it), what the REST side sees of the same store, the
# error codes and their HTTP statuses, hostile documents, the
# ApiGraphQLMax* bounds, cross-site refusals and the audit lines.
# graphql-core 2.3.2 is the oracle of the language's syntax.
import json
import os
import re
import sqlite3
import time
import uuid
from urllib.parse import quote

import pytest
import requests
from graphql import parse
from graphql.error import GraphQLSyntaxError
from graphql.utils.build_client_schema import build_client_schema
from graphql.utils.introspection_query import introspection_query
from graphql.validation import validate

from gql_util import (DOCUMENTS, GQL_RESPONSE, SDL_PATH, Gql, check_errors,
                      doc, refused, served_streak, wait_for)
from test_admin_api import (Admin, admin_conf, auth_conf,  # noqa: F401
                            htpasswd, route, store_dir)

try:
    import gql_cases
except ImportError:          # being written by the parser's engineer
    gql_cases = None

AUDIT = "AGW00700"
UUID_V4 = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

# ------------------------------------------------------------ documents

REGISTER = doc("mutation RegisterRoute($input: RegisterRouteInput!) { "
               "registerRoute(input: $input) { id path targetUrl methods "
               "enabled environment } }")
DELETE_ENV_ROUTES = doc(
    "mutation DeleteRoutesByEnvironment($input: "
    "DeleteRoutesByEnvironmentInput!) { deleteRoutesByEnvironment(input: "
    "$input) { deletedCount } }")

ROUTE_FIELDS = """
fragment RouteFields on Route {
  id environment path targetUrl methods enabled createdAt updatedAt
  cors { allowOrigins allowMethods allowHeaders exposeHeaders
         allowCredentials maxAgeSeconds }
  rateLimit { average period burst by }
  requestHeaders { action name value }
  responseHeaders { action name value }
  pathRewrite { type value replacement }
  queryPolicy { mode names }
  bodyLimits { requestBytes responseBytes }
  timeoutSeconds
  circuitBreaker { preset expression checkSeconds fallbackSeconds
                   recoverySeconds }
  cacheTtlSeconds
}
"""
REGISTER_FULL = doc("""
mutation Full($input: RegisterRouteInput!) {
  registerRoute(input: $input) { ...RouteFields }
}""" + ROUTE_FIELDS)
ROUTE = doc("query One($id: ID!) { route(id: $id) { ...RouteFields } }"
            + ROUTE_FIELDS)
ROUTES = doc("query List($env: String!) { routes(environment: $env) "
             "{ ...RouteFields } }" + ROUTE_FIELDS)
ROUTE_IDS = doc("query Ids($env: String!) { routes(environment: $env) "
                "{ id path environment } }")
UPDATE = doc("mutation Update($id: ID!, $input: UpdateRouteInput!) { "
             "updateRoute(id: $id, input: $input) { ...RouteFields } }"
             + ROUTE_FIELDS)
# a variable left out of an input object: the field is not given at all
UPDATE_PARTS = doc("""
mutation Parts($id: ID!, $t: Int, $cors: CorsInput) {
  updateRoute(id: $id, input: {timeoutSeconds: $t, cors: $cors}) {
    timeoutSeconds cors { allowOrigins } } }""")
SET_ENABLED = doc("mutation On($id: ID!, $on: Boolean!) { "
                  "setRouteEnabled(id: $id, enabled: $on) { id enabled } }")
DELETE = doc("mutation Del($id: ID!) { deleteRoute(id: $id) "
             "{ deletedCount } }")
ENVIRONMENTS = doc("{ environments { name } }")
CREATE_ENV = doc("mutation Env($input: CreateEnvironmentInput!) { "
                 "createEnvironment(input: $input) { name copiedRoutes } }")
DELETE_ENV = doc("mutation DropEnv($name: String!) { "
                 "deleteEnvironment(name: $name) { deletedCount } }")
OPERATIONS = doc("""{ operations {
  time
  pools { name lbmethod members { pool name state suspendedSince
          suspendedUntil reason suspensions retries } }
  breakers { id section backend expression state since trips
             window { requests networkErrors status5xx status4xx } }
  rateLimits { section policy admitted rejected delayed } } }""")
RESUME = doc("mutation Resume($pool: String!, $member: String!) { "
             "resumeMember(pool: $pool, member: $member) { pool name state "
             "suspensions retries } }")
RESET = doc("mutation Reset($id: String!) { resetBreaker(id: $id) "
            "{ id state trips } }")
TYPENAME = doc("{ __typename }")
NO_TYPE = doc('{ __type(name: "Nope") { name } }')
ROUTE_TYPE = doc("""{ __type(name: "Route") { kind name description
  fields { name type { kind name ofType { kind name ofType { kind name } } }
  } } }""")


def seed(path="/v1/users/{id}", target=None, **more):
    if target is None:
        target = "http://127.0.0.1:9/users/{id}" if "{id}" in path \
            else "http://127.0.0.1:9/x"
    d = {"path": path, "targetUrl": target}
    d.update(more)
    return d


FULL_INPUT = {
    "path": "/gq/full/*",
    "targetUrl": "http://127.0.0.1:9/{*}",
    "methods": ["GET", "POST", "PUT"],
    "enabled": False,
    "cors": {"allowOrigins": ["https://app.example"],
             "allowMethods": ["GET", "PUT"], "allowHeaders": ["X-Custom"],
             "exposeHeaders": ["X-Backend"], "allowCredentials": True,
             "maxAgeSeconds": 600},
    "rateLimit": {"average": 10, "period": "1s", "burst": 4, "by": "ip"},
    "requestHeaders": [{"action": "set", "name": "X-Tenant",
                        "value": "acme"},
                       {"action": "unset", "name": "X-Drop"}],
    "responseHeaders": [{"action": "add", "name": "X-Api-Version",
                         "value": "2"}],
    "pathRewrite": {"type": "regex", "value": "^/gq/full/(.*)$",
                    "replacement": "/in/$1"},
    "queryPolicy": {"mode": "allow", "names": ["page", "limit"]},
    "bodyLimits": {"requestBytes": 4096, "responseBytes": 5000000000},
    "timeoutSeconds": 7,
    "circuitBreaker": {"preset": "5xx", "checkSeconds": 10,
                       "fallbackSeconds": 2.5, "recoverySeconds": 20},
    "cacheTtlSeconds": 30,
}
GROUPS = ("cors", "rateLimit", "requestHeaders", "responseHeaders",
          "pathRewrite", "queryPolicy", "bodyLimits", "timeoutSeconds",
          "circuitBreaker", "cacheTtlSeconds")


def no_nulls(v):
    """v without null members (GraphQL's absent fields), as REST has it."""
    if isinstance(v, dict):
        return {k: no_nulls(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [no_nulls(x) for x in v]
    return v


# ------------------------------------------------------------ fixtures

@pytest.fixture
def store(store_dir):
    return "sqlite3:" + os.path.join(store_dir, "routes.sqlite")


@pytest.fixture
def api(store, gateway):
    """(Gql, Admin) of a gateway on a fresh SQLite store."""
    gw = gateway(admin_conf(store))
    return Gql(gw), Admin(gw)


def served_conf(store, backend, extra=""):
    return admin_conf(store, """
<Proxy balancer://pool>
  BalancerMember %s
</Proxy>
<ApiEndpoint "/static/things">
  ApiBackend %s/things
  ApiRateLimit average=100 period=1m burst=10
  ApiCircuitBreaker "ResponseCodeRatio(500, 600, 0, 600) > 0.5" min-requests=4
</ApiEndpoint>
""" % (backend.url, backend.url) + extra)


@pytest.fixture
def served(store, backend, gateway):
    gw = gateway(served_conf(store, backend))
    return Gql(gw), Admin(gw)


def register(g, **input):
    data = g.run(REGISTER, {"input": input})
    return data["registerRoute"]


def first_error(doc):
    return check_errors(doc)[0]


def field_error(doc, code, field=None, path=None):
    """A field error of an executed request: code, extensions.field,
    path, locations."""
    e = first_error(doc)
    assert e["extensions"]["code"] == code, doc
    if field is not None:
        assert e["extensions"].get("field") == field, doc
    if path is not None:
        assert e.get("path") == path, doc
    assert e.get("locations"), doc
    return e


def normal_query_works(g):
    assert g.run(TYPENAME) == {"__typename": "Query"}
    assert {"name": "default"} in g.run(ENVIRONMENTS)["environments"]


# ============================================================ the seeds

def test_seed_operations(api):
    g, admin = api
    a = register(g, **seed())
    assert UUID_V4.match(a["id"]), a
    assert a == {"id": a["id"], "path": "/v1/users/{id}",
                 "targetUrl": "http://127.0.0.1:9/users/{id}",
                 "methods": ["GET"], "enabled": True,
                 "environment": "default"}
    b = g.run(REGISTER, {"input": seed("/v1/orders", "http://127.0.0.1:9/o",
                                       methods=["POST", "DELETE"],
                                       enabled=False)},
              "RegisterRoute")["registerRoute"]
    assert b["methods"] == ["POST", "DELETE"] and b["enabled"] is False
    assert b["id"] != a["id"]
    listed = g.run(ROUTE_IDS, {"env": "default"})["routes"]
    assert sorted(r["id"] for r in listed) == sorted([a["id"], b["id"]])
    data = g.run(DELETE_ENV_ROUTES, {"input": {"environment": "default"}},
                 "DeleteRoutesByEnvironment")
    assert data == {"deleteRoutesByEnvironment": {"deletedCount": 2}}
    assert g.run(ROUTE_IDS, {"env": "default"}) == {"routes": []}
    assert admin.routes() == []
    assert g.run(DELETE_ENV_ROUTES, {"input": {"environment": "default"}}) \
        == {"deleteRoutesByEnvironment": {"deletedCount": 0}}


# ============================================================ routes

def test_routes_are_listed_by_path(api):
    """Query.routes: "The routes of an environment, by path." """
    g, _ = api
    ids = [register(g, **seed(p, "http://127.0.0.1:9/x"))["id"]
           for p in ("/v1/zz", "/v1/mm", "/v1/aa")]
    listed = g.run(ROUTE_IDS, {"env": "default"})["routes"]
    assert [r["id"] for r in listed] == ids[::-1], listed


def test_register_every_policy_group_and_read_it_back(api):
    g, admin = api
    got = g.run(REGISTER_FULL, {"input": FULL_INPUT})["registerRoute"]
    for k, v in FULL_INPUT.items():
        assert no_nulls(got[k]) == v, (k, got[k])
    assert got["environment"] == "default"
    assert got["createdAt"] == got["updatedAt"]
    assert g.run(ROUTE, {"id": got["id"]}) == {"route": got}
    assert g.run(ROUTES, {"env": "default"}) == {"routes": [got]}
    # the REST side reads the same route, member for member
    assert admin.get("/routes/" + got["id"]).json() == no_nulls(got)


def test_register_with_literal_input_and_defaults(api):
    g, _ = api
    q = doc("""mutation { registerRoute(input: {path: "/gq/lit/{id}",
      targetUrl: "http://127.0.0.1:9/lit/{id}", methods: [GET, PATCH],
      requestHeaders: [{action: "set", name: "X-A", value: "1"}],
      bodyLimits: {requestBytes: 10}}) {
      methods enabled environment requestHeaders { action name value }
      bodyLimits { requestBytes responseBytes } cors { allowOrigins }
      timeoutSeconds } }""")
    assert g.run(q)["registerRoute"] == {
        "methods": ["GET", "PATCH"], "enabled": True,
        "environment": "default",
        "requestHeaders": [{"action": "set", "name": "X-A", "value": "1"}],
        "bodyLimits": {"requestBytes": 10, "responseBytes": None},
        "cors": None, "timeoutSeconds": None}


def test_update_route_changes_the_fields_given_and_null_removes(api):
    g, admin = api
    old = g.run(REGISTER_FULL, {"input": FULL_INPUT})["registerRoute"]
    time.sleep(0.02)
    new = g.run(UPDATE, {"id": old["id"], "input": {
        "targetUrl": "http://127.0.0.1:9/v2/{*}", "timeoutSeconds": 9,
        "cors": None, "rateLimit": None, "cacheTtlSeconds": None}})
    new = new["updateRoute"]
    assert new["targetUrl"] == "http://127.0.0.1:9/v2/{*}"
    assert new["timeoutSeconds"] == 9
    assert new["cors"] is None and new["rateLimit"] is None
    assert new["cacheTtlSeconds"] is None
    for kept in ("id", "path", "methods", "enabled", "environment",
                 "createdAt", "requestHeaders", "responseHeaders",
                 "pathRewrite", "queryPolicy", "bodyLimits",
                 "circuitBreaker"):
        assert new[kept] == old[kept], kept
    assert new["updatedAt"] > old["updatedAt"], (old, new)
    assert g.run(ROUTE, {"id": old["id"]}) == {"route": new}
    rest = admin.get("/routes/" + old["id"]).json()
    assert "cors" not in rest and "rateLimit" not in rest, rest
    assert rest == no_nulls(new)
    # a variable not given leaves its input field out: cors stays
    g.run(UPDATE, {"id": old["id"], "input": {"cors": FULL_INPUT["cors"]}})
    d = g.run(UPDATE_PARTS, {"id": old["id"], "t": 11})["updateRoute"]
    assert d == {"timeoutSeconds": 11,
                 "cors": {"allowOrigins": ["https://app.example"]}}
    # given as null: removed
    d = g.run(UPDATE_PARTS, {"id": old["id"], "cors": None})["updateRoute"]
    assert d == {"timeoutSeconds": 11, "cors": None}


def test_delete_route_then_again_is_not_found(api):
    g, admin = api
    a = register(g, **seed())
    keep = register(g, **seed("/v1/keep", "http://127.0.0.1:9/k"))
    assert g.run(DELETE, {"id": a["id"]}) == \
        {"deleteRoute": {"deletedCount": 1}}
    assert g.run(ROUTE, {"id": a["id"]}) == {"route": None}
    d = g.fails(DELETE, {"id": a["id"]})
    assert d["data"] is None
    field_error(d, "NOT_FOUND", "id", ["deleteRoute"])
    assert [r["id"] for r in admin.routes()] == [keep["id"]]


def test_set_route_enabled_switches_serving(served, backend):
    g, _ = served
    r = register(g, **seed("/gq/sw/{id}", backend.url + "/sw/{id}"))
    ok = lambda resp: (resp.status_code == 200  # noqa: E731
                       and resp.json()["path"] == "/sw/1")
    served_streak(g.gw, "/gq/sw/1", ok)
    d = g.run(SET_ENABLED, {"id": r["id"], "on": False})
    assert d == {"setRouteEnabled": {"id": r["id"], "enabled": False}}
    served_streak(g.gw, "/gq/sw/1", lambda resp: resp.status_code == 404)
    assert g.run(ROUTE, {"id": r["id"]})["route"]["enabled"] is False
    d = g.run(SET_ENABLED, {"id": r["id"], "on": True})
    assert d["setRouteEnabled"]["enabled"] is True
    last = served_streak(g.gw, "/gq/sw/1", ok)
    assert last.json()["path"] == "/sw/1"
    # an unknown id
    d = g.fails(SET_ENABLED, {"id": str(uuid.uuid4()), "on": True})
    field_error(d, "NOT_FOUND", "id", ["setRouteEnabled"])


# ============================================================ environments

def test_environments_create_copy_and_delete(api):
    g, admin = api
    a = g.run(REGISTER_FULL, {"input": FULL_INPUT})["registerRoute"]
    b = register(g, **seed())
    b = g.run(ROUTE, {"id": b["id"]})["route"]
    assert g.run(ENVIRONMENTS) == {"environments": [{"name": "default"}]}
    d = g.run(CREATE_ENV, {"input": {"name": "staging", "from": "default",
                                     "copyRoutes": True}})
    assert d == {"createEnvironment": {"name": "staging", "copiedRoutes": 2}}
    d = g.run(CREATE_ENV, {"input": {"name": "qa"}})
    assert d["createEnvironment"]["name"] == "qa"
    assert d["createEnvironment"]["copiedRoutes"] in (0, None)
    # from without copyRoutes (default false): nothing copied
    d = g.run(CREATE_ENV, {"input": {"name": "empty", "from": "default"}})
    assert d["createEnvironment"]["copiedRoutes"] in (0, None)
    names = sorted(e["name"] for e in g.run(ENVIRONMENTS)["environments"])
    assert names == ["default", "empty", "qa", "staging"]
    assert admin.environments() == names
    copies = g.run(ROUTES, {"env": "staging"})["routes"]
    assert len(copies) == 2
    by_path = {x["path"]: x for x in (a, b)}
    volatile = ("id", "environment", "createdAt", "updatedAt")
    for c in copies:
        o = by_path[c["path"]]
        assert UUID_V4.match(c["id"]) and c["id"] not in (a["id"], b["id"])
        assert c["environment"] == "staging"
        assert {k: v for k, v in c.items() if k not in volatile} == \
            {k: v for k, v in o.items() if k not in volatile}
    assert g.run(ROUTES, {"env": "qa"}) == {"routes": []}
    assert g.run(ROUTES, {"env": "empty"}) == {"routes": []}
    # deleteEnvironment: it and its routes
    assert g.run(DELETE_ENV, {"name": "staging"}) == \
        {"deleteEnvironment": {"deletedCount": 2}}
    for c in copies:
        assert g.run(ROUTE, {"id": c["id"]}) == {"route": None}
    assert g.run(DELETE_ENV, {"name": "qa"}) == \
        {"deleteEnvironment": {"deletedCount": 0}}
    names = sorted(e["name"] for e in g.run(ENVIRONMENTS)["environments"])
    assert names == ["default", "empty"]
    assert sorted(x["id"] for x in g.run(ROUTE_IDS, {"env": "default"})
                  ["routes"]) == sorted([a["id"], b["id"]])
    # an unknown one, the default one
    d = g.fails(DELETE_ENV, {"name": "staging"})
    field_error(d, "NOT_FOUND", path=["deleteEnvironment"])
    d = g.fails(DELETE_ENV, {"name": "default"})
    assert first_error(d)["extensions"]["code"] == "BAD_USER_INPUT", d
    assert "default" in admin.environments()
    # an existing one, copyRoutes without from, an invalid name
    d = g.fails(CREATE_ENV, {"input": {"name": "empty"}})
    field_error(d, "CONFLICT", path=["createEnvironment"])
    d = g.fails(CREATE_ENV, {"input": {"name": "x", "copyRoutes": True}})
    field_error(d, "BAD_USER_INPUT", "input.copyRoutes")
    d = g.fails(CREATE_ENV, {"input": {"name": "prod env"}})
    field_error(d, "BAD_USER_INPUT", "input.name")
    # into an environment, then its routes deleted
    register(g, **seed(environment="empty"))
    assert g.run(DELETE_ENV_ROUTES, {"input": {"environment": "empty"}}) == \
        {"deleteRoutesByEnvironment": {"deletedCount": 1}}
    d = g.fails(DELETE_ENV_ROUTES, {"input": {"environment": "nowhere"}})
    field_error(d, "NOT_FOUND", path=["deleteRoutesByEnvironment"])
    assert sorted(admin.environments()) == ["default", "empty"]


# ============================================================ operations

def test_operations_and_resume_member(served, backend):
    g, _ = served
    # one request through the rate-limited endpoint
    r = requests.get(g.gw.url("/static/things"), timeout=10)
    assert r.status_code == 200, r.text
    ops = g.run(OPERATIONS)["operations"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$",
                    ops["time"]), ops
    pools = {p["name"]: p for p in ops["pools"]}
    pool = pools["balancer://pool"]
    assert pool["lbmethod"] == "byrequests"
    assert [m["name"] for m in pool["members"]] == [backend.url]
    m = pool["members"][0]
    assert m["pool"] == "balancer://pool" and m["state"] == "active", m
    assert m["suspensions"] == 0 and m["retries"] == 0, m
    limits = ops["rateLimits"]
    assert isinstance(limits, list) and limits, ops
    mine = [l for l in limits if "/static/things" in l["section"]]
    assert mine and mine[0]["admitted"] >= 1, limits
    breakers = [b for b in ops["breakers"] or []
                if "/static/things" in b["section"]]
    assert len(breakers) == 1, ops
    b = breakers[0]
    assert b["state"] == "closed" and b["window"]["requests"] >= 1, b
    d = g.run(RESET, {"id": b["id"]})
    assert d == {"resetBreaker": {"id": b["id"], "state": "closed",
                                  "trips": 0}}
    again = [x for x in g.run(OPERATIONS)["operations"]["breakers"]
             if x["id"] == b["id"]]
    assert again[0]["window"]["requests"] == 0, again
    d = g.run(RESUME, {"pool": "balancer://pool", "member": backend.url})
    assert d["resumeMember"] == {"pool": "balancer://pool",
                                 "name": backend.url, "state": "active",
                                 "suspensions": 0, "retries": 0}
    d = g.fails(RESUME, {"pool": "balancer://pool",
                         "member": "http://127.0.0.1:1"})
    field_error(d, "NOT_FOUND", "member", ["resumeMember"])
    d = g.fails(RESUME, {"pool": "balancer://nope", "member": backend.url})
    field_error(d, "NOT_FOUND", path=["resumeMember"])
    d = g.fails(RESET, {"id": "nowhere.conf:1"})
    field_error(d, "NOT_FOUND", path=["resetBreaker"])


# ============================================================ the language

MULTI = doc("""
query Envs { environments { name } }
query Kind { __typename }
mutation Make($input: RegisterRouteInput!) {
  registerRoute(input: $input) { id } }
""")
DEFAULTS = doc("""
query Defaults($env: String = "default", $with: Boolean = true,
               $without: Boolean = false) {
  routes(environment: $env) {
    id
    path @include(if: $with)
    targetUrl @skip(if: $with)
    methods @include(if: $without)
    enabled @skip(if: $without)
  }
}""")
ALIASES_FRAGMENTS = doc("""
query Shapes($id: ID!) {
  first: route(id: $id) { ...Short kind: __typename }
  second: route(id: $id) {
    ... on Route { ident: id }
    ... @include(if: true) { path }
    ... @skip(if: true) { targetUrl }
  }
  missing: route(id: "00000000-0000-4000-8000-000000000000") { id }
  all: routes(environment: "default") { ...Short }
  __typename
}
fragment Short on Route { id methods }
""")
NON_NULL = doc("query Need($env: String!) { routes(environment: $env) "
               "{ id } }")


def test_operation_name_picks_one_of_several(api):
    g, _ = api
    assert g.run(MULTI, operation="Envs") == \
        {"environments": [{"name": "default"}]}
    assert g.run(MULTI, operation="Kind") == {"__typename": "Query"}
    d = g.run(MULTI, {"input": seed()}, "Make")
    assert UUID_V4.match(d["registerRoute"]["id"]), d
    # several operations and no name, or a name the document lacks:
    # refused, nothing run
    for op in (None, "Nope"):
        d = g.answer(g.post(MULTI, {"input": seed("/v1/x")}, op))
        refused(d)
    assert len(g.run(ROUTE_IDS, {"env": "default"})["routes"]) == 1
    # by GET, a query of the same document may be chosen
    d = g.answer(g.get(MULTI, operation="Kind"))
    assert d == {"data": {"__typename": "Query"}}
    g.run(DELETE_ENV_ROUTES, {"input": {"environment": "default"}})
    queries_by_get(g)


def test_variables_defaults_directives_aliases_and_fragments(api):
    g, _ = api
    r = register(g, **seed())
    d = g.run(DEFAULTS)
    assert d == {"routes": [{"id": r["id"], "path": r["path"],
                             "enabled": True}]}
    d = g.run(DEFAULTS, {"with": False, "without": True})
    assert d == {"routes": [{"id": r["id"], "targetUrl": r["targetUrl"],
                             "methods": ["GET"]}]}
    d = g.run(ALIASES_FRAGMENTS, {"id": r["id"]})
    assert d == {
        "first": {"id": r["id"], "methods": ["GET"], "kind": "Route"},
        "second": {"ident": r["id"], "path": r["path"]},
        "missing": None,
        "all": [{"id": r["id"], "methods": ["GET"]}],
        "__typename": "Query"}
    # response order is the document's
    text = g.post(ALIASES_FRAGMENTS, {"id": r["id"]}).text
    assert text.index('"first"') < text.index('"second"') \
        < text.index('"missing"') < text.index('"all"')


def test_variables_non_null_and_types_checked(api):
    g, _ = api
    for variables in (None, {}, {"env": None}, {"env": 5}):
        d = g.answer(g.post(NON_NULL, variables))
        errs = refused(d)
        assert errs[0]["extensions"]["code"] in (
            "BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"), d
        assert "env" in errs[0]["message"], d
    # an input object missing a required field, a wrong enum
    d = g.answer(g.post(REGISTER, {"input": {"path": "/v1/a"}}))
    assert "targetUrl" in refused(d)[0]["message"], d
    d = g.answer(g.post(REGISTER, {"input": seed(methods=["TRACE"])}))
    refused(d)
    assert g.run(ROUTE_IDS, {"env": "default"}) == {"routes": []}
    # variables that are not an object
    for v in ([1], "x", 3):
        d = g.answer(g.post(NON_NULL, body={"query": NON_NULL,
                                            "variables": v}), 400)
        refused(d, "BAD_USER_INPUT")


# ============================================================ introspection

def test_introspection_builds_the_schema_every_document_validates(api):
    g, _ = api
    d = g.run(introspection_query)
    client = build_client_schema(d)
    for text in DOCUMENTS:
        errors = validate(client, parse(text))
        assert not errors, (text, [str(e) for e in errors])
    # and against the SDL file's schema (graphql-core reading it)
    from graphql import build_ast_schema
    from graphql.utils.schema_printer import print_schema
    from gql_util import sdl_without_descriptions
    # graphql-core 2.3.2 predates @specifiedBy
    assert print_schema(client).replace(
        "directive @specifiedBy(url: String!) on SCALAR\n\n", "") == \
        print_schema(
        build_ast_schema(parse(sdl_without_descriptions())))
    types = {t["name"]: t for t in d["__schema"]["types"]}
    assert d["__schema"]["queryType"] == {"name": "Query"}
    assert d["__schema"]["mutationType"] == {"name": "Mutation"}
    assert types["Query"]["description"] is None or \
        isinstance(types["Query"]["description"], str)
    assert "served in every child" in [
        f for f in types["Mutation"]["fields"]
        if f["name"] == "registerRoute"][0]["description"]
    assert {"include", "skip", "deprecated"} <= {
        x["name"] for x in d["__schema"]["directives"]}
    type_route(g)


def type_route(g):
    t = g.run(ROUTE_TYPE)["__type"]
    assert t["kind"] == "OBJECT" and t["name"] == "Route"
    assert "ApiEndpoint" in t["description"]
    fields = {f["name"]: f["type"] for f in t["fields"]}
    assert list(fields)[:6] == ["id", "environment", "path", "targetUrl",
                                "methods", "enabled"]
    assert fields["id"] == {"kind": "NON_NULL", "name": None,
                            "ofType": {"kind": "SCALAR", "name": "ID",
                                       "ofType": None}}
    assert fields["methods"] == {
        "kind": "NON_NULL", "name": None, "ofType": {
            "kind": "LIST", "name": None, "ofType": {
                "kind": "NON_NULL", "name": None}}}
    assert fields["cors"] == {"kind": "OBJECT", "name": "Cors",
                              "ofType": None}
    assert len(fields) == 18
    assert g.run(NO_TYPE) == {"__type": None}


# ============================================================ REST and GraphQL

def test_rest_and_graphql_see_the_same_routes(api):
    g, admin = api
    via_gql = g.run(REGISTER_FULL, {"input": FULL_INPUT})["registerRoute"]
    assert admin.get("/routes/" + via_gql["id"]).json() == no_nulls(via_gql)
    rest_doc = route("/v1/rest/{id}", methods=["GET", "DELETE"],
                     timeoutSeconds=5,
                     cors={"allowOrigins": ["https://b.example"]})
    via_rest = admin.register(rest_doc)
    got = g.run(ROUTE, {"id": via_rest["id"]})["route"]
    assert no_nulls(got) == via_rest
    assert [x["id"] for x in g.run(ROUTES, {"env": "default"})["routes"]] \
        == [via_gql["id"], via_rest["id"]]
    # a REST patch is read by GraphQL; a GraphQL update by REST
    r = admin.patch("/routes/" + via_rest["id"], {"enabled": False})
    assert r.status_code == 200, r.text
    assert g.run(ROUTE, {"id": via_rest["id"]})["route"]["enabled"] is False
    g.run(UPDATE, {"id": via_rest["id"], "input": {"timeoutSeconds": 8}})
    assert admin.get("/routes/" + via_rest["id"]).json()[
        "timeoutSeconds"] == 8
    # an environment made by REST, deleted by GraphQL, and back
    assert admin.post("/environments", {"name": "qa"}).status_code == 201
    assert {"name": "qa"} in g.run(ENVIRONMENTS)["environments"]
    g.run(DELETE_ENV, {"name": "qa"})
    assert admin.environments() == ["default"]
    # the same refusal, the same field
    bad = seed(cors={"maxAgeSeconds": -1})
    r = admin.post("/routes", bad)
    assert r.status_code == 400 and r.json()["field"] == "cors.maxAgeSeconds"
    d = g.fails(REGISTER, {"input": bad})
    field_error(d, "BAD_USER_INPUT", "input.cors.maxAgeSeconds")


# ============================================================ error codes

def test_bad_user_input_names_the_field(api):
    g, admin = api
    column = REGISTER.index("registerRoute(") + 1
    cases = [
        (seed(path="/a/../b"), "input.path"),
        (seed(path="no-slash"), "input.path"),
        (seed(target="file:///etc/passwd"), "input.targetUrl"),
        (seed(cors={"maxAgeSeconds": -5}), "input.cors.maxAgeSeconds"),
        (seed(timeoutSeconds=301), "input.timeoutSeconds"),
        (seed(requestHeaders=[{"action": "set", "name": "X-A",
                               "value": "a\r\nX-Evil: 1"}]),
         "input.requestHeaders[0].value"),
        (seed(pathRewrite={"type": "regex", "value": "(",
                           "replacement": "/"}), "input.pathRewrite.value"),
        (seed(rateLimit={"average": -1, "period": "1s"}),
         "input.rateLimit.average"),
    ]
    for input, field in cases:
        d = g.fails(REGISTER, {"input": input})
        assert d["data"] is None, (input, d)
        e = field_error(d, "BAD_USER_INPUT", field, ["registerRoute"])
        assert e["locations"] == [{"line": 1, "column": column}], e
    assert admin.routes() == []
    # routes(environment:) of an invalid name
    d = g.fails(ROUTE_IDS, {"env": "prod env"})
    field_error(d, "BAD_USER_INPUT", "environment", ["routes"])


def test_not_found(api):
    g, _ = api
    rid = str(uuid.uuid4())
    d = g.fails(UPDATE, {"id": rid, "input": {"enabled": False}})
    assert d["data"] is None
    field_error(d, "NOT_FOUND", "id", ["updateRoute"])
    d = g.fails(UPDATE, {"id": "not-a-uuid", "input": {"enabled": False}})
    field_error(d, "NOT_FOUND", "id", ["updateRoute"])
    # route(id:) of an unknown id is null, not an error
    assert g.answer(g.post(ROUTE, {"id": rid})) == {"data": {"route": None}}
    d = g.fails(REGISTER, {"input": seed(environment="nowhere")})
    field_error(d, "NOT_FOUND", "input.environment", ["registerRoute"])
    d = g.fails(ROUTE_IDS, {"env": "nowhere"})
    field_error(d, "NOT_FOUND", path=["routes"])


def test_conflicts(served, backend):
    g, admin = served
    a = register(g, **seed("/v1/users/{id}"))
    d = g.fails(REGISTER, {"input": seed("/v1/users/{name}",
                                         "http://127.0.0.1:9/u/{name}")})
    field_error(d, "CONFLICT", "input.path", ["registerRoute"])
    # another method of the same shape is fine
    register(g, **seed("/v1/users/{name}", "http://127.0.0.1:9/u/{name}",
                       methods=["POST"]))
    # shadowed by a static <ApiEndpoint>
    d = g.fails(REGISTER, {"input": seed("/static/things",
                                         backend.url + "/x")})
    e = field_error(d, "CONFLICT", "input.path", ["registerRoute"])
    assert "/static/things" in e["message"], e
    # an update into a conflict changes nothing
    b = register(g, **seed("/v1/other"))
    d = g.fails(UPDATE, {"id": b["id"], "input": {"path": "/v1/users/{x}"}})
    field_error(d, "CONFLICT", "input.path", ["updateRoute"])
    assert g.run(ROUTE, {"id": b["id"]})["route"]["path"] == "/v1/other"
    assert len(admin.routes()) == 3 and a["id"] in \
        [x["id"] for x in admin.routes()]


def test_parse_and_validation_failures(api):
    g, _ = api
    for text in ('{ routes(environment: "default") { id }',
                 '{\n  route(id: "x\n") { id } }',
                 'query Q($a: Int = 1.5e) { a }'):
        d = g.answer(g.post(text))
        e = refused(d, "GRAPHQL_PARSE_FAILED")[0]
        assert e["message"].startswith("Syntax Error"), e
        with pytest.raises(GraphQLSyntaxError) as oracle:
            parse(text)
        loc = oracle.value.locations[0]
        assert e["locations"] == [{"line": loc.line,
                                   "column": loc.column}], (text, e, loc)
    text = 'query {\n  route(id: "x") { id colour }\n}'
    d = g.answer(g.post(text))
    e = refused(d, "GRAPHQL_VALIDATION_FAILED")[0]
    assert "colour" in e["message"], e
    assert e["locations"] == [{"line": 2, "column": text.split("\n")[1]
                               .index("colour") + 1}], e
    d = g.answer(g.post("{ nope }"))
    refused(d, "GRAPHQL_VALIDATION_FAILED")
    # graphql-response+json: the refusal is a 400 of that type
    h = {"Accept": GQL_RESPONSE}
    d = g.answer(g.post("{ nope", headers=h), 400, GQL_RESPONSE)
    refused(d, "GRAPHQL_PARSE_FAILED")
    d = g.answer(g.post("{ nope }", headers=h), 400, GQL_RESPONSE)
    refused(d, "GRAPHQL_VALIDATION_FAILED")
    # executed with field errors: still 200
    d = g.answer(g.post(DELETE, {"id": str(uuid.uuid4())}, headers=h), 200,
                 GQL_RESPONSE)
    field_error(d, "NOT_FOUND", "id", ["deleteRoute"])
    assert g.answer(g.post(TYPENAME, headers=h), 200, GQL_RESPONSE) == \
        {"data": {"__typename": "Query"}}


BAD_BODIES = [
    b"", b"[]", b'"x"', b"{", b'{"query": 5}', b'{"variables": {}}',
    b'{"query": "{ __typename }", "operationName": 5}',
    b'{"query": "{ __typename }", "query": "{ x }"}',
    b'{"query": "{ __typename }"} trailing',
]


def test_body_that_is_not_the_json_object_is_400(api):
    g, _ = api
    for data in BAD_BODIES:
        d = g.answer(g.post(None, data=data), 400)
        refused(d, "BAD_USER_INPUT")
        normal_query_works(g)
    # and the size bounds: the body (2 MB), the document (256K default)
    body = json.dumps({"query": "{ __typename }", "pad": "a" * (2 << 20)})
    d = g.answer(g.post(None, data=body.encode()), 413)
    refused(d)
    text = "{ " + "__typename " * 30000 + "}"           # 330 KB
    d = g.answer(g.post(text))
    assert "ApiGraphQLMaxBytes" in refused(d)[0]["message"], d
    normal_query_works(g)


# the serving side reads the corrupted route too, and says so
@pytest.mark.allow_log("AGW00703", "AGW00715")
def test_internal_server_error_of_a_route_that_no_longer_validates(
        api, store):
    g, _ = api
    r = register(g, **seed())
    c = sqlite3.connect(store[len("sqlite3:"):], timeout=10)
    with c:
        c.execute("UPDATE routes SET target_url = 'file:///etc/passwd' "
                  "WHERE id = ?", (r["id"],))
    c.close()
    d = g.fails(ROUTE, {"id": r["id"]})
    assert d["data"] == {"route": None}, d
    e = field_error(d, "INTERNAL_SERVER_ERROR", path=["route"])
    assert "no longer validates" in e["message"], e



# ============================================================ cross-site

def test_cross_site_refusals(api):
    g, admin = api
    d = g.answer(g.post(REGISTER, {"input": seed()},
                        headers={"Origin": "http://evil.example"}), 403)
    refused(d, "FORBIDDEN")
    for ctype in ("text/plain", "application/x-www-form-urlencoded",
                  "multipart/form-data; boundary=x"):
        d = g.answer(g.post(REGISTER, {"input": seed()},
                            headers={"Content-Type": ctype}), 415)
        refused(d, "BAD_USER_INPUT")
    resp = g.get(REGISTER, {"input": seed()})
    d = g.answer(resp, 405)
    assert resp.headers["Allow"] == "POST", resp.headers
    refused(d, "BAD_USER_INPUT")
    resp = g.get(MULTI, {"input": seed()}, "Make")
    g.answer(resp, 405)
    assert admin.routes() == []
    # the gateway's own origin, a charset: accepted
    own = "http://127.0.0.1:%d" % g.gw.port
    d = g.answer(g.post(REGISTER, {"input": seed()}, headers={
        "Origin": own, "Content-Type": "application/json; charset=utf-8"}))
    assert UUID_V4.match(d["data"]["registerRoute"]["id"]), d
    # other methods
    resp = requests.put(g.url(), data="{}", timeout=10,
                        headers={"Content-Type": "application/json"})
    assert resp.status_code == 405 and "POST" in resp.headers["Allow"]
    refused(resp.json(), "BAD_USER_INPUT")


def queries_by_get(g):
    r = register(g, **seed("/v1/get/{id}"))
    d = g.answer(g.get(ROUTE_IDS, {"env": "default"}))
    assert d == {"data": {"routes": [{"id": r["id"], "path": r["path"],
                                      "environment": "default"}]}}
    d = g.answer(g.get(None, raw_query="variables=%7B%7D"), 400)
    refused(d, "BAD_USER_INPUT")
    d = g.answer(g.get(None, raw_query="query=%7B__typename%7D&"
                       "variables=%5B1%5D"), 400)
    refused(d, "BAD_USER_INPUT")
    g.run(DELETE, {"id": r["id"]})


# ============================================================ audit

TWO = doc("""mutation Two($a: RegisterRouteInput!, $b: RegisterRouteInput!) {
  one: registerRoute(input: $a) { id }
  two: registerRoute(input: $b) { id } }""")


def audit_lines(gw):
    return [l for l in gw.error_log_text().splitlines() if AUDIT in l]


def test_each_graphql_mutation_logs_one_audit_line(api):
    g, _ = api
    steps = []

    def step(query, variables, needle, action):
        before = len(audit_lines(g.gw))
        g.run(query, variables)
        steps.append((needle, action))
        assert wait_for(lambda: len(audit_lines(g.gw)) > before)
        time.sleep(0.05)
        lines = audit_lines(g.gw)
        assert len(lines) == before + 1, lines
        line = lines[-1]
        assert re.search(r"\[(apigw:)?notice\]", line), line
        msg = line[line.index(AUDIT):]
        assert needle in msg and re.search(action, msg), (action, line)
        assert msg.endswith("by -"), line

    rid = g.run(REGISTER, {"input": seed()})["registerRoute"]["id"]
    assert wait_for(lambda: len(audit_lines(g.gw)) == 1)
    assert "registered route " + rid in audit_lines(g.gw)[0]
    step(UPDATE, {"id": rid, "input": {"timeoutSeconds": 5}}, rid,
         "changed route")
    step(SET_ENABLED, {"id": rid, "on": False}, rid, "disabled route")
    step(SET_ENABLED, {"id": rid, "on": True}, rid, "enabled route")
    step(CREATE_ENV, {"input": {"name": "st", "from": "default",
                                "copyRoutes": True}}, "st",
         "created environment")
    step(DELETE_ENV_ROUTES, {"input": {"environment": "st"}}, "st",
         "deleted the routes of environment")
    step(DELETE_ENV, {"name": "st"}, "st", "deleted environment")
    step(DELETE, {"id": rid}, rid, "deleted route")
    n = len(audit_lines(g.gw))
    # reads and refusals log nothing; two mutations in one document, two
    g.run(ROUTE_IDS, {"env": "default"})
    g.fails(DELETE, {"id": rid})
    g.answer(g.post(REGISTER, {"input": {"path": "/x"}}))
    time.sleep(0.1)
    assert len(audit_lines(g.gw)) == n
    d = g.run(TWO, {"a": seed("/v1/a"), "b": seed("/v1/b")})
    assert wait_for(lambda: len(audit_lines(g.gw)) == n + 2)
    lines = audit_lines(g.gw)[n:]
    assert d["one"]["id"] in lines[0] and d["two"]["id"] in lines[1], lines


# ============================================================ hostile

@pytest.fixture
def roomy(store, gateway):
    """A gateway taking documents of up to 1 MB: the hostile ones reach
    the parser."""
    gw = gateway(admin_conf(store, """
<Location "/admin">
  ApiGraphQLMaxBytes 1M
</Location>
"""))
    return Gql(gw)


def timed(fn):
    t0 = time.monotonic()
    v = fn()
    return v, time.monotonic() - t0


def hostile_documents():
    mb = 1000 * 1000
    n = mb // len("a12345: __typename ")
    return [
        ("deep-braces", "{" * 100000 + "}" * 100000, "Syntax Error"),
        ("deep-selections", "{ __typename " + "a { " * 50000
         + "}" * 50001, "ApiGraphQLMaxDepth"),
        ("deep-list-value", "{ route(id: " + "[" * 100000 + "]" * 100000
         + ") { id } }", "ApiGraphQLMaxDepth"),
        ("deep-object-value", "{ route(id: " + "{a: " * 50000 + "1"
         + "}" * 50000 + ") { id } }", "ApiGraphQLMaxDepth"),
        ("aliases-1mb", "{ " + " ".join("a%d: __typename" % i
                                        for i in range(n)) + " }",
         "ApiGraphQLMaxAliases"),
        ("unterminated-string-1mb", '{ route(id: "' + "a" * (mb - 20),
         "Unterminated string"),
        ("unterminated-block-string", '{ route(id: """' + "a\n" * 400000,
         "Unterminated string"),
        ("many-errors", "{ " + "x " * 400000 + "}", None),
    ]


@pytest.mark.serial         # wall-clock bounds: run alone
def test_hostile_documents_are_refused_quickly(roomy):
    g = roomy
    theirs = [(f.__name__, f().decode("utf-8"), None)
              for f in getattr(gql_cases, "HOSTILE", [])]
    for name, text, needle in hostile_documents() + theirs:
        resp, took = timed(lambda: g.post(text, timeout=60))
        d = g.answer(resp)
        errs = refused(d)
        assert len(resp.content) < 64 * 1024, (name, len(resp.content))
        if needle:
            assert needle in errs[0]["message"], (name, errs[0])
        assert took < 3.0, (name, took)
        normal_query_works(g)



def test_invalid_utf8_and_lone_surrogates(roomy):
    g = roomy
    # raw bytes in the body's JSON: not JSON
    d = g.answer(g.post(None, data=b'{"query": "{ route(id: \\"\xff\\") '
                        b'{ id } }"}'), 400)
    refused(d, "BAD_USER_INPUT")
    # valid JSON holding lone surrogates: never valid UTF-8 text
    for s in ("\\ud800", "\\udfff", "\\ud800\\ud800", "\\udc00\\ud800"):
        data = ('{"query": "{ route(id: \\"%s\\") { id } }"}' % s).encode()
        resp = g.post(None, data=data)
        assert resp.status_code in (200, 400), resp.text
        d = g.answer(resp, resp.status_code)
        refused(d)
        data = ('{"query": "{ __typename }%s"}' % s).encode()
        resp = g.post(None, data=data)
        refused(g.answer(resp, resp.status_code))
        normal_query_works(g)
    # a surrogate pair in a JSON escape is one code point: fine
    d = g.answer(g.post(None, data=b'{"query": "{ route(id: \\"\\ud83d'
                        b'\\ude00\\") { id } }"}'))
    assert d == {"data": {"route": None}}
    # GraphQL escapes: a lone surrogate is a syntax error, a pair is fine
    d = g.answer(g.post('{ route(id: "\\uD800") { id } }'))
    refused(d, "GRAPHQL_PARSE_FAILED")
    assert g.run('{ route(id: "\\uD83D\\uDE00") { id } }') == {"route": None}
    # GET with %FF, in a string and outside one
    for raw in ("query=%7B+route(id%3A+%22%FF%22)+%7B+id+%7D+%7D",
                "query=%7B+__typename+%FF+%7D",
                "query=%7B+__typename+%C0%AF+%7D",
                "query=%7B+__typename+%ED%A0%80+%7D"):
        resp = g.get(None, raw_query=raw)
        d = g.answer(resp)
        e = refused(d, "GRAPHQL_PARSE_FAILED")[0]
        # the answer is valid UTF-8 JSON (requests decoded it)
        resp.content.decode("utf-8")
        assert "\ufffd" not in e["message"] or "\\x" in e["message"], e
        normal_query_works(g)
    # a NUL byte: refused by the URL decoding (400) or the parser
    resp = g.get(None, raw_query="query=%7B+__typename+%00+%7D")
    d = g.answer(resp, resp.status_code)
    refused(d, "GRAPHQL_PARSE_FAILED" if resp.status_code == 200
            else "BAD_USER_INPUT")
    d = g.answer(g.post(None, data=b'{"query": "{ __typename \\u0000 }"}'),
                 400)
    refused(d, "BAD_USER_INPUT")
    normal_query_works(g)


# ============================================================ the oracle

VALID = [
    "{ __typename }",
    "query { __typename }",
    "query Q { a: __typename, b: __typename }",
    "{ __typename } # a comment",
    '{ route(id: "x\\u00e9\\n\\t\\"") { id } }',
    "query ($a: [[Int!]]! = [[1, 2], [3]], $b: Float = -1.5e-3) "
    "{ __typename }",
    '{ a(x: {b: [1, 2.0, "c", true, ENUM, {d: $v}]}) }',
    "fragment F on Route { id } { ...F }",
    "{ ... on Query { __typename } ... @skip(if: false) { __typename } }",
    'mutation { deleteRoutesByEnvironment(input: {environment: "x y"}) '
    "{ deletedCount } }",
    "subscription S { x }",
    "query Q @dir(a: 1) { f @a @b(c: 2) }",
    "{ f(a: -0, b: 0, c: 1e10, d: 1.0E+2) }",
    "{ on fragment query mutation subscription true false }",
    "query Q { __typename } query R { __typename }",
    '{ f(a: "a\\\\b\\/c\\u0041") }',
    "\t{\r\n__typename\r}\n",
]
# Valid in the specification (October 2021) but beyond graphql-core
# 2.3.2, which predates null literals and block strings: never parse
# errors either.
SPEC_VALID = [
    "\ufeff{ __typename }",
    "{ a(x: null) }",
    "{ a(x: [1, null, {b: null}]) }",
    "query ($a: Int = null) { b }",
    '{ route(id: """block "" \\""" string""") { id } }',
    '{ f(a: """\n  indented\n    more\n""") }',
    '{ f(a: """""") }',
    '{ a(x: "\\uD83D\\uDE00") }',
]
INVALID = [
    "", " ", "# only a comment", "{", "}", "{ }", "{ a(b: ) }",
    "query", "query Q", "{ a: }", "{ ...on }", "{ ... on }",
    "fragment on on Q { a }", "fragment F on Q", "{ a(x: $) }",
    "{ a(x: 1.) }", "{ a(x: .5) }", "{ a(x: 01) }", "{ a(x: 1e) }",
    "{ a(x: 0x1) }", "{ a(x: 1a) }", "{ a(x: 1.5.5) }",
    '{ a(x: "unterminated) }', '{ a(x: "\\q") }',
    '{ a(x: "\\u12") }', '{ a(x: "line\nbreak") }',
    "{ a(x: [1, 2) }", "{ a(x: {b 1}) }", "{ a @ }", "{ a(x: 1) b(",
    "query ($a) { b }", "query ($a: ) { b }", "query ($a: [Int) { b }",
    "query ($a: Int = $b) { c }", "{ a } extra", "{ a }}", "{ a ? }",
    "{ \u00e9 }", "{ a(b: true false) }", "..", "{ ... }",
    "{ a(x: {b: }) }", '{ a("x": 1) }', "mutation", "{ a { } }",
    "{ a(x: 1) } }",
]
# Not graphql-core 2.3.2's to judge (it lacks block strings and lets
# lone surrogate escapes through; graphql-js 16 refuses them).
SPEC_INVALID = [
    '{ a(x: "\\uD800") }', '{ a(x: "\\uDC00\\uD800") }',
    '{ a(x: """unterminated) }', '{ a(x: """ "" \\""" ) }',
]


# Raw control characters (but tab) in a string: not SourceCharacters in
# the October 2021 specification the parser follows; graphql-core and
# graphql-js 16 refuse them.
CONTROL_IN_STRINGS = ['{ a(x: "a\u0001") }', '{ a(x: "\u001f") }',
                      '{ a(x: "\\u{41}") }']
RAW_CONTROL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f]")


def raw_control(text):
    """Raw control characters, or a braced \\u{...} escape (a later draft's,
    not October 2021's): the product's parser takes both."""
    return isinstance(text, str) and (RAW_CONTROL.search(text)
                                      or "\\u{" in text)


def test_raw_control_characters_in_strings_are_syntax_errors(api):
    g, _ = api
    theirs = [t for t in cases()[1] if raw_control(t)]
    for text in CONTROL_IN_STRINGS + theirs:
        assert not core_parses(text), text
        d = g.answer(g.post(text))
        refused(d, "GRAPHQL_PARSE_FAILED")


def cases():
    valid, invalid = list(VALID), list(INVALID)
    if gql_cases is not None:
        valid += list(getattr(gql_cases, "VALID", []))
        invalid += list(getattr(gql_cases, "INVALID", []))
    return valid, invalid


def core_parses(text):
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            return False
    try:
        parse(text)
        return True
    except GraphQLSyntaxError:
        return False
    except Exception:   # graphql-core 2 raises others on some inputs
        return False


def test_differential_against_graphql_core(api):
    g, _ = api
    valid, invalid = cases()
    valid += SPEC_VALID
    invalid += SPEC_INVALID
    disagree = []
    for text in valid:
        d = g.answer(g.post(text, {"v": 1}))
        codes = [e["extensions"]["code"] for e in d.get("errors", [])]
        if "GRAPHQL_PARSE_FAILED" in codes:
            disagree.append(("valid refused", text, d["errors"][0]))
    for text in invalid:
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError:
                # not UTF-8: no JSON string holds it; by GET
                d = g.answer(g.get(None, raw_query="query=" + quote(
                    text, safe="")))
                if [e["extensions"]["code"] for e in d.get("errors", [])][
                        :1] != ["GRAPHQL_PARSE_FAILED"] or "data" in d:
                    disagree.append(("invalid accepted", text, d))
                continue
        if "\x00" in text:
            continue            # not JSON text for jansson: a 400 (below)
        d = g.answer(g.post(text))
        codes = [e["extensions"]["code"] for e in d.get("errors", [])]
        if codes[:1] != ["GRAPHQL_PARSE_FAILED"] or "data" in d:
            disagree.append(("invalid accepted", text, d))
    assert not disagree, disagree
    normal_query_works(g)


def test_the_oracle_agrees_with_the_lists():
    """The documents of the differential test are what graphql-core says
    they are (SPEC_VALID and SPEC_INVALID aside)."""
    valid, invalid = cases()
    wrong = [t for t in valid if not core_parses(t)]
    wrong += [t for t in invalid if core_parses(t)]
    assert not wrong, wrong


# ============================================================ the bounds

def bounds_conf(store, lines):
    return admin_conf(store, '<Location "/admin">\n%s\n</Location>\n'
                      % lines)


def of_type(levels):
    """A valid document of 2 + levels nested selection sets."""
    return ('{ __type(name: "Route") { ' + "ofType { " * levels + "name "
            + "} " * levels + "} }")


DEPTH_16 = doc(of_type(14))
DEPTH_17_EXPANDED = doc(
    '{ __type(name: "Route") { ...A } } fragment A on __Type '
    '{ ofType { ...B } } fragment B on __Type { '
    + "ofType { " * 14 + "name " + "} " * 14 + "}")


def test_introspection_within_the_smallest_max_depth(store, gateway):
    """ApiGraphQLMaxDepth takes 16 to 64: the smallest bound it takes
    lets a client's introspection through (graphql-core's nests 13)."""
    g = Gql(gateway(bounds_conf(store, "ApiGraphQLMaxDepth 16")))
    assert g.run(introspection_query)["__schema"]["queryType"] == \
        {"name": "Query"}


def test_max_depth(store, gateway):
    g = Gql(gateway(bounds_conf(store, "ApiGraphQLMaxDepth 16")))
    assert g.run(DEPTH_16)["__type"]["ofType"] is None
    d = g.answer(g.post(of_type(15)))
    e = refused(d)[0]
    assert "ApiGraphQLMaxDepth" in e["message"], e
    # deeper only once fragments are expanded
    d = g.answer(g.post(DEPTH_17_EXPANDED))
    assert "ApiGraphQLMaxDepth" in refused(d)[0]["message"], d
    normal_query_works(g)


FIELDS_10 = doc("{ environments { name copiedRoutes __typename } operations "
                "{ time pools { name } __typename } __typename }")
FIELDS_11 = doc("{ environments { name __typename } operations { time "
                "pools { name } __typename } __typename routes(environment: "
                "\"default\") { id } }")


THREE_ALIASES = doc("{ a: __typename b: __typename c: __typename }")


def test_max_bytes_fields_and_aliases(store, gateway):
    g = Gql(gateway(bounds_conf(store, "ApiGraphQLMaxBytes 1K\n"
                                "ApiGraphQLMaxFields 10\n"
                                "ApiGraphQLMaxAliases 3")))
    at = "{ __typename }" + " " * (1024 - 14)
    assert len(at) == 1024
    assert g.run(at) == {"__typename": "Query"}
    d = g.answer(g.post(at + " "))
    assert "ApiGraphQLMaxBytes" in refused(d)[0]["message"], d
    # bytes, not characters
    d = g.answer(g.post("{ __typename }" + "#" + "\u00e9" * 510))
    assert "ApiGraphQLMaxBytes" in refused(d)[0]["message"], d
    assert g.run(FIELDS_10)["__typename"] == "Query"
    d = g.answer(g.post(FIELDS_11))
    assert "ApiGraphQLMaxFields" in refused(d)[0]["message"], d
    assert g.run(THREE_ALIASES) == {"a": "Query", "b": "Query", "c": "Query"}
    four = "{ a: __typename b: __typename c: __typename d: __typename }"
    d = g.answer(g.post(four))
    assert "ApiGraphQLMaxAliases" in refused(d)[0]["message"], d
    normal_query_works(g)


def fragment_bomb(levels):
    parts = ["{ ...F%d }" % levels,
             "fragment F0 on Query { environments { name } }"]
    for i in range(1, levels + 1):
        parts.append("fragment F%d on Query { ...F%d ...F%d ...F%d }"
                     % (i, i - 1, i - 1, i - 1))
    return "\n".join(parts)


@pytest.mark.serial         # wall-clock bounds: run alone
def test_fragment_bomb_is_refused_by_max_fields_quickly(api):
    g, _ = api
    bomb = fragment_bomb(30)              # 3^30 spreads
    resp, took = timed(lambda: g.post(bomb, timeout=30))
    d = g.answer(resp)
    assert "ApiGraphQLMaxFields" in refused(d)[0]["message"], d
    assert took < 2.0, took
    # just under the default 1000: 3^5 * 2 = 486 fields, run
    ok = fragment_bomb(5)
    data = g.run(ok)
    assert data == {"environments": [{"name": "default"}]}
    normal_query_works(g)


BAD_BOUNDS = [
    ("ApiGraphQLMaxBytes 512", "1K to 1M"),
    ("ApiGraphQLMaxBytes 2M", "1K to 1M"),
    ("ApiGraphQLMaxDepth 15", "16 to 64"),
    ("ApiGraphQLMaxDepth 65", "16 to 64"),
    ("ApiGraphQLMaxFields 10x", "ApiGraphQLMaxFields"),
    ("ApiGraphQLMaxAliases -1", "ApiGraphQLMaxAliases"),
]


def test_configtest_refuses_bad_bounds(configtest):
    for line, needle in BAD_BOUNDS:
        ok, out = configtest(bounds_conf(None, "  " + line))
        assert not ok, (line, out)
        assert needle in out, (line, out)
        assert "line %d" % configtest.line(line) in out, (line, out)


def test_configtest_bounds_belong_in_a_location(configtest):
    ok, out = configtest(admin_conf(None, "ApiGraphQLMaxDepth 20\n"))
    assert not ok, out
    assert "ApiGraphQLMaxDepth" in out and "not allowed here" in out, out
    ok, out = configtest(bounds_conf(None, "ApiGraphQLMaxBytes 1M\n"
                                     "ApiGraphQLMaxDepth 64\n"
                                     "ApiGraphQLMaxFields 100000\n"
                                     "ApiGraphQLMaxAliases 1"))
    assert ok, out


# ============================================================ httpd's auth

@pytest.mark.allow_log("AH01617")       # mod_auth_basic: wrong password
def test_httpd_auth_refusals_are_graphql_errors(store, gateway, htpasswd):
    """The location's own auth answers first: its 401 reaches a GraphQL
    client as a GraphQL error, UNAUTHENTICATED, not as httpd's HTML
    page; with the password the request runs."""
    gw = gateway(auth_conf(htpasswd, store))
    g = Gql(gw)
    q = {"query": "{ environments { name } }"}
    for auth in (None, ("alice", "wrong")):
        r = requests.post(g.url(), json=q, auth=auth, timeout=10)
        assert r.status_code == 401, r.text
        assert r.headers["Content-Type"].split(";")[0] == "application/json"
        assert "WWW-Authenticate" in r.headers
        d = r.json()
        assert d["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", d
        assert "data" not in d, d
    r = requests.post(g.url(), json=q, auth=("alice", "s3cret"), timeout=10)
    assert r.status_code == 200, r.text
    assert r.json() == {"data": {"environments": [{"name": "default"}]}}
    # the REST resources keep their own error body
    r = requests.get(gw.url("/admin/routes"), timeout=10)
    assert r.status_code == 401
    assert "errors" not in r.text


def test_the_schema_is_served_with_the_console(api):
    g, _ = api
    r = requests.get(g.gw.url("/admin/console/schema.graphql"), timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain")
    with open(SDL_PATH, encoding="utf-8") as f:
        assert r.text == f.read()
    assert "type Query" in r.text and "registerRoute(" in r.text


@pytest.mark.allow_log("AH01630")       # authz_core: client denied
def test_httpd_require_refusal_is_a_graphql_forbidden(store, gateway):
    gw = gateway(admin_conf(store, """
<Location "/admin/graphql">
  Require ip 192.0.2.1
</Location>
"""))
    r = requests.post(Gql(gw).url(), json={"query": "{ environments "
                      "{ name } }"}, timeout=10)
    assert r.status_code == 403, r.text
    d = r.json()
    assert d["errors"][0]["extensions"]["code"] == "FORBIDDEN", d
    assert "data" not in d, d


# ============================================================ costs

def spread_chain(n):
    """{...f0}, each fragment spreading the next and the first: a chain of
    n, every link a cycle back to the start."""
    frags = ["fragment f%d on Query { ...f%d ...f0 }" % (i, i + 1)
             for i in range(n - 1)]
    frags.append("fragment f%d on Query { ...f0 }" % (n - 1))
    return "{ ...f0 } " + " ".join(frags)


@pytest.mark.serial         # wall-clock bounds: run alone
def test_hostile_documents_cost_little(api):
    """Small documents that made the validator's or the executor's work
    grow faster than their size (a long list literal printed in a
    message, a long chain of cyclic fragments, thousands of arguments)
    are answered at once with a bounded answer."""
    g, _ = api
    many = " ".join(["1"] * 1000)
    cases = [
        # items past the parser's cap of 1,000 in one place
        ("{ routes(environment: [%s 1]) { id } }" % many,
         "GRAPHQL_PARSE_FAILED"),
        ("{ __typename(%s) }" % " ".join("a%d: 1" % i for i in range(1001)),
         "GRAPHQL_PARSE_FAILED"),
        # 1,000 items: the message prints the value short
        ("{ routes(environment: [%s]) { id } }" % many,
         "GRAPHQL_VALIDATION_FAILED"),
        # a chain of spreads is refused before anything walks it
        (spread_chain(800), "BAD_USER_INPUT"),
        # a thousand duplicated arguments: at most 100 errors and a last
        ("{ __typename(%s) }" % " ".join("a: %d" % i for i in range(1000)),
         "GRAPHQL_VALIDATION_FAILED"),
    ]
    for q, code in cases:
        t0 = time.monotonic()
        d = g.answer(g.post(q))
        took = time.monotonic() - t0
        assert took < 2.0, (q[:60], took)
        assert "data" not in d, q[:60]
        errors = d["errors"]
        assert errors[0]["extensions"]["code"] == code, (q[:60], errors[:2])
        assert len(errors) <= 101, len(errors)
        assert all(len(e["message"]) < 500 for e in errors), errors[:2]
    assert "error limit reached" in errors[-1]["message"], errors[-1]
    normal_query_works(g)


def test_a_short_chain_of_fragments_still_runs(api):
    g, _ = api
    frags = " ".join("fragment f%d on Query { ...f%d }" % (i, i + 1)
                     for i in range(30))
    q = "{ ...f0 } %s fragment f30 on Query { environments { name } }" \
        % frags
    assert g.run(q) == {"environments": [{"name": "default"}]}


def test_aliases_of_one_environment_read_it_once(api):
    g, _ = api
    for i in range(5):
        register(g, **seed("/al/r%d" % i, "http://127.0.0.1:9/x"))
    q = "{ %s }" % " ".join("a%d: routes(environment: \"default\") { id }"
                            % i for i in range(50))
    data = g.run(q)
    assert len(data) == 50
    assert all(len(v) == 5 for v in data.values()), data
    assert len({json.dumps(v) for v in data.values()}) == 1


@pytest.mark.serial         # wall-clock bounds: run alone
def test_an_unused_chain_of_fragments_is_refused_too(api):
    g, _ = api
    frags = " ".join("fragment f%d on Query { ...f%d }" % (i, i + 1)
                     for i in range(3000))
    q = "{ __typename } %s fragment f3000 on Query { __typename }" % frags
    t0 = time.monotonic()
    d = g.answer(g.post(q))
    assert time.monotonic() - t0 < 2.0
    e = refused(d)[0]
    assert e["extensions"]["code"] == "BAD_USER_INPUT", e
    assert "spread one another" in e["message"], e


def test_bounds_count_the_operation_that_runs(store, gateway):
    g = Gql(gateway(bounds_conf(store, "ApiGraphQLMaxFields 5")))
    big = " ".join("a%d: __typename" % i for i in range(10))
    q = "query Big { %s } query Small { environments { name } }" % big
    assert g.run(q, operation="Small") == {
        "environments": [{"name": "default"}]}
    e = refused(g.answer(g.post(q, operation="Big")))[0]
    assert "ApiGraphQLMaxFields" in e["message"], e

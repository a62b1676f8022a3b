# SetHandler apigw-openapi: the OpenAPI 3.1 document of a host's endpoints
# from a real httpd, validated against the official OpenAPI 3.1 schema
# (test/data/openapi-3.1-schema.json, python3-jsonschema): static
# endpoints with their path variables, methods, forwarded query strings
# and headers; runtime routes appearing and disappearing with the admin
# API; endpoints imported from a krakend.json; security schemes of JWT and
# API-key sections; hostile characters still valid JSON; 405 on POST; a
# virtual host's own and inherited endpoints; and `./apxs-build.sh openapi
# CONF` printing the same document.
import copy
import json
import os
import subprocess
import time

import jsonschema
import pytest
import requests

from auth_util import REALM, jwk, jwks, keys, write_file
from conftest import BUILD_SCRIPT, TOP, gateway_env
from test_admin_api import Admin, admin_conf, route, store_dir  # noqa: F401

SCHEMA_PATH = os.path.join(TOP, "test", "data", "openapi-3.1-schema.json")
DOC = "/openapi.json"
HANDLER = """
<Location "%s">
  SetHandler apigw-openapi
</Location>
""" % DOC


@pytest.fixture(scope="module")
def validator():
    with open(SCHEMA_PATH) as f:
        schema = json.load(f)
    assert schema["$id"] == "https://spec.openapis.org/oas/3.1/schema/2022-10-07"
    cls = jsonschema.validators.validator_for(schema)
    assert cls is jsonschema.Draft202012Validator
    cls.check_schema(schema)
    return cls(schema)


def problems(validator, doc):
    return ["%s: %s" % ("/".join(map(str, e.absolute_path)), e.message)
            for e in validator.iter_errors(doc)]


def fetch(gw, validator=None):
    r = requests.get(gw.url(DOC), timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    doc = json.loads(r.content.decode("utf-8"))
    if validator is not None:
        assert problems(validator, doc) == []
    return doc


def params(op, where):
    return [p["name"] for p in op.get("parameters", []) if p["in"] == where]


def refs(op):
    return {code: v.get("$ref", "").rsplit("/", 1)[-1]
            for code, v in op["responses"].items()}


STATIC = """
<ApiEndpoint "/v1/users/{{user}}/orders/{{order}}" GET DELETE>
  ApiBackend {b}/orders/{{order}}
  ApiInputQueryStrings view page
  ApiInputHeaders x-trace X-Tenant Authorization Accept Content-Type X-Trace
  ApiRequestBodyLimit 1024
</ApiEndpoint>
<ApiEndpoint "/v1/files/*" GET>
  ApiBackend {b}/files
  ApiInputQueryStrings *
  ApiInputHeaders *
</ApiEndpoint>
<ApiEndpoint "/v1/plain" POST PUT PATCH>
  ApiBackend {b}/plain
  ApiTimeout 1500ms
</ApiEndpoint>
"""


def test_the_validator_can_fail(validator):
    """A document the schema must refuse is refused: a path parameter not
    required, an unknown field, a parameter schema that is no schema
    (reached through $dynamicRef), another OpenAPI version."""
    good = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
            "paths": {"/a/{x}": {"get": {
                "parameters": [{"name": "x", "in": "path", "required": True,
                                "schema": {"type": "string"}}],
                "responses": {"default": {"description": "d"}}}}}}
    assert problems(validator, good) == []
    bad = copy.deepcopy(good)
    bad["paths"]["/a/{x}"]["get"]["parameters"][0]["required"] = False
    assert problems(validator, bad)
    bad = copy.deepcopy(good)
    bad["paths"]["/a/{x}"]["get"]["operationIdent"] = "x"
    assert problems(validator, bad)
    bad = copy.deepcopy(good)
    # the official schema checks a Schema Object only through $dynamicRef
    # "#meta" (an object or a boolean; the 2020-12 dialect is not fetched)
    bad["paths"]["/a/{x}"]["get"]["parameters"][0]["schema"] = 5
    assert problems(validator, bad)
    bad = copy.deepcopy(good)
    bad["openapi"] = "3.0.3"
    assert problems(validator, bad)


def test_static_endpoints(backend, gateway, validator):
    gw = gateway(STATIC.format(b=backend.url) + HANDLER)
    doc = fetch(gw, validator)
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"] == "127.0.0.1 API"
    assert sorted(doc["paths"]) == ["/v1/files/{rest}", "/v1/plain",
                                    "/v1/users/{user}/orders/{order}"]
    item = doc["paths"]["/v1/users/{user}/orders/{order}"]
    assert sorted(item) == ["delete", "get"]
    op = item["get"]
    assert op["operationId"] == "get_v1_users_user_orders_order"
    assert item["delete"]["operationId"] == "delete_v1_users_user_orders_order"
    assert params(op, "path") == ["user", "order"]
    assert all(p["required"] is True and p["schema"] == {"type": "string"}
               for p in op["parameters"] if p["in"] == "path")
    assert params(op, "query") == ["page", "view"]
    # Accept, Content-Type and Authorization are not header parameters
    assert params(op, "header") == ["X-Tenant", "X-Trace"]   # once each
    assert op["x-apigw-source"] == "%s:%d" % (gw.conf_path, gw.text.splitlines()
        .index('<ApiEndpoint "/v1/users/{user}/orders/{order}" GET DELETE>') + 1)
    assert op["tags"] == ["static"]
    r = refs(op)
    assert r["413"] == "PayloadTooLarge"
    assert r["502"] == "BadGateway" and r["503"] == "ServiceUnavailable"
    assert r["504"] == "GatewayTimeout"
    assert r["429"] == "TooManyRequests"     # mod_apigw_ratelimit is loaded
    assert "default" in op["responses"] and "401" not in r and "security" not in op
    # the wildcard: a path parameter of its own
    files = doc["paths"]["/v1/files/{rest}"]["get"]
    wild = [p for p in files["parameters"] if p["in"] == "path"]
    assert [p["name"] for p in wild] == ["rest"] and wild[0]["x-apigw-wildcard"]
    assert params(files, "query") == [] and params(files, "header") == []
    assert "Every query string parameter" in files["description"]
    assert "Every request header" in files["description"]
    assert "413" not in files["responses"]
    plain = doc["paths"]["/v1/plain"]
    assert sorted(plain) == ["patch", "post", "put"]
    assert plain["post"]["x-apigw-timeout-ms"] == 1500
    assert plain["post"]["parameters"] == []
    # the gateway's own answers, as the JSON error body it writes
    comp = doc["components"]
    err = comp["schemas"]["Error"]
    jsonschema.Draft202012Validator.check_schema(err)
    assert err["required"] == ["status", "error"]
    assert set(err["properties"]) == {"status", "error"}
    for name in ("MethodNotAllowed", "TooManyRequests", "BadGateway",
                 "ServiceUnavailable", "GatewayTimeout", "PayloadTooLarge"):
        assert comp["responses"][name]["content"]["application/json"][
            "schema"] == {"$ref": "#/components/schemas/Error"}, name
    assert set(comp["responses"]["TooManyRequests"]["headers"]) == {
        "Retry-After", "RateLimit", "RateLimit-Policy"}
    assert "securitySchemes" not in comp
    # what the components say is what the gateway writes: a 405 of an
    # endpoint's path is its JSON error; a path without an endpoint is
    # httpd's own 404 page
    r = requests.post(gw.url("/v1/files/x"), timeout=10)
    assert r.status_code == 405
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert body["status"] == 405 and isinstance(body["error"], str)
    assert set(body) == set(err["properties"])
    r = requests.get(gw.url("/v1/nothing"), timeout=10)
    assert r.status_code == 404
    assert list(comp["responses"]["NotFound"]["content"]) == ["text/html"]
    assert r.headers["Content-Type"].startswith("text/html")
    # deterministic: the same bytes again
    a = requests.get(gw.url(DOC), timeout=10).content
    assert requests.get(gw.url(DOC), timeout=10).content == a


def test_head_and_other_methods(backend, gateway):
    gw = gateway(STATIC.format(b=backend.url) + HANDLER)
    h = requests.head(gw.url(DOC), timeout=10)
    assert h.status_code == 200 and h.content == b""
    assert int(h.headers["Content-Length"]) == len(
        requests.get(gw.url(DOC), timeout=10).content)
    for method in ("POST", "PUT", "DELETE"):
        r = requests.request(method, gw.url(DOC), data=b"{}", timeout=10)
        assert r.status_code == 405, method
        assert "GET" in r.headers["Allow"]
    # elsewhere the handler is not in the way
    assert requests.get(gw.url("/other"), timeout=10).status_code == 404


def wait_doc(gw, pred, budget=5.0):
    deadline = time.monotonic() + budget
    while True:
        doc = fetch(gw)
        if pred(doc) or time.monotonic() > deadline:
            return doc
        time.sleep(0.02)


@pytest.fixture
def store(store_dir):  # noqa: F811
    return "sqlite3:" + os.path.join(store_dir, "routes.sqlite")


def test_runtime_routes_come_and_go(store, gateway, backend, validator):
    gw = gateway(admin_conf(store, HANDLER + """
<ApiEndpoint "/static/{id}" GET>
  ApiBackend %s/s/{id}
</ApiEndpoint>
""" % backend.url))
    admin = Admin(gw)
    doc = fetch(gw, validator)
    assert list(doc["paths"]) == ["/static/{id}"]
    limited = admin.register(route("/rt/items/{item}/*", backend.url + "/i/{item}",
                                   methods=["GET", "PUT"],
                                   rateLimit={"average": 5, "period": "1s"},
                                   queryPolicy={"mode": "allow",
                                                "names": ["q", "limit"]},
                                   bodyLimits={"requestBytes": 4096}))
    plain = admin.register(route("/rt/plain", backend.url + "/p",
                                 queryPolicy={"mode": "deny",
                                              "names": ["z", "secret"]}))
    doc = wait_doc(gw, lambda d: "/rt/plain" in d["paths"]
                   and "/rt/items/{item}/{rest}" in d["paths"])
    assert problems(validator, doc) == []
    item = doc["paths"]["/rt/items/{item}/{rest}"]
    assert sorted(item) == ["get", "put"]
    op = item["get"]
    assert op["x-apigw-route-id"] == limited["id"]
    assert op["x-apigw-environment"] == "default"
    assert op["tags"] == ["runtime"] and "x-apigw-source" not in op
    assert op["operationId"] == "get_route_" + limited["id"].replace("-", "_")
    assert params(op, "path") == ["item", "rest"]
    assert params(op, "query") == ["limit", "q"]
    r = refs(op)
    assert r["429"] == "TooManyRequests" and r["413"] == "PayloadTooLarge"
    # a route without a rate limit has no 429
    pop = doc["paths"]["/rt/plain"]["get"]
    assert pop["x-apigw-route-id"] == plain["id"]
    assert "429" not in pop["responses"] and "413" not in pop["responses"]
    assert "Every request header" in pop["description"]
    assert "forwarded to the backend but: secret,z." in pop["description"]
    assert params(pop, "query") == []
    assert "default" in doc["info"]["description"]
    # deleted: gone
    assert admin.delete("/routes/" + limited["id"]).status_code == 200
    doc = wait_doc(gw, lambda d: "/rt/items/{item}/{rest}" not in d["paths"])
    assert "/rt/items/{item}/{rest}" not in doc["paths"]
    assert sorted(doc["paths"]) == ["/rt/plain", "/static/{id}"]


def test_imported_krakend_endpoints(tmp_path, backend, gateway, validator):
    kd = os.path.join(str(tmp_path), "krakend.json")
    with open(kd, "w") as f:
        json.dump({"version": 3, "endpoints": [
            {"endpoint": "/kd/users/{id}", "input_headers": ["X-Tenant"],
             "input_query_strings": ["view"],
             "backend": [{"host": [backend.url], "url_pattern": "/u/{id}"}]},
            {"endpoint": "/kd/xml", "output_encoding": "xml",
             "backend": [{"host": [backend.url], "url_pattern": "/x"}]},
            {"endpoint": "/kd/raw", "method": "POST",
             "output_encoding": "no-op",
             "backend": [{"host": [backend.url], "url_pattern": "/raw",
                          "encoding": "no-op"}]}]}, f, indent=2)
    gw = gateway("ApiImportKrakenD %s\n" % kd + HANDLER)
    doc = fetch(gw, validator)
    op = doc["paths"]["/kd/users/{id}"]["get"]
    assert params(op, "path") == ["id"]
    assert params(op, "query") == ["view"]
    assert params(op, "header") == ["X-Tenant"]
    assert kd in op["x-apigw-source"]
    # KrakenD's endpoints are aggregated by the gateway: a JSON answer,
    # but for no-op ones, which pass the backend's answer through
    assert op["x-apigw-aggregate"] is True
    assert "application/json" in op["responses"]["200"]["content"]
    assert "default" not in op["responses"]
    xml = doc["paths"]["/kd/xml"]["get"]["responses"]["200"]
    assert list(xml["content"]) == ["application/xml"]
    assert list(doc["paths"]["/kd/raw"]) == ["post"]
    raw = doc["paths"]["/kd/raw"]["post"]
    assert raw["x-apigw-aggregate"] is True
    assert "default" in raw["responses"] and "200" not in raw["responses"]


def test_jwt_and_api_key_sections(backend, gateway, validator,
                                  world_readable_dir):
    K = keys()
    jwk_file = write_file(os.path.join(world_readable_dir, "keys.json"),
                          jwks(jwk(K.rsa, "rsa1")))
    key_file = write_file(os.path.join(world_readable_dir, "apikeys"),
                          "alice %s\n" % ("ab" * 32))
    gw = gateway("""
<ApiEndpoint "/jwt/{{id}}" GET>
  ApiBackend {b}/j/{{id}}
  AuthType jwt
  AuthName "{realm}"
  ApiJwtKeys file:{jwk}
  Require valid-user
</ApiEndpoint>
<ApiEndpoint "/key" POST>
  ApiBackend {b}/k
  AuthType apikey
  AuthName "{realm}"
  ApiKeyFile {keys}
  Require valid-user
</ApiEndpoint>
<ApiEndpoint "/open" GET>
  ApiBackend {b}/o
</ApiEndpoint>
""".format(b=backend.url, realm=REALM, jwk=jwk_file, keys=key_file) + HANDLER)
    # the endpoints really are protected
    assert requests.get(gw.url("/jwt/1"), timeout=10).status_code == 401
    assert requests.post(gw.url("/key"), timeout=10).status_code == 401
    doc = fetch(gw, validator)
    schemes = doc["components"]["securitySchemes"]
    assert schemes["jwt"] == {"type": "http", "scheme": "bearer",
                              "bearerFormat": "JWT",
                              "description": schemes["jwt"]["description"]}
    assert schemes["apiKey"]["type"] == "apiKey"
    assert schemes["apiKey"]["in"] == "header"
    assert schemes["apiKey"]["name"] == "X-API-Key"
    op = doc["paths"]["/jwt/{id}"]["get"]
    assert op["security"] == [{"jwt": []}]
    assert refs(op)["401"] == "Unauthorized" and refs(op)["403"] == "Forbidden"
    assert doc["paths"]["/key"]["post"]["security"] == [{"apiKey": []}]
    op = doc["paths"]["/open"]["get"]
    assert "security" not in op and "401" not in op["responses"]


def test_hostile_characters_are_escaped(backend, gateway, validator):
    # in httpd's quoted words \" is a quote and any other \ stays as it is
    gw = gateway("""
<ApiEndpoint "/h/q\\"uo<te>&\\back\xe9/{id}" GET>
  ApiBackend %s/h/{id}
  ApiInputQueryStrings "we\\"ird" "l\xe9t" "a\\b"
  ApiInputHeaders "X-A'b|c~"
</ApiEndpoint>
""" % backend.url + HANDLER)
    r = requests.get(gw.url(DOC), timeout=10)
    assert r.status_code == 200
    doc = json.loads(r.content.decode("utf-8"))     # valid UTF-8
    assert problems(validator, doc) == []
    assert list(doc["paths"]) == ['/h/q"uo<te>&\\back\xe9/{id}']
    op = doc["paths"]['/h/q"uo<te>&\\back\xe9/{id}']["get"]
    assert op["summary"] == 'GET /h/q"uo<te>&\\back\xe9/{id}'
    assert params(op, "query") == ['a\\b', 'l\xe9t', 'we"ird']
    assert params(op, "header") == ["X-A'b|c~"]
    assert op["operationId"] == "get_h_q_uo_te_back_id"
    # the gateway serves that very path
    assert requests.get(gw.url('/h/q%22uo%3Cte%3E&%5Cback%C3%A9/7'),
                        timeout=10).status_code == 200


def test_bytes_that_are_not_utf8(backend, gateway, validator, tmp_path):
    """A pattern with bytes that are not UTF-8 (a Latin-1 file): U+FFFD in
    the document, which stays valid."""
    conf = os.path.join(str(tmp_path), "latin1.conf")
    with open(conf, "wb") as f:
        f.write(b'<ApiEndpoint "/x/caf\xe9/\xff\xfe" GET>\n  ApiBackend '
                + backend.url.encode() + b'/x\n</ApiEndpoint>\n')
    gw = gateway("Include %s\n" % conf + HANDLER)
    r = requests.get(gw.url(DOC), timeout=10)
    doc = json.loads(r.content.decode("utf-8"))
    assert problems(validator, doc) == []
    assert list(doc["paths"]) == ["/x/caf\ufffd/\ufffd\ufffd"]


def test_virtual_host_own_and_inherited(backend, gateway, validator):
    gw = gateway("""
Listen 127.0.0.1:@PORT@
<ApiEndpoint "/main/only" GET>
  ApiBackend {b}/m
</ApiEndpoint>
<ApiEndpoint "/both" GET POST>
  ApiBackend {b}/main-both
</ApiEndpoint>
ApiOpenApiInfo "Main \\"API\\"" 9.9
<VirtualHost 127.0.0.1:@PORT@>
  ServerName api.example
  <ApiEndpoint "/both" GET>
    ApiBackend {b}/vhost-both
  </ApiEndpoint>
  <ApiEndpoint "/vhost/only" GET>
    ApiBackend {b}/v
  </ApiEndpoint>
  {h}
</VirtualHost>
""".format(b=backend.url, h=HANDLER))
    doc = fetch(gw, validator)
    # ApiOpenApiInfo of the main server, inherited
    assert doc["info"]["title"] == 'Main "API"'
    assert doc["info"]["version"] == "9.9"
    assert sorted(doc["paths"]) == ["/both", "/main/only", "/vhost/only"]
    both = doc["paths"]["/both"]
    # GET is the vhost's own; POST the main server's, inherited
    line = gw.text.splitlines().index('  <ApiEndpoint "/both" GET>') + 1
    assert both["get"]["x-apigw-source"] == "%s:%d" % (gw.conf_path, line)
    line = gw.text.splitlines().index('<ApiEndpoint "/both" GET POST>') + 1
    assert both["post"]["x-apigw-source"] == "%s:%d" % (gw.conf_path, line)
    # and the gateway serves exactly that
    assert requests.get(gw.url("/both"), timeout=10).json()["path"] == \
        "/vhost-both"
    assert requests.post(gw.url("/both"), timeout=10).json()["path"] == \
        "/main-both"


def test_command_prints_the_same_document(backend, gateway, validator):
    gw = gateway(STATIC.format(b=backend.url) + HANDLER)
    served = requests.get(gw.url(DOC), timeout=10).content.decode("utf-8")
    env = gateway_env()
    out = subprocess.run([BUILD_SCRIPT, "openapi", gw.conf_path], cwd=TOP,
                         env=env, capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr.decode()
    printed = out.stdout.decode("utf-8")
    assert problems(validator, json.loads(printed)) == []
    assert printed == served
    # the running gateway kept its port and still answers
    assert requests.get(gw.url(DOC), timeout=10).status_code == 200
    # a configuration with errors: the error, a failing exit
    bad = gw.conf_path + ".bad"
    with open(bad, "w") as f:
        f.write('<ApiEndpoint "nope" GET>\n  ApiBackend http://x/\n'
                '</ApiEndpoint>\n')
    out = subprocess.run([BUILD_SCRIPT, "openapi", bad], cwd=TOP, env=env,
                         capture_output=True, timeout=120)
    assert out.returncode != 0 and out.stdout == b""
    assert b"must start with '/'" in out.stderr
    assert bad.encode() in out.stderr


def test_info_directive(configtest, backend, gateway):
    gw = gateway(HANDLER + 'ApiOpenApiInfo "Orders API" 2.1.0\n'
                 "ApiErrorFormat krakend\n")
    info = fetch(gw)["info"]
    assert (info["title"], info["version"]) == ("Orders API", "2.1.0")
    assert "ApiErrorFormat krakend" in info["description"]
    for conf, needle in (
            ("ApiOpenApiInfo Only\n", "ApiOpenApiInfo takes two arguments"),
            ('ApiOpenApiInfo "" 1\n', "ApiOpenApiInfo takes two arguments"),
            ('<Location "/x">\n  ApiOpenApiInfo T 1\n</Location>\n',
             "not allowed in <Location> context")):
        ok, out = configtest(conf)
        assert not ok and needle in out, out
        assert "line %d of %s" % (configtest.line("ApiOpenApiInfo"),
                                  configtest.path) in out, out

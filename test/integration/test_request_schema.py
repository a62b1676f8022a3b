# ApiRequestSchema: request bodies checked against a JSON Schema (KrakenD's
# validation/json-schema). A body that matches reaches the backend byte
# for byte (mod_proxy pass-through, declared or chunked, and aggregating
# endpoints); one that does not, or is not JSON, or is empty, is answered
# 400 with the first mismatch and its JSON pointer, and no backend is
# called; one over the endpoint's limits 413. Access control and rate
# limits run first. Mistakes in a schema fail configtest at the
# directive's file and line.
import hashlib
import json
import os

import pytest
import requests

from conftest import raw_request
from test_config_errors import at

PERSON = ('{"type": "object", "properties": {"name": {"type": "string", '
          '"minLength": 1}, "age": {"type": "integer", "minimum": 0}, '
          '"tags": {"type": "array", "items": {"type": "string"}, '
          '"uniqueItems": true}}, "required": ["name"], '
          '"additionalProperties": false}')

PREFIX = "the request body does not match the endpoint's schema: "


def schema_conf(b, schema_path):
    return f"""
<ApiEndpoint "/v1/people" POST PUT>
  ApiBackend {b.url}/__digest/people
  ApiRequestSchema {PERSON}
</ApiEndpoint>
<ApiEndpoint "/v1/echo" POST>
  ApiBackend {b.url}/echo
  ApiRequestSchema {PERSON}
</ApiEndpoint>
<ApiEndpoint "/v1/both" POST>
  ApiBackend {b.url}/one group=one
  ApiBackend {b.url}/two group=two
  ApiRequestSchema {PERSON}
</ApiEndpoint>
<ApiEndpoint "/v1/number" POST>
  ApiBackend {b.url}/__digest/number
  ApiRequestSchema {{"type":"number"}}
</ApiEndpoint>
<ApiEndpoint "/v1/small" POST>
  ApiBackend {b.url}/__digest/small
  ApiRequestBodyLimit 64
  ApiRequestSchema true
</ApiEndpoint>
<ApiEndpoint "/v1/file" POST>
  ApiBackend {b.url}/__digest/file
  ApiRequestSchema file:{schema_path}
</ApiEndpoint>
<ApiEndpoint "/v1/closed" POST>
  ApiBackend {b.url}/__digest/closed
  ApiRequestSchema {PERSON}
  Require all denied
</ApiEndpoint>
<ApiEndpoint "/v1/limited" POST>
  ApiBackend {b.url}/__digest/limited
  ApiRequestSchema {PERSON}
  ApiRateLimit average=1 period=1m
</ApiEndpoint>
"""


@pytest.fixture
def schema_file(world_readable_dir):
    path = os.path.join(world_readable_dir, "order.schema.json")
    with open(path, "w") as f:
        json.dump({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$defs": {"line": {"type": "object", "required": ["sku", "qty"],
                               "properties": {"sku": {"type": "string",
                                                      "pattern": "^[A-Z]{3}-[0-9]+$"},
                                              "qty": {"type": "integer",
                                                      "exclusiveMinimum": 0}}}},
            "type": "object",
            "properties": {"lines": {"type": "array", "minItems": 1,
                                     "items": {"$ref": "#/$defs/line"}}},
            "required": ["lines"],
        }, f, indent=2)
    return path


@pytest.fixture
def gw(backend, gateway, schema_file):
    return gateway(schema_conf(backend, schema_file),
                   env={"APIGW_LOGLEVEL": "info"})


def expect_400(r, message):
    assert r.status_code == 400, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {"status": 400, "error": message}


def json_post(url, text, **kw):
    return requests.post(url, data=text.encode(),
                         headers={"Content-Type": "application/json"}, **kw)


def test_valid_body_reaches_the_backend_intact(backend, gw):
    text = ('{ "name" : "Zo\u00eb \\u00e9",\n  "age": 41, "tags": ["a", "b"]'
            '  }\n')
    r = json_post(gw.url("/v1/people"), text)
    assert r.status_code == 200, r.text
    assert r.json()["length"] == len(text.encode())
    assert r.json()["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    # PUT too, and a chunked body
    r = requests.put(gw.url("/v1/people"),
                     data=(p.encode() for p in ['{"name":', '"x"}']))
    assert r.status_code == 200, r.text
    assert r.json()["sha256"] == hashlib.sha256(b'{"name":"x"}').hexdigest()
    # the echo sees the body and its length as sent
    r = json_post(gw.url("/v1/echo"), text)
    assert r.status_code == 200, r.text
    assert r.json()["body"] == text
    assert r.json()["headers"]["Content-Length"] == str(len(text.encode()))


def test_valid_body_reaches_every_backend_of_an_aggregating_endpoint(backend, gw):
    text = '{"name": "agg", "tags": []}'
    r = json_post(gw.url("/v1/both"), text)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["one"]["body"] == text and doc["two"]["body"] == text
    assert doc["one"]["method"] == "POST" and doc["two"]["path"] == "/two"
    r = requests.post(gw.url("/v1/both"),
                      data=(p.encode() for p in ['{"name"', ':"c"}']))
    assert r.status_code == 200, r.text
    assert r.json()["two"]["body"] == '{"name":"c"}'


@pytest.mark.parametrize("path", ["/v1/people", "/v1/both"])
def test_invalid_body_is_refused_and_no_backend_called(backend, gw, path):
    before = backend.stats()["requests"]
    expect_400(json_post(gw.url(path), '{"name": 42}'),
               PREFIX + "/name: 42 is not of type string")
    expect_400(json_post(gw.url(path), '{"age": 3}'),
               PREFIX + '(root): the property "name" is required')
    expect_400(json_post(gw.url(path), '{"name": "a", "admin": true}'),
               PREFIX + '(root): the property "admin" is not allowed')
    expect_400(json_post(gw.url(path), '{"name": "a", "tags": ["x", 1]}'),
               PREFIX + "/tags/1: 1 is not of type string")
    expect_400(json_post(gw.url(path), '{"name": "a", "tags": ["x", "x"]}'),
               PREFIX + "/tags: items 0 and 1 are equal, and the items "
               "must be unique")
    expect_400(json_post(gw.url(path), '{"name": "", "age": -1}'),
               PREFIX + '/name: "" is shorter than 1 character')
    # never more than a short, escaped part of what was sent
    r = json_post(gw.url(path), json.dumps({"name": "n", "age": "s3cr3t" * 50}))
    expect_400(r, PREFIX + '/age: "s3cr3ts3cr3ts3cr3ts3cr3ts3cr3ts3..." is '
               'not of type integer')
    r = json_post(gw.url(path), json.dumps({"name": "n", "x\n\u00e9\"": 1}))
    expect_400(r, PREFIX + '(root): the property "x\\n\\u00E9\\"" is not '
               'allowed')
    assert backend.stats()["requests"] == before
    log = gw.error_log_text()
    assert "AGW00660" in log and "/name: 42 is not of type string" in log


def test_body_not_json_or_missing(backend, gw):
    before = backend.stats()["requests"]
    expect_400(requests.post(gw.url("/v1/people")),
               "the request body is empty")
    expect_400(json_post(gw.url("/v1/people"), "name=x"),
               "the request body is not valid JSON: a syntax error (at "
               "character 4)")
    expect_400(json_post(gw.url("/v1/people"), '{"name": "a"'),
               "the request body is not valid JSON: it ends before its "
               "value does (at character 12)")
    # a backend might read either: refused
    expect_400(json_post(gw.url("/v1/people"), '{"name": "a", "name": 1}'),
               "the request body is not valid JSON: an object repeats a key "
               "(at character 20)")
    expect_400(json_post(gw.url("/v1/people"), '{"name": "a"} {}'),
               "the request body is not valid JSON: something follows its "
               "value (at character 15)")
    # what the backend would decode is not what was checked
    r = requests.post(gw.url("/v1/people"), data=b'{"name":"a"}',
                      headers={"Content-Encoding": "gzip"})
    expect_400(r, "the request body has a Content-Encoding; the endpoint's "
               "schema checks plain JSON only")
    assert backend.stats()["requests"] == before


@pytest.mark.allow_log("AH01095", "AH02608", "AH01097")
def test_body_over_the_limits(backend, gw):
    before = backend.stats()["requests"]
    r = requests.post(gw.url("/v1/small"), data=b"[" + b"1," * 40 + b"1]")
    assert r.status_code == 413, r.text
    assert r.json()["status"] == 413
    r = requests.post(gw.url("/v1/small"),
                      data=(b"[1" + b",1" * 20 for _ in range(5)))
    assert r.status_code == 413, r.text
    # past what a schema check reads: refused on the declared length,
    # before a byte of the body
    resp = raw_request(gw.port, b"POST /v1/people HTTP/1.1\r\nHost: x\r\n"
                       b"Content-Type: application/json\r\n"
                       b"Content-Length: 16777217\r\n\r\n{")
    assert resp is not None and resp.status == 413
    assert "16777216 bytes" in resp.json()["error"]
    assert backend.stats()["requests"] == before
    r = requests.post(gw.url("/v1/small"), data=b"[1,2,3]")
    assert r.status_code == 200 and r.json()["length"] == 7
    assert "AGW00662" in gw.error_log_text()


def test_krakend_jsonschema_spec(backend, gw):
    # krakend-ce's jsonschema_1: {"foo":42} against {"type":"number"}
    expect_400(json_post(gw.url("/v1/number"), '{"foo":42}'),
               PREFIX + "(root): an object is not of type number")
    r = json_post(gw.url("/v1/number"), "42.5")
    assert r.status_code == 200 and r.json()["length"] == 4


def test_schema_from_a_file(backend, gw):
    r = json_post(gw.url("/v1/file"), '{"lines": [{"sku": "ABC-1", "qty": 2}]}')
    assert r.status_code == 200, r.text
    expect_400(json_post(gw.url("/v1/file"),
                         '{"lines": [{"sku": "ABC-1", "qty": 2}, '
                         '{"sku": "abc-2", "qty": 1}]}'),
               PREFIX + '/lines/1/sku: "abc-2" does not match the pattern '
               '^[A-Z]{3}-[0-9]+$')
    expect_400(json_post(gw.url("/v1/file"),
                         '{"lines": [{"sku": "ABC-1", "qty": 0}]}'),
               PREFIX + "/lines/0/qty: 0 is not greater than 0")


@pytest.mark.allow_log("AH01630")       # Require all denied
def test_access_control_and_rate_limits_come_first(backend, gw):
    before = backend.stats()["requests"]
    r = json_post(gw.url("/v1/closed"), "not json")
    assert r.status_code == 403, r.text
    r = json_post(gw.url("/v1/limited"), '{"name": "first"}')
    assert r.status_code == 200, r.text
    # the limit is spent: 429, however wrong the body
    r = json_post(gw.url("/v1/limited"), "not json")
    assert r.status_code == 429, r.text
    assert backend.stats()["requests"] == before + 1


def test_keep_alive_after_a_refusal(backend, gw):
    with requests.Session() as s:
        for _ in range(3):
            expect_400(s.post(gw.url("/v1/people"), data=b'{"name": 1}'),
                       PREFIX + "/name: 1 is not of type string")
            r = s.post(gw.url("/v1/people"), data=b'{"name": "ok"}')
            assert r.status_code == 200 and r.json()["length"] == 14


B = "http://127.0.0.1:9"        # never contacted: configtest only

CONFIG_CASES = [
    ("bad-json", '  ApiRequestSchema {"type": "object",}',
     ["ApiRequestSchema: not valid JSON at line 1"]),
    ("quoted", "  ApiRequestSchema '{\"type\": \"object\"}'",
     ["without quotes around it"]),
    ("unsupported-keyword",
     '  ApiRequestSchema {"properties": {"a": {"unevaluatedProperties": false}}}',
     ['at /properties/a: keyword "unevaluatedProperties" is not supported']),
    ("remote-ref",
     '  ApiRequestSchema {"$ref": "https://example.com/person.json"}',
     ['remote $ref "https://example.com/person.json" is not supported']),
    ("bad-pattern",
     '  ApiRequestSchema {"properties": {"a": {"pattern": "^(a"}}}',
     ["at /properties/a/pattern: the pattern", "does not compile"]),
    ("looping-ref", '  ApiRequestSchema {"$ref": "#"}',
     ["validation would never end"]),
    ("empty", "  ApiRequestSchema", ["ApiRequestSchema needs a JSON Schema"]),
    ("missing-file", "  ApiRequestSchema file:/nonexistent/s.json",
     ["ApiRequestSchema file:/nonexistent/s.json: cannot be opened"]),
    ("twice", '  ApiRequestSchema true\n  ApiRequestSchema {"type": "object"}',
     ["ApiRequestSchema is given twice"]),
]


@pytest.mark.parametrize("line,parts", [c[1:] for c in CONFIG_CASES],
                         ids=[c[0] for c in CONFIG_CASES])
def test_schema_mistakes_fail_configtest(configtest, line, parts):
    ok, out = configtest(f"""
<ApiEndpoint "/a" POST>
  ApiBackend {B}/a
{line}
</ApiEndpoint>
""")
    assert not ok, out
    last = line.strip().splitlines()[-1].strip()
    assert at(out, configtest.path, configtest.line(last)), out
    for part in parts:
        assert part in out, out


def test_schema_outside_an_endpoint_fails_configtest(configtest):
    ok, out = configtest('ApiRequestSchema {"type": "object"}\n')
    assert not ok and "ApiRequestSchema not allowed here" in out, out
    ok, out = configtest('<Location "/x">\n  ApiRequestSchema true\n'
                         '</Location>\n')
    assert not ok and "only allowed inside <ApiEndpoint>" in out, out
    assert at(out, configtest.path, configtest.line("ApiRequestSchema")), out


def test_valid_schemas_pass_configtest(configtest, schema_file):
    ok, out = configtest(f"""
<ApiEndpoint "/a" POST>
  ApiBackend {B}/a
  ApiRequestSchema {{"$schema": "http://json-schema.org/draft-07/schema#", "definitions": {{"s": {{"type": "string", "format": "email"}}}}, "type": "object", "properties": {{"e": {{"$ref": "#/definitions/s"}}}}, "x-owner": "team"}}
</ApiEndpoint>
<ApiEndpoint "/b" POST>
  ApiBackend {B}/b
  ApiRequestSchema file:{schema_file}
</ApiEndpoint>
<ApiEndpoint "/c" POST>
  ApiBackend {B}/c
  ApiBackend {B}/d
  ApiRequestSchema false
</ApiEndpoint>
""")
    assert ok, out

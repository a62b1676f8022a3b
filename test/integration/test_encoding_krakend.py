# Output encodings written as KrakenD writes them (the krakend-ce specs
# collection, xml_1, xml_2, negotitate_plain, negotitate_json, no-op_1):
# object keys in byte order at every depth (json, json-collection, xml,
# yaml) whatever the merge order; XML without a declaration or a final
# newline, as application/xml; negotiate over KrakenD's offers (text/plain
# is YAML) with q-values and Vary: Accept; no-op answers never complete.
# Bodies are compared byte for byte.
import json
from urllib.parse import quote

import pytest
import requests

from conftest import free_port

COMPLETED = "X-Krakend-Completed"

# test/conformance/mock_backend.py's /xml, as krakend-ce's integration.go
USER_XML = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<user type="admin">\n'
            '  <name>Elliot</name>\n'
            '  <social>\n'
            '    <youtube>https://youtube.com</youtube>\n'
            '    <facebook>https://facebook.com</facebook>\n'
            '    <twitter>https://twitter.com</twitter>\n'
            '  </social>\n'
            '</user>\n')

USER_JSON = ('{"user":{"-type":"admin","name":"Elliot","social":'
             '{"facebook":"https://facebook.com","twitter":'
             '"https://twitter.com","youtube":"https://youtube.com"}}}')
USER_YAML = ("user:\n"
             "  -type: admin\n"
             "  name: Elliot\n"
             "  social:\n"
             "    facebook: https://facebook.com\n"
             "    twitter: https://twitter.com\n"
             "    youtube: https://youtube.com\n")
USER_XML_OUT = ('<user type="admin"><name>Elliot</name><social>'
                '<facebook>https://facebook.com</facebook>'
                '<twitter>https://twitter.com</twitter>'
                '<youtube>https://youtube.com</youtube></social></user>')


def reply(b, body, status=200, ctype=None):
    """A backend URL answering body (a dict, list or text) as it is."""
    text = body if isinstance(body, str) else json.dumps(body)
    url = "%s/__reply/%d/0/%s" % (b.url, status, quote(text, safe=""))
    return url + ("?ctype=" + quote(ctype, safe="") if ctype else "")


def get(gw, path, **kw):
    kw.setdefault("timeout", 10)
    return requests.get(gw.url(path), **kw)


# ---------------------------------------------------------------- key order

def test_json_keys_sorted_at_every_depth(backend, gateway):
    posts = [{"path": "/collection/2", "i": i} for i in range(3)]
    gw = gateway(f"""
ApiCompletedHeader {COMPLETED}
<ApiEndpoint "/combination">
  ApiBackend {reply(backend, posts)} collection mapping=collection:posts
  ApiBackend {reply(backend, {"zz": 1, "foo": 42})} allow=foo
  ApiCacheTTL 3600s
</ApiEndpoint>
<ApiEndpoint "/conflict">
  ApiBackend {reply(backend, {"b": 1, "shared": "first", "a": {"z": 1, "y": 2}})}
  ApiBackend {reply(backend, {"shared": "second", "c": [{"k": 1, "j": {"2": 0, "10": 1}}]})}
  ApiStatic {{"B": true, "_": null}}
</ApiEndpoint>
<ApiEndpoint "/collection">
  ApiBackend {reply(backend, [{"b": 1, "a": {"d": 1, "c": 2}}])} collection
  ApiOutputEncoding json-collection
</ApiEndpoint>
""")
    # the krakend-ce spec "collection": foo before posts
    r = get(gw, "/combination")
    assert r.status_code == 200, r.text
    assert r.text == ('{"foo":42,"posts":[{"i":0,"path":"/collection/2"},'
                      '{"i":1,"path":"/collection/2"},'
                      '{"i":2,"path":"/collection/2"}]}')
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert r.headers[COMPLETED] == "true"
    assert r.headers["Cache-Control"] == "public, max-age=3600"
    # the later backend still wins a key; where it is written is sorted
    # (bytewise: upper case before '_' before lower case, "10" before "2")
    r = get(gw, "/conflict")
    assert r.text == ('{"B":true,"_":null,"a":{"y":2,"z":1},"b":1,'
                      '"c":[{"j":{"10":1,"2":0},"k":1}],"shared":"second"}')
    r = get(gw, "/collection")
    assert r.text == '[{"a":{"c":2,"d":1},"b":1}]'


def test_yaml_keys_sorted(backend, gateway):
    gw = gateway(f"""
<ApiEndpoint "/y">
  ApiBackend {reply(backend, {"z": {"b": [1, {"q": 1, "p": 2}], "a": "https://h/p?q=1"}})}
  ApiBackend {reply(backend, {"m": "-", "-k": "v"})}
  ApiOutputEncoding yaml
</ApiEndpoint>
""")
    r = get(gw, "/y")
    assert r.headers["Content-Type"] == "application/yaml; charset=utf-8"
    assert r.text == ('-k: v\n'
                      'm: "-"\n'
                      'z:\n'
                      '  a: https://h/p?q=1\n'
                      '  b:\n'
                      '    - 1\n'
                      '    - p: 2\n'
                      '      q: 1\n')


# ---------------------------------------------------------------- XML

def test_xml_as_krakend_writes_it(backend, gateway):
    gw = gateway(f"""
ApiCompletedHeader {COMPLETED}
<ApiEndpoint "/xml/xml">
  ApiBackend {reply(backend, USER_XML, ctype="application/xml; charset=utf-8")} encoding=xml
  ApiOutputEncoding xml
  ApiCacheTTL 3600s
</ApiEndpoint>
<ApiEndpoint "/xml/json">
  ApiBackend {reply(backend, {"query": {}, "path": "/p/", "headers": {"X-B": "2", "Accept-Encoding": "gzip"}, "foo": 42})}
  ApiOutputEncoding xml
</ApiEndpoint>
""")
    # xml_1: an XML backend, its single key the root
    r = get(gw, "/xml/xml")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/xml"
    assert r.headers[COMPLETED] == "true"
    assert r.headers["Cache-Control"] == "public, max-age=3600"
    assert r.text == USER_XML_OUT
    # xml_2: a JSON backend, several keys under <doc>, in byte order
    r = get(gw, "/xml/json")
    assert r.headers["Content-Type"] == "application/xml"
    assert r.text == ('<doc><foo>42</foo><headers><Accept-Encoding>gzip'
                      '</Accept-Encoding><X-B>2</X-B></headers><path>/p/'
                      '</path><query/></doc>')


# ---------------------------------------------------------------- negotiate

@pytest.mark.parametrize("accept,ctype,body", [
    # negotitate_plain and negotitate_json
    ("text/plain", "application/yaml; charset=utf-8", USER_YAML),
    ("application/json; charset=utf-8", "application/json; charset=utf-8",
     USER_JSON),
    ("application/xml", "application/xml", USER_XML_OUT),
    ("application/x-yaml", "application/yaml; charset=utf-8", USER_YAML),
    ("text/*", "application/yaml; charset=utf-8", USER_YAML),
    ("*/*", "application/json; charset=utf-8", USER_JSON),
    (None, "application/json; charset=utf-8", USER_JSON),
    # not among KrakenD's offers: JSON, as KrakenD answers
    ("application/yaml", "application/json; charset=utf-8", USER_JSON),
    ("text/xml", "application/json; charset=utf-8", USER_JSON),
    ("text/html", "application/json; charset=utf-8", USER_JSON),
    # q-values decide (KrakenD would take the first range)
    ("text/plain;q=0.5, application/xml", "application/xml", USER_XML_OUT),
    ("application/xml;q=0.1, application/x-yaml;q=0.9",
     "application/yaml; charset=utf-8", USER_YAML),
    ("*/*;q=0.5, application/json;q=0", "application/yaml; charset=utf-8",
     USER_YAML),
])
def test_negotiate_krakend_offers(backend, gateway, accept, ctype, body):
    gw = gateway(f"""
<ApiEndpoint "/negotiate">
  ApiBackend {reply(backend, USER_XML, ctype="application/xml")} encoding=xml
  ApiOutputEncoding negotiate
</ApiEndpoint>
""")
    headers = {"Accept": accept} if accept else {}
    r = get(gw, "/negotiate", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == ctype
    assert r.text == body
    assert "Accept" in [v.strip() for v in r.headers["Vary"].split(",")]


# ---------------------------------------------------------------- no-op

def test_noop_answer_never_complete(backend, gateway):
    body = '{"foo":42,"query":{}}\n'
    cookies = "%s/__headers/200/2/Set-Cookie/test1=test1/set-cookie/test2=test2/p" % backend.url
    # ApiSequential makes the gateway call the backend itself (as
    # ApiImportKrakenD's endpoints are) rather than mod_proxy
    gw = gateway(f"""
ApiCompletedHeader {COMPLETED}
<ApiEndpoint "/no-op/ok" POST>
  ApiBackend {reply(backend, body, ctype="application/json")}
  ApiOutputEncoding no-op
  ApiSequential on
</ApiEndpoint>
<ApiEndpoint "/no-op/cookies">
  ApiBackend {cookies}
  ApiOutputEncoding no-op
  ApiSequential on
</ApiEndpoint>
<ApiEndpoint "/no-op/404">
  ApiBackend {reply(backend, "404 page not found", status=404, ctype="text/plain")}
  ApiOutputEncoding no-op
  ApiSequential on
</ApiEndpoint>
<ApiEndpoint "/no-op/ttl">
  ApiBackend {reply(backend, body)}
  ApiOutputEncoding no-op
  ApiSequential on
  ApiCacheTTL 60s
</ApiEndpoint>
""")
    # no-op_1: the backend's body and Content-Type as they are, incomplete,
    # no Cache-Control
    r = requests.post(gw.url("/no-op/ok"), timeout=10)
    assert r.status_code == 200, r.text
    assert r.text == body
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers[COMPLETED] == "false"
    assert "Cache-Control" not in r.headers
    # both cookies, each its own header
    r = get(gw, "/no-op/cookies")
    assert r.status_code == 200
    assert sorted(r.raw.headers.getlist("Set-Cookie")) == ["test1=test1",
                                                           "test2=test2"]
    assert r.headers[COMPLETED] == "false"
    # a failing status passes through, incomplete as well
    r = get(gw, "/no-op/404")
    assert r.status_code == 404
    assert r.text == "404 page not found"
    assert r.headers[COMPLETED] == "false"
    # ApiCacheTTL (never on imported no-op endpoints) still marks a 2xx
    r = get(gw, "/no-op/ttl")
    assert r.headers[COMPLETED] == "false"
    assert r.headers["Cache-Control"] == "public, max-age=60"


def test_noop_failure_incomplete_with_krakend_errors(backend, gateway):
    dead = free_port()
    gw = gateway(f"""
ApiCompletedHeader {COMPLETED}
<ApiEndpoint "/no-op/ko">
  ApiBackend http://127.0.0.1:{dead}/unknown
  ApiOutputEncoding no-op
  ApiSequential on
  ApiErrorFormat krakend
</ApiEndpoint>
""")
    r = get(gw, "/no-op/ko")
    assert r.status_code >= 500
    assert r.headers[COMPLETED] == "false"

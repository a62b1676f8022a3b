# What the backend is asked for: ApiBackend method= overrides, URL
# templates with variables in the path and the query, percent-encoding of
# every variable value, and the paths that must never reach a backend
# (dot segments, encoded slashes, control characters).
import pytest
import requests


def conf(b, extra=""):
    return f"""
{extra}
<ApiEndpoint "/v1/users/{{user}}">
  ApiBackend {b.url}/users/{{user}}
</ApiEndpoint>
<ApiEndpoint "/v1/users/{{user}}/profile">
  ApiBackend {b.url}/profiles/{{user}}
</ApiEndpoint>
<ApiEndpoint "/v1/files/*">
  ApiBackend {b.url}/files/{{*}}
</ApiEndpoint>
<ApiEndpoint "/v1/search/{{term}}">
  ApiBackend {b.url}/search?q={{term}}&exact=1
</ApiEndpoint>
<ApiEndpoint "/v1/lookup/{{id}}">
  ApiBackend {b.url}/lookup/{{id}} method=POST
</ApiEndpoint>
<ApiEndpoint "/v1/replace/{{id}}" POST>
  ApiBackend {b.url}/replace/{{id}} method=put
</ApiEndpoint>
<ApiEndpoint "/v1/{{org}}/members/{{user}}">
  ApiBackend {b.url}/api/v2/{{org}}/repos?owner={{user}}&again={{user}}&type=all
</ApiEndpoint>
<ApiEndpoint "/v1/root">
  ApiBackend {b.url}?fixed=1
</ApiEndpoint>
<ApiEndpoint "/v1/anyq/{{v}}">
  ApiBackend {b.url}/anyq/{{v}}
  ApiInputQueryStrings *
</ApiEndpoint>
"""


def echo_of(resp):
    assert resp is not None, "no HTTP answer"
    assert resp.status == 200, (resp.status, resp.body)
    return resp.json()


def test_backend_method_override(backend, gateway):
    gw = gateway(conf(backend))
    doc = requests.get(gw.url("/v1/lookup/9")).json()
    assert (doc["method"], doc["path"]) == ("POST", "/lookup/9")
    assert doc["body"] == ""
    doc = requests.post(gw.url("/v1/replace/3"), data=b'{"name":"x"}',
                        headers={"Content-Type": "application/json"}).json()
    assert (doc["method"], doc["path"], doc["body"]) == ("PUT", "/replace/3",
                                                         '{"name":"x"}')
    assert doc["headers"]["Content-Type"] == "application/json"
    # the override is per request: the client's method still selects
    r = requests.post(gw.url("/v1/lookup/9"))
    assert r.status_code == 405 and r.headers["Allow"] == "GET, HEAD"


def test_templates_with_vars_in_path_and_query(backend, gateway):
    gw = gateway(conf(backend))
    doc = requests.get(gw.url("/v1/acme/members/alice")).json()
    assert doc["path"] == "/api/v2/acme/repos"
    assert doc["query"] == "owner=alice&again=alice&type=all"
    doc = requests.get(gw.url("/v1/search/shoes")).json()
    assert (doc["path"], doc["query"]) == ("/search", "q=shoes&exact=1")
    doc = requests.get(gw.url("/v1/root")).json()
    assert (doc["path"], doc["query"]) == ("/", "fixed=1")


ENCODING_CASES = [
    ("a%20b", "a%20b"),                 # space
    ("%C3%A9t%C3%A9", "%C3%A9t%C3%A9"),  # unicode, UTF-8 bytes
    ("a%3Fb", "a%3Fb"),                 # ?
    ("a%23b", "a%23b"),                 # #
    ("100%25", "100%25"),               # %
    ("%2525", "%2525"),                 # a literal "%25" stays literal
    ("a+b", "a%2Bb"),                   # +
    ("a;b=c", "a%3Bb%3Dc"),             # ; and =
    ("a&b", "a%26b"),
    ("a:b@c!$'()*,", "a%3Ab%40c%21%24%27%28%29%2A%2C"),
    ("%22%3C%3E%5C%5E%60%7B%7C%7D", "%22%3C%3E%5C%5E%60%7B%7C%7D"),
    ("A-z_0.9~", "A-z_0.9~"),           # unreserved stay as they are
    ("%41%62", "Ab"),                   # needless escapes are decoded
]


def test_variable_values_are_percent_encoded(backend, gateway, raw):
    gw = gateway(conf(backend))
    wrong = []
    for sent, expected in ENCODING_CASES:
        got = [
            echo_of(raw(gw.port, "/v1/users/" + sent))["path"],
            echo_of(raw(gw.port, "/v1/search/" + sent))["query"],
            echo_of(raw(gw.port, "/v1/files/x/" + sent + "/y"))["path"],
        ]
        want = ["/users/" + expected, "q=%s&exact=1" % expected,
                "/files/x/%s/y" % expected]
        if got != want:
            wrong.append((sent, got, want))
    assert not wrong, "\n".join("%s: got %s, want %s" % w for w in wrong)


TRAVERSALS = [
    "/v1/users/..",
    "/v1/users/.",
    "/v1/users/%2e%2e",
    "/v1/users/%2E",
    "/v1/users/../../etc/passwd",
    "/v1/users/a%2Fb",
    "/v1/users/..%2F..%2Fadmin",
    "/v1/users/..%2fprofile/profile",
    "/v1/files/../../secret",
    "/v1/files/a/%2e%2e/%2e%2e/%2e%2e/secret",
    "/v1/files/a%2F..%2F..%2Fsecret",
    "/v1/users/%00",
    "/../v1/users/x",
]


@pytest.mark.allow_log("AH10244")       # core: invalid URI path (/../...)
def test_dot_segments_and_encoded_slashes_never_reach_a_backend(
        backend, gateway, raw):
    gw = gateway(conf(backend))
    wrong = []
    for target in TRAVERSALS:
        before = backend.stats()["requests"]
        resp = raw(gw.port, target)
        contacted = backend.stats()["requests"] - before
        if resp is None or resp.status not in (400, 404) or contacted:
            wrong.append((target, resp and resp.status,
                          resp and resp.body[:200], contacted))
        elif resp.headers.get("content-type") == "application/json":
            assert resp.json()["status"] == resp.status
    assert not wrong, "\n".join("%s: status %s body %r, backend contacted %d "
                                 "times" % w for w in wrong)


def test_dot_segments_in_the_wildcard_stay_under_its_prefix(backend, gateway, raw):
    gw = gateway(conf(backend))
    doc = echo_of(raw(gw.port, "/v1/files/a/b/../c"))
    assert doc["path"] == "/files/a/c"
    doc = echo_of(raw(gw.port, "/v1/files/a/./b/%2e/c"))
    assert doc["path"] == "/files/a/b/c"


@pytest.mark.parametrize("setting", ["On", "NoDecode"])
def test_encoded_slashes_allowed_by_httpd_still_cannot_escape(
        backend, gateway, raw, setting):
    gw = gateway(conf(backend, "AllowEncodedSlashes %s" % setting))
    for target in ("/v1/users/..%2Fadmin", "/v1/users/..%2F..%2Fadmin",
                   "/v1/users/..%2fprofile/profile",
                   "/v1/files/a%2F..%2F..%2Fsecret",
                   "/v1/files/%2e%2e%2F%2e%2e%2Fsecret",
                   "/v1/search/..%2F..%2Fx"):
        before = backend.stats()["requests"]
        resp = raw(gw.port, target)
        assert resp is not None, target
        if resp.status == 200:
            doc = resp.json()
            # an encoded slash may only arrive encoded, inside its segment
            path = doc["path"]
            assert path.startswith(("/users/", "/profiles/", "/files/",
                                    "/search")), (target, path)
            assert ".." not in path.split("/"), (target, path)
            if path.startswith(("/users/", "/profiles/")):
                assert path.count("/") == 2, (target, path)
            continue
        assert resp.status in (400, 404), (target, resp.status, resp.body)
        assert backend.stats()["requests"] == before, target


CONTROL_CHARS = [
    "/v1/users/a%0d%0aX-Injected:%20yes",
    "/v1/users/a%0ab",
    "/v1/users/a%09b",
    "/v1/users/a%7fb",
    "/v1/users/%1b",
    "/v1/users/a%0d%0a/profile",
    "/v1/files/x/a%0d%0aX-Injected:%20yes/y",
    "/v1/search/a%0d%0aX-Injected:%20yes",
]


def test_control_characters_are_a_400_json(backend, gateway, raw):
    gw = gateway(conf(backend))
    wrong = []
    for target in CONTROL_CHARS:
        before = backend.stats()["requests"]
        resp = raw(gw.port, target)
        contacted = backend.stats()["requests"] - before
        ok = (resp is not None and resp.status == 400 and not contacted
              and resp.headers.get("content-type") == "application/json"
              and resp.json()["status"] == 400 and resp.json()["error"])
        if not ok:
            wrong.append((target, resp and resp.status,
                          resp and resp.body[:200], contacted))
    assert not wrong, "\n".join("%s: status %s body %r, backend contacted %d "
                                 "times" % w for w in wrong)


def test_crlf_in_a_forwarded_query_stays_encoded(backend, gateway, raw):
    gw = gateway(conf(backend))
    doc = echo_of(raw(gw.port, "/v1/anyq/v?x=a%0d%0aX-Injected:%20yes&y=%00"))
    assert doc["query"] == "x=a%0d%0aX-Injected:%20yes&y=%00"
    assert "X-Injected" not in doc["headers"]
    for k, v in doc["headers"].items():
        assert "\r" not in k + v and "\n" not in k + v


def test_a_400_answer_consumes_the_request_body(backend, gateway, pipeline):
    gw = gateway(conf(backend))
    smuggled = b"GET /v1/users/smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
    req = (b"POST /v1/replace/a%%0d%%0ab HTTP/1.1\r\nHost: x\r\n"
           b"Content-Length: %d\r\n\r\n" % len(smuggled) + smuggled +
           b"GET /v1/users/real HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    before = backend.stats()["requests"]
    responses = pipeline(gw.port, req, expect=2)
    assert responses[0].status == 400 and responses[0].json()["status"] == 400
    # httpd may close the connection after a 400; if it goes on, the next
    # request is the real one, never the body
    assert [r.status for r in responses] in ([400], [400, 200])
    if len(responses) == 2:
        assert responses[1].json()["path"] == "/users/real"
    assert backend.stats()["requests"] == before + len(responses) - 1


def test_long_values_and_odd_queries(backend, gateway, raw):
    gw = gateway(conf(backend))
    unreserved = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     b"0123456789-._~")
    octets = [c for c in range(0x20, 0x100) if c not in (0x2F, 0x7F)] * 10
    value = "".join("%%%02X" % c for c in octets)          # 2,360 octets
    expected = "".join(chr(c) if c in unreserved else "%%%02X" % c
                       for c in octets)
    doc = echo_of(raw(gw.port, "/v1/users/" + value))
    assert doc["path"] == "/users/" + expected
    doc = echo_of(raw(gw.port, "/v1/search/" + value))
    assert doc["query"] == "q=%s&exact=1" % expected
    for query in ("%", "%6", "&&&", "=", "a", "a=", "%zz=1", "+=+",
                  "x=" + "%41" * 2000, "&".join("p%d=%d" % (i, i) for i in range(500))):
        doc = echo_of(raw(gw.port, "/v1/anyq/v?" + query))
        assert doc["query"] == query

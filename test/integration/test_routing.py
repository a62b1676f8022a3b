# Routing of <ApiEndpoint>: static paths, {vars}, the /* wildcard, match
# priority, case and trailing-slash strictness, methods (default GET, lists,
# HEAD on GET), 405 answers, and paths no endpoint claims falling through to
# the rest of httpd (a ProxyPass beside the endpoints, httpd's own 404).
import requests


def routes_conf(b):
    return f"""
<ApiEndpoint "/v1/status">
  ApiBackend {b.url}/status
</ApiEndpoint>
<ApiEndpoint "/v1/users/{{user}}">
  ApiBackend {b.url}/users/{{user}}
</ApiEndpoint>
<ApiEndpoint "/v1/users/me">
  ApiBackend {b.url}/whoami
</ApiEndpoint>
<ApiEndpoint "/v1/users/{{user}}/orders/{{order}}">
  ApiBackend {b.url}/orders/{{order}}/of/{{user}}
</ApiEndpoint>
<ApiEndpoint "/v1/files/*">
  ApiBackend {b.url}/files/{{*}}
</ApiEndpoint>
<ApiEndpoint "/v1/slash/">
  ApiBackend {b.url}/slash-endpoint
</ApiEndpoint>
<ApiEndpoint "/v1/items/{{id}}" GET PUT DELETE>
  ApiBackend {b.url}/items/{{id}}
</ApiEndpoint>
<ApiEndpoint "/v1/items" POST>
  ApiBackend {b.url}/items
</ApiEndpoint>
<ApiEndpoint "/v1/things/{{id}}">
  ApiBackend {b.url}/things/{{id}}/read
</ApiEndpoint>
<ApiEndpoint "/v1/things/{{id}}" POST>
  ApiBackend {b.url}/things/{{id}}/write
</ApiEndpoint>
<ApiEndpoint "/v1/reports/report.{{fmt}}">
  ApiBackend {b.url}/reports/{{fmt}}
  ApiDisableRest on
</ApiEndpoint>
<ApiEndpoint "/v1/reports/{{name}}">
  ApiBackend {b.url}/reports/by-name/{{name}}
</ApiEndpoint>

ProxyPass "/legacy/" "{b.url}/legacy-app/"
"""


def echo(resp):
    assert resp.status_code == 200, resp.text
    assert resp.headers["X-Backend"] == "backend"
    return resp.json()


def test_static_var_multi_var_and_wildcard(backend, gateway):
    gw = gateway(routes_conf(backend))
    doc = echo(requests.get(gw.url("/v1/status")))
    assert (doc["method"], doc["path"], doc["query"]) == ("GET", "/status", "")

    assert echo(requests.get(gw.url("/v1/users/alice")))["path"] == "/users/alice"
    assert echo(requests.get(
        gw.url("/v1/users/alice/orders/42")))["path"] == "/orders/42/of/alice"

    assert echo(requests.get(gw.url("/v1/files/a")))["path"] == "/files/a"
    assert echo(requests.get(
        gw.url("/v1/files/a/b/c.txt")))["path"] == "/files/a/b/c.txt"
    # the wildcard also takes an empty tail, but not the bare prefix
    assert echo(requests.get(gw.url("/v1/files/")))["path"] == "/files/"
    before = backend.stats()["requests"]
    r = requests.get(gw.url("/v1/files"))
    assert r.status_code == 404
    assert backend.stats()["requests"] == before


def test_static_segment_wins_over_variable(backend, gateway):
    gw = gateway(routes_conf(backend))
    assert echo(requests.get(gw.url("/v1/users/me")))["path"] == "/whoami"
    assert echo(requests.get(gw.url("/v1/users/mee")))["path"] == "/users/mee"
    assert echo(requests.get(gw.url("/v1/users/m")))["path"] == "/users/m"
    # "me" has no /orders below it: the match backtracks to {user}
    assert echo(requests.get(
        gw.url("/v1/users/me/orders/5")))["path"] == "/orders/5/of/me"


def test_variable_inside_a_segment_with_api_disable_rest(backend, gateway):
    gw = gateway(routes_conf(backend))
    assert echo(requests.get(gw.url("/v1/reports/report.csv")))["path"] == "/reports/csv"
    assert echo(requests.get(gw.url("/v1/reports/report.tar.gz")))["path"] == \
        "/reports/tar.gz"
    # an empty {fmt} does not match: the plain {name} takes it
    assert echo(requests.get(gw.url("/v1/reports/report.")))["path"] == \
        "/reports/by-name/report."
    assert echo(requests.get(gw.url("/v1/reports/summary")))["path"] == \
        "/reports/by-name/summary"


def test_paths_are_case_sensitive_and_trailing_slash_strict(backend, gateway):
    gw = gateway(routes_conf(backend))
    before = backend.stats()["requests"]
    for path in ("/V1/status", "/v1/Status", "/v1/STATUS", "/v1/status/",
                 "/v1/users/alice/", "/v1/users/", "/v1/slash",
                 "/v1/users/alice/orders/42/", "/v1/users/alice/orders"):
        r = requests.get(gw.url(path))
        assert r.status_code == 404, path
    assert backend.stats()["requests"] == before
    # the endpoint declared with a trailing slash answers only with it
    assert echo(requests.get(gw.url("/v1/slash/")))["path"] == "/slash-endpoint"


def test_default_method_is_get(backend, gateway, json_error):
    gw = gateway(routes_conf(backend))
    assert echo(requests.get(gw.url("/v1/status")))["method"] == "GET"
    before = backend.stats()["requests"]
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        r = requests.request(method, gw.url("/v1/status"))
        doc = json_error(r, 405)
        assert r.headers["Allow"] == "GET, HEAD"
        assert method in doc["error"]
        assert doc == {"status": 405, "error": doc["error"]}
    assert backend.stats()["requests"] == before


def test_several_methods_in_one_block(backend, gateway, json_error):
    gw = gateway(routes_conf(backend))
    for method in ("GET", "PUT", "DELETE"):
        doc = echo(requests.request(method, gw.url("/v1/items/7"), data=b"x"
                                    if method == "PUT" else None))
        assert (doc["method"], doc["path"]) == (method, "/items/7")
    r = requests.post(gw.url("/v1/items/7"), data=b"{}")
    json_error(r, 405)
    assert r.headers["Allow"] == "DELETE, GET, HEAD, PUT"
    r = requests.patch(gw.url("/v1/items/7"))
    json_error(r, 405)
    assert r.headers["Allow"] == "DELETE, GET, HEAD, PUT"
    # a POST-only endpoint: no HEAD in Allow, GET refused
    r = requests.get(gw.url("/v1/items"))
    json_error(r, 405)
    assert r.headers["Allow"] == "POST"
    assert echo(requests.post(gw.url("/v1/items"), json={"a": 1}))["method"] == "POST"
    # one path, methods in two blocks: each goes its way, Allow has both
    assert echo(requests.get(gw.url("/v1/things/1")))["path"] == "/things/1/read"
    assert echo(requests.post(gw.url("/v1/things/1")))["path"] == "/things/1/write"
    r = requests.options(gw.url("/v1/things/1"))
    json_error(r, 405)
    assert r.headers["Allow"] == "GET, HEAD, POST"


def test_head_on_a_get_endpoint(backend, gateway, raw):
    gw = gateway(routes_conf(backend))
    before = backend.stats()["requests"]
    r = requests.head(gw.url("/v1/users/bob"))
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["X-Backend"] == "backend"
    assert r.headers["Content-Type"] == "application/json"
    assert backend.stats()["requests"] == before + 1
    # on the wire: a head, no body
    resp = raw(gw.port, "/v1/users/bob", method="HEAD")
    assert resp.status == 200 and resp.body == b""
    # HEAD where only POST is declared: 405, Allow, no body
    resp = raw(gw.port, "/v1/items", method="HEAD")
    assert resp.status == 405
    assert resp.headers["allow"] == "POST"
    assert resp.headers["content-type"] == "application/json"
    assert resp.body == b""


def test_405_answer_is_json(backend, gateway):
    gw = gateway(routes_conf(backend))
    r = requests.delete(gw.url("/v1/users/alice"))
    assert r.status_code == 405
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["Allow"] == "GET, HEAD"
    doc = r.json()
    assert set(doc) == {"status", "error"}
    assert doc["status"] == 405
    assert "DELETE" in doc["error"]


def test_other_paths_fall_through_to_httpd(backend, gateway):
    gw = gateway(routes_conf(backend))
    # a ProxyPass beside the endpoints still works, with the client's
    # headers and query untouched by the endpoints' allow-lists
    r = requests.get(gw.url("/legacy/page?a=1&b=2"), headers={"X-Custom": "kept"})
    doc = echo(r)
    assert doc["path"] == "/legacy-app/page"
    assert doc["query"] == "a=1&b=2"
    assert doc["headers"]["X-Custom"] == "kept"
    r = requests.post(gw.url("/legacy/form"), data=b"payload")
    doc = echo(r)
    assert (doc["method"], doc["body"]) == ("POST", "payload")
    # anything else is httpd's own 404 page, not the gateway's JSON
    before = backend.stats()["requests"]
    r = requests.get(gw.url("/nothing/here"))
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("text/html")
    r = requests.post(gw.url("/v2/users/alice"))
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("text/html")
    assert backend.stats()["requests"] == before


def test_a_refused_request_body_is_not_read_as_a_request(backend, gateway, pipeline):
    """A 405 answered before the body is read must still consume it: on a
    kept-alive connection the body is not the next request."""
    gw = gateway(routes_conf(backend))
    smuggled = (b"GET /v1/users/smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
    req = (b"POST /v1/status HTTP/1.1\r\nHost: x\r\n"
           b"Content-Type: text/plain\r\n"
           b"Content-Length: %d\r\n\r\n" % len(smuggled) + smuggled +
           b"GET /v1/users/real HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    before = backend.stats()["requests"]
    responses = pipeline(gw.port, req, expect=2)
    assert [r.status for r in responses] == [405, 200]
    assert responses[1].json()["path"] == "/users/real"
    assert backend.stats()["requests"] == before + 1

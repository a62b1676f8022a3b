# ApiImportKrakenD (mod_apigw_krakend): a krakend.json served as it is by a
# real httpd with real backends; configtest messages naming the file, the
# line and the JSON pointer; notes for what is skipped or refused; strict
# mode; a virtual host of its own.
import json
import os

import pytest
import requests


def write(tmp_path, doc, name="krakend.json"):
    path = os.path.join(str(tmp_path), name)
    with open(path, "w") as f:
        f.write(doc if isinstance(doc, str) else json.dumps(doc, indent=2))
    return path


def service(endpoints, **top):
    doc = {"version": 3, "endpoints": endpoints}
    doc.update(top)
    return doc


def test_endpoints_are_served_with_krakend_semantics(tmp_path, backend, gateway):
    kd = write(tmp_path, service([
        {"endpoint": "/users/{id}", "input_headers": ["X-Tenant"],
         "input_query_strings": ["view"],
         "backend": [{"host": [backend.url], "url_pattern": "/u/{id}",
                      "allow": ["path", "query"], "group": "user"},
                     {"host": [backend.url], "url_pattern": "/__json/%7B%22n%22:1%7D"}]},
        {"endpoint": "/raw", "method": "POST", "output_encoding": "no-op",
         "backend": [{"host": [backend.url], "url_pattern": "/__status/201/x",
                      "encoding": "no-op"}]},
    ], timeout="2s", cache_ttl="60s"))
    gw = gateway("ApiImportKrakenD %s\n" % kd)
    r = requests.get("http://127.0.0.1:%d/users/7?view=full&drop=1" % gw.port,
                     headers={"X-Tenant": "acme"}, timeout=10)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["n"] == 1
    assert body["user"]["path"] == "/u/7"
    assert body["user"]["query"] == "view=full"
    assert r.headers["X-Krakend-Completed"] == "true"
    assert r.headers["Cache-Control"] == "public, max-age=60"
    # no-op: the backend's status and body as they are, POST only
    r = requests.post("http://127.0.0.1:%d/raw" % gw.port, data=b"hi", timeout=10)
    assert r.status_code == 201
    assert requests.get("http://127.0.0.1:%d/raw" % gw.port,
                        timeout=10).status_code == 405


@pytest.mark.allow_log("AGW04001")
def test_refused_endpoint_is_not_served_and_reported(tmp_path, backend, gateway):
    kd = write(tmp_path, service([
        {"endpoint": "/cel", "extra_config": {"validation/cel": [{"check_expr": "1"}]},
         "backend": [{"host": [backend.url], "url_pattern": "/a"}]},
        {"endpoint": "/ok", "backend": [{"host": [backend.url], "url_pattern": "/a"}]},
    ], extra_config={"telemetry/logging": {"level": "DEBUG"}}))
    gw = gateway("ApiImportKrakenD %s\n" % kd)
    assert requests.get("http://127.0.0.1:%d/ok" % gw.port, timeout=10).status_code == 200
    assert requests.get("http://127.0.0.1:%d/cel" % gw.port, timeout=10).status_code == 404
    out = gw.output_text() + gw.error_log_text()
    assert "AGW04001" in out
    assert "/endpoints/0/extra_config/validation~1cel: validation/cel - endpoint refused" in out
    assert "/extra_config/telemetry~1logging: telemetry/logging - skipped" in out
    assert "1 endpoint(s) served, 1 refused" in out


def test_translation_error_names_file_line_and_pointer(tmp_path, configtest):
    kd = write(tmp_path, '{\n  "version": 3,\n  "endpoints": [\n    {\n'
               '      "endpoint": "/a",\n      "backend": [\n'
               '        {"host": ["http://127.0.0.1:9"], "encoding": "toml"}\n'
               '      ]\n    }\n  ]\n}\n')
    ok, out = configtest("ApiImportKrakenD %s\n" % kd)
    assert not ok
    assert "%s:7 at /endpoints/0/backend/0/encoding" % kd in out, out
    assert 'unknown encoding "toml"' in out


def test_directive_error_names_file_line_and_pointer(tmp_path, configtest):
    # the value passes the importer's type checks; ApiTimeout refuses it
    kd = write(tmp_path, '{\n  "version": 3,\n  "endpoints": [\n    {\n'
               '      "endpoint": "/a",\n      "timeout": "soon",\n'
               '      "backend": [{"host": ["http://127.0.0.1:9"]}]\n'
               '    }\n  ]\n}\n')
    ok, out = configtest("ApiImportKrakenD %s\n" % kd)
    assert not ok
    assert "line 6 of %s at /endpoints/0/timeout" % kd in out, out
    assert "soon" in out


def test_broken_json_and_templates(tmp_path, configtest):
    kd = write(tmp_path, '{"version": 3,\n "endpoints": [}\n')
    ok, out = configtest("ApiImportKrakenD %s\n" % kd)
    assert not ok
    assert "%s:2:" % kd in out, out
    kd = write(tmp_path, '{"version": 3, "endpoints": [{{ template "e.tmpl" }}]}',
               name="tmpl.json")
    ok, out = configtest("ApiImportKrakenD %s\n" % kd)
    assert not ok
    assert "flexible configuration templates" in out, out
    ok, out = configtest("ApiImportKrakenD %s/missing.json\n" % tmp_path)
    assert not ok and "cannot read" in out


def test_colliding_endpoint_names_both_places(tmp_path, configtest):
    kd = write(tmp_path, service([
        {"endpoint": "/a", "backend": [{"host": ["http://127.0.0.1:9"]}]}]))
    ok, out = configtest('<ApiEndpoint "/a">\n  ApiBackend http://127.0.0.1:9/\n'
                         '</ApiEndpoint>\nApiImportKrakenD %s\n' % kd)
    assert not ok
    assert "defined twice" in out, out
    assert "%s at /endpoints/0" % kd in out


def test_strict_refuses_what_would_be_skipped(tmp_path, configtest):
    kd = write(tmp_path, service([
        {"endpoint": "/a", "backend": [{"host": ["http://127.0.0.1:9"]}]}],
        port=8080))
    ok, out = configtest("ApiImportKrakenD %s strict\n" % kd)
    assert not ok
    assert "at /port" in out and "strict" in out, out
    ok, out = configtest("ApiImportKrakenD %s\n" % kd)
    assert ok, out
    ok, out = configtest("ApiImportKrakenD %s lenient\n" % kd)
    assert not ok and "unknown option 'lenient'" in out


def test_virtual_host_gets_its_own_endpoints(tmp_path, backend, gateway):
    kd = write(tmp_path, service([
        {"endpoint": "/only-here", "backend": [{"host": [backend.url],
                                                "url_pattern": "/a"}]}]))
    gw = gateway("Listen 127.0.0.1:@PORT@\nListen 127.0.0.1:@PORT2@\n"
                 "<VirtualHost 127.0.0.1:@PORT2@>\n  ApiImportKrakenD %s\n"
                 "</VirtualHost>\n" % kd, extra_ports=1)
    assert requests.get("http://127.0.0.1:%d/only-here" % gw.ports[1],
                        timeout=10).status_code == 200
    assert requests.get("http://127.0.0.1:%d/only-here" % gw.port,
                        timeout=10).status_code == 404


def test_several_hosts_become_a_balancer(tmp_path, backend_factory, gateway):
    a, b = backend_factory("a"), backend_factory("b")
    kd = write(tmp_path, service([
        {"endpoint": "/lb", "backend": [{"host": [a.url, b.url],
                                         "url_pattern": "/x"}]}]))
    gw = gateway("ApiImportKrakenD %s\n" % kd)
    for _ in range(6):
        assert requests.get("http://127.0.0.1:%d/lb" % gw.port,
                            timeout=10).status_code == 200
    assert a.stats()["requests"] >= 1 and b.stats()["requests"] >= 1


@pytest.mark.allow_log("AGW04001")
def test_return_error_code_gives_the_backends_status(tmp_path, backend, gateway):
    kd = write(tmp_path, service([
        {"endpoint": "/s/{code}", "backend": [
            {"host": [backend.url], "url_pattern": "/__status/{code}/x",
             "extra_config": {"backend/http": {"return_error_code": True}}}]}]))
    gw = gateway("ApiImportKrakenD %s\n" % kd)
    r = requests.get("http://127.0.0.1:%d/s/404" % gw.port, timeout=10)
    assert r.status_code == 404
    r = requests.get("http://127.0.0.1:%d/s/200" % gw.port, timeout=10)
    assert r.status_code == 200

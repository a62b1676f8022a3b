# Configuration mistakes: each must fail `./apxs-build.sh run`'s configtest
# with a message that says what is wrong and where (file and line); the
# valid forms next to them must pass without leaving an httpd running.
import pytest

B = "http://127.0.0.1:9"        # never contacted: configtest only


def at(out, path, line):
    """Does out point at path:line, in httpd's or mod_apigw's words?"""
    return ("line %d of %s" % (line, path) in out
            or "%s:%d" % (path, line) in out)


# (id, conf, [lines the message must point at, as needles], [message parts])
CASES = [
    ("duplicate-route", f"""
<ApiEndpoint "/v1/a">
  ApiBackend {B}/a
</ApiEndpoint>
<ApiEndpoint "/v1/a" GET POST>
  ApiBackend {B}/b
</ApiEndpoint>
""", ['<ApiEndpoint "/v1/a">', '<ApiEndpoint "/v1/a" GET POST>'],
     ["GET /v1/a is defined twice"]),

    ("same-route-other-var-name", f"""
<ApiEndpoint "/v1/u/{{user}}">
  ApiBackend {B}/a/{{user}}
</ApiEndpoint>
<ApiEndpoint "/v1/u/{{id}}" DELETE>
  ApiBackend {B}/b/{{id}}
</ApiEndpoint>
""", ['<ApiEndpoint "/v1/u/{user}">', '<ApiEndpoint "/v1/u/{id}" DELETE>'],
     ["{id}", "{user}"]),

    ("var-inside-segment", f"""
<ApiEndpoint "/v1/file.{{ext}}">
  ApiBackend {B}/f/{{ext}}
</ApiEndpoint>
""", ['<ApiEndpoint "/v1/file.{ext}">'], ["ApiDisableRest on"]),

    ("backend-at-top-level", f"""
ApiBackend {B}/a
""", ["ApiBackend"], ["ApiBackend not allowed here"]),

    ("backend-in-location", f"""
<Location "/v1">
  ApiBackend {B}/a
</Location>
""", ["ApiBackend"], ["ApiBackend is only allowed inside <ApiEndpoint>"]),

    ("unknown-backend-option", f"""
<ApiEndpoint "/v1/a">
  ApiBackend {B}/a retries=3
</ApiEndpoint>
""", ["ApiBackend"], ["unknown option 'retries'"]),

    ("unknown-backend-method", f"""
<ApiEndpoint "/v1/a">
  ApiBackend {B}/a method=FETCH
</ApiEndpoint>
""", ["ApiBackend"], ["unknown method 'FETCH'"]),

    ("backend-var-not-in-path", f"""
<ApiEndpoint "/v1/users/{{user}}">
  ApiBackend {B}/users/{{user}}/orders/{{order}}
</ApiEndpoint>
""", ["ApiBackend"], ["{order}", '"/v1/users/{user}"']),

    ("backend-wildcard-not-in-path", f"""
<ApiEndpoint "/v1/files/{{name}}">
  ApiBackend {B}/files/{{*}}
</ApiEndpoint>
""", ["ApiBackend"], ["{*}"]),

    ("var-in-backend-host", f"""
<ApiEndpoint "/v1/{{host}}/a">
  ApiBackend http://{{host}}:9/a
</ApiEndpoint>
""", ["ApiBackend"], ["host"]),

    ("bad-duration-endpoint", f"""
<ApiEndpoint "/v1/a">
  ApiBackend {B}/a
  ApiTimeout 5parsecs
</ApiEndpoint>
""", ["ApiTimeout"], ["ApiTimeout 5parsecs", "unit"]),

    ("bad-duration-server", """
ApiTimeout 5parsecs
""", ["ApiTimeout"], ["ApiTimeout 5parsecs", "unit"]),

    ("cache-ttl-below-a-second", f"""
<ApiEndpoint "/v1/a">
  ApiBackend {B}/a
  ApiCacheTTL 500ms
</ApiEndpoint>
""", ["ApiCacheTTL"], ["ApiCacheTTL"]),

    ("unknown-method", f"""
<ApiEndpoint "/v1/a" GET FETCH>
  ApiBackend {B}/a
</ApiEndpoint>
""", ["<ApiEndpoint"], ["unknown method 'FETCH'"]),

    ("endpoint-without-backend", """
<ApiEndpoint "/v1/a">
  ApiTimeout 1s
</ApiEndpoint>
""", ["<ApiEndpoint"], ["has no ApiBackend"]),

    ("undefined-balancer", """
<Proxy balancer://known>
  BalancerMember http://127.0.0.1:9
</Proxy>
<ApiEndpoint "/v1/a">
  ApiBackend balancer://unknown/a
</ApiEndpoint>
""", ["ApiBackend"], ["balancer://unknown"]),

    ("nested-endpoint", f"""
<ApiEndpoint "/v1/a">
  ApiBackend {B}/a
  <ApiEndpoint "/v1/b">
    ApiBackend {B}/b
  </ApiEndpoint>
</ApiEndpoint>
""", ['<ApiEndpoint "/v1/b">'], ["<ApiEndpoint"]),

    ("endpoint-in-location", f"""
<Location "/v1">
  <ApiEndpoint "/v1/b">
    ApiBackend {B}/b
  </ApiEndpoint>
</Location>
""", ["<ApiEndpoint"], ["<ApiEndpoint"]),

    ("var-twice-in-path", f"""
<ApiEndpoint "/v1/{{id}}/x/{{id}}">
  ApiBackend {B}/a/{{id}}
</ApiEndpoint>
""", ["<ApiEndpoint"], ["{id}"]),

    ("wildcard-not-last", f"""
<ApiEndpoint "/v1/*/x">
  ApiBackend {B}/a
</ApiEndpoint>
""", ["<ApiEndpoint"], ["*"]),

    ("unsupported-scheme", """
<ApiEndpoint "/v1/a">
  ApiBackend ftp://127.0.0.1:9/a
</ApiEndpoint>
""", ["ApiBackend"], ["ftp"]),
]


@pytest.mark.parametrize("conf,lines,parts", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_config_error_is_refused_with_file_and_line(configtest, conf, lines, parts):
    ok, out = configtest(conf)
    assert not ok, out
    assert "the configuration has errors" in out
    for needle in lines:
        line = configtest.line(needle)
        assert at(out, configtest.path, line), \
            "no mention of %s:%d (%s) in:\n%s" % (configtest.path, line, needle, out)
    for part in parts:
        assert part in out, out


def test_valid_config_passes(configtest):
    ok, out = configtest(f"""
ApiTimeout 1500ms
<Proxy balancer://pool>
  BalancerMember http://127.0.0.1:9
</Proxy>
<ApiEndpoint "/v1/file.{{ext}}">
  ApiBackend {B}/f/{{ext}}
  ApiDisableRest on
</ApiEndpoint>
<ApiEndpoint "/v1/users/{{user}}" GET POST>
  ApiBackend balancer://pool/users/{{user}} method=PUT
  ApiInputHeaders Authorization x-request-id
  ApiInputQueryStrings page limit
  ApiTimeout 1m30s
  ApiCacheTTL 300s
  Require all granted
  Header set X-From-Endpoint yes
  LimitRequestBody 1024
</ApiEndpoint>
<ApiEndpoint "/v1/files/*">
  ApiBackend {B}/files/{{*}}?src=gw
  ApiInputQueryStrings *
  ApiInputHeaders *
  ApiCacheTTL off
</ApiEndpoint>
<VirtualHost 127.0.0.1:@PORT@>
  ApiTimeout 2s
  <ApiEndpoint "/v1/users/{{user}}">
    ApiBackend {B}/vhost/{{user}}
  </ApiEndpoint>
</VirtualHost>
""")
    assert ok, out
    assert "Syntax OK" in out

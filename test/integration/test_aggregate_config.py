# Configuration mistakes of aggregating endpoints: each fails configtest
# naming the directive and, for checks across directives, the endpoint's
# or the backend's file and line; the valid forms pass.
import pytest

from test_config_errors import at

B = "http://127.0.0.1:9"        # never contacted: configtest only

CASES = [
    ("noop-with-two-backends", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a
  ApiBackend {B}/b
  ApiOutputEncoding no-op
</ApiEndpoint>
""", ['<ApiEndpoint "/a">'], ["no-op", "2 backends"]),

    ("unknown-option", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a colour=red
</ApiEndpoint>
""", ["ApiBackend"], ["unknown option 'colour'"]),

    ("bad-dot-path", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a allow=a..b
</ApiEndpoint>
""", ["ApiBackend"], ["allow"]),

    ("mapping-without-colon", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a mapping=old
</ApiEndpoint>
""", ["ApiBackend"], ["mapping"]),

    ("allow-and-deny", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a allow=x deny=y
</ApiEndpoint>
""", ["ApiBackend"], ["allow", "deny"]),

    ("unknown-encoding", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a encoding=csv
</ApiEndpoint>
""", ["ApiBackend"], ["csv"]),

    ("unknown-output", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a
  ApiOutputEncoding html
</ApiEndpoint>
""", ["ApiOutputEncoding"], ["ApiOutputEncoding html"]),

    ("status-from-unknown", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a name=one
  ApiBackend {B}/b
  ApiStatusFrom two
</ApiEndpoint>
""", ['<ApiEndpoint "/a">'], ["ApiStatusFrom two"]),

    ("resp-var-without-sequential", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a
  ApiBackend {B}/b/{{resp0_id}}
</ApiEndpoint>
""", ["ApiBackend http://127.0.0.1:9/b"], ["ApiSequential on"]),

    ("resp-var-of-a-later-backend", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a/{{resp1_id}}
  ApiBackend {B}/b
  ApiSequential on
</ApiEndpoint>
""", ["ApiBackend http://127.0.0.1:9/a"], ["earlier backends"]),

    ("host-without-allow-list", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a
  ApiBackendHost header:X-Host
</ApiEndpoint>
""", ['<ApiEndpoint "/a">'], ["ApiBackendHostAllow"]),

    ("bad-allowed-host", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a
  ApiBackendHost header:X-Host
  ApiBackendHostAllow http://x/
</ApiEndpoint>
""", ["ApiBackendHostAllow"], ["not a host"]),

    ("bad-static-json", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a
  ApiStatic {{"a": }}
</ApiEndpoint>
""", ["ApiStatic"], ["not valid JSON"]),

    ("static-not-object", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a
  ApiStatic [1]
</ApiEndpoint>
""", ["ApiStatic"], ["JSON object"]),

    ("bad-strategy", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a
  ApiStatic strategy=sometimes {{"a": 1}}
</ApiEndpoint>
""", ["ApiStatic"], ["strategy"]),

    ("concurrent-calls-range", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a
  ApiConcurrentCalls 0
</ApiEndpoint>
""", ["ApiConcurrentCalls"], ["1 to 10"]),

    ("duplicate-names", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a group=x
  ApiBackend {B}/b group=x
</ApiEndpoint>
""", ["ApiBackend http://127.0.0.1:9/b"], ["already named 'x'"]),

    ("websocket-in-aggregation", f"""
<ApiEndpoint "/a">
  ApiBackend {B}/a
  ApiBackend ws://127.0.0.1:9/b
</ApiEndpoint>
""", ["ApiBackend ws://"], ["needs an endpoint of its own"]),

    ("output-outside-endpoint", """
ApiOutputEncoding json
""", ["ApiOutputEncoding"], ["ApiOutputEncoding not allowed here"]),

    ("max-body-zero", f"""
ApiMaxBackendBody 0
""", ["ApiMaxBackendBody"], ["ApiMaxBackendBody"]),
]


@pytest.mark.parametrize("conf,lines,parts", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_aggregation_config_error(configtest, conf, lines, parts):
    ok, out = configtest(conf)
    assert not ok, out
    for needle in lines:
        line = configtest.line(needle)
        assert at(out, configtest.path, line), \
            "no mention of %s:%d (%s) in:\n%s" % (configtest.path, line, needle, out)
    for part in parts:
        assert part in out, out


def test_valid_aggregation_config_passes(configtest):
    ok, out = configtest(f"""
ApiCompletedHeader X-Krakend-Completed
ApiMaxBackendBody 2M
<Proxy balancer://pool>
  BalancerMember http://127.0.0.1:9
</Proxy>
<ApiEndpoint "/users/{{id}}">
  ApiBackend {B}/u/{{id}} name=user target=data allow=id,name,address.city mapping=name:full_name
  ApiBackend balancer://pool/orders?user={{id}} group=orders deny=internal
  ApiBackend {B}/list collection mapping=collection:items encoding=json
  ApiBackend {B}/x/{{resp0_id}} group=x
  ApiSequential on
  ApiOutputEncoding negotiate
  ApiReturnErrorDetails backend
  ApiStatusFrom user headers=ETag,Location
  ApiStatic strategy=incomplete {{"degraded": true}}
  ApiConcurrentCalls 2
  ApiMaxBackendBody 100k
  ApiCompletedHeader off
</ApiEndpoint>
<ApiEndpoint "/dyn">
  ApiBackend {B}/d
  ApiBackendHost "expr:%{{HTTP:X-Zone}}.internal:8080"
  ApiBackendHostAllow a.internal:8080 b.internal:8080
  ApiOutputEncoding no-op
</ApiEndpoint>
""")
    assert ok, out

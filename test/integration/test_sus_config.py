# Member-suspension configuration: every mistake fails configtest with a
# message saying what is wrong and where (file and line); the valid forms,
# including the worked example conf/examples/failover.conf, pass.
import pytest

M1 = "http://127.0.0.1:9"         # never contacted: configtest only
M2 = "http://127.0.0.1:10"

POOL = f"""
<Proxy balancer://pool>
  BalancerMember {M1}
  BalancerMember {M2}
</Proxy>
"""


def at(out, path, line):
    return ("line %d of %s" % (line, path) in out
            or "%s:%d" % (path, line) in out)


# (id, conf, the line the message must point at, [message parts])
CASES = [
    ("unknown-balancer", POOL + """
ApiBalancerSuspend balancer://nope initial=5s
""", "ApiBalancerSuspend", ["AGW02500", "no <Proxy balancer://nope>"]),

    ("unknown-balancer-mark", POOL + """
ApiBalancerMarkForSuspension balancer://nope retries=2
""", "ApiBalancerMarkForSuspension", ["AGW02500", "balancer://nope"]),

    ("unknown-balancer-affinity", POOL + """
ApiBalancerAffinity balancer://nope header=X-Client
""", "ApiBalancerAffinity", ["AGW02500", "balancer://nope"]),

    ("unknown-member", POOL + """
ApiBalancerSuspend balancer://pool http://127.0.0.1:11 initial=5s
""", "ApiBalancerSuspend", ["AGW02501", "no such BalancerMember",
                            "http://127.0.0.1:9, http://127.0.0.1:10"]),

    ("member-longer-than-balancer-max", POOL + f"""
ApiBalancerSuspend balancer://pool initial=1s max=10s
ApiBalancerSuspend balancer://pool {M2} initial=20s
""", f"ApiBalancerSuspend balancer://pool {M2}",
     ["AGW02502", "max must not be shorter than initial"]),

    ("bad-code", POOL + """
ApiBalancerSuspend balancer://pool codes=connect-refused,timeout
""", "ApiBalancerSuspend", ["error code 'timeout'", "connect-timeout"]),

    ("bad-status-range", POOL + """
ApiBalancerMarkForSuspension balancer://pool codes=504-500
""", "ApiBalancerMarkForSuspension", ["'504-500'", "empty"]),

    ("bad-wso2-code", POOL + """
ApiBalancerSuspend balancer://pool codes=101999
""", "ApiBalancerSuspend", ["'101999'", "WSO2"]),

    ("empty-codes", POOL + """
ApiBalancerSuspend balancer://pool codes=
""", "ApiBalancerSuspend", ["empty"]),

    ("bad-duration", POOL + """
ApiBalancerSuspend balancer://pool initial=soon
""", "ApiBalancerSuspend", ["initial=soon"]),

    ("factor-below-one", POOL + """
ApiBalancerSuspend balancer://pool factor=0.5
""", "ApiBalancerSuspend", ["factor=0.5", "from 1 to 1000"]),

    ("max-below-initial", POOL + """
ApiBalancerSuspend balancer://pool initial=1m max=30s
""", "ApiBalancerSuspend", ["max= must not be shorter than initial="]),

    ("max-zero-alone", POOL + """
ApiBalancerSuspend balancer://pool max=0
""", "ApiBalancerSuspend", ["max=0 disables suspension"]),

    ("unknown-option", POOL + """
ApiBalancerSuspend balancer://pool retries=3
""", "ApiBalancerSuspend", ["unknown option 'retries'"]),

    ("bad-retries", POOL + """
ApiBalancerMarkForSuspension balancer://pool retries=-1
""", "ApiBalancerMarkForSuspension", ["retries=-1", "whole number"]),

    ("no-balancer-named", POOL + """
ApiBalancerSuspend initial=5s
""", "ApiBalancerSuspend", ["needs the balancer"]),

    ("twice", POOL + """
ApiBalancerSuspend balancer://pool initial=5s
ApiBalancerSuspend balancer://pool initial=6s
""", "ApiBalancerSuspend balancer://pool initial=6s", ["already given at"]),

    ("in-location", POOL + """
<Location /x>
  ApiBalancerSuspend balancer://pool initial=5s
</Location>
""", "ApiBalancerSuspend", ["server config, a virtual host or a <Proxy"]),

    ("other-balancer-in-section", POOL + """
<Proxy balancer://other>
  BalancerMember http://127.0.0.1:12
  ApiBalancerSuspend balancer://pool initial=5s
</Proxy>
""", "ApiBalancerSuspend", ["inside <Proxy balancer://other>"]),

    ("affinity-without-kind", POOL + """
ApiBalancerAffinity balancer://pool timeout=5m
""", "ApiBalancerAffinity", ["none, cookie=NAME or header=NAME"]),

    ("affinity-bad-header", POOL + """
ApiBalancerAffinity balancer://pool header=X(bad)
""", "ApiBalancerAffinity", ["not a valid header name"]),

    ("affinity-bad-sessions", POOL + """
ApiBalancerAffinity balancer://pool cookie=SID sessions=3
""", "ApiBalancerAffinity", ["sessions=3"]),

    ("retries-count", """
ApiBalancerRetries many
""", "ApiBalancerRetries", ["COUNT must be a whole number from 0 to 20"]),

    ("retries-option", """
ApiBalancerRetries 2 backoff=1s
""", "ApiBalancerRetries", ["unknown option 'backoff'"]),

    ("timeout-action", """
ApiBalancerTimeoutAction ignore
""", "ApiBalancerTimeoutAction", ["use fault, discard or never"]),
]


@pytest.mark.parametrize("conf,needle,parts", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_mistake_is_refused_with_file_and_line(configtest, conf, needle, parts):
    ok, out = configtest(conf)
    assert not ok, out
    line = configtest.line(needle)
    assert at(out, configtest.path, line), \
        "no mention of %s:%d (%s) in:\n%s" % (configtest.path, line, needle, out)
    for part in parts:
        assert part in out, out


def test_valid_forms_pass(configtest):
    ok, out = configtest(f"""
<Proxy balancer://pool>
  BalancerMember {M1}
  BalancerMember {M2}/
  ProxySet lbmethod=failover
  ApiBalancerSuspend codes=connect-refused,connect-timeout,503 initial=2s factor=2 max=1m
  ApiBalancerMarkForSuspension codes=101504,101505 retries=3 retry-delay=500ms
  ApiBalancerRetries 2 delay=100ms within=5s
  ApiBalancerTimeoutAction fault
</Proxy>
ApiBalancerSuspend balancer://pool {M2} initial=-1
ApiBalancerSuspend balancer://pool {M1}/ codes=5xx
<Proxy balancer://lb>
  BalancerMember {M1}
  BalancerMember {M2}
  ProxySet lbmethod=roundrobin
</Proxy>
ApiBalancerAffinity balancer://lb header=X-Client-Id timeout=30m sessions=100000
ApiBalancerSuspend balancer://LB initial=0 max=0
<Proxy balancer://stock>
  BalancerMember {M1}
  ProxySet lbmethod=byrequests
  ApiBalancerAffinity cookie=JSESSIONID
</Proxy>
ProxyPass /p balancer://pool
<Location /p/slow>
  ApiBalancerRetries 0
  ApiBalancerTimeoutAction never
</Location>
<ApiEndpoint "/v1/x" GET>
  ApiBackend balancer://lb/x
  ApiBalancerRetries 1
  ApiBalancerTimeoutAction discard
</ApiEndpoint>
<VirtualHost 127.0.0.1:@PORT@>
  ApiBalancerMarkForSuspension balancer://pool retries=1
</VirtualHost>
""")
    assert ok, out
    assert "Syntax OK" in out

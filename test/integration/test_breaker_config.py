# mod_apigw_breaker, ApiCircuitBreaker at configtest: a bad expression
# fails with the file, the line and the position of the mistake; bad
# options, durations, statuses, fallback URLs and contexts fail with a
# message naming them; every preset and option passes, in <ApiEndpoint>,
# <Location>, <LocationMatch>, <Proxy>, nested conditionals and virtual
# hosts; the worked example passes.
import os

import pytest

from conftest import free_port

ENDPOINT = """<ApiEndpoint "/v1/x">
  ApiBackend http://127.0.0.1:9/x
  {}
</ApiEndpoint>
"""


def in_location(line):
    return '<Location "/x">\n  %s\n</Location>\n' % line


CONFIG_ERRORS = [
    (in_location('ApiCircuitBreaker "ResponseCodeRatio(500, 600, 0 600) > 0.5"'),
     "error at position 31 (at \"600) > 0.5\"): expected ',' and the next "
     "of 4 arguments, found '600'"),
    (in_location('ApiCircuitBreaker "NetworkErrorRatio() > "'),
     "error at position 23 (the end): the expression ends where a number"),
    (in_location('ApiCircuitBreaker "NetworkErrorRatio() = 0.5"'),
     "error at position 21 (at \"= 0.5\"): use '==' to compare"),
    (in_location('ApiCircuitBreaker "NetworkErrorRatio()"'),
     "error at position 1"),
    (in_location('ApiCircuitBreaker "NetWorkErrorRatio() > 0.5"'),
     "unknown function 'NetWorkErrorRatio'"),
    (in_location('ApiCircuitBreaker "LatencyAtQuantileMS(150) > 1"'),
     "error at position 21 (at \"150) > 1\"): the quantile is a percentage"),
    (in_location("ApiCircuitBreaker errors-40"),
     "'errors-40' is neither a preset (errors-50, errors-30, 5xx, "
     "high-latency) nor an expression"),
    (in_location("ApiCircuitBreaker NetworkErrorRatio() > 0.5"),
     "put the expression in quotes, like ApiCircuitBreaker "
     "\"NetworkErrorRatio() > ...\" (options are key=value, got '>')"),
    (in_location("ApiCircuitBreaker"),
     "ApiCircuitBreaker needs an expression in quotes"),
    (in_location("ApiCircuitBreaker 5xx wait=1s"),
     "unknown option 'wait'"),
    (in_location("ApiCircuitBreaker 5xx check=1s check=2s"),
     "check= given twice"),
    (in_location("ApiCircuitBreaker 5xx check=soon"),
     "ApiCircuitBreaker: check=soon"),
    (in_location("ApiCircuitBreaker 5xx check=0"),
     "check= must be greater than zero"),
    (in_location("ApiCircuitBreaker 5xx fallback=0s"),
     "fallback= must be greater than zero"),
    (in_location("ApiCircuitBreaker 5xx recovery=10us"),
     "recovery= must be at least 1ms"),
    (in_location("ApiCircuitBreaker 5xx status=200"),
     "status=200 must be an HTTP error status from 400 to 599"),
    (in_location("ApiCircuitBreaker 5xx status=5O3"),
     "status=5O3 must be an HTTP error status"),
    (in_location("ApiCircuitBreaker 5xx min-requests=-1"),
     "min-requests=-1 must be a whole number from 0 to 1000000000"),
    (in_location("ApiCircuitBreaker 5xx fallback-backend=ftp://h/"),
     "fallback-backend=ftp://h/ must be an http:// or https:// URL"),
    (in_location("ApiCircuitBreaker 5xx fallback-backend=http://h/x?q=1"),
     "must not have a query"),
    (in_location("ApiCircuitBreaker 5xx fallback-backend=http://u:p@h/"),
     "must not hold a user or password"),
    (in_location("ApiCircuitBreaker 5xx fallback-backend=http://h:99999"),
     "has a bad port"),
    (in_location("ApiCircuitBreaker 5xx scope=member"),
     "scope=member: use endpoint"),
    (in_location("ApiCircuitBreaker off now"),
     "ApiCircuitBreaker off takes no options"),
    (in_location("ApiCircuitBreaker 5xx\n  ApiCircuitBreaker errors-50"),
     "ApiCircuitBreaker given twice in this section (first at"),
    ("ApiCircuitBreaker 5xx\n",
     "ApiCircuitBreaker not allowed here"),
    ("<VirtualHost 127.0.0.1:@PORT@>\n  ApiCircuitBreaker 5xx\n"
     "</VirtualHost>\n", "ApiCircuitBreaker not allowed in <VirtualHost>"),
    ('<Directory "/tmp">\n  ApiCircuitBreaker 5xx\n</Directory>\n',
     "ApiCircuitBreaker belongs in <ApiEndpoint>, <Location> or <Proxy>, "
     "not in Directory"),
    ('<Files "a">\n  ApiCircuitBreaker 5xx\n</Files>\n', "not in Files"),
    (ENDPOINT.format('ApiCircuitBreaker "NetworkErrorRatio() >> 1"'),
     "error at position 22"),
]


@pytest.mark.parametrize("conf,message", CONFIG_ERRORS,
                         ids=[c[1][:40] for c in CONFIG_ERRORS])
def test_config_errors(configtest, conf, message):
    ok, out = configtest(conf)
    assert not ok, out
    assert message in out, out


def test_error_names_file_and_line(configtest):
    ok, out = configtest('# line 2\n<Location "/x">\n  # four\n'
                         '  ApiCircuitBreaker "NetworkErrorRatio() > 0.5 && '
                         '(LatencyAtQuantileMS(99) > 10"\n</Location>\n')
    assert not ok
    line = configtest.line("ApiCircuitBreaker")
    assert "Syntax error on line %d of %s" % (line, configtest.path) in out, out
    assert "error at position 59 (the end): expected ')' to close the '(' " \
           "at position 30, found the end of the expression" in out, out


def test_valid_configs_pass(configtest):
    ok, out = configtest(f"""
ProxyPass "/a/" "http://127.0.0.1:9/"
<Location "/a/">
  ApiCircuitBreaker errors-50
</Location>
<Location "/a/b/">
  ApiCircuitBreaker off
</Location>
<LocationMatch "^/m/">
  ApiCircuitBreaker errors-30 check=50ms fallback=1m recovery=0 status=429 min-requests=0
</LocationMatch>
<Proxy "http://127.0.0.1:9/*">
  ApiCircuitBreaker 5xx scope=backend
</Proxy>
<Proxy "balancer://pool">
  BalancerMember http://127.0.0.1:9
  ApiCircuitBreaker high-latency fallback-backend=https://cache.example:8443/degraded
</Proxy>
<ApiEndpoint "/v1/x/{{id}}" GET>
  ApiBackend http://127.0.0.1:9/x/{{id}}
  <IfModule apigw_breaker_module>
    ApiCircuitBreaker "NetworkErrorRatio() > 0.5 || ResponseCodeRatio(500, 600, 0, 600) > 0.25 && LatencyAtQuantileMS(99.9) >= 1500" check=1s fallback-backend=http://127.0.0.1:{free_port()} scope=endpoint
  </IfModule>
</ApiEndpoint>
<VirtualHost 127.0.0.1:@PORT@>
  <Location "/v/">
    <If "%{{HTTP:X-Canary}} == 'yes'">
      ApiCircuitBreaker 5xx
    </If>
  </Location>
</VirtualHost>
<Location "/breakers">
  SetHandler apigw-breaker-status
</Location>
""")
    assert ok, out
    assert "Syntax OK" in out


def test_example_config_passes(configtest):
    path = os.path.join(os.path.dirname(__file__), "..", "..", "conf",
                        "examples", "breaker.conf")
    with open(path) as f:
        text = f.read().replace("127.0.0.1:8080", "127.0.0.1:@PORT@")
    ok, out = configtest(text)
    assert ok, out

# mod_apigw_ratelimit: the directives go through apigw_rl_limit_validate
# and apigw_rl_tier_validate (unit-tested in test/unit/test_rl_validate.c).
# Here, that their messages reach configtest prefixed with the directive
# (and the tier's limit), with httpd's file and line; that a tier's
# inherited numbers are checked with its own; that numbers too large to
# hold are refused before the checks.
import pytest

TIERED = "ApiRateLimit average=1 period=1s name=p tier=header:X-Plan\n"

VALIDATION_ERRORS = [
    ("ApiRateLimit average=1000000001 period=1s",
     "ApiRateLimit: average=1000000001 is out of range (0 to 1000000000)"),
    ("ApiRateLimit average=1 period=1h burst=1000000000",
     "ApiRateLimit: burst=1000000000 with average=1 period=3600s: "),
    ("ApiRateLimit average=1 period=1s by=ip:x",
     "ApiRateLimit: key 'ip:x' in by= takes no name (use ip)"),
    ("ApiRateLimit average=1 period=1s by=ip,endpoint:x",
     "key 'endpoint:x' in by= takes no name"),
    ("ApiRateLimit average=1 period=1s name=p tier=cookie:",
     "ApiRateLimit: key 'cookie:' in tier= needs a name"),
    ("ApiRateLimit average=1 period=1s status=99999999999",
     "ApiRateLimit: status=99999999999 is too large a number"),
    ("ApiRateLimit average=1 period=1s burst=99999999999999999999",
     "ApiRateLimit: burst=99999999999999999999 is too large a number"),
    (TIERED + "ApiRateLimitTier p gold gold average=5",
     "ApiRateLimitTier p: values: 'gold' is given twice"),
    (TIERED + "ApiRateLimitTier p gold average=1000000001",
     "ApiRateLimitTier p: average=1000000001 is out of range"),
    # the tier keeps the limit's burst; with its own average it is too long
    ("ApiRateLimit average=1000 period=1h burst=1000000000 name=p "
     "tier=header:X-Plan\nApiRateLimitTier p gold average=1",
     "ApiRateLimitTier p: burst=1000000000 with average=1 period=3600s: "),
]


@pytest.mark.parametrize("conf,message", VALIDATION_ERRORS,
                         ids=[c[1][:40] for c in VALIDATION_ERRORS])
def test_validation_errors(configtest, conf, message):
    ok, out = configtest(conf + "\n")
    assert not ok, out
    assert message in out, out
    last = conf.splitlines()[-1]
    assert "line %d of %s" % (configtest.line(last), configtest.path) \
        in out, out


def test_limit_at_the_edges_passes(configtest):
    # every number at the edge of its range
    ok, out = configtest("ApiRateLimit average=1000000000 period=8784h "
                         "burst=1 name=edge_1.a:b-c status=599 "
                         "by=endpoint,ip delay=10s tier=env:PLAN\n"
                         "ApiRateLimitTier edge_1.a:b-c gold average=0\n")
    assert ok, out

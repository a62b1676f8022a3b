# mod_apigw_ratelimit, local mode: tiers (ApiRateLimitTier selected by a
# header, by a variable SetEnv sets inside <If>, by an expression, by the
# authenticated user; unlimited tiers, a client whose plan changes), ap_expr keys (normalised, combined with others,
# commas inside, REMOTE_USER after authentication), the header variants
# (legacy, draft RateLimit-Policy + RateLimit, both, off, not on admitted
# responses), the apigw-ratelimit-status document and its counters (also
# across a graceful restart), table-full eviction by age in a tiny zone,
# and configtest errors of the new directives.
import os
import re
import signal
import subprocess
import time

import pytest
import requests

from ratelimit_util import STATUS, limit_status, proxied, status


def get(gw, path="/rl/", headers=None, **kw):
    return requests.get(gw.url(path), headers=headers or {}, timeout=10, **kw)


def codes(gw, n, path="/rl/", headers=None):
    return [get(gw, path, headers).status_code for _ in range(n)]


def graceful_restart(gw):
    before = gw.error_log_text().count("resuming normal operations")
    os.kill(gw.proc.pid, signal.SIGUSR1)
    deadline = time.monotonic() + 15
    while (gw.error_log_text().count("resuming normal operations") == before
           and time.monotonic() < deadline):
        time.sleep(0.05)
    assert gw.error_log_text().count("resuming normal operations") > before
    time.sleep(0.3)


# ---------------------------------------------------------------- tiers

TIERS = """
ApiRateLimit name=plan average=1 period=1m by=header:X-Key tier=header:X-Plan
ApiRateLimitTier plan gold platinum average=5 burst=5
ApiRateLimitTier plan silver average=2 burst=2
ApiRateLimitTier plan internal average=0
"""


def test_tiers_select_the_numbers(gateway, backend):
    gw = gateway(STATUS + proxied(backend, TIERS))

    def plan(key, p):
        return {"X-Key": key, "X-Plan": p} if p else {"X-Key": key}

    assert codes(gw, 6, headers=plan("a", "gold")) == [200] * 5 + [429]
    assert codes(gw, 6, headers=plan("b", "platinum")) == [200] * 5 + [429]
    assert codes(gw, 3, headers=plan("c", "silver")) == [200] * 2 + [429]
    # anything else, or no plan at all: the limit's own numbers
    assert codes(gw, 2, headers=plan("d", "bronze")) == [200, 429]
    assert codes(gw, 2, headers=plan("e", None)) == [200, 429]
    # tier values are case-sensitive
    assert codes(gw, 2, headers=plan("f", "Gold")) == [200, 429]
    # an unlimited tier
    assert codes(gw, 20, headers=plan("g", "internal")) == [200] * 20
    # the headers show the tier's numbers
    r = get(gw, headers=plan("h", "silver"))
    assert r.headers["RateLimit-Limit"] == "2"
    assert r.headers["RateLimit-Remaining"] == "1"
    r = get(gw, headers=plan("h", "silver"))
    r = get(gw, headers=plan("h", "silver"))
    assert r.status_code == 429
    assert r.headers["RateLimit-Limit"] == "2"
    assert 1 <= int(r.headers["Retry-After"]) <= 30
    # a client whose plan changes gets the new tier's own bucket
    assert codes(gw, 3, headers=plan("h", "gold")) == [200] * 3
    st = limit_status(gw, name="plan")
    assert st["tier"] == "header:X-Plan"
    assert (st["average"], st["admitted"], st["rejected"]) == (1, 3, 3)
    gold, silver, internal = st["tiers"]
    assert sorted(gold["values"]) == ["gold", "platinum"]
    assert (gold["average"], gold["burst"], gold["period"]) == (5, 5, 60)
    assert (gold["admitted"], gold["rejected"]) == (13, 2)
    assert (silver["admitted"], silver["rejected"]) == (4, 2)
    assert (internal["average"], internal["admitted"]) == (0, 20)
    assert backend.stats()["requests"] == 3 + 13 + 4 + 20


def test_tier_from_a_variable_set_by_setenv(gateway, backend):
    # SetEnv (here inside <If>) runs in mod_env's fixup: the limiter runs
    # after it
    gw = gateway(proxied(backend, """
ApiRateLimit name=plan average=1 period=1m by=header:X-User tier=env:PLAN
ApiRateLimitTier plan gold average=3 burst=3
<If "%{HTTP:X-User} in {'alice', 'bob'}">
  SetEnv PLAN gold
</If>
"""))
    assert codes(gw, 4, headers={"X-User": "alice"}) == [200] * 3 + [429]
    assert codes(gw, 2, headers={"X-User": "mallory"}) == [200, 429]


def test_tier_by_expression_and_delay_override(gateway, backend):
    gw = gateway(proxied(backend, """
ApiRateLimit name=p average=1 period=1m tier=expr:%{tolower:%{HTTP:X-Plan}}
ApiRateLimitTier p gold average=2 period=1h burst=2
"""))
    assert codes(gw, 3, headers={"X-Plan": "GOLD"}) == [200, 200, 429]
    r = get(gw, headers={"X-Plan": "gold"})
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 60 * 20       # 1 per 30 min


# ---------------------------------------------------------------- expr keys

def test_expression_keys(gateway, backend):
    gw = gateway(proxied(backend, """
ApiRateLimit average=1 period=1m "by=expr:%{tolower:%{HTTP:X-Key}}"
""") + proxied(backend, """
ApiRateLimit average=1 period=1m "by=ip,expr:%{HTTP:X-A},%{HTTP:X-B}"
""", "/two/"))
    # one bucket for ABC and abc
    assert get(gw, headers={"X-Key": "ABC"}).status_code == 200
    r = get(gw, headers={"X-Key": "abc"})
    assert r.status_code == 429
    assert "Vary" not in r.headers          # the key adds no Vary
    assert get(gw, headers={"X-Key": "other"}).status_code == 200
    # combined with ip; the comma is part of the expression
    one = {"X-A": "1", "X-B": "2"}
    assert codes(gw, 2, "/two/", one) == [200, 429]
    assert codes(gw, 2, "/two/", {"X-A": "1", "X-B": "3"}) == [200, 429]


@pytest.mark.allow_log("AH01618", "AH01617")
def test_keys_after_authentication(gateway, backend, world_readable_dir):
    users = os.path.join(world_readable_dir, "users")
    for user, pw in (("alice", "a-pass"), ("bob", "b-pass")):
        subprocess.run(["htpasswd", "-b"] + (["-c"] if user == "alice" else [])
                       + [users, user, pw], check=True, capture_output=True)
    gw = gateway(proxied(backend, f"""
AuthType Basic
AuthName "api"
AuthUserFile "{users}"
Require valid-user
ApiRateLimit name=u average=2 period=1m burst=2 by=expr:%{{REMOTE_USER}} tier=expr:%{{REMOTE_USER}}
ApiRateLimitTier u alice average=3 burst=3
"""))
    alice, bob = ("alice", "a-pass"), ("bob", "b-pass")
    # failed logins spend nothing
    for _ in range(5):
        assert get(gw, auth=("alice", "wrong")).status_code == 401
    # each user a bucket; alice has a tier of her own
    assert [get(gw, auth=alice).status_code for _ in range(4)] == \
        [200, 200, 200, 429]
    assert [get(gw, auth=bob).status_code for _ in range(3)] == \
        [200, 200, 429]


# ---------------------------------------------------------------- headers

def test_draft_headers(gateway, backend):
    gw = gateway(proxied(backend, """
ApiRateLimitHeaders draft
ApiRateLimit average=3 period=1m burst=3 name=search
"""))
    r = get(gw)
    assert r.status_code == 200
    assert r.headers["RateLimit-Policy"] == '"search";q=3;w=60'
    assert r.headers["RateLimit"] == '"search";r=2;t=20'
    assert "RateLimit-Limit" not in r.headers
    get(gw)
    get(gw)
    r = get(gw)
    assert r.status_code == 429
    assert r.headers["RateLimit-Policy"] == '"search";q=3;w=60'
    m = re.fullmatch(r'"search";r=0;t=(\d+)', r.headers["RateLimit"])
    assert m and 50 <= int(m.group(1)) <= 60
    assert 1 <= int(r.headers["Retry-After"]) <= 20
    assert "RateLimit-Remaining" not in r.headers


def test_draft_headers_list_every_limit(gateway, backend):
    gw = gateway(f"""
ApiRateLimitHeaders draft
ApiRateLimit average=100 period=1s burst=100 name=global
""" + proxied(backend, """
ApiRateLimit average=5 period=500ms burst=2
"""))
    r = get(gw)
    assert r.headers["RateLimit-Policy"] == \
        '"global";q=100;w=1, "limit-2";q=10;w=1'
    assert r.headers["RateLimit"] == '"global";r=99;t=1, "limit-2";r=1;t=1'


def test_both_off_and_admitted_off(gateway, backend):
    gw = gateway("ApiRateLimitHeaders both\n" + proxied(backend, """
ApiRateLimit average=2 period=1m burst=2
""") + proxied(backend, """
ApiRateLimitHeaders off
ApiRateLimit average=1 period=1m
""", "/off/") + proxied(backend, """
ApiRateLimitHeadersAdmitted Off
ApiRateLimitHeaders legacy
ApiRateLimit average=1 period=1m
""", "/quiet/"))
    r = get(gw)
    for h in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
              "RateLimit-Policy", "RateLimit"):
        assert h in r.headers, h
    assert r.headers["RateLimit-Policy"] == '"limit-1";q=2;w=60'
    # off: no RateLimit-* at all, Retry-After on the refusal still
    r = get(gw, "/off/")
    assert r.status_code == 200
    assert not [h for h in r.headers if h.lower().startswith("ratelimit")]
    r = get(gw, "/off/")
    assert r.status_code == 429
    assert not [h for h in r.headers if h.lower().startswith("ratelimit")]
    assert int(r.headers["Retry-After"]) >= 1
    # admitted responses without, refusals with
    r = get(gw, "/quiet/")
    assert r.status_code == 200
    assert not [h for h in r.headers if h.lower().startswith("ratelimit")]
    r = get(gw, "/quiet/")
    assert r.status_code == 429
    assert r.headers["RateLimit-Limit"] == "1"
    assert "RateLimit-Policy" not in r.headers


# ---------------------------------------------------------------- status

def test_status_document(gateway, backend):
    gw = gateway("ApiRateLimitZone 64k\n" + STATUS + proxied(backend, """
ApiRateLimit average=2 period=1m burst=2 by=header:K,cookie:sid name=two
ApiRateLimit average=0 period=1s
"""))
    assert codes(gw, 3, headers={"K": "x"}) == [200, 200, 429]
    doc = status(gw)
    assert doc["zone"]["bytes"] == 65536
    assert doc["zone"]["slots"] == (65536 - 32) // 32
    assert doc["zone"]["keys"] == 1 and doc["zone"]["active"] == 1
    assert doc["store"] is None
    two, free = doc["limits"]
    assert two["name"] == "two" and two["by"] == "header:K,cookie:sid"
    assert two["file"].endswith("gateway.conf")
    assert (two["average"], two["period"], two["burst"]) == (2, 60, 2)
    assert (two["admitted"], two["rejected"], two["delayed"]) == (2, 1, 0)
    # the third request was refused by the first limit: never reached it
    assert free["name"] is None and free["admitted"] == 2
    # no key's value in it
    assert '"x"' not in requests.get(gw.url("/rl-status"), timeout=5).text
    r = requests.post(gw.url("/rl-status"), timeout=5)
    assert r.status_code == 405
    assert "GET" in r.headers["Allow"]


def test_counters_and_buckets_survive_graceful_restart(gateway, backend):
    conf = STATUS + proxied(backend, TIERS)
    gw = gateway(conf)
    gold = {"X-Key": "k", "X-Plan": "gold"}
    assert codes(gw, 6, headers=gold) == [200] * 5 + [429]
    graceful_restart(gw)
    assert get(gw, headers=gold).status_code == 429
    tier = limit_status(gw, name="plan")["tiers"][0]
    assert (tier["admitted"], tier["rejected"]) == (5, 2)


# ---------------------------------------------------------------- eviction

def test_table_full_evicts_the_stalest(gateway, backend):
    # 4k holds 127 keys. One client keeps using its key while 600 others
    # arrive: the table never grows, the busy key is never the stalest, so
    # its bucket (empty for an hour) is kept; early keys are forgotten.
    gw = gateway("ApiRateLimitZone 4k\n" + STATUS + proxied(
        backend, "ApiRateLimit average=1 period=1h by=header:K"))
    s = requests.Session()

    def one(key):
        return s.get(gw.url("/rl/"), headers={"K": key}, timeout=10).status_code

    assert one("busy") == 200
    for i in range(600):
        assert one("flood-%d" % i) == 200, i
        if i % 4 == 0:
            assert one("busy") == 429, i
    doc = status(gw)
    assert doc["zone"]["slots"] == 127
    assert doc["zone"]["keys"] == 127
    assert one("flood-0") == 200            # forgotten: a fresh bucket
    assert one("flood-599") == 429          # recent: remembered
    assert one("busy") == 429


# ---------------------------------------------------------------- config

CONFIG_ERRORS = [
    ("ApiRateLimit average=1 period=1s by=expr:%{", "cannot parse the expr"),
    ("ApiRateLimit average=1 period=1s by=expr:", "needs an expression"),
    ("ApiRateLimit average=1 period=1s by=bogus:x", "unknown key 'bogus:x'"),
    ("ApiRateLimit average=1 period=1s tier=header:X-Plan",
     "tier= needs name="),
    ("ApiRateLimit average=1 period=1s name=p tier=endpoint",
     "unknown key 'endpoint' in tier="),
    ("ApiRateLimit average=1 period=1s name=p tier=ip,header:X",
     "tier= takes one key"),
    ("ApiRateLimit average=1 period=1s name=p tier=", "tier= needs a key"),
    ("ApiRateLimit average=1 period=1s delay=20s",
     "delay=20s is longer than the 10 s"),
    ("ApiRateLimit average=1 period=1s delay=soon", "ApiRateLimit: delay=soon"),
    ('ApiRateLimit average=1 period=1s "name=a b"', "is not a valid name"),
    ("ApiRateLimit average=1 period=1s name=a/b", "is not a valid name"),
    ("ApiRateLimitTier plan gold average=5",
     "no ApiRateLimit name=plan above it"),
    ("ApiRateLimit average=1 period=1s name=plan\n"
     "ApiRateLimitTier plan gold average=5", "has no tier="),
    ("ApiRateLimit average=1 period=1s name=p tier=header:X\n"
     "ApiRateLimitTier p average=5", "name at least one value"),
    ("ApiRateLimit average=1 period=1s name=p tier=header:X\n"
     "ApiRateLimitTier p gold burst=5", "needs average=N"),
    ("ApiRateLimit average=1 period=1s name=p tier=header:X\n"
     "ApiRateLimitTier p gold average=5 rate=1", "unknown option 'rate'"),
    ("ApiRateLimit average=1 period=1s name=p tier=header:X\n"
     "ApiRateLimitTier p gold average=5 average=6", "average= given twice"),
    ("ApiRateLimit average=1 period=1s name=p tier=header:X\n"
     "ApiRateLimitTier p gold average=5\n"
     "ApiRateLimitTier p silver gold average=2",
     "value 'gold' already has a tier"),
    ("ApiRateLimit average=1 period=1s name=p tier=header:X\n"
     "ApiRateLimitTier p gold average=5 delay=11s", "longer than the 10 s"),
    ("ApiRateLimit average=1 period=1s name=p tier=header:X\n"
     "ApiRateLimitTier p gold average=5 burst=0", "burst=0 is out of range"),
    ("ApiRateLimitTier", "ApiRateLimitTier needs NAME VALUE"),
    ("ApiRateLimitHeaders loud", "ApiRateLimitHeaders loud: use legacy"),
    ("ApiRateLimitHeadersAdmitted maybe", "ApiRateLimitHeadersAdmitted"),
    ("ApiRateLimitMaxDelayed -1", "ApiRateLimitMaxDelayed -1: give a number"),
    ("ApiRateLimitMaxDelayed many", "ApiRateLimitMaxDelayed many"),
    ("<VirtualHost 127.0.0.1:@PORT@>\nApiRateLimitMaxDelayed 5\n"
     "</VirtualHost>", "cannot occur within <VirtualHost>"),
]


@pytest.mark.parametrize("conf,message", CONFIG_ERRORS,
                         ids=[c[1][:30] for c in CONFIG_ERRORS])
def test_config_errors(configtest, conf, message):
    ok, out = configtest(conf + "\n")
    assert not ok, out
    assert message in out, out


def test_config_error_names_file_and_line(configtest):
    # a directive's own error: httpd names the file and line
    ok, out = configtest("\n\nApiRateLimit average=1 period=1s burst=-1\n")
    assert not ok
    assert "burst=-1 is not a whole number" in out
    assert "line %d of %s" % (configtest.line("burst=-1"), configtest.path) \
        in out, out


def test_tier_limit_without_tiers_fails_with_its_line(configtest):
    # only the whole configuration shows it: logged with the recorded line
    ok, out = configtest("<Location /a>\n"
                         "ApiRateLimit average=1 period=1s name=p "
                         "tier=header:X-Plan\n</Location>\n")
    assert not ok, out
    assert "AGW01010" in out
    assert "%s:%d" % (configtest.path, configtest.line("name=p")) in out, out
    assert "has tier= but no ApiRateLimitTier p line" in out


def test_valid_config_passes(configtest):
    ok, out = configtest("""
ApiRateLimitMaxDelayed 8
ApiRateLimitHeaders draft
ApiRateLimit average=100 period=1s burst=20 by=ip name=per-ip delay=250ms
<Location /a>
  ApiRateLimitHeaders both
  ApiRateLimitHeadersAdmitted Off
  ApiRateLimit name=plan average=10 period=1m "by=header:X-Key,expr:%{REMOTE_USER}" tier=env:PLAN
  ApiRateLimitTier plan gold platinum average=1000 burst=200 delay=1s
  ApiRateLimitTier plan silver average=100 period=1s
  ApiRateLimitTier plan internal average=0
</Location>
<Location /st>
  SetHandler apigw-ratelimit-status
  Require ip 127.0.0.1
</Location>
""")
    assert ok, out

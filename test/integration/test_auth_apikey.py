# API keys at the gateway (mod_apigw_auth, `AuthType apikey`), end to end:
# a key file of SHA-256 hashes with names and roles; the key in X-API-Key,
# in a header of the operator's choice or as a Bearer token; unknown and
# missing keys (401), a wrong role (403), r->user in the access log and to
# the rate limiter (a bucket per key), an oversized key, keys never in the
# error log, and configtest errors naming the file and line.
import hashlib
import os
import re
import secrets
import time

import pytest
import requests

from auth_util import REALM, config_at, expect_401, json_body, write_file

AUTH = 'AuthType apikey\n  AuthName "%s"' % REALM

KEYS = {"alice": secrets.token_urlsafe(32), "bob": secrets.token_urlsafe(32),
        "carol": secrets.token_urlsafe(24), "ci-bot": secrets.token_urlsafe(40)}


def sha(key):
    return hashlib.sha256(key.encode()).hexdigest()


def key_file_text():
    return f"""# API keys of the tests: NAME SHA256 [ROLES]
alice {sha(KEYS["alice"])} admin,read

bob\t{sha(KEYS["bob"]).upper()}\tread
  # an indented comment
carol {sha(KEYS["carol"])}
ci-bot {sha(KEYS["ci-bot"])} deploy,read
"""


@pytest.fixture
def key_file(world_readable_dir):
    return write_file(os.path.join(world_readable_dir, "apikeys"), key_file_text())


def ep(b, path, key_file, body, bpath=None):
    return f"""
<ApiEndpoint "{path}">
  ApiBackend {b.url}{bpath or path}
  {AUTH}
  ApiKeyFile {key_file}
  {body.strip()}
</ApiEndpoint>
"""


def conf(b, key_file):
    return (ep(b, "/v1/any", key_file, "Require valid-user")
            + ep(b, "/v1/admin", key_file, "Require apikey-role admin")
            + ep(b, "/v1/read", key_file, "Require apikey-role read deploy")
            + ep(b, "/v1/custom", key_file, "ApiKeyHeader X-Gateway-Key\n"
                 "  Require valid-user")
            + ep(b, "/v1/who", key_file, 'RequestHeader set X-Remote-User '
                 '"expr=%{REMOTE_USER}"\n  Require valid-user')
            + f"""
<Location "/loc/">
  ProxyPass "{b.url}/loc/"
  {AUTH}
  ApiKeyFile {key_file}
  Require apikey-role read
</Location>
""")


def get(gw, path, key=None, header="X-API-Key", headers=None):
    h = dict(headers or {})
    if key is not None:
        h[header] = key
    return requests.get(gw.url(path), headers=h, timeout=10)


def expect_apikey_401(r):
    return expect_401(r, scheme="ApiKey")


def test_known_key_passes_unknown_and_missing_refused(backend, gateway, key_file):
    gw = gateway(conf(backend, key_file))
    for name, key in KEYS.items():
        r = get(gw, "/v1/any", key)
        assert r.status_code == 200, (name, r.text)
        assert r.json()["path"] == "/v1/any"
    before = backend.stats()["requests"]
    for bad in ["", "nope", KEYS["alice"][:-1], KEYS["alice"] + "x",
                KEYS["alice"].upper() if KEYS["alice"].upper() != KEYS["alice"] else "X",
                sha(KEYS["alice"])]:                 # the hash is not the key
        r = get(gw, "/v1/any", bad)
        assert r.status_code == 401, (bad, r.status_code)
        expect_apikey_401(r)
    r = get(gw, "/v1/any")
    expect_apikey_401(r)
    assert r.headers["WWW-Authenticate"].startswith('ApiKey realm="%s"' % REALM)
    assert backend.stats()["requests"] == before


def test_bearer_form(backend, gateway, key_file):
    gw = gateway(conf(backend, key_file))
    for scheme in ("Bearer", "bearer"):
        r = get(gw, "/v1/any", headers={"Authorization": "%s %s" % (scheme, KEYS["bob"])})
        assert r.status_code == 200, (scheme, r.text)
    expect_apikey_401(get(gw, "/v1/any", headers={"Authorization": "Bearer nope"}))
    expect_apikey_401(get(gw, "/v1/any", headers={"Authorization": "Basic " + KEYS["bob"]}))


def test_custom_header(backend, gateway, key_file):
    gw = gateway(conf(backend, key_file))
    assert get(gw, "/v1/custom", KEYS["carol"], header="X-Gateway-Key").status_code == 200
    assert get(gw, "/v1/custom", KEYS["carol"], header="x-gateway-key").status_code == 200
    # the default header is not read where another is named
    expect_apikey_401(get(gw, "/v1/custom", KEYS["carol"], header="X-API-Key"))
    # Bearer still is
    r = get(gw, "/v1/custom", headers={"Authorization": "Bearer " + KEYS["carol"]})
    assert r.status_code == 200


@pytest.mark.allow_log("AH01631")
def test_roles(backend, gateway, key_file):
    gw = gateway(conf(backend, key_file))
    assert get(gw, "/v1/admin", KEYS["alice"]).status_code == 200
    before = backend.stats()["requests"]
    for name in ("bob", "carol", "ci-bot"):
        r = get(gw, "/v1/admin", KEYS[name])
        assert r.status_code == 403, (name, r.status_code)
        json_body(r, 403)
    expect_apikey_401(get(gw, "/v1/admin", "nope"))
    assert backend.stats()["requests"] == before
    # any of several roles
    for name in ("alice", "bob", "ci-bot"):
        assert get(gw, "/v1/read", KEYS[name]).status_code == 200, name
    json_body(get(gw, "/v1/read", KEYS["carol"]), 403)
    # in a <Location> with ProxyPass
    r = get(gw, "/loc/x", KEYS["bob"])
    assert r.status_code == 200 and r.json()["path"] == "/loc/x"
    json_body(get(gw, "/loc/x", KEYS["carol"]), 403)
    expect_apikey_401(get(gw, "/loc/x"))


def test_user_is_the_key_name(backend, gateway, key_file):
    gw = gateway(conf(backend, key_file))
    r = get(gw, "/v1/who", KEYS["ci-bot"])
    assert r.status_code == 200
    assert r.json()["headers"].get("X-Remote-User") == "ci-bot", r.json()["headers"]
    # the key itself does not reach the backend
    assert KEYS["ci-bot"] not in r.text
    log = gw.wait_access_log('"GET /v1/who HTTP/1.1" 200')
    assert any(" - ci-bot [" in l for l in log.splitlines()), log
    assert KEYS["ci-bot"] not in log


def test_rate_limit_per_key(backend, gateway, key_file):
    gw = gateway(ep(backend, "/v1/limited", key_file, """Require valid-user
  ApiRateLimit average=3 period=1m burst=3 by=expr:%{REMOTE_USER}"""))
    s = requests.Session()

    def status(name):
        return s.get(gw.url("/v1/limited"), headers={"X-API-Key": KEYS[name]},
                     timeout=10).status_code

    assert [status("alice") for _ in range(4)] == [200, 200, 200, 429]
    # bob has a bucket of his own
    assert [status("bob") for _ in range(4)] == [200, 200, 200, 429]
    assert status("alice") == 429
    # carol too; an unknown key is refused before the limiter counts it
    for _ in range(5):
        assert s.get(gw.url("/v1/limited"), headers={"X-API-Key": "nope"}).status_code == 401
    assert status("carol") == 200


@pytest.mark.allow_log("AH00561", "AH00567", "AH00566")
def test_oversized_keys(backend, gateway, key_file):
    gw = gateway(conf(backend, key_file))
    before = backend.stats()["requests"]
    for n in (600, 4000, 10 * 1024):
        r = get(gw, "/v1/any", "k" * n)
        assert r.status_code in (400, 401, 431), (n, r.status_code)
        if r.status_code == 401:
            expect_apikey_401(r)
        r = get(gw, "/v1/any", headers={"Authorization": "Bearer " + "k" * n})
        assert r.status_code in (400, 401, 431), (n, r.status_code)
    assert backend.stats()["requests"] == before
    assert get(gw, "/v1/any", KEYS["alice"]).status_code == 200


def test_keys_never_logged(backend, gateway, key_file):
    gw = gateway("LogLevel warn apigw_auth:debug\n" + conf(backend, key_file))
    unknown = secrets.token_urlsafe(30)
    assert get(gw, "/v1/any", unknown).status_code == 401
    assert get(gw, "/v1/any", KEYS["alice"]).status_code == 200
    assert get(gw, "/v1/any", headers={"Authorization": "Bearer " + unknown + "y"}
               ).status_code == 401
    time.sleep(0.3)
    text = gw.error_log_text()
    assert re.search(r"\[apigw_auth:debug\]", text), text[-2000:]
    assert unknown not in text
    assert KEYS["alice"] not in text


def test_configtest_bad_key_file_lines(configtest, world_readable_dir):
    good = sha("k")
    cases = [
        ("bad-hash", "alice %s\nbob 1234\n" % good, 2),
        ("bad-hex", "# c\n\nalice %s\n" % ("z" * 64), 3),
        ("bad-name", "al/ice %s\n" % good, 1),
        ("dup-name", "alice %s\nalice %s\n" % (good, sha("other")), 2),
        ("dup-hash", "alice %s\nbob %s\n" % (good, good), 2),
        ("bad-role", "alice %s ad min!\n" % good, 1),
    ]
    for name, text, line in cases:
        path = write_file(os.path.join(world_readable_dir, "keys-" + name), text)
        conf = f"""
<ApiEndpoint "/v1/a">
  ApiBackend http://127.0.0.1:9/a
  {AUTH}
  ApiKeyFile {path}
  Require valid-user
</ApiEndpoint>
"""
        ok, out = configtest(conf)
        assert not ok, (name, out)
        assert path in out, (name, out)
        assert re.search(r"\bline %d\b" % line, out.replace(
            "line %d of %s" % (configtest.line("ApiKeyFile"), configtest.path), "")), \
            (name, out)
        assert config_at(out, configtest.path, configtest.line("ApiKeyFile")), (name, out)
    # a missing file
    ok, out = configtest(f"""
<ApiEndpoint "/v1/a">
  ApiBackend http://127.0.0.1:9/a
  {AUTH}
  ApiKeyFile {world_readable_dir}/no-such-file
  Require valid-user
</ApiEndpoint>
""")
    assert not ok and "no-such-file" in out, out
    # the good file passes
    path = write_file(os.path.join(world_readable_dir, "keys-good"), key_file_text())
    ok, out = configtest(f"""
<ApiEndpoint "/v1/a">
  ApiBackend http://127.0.0.1:9/a
  {AUTH}
  ApiKeyFile {path}
  ApiKeyHeader X-Key
  Require apikey-role admin read
</ApiEndpoint>
""")
    assert ok, out


SHMCB = """<IfModule !socache_shmcb_module>
  LoadModule socache_shmcb_module /usr/lib/apache2/modules/mod_socache_shmcb.so
</IfModule>
"""


def test_authenticated_answers_are_not_shared_by_the_cache(backend, gateway,
                                                          key_file):
    """The response cache never serves one caller's answer to another: a
    request an API key authenticated is like one with Authorization
    (neither served from nor stored), unless the endpoint says
    `ApiCache On authorization`."""
    gw = gateway(SHMCB
                 + ep(backend, "/v1/cached", key_file,
                      "ApiCache On\n  ApiCacheTTL 60s\n  Require valid-user")
                 + ep(backend, "/v1/shared", key_file,
                      "ApiCache On authorization\n  ApiCacheTTL 60s\n"
                      "  Require valid-user"))
    before = backend.stats()["requests"]
    for name in ("alice", "bob", "alice"):
        r = requests.get(gw.url("/v1/cached"),
                         headers={"X-API-Key": KEYS[name]}, timeout=5)
        assert r.status_code == 200, r.text
        assert r.headers.get("X-Cache") != "HIT"
    assert backend.stats()["requests"] == before + 3
    # the endpoint that says its answer does not depend on who asks
    hits = []
    for name in ("alice", "bob"):
        r = requests.get(gw.url("/v1/shared"),
                         headers={"X-API-Key": KEYS[name]}, timeout=5)
        assert r.status_code == 200, r.text
        hits.append(r.headers.get("X-Cache"))
    assert hits[1] == "HIT", hits
    # access control still runs on a hit
    expect_401(requests.get(gw.url("/v1/shared"), timeout=5),
               scheme="ApiKey")

# JWT validation at the gateway (mod_apigw_auth, `AuthType jwt`), end to
# end: tokens made here with real keys (RSA 2048 RS256/PS256, EC P-256
# ES256 and P-384 ES384, Ed25519 EdDSA, HMAC HS256), keys from files (JWK
# set, one JWK, PEM keys and certificates), from the process environment
# (secret:) and from JWK-set URLs served by test/backends/jwks_backend.py
# (fetch counts, rotation, a storm of unknown kids, the key server down);
# forged and malformed tokens; the registered claims; the Require
# providers (jwt-claim, jwt-scope, jwt-role) alone and with <RequireAny>,
# <RequireAll> and Require ip; claims propagated to the backend; r->user;
# the cookie and header sources; the verified-token cache; configtest
# errors; and KrakenD's jwt_1/2/3/5 conformance cases.
import concurrent.futures
import json
import os
import re
import secrets
import socket
import time
import uuid

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from auth_util import (AUD, ISS, REALM, b64u, b64u_json, bearer, claims,
                       config_at, expect_401, expect_403, forge, get, json_body,
                       jwk, jwks, keys, poll_until, public_pem,
                       self_signed_cert_pem, sign, signature_part, tls_files,
                       wait_status, write_file)
from conftest import free_port

AUTH = 'AuthType jwt\n  AuthName "%s"' % REALM

# the tags of the key server's failure (logged once per failing episode)
JWKS_FAILING = "AGW03002"


def ep(b, path, body, bpath=None, methods=""):
    """An <ApiEndpoint> with `AuthType jwt` and body's directives."""
    return f"""
<ApiEndpoint "{path}"{(' ' + methods) if methods else ''}>
  ApiBackend {b.url}{bpath or path}
  {AUTH}
  {body.strip()}
</ApiEndpoint>
"""


@pytest.fixture
def kf(world_readable_dir):
    """The key files: all.json (a JWK set of every test key, kids rsa1,
    ec256, ec384, ed1, hs1), rsa2.pem (a public key PEM), cert.pem (a
    certificate of ec256b), single.json (one JWK: ec384, no kid)."""
    K = keys()
    d = world_readable_dir

    class Files:
        dir = d
        all = write_file(os.path.join(d, "all.json"), jwks(
            jwk(K.rsa, "rsa1"), jwk(K.ec256, "ec256"), jwk(K.ec384, "ec384"),
            jwk(K.ed, "ed1"), jwk(K.hmac, "hs1")))
        pem = write_file(os.path.join(d, "rsa2.pem"), public_pem(K.rsa2))
        cert = write_file(os.path.join(d, "cert.pem"), self_signed_cert_pem(K.ec256b))
        single = write_file(os.path.join(d, "single.json"), jwk(K.ec384))
    return Files


def backend_saw(r):
    """The echo backend's view of the request (headers as sent)."""
    assert r.status_code == 200, (r.status_code, r.text[:300])
    return r.json()


def header_of(doc, name):
    for k, v in doc["headers"].items():
        if k.lower() == name.lower():
            return v
    return None


def rsa_sign(key, data, alg="RS256"):
    h = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(),
         "RS512": hashes.SHA512()}[alg]
    return key.sign(data, padding.PKCS1v15(), h)


def rs256_forge(header, payload_part, key=None):
    """An RS256 token over a hand-made header (dict) and payload (dict or
    encoded string), with a real signature by key (default keys().rsa)."""
    h = b64u_json(header)
    p = payload_part if isinstance(payload_part, str) else b64u_json(payload_part)
    sig = rsa_sign(key or keys().rsa, ("%s.%s" % (h, p)).encode())
    return "%s.%s.%s" % (h, p, b64u(sig))


# ================================================================ keys

def test_every_algorithm_with_a_file_jwk_set(backend, gateway, kf):
    K = keys()
    gw = gateway(ep(backend, "/v1/any", f"ApiJwtKeys file:{kf.all}\n  Require valid-user"))
    cases = [(K.rsa, "RS256", "rsa1"), (K.rsa, "RS384", "rsa1"),
             (K.rsa, "RS512", "rsa1"), (K.rsa, "PS256", "rsa1"),
             (K.rsa, "PS512", "rsa1"), (K.ec256, "ES256", "ec256"),
             (K.ec384, "ES384", "ec384"), (K.ed, "EdDSA", "ed1"),
             (K.hmac, "HS256", "hs1"), (K.hmac, "HS512", "hs1")]
    for key, alg, kid in cases:
        r = get(gw, "/v1/any", sign(key, alg, claims(sub="u-" + alg), kid=kid))
        doc = backend_saw(r)
        assert doc["path"] == "/v1/any", alg
    # without a kid: the first key that fits the algorithm
    for key, alg in [(K.rsa, "RS256"), (K.ec384, "ES384"), (K.ed, "EdDSA"),
                     (K.hmac, "HS256")]:
        assert get(gw, "/v1/any", sign(key, alg, claims())).status_code == 200, alg
    # a key that is not in the set: refused with invalid_token
    before = backend.stats()["requests"]
    for key, alg, kid in [(K.rsa2, "RS256", "rsa1"), (K.ec256b, "ES256", "ec256"),
                          (K.rsa2, "RS256", None), (os.urandom(32), "HS256", "hs1")]:
        expect_401(get(gw, "/v1/any", sign(key, alg, claims(), kid=kid)))
    assert backend.stats()["requests"] == before


def test_pem_certificate_single_jwk_and_secret_sources(backend, gateway, kf):
    K = keys()
    secret = secrets.token_urlsafe(40)           # 54 bytes of the environment
    conf = (ep(backend, "/v1/pem", f"ApiJwtKeys file:{kf.pem}\n  Require valid-user")
            + ep(backend, "/v1/cert", f"ApiJwtKeys file:{kf.cert}\n  Require valid-user")
            + ep(backend, "/v1/single", f"ApiJwtKeys file:{kf.single}\n  Require valid-user")
            + ep(backend, "/v1/secret", "ApiJwtKeys secret:APIGW_TEST_JWT_SECRET\n"
                 "  Require valid-user")
            + ep(backend, "/v1/two", f"ApiJwtKeys file:{kf.pem}\n"
                 f"  ApiJwtKeys file:{kf.single}\n  Require valid-user"))
    gw = gateway(conf, env={"APIGW_TEST_JWT_SECRET": secret})
    t_pem = sign(K.rsa2, "RS256", claims())
    t_ps = sign(K.rsa2, "PS384", claims())
    t_cert = sign(K.ec256b, "ES256", claims())
    t_single = sign(K.ec384, "ES384", claims())
    t_secret = sign(secret.encode(), "HS256", claims())
    assert get(gw, "/v1/pem", t_pem).status_code == 200
    assert get(gw, "/v1/pem", t_ps).status_code == 200
    assert get(gw, "/v1/cert", t_cert).status_code == 200
    assert get(gw, "/v1/single", t_single).status_code == 200
    assert get(gw, "/v1/secret", t_secret).status_code == 200
    # sources add up
    assert get(gw, "/v1/two", t_pem).status_code == 200
    assert get(gw, "/v1/two", t_single).status_code == 200
    # each source only verifies with its own keys
    for path, token in [("/v1/pem", t_cert), ("/v1/cert", t_pem),
                        ("/v1/single", t_secret), ("/v1/secret", t_pem),
                        ("/v1/two", t_cert),
                        ("/v1/secret", sign(secret.encode()[:-1] + b"x", "HS256",
                                            claims()))]:
        expect_401(get(gw, path, token))


def test_secret_rotation_tokens_without_kid(backend, gateway):
    """Two secrets while one replaces the other: a token without a kid is
    tried with each key that fits its algorithm, so tokens of the old and
    of the new secret pass, and a third secret's do not."""
    old, new = secrets.token_urlsafe(40), secrets.token_urlsafe(40)
    gw = gateway(ep(backend, "/v1/rot", "ApiJwtKeys secret:APIGW_OLD\n"
                    "  ApiJwtKeys secret:APIGW_NEW\n  Require valid-user"),
                 env={"APIGW_OLD": old, "APIGW_NEW": new})
    for secret in (old, new):
        r = get(gw, "/v1/rot", sign(secret.encode(), "HS256", claims()))
        assert r.status_code == 200, r.text
    expect_401(get(gw, "/v1/rot", sign(secrets.token_bytes(40), "HS256",
                                       claims())))


@pytest.mark.allow_log(pattern=r"(?i)(skip|small|short|bits|bytes|refus)")
def test_small_rsa_key_and_short_hmac_secret_refused(backend, gateway,
                                                     world_readable_dir):
    K = keys()
    path = write_file(os.path.join(world_readable_dir, "mixed.json"), jwks(
        jwk(K.rsa_small, "small"), jwk(K.hmac_short, "short"),
        jwk(K.rsa, "good"), jwk(K.hmac, "hgood")))
    gw = gateway(ep(backend, "/v1/x", f"ApiJwtKeys file:{path}\n  Require valid-user"))
    assert get(gw, "/v1/x", sign(K.rsa, "RS256", claims(), kid="good")).status_code == 200
    assert get(gw, "/v1/x", sign(K.hmac, "HS256", claims(), kid="hgood")).status_code == 200
    expect_401(get(gw, "/v1/x", sign(K.rsa_small, "RS256", claims(), kid="small")))
    expect_401(get(gw, "/v1/x", sign(K.rsa_small, "RS256", claims())))
    expect_401(get(gw, "/v1/x", sign(K.hmac_short, "HS256", claims(), kid="short")))
    expect_401(get(gw, "/v1/x", sign(K.hmac_short, "HS256", claims())))


# ================================================================ answers

def test_missing_token_401_without_error(backend, gateway, kf):
    gw = gateway(ep(backend, "/v1/any", f"ApiJwtKeys file:{kf.all}\n  Require valid-user"))
    before = backend.stats()["requests"]
    r = get(gw, "/v1/any")
    expect_401(r, invalid=False)
    assert r.headers["WWW-Authenticate"].startswith('Bearer realm="%s"' % REALM), \
        r.headers["WWW-Authenticate"]
    # another scheme is no token either
    expect_401(get(gw, "/v1/any", headers={"Authorization": "Basic YWxpY2U6cHc="}),
               invalid=False)
    r = get(gw, "/v1/any", headers={"Authorization": "Bearer"})
    assert r.status_code == 401
    assert backend.stats()["requests"] == before


def test_bearer_scheme_is_case_insensitive(backend, gateway, kf):
    K = keys()
    gw = gateway(ep(backend, "/v1/any", f"ApiJwtKeys file:{kf.all}\n  Require valid-user"))
    t = sign(K.ec256, "ES256", claims(), kid="ec256")
    for scheme in ("Bearer", "bearer", "BEARER", "bEaReR"):
        r = requests.get(gw.url("/v1/any"), headers=bearer(t, scheme))
        assert r.status_code == 200, (scheme, r.text)


def test_invalid_token_401_with_invalid_token_error(backend, gateway, kf):
    K = keys()
    gw = gateway(ep(backend, "/v1/any", f"ApiJwtKeys file:{kf.all}\n  Require valid-user"))
    before = backend.stats()["requests"]
    good = sign(K.rsa, "RS256", claims(), kid="rsa1")
    h, p, s = good.split(".")
    # one bit of the signature flipped
    sig = bytearray(__import__("base64").urlsafe_b64decode(s + "=="))
    sig[10] ^= 1
    expect_401(get(gw, "/v1/any", "%s.%s.%s" % (h, p, b64u(bytes(sig)))))
    # the payload changed under the signature
    expect_401(get(gw, "/v1/any", "%s.%s.%s" % (h, b64u_json(claims(sub="root")), s)))
    assert backend.stats()["requests"] == before
    assert get(gw, "/v1/any", good).status_code == 200


# ================================================================ claims

def strict_conf(b, kf):
    return (ep(b, "/v1/strict", f"""ApiJwtKeys file:{kf.all}
  ApiJwtIssuer {ISS} https://other-issuer.test
  ApiJwtAudience api://elsewhere {AUD}
  Require valid-user""")
            + ep(b, "/v1/leeway", f"""ApiJwtKeys file:{kf.all}
  ApiJwtIssuer {ISS}
  ApiJwtLeeway 30s
  Require valid-user"""))


def test_exp_nbf_iat_iss_aud(backend, gateway, kf):
    K = keys()
    gw = gateway(strict_conf(backend, kf))
    now = int(time.time())

    def t(**kw):
        return sign(K.ec256, "ES256", claims(**kw), kid="ec256")

    ok = [t(), t(iss="https://other-issuer.test"), t(aud=["x", AUD]),
          t(aud="api://elsewhere"), t(exp=None), t(iat=None), t(nbf=now - 5)]
    for token in ok:
        assert get(gw, "/v1/strict", token).status_code == 200, token
    before = backend.stats()["requests"]
    bad = {"expired": t(exp=now - 10), "nbf-future": t(nbf=now + 120),
           "iat-future": t(iat=now + 600), "wrong-iss": t(iss="https://evil.test"),
           "no-iss": t(iss=None), "wrong-aud": t(aud="api://other"),
           "aud-array-wrong": t(aud=["a", "b"]), "no-aud": t(aud=None),
           "exp-string": t(exp=str(now + 300)), "iss-case": t(iss=ISS.upper())}
    for why, token in bad.items():
        r = get(gw, "/v1/strict", token)
        assert r.status_code == 401, (why, r.status_code)
        expect_401(r)
    assert backend.stats()["requests"] == before


def test_leeway(backend, gateway, kf):
    K = keys()
    gw = gateway(strict_conf(backend, kf))
    now = int(time.time())

    def t(**kw):
        return sign(K.ed, "EdDSA", claims(**kw), kid="ed1")

    # 10 s out: inside 30 s of leeway, outside none
    assert get(gw, "/v1/leeway", t(exp=now - 10)).status_code == 200
    assert get(gw, "/v1/leeway", t(nbf=now + 10)).status_code == 200
    assert get(gw, "/v1/leeway", t(iat=now + 10)).status_code == 200
    expect_401(get(gw, "/v1/strict", t(exp=now - 10)))
    expect_401(get(gw, "/v1/strict", t(nbf=now + 10)))
    # beyond the leeway
    expect_401(get(gw, "/v1/leeway", t(exp=now - 90)))
    expect_401(get(gw, "/v1/leeway", t(nbf=now + 90)))


def test_algorithms_restricted(backend, gateway, kf):
    K = keys()
    gw = gateway(ep(backend, "/v1/rs", f"""ApiJwtKeys file:{kf.all}
  ApiJwtAlgorithms RS256 ES256
  Require valid-user"""))
    assert get(gw, "/v1/rs", sign(K.rsa, "RS256", claims(), kid="rsa1")).status_code == 200
    assert get(gw, "/v1/rs", sign(K.ec256, "ES256", claims(), kid="ec256")).status_code == 200
    for key, alg, kid in [(K.rsa, "PS256", "rsa1"), (K.rsa, "RS512", "rsa1"),
                          (K.ec384, "ES384", "ec384"), (K.ed, "EdDSA", "ed1"),
                          (K.hmac, "HS256", "hs1")]:
        expect_401(get(gw, "/v1/rs", sign(key, alg, claims(), kid=kid)))


# ================================================================ attacks

def test_alg_none_refused(backend, gateway, kf):
    gw = gateway(ep(backend, "/v1/any", f"ApiJwtKeys file:{kf.all}\n  Require valid-user"))
    before = backend.stats()["requests"]
    c = claims()
    for alg in ("none", "None", "NONE", "nOnE", ""):
        for kid in (None, "rsa1", "hs1"):
            h = {"alg": alg, "typ": "JWT"}
            if kid:
                h["kid"] = kid
            for sig in (b"", b"x" * 32):
                r = get(gw, "/v1/any", forge(h, c, sig=sig))
                assert r.status_code == 401, (alg, kid, sig, r.status_code)
                expect_401(r)
    assert backend.stats()["requests"] == before


def test_hs256_signed_with_the_rsa_public_key_refused(backend, gateway, kf):
    """The classic key confusion: the RSA public key (as PEM, as the JWK's
    n, as DER) used as an HMAC secret."""
    K = keys()
    gw = gateway(ep(backend, "/v1/any", f"ApiJwtKeys file:{kf.all}\n  Require valid-user")
                 + ep(backend, "/v1/pem", f"ApiJwtKeys file:{kf.pem}\n  Require valid-user"))
    before = backend.stats()["requests"]
    from cryptography.hazmat.primitives import serialization
    for key, path, kid in [(K.rsa, "/v1/any", "rsa1"), (K.rsa, "/v1/any", None),
                           (K.rsa2, "/v1/pem", None)]:
        pub = key.public_key()
        candidates = [public_pem(key).encode(),
                      public_pem(key).strip().encode(),
                      pub.public_bytes(serialization.Encoding.DER,
                                       serialization.PublicFormat.SubjectPublicKeyInfo),
                      pub.public_bytes(serialization.Encoding.PEM,
                                       serialization.PublicFormat.PKCS1),
                      json.dumps(jwk(key)).encode()]
        for secret in candidates:
            for alg in ("HS256", "HS512"):
                h = {"alg": alg, "typ": "JWT"}
                if kid:
                    h["kid"] = kid
                r = get(gw, path, forge(h, claims(), secret=secret))
                assert r.status_code == 401, (path, kid, alg, r.status_code)
                expect_401(r)
    assert backend.stats()["requests"] == before


def test_stripped_signature_refused(backend, gateway, kf):
    K = keys()
    gw = gateway(ep(backend, "/v1/any", f"ApiJwtKeys file:{kf.all}\n  Require valid-user"))
    for key, alg, kid in [(K.rsa, "RS256", "rsa1"), (K.hmac, "HS256", "hs1"),
                          (K.ed, "EdDSA", "ed1")]:
        h, p, _ = sign(key, alg, claims(), kid=kid).split(".")
        expect_401(get(gw, "/v1/any", "%s.%s." % (h, p)))
        expect_401(get(gw, "/v1/any", "%s.%s" % (h, p)))


def test_kid_of_a_key_of_another_type_refused(backend, gateway, kf):
    K = keys()
    gw = gateway(ep(backend, "/v1/any", f"ApiJwtKeys file:{kf.all}\n  Require valid-user"))
    cases = [(K.ec256, "ES256", "rsa1"), (K.rsa, "RS256", "ec256"),
             (K.rsa, "PS256", "hs1"), (K.ed, "EdDSA", "ec256"),
             (K.ec256, "ES256", "ed1"),
             # the curve must match the algorithm: ES384 with the P-256 key
             (K.ec256, "ES384", "ec256"), (K.ec384, "ES256", "ec384"),
             # HMAC with the bytes of another key's kid
             (K.hmac, "HS256", "rsa1")]
    for key, alg, kid in cases:
        r = get(gw, "/v1/any", sign(key, alg, claims(), kid=kid))
        assert r.status_code == 401, (alg, kid, r.status_code)
        expect_401(r)


def test_malformed_tokens_refused(backend, gateway, kf):
    K = keys()
    gw = gateway(ep(backend, "/v1/any", f"ApiJwtKeys file:{kf.all}\n  Require valid-user"))
    good = sign(K.rsa, "RS256", claims(), kid="rsa1")
    h, p, s = good.split(".")
    rh = b64u_json({"alg": "RS256", "kid": "rsa1"})
    deep = '{"a":' + "[" * 2500 + "]" * 2500 + "}"     # past jansson's 2048
    bad = {
        "header-bad-b64": "!!!." + p + "." + s,
        "header-not-json": b64u("not json") + "." + p + "." + s,
        "header-array": b64u("[1,2]") + "." + p + "." + s,
        "header-truncated-json": b64u('{"alg":"RS256","kid":"rsa1"') + "." + p + "." + s,
        "header-alg-number": rs256_forge({"alg": 256, "kid": "rsa1"}, claims()),
        "header-no-alg": rs256_forge({"kid": "rsa1"}, claims()),
        "header-kid-number": rs256_forge({"alg": "RS256", "kid": 7}, claims()),
        "header-crit": rs256_forge({"alg": "RS256", "kid": "rsa1",
                                    "crit": ["exp"]}, claims()),
        "header-padded": h + "==." + p + "." + s,
        "payload-bad-b64": h + ".***." + s,
        "payload-not-json": rs256_forge({"alg": "RS256", "kid": "rsa1"}, b64u("not json")),
        "payload-string": rs256_forge({"alg": "RS256", "kid": "rsa1"}, b64u('"alice"')),
        "payload-array": rs256_forge({"alg": "RS256", "kid": "rsa1"}, b64u("[]")),
        "payload-truncated": rs256_forge({"alg": "RS256", "kid": "rsa1"},
                                         b64u('{"sub":"alice"')),
        "payload-not-utf8": rs256_forge({"alg": "RS256", "kid": "rsa1"},
                                        b64u(b'{"sub":"\xff\xfe"}')),
        "payload-deep": forge({"alg": "HS256", "kid": "hs1"}, b64u(deep),
                              secret=K.hmac),
        "payload-padded": h + "." + p + "=." + s,
        "sig-bad-b64": h + "." + p + ".%%%%",
        "sig-truncated": h + "." + p + "." + s[:-6],
        "sig-len-1-mod-4": h + "." + p + "." + s + "A",
        "sig-standard-b64": h + "." + p + "." + s.replace("-", "+").replace("_", "/") + "+/",
        "two-parts": h + "." + p,
        "four-parts": good + "." + s,
        "dots": "...",
        "one-word": "abcdef",
        "spaces-inside": h + ". " + p + "." + s,
        "percent": h + "." + p + "." + s + "%00",
    }
    before = backend.stats()["requests"]
    for why, token in bad.items():
        r = get(gw, "/v1/any", token)
        assert r.status_code == 401, (why, r.status_code, r.text[:200])
        expect_401(r)
    assert backend.stats()["requests"] == before
    # the same header valid again: the gateway is fine
    assert rh and get(gw, "/v1/any", good).status_code == 200


def send_huge_header(port, value_len, path="/v1/any"):
    """A request with an Authorization header of value_len bytes: the
    status, or None when the server closed without answering."""
    head = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            "Authorization: Bearer " % path).encode()
    body = b"a" * value_len + b"\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        try:
            s.sendall(head + body)
        except OSError:
            pass
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    return int(m.group(1)) if m else None


@pytest.mark.allow_log("AH00561", "AH00567", "AH00566")
def test_huge_authorization_header(backend, gateway, kf):
    K = keys()
    conf = ("LimitRequestFieldSize 100000\n"
            + ep(backend, "/v1/any", f"ApiJwtKeys file:{kf.all}\n  Require valid-user"))
    gw = gateway(conf)
    before = backend.stats()["requests"]
    # 1 MB: httpd's own limit refuses it
    st = send_huge_header(gw.port, 1024 * 1024)
    assert st in (400, 413, 431, 401, None), st
    assert st != 200
    # 50 kB: past the limit of a token, under httpd's field limit
    st = send_huge_header(gw.port, 50000)
    assert st == 401, st
    # a valid token grown past any sane size with a huge claim
    big = sign(K.hmac, "HS256", claims(pad="x" * 40000), kid="hs1")
    r = get(gw, "/v1/any", big)
    assert r.status_code == 401, r.status_code
    assert backend.stats()["requests"] == before
    assert get(gw, "/v1/any", sign(K.rsa, "RS256", claims(), kid="rsa1")).status_code == 200


@pytest.mark.allow_log("AH01631")
def test_token_and_secret_never_logged(backend, gateway, kf):
    K = keys()
    secret = secrets.token_urlsafe(40)
    conf = ("LogLevel warn apigw_auth:debug\n"
            + ep(backend, "/v1/any", f"ApiJwtKeys file:{kf.all}\n  ApiJwtIssuer {ISS}\n"
                 "  Require valid-user")
            + ep(backend, "/v1/secret", "ApiJwtKeys secret:APIGW_TEST_JWT_SECRET\n"
                 "  Require jwt-scope admin"))
    gw = gateway(conf, env={"APIGW_TEST_JWT_SECRET": secret})
    tokens = {
        "badsig": forge({"alg": "HS256", "kid": "hs1"}, claims(), secret=os.urandom(32)),
        "expired": sign(K.rsa, "RS256", claims(exp=int(time.time()) - 100), kid="rsa1"),
        "wrong-iss": sign(K.ec256, "ES256", claims(iss="https://evil.test"), kid="ec256"),
        "unknown-kid": sign(K.rsa, "RS256", claims(), kid="nope"),
        "valid": sign(K.rsa, "PS256", claims(), kid="rsa1"),
    }
    for why, token in tokens.items():
        r = get(gw, "/v1/any", token)
        assert r.status_code == (200 if why == "valid" else 401), why
    forbidden = sign(secret.encode(), "HS256", claims(scope="read"))
    assert get(gw, "/v1/secret", forbidden).status_code == 403
    time.sleep(0.3)
    text = gw.error_log_text()
    # reasons are logged, at debug
    assert re.search(r"\[apigw_auth:debug\]", text), text[-2000:]
    for why, token in tokens.items():
        assert signature_part(token) not in text, why
        assert token.split(".")[1] not in text, why
    assert signature_part(forbidden) not in text
    assert secret not in text
    # 403 lines of mod_authz_core only: the test allows nothing else
    for line in text.splitlines():
        if re.search(r"\[(?:[\w.-]+:)?(error|warn)\]", line):
            assert "AH01631" in line, line


# ================================================================ Require

def require_conf(b, kf):
    keys_line = f"ApiJwtKeys file:{kf.all}"
    return (ep(b, "/v1/claim", f"{keys_line}\n  Require jwt-claim org.tier gold platinum")
            + ep(b, "/v1/group", f"{keys_line}\n  Require jwt-claim groups admins")
            + ep(b, "/v1/num", f"{keys_line}\n  Require jwt-claim level 42")
            + ep(b, "/v1/scope", f"{keys_line}\n  Require jwt-scope write")
            + ep(b, "/v1/roles", f"{keys_line}\n  Require jwt-role editor admin")
            + ep(b, "/v1/realm", f"{keys_line}\n  ApiJwtRolesClaim realm_access.roles\n"
                 "  Require jwt-role editor")
            + ep(b, "/v1/both", f"""{keys_line}
  <RequireAll>
    Require jwt-scope read
    Require jwt-claim org.tier gold
  </RequireAll>""")
            + ep(b, "/v1/local-or-token", f"""{keys_line}
  <RequireAny>
    Require ip 127.0.0.1
    Require valid-user
  </RequireAny>""")
            + ep(b, "/v1/other-ip-or-admin", f"""{keys_line}
  <RequireAny>
    Require ip 192.0.2.0/24
    Require jwt-scope admin
  </RequireAny>""")
            + ep(b, "/v1/local-and-read", f"""{keys_line}
  <RequireAll>
    Require ip 127.0.0.1
    Require jwt-scope read
  </RequireAll>""")
            + ep(b, "/v1/other-ip-and-read", f"""{keys_line}
  <RequireAll>
    Require ip 192.0.2.0/24
    Require jwt-scope read
  </RequireAll>"""))


def tok(**kw):
    return sign(keys().rsa, "RS256", claims(**kw), kid="rsa1")


@pytest.mark.allow_log("AH01631", "AH01630")
def test_require_jwt_claim(backend, gateway, kf):
    gw = gateway(require_conf(backend, kf))
    for c in [{"org": {"tier": "gold"}}, {"org": {"tier": "platinum"}},
              {"org": {"tier": ["silver", "gold"]}}]:
        assert get(gw, "/v1/claim", tok(**c)).status_code == 200, c
    assert get(gw, "/v1/group", tok(groups=["users", "admins"])).status_code == 200
    assert get(gw, "/v1/group", tok(groups="admins")).status_code == 200
    assert get(gw, "/v1/num", tok(level=42)).status_code == 200
    before = backend.stats()["requests"]
    for c in [{"org": {"tier": "silver"}}, {"org": "gold"}, {"tier": "gold"},
              {"org": {"tier": ["silver"]}}, {"org": {"tier": "GOLD"}},
              {"org": {"tier": {"gold": 1}}}, {}]:
        expect_403(get(gw, "/v1/claim", tok(**c)))
    expect_403(get(gw, "/v1/group", tok(groups=["users"])))
    expect_403(get(gw, "/v1/group", tok(groups="admins-not")))
    expect_403(get(gw, "/v1/num", tok(level=43)))
    # no token: 401, not 403
    expect_401(get(gw, "/v1/claim"), invalid=False)
    assert backend.stats()["requests"] == before


@pytest.mark.allow_log("AH01631")
def test_require_jwt_scope(backend, gateway, kf):
    gw = gateway(require_conf(backend, kf))
    for scope in ["write", "read write", "write read admin", ["write"],
                  ["read", "write"]]:
        assert get(gw, "/v1/scope", tok(scope=scope)).status_code == 200, scope
    before = backend.stats()["requests"]
    for scope in ["read", "writes", "read-write", "", ["read"], [], "Write"]:
        r = get(gw, "/v1/scope", tok(scope=scope))
        assert r.status_code == 403, (scope, r.status_code)
        expect_403(r)
    expect_403(get(gw, "/v1/scope", tok()))
    assert backend.stats()["requests"] == before


@pytest.mark.allow_log("AH01631")
def test_require_jwt_role(backend, gateway, kf):
    gw = gateway(require_conf(backend, kf))
    assert get(gw, "/v1/roles", tok(roles=["viewer", "editor"])).status_code == 200
    assert get(gw, "/v1/roles", tok(roles=["admin"])).status_code == 200
    assert get(gw, "/v1/roles", tok(roles="admin")).status_code == 200
    expect_403(get(gw, "/v1/roles", tok(roles=["viewer"])))
    # the default claim is "roles": realm_access.roles is not looked at
    expect_403(get(gw, "/v1/roles", tok(realm_access={"roles": ["editor"]})))
    keycloak = {"realm_access": {"roles": ["offline_access", "editor"]},
                "resource_access": {"app": {"roles": ["admin"]}}}
    assert get(gw, "/v1/realm", tok(**keycloak)).status_code == 200
    expect_403(get(gw, "/v1/realm", tok(roles=["editor"])))
    expect_403(get(gw, "/v1/realm", tok(realm_access={"roles": ["viewer"]})))


@pytest.mark.allow_log("AH01631", "AH01630")
def test_require_combined_with_ip(backend, gateway, kf):
    gw = gateway(require_conf(backend, kf))
    # RequireAll of two jwt providers
    assert get(gw, "/v1/both", tok(scope="read", org={"tier": "gold"})).status_code == 200
    expect_403(get(gw, "/v1/both", tok(scope="read")))
    expect_403(get(gw, "/v1/both", tok(org={"tier": "gold"})))
    # RequireAny with a matching address: no token needed
    r = get(gw, "/v1/local-or-token")
    assert r.status_code == 200, r.text
    assert get(gw, "/v1/local-or-token", tok()).status_code == 200
    # RequireAny with another address: the token decides
    assert get(gw, "/v1/other-ip-or-admin", tok(scope="admin")).status_code == 200
    expect_401(get(gw, "/v1/other-ip-or-admin"), invalid=False)
    expect_401(get(gw, "/v1/other-ip-or-admin", tok(scope="admin") + "x"))
    r = get(gw, "/v1/other-ip-or-admin", tok(scope="read"))
    assert r.status_code == 403, r.status_code
    # RequireAll with the address: both needed
    assert get(gw, "/v1/local-and-read", tok(scope="read")).status_code == 200
    expect_403(get(gw, "/v1/local-and-read", tok(scope="write")))
    expect_401(get(gw, "/v1/local-and-read"), invalid=False)
    r = get(gw, "/v1/other-ip-and-read", tok(scope="read"))
    assert r.status_code == 403, r.status_code


# ================================================================ to the backend

def propagate_conf(b, kf):
    lines = f"""ApiJwtKeys file:{kf.all}
  ApiJwtPropagate sub X-User-Id
  ApiJwtPropagate roles X-Roles
  ApiJwtPropagate org.tier X-Tier
  ApiJwtPropagate level X-Level
  ApiJwtPropagate missing X-Missing
  Require valid-user"""
    return (ep(b, "/v1/prop", lines)
            + ep(b, "/v1/prop-all", lines + "\n  ApiInputHeaders *")
            + f"""
<Location "/loc/">
  ProxyPass "{b.url}/loc/"
  {AUTH}
  {lines}
</Location>
""")


def test_claims_propagated_to_the_backend(backend, gateway, kf):
    gw = gateway(propagate_conf(backend, kf))
    t = tok(sub="alice", roles=["reader", "writer"], org={"tier": "gold"}, level=3)
    spoof = {"X-User-Id": "mallory", "X-Missing": "spoofed", "X-Tier": "platinum"}
    for path in ("/v1/prop", "/v1/prop-all", "/loc/x"):
        doc = backend_saw(get(gw, path, t, headers=spoof))
        assert header_of(doc, "X-User-Id") == "alice", (path, doc["headers"])
        assert header_of(doc, "X-Roles") == "reader,writer", (path, doc["headers"])
        assert header_of(doc, "X-Tier") == "gold", (path, doc["headers"])
        assert header_of(doc, "X-Level") == "3", (path, doc["headers"])
        # the client's copy is dropped even when the claim is missing
        assert header_of(doc, "X-Missing") is None, (path, doc["headers"])
        assert "mallory" not in json.dumps(doc), path
    # a token without those claims: none of the client's values get through
    doc = backend_saw(get(gw, "/v1/prop-all", tok(sub="bob"), headers=spoof))
    assert header_of(doc, "X-User-Id") == "bob"
    assert header_of(doc, "X-Tier") is None and header_of(doc, "X-Missing") is None
    doc = backend_saw(get(gw, "/loc/y", tok(sub="bob"), headers=spoof))
    assert header_of(doc, "X-Tier") is None and header_of(doc, "X-Missing") is None


def test_crlf_in_a_propagated_claim_is_never_sent(backend, gateway, kf):
    gw = gateway(propagate_conf(backend, kf))
    evil = ["alice\r\nX-Injected: 1", "alice\nX-Injected: 1", "alice\rX-Injected: 1"]
    for path in ("/v1/prop", "/v1/prop-all", "/loc/z"):
        for sub in evil:
            t = tok(sub=sub, org={"tier": "gold\r\nX-Injected: 2"},
                    roles=["a", "b\nX-Injected: 3"])
            r = get(gw, path, t)
            assert r.status_code in (200, 401), (path, r.status_code)
            if r.status_code != 200:
                continue
            doc = r.json()
            for k, v in doc["headers"].items():
                assert "\r" not in v and "\n" not in v, (path, k, v)
                assert k.lower() != "x-injected", (path, doc["headers"])
            assert header_of(doc, "X-User-Id") is None, (path, doc["headers"])
            assert header_of(doc, "X-Tier") is None
            assert header_of(doc, "X-Roles") is None
    # the gateway still serves
    assert backend_saw(get(gw, "/v1/prop", tok(sub="carol")))["path"] == "/v1/prop"


def test_user_in_access_log_and_remote_user(backend, gateway, kf):
    keys_line = f"ApiJwtKeys file:{kf.all}"
    conf = (ep(backend, "/v1/sub", f"""{keys_line}
  RequestHeader set X-Remote-User "expr=%{{REMOTE_USER}}"
  Require valid-user""")
            + ep(backend, "/v1/email", f"""{keys_line}
  ApiJwtUserClaim profile.email
  RequestHeader set X-Remote-User "expr=%{{REMOTE_USER}}"
  Require valid-user"""))
    gw = gateway(conf)
    doc = backend_saw(get(gw, "/v1/sub", tok(sub="user-4711")))
    assert header_of(doc, "X-Remote-User") == "user-4711", doc["headers"]
    doc = backend_saw(get(gw, "/v1/email", tok(sub="user-4712",
                                                profile={"email": "bob@example.test"})))
    assert header_of(doc, "X-Remote-User") == "bob@example.test", doc["headers"]
    log = gw.wait_access_log('"GET /v1/email HTTP/1.1" 200')
    lines = log.splitlines()
    assert any(" - user-4711 [" in l and "/v1/sub" in l for l in lines), log
    assert any(" - bob@example.test [" in l and "/v1/email" in l for l in lines), log


def test_cookie_and_header_sources(backend, gateway, kf):
    keys_line = f"ApiJwtKeys file:{kf.all}"
    conf = (ep(backend, "/v1/cookie", f"{keys_line}\n  ApiJwtCookie access_token\n"
               "  Require valid-user")
            + ep(backend, "/v1/header", f"{keys_line}\n  ApiJwtHeader X-Token\n"
                 "  Require valid-user"))
    gw = gateway(conf)
    t = tok(sub="cookie-user")
    before_total = backend.stats()["requests"]
    r = get(gw, "/v1/cookie", headers={"Cookie": "a=1; access_token=%s; b=2" % t})
    assert r.status_code == 200, r.text
    r = get(gw, "/v1/header", headers={"X-Token": t})
    assert r.status_code == 200, r.text
    # Bearer is still accepted after them
    assert get(gw, "/v1/cookie", t).status_code == 200
    assert get(gw, "/v1/header", t).status_code == 200
    # nothing anywhere: no token
    expect_401(get(gw, "/v1/cookie", headers={"Cookie": "other=%s" % t}), invalid=False)
    expect_401(get(gw, "/v1/header", headers={"X-Other": t}), invalid=False)
    # a bad token in the cookie or the header
    expect_401(get(gw, "/v1/cookie", headers={"Cookie": "access_token=%sx" % t}))
    expect_401(get(gw, "/v1/header", headers={"X-Token": "a.b.c"}))
    assert backend.stats()["requests"] - before_total == 4


def test_verified_token_cache_respects_exp(backend, gateway, kf):
    K = keys()
    for size in ("1024", "0"):
        gw = gateway(f"ApiJwtCache {size}\n"
                     + ep(backend, "/v1/any", f"ApiJwtKeys file:{kf.all}\n"
                          "  Require valid-user"))
        exp = int(time.time()) + 3
        t = sign(K.ec256, "ES256", claims(exp=exp), kid="ec256")
        s = requests.Session()
        for _ in range(5):
            assert s.get(gw.url("/v1/any"), headers=bearer(t)).status_code == 200
        time.sleep(max(0.0, exp + 1.2 - time.time()))
        r = s.get(gw.url("/v1/any"), headers=bearer(t))
        assert r.status_code == 401, (size, r.status_code)
        expect_401(r)
        # a cached token with one byte changed is not a cache hit
        t2 = sign(K.ec256, "ES256", claims(), kid="ec256")
        assert s.get(gw.url("/v1/any"), headers=bearer(t2)).status_code == 200
        expect_401(s.get(gw.url("/v1/any"), headers=bearer(t2[:-2] + ("AA" if t2[-2:] != "AA" else "BA"))))
        s.close()
        assert gw.stop() == []


def test_in_a_location_with_proxypass(backend, gateway, kf):
    conf = f"""
<Location "/plain/">
  ProxyPass "{backend.url}/plain/"
  {AUTH}
  ApiJwtKeys file:{kf.all}
  Require valid-user
</Location>
"""
    gw = gateway(conf)
    expect_401(get(gw, "/plain/a"), invalid=False)
    expect_401(get(gw, "/plain/a", "x.y.z"))
    doc = backend_saw(get(gw, "/plain/a", tok()))
    assert doc["path"] == "/plain/a"


# ================================================================ JWK set URLs

def url_ep(b, path, jwks_b, opts="insecure", body="Require valid-user", src=None):
    return ep(b, path, f"ApiJwtKeys {src or jwks_b.jwks_url} {opts}\n  {body}")


def test_jwks_url_fetched(jwks_backend, backend, gateway):
    K = keys()
    kb = jwks_backend(jwks(jwk(K.rsa, "k1"), jwk(K.ec256, "k2")))
    gw = gateway(url_ep(backend, "/v1/u", kb))
    r = wait_status(gw, "/v1/u", sign(K.rsa, "RS256", claims(), kid="k1"))
    assert r.status_code == 200, r.text
    assert get(gw, "/v1/u", sign(K.ec256, "ES256", claims(), kid="k2")).status_code == 200
    expect_401(get(gw, "/v1/u", sign(K.rsa2, "RS256", claims(), kid="k1")))
    assert 1 <= kb.count() <= 2


def test_jwks_https_with_ca(jwks_backend, backend, gateway, world_readable_dir):
    K = keys()
    cert, key, ca = tls_files(world_readable_dir)
    kb = jwks_backend(jwks(jwk(K.ed, "e1")), tls=(cert, key, ca))
    assert kb.jwks_url.startswith("https://")
    gw = gateway(f"ApiJwtKeysCA {ca}\n" + url_ep(backend, "/v1/u", kb, opts=""))
    r = wait_status(gw, "/v1/u", sign(K.ed, "EdDSA", claims(), kid="e1"))
    assert r.status_code == 200, r.text
    assert kb.count() >= 1


@pytest.mark.allow_log(JWKS_FAILING)
def test_jwks_https_certificate_is_verified(jwks_backend, backend, gateway,
                                            world_readable_dir):
    """Without the CA of the key server's certificate the keys are never
    taken: an impostor's key set must not be trusted."""
    K = keys()
    cert, key, ca = tls_files(world_readable_dir)
    kb = jwks_backend(jwks(jwk(K.ed, "e1")), tls=(cert, key, ca))
    gw = gateway(url_ep(backend, "/v1/u", kb, opts=""))
    before = backend.stats()["requests"]
    for _ in range(3):
        json_body(get(gw, "/v1/u", sign(K.ed, "EdDSA", claims(), kid="e1")), 503)
    assert backend.stats()["requests"] == before


@pytest.mark.children(2)
def test_key_rotation(jwks_backend, backend, gateway):
    K = keys()
    refresh = 2
    kb = jwks_backend(jwks(jwk(K.rsa, "old")))
    gw = gateway(url_ep(backend, "/v1/u", kb, opts="refresh=%ds insecure" % refresh))
    t_old = sign(K.rsa, "RS256", claims(), kid="old")
    assert wait_status(gw, "/v1/u", t_old).status_code == 200
    t_new = sign(K.ec256, "ES256", claims(), kid="new")
    expect_401(get(gw, "/v1/u", t_new))
    # a new key appears: accepted after at most one refetch (or the
    # periodic refresh)
    kb.write(jwks(jwk(K.rsa, "old"), jwk(K.ec256, "new")))
    c0, t0 = kb.count(), time.monotonic()
    r = poll_until(lambda: get(gw, "/v1/u", t_new).status_code == 200,
                   timeout=2 * refresh + 3)
    assert r, "the new key was not accepted within %ds" % (2 * refresh + 3)
    elapsed = time.monotonic() - t0
    assert kb.count() - c0 <= elapsed / refresh + 2, (kb.count(), c0, elapsed)
    for _ in range(8):                   # verified (and cached) in each child
        assert get(gw, "/v1/u", t_old, headers={"Connection": "close"}).status_code == 200
    # the old key removed: refused after the refresh; each poll with a
    # token never presented before (no cache can answer for it)
    kb.write(jwks(jwk(K.ec256, "new")))
    c1 = kb.count()
    gone = poll_until(
        lambda: get(gw, "/v1/u", sign(K.rsa, "RS256", claims(jti=uuid.uuid4().hex),
                                      kid="old")).status_code == 401,
        timeout=2 * refresh + 3)
    assert gone, "a token of the removed key still accepted after %ds " \
        "(key-set fetches meanwhile: %d)" % (2 * refresh + 3, kb.count() - c1)
    # and the token verified (and cached) while its key was there
    got = [get(gw, "/v1/u", t_old, headers={"Connection": "close"}).status_code
           for _ in range(8)]
    assert set(got) == {401}, \
        "a token verified before its key was removed is still accepted " \
        "after the refresh (verified-token cache not tied to the key set?): %s" % got
    assert get(gw, "/v1/u", t_new).status_code == 200


def test_unknown_kid_storm_is_not_a_fetch_storm(jwks_backend, backend, gateway):
    K = keys()
    kb = jwks_backend(jwks(jwk(K.rsa, "k1")))
    gw = gateway(url_ep(backend, "/v1/u", kb))
    good = sign(K.rsa, "RS256", claims(), kid="k1")
    assert wait_status(gw, "/v1/u", good).status_code == 200
    before = kb.count()
    tokens = [sign(K.rsa, "RS256", claims(), kid=uuid.uuid4().hex) for _ in range(200)]

    def one(t):
        return requests.get(gw.url("/v1/u"), headers=dict(bearer(t), Connection="close"),
                            timeout=10).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(one, tokens))
    assert set(statuses) == {401}, statuses
    time.sleep(0.5)
    after = kb.count()
    assert after - before <= 1, (before, after)
    assert after <= 2, after
    assert get(gw, "/v1/u", good).status_code == 200


@pytest.mark.allow_log(JWKS_FAILING)
def test_jwks_down_cached_keys_keep_working(jwks_backend, backend, gateway):
    K = keys()
    kb = jwks_backend(jwks(jwk(K.rsa, "k1"), jwk(K.ed, "k2")))
    gw = gateway(url_ep(backend, "/v1/u", kb, opts="refresh=1s insecure"))
    good = sign(K.rsa, "RS256", claims(), kid="k1")
    assert wait_status(gw, "/v1/u", good).status_code == 200
    kb.stop()
    time.sleep(2.5)                      # refreshes fail meanwhile
    for i in range(20):
        t = good if i % 2 else sign(K.ed, "EdDSA", claims(jti=str(i)), kid="k2")
        r = requests.get(gw.url("/v1/u"), headers=dict(bearer(t), Connection="close"))
        assert r.status_code == 200, (i, r.status_code, r.text)
    # an unknown kid while the server is down: 401, and no crash
    expect_401(get(gw, "/v1/u", sign(K.rsa, "RS256", claims(), kid="k9")))
    assert get(gw, "/v1/u", good).status_code == 200


@pytest.mark.allow_log(JWKS_FAILING)
def test_jwks_down_at_startup_503(backend, gateway):
    K = keys()
    url = "http://127.0.0.1:%d/jwks.json" % free_port()
    gw = gateway(ep(backend, "/v1/u", f"ApiJwtKeys {url} insecure\n  Require valid-user"))
    before = backend.stats()["requests"]
    for _ in range(3):
        r = get(gw, "/v1/u", sign(K.rsa, "RS256", claims(), kid="k1"))
        json_body(r, 503)
    assert backend.stats()["requests"] == before


# ================================================================ configtest

def test_configtest_errors(configtest, kf, monkeypatch):
    monkeypatch.setenv("APIGW_TEST_SHORT_SECRET", "x" * 16)
    monkeypatch.delenv("APIGW_TEST_NO_SUCH_VAR", raising=False)
    B = "http://127.0.0.1:9"
    cases = [
        ("ApiJwtKeys http://127.0.0.1:9/jwks.json", ["http://127.0.0.1:9/jwks.json"]),
        ("ApiJwtAlgorithms RS256 none", ["none"]),
        ("ApiJwtKeys file:/nonexistent/apigw/keys.json", ["/nonexistent/apigw/keys.json"]),
        ("ApiJwtKeys secret:APIGW_TEST_NO_SUCH_VAR", ["APIGW_TEST_NO_SUCH_VAR"]),
        ("ApiJwtKeys secret:APIGW_TEST_SHORT_SECRET", ["APIGW_TEST_SHORT_SECRET"]),
        ("ApiJwtKeys https://127.0.0.1:9/jwks.json refresh=soon", ["refresh"]),
        ("ApiJwtKeys ftp://127.0.0.1/jwks.json", ["ApiJwtKeys"]),
        ("ApiJwtLeeway forever", ["ApiJwtLeeway"]),
        ("ApiJwtAlgorithms HS128", ["HS128"]),
    ]
    for bad, parts in cases:
        conf = f"""
<ApiEndpoint "/v1/a">
  ApiBackend {B}/a
  {AUTH}
  ApiJwtKeys file:{kf.all}
  {bad}
  Require valid-user
</ApiEndpoint>
"""
        ok, out = configtest(conf)
        assert not ok, "configtest accepted: %s\n%s" % (bad, out)
        line = configtest.line(bad)
        assert config_at(out, configtest.path, line), \
            "no mention of %s:%d (%s) in:\n%s" % (configtest.path, line, bad, out)
        for part in parts:
            assert part in out, (bad, part, out)
    # a Require of the module without its value
    conf = f"""
<ApiEndpoint "/v1/a">
  ApiBackend {B}/a
  {AUTH}
  ApiJwtKeys file:{kf.all}
  Require jwt-claim org.tier
</ApiEndpoint>
"""
    ok, out = configtest(conf)
    assert not ok, out
    assert config_at(out, configtest.path, configtest.line("Require jwt-claim")), out


def test_configtest_accepts_a_full_config(configtest, kf, monkeypatch):
    monkeypatch.setenv("APIGW_TEST_JWT_SECRET", "s" * 40)
    ok, out = configtest(f"""
ApiJwtCache 100
<ApiEndpoint "/v1/a">
  ApiBackend http://127.0.0.1:9/a
  {AUTH}
  ApiJwtKeys file:{kf.all}
  ApiJwtKeys file:{kf.pem}
  ApiJwtKeys secret:APIGW_TEST_JWT_SECRET
  ApiJwtKeys http://127.0.0.1:9/jwks.json refresh=30s insecure
  ApiJwtAlgorithms RS256 ES256 EdDSA HS256
  ApiJwtIssuer {ISS}
  ApiJwtAudience {AUD} other
  ApiJwtLeeway 5s
  ApiJwtCookie jwt
  ApiJwtHeader X-Token
  ApiJwtRolesClaim realm_access.roles
  ApiJwtUserClaim email
  ApiJwtPropagate sub X-User
  <RequireAll>
    Require jwt-scope read
    Require jwt-role admin
    Require jwt-claim org.tier gold
  </RequireAll>
</ApiEndpoint>
""")
    assert ok, out


# ================================================================ KrakenD

KRAKEND_SPECS = "/work/shared/conformance/krakend-ce/specs"
# krakend-ce's test backend serves this at /jwk/symmetric (kid "sim2")
KRAKEND_SIM2 = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"


def krakend_case(name):
    with open(os.path.join(KRAKEND_SPECS, name + ".json")) as f:
        return json.load(f)


def krakend_conf(b, kb, path, bpath):
    """KrakenD's "auth/validator" of /private/custom in our directives:
    alg HS256, the symmetric JWK set of kid "sim2" fetched over plain HTTP
    (disable_jwk_security; symmetric: its secrets are used), issuer,
    audience, roles role_a or role_c."""
    body = f"""ApiJwtKeys {kb.url}/jwk/symmetric insecure symmetric
  ApiJwtAlgorithms HS256
  ApiJwtIssuer https://krakend.io
  ApiJwtAudience http://api.example.com
  ApiJwtRolesClaim roles
  Require jwt-role role_a role_c"""
    return ep(b, path, body, bpath=bpath)


def krakend_keys(jwks_backend):
    return jwks_backend({"keys": [{"kty": "oct", "kid": "sim2", "k": KRAKEND_SIM2,
                                   "alg": "HS256"}]})


def krakend_request(gw, case):
    spec = krakend_case(case)
    url = spec["in"]["url"].replace("http://localhost:8080", "")
    return spec, requests.request(spec["in"]["method"], gw.url(url),
                                  headers=spec["in"].get("header", {}), timeout=10)


def test_krakend_spec_tokens_verify_with_sim2():
    import jwt
    from jwt.algorithms import HMACAlgorithm
    key = HMACAlgorithm.from_jwk(json.dumps({"kty": "oct", "k": KRAKEND_SIM2}))
    for case in ("jwt_1", "jwt_3", "jwt_5"):
        token = krakend_case(case)["in"]["header"]["authorization"].split()[1]
        assert jwt.get_unverified_header(token)["kid"] == "sim2"
        jwt.decode(token, key, algorithms=["HS256"], audience="http://api.example.com",
                   issuer="https://krakend.io")


@pytest.mark.allow_log("AH01631")
def test_krakend_jwt_1_2_3(jwks_backend, backend, gateway):
    kb = krakend_keys(jwks_backend)
    gw = gateway(krakend_conf(backend, kb, "/private/custom", "/__debug/"))
    # jwt_3 first: the keys are fetched on first use
    spec = krakend_case("jwt_3")
    token = spec["in"]["header"]["authorization"].split()[1]
    r = wait_status(gw, "/private/custom", token)
    assert r.status_code == spec["out"]["status_code"] == 200, r.text
    assert r.json()["path"] == "/__debug/"
    spec, r = krakend_request(gw, "jwt_3")       # "bearer", lower case
    assert r.status_code == 200
    # jwt_1: a valid token with role_y only
    spec, r = krakend_request(gw, "jwt_1")
    assert r.status_code == spec["out"]["status_code"] == 403
    expect_403(r)
    # jwt_2: "a.bad.token"
    spec, r = krakend_request(gw, "jwt_2")
    assert r.status_code == spec["out"]["status_code"] == 401
    expect_401(r)
    assert kb.count() >= 1


def test_krakend_jwt_5(jwks_backend, backend, gateway):
    kb = krakend_keys(jwks_backend)
    gw = gateway(krakend_conf(backend, kb, "/private/extract_jwt_claim",
                              "/param_forwarding/{JWT.sub}"))
    spec = krakend_case("jwt_5")
    token = spec["in"]["header"]["authorization"].split()[1]
    r = wait_status(gw, "/private/extract_jwt_claim", token)
    assert r.status_code == spec["out"]["status_code"] == 200, r.text
    assert r.json()["path"] == "/param_forwarding/1234567890qwertyuio"


def test_cors_preflight_needs_no_token_and_401_is_readable(backend, gateway,
                                                          kf):
    """A browser's preflight carries no credentials: it is answered before
    authentication; the 401 of the real request carries the CORS headers,
    so the page can read why it was refused."""
    origin = "https://app.example.com"
    gw = gateway(ep(backend, "/v1/cors", f"""
  ApiJwtKeys file:{kf.all}
  ApiCorsAllowOrigins {origin}
  ApiCorsAllowHeaders Authorization
  Require valid-user""", methods="GET"))
    before = backend.stats()["requests"]
    r = requests.options(gw.url("/v1/cors"), headers={
        "Origin": origin, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"}, timeout=5)
    assert r.status_code == 204, r.text
    assert r.headers["Access-Control-Allow-Origin"] == origin
    assert "authorization" in r.headers["Access-Control-Allow-Headers"].lower()
    r = requests.get(gw.url("/v1/cors"), headers={"Origin": origin},
                     timeout=5)
    expect_401(r, invalid=False)
    assert r.headers["Access-Control-Allow-Origin"] == origin
    r = get(gw, "/v1/cors", sign(keys().rsa, "RS256", claims(), kid="rsa1"),
            headers={"Origin": origin})
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Origin"] == origin
    assert backend.stats()["requests"] == before + 1


@pytest.mark.allow_log("AGW03002")
def test_hmac_secrets_from_a_url_need_symmetric(jwks_backend, backend,
                                                gateway):
    """A JWK set URL is public: an "oct" key in it would let anyone sign.
    Its secrets are used only when the line says symmetric."""
    K = keys()
    kb = jwks_backend(jwks(jwk(K.hmac, "h1"), jwk(K.rsa, "r1")))
    gw = gateway(url_ep(backend, "/v1/plain", kb)
                 + url_ep(backend, "/v1/sym", kb, opts="insecure symmetric"))
    hs = sign(K.hmac, "HS256", claims(), kid="h1")
    rs = sign(K.rsa, "RS256", claims(), kid="r1")
    assert wait_status(gw, "/v1/plain", rs).status_code == 200
    expect_401(get(gw, "/v1/plain", hs))
    assert wait_status(gw, "/v1/sym", hs).status_code == 200
    assert get(gw, "/v1/sym", rs).status_code == 200
    # a set of secrets only: nothing usable without symmetric
    kb2 = jwks_backend(jwks(jwk(K.hmac, "h1")))
    gw2 = gateway(url_ep(backend, "/v1/only", kb2))
    r = get(gw2, "/v1/only", hs)
    assert r.status_code == 503, r.text
    assert kb2.url not in r.text       # the key server is not revealed

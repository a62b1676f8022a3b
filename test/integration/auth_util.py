# Helpers of the authentication tests (test_auth_jwt.py, test_auth_apikey.py):
# real keys made once per session with `cryptography`, their public JWKs,
# tokens signed by PyJWT or by hand (for the forged ones PyJWT refuses to
# make), files the gateway's children can read, and checks of the 401/403
# answers mod_apigw_auth gives.
#
#   K = keys()
#   token = sign(K.rsa, "RS256", claims(sub="alice"), kid="rsa1")
#   r = requests.get(gw.url("/v1/x"), headers=bearer(token))
import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import time

import jwt
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

ISS = "https://issuer.test"
AUD = "api://gateway"
REALM = "api"


def b64u(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_json(doc):
    return b64u(json.dumps(doc, separators=(",", ":")))


def _int_b64u(n, length=None):
    length = length or (n.bit_length() + 7) // 8
    return b64u(n.to_bytes(length, "big"))


# ---------------------------------------------------------------- keys

class Keys:
    """Every key the tests sign with, made once."""

    def __init__(self):
        self.rsa = rsa.generate_private_key(65537, 2048)
        self.rsa2 = rsa.generate_private_key(65537, 2048)
        self.rsa_small = rsa.generate_private_key(65537, 1024)
        self.ec256 = ec.generate_private_key(ec.SECP256R1())
        self.ec256b = ec.generate_private_key(ec.SECP256R1())
        self.ec384 = ec.generate_private_key(ec.SECP384R1())
        self.ed = ed25519.Ed25519PrivateKey.generate()
        self.hmac = os.urandom(48)
        self.hmac_short = os.urandom(16)


_KEYS = None


def keys():
    global _KEYS
    if _KEYS is None:
        _KEYS = Keys()
    return _KEYS


def jwk(key, kid=None, alg=None, use=None):
    """The public JWK (a dict) of a private key, or the oct JWK of bytes."""
    if isinstance(key, bytes):
        d = {"kty": "oct", "k": b64u(key)}
    elif isinstance(key, rsa.RSAPrivateKey):
        n = key.public_key().public_numbers()
        d = {"kty": "RSA", "n": _int_b64u(n.n), "e": _int_b64u(n.e)}
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        n = key.public_key().public_numbers()
        crv, size = {"secp256r1": ("P-256", 32), "secp384r1": ("P-384", 48),
                     "secp521r1": ("P-521", 66)}[key.curve.name]
        d = {"kty": "EC", "crv": crv, "x": _int_b64u(n.x, size),
             "y": _int_b64u(n.y, size)}
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                            serialization.PublicFormat.Raw)
        d = {"kty": "OKP", "crv": "Ed25519", "x": b64u(raw)}
    else:
        raise TypeError(key)
    if kid is not None:
        d["kid"] = kid
    if alg is not None:
        d["alg"] = alg
    if use is not None:
        d["use"] = use
    return d


def jwks(*jwk_dicts):
    return {"keys": list(jwk_dicts)}


def public_pem(key):
    return key.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def self_signed_cert_pem(key, cn="jwt-signer"):
    """A self-signed certificate of key (EC or RSA), as PEM."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def tls_files(folder):
    """A CA and a certificate for 127.0.0.1 it signed, written in folder:
    (cert_path, key_path, ca_path)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "apigw test CA")])
    now = datetime.datetime.utcnow()
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True,
                                       True, False, False), True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    import ipaddress
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                 x509.DNSName("localhost")]), False)
            .sign(ca_key, hashes.SHA256()))
    paths = (os.path.join(folder, "jwks-cert.pem"),
             os.path.join(folder, "jwks-key.pem"),
             os.path.join(folder, "jwks-ca.pem"))
    write_file(paths[0], cert.public_bytes(serialization.Encoding.PEM).decode())
    write_file(paths[1], key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode())
    write_file(paths[2], ca.public_bytes(serialization.Encoding.PEM).decode())
    return paths


def write_file(path, text, mode=0o644):
    """A file the gateway's children (www-data) can read."""
    with open(path, "w") as f:
        f.write(text if isinstance(text, str) else json.dumps(text))
    os.chmod(path, mode)
    return path


# ---------------------------------------------------------------- tokens

def claims(**kw):
    """Registered claims valid for 5 minutes, iss ISS, aud AUD, sub alice;
    keywords override (None removes one)."""
    now = int(time.time())
    c = {"sub": "alice", "iss": ISS, "aud": AUD, "iat": now, "exp": now + 300}
    for k, v in kw.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def sign(key, alg, payload, kid=None, headers=None):
    """A token signed by PyJWT with a real key (bytes for HS*)."""
    h = dict(headers or {})
    if kid is not None:
        h["kid"] = kid
    return jwt.encode(payload, key, algorithm=alg, headers=h or None)


def forge(header, payload, secret=None, sig=None):
    """A token made by hand: header and payload dicts (or raw strings,
    taken as the encoded parts), HMAC-SHA256 with secret (bytes) when
    given, else the raw sig bytes (b"" for none)."""
    h = header if isinstance(header, str) else b64u_json(header)
    p = payload if isinstance(payload, str) else b64u_json(payload)
    signing_input = ("%s.%s" % (h, p)).encode()
    if secret is not None:
        digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384,
                  "HS512": hashlib.sha512}[header.get("alg", "HS256")
                                           if isinstance(header, dict) else "HS256"]
        sig = hmac.new(secret, signing_input, digest).digest()
    return "%s.%s.%s" % (h, p, b64u(sig or b""))


def signature_part(token):
    return token.rsplit(".", 1)[1]


def bearer(token, scheme="Bearer"):
    return {"Authorization": "%s %s" % (scheme, token)}


# ---------------------------------------------------------------- answers

def www_authenticate(resp):
    """(scheme, {param: value}) of the response's WWW-Authenticate."""
    value = resp.headers.get("WWW-Authenticate")
    assert value, "no WWW-Authenticate in %d answer: %r" % (
        resp.status_code, dict(resp.headers))
    scheme, _, rest = value.partition(" ")
    params = dict(re.findall(r'([A-Za-z_]+)="((?:[^"\\]|\\.)*)"', rest))
    return scheme, params


def json_body(resp, status):
    assert resp.status_code == status, (resp.status_code, resp.text[:300])
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip() == "application/json", ctype
    doc = resp.json()
    assert doc["status"] == status, doc
    assert isinstance(doc.get("error"), str) and doc["error"], doc
    return doc


def expect_401(resp, invalid=True, scheme="Bearer", realm=REALM):
    """A refusal for want of credentials (invalid=False: none sent, no error
    attribute) or for bad ones (error="invalid_token" and a description)."""
    doc = json_body(resp, 401)
    got_scheme, params = www_authenticate(resp)
    assert got_scheme.lower() == scheme.lower(), resp.headers["WWW-Authenticate"]
    assert params.get("realm") == realm, resp.headers["WWW-Authenticate"]
    if scheme.lower() == "bearer":
        if invalid:
            assert params.get("error") == "invalid_token", resp.headers["WWW-Authenticate"]
            assert params.get("error_description"), resp.headers["WWW-Authenticate"]
        else:
            assert "error" not in params, resp.headers["WWW-Authenticate"]
    return doc


def expect_403(resp, bearer_scheme=True):
    doc = json_body(resp, 403)
    if bearer_scheme:
        scheme, params = www_authenticate(resp)
        assert scheme.lower() == "bearer", resp.headers["WWW-Authenticate"]
        assert params.get("error") == "insufficient_scope", \
            resp.headers["WWW-Authenticate"]
    return doc


def get(gw, path, token=None, headers=None, **kw):
    h = dict(headers or {})
    if token is not None:
        h.update(bearer(token))
    return requests.get(gw.url(path), headers=h, timeout=10, **kw)


def wait_status(gw, path, token, want=200, timeout=6.0, tolerate=(503,)):
    """GET path with token until it answers want; answers in tolerate are
    waited through (keys not fetched yet), any other one is returned."""
    deadline = time.monotonic() + timeout
    while True:
        r = get(gw, path, token, headers={"Connection": "close"})
        if r.status_code == want or r.status_code not in tolerate \
                or time.monotonic() > deadline:
            return r
        time.sleep(0.1)


def poll_until(fn, timeout, interval=0.1):
    """fn() until it returns something true, or timeout; the last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(interval)


def config_at(out, path, line):
    """Does configtest output out point at path:line?"""
    return ("line %d of %s" % (line, path) in out
            or "%s:%d" % (path, line) in out)


def log_lines_with(gw, needle):
    return [l for l in gw.error_log_text().splitlines() if needle in l]

# Runtime routes behind mod_apigw_auth: a runtime route is matched like an
# <ApiEndpoint> but configured as data, so its authentication is the
# <Location> its path falls in, as for any URL httpd serves. A route
# registered through the admin API under a <Location> with AuthType jwt
# is refused without a token and served with one, the claim propagated;
# the same for API keys.
import hashlib
import os

import pytest
import requests

from auth_util import (AUD, ISS, REALM, bearer, claims, expect_401, jwk, jwks,
                       keys, sign, write_file)
from test_admin_api import Admin, admin_conf, store_dir  # noqa: F401
from test_runtime_routes import store  # noqa: F401 (fixture)
from auth_util import poll_until

# two children: every child serves the registered routes
pytestmark = pytest.mark.children(2)


def protected_conf(store, keyfile, apikeys):
    return admin_conf(store, f"""
<Location "/v2/">
  AuthType jwt
  AuthName "{REALM}"
  ApiJwtKeys file:{keyfile}
  ApiJwtIssuer {ISS}
  ApiJwtAudience {AUD}
  ApiJwtPropagate tenant X-Tenant
  Require jwt-claim tenant acme
</Location>
<Location "/v3/">
  AuthType apikey
  AuthName "{REALM}"
  ApiKeyFile {apikeys}
  Require apikey-role reader
</Location>
""")


@pytest.mark.allow_log("AH01631")      # httpd's line for each 403
def test_runtime_routes_take_the_location_auth(store, backend, gateway,
                                               world_readable_dir):
    K = keys()
    keyfile = write_file(os.path.join(world_readable_dir, "keys.json"),
                         jwks(jwk(K.rsa, kid="rsa1")))
    secret = "k-" + os.urandom(16).hex()
    apikeys = write_file(os.path.join(world_readable_dir, "apikeys.txt"),
                         "ci %s reader\n"
                         % hashlib.sha256(secret.encode()).hexdigest())
    gw = gateway(protected_conf(store, keyfile, apikeys))
    admin = Admin(gw)
    for path in ("/v2/orders", "/v3/orders"):
        r = admin.post("/routes", {"path": path, "targetUrl":
                                         backend.url + "/echo" + path})
        assert r.status_code == 201, r.text
    token = sign(K.rsa, "RS256", claims(sub="alice", tenant="acme"),
                 kid="rsa1")
    other = sign(K.rsa, "RS256", claims(sub="bob", tenant="other"),
                 kid="rsa1")

    # served once every child has the new routes
    assert poll_until(lambda: all(
        requests.get(gw.url("/v2/orders"), headers=dict(
            bearer(token), Connection="close"), timeout=5).status_code == 200
        for _ in range(6)), timeout=5)
    expect_401(requests.get(gw.url("/v2/orders"), timeout=5), invalid=False)
    r = requests.get(gw.url("/v2/orders"), headers=bearer(token), timeout=5)
    assert r.status_code == 200, r.text
    assert r.json()["headers"].get("X-Tenant") == "acme"
    assert r.json()["path"] == "/echo/v2/orders"
    r = requests.get(gw.url("/v2/orders"), headers=bearer(other), timeout=5)
    assert r.status_code == 403, r.text

    assert requests.get(gw.url("/v3/orders"),
                        timeout=5).status_code == 401
    r = requests.get(gw.url("/v3/orders"), headers={"X-API-Key": secret},
                     timeout=5)
    assert r.status_code == 200, r.text
    assert r.json()["path"] == "/echo/v3/orders"

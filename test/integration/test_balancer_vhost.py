# balancer:// backends (spreading, fail-over, none left) and virtual hosts:
# a vhost's endpoints answer only there, the main server's are inherited
# unless the vhost declares the same route.
import collections
import time

import pytest
import requests

from conftest import free_port


def balancer_conf(b1, b2, dead1, dead2):
    return f"""
<Proxy balancer://users>
  BalancerMember http://127.0.0.1:{b1.port}
  BalancerMember http://127.0.0.1:{b2.port}
</Proxy>
<Proxy balancer://nobody>
  BalancerMember http://127.0.0.1:{dead1}
  BalancerMember http://127.0.0.1:{dead2}
</Proxy>
<ApiEndpoint "/v1/users/{{user}}" GET POST>
  ApiBackend balancer://users/users/{{user}}
</ApiEndpoint>
<ApiEndpoint "/v1/nobody">
  ApiBackend balancer://nobody/x
</ApiEndpoint>
"""


def test_balancer_spreads_requests(backend_factory, gateway):
    b1, b2 = backend_factory("b1"), backend_factory("b2")
    gw = gateway(balancer_conf(b1, b2, free_port(), free_port()))
    seen = collections.Counter()
    for i in range(12):
        r = requests.get(gw.url("/v1/users/u%d?x=1" % i))
        assert r.status_code == 200
        doc = r.json()
        assert (doc["path"], doc["query"]) == ("/users/u%d" % i, "")
        seen[doc["backend"]] += 1
    assert set(seen) == {"b1", "b2"}, seen
    assert min(seen.values()) >= 3, seen
    doc = requests.post(gw.url("/v1/users/z"), data=b"body").json()
    assert (doc["method"], doc["path"], doc["body"]) == ("POST", "/users/z", "body")


@pytest.mark.allow_log("AH00957", "AH00959", "AH01114")   # members refusing
def test_balancer_fails_over_and_503_when_none_is_left(backend_factory, gateway):
    b1, b2 = backend_factory("b1"), backend_factory("b2")
    gw = gateway(balancer_conf(b1, b2, free_port(), free_port()))
    b2.stop()
    for i in range(6):
        r = requests.get(gw.url("/v1/users/u%d" % i))
        assert r.status_code == 200 and r.json()["backend"] == "b1"
    r = requests.get(gw.url("/v1/nobody"))
    assert r.status_code == 503
    assert r.headers["Content-Type"] == "application/json"
    assert r.json()["status"] == 503


def vhost_conf(b):
    return f"""
Listen 127.0.0.1:@PORT@
Listen 127.0.0.1:@PORT2@

<ApiEndpoint "/v1/main/{{x}}">
  ApiBackend {b.url}/main/{{x}}
</ApiEndpoint>
<ApiEndpoint "/v1/shared">
  ApiBackend {b.url}/shared-main
</ApiEndpoint>
<ApiEndpoint "/v1/both" GET POST>
  ApiBackend {b.url}/both-main
</ApiEndpoint>
<ApiEndpoint "/v1/users/{{user}}">
  ApiBackend {b.url}/users-main/{{user}}
</ApiEndpoint>

<VirtualHost 127.0.0.1:@PORT2@>
  ServerName api.test
  ApiTimeout 400ms
  <ApiEndpoint "/v1/only-vhost/*">
    ApiBackend {b.url}/only-vhost/{{*}}
  </ApiEndpoint>
  <ApiEndpoint "/v1/shared">
    ApiBackend {b.url}/shared-vhost
  </ApiEndpoint>
  <ApiEndpoint "/v1/both" POST>
    ApiBackend {b.url}/both-vhost
  </ApiEndpoint>
  <ApiEndpoint "/v1/users/{{id}}">
    ApiBackend {b.url}/users-vhost/{{id}}
  </ApiEndpoint>
  <ApiEndpoint "/v1/ctl/*">
    ApiBackend {b.url}/{{*}}
  </ApiEndpoint>
</VirtualHost>
<VirtualHost 127.0.0.1:@PORT2@>
  ServerName other.test
</VirtualHost>
"""


def path_of(r):
    assert r.status_code == 200, r.text
    return r.json()["path"]


@pytest.mark.serial         # wall-clock bounds: run alone
@pytest.mark.allow_log("AH01102", "AH00898")
def test_virtual_hosts(backend, gateway):
    gw = gateway(vhost_conf(backend), extra_ports=1)
    main = lambda p: gw.url(p)                          # noqa: E731
    api = lambda p: gw.url2(2, p)                       # noqa: E731
    other = {"Host": "other.test"}

    # the main server: its own endpoints, none of the vhost's
    assert path_of(requests.get(main("/v1/main/1"))) == "/main/1"
    assert path_of(requests.get(main("/v1/shared"))) == "/shared-main"
    assert path_of(requests.post(main("/v1/both"))) == "/both-main"
    assert path_of(requests.get(main("/v1/users/7"))) == "/users-main/7"
    before = backend.stats()["requests"]
    r = requests.get(main("/v1/only-vhost/a"))
    assert r.status_code == 404 and r.headers["Content-Type"].startswith("text/html")
    assert backend.stats()["requests"] == before

    # the vhost: its own endpoints first, then the main server's
    assert path_of(requests.get(api("/v1/only-vhost/a"))) == "/only-vhost/a"
    assert path_of(requests.get(api("/v1/shared"))) == "/shared-vhost"
    assert path_of(requests.post(api("/v1/both"))) == "/both-vhost"
    assert path_of(requests.get(api("/v1/both"))) == "/both-main"
    assert path_of(requests.get(api("/v1/main/2"))) == "/main/2"
    assert path_of(requests.get(api("/v1/users/7"))) == "/users-vhost/7"

    # another name on the vhost's port: only the main server's endpoints
    assert path_of(requests.get(api("/v1/shared"), headers=other)) == "/shared-main"
    assert path_of(requests.get(api("/v1/users/7"), headers=other)) == "/users-main/7"
    before = backend.stats()["requests"]
    r = requests.get(api("/v1/only-vhost/a"), headers=other)
    assert r.status_code == 404
    assert backend.stats()["requests"] == before

    # the vhost's ApiTimeout applies to its own endpoints
    t0 = time.monotonic()
    r = requests.get(api("/v1/ctl/__delay/1500"))
    assert r.status_code == 504 and time.monotonic() - t0 < 1.2
    assert path_of(requests.get(api("/v1/ctl/__delay/100"))) == "/__delay/100"

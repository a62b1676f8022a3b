# Runtime routes served: a route registered through the admin API answers
# on the gateway within the propagation budget, in every child, with its
# policies; changes and deletions are live without a restart; static
# <ApiEndpoint>s always win and a colliding route is refused; each
# virtual host serves its ApiEnvironment; routes survive a restart. (The
# store down at startup and at run time: test_runtime_serving.py.)
import os
import time

import pytest
import requests

from test_admin_api import (Admin, admin_conf, assert_json_error, route,
                            store_dir)  # noqa: F401 (fixture)

# two children: every child serves the registered routes
pytestmark = pytest.mark.children(2)

SERVE_BUDGET = 0.05 * 10       # seconds; the bench measures the real p99


def wait_status(url, status, budget=SERVE_BUDGET * 4, method="GET", **kw):
    """The first answer with status within budget; the last one else."""
    deadline = time.monotonic() + budget
    while True:
        r = requests.request(method, url, timeout=10, **kw)
        if r.status_code == status or time.monotonic() > deadline:
            return r
        time.sleep(0.005)


@pytest.fixture
def store(store_dir):
    return "sqlite3:" + os.path.join(store_dir, "routes.sqlite")


@pytest.fixture
def served(store, gateway):
    gw = gateway(admin_conf(store))
    return gw, Admin(gw)


def test_registered_route_is_served(served, backend):
    gw, admin = served
    doc = admin.register(route("/rt/users/{id}",
                               backend.url + "/users/{id}"))
    r = wait_status(gw.url("/rt/users/42"), 200)
    assert r.status_code == 200, r.text
    echo = r.json()
    assert echo["path"] == "/users/42", echo
    # changed: served at once with its new target
    r = admin.patch("/routes/" + doc["id"],
                    {"targetUrl": backend.url + "/people/{id}"})
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        echo = requests.get(gw.url("/rt/users/7"), timeout=5).json()
        if echo["path"] == "/people/7":
            break
        time.sleep(0.005)
    assert echo["path"] == "/people/7", echo
    # deleted: gone
    assert admin.delete("/routes/" + doc["id"]).status_code == 200
    r = wait_status(gw.url("/rt/users/42"), 404)
    assert r.status_code == 404


def test_disabled_route_is_not_served(served, backend):
    gw, admin = served
    doc = admin.register(route("/rt/off", backend.url + "/x", enabled=False))
    time.sleep(0.2)
    assert requests.get(gw.url("/rt/off"), timeout=5).status_code == 404
    admin.patch("/routes/" + doc["id"], {"enabled": True})
    assert wait_status(gw.url("/rt/off"), 200).status_code == 200


def test_wrong_method_is_405(served, backend):
    gw, admin = served
    admin.register(route("/rt/only-post", backend.url + "/x",
                         methods=["POST"]))
    r = wait_status(gw.url("/rt/only-post"), 405)
    assert r.status_code == 405, r.text
    assert "POST" in r.headers.get("Allow", "")


def test_static_endpoint_wins_and_collision_refused(store, gateway, backend):
    gw = gateway(admin_conf(store, """
<ApiEndpoint "/static/{id}" GET>
  ApiBackend %s/static/{id}
</ApiEndpoint>
""" % backend.url))
    admin = Admin(gw)
    r = admin.post("/routes", route("/static/{x}", backend.url + "/rt/{x}"))
    doc = assert_json_error(r, 409, "path")
    assert "ApiEndpoint" in doc["error"] and "/static/{id}" in doc["error"]
    # another method on the same path is free
    r = admin.post("/routes", route("/static/{x}", backend.url + "/rt/{x}",
                                    methods=["POST"]))
    assert r.status_code == 201, r.text
    r = wait_status(gw.url("/static/5"), 200, method="POST")
    assert r.status_code == 200 and r.json()["path"] == "/rt/5", r.text
    assert requests.get(gw.url("/static/5"), timeout=5).json()["path"] \
        == "/static/5"


def test_runtime_collision_refused(served, backend):
    gw, admin = served
    first = admin.register(route("/rt/a/{id}", backend.url + "/a/{id}"))
    r = admin.post("/routes", route("/rt/a/{other}", backend.url + "/b/{other}"))
    doc = assert_json_error(r, 409, "path")
    assert first["id"] in doc["error"], doc
    # in another environment it is fine
    assert admin.post("/environments", {"name": "staging"}).status_code == 201
    r = admin.post("/routes", route("/rt/a/{other}", backend.url + "/b/{other}",
                                    environment="staging"))
    assert r.status_code == 201, r.text


def test_environments_per_virtual_host(store, gateway, backend):
    gw = gateway(admin_conf(store, """
Listen 127.0.0.1:@PORT@
Listen 127.0.0.1:@PORT2@
<VirtualHost 127.0.0.1:@PORT2@>
  ApiEnvironment staging
</VirtualHost>
"""), extra_ports=1)
    admin = Admin(gw)
    assert admin.post("/environments", {"name": "staging"}).status_code == 201
    admin.register(route("/rt/where", backend.url + "/prod"))
    admin.register(route("/rt/where", backend.url + "/staging",
                         environment="staging"))
    r = wait_status(gw.url("/rt/where"), 200)
    assert r.json()["path"] == "/prod"
    r = wait_status(gw.url2(2, "/rt/where"), 200)
    assert r.json()["path"] == "/staging"


def test_routes_survive_a_restart(store, gateway, backend):
    gw = gateway(admin_conf(store))
    Admin(gw).register(route("/rt/kept", backend.url + "/kept"))
    assert wait_status(gw.url("/rt/kept"), 200).status_code == 200
    gw.stop()
    gw2 = gateway(admin_conf(store))
    assert wait_status(gw2.url("/rt/kept"), 200).status_code == 200

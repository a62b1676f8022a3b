# Runtime routes in a fleet: two gateways on one PostgreSQL route store
# (ApiRouteStore pgsql:"..."). A route registered, changed or deleted
# through one gateway is served, or no longer served, by the other within
# its ApiRouteRefresh and 200 ms (300 ms and the default 1 s); an
# environment created on one is served by a virtual host of the other;
# PostgreSQL stopped while both serve: routes keep answering and writes
# answer 503; started again, both recover by themselves.
import os
import time
import uuid

import pytest
import requests

from pg_util import PgCluster, pg_cluster  # noqa: F401 (fixture)
from test_admin_api import (Admin, assert_json_error,  # noqa: F401
                            enterable_tmp_path, route)  # (a fixture)
from test_runtime_serving import (PIDLOG, SHMCB, admin_everywhere, echo_path,
                                  fresh, pids, served_everywhere, status_is)

# two children: every child of both gateways follows the store
pytestmark = pytest.mark.children(2)

ADMIN = """
LogLevel warn apigw:notice
<Location "/admin">
  SetHandler apigw-admin
  Require all granted
</Location>
"""

VHOST = """
Listen 127.0.0.1:@PORT@
Listen 127.0.0.1:@PORT2@
<VirtualHost 127.0.0.1:@PORT2@>
  ApiEnvironment staging
</VirtualHost>
"""

# beyond ApiRouteRefresh, what a change may take to reach the other
# gateway's children
SLACK = 0.2


def fleet_conf(conninfo, refresh="300ms", extra=""):
    head = 'ApiRouteStore pgsql:"%s"\n' % conninfo
    if refresh:
        head += "ApiRouteRefresh %s\n" % refresh
    return SHMCB + head + ADMIN + PIDLOG + extra


def new_database(cluster):
    name = "fleet_" + uuid.uuid4().hex[:12]
    cluster.psql("CREATE DATABASE " + name)
    return cluster.conninfo.replace("dbname=postgres", "dbname=" + name)


@pytest.mark.parametrize("refresh_b,budget_b", [("300ms", 0.3 + SLACK),
                                                (None, 1.0 + SLACK)],
                         ids=["refresh-300ms", "refresh-default-1s"])
def test_changes_through_one_gateway_are_served_by_the_other(
        pg_cluster, enterable_tmp_path, backend, gateway,  # noqa: F811
        refresh_b, budget_b):
    conninfo = new_database(pg_cluster)
    a = gateway(fleet_conf(conninfo))
    b = gateway(fleet_conf(conninfo, refresh_b))
    admin_a, admin_b = Admin(a), Admin(b)
    lates = []
    # registered through A
    doc = admin_a.register(route("/fl/users/{id}", backend.url + "/u/{id}"))
    acked = time.monotonic()
    lates.append(served_everywhere(b, "/fl/users/1", echo_path("/u/1"),
                                   since=acked, budget=budget_b))
    # A serves it too, at once (its own write)
    served_everywhere(a, "/fl/users/1", echo_path("/u/1"), since=acked)
    # changed through A
    for i in range(3):
        r = admin_a.patch("/routes/" + doc["id"],
                          {"targetUrl": backend.url + "/v%d/{id}" % i})
        acked = time.monotonic()
        assert r.status_code == 200, r.text
        lates.append(served_everywhere(b, "/fl/users/2",
                                       echo_path("/v%d/2" % i),
                                       since=acked, budget=budget_b))
    # changed through B: A (300 ms) follows
    r = admin_b.patch("/routes/" + doc["id"], {"methods": ["POST"]})
    acked = time.monotonic()
    assert r.status_code == 200, r.text
    served_everywhere(a, "/fl/users/3", status_is(405), since=acked,
                      budget=0.3 + SLACK)
    r = admin_b.patch("/routes/" + doc["id"], {"methods": ["GET"]})
    assert r.status_code == 200, r.text
    served_everywhere(a, "/fl/users/3", echo_path("/v2/3"), budget=2)
    served_everywhere(b, "/fl/users/3", echo_path("/v2/3"), budget=2)
    # deleted through A
    r = admin_a.delete("/routes/" + doc["id"])
    acked = time.monotonic()
    assert r.status_code == 200 and r.json() == {"deletedCount": 1}
    lates.append(served_everywhere(b, "/fl/users/4", status_is(404),
                                   since=acked, budget=budget_b))
    assert len(pids(b)) >= 2, pids(b)
    # none of these depended on B's own admin API
    assert admin_b.routes() == []
    assert max(lates) < budget_b, lates


def test_environment_created_on_one_is_served_by_a_host_of_the_other(
        pg_cluster, enterable_tmp_path, backend, gateway):  # noqa: F811
    conninfo = new_database(pg_cluster)
    a = gateway(fleet_conf(conninfo))
    b = gateway(fleet_conf(conninfo, extra=VHOST), extra_ports=1)
    admin_a = Admin(a)
    for i in range(3):
        admin_a.register(route("/fl/env/%d/{id}" % i,
                               backend.url + "/e%d/{id}" % i))
    served_everywhere(b, "/fl/env/2/x", echo_path("/e2/x"), budget=2)
    port2 = b.ports[1]
    assert fresh(b, "/fl/env/0/x", port=port2).status_code == 404
    r = admin_a.post("/environments", {"name": "staging", "from": "default",
                                       "copyRoutes": True})
    acked = time.monotonic()
    assert r.status_code == 201 and r.json()["copiedRoutes"] == 3, r.text
    for i in range(3):
        served_everywhere(b, "/fl/env/%d/x" % i, echo_path("/e%d/x" % i),
                          since=acked if i == 0 else None,
                          budget=0.3 + SLACK, port=port2)
    # a route of staging changed on A: B's staging host follows, its
    # default one keeps the original
    staged = [d for d in admin_a.routes("staging")
              if d["path"] == "/fl/env/1/{id}"][0]
    r = admin_a.patch("/routes/" + staged["id"],
                      {"targetUrl": backend.url + "/staged/{id}"})
    acked = time.monotonic()
    assert r.status_code == 200, r.text
    served_everywhere(b, "/fl/env/1/x", echo_path("/staged/x"), since=acked,
                      budget=0.3 + SLACK, port=port2)
    served_everywhere(b, "/fl/env/1/x", echo_path("/e1/x"), budget=0.01)
    # the environment deleted on A: B's host serves none of it
    r = admin_a.delete("/environments/staging")
    acked = time.monotonic()
    assert r.status_code == 200 and r.json() == {"deletedCount": 3}, r.text
    for i in range(3):
        served_everywhere(b, "/fl/env/%d/x" % i, status_is(404),
                          since=acked if i == 0 else None,
                          budget=0.3 + SLACK, port=port2)


# ---------------------------------------------------------------- outage

def pg_stop(c):
    p = c._run([os.path.join(c.bin, "pg_ctl"), "-D", c.data, "-m", "fast",
                "-w", "-t", "60", "stop"])
    assert p.returncode == 0, p.stdout + p.stderr


def pg_start(c):
    """The cluster started again on its port, as PgCluster.start does
    after initdb."""
    opts = ("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off"
            % (c.port, c.sock))
    p = c._run([os.path.join(c.bin, "pg_ctl"), "-D", c.data, "-o", opts,
                "-l", c.log, "-w", "-t", "60", "start"])
    assert p.returncode == 0, p.stdout + p.stderr


@pytest.fixture
def own_pg():
    """A cluster of this test's own, to stop and start."""
    c = PgCluster().start()
    yield c
    c.stop()


def answer(gw, send):
    """send()'s answer; a cut connection fails the test with what the
    error log says of the children."""
    try:
        return send()
    except requests.ConnectionError as e:
        time.sleep(0.5)                 # the parent's word on its child
        died = [l for l in gw.error_log_text().splitlines()
                if "exit signal" in l]
        pytest.fail("the connection was cut (%s); a child died?\n%s"
                    % (e, "\n".join(died)), pytrace=False)


def write_until(admin, doc, budget):
    """POSTs doc until 201 (the store back); the answer."""
    deadline = time.monotonic() + budget
    while True:
        r = answer(admin.gw, lambda: admin.post(
            "/routes", doc, headers={"Connection": "close"}))
        if r.status_code != 503 or time.monotonic() > deadline:
            return r
        time.sleep(0.1)


@pytest.mark.allow_log("AGW00702", "AGW00704", "AGW00719", "AGW00720")
def test_postgresql_down_and_back(own_pg, enterable_tmp_path, backend,
                                  gateway):  # noqa: F811
    conninfo = own_pg.conninfo
    a = gateway(fleet_conf(conninfo))
    b = gateway(fleet_conf(conninfo, None))
    admin_a, admin_b = Admin(a), Admin(b)
    doc = admin_a.register(route("/fl/up/{id}", backend.url + "/up/{id}"))
    for gw in (a, b):
        served_everywhere(gw, "/fl/up/1", echo_path("/up/1"), budget=1.5)
        # every child has its admin connection
        admin_everywhere(gw, Admin(gw))
    pg_stop(own_pg)
    # both keep serving what they had
    for gw in (a, b):
        served_everywhere(gw, "/fl/up/2", echo_path("/up/2"), budget=0.01)
    # writes refused, in JSON, by every child of both
    for gw in (a, b):
        for i in range(4):
            r = answer(gw, lambda: Admin(gw).post(
                "/routes", route("/fl/down%d" % i, backend.url + "/d"),
                headers={"Connection": "close"}))
            assert_json_error(r, 503)
        r = answer(gw, lambda: Admin(gw).patch(
            "/routes/" + doc["id"], {"enabled": False},
            headers={"Connection": "close"}))
        assert_json_error(r, 503)
    # a while later (several refresh periods), still serving
    time.sleep(1.5)
    for gw in (a, b):
        served_everywhere(gw, "/fl/up/3", echo_path("/up/3"), budget=0.01)
    pg_start(own_pg)
    # both recover by themselves: writes through either work again and
    # are served by the other
    r = write_until(admin_a, route("/fl/back/{id}", backend.url + "/ba/{id}"),
                    5)
    acked = time.monotonic()
    assert r.status_code == 201, r.text
    served_everywhere(b, "/fl/back/1", echo_path("/ba/1"), since=acked,
                      budget=1.0 + SLACK)
    r = write_until(admin_b, route("/fl/back2", backend.url + "/bb"), 5)
    acked = time.monotonic()
    assert r.status_code == 201, r.text
    served_everywhere(a, "/fl/back2", echo_path("/bb"), since=acked,
                      budget=0.3 + SLACK)
    r = admin_a.patch("/routes/" + doc["id"],
                      {"targetUrl": backend.url + "/up2/{id}"})
    assert r.status_code == 200, r.text
    for gw in (a, b):
        served_everywhere(gw, "/fl/up/4", echo_path("/up2/4"), budget=1.5)
    # every child of both reads the store again (none kept a dead
    # connection)
    for gw in (a, b):
        for i in range(6):
            r = Admin(gw).get("/routes", headers={"Connection": "close"})
            assert r.status_code == 200, r.text
    assert sorted(d["path"] for d in admin_b.routes()) \
        == ["/fl/back/{id}", "/fl/back2", "/fl/up/{id}"]

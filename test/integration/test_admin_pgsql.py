# The admin API on a PostgreSQL route store (ApiRouteStore pgsql:...), the
# fleet's registry: two gateways on one private cluster (pg_util.py) see
# each other's writes through the store, and the conninfo is never shown.
import json

import requests

from pg_util import pg_cluster  # noqa: F401  (fixture)
from test_admin_api import enterable_tmp_path  # noqa: F401  (fixture)

JSON = {"Content-Type": "application/json"}
ADMIN = """
LogLevel warn apigw:notice
<Location "/admin">
  SetHandler apigw-admin
  Require all granted
</Location>
"""


def store_conf(conninfo):
    return 'ApiRouteStore pgsql:"%s"\n' % conninfo + ADMIN


def test_two_gateways_share_one_postgresql_store(pg_cluster,  # noqa: F811
                                                 enterable_tmp_path, gateway):
    pg_cluster.psql("CREATE DATABASE admin_fleet")
    conninfo = pg_cluster.conninfo.replace("dbname=postgres",
                                           "dbname=admin_fleet")
    a = gateway(store_conf(conninfo))
    b = gateway(store_conf(conninfo))
    r = requests.post(a.url("/admin/routes"), headers=JSON, timeout=30,
                      data=json.dumps({"path": "/v1/users/{id}",
                                       "targetUrl": "http://127.0.0.1:9/u/{id}"}))
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    # the other gateway reads it from the same registry
    listed = requests.get(b.url("/admin/routes"), timeout=30)
    assert listed.status_code == 200, listed.text
    assert [d["id"] for d in listed.json()] == [rid]
    # an environment made through one is copied and seen through the other
    r = requests.post(b.url("/admin/environments"), headers=JSON, timeout=30,
                      data=json.dumps({"name": "staging", "from": "default",
                                       "copyRoutes": True}))
    assert r.status_code == 201 and r.json()["copiedRoutes"] == 1, r.text
    r = requests.get(a.url("/admin/routes?environment=staging"), timeout=30)
    assert r.status_code == 200 and len(r.json()) == 1
    assert r.json()[0]["id"] != rid
    # deleted through one, gone for the other
    r = requests.delete(b.url("/admin/routes/" + rid), timeout=30)
    assert r.status_code == 200 and r.json() == {"deletedCount": 1}
    assert requests.get(a.url("/admin/routes/" + rid),
                        timeout=30).status_code == 404
    # the rows are PostgreSQL's, and no log line shows the conninfo
    assert pg_cluster.psql("SELECT count(*) FROM routes",
                           db="admin_fleet") == "1"
    for gw in (a, b):
        assert "host=127.0.0.1" not in gw.error_log_text()

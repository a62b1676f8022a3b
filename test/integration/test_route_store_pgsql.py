# The route store's unit tests (test/unit/test_route_store.c) run again on
# a real PostgreSQL: the private cluster of pg_util.py, a database of its
# own. The unit step of ./apxs-build.sh test built the binary; this runs it
# with APIGW_TEST_PGSQL, so the PostgreSQL variants run instead of
# skipping.
import os
import re
import subprocess

import pytest

from pg_util import pg_cluster  # noqa: F401  (fixture)

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
# where ./apxs-build.sh test put it: $APIGW_BUILD_DIR/unit (build/unit)
BINARY = os.path.join(os.environ.get("APIGW_BUILD_DIR") or
                      os.path.join(TOP, "build"), "unit", "test_route_store")


def test_route_store_on_postgresql(pg_cluster):  # noqa: F811
    if not os.access(BINARY, os.X_OK):
        pytest.fail("%s is missing: run test/unit/run.sh on its folder first "
                    "(./apxs-build.sh test does)" % BINARY)
    pg_cluster.psql("CREATE DATABASE route_store_test")
    env = dict(os.environ)
    env["APIGW_TEST_PGSQL"] = pg_cluster.conninfo.replace(
        "dbname=postgres", "dbname=route_store_test")
    p = subprocess.run([BINARY], env=env, capture_output=True, text=True,
                       timeout=300)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    passed = re.search(r"\[  PASSED  \] (\d+) test", out)
    assert passed, out
    assert "SKIPPED" not in out, out
    # every test ran on both stores
    assert int(passed.group(1)) >= 30, out

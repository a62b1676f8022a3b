# The route store's unit tests (test/unit/test_route_store.c) run again on
# a real PostgreSQL: the private cluster of pg_util.py, a database of its
# own. The unit runner builds and runs the binary here with
# APIGW_TEST_PGSQL, so the PostgreSQL variants run instead of skipping
# (each drops the tables it finds first: a second run, as the runner makes
# when LeakSanitizer's own tracer crashed, starts clean). The binary is
# built with the sanitizers either way (as every unit test): the ASan pass
# of the integration tests (ASAN=1) would only build and run the same once
# more.
import os
import re
import subprocess

import pytest

from pg_util import pg_cluster  # noqa: F401  (fixture)

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
UNIT_RUNNER = os.path.join(TOP, "test", "unit", "run.sh")


@pytest.mark.skipif(os.environ.get("ASAN", "0") == "1",
                    reason="the same ASan-built binary ran in the normal pass")
def test_route_store_on_postgresql(pg_cluster, tmp_path):  # noqa: F811
    pg_cluster.psql("CREATE DATABASE route_store_test")
    env = dict(os.environ)
    env["APIGW_TEST_PGSQL"] = pg_cluster.conninfo.replace(
        "dbname=postgres", "dbname=route_store_test")
    p = subprocess.run([UNIT_RUNNER, str(tmp_path), "test_route_store"],
                       env=env, capture_output=True, text=True, timeout=600)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    passed = re.search(r"\[  PASSED  \] (\d+) test", out)
    assert passed, out
    assert "SKIPPED" not in out, out
    # every test ran on both stores
    assert int(passed.group(1)) >= 30, out

# The route store's unit tests (test/unit/test_route_store.c) run again on
# a real PostgreSQL: the private cluster of pg_util.py, a database of its
# own. The binary is built here by the unit runner (./apxs-build.sh test
# runs the unit tests last); this runs it with APIGW_TEST_PGSQL, so the
# PostgreSQL variants run instead of skipping. The binary is built with
# the sanitizers either way (as every unit test): the ASan pass of the
# integration tests (ASAN=1) would only build and run the same once more.
import os
import re
import subprocess

import pytest

from pg_util import pg_cluster  # noqa: F401  (fixture)

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
UNIT_RUNNER = os.path.join(TOP, "test", "unit", "run.sh")
LSAN_TOOL_FAILED = "LeakSanitizer has encountered a fatal error"


@pytest.mark.skipif(os.environ.get("ASAN", "0") == "1",
                    reason="the same ASan-built binary ran in the normal pass")
def test_route_store_on_postgresql(pg_cluster, tmp_path):  # noqa: F811
    built = subprocess.run([UNIT_RUNNER, str(tmp_path), "test_route_store"],
                           capture_output=True, text=True, timeout=300)
    binary = os.path.join(str(tmp_path), "test_route_store")
    if not os.access(binary, os.X_OK):
        pytest.fail("the unit runner built no test_route_store:\n"
                    + built.stdout + built.stderr)
    for attempt in (1, 2):
        db = "route_store_test%d" % attempt
        pg_cluster.psql("CREATE DATABASE " + db)
        env = dict(os.environ)
        env["APIGW_TEST_PGSQL"] = pg_cluster.conninfo.replace(
            "dbname=postgres", "dbname=" + db)
        p = subprocess.run([binary], env=env, capture_output=True, text=True,
                           timeout=300)
        out = p.stdout + p.stderr
        # LeakSanitizer's own tracer crashing at exit (seen once: "Tracer
        # caught signal 11") is the tool failing, not a leak found: once
        # more, on a database of its own; a leak report fails at once
        if p.returncode == 0 or LSAN_TOOL_FAILED not in out \
                or "detected memory leaks" in out:
            break
    assert p.returncode == 0, out
    passed = re.search(r"\[  PASSED  \] (\d+) test", out)
    assert passed, out
    assert "SKIPPED" not in out, out
    # every test ran on both stores
    assert int(passed.group(1)) >= 30, out

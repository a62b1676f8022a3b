# The PostgreSQL harness itself (pg_util.py): a private cluster starts as
# an unprivileged user on a free port, answers, and is gone afterwards.
import os
import time

from pg_util import PgCluster


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def test_private_cluster_runs_unprivileged_and_goes():
    c = PgCluster().start()
    base = c.base
    try:
        pid = c.postmaster_pid()
        assert pid and alive(pid)
        assert os.stat("/proc/%d" % pid).st_uid != 0
        c.psql("CREATE TABLE t (id text PRIMARY KEY, n bigint)")
        c.psql("INSERT INTO t VALUES ('a', 1), ('b', 2)")
        assert c.psql("SELECT sum(n) FROM t") == "3"
    finally:
        stopped = c.stop()
    deadline = time.monotonic() + 10
    while alive(stopped) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(stopped)
    assert not os.path.exists(base)

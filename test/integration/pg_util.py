# A private PostgreSQL cluster for the tests that need one (the route
# store's fleet mode): Debian's postgresql binaries, initdb and pg_ctl run
# as the unprivileged `postgres` user when the tests run as root
# (PostgreSQL refuses to run as root), on a free 127.0.0.1 port, with its
# socket and data in a folder of its own under /tmp (pytest's folders are
# closed to other users); stopped and removed at the end, with no process
# left.
import glob
import os
import pwd
import shutil
import subprocess
import tempfile

import pytest

from conftest import free_port


def pg_bin():
    """The newest /usr/lib/postgresql/N/bin holding initdb, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[4]))
    return os.path.dirname(found[-1]) if found else None


class PgCluster:
    """initdb + pg_ctl start on a free port; .conninfo for libpq."""

    USER = "apigw"

    def __init__(self):
        self.bin = pg_bin()
        if not self.bin:
            pytest.fail("the PostgreSQL tests need Debian's postgresql "
                        "(./apxs-build.sh deps installs it)")
        self.base = tempfile.mkdtemp(prefix="apigw-pg-")
        self.data = os.path.join(self.base, "data")
        self.sock = os.path.join(self.base, "sock")
        self.log = os.path.join(self.base, "postgres.log")
        self.port = free_port()
        self.as_user = None
        if os.geteuid() == 0:
            self.as_user = pwd.getpwnam("postgres")

    def _run(self, args, **kw):
        if self.as_user:
            args = ["runuser", "-u", self.as_user.pw_name, "--"] + args
        return subprocess.run(args, capture_output=True, text=True,
                               timeout=120, **kw)

    def _own(self, path):
        os.makedirs(path, exist_ok=True)
        if self.as_user:
            os.chown(path, self.as_user.pw_uid, self.as_user.pw_gid)

    def start(self):
        self._own(self.base)
        self._own(self.sock)
        p = self._run([os.path.join(self.bin, "initdb"), "-D", self.data,
                       "-A", "trust", "-U", self.USER, "--no-sync",
                       "-E", "UTF8", "--locale=C"])
        if p.returncode != 0:
            pytest.fail("initdb failed:\n" + p.stdout + p.stderr)
        opts = ("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off"
                % (self.port, self.sock))
        p = self._run([os.path.join(self.bin, "pg_ctl"), "-D", self.data,
                       "-o", opts, "-l", self.log, "-w", "-t", "60",
                       "start"])
        if p.returncode != 0:
            log = open(self.log).read() if os.path.exists(self.log) else ""
            pytest.fail("pg_ctl start failed:\n%s%s\n%s"
                        % (p.stdout, p.stderr, log))
        return self

    @property
    def conninfo(self):
        return ("host=127.0.0.1 port=%d user=%s dbname=postgres"
                % (self.port, self.USER))

    def psql(self, sql, db="postgres"):
        """Runs sql through psql; returns its unaligned output."""
        p = subprocess.run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                            "-h", "127.0.0.1", "-p", str(self.port),
                            "-U", self.USER, "-d", db, "-c", sql],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise RuntimeError("psql: " + p.stderr)
        return p.stdout.strip()

    def postmaster_pid(self):
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                return int(f.readline())
        except (OSError, ValueError):
            return None

    def stop(self):
        pid = self.postmaster_pid()
        if pid:
            self._run([os.path.join(self.bin, "pg_ctl"), "-D", self.data,
                       "-m", "fast", "-w", "-t", "60", "stop"])
        shutil.rmtree(self.base, ignore_errors=True)
        return pid


@pytest.fixture(scope="session")
def pg_cluster():
    c = PgCluster().start()
    yield c
    c.stop()

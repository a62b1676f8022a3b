# The test backends started by test/backends/zygote.py: one zygote per
# pytest worker, started on first use, which forks a backend on demand
# instead of starting an interpreter and importing its modules again
# (see zygote.py). spawn() answers a ForkedProcess: what the fixtures use
# of subprocess.Popen (pid, poll, wait, terminate, kill, send_signal), the
# exit status coming from the zygote, which reaps the backend.
import atexit
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ZYGOTE_PY = os.path.join(HERE, "..", "backends", "zygote.py")
PYTHON = "/usr/bin/python3"
SCRIPTS = ("backend.py", "member.py")


class ForkedProcess:
    """A backend forked by the zygote; its connection to the zygote
    carries "PID", the backend's stdout ("PORT <n>") and "EXIT <status>"."""

    def __init__(self, conn):
        self._conn = conn
        self._buf = b""
        self._lines = []
        self.pid = None
        self.returncode = None

    def _read(self, timeout):
        """Reads what has come within timeout seconds; False at its end."""
        sel = selectors.DefaultSelector()
        sel.register(self._conn, selectors.EVENT_READ)
        ready = sel.select(timeout=max(0.0, timeout))
        sel.close()
        if not ready:
            return True
        try:
            data = self._conn.recv(4096)
        except OSError:
            data = b""
        if not data:
            return False
        self._buf += data
        while b"\n" in self._buf:
            line, self._buf = self._buf.split(b"\n", 1)
            self._take(line + b"\n")
        return True

    def _take(self, line):
        if line.startswith(b"PID ") and self.pid is None:
            self.pid = int(line[4:])
        elif line.startswith(b"EXIT "):
            self.returncode = int(line[5:])
        else:
            self._lines.append(line)

    def _pump(self, done, timeout):
        """Reads until done() or timeout seconds; -> done()."""
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(left):
                break
        return done()

    def readline(self, timeout):
        """The backend's next stdout line (b"" if none came in time)."""
        self._pump(lambda: self._lines, timeout)
        return self._lines.pop(0) if self._lines else b""

    def poll(self):
        while self.returncode is None and self._conn is not None:
            sel = selectors.DefaultSelector()
            sel.register(self._conn, selectors.EVENT_READ)
            ready = sel.select(timeout=0)
            sel.close()
            if not ready or not self._read(0):
                break
        return self.returncode

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            left = 3600.0 if deadline is None else deadline - time.monotonic()
            if left <= 0:
                raise subprocess.TimeoutExpired("backend %s" % self.pid, timeout)
            if not self._read(left):
                break
        if self.returncode is None:
            raise RuntimeError("the zygote closed backend %s's connection "
                               "without its exit status" % self.pid)
        self.close()
        return self.returncode

    def send_signal(self, sig):
        if self.returncode is None and self.pid:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def terminate(self):
        self.send_signal(signal.SIGTERM)

    def kill(self):
        self.send_signal(signal.SIGKILL)

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class Zygote:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="apigw-zygote-")
        self.path = os.path.join(self.dir, "sock")
        self.proc = subprocess.Popen(
            [PYTHON, ZYGOTE_PY, self.path] + list(SCRIPTS),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            start_new_session=True)
        line = self.proc.stdout.readline()
        if line != b"READY\n":
            self.stop()
            raise RuntimeError("zygote.py did not start: %r" % line)

    def spawn(self, script, args, stderr_path):
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(self.path)
        conn.sendall(json.dumps({"script": script, "args": list(args),
                                 "stderr": stderr_path}).encode() + b"\n")
        proc = ForkedProcess(conn)
        if not proc._pump(lambda: proc.pid is not None, 10):
            proc.close()
            raise RuntimeError("zygote.py did not start %s: %r"
                               % (script, proc._lines))
        return proc

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdin.close()
        self.proc.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)


_zygote = None


def spawn(script, args, stderr_path):
    """Forks SCRIPT (one of SCRIPTS) with ARGS; -> ForkedProcess."""
    global _zygote
    if _zygote is None or _zygote.proc.poll() is not None:
        _zygote = Zygote()
        atexit.register(_zygote.stop)
    return _zygote.spawn(script, args, stderr_path)

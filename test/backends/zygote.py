#!/usr/bin/python3
"""Starts the tests' Python backends by forking, their modules imported once.

    zygote.py SOCKET SCRIPT...

imports each SCRIPT (backend.py, member.py... from this folder) as a
module, then listens on the Unix socket SOCKET. Each connection asks for
one backend with a JSON line

    {"script": "backend.py", "args": ["--port", "0"], "stderr": "/path/log"}

and the zygote forks: the child starts a session of its own, takes the
connection as its stdout (so the backend's "PORT <n>" line reaches the
caller), appends its stderr to the named file and runs the script's main()
as `python3 SCRIPT ARGS...` would. On the same connection the zygote first
writes "PID <pid>", and when it has reaped the child, "EXIT <status>"
(the negative signal number when a signal ended it, as subprocess says).

A backend started this way costs a fork instead of an interpreter start and
its imports (about 0.1 s of CPU each, paid some 700 times per test pass).
The zygote stays single-threaded, so forking it is safe; it ends on SIGTERM
or when its parent (the pytest worker) closes its stdin.
"""
import gc
import importlib.util
import json
import os
import selectors
import signal
import socket
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))


def load(script):
    name = "zygote_" + script.replace(".", "_")
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, script))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_child(conn, listener, wake, mod, request):
    """In the forked child: become the backend; never returns."""
    code = 1
    try:
        os.setsid()
        for sig in (signal.SIGCHLD, signal.SIGTERM):   # what main() changed
            signal.signal(sig, signal.SIG_DFL)
        signal.set_wakeup_fd(-1)
        for f in (listener, wake[0], wake[1]):
            f.close() if hasattr(f, "close") else os.close(f)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.dup2(conn.fileno(), 1)
        conn.close()
        err = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(err, 2)
        os.close(err)
        sys.stdin = open(0, "r", closefd=False)
        sys.stdout = open(1, "w", buffering=1, closefd=False)
        sys.stderr = open(2, "w", buffering=1, closefd=False)
        sys.argv = [os.path.join(HERE, request["script"])] + list(request["args"])
        code = mod.main() or 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def status_of(wait_status):
    if os.WIFSIGNALED(wait_status):
        return -os.WTERMSIG(wait_status)
    return os.WEXITSTATUS(wait_status)


def main():
    path, scripts = sys.argv[1], sys.argv[2:]
    modules = {s: load(s) for s in scripts}
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    # SIGCHLD and SIGTERM only wake the loop; the loop does the work
    wake = os.pipe()
    os.set_blocking(wake[0], False)
    os.set_blocking(wake[1], False)
    signal.set_wakeup_fd(wake[1])
    signal.signal(signal.SIGCHLD, lambda *a: None)
    signal.signal(signal.SIGTERM, lambda *a: None)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, "accept")
    sel.register(wake[0], selectors.EVENT_READ, "signal")
    sel.register(0, selectors.EVENT_READ, "parent")
    children = {}                   # pid -> the connection that asked for it
    gc.freeze()                     # fewer pages copied in the children
    print("READY", flush=True)
    running = True
    while running:
        for key, _ in sel.select():
            if key.data == "accept":
                conn, _ = listener.accept()
                start(conn, listener, wake, modules, children)
            elif key.data == "signal":
                got = os.read(wake[0], 512)
                if signal.SIGTERM in got:
                    running = False
                reap(children)
            elif not os.read(0, 512):
                running = False     # the pytest worker is gone
    listener.close()
    os.unlink(path)
    for conn in children.values():
        conn.close()
    return 0


def start(conn, listener, wake, modules, children):
    try:
        conn.settimeout(5)
        line = conn.makefile("rb").readline()
        request = json.loads(line)
        mod = modules[request["script"]]
    except (OSError, ValueError, KeyError) as e:
        try:
            conn.sendall(("ERROR %s\n" % e).encode())
        except OSError:
            pass
        conn.close()
        return
    conn.settimeout(None)
    pid = os.fork()
    if pid == 0:
        run_child(conn, listener, wake, mod, request)
    children[pid] = conn
    try:
        conn.sendall(b"PID %d\n" % pid)
    except OSError:
        pass


def reap(children):
    while children:
        try:
            pid, wait_status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = children.pop(pid, None)
        if conn is not None:
            try:
                conn.sendall(b"EXIT %d\n" % status_of(wait_status))
            except OSError:
                pass
            conn.close()


if __name__ == "__main__":
    sys.exit(main())

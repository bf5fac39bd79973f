"""A throwaway PostgreSQL server for the sweep's shared-store tests, started and stopped with the harness.

Debian's `postgresql` package ships initdb and pg_ctl under /usr/lib/postgresql/VERSION/bin; the newest
version there is used.  The cluster lives in WORKDIR/postgres (its data directory and its Unix socket), listens
on 127.0.0.1 on a free port, and takes password (SCRAM) logins only, so a wrong password is refused as it
would be in production.  initdb and the server refuse to run as root: as root they run as the `postgres` user
(else `nobody`) through runuser, with the directory given to that user.
"""

import glob
import json
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time

USER = "stowaway"


def bindir():
    """The newest installed server's bin directory, or None."""
    found = []
    for d in glob.glob("/usr/lib/postgresql/*/bin"):
        if os.path.exists(os.path.join(d, "initdb")) and os.path.exists(os.path.join(d, "pg_ctl")):
            try:
                found.append((float(d.split("/")[-2]), d))
            except ValueError:
                pass
    return max(found)[1] if found else None


def _runas():
    """(argv prefix, pw entry) for running server programs: ourselves, or an unprivileged user when root."""
    if os.getuid() != 0:
        return [], None
    for name in ("postgres", "nobody"):
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            continue
        return ["runuser", "-u", name, "--"], pw
    raise RuntimeError("running as root and neither the postgres nor the nobody user exists for initdb")


def _run(argv, timeout=120):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"command failed ({p.returncode}): {' '.join(argv)}\n{p.stdout.decode('utf-8', 'replace').strip()}")
    return p


def start(workdir, port):
    """Creates and starts the cluster; returns the harness.json entry (URL, credentials, where things are)."""
    bins = bindir()
    if bins is None:
        raise RuntimeError("PostgreSQL server not found under /usr/lib/postgresql/*/bin: apt-get install -y postgresql")
    stop(workdir)
    state_dir = os.path.join(os.path.abspath(workdir), "postgres")
    shutil.rmtree(state_dir, ignore_errors=True)
    os.makedirs(state_dir)
    prefix, pw = _runas()
    root = state_dir
    if pw is not None and not _searchable(root):
        # A parent of the workdir is closed to other users (a umask of 077, a private home): the cluster goes
        # to a fresh directory under /tmp instead, removed by stop().
        root = tempfile.mkdtemp(prefix="stowaway-pg-")
        os.chmod(root, 0o755)
    data = os.path.join(root, "data")
    password = secrets.token_hex(16)
    pwfile = os.path.join(root, "pwfile")
    with open(pwfile, "w") as f:
        f.write(password + "\n")
    os.chmod(pwfile, 0o600)
    if pw is not None:
        for path in (root, pwfile):
            os.chown(path, pw.pw_uid, pw.pw_gid)
    _run(prefix + [os.path.join(bins, "initdb"), "-D", data, "-U", USER, "--auth=scram-sha-256", f"--pwfile={pwfile}",
                   "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
    os.remove(pwfile)
    log = os.path.join(root, "server.log")
    opts = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} -c fsync=off "
            f"-c synchronous_commit=off -c full_page_writes=off -c max_connections=300")
    _run(prefix + [os.path.join(bins, "pg_ctl"), "-D", data, "-l", log, "-o", opts, "-w", "-t", "60", "start"])
    entry = {"host": f"127.0.0.1:{port}", "port": port, "user": USER, "password": password, "database": "postgres",
             "url": f"postgres://{USER}:{password}@127.0.0.1:{port}/postgres?sslmode=disable", "bin": bins, "data": data}
    with open(os.path.join(state_dir, "state.json"), "w") as f:
        json.dump({"bin": bins, "data": data, "root": root if root != state_dir else None}, f)
    return entry


def _searchable(path):
    """Whether every parent of `path` lets other users through (x for others)."""
    d = path
    while d != "/":
        d = os.path.dirname(d)
        if not os.stat(d).st_mode & 0o001:
            return False
    return True


def stop(workdir):
    """Stops the cluster started from `workdir`, if any (idempotent)."""
    root = os.path.join(os.path.abspath(workdir), "postgres")
    try:
        with open(os.path.join(root, "state.json")) as f:
            st = json.load(f)
    except (OSError, ValueError):
        return
    data = st["data"]
    if not os.path.exists(os.path.join(data, "postmaster.pid")):
        _remove(st)
        return
    prefix, _ = _runas()
    try:
        _run(prefix + [os.path.join(st["bin"], "pg_ctl"), "-D", data, "-m", "immediate", "-w", "-t", "30", "stop"], timeout=60)
    except (RuntimeError, subprocess.TimeoutExpired, OSError):
        # Last resort: the postmaster's own pid file names it.
        try:
            with open(os.path.join(data, "postmaster.pid")) as f:
                os.kill(int(f.readline().strip()), 9)
        except (OSError, ValueError):
            pass
    deadline = time.monotonic() + 10
    while os.path.exists(os.path.join(data, "postmaster.pid")) and time.monotonic() < deadline:
        time.sleep(0.05)
    _remove(st)


def _remove(st):
    """Removes a cluster directory made under /tmp (one under the workdir goes with the workdir)."""
    if st.get("root"):
        shutil.rmtree(st["root"], ignore_errors=True)

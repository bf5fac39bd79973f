#!/usr/bin/env python3
"""Real OCI registries on 127.0.0.1 for Stowaway's integration tests.

Python 3 standard library only; crypto via the `openssl` CLI, bcrypt via
`htpasswd -B` (Debian package apache2-utils).  Registries are Debian's
`docker-registry` (distribution 2.8).  See README.md next to this file.

Subcommands:
  start        --workdir DIR [--faults-only]         start every service, write DIR/harness.json
                                                     (--faults-only: just the misbehaving ones, faults.py)
  stop         --workdir DIR                         stop everything started from DIR (idempotent)
  push         --workdir DIR --service NAME --source SRC --dest REPO:TAG
                                                     skopeo copy SRC into the service; prints the manifest digest
  corrupt-blob --workdir DIR --service NAME --digest sha256:HEX
                                                     flip bytes of that blob in the service's storage
  env          --workdir DIR --service NAME          print REGISTRY_{HOST,SCHEME,USERNAME,PASSWORD,CA}=... for `eval`

Internal (used by `start`, run detached): _token-server, _ratelimit-proxy, _dropper-proxy; faults.py.
"""

import argparse
import base64
import hashlib
import http.client
import http.server
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import postgres  # noqa: E402  (next to this file)

LOOPBACK = "127.0.0.1"
START_TIMEOUT = 20.0          # seconds per service
TOKEN_SERVICE = "stowaway-test-registry"   # "service" of the token registry (JWT aud)
TOKEN_ISSUER = "stowaway-test-token-issuer"
TOKEN_TTL = 300
REGISTRY_SERVICES = ["anonymous", "basic", "token", "tls", "fly"]
PROXY_SERVICES = ["ratelimit", "dropper", "norange", "redirect"]
ALL_SERVICES = REGISTRY_SERVICES + PROXY_SERVICES
# faults.py: misbehaving registries (no storage, nothing to push)
FAULT_SERVICES = ["fault-503", "fault-429", "fault-trickle", "fault-silent", "fault-huge", "fault-redirect",
                  "fault-long-blob", "fault-stall-blob", "fault-token-echo", "fault-tls-realm"]
DROP_THRESHOLD = 64 * 1024


class HarnessError(Exception):
    pass


# --------------------------------------------------------------------------- helpers

def die(msg):
    print(f"harness: error: {msg}", file=sys.stderr)
    sys.exit(1)


def run(cmd, **kw):
    """Run a command, raise HarnessError with its output on failure."""
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    kw.setdefault("timeout", 60)
    p = subprocess.run(cmd, **kw)
    if p.returncode != 0:
        out = (p.stdout or b"") + (p.stderr or b"")
        if isinstance(out, bytes):
            out = out.decode("utf-8", "replace")
        raise HarnessError(f"command failed ({p.returncode}): {' '.join(cmd)}\n{out.strip()}")
    return p


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def tail(path, n=40):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-n:])
    except OSError as e:
        return f"(no log: {e})"


def load_state(workdir):
    path = os.path.join(workdir, "harness.json")
    if not os.path.exists(path):
        raise HarnessError(f"{path} not found; run `harness.py start --workdir {workdir}` first")
    with open(path) as f:
        return json.load(f)


# --------------------------------------------------------------------------- PKI

def gen_pki(workdir):
    """CA, server cert (127.0.0.1 + localhost), token signing cert (self-signed, RSA)."""
    pki = os.path.join(workdir, "pki")
    os.makedirs(pki, exist_ok=True)
    ca_key, ca_pem = os.path.join(pki, "ca-key.pem"), os.path.join(workdir, "ca.pem")
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "3",
         "-keyout", ca_key, "-out", ca_pem,
         "-subj", f"/CN=Stowaway Test CA {secrets.token_hex(4)}",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign",
         "-addext", "subjectKeyIdentifier=hash"])
    srv_key, srv_csr, srv_pem = (os.path.join(pki, n) for n in ("server-key.pem", "server.csr", "server.pem"))
    run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-sha256",
         "-keyout", srv_key, "-out", srv_csr, "-subj", "/CN=127.0.0.1"])
    ext = os.path.join(pki, "server.ext")
    write(ext, "basicConstraints=critical,CA:FALSE\n"
               "keyUsage=critical,digitalSignature,keyEncipherment\n"
               "extendedKeyUsage=serverAuth\n"
               "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
               "authorityKeyIdentifier=keyid\n")
    run(["openssl", "x509", "-req", "-in", srv_csr, "-CA", ca_pem, "-CAkey", ca_key,
         "-CAcreateserial", "-days", "3", "-sha256", "-extfile", ext, "-out", srv_pem])
    # Token signing key: self-signed cert that is itself the rootcertbundle of the token registry.
    # (No extendedKeyUsage: Go's x509.Verify defaults to ServerAuth and accepts certs without EKU.)
    tok_key, tok_pem = os.path.join(pki, "token-key.pem"), os.path.join(pki, "token-signing.pem")
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "3",
         "-keyout", tok_key, "-out", tok_pem, "-subj", "/CN=Stowaway Test Token Signer",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,digitalSignature,keyCertSign"])
    for k in (ca_key, srv_key, tok_key):
        os.chmod(k, 0o600)
    # skopeo --*-cert-dir wants a directory of *.crt CA files.
    certdir = os.path.join(workdir, "certs.d")
    os.makedirs(certdir, exist_ok=True)
    shutil.copyfile(ca_pem, os.path.join(certdir, "ca.crt"))
    return {"ca": ca_pem, "server_cert": srv_pem, "server_key": srv_key,
            "token_cert": tok_pem, "token_key": tok_key, "certdir": certdir}


def htpasswd_file(path, user, password):
    exe = shutil.which("htpasswd")
    if not exe:
        raise HarnessError("`htpasswd` not found: apt-get install -y apache2-utils "
                           "(distribution's htpasswd auth accepts bcrypt only)")
    # -i: password on stdin; -B bcrypt; -C 5 keeps start fast (cost is irrelevant for tests).
    run([exe, "-c", "-i", "-B", "-C", "5", path, user], input=password.encode(), stdout=subprocess.PIPE)
    os.chmod(path, 0o644)


def fly_token():
    # `fo1_` + 43 chars of [A-Za-z0-9_-]  (token_urlsafe(32) is exactly 43 such chars)
    tok = "fo1_" + secrets.token_urlsafe(32)
    assert len(tok) == 47
    return tok


# --------------------------------------------------------------------------- registry config

def registry_config(workdir, name, port, auth_yaml="", tls=None):
    root = os.path.join(workdir, "storage", name)
    os.makedirs(root, exist_ok=True)
    cfg = f"""version: 0.1
log:
  level: info
  formatter: text
  fields:
    service: {name}
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: {LOOPBACK}:{port}
  secret: {secrets.token_hex(16)}
  headers:
    X-Content-Type-Options: [nosniff]
"""
    if tls:
        cfg += f"""  tls:
    certificate: {tls['server_cert']}
    key: {tls['server_key']}
"""
    cfg += auth_yaml
    path = os.path.join(workdir, "config", f"{name}.yml")
    write(path, cfg)
    return path, root


# --------------------------------------------------------------------------- process control

def spawn(workdir, name, argv, pids_path):
    logdir = os.path.join(workdir, "logs")
    log = open(os.path.join(logdir, f"{name}.log"), "ab")
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                         start_new_session=True, close_fds=True, cwd=workdir)
    log.close()
    with open(pids_path, "a") as f:
        f.write(f"{p.pid} {name}\n")
    return p


def wait_up(name, proc, host, scheme, ca, logpath, timeout=START_TIMEOUT):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise HarnessError(f"service {name} exited with code {proc.returncode}; log tail:\n{tail(logpath)}")
        try:
            if scheme == "https":
                ctx = ssl.create_default_context(cafile=ca)
                conn = http.client.HTTPSConnection(host, timeout=2, context=ctx)
            else:
                conn = http.client.HTTPConnection(host, timeout=2)
            path = {"token-server": "/token", "ratelimit": "/__harness/health",
                    "dropper": "/__harness/health"}.get(name, "/v2/")
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            conn.close()
            if r.status in (200, 401):
                return
            last = f"HTTP {r.status}"
        except (OSError, http.client.HTTPException) as e:
            last = repr(e)
        time.sleep(0.1)
    raise HarnessError(f"service {name} did not answer on {scheme}://{host} within {timeout:.0f}s "
                       f"(last: {last}); log tail:\n{tail(logpath)}")


def _proc_matches(pid, workdir):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return False
    wd = os.path.abspath(workdir)
    return (wd + "/") in cmd or (wd + " ") in cmd   # DIR/config/x.yml or `--workdir DIR `


def stop(workdir):
    workdir = os.path.abspath(workdir)
    pids = []
    pids_path = os.path.join(workdir, "pids")
    if os.path.exists(pids_path):
        with open(pids_path) as f:
            for line in f:
                if line.strip():
                    pids.append(int(line.split()[0]))
    hj = os.path.join(workdir, "harness.json")
    if os.path.exists(hj):
        try:
            with open(hj) as f:
                pids += [int(p) for p in json.load(f).get("pids", [])]
        except (ValueError, OSError):
            pass
    # Only signal processes we started: session leaders whose command line names this workdir.
    live = sorted({p for p in pids if _proc_matches(p, workdir)})
    for pid in live:
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    while live and time.monotonic() < deadline:
        live = [p for p in live if _alive(p)]
        time.sleep(0.05)
    for pid in live:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if os.path.exists(pids_path):
        os.remove(pids_path)
    postgres.stop(workdir)


def _alive(pid):
    try:
        # reap if it is our child (not the case across invocations, harmless otherwise)
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


# --------------------------------------------------------------------------- start

def start_faults(workdir, pki, pids_path, procs):
    """faults.py, one process for every misbehaving registry; it binds port 0 for each and writes the ports."""
    ports_file = os.path.join(workdir, "faults-ports.json")
    logpath = os.path.join(workdir, "logs", "faults.log")
    here = os.path.dirname(os.path.abspath(__file__))
    proc = spawn(workdir, "faults", [sys.executable, os.path.join(here, "faults.py"), "--ports-file", ports_file,
                                     "--cert", pki["server_cert"], "--key", pki["server_key"]], pids_path)
    procs.append(proc)
    deadline = time.monotonic() + START_TIMEOUT
    while not os.path.exists(ports_file):
        if proc.poll() is not None:
            raise HarnessError(f"faults.py exited with code {proc.returncode}; log tail:\n{tail(logpath)}")
        if time.monotonic() > deadline:
            raise HarnessError(f"faults.py wrote no ports within {START_TIMEOUT:.0f}s; log tail:\n{tail(logpath)}")
        time.sleep(0.05)
    with open(ports_file) as f:
        ports = json.load(f)
    services = {}
    for name in FAULT_SERVICES:
        tls = name == "fault-tls-realm"
        services[name] = {"host": f"{LOOPBACK}:{ports[name]}", "scheme": "https" if tls else "http",
                          "username": None, "password": None, "ca": pki["ca"] if tls else None,
                          "repository": "fault/app"}
    return services


def start(workdir, faults_only=False):
    workdir = os.path.abspath(workdir)
    needed = ("openssl",) if faults_only else ("docker-registry", "openssl", "htpasswd")
    for exe in needed:
        if not shutil.which(exe):
            pkg = {"docker-registry": "docker-registry", "openssl": "openssl", "htpasswd": "apache2-utils"}[exe]
            raise HarnessError(f"`{exe}` not found: apt-get install -y {pkg}")
    os.makedirs(workdir, exist_ok=True)
    stop(workdir)  # a previous run in the same dir
    for sub in ("pki", "certs.d", "config", "storage", "logs", "auth", "token"):
        shutil.rmtree(os.path.join(workdir, sub), ignore_errors=True)
    for f in ("harness.json", "ca.pem", "pids", "faults-ports.json"):
        try:
            os.remove(os.path.join(workdir, f))
        except FileNotFoundError:
            pass
    for sub in ("config", "logs", "auth", "token"):
        os.makedirs(os.path.join(workdir, sub))
    pids_path = os.path.join(workdir, "pids")
    open(pids_path, "w").close()

    pki = gen_pki(workdir)
    ca = pki["ca"]
    me = os.path.abspath(__file__)
    procs = []
    services = {}
    storage = {}

    def launch(name, build, scheme="http", cafile=None):
        """Start one service and wait for it; on a lost port race (bind: address already in use)
        retry on a fresh port, at most 3 attempts.  build(port) -> argv."""
        logpath = os.path.join(workdir, "logs", f"{name}.log")
        for attempt in range(3):
            port = free_port()
            proc = spawn(workdir, name, build(port), pids_path)
            procs.append(proc)
            host = f"{LOOPBACK}:{port}"
            try:
                wait_up(name, proc, host, scheme, cafile, logpath)
                return host
            except HarnessError:
                if proc.poll() is not None and "address already in use" in tail(logpath, 5).lower() and attempt < 2:
                    continue
                raise

    def launch_registry(name, auth_yaml="", tls=False):
        def build(port):
            cfg, storage[name] = registry_config(workdir, name, port, auth_yaml, pki if tls else None)
            return ["docker-registry", "serve", cfg]
        scheme = "https" if tls else "http"
        return launch(name, build, scheme, ca if tls else None), scheme

    try:
        services.update(start_faults(workdir, pki, pids_path, procs))
        if not faults_only:
            # anonymous
            host, scheme = launch_registry("anonymous")
            services["anonymous"] = {"host": host, "scheme": scheme, "username": None, "password": None, "ca": None}

            # basic (htpasswd over plain HTTP: distribution 2.8 allows it)
            alice_pw = secrets.token_urlsafe(18)
            hp = os.path.join(workdir, "auth", "basic.htpasswd")
            htpasswd_file(hp, "alice", alice_pw)
            host, scheme = launch_registry("basic", f"""auth:
      htpasswd:
        realm: stowaway-basic
        path: {hp}
    """)
            services["basic"] = {"host": host, "scheme": scheme, "username": "alice", "password": alice_pw, "ca": None}

            # token: token server (plain HTTP) + registry with auth: token
            bob_pw = secrets.token_urlsafe(18)
            identity = "rt_" + secrets.token_urlsafe(32)
            tcfg_path = os.path.join(workdir, "token", "token-server.json")

            def build_token_server(port):
                tcfg = {"port": port, "users": {"bob": bob_pw}, "service": TOKEN_SERVICE, "issuer": TOKEN_ISSUER,
                        "key": pki["token_key"], "cert": pki["token_cert"], "ttl": TOKEN_TTL,
                        "refresh_tokens": {identity: "bob"}}
                write(tcfg_path, json.dumps(tcfg, indent=2), 0o600)
                return [sys.executable, me, "_token-server", "--workdir", workdir, "--config", tcfg_path]
            thost = launch("token-server", build_token_server)
            realm = f"http://{thost}/token"
            host, scheme = launch_registry("token", f"""auth:
      token:
        realm: {realm}
        service: {TOKEN_SERVICE}
        issuer: {TOKEN_ISSUER}
        rootcertbundle: {pki['token_cert']}
    """)
            services["token"] = {"host": host, "scheme": scheme, "username": "bob", "password": bob_pw, "ca": None,
                                 "realm": realm, "service": TOKEN_SERVICE, "issuer": TOKEN_ISSUER,
                                 "token_server": {"host": thost, "scheme": "http"},
                                 "identitytoken": identity}

            # tls: HTTPS, no auth
            host, scheme = launch_registry("tls", tls=True)
            services["tls"] = {"host": host, "scheme": scheme, "username": None, "password": None, "ca": ca}

            # fly: htpasswd user `x`, Fly-style token as password
            fly_pw = fly_token()
            hp = os.path.join(workdir, "auth", "fly.htpasswd")
            htpasswd_file(hp, "x", fly_pw)
            host, scheme = launch_registry("fly", f"""auth:
      htpasswd:
        realm: registry.fly.io
        path: {hp}
    """)
            services["fly"] = {"host": host, "scheme": scheme, "username": "x", "password": fly_pw, "ca": None}

            # fault-injecting proxies in front of anonymous (they share its storage)
            upstream = services["anonymous"]["host"]
            for name, sub in (("ratelimit", "_ratelimit-proxy"), ("dropper", "_dropper-proxy")):
                host = launch(name, lambda port, sub=sub: [sys.executable, me, sub, "--workdir", workdir,
                                                           "--port", str(port), "--upstream", upstream])
                services[name] = {"host": host, "scheme": "http", "username": None, "password": None, "ca": None,
                                  "upstream": "anonymous"}
                storage[name] = storage["anonymous"]

            # norange: like dropper, but strips Range from requests (a registry without Range support)
            host = launch("norange", lambda port: [sys.executable, me, "_norange-proxy", "--workdir", workdir,
                                                   "--port", str(port), "--upstream", upstream])
            services["norange"] = {"host": host, "scheme": "http", "username": None, "password": None, "ca": None,
                                   "upstream": "anonymous"}
            storage["norange"] = storage["anonymous"]

            # redirect: in front of basic; blob GETs answer 307 to another origin (localhost instead of
            # 127.0.0.1, same port) that, like presigned storage URLs, refuses any Authorization header
            basic = services["basic"]
            host = launch("redirect", lambda port: [sys.executable, me, "_redirect-proxy", "--workdir", workdir,
                                                    "--port", str(port), "--upstream", basic["host"],
                                                    "--upstream-auth", f"{basic['username']}:{basic['password']}"])
            services["redirect"] = {"host": host, "scheme": "http", "username": basic["username"],
                                    "password": basic["password"], "ca": None, "upstream": "basic"}
            storage["redirect"] = storage["basic"]
        if not faults_only:
            # PostgreSQL for the sweep's shared store (tests that need it skip when harness.json has no entry).
            services["postgres"] = postgres.start(workdir, free_port())
    except BaseException:
        stop(workdir)
        raise

    state = dict(services)
    state["pids"] = [p.pid for p in procs if p.poll() is None]
    state["workdir"] = workdir
    state["ca"] = ca
    state["certdir"] = pki["certdir"]
    state["storage"] = storage
    write(os.path.join(workdir, "harness.json"), json.dumps(state, indent=2) + "\n", 0o600)
    return state


# --------------------------------------------------------------------------- push / corrupt

def push(workdir, service, source, dest):
    st = load_state(workdir)
    if service not in ALL_SERVICES:
        raise HarnessError(f"unknown service {service!r}; one of {', '.join(ALL_SERVICES)}")
    # The proxies share the anonymous registry's storage; pushing through them would trip their
    # fault injection, so push straight to the backing registry.
    target = st[service].get("upstream", service)
    svc = st[target]
    digestfile = os.path.join(workdir, f".digest-{os.getpid()}-{secrets.token_hex(4)}")
    authfile = os.path.join(workdir, "empty-auth.json")
    if not os.path.exists(authfile):
        write(authfile, '{"auths":{}}\n', 0o600)
    cmd = ["skopeo", "--insecure-policy", "copy", "--retry-times", "3", "--digestfile", digestfile,
           "--dest-authfile", authfile]
    if svc["scheme"] == "https":
        cmd += ["--dest-cert-dir", st["certdir"]]
    else:
        cmd += ["--dest-tls-verify=false"]
    if svc.get("username"):
        cmd += ["--dest-creds", f"{svc['username']}:{svc['password']}"]
    cmd += [source, f"docker://{svc['host']}/{dest}"]
    env = dict(os.environ, REGISTRY_AUTH_FILE=authfile)
    try:
        run(cmd, env=env, timeout=120)
        with open(digestfile) as f:
            digest = f.read().strip()
    finally:
        try:
            os.remove(digestfile)
        except FileNotFoundError:
            pass
    return digest


def corrupt_blob(workdir, service, digest):
    st = load_state(workdir)
    if service not in st.get("storage", {}):
        raise HarnessError(f"unknown service {service!r}; one of {', '.join(st.get('storage', {}))}")
    algo, _, hexd = digest.partition(":")
    if algo != "sha256" or len(hexd) != 64 or any(c not in "0123456789abcdef" for c in hexd):
        raise HarnessError(f"bad digest {digest!r} (want sha256:<64 hex>)")
    path = os.path.join(st["storage"][service], "docker", "registry", "v2", "blobs", "sha256", hexd[:2], hexd, "data")
    if not os.path.exists(path):
        raise HarnessError(f"blob not found in {service} storage: {path}")
    size = os.path.getsize(path)
    if size == 0:
        raise HarnessError(f"blob {digest} is empty; nothing to corrupt")
    with open(path, "r+b") as f:
        # flip up to 16 bytes in the middle; size stays the same so only a digest check catches it
        off = size // 2
        f.seek(off)
        chunk = f.read(min(16, size - off))
        f.seek(off)
        f.write(bytes(b ^ 0xFF for b in chunk))
    return path


# --------------------------------------------------------------------------- token server

class TokenServer:
    def __init__(self, cfg):
        self.cfg = cfg
        self.users = cfg["users"]
        self.refresh = dict(cfg.get("refresh_tokens", {}))
        self.lock = threading.Lock()
        with open(cfg["cert"]) as f:
            pem = f.read()
        der = ssl.PEM_cert_to_DER_cert(pem)
        self.x5c = [base64.b64encode(der).decode("ascii")]

    def sign(self, subject, access, service):
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": self.x5c}
        claims = {"iss": self.cfg["issuer"], "sub": subject, "aud": service,
                  "exp": now + self.cfg["ttl"], "nbf": now - 5, "iat": now,
                  "jti": secrets.token_hex(16), "access": access}
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                         b64url(json.dumps(claims, separators=(",", ":")).encode()))
        p = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.cfg["key"]],
                           input=signing_input.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=20)
        if p.returncode != 0:
            raise RuntimeError("openssl sign failed: " + p.stderr.decode("utf-8", "replace"))
        return signing_input + "." + b64url(p.stdout), now

    @staticmethod
    def parse_scopes(scopes):
        """['repository:a/b:pull,push', 'registry:catalog:*'] -> access list (authenticated grant)."""
        access = []
        for s in scopes:
            for rs in s.split(" "):
                if not rs:
                    continue
                # name may contain ':' (host:port/...) -> type is before the first ':', actions after the last
                if rs.count(":") < 2:
                    continue
                typ, rest = rs.split(":", 1)
                name, actions = rest.rsplit(":", 1)
                acts = [a for a in actions.split(",") if a]
                if typ == "repository":
                    acts = [a for a in acts if a in ("pull", "push", "delete", "*")]
                elif typ == "registry" and name == "catalog":
                    acts = [a for a in acts if a == "*"]
                else:
                    acts = []
                if acts:
                    access.append({"type": typ, "name": name, "actions": acts})
        return access


def serve_token(workdir, config_path):
    with open(config_path) as f:
        cfg = json.load(f)
    ts = TokenServer(cfg)

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "StowawayTokenServer/1"

        def log_message(self, fmt, *args):
            msg = (fmt % args).encode("ascii", "backslashreplace").decode("ascii")
            sys.stdout.write("%s %s\n" % (time.strftime("%H:%M:%S"), msg))
            sys.stdout.flush()

        def send_json(self, code, obj, extra=None):
            body = (json.dumps(obj) + "\n").encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def basic_creds(self):
            h = self.headers.get("Authorization")
            if not h:
                return None
            scheme, _, val = h.partition(" ")
            if scheme.lower() != "basic":
                return ("", "\0bad")
            try:
                user, _, pw = base64.b64decode(val.strip()).decode("utf-8").partition(":")
            except Exception:
                return ("", "\0bad")
            return (user, pw)

        def check(self, user, pw):
            return user in ts.users and secrets.compare_digest(ts.users[user], pw)

        def unauthorized(self, msg):
            self.send_json(401, {"errors": [{"code": "UNAUTHORIZED", "message": msg}],
                                 "error": "invalid_grant", "error_description": msg},
                           {"WWW-Authenticate": 'Basic realm="stowaway-token"'})

        def issue(self, subject, scopes, service, offline, oauth):
            access = ts.parse_scopes(scopes) if subject else []
            tok, now = ts.sign(subject or "", access, service)
            resp = {"token": tok, "access_token": tok, "expires_in": cfg["ttl"],
                    "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))}
            if oauth:
                resp["scope"] = " ".join(scopes)
            if offline and subject:
                rt = "rt_" + secrets.token_urlsafe(32)
                with ts.lock:
                    ts.refresh[rt] = subject
                resp["refresh_token"] = rt
            self.send_json(200, resp)

        def do_GET(self):
            u = urllib.parse.urlsplit(self.path)
            if u.path != "/token":
                return self.send_json(404, {"error": "not found"})
            q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
            service = q.get("service", [cfg["service"]])[0]
            scopes = q.get("scope", [])
            offline = q.get("offline_token", ["false"])[0].lower() == "true"
            creds = self.basic_creds()
            if creds is None:
                return self.issue(None, scopes, service, False, False)  # anonymous: no access
            if not self.check(*creds):
                return self.unauthorized("invalid username or password")
            self.issue(creds[0], scopes, service, offline, False)

        def do_POST(self):
            u = urllib.parse.urlsplit(self.path)
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n) if n else b""
            if u.path != "/token":
                return self.send_json(404, {"error": "not found"})
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if ctype != "application/x-www-form-urlencoded":
                return self.send_json(400, {"error": "invalid_request",
                                            "error_description": "Content-Type must be application/x-www-form-urlencoded"})
            form = urllib.parse.parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
            get = lambda k, d="": form.get(k, [d])[0]
            if not get("client_id"):
                return self.send_json(400, {"error": "invalid_request", "error_description": "missing client_id"})
            service = get("service", cfg["service"])
            scopes = [s for s in get("scope").split(" ") if s]
            offline = get("access_type") == "offline"
            grant = get("grant_type")
            if grant == "password":
                user, pw = get("username"), get("password")
                if not self.check(user, pw):
                    return self.unauthorized("invalid username or password")
                return self.issue(user, scopes, service, offline, True)
            if grant == "refresh_token":
                rt = get("refresh_token")
                with ts.lock:
                    subject = ts.refresh.get(rt)
                if not subject:
                    return self.unauthorized("invalid refresh token")
                # a refresh grant always returns a (new) refresh token too, like docker's auth server
                return self.issue(subject, scopes, service, True, True)
            return self.send_json(400, {"error": "unsupported_grant_type"})

    http.server.ThreadingHTTPServer.request_queue_size = 128
    srv = http.server.ThreadingHTTPServer((LOOPBACK, cfg["port"]), H)
    srv.daemon_threads = True
    print(f"token server on {LOOPBACK}:{cfg['port']}", flush=True)
    srv.serve_forever()


# --------------------------------------------------------------------------- reverse proxies

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade"}


def make_proxy_handler(upstream, mode, upstream_auth=None):
    seen = set()          # ratelimit: paths already answered 429; dropper: blob paths already cut
    lock = threading.Lock()

    class P(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = f"Stowaway{mode.capitalize()}Proxy/1"

        def log_message(self, fmt, *args):
            msg = (fmt % args).encode("ascii", "backslashreplace").decode("ascii")
            sys.stdout.write("%s %s\n" % (time.strftime("%H:%M:%S"), msg))
            sys.stdout.flush()

        def read_request_body(self):
            """Yield the request body (Content-Length or chunked), or None if there is none."""
            te = (self.headers.get("Transfer-Encoding") or "").lower()
            if "chunked" in te:
                def chunks():
                    while True:
                        line = self.rfile.readline(65537)
                        size = int(line.split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                                pass
                            return
                        left = size
                        while left:
                            data = self.rfile.read(min(left, 65536))
                            if not data:
                                raise ConnectionError("client closed mid-chunk")
                            left -= len(data)
                            yield data
                        self.rfile.readline(3)
                return chunks(), True
            n = int(self.headers.get("Content-Length") or 0)
            if n == 0:
                return None, False

            def fixed():
                left = n
                while left:
                    data = self.rfile.read(min(left, 65536))
                    if not data:
                        raise ConnectionError("client closed mid-body")
                    left -= len(data)
                    yield data
            return fixed(), False

        def drain(self):
            body, _ = self.read_request_body()
            if body is not None:
                for _ in body:
                    pass

        def control(self):
            if self.path == "/__harness/health":
                self.drain()
                self.send_simple(200, b'{"ok":true}\n', "application/json")
                return True
            if self.path == "/__harness/reset":
                self.drain()
                with lock:
                    seen.clear()
                self.send_simple(200, b'{"reset":true}\n', "application/json")
                return True
            return False

        def send_simple(self, code, body, ctype, extra=None):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def handle_any(self):
            if self.control():
                return
            path_only = urllib.parse.urlsplit(self.path).path
            if mode == "redirect":
                if path_only.startswith("/__storage/"):
                    return self.storage(self.path[len("/__storage"):])
                if self.command == "GET" and "/blobs/sha256:" in path_only:
                    self.drain()
                    port = self.server.server_address[1]
                    location = f"http://localhost:{port}/__storage{self.path}"
                    return self.send_simple(307, b"", "text/plain", {"Location": location})
            if mode == "ratelimit":
                with lock:
                    first = path_only not in seen
                    seen.add(path_only)
                if first:
                    self.drain()
                    body = json.dumps({"errors": [{"code": "TOOMANYREQUESTS",
                                                   "message": "toomanyrequests: rate limit exceeded (harness: "
                                                              "first request for this path), retry after 1s"}]}).encode()
                    return self.send_simple(429, body, "application/json", {"Retry-After": "1"})
            self.forward(path_only)

        def storage(self, real_path):
            """The blob store behind a redirect: refuses requests that carry Authorization."""
            auth = self.headers.get("Authorization")
            self.log_message("storage: %s authorization=%s", real_path, "present" if auth else "absent")
            self.drain()
            if auth:
                body = b"<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>"
                return self.send_simple(400, body, "application/xml")
            headers = {"Authorization": "Basic " + base64.b64encode(upstream_auth.encode()).decode()}
            if self.headers.get("Range"):
                headers["Range"] = self.headers.get("Range")
            conn = http.client.HTTPConnection(upstream, timeout=120)
            try:
                conn.request("GET", real_path, headers=headers)
                self.relay(conn.getresponse(), urllib.parse.urlsplit(real_path).path)
            finally:
                conn.close()

        def forward(self, path_only):
            body, chunked = self.read_request_body()
            # a list, not a dict: Go clients send several `Accept:` lines and distribution only
            # returns OCI manifests if one of them names the OCI type
            headers = []
            for k, v in self.headers.items():
                if k.lower() in HOP_BY_HOP or k.lower() == "content-length":
                    continue
                if mode == "norange" and k.lower() == "range":
                    continue
                headers.append((k, v))  # Host is kept: the registry builds Location URLs from it
            if body is not None and not chunked:
                headers.append(("Content-Length", self.headers.get("Content-Length")))
            conn = http.client.HTTPConnection(upstream, timeout=120)
            try:
                conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for k, v in headers:
                    conn.putheader(k, v)
                if chunked:
                    conn.putheader("Transfer-Encoding", "chunked")
                conn.endheaders()
                if body is not None:
                    for data in body:
                        if chunked:
                            conn.send(b"%x\r\n%s\r\n" % (len(data), data))
                        else:
                            conn.send(data)
                    if chunked:
                        conn.send(b"0\r\n\r\n")
                resp = conn.getresponse()
                self.relay(resp, path_only)
            finally:
                conn.close()

        def relay(self, resp, path_only):
            clen = resp.getheader("Content-Length")
            no_body = self.command == "HEAD" or resp.status in (204, 304) or 100 <= resp.status < 200
            if clen is None and not no_body:
                data = resp.read()             # (chunked upstream) buffer it, send with a length
                clen = str(len(data))
                source = iter([data])
            else:
                source = None
            cut = False
            if (mode in ("dropper", "norange") and self.command == "GET" and resp.status == 200 and clen is not None
                    and int(clen) > DROP_THRESHOLD and "/blobs/sha256:" in path_only):
                with lock:
                    if path_only not in seen:
                        seen.add(path_only)
                        cut = True
            self.log_request(resp.status)
            self.send_response_only(resp.status, resp.reason)
            for k, v in resp.getheaders():
                if k.lower() in HOP_BY_HOP or k.lower() == "content-length":
                    continue
                self.send_header(k, v)
            if clen is not None:
                self.send_header("Content-Length", clen)
            self.end_headers()
            if no_body:
                return
            total = int(clen)
            limit = total // 2 if cut else total
            sent = 0
            if source is None:
                def gen():
                    while True:
                        d = resp.read(65536)
                        if not d:
                            return
                        yield d
                source = gen()
            for d in source:
                if sent + len(d) > limit:
                    d = d[:limit - sent]
                if d:
                    self.wfile.write(d)
                    sent += len(d)
                if sent >= limit:
                    break
            self.wfile.flush()
            if cut:
                self.log_message("%s: cut %s after %d of %d bytes", mode, path_only, sent, total)
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            elif sent < total:
                # upstream short read: do not pretend the response was complete
                self.close_connection = True

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = handle_any

    return P


def serve_proxy(mode, port, upstream, upstream_auth=None):
    http.server.ThreadingHTTPServer.request_queue_size = 128
    srv = http.server.ThreadingHTTPServer((LOOPBACK, port), make_proxy_handler(upstream, mode, upstream_auth))
    srv.daemon_threads = True
    print(f"{mode} proxy on {LOOPBACK}:{port} -> {upstream}", flush=True)
    srv.serve_forever()


# --------------------------------------------------------------------------- CLI

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for c in ("start", "stop"):
        sub.add_parser(c).add_argument("--workdir", required=True)
    sub.choices["start"].add_argument("--faults-only", action="store_true")
    p = sub.add_parser("push")
    p.add_argument("--workdir", required=True)
    p.add_argument("--service", required=True, choices=ALL_SERVICES)
    p.add_argument("--source", required=True)
    p.add_argument("--dest", required=True)
    p = sub.add_parser("corrupt-blob")
    p.add_argument("--workdir", required=True)
    p.add_argument("--service", required=True, choices=ALL_SERVICES)
    p.add_argument("--digest", required=True)
    p = sub.add_parser("env")
    p.add_argument("--workdir", required=True)
    p.add_argument("--service", required=True, choices=ALL_SERVICES)
    p = sub.add_parser("_token-server")
    p.add_argument("--workdir", required=True)
    p.add_argument("--config", required=True)
    for c in ("_ratelimit-proxy", "_dropper-proxy", "_norange-proxy", "_redirect-proxy"):
        p = sub.add_parser(c)
        p.add_argument("--workdir", required=True)
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--upstream", required=True)
        p.add_argument("--upstream-auth")
    a = ap.parse_args(argv)
    try:
        if a.cmd == "start":
            st = start(a.workdir, a.faults_only)
            print(f"harness: started {len(st['pids'])} processes; state in {os.path.join(st['workdir'], 'harness.json')}")
            if "postgres" in st:
                print(f"  postgres   {st['postgres']['host']}")
            for n in [n for n in ALL_SERVICES + FAULT_SERVICES if n in st]:
                print(f"  {n:10s} {st[n]['scheme']}://{st[n]['host']}")
        elif a.cmd == "stop":
            stop(a.workdir)
        elif a.cmd == "push":
            print(push(a.workdir, a.service, a.source, a.dest))
        elif a.cmd == "corrupt-blob":
            path = corrupt_blob(a.workdir, a.service, a.digest)
            print(f"corrupted {path}", file=sys.stderr)
        elif a.cmd == "env":
            st = load_state(a.workdir)
            s = st[a.service]
            import shlex
            for k, v in (("REGISTRY_HOST", s["host"]), ("REGISTRY_SCHEME", s["scheme"]),
                         ("REGISTRY_USERNAME", s["username"] or ""), ("REGISTRY_PASSWORD", s["password"] or ""),
                         ("REGISTRY_CA", s["ca"] or "")):
                print(f"{k}={shlex.quote(v)}")
        elif a.cmd == "_token-server":
            serve_token(a.workdir, a.config)
        elif a.cmd == "_ratelimit-proxy":
            serve_proxy("ratelimit", a.port, a.upstream)
        elif a.cmd == "_dropper-proxy":
            serve_proxy("dropper", a.port, a.upstream)
        elif a.cmd == "_norange-proxy":
            serve_proxy("norange", a.port, a.upstream)
        elif a.cmd == "_redirect-proxy":
            serve_proxy("redirect", a.port, a.upstream, a.upstream_auth)
    except (HarnessError, RuntimeError) as e:
        die(str(e))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Misbehaving registries on 127.0.0.1, for Stowaway's fault tests and testdata/attacks/registry.sh.

Python 3 standard library only. One process serves every fault, each on a port of its own (bound to port 0,
so no port race); the ports go to --ports-file as JSON once all are listening. Started by
`harness.py start` (see README.md); run alone:

  faults.py --ports-file FILE [--cert PEM --key PEM]

Every fault registry serves the repository `fault/app` (any tag), a tiny valid one-layer image, and
`fault/many`, the same with 64 layers; what differs is how each one misbehaves:

  fault-503          /v2/ 200, everything else 503 with Retry-After as an HTTP date (2 s ahead)
  fault-429          /v2/ 200, everything else 429 with Retry-After: 2
  fault-trickle      the manifest trickled one byte every 0.5 s (Content-Length announced)
  fault-silent       accepts connections, reads the request, never answers
  fault-huge         the manifest is 64 MiB, chunked (no Content-Length to refuse it by)
  fault-redirect     the manifest redirects to a second URL, which redirects back (a loop)
  fault-long-blob    the layer blob is followed by zeros without end (chunked), past its descriptor's size
  fault-stall-blob   every layer blob (Content-Length announced) stops after half and the connection stays silent
  fault-token-echo   Bearer challenge; the token realm (same port, /token) answers 401 echoing the
                     Authorization header and the decoded username:password in its error body
  fault-tls-realm    HTTPS (needs --cert/--key); Bearer challenge naming a plain http:// realm on
                     fault-token-echo's port (/tls-realm), which logs `tls-realm: authorization=present|absent`
"""

import argparse
import base64
import email.utils
import gzip
import hashlib
import http.server
import io
import json
import os
import socket
import ssl
import sys
import tarfile
import threading
import time
import urllib.parse

LOOPBACK = "127.0.0.1"


def split(path):
    """/v2/<repo>/(manifests|blobs)/<ref> -> (repo, kind, ref); ("", "", "") for anything else."""
    for kind in ("manifests", "blobs"):
        marker = "/%s/" % kind
        if path.startswith("/v2/") and marker in path:
            repo, _, ref = path[len("/v2/"):].rpartition(marker)
            return repo, kind, ref
    return "", "", ""


def log(msg):
    sys.stdout.write("%s %s\n" % (time.strftime("%H:%M:%S"), msg.encode("ascii", "backslashreplace").decode("ascii")))
    sys.stdout.flush()


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tiny_image(layers):
    """An image of `layers` one-file layers: (manifest bytes, {digest: blob bytes}, [layer digests])."""
    tars = []
    for i in range(layers):
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
            content = b"nothing to see here (layer %d)\n" % i
            info = tarfile.TarInfo("etc/motd.%d" % i if i else "etc/motd")
            info.size, info.mtime, info.mode = len(content), 0, 0o644
            tar.addfile(info, io.BytesIO(content))
        tars.append(raw.getvalue())
    blobs = [gzip.compress(t, mtime=0) for t in tars]
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [sha256(t) for t in tars]},
                         "history": [{"created_by": "COPY motd /etc/motd"} for _ in tars]}).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha256(b), "size": len(b)}
                   for b in blobs],
    }).encode()
    return manifest, dict([(sha256(config), config)] + [(sha256(b), b) for b in blobs]), [sha256(b) for b in blobs]


MANIFEST, BLOBS, LAYERS = tiny_image(1)
MANY_MANIFEST, MANY_BLOBS, MANY_LAYERS = tiny_image(64)
MANIFESTS = {"fault/app": MANIFEST, "fault/many": MANY_MANIFEST}
ALL_BLOBS = dict(BLOBS, **MANY_BLOBS)
LAYER_DIGESTS = set(LAYERS + MANY_LAYERS)
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"


def make_handler(mode, ports):
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "StowawayFault/1"

        def log_message(self, fmt, *args):
            log("%s: %s" % (mode, fmt % args))

        def send(self, code, body=b"", ctype="application/json", headers=None):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def chunk(self, data):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

        def registry(self, path):
            """The image itself, served correctly."""
            if path == "/v2/":
                return self.send(200, b"{}")
            repo, kind, ref = split(path)
            if kind == "manifests" and repo in MANIFESTS:
                m = MANIFESTS[repo]
                return self.send(200, m, MANIFEST_TYPE, {"Docker-Content-Digest": sha256(m)})
            if kind == "blobs" and ref in ALL_BLOBS:
                return self.send(200, ALL_BLOBS[ref], "application/octet-stream", {"Docker-Content-Digest": ref})
            body = json.dumps({"errors": [{"code": "NAME_UNKNOWN", "message": "no such thing"}]}).encode()
            return self.send(404, body)

        def do_GET(self):
            path = urllib.parse.urlsplit(self.path).path
            if mode == "fault-503":
                if path == "/v2/":
                    return self.send(200, b"{}")
                later = email.utils.formatdate(time.time() + 2, usegmt=True)
                body = json.dumps({"errors": [{"code": "UNAVAILABLE", "message": "service unavailable (harness: always)"}]}).encode()
                return self.send(503, body, headers={"Retry-After": later})
            if mode == "fault-429":
                if path == "/v2/":
                    return self.send(200, b"{}")
                body = json.dumps({"errors": [{"code": "TOOMANYREQUESTS", "message": "rate limit exceeded (harness: always)"}]}).encode()
                return self.send(429, body, headers={"Retry-After": "2"})
            if mode == "fault-trickle" and "/manifests/" in path:
                self.send_response(200)
                self.send_header("Content-Type", MANIFEST_TYPE)
                self.send_header("Content-Length", str(len(MANIFEST)))
                self.end_headers()
                for i in range(len(MANIFEST)):
                    self.wfile.write(MANIFEST[i:i + 1])
                    self.wfile.flush()
                    time.sleep(0.5)
                return
            if mode == "fault-huge" and "/manifests/" in path:
                self.send_response(200)
                self.send_header("Content-Type", MANIFEST_TYPE)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.chunk(b'{"schemaVersion":2,"pad":"')
                block = b"a" * 65536
                for _ in range(1024):          # 64 MiB
                    self.chunk(block)
                self.chunk(b'"}')
                self.wfile.write(b"0\r\n\r\n")
                return
            if mode == "fault-redirect" and "/manifests/" in path:
                if path.endswith("/loop"):
                    return self.send(302, b"", headers={"Location": path[:-len("/loop")]})
                return self.send(302, b"", headers={"Location": path + "/loop"})
            if mode == "fault-long-blob" and split(path)[1:] == ("blobs", LAYERS[0]):
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.chunk(BLOBS[LAYERS[0]])
                zeros = b"\0" * 65536
                sent = 0
                while sent < 4 << 30:          # "forever", bounded so a runaway client cannot keep us busy
                    self.chunk(zeros)
                    sent += len(zeros)
                log("%s: sent %d bytes past the blob's end" % (mode, sent))
                return
            if mode == "fault-stall-blob" and split(path)[1] == "blobs" and split(path)[2] in LAYER_DIGESTS:
                blob = ALL_BLOBS[split(path)[2]]
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(blob)))
                self.end_headers()
                self.wfile.write(blob[:len(blob) // 2])
                self.wfile.flush()
                time.sleep(3600)
                return
            if mode == "fault-token-echo":
                if path == "/tls-realm":
                    auth = self.headers.get("Authorization")
                    log("tls-realm: authorization=%s" % ("present" if auth else "absent"))
                    return self.send(200, json.dumps({"token": "anonymous-" + os.urandom(8).hex()}).encode())
                if path == "/token":
                    auth = self.headers.get("Authorization") or ""
                    decoded = ""
                    if auth.lower().startswith("basic "):
                        try:
                            decoded = base64.b64decode(auth[6:].strip()).decode("utf-8", "replace")
                        except ValueError:
                            decoded = "(undecodable)"
                    message = "invalid credentials: Authorization: %s (decoded %s)" % (auth, decoded)
                    body = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": message}],
                                       "details": "you sent " + auth}).encode()
                    return self.send(401, body)
                if path.startswith("/v2/"):
                    realm = "http://%s:%d/token" % (LOOPBACK, ports["fault-token-echo"])
                    body = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}).encode()
                    return self.send(401, body, headers={"WWW-Authenticate": 'Bearer realm="%s",service="fault"' % realm})
            if mode == "fault-tls-realm" and path.startswith("/v2/"):
                realm = "http://%s:%d/tls-realm" % (LOOPBACK, ports["fault-token-echo"])
                body = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}).encode()
                return self.send(401, body, headers={"WWW-Authenticate": 'Bearer realm="%s",service="fault"' % realm})
            return self.registry(path)

        do_HEAD = do_GET

    return H


def silent_server(sock):
    """Accept, read, never answer; connections stay open until the client gives up."""
    held = []
    while True:
        conn, _ = sock.accept()
        conn.settimeout(None)
        held.append(conn)
        log("fault-silent: accepted a connection (%d held)" % len(held))
        # drop the ones the client already closed, so a long run does not pile up sockets
        alive = []
        for c in held:
            try:
                c.setblocking(False)
                if c.recv(65536, socket.MSG_PEEK) == b"":
                    c.close()
                    continue
            except BlockingIOError:
                pass
            except OSError:
                c.close()
                continue
            alive.append(c)
        held = alive


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ports-file", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    a = ap.parse_args()

    modes = ["fault-503", "fault-429", "fault-trickle", "fault-huge", "fault-redirect", "fault-long-blob",
             "fault-stall-blob", "fault-token-echo"]
    ports = {}
    servers = []
    for mode in modes:
        srv = Server((LOOPBACK, 0), make_handler(mode, ports))
        ports[mode] = srv.server_address[1]
        servers.append(srv)
    if a.cert and a.key:
        srv = Server((LOOPBACK, 0), make_handler("fault-tls-realm", ports))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        ports["fault-tls-realm"] = srv.server_address[1]
        servers.append(srv)
    silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    silent.bind((LOOPBACK, 0))
    silent.listen(64)
    ports["fault-silent"] = silent.getsockname()[1]

    for srv in servers:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    threading.Thread(target=silent_server, args=(silent,), daemon=True).start()
    tmp = a.ports_file + ".tmp"
    with open(tmp, "w") as f:
        json.dump(ports, f)
    os.replace(tmp, a.ports_file)
    log("faults: " + ", ".join("%s on %d" % kv for kv in sorted(ports.items())))
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Local stand-ins for the sweep's integration tests (Python 3 standard library only, 127.0.0.1 only).

  fly     --port-file F --token T --fixture JSON
          The two read endpoints of the Fly Machines API, as Fly documents them:
            GET /v1/apps?org_slug=ORG        -> {"total_apps": N, "apps": [{"id", "name", "machine_count", "network"}]}
            GET /v1/apps/{name}/machines     -> [{"id", "name", "state", "region", "config": {"image"},
                                                  "image_ref": {"registry", "repository", "tag", "digest", "labels"}}]
          Every request must carry `Authorization: Bearer T` (else 401 {"error": "..."}). The fixture is
          {"orgs": {"ORG": ["app", ...]}, "machines": {"app": [machine, ...]}}. Requests are appended to
          F.log, one line each. With --drip, every answer sends its headers and then one byte of its body
          every --drip seconds.
  webhook --port-file F --out FILE [--fail-first N] [--drip S]
          Accepts POSTs; appends each body (one JSON document a line) to FILE. The first N answer 500.
          With --drip, the answer claims `Content-Length: 1000` and sends one byte every S seconds.
  registry --port-file F --log FILE
          A registry that wants Basic credentials: every request is answered 401 with a Basic challenge, and
          logged as "METHOD PATH AUTHORIZATION" ("-" when none came): what a foreign host would be sent.
  catalog --port-file F --log FILE [--page-bytes N] [--names N] [--delay S]
          A registry whose catalog never ends: GET /v2/_catalog answers a page of N names (or, with
          --page-bytes, names padded out to about that many bytes) and a `Link: <...>; rel="next"` to the
          next page, forever, after waiting S seconds; every tag list is empty. Pages served ("page N") and tag
          lists asked for ("tags NAME") are logged.
  proxy   --port-file F --upstream HOST:PORT --hold-file PATH --log FILE
          Forwards GET and HEAD to a registry on 127.0.0.1 and logs "METHOD PATH" a line. While PATH exists,
          a blob request whose digest is listed in it waits (at most 120 s) before being forwarded, and
          "holding DIGEST" is logged first: a sweep can be caught mid-layer, deterministically.

Every server writes its port to F once it listens and exits by itself after --max-seconds (default 900).
"""

import argparse
import http.client
import http.server
import json
import os
import signal
import sys
import threading
import time
import urllib.parse

LOOPBACK = "127.0.0.1"


def serve(handler, port_file, max_seconds):
    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), handler)
    server.daemon_threads = True
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(tmp, port_file)
    threading.Timer(max_seconds, server.shutdown).start()
    server.serve_forever()


def append(path, line):
    with open(path, "a") as f:
        f.write(line + "\n")


class Quiet(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_json(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def fly(args):
    with open(args.fixture) as f:
        fixture = json.load(f)
    log = args.port_file + ".log"

    class Handler(Quiet):
        def send_json(self, code, obj):
            if args.drip:
                return drip_body(self, code, json.dumps(obj).encode(), args.drip)
            return Quiet.send_json(self, code, obj)

        def do_GET(self):
            append(log, f"GET {self.path}")
            if self.headers.get("Authorization") != f"Bearer {args.token}":
                return self.send_json(401, {"error": "unauthorized"})
            url = urllib.parse.urlsplit(self.path)
            parts = url.path.strip("/").split("/")
            if parts == ["v1", "apps"]:
                org = urllib.parse.parse_qs(url.query).get("org_slug", [""])[0]
                if org not in fixture["orgs"]:
                    return self.send_json(404, {"error": f"organization {org} not found"})
                apps = [{"id": f"id-{name}", "name": name, "machine_count": len(fixture["machines"].get(name, [])),
                         "network": "default"} for name in fixture["orgs"][org]]
                return self.send_json(200, {"total_apps": len(apps), "apps": apps})
            if len(parts) == 4 and parts[:2] == ["v1", "apps"] and parts[3] == "machines":
                if parts[2] not in fixture["machines"]:
                    return self.send_json(404, {"error": "app not found"})
                return self.send_json(200, fixture["machines"][parts[2]])
            return self.send_json(404, {"error": "not found"})

    serve(Handler, args.port_file, args.max_seconds)


def webhook(args):
    state = {"seen": 0}
    lock = threading.Lock()

    class Handler(Quiet):
        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(min(n, 1 << 20))
            with lock:
                state["seen"] += 1
                fail = state["seen"] <= args.fail_first
            if fail:
                return self.send_json(500, {"error": "try again"})
            append(args.out, body.decode("utf-8", "replace").replace("\n", " "))
            if args.drip:
                return drip_body(self, 200, b'{"ok": true}', args.drip, length=1000)
            self.send_json(200, {"ok": True})

    serve(Handler, args.port_file, args.max_seconds)


def drip_body(handler, code, body, seconds, length=None):
    handler.send_response(code)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(length if length is not None else len(body)))
    handler.end_headers()
    handler.wfile.flush()
    try:
        for i in range(len(body)):
            handler.wfile.write(body[i:i + 1])
            handler.wfile.flush()
            time.sleep(seconds)
        while True:  # claimed more than there is: keep the connection open, sending nothing
            time.sleep(seconds)
    except (BrokenPipeError, ConnectionResetError):
        pass


def registry(args):
    class Handler(Quiet):
        def answer(self):
            append(args.log, f"{self.command} {self.path} {self.headers.get('Authorization', '-')}")
            body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="standin"')
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self):
            self.answer()

        def do_HEAD(self):
            self.answer()

    serve(Handler, args.port_file, args.max_seconds)


def catalog(args):
    state = {"page": 0}
    lock = threading.Lock()

    class Handler(Quiet):
        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/v2/" or url.path == "/v2":
                return self.send_json(200, {})
            if url.path == "/v2/_catalog":
                with lock:
                    state["page"] += 1
                    page = state["page"]
                append(args.log, f"page {page}")
                if args.delay:
                    time.sleep(args.delay)
                if args.page_bytes:
                    stem = f"p{page}/" + "n" * 200
                    count = max(1, args.page_bytes // (len(stem) + 12))
                else:
                    stem, count = f"p{page}/n", args.names
                body = ('{"repositories":[' + ",".join(f'"{stem}{i}"' for i in range(count)) + "]}").encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Link", f'</v2/_catalog?last=p{page}&n={count}>; rel="next"')
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                return
            if url.path.endswith("/tags/list"):
                append(args.log, f"tags {url.path[4:-10]}")
                return self.send_json(200, {"name": url.path[4:-10], "tags": []})
            return self.send_json(404, {"errors": [{"code": "NAME_UNKNOWN", "message": "unknown"}]})

    serve(Handler, args.port_file, args.max_seconds)


def proxy(args):
    upstream_host, upstream_port = args.upstream.rsplit(":", 1)

    def held(path):
        try:
            with open(args.hold_file) as f:
                digests = [d.strip() for d in f.read().split() if d.strip()]
        except FileNotFoundError:
            return None
        return next((d for d in digests if "/blobs/" in path and path.endswith(d)), None)

    class Handler(Quiet):
        def forward(self, method):
            append(args.log, f"{method} {self.path}")
            digest = held(self.path)
            if digest:
                append(args.log, f"holding {digest}")
                deadline = time.time() + 120
                while os.path.exists(args.hold_file) and time.time() < deadline:
                    time.sleep(0.05)
            conn = http.client.HTTPConnection(upstream_host, int(upstream_port), timeout=60)
            conn.putrequest(method, self.path, skip_host=True, skip_accept_encoding=True)
            # Every header as sent, repeated ones too: the registry needs each Accept value.
            for k, v in self.headers.items():
                if k.lower() != "connection":
                    conn.putheader(k, v)
            conn.endheaders()
            resp = conn.getresponse()
            body = resp.read() if method != "HEAD" else b""
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(body) if method != "HEAD" else resp.getheader("Content-Length") or 0))
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(body)
            conn.close()

        def do_GET(self):
            self.forward("GET")

        def do_HEAD(self):
            self.forward("HEAD")

    serve(Handler, args.port_file, args.max_seconds)


def main():
    # A test runner may start us with SIGTERM ignored (ignored signals survive exec): stopping must work.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fly")
    f.add_argument("--token", required=True)
    f.add_argument("--fixture", required=True)
    f.add_argument("--drip", type=float, default=0)
    w = sub.add_parser("webhook")
    w.add_argument("--out", required=True)
    w.add_argument("--fail-first", type=int, default=0)
    w.add_argument("--drip", type=float, default=0)
    r = sub.add_parser("registry")
    r.add_argument("--log", required=True)
    c = sub.add_parser("catalog")
    c.add_argument("--log", required=True)
    c.add_argument("--page-bytes", type=int, default=0)
    c.add_argument("--names", type=int, default=100)
    c.add_argument("--delay", type=float, default=0)
    x = sub.add_parser("proxy")
    x.add_argument("--upstream", required=True)
    x.add_argument("--hold-file", required=True)
    x.add_argument("--log", required=True)
    for s in (f, w, x, r, c):
        s.add_argument("--port-file", required=True)
        s.add_argument("--max-seconds", type=float, default=900)
    args = p.parse_args()
    {"fly": fly, "webhook": webhook, "proxy": proxy, "registry": registry, "catalog": catalog}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())

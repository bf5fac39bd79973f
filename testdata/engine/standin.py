#!/usr/bin/env python3
"""A stand-in for the Docker Engine API's image save endpoint, on a unix socket (standard library only).

  standin.py --socket PATH --image NAME --tar FILE [--mode MODE] [--log FILE] [--max-seconds N]

Answers `GET [/v1.NN]/images/{name}/get` (Docker Engine API, "Export an image") with FILE as an
`application/x-tar` body when {name}, percent-decoded, is NAME; any other name gets 404 and the engine's
`{"message": "No such image: ..."}`. Like Go's net/http answering an HTTP/1.0 request, the body is sent
without Content-Length or chunking and the connection is closed at its end. Each request is logged to FILE
as "GET PATH".

MODE:
  ok        the whole tarball (default)
  stall     the first half, then nothing (the connection stays open until --max-seconds)
  truncate  the first half, then the connection is closed
  length    the whole tarball with a Content-Length header
  short     claims Content-Length of the whole tarball, sends half, closes

The server listens once it has written nothing but the socket, and exits by itself after --max-seconds.
"""

import argparse
import os
import socket
import sys
import threading
import time
import urllib.parse


def serve(conn, args, data):
    try:
        conn.settimeout(30)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(4096)
            if not chunk:
                return
            head += chunk
            if len(head) > 65536:
                return
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split(" ")
        path = parts[1] if len(parts) > 1 else ""
        if args.log:
            with open(args.log, "a") as f:
                f.write("GET %s\n" % path)
        segments = path.split("/")
        if len(segments) > 1 and segments[1].startswith("v1."):
            segments = [""] + segments[2:]
        route = "/".join(segments)
        if not (route.startswith("/images/") and route.endswith("/get")):
            conn.sendall(b'HTTP/1.0 404 Not Found\r\nContent-Type: application/json\r\n\r\n{"message":"page not found"}\n')
            return
        name = urllib.parse.unquote(route[len("/images/"):-len("/get")])
        if name != args.image:
            body = ('{"message":"No such image: %s"}\n' % name).encode()
            conn.sendall(b"HTTP/1.0 404 Not Found\r\nContent-Type: application/json\r\n\r\n" + body)
            return
        half = data[: len(data) // 2]
        headers = "HTTP/1.0 200 OK\r\nContent-Type: application/x-tar\r\n"
        if args.mode in ("length", "short"):
            headers += "Content-Length: %d\r\n" % len(data)
        conn.sendall((headers + "\r\n").encode())
        if args.mode in ("ok", "length"):
            conn.sendall(data)
        elif args.mode in ("truncate", "short"):
            conn.sendall(half)
        elif args.mode == "stall":
            conn.sendall(half)
            time.sleep(args.max_seconds)
    except OSError:
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


def main():
    # Descriptors inherited from the test runner (another test's output pipe, spawned at the same moment) would
    # keep that pipe open for as long as this server lives, and that test waiting for its end.
    os.closerange(3, 65536)
    p = argparse.ArgumentParser()
    p.add_argument("--socket", required=True)
    p.add_argument("--image", required=True)
    p.add_argument("--tar", required=True)
    p.add_argument("--mode", default="ok", choices=["ok", "stall", "truncate", "length", "short"])
    p.add_argument("--log")
    p.add_argument("--max-seconds", type=float, default=600)
    args = p.parse_args()
    if args.log:
        args.log = os.path.abspath(args.log)
    with open(args.tar, "rb") as f:
        data = f.read()
    if os.path.exists(args.socket):
        os.unlink(args.socket)
    # Bound and listening under another name first: the socket appears only once a connect can succeed. The
    # name is bound relative to its directory, so a long directory (a CI checkout deep in the tree) cannot push
    # the temporary name past sun_path's 108 bytes.
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    os.chdir(os.path.dirname(os.path.abspath(args.socket)))
    temporary = ".%d.new" % os.getpid()
    server.bind(temporary)
    server.listen(16)
    os.rename(temporary, os.path.basename(args.socket))
    threading.Timer(args.max_seconds, lambda: os._exit(0)).start()
    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve, args=(conn, args, data), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())

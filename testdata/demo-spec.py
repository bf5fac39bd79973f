#!/usr/bin/env python3
"""Prints an ImageSpec (JSON) for the demo image, with fresh fake secrets every run.

The secrets are random strings in real token formats; none of them is, or was, a live credential.
"""
import json, secrets, string, sys, zlib

ALNUM = string.ascii_letters + string.digits
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
def rand(n, alphabet=ALNUM):
    return "".join(secrets.choice(alphabet) for _ in range(n))

fly = "fo1_" + rand(43, ALNUM + "_-")
aws_id = "AKIA" + rand(16, string.ascii_uppercase + "234567")
aws_secret = rand(40, ALNUM + "/+")
def checksummed(prefix):
    """GitHub's 2021 token format: 30 random base62 characters, then the base62 CRC-32 of them (6 characters)."""
    body = rand(30)
    crc, tail = zlib.crc32(body.encode()), ""
    for _ in range(6):
        tail = B62[crc % 62] + tail
        crc //= 62
    return prefix + body + tail

github = checksummed("ghp_")
stripe = "sk_live_" + rand(32)
db_pw = rand(20)

# Fly.io macaroons as flyctl mints them: msgpack [nonce [kid, rnd, proof], location, caveats, tail], base64 after
# fm2_. The tail (an HMAC under Fly's key) is random here: the scope is readable without it, and no key exists.
def mp_bin(b): return bytes([0xc4, len(b)]) + b
def mp_str(t): t = t.encode(); return (bytes([0xa0 | len(t)]) if len(t) < 32 else bytes([0xd9, len(t)])) + t
def mp_uint(n): return bytes([n]) if n < 0x80 else b"\xce" + n.to_bytes(4, "big")
def mp_arr(*items): return bytes([0x90 | len(items)]) + b"".join(items)
def mp_map(pairs): return bytes([0x80 | len(pairs)]) + b"".join(k + v for k, v in pairs)
def fly_token(caveats):
    import base64, os, time
    now = int(time.time())
    window = mp_arr(mp_uint(4), mp_arr(mp_uint(now - 60), mp_uint(now + 20 * 365 * 86400)))  # flyctl's 20-year default
    nonce = mp_arr(mp_bin(os.urandom(8)), mp_bin(os.urandom(16)), b"\xc2")
    body = b"\x94" + nonce + mp_str("https://api.fly.io/v1") + bytes([0x90 | (len(caveats) + 2)]) + b"".join(caveats) \
        + window[1:] + mp_bin(os.urandom(32))
    return "fm2_" + base64.b64encode(body).decode()
org_id = secrets.randbelow(900000) + 100000
# An organization-wide deploy token (every app of the org, read/write/create/delete/control) ...
macaroon = "FlyV1 " + fly_token([mp_uint(0), mp_arr(mp_uint(org_id), mp_uint(31))])
# ... and one scoped to a single app, which a leak costs far less.
app_token = "FlyV1 " + fly_token([mp_uint(0), mp_arr(mp_uint(org_id), mp_uint(31)),
                                  mp_uint(3), mp_arr(mp_map([(mp_uint(secrets.randbelow(90000) + 10000), mp_uint(31))]))])

spec = {
    "format": sys.argv[1] if len(sys.argv) > 1 else "docker25",
    "compression": "gzip",
    "tag": "demo-app:latest",
    "config": {
        "Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "FLY_API_TOKEN=" + fly, "PORT=8080"],
        "Labels": {"org.opencontainers.image.title": "demo-app", "deploy.token": macaroon},
        "Cmd": ["/app/server"],
    },
    "history": [
        {"created_by": "/bin/sh -c #(nop) ADD file:4b1d… in / "},
        {"created_by": "ENV FLY_API_TOKEN=" + fly, "empty_layer": True},
        {"created_by": "ARG GITHUB_TOKEN=" + github, "empty_layer": True},
        {"created_by": "RUN |1 GITHUB_TOKEN=" + github + " /bin/sh -c git clone https://github.com/acme/app /app # buildkit"},
        {"created_by": "COPY .env /app/.env # buildkit"},
        {"created_by": "RUN /bin/sh -c rm /app/.env # buildkit"},
        {"created_by": "LABEL deploy.token=<redacted>", "empty_layer": True},
        {"created_by": "CMD [\"/app/server\"]", "empty_layer": True},
    ],
    "layers": [
        {"files": [{"path": "etc/", "type": "dir"},
                   {"path": "etc/os-release", "content": "PRETTY_NAME=\"Demo Linux\"\n"},
                   {"path": "bin/sh", "content": "\u007fELF" + "\u0000" * 64}]},
        {"files": [{"path": "app/", "type": "dir"},
                   {"path": "app/server.js", "content": "const db = 'postgres://app:" + db_pw + "@db.internal:5432/app';\n"},
                   {"path": "app/config/stripe.yml", "content": "stripe:\n  secret_key: " + stripe + "\n"}]},
        {"files": [{"path": "app/.env", "content": "PORT=8080\nAWS_ACCESS_KEY_ID=" + aws_id +
                    "\nAWS_SECRET_ACCESS_KEY=" + aws_secret + "\nFLY_DEPLOY_TOKEN=" + app_token + "\n"}]},
        {"files": [{"path": "app/.wh..env", "content": ""}]},
    ],
}
json.dump(spec, sys.stdout, indent=1)

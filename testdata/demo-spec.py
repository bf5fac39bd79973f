#!/usr/bin/env python3
"""Prints an ImageSpec (JSON) for the demo image, with fresh fake secrets every run.

The secrets are random strings in real token formats; none of them is, or was, a live credential.
"""
import json, secrets, string, sys

ALNUM = string.ascii_letters + string.digits
def rand(n, alphabet=ALNUM):
    return "".join(secrets.choice(alphabet) for _ in range(n))

fly = "fo1_" + rand(43, ALNUM + "_-")
aws_id = "AKIA" + rand(16, string.ascii_uppercase + "234567")
aws_secret = rand(40, ALNUM + "/+")
github = "ghp_" + rand(36)
stripe = "sk_live_" + rand(32)
db_pw = rand(20)
macaroon = "FlyV1 fm2_" + rand(180, ALNUM + "+/") + ",fm2_" + rand(120, ALNUM + "+/")

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
                    "\nAWS_SECRET_ACCESS_KEY=" + aws_secret + "\n"}]},
        {"files": [{"path": "app/.wh..env", "content": ""}]},
    ],
}
json.dump(spec, sys.stdout, indent=1)

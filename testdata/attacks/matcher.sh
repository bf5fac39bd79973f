#!/usr/bin/env bash
# Hostile inputs for the matcher and the scanner (issue 7, "a sound core"), each run under /usr/bin/time -v.
#
#   testdata/attacks/matcher.sh BIN WORKDIR [NAME...]
#
# Builds each input in WORKDIR (docker save tarballs crafted with python3's standard library; fake secrets
# generated now, nothing real), runs `BIN scan INPUT --format json` and prints one line per attack:
#   name exit=N seconds=S maxrss_mb=M findings=F truncated=T errors=E
# With a release build on two cores each should finish within 60 s and 500 MB. Exit 1 (findings) or 2
# (the scan says what it could not read) are both fine; a crash, a hang or a blow-up is not.
set -euo pipefail
BIN=${1:?usage: matcher.sh BIN WORKDIR [NAME...]}
WORK=${2:?usage: matcher.sh BIN WORKDIR [NAME...]}
shift 2
mkdir -p "$WORK"
ALL=(empty-files many-secrets long-line window-edge base64-env docker-auths history shared-config)
if [ $# -gt 0 ]; then NAMES=("$@"); else NAMES=("${ALL[@]}"); fi

python3 - "$WORK" "${NAMES[@]}" <<'PY'
import gzip, hashlib, io, json, os, random, string, sys, tarfile, base64

work, names = sys.argv[1], sys.argv[2:]
rng = random.Random(int.from_bytes(os.urandom(16), "big"))
AWS = string.ascii_uppercase + "234567"
ALNUM = string.ascii_letters + string.digits

def aws_key():
    return "AKIA" + "".join(rng.choices(AWS, k=16))

def github_token():
    return "ghp_" + "".join(rng.choices(ALNUM, k=36))

def header(name, size):
    """A ustar header for a regular file (mode 0644)."""
    h = bytearray(512)
    n = name.encode()
    h[0:len(n)] = n
    h[100:108] = b"0000644\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = ("%011o" % size).encode() + b"\0"
    h[136:148] = b"00000000000\0"
    h[148:156] = b"        "
    h[156:157] = b"0"
    h[257:263] = b"ustar\0"
    h[263:265] = b"00"
    h[148:156] = ("%06o" % sum(h)).encode() + b"\0 "
    return bytes(h)

class Layer:
    """A gzip-compressed layer tar written as it goes; the diffID is the SHA-256 of the tar."""
    def __init__(self, path):
        self.path = path
        self.sha = hashlib.sha256()
        self.gz = gzip.open(path, "wb", compresslevel=1)
    def write(self, b):
        self.sha.update(b)
        self.gz.write(b)
    def file(self, name, data):
        self.write(header(name, len(data)))
        self.write(data)
        if len(data) % 512:
            self.write(b"\0" * (512 - len(data) % 512))
    def file_stream(self, name, size, chunks):
        self.write(header(name, size))
        n = 0
        for c in chunks:
            self.write(c)
            n += len(c)
        assert n == size, (n, size)
        if size % 512:
            self.write(b"\0" * (512 - size % 512))
    def close(self):
        self.write(b"\0" * 1024)
        self.gz.close()
        return "sha256:" + self.sha.hexdigest()

def save(out, layers, config_extra=None, images=1, history=None):
    """A legacy docker save: <n>/layer.tar per layer, one config, `images` manifest entries naming them."""
    diff_ids = [diff for _, diff in layers]
    config = {"architecture": "amd64", "os": "linux", "config": {"Env": ["PATH=/usr/bin"]},
              "rootfs": {"type": "layers", "diff_ids": diff_ids},
              "history": history if history is not None else [{"created_by": "crafted"} for _ in layers]}
    if config_extra:
        config_extra(config)
    cdata = json.dumps(config).encode()
    cname = hashlib.sha256(cdata).hexdigest() + ".json"
    manifest = [{"Config": cname, "RepoTags": ["attack:%d" % i], "Layers": ["%d/layer.tar" % j for j in range(len(layers))]}
                for i in range(images)]
    with tarfile.open(out, "w") as t:
        def add(name, data):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
        add("manifest.json", json.dumps(manifest).encode())
        add(cname, cdata)
        for j, (path, _) in enumerate(layers):
            t.add(path, arcname="%d/layer.tar" % j)
            os.unlink(path)

def one_layer(name, fill):
    l = Layer(os.path.join(work, name + ".layer"))
    fill(l)
    return [(l.path, l.close())]

def empty_files(l):
    # 1 M empty files: begin/end pairs with no data, and a million paths to account for.
    for i in range(1_000_000):
        l.write(header("f/%07d" % i, 0))

def many_secrets(l):
    # 200 k secrets in one file, one per line.
    lines = "".join("key%d = %s\n" % (i, aws_key()) for i in range(200_000)).encode()
    l.file("app/keys.txt", lines)

def long_line(l):
    # One 200 MB line of AWS keys separated by spaces (no newline anywhere).
    size = 200 << 20
    pool = [aws_key() for _ in range(50_000)]
    def chunks():
        left = size
        while left > 0:
            rng.shuffle(pool)
            block = (" ".join(pool) + " ").encode()[:left]
            left -= len(block)
            yield block
    l.file_stream("app/line.txt", size, chunks())

def window_edge(l):
    # Secrets placed across every region edge: long runs of candidates then a key whose end sits at the
    # edge of the matcher's window. Reported values must be whole keys.
    parts = []
    for i in range(2000):
        parts.append("x" * rng.randrange(40_000, 70_000))
        parts.append(" " + aws_key())
    l.file("app/edge.txt", "".join(parts).encode())

def trivial(l):
    l.file("etc/hostname", b"attack\n")

def b64(s):
    return base64.b64encode(s.encode()).decode()

jobs = {}
jobs["empty-files"] = lambda out: save(out, one_layer("empty-files", empty_files))
jobs["many-secrets"] = lambda out: save(out, one_layer("many-secrets", many_secrets))
jobs["long-line"] = lambda out: save(out, one_layer("long-line", long_line))
jobs["window-edge"] = lambda out: save(out, one_layer("window-edge", window_edge))

def base64_env(out):
    def extra(c):
        c["config"]["Env"] = ["V%d=%s" % (i, b64("token=%s\n" % github_token())) for i in range(20_000)]
    save(out, one_layer("base64-env", trivial), extra)
jobs["base64-env"] = base64_env

def docker_auths(l):
    auths = {"r%d.example.test" % i: {"auth": b64("u:" + "".join(rng.choice(ALNUM) for _ in range(24)))} for i in range(12_000)}
    l.file("root/.docker/config.json", json.dumps({"auths": auths}, indent=1).encode())
jobs["docker-auths"] = lambda out: save(out, one_layer("docker-auths", docker_auths))

def history(out):
    # 45 MB of history: 300 k entries, each a build argument carrying a secret.
    layers = one_layer("history", trivial)
    h = [{"created_by": "RUN |1 TOKEN=%s /bin/sh -c make %s" % (github_token(), "y" * 60), "empty_layer": True}
         for _ in range(300_000)]
    h.append({"created_by": "crafted"})
    save(out, layers, history=h)
jobs["history"] = history

def shared_config(out):
    # 40 images naming one 60 MB config.
    def extra(c):
        c["config"]["Labels"] = {"l%d" % i: "v" * 1000 for i in range(60_000)}
    save(out, one_layer("shared-config", trivial), extra, images=40)
jobs["shared-config"] = shared_config

for name in names:
    out = os.path.join(work, name + ".tar")
    if not os.path.exists(out):
        jobs[name](out)
PY

for name in "${NAMES[@]}"; do
    input="$WORK/$name.tar"
    set +e
    /usr/bin/time -v -o "$WORK/$name.time" timeout 600 "$BIN" scan "$input" --format json >"$WORK/$name.json" 2>"$WORK/$name.err"
    code=$?
    set -e
    seconds=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; printf "%.1f", s }' "$WORK/$name.time")
    rss=$(awk -F': ' '/Maximum resident set size/ { printf "%d", $2 / 1024 }' "$WORK/$name.time")
    summary=$(python3 -c '
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception:
    print("findings=- truncated=- errors=-"); sys.exit()
f = sum(len(i["findings"]) for i in r["images"])
e = sum(len(i["errors"]) for i in r["images"])
print("findings=%d truncated=%d errors=%d" % (f, r["summary"].get("truncated", 0), e))
' "$WORK/$name.json")
    echo "$name exit=$code seconds=$seconds maxrss_mb=$rss $summary"
done

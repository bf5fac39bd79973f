#!/usr/bin/env python3
"""Compares the findings of two stowaway builds on the same images, built now with fresh fake secrets.

    testdata/same-findings.py OLD_STOWAWAY NEW_STOWAWAY STOWAWAY_FIXTURE

Images: the demo image in every tar format and compression, layers of multi-megabyte files with secrets at
their start, middle and end (across the matcher's chunk boundaries), and a layer of archives (gzip, zip, xz, nested,
one cut short). Each finding is compared by rule, path, line,
secret, layer, status and key, with the exit code: fields added to the report by later work do not count, the
findings themselves do. Exit 1 when any image differs.
"""
import json, subprocess, sys, os, secrets, string, tempfile
old, new, fixture = sys.argv[1:4]
work = tempfile.mkdtemp(prefix="same-findings-")
A = string.ascii_letters + string.digits
def rand(n): return "".join(secrets.choice(A) for _ in range(n))
results = []
specs = []
demo = json.loads(subprocess.run(["python3", os.path.join(os.path.dirname(os.path.abspath(__file__)), "demo-spec.py"), "docker25"], capture_output=True, text=True).stdout)
for fmt in ["docker25", "oci", "oci-tar", "docker-legacy"]:
    for comp in ["gzip", "zstd", "none"]:
        s = dict(demo); s["format"] = fmt; s["compression"] = comp
        specs.append((f"demo-{fmt}-{comp}", s))
def big(i):
    noise = rand(1_500_000 + 37 * i)
    return "k=ghp_" + rand(36) + "\n" + noise + "\nAWS=AKIA" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16)) + "\n" + noise + "\nt=sk_live_" + rand(32)
for comp in ["gzip", "zstd", "none"]:
    specs.append((f"big-{comp}", {"format": "oci", "compression": comp, "layers": [
        {"files": [{"path": "a/one.txt", "content": big(1)}, {"path": "a/two.txt", "content": big(2)}]},
        {"files": [{"path": "b/.env", "content": "GITHUB_TOKEN=ghp_" + rand(36) + "\n"}, {"path": "b/three.txt", "content": big(3)}, {"path": "a/.wh.two.txt", "content": ""}]}]}))
# Archives inside layers (gzip and zip members inflated by ISA-L, libarchive for the rest): secrets in a .tar.gz,
# a lone .gz, a multi-member .gz, a jar, a jar inside a .tar.gz, a stored zip, a .tar.xz, and a .tar.gz cut short.
import base64, gzip, io, lzma, tarfile, zipfile
def tarball(members):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
        for n, d in members:
            i = tarfile.TarInfo(n); i.size = len(d); t.addfile(i, io.BytesIO(d))
    return b.getvalue()
def zipped(members, method=zipfile.ZIP_DEFLATED):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", method) as z:
        for n, d in members: z.writestr(n, d)
    return b.getvalue()
def tok(): return ("GITHUB_TOKEN=ghp_" + rand(36) + "\n" + rand(200_000) + "\nAWS_SECRET_ACCESS_KEY=" + rand(40) + "\n").encode()
jar = zipped([("app.properties", tok()), ("lib/inner.jar", zipped([("inner.properties", tok())]))])
tgz = gzip.compress(tarball([(".env", tok()), ("lib/app.jar", jar), ("big.txt", rand(300_000).encode())]))
files = {"opt/bundle.tar.gz": tgz, "var/log/app.log.gz": gzip.compress(tok()), "var/log/two.gz": gzip.compress(tok()) + gzip.compress(tok()),
         "app/lib/app.jar": jar, "app/lib/stored.zip": zipped([("s.env", tok())], zipfile.ZIP_STORED),
         "opt/x.tar.xz": lzma.compress(tarball([("x.env", tok())])), "opt/cut.tar.gz": tgz[: len(tgz) * 2 // 3]}
specs.append(("archives", {"format": "oci", "compression": "gzip", "layers": [
    {"files": [{"path": p, "bytes": base64.b64encode(d).decode()} for p, d in files.items()]}]}))
bad = 0
for name, spec in specs:
    json.dump(spec, open(f"{work}/{name}.json", "w"))
    out = f"{work}/{name}" + ("" if spec["format"] == "oci" else ".tar")
    subprocess.run(["rm", "-rf", out]); subprocess.run([fixture, f"{work}/{name}.json", out], capture_output=True, check=True)
    keys = []
    for exe in (old, new):
        r = subprocess.run([exe, "scan", out, "--format", "json", "--show-secrets"], capture_output=True, text=True)
        d = json.loads(r.stdout)
        keys.append((r.returncode, sorted((f["ruleID"], f.get("path") or "", f.get("line") or 0, f.get("secret"), f.get("layer", -1), f.get("status", ""), f.get("key") or "") for im in d["images"] for f in im["findings"])))
    same = keys[0] == keys[1]
    bad += not same
    print(name, "same" if same else "DIFFERENT", len(keys[0][1]), "findings", "exit", keys[0][0], keys[1][0])
subprocess.run(["rm", "-rf", work])
sys.exit(1 if bad else 0)

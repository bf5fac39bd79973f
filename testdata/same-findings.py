#!/usr/bin/env python3
"""Compares the findings of two stowaway builds on the same images, built now with fresh fake secrets.

    testdata/same-findings.py OLD_STOWAWAY NEW_STOWAWAY STOWAWAY_FIXTURE

Images: the demo image in every tar format and compression, and layers of multi-megabyte files with secrets at
their start, middle and end (across the matcher's chunk boundaries). Each finding is compared by rule, path, line,
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

#!/usr/bin/env python3
"""Fills a sweep store for the page's bench: 30 runs a day apart and 10,000 findings (fresh random fake
previews and hashes, no secret) over 300 images of 40 repositories on two registries and 20 Fly apps, opened
and resolved across the runs. The file must already exist with stowaway's schema (the bench makes it with one
sweep that fails at once).
Usage: bench-store.py DB [FINDINGS] [RUNS]"""
import datetime
import json
import random
import secrets
import sqlite3
import sys

db, findings, runs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10_000, int(sys.argv[3]) if len(sys.argv) > 3 else 30
rules = [("github-pat", "high"), ("aws-access-key-id", "medium"), ("stripe-live-key", "critical"), ("generic-password", "low"),
         ("fly-token", "critical"), ("slack-webhook", "medium"), ("private-key", "high"), ("npm-token", "high")]
con = sqlite3.connect(db)
start = datetime.datetime(2026, 11, 1, 2, 0, tzinfo=datetime.timezone.utc)
counts = dict(imagesScanned=300, imagesCached=280, imagesFailed=0, layersScanned=60, layersCached=900, bytesFetched=750_000_000,
              findingsNew=0, findingsOpen=0, findingsResolved=0)
first_id = None
for r in range(runs):
    t = start + datetime.timedelta(days=r)
    iso = lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    cur = con.execute("INSERT INTO run (started_at, finished_at, ruleset, status, host, pid, counts) VALUES (?, ?, ?, 'complete', 'bench', 1, ?)",
                      (iso(t), iso(t + datetime.timedelta(minutes=7)), "f" * 64, json.dumps(counts)))
    first_id = first_id or cur.lastrowid
last_id = first_id + runs - 1
rows = []
for i in range(findings):
    rule, sev = rules[i % len(rules)]
    fly = i % 3 == 0
    app = f"app-{i % 20}" if fly else None
    repo = f"registry.fly.io/{app}" if fly else f"{'ghcr.io' if i % 2 else 'registry.example.com'}/team-{i % 40}/service-{i % 13}"
    image = f"{repo}:deployment-{i % 300:04d}"
    first = first_id + random.randrange(runs)
    resolved = first + 1 + random.randrange(runs) if random.random() < 0.3 else None
    if resolved is not None and resolved > last_id:
        resolved = None
    last = last_id if resolved is None else resolved - 1
    sha = secrets.token_hex(32)
    detail = {"ruleID": rule, "severity": sev, "description": "fake", "source": "file", "layerIndex": i % 7, "layerDigest": None,
              "historyIndex": None, "path": f"/srv/app-{i % 97}/config/settings-{i}.env", "line": 1 + i % 40, "key": None,
              "status": "present", "removedInLayer": None, "secretSHA256": sha, "redacted": "ghp_…" + secrets.token_hex(2),
              "secret": None, "image": image, "manifestDigest": "sha256:" + secrets.token_hex(32), "repository": repo,
              "images": [image], "app": app, "machines": None}
    rows.append((repo, sha, rule, "file:" + detail["path"], sev, first, last, resolved, json.dumps(detail, sort_keys=True)))
con.executemany("""INSERT INTO finding (repository, secret_sha256, rule_id, place, severity, first_seen_run, last_seen_run,
                   resolved_in_run, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""", rows)
con.commit()

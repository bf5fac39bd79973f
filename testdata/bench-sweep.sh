#!/usr/bin/env bash
# make bench, sweep section: the first and the second `stowaway sweep` of N images (default 24) sharing layers
# in a local distribution registry, one run after the other on one store.
#   - layers: one base of real files (/usr/include, shared by every image), one middle layer per group of four
#     images, one small top layer per image (every third with a fresh fake secret);
#   - figures: wall-clock of each sweep and their ratio (goal: the second ≤ 5 % of the first), blob GETs each
#     sweep made (from the registry's own access log), and the report's counts.
# Usage: testdata/bench-sweep.sh CACHE BIN   (BENCH_SWEEP_IMAGES=N and BENCH_SWEEP_BASE=DIR override the defaults)
set -euo pipefail
cache=$1
bin=$2
images=${BENCH_SWEEP_IMAGES:-24}
base=${BENCH_SWEEP_BASE:-/usr/include}
mkdir -p "$cache"
work="$(cd "$cache" && pwd)/bench-sweep"
rm -rf "$work"
mkdir -p "$work/layouts"

reg="$work/registry"
python3 testdata/registry/harness.py start --workdir "$reg" >/dev/null
trap 'python3 testdata/registry/harness.py stop --workdir "$reg" >/dev/null' EXIT
host=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['anonymous']['host'])" "$reg/harness.json")

echo "sweep bench: building and pushing $images images over a shared base of $base"
for i in $(seq 0 $((images - 1))); do
  group=$((i / 4))
  python3 - "$base" "$group" "$i" > "$work/spec-$i.json" <<'PY'
import json, secrets, string, sys
base, group, i = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
top = [{"path": f"app/build-{i}.txt", "content": f"image {i}\n"}]
if i % 3 == 0:  # a fresh fake secret, generated now: nothing real is committed
    top.append({"path": "app/.env", "content": "GITHUB_TOKEN=ghp_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(36)) + "\n"})
print(json.dumps({"format": "oci", "compression": "gzip", "tag": f"bench:v{i}",
                  "layers": [{"hostDirectories": [{"source": base, "prefix": "usr/include"}]},
                             {"files": [{"path": f"opt/group-{group}/data.txt", "content": f"group {group} ", "repeatCount": 200000}]},
                             {"files": top}]}))
PY
  "$bin/stowaway-fixture" "$work/spec-$i.json" "$work/layouts/$i" >/dev/null
  python3 testdata/registry/harness.py push --workdir "$reg" --service anonymous \
    --source "oci:$work/layouts/$i:v$i" --dest "bench/app-$((i % 6)):v$i" >/dev/null
  rm -rf "$work/layouts/$i"
done

cat > "$work/sweep.toml" <<TOML
[[registry]]
host = "$host"
insecure = true

[[target]]
registry = "$host"
repositories = ["bench/*"]
TOML

log="$reg/logs/anonymous.log"
blob_gets() { tail -c +"$(( $1 + 1 ))" "$log" | grep -c '"GET /v2/bench/[^ ]*/blobs/sha256:' || true; }
sweep() {
  local n=$1 offset
  offset=$(stat -c %s "$log")
  /usr/bin/time -f "%e %M" -o "$work/time-$n" "$bin/stowaway" sweep --config "$work/sweep.toml" --db "$work/sweep.db" \
    --format json --output "$work/report-$n.json" --quiet || [ $? -eq 1 ]
  echo "$(blob_gets "$offset")" > "$work/blobs-$n"
}
sweep 1
sweep 2

python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
rows = []
for n in (1, 2):
    r = json.load(open(f"{w}/report-{n}.json"))
    secs, kb = open(f"{w}/time-{n}").read().split()[-2:]
    rows.append((float(secs), int(kb), int(open(f"{w}/blobs-{n}").read()), r))
(s1, k1, b1, r1), (s2, k2, b2, r2) = rows
def counts(r):
    i, l, f = r["images"], r["layers"], r["findings"]
    return (f"images {i['scanned']} scanned / {i['cached']} unchanged / {len(i['failed'])} failed, "
            f"layers {l['scanned']} scanned / {l['cached']} from the store, {l['bytesFetched']} bytes fetched, "
            f"findings {len(f['new'])} new / {len(f['open'])} open / {len(f['resolved'])} resolved")
print(f"sweep, first run:   {s1:.2f} s, {b1} blob GETs, peak RSS {k1 // 1024} MB; {counts(r1)}")
print(f"sweep, second run:  {s2:.2f} s, {b2} blob GETs, peak RSS {k2 // 1024} MB; {counts(r2)}")
print(f"sweep, second/first: {100 * s2 / s1:.1f} % (goal <= 5 %)")
PY

#!/usr/bin/env bash
# make bench, sweep section: the first and the second `stowaway sweep` of N images (default 24) sharing layers
# in a local distribution registry, one run after the other on one store.
#   - layers, all of real files but the top: one base (the debootstrap Debian root of make bench, shared by every
#     image, as a registry's images share their distribution's base), one middle layer per group of four images
#     (a runtime: one of this machine's /usr/include, /usr/lib/python3, /usr/share/perl…), one small top layer
#     per image (every third with a fresh fake secret);
#   - figures: wall-clock of each sweep and their ratio (goal: the second ≤ 5 % of the first), blob GETs each
#     sweep made (from the registry's own access log), and the report's counts;
#   - the fleet: the same images as one shared run (--run) on the harness's PostgreSQL, swept by one worker, then
#     (into a fresh database) by two workers at once on this machine; wall-clock of each, their ratio, and the
#     layer scans each made (every worker's report, summed; the shared base must be scanned once either way).
#     Each worker runs with --jobs ${BENCH_FLEET_JOBS:-1}, as on a fleet of one-core machines: two workers on two
#     cores then measure what a second machine buys, not two workers fighting over the same cores.
# Usage: testdata/bench-sweep.sh CACHE BIN   (BENCH_SWEEP_IMAGES=N and BENCH_SWEEP_BASE=DIR override the defaults)
set -euo pipefail
cache=$1
bin=$2
images=${BENCH_SWEEP_IMAGES:-24}
base=${BENCH_SWEEP_BASE:-$cache/debian-rootfs}
[ -d "$base" ] || testdata/debian-base.sh "$cache" "$bin/stowaway-fixture"
mkdir -p "$cache"
work="$(cd "$cache" && pwd)/bench-sweep"
rm -rf "$work"
mkdir -p "$work/layouts"

reg="$work/registry"
python3 testdata/registry/harness.py start --workdir "$reg" >/dev/null
trap 'python3 testdata/registry/harness.py stop --workdir "$reg" >/dev/null' EXIT
host=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['anonymous']['host'])" "$reg/harness.json")

mapfile -t runtimes < <(for d in /usr/include /usr/lib/python3 /usr/share/perl /usr/lib/gcc /usr/share/i18n /usr/share/zoneinfo \
                                 /usr/share/locale /usr/lib/python3.11; do [ -d "$d" ] && echo "$d"; done)
echo "sweep bench: building and pushing $images images over a shared base of $base, runtimes ${runtimes[*]}"
for i in $(seq 0 $((images - 1))); do
  group=$((i / 4))
  runtime=${runtimes[$((group % ${#runtimes[@]}))]}
  python3 - "$base" "$group" "$i" "$runtime" > "$work/spec-$i.json" <<'PY'
import json, secrets, string, sys
base, group, i, runtime = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
top = [{"path": f"app/build-{i}.txt", "content": f"image {i}\n"}]
if i % 3 == 0:  # a fresh fake secret, generated now: nothing real is committed
    top.append({"path": "app/.env", "content": "GITHUB_TOKEN=ghp_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(36)) + "\n"})
print(json.dumps({"format": "oci", "compression": "gzip", "tag": f"bench:v{i}",
                  "layers": [{"hostDirectories": [{"source": base, "prefix": ""}]},
                             {"hostDirectories": [{"source": runtime, "prefix": runtime.lstrip("/")}],
                              "files": [{"path": f"opt/group-{group}", "content": f"group {group}\n"}]},
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
sweep() {  # sweep N [BIN DB]: the Nth sweep of one store; its wall time, report and blob GETs under name N
  local n=$1 b=${2:-$bin} db=${3:-$work/sweep.db} offset
  offset=$(stat -c %s "$log")
  /usr/bin/time -f "%e %M" -o "$work/time-$n" "$b/stowaway" sweep --config "$work/sweep.toml" --db "$db" \
    --format json --output "$work/report-$n.json" --quiet || [ $? -eq 1 ]
  echo "$(blob_gets "$offset")" > "$work/blobs-$n"
}
# make bench BASE=REV: the base build sweeps a store of its own, each of its sweeps right after this build's.
base_bin=${STOWAWAY_BENCH_BASE:-}
# The base build's matcher database compiled before its first sweep is timed, as this build's was by make bench.
if [ -n "$base_bin" ]; then
  echo '{"format": "oci", "compression": "gzip", "tag": "warm:1", "layers": [{"files": [{"path": "a", "content": "a"}]}]}' > "$work/warm.json"
  "$bin/stowaway-fixture" "$work/warm.json" "$work/warm" >/dev/null
  "$base_bin/stowaway" scan "$work/warm" --quiet >/dev/null || [ $? -eq 1 ]
fi
sweep 1
[ -z "$base_bin" ] || sweep base-1 "$base_bin" "$work/sweep-base.db"
sweep 2
[ -z "$base_bin" ] || sweep base-2 "$base_bin" "$work/sweep-base.db"

python3 - "$work" "$(basename "$(dirname "$(dirname "${base_bin:-x/x/x}")")")" <<'PY'
import json, os, sys
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
if os.path.exists(f"{w}/time-base-1"):
    base = [float(open(f"{w}/time-base-{n}").read().split()[-2]) for n in (1, 2)]
    print(f"sweep, against the base build {sys.argv[2]}: first {s1:.2f} s vs {base[0]:.2f} s ({100 * (s1 / base[0] - 1):+.1f} %), "
          f"second {s2:.2f} s vs {base[1]:.2f} s ({100 * (s2 / base[1] - 1):+.1f} %)")
PY

# The fleet: one worker, then two workers, on a shared run in PostgreSQL (a fresh database each, so neither run
# finds the other's layers stored).
pg_field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['postgres'][sys.argv[2]])" "$reg/harness.json" "$1"; }
pg_bin=$(pg_field bin); pg_port=$(pg_field port); pg_user=$(pg_field user); pg_password=$(pg_field password)
fleet_jobs=${BENCH_FLEET_JOBS:-1}
for db in bench_one bench_two; do
  PGPASSWORD="$pg_password" "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U "$pg_user" -d postgres -qAt -c "CREATE DATABASE $db" >/dev/null
done
pg_url() { echo "postgres://$pg_user:$pg_password@127.0.0.1:$pg_port/$1?sslmode=disable"; }
worker() {  # worker DB RUN N: one worker of run RUN, its report in fleet-RUN-N.json
  "$bin/stowaway" sweep --config "$work/sweep.toml" --db "$(pg_url "$1")" --run "$2" --jobs "$fleet_jobs" \
    --format json --output "$work/fleet-$2-$3.json" --quiet || [ $? -eq 1 ]
}
t0=$(date +%s.%N)
worker bench_one one 1
t1=$(date +%s.%N)
worker bench_two two 1 & p1=$!
worker bench_two two 2 & p2=$!
wait $p1
wait $p2
t2=$(date +%s.%N)
for db_run in "bench_one one" "bench_two two"; do
  set -- $db_run
  "$bin/stowaway" sweep report --db "$(pg_url "$1")" --run "$2" --format json --output "$work/fleet-$2-run.json" || [ $? -eq 1 ]
done

python3 - "$work" "$t0" "$t1" "$t2" <<'PY'
import json, sys
w, t0, t1, t2 = sys.argv[1], *map(float, sys.argv[2:])
def load(name):
    return json.load(open(f"{w}/{name}.json"))
one = [load("fleet-one-1")]
two = [load("fleet-two-1"), load("fleet-two-2")]
def scans(reports):
    return sum(r["layers"]["scanned"] for r in reports)
def images(reports):
    return sum(r["images"]["scanned"] for r in reports)
s1, s2 = t1 - t0, t2 - t1
for name, run in (("one", load("fleet-one-run")), ("two", load("fleet-two-run"))):
    assert run["run"]["status"] == "complete", f"the {name}-worker run is {run['run']['status']}"
print(f"fleet, 1 worker:   {s1:.2f} s, {scans(one)} layer scans, {images(one)} images")
print(f"fleet, 2 workers:  {s2:.2f} s, {scans(two)} layer scans ({' + '.join(str(r['layers']['scanned']) for r in two)}), "
      f"{images(two)} images ({' + '.join(str(r['images']['scanned']) for r in two)})")
print(f"fleet, 2 workers / 1 worker: {100 * s2 / s1:.1f} % of the wall-clock")
PY

# The morning page: `sweep report --format html` of a store of 10,000 findings over 30 runs (goal: under 2 MB).
printf '[[target]]\nimage = "127.0.0.1:1/none:v1"\n' > "$work/page.toml"
"$bin/stowaway" sweep --config "$work/page.toml" --db "$work/page.db" --quiet >/dev/null 2>&1 || true
python3 testdata/sweep-page/bench-store.py "$work/page.db" 10000 30
/usr/bin/time -f "%e %M" -o "$work/time-page" "$bin/stowaway" sweep report --db "$work/page.db" --format html \
  --output "$work/page.html" || [ $? -eq 1 ]
read -r page_s page_kb < <(tail -n 1 "$work/time-page")
echo "sweep page: $(stat -c %s "$work/page.html") bytes for 10000 findings over 30 runs, written in $page_s s (peak RSS $page_kb KB)"

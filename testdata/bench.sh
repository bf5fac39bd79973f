#!/usr/bin/env bash
# make bench: full scans against `gzip -dc` of the same blobs, measured in the same run, on an image of real files.
#   - the image (built once, cached in CACHE): an OCI layout with gzip layers: a debootstrap Debian base
#     layer, this machine's /usr/share and /usr/include (> 500 MB uncompressed);
#     STOWAWAY_BENCH_SMALL=1: /usr/include alone, one run of each, to try the script quickly;
#   - baselines: `gzip -dc` and `igzip -dc` (ISA-L) of the layer blobs, one after the other, to /dev/null;
#   - ours: decompress + walk only (no matcher), the full scan of the layout, the full scan from a
#     distribution registry on 127.0.0.1: each with its ratio to `gzip -dc`, MB/s (uncompressed) and peak RSS;
#     and the layout scan again with STOWAWAY_DIFFID_THREAD=0 (the diffID hashed on the inflate thread);
#   - where the CPU time goes: inflate, source reads, blob hash, diffID hash, tar walk, matching;
#   - one core: the matcher alone over files in memory; rule set startup.
set -euo pipefail
cache=$1
bin=$2
small=${STOWAWAY_BENCH_SMALL:-}
if [ -n "$small" ]; then runs=${BENCH_RUNS:-1}; else runs=${BENCH_RUNS:-3}; fi
mkdir -p "$cache"

if [ -n "$small" ]; then
  layout="$cache/bench-small-layout"
  layers='[{"hostDirectories": [{"source": "/usr/include", "prefix": "usr/include"}]}]'
  match_dir=/usr/include; match_mb=64
else
  testdata/debian-base.sh "$cache" "$bin/stowaway-fixture"
  layout="$cache/bench-layout"
  layers='[{"hostDirectories": [{"source": "'"$cache"'/debian-rootfs", "prefix": ""}]},
           {"hostDirectories": [{"source": "/usr/share", "prefix": "usr/share"}]},
           {"hostDirectories": [{"source": "/usr/include", "prefix": "usr/include"}]}]'
  match_dir=/usr/share; match_mb=256
fi
if [ ! -s "$layout/index.json" ]; then
  echo "building the benchmark image (once; cached as $layout)"
  echo '{"format": "oci", "compression": "gzip", "tag": "bench:latest", "layers": '"$layers"'}' > "$layout.json"
  rm -rf "$layout.tmp"
  "$bin/stowaway-fixture" "$layout.json" "$layout.tmp" >/dev/null
  rm -rf "$layout"
  mv "$layout.tmp" "$layout"
fi

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# measure NAME CMD...: run CMD `runs` times under /usr/bin/time; NAME_s is the median wall time, NAME_kb the peak RSS.
# Exit code 1 (findings) counts as success.
declare -A wall rss
measure() {
  local name=$1; shift
  local times=() peak=0
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -o "$cache/time.out" "$@" > /dev/null || [ $? -eq 1 ]
    read -r s kb < <(tail -1 "$cache/time.out")
    times+=("$s")
    [ "$kb" -gt "$peak" ] && peak=$kb
  done
  wall[$name]=$(printf '%s\n' "${times[@]}" | median)
  rss[$name]=$peak
}

mapfile -t blobs < <("$bin/stowaway-bench" blobs "$layout" | awk '{print $1}')
compressed=$(cat "${blobs[@]}" | wc -c)
uncompressed=$(igzip -dc "${blobs[@]}" | wc -c)

measure gzip gzip -dc "${blobs[@]}"
measure igzip igzip -dc "${blobs[@]}"
measure walk "$bin/stowaway-bench" walk "$layout"
measure scan "$bin/stowaway" scan "$layout" --quiet --format json --output "$cache/bench-report.json"
# The same with the diffID hashed on the inflate thread instead of a thread of its own (the split before).
measure scan2 env STOWAWAY_DIFFID_THREAD=0 "$bin/stowaway" scan "$layout" --quiet --format json --output /dev/null
# make bench BASE=REV: the full scan of the layout by this build and by the base build, alternately run by run, so
# that both meet the same machine; their medians and peak RSS, and the change.
base_bin=${STOWAWAY_BENCH_BASE:-}
# ab LABEL ARGS...: `stowaway scan LAYOUT ARGS` of this build and of the base build, alternately run by run (each
# once unmeasured first: a build of other rules compiles its matcher database on its first scan); prints the medians
# of wall and CPU time (user + system: steadier than wall on a busy machine), peak RSS, and the changes.
ab() {
  local label=$1; shift
  local b which s u sy kb
  declare -A t=([new]="" [base]="") c=([new]="" [base]="") k=([new]=0 [base]=0)
  for b in "$bin" "$base_bin"; do "$b/stowaway" scan "$layout" "$@" --quiet --format json --output /dev/null || [ $? -eq 1 ]; done
  for _ in $(seq "$runs"); do
    for which in new base; do
      b=$bin; [ "$which" = base ] && b=$base_bin
      /usr/bin/time -f "%e %U %S %M" -o "$cache/time.out" "$b/stowaway" scan "$layout" "$@" --quiet --format json --output /dev/null || [ $? -eq 1 ]
      read -r s u sy kb < <(tail -1 "$cache/time.out")
      t[$which]+="$s"$'\n'; c[$which]+="$(echo "$u + $sy" | bc)"$'\n'
      [ "$kb" -gt "${k[$which]}" ] && k[$which]=$kb
    done
  done
  python3 -c "import sys; n, b, cn, cb, kn, kb = map(float, sys.argv[1:7]); print(f'  {sys.argv[7]:<44} wall {n:.2f} vs {b:.2f} s ({100*(n/b-1):+.1f} %), CPU {cn:.2f} vs {cb:.2f} s ({100*(cn/cb-1):+.1f} %), peak RSS {kn/1024:.1f} vs {kb/1024:.1f} MB')" \
    "$(printf '%s' "${t[new]}" | median)" "$(printf '%s' "${t[base]}" | median)" "$(printf '%s' "${c[new]}" | median)" \
    "$(printf '%s' "${c[base]}" | median)" "${k[new]}" "${k[base]}" "$label"
}
if [ -n "$base_bin" ]; then
  ab_line="against the base build $(basename "$(dirname "$(dirname "$base_bin")")") (alternately run by run, median of each; this build vs base):"
  ab_line+=$'\n'"$(ab "full scan of the layout, each its own rules")"
  ab_line+=$'\n'"$(ab "the same with testdata/bench-rules.toml" --rules testdata/bench-rules.toml)"
fi
findings=$(python3 -c "import json,sys; s=json.load(open(sys.argv[1]))['summary']; print(s['critical']+s['high']+s['medium']+s['low'], s['suppressed'], s['files'], s['layers'])" "$cache/bench-report.json")

# Where the CPU time goes, one full scan with the per-stage counters on.
stages=$("$bin/stowaway-bench" stages "$layout")

# From a registry: the same image pushed to a local distribution registry, then a full scan from it,
# beside skopeo copying it to a local OCI layout.
reg=$(realpath -m "$cache/bench-registry")
python3 testdata/registry/harness.py start --workdir "$reg" >/dev/null
trap 'python3 testdata/registry/harness.py stop --workdir "$reg" >/dev/null' EXIT
host=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['anonymous']['host'])" "$reg/harness.json")
python3 testdata/registry/harness.py push --workdir "$reg" --service anonymous --source "oci:$layout:latest" --dest bench/image:latest >/dev/null
# The registry server runs on the same cores: its CPU time during the scans is counted, to show what it takes.
server_ticks() {
  python3 -c "
import os, sys
for pid in filter(str.isdigit, os.listdir('/proc')):
    try: cmd = open(f'/proc/{pid}/cmdline', 'rb').read().split(b'\\0')
    except OSError: continue
    if any(a.endswith(b'/anonymous.yml') and sys.argv[1].encode() in a for a in cmd):
        f = open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()
        print(int(f[11]) + int(f[12])); break
else: print(0)" "$reg"
}
ticks0=$(server_ticks)
measure registry "$bin/stowaway" scan "$host/bench/image:latest" --insecure-registry "$host" --quiet --format json \
  --output "$cache/bench-registry-report.json"
server_s=$(python3 -c "import os,sys; print((int(sys.argv[2]) - int(sys.argv[1])) / os.sysconf('SC_CLK_TCK') / int(sys.argv[3]))" "$ticks0" "$(server_ticks)" "$runs")
skopeo_s=()
for _ in $(seq "$runs"); do
  rm -rf "$cache/bench-copy"
  start=$(date +%s.%N)
  skopeo copy --quiet --src-tls-verify=false "docker://$host/bench/image:latest" "oci:$cache/bench-copy:latest"
  skopeo_s+=("$(echo "$(date +%s.%N) - $start" | bc)")
done
rm -rf "$cache/bench-copy"
skopeo=$(printf '%s\n' "${skopeo_s[@]}" | median)
same=$(python3 -c "
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
strip = lambda r: [f for i in r['images'] for f in i['findings']]
print('yes' if strip(a) == strip(b) else 'NO')" "$cache/bench-report.json" "$cache/bench-registry-report.json")

# An image made of jars: every directory of the source tree zipped (deflate, Python's zipfile) into app/lib/NAME.jar,
# one layer; scanned with its archives opened and with --no-archives. MB/s counts the jars' uncompressed members.
jars_dir="$(cd "$cache" && pwd)/bench-jars$small"
jar_layout="$cache/bench-jars-layout$small"
if [ ! -s "$jar_layout/index.json" ]; then
  echo "building the jar benchmark image (once; cached as $jar_layout)"
  rm -rf "$jars_dir" && mkdir -p "$jars_dir"
  for src in $match_dir/*/; do
    name=$(basename "$src")
    (cd "$(dirname "$src")" && python3 -m zipfile -c "$jars_dir/$name.jar" "$name") 2>/dev/null || rm -f "$jars_dir/$name.jar"
  done
  echo '{"format": "oci", "compression": "gzip", "tag": "jars:latest",
         "layers": [{"hostDirectories": [{"source": "'"$jars_dir"'", "prefix": "app/lib"}]}]}' > "$jar_layout.json"
  rm -rf "$jar_layout.tmp"
  "$bin/stowaway-fixture" "$jar_layout.json" "$jar_layout.tmp" >/dev/null
  rm -rf "$jar_layout"
  mv "$jar_layout.tmp" "$jar_layout"
fi
jar_members=$(python3 -c "
import sys, zipfile, glob
infos = [i for p in glob.glob(sys.argv[1] + '/*.jar') for i in zipfile.ZipFile(p).infolist()]
print(len(glob.glob(sys.argv[1] + '/*.jar')), len(infos), sum(i.file_size for i in infos), sum(i.compress_size for i in infos))" "$jars_dir")
measure jars "$bin/stowaway" scan "$jar_layout" --quiet --format json --output "$cache/bench-jars-report.json"
measure jarsoff "$bin/stowaway" scan "$jar_layout" --quiet --format json --output /dev/null --no-archives

# One core: the matcher alone over files in memory; rule set startup.
match_out=$("$bin/stowaway-bench" match "$match_dir" "$match_mb")
compile_out=$("$bin/stowaway-bench" compile)

python3 - "$runs" "$compressed" "$uncompressed" "$findings" "$stages" "$match_out" "$compile_out" "$skopeo" "$same" "$server_s" \
          "${wall[gzip]}" "${rss[gzip]}" "${wall[igzip]}" "${rss[igzip]}" "${wall[walk]}" "${rss[walk]}" \
          "${wall[scan]}" "${rss[scan]}" "${wall[registry]}" "${rss[registry]}" "${wall[scan2]}" "${rss[scan2]}" <<'PY'
import sys
a = sys.argv[1:]
runs, c, u = a[0], int(a[1]), int(a[2])
nf, sup, files, layers = a[3].split()
kv = lambda s: {k: float(v) for k, v in (p.split("=") for p in s.split())}
st, match, comp = kv(a[4]), kv(a[5]), kv(a[6])
skopeo, same, server = float(a[7]), a[8], float(a[9])
rows = dict(zip(["gzip", "igzip", "walk", "scan", "registry", "scan2"], [(float(a[i]), int(a[i + 1])) for i in range(10, 22, 2)]))
M = 1e6
g = rows["gzip"][0]
print(f"""
stowaway bench (median of {runs} runs; {layers} gzip layers, {files} files, {u/M:.0f} MB uncompressed, {c/M:.0f} MB compressed)
                                                  wall     vs gzip -dc    MB/s   peak RSS""")
for key, label in [("gzip", "gzip -dc of the blobs (one core)"), ("igzip", "igzip -dc of the blobs (ISA-L, one core)"),
                   ("walk", "stowaway: decompress + tar walk only"), ("scan", "stowaway scan of the OCI layout (full)"),
                   ("registry", "stowaway scan from a registry on 127.0.0.1"),
                   ("scan2", "  layout, diffID hashed on the inflate thread")]:
    s, kb = rows[key]
    print(f"  {label:<44} {s:6.2f} s   {s/g:6.2f}x    {u/M/s:7.1f}   {kb/1024:6.1f} MB")
cpu = st["cpu"]
print(f"""  goal: full scan <= 0.45x gzip -dc (stretch 0.35x): layout {rows['scan'][0]/g:.2f}x, registry {rows['registry'][0]/g:.2f}x
  goal: registry scan at most 10 % slower than the layout scan: {100*(rows['registry'][0]/rows['scan'][0]-1):+.0f} %
  findings: {nf} reported, {sup} suppressed by the default path allowlist; registry scan reports the same: {same}
  skopeo copy of the image to a local OCI layout (reference for the registry row)   {skopeo:6.2f} s
  CPU the registry server (same machine, same cores) spent serving one registry scan   {server:6.2f} s

where the CPU time of one full scan goes (all threads; wall {st['wall']:.2f} s, CPU {cpu:.2f} s on the cores it had):""")
for key, label in [("inflate", "inflate (ISA-L / libzstd)"), ("sourceRead", "reading the blobs"), ("blobHash", "SHA-256 of the blobs"),
                   ("diffIDHash", "SHA-256 of the tar (diffID)"), ("tarWalk", "tar walk (libarchive parsing, copying data out)"),
                   ("match", "matching (the rest: matcher, decoding, bookkeeping)")]:
    print(f"  {label:<56} {st[key]:6.2f} s  {100*st[key]/cpu:5.1f} %")
print(f"""
one core
  provider catalogue: {int(match['catalogRows'])} rows
  matcher alone ({match['bytes']/M:.0f} MB of files in memory, {int(match['rules'])} rules)      {match['bytes']/M/match['seconds']:7.1f} MB/s
    the same without the provider catalogue ({int(match['baselineRules'])} rules)           {match['bytes']/M/match['baselineSeconds']:7.1f} MB/s
  rule set startup: compile cold / cached database          {comp['cold']*1000:7.1f} ms / {comp['warm']*1000:.1f} ms
    without the provider catalogue ({int(comp['baselineRules'])} rules)                   {comp['baselineCold']*1000:7.1f} ms / {comp['baselineWarm']*1000:.1f} ms
""")
PY
[ -z "$base_bin" ] || echo "$ab_line"
python3 - "$jar_members" "${wall[jars]}" "${rss[jars]}" "${wall[jarsoff]}" "${rss[jarsoff]}" "$cache/bench-jars-report.json" <<'PY'
import json, sys
a = sys.argv[1:]
jars, members, u, c = (int(x) for x in a[0].split())
s = json.load(open(a[5]))["summary"]
M = 1e6
print(f"image of jars: {jars} jars, {members} members, {u/M:.0f} MB uncompressed in the jars ({c/M:.0f} MB deflated)")
for label, wall, kb in [("stowaway scan (archives opened)", float(a[1]), int(a[2])),
                        ("stowaway scan --no-archives (jars as bytes)", float(a[3]), int(a[4]))]:
    print(f"  {label:<44} {wall:6.2f} s   {u/M/wall:7.1f} MB/s of members   {kb/1024:6.1f} MB")
print(f"  findings {s['critical'] + s['high'] + s['medium'] + s['low']}, archive limits reached {s.get('archiveLimits', 0)}")
PY

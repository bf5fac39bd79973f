#!/usr/bin/env bash
# make bench: full scans against baselines measured in the same run, on an image of real files.
#   - the image (built once, cached in CACHE): a debootstrap Debian base layer, this machine's
#     /usr/share and /usr/include, gzip-compressed, as a docker save tarball (> 500 MB uncompressed);
#   - baseline: decompress and walk every layer with libarchive, reading every byte (no matcher),
#     with the same layer parallelism as the scan;
#   - the full `stowaway scan`, its ratio to the baseline, throughput and peak RSS;
#   - the matcher alone on one core over files in memory, beside libarchive's one-core rate.
set -euo pipefail
cache=$1
bin=$2
runs=${BENCH_RUNS:-3}
mkdir -p "$cache"
image="$cache/bench-image.tar"

testdata/debian-base.sh "$cache" "$bin/stowaway-fixture"
if [ ! -s "$image" ]; then
  echo "building the benchmark image (once; cached as $image)"
  cat > "$cache/bench-image.json" <<JSON
{"format": "docker25", "compression": "gzip", "tag": "bench:latest",
 "layers": [{"hostDirectories": [{"source": "$cache/debian-rootfs", "prefix": ""}]},
            {"hostDirectories": [{"source": "/usr/share", "prefix": "usr/share"}]},
            {"hostDirectories": [{"source": "/usr/include", "prefix": "usr/include"}]}]}
JSON
  "$bin/stowaway-fixture" "$cache/bench-image.json" "$image.tmp" >/dev/null
  mv "$image.tmp" "$image"
fi

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

walk_s=(); scan_s=(); rss=(); walk1_s=()
for i in $(seq "$runs"); do
  out=$("$bin/stowaway-bench" walk "$image")
  walk_s+=("$(echo "$out" | field seconds)")
  bytes=$(echo "$out" | field bytes); files=$(echo "$out" | field files); layers=$(echo "$out" | field layers)
  /usr/bin/time -f "%e %M" -o "$cache/time.out" "$bin/stowaway" scan "$image" --format json --output "$cache/bench-report.json" || [ $? -eq 1 ]
  read -r s kb < <(tail -1 "$cache/time.out")
  scan_s+=("$s"); rss+=("$kb")
done
walk=$(printf '%s\n' "${walk_s[@]}" | median)
scan=$(printf '%s\n' "${scan_s[@]}" | median)
peak=$(printf '%s\n' "${rss[@]}" | sort -n | tail -1)
compressed=$(stat -c %s "$image")
findings=$(python3 -c "import json,sys; s=json.load(open(sys.argv[1]))['summary']; print(s['critical']+s['high']+s['medium']+s['low'], s['suppressed'])" "$cache/bench-report.json")

# One core: libarchive decompress-only of the whole image, and the matcher alone over 256 MB of /usr/share in memory.
walk1=$("$bin/stowaway-bench" walk "$image" --jobs 1 | field seconds)
match_out=$("$bin/stowaway-bench" match /usr/share 256)
match_s=$(echo "$match_out" | field seconds); match_b=$(echo "$match_out" | field bytes)
compile_out=$("$bin/stowaway-bench" compile)
compile_cold=$(echo "$compile_out" | field cold); compile_warm=$(echo "$compile_out" | field warm)
rules=$(echo "$compile_out" | field rules)

# From a registry: the same image pushed to a local distribution registry, then a full scan from it,
# beside skopeo copying it to a local OCI layout and decompress-only of the copied blobs.
reg="$cache/bench-registry"
python3 testdata/registry/harness.py start --workdir "$PWD/$reg" >/dev/null
trap 'python3 testdata/registry/harness.py stop --workdir "$PWD/$reg" >/dev/null' EXIT
host=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['anonymous']['host'])" "$reg/harness.json")
python3 testdata/registry/harness.py push --workdir "$PWD/$reg" --service anonymous --source "docker-archive:$image" --dest bench/image:latest >/dev/null
reg_scan=(); reg_rss=(); skopeo_s=(); walk_reg=()
for i in $(seq "$runs"); do
  rm -rf "$cache/bench-copy"
  start=$(date +%s.%N)
  skopeo copy --quiet --src-tls-verify=false "docker://$host/bench/image:latest" "oci:$cache/bench-copy:latest"
  skopeo_s+=("$(echo "$(date +%s.%N) - $start" | bc)")
  walk_reg+=("$("$bin/stowaway-bench" walk "oci:$cache/bench-copy:latest" | field seconds)")
  /usr/bin/time -f "%e %M" -o "$cache/time.out" "$bin/stowaway" scan "$host/bench/image:latest" --insecure-registry "$host" \
    --format json --output "$cache/bench-registry-report.json" --quiet || [ $? -eq 1 ]
  read -r s kb < <(tail -1 "$cache/time.out")
  reg_scan+=("$s"); reg_rss+=("$kb")
done
rm -rf "$cache/bench-copy"
rscan=$(printf '%s\n' "${reg_scan[@]}" | median)
rpeak=$(printf '%s\n' "${reg_rss[@]}" | sort -n | tail -1)
rskopeo=$(printf '%s\n' "${skopeo_s[@]}" | median)
rwalk=$(printf '%s\n' "${walk_reg[@]}" | median)

python3 - "$bytes" "$compressed" "$files" "$layers" "$walk" "$scan" "$peak" "$walk1" "$match_s" "$match_b" "$compile_cold" "$runs" "$findings" \
          "$compile_warm" "$rules" "$rscan" "$rpeak" "$rskopeo" "$rwalk" <<'PY'
import sys
(b, c, files, layers, walk, scan, peak, walk1, ms, mb, comp, runs), (nf, sup) = sys.argv[1:13], sys.argv[13].split()
warm, rules, rscan, rpeak, rskopeo, rwalk = float(sys.argv[14]), sys.argv[15], float(sys.argv[16]), int(sys.argv[17]), float(sys.argv[18]), float(sys.argv[19])
b, c, walk, scan, walk1, ms, mb, comp = int(b), int(c), float(walk), float(scan), float(walk1), float(ms), int(mb), float(comp)
M = 1e6
print(f"""
stowaway bench (median of {runs} runs, {layers} layers, {files} files, {b/M:.0f} MB uncompressed, {c/M:.0f} MB gzip)
  decompress + walk only (libarchive, all cores)  {walk:7.2f} s   {b/M/walk:7.1f} MB/s
  stowaway scan (full, all cores)                  {scan:7.2f} s   {b/M/scan:7.1f} MB/s   ratio {scan/walk:.2f}x decompress-only
  peak RSS of the scan                             {int(peak)/1024:7.1f} MB
  findings                                         {nf} reported, {sup} suppressed by the default path allowlist
  one core: libarchive decompress-only             {b/M/walk1:7.1f} MB/s
  one core: matcher alone ({mb/M:.0f} MB in memory, {rules} rules)  {mb/M/ms:7.1f} MB/s
  rule set startup: compile cold / cached database {comp*1000:7.1f} ms / {warm*1000:.1f} ms

from a local registry (same image, pushed with skopeo)
  skopeo copy to a local OCI layout                {rskopeo:7.2f} s
  decompress + walk only of the copied blobs       {rwalk:7.2f} s
  stowaway scan from the registry (full)           {rscan:7.2f} s   ratio {rscan/rskopeo:.2f}x skopeo copy, {rscan/rwalk:.2f}x decompress-only
  peak RSS of the registry scan                    {rpeak/1024:7.1f} MB
""")
PY

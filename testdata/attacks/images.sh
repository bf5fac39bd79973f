#!/usr/bin/env bash
# Hostile images against a stowaway binary: testdata/attacks/images.sh BIN WORKDIR
# Builds each input (craft.py: reads outside the image, hostile outer-tar headers, a 1 TiB sparse file,
# data after the end-of-archive marker, in a whiteout's body, in a hard link's body), scans it under
# /usr/bin/time -v with a liveness bound, and prints one line per attack:
#   name exit=N seconds=S maxrss_mb=M
# and a FAIL line when something is off: refused inputs must exit 2 with one line on stderr and nothing of
# the planted secret in the output; hidden data must be found (exit 1). Exits 1 if any attack failed.
set -uo pipefail
if [ $# -ne 2 ]; then echo "usage: $0 BIN WORKDIR" >&2; exit 64; fi
bin=$1
work=$2
limit=${ATTACK_TIMEOUT:-120}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
list=$(python3 "$here/craft.py" "$work") || { echo "craft.py failed" >&2; exit 2; }
bad=0
while IFS=$'\t' read -r name input expected; do
  stats="$work/$name.time"
  timeout -k 5 "$limit" /usr/bin/time -v -o "$stats" "$bin" scan --quiet "$input" >"$work/$name.out" 2>"$work/$name.err"
  rc=$?
  [ $rc -eq 124 ] && rc="timeout"
  secs=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$stats" 2>/dev/null |
         awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }')
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$stats" 2>/dev/null | awk '{ printf "%.1f", $1 / 1024 }')
  echo "$name exit=$rc seconds=${secs:-killed} maxrss_mb=${rss:-?}"
  why=()
  [ "$rc" = "$expected" ] || why+=("exit $rc, want $expected")
  if [ "$expected" = 2 ]; then
    [ "$(wc -l < "$work/$name.err")" -eq 1 ] || why+=("stderr is not one line")
    ! grep -q "ghp_" "$work/$name.out" "$work/$name.err" || why+=("the secret from outside the image was read")
  fi
  if [ "${#why[@]}" -gt 0 ]; then bad=1; echo "  FAIL: ${why[*]}"; fi
done <<< "$list"
exit $bad

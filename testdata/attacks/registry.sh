#!/usr/bin/env bash
# Registry attacks against `stowaway scan` with its DEFAULT timeouts: each misbehaving registry of
# testdata/registry/faults.py must end the scan with exit 2 and one line, well within a minute.
#
#   testdata/attacks/registry.sh BIN WORKDIR
#
# BIN is the stowaway binary to test, WORKDIR a scratch directory (the fault servers run from
# WORKDIR/harness and are stopped at the end). Prints one line per attack:
#   name exit=N seconds=S maxrss_mb=M
#     stderr: <the line stowaway printed>
# and a verdict line per attack when something is off (not exit 2, not one line, over 60 s, a leaked secret).
# Exit status: 0 when every attack ended as it should, 1 otherwise. Needs python3, openssl, GNU time.
set -uo pipefail

BIN="${1:?usage: registry.sh BIN WORKDIR}"
WORK="${2:?usage: registry.sh BIN WORKDIR}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
HARNESS="python3 $HERE/../registry/harness.py"
LIVENESS=120     # a scan still running after this is killed (and fails)
BOUND=60         # what each attack must end within

mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
WD="$WORK/harness"
cleanup() { $HARNESS stop --workdir "$WD" >/dev/null 2>&1 || true; }
trap cleanup EXIT
$HARNESS start --workdir "$WD" --faults-only >/dev/null || { echo "registry.sh: the fault servers did not start" >&2; exit 1; }

j() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d[sys.argv[2]][sys.argv[3]] or "")' "$WD/harness.json" "$@"; }

# A fresh password, so a leak is unmistakable.
PASSWORD="pw-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
B64="$(printf 'alice:%s' "$PASSWORD" | base64 -w0)"
FAILED=0
HOME_DIR="$WORK/home"; mkdir -p "$HOME_DIR/.docker"   # no machine credentials in play

attack() {
  local name="$1" service="$2"; shift 2
  local host ca; host="$(j "$service" host)"; ca="$(j "$service" ca)"
  local trust=(--insecure-registry "$host"); [ -n "$ca" ] && trust=(--ca-file "$ca")
  local out="$WORK/$name"
  local stdin=/dev/null; [ "${1:-}" = --username ] && { printf '%s\n' "$PASSWORD" >"$out.stdin"; stdin="$out.stdin"; }
  HOME="$HOME_DIR" DOCKER_CONFIG="$HOME_DIR/.docker" FLY_API_TOKEN= FLY_ACCESS_TOKEN= \
    timeout --signal=KILL "$LIVENESS" /usr/bin/time -v -o "$out.time" \
    "$BIN" scan "$host/fault/app:v1" --quiet --format json "${trust[@]}" "$@" <"$stdin" >"$out.stdout" 2>"$out.stderr"
  local rc=$?
  local seconds rss
  seconds="$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.1f", s }' "$out.time" 2>/dev/null)"
  rss="$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$out.time" 2>/dev/null)"
  echo "$name exit=$rc seconds=${seconds:-killed} maxrss_mb=${rss:-?}"
  sed 's/^/  stderr: /' "$out.stderr"
  local why=()
  [ "$rc" -eq 2 ] || why+=("exit $rc, want 2")
  [ "$(grep -c . "$out.stderr")" -eq 1 ] || why+=("$(grep -c . "$out.stderr") stderr lines, want 1")
  grep -q "$host" "$out.stderr" || why+=("the line does not name $host")
  if [ -z "$seconds" ] || awk -v s="$seconds" -v b="$BOUND" 'BEGIN { exit !(s >= b) }'; then why+=("not ended within $BOUND s"); fi
  if grep -qF -e "$PASSWORD" -e "$B64" "$out.stderr" "$out.stdout"; then why+=("the password leaked"); fi
  if [ "${#why[@]}" -gt 0 ]; then FAILED=1; echo "  FAIL: ${why[*]}"; fi
}

attack 503-forever        fault-503
attack 429-forever        fault-429
attack trickle            fault-trickle
attack never-answers      fault-silent
attack huge-manifest      fault-huge
attack redirect-loop      fault-redirect
attack blob-too-long      fault-long-blob
attack blob-stalls        fault-stall-blob
attack token-echo         fault-token-echo --username alice --password-stdin
attack http-realm-on-tls  fault-tls-realm  --username alice --password-stdin
if grep -q 'tls-realm: authorization=present' "$WD/logs/faults.log"; then
  FAILED=1; echo "http-realm-on-tls FAIL: the plain-HTTP realm received the credential"
fi
exit "$FAILED"

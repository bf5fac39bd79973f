#!/usr/bin/env bash
# Runs every attack of testdata/attacks/*.sh against a stowaway binary (the release one by default) and
# prints one line each: name, exit code, seconds, peak RSS. Each area script builds its own hostile
# inputs (and servers) under WORKDIR and prints `name exit=N seconds=S maxrss_mb=M`.
#   testdata/attacks/run.sh [BIN] [WORKDIR]
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-.build/release/stowaway}
WORK=${2:-testdata/out/attacks}
[ -x "$BIN" ] || { echo "run.sh: $BIN is not built (make release)" >&2; exit 2; }
rm -rf "$WORK" && mkdir -p "$WORK"
status=0
for script in testdata/attacks/*.sh; do
  [ "$(basename "$script")" = run.sh ] && continue
  area=$(basename "$script" .sh)
  echo "## $area"
  bash "$script" "$(realpath "$BIN")" "$(realpath "$WORK")/$area" || status=1
done
exit $status

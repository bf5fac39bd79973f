#!/usr/bin/env bash
# make bench BASE=REV: builds commit REV of this repository beside the working tree (release, in
# .build/bench-base/REV), so that make bench measures the old and the new build in the same run, one after the
# other run by run. Prints the directory of the base build's products.
#   testdata/bench-base.sh REV
set -euo pipefail
rev=$(git rev-parse --short=12 "${1:?usage: testdata/bench-base.sh REV}^{commit}")
dir=.build/bench-base/$rev
if [ ! -x "$dir/.build/release/stowaway" ]; then
  rm -rf "$dir" && mkdir -p "$dir"
  git archive "$rev" | tar -x -C "$dir"
  echo "bench: building $rev (release) in $dir; once" >&2
  swift build -c release --package-path "$dir" --product stowaway >&2
fi
echo "$dir/.build/release"

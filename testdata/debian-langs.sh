#!/usr/bin/env bash
# Builds (once) CACHE/debian-langs.tar: the clean Debian base plus one layer per language ecosystem, unpacked
# from Debian's packages: Python libraries (botocore, boto3, cryptography, requests, oauthlib, PyJWT, pip),
# Node.js with npm, a JDK runtime, the Go toolchain with its sources, Ruby with RubyGems. Their docs, tests
# and examples ship many example keys and tokens; no secret is planted. Clean-image tests expect no critical
# or high finding in it. Costs ~150 MB of downloads (cached by apt) and ~1 GB uncompressed, built once.
set -euo pipefail
cache=$1
fixture=$2
out="$cache/debian-langs.tar"
[ -s "$out" ] && exit 0
root="$cache/debian-rootfs"
[ -f "$root.complete" ] || { echo "debian-langs.sh: run debian-base.sh first" >&2; exit 1; }
work="$cache/langs-work"
rm -rf "$work"
mkdir -p "$work"
declare -A groups=(
  [python]="python3-botocore python3-boto3 python3-s3transfer python3-cryptography python3-requests python3-urllib3 python3-oauthlib python3-requests-oauthlib python3-jwt python3-pip"
  [node]="nodejs/bookworm libnode108/bookworm npm"
  [jdk]="openjdk-17-jre-headless"
  [go]="golang-1.19-go golang-1.19-src"
  [ruby]="ruby3.1 libruby3.1 ruby-rubygems"
)
layers=('{"hostDirectories": [{"source": "'"$root"'", "prefix": ""}]}')
history=('{"created_by": "/bin/sh -c #(nop) ADD file:debootstrap-bookworm-minbase in / "}')
for name in python node jdk go ruby; do
  mkdir -p "$work/$name-debs" "$work/$name"
  # shellcheck disable=SC2086 # the package list is meant to split
  ( cd "$work/$name-debs" && { apt-get download ${groups[$name]} >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get download ${groups[$name]} >/dev/null; }; } )
  for d in "$work/$name-debs"/*.deb; do dpkg-deb -x "$d" "$work/$name"; done
  rm -rf "$work/$name-debs"
  layers+=('{"hostDirectories": [{"source": "'"$work/$name"'", "prefix": ""}]}')
  history+=('{"created_by": "RUN /bin/sh -c apt-get install -y '"${groups[$name]//\/bookworm/}"' # buildkit"}')
done
join() { local IFS=,; echo "$*"; }
cat > "$cache/debian-langs.json" <<JSON
{"format": "docker25", "compression": "gzip", "tag": "debian-langs:bookworm",
 "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"], "Cmd": ["bash"]},
 "history": [$(join "${history[@]}")],
 "layers": [$(join "${layers[@]}")]}
JSON
"$fixture" "$cache/debian-langs.json" "$out.tmp" >/dev/null
mv "$out.tmp" "$out"
rm -rf "$work"

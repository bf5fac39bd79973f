#!/usr/bin/env bash
# Builds (once) CACHE/debian-python.tar: the clean Debian base plus a layer holding python3 and its
# test suite (libpython3.11-testsuite), unpacked from Debian's packages. No secrets are planted.
set -euo pipefail
cache=$1
fixture=$2
out="$cache/debian-python.tar"
[ -s "$out" ] && exit 0
root="$cache/debian-rootfs"
[ -f "$root.complete" ] || { echo "debian-python.sh: run debian-base.sh first" >&2; exit 1; }
debs="$cache/python-debs"
layer="$cache/python-layer"
rm -rf "$debs" "$layer"
mkdir -p "$debs" "$layer"
pkgs="python3 python3-minimal python3.11 python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libpython3.11-testsuite"
( cd "$debs" && { apt-get download $pkgs >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get download $pkgs >/dev/null; }; } )
for d in "$debs"/*.deb; do dpkg-deb -x "$d" "$layer"; done
cat > "$cache/debian-python.json" <<JSON
{"format": "docker25", "compression": "gzip", "tag": "debian-python:bookworm",
 "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"], "Cmd": ["python3"]},
 "history": [{"created_by": "/bin/sh -c #(nop) ADD file:debootstrap-bookworm-minbase in / "},
             {"created_by": "RUN /bin/sh -c apt-get install -y python3 libpython3.11-testsuite # buildkit"}],
 "layers": [{"hostDirectories": [{"source": "$root", "prefix": ""}]},
            {"hostDirectories": [{"source": "$layer", "prefix": ""}]}]}
JSON
"$fixture" "$cache/debian-python.json" "$out.tmp" >/dev/null
mv "$out.tmp" "$out"
rm -rf "$debs"

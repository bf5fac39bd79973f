#!/usr/bin/env bash
# Builds (once) a clean Debian bookworm base image from debootstrap's first stage, with no secrets
# planted, as a docker save tarball: CACHE/debian-base.tar. The rootfs stays in CACHE for the bench.
set -euo pipefail
cache=$1
fixture=$2
mkdir -p "$cache"
out="$cache/debian-base.tar"
root="$cache/debian-rootfs"
[ -s "$out" ] && exit 0
if [ ! -f "$root.complete" ]; then
  rm -rf "$root"
  mirror=$(grep -hoE 'https?://[^ ]+/debian/?$' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -1 || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  echo "debootstrap: bookworm minbase from $mirror (first stage, about 30 s)"
  # --foreign unpacks the packages without chrooting: the files are what the scanner needs.
  debootstrap --variant=minbase --foreign bookworm "$root" "$mirror" > "$cache/debootstrap.log" 2>&1 \
    || { tail -20 "$cache/debootstrap.log"; exit 1; }
  rm -rf "$root/debootstrap" "$root"/var/cache/apt/archives/*.deb
  touch "$root.complete"
fi
cat > "$cache/debian-base.json" <<JSON
{"format": "docker25", "compression": "gzip", "tag": "debian-base:bookworm",
 "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["bash"]},
 "history": [{"created_by": "/bin/sh -c #(nop) ADD file:debootstrap-bookworm-minbase in / "},
             {"created_by": "/bin/sh -c #(nop)  CMD [\"bash\"]", "empty_layer": true}],
 "layers": [{"hostDirectories": [{"source": "$root", "prefix": ""}]}]}
JSON
"$fixture" "$cache/debian-base.json" "$out.tmp" >/dev/null
mv "$out.tmp" "$out"

#!/usr/bin/env bash
# Builds the libFuzzer target for the zip fast path (Sources/Layers/ZipReader.swift, ISA-L inflate), with seeds.
#   Fuzz/zipreader/build.sh OUTDIR
#   OUTDIR/fuzz-zipreader -max_total_time=120 -malloc_limit_mb=512 OUTDIR/corpus-zipreader
# Only the walker's files of Sources/Layers are compiled (no package build), against the system libarchive and ISA-L.
set -euo pipefail
out=${1:?usage: Fuzz/zipreader/build.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out/corpus-zipreader"

# shellcheck source=../walker-sources.sh
. "$here/../walker-sources.sh"
swiftc "${walker_flags[@]}" -module-name ZipReaderFuzz "$here/main.swift" "${walker_sources[@]}" \
  -o "$out/fuzz-zipreader" 2> >(grep -v "Cannot export local symbol" >&2)

# Seeds: small zips the fast path takes (stored, deflated, empty, nested, zip64, directories, a symlink), some it
# leaves to libarchive (a bzip2 member), and each cut short or with a byte flipped; fresh random content each build.
python3 - "$out/corpus-zipreader" <<'PY'
import io, os, sys, zipfile
out = sys.argv[1]
def z(members, method=zipfile.ZIP_DEFLATED, zip64=False):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", method) as f:
        for name, data in members:
            if name.endswith("/"):
                f.writestr(zipfile.ZipInfo(name), b"")
            elif zip64:
                with f.open(name, "w", force_zip64=True) as w: w.write(data)
            else:
                f.writestr(name, data)
    return b.getvalue()
text = lambda n=1: (os.urandom(24).hex() + "\n").encode() * n
link = zipfile.ZipInfo("lib/current"); link.external_attr = 0o120777 << 16
b = io.BytesIO()
with zipfile.ZipFile(b, "w") as f:
    f.writestr("a.txt", text()); f.writestr(link, b"a.txt")
inner = z([("config.properties", text()), ("META-INF/", b""), ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n")])
seeds = {
    "deflated.zip": z([("a.txt", text(40)), ("b.txt", text())]), "stored.zip": z([("a.txt", text())], zipfile.ZIP_STORED),
    "empty-member.zip": z([("e", b""), ("f", text())]), "jar": z([("lib/inner.jar", inner), ("app.properties", text())], zipfile.ZIP_STORED),
    "zip64.zip": z([("big.txt", text(50))], zip64=True), "symlink.zip": b.getvalue(), "zeros.zip": z([("zeros", bytes(1 << 20))]),
    "bzip2.zip": z([("a.txt", text(10))], zipfile.ZIP_BZIP2),
}
seeds.update({k + ".cut": v[: len(v) * 2 // 3] for k, v in list(seeds.items())})
for k, v in list(seeds.items()):
    if not k.endswith(".cut") and len(v) > 60:
        flipped = bytearray(v); flipped[len(v) // 3] ^= 0x40; seeds[k + ".flip"] = bytes(flipped)
for name, data in seeds.items():
    open(os.path.join(out, name), "wb").write(data)
PY
echo "built $out/fuzz-zipreader; run: $out/fuzz-zipreader -max_total_time=120 -malloc_limit_mb=512 $out/corpus-zipreader"

#!/usr/bin/env bash
# Builds the libFuzzer target for the archive walk (jar, zip, tar, gzip/zstd/xz/bzip2 inside layers), with seeds.
#   Fuzz/archive/build.sh OUTDIR
#   OUTDIR/fuzz-archive -max_total_time=120 -malloc_limit_mb=512 OUTDIR/corpus-archive
# Only the walker's files of Sources/Layers are compiled (no package build), against the system libarchive and ISA-L.
set -euo pipefail
out=${1:?usage: Fuzz/archive/build.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out/corpus-archive"

# shellcheck source=../walker-sources.sh
. "$here/../walker-sources.sh"
swiftc "${walker_flags[@]}" -module-name ArchiveFuzz "$here/main.swift" "${walker_sources[@]}" \
  -o "$out/fuzz-archive" 2> >(grep -v "Cannot export local symbol" >&2)

# Seeds: small archives of every kind the walk opens, nested, and cut short; fresh random content each build.
python3 - "$out/corpus-archive" <<'PY'
import bz2, gzip, io, lzma, os, sys, tarfile, zipfile
out = sys.argv[1]
def z(members, method=zipfile.ZIP_DEFLATED):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", method) as f:
        for name, data in members: f.writestr(name, data)
    return b.getvalue()
def t(members):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as f:
        for name, data in members:
            i = tarfile.TarInfo(name); i.size = len(data); f.addfile(i, io.BytesIO(data))
    return b.getvalue()
text = lambda: os.urandom(24).hex().encode() + b"\n"
inner = z([("config.properties", text()), ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n")])
jar = z([("BOOT-INF/classes/app.properties", text()), ("BOOT-INF/lib/inner.jar", inner)], zipfile.ZIP_STORED)
tar = t([(".env", text()), ("lib/inner.jar", inner)])
seeds = {
    "jar": jar, "stored.zip": z([("a.txt", text())], zipfile.ZIP_STORED), "tar": tar, "tar.gz": gzip.compress(tar),
    "tar.xz": lzma.compress(tar), "tar.bz2": bz2.compress(tar), "log.gz": gzip.compress(text() * 20),
    "gz-of-jar": gzip.compress(jar), "zip-of-targz": z([("b.tgz", gzip.compress(tar))]),
    "deep.zip": z([("n.zip", z([("n.zip", z([("n.zip", z([("n.zip", z([("x", text())]))]))]))]))]),
    "zeros.gz": gzip.compress(bytes(1 << 20)),
    # Once trapped in BlobInput.consume under fuzzing (ISA-L giving back read-ahead input); kept as a seed.
    "givenback.gz": bytes.fromhex("1f8b0800781f0cedffca33ec699a45673511c984fdb16434900827 63d14a".replace(" ", "")),
}
seeds.update({k + ".cut": v[: len(v) * 2 // 3] for k, v in list(seeds.items())})
for name, data in seeds.items():
    open(os.path.join(out, name), "wb").write(data)
PY
echo "built $out/fuzz-archive; run: $out/fuzz-archive -max_total_time=120 -malloc_limit_mb=512 $out/corpus-archive"

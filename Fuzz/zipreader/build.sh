#!/usr/bin/env bash
# Builds the libFuzzer target for the zip fast path (Sources/Layers/ZipReader.swift, ISA-L inflate) and the directory
# survey run before any zip reader (Sources/Layers/ZipDirectory.swift: hostile counts and offsets), with seeds.
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
# Hostile directories (issue 18), written field by field: counts past the member limit (declared, or records past
# the declared count), members sharing bytes (one local header named by every entry; Fifield's quoted overlap with a
# stored kernel), one member with a zip64 size of 2^64-1 or an incomplete AES field beside a sound one.
import struct, zlib
def raw(locals_, centrals, declared, zip64=False):
    body = b"".join(locals_); cd = b"".join(centrals); z = body + cd
    if zip64 or declared > 0xFFFF:
        at = len(z)
        z += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, declared, declared, len(cd), len(body))
        z += struct.pack("<IIQI", 0x07064B50, 0, at, 1)
        return z + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return z + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, declared, declared, len(cd), len(body), 0)
def lh(name, data, method=0, flags=0, size=None):
    n = len(data) if size is None else size
    return struct.pack("<IHHHIIIIHH", 0x04034B50, 20, flags, method, 0, zlib.crc32(data), n, n, len(name), 0) + name + data
def ch(name, offset, size, crc=0, method=0, flags=0, extra=b"", mode=0o100644, big=False):
    s = 0xFFFFFFFF if big else size
    return struct.pack("<IHHHHIIIIHHHHHII", 0x02014B50, 0x0314, 20, flags, method, 0, crc, s, s, len(name), len(extra), 0, 0, 0,
                       mode << 16, offset) + name + extra
good = text(); kernel = b"A" * 4096
seeds["many-declared.zip"] = raw([lh(b"d/", b"")], [ch(b"d/", 0, 0, mode=0o40755)] * 3, 5000000, zip64=True)
seeds["many-records.zip"] = raw([lh(b"d/", b"")], [ch(b"d/", 0, 0, mode=0o40755)] * 1200, 1, zip64=True)
seeds["same-header.zip"] = raw([lh(b"k", kernel)], [ch(b"k%d" % i, 0, len(kernel)) for i in range(20)], 20)
names = [b"f%03d" % i for i in range(20)]; hl = 30 + 4
seeds["fifield-stored.zip"] = raw([lh(n, b"", size=(19 - i) * hl + len(kernel)) for i, n in enumerate(names)] + [kernel],
                                  [ch(n, i * hl, (19 - i) * hl + len(kernel)) for i, n in enumerate(names)], 20)
bad = lh(b"bad.bin", b"nothing here\n"); g = lh(b"good.txt", good)
seeds["zip64-max-size.zip"] = raw([bad, g], [ch(b"bad.bin", 0, 13, extra=struct.pack("<HHQQ", 1, 16, 2**64 - 1, 13), big=True),
                                             ch(b"good.txt", len(bad), len(good), crc=zlib.crc32(good))], 2)
aes = lh(b"bad.bin", b"nothing here\n", method=99, flags=1)
seeds["aes-incomplete.zip"] = raw([aes, g], [ch(b"bad.bin", 0, 13, method=99, flags=1, extra=struct.pack("<HHH", 0x9901, 2, 2)),
                                             ch(b"good.txt", len(aes), len(good), crc=zlib.crc32(good))], 2)
seeds.update({k + ".cut": v[: len(v) * 2 // 3] for k, v in list(seeds.items())})
for k, v in list(seeds.items()):
    if not k.endswith(".cut") and len(v) > 60:
        flipped = bytearray(v); flipped[len(v) // 3] ^= 0x40; seeds[k + ".flip"] = bytes(flipped)
for name, data in seeds.items():
    open(os.path.join(out, name), "wb").write(data)
PY
echo "built $out/fuzz-zipreader; run: $out/fuzz-zipreader -max_total_time=120 -malloc_limit_mb=512 $out/corpus-zipreader"

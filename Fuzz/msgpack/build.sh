#!/usr/bin/env bash
# Builds the libFuzzer target for the msgpack reader and the Fly macaroon decoder, with a seed corpus.
#   Fuzz/msgpack/build.sh OUTDIR
#   OUTDIR/fuzz-msgpack -max_total_time=120 -max_len=4096 -malloc_limit_mb=512 OUTDIR/corpus-msgpack
# Only the Foundation-free files of Sources/Forensics are compiled: no package build, no swift-crypto.
set -euo pipefail
out=${1:?usage: Fuzz/msgpack/build.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../../Sources/Forensics"
mkdir -p "$out/corpus-msgpack"

swiftc -sanitize=fuzzer,address -parse-as-library -O -g -module-name MsgPackFuzz \
  "$here/main.swift" \
  "$src/ForensicsError.swift" "$src/MsgPackValue.swift" "$src/MsgPackReader.swift" \
  "$src/Base64.swift" "$src/Macaroon.swift" "$src/FlyCaveat.swift" \
  -o "$out/fuzz-msgpack" 2> >(grep -v "Cannot export local symbol" >&2)

# Seeds: macaroon-shaped bytes with fresh random key IDs and tails (a permission token with Organization, 3P and
# IfPresent{Apps, FeatureSet}, and a discharge with ValidityWindow and BindToParentToken), raw and as fm2_ text.
python3 - "$out/corpus-msgpack" <<'PY'
import base64, os, struct, sys
def b(x): return bytes([0xc4, len(x)]) + x
def s(x): x = x.encode(); return bytes([0xa0 | len(x)]) + x if len(x) < 32 else bytes([0xd9, len(x)]) + x
def u(n): return bytes([n]) if n < 0x80 else b"\xce" + struct.pack(">I", n)
def arr(*items): return bytes([0x90 | len(items)]) + b"".join(items)
nonce = arr(b(os.urandom(8)), b(os.urandom(16)), b"\xc2")
perm = b"\x94" + nonce + s("https://api.fly.io/v1") + arr(
    u(0), arr(u(48213), u(31)),
    u(11), arr(s("https://api.fly.io/aaa/v1"), b(os.urandom(60)), b(os.urandom(80))),
    u(13), arr(arr(u(3), arr(b"\x81" + u(77) + u(31)), u(5), arr(b"\x81" + s("wg") + u(31))), u(1))) + b(os.urandom(32))
disch = b"\x94" + arr(b(os.urandom(80)), b(os.urandom(16)), b"\xc3") + s("https://api.fly.io/aaa/v1") + arr(
    u(4), arr(b"\xd2" + struct.pack(">i", 1700000000), b"\xce" + struct.pack(">I", 4000000000)),
    u(12), b(os.urandom(16))) + b(os.urandom(32))
out = sys.argv[1]
for name, data in [("permission.bin", perm), ("discharge.bin", disch),
                   ("bundle.txt", ("fm2_" + base64.b64encode(perm).decode() + ",fm2_" + base64.b64encode(disch).decode()).encode())]:
    open(os.path.join(out, name), "wb").write(data)
PY
echo "built $out/fuzz-msgpack; run: $out/fuzz-msgpack -max_total_time=120 -max_len=4096 -malloc_limit_mb=512 $out/corpus-msgpack"

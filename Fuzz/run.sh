#!/usr/bin/env bash
# make fuzz: Fuzz/run.sh SECONDS OUT [FIXTURE_BIN]
# Builds each libFuzzer target from the parser sources it needs (swiftc -sanitize=fuzzer,address; no
# package dependencies: Fuzz/Stubs.swift stands in for hashing and the registry) and runs it for SECONDS,
# seeded by the hostile inputs of testdata/attacks/craft.py and small well-formed images made with
# stowaway-fixture. The corpus grows in OUT/corpus-NAME across runs. A crash, a hang (an input taking
# over 10 s) or a sanitizer report stops the run with the input saved as OUT/crash-NAME-*; exit 1.
# Then every Fuzz/NAME/build.sh target of other areas (the msgpack reader, the archive walk) runs the same way.
set -euo pipefail
seconds=${1:-30}
out=${2:-testdata/out/fuzz}
fixture=${3:-.build/debug/stowaway-fixture}
build=.build/fuzz
oci=Sources/OCI
core=Sources/Core

# Each target is one module of the files it needs (Core's and OCI's together: STOWAWAY_FUZZING leaves out `import Core`).
common="$core/ByteSource.swift $core/CoreError.swift $oci/Local/TarIndexer.swift $oci/OCIError.swift $oci/Local/FileTree.swift Fuzz/Input.swift \
        Fuzz/LayerBlobStub.swift"
declare -A sources=(
  [tar]="$common Fuzz/TarIndexerTarget.swift"
  [image]="$common $core/Digest.swift $core/Encoding.swift $oci/Content/Models.swift $oci/Content/MediaType.swift $oci/Content/Image.swift \
           $oci/Local/ImageLoader.swift $oci/Content/ImageSource.swift $oci/Content/ImageResolver.swift $oci/Local/DockerArchive.swift $oci/Local/OCILayout.swift \
           Fuzz/Stubs.swift Fuzz/ImageTarget.swift"
)
declare -A seeds=([tar]="tar" [image]="tar json")

mkdir -p "$build" "$out"
for name in tar image; do
  bin="$build/$name"
  # shellcheck disable=SC2086
  if [ ! -x "$bin" ] || [ -n "$(find ${sources[$name]} Fuzz/run.sh -newer "$bin" 2>/dev/null)" ]; then
    echo "fuzz: building $bin"
    # shellcheck disable=SC2086
    swiftc -swift-version 6 -O -parse-as-library -sanitize=fuzzer,address -use-ld=lld -D STOWAWAY_FUZZING -module-name "Fuzz_$name" \
      ${sources[$name]} -o "$bin"
  fi
done

# Seeds: every hostile input of the attack list, and well-formed images in each tar format.
seed="$out/seeds"
rm -rf "$seed" "$out/attacks"
python3 testdata/attacks/craft.py "$out/attacks" --seeds "$seed" >/dev/null
if [ -x "$fixture" ]; then
  for format in docker25 oci-tar docker-legacy; do
    printf '{"format": "%s", "compression": "none", "tag": "seed:1", "config": {"Env": ["A=b"]},
             "layers": [{"files": [{"path": "a.txt", "content": "x\\n"}]}]}' "$format" > "$out/seed-$format.json"
    "$fixture" "$out/seed-$format.json" "$seed/tar/$format.tar" >/dev/null
  done
fi

status=0
for name in tar image; do
  corpus="$out/corpus-$name"
  mkdir -p "$corpus"
  dirs=()
  for s in ${seeds[$name]}; do dirs+=("$seed/$s"); done
  echo "fuzz: $name for ${seconds}s"
  if ! SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 "$build/$name" -max_total_time="$seconds" -timeout=10 -max_len=65536 \
       -artifact_prefix="$out/crash-$name-" -print_final_stats=1 "$corpus" "${dirs[@]}" >"$out/$name.log" 2>&1; then
    echo "fuzz: $name FAILED; the input is in $out/crash-$name-*; log: $out/$name.log" >&2
    grep -E "ERROR|Fatal error|runtime failure|SUMMARY|timeout" "$out/$name.log" | head -5 >&2 || true
    status=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$out/$name.log" | tail -2 | sed "s/^/fuzz: $name: /"
  fi
done
# Other areas' targets: Fuzz/NAME/build.sh OUTDIR makes OUTDIR/fuzz-NAME and its seeds in OUTDIR/corpus-NAME.
for script in Fuzz/*/build.sh; do
  [ -e "$script" ] || continue
  name=$(basename "$(dirname "$script")")
  dir="$out/$name"
  bash "$script" "$dir" >/dev/null
  echo "fuzz: $name for ${seconds}s"
  if ! SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 "$dir/fuzz-$name" -max_total_time="$seconds" -timeout=10 \
       -artifact_prefix="$dir/crash-" -print_final_stats=1 "$dir/corpus-$name" >"$dir/$name.log" 2>&1; then
    echo "fuzz: $name FAILED; the input is in $dir/crash-*; log: $dir/$name.log" >&2
    grep -E "ERROR|Fatal error|runtime failure|SUMMARY|timeout" "$dir/$name.log" | head -5 >&2 || true
    status=1
  else
    grep -E "stat::number_of_executed_units" "$dir/$name.log" | tail -1 | sed "s/^/fuzz: $name: /"
  fi
done
exit $status

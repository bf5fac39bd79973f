# Sourced by Fuzz/archive/build.sh and Fuzz/zipreader/build.sh: the files of Sources/Layers the archive walk is
# compiled from without a package build, and what they link. Nested gzip and plain zips are inflated by ISA-L
# (GzipInflater over a BlobInput, ZipReader): those files too, with Core's ByteSource and Fuzz/archive/stubs.swift
# standing in for the blob hash (STOWAWAY_FUZZING leaves out `import Core`).
fuzz_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
walker_sources=(
  "$fuzz_root/Fuzz/archive/stubs.swift" "$fuzz_root/Sources/Core/ByteSource.swift" "$fuzz_root/Sources/Core/CoreError.swift"
)
for f in ArchiveLimits ArchiveWalker ZipReader ZipDirectory InflatedStream SeekableZip SpillBuffer LayerEntry LayerError GzipInflater BlobInput Decompressor \
         ZstdDecompressor StageTimes; do
  walker_sources+=("$fuzz_root/Sources/Layers/$f.swift")
done
walker_flags=(-swift-version 6 -sanitize=fuzzer,address -parse-as-library -O -g -D STOWAWAY_FUZZING
  -I "$fuzz_root/Sources/CArchive" -I "$fuzz_root/Sources/CISAL" -I "$fuzz_root/Sources/CZstd" -I "$fuzz_root/Sources/CLZMA" -lisal -lzstd -llzma)

// The archive fuzz target compiles Sources/Layers' walker files without swift-crypto (see build.sh): the blob hash,
// which nested archives never use (`BlobInput.hashing` is off for them), stands in as a no-op.
struct DigestHasher {
    mutating func update(_ bytes: UnsafeRawBufferPointer) {}
}

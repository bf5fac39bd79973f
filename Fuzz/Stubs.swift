import Foundation

// The fuzz targets compile the parsing files of Sources/OCI directly, without swift-crypto or the
// registry client (see Fuzz/run.sh). This stands in for hashing (the
// registry's stand-in, LayerBlob, is in Fuzz/LayerBlobStub.swift, which every target compiles).

extension Digest {
    /// Every blob "hashes" to sha256:000…0, so an input whose descriptors name that digest gets past the
    /// digest checks and the fuzzer reaches the manifest, config and layer-list code behind them.
    static func sha256(of data: some DataProtocol) -> Digest {
        Digest(sha256Hex: String(repeating: "0", count: 64))
    }
}

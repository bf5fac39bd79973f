import Crypto
import Foundation

extension Digest {
    /// The sha256 digest of `data`.
    public static func sha256(of data: some DataProtocol) -> Digest {
        Digest(sha256Hex: SHA256.hash(data: data).hexString)
    }
}

/// Incremental hashing for a digest check while bytes stream past.
public struct DigestHasher {
    private var sha256 = SHA256()
    public private(set) var count: Int64 = 0

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        sha256.update(bufferPointer: bytes)
        count += Int64(bytes.count)
    }

    public func finalize() -> Digest {
        Digest(sha256Hex: sha256.finalize().hexString)
    }
}

import Crypto
import Foundation

/// A content digest (`sha256:<64 hex>`), validated on construction.
public struct Digest: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public let algorithm: String
    public let encoded: String

    /// Parses `algorithm:encoded`; throws `CoreError.invalidDigest` for anything else.
    public init(_ text: String) throws {
        guard let colon = text.firstIndex(of: ":") else { throw CoreError.invalidDigest(text) }
        let algorithm = String(text[..<colon])
        let encoded = String(text[text.index(after: colon)...])
        let hex = encoded.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
        switch algorithm {
        case "sha256" where encoded.count == 64 && hex: break
        case "sha512" where encoded.count == 128 && hex: break
        default: throw CoreError.invalidDigest(text)
        }
        self.algorithm = algorithm
        self.encoded = encoded
    }

    /// The sha256 digest of `data`.
    public static func sha256(of data: some DataProtocol) -> Digest {
        Digest(sha256Hex: SHA256.hash(data: data).hexString)
    }

    /// A sha256 digest from an already computed hex string (trusted input).
    public init(sha256Hex hex: String) {
        self.algorithm = "sha256"
        self.encoded = hex
    }

    public var description: String { "\(algorithm):\(encoded)" }
    /// The first 12 hex characters, for people.
    public var short: String { String(encoded.prefix(12)) }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(text)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    public static func < (a: Digest, b: Digest) -> Bool { a.description < b.description }
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

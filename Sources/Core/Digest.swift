import Foundation

// Parsing and validation only (no Crypto), so the fuzz targets build without package dependencies;
// hashing is in DigestHasher.swift, hex in Encoding.swift.

/// A content digest (`sha256:<64 hex>`), validated on construction.
public struct Digest: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public let algorithm: String
    public let encoded: String

    /// Parses `algorithm:encoded`; throws `CoreError.invalidDigest` for anything else.
    public init(_ text: String) throws {
        guard let colon = text.firstIndex(of: ":") else { throw CoreError.invalidDigest(text) }
        let algorithm = String(text[..<colon])
        let encoded = String(text[text.index(after: colon)...])
        // Bytes, not Characters: "1\u{301}" is one Character that sorts between "0" and "9".
        let hex = encoded.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
        switch algorithm {
        case "sha256" where encoded.utf8.count == 64 && hex: break
        case "sha512" where encoded.utf8.count == 128 && hex: break
        default: throw CoreError.invalidDigest(text)
        }
        self.algorithm = algorithm
        self.encoded = encoded
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

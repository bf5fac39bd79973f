import Core
import Crypto
import Foundation

extension Structure {
    /// Secrets that documentation signs its sample JWTs with: jwt.io's defaults, old and new. A token whose HMAC
    /// signature holds under one of them is a published example, whatever its claims.
    static let publishedJWTSecrets = ["your-256-bit-secret", "your-384-bit-secret", "your-512-bit-secret",
                                      "a-string-secret-at-least-256-bits-long"]

    /// Whether `secret` has the structure (see the cases).
    public func holds(for secret: [UInt8]) -> Bool {
        switch self {
        case .jwt: return Self.isRealJWT(secret)
        case .randomBody: return !SecretScore.bodyReadsAsWords(secret)
        case .numberedTail: return !SecretScore.bodyReadsAsWords(secret) && Self.tailIsRandom(secret)
        case .mnemonic: return Self.isDrawnPhrase(secret)
        }
    }

    /// Words a phrase written for documentation holds and the BIP-39 word list does not.
    static let phrasePlaceholderWords: Set<String> = ["your", "here", "the", "goes", "words", "mnemonic"]

    /// See `Structure.mnemonic`.
    static func isDrawnPhrase(_ secret: [UInt8]) -> Bool {
        let words = secret.split(separator: 0x20).map { String(decoding: $0, as: UTF8.self) }
        guard [12, 15, 18, 21, 24].contains(words.count) else { return false }
        if words.contains(where: phrasePlaceholderWords.contains) { return false }
        // Two repeats at most: 24 words drawn from 2,048 repeat one about one time in eight, three about never.
        return Set(words).count >= words.count - 2
    }

    /// Whether what follows the last all-digit `-` part of `secret` (the prefix aside) has the entropy of a random
    /// run of its length: 3 bits per character, less for a run too short to reach it.
    static func tailIsRandom(_ secret: [UInt8]) -> Bool {
        let parts = secret.split(separator: 0x2D, omittingEmptySubsequences: false).dropFirst()
        let lastNumber = parts.lastIndex { !$0.isEmpty && $0.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
        let tail = Array((lastNumber.map { parts[($0 + 1)...] } ?? parts[...]).joined(separator: [0x2D]))
        guard tail.count >= 8 else { return false }
        let floor = min(3.0, ((log2(Double(tail.count)) - 1) * 10).rounded(.down) / 10)
        return shannonEntropy(tail) >= floor
    }

    static func isRealJWT(_ secret: [UInt8]) -> Bool {
        let parts = secret.split(separator: 0x2E, omittingEmptySubsequences: false)
        guard parts.count >= 3,
              let header = Self.jsonObject(parts[0]), let alg = header["alg"] as? String,
              Self.jsonObject(parts[1]) != nil else { return false }
        guard alg.hasPrefix("HS"), let signature = Base64.decodeLenient(String(decoding: parts[2], as: UTF8.self)) else { return true }
        let signed = Data(secret[..<(parts[0].count + 1 + parts[1].count)])
        for key in publishedJWTSecrets.map({ SymmetricKey(data: Data($0.utf8)) }) {
            let mac: Data
            switch alg {
            case "HS256": mac = Data(HMAC<SHA256>.authenticationCode(for: signed, using: key))
            case "HS384": mac = Data(HMAC<SHA384>.authenticationCode(for: signed, using: key))
            case "HS512": mac = Data(HMAC<SHA512>.authenticationCode(for: signed, using: key))
            default: return true
            }
            if mac == signature { return false }
        }
        return true
    }

    /// The JSON object that base64url `part` encodes, or nil.
    static func jsonObject(_ part: ArraySlice<UInt8>) -> [String: Any]? {
        guard let data = Base64.decodeLenient(String(decoding: part, as: UTF8.self)) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}

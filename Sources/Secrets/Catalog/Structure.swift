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
        }
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

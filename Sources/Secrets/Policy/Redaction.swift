import Core
import Crypto

/// Turns a secret into what may be shown or stored: a short prefix and its SHA-256.
public enum Redaction {
    /// A prefix that recognises a secret without giving it away: a token's public format prefix
    /// (`ghp_`, `sk_live_`, `FlyV1 fm2_`) plus two characters, otherwise at most 4 characters and a sixth of it.
    public static func redact(_ secret: String) -> String {
        let chars = Array(secret)
        func isSeparator(_ c: Character) -> Bool { c == "_" || c == "-" || c == " " || c == "." }
        // Format prefix: a short head ending in a separator (`ghp_`, `FlyV1 `), optionally followed by one
        // lower-case segment (`sk_live_`, `github_pat_`, `FlyV1 fm2_`).
        var prefix = chars.prefix(7).firstIndex(where: isSeparator).map { $0 + 1 } ?? 0
        if prefix > 0, let next = chars[prefix...].prefix(5).firstIndex(where: isSeparator),
           next - prefix >= 2, chars[prefix].isLowercase,
           chars[(prefix + 1)..<next].allSatisfy({ $0.isLowercase || $0.isNumber }) {
            prefix = next + 1
        }
        let keep = prefix > 0 ? min(prefix + 2, chars.count / 2) : min(4, chars.count / 6)
        return String(chars.prefix(keep)) + "…"
    }

    /// Hex SHA-256 of the secret's UTF-8 bytes.
    public static func sha256(_ secret: String) -> String {
        SHA256.hash(data: Array(secret.utf8)).hexString
    }
}

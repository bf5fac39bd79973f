import Crypto

/// Turns a secret into what may be shown or stored: a short prefix and its SHA-256.
public enum Redaction {
    /// A prefix short enough to recognise a secret, never more than a quarter of it and at most 6 characters.
    public static func redact(_ secret: String) -> String {
        let chars = Array(secret)
        let keep = min(6, chars.count / 4)
        return String(chars.prefix(keep)) + "…"
    }

    /// Hex SHA-256 of the secret's UTF-8 bytes.
    public static func sha256(_ secret: String) -> String {
        SHA256.hash(data: Array(secret.utf8)).map { String(format2: $0) }.joined()
    }
}

extension String {
    init(format2 byte: UInt8) {
        let digits = Array("0123456789abcdef")
        self = String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
    }
}

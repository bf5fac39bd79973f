/// GitHub's token format (2021), also npm's: a prefix, 30 random base62 characters, and 6 base62 characters of
/// the CRC-32 of those 30, so a typo or a made-up token can be told from a real one without asking anyone.
enum TokenChecksum {
    static let kinds: [String: String] = [
        "ghp_": "GitHub personal access token", "gho_": "GitHub OAuth access token", "ghu_": "GitHub user-to-server token",
        "ghs_": "GitHub App installation token", "ghr_": "GitHub refresh token", "npm_": "npm access token",
    ]
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// Details of a GitHub or npm token of the checksummed format; nil for anything else.
    static func details(_ text: String) -> FindingDetails? {
        guard let valid = isValid(text), let kind = kinds[String(text.prefix(4))] else { return nil }
        // A made-up or mistyped token cannot authenticate: it is reported, but not as a critical leak.
        return FindingDetails(summary: valid ? "\(kind), checksum valid" : "\(kind), checksum invalid: probably not a real token",
                              checksumValid: valid, rating: valid ? nil : .medium)
    }

    /// Whether the checksum matches; nil when `token` is not a 40-character checksummed token.
    static func isValid(_ token: String) -> Bool? {
        let bytes = Array(token.utf8)
        guard bytes.count == 40, kinds[String(token.prefix(4))] != nil, bytes[4...].allSatisfy({ alphabet.contains($0) }) else { return nil }
        return base62(crc32(bytes[4..<34])) == Array(bytes[34...])
    }

    /// The 6-character, zero-padded base62 form of a CRC-32.
    static func base62(_ value: UInt32) -> [UInt8] {
        var v = value
        var out = [UInt8](repeating: alphabet[0], count: 6)
        for i in stride(from: 5, through: 0, by: -1) {
            out[i] = alphabet[Int(v % 62)]
            v /= 62
        }
        return out
    }

    /// CRC-32 (IEEE 802.3, reflected, as zlib's).
    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}

/// The AWS account an access key ID belongs to, decoded from the ID itself.
///
/// The 16 characters after the 4-letter prefix are base32 (RFC 4648 alphabet); of the 80 bits they hold, bits
/// 1...39 of the first 48 (mask 0x7fffffffff80, shifted right 7) are the account number. This is what
/// `aws sts get-access-key-info` answers, worked out publicly by Aidan Steele and Tal Be'ery (2020); AWS does
/// not document it, so the report calls it decoded, not confirmed.
enum AWSKeyID {
    /// Long-term (`AKIA`), temporary STS (`ASIA`) and the other documented access key prefixes.
    static let prefixes: [String: String] = ["AKIA": "long-term key", "ASIA": "temporary STS key (useless without its session token)",
                                             "ABIA": "STS service bearer token key", "ACCA": "context-specific key"]

    static func details(_ text: String) -> FindingDetails? {
        guard let account = account(text), let kind = prefixes[String(text.prefix(4))] else { return nil }
        return FindingDetails(summary: "AWS access key ID of account \(account), \(kind)", aws: AWSDetails(account: account))
    }

    /// The 12-digit account, or nil when `keyID` is not a 20-character key ID.
    static func account(_ keyID: String) -> String? {
        let chars = Array(keyID.utf8)
        guard chars.count == 20, prefixes[String(keyID.prefix(4))] != nil else { return nil }
        var acc: UInt64 = 0
        // The first 10 base32 characters hold the first 50 bits, enough for the 48 that matter.
        for c in chars[4..<14] {
            let v: UInt8
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = c - UInt8(ascii: "A")
            case UInt8(ascii: "2")...UInt8(ascii: "7"): v = c - UInt8(ascii: "2") + 26
            default: return nil
            }
            acc = acc << 5 | UInt64(v)
        }
        guard chars[14...].allSatisfy({ (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) || (UInt8(ascii: "2")...UInt8(ascii: "7")).contains($0) })
        else { return nil }
        let first48 = acc >> 2
        let number = (first48 & 0x7fff_ffff_ff80) >> 7
        // Accounts have 12 digits: a larger number means the ID was not issued by AWS, and names no account.
        guard number <= 999_999_999_999 else { return nil }
        let digits = String(number)
        return String(repeating: "0", count: max(0, 12 - digits.count)) + digits
    }
}

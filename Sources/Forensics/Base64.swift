// Foundation-free on purpose: Fuzz/msgpack/build.sh compiles this file with the macaroon decoder.

/// Base64 as secrets are found in the wild: the standard or the URL-safe alphabet, padding optional, and a
/// cut-off final group decoded as far as it goes, so a truncated token still yields its first bytes.
enum Base64 {
    /// The bytes of `text`; throws `notBase64` naming the first character outside both alphabets.
    static func decode(_ text: Substring) throws(ForensicsError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * 3 / 4)
        var acc: UInt32 = 0
        var bits = 0
        var padded = false
        for (i, c) in text.utf8.enumerated() {
            if c == UInt8(ascii: "=") {
                padded = true
                continue
            }
            guard !padded, let v = sextet(c) else { throw .notBase64(offset: i) }
            acc = (acc << 6 | UInt32(v)) & 0xFFFFFF
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        return out
    }

    private static func sextet(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return c - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return c - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"), UInt8(ascii: "-"): return 62
        case UInt8(ascii: "/"), UInt8(ascii: "_"): return 63
        default: return nil
        }
    }
}

import Foundation

extension Sequence where Element == UInt8 {
    /// Lower-case hex of the bytes.
    public var hexString: String {
        var out = ""
        out.reserveCapacity(64)
        for b in self {
            out.append(hexDigits[Int(b >> 4)])
            out.append(hexDigits[Int(b & 0x0f)])
        }
        return out
    }
}

private let hexDigits = Array("0123456789abcdef")

/// Base64 as secrets and credentials use it: standard or URL-safe alphabet, padded or not.
public enum Base64 {
    /// The bytes of `text` in either alphabet, padding optional; nil when it is not base64.
    public static func decodeLenient(_ text: String) -> Data? {
        var t = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while t.count % 4 != 0 { t += "=" }
        return Data(base64Encoded: t)
    }
}

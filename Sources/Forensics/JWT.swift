import Foundation

/// The readable part of a JSON Web Token: its header and claims (the signature cannot be checked offline).
enum JWT {
    /// Claims longer than this are cut: they are for a report line, not a copy of the token.
    static let maxClaimLength = 200
    /// Header and payload larger than this are not parsed.
    static let maxPartLength = 16 * 1024
    /// A token that expired longer ago than this is rated low: no clock skew allowance reaches that far.
    static let longExpired: Int64 = 86_400

    /// Details of `text` when it is a JWS in compact form; nil otherwise.
    static func details(_ text: String, now: Int64) -> FindingDetails? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let header = object(parts[0]), let claims = object(parts[1]) else { return nil }
        guard header["alg"] != nil || header["typ"] != nil else { return nil }
        let alg = string(header["alg"])
        var aud: [String]?
        if let one = string(claims["aud"]) {
            aud = [one]
        } else if let many = claims["aud"] as? [Any] {
            aud = many.compactMap { string($0) }
        }
        let exp = (claims["exp"] as? NSNumber).flatMap { Int64(exactly: $0.doubleValue.rounded(.down)) }
        let expired = exp.map { $0 < now } ?? false
        let details = JWTDetails(alg: alg, iss: string(claims["iss"]), sub: string(claims["sub"]), aud: aud,
                                 exp: exp.map(UnixTime.iso8601), expired: expired)

        let unsigned = alg?.lowercased() == "none"
        var rating: Rating?
        var summary: String
        if unsigned {
            summary = "unsigned JWT (alg none): anyone can make one, so it grants nothing by itself"
            rating = .low
        } else {
            summary = "JWT (\(alg.map { "alg \($0)" } ?? "no alg"))"
            if let iss = details.iss { summary += " issued by \(iss)" }
            if let sub = details.sub { summary += " for \(sub)" }
        }
        if let exp {
            summary += expired ? ", expired \(UnixTime.day(exp))" : ", expires \(UnixTime.day(exp))"
            if exp < now - longExpired { rating = .low }
        } else if !unsigned {
            summary += ", no expiry"
        }
        return FindingDetails(summary: summary, jwt: details, rating: rating)
    }

    /// A base64url part that holds a JSON object, parsed only when small and shallow.
    private static func object(_ part: Substring) -> [String: Any]? {
        guard part.utf8.count <= maxPartLength * 4 / 3 + 4, let bytes = try? Base64.decode(part), !bytes.isEmpty,
              shallow(bytes) else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
    }

    /// Whether arrays and objects nest at most 16 deep (strings skipped), so the parser never recurses far.
    private static func shallow(_ bytes: [UInt8]) -> Bool {
        var depth = 0, inString = false, escaped = false
        for b in bytes {
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch b {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > 16 { return false }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return true
    }

    private static func string(_ v: Any?) -> String? {
        guard let s = v as? String else { return nil }
        return s.count <= maxClaimLength ? s : String(s.prefix(maxClaimLength)) + "…"
    }
}

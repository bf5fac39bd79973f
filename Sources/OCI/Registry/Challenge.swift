/// One `WWW-Authenticate` challenge: a scheme and its auth-params (RFC 7235), quoted values unescaped.
public struct Challenge: Sendable, Equatable {
    public var scheme: String
    public var parameters: [String: String]

    /// Parses every challenge in the header values (several headers, or several joined by commas).
    public static func parse(_ headers: [String]) -> [Challenge] {
        var result: [Challenge] = []
        for header in headers {
            var s = Substring(header)
            var current: Challenge?
            while true {
                s = s.drop(while: { $0 == " " || $0 == "," })
                if s.isEmpty { break }
                let token = s.prefix(while: { $0 != " " && $0 != "=" && $0 != "," })
                let afterToken = s.dropFirst(token.count)
                if afterToken.first == "=" {
                    // auth-param
                    var value = ""
                    var r = afterToken.dropFirst()
                    if r.first == "\"" {
                        r = r.dropFirst()
                        var escaped = false
                        var end = r.startIndex
                        for i in r.indices {
                            let c = r[i]
                            end = r.index(after: i)
                            if escaped { value.append(c); escaped = false; continue }
                            if c == "\\" { escaped = true; continue }
                            if c == "\"" { break }
                            value.append(c)
                        }
                        r = r[end...]
                    } else {
                        let v = r.prefix(while: { $0 != "," && $0 != " " })
                        value = String(v)
                        r = r.dropFirst(v.count)
                    }
                    current?.parameters[token.lowercased()] = value
                    s = r
                } else {
                    // A new scheme.
                    if let c = current { result.append(c) }
                    current = Challenge(scheme: token.lowercased(), parameters: [:])
                    s = afterToken
                }
            }
            if let c = current { result.append(c) }
        }
        return result
    }
}

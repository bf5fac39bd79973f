/// A shell-style pattern over image paths: `*` any run of characters (slashes too), `?` one character,
/// `[abc]`, `[a-z]`, `[!x]` one character of a set.
///
/// A pattern without a slash matches the last component, as `find -name` does (`*.env` is every `.env`
/// file); one with a slash matches the whole path (`/app/*` is everything under `/app`; a missing leading
/// slash is added). Matching backtracks only to the last star: at most (path length × pattern length)
/// steps, whatever the path holds.
public struct PathGlob: Sendable {
    enum Token: Sendable, Equatable {
        case scalar(Unicode.Scalar)
        case any
        case star
        case set(ranges: [ClosedRange<UInt32>], negated: Bool)
    }

    public let pattern: String
    let tokens: [Token]
    let lastComponentOnly: Bool

    /// Compiles `pattern`; a `[` with no closing `]` is an ordinary character.
    public init(_ pattern: String) {
        self.pattern = pattern
        lastComponentOnly = !pattern.contains("/")
        let text = lastComponentOnly || pattern.hasPrefix("/") || pattern.hasPrefix("*") ? pattern : "/" + pattern
        let s = Array(text.unicodeScalars)
        var tokens: [Token] = []
        var i = 0
        while i < s.count {
            switch s[i] {
            case "*":
                if tokens.last != .star { tokens.append(.star) }
            case "?":
                tokens.append(.any)
            case "[":
                if let (set, end) = Self.parseSet(s, from: i) {
                    tokens.append(set)
                    i = end
                } else {
                    tokens.append(.scalar("["))
                }
            default:
                tokens.append(.scalar(s[i]))
            }
            i += 1
        }
        self.tokens = tokens
    }

    /// A set starting at `s[start] == "["`: the token and the index of its `]`, or nil when it never closes.
    private static func parseSet(_ s: [Unicode.Scalar], from start: Int) -> (Token, Int)? {
        var i = start + 1
        var negated = false
        if i < s.count, s[i] == "!" || s[i] == "^" {
            negated = true
            i += 1
        }
        var ranges: [ClosedRange<UInt32>] = []
        var first = true
        while i < s.count {
            if s[i] == "]" && !first { return (.set(ranges: ranges, negated: negated), i) }
            first = false
            let lo = s[i].value
            if i + 2 < s.count, s[i + 1] == "-", s[i + 2] != "]" {
                let hi = s[i + 2].value
                ranges.append(min(lo, hi)...max(lo, hi))
                i += 3
            } else {
                ranges.append(lo...lo)
                i += 1
            }
        }
        return nil
    }

    /// Whether `path` (absolute, normalised) matches.
    public func matches(_ path: String) -> Bool {
        var subject = Substring(path)
        if lastComponentOnly, let slash = path.lastIndex(of: "/") { subject = path[path.index(after: slash)...] }
        let s = Array(subject.unicodeScalars)
        var p = 0, i = 0
        var starP = -1, starI = 0
        while i < s.count {
            if p < tokens.count, tokens[p] != .star, Self.accepts(tokens[p], s[i]) {
                p += 1
                i += 1
            } else if p < tokens.count, tokens[p] == .star {
                starP = p
                starI = i
                p += 1
            } else if starP >= 0 {
                // Let the last star take one more character and try again from there.
                starI += 1
                i = starI
                p = starP + 1
            } else {
                return false
            }
        }
        while p < tokens.count, tokens[p] == .star { p += 1 }
        return p == tokens.count
    }

    private static func accepts(_ t: Token, _ c: Unicode.Scalar) -> Bool {
        switch t {
        case .scalar(let x): return x == c
        case .any: return true
        case .star: return false
        case .set(let ranges, let negated): return ranges.contains { $0.contains(c.value) } != negated
        }
    }
}

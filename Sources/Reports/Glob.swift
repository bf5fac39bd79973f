import Foundation

/// A shell-style pattern over repository names, tags, image references and paths: `*` any run of characters (slashes included, so
/// `team/*` covers `team/a/b`), `?` one character, everything else literal.
public struct Glob: Sendable, Equatable, CustomStringConvertible {
    public let pattern: String
    private let chars: [Character]

    /// Throws `SweepError`-free plain errors: the caller names the key.
    public init(_ pattern: String) throws {
        guard !pattern.isEmpty, pattern.count <= 512 else { throw GlobError(description: "empty or longer than 512 characters") }
        self.pattern = pattern
        chars = Array(pattern)
    }

    public var description: String { pattern }

    /// Whether `text` matches the whole pattern (iterative, linear in practice: no backtracking blow-up).
    public func matches(_ text: String) -> Bool {
        let t = Array(text)
        var p = 0, s = 0
        var star = -1, mark = 0
        while s < t.count {
            if p < chars.count, chars[p] == "?" || chars[p] == t[s] && chars[p] != "*" {
                p += 1
                s += 1
            } else if p < chars.count, chars[p] == "*" {
                star = p
                mark = s
                p += 1
            } else if star >= 0 {
                p = star + 1
                mark += 1
                s = mark
            } else {
                return false
            }
        }
        while p < chars.count, chars[p] == "*" { p += 1 }
        return p == chars.count
    }

    struct GlobError: Error, CustomStringConvertible { var description: String }
}

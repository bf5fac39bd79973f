#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The text of a credential as its provider documents it: literal parts (a prefix, a separator) and runs of
/// characters of one alphabet, in order. The catalogue builds each rule's regex, entropy floor and test examples
/// from it, so a new format is one table row: `"shippo_live_" + .hex(40)`, `.digits(16) + ":" + .hex(32)`.
public struct TokenShape: Sendable, Equatable, ExpressibleByStringLiteral {
    /// The characters a random run is made of.
    public enum Alphabet: String, Sendable, CaseIterable {
        /// `0-9a-f`
        case hex
        /// `0-9A-F`
        case hexUpper
        /// `0-9a-fA-F`
        case hexAnyCase
        /// `0-9`
        case digits
        /// `A-Za-z0-9`
        case alnum
        /// `a-z0-9`
        case lowerAlnum
        /// `A-Z0-9`
        case upperAlnum
        /// `A-Za-z0-9_-` (URL-safe base64 without padding)
        case urlSafe
        /// `A-Za-z0-9+/` (standard base64; padding is a literal part)
        case base64
        /// `A-Za-z`
        case letters
        /// `A-Z`
        case upperLetters
        /// `A-Za-z0-9+/=` (standard base64 with its padding anywhere)
        case base64Padded
        /// `A-Za-z0-9_=-` (URL-safe base64 with its padding anywhere: tokens that are several encoded parts)
        case urlSafePadded
        /// `A-Za-z0-9_.=-` (the same with `.` between parts)
        case urlSafeDotted
        /// `a-z2-7` (RFC 4648 base32, lower case)
        case base32Lower
        /// A lower-case UUID (8-4-4-4-12 hex); the run's length is ignored.
        case uuid
        /// A UUID in either case.
        case uuidAnyCase

        /// The regex of one character (for a UUID, of the whole UUID).
        public var pattern: String {
            switch self {
            case .hex: return "[0-9a-f]"
            case .hexUpper: return "[0-9A-F]"
            case .hexAnyCase: return "[0-9a-fA-F]"
            case .digits: return "[0-9]"
            case .alnum: return "[A-Za-z0-9]"
            case .lowerAlnum: return "[a-z0-9]"
            case .upperAlnum: return "[A-Z0-9]"
            case .urlSafe: return "[A-Za-z0-9_-]"
            case .base64: return "[A-Za-z0-9+/]"
            case .letters: return "[A-Za-z]"
            case .upperLetters: return "[A-Z]"
            case .base64Padded: return "[A-Za-z0-9+/=]"
            case .urlSafePadded: return "[A-Za-z0-9_=-]"
            case .urlSafeDotted: return "[A-Za-z0-9_.=-]"
            case .base32Lower: return "[a-z2-7]"
            case .uuid: return "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
            case .uuidAnyCase: return "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
            }
        }

        /// The characters of the alphabet, for generating examples.
        public var characters: [Character] {
            let lower = Array("abcdefghijklmnopqrstuvwxyz"), upper = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), digits = Array("0123456789")
            switch self {
            case .hex, .uuid: return digits + Array("abcdef")
            case .hexUpper: return digits + Array("ABCDEF")
            case .hexAnyCase, .uuidAnyCase: return digits + Array("abcdefABCDEF")
            case .digits: return digits
            case .alnum: return upper + lower + digits
            case .lowerAlnum: return lower + digits
            case .upperAlnum: return upper + digits
            case .urlSafe: return upper + lower + digits + ["_", "-"]
            case .base64: return upper + lower + digits + ["+", "/"]
            case .letters: return upper + lower
            case .upperLetters: return upper
            case .base64Padded: return upper + lower + digits + ["+", "/", "="]
            case .urlSafePadded: return upper + lower + digits + ["_", "=", "-"]
            case .urlSafeDotted: return upper + lower + digits + ["_", ".", "=", "-"]
            case .base32Lower: return lower + Array("234567")
            }
        }

        /// Bits per character that a random run of this alphabet is above and words, counters and repeated
        /// characters fall below: entropy judged by character class, not one floor for every shape.
        var entropyFloor: Double {
            switch self {
            case .digits: return 2.5
            case .hex, .hexUpper, .hexAnyCase, .uuid, .uuidAnyCase: return 3.0
            case .lowerAlnum, .upperAlnum, .base32Lower, .upperLetters: return 3.2
            case .alnum, .urlSafe, .letters, .urlSafePadded, .urlSafeDotted: return 3.5
            case .base64, .base64Padded: return 3.8
            }
        }

        /// The shortest run from which a random one lacking a letter or a digit is rarer than one in a hundred.
        var mixedFrom: Int? {
            switch self {
            case .digits, .uuid, .uuidAnyCase, .letters, .upperLetters: return nil
            case .hex, .hexUpper, .hexAnyCase: return 16
            case .lowerAlnum, .upperAlnum: return 20
            // Six digits in 32 characters: a random run of 24 lacks one about one time in 140.
            case .base32Lower: return 24
            case .alnum, .urlSafe, .base64, .urlSafePadded, .urlSafeDotted, .base64Padded: return 28
            }
        }
    }

    /// One part of a token.
    public enum Segment: Sendable, Equatable {
        case literal(String)
        /// One of these literals (`test` or `live`, a region code): the provider's own variants of a part.
        case oneOf([String])
        case run(Alphabet, ClosedRange<Int>)
    }

    /// A run's upper bound that stands for none: `{n,}`, as long as the token goes on.
    public static let unbounded = Int.max

    public var segments: [Segment]

    public init(segments: [Segment]) { self.segments = segments }
    public init(stringLiteral value: String) { segments = [.literal(value)] }

    /// A literal part.
    public static func lit(_ text: String) -> TokenShape { TokenShape(segments: [.literal(text)]) }
    /// One of `texts`, literally.
    public static func oneOf(_ texts: [String]) -> TokenShape { TokenShape(segments: [.oneOf(texts)]) }
    /// At least `n` characters of `alphabet`, as many as follow.
    public static func run(_ alphabet: Alphabet, atLeast n: Int) -> TokenShape { TokenShape(segments: [.run(alphabet, n...unbounded)]) }
    /// `length` characters of `alphabet`.
    public static func run(_ alphabet: Alphabet, _ length: Int) -> TokenShape { TokenShape(segments: [.run(alphabet, length...length)]) }
    /// Between `lengths.lowerBound` and `lengths.upperBound` characters of `alphabet`.
    public static func run(_ alphabet: Alphabet, _ lengths: ClosedRange<Int>) -> TokenShape { TokenShape(segments: [.run(alphabet, lengths)]) }
    public static func hex(_ n: Int) -> TokenShape { run(.hex, n) }
    public static func hex(_ n: ClosedRange<Int>) -> TokenShape { run(.hex, n) }
    public static func hexUpper(_ n: Int) -> TokenShape { run(.hexUpper, n) }
    public static func hexAnyCase(_ n: Int) -> TokenShape { run(.hexAnyCase, n) }
    public static func hexAnyCase(_ n: ClosedRange<Int>) -> TokenShape { run(.hexAnyCase, n) }
    public static func digits(_ n: Int) -> TokenShape { run(.digits, n) }
    public static func digits(_ n: ClosedRange<Int>) -> TokenShape { run(.digits, n) }
    public static func alnum(_ n: Int) -> TokenShape { run(.alnum, n) }
    public static func alnum(_ n: ClosedRange<Int>) -> TokenShape { run(.alnum, n) }
    public static func lower(_ n: Int) -> TokenShape { run(.lowerAlnum, n) }
    public static func lower(_ n: ClosedRange<Int>) -> TokenShape { run(.lowerAlnum, n) }
    public static func upper(_ n: Int) -> TokenShape { run(.upperAlnum, n) }
    public static func upper(_ n: ClosedRange<Int>) -> TokenShape { run(.upperAlnum, n) }
    public static func url(_ n: Int) -> TokenShape { run(.urlSafe, n) }
    public static func url(_ n: ClosedRange<Int>) -> TokenShape { run(.urlSafe, n) }
    public static func b64(_ n: Int) -> TokenShape { run(.base64, n) }
    public static func b64(_ n: ClosedRange<Int>) -> TokenShape { run(.base64, n) }
    public static func letters(_ n: Int) -> TokenShape { run(.letters, n) }
    public static func urlPadded(_ n: Int) -> TokenShape { run(.urlSafePadded, n) }
    public static func urlDotted(_ n: ClosedRange<Int>) -> TokenShape { run(.urlSafeDotted, n) }
    public static func urlDotted(_ n: Int) -> TokenShape { run(.urlSafeDotted, n) }
    public static var uuid: TokenShape { run(.uuid, 36) }
    public static var uuidAnyCase: TokenShape { run(.uuidAnyCase, 36) }

    public static func + (a: TokenShape, b: TokenShape) -> TokenShape { TokenShape(segments: a.segments + b.segments) }

    /// The regex of the whole token, without boundaries or a group.
    public var pattern: String {
        segments.map { s -> String in
            switch s {
            case .literal(let text): return Self.escaped(text)
            case .oneOf(let texts): return "(?:" + texts.map(Self.escaped).joined(separator: "|") + ")"
            case .run(let a, let n):
                if a == .uuid || a == .uuidAnyCase { return a.pattern }
                if n.upperBound == Self.unbounded { return a.pattern + "{\(n.lowerBound),}" }
                return a.pattern + (n.lowerBound == n.upperBound ? "{\(n.lowerBound)}" : "{\(n.lowerBound),\(n.upperBound)}")
            }
        }.joined()
    }

    /// The most characters a token of this shape has (`unbounded` if a run has no upper bound).
    public var maxLength: Int {
        segments.reduce(0) { total, s in
            // Once unbounded, always: a literal after an unbounded run must not overflow the sum.
            if total == Self.unbounded { return total }
            switch s {
            case .literal(let text): return total + text.utf8.count
            case .oneOf(let texts): return total + (texts.map(\.utf8.count).max() ?? 0)
            case .run(let a, let n):
                if n.upperBound == Self.unbounded { return Self.unbounded }
                return total + ((a == .uuid || a == .uuidAnyCase) ? 36 : n.upperBound)
            }
        }
    }

    /// The literal the token starts with, if any.
    public var prefix: String? {
        if case .literal(let text)? = segments.first { return text }
        return nil
    }

    /// Every literal a token of this shape may start with: its leading literal and literal-alternative parts spelt
    /// out (`sk_` + `test|live` + `_`: `sk_test_`, `sk_live_`); empty if it starts with a run.
    public var prefixes: [String] {
        var out = [""]
        loop: for s in segments {
            switch s {
            case .literal(let text): out = out.map { $0 + text }
            case .oneOf(let texts): out = out.flatMap { head in texts.map { head + $0 } }
            case .run: break loop
            }
        }
        return out == [""] ? [] : out
    }

    /// The literal a token of this shape starts with, when it is distinctive enough to say "this provider's
    /// token" on its own: four characters or more, starting with a letter and ending in `_`, `-` or `.` (`NRAK-`,
    /// `glpat-`, `dt0c01.`), as providers end their prefixes, and not a word that other providers' values start
    /// with too (`secret_`, `access_`, `api-`). nil for a shape that starts with a run or another literal.
    public var distinctivePrefix: String? {
        guard case .literal(let text)? = segments.first, text.utf8.count >= 4, let first = text.first, first.isLetter,
              let last = text.last, last == "_" || last == "-" || last == "." else { return nil }
        return TokenShape.sharedPrefixWords.contains(String(text.dropLast()).lowercased()) ? nil : text
    }

    /// Words that start many providers' values, so that a value starting with one says nothing of whose it is.
    static let sharedPrefixWords: Set<String> = ["access", "secret", "api", "key", "token", "test", "live", "user", "auth", "pass", "private"]

    /// The literals that mark a token of this shape as its provider's wherever it stands: its prefixes, or, for a
    /// shape that starts with a run, its longest literal of three or more characters, at its end (MaxMind's `…_mmk`)
    /// or between two runs (Tableau's `…==:…`, where a 16-byte base64 value ends and the secret begins).
    public var marks: [String] {
        if !prefixes.isEmpty { return prefixes }
        let inner = segments.compactMap { s -> String? in
            if case .literal(let text) = s, text.count >= 3 { return text }
            return nil
        }
        return inner.max { $0.count < $1.count }.map { [$0] } ?? []
    }

    /// For a shape that starts with a run and is marked by a literal inside or at its end (`marks`): the shape from
    /// that literal on. Vectorscan finds the token by the literal this way: led by a run of 21 characters of a class
    /// (Tableau's), the whole pattern cost the matcher a third of its speed.
    var fromMark: TokenShape? {
        guard prefixes.isEmpty, let mark = marks.first, let i = segments.firstIndex(where: { s in
            if case .literal(let text) = s { return text == mark }
            return false
        }) else { return nil }
        return TokenShape(segments: Array(segments[i...]))
    }

    /// The run that carries the token's randomness: the longest.
    var mainRun: (alphabet: Alphabet, lengths: ClosedRange<Int>)? {
        var best: (Alphabet, ClosedRange<Int>)?
        for case .run(let a, let n) in segments where best.map({ n.lowerBound > $0.1.lowerBound }) ?? true {
            best = (a, (a == .uuid || a == .uuidAnyCase) ? 32...32 : n)
        }
        return best
    }

    /// The same shape with its main (longest) run `by` characters shorter or longer: what a token of the shape
    /// becomes when cut short or padded.
    func widened(by n: Int) -> TokenShape {
        var best = -1, bestLength = -1
        for (i, s) in segments.enumerated() {
            if case .run(let a, let lengths) = s, a != .uuid, a != .uuidAnyCase, lengths.lowerBound > bestLength {
                best = i
                bestLength = lengths.lowerBound
            }
        }
        guard best >= 0, case .run(let a, let lengths) = segments[best] else { return self }
        var out = segments
        let upper = lengths.upperBound == Self.unbounded ? lengths.upperBound : lengths.upperBound + n
        out[best] = .run(a, max(1, lengths.lowerBound - n)...upper)
        return TokenShape(segments: out)
    }

    /// The characters a token of this shape may not be followed or preceded by (its last run's alphabet).
    var boundary: String {
        if case .run(.base64, _)? = segments.last { return "A-Za-z0-9+/=" }
        if case .literal(let text)? = segments.last, text.hasSuffix("=") { return "A-Za-z0-9+/=" }
        return "A-Za-z0-9_-"
    }

    /// The characters that may not stand just before a token of this shape: `boundary`, and a base64 value's `+`
    /// and `/` when the token starts with a base64 run, so that the tail of a longer base64 value is not taken for
    /// one (Tableau's secret starts with one).
    var leadingBoundary: String {
        if case .run(.base64, _)? = segments.first { return "A-Za-z0-9+/=_-" }
        return boundary
    }

    /// Entropy floor of a token (bits per character): the main run's alphabet's, lowered for short runs whose
    /// entropy cannot reach it.
    var entropyFloor: Double {
        guard let main = mainRun else { return 0 }
        let cap = log2(Double(max(main.lengths.lowerBound, 2))) - 1.0
        return min(main.alphabet.entropyFloor, (cap * 10).rounded(.down) / 10)
    }

    /// Whether a real token holds a letter and a digit (see `Rule.mixedCharacters`).
    var expectsMixedCharacters: Bool {
        guard let main = mainRun, let from = main.alphabet.mixedFrom else { return false }
        return main.lengths.lowerBound >= from
    }

    /// `text` with regex metacharacters escaped.
    static func escaped(_ text: String) -> String {
        var out = [UInt8]()
        out.reserveCapacity(text.utf8.count + 8)
        for b in text.utf8 {
            switch b {
            case UInt8(ascii: "\\"), UInt8(ascii: "^"), UInt8(ascii: "$"), UInt8(ascii: "."), UInt8(ascii: "|"),
                 UInt8(ascii: "?"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "("), UInt8(ascii: ")"),
                 UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "/"),
                 UInt8(ascii: "-"), UInt8(ascii: "~"), UInt8(ascii: "#"):
                out.append(UInt8(ascii: "\\"))
            default: break
            }
            out.append(b)
        }
        return String(decoding: out, as: UTF8.self)
    }
}

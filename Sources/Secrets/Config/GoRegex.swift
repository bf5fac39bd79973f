/// Rule files' regexes are Go RE2 syntax; Stowaway matches with PCRE2 and Vectorscan. This file has no
/// package dependency, so the libFuzzer target of rule files (Fuzz/rules) builds it with `swiftc` alone.
public enum GoRegex {
    /// Translates a Go (RE2) regex into one PCRE2 and Vectorscan compile with the same meaning on bytes.
    ///
    /// - `(?P<name>…)` / `(?<name>…)` become plain `(…)` (same group numbers).
    /// - The RE2 ungreedy flag `(?U)` (Vectorscan rejects it) is removed and the quantifiers it governs
    ///   are rewritten: `x*` → `x*?`, `x*?` → `x*`.
    /// - `\Q…\E` becomes escaped literals; `\v` becomes `\x0B` (in PCRE2 `\v` is a class); octal escapes
    ///   become `\xHH`; a `{` that does not start a repetition becomes `\{`.
    /// - Non-ASCII literals and `\x{…}` above 0x7F become their UTF-8 byte sequence (outside classes).
    /// - Refused (`SecretsError.unsupportedRegex` naming the rule): `\p…`/`\P…` Unicode classes and
    ///   non-ASCII characters inside `[...]` (we match bytes, not UTF-8 text), `\C`, unknown escapes, and
    ///   repetition counts above 1000 (Go refuses them too).
    /// Kept as is and documented: `$` without `(?m)` also matches before a final newline in PCRE2 (RE2:
    /// only at the very end); `.` matches one byte, not one UTF-8 character.
    public static func translation(_ goRegex: String, ruleID: String) throws -> (pattern: String, captureGroups: Int) {
        var t = RE2Translator(Array(goRegex.unicodeScalars), ruleID: ruleID)
        try t.run()
        return (t.out, t.captures)
    }
}

/// One pass over an RE2 pattern, writing the PCRE2 equivalent.
struct RE2Translator {
    let s: [Unicode.Scalar]
    let ruleID: String
    var i = 0
    var out = ""
    var captures = 0
    /// Ungreedy flag per open group; the last entry is the current one.
    var ungreedy: [Bool] = [false]

    init(_ s: [Unicode.Scalar], ruleID: String) {
        self.s = s
        self.ruleID = ruleID
    }

    func refuse(_ why: String) -> SecretsError {
        SecretsError.unsupportedRegex(rule: ruleID, message: why)
    }

    func peek(_ k: Int = 0) -> Unicode.Scalar? { i + k < s.count ? s[i + k] : nil }

    static func isDigit(_ c: Unicode.Scalar?) -> Bool { c.map { $0 >= "0" && $0 <= "9" } ?? false }
    static func isOctal(_ c: Unicode.Scalar?) -> Bool { c.map { $0 >= "0" && $0 <= "7" } ?? false }
    static func hex(_ v: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return "\\x" + String(digits[Int(v >> 4)]) + String(digits[Int(v & 0x0f)])
    }

    /// A literal code point outside a class: ASCII escaped when needed, others as their UTF-8 bytes.
    static func literal(_ v: UInt32) -> String {
        guard let scalar = Unicode.Scalar(v) else { return "" }
        if v < 0x80 {
            let c = Character(scalar)
            return (c.isLetter || c.isNumber) ? String(c) : hex(UInt8(v))
        }
        return "(?:" + String(scalar).utf8.map(hex).joined() + ")"
    }

    mutating func run() throws {
        while i < s.count {
            let c = s[i]
            switch c {
            case "\\":
                try escape(inClass: false)
            case "[":
                try charClass()
            case "(":
                try openGroup()
            case ")":
                if ungreedy.count > 1 { ungreedy.removeLast() }
                out += ")"
                i += 1
            case "*", "+", "?":
                out.unicodeScalars.append(c)
                i += 1
                laziness()
            case "{":
                if let rep = try repetition() {
                    out += rep
                    laziness()
                } else {
                    out += "\\{"
                    i += 1
                }
            default:
                if c.value >= 0x80 { out += RE2Translator.literal(c.value) } else { out.unicodeScalars.append(c) }
                i += 1
            }
        }
    }

    /// After a quantifier: a following `?` makes it lazy; under `(?U)` the meaning is swapped.
    mutating func laziness() {
        let lazy = peek() == "?"
        if lazy { i += 1 }
        if lazy != (ungreedy.last ?? false) { out += "?" }
    }

    /// Go's limit on a repetition count (`regexp/syntax` refuses larger ones). Kept because a valid Go regex
    /// never exceeds it, and because Vectorscan takes minutes to compile a bounded repeat of a few thousand.
    static let maxRepeat = 1000

    /// `{n}`, `{n,}`, `{n,m}` at `i`, consumed; nil (nothing consumed) if it is a literal brace. Throws for a
    /// count above `maxRepeat`, as Go does.
    mutating func repetition() throws -> String? {
        var j = i + 1
        var bounds: [String] = [""]
        while j < s.count, RE2Translator.isDigit(s[j]) { bounds[0].unicodeScalars.append(s[j]); j += 1 }
        guard !bounds[0].isEmpty, j < s.count else { return nil }
        if s[j] == "," {
            bounds.append("")
            j += 1
            while j < s.count, RE2Translator.isDigit(s[j]) { bounds[1].unicodeScalars.append(s[j]); j += 1 }
        }
        guard j < s.count, s[j] == "}" else { return nil }
        // Compared as digit strings first: a count of forty digits must not trap the Int conversion.
        for b in bounds where !b.isEmpty {
            let digits = b.drop { $0 == "0" }
            if digits.count > 4 || (Int(digits) ?? 0) > RE2Translator.maxRepeat {
                throw refuse("repetition count \(b.prefix(12)) is above \(RE2Translator.maxRepeat), Go's limit")
            }
        }
        i = j + 1
        return "{" + bounds.joined(separator: ",") + "}"
    }

    mutating func openGroup() throws {
        guard peek(1) == "?" else {
            captures += 1
            ungreedy.append(ungreedy.last ?? false)
            out += "("
            i += 1
            return
        }
        // Named groups: (?P<name>…) and (?<name>…), but not lookbehind (?<= / (?<!.
        if peek(2) == "P" && peek(3) == "<" || peek(2) == "<" && peek(3) != "=" && peek(3) != "!" {
            var j = i + (peek(2) == "P" ? 4 : 3)
            while j < s.count && s[j] != ">" { j += 1 }
            guard j < s.count else { throw refuse("unterminated group name") }
            captures += 1
            ungreedy.append(ungreedy.last ?? false)
            out += "("
            i = j + 1
            return
        }
        // Flags: (?flags) or (?flags:…), flags from imsU with an optional "-".
        var j = i + 2
        var flags = ""
        var negate = false
        var u = ungreedy.last ?? false
        while j < s.count, "imsU-".unicodeScalars.contains(s[j]) {
            if s[j] == "-" { negate = true; flags += "-" } else if s[j] == "U" { u = !negate } else { flags.unicodeScalars.append(s[j]) }
            j += 1
        }
        if j > i + 2, j < s.count, s[j] == ")" || s[j] == ":" {
            if flags.hasSuffix("-") { flags.removeLast() }
            if s[j] == ")" {
                if !flags.isEmpty { out += "(?\(flags))" }
                ungreedy[ungreedy.count - 1] = u
            } else {
                out += flags.isEmpty ? "(?:" : "(?\(flags):"
                ungreedy.append(u)
            }
            i = j + 1
            return
        }
        // Anything else (non-capturing, lookaround, …): passed to PCRE2/Vectorscan as written.
        ungreedy.append(ungreedy.last ?? false)
        out += "(?"
        i += 2
    }

    mutating func charClass() throws {
        out += "["
        i += 1
        if peek() == "^" { out += "^"; i += 1 }
        if peek() == "]" { out += "\\]"; i += 1 }
        while i < s.count {
            let c = s[i]
            switch c {
            case "]":
                out += "]"
                i += 1
                return
            case "\\":
                try escape(inClass: true)
            case "[":
                if peek(1) == ":" {
                    // POSIX class [:name:] / [:^name:], supported by both libraries.
                    var j = i + 2
                    while j + 1 < s.count && !(s[j] == ":" && s[j + 1] == "]") { j += 1 }
                    guard j + 1 < s.count else { throw refuse("unterminated POSIX class") }
                    out += String(String.UnicodeScalarView(s[i...(j + 1)]))
                    i = j + 2
                } else {
                    out += "\\["
                    i += 1
                }
            default:
                if c.value >= 0x80 { throw refuse("non-ASCII character in a character class (matching is on bytes)") }
                out.unicodeScalars.append(c)
                i += 1
            }
        }
        throw refuse("missing ]")
    }

    mutating func escape(inClass: Bool) throws {
        guard let c = peek(1) else { throw refuse("trailing backslash") }
        i += 2
        switch c {
        case "p", "P":
            throw refuse("Unicode class \\\(c)… (Stowaway matches bytes, not UTF-8 text)")
        case "C":
            throw refuse("\\C is not supported")
        case "Q":
            var lit = ""
            while i < s.count && !(s[i] == "\\" && peek(1) == "E") {
                if inClass && s[i].value >= 0x80 { throw refuse("non-ASCII character in a character class (matching is on bytes)") }
                lit += inClass && s[i].value < 0x80 ? RE2Translator.hex(UInt8(s[i].value)) : RE2Translator.literal(s[i].value)
                i += 1
            }
            if i < s.count { i += 2 }
            out += lit
        case "E":
            break
        case "v":
            out += "\\x0b"
        case "x":
            var v: UInt32 = 0
            if peek() == "{" {
                var j = i + 1
                var digits = ""
                while j < s.count && s[j] != "}" { digits.unicodeScalars.append(s[j]); j += 1 }
                guard j < s.count, let n = UInt32(digits, radix: 16) else { throw refuse("bad \\x{…} escape") }
                v = n
                i = j + 1
            } else {
                guard i + 1 < s.count, let n = UInt32(String(String.UnicodeScalarView(s[i...(i + 1)])), radix: 16) else {
                    throw refuse("bad \\x escape")
                }
                v = n
                i += 2
            }
            try code(v, inClass: inClass)
        case "0"..."7":
            // RE2: octal \0, \0nn, \nn, \nnn; a lone \1-\7 would be a backreference, which RE2 rejects.
            if c != "0" && !RE2Translator.isOctal(peek()) { throw refuse("backreference \\\(c) is not RE2 syntax") }
            var v = c.value - 0x30
            var n = 0
            while n < 2, let d = peek(), RE2Translator.isOctal(d) { v = v * 8 + (d.value - 0x30); i += 1; n += 1 }
            try code(v, inClass: inClass)
        case "8", "9":
            throw refuse("backreference \\\(c) is not RE2 syntax")
        case "A", "z", "b", "B":
            if inClass { throw refuse("\\\(c) inside a character class") }
            out += "\\\(c)"
        case "d", "D", "s", "S", "w", "W", "a", "f", "t", "n", "r":
            out += "\\\(c)"
        default:
            let isWord = (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_"
            if isWord || c.value >= 0x80 { throw refuse("unknown escape \\\(c)") }
            out += "\\"
            out.unicodeScalars.append(c)
        }
    }

    mutating func code(_ v: UInt32, inClass: Bool) throws {
        if v < 0x80 {
            out += RE2Translator.hex(UInt8(v))
        } else if inClass {
            throw refuse("code point above 0x7F in a character class (matching is on bytes)")
        } else {
            out += RE2Translator.literal(v)
        }
    }
}

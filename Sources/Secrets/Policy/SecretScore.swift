import Crypto
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How much a value assigned to a secret-like name looks like a random credential rather than a placeholder,
/// code or a word: the generic detector's judgement, as a number a rule sets a floor on (`Rule.minimumScore`).
///
/// A value scores 0 when it is a template or placeholder (`${…}`, `{{…}}`, `<…>`, `%s`, `your_…_here`, `xxxx`,
/// `changeme`, runs of one character or of consecutive ones such as `abcdef` or `123456`), code (a call, a
/// path, a URL without credentials, a dotted reference, an identifier made of words) or a published example
/// value. Otherwise the score is its entropy measured against what a random string of its alphabet and
/// length reaches on average (`expectedEntropy`; 1 is at least as varied as that).
public enum SecretScore {
    /// Changes whenever `of` judges differently, so that rule-set fingerprints (and the scan results cached under
    /// them) change with it.
    public static let version = 10

    /// Score from which a generic finding is reported at the rule's severity: a value as varied as a random
    /// token of its alphabet, with letters and digits (or many case changes).
    public static let strong = 0.9
    /// Score from which a generic finding is still worth a low-severity note.
    public static let weak = 0.75
    /// The fewest digits of a value made of digits alone that can be a secret rather than a number.
    public static let drawnNumberLength = 24

    /// Whether `value` is digits alone, `drawnNumberLength` or more: a number the score judges as drawn digits.
    public static func isDrawnNumberShape(_ value: [UInt8]) -> Bool {
        value.count >= drawnNumberLength && value.allSatisfy(isDigit)
    }

    /// The score of `value` (0...1); see the type's documentation.
    public static func of(_ value: [UInt8]) -> Double {
        let n = value.count
        guard n >= 8 else { return 0 }
        if isPlaceholder(value) || looksLikeCode(value) || isPublishedExample(value) { return 0 }
        // A provider's short prefix (`sk_`, `pk_live_`, `key-`) is not drawn at random: judge the body after it too.
        let body = afterPrefix(value)
        return body.count >= 16 ? max(randomness(value), randomness(body)) : randomness(value)
    }

    /// `value` without a leading prefix of one or two short words each ended by `_` or `-` (`sk_`, `pk_live_`), or
    /// without the `0x` of 64 hex digits or more: a 256-bit key as Ethereum tools write it (`PRIVATE_KEY=0x…`), whose
    /// `x` otherwise reads as one letter of a larger alphabet than the digits drawn. A `0x` of 40 digits is an
    /// account's address, which is public, and stays judged whole.
    static func afterPrefix(_ value: [UInt8]) -> ArraySlice<UInt8> {
        if value.count >= 66, value[0] == 0x30, value[1] | 0x20 == 0x78, isHex(Array(value[2...])) { return value[2...] }
        var rest = value[...]
        for _ in 0..<2 {
            guard let sep = rest.prefix(9).firstIndex(where: { $0 == 0x5F || $0 == 0x2D }), sep > rest.startIndex,
                  rest[rest.startIndex..<sep].allSatisfy(isLetter) else { break }
            rest = rest[(sep + 1)...]
        }
        return rest
    }

    /// How random `value` looks for its alphabet and length (0...1), placeholders and code aside.
    static func randomness<C: Collection>(_ value: C) -> Double where C.Element == UInt8 {
        let n = value.count
        var lower = 0, upper = 0, digit = 0, other = 0, caseChanges = 0
        var lastLetterUpper: Bool?
        for b in value {
            switch b {
            case 0x61...0x7A: lower += 1
            case 0x41...0x5A: upper += 1
            case 0x30...0x39: digit += 1
            default: other += 1
            }
            if isLetter(b) {
                let up = b <= 0x5A
                if let last = lastLetterUpper, last != up { caseChanges += 1 }
                lastLetterUpper = up
            }
        }
        let letters = lower + upper
        let classes = [lower, upper, digit, other].filter { $0 > 0 }.count
        // A run of one class is a number or a word; hex digits alone are fine when both letters and digits occur.
        // A number of 24 digits or more is neither an id nor a time (a 64-bit integer has at most 20, a tracking
        // number 22): it is digits drawn at random, and judged as such.
        if classes < 2 {
            guard digit == n, n >= drawnNumberLength else { return 0 }
            let expected = expectedEntropy(length: Double(n), alphabet: 10)
            return min(1, shannonEntropy(Array(value)) / expected)
        }
        // Words, whatever joins them (`:gpgvcommand`, `IO::Socket::IP`, `hunter-two-dogs`): no digit and few case
        // changes. A random token of this length without a digit still changes case about every other letter.
        if digit == 0 && Double(caseChanges) < Double(letters) * 0.3 { return 0 }
        if digit > 0 && letters == 0 && other <= 2 { return 0 }
        // Hex in groups (a UUID, `xxxx-xxxx`): the dashes are layout, the groups hex.
        let grouped = Array(value).filter { $0 != 0x2D }
        let hexOnly = isHex(grouped) && grouped.count >= 16
        let alphabet = Double(alphabetSize(lower: lower, upper: upper, digit: digit, other: hexOnly ? 0 : other, hexOnly: hexOnly))
        let expected = expectedEntropy(length: Double(n), alphabet: alphabet)
        guard expected > 0 else { return 0 }
        let entropy = shannonEntropy(Array(value))
        if entropy < 3.0 { return 0 }
        return min(1, entropy / expected)
    }

    /// About the Shannon entropy (bits per character) of a random string of `length` characters drawn from
    /// `alphabet` characters, slightly under: the larger of the two bias-corrected estimates (many draws from a
    /// small alphabet, few draws from a large one), less 0.1, which stays under a Monte Carlo mean from 12 to
    /// 90 characters and 16 to 66 symbols.
    static func expectedEntropy(length n: Double, alphabet k: Double) -> Double {
        guard n >= 2, k >= 2 else { return 0 }
        let ln2 = log(2.0)
        return max(log2(k) - (k - 1) / (2 * n * ln2), log2(n) - (n - 1) / (2 * k * ln2)) - 0.1
    }

    /// Whether `value` is a template, a placeholder or a published example value.
    static func isPlaceholder(_ value: [UInt8]) -> Bool {
        if containsWrittenWord(value, placeholderWords) { return true }
        for (i, b) in value.enumerated() {
            let next = i + 1 < value.count ? value[i + 1] : 0
            // `${…}`, `{{…}}`, `%s`, `%(name)s`, `<name>`, `$VAR`, `[[…]]`
            if (b == 0x24 && (next == 0x7B || next == 0x28 || isLetter(next) || next == 0x5F)) || (b == 0x7B && next == 0x7B)
                || (b == 0x25 && (next == 0x73 || next == 0x28 || next == 0x64)) || (b == 0x5B && next == 0x5B) || b == 0x3C { return true }
        }
        // One character four times over (five in a long value, where a random run of four is not so rare).
        if longestRun(value, step: 0) >= (value.count < 20 ? 4 : 5) { return true }
        // Consecutive characters (`abcdef`, `123456`, `987654`): keyboard fill, not randomness.
        if longestRun(value, step: 1) >= 5 || longestRun(value, step: -1) >= 5 { return true }
        // The same counted out with the other class between (`a1b2c3d4e5f6`, `1a2b-3c4d-5e6f`): the letters alone, or
        // the digits alone, still run on in order, which random draws of either do about never six times.
        if isInterleavedSequence(value) { return true }
        // Letters in order next to digits in order (`abc123`, `xyz789`): typed, not drawn.
        if hasTypedRunPair(value) { return true }
        // A format verb (`%c`, `%v`, `%q`…) anywhere: the value is a template. A URL-encoded byte is `%` and two hex
        // digits, which is the only way a `%` belongs to a credential's alphabet.
        if hasFormatVerb(value) { return true }
        return false
    }

    /// Whether `value` is counted-out fill rather than drawn at random: seven or more consecutive characters in a
    /// row (`1234567`, `abcdefg`), letters and digits counted out in lockstep (`a1b2c3d4`, `A1B2C3D4…`), or, with the
    /// other class between, the letters alone running on six or more past `f` (`xbc123def456ghi789…`) or the digits
    /// alone eight or more. Any rule's secret: the thresholds keep a random token of any alphabet (hex too, whose
    /// letters `a`-`f` run in order often) under one in a hundred thousand, while documentation and test fixtures
    /// fill values so (`shpss_a1b2c3…`, `…jkl012mno345`).
    public static func isCountedFill(_ value: [UInt8]) -> Bool {
        if longestRun(value, step: 1) >= 7 || longestRun(value, step: -1) >= 7 { return true }
        if lockstepPairs(value) >= 4 { return true }
        let letters = value.filter(isLetter).map { $0 | 0x20 }, digits = value.filter(isDigit)
        guard !letters.isEmpty, !digits.isEmpty else { return false }
        if longestRun(digits, step: 1) >= 8 || longestRun(digits, step: -1) >= 8 { return true }
        for step in [1, -1] {
            var run = 1, pastF = letters.first.map { $0 > 0x66 } ?? false
            for k in letters.indices.dropFirst() {
                if Int(letters[k]) - Int(letters[k - 1]) == step {
                    run += 1
                    pastF = pastF || letters[k] > 0x66
                    if run >= 6 && pastF { return true }
                } else {
                    run = 1
                    pastF = letters[k] > 0x66
                }
            }
        }
        return false
    }

    /// Whether `value` holds three or more letters in order right next to three or more digits in order (`abc123`,
    /// `123abc`, `xyz789`): what people type for a value, which a drawn token of any alphabet but hex holds about once
    /// in ten million draws (a provider's rule does not judge by it: documentation's sample tokens end so, and the
    /// peers' tests call them real). In hex (letters `a`-`f` only) such runs come by chance far more often, so a hex value is
    /// not judged by it.
    static func hasTypedRunPair(_ value: [UInt8]) -> Bool {
        guard !isHex(value) else { return false }
        // Runs of one class (letters case folded, or digits), each character one after the previous.
        var runs: [(end: Int, length: Int, letters: Bool)] = []
        var i = 0
        while i < value.count {
            let letter = isLetter(value[i])
            guard letter || isDigit(value[i]) else { i += 1; continue }
            var j = i + 1
            while j < value.count && isLetter(value[j]) == letter && (letter || isDigit(value[j]))
                && Int(value[j] | (letter ? 0x20 : 0)) - Int(value[j - 1] | (letter ? 0x20 : 0)) == 1 { j += 1 }
            runs.append((j, j - i, letter))
            i = j
        }
        for k in runs.indices.dropFirst() {
            let a = runs[k - 1], b = runs[k]
            if a.end == b.end - b.length && a.letters != b.letters && a.length >= 3 && b.length >= 3 { return true }
        }
        return false
    }

    /// The most letter-digit pairs in a row (`a1b2c3`, `1a2b3c`) whose letters and digits both step by one the same
    /// way from pair to pair.
    static func lockstepPairs(_ value: [UInt8]) -> Int {
        var best = 0
        for start in 0..<min(2, value.count) {
            var run = 0
            var i = start
            var last: (UInt8, UInt8)?
            while i + 1 < value.count {
                let a = value[i], b = value[i + 1]
                let pair: (UInt8, UInt8)? = isLetter(a) && isDigit(b) ? (a | 0x20, b) : isDigit(a) && isLetter(b) ? (b | 0x20, a) : nil
                if let p = pair, let l = last, (Int(p.0) - Int(l.0) == 1 && Int(p.1) - Int(l.1) == 1)
                    || (Int(p.0) - Int(l.0) == -1 && Int(p.1) - Int(l.1) == -1) {
                    run += 1
                } else {
                    run = pair == nil ? 0 : 1
                }
                best = max(best, run)
                last = pair
                i += 2
            }
        }
        return best
    }

    /// Whether the body of a token (its longest run of letters and digits, 10 or more long) is words rather than
    /// drawn characters: no digit, and it reads as an identifier (`xoxp-1-SlackAppConfigurationAccessTokenHere`,
    /// `xoxp-1-RANDOMSTRINGHERE`, `searchConfluenceUsingCql`). A random body of a token's length without a digit
    /// that also splits into words at its case changes is about never drawn.
    public static func bodyReadsAsWords(_ value: [UInt8]) -> Bool {
        var best: ArraySlice<UInt8> = [], start = 0
        for i in 0...value.count {
            if i == value.count || !(isLetter(value[i]) || isDigit(value[i])) {
                if i - start > best.count { best = value[start..<i] }
                start = i + 1
            }
        }
        // Most of the value: a drawn token of letters, digits and separators (a url-safe secret) holds a letters-only
        // run of 10 or more now and then, and a camel-case look to it one time in some dozens.
        if isWordsJoined(value) { return true }
        guard best.count >= 10, best.count * 2 > value.count, !best.contains(where: isDigit) else { return false }
        return looksLikeCode(Array(best))
    }

    /// Whether `value` is words joined by `-` or `_` (`client-switching`, `conceptual-to-physical`): letters only, each
    /// part of three or more letters a word in one case. A drawn url-safe token seldom goes without a digit for long,
    /// and its parts, mixed in case, are not words.
    static func isWordsJoined(_ value: [UInt8]) -> Bool {
        guard value.count >= 10, value.allSatisfy({ isLetter($0) || $0 == 0x2D || $0 == 0x5F }),
              value.contains(where: { $0 == 0x2D || $0 == 0x5F }) else { return false }
        let parts = value.split(whereSeparator: { !isLetter($0) })
        return parts.count >= 2 && parts.filter({ $0.count >= 3 }).allSatisfy({ isWord(Array($0)) }) && looksLikeCode(value)
    }

    /// Whether the letters of `value` (case folded), or its digits, taken alone, hold six characters in a row of
    /// the alphabet, ascending or descending (see `isPlaceholder`).
    static func isInterleavedSequence(_ value: [UInt8]) -> Bool {
        let letters = value.filter(isLetter).map { $0 | 0x20 }, digits = value.filter(isDigit)
        // Only when the other class interleaves: a plain run is `longestRun`'s, and a hex value's letters (a-f) run
        // in order by chance too often to judge them without it.
        guard letters.count < value.count, digits.count < value.count else { return false }
        // Hex letters (a-f) run in order by chance: judge a hex value by its digits alone.
        let parts = letters.allSatisfy({ $0 <= 0x66 }) ? [digits] : [letters, digits]
        for part in parts where part.count >= 6 {
            if longestRun(part, step: 1) >= 6 || longestRun(part, step: -1) >= 6 { return true }
        }
        return false
    }

    /// Whether `value` holds a `%` that is not a URL-encoded byte (`%` and two hex digits) but a format verb or
    /// a template's mark.
    static func hasFormatVerb(_ value: [UInt8]) -> Bool {
        for (i, b) in value.enumerated() where b == 0x25 {
            let hexPair = i + 2 < value.count && isHexDigit(value[i + 1]) && isHexDigit(value[i + 2])
            if !hexPair && i + 1 < value.count && formatVerbs.contains(value[i + 1]) { return true }
        }
        return false
    }

    /// The conversion letters of printf-style formats (C, Go, Python): `%c`, `%d`, `%s`, `%v`, `%q`, `%x`…
    static let formatVerbs = Set("cdsvqxXfgeEpTtbou".utf8)

    static func isHexDigit(_ b: UInt8) -> Bool { isDigit(b) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x66) }

    /// Whether `value` is code: a call, a path, a URL without credentials, a dotted reference or an identifier
    /// made of words (`getSecretToken`, `API_TOKEN_HEADER`).
    static func looksLikeCode(_ value: [UInt8]) -> Bool {
        if value.contains(0x28) && value.contains(0x29) { return true }
        if isHostName(value) || isVersionedName(value) || isTimestamp(value) || isFilePath(value) { return true }
        // A member of the object at hand (`self._lib.NID_pbe_WithSHA1And3_Key_TripleDES_CBC`, `this.apiKey`).
        if memberReceivers.contains(where: { r in
            value.count > r.count && value.starts(with: r) && (isLetter(value[r.count]) || value[r.count] == 0x5F)
        }) { return true }
        if value.first == 0x2F || value.starts(with: Array("./".utf8)) || value.starts(with: Array("~/".utf8)) { return true }
        if let colon = value.firstIndex(of: 0x3A), value[colon...].starts(with: Array("://".utf8)), !value.contains(0x40) { return true }
        // Names joined by `/` (`WebAuthn/FIDO2`, `Pages/SearchConfig`): each part an identifier of words or a short
        // acronym (two to five capitals, at most two digits after), one part at least of words.
        if value.contains(0x2F) {
            let parts = value.split(separator: 0x2F).map { Array($0) }
            let acronym = { (p: [UInt8]) -> Bool in
                let caps = p.prefix { $0 >= 0x41 && $0 <= 0x5A }
                return (2...5).contains(caps.count) && p.count - caps.count <= 2 && p.dropFirst(caps.count).allSatisfy(isDigit)
            }
            let named = parts.filter { !acronym($0) }
            if parts.count >= 2 && !named.isEmpty && named.allSatisfy({ !$0.contains(0x2F) && looksLikeCode($0) }) { return true }
        }
        // Words joined by `.`, `_`, `-`, `::` or case changes, with at most a version number's digits.
        var segments: [[UInt8]] = [[]]
        for (i, b) in value.enumerated() {
            let prev = i > 0 ? value[i - 1] : 0
            let next = i + 1 < value.count ? value[i + 1] : 0
            if !isLetter(b) && !isDigit(b) {
                segments.append([])
            } else if b >= 0x41 && b <= 0x5A && (prev >= 0x61 && prev <= 0x7A
                        || prev >= 0x41 && prev <= 0x5A && next >= 0x61 && next <= 0x7A) {
                // `getToken` and `AWSAccess` (an acronym, then a capitalised word) both split before the capital.
                segments.append([b])
            } else {
                segments[segments.count - 1].append(b)
            }
        }
        let parts = segments.filter { !$0.isEmpty }
        let wordy = parts.filter(isWord)
        let letters = value.filter(isLetter).count
        let wordLetters = wordy.reduce(0) { $0 + $1.count }
        let digits = value.filter(isDigit).count
        return letters > 0 && Double(wordLetters) >= Double(letters) * 0.8 && (parts.count >= 2 || digits <= 2)
    }

    /// `self.`, `this.`, `cls.`, `super.`: what a reference to a member of the object at hand starts with.
    static let memberReceivers: [[UInt8]] = ["self.", "this.", "cls.", "super."].map { Array($0.utf8) }

    /// Whether `value` is a date and time as ISO 8601 writes one (`2016-09-08T21:47:36Z`, `2024-01-02 03:04:05.123+01:00`):
    /// a field such as `PasswordLastUsed` holds one.
    static func isTimestamp(_ value: [UInt8]) -> Bool {
        guard value.count >= 16, value.count <= 35 else { return false }
        func digits(_ range: Range<Int>) -> Bool { value[range].allSatisfy(isDigit) }
        guard digits(0..<4), value[4] == 0x2D, digits(5..<7), value[7] == 0x2D, digits(8..<10),
              value[10] == 0x54 || value[10] == 0x20, digits(11..<13), value[13] == 0x3A, digits(14..<16) else { return false }
        // Seconds, a fraction and a zone, each optional: only digits and `:.+-Z` after the minutes.
        return value[16...].allSatisfy { isDigit($0) || [0x3A, 0x2E, 0x2B, 0x2D, 0x5A].contains($0) }
    }

    /// Whether `value` is a path to a file of a common kind (`my-app/22a0-stage-150819_185942.war`, `keys/prod.pem`):
    /// a `/` and a known extension at the end. Base64 and URL-safe tokens carry no `.` before a short ending.
    static func isFilePath(_ value: [UInt8]) -> Bool {
        guard value.contains(0x2F), let dot = value.lastIndex(of: 0x2E), dot > (value.lastIndex(of: 0x2F) ?? 0) + 1 else { return false }
        return fileExtensions.contains(Array(value[(dot + 1)...]).map { $0 | 0x20 })
    }

    static let fileExtensions: Set<[UInt8]> = Set([
        "war", "jar", "ear", "zip", "tar", "gz", "tgz", "bz2", "xz", "7z", "rar", "json", "yaml", "yml", "xml", "toml",
        "ini", "conf", "cfg", "txt", "log", "csv", "md", "html", "htm", "css", "js", "ts", "py", "rb", "go", "java",
        "class", "php", "sh", "so", "dll", "exe", "bin", "png", "jpg", "jpeg", "gif", "svg", "pdf", "pem", "crt", "cer",
        "der", "p12", "pfx", "key", "pub", "jks", "keystore", "sql", "db", "sqlite", "properties", "env",
    ].map { Array($0.utf8) })

    /// Whether `value` is a host name, with a port or not (`cache7.redis.cache.windows.net:6380`): three or more
    /// dot-separated labels, the last all letters (2 to 6, a top-level domain). A token with dots (a JWT, `id.secret`)
    /// has long mixed parts.
    static func isHostName(_ value: [UInt8]) -> Bool {
        var host = value[...]
        if let colon = value.lastIndex(of: 0x3A) {
            guard colon + 1 < value.count, value[(colon + 1)...].allSatisfy(isDigit) else { return false }
            host = value[..<colon]
        }
        let labels = host.split(separator: 0x2E, omittingEmptySubsequences: false)
        guard labels.count >= 3, let last = labels.last, (2...6).contains(last.count), last.allSatisfy(isLetter) else { return false }
        return labels.allSatisfy { !$0.isEmpty && $0.allSatisfy { isLetter($0) || isDigit($0) || $0 == 0x2D } }
    }

    /// Whether `value` is a name with a version number at its end (`jjwt-jackson-0.11.2`, `client_v2.3.1`): a
    /// package or artifact, not a credential. A random token seldom ends in digits joined by dots.
    static func isVersionedName(_ value: [UInt8]) -> Bool {
        var i = value.count, dots = 0, sawDigit = false
        while i > 0 {
            let b = value[i - 1]
            if isDigit(b) { sawDigit = true } else if b == 0x2E && sawDigit { dots += 1; sawDigit = false } else { break }
            i -= 1
        }
        guard dots >= 1, sawDigit, i > 0 else { return false }
        var j = i
        if j > 0 && (value[j - 1] | 0x20) == 0x76 { j -= 1 }  // `v2.3.1`
        guard j > 0, value[j - 1] == 0x2D || value[j - 1] == 0x5F else { return false }
        return value[..<(j - 1)].split(whereSeparator: { !isLetter($0) }).contains { isWord(Array($0)) }
    }

    /// SHA-256 digests of credentials published as examples that every copy of some software carries: Azurite's
    /// (the Azure Storage emulator's) development account key. Kept as digests so the values are not repeated.
    static let publishedExampleDigests: Set<String> = [
        "0011cc25eb4320717494d2703e8cba85743e71b500283c21c8b88147992f9059",
    ]

    /// Whether `value` is one of `publishedExampleDigests` (AWS's and jwt.io's examples are caught as words and
    /// by `MatchEngine.placeholderPatterns`).
    static func isPublishedExample(_ value: [UInt8]) -> Bool {
        guard value.count >= 40 && value.count <= 128 else { return false }
        return publishedExampleDigests.contains(SHA256.hash(data: value).hexString)
    }

    /// Fragments of placeholder and example values, lower case.
    static let placeholderWords: [[UInt8]] = [
        "example", "dummy", "placeholder", "changeme", "change_me", "change-me", "redacted", "sample", "your_", "your-",
        "yourapi", "yoursecret", "yourtoken", "yourpass", "xxxx", "****", "....", "fake", "mock", "insecure", "notreal",
        "not_real", "replace", "todo", "fixme", "lorem", "foobar", "secret", "password", "passwd", "token",
    ].map { Array($0.utf8) }

    /// Whether `value` holds one of `words` (lower case) as people write words: all lower or all upper case, or
    /// capitalised. A random token spells `MOck` or `fAKe` in any case now and then; that is not a placeholder.
    static func containsWrittenWord(_ value: [UInt8], _ words: [[UInt8]]) -> Bool {
        let lower = value.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        for w in words where w.count <= value.count {
            var i = 0
            while i + w.count <= value.count {
                if lower[i..<(i + w.count)].elementsEqual(w) {
                    let upper = value[i..<(i + w.count)].filter { $0 >= 0x41 && $0 <= 0x5A }.count
                    let letters = w.filter(isLetter).count
                    if upper == 0 || upper == letters || (upper == 1 && value[i] >= 0x41 && value[i] <= 0x5A) { return true }
                }
                i += 1
            }
        }
        return false
    }

    /// The longest run of characters each `step` code points after the previous one (0: repeated characters).
    static func longestRun(_ value: [UInt8], step: Int) -> Int {
        var best = 1, run = 1
        for i in 1..<max(value.count, 1) {
            if Int(value[i]) - Int(value[i - 1]) == step && (isLetter(value[i]) || isDigit(value[i]) || step == 0) {
                run += 1
                best = max(best, run)
            } else {
                run = 1
            }
        }
        return best
    }

    /// Whether `part` reads as a word of an identifier: three or more letters in one case (or capitalised), a
    /// sixth of them vowels, no more than four consonants in a row (`String`, `strength`). Random letters of a
    /// token, cut at its case changes, seldom manage all of it.
    static func isWord(_ part: [UInt8]) -> Bool {
        guard part.count >= 3, part.allSatisfy(isLetter) else { return false }
        let upper = part.filter { $0 <= 0x5A }.count
        guard upper == 0 || upper == part.count || (upper == 1 && part[0] <= 0x5A) else { return false }
        var vowels = 0, consonants = 0
        for b in part {
            if "aeiouyAEIOUY".utf8.contains(b) {
                vowels += 1
                consonants = 0
            } else {
                consonants += 1
                if consonants > 4 { return false }
            }
        }
        return vowels > 0 && vowels * 6 >= part.count
    }

    static func alphabetSize(lower: Int, upper: Int, digit: Int, other: Int, hexOnly: Bool) -> Int {
        if hexOnly { return 16 }
        return (lower > 0 ? 26 : 0) + (upper > 0 ? 26 : 0) + (digit > 0 ? 10 : 0) + (other > 0 ? 4 : 0)
    }

    static func isHex(_ value: [UInt8]) -> Bool {
        value.allSatisfy { isDigit($0) || ($0 >= 0x61 && $0 <= 0x66) } || value.allSatisfy { isDigit($0) || ($0 >= 0x41 && $0 <= 0x46) }
    }

    static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
}

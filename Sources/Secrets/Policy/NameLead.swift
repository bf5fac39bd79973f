/// What may stand before a secret-like name inside the identifier that holds it (`STRIPE_LIVE_` in
/// `STRIPE_LIVE_SECRET`, `my` in `myApiKey`), and before that identifier. A rule with a `nameLead` starts its regex
/// at the name and leaves this to the matcher: as a lazy prefix of the regex (`[A-Za-z0-9_.-]{0,40}?` and its
/// guards), PCRE2 tried it at the start of every word of a window, which cost three to four times the rest of the
/// generic rules' regex time in source code and headers.
public struct NameLead: Sendable, Equatable {
    /// The most identifier characters before the name.
    public var maxLength: Int
    /// Words (lower case) that, starting within `wordReach` characters of the identifier's start, say its value is
    /// no working credential (`invalidToken`, `fake_api_key`, `EXAMPLE_SECRET`): a test's negative case or
    /// documentation.
    public var notWorking: [String]
    public var wordReach: Int
    /// Text that may not stand just before the identifier: a REPL or doctest prompt (`>>> `, `... `), a comment
    /// marker (`#`, `// `): a transcript or a commented-out setting, documentation by construction.
    public var notAfter: [String]

    public init(maxLength: Int, notWorking: [String], wordReach: Int, notAfter: [String]) {
        self.maxLength = maxLength
        self.notWorking = notWorking
        self.wordReach = wordReach
        self.notAfter = notAfter
    }

    /// The generic rules' lead.
    public static let generic = NameLead(
        maxLength: 40,
        notWorking: ["invalid", "fake", "dummy", "mock", "wrong", "bogus", "non_matching", "nonmatching", "not_matching",
                     "notmatching", "example", "sample", "placeholder"],
        wordReach: 30, notAfter: [">>> ", "... ", "#", "# ", "// "])

    /// Whether the name starting at `name` in `bytes` has an allowed lead: at most `maxLength` identifier characters
    /// (`A-Z a-z 0-9 _ . -`) before it, none of `notAfter` before those, and no `notWorking` word starting within
    /// `wordReach` characters of the identifier's start. `bytes` holds what the document has before the name, as
    /// far back as the matcher keeps it; its start counts as the document's.
    func allows(_ bytes: UnsafeRawBufferPointer, name: Int) -> Bool {
        var start = name
        while start > 0 && NameLead.isIdentifier(bytes[start - 1]) {
            start -= 1
            if name - start > maxLength { return false }
        }
        for marker in notAfter where start >= marker.utf8.count {
            if bytes[(start - marker.utf8.count)..<start].elementsEqual(marker.utf8) { return false }
        }
        var end = name
        while end < bytes.count && NameLead.isIdentifier(bytes[end]) { end += 1 }
        for offset in 0...wordReach where start + offset < end {
            let at = start + offset
            for word in notWorking where at + word.utf8.count <= end {
                var i = 0
                for w in word.utf8 {
                    let b = bytes[at + i]
                    guard (b >= 0x41 && b <= 0x5A ? b | 0x20 : b) == w else { break }
                    i += 1
                }
                if i == word.utf8.count { return false }
            }
        }
        return true
    }

    static func isIdentifier(_ b: UInt8) -> Bool {
        ValueContext.isNameByte(b) || b == 0x2E || b == 0x2D
    }
}

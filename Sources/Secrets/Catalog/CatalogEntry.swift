/// One row of the provider catalogue: a provider's credential format as data, from which its rule (regex,
/// entropy floor, confidence, keywords) is built and, in the tests, its true and false examples.
public struct CatalogEntry: Sendable {
    /// What says a token is the provider's.
    public enum Context: Sendable, Equatable {
        /// The token's own prefix (or, for a token that starts with random characters, its own suffix: see
        /// `TokenShape.marks`): it is reported wherever it stands (high confidence).
        case prefixed
        /// A name containing one of these keywords, to which the token is assigned (`TWILIO_AUTH_TOKEN=…`,
        /// `"twilio_token": "…"`, `twilio.token: …`): medium confidence. In a keyword, `_` stands for an
        /// optional `_`, `-` or `.`, so `new_relic` also matches `NewRelic` and `new-relic`; a space stands for up
        /// to twenty more characters of the same name, so `github secret` matches `GITHUB_CLIENT_SECRET` and
        /// `githubOauthSecret` but not a bare `github`.
        case keyed([String])
    }

    public var id: String
    public var description: String
    public var severity: Severity
    public var shape: TokenShape
    public var context: Context
    /// Minimum entropy; nil takes the shape's (see `TokenShape.entropyFloor`).
    public var entropy: Double?
    /// Secrets matching any of these (PCRE2) are not reported.
    public var allowlist: [String]
    /// Where a leaked token is revoked or rotated (see `Rule.revoke`).
    public var revoke: String?

    public init(id: String, description: String, severity: Severity, shape: TokenShape, context: Context,
                entropy: Double? = nil, allowlist: [String] = [], revoke: String? = nil) {
        self.id = id
        self.description = description
        self.severity = severity
        self.shape = shape
        self.context = context
        self.entropy = entropy
        self.allowlist = allowlist
        self.revoke = revoke
    }

    /// The literals whose presence the rule requires: the marks of a prefixed token, else the keywords.
    public var keywords: [String] {
        switch context {
        case .prefixed: return shape.marks
        // A name's first word is what the text holds literally (`github` of `github secret`).
        case .keyed(let words):
            var seen = Set<String>()
            return words.compactMap { $0.split(separator: " ").first.map(String.init) }.filter { seen.insert($0).inserted }
        }
    }

    /// The rule this row stands for.
    public var rule: Rule {
        let boundary = shape.boundary
        switch context {
        case .prefixed:
            return Rule(id: id, description: description, severity: severity,
                        // Nor after a `.`: a prefix there is part of a file or dotted name (`box.ico-<hash>.png`).
                        regex: "(?<![." + shape.leadingBoundary + "])(" + shape.pattern + ")(?![" + boundary + "])",
                        // A token that starts with random characters is found by its mark, then confirmed whole.
                        prefilter: shape.fromMark?.pattern,
                        entropy: entropy ?? shape.entropyFloor, allowlist: allowlist, confidence: .high, keywords: keywords,
                        revoke: revoke, structure: .randomBody,
                        keywordNearShape: shape.distinctivePrefix.map { _ in "^(?:" + shape.widened(by: Self.anyLength).pattern + ")$" },
                        tokenPrefix: shape.distinctivePrefix)
        case .keyed(let words):
            let names = words.map(Self.keywordPattern).joined(separator: "|")
            // A generic finding is handed to a row whose name its line holds (`MatchEngine.providerContext`). That
            // check looks for one word: a row named by two (`github secret`) would take every value next to its
            // first (`github`), from the rows whose name is really there (`GITHUB_TOKEN`), so it takes none.
            let namedByOneWord = !words.contains { $0.contains(" ") }
            return Rule(id: id, description: description, severity: severity,
                        regex: "(?i:" + names + ")" + Self.notSecretName + Self.proximity
                            + #"(?<![./A-Za-z0-9_+-])("# + shape.pattern + ")(?![" + boundary + "])" + Self.notAName,
                        // The keyword's line and the token's, when the keyword's line ends opening a value (`proximity`).
                        lookBehind: max(1024, min(shape.maxLength, 4096) + 2 * Self.proximityLimit + 64), lineSpan: 1,
                        entropy: entropy ?? shape.entropyFloor, allowlist: allowlist, confidence: .medium, keywords: keywords,
                        // Not in binary documents: a strings table puts provider names near random-looking bytes by the
                        // thousand, and a compiled program keeps its names and its constants apart; its prefixed tokens
                        // are still found there.
                        mixedCharacters: shape.expectsMixedCharacters, textOnly: true, revoke: revoke, structure: .randomBody,
                        keywordShape: namedByOneWord ? "(?<![" + boundary + "])(?:" + shape.pattern + ")(?![" + boundary + "])" : nil,
                        keywordNearShape: namedByOneWord ? "^(?:" + shape.widened(by: Self.nearMiss).pattern + ")$" : nil)
        }
    }

    /// What may stand between a provider's keyword and its token: up to `proximityLimit` characters on the
    /// keyword's line, or on the next when the keyword's line ends opening a value (`:`, `>`, `=`, `{`, `[`,
    /// `(`): a YAML parent key, an XML element. Any next line would join unrelated lines of a listing (a package
    /// description naming a provider, then its `Description-md5`). That covers every way a name is given a
    /// value (`NAME=…`, `name: …`, `"name": "…"`, `\"name\":\"…\"` in escaped JSON, `name := …`, `:name => …`, `name <- …`,
    /// `<nameToken>…</nameToken>`, `<add key="Name" value="…"/>`, `--name-key …`, `[DEBUG] name key=…`, a YAML key
    /// whose value is on the next line) without a pattern per syntax: the token must still be a whole token of
    /// the row's shape (nothing of its alphabet, nor `.` or `/`, on either side) and pass the row's entropy floor.
    static let proximity =
        "(?:[^\\r\\n]{0,\(proximityLimit)}?[:>={\\[(][\"']?[ \\t]{0,4}\\r?\\n)?[^\\r\\n]{0,\(proximityLimit)}?"

    /// After a token: not a name being given a value (`api_token:` on the line under a YAML key), so that the
    /// search goes on to the value.
    static let notAName = #"(?!["']?[ \t]{0,2}[:=])"#

    /// How many characters shorter or longer than its shape a value next to a provider's name may be to count as
    /// the provider's token cut short or padded (see `Rule.keywordNearShape`).
    static let nearMiss = 1
    /// How many characters shorter or longer than its shape a value after a provider's token prefix may be to count
    /// as its token cut short or padded (`Rule.tokenPrefix`): any length, in the token's own alphabet.
    static let anyLength = 4096

    /// How many characters of a line may separate a keyword from its token (see `proximity`).
    public static let proximityLimit = 48

    /// Names that say their value is not a credential, whatever provider they mention: a digest or checksum (a
    /// SHA-256 is 64 hex like many keys), an identifier, a version, a location.
    static let notSecretName =
        #"(?![\w.-]{0,30}?(?i:hash|checksum|digest|sha1|sha256|sha512|md5|etag|commit|version|uuid|url|uri|path|file|[_.-]id(?![a-z])))"#

    /// A keyword as a case-insensitive name fragment: `_` may be `_`, `-`, `.` or nothing (the same in the whole
    /// keyword), spelt out as separate literals so that Vectorscan's literal prefilter looks for `new_relic`,
    /// `newrelic`… rather than for `new` and `relic` apart. A short keyword must start the name or follow a
    /// separator, so `lob` does not fire inside `glob` or `blob`; no keyword may go on in lower case.
    static func keywordPattern(_ word: String) -> String {
        let parts = word.split(separator: " ").map { part -> String in
            let forms = spellings(of: part.lowercased())
            let body = forms.map(TokenShape.escaped).joined(separator: "|")
            return forms.count == 1 ? body : "(?:" + body + ")"
        }
        let guarded = (word.split(separator: " ").first?.count ?? 0) <= 4 ? "(?<![A-Za-z0-9])" : ""
        // Nor may it run on into a longer lower-case word (`crypto_com` in `crypto-common`); `cryptoComKey`,
        // `CRYPTO_COM_KEY` and `crypto_com_key` still name it.
        let ended = "(?-i:(?![a-z]))"
        return guarded + parts.joined(separator: nameGap) + ended
    }

    /// The ways a keyword is written in a name: each `_` as `_`, `-`, `.` or nothing (the same in the whole
    /// keyword: `new_relic`, `new-relic`, `new.relic`, `newrelic`). The regexes and the matcher's look for a
    /// provider named near a generic finding (`MatchEngine.providerContext`) both spell keywords this way.
    static func spellings(of word: String) -> [String] {
        let pieces = word.split(separator: "_", omittingEmptySubsequences: false)
        return pieces.count > 1 ? ["_", "-", ".", ""].map { pieces.joined(separator: $0) } : [word]
    }

    /// What may stand between two words of a keyword (`github secret`): the rest of one name.
    static let nameGap = #"[\w.-]{0,20}?"#
}

extension CatalogEntry {
    /// A token that its prefix identifies.
    static func token(_ id: String, _ description: String, _ shape: TokenShape, _ severity: Severity = .high,
                      entropy: Double? = nil) -> CatalogEntry {
        CatalogEntry(id: id, description: description, severity: severity, shape: shape, context: .prefixed, entropy: entropy)
    }

    /// A token assigned to a name containing one of `keywords`.
    static func keyed(_ id: String, _ description: String, _ keywords: [String], _ shape: TokenShape,
                      _ severity: Severity = .high, entropy: Double? = nil) -> CatalogEntry {
        CatalogEntry(id: id, description: description, severity: severity, shape: shape, context: .keyed(keywords), entropy: entropy)
    }
}

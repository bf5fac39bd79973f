/// How bad a leaked secret of a rule is.
public enum Severity: String, Codable, Sendable, CaseIterable, Comparable {
    case low, medium, high, critical

    /// 0 for low up to 3 for critical.
    public var rank: Int {
        switch self {
        case .low: return 0
        case .medium: return 1
        case .high: return 2
        case .critical: return 3
        }
    }

    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// How sure a finding is to be a real credential rather than something shaped like one.
public enum Confidence: String, Codable, Sendable, CaseIterable, Comparable {
    /// A generic shape (a secret-like name and a random-looking value): often a false alarm.
    case low
    /// A provider's keyword next to a body of that provider's shape.
    case medium
    /// A token with a distinctive prefix or structure, or one whose checksum holds.
    case high

    /// 0 for low up to 2 for high.
    public var rank: Int {
        switch self {
        case .low: return 0
        case .medium: return 1
        case .high: return 2
        }
    }

    public static func < (a: Confidence, b: Confidence) -> Bool { a.rank < b.rank }

    /// One step less sure (low stays low): what a comment or a test or documentation path does to a finding.
    public var lowered: Confidence {
        switch self {
        case .high: return .medium
        case .medium, .low: return .low
        }
    }
}

/// What finds a rule's secrets. Every detector is a rule of the catalogue: `[extend] disabledRules` removes it,
/// and its allowlists (a rule's own, or a global one with `targetRules`) apply to what it reports.
public enum Detector: String, Sendable, CaseIterable {
    /// The rule's regex, over file contents and config values.
    case regex
    /// A file whose name says it holds credentials (`CredentialPaths`): reported by its SHA-256 when no content
    /// rule fires in it; content findings inside it are raised one severity level.
    case credentialFile
    /// Docker config `auths`: base64 `user:password`, `identitytoken`, `registrytoken` are decoded and scanned by
    /// the content rules; a credential none of them recognises is reported under this rule.
    case dockerConfig
    /// Kubernetes `Secret` documents in YAML files: `data:` values are decoded and scanned by the content rules.
    case kubernetesSecret
    /// Image config environment values that are base64 of text: decoded and scanned by the content rules.
    case base64Env
}

/// One detection rule: a PCRE2 regex whose capture group is the secret, plus what keeps it precise.
public struct Rule: Sendable, Equatable {
    public var id: String
    public var description: String
    public var severity: Severity
    /// PCRE2 pattern; group `secretGroup` (or the whole match when 0) is the secret.
    /// `Rule.firstNonEmptyGroup` (-1): the first capture group that matched something, else the whole match
    /// (gitleaks' behaviour for a rule without `secretGroup`).
    public var regex: String
    public var secretGroup: Int
    /// Pattern for Vectorscan. nil: the regex itself, compiled in prefilter mode. Its match must end
    /// at or after the end of the secret and at most `lookBehind` bytes after the secret's start.
    public var prefilter: String?
    /// Whether `prefilter` holds what Vectorscan cannot run as written (lookarounds): it is then compiled in
    /// prefilter mode too, which widens it to a superset of its matches.
    public var prefilterApproximate: Bool
    /// How far before the prefilter's match end the secret may start.
    public var lookBehind: Int
    /// The most lines holding more than blanks that a match may reach above the line where it ends: PCRE2 then
    /// confirms from the start of that line rather than from `lookBehind` bytes back (a name and its value span a
    /// line or two, while a kilobyte of source code is twenty lines). nil: no bound but `lookBehind`.
    public var lineSpan: Int?
    /// Minimum Shannon entropy (bits per character) of the secret.
    public var entropy: Double?
    /// Secrets matching any of these (PCRE2) are not reported.
    public var allowlist: [String]
    /// PCRE2 pattern the document's path must match for the rule to apply (see `MatchEngine.ruleApplies`).
    /// A rule with a scope never applies to documents without a path (config values, history entries).
    public var pathScope: String?
    /// Secrets containing any of these (ASCII case-insensitive) are not reported.
    public var stopwords: [String]
    /// PCRE2 patterns: the rule does not apply to documents whose path matches one of them.
    public var pathAllowlist: [String]
    /// What finds the secrets; for anything but `.regex`, `regex` is unused.
    public var detector: Detector
    /// Rules whose findings this rule's findings replace when both come from the same bytes: a credential
    /// decoded from a blob supersedes the finding of the blob itself.
    public var supersedes: [String]
    /// How sure a finding of this rule is (see `Confidence`); checksums may raise or lower it per finding.
    public var confidence: Confidence
    /// Literals (ASCII case-insensitive) at least one of which is in the text of every secret the rule finds,
    /// with its context: a provider's prefix or name. Documentation of the rule and its tests' near misses;
    /// the Vectorscan pattern already requires them.
    public var keywords: [String]
    /// Whether a secret must hold both a letter and a digit: a random body of 16 or more characters from an
    /// alphabet with both almost always does, while words, numbers and identifiers do not.
    public var mixedCharacters: Bool
    /// Whether the rule needs text around a secret to mean anything (a name and an `=`): it is not applied to
    /// binary documents (a NUL byte in the first kilobyte), whose strings tables and bytecode are full of
    /// names next to random-looking bytes.
    public var textOnly: Bool
    /// PCRE2 patterns matched against the secret decoded from base64 (for secrets that are base64 of
    /// `user:password`): a decoded placeholder (`username:password`, an RFC's example client) is not reported.
    public var base64Allowlist: [String]
    /// The most severe a finding of this rule is when the document is binary (see `RawHit.binary`): a private key
    /// compiled into a library (Netty's self-signed fallback, TLS self-tests) is a constant of published code,
    /// while a deployment's key is a file of its own.
    public var binaryCap: Severity?
    /// The least `SecretScore` a secret must reach: for generic rules, which know nothing of a provider's format and
    /// so must judge the value itself (placeholder, code, or random-looking).
    public var minimumScore: Double?
    /// Where a leaked secret of this rule is revoked or rotated: a URL of the provider's console or documentation,
    /// or a command (`fly tokens revoke …`). nil: the provider is not known (generic rules).
    public var revoke: String?

    /// A structure the secret must have beyond its regex, checked on each candidate (see `Structure`).
    public var structure: Structure?
    /// For a rule that finds a provider's token by its keywords: the token's regex alone (with its boundaries). A
    /// generic finding next to the provider's name whose value fits it stays as it is (see `keywordNearShape`).
    public var keywordShape: String?
    /// The whole value as `keywordShape`'s token cut short or padded by a few characters (a test value one
    /// character off): a generic finding next to the provider's name that is this but not `keywordShape` is
    /// weakened. A value of another format altogether (the provider's other key, an older format) is not. For a
    /// rule with a `tokenPrefix`: its token with the main run at any length.
    public var keywordNearShape: String?
    /// For a generic rule: the rule that reports its finding instead when the line, or a line just before it
    /// without an assignment, names a provider whose token the value is, cut short or padded
    /// (`keywordNearShape`): a test value a few characters off is worth a low note, not an alarm.
    public var weakerRule: String?
    /// For a rule that finds a provider's token by its literal prefix (`NRAK-`, `glpat-`): the prefix. A generic
    /// finding whose value is the prefix and the token's alphabets at another length (`keywordNearShape`: a token
    /// cut short or padded, a test value or an example) is weakened: a token of the provider's is reported by the
    /// provider's rule. A value of other characters after the prefix (another format) is not weakened.
    public var tokenPrefix: String?
    /// For a rule whose regex starts at a secret-like name that may stand inside a longer identifier: what may
    /// stand before the name, which the matcher checks on each match (see `NameLead`). nil: none is checked.
    public var nameLead: NameLead?

    /// `secretGroup` value meaning "the first non-empty capture group, else the whole match".
    public static let firstNonEmptyGroup = -1

    public init(
        id: String, description: String, severity: Severity, regex: String, secretGroup: Int = 1,
        prefilter: String? = nil, prefilterApproximate: Bool = false, lookBehind: Int = 1024, lineSpan: Int? = nil, entropy: Double? = nil,
        allowlist: [String] = [],
        pathScope: String? = nil, stopwords: [String] = [], pathAllowlist: [String] = [],
        detector: Detector = .regex, supersedes: [String] = [], confidence: Confidence = .high, keywords: [String] = [],
        mixedCharacters: Bool = false, textOnly: Bool = false, base64Allowlist: [String] = [],
        binaryCap: Severity? = nil, minimumScore: Double? = nil, revoke: String? = nil, structure: Structure? = nil,
        keywordShape: String? = nil, keywordNearShape: String? = nil, weakerRule: String? = nil, nameLead: NameLead? = nil,
        tokenPrefix: String? = nil
    ) {
        self.id = id
        self.description = description
        self.severity = severity
        self.regex = regex
        self.secretGroup = secretGroup
        self.prefilter = prefilter
        self.prefilterApproximate = prefilterApproximate
        self.lookBehind = lookBehind
        self.lineSpan = lineSpan
        self.entropy = entropy
        self.allowlist = allowlist
        self.pathScope = pathScope
        self.stopwords = stopwords
        self.pathAllowlist = pathAllowlist
        self.detector = detector
        self.supersedes = supersedes
        self.confidence = confidence
        self.keywords = keywords
        self.mixedCharacters = mixedCharacters
        self.textOnly = textOnly
        self.base64Allowlist = base64Allowlist
        self.binaryCap = binaryCap
        self.minimumScore = minimumScore
        self.revoke = revoke
        self.structure = structure
        self.keywordShape = keywordShape
        self.keywordNearShape = keywordNearShape
        self.weakerRule = weakerRule
        self.nameLead = nameLead
        self.tokenPrefix = tokenPrefix
    }
}

/// What a secret's text must decode to for a rule to report it: what its regex cannot say.
public enum Structure: String, Sendable, Equatable {
    /// A JSON Web Token: header and payload are base64url of JSON objects, the header names its `alg`, and the
    /// token is not signed with a secret that documentation publishes (jwt.io's defaults). Text that only starts
    /// like one (`eyJ…` garbage, a token cut and pasted together in a test) is not reported.
    case jwt
    /// A provider's token whose body is drawn at random: not words (`xoxp-1-RANDOMSTRINGHERE`, an identifier such
    /// as `searchConfluenceUsingCql` next to a provider's name); see `SecretScore.bodyReadsAsWords`.
    case randomBody
    /// A token of numbered parts and a random last one (Slack's `xoxa-2-<team>-<user>-<id>-<hex>`): the ids may repeat
    /// digits at will, so the randomness is judged on what follows the last all-digit part (entropy for its length,
    /// see `Structure.tailIsRandom`), and the body as for `randomBody`.
    case numberedTail
    /// A wallet's recovery phrase: 12, 15, 18, 21 or 24 words, hardly one repeated (a drawn phrase of 12 repeats a
    /// word about one time in thirty), none a word that only documentation writes (`your`, `here`, `goes`), and
    /// not a phrase that documentation and development tools publish (Hardhat's `test … junk`, BIP-39's `abandon
    /// … about`), which the repeats already turn down.
    case mnemonic
}

/// Paths whose findings are known public material, not leaks: distro shared libraries that embed
/// self-test keys (libgnutls, libcrypto), package documentation, and language test suites shipped in
/// packages. Findings there are counted as suppressed rather than reported.
public final class PathAllowlist: @unchecked Sendable {
    /// The documented default (PCRE2, matched against the absolute path in the layer).
    public static let defaultPatterns: [String] = [
        // Shared objects installed by the distro's package manager (not /usr/local, /opt or /app).
        #"^/(?:usr/)?lib(?:32|64|x32)?/(?:[^/]+/)*[^/]+\.so(?:\.[0-9]+)*$"#,
        #"^/usr/share/(?:doc|man|info|licenses|common-licenses)/"#,
        // Language test suites shipped in packages.
        #"^/usr/lib/python3[^/]*/test/"#,
        #"/(?:site|dist)-packages/(?:[^/]+/)*tests?/"#,
        #"/node_modules/(?:[^/]+/)*(?:test|tests|__tests__|fixtures?)/"#,
        #"/test/fixtures/"#,
        #"^/usr/share/ca-certificates/|^/etc/ssl/certs/"#,
    ]

    public let patterns: [String]
    private let regexes: [PCRE2Regex]

    /// Compiles `patterns`; throws `SecretsError.pcre2Compile` naming the bad one.
    public init(patterns: [String] = PathAllowlist.defaultPatterns) throws {
        self.patterns = patterns
        regexes = try patterns.map { try PCRE2Regex($0, ruleID: "path allowlist \($0)") }
    }

    /// Whether findings at `path` are suppressed.
    public func contains(_ path: String) -> Bool {
        let data = PCRE2MatchData()
        // gitleaks-style patterns are often relative (`^config/`): try the path without its leading slash too.
        let relative = String(path.drop(while: { $0 == "/" }))
        return regexes.contains { $0.matches(path, data: data) || $0.matches(relative, data: data) }
    }
}

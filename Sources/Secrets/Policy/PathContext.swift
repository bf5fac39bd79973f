/// What a file's path says about the secrets in it, beyond the rule that found them: test data is written to
/// look real, and a package installed from a public registry was published by someone else.
public enum PathContext: Sendable, Equatable {
    /// Test suites, fixtures, mocks, examples and documentation (`/tests/`, `test_*.py`, `*.spec.ts`, `/fixtures/`,
    /// `/docs/`, `*.md`…): findings there are reported at low severity and one step lower confidence.
    case testData
    /// An installed third-party package or language runtime (Python site-/dist-packages and standard library,
    /// node_modules, gems and Ruby's library, Go's toolchain and module cache, a JDK, vendored and third-party
    /// trees, cloud SDKs): whatever it holds was published with it. A prefixed or checksummed token found there
    /// is at most medium; anything else (a keyword, a URL, the generic rule: the stuff of documentation) low.
    case publishedPackage

    /// Directory names that hold test data, and file names of test sources.
    static let testPattern = #"(?i)/(?:tests?|testing|testdata|test[_-]data|test[_-]?fixtures?|fixtures?|__tests__|__fixtures__|__mocks__|mocks?|spec|specs|dummyserver|examples?|samples?|docs?)/|\.(?:md|markdown|rst|adoc)$|/(?:test_[^/]+\.py|[^/]+_test\.(?:py|go|rb|js|ts|java|kt|rs|exs?)|[^/]+\.(?:test|spec)\.[cm]?[jt]sx?|[^/]+_spec\.rb|conftest\.py|[^/]+Tests?\.(?:java|kt|swift|cs|scala))$"#
    static let packagePattern = #"/(?:site|dist)-packages/|/node_modules/|/gems/[^/]+/gems/|/go/pkg/mod/|^/usr/(?:local/)?lib/(?:jvm|ruby|python[23][^/]*|go(?:-[^/]+)?|node_modules)/|^/usr/local/go/|^/usr/share/(?:java|maven-repo|ruby[^/]*|rubygems[^/]*|javascript|nodejs|gocode)/|/\.m2/repository/|/vendor/|/third[_-]party/|/google-cloud-sdk/"#

    private static let compiled: (test: PCRE2Regex, package: PCRE2Regex)? = {
        guard let t = try? PCRE2Regex(testPattern, ruleID: "test data paths"),
              let p = try? PCRE2Regex(packagePattern, ruleID: "package paths") else { return nil }
        return (t, p)
    }()

    /// The context of the absolute path `path` in an image, or nil for an ordinary file.
    public static func of(_ path: String) -> PathContext? {
        guard let re = compiled else { return nil }
        let data = PCRE2MatchData()
        if re.test.matches(path, data: data) { return .testData }
        if re.package.matches(path, data: data) { return .publishedPackage }
        return nil
    }

    /// `severity` of a finding of `confidence` as this context caps it.
    public func cap(_ severity: Severity, confidence: Confidence) -> Severity {
        switch self {
        case .testData: return .low
        case .publishedPackage: return confidence == .high ? min(severity, .medium) : .low
        }
    }
}

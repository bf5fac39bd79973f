import Foundation
import Secrets
import Sweep
import Testing
import TestSupport

/// The page's escaping, without a browser: hostile strings from an image come out as text, secrets never.
struct SweepHTMLTests {
    /// A report with one finding whose every image-borne string is hostile, and a secret still set.
    static func hostilePage(secret: String) throws -> (page: String, report: SweepReport) {
        let finding: [String: Any] = [
            "ruleID": "github-pat\"><script>alert(1)</script>", "severity": "high", "description": "d", "source": "file",
            "layerIndex": 2, "path": "/app/<img src=x onerror=alert(1)>\u{1b}[2J.env", "line": 3,
            "secretSHA256": String(repeating: "a", count: 64), "redacted": "ghp_…<b>", "secret": secret,
            "image": "reg.example/a:</script><script>alert(2)</script>", "repository": "reg.example/a",
            "app": "x' onmouseover='alert(3)", "machines": ["m\"1"],
        ]
        let f = try JSONDecoder().decode(SweepFinding.self, from: JSONSerialization.data(withJSONObject: finding))
        var report = try JSONDecoder.iso.decode(SweepReport.self, from: Data("""
            {"schemaVersion": 1, "run": {"id": 4, "startedAt": "2026-12-01T02:00:00Z", "finishedAt": "2026-12-01T02:07:00Z",
             "ruleset": "r", "status": "complete"},
             "images": {"scanned": 1, "cached": 0, "failed": [{"image": "</table><script>alert(4)</script>", "error": "e<i>"}]},
             "layers": {"scanned": 1, "cached": 0, "bytesFetched": 10}, "findings": {"new": [], "open": [], "resolved": []}}
            """.utf8))
        report.findings.new = [f]
        let page = SweepPage(report: report, trend: [.init(runID: 4, date: report.run.startedAt, bySeverity: [.high: 1], byGroup: ["app </svg><script>": 1])])
        return (String(decoding: SweepHTML.render(page), as: UTF8.self), report)
    }

    @Test func everyStringFromTheImageIsTextAndNoSecretIsInThePage() throws {
        let secret = FakeSecret.githubToken()
        let (html, _) = try Self.hostilePage(secret: secret)
        #expect(!html.contains(secret))
        #expect(html.components(separatedBy: "<script").count == 2, "only the page's own script element")
        #expect(!html.contains("<img") && !html.contains("<b>") && !html.contains("<i>") && !html.contains("onmouseover='"))
        #expect(html.contains("/app/&lt;img src=x onerror=alert(1)&gt;\\x1b[2J.env:3"))
        #expect(html.contains("reg.example/a:&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;"))
        #expect(html.contains("app x&#39; onmouseover=&#39;alert(3)"))
        #expect(!html.contains("\u{1b}"))
    }

    @Test func theContentSecurityPolicyForbidsTheNetworkAndAllowsOnlyThePagesOwnScriptAndStyle() throws {
        let (html, _) = try Self.hostilePage(secret: FakeSecret.githubToken())
        let csp = try #require(html.components(separatedBy: "Content-Security-Policy\" content=\"").dropFirst().first?.components(separatedBy: "\"").first)
        #expect(csp.hasPrefix("default-src 'none';"))
        for directive in ["img-src 'none'", "connect-src 'none'", "form-action 'none'", "base-uri 'none'"] { #expect(csp.contains(directive)) }
        #expect(!csp.contains("unsafe") && !csp.contains("http") && !csp.contains("*"))
    }
}

extension JSONDecoder {
    static var iso: JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }
}

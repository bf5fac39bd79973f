import Testing
@testable import Secrets

/// What keeps the generic and keyword rules quiet on files that are not secrets: binary documents, paths that
/// mark test data or published packages, and shapes that catalogue rows refuse (one class only).
struct PrecisionTests {
    static let engine = BuiltinEngine.shared

    func ruleIDs(_ text: [UInt8]) throws -> [String] { try BuiltinEngine.ruleIDs(text) }

    @Test func theGenericRuleSkipsBinaryDocumentsButProviderRulesDoNot() throws {
        let password = Gen.A(10) + "#" + Gen.A(8) + "4x"
        let stripe = "sk_live_" + Gen.A(30)
        let text = Array("DB_PASSWORD=\(password)\nSTRIPE=\(stripe)\n".utf8)
        #expect(try ruleIDs(text) == ["generic-secret-assignment", "stripe-live-key"])
        // The same bytes after an ELF-like header with NULs: a strings table, not a settings file.
        let binary = [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00] + text
        #expect(try ruleIDs(binary) == ["stripe-live-key"])
        // A NUL after the first kilobyte does not make a text file binary.
        let late = Array(String(repeating: "# comment line\n", count: 80).utf8) + text + [0]
        #expect(try ruleIDs(late) == ["generic-secret-assignment", "stripe-live-key"])
    }

    @Test func keywordRowsSkipBinaryDocumentsWhereverTheirFirstNulArrives() throws {
        let token = Gen.judged { Gen.H(32) }
        let text = Array("MIXPANEL_API_SECRET=\(token)\nSTRIPE=sk_live_\(Gen.A(30))\n".utf8)
        #expect(try ruleIDs(text) == ["mixpanel-api-secret", "stripe-live-key"])
        #expect(try ruleIDs([0x7F, 0x45, 0x4C, 0x46, 0x00] + text) == ["stripe-live-key"])
        // The NUL in a later write of the first kilobyte than the secret: the document is still binary, and its
        // database is chosen only once that kilobyte is in. A document shorter than that is judged at its end.
        let engine = try BuiltinEngine.shared.get()
        let matcher = try engine.makeMatcher()
        for tail in [[UInt8](repeating: 0x20, count: 600) + [0], [0]] {
            try matcher.begin()
            for piece in [text, tail] { try piece.withUnsafeBytes { try matcher.feed($0) } }
            #expect(try matcher.end().map { engine.rules[$0.ruleIndex].id } == ["stripe-live-key"])
        }
        // A NUL after the first kilobyte: text, read by every rule.
        try matcher.begin()
        for piece in [text, [UInt8](repeating: 0x20, count: 2000) + [0]] { try piece.withUnsafeBytes { try matcher.feed($0) } }
        #expect(try matcher.end().map { engine.rules[$0.ruleIndex].id } == ["mixpanel-api-secret", "stripe-live-key"])
    }

    @Test func keywordRowsRefuseBodiesOfOneCharacterClass() throws {
        // 32 hex characters that are all digits: a number, not a key; all letters a-f: a word or a pattern.
        #expect(try ruleIDs(Array("MIXPANEL_API_SECRET=\(Gen.rand(32, Gen.digits))\n".utf8)).isEmpty)
        #expect(try ruleIDs(Array("MIXPANEL_API_SECRET=\(Gen.rand(32, Array("abcdef")))\n".utf8)).isEmpty)
        #expect(try ruleIDs(Array("MIXPANEL_API_SECRET=\(Gen.H(32))\n".utf8)) == ["mixpanel-api-secret"])
    }

    @Test func keywordRowsIgnoreNamesOfDigestsAndIdentifiers() throws {
        #expect(try ruleIDs(Array("TOGETHER_SHA256=\(Gen.H(64))\n".utf8)).isEmpty)
        #expect(try ruleIDs(Array("statuspage_page_id: \(Gen.uuid())\n".utf8)).isEmpty)
        #expect(try ruleIDs(Array("TOGETHER_API_KEY=\(Gen.H(64))\n".utf8)) == ["together-api-key"])
    }

    @Test(arguments: [
        ("/app/tests/fixtures/server.key", PathContext.testData),
        ("/usr/lib/python3/dist-packages/oauthlib/tests/test_x.py", .testData),
        ("/srv/src/auth/client_test.go", .testData),
        ("/web/src/api.spec.ts", .testData),
        ("/opt/x/dummyserver/certs/cacert.key", .testData),
        ("/usr/local/lib/python3.12/site-packages/moto/moto_proxy/ca.key", .publishedPackage),
        ("/app/node_modules/some-lib/dist/index.js", .publishedPackage),
        ("/usr/lib/jvm/java-17-openjdk-amd64/lib/security/cacerts", .publishedPackage),
        ("/root/go/pkg/mod/github.com/x/y@v1.0.0/key.go", .publishedPackage),
        ("/usr/lib/ruby/3.1.0/uri/generic.rb", .publishedPackage),
        ("/usr/lib/python3.11/urllib/request.py", .publishedPackage),
        ("/usr/lib/go-1.19/src/net/http/client.go", .publishedPackage),
    ])
    func pathsThatMarkTestDataOrPackages(path: String, expected: PathContext) {
        #expect(PathContext.of(path) == expected)
    }

    @Test(arguments: ["/app/.env", "/app/config/settings.py", "/etc/ssl/private/server.key", "/home/u/contest.txt",
                      "/srv/attestation/key.pem", "/app/latest/config.yml"])
    func ordinaryPathsHaveNoContext(path: String) {
        #expect(PathContext.of(path) == nil)
    }

    @Test func contextsCapSeverity() {
        #expect(PathContext.testData.cap(.critical, confidence: .high) == .low)
        #expect(PathContext.publishedPackage.cap(.critical, confidence: .high) == .medium)
        #expect(PathContext.publishedPackage.cap(.low, confidence: .high) == .low)
        #expect(PathContext.publishedPackage.cap(.medium, confidence: .low) == .low)
        #expect(PathContext.publishedPackage.cap(.high, confidence: .medium) == .low)
    }

    @Test func shapesBuildBoundedRegexesAndFloors() {
        let shape = TokenShape.lit("shippo_live_") + TokenShape.hex(40)
        #expect(shape.pattern == #"shippo_live_[0-9a-f]{40}"#)
        #expect(shape.prefix == "shippo_live_")
        #expect(TokenShape.alnum(20...40).pattern == "[A-Za-z0-9]{20,40}")
        // Entropy floors follow the alphabet, lowered for runs too short to reach them.
        #expect(TokenShape.hex(32).entropyFloor == 3.0)
        #expect(TokenShape.b64(86).entropyFloor == 3.8)
        #expect(TokenShape.upper(8).entropyFloor == 2.0)
        #expect(CatalogEntry.keywordPattern("new_relic") == #"(?:new_relic|new\-relic|new\.relic|newrelic)(?-i:(?![a-z]))"#)
        #expect(CatalogEntry.keywordPattern("lob") == "(?<![A-Za-z0-9])lob(?-i:(?![a-z]))")
    }

    @Test func keywordsDoNotRunOnIntoLongerWordsNorJoinUnrelatedLines() throws {
        let token = Gen.H(32)
        #expect(try ruleIDs(Array("MIXPANEL_API_SECRET=\(token)\n".utf8)) == ["mixpanel-api-secret"])
        #expect(try ruleIDs(Array("mixpanelApiSecret: \"\(token)\"\n".utf8)) == ["mixpanel-api-secret"])
        // A package listing: a description naming the provider, then the next field's digest.
        #expect(try ruleIDs(Array("Description: client library for Mixpanel analytics\nDescription-md5: \(token)\n".utf8)).isEmpty)
        // The keyword inside a longer lower-case word is not the provider.
        #expect(try ruleIDs(Array("mixpanelish = \(token)\n".utf8)).isEmpty)
        // A YAML parent key or an XML element does carry on to the next line.
        #expect(try ruleIDs(Array("mixpanel:\n  api_secret: \(token)\n".utf8)) == ["mixpanel-api-secret"])
    }
}

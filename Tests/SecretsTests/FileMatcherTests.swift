import Testing
import TestSupport
@testable import Secrets

@Suite struct FileMatcherTests {
    let engine: MatchEngine

    init() throws {
        engine = try MatchEngine(rules: BuiltinRules.all)
    }

    private func ids(_ hits: [RawHit]) -> [String] { hits.map { engine.rules[$0.ruleIndex].id } }

    @Test func findsASecretThatStraddlesEveryPossibleChunkBoundary() throws {
        let token = FakeSecret.flyToken()
        let text = Array("line one\nexport FLY_API_TOKEN=\(token)\nend\n".utf8)
        let m = try engine.makeMatcher()
        for split in 1..<text.count {
            try m.begin()
            try text[..<split].withUnsafeBytes { try m.feed($0) }
            try text[split...].withUnsafeBytes { try m.feed($0) }
            let hits = try m.end()
            #expect(ids(hits) == ["flyio-access-token"], "split at \(split)")
            #expect(hits.first.map { String(decoding: $0.secret, as: UTF8.self) } == token)
            #expect(hits.first?.line == 2)
        }
    }

    @Test func findsASecretFedOneByteAtATime() throws {
        let token = FakeSecret.githubToken()
        let m = try engine.makeMatcher()
        try m.begin()
        for b in Array("GITHUB_TOKEN=\(token)".utf8) {
            try [b].withUnsafeBytes { try m.feed($0) }
        }
        let hits = try m.end()
        #expect(hits.map { String(decoding: $0.secret, as: UTF8.self) } == [token])
    }

    @Test func findsASecretAtTheVeryEndWithoutANewline() throws {
        let token = FakeSecret.npmToken()
        let hits = try engine.makeMatcher().scan("//registry.npmjs.org/:_authToken=\(token)")
        #expect(ids(hits) == ["npm-access-token"])
        #expect(hits.first.map { String(decoding: $0.secret, as: UTF8.self) } == token)
    }

    @Test func findsSecretsFarApartInALargeDocumentWithCorrectLines() throws {
        // Several MB so the matcher's buffer is compacted many times between and around the secrets.
        let a = FakeSecret.stripeKey(), b = FakeSecret.flyToken(), c = FakeSecret.githubToken()
        let filler = String(repeating: "lorem ipsum dolor sit amet, consectetur adipiscing elit\n", count: 40_000)
        let doc = "first \(a)\n" + filler + "second \(b)\n" + filler + filler + "third \(c)"
        let m = try engine.makeMatcher()
        try m.begin()
        var bytes = Array(doc.utf8)
        // Feed in odd-sized pieces so secrets land on arbitrary boundaries.
        var offset = 0
        while offset < bytes.count {
            let n = min(77_777, bytes.count - offset)
            try bytes[offset..<(offset + n)].withUnsafeBytes { try m.feed($0) }
            offset += n
        }
        bytes.removeAll()
        let hits = try m.end()
        #expect(hits.map { String(decoding: $0.secret, as: UTF8.self) } == [a, b, c])
        #expect(hits.map(\.line) == [1, 40_002, 120_003])
    }

    /// Feeds `doc` in two commits split at `cut` and returns the secrets found.
    private func secrets(_ m: FileMatcher, _ doc: [UInt8], cut: Int) throws -> [String] {
        try m.begin()
        try doc[..<cut].withUnsafeBytes { try m.feed($0) }
        try doc[cut...].withUnsafeBytes { try m.feed($0) }
        return try m.end().map { String(decoding: $0.secret, as: UTF8.self) }
    }

    @Test func aSecretCutByTheWindowEdgeIsReportedWhole() throws {
        // A run of candidates longer than the matcher's region limit is confirmed while data still arrives;
        // the last key ends past the bytes seen so far. `(?=…|\z)` must not end it at the edge.
        let keys = (0..<900).map { _ in "django-insecure-" + FakeSecret.random(50) }
        let doc = Array(keys.map { "SECRET_KEY=\($0)\n" }.joined().utf8)
        let m = try engine.makeMatcher()
        m.maxHits = 10_000
        let lastStart = doc.count - 1 - 50 - 16
        for cut in stride(from: lastStart + 16 + 40, to: doc.count - 1, by: 3) {
            let found = try secrets(m, doc, cut: cut).filter { $0.hasPrefix("django-insecure-") }
            #expect(found == keys, "cut at \(cut): \(found.count) keys, last \(found.last?.count ?? 0) bytes")
        }
    }

    @Test func aLongerTokenCutAtTheWindowEdgeIsNotTakenForAKey() throws {
        // `(?![A-Z0-9])` at the edge of the data seen so far must wait for the next byte: the last token is
        // 28 characters, not an AWS key followed by something else.
        // Each key drawn again while the rules would not report it alone (a run of letters in order, which the
        // scorer takes for fill by design, about one key in many thousands: a CI run met one): this test counts every one.
        let keys = (0..<3000).map { _ in
            Gen.judged({ FakeSecret.awsKeyIDDistinct() }, rejects: { (try? BuiltinEngine.ruleIDs("\($0)\n"))?.isEmpty != false })
        }
        let long = FakeSecret.awsKeyIDDistinct() + "ABCDEFGH"
        let doc = Array((keys.joined(separator: " ") + " " + long + "\n").utf8)
        let m = try engine.makeMatcher()
        m.maxHits = 10_000
        let cut = doc.count - 1 - 8
        let found = try secrets(m, doc, cut: cut)
        #expect(found == keys, "\(found.count) found; extra: \(Set(found).subtracting(keys))")
    }

    @Test func findingsPerDocumentAreCappedMostSevereFirst() throws {
        let keys = (0..<3000).map { _ in FakeSecret.awsKeyIDDistinct() }
        let critical = FakeSecret.githubToken()
        let m = try engine.makeMatcher()
        m.maxHits = 100
        try m.begin()
        var doc = Array((keys.map { "id = \($0)\n" }.joined() + "token = \(critical)\n").utf8)
        try doc.withUnsafeMutableBytes { try m.feed(UnsafeRawBufferPointer($0)) }
        let hits = try m.end()
        #expect(hits.count == 100)
        // Uncapped, the same document has every secret (a rare random key may fail the entropy gate).
        let uncapped = try engine.makeMatcher()
        uncapped.maxHits = 100_000
        let every = try uncapped.scan(String(decoding: doc, as: UTF8.self))
        #expect(every.count > 2900 && uncapped.truncated == 0)
        #expect(m.truncated == every.count - 100)
        #expect(hits.contains { String(decoding: $0.secret, as: UTF8.self) == critical }, "the critical one is kept")
        #expect(hits.map(\.start) == hits.map(\.start).sorted(), "in document order")
        let critLine = try #require(hits.first { engine.rules[$0.ruleIndex].id == "github-token" }?.line)
        #expect(critLine == 3001)
        // The next document starts afresh.
        #expect(try m.scan("id = \(keys[0])\n").count == 1 && m.truncated == 0)
    }

    @Test func containmentKeepsTheLongerOrMoreSevereSpan() {
        let rules = [Rule(id: "a", description: "", severity: .low, regex: "x"),
                     Rule(id: "b", description: "", severity: .high, regex: "x")]
        func hit(_ rule: Int, _ start: Int64, _ len: Int) -> RawHit {
            RawHit(ruleIndex: rule, secret: Array(repeating: 0x41, count: len), start: start, line: 1)
        }
        let hits = [hit(0, 10, 5), hit(0, 0, 40), hit(1, 50, 8), hit(0, 50, 8), hit(0, 60, 3), hit(1, 61, 3), hit(0, 61, 3)]
        let kept = FileMatcher.dropContained(hits, rules: rules)
        #expect(kept == [hit(0, 0, 40), hit(1, 50, 8), hit(0, 60, 3), hit(1, 61, 3)])
    }

    @Test func oneFindingForAWholeFlyV1Bundle() throws {
        let bundle = FakeSecret.flyBundle()
        let hits = try engine.makeMatcher().scan("FLY_API_TOKEN=\"\(bundle)\"\n")
        #expect(ids(hits) == ["flyio-macaroon-bundle"])
        #expect(hits.first.map { String(decoding: $0.secret, as: UTF8.self) } == bundle)
    }

    @Test func placeholdersAreNotSecrets() throws {
        let m = try engine.makeMatcher()
        #expect(try m.scan("FLY_API_TOKEN=fo1_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx").isEmpty)
        #expect(try m.scan("aws_access_key_id = AKIAIOSFODNN7EXAMPLE").isEmpty)
        #expect(try m.scan("DATABASE_URL=postgres://user:password@localhost/db").isEmpty)
        #expect(try m.scan("DATABASE_URL=postgres://app:${DB_PASSWORD}@db/app").isEmpty)
        #expect(try m.scan("STRIPE_KEY=sk_live_Example" + FakeSecret.random(24)).isEmpty)
        #expect(try m.scan("GITHUB_TOKEN=ghp_" + FakeSecret.random(26) + "SAMPLE1234").isEmpty)
    }

    /// A real token's random body may spell a placeholder word in mixed case; it is still a token.
    @Test func aRandomBodyThatSpellsAWordInMixedCaseIsStillReported() throws {
        let m = try engine.makeMatcher()
        for word in ["DummY", "sAmPle", "eXample", "rEDACTED"] {
            let token = "ghp_" + FakeSecret.random(36 - word.count) + word
            #expect(ids(try m.scan("GITHUB_TOKEN=\(token)\n")) == ["github-token"], "\(token)")
            let stripe = "sk_live_" + FakeSecret.random(10) + "x" + word + FakeSecret.random(10)
            #expect(ids(try m.scan("key: \(stripe)\n")) == ["stripe-live-key"], "\(stripe)")
        }
    }

    @Test func privateKeyNeedsABody() throws {
        let m = try engine.makeMatcher()
        let armourOnly = "\u{7f}ELF\0\0-----BEGIN RSA PRIVATE KEY-----\0\u{1}\u{2}binary\0-----END RSA PRIVATE KEY-----\0"
        #expect(try m.scan(armourOnly).isEmpty)
        let body = (0..<8).map { _ in FakeSecret.random(64, FakeSecret.alnum + ["+", "/"]) }.joined(separator: "\n")
        let pem = "-----BEGIN RSA PRIVATE KEY-----\n\(body)\n-----END RSA PRIVATE KEY-----"
        let hits = try m.scan("key:\n\(pem)\n")
        #expect(ids(hits) == ["private-key"])
        #expect(hits.first.map { String(decoding: $0.secret, as: UTF8.self) } == pem)
        #expect(hits.first?.line == 2)
        // The same key as a JSON string (a GCP service-account file) is one finding too.
        let json = #"{"private_key": ""# + pem.replacingOccurrences(of: "\n", with: "\\n") + #"\n"}"#
        #expect(ids(try m.scan(json)) == ["private-key"])
    }

    @Test(arguments: [
        ("fo1_", "Fly.io access token"),
        ("ghp_", "GitHub"),
    ])
    func redactionNeverShowsMoreThanAFormatPrefixAndTwoCharacters(prefix: String, _: String) {
        let secret = prefix + FakeSecret.random(40)
        let r = Redaction.redact(secret)
        #expect(r.hasPrefix(prefix))
        #expect(r.count == prefix.count + 3)
        #expect(Redaction.redact("hunter2hunter2") == "hu…")
    }

    @Test func sha256IsOfTheExactSecretText() {
        #expect(Redaction.sha256("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func entropyOfUniformAndRepeatedText() {
        #expect(shannonEntropy(Array("aaaaaaaa".utf8)) == 0)
        #expect(abs(shannonEntropy(Array("abcdefgh".utf8)) - 3.0) < 1e-9)
    }

    @Test func fingerprintChangesWithTheRules() throws {
        let other = try MatchEngine(rules: Array(BuiltinRules.all.dropLast()))
        #expect(other.fingerprint != engine.fingerprint)
        #expect(try MatchEngine(rules: BuiltinRules.all).fingerprint == engine.fingerprint)
    }

    @Test func anInvalidRegexNamesItsRule() {
        let bad = Rule(id: "broken-rule", description: "x", severity: .low, regex: "(unclosed")
        #expect(throws: SecretsError.self) { try MatchEngine(rules: [bad]) }
        do { _ = try MatchEngine(rules: [bad]) } catch { #expect("\(error)".contains("broken-rule")) }
    }
}

@Suite struct PathAllowlistTests {
    @Test(arguments: [
        ("/usr/lib/x86_64-linux-gnu/libgnutls.so.30.34.3", true),
        ("/lib/x86_64-linux-gnu/libcrypto.so.3", true),
        ("/usr/share/doc/openssl/README", true),
        ("/usr/lib/python3.11/test/keycert.pem", true),
        ("/usr/local/lib/python3.11/site-packages/tornado/test/test.key", true),
        ("/usr/local/lib/libapp.so", false),
        ("/app/.env", false),
        ("/app/node_modules/.bin/tool", false),
        ("/root/.ssh/id_rsa", false),
    ])
    func defaultAllowlist(path: String, allowed: Bool) throws {
        #expect(try PathAllowlist().contains(path) == allowed)
    }
}

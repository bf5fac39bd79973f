import Testing
@testable import Secrets

/// The reasons found on clean images (a Debian image with package lists, C headers, vim syntax files, Python
/// sources): each shape is not reported, and a random value of the same shape (minted here) still is.
extension FalseAlarmReasonTests {
    static let words = ["client", "switching", "mapping", "conceptual", "physical", "friendly", "source", "plugin", "webpack"]

    /// A keyword row's candidate that spells the provider's name is an identifier naming the provider
    /// (`ElasticAPMSourceMapPlugin`, `ringcentral-extensible`), not its token.
    @Test func aTokenSpellingItsProvidersNameIsAnIdentifier() throws {
        let row = try #require(BuiltinRules.catalog.first { e in
            if case .keyed(let words) = e.context, words.contains(where: { $0.count >= 5 }), e.shape == TokenShape.alnum(20...40) { return true }
            return false
        })
        guard case .keyed(let words) = row.context, let word = words.first(where: { $0.count >= 5 }) else { return }
        let name = word.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        #expect(try mostly { try !ruleIDs("\(word) token: \(name)\(Gen.A(24 - name.count))\n").contains(row.id) }, "\(row.id)")
        #expect(try mostly { try ruleIDs("\(word) token: \(Gen.A(24))\n").contains(row.id) }, "\(row.id)")
    }

    /// Words joined by `-` or `_` next to a provider's name (a package list's description) are prose.
    @Test func wordsJoinedByDashesAreNoTokenBody() throws {
        for _ in 0..<20 {
            let joined = Self.words.shuffled().prefix(2).joined(separator: Bool.random() ? "-" : "_")
            #expect(SecretScore.bodyReadsAsWords(Array(joined.utf8)) && SecretScore.isWordsJoined(Array(joined.utf8)), "\(joined)")
        }
        // Drawn bodies of letters, `-` and `_` (no digit) are not words joined: at most 2 in 20,000.
        let alphabet = Gen.letters + Array("-_")
        let judged = (0..<20000).filter { i in SecretScore.isWordsJoined(Array(Gen.rand(i % 2 == 0 ? 16 : 24, alphabet).utf8)) }.count
        #expect(judged <= 2, "\(judged) of 20000 drawn bodies judged words")
        let row = try #require(BuiltinRules.catalog.first { e in
            if case .keyed = e.context, e.shape == TokenShape.url(16) { return true }
            return false
        })
        guard case .keyed(let keys) = row.context else { return }
        var phrase = ""
        while phrase.count != 16 { phrase = Self.words.shuffled().prefix(2).joined(separator: "-"); phrase = String(phrase.prefix(16)) }
        #expect(try !ruleIDs("\(keys[0]) ads server with \(phrase) support\n").contains(row.id), "\(phrase)")
        #expect(try mostly { try ruleIDs("\(keys[0]) ads server with \(Gen.W(16)) support\n").contains(row.id) })
    }

    /// A value holding the name it is given, or starting like it, is code: an alias (`Name = module.Name`), a C
    /// typedef (`typedef struct NameStr Name;`), a list of directives of one family.
    @Test func aValueRepeatingItsNameIsCode() throws {
        let generic = "generic-secret-assignment"
        let acronym = Gen.rand(4, Gen.upper)
        #expect(try !ruleIDs("typedef struct SEC_\(acronym)12PrivateKeyStr SEC_\(acronym)12PrivateKey;\n").contains(generic))
        #expect(try !ruleIDs("typedef struct sec_\(acronym)12AuthenticatedSafeStr sec_\(acronym)12AuthenticatedSafe;\n").contains(generic))
        #expect(try !ruleIDs("syn keyword apacheDeclaration Auth\(acronym)UserPWQuery Auth\(acronym)UserRealmQuery\n").contains(generic))
        let name = "Reg\(Gen.rand(4, Gen.lower))Key"
        #expect(try !ruleIDs("        \(name) = win32api.\(name)\n").contains(generic), "\(name)")
        // The same names given drawn values are reported.
        #expect(try mostly { try ruleIDs("typedef struct SEC_\(acronym)12PrivateKeyStr \(Gen.A(20));\n").contains(generic) })
        #expect(try mostly { try ruleIDs("        \(name) = \(Gen.A(19))\n").contains(generic) })
    }

    /// A build-status badge's token in an image URL (`…/badge.svg?style=svg&circle-token=…`) is scoped to reading a
    /// status, made to be published; the same token in an API URL is a credential.
    @Test func aBadgeImagesQueryTokenIsPublished() throws {
        let generic = "generic-secret-assignment"
        let repo = "gh/\(Gen.rand(6, Gen.lower))/\(Gen.rand(8, Gen.lower))"
        #expect(try mostly {
            try !ruleIDs("[![CircleCI](https://circleci.com/\(repo).svg?style=svg&circle-token=\(Gen.H(40)))](https://circleci.com/\(repo))\n").contains(generic)
        })
        #expect(try mostly { try ruleIDs("curl https://circleci.com/api/v1.1/project/\(repo)?circle-token=\(Gen.H(40))\n").contains(generic) })
    }

    /// Letters in order next to digits in order (`abc123`, `xyz789`) are typed into a value, not drawn.
    @Test func typedRunsOfLettersAndDigitsArePlaceholders() throws {
        let generic = "generic-secret-assignment"
        let letters = Array("abcdefghijklmnopqrstuvwxyz"), start = Int.random(in: 0..<23), digit = Int.random(in: 1...7)
        let typed = String(letters[start..<(start + 3)]) + (digit..<(digit + 3)).map(String.init).joined()
        #expect(try !ruleIDs("token := \"duffel_test_\(typed)\"\n").contains(generic), "\(typed)")
        #expect(try !ruleIDs("api_token = \"\(Gen.A(20))\(typed)\"\n").contains(generic), "\(typed)")
        #expect(try mostly { try ruleIDs("api_token = \"\(Gen.A(26))\"\n").contains(generic) })
        // Drawn tokens of letters and digits hold such runs about never.
        let held = (0..<20000).filter { i in SecretScore.hasTypedRunPair(Array(Gen.A(i % 2 == 0 ? 24 : 40).utf8)) }.count
        #expect(held <= 1, "\(held) of 20000 drawn tokens")
    }

    /// Names joined by `/` (`WebAuthn/FIDO2`) are code, base64 with a `/` is not.
    @Test func namesJoinedBySlashesAreCode() {
        for _ in 0..<20 {
            let value = Self.words.shuffled().prefix(2).map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined() + "/"
                + Gen.rand(4, Gen.upper) + String(Int.random(in: 1...9))
            #expect(SecretScore.of(Array(value.utf8)) == 0, "\(value)")
        }
        #expect(mostly { SecretScore.of(Array((Gen.A(14) + "/" + Gen.A(14)).utf8)) >= SecretScore.strong })
    }
}

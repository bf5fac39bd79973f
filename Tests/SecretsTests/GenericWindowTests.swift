import Testing
@testable import Secrets

/// The generic rules confirm a candidate over the lines of its name and value only (`Rule.lineSpan`) and check the
/// identifier before the name outside the regex (`NameLead`): what they find must be what they found before.
struct GenericWindowTests {
    func ruleIDs(_ text: String) throws -> [String] { try BuiltinEngine.ruleIDs(text) }
    func found(_ text: String) throws -> Bool { try ruleIDs(text).contains("generic-secret-assignment") }

    /// Source code above the value: what a window of a kilobyte used to read, twenty lines of it.
    let code = (0..<20).map { "int handler_\($0)(const struct request *req, size_t len);\n" }.joined()

    @Test func aNameTheValueAndTheSignMayEachStandOnALineOfTheirOwn() throws {
        #expect(try mostly { try found(code + "api_token\n=\n\"\(Gen.A(32))\"\n") })
        #expect(try mostly { try found(code + "<add key=\"ApiToken\"\nvalue\n=\n\"\(Gen.A(32))\"/>\n") })
        #expect(try mostly { try found(code + "<clientSecret>\n\n  \(Gen.A(32))\n</clientSecret>\n") })
    }

    @Test func aValueAtTheEndOfALongLineIsFound() throws {
        let minified = (0..<60).map { "f\($0)=function(a){return a+\($0)};" }.joined()
        #expect(try mostly { try found(minified + "var apiToken=\"\(Gen.A(32))\";" + minified + "\n") })
    }

    /// Signed session and OAuth tokens run to hundreds of characters: such a value is found whole, up to a kilobyte,
    /// and one longer than that is not cut to a prefix.
    @Test func aTokenOfHundredsOfCharactersIsFoundWhole() throws {
        let engine = try BuiltinEngine.shared.get()
        func hits(_ value: String) throws -> [String] {
            let matcher = try engine.makeMatcher()
            return try matcher.scan(code + "session_token = '\(value)'\n").filter { engine.rules[$0.ruleIndex].id == "generic-secret-assignment" }
                .map { String(decoding: $0.secret, as: UTF8.self) }
        }
        #expect(try mostly {
            let value = "\(Gen.W(36)).\(Gen.W(420)).\(Gen.W(180))"
            return try hits(value) == [value]
        })
        // The longest the rule takes, with twenty lines of code above it: the whole value is within reach.
        #expect(try mostly {
            let value = Gen.W(1_024)
            return try hits(value) == [value]
        })
        #expect(try mostly { try hits(Gen.W(1_100)).isEmpty })
    }

    /// Vectorscan looks for the byte after the value (`genericPrefilter`): every way a value may end still finds it,
    /// the end of the document too, for both rules.
    @Test(arguments: ["\"", "'", "`", " ", "\t", ",", ";", "}", ")", "]", "<", "\\", "&", "\n", ""])
    func aValueIsFoundWhateverEndsIt(_ end: String) throws {
        #expect(try mostly { try found(code + "api_token=\(Gen.A(32))" + end) }, "strong, ending \(end.debugDescription)")
        #expect(try mostly { try ruleIDs(code + "key=\(Gen.A(24))" + end).contains("generic-secret-weak") },
                "weak, ending \(end.debugDescription)")
        #expect(try mostly { try ruleIDs(code + "key=\(Gen.A(128))" + end).contains("generic-secret-weak") },
                "weak, 128 characters, ending \(end.debugDescription)")
    }

    /// What follows the value is still read: a value running into code is not one.
    @Test func aValueRunningIntoCodeIsNotFound() throws {
        #expect(try mostly { try !found(code + "api_token=\(Gen.A(32))(x)\n") })
        #expect(try mostly { try found(code + "api_token=\(Gen.A(32)) (x)\n") })
    }

    @Test func theIdentifierBeforeTheNameMayBeFortyCharactersLong() throws {
        let forty = "service_" + String(repeating: "x", count: 31) + "_"
        #expect(forty.count == 40)
        #expect(try mostly { try found("\(forty)secret = \"\(Gen.A(32))\"\n") })
        #expect(try mostly { try !found("a\(forty)secret = \"\(Gen.A(32))\"\n") })
        // The name need not start the identifier: a provider's name, dots and dashes before it.
        #expect(try mostly { try found("app.acme-cloud.apiToken = \"\(Gen.A(32))\"\n") })
    }

    @Test(arguments: ["// ", "#", "# ", ">>> ", "... "])
    func aCommentOrAPromptBeforeTheNameIsDocumentation(_ lead: String) throws {
        #expect(try mostly { try !found("\(lead)client_secret = '\(Gen.A(32))'\n") })
        #expect(try mostly { try found("x = 1; client_secret = '\(Gen.A(32))'\n") })
    }

    @Test func aWordSayingTheValueDoesNotWorkCountsOnlyNearTheIdentifiersStart() throws {
        // Thirty characters in, `sample` still marks the name; further in it is part of a longer name.
        let near = "a" + String(repeating: "b", count: 28) + "_sample_token"
        let far = "a" + String(repeating: "b", count: 30) + "_sample_token"
        #expect(try mostly { try !found("\(near) = \"\(Gen.A(32))\"\n") })
        #expect(try mostly { try found("\(far) = \"\(Gen.A(32))\"\n") })
    }

    @Test func theLeadIsReadFromTheBytesBeforeTheName() {
        func allows(_ text: String) -> Bool {
            let bytes = Array(text.utf8)
            let name = text.utf8.count - "token".utf8.count
            return bytes.withUnsafeBytes { NameLead.generic.allows($0, name: name) }
        }
        #expect(allows("token"))
        #expect(allows("x = MY_APP_token"))
        #expect(!allows("x = MY_FAKE_token"))
        #expect(!allows("x = #MY_APP_token"))
        #expect(!allows(String(repeating: "a", count: 41) + "token"))
        #expect(allows(" " + String(repeating: "a", count: 40) + "token"))
    }
}

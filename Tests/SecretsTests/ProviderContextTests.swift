import Testing
@testable import Secrets

/// Detection where the provider's name and its token are apart: the provider named on the line just before, which
/// assigns nothing (a log's `[INFO] calling the acme API`, then `[DEBUG] using key=…`), and a Jenkins credentials XML whose
/// `<secret>` holds the value in braces, and the YAML mapping or JSON object a value is indented under (`acme:` above
/// `  key: …`) or the INI section it stands in (`[acme]`).
/// Values are minted at run time; claims about them are rates.
struct ProviderContextTests {
    func ruleIDs(_ text: String) throws -> [String] { try BuiltinEngine.ruleIDs(text) }

    /// Keyword rows whose first keyword is a name of five or more letters and whose token is a bare run of 16 or more
    /// (no literal part): the rows only a provider's name identifies. Every seventh, to keep the test short.
    static let rows: [(entry: CatalogEntry, word: String)] = BuiltinRules.catalog.compactMap { e in
        guard case .keyed(let words) = e.context, let word = words.first, word.count >= 5, word.allSatisfy(\.isLetter),
              e.shape.segments.count == 1, case .run(let a, let n) = e.shape.segments[0], a != .digits, n.lowerBound >= 16
        else { return nil }
        return (e, word)
    }.enumerated().filter { $0.offset % 7 == 0 }.map(\.element)

    @Test func aProviderNamedOnAnEarlierLineReportsItsTokenUnderItsRow() throws {
        #expect(Self.rows.count >= 20)
        for (row, word) in Self.rows {
            let found = try mostly {
                let text = "[INFO] Sending request to the \(word) API\n[DEBUG] Using Key=\(CatalogExample.sample(row.shape))\n[INFO] done\n"
                return try ruleIDs(text).contains(row.id)
            }
            #expect(found, "\(row.id)")
        }
    }

    @Test func theEarlierLineMustNameTheProviderAndAssignNothing() throws {
        for (row, word) in Self.rows.prefix(12) {
            // The name on a line that sets something else (another setting of a `.env` file) says nothing of this one.
            let assigned = "\(word.uppercased())_REGION=eu\nKey=\(CatalogExample.sample(row.shape))\n"
            #expect(try !ruleIDs(assigned).contains(row.id), "\(row.id): \(assigned)")
            // Nor does a name further up, another line between: the log's subject, not this value's.
            let far = "calling the \(word) API\nsending the request\nKey=\(CatalogExample.sample(row.shape))\n"
            #expect(try !ruleIDs(far).contains(row.id), "\(row.id): far")
            // A value one character short is not the provider's token.
            let short = "calling the \(word) API\nKey=\(CatalogExample.sample(row.shape, shortBy: 1))\n"
            #expect(try !ruleIDs(short).contains(row.id), "\(row.id): short")
        }
    }

    @Test func theYAMLMappingAValueIsIndentedUnderNamesItsProvider() throws {
        for (row, word) in Self.rows.prefix(12) {
            let token = { CatalogExample.sample(row.shape) }
            // The mapping's key names the provider, other settings between, nested one level deeper or not.
            let yaml = "\(word):\n  endpoint: https://api.\(word).test\n  region: eu\n  key: \(token())\n"
            #expect(try mostly { try ruleIDs(yaml).contains(row.id) }, "\(row.id): \(yaml)")
            let nested = "services:\n  \(word):  # production\n    url: https://api.\(word).test\n    key: \(token())\n"
            #expect(try mostly { try ruleIDs(nested).contains(row.id) }, "\(row.id): nested")
            // A mapping the value is not under (a sibling closed before it) says nothing of it.
            let sibling = "\(word):\n  endpoint: https://api.\(word).test\nbilling:\n  key: \(token())\n"
            #expect(try !ruleIDs(sibling).contains(row.id), "\(row.id): sibling")
            // Nor does a line indented less that sets something rather than opening a mapping.
            let setting = "\(word)_region: eu\n  key: \(token())\n"
            #expect(try !ruleIDs(setting).contains(row.id), "\(row.id): setting")
        }
    }

    @Test func theJSONObjectOrINISectionAValueStandsInNamesItsProvider() throws {
        for (row, word) in Self.rows.prefix(12) {
            let token = { CatalogExample.sample(row.shape) }
            // A JSON object opened by the provider's name, other settings before the value.
            let json = "{\n  \"\(word)\": {\n    \"region\": \"eu\",\n    \"key\": \"\(token())\"\n  }\n}\n"
            #expect(try mostly { try ruleIDs(json).contains(row.id) }, "\(row.id): \(json)")
            // An INI or TOML section: the header names every setting under it, comments and blank lines between.
            let ini = "[\(word)]\nregion = eu\n; production\n\nkey = \(token())\n"
            #expect(try mostly { try ruleIDs(ini).contains(row.id) }, "\(row.id): \(ini)")
            // A section closed by another before the value says nothing of it, nor does a line that is no setting.
            let other = "[\(word)]\nregion = eu\n[billing]\nkey = \(token())\n"
            #expect(try !ruleIDs(other).contains(row.id), "\(row.id): other section")
            let prose = "[\(word)]\nThe settings below are for billing\nkey = \(token())\n"
            #expect(try !ruleIDs(prose).contains(row.id), "\(row.id): prose")
            // A JSON object of another name, closed before the value, neither.
            let closed = "{\n  \"\(word)\": {\"region\": \"eu\"},\n  \"billing\": {\n    \"key\": \"\(token())\"\n  }\n}\n"
            #expect(try !ruleIDs(closed).contains(row.id), "\(row.id): closed")
        }
    }

    /// A Jenkins `StringCredentialsImpl` entry with `secret` as its secret element's text.
    static func jenkins(_ secret: String, element: String = "secret") -> String {
        """
        <com.cloudbees.plugins.credentials.impl.StringCredentialsImpl>
          <scope>GLOBAL</scope>
          <id>deploy-\(Gen.LD(6))</id>
          <\(element)>\(secret)</\(element)>
          <description>configuration for production</description>
        </com.cloudbees.plugins.credentials.impl.StringCredentialsImpl>

        """
    }

    @Test func aJenkinsCredentialSecretIsReportedWhateverItsProvider() throws {
        // Encrypted under the instance's key (`{AQAAABAAAA…}`), or a value after a label, in any secret element.
        #expect(try mostly { try ruleIDs(Self.jenkins("{AQAAABAAAA" + Gen.B(60) + "=}")).contains("jenkins-credential-secret") })
        #expect(try mostly { try ruleIDs(Self.jenkins("{acme " + Gen.LD(32) + "}")).contains("jenkins-credential-secret") })
        #expect(try mostly {
            try ruleIDs(Self.jenkins("{" + Gen.A(40) + "}", element: "apiToken")).contains("jenkins-credential-secret")
        })
        // Templates, variables, the element's name alone and low-entropy fill are not secrets.
        for text in ["{{ jenkins_deploy_secret }}", "{${DEPLOY_TOKEN}}", "{your deploy token here}", "{AQAAABAAAAAAAAAA}",
                     "{" + Gen.A(40) + "", Gen.A(40)] {
            #expect(try !ruleIDs(Self.jenkins(text)).contains("jenkins-credential-secret"), "\(text)")
        }
        // Another element (the credential's id) is no secret.
        #expect(try !ruleIDs("<id>{\(Gen.A(40))}</id>\n").contains("jenkins-credential-secret"))
    }
}

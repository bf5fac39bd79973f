import Foundation
import Testing
@testable import Secrets

/// Recall by mechanism (issue 19, round five): token formats wider than our shapes were, legacy Slack tokens whose
/// ids repeat digits, a short provider name next to its keys, credentials on a curl command line and Kubernetes
/// Secret manifests. Every value is minted at run time; claims about random values are rates over fresh draws.
struct MechanismTests {
    func ruleIDs(_ text: String) throws -> [String] { try BuiltinEngine.ruleIDs(text) }

    /// `count` random characters of `alphabet` that the policy takes for drawn at random (not counted fill).
    static func drawn(_ count: Int, _ alphabet: [Character]) -> String {
        while true {
            let s = Gen.rand(count, alphabet)
            if !SecretScore.isCountedFill(Array(s.utf8)) { return s }
        }
    }

    // MARK: Telegram

    /// A bot id of `digits` digits, then `:A` and a 34-character body.
    static func telegram(idDigits: Int) -> String {
        "\(Int.random(in: 1...9))\(drawn(idDigits - 1, Gen.digits)):A\(drawn(34, Gen.url))"
    }

    @Test(arguments: [11, 13, 16])
    func aTelegramBotTokenWithALongIdIsFoundNextToItsName(idDigits: Int) throws {
        for line in ["telegramToken=@T", "TELEGRAM_BOT_TOKEN: \"@T\"", "<telegramToken>\n    @T\n</telegramToken>"] {
            #expect(try mostly { try !ruleIDs(line.replacing("@T", with: Self.telegram(idDigits: idDigits)) + "\n").isEmpty }, "\(line)")
        }
        // Without the name, a body that does not start as BotFather's (`AA…`) is nobody's.
        let bare = try mostly { try ruleIDs("value=\(Self.telegram(idDigits: idDigits).replacing(":AA", with: ":Ab"))\n").isEmpty }
        #expect(bare)
        // BotFather's `AA…` body is found without a name, whatever the id's length.
        #expect(try mostly { try ruleIDs("x \(Int.random(in: 1...9))\(Self.drawn(idDigits - 1, Gen.digits)):AA\(Self.drawn(33, Gen.url))\n")
            .contains("telegram-bot-token") })
    }

    // MARK: Slack

    /// A legacy workspace token whose ids repeat a digit: `xoxa-2-511111111-…-<hex>`.
    static func slackLegacy(_ kind: String, tail: String) -> String {
        let d = String(Int.random(in: 1...9))
        // Ids this repetitive bring the whole token's entropy under 3 bits a character nearly every draw.
        return "xox\(kind)-2-\(d)\(String(repeating: "1", count: 8))-3\(String(repeating: "1", count: 10))-\(d)\(String(repeating: "1", count: 12))-\(tail)"
    }

    @Test(arguments: ["a", "r", "s", "b", "p"])
    func aSlackTokenIsJudgedByItsRandomPartNotItsIds(kind: String) throws {
        #expect(try mostly { try ruleIDs("slackToken=\"\(Self.slackLegacy(kind, tail: Self.drawn(18, Gen.hex)))\"\n").contains("slack-token") })
        // A tail of fill or of one repeated character is no token, however the ids read.
        #expect(try !ruleIDs("slackToken=\"\(Self.slackLegacy(kind, tail: String(repeating: "e0", count: 9)))\"\n").contains("slack-token"))
        #expect(try !ruleIDs("slackToken=\"\(Self.slackLegacy(kind, tail: "abcdefghijklmnopqr"))\"\n").contains("slack-token"))
    }

    // MARK: Lob

    @Test(arguments: [("test_", 35, "lob-test-api-key"), ("live_pub_", 31, "lob-live-publishable-key"),
                      ("test_pub_", 31, "lob-test-publishable-key")])
    func lobKeysAreFoundNextToTheShortName(prefix: String, length: Int, row: String) throws {
        for line in ["lobToken=@K", "LOB_API_KEY: '@K'", "var lobKey = \"@K\";", "\"lob\": {\n  \"key\": \"@K\"\n}"] {
            #expect(try mostly { try ruleIDs(line.replacing("@K", with: prefix + Self.drawn(length, Gen.hex)) + "\n").contains(row) },
                    "\(row): \(line)")
        }
        // `lob` inside a longer word is not the provider (`globKey`, `lobbyToken`).
        for line in ["globKey=@K", "lobbyToken=@K"] {
            #expect(try !ruleIDs(line.replacing("@K", with: prefix + Self.drawn(length, Gen.hex)) + "\n").contains(row), "\(line)")
        }
    }

    // MARK: curl

    @Test func aPasswordGivenToCurlIsFoundInEveryWayTheOptionIsWritten() throws {
        func pw() -> String { Self.drawn(10, Gen.alnum) + "!" + Self.drawn(3, Gen.alnum) }
        let forms: [(String) -> String] = [
            { "curl -u deploy:\($0) https://api.corp.test" },
            { "curl --user deploy:'\($0)' -X PATCH https://api.corp.test" },
            { "curl -u \":\($0)\" https://localhost:9200" },
            { "curl --user ops@corp.test:\($0) https://files.corp.test" },
            { "curl -k -X POST https://cache.corp.test/rest \\\n  -H 'Content-type: text/plain' \\\n  -d 'x' \\\n  -u developer:\($0)" },
            { "curl -u \"\($0)\($0):\" https://api.corp.test/v1/charges" },
        ]
        for (i, form) in forms.enumerated() {
            #expect(try mostly { try ruleIDs(form(pw()) + "\n").contains("curl-user-password") }, "form \(i)")
        }
        for text in ["curl -u $USER:$PASSWORD https://x.test", "curl -u admin:password https://x.test",
                     "curl -u \"${CI_USER}:${CI_TOKEN}\" https://x.test", "echo -u deploy:\(pw()) https://x.test"] {
            #expect(try !ruleIDs(text + "\n").contains("curl-user-password"), "\(text)")
        }
    }

    @Test func aCredentialInACurlHeaderIsFound() throws {
        let forms: [(String) -> String] = [
            { "curl -H \"Token: \($0)\" https://api.corp.test/tasks" },
            { "curl -X POST --header \"Api-Token: \($0)\" https://api.corp.test" },
            { "curl -H 'X-Api-Key: \($0)' https://api.corp.test" },
            { "curl --header  'Authorization:  \($0)' https://api.corp.test" },
            { "curl -s https://api.corp.test \\\n  -H 'Accept: application/json' \\\n  -H 'X-Auth-Token: \($0)'" },
        ]
        for (i, form) in forms.enumerated() {
            #expect(try mostly { try ruleIDs(form(Self.drawn(24, Gen.alnum)) + "\n").contains("curl-header-credential") }, "form \(i)")
            #expect(try mostly { try ruleIDs(form(Gen.uuid()) + "\n").contains("curl-header-credential") }, "form \(i), a UUID")
        }
        for text in ["curl -H \"Token: $API_TOKEN\" https://x.test", "curl -H 'X-Api-Key: <your-key>' https://x.test",
                     "curl -H 'Content-Type: application/json' https://x.test", "curl -H \"Token: changeme123\" https://x.test"] {
            #expect(try !ruleIDs(text + "\n").contains("curl-header-credential"), "\(text)")
        }
    }

    // MARK: Azure, Docker

    @Test func anEntraRefreshTokenAndAContainerRegistryPasswordAreFoundByTheirShape() throws {
        #expect(try mostly {
            let token = "\(Int.random(in: 0...1)).A\(Self.drawn(54, Gen.url)).Ag\(Self.drawn(900, Gen.url))"
            return try ruleIDs("{\"refresh_token\": \"\(token)\", \"token_type\": \"Bearer\"}\n").contains("azure-entra-refresh-token")
        })
        #expect(try ruleIDs("\"refresh_token\": \"0.A\(String(repeating: "x", count: 54)).Ag\(String(repeating: "x", count: 400))\"\n").isEmpty)
        #expect(try mostly {
            let password = Self.drawn(42, Gen.b64) + "+ACR" + Self.drawn(6, Gen.alnum)
            return try ruleIDs("docker login acme.azurecr.io -u acme -p \(password)\n").contains("azure-acr-signed-password")
        })
    }

    @Test func aDockerAuthInEscapedJSONIsFound() throws {
        for escape in ["", "\\", "\\\\\\"] {
            #expect(try mostly {
                let auth = Gen.base64("ci-\(Gen.LD(6)):\(Self.drawn(16, Gen.alnum))")
                let q = escape + "\""
                let text = "environment = [\"DOCKER_AUTH_CONFIG={\(q)auths\(q):{\(q)registry.corp.test\(q):{\(q)auth\(q):\(q)\(auth)\(q)}}}\"]\n"
                return try ruleIDs(text).contains("docker-config-auth")
            }, "escape \(escape)")
        }
        for plain in ["user:password", "my_username:my_password", "ci:yourSecret"] {
            #expect(try !ruleIDs("{\\\"auth\\\":\\\"\(Gen.base64(plain))\\\"}\n").contains("docker-config-auth"), "\(plain)")
        }
    }

    // MARK: Kubernetes Secrets

    /// A password with punctuation (`$` before a letter too, which a generic value would take for a variable) that
    /// the decoder's judgement takes for drawn at random.
    static func password() -> String {
        while true {
            let p = Gen.rand(5, Gen.alnum) + "!" + Gen.rand(3, Gen.alnum) + "$" + Gen.rand(3, Gen.letters) + "="
            if Decoders.kubernetesCredential(p, key: "password") { return p }
        }
    }

    @Test func everyValueOfASecretManifestIsDecodedInAnyLayout() throws {
        let p = Self.password(), b = Gen.base64(p)
        let layouts = [
            "apiVersion: v1\nkind: Secret\ndata:\n  password: \(b)\n",
            "apiVersion: v1\ndata:\n\tpassword: \(b)\n\tusername: \(Gen.base64("admin"))\nkind: Secret\nmetadata:\n\tname: db\n",
            "apiVersion: 'v1'\nkind: 'secret'\ndata:\n  password: '\(b)'\n",
            "apiVersion: \"v1\"\ndata:\n  password: \"\(b)\"\nkind: \"Secret\"\n",
            "apiVersion: v1\nkind: Secret\ndata:\n  # the password, base64\n  password: |\n    \(b)\n",
            "apiVersion: v1\ndata:\n  password: >-\n    \(b)\nkind: Secret\n",
            "apiVersion: v1\nkind: Secret\nstringData:\n  password: \(p)\n",
            "kind: ConfigMap\n---\napiVersion: v1\nkind: Secret\ntype: Opaque\ndata:\n  password: \(b)\n",
            "apiVersion: v1\r\nkind: Secret\r\ndata:\r\n  password: \(b)\r\n",
        ]
        for (i, yaml) in layouts.enumerated() {
            let decoded = Decoders.kubernetesSecrets(Array(yaml.utf8))
            #expect(decoded.contains { $0.key == "password" && $0.text == p && $0.credential == p }, "layout \(i): \(decoded)")
        }
    }

    @Test func aHostileManifestOfManyDataKeysAndBlocksIsDecodedInLinearTime() throws {
        // A megabyte of `data:` keys each opening a `|` block (every line once a top-level key, once an entry).
        let yaml = "kind: Secret\n" + String(repeating: "data:\n  k: |\n    QUJD\n", count: 50_000)
        let start = ContinuousClock.now
        let decoded = Decoders.kubernetesSecrets(Array(yaml.utf8))
        #expect(decoded.count == 50_000)
        // A generous deadline for a hang check: the quadratic walk this replaced took hours here.
        #expect(ContinuousClock.now - start < .seconds(60))
    }

    @Test func aSecretValueThatIsAWordATemplateOrAnotherKindsIsNotACredential() throws {
        let p = Self.password()
        let none = [
            // Not a Secret: another kind's `data:`, a Secret named under `spec:` (an ExternalSecret's target).
            "apiVersion: v1\nkind: ConfigMap\ndata:\n  password: \(Gen.base64(p))\n",
            "kind: ExternalSecret\nspec:\n  target:\n    kind: Secret\n  data:\n    password: \(Gen.base64(p))\n",
        ]
        for yaml in none { #expect(Decoders.kubernetesSecrets(Array(yaml.utf8)).isEmpty, "\(yaml)") }
        let notCredentials = [
            "password: \(Gen.base64("mypassword"))", "extra: \(Gen.base64("admin:password"))", "extra: \(Gen.base64("bar\n"))",
            "region: \(Gen.base64("eu-west-1"))", "username: \(Gen.base64(p))", "htpasswd: ''", "password: {{ .Values.password }}",
        ]
        for entry in notCredentials {
            let yaml = "apiVersion: v1\nkind: Secret\ndata:\n  \(entry)\n"
            #expect(Decoders.kubernetesSecrets(Array(yaml.utf8)).allSatisfy { $0.credential == nil }, "\(entry)")
        }
        // Binary key material (not text) is a credential as it is written.
        let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let binary = Decoders.kubernetesSecrets(Array("kind: Secret\ndata:\n  key.bin: \(key)\n".utf8))
        #expect(binary.first?.credential == key)
    }

    // MARK: Wallets

    /// A phrase of `count` distinct words of 3 to 8 lower-case letters, as a wallet draws them from its list.
    static func phrase(_ count: Int) -> String {
        var words: [String] = []
        while words.count < count {
            let w = Gen.rand(Int.random(in: 3...8), Gen.lower)
            if !words.contains(w) && !Structure.phrasePlaceholderWords.contains(w) { words.append(w) }
        }
        return words.joined(separator: " ")
    }

    @Test func aWalletRecoveryPhraseIsFoundUnderItsName() throws {
        for line in ["MNEMONIC=\"@P\"", "mnemonic: @P", "SEED_PHRASE='@P'", "const mnemonic = \"@P\";",
                     "{\"recoveryPhrase\": \"@P\"}", "WALLET_SECRET_WORDS=@P", "System.setProperty(\"MNEMONIC\", \"@P\")",
                     "<mnemonic>@P</mnemonic>"] {
            for count in [12, 24] {
                let text = line.replacing("@P", with: Self.phrase(count)) + "\n"
                #expect(try ruleIDs(text) == ["crypto-wallet-mnemonic"], "\(text)")
            }
        }
        // Not the number of words a wallet writes, not under a name that says so, or fill.
        #expect(try ruleIDs("MNEMONIC=\"\(Self.phrase(13))\"\n").isEmpty)
        #expect(try ruleIDs("DESCRIPTION=\"\(Self.phrase(12))\"\n").isEmpty)
        #expect(try ruleIDs("the mnemonic \(Self.phrase(12))\n").isEmpty)
        // Hardhat's and BIP-39's published phrases repeat a word; documentation's has words no wallet list holds.
        #expect(try ruleIDs("MNEMONIC=\"test test test test test test test test test test test junk\"\n").isEmpty)
        #expect(try ruleIDs("mnemonic: abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about\n").isEmpty)
        #expect(try ruleIDs("MNEMONIC=\"your twelve word mnemonic goes here and then some more words follow\"\n").isEmpty)
        // The same phrase with one word repeated twice more is still one a wallet may draw; three repeats are fill.
        var words = Self.phrase(12).split(separator: " ").map(String.init)
        words[1] = words[0]
        words[2] = words[0]
        #expect(try ruleIDs("MNEMONIC=\"\(words.joined(separator: " "))\"\n") == ["crypto-wallet-mnemonic"])
        words[3] = words[0]
        #expect(try ruleIDs("MNEMONIC=\"\(words.joined(separator: " "))\"\n").isEmpty)
    }

    /// Ethereum tools write a 256-bit key as `0x` and 64 hex digits: judged on the digits, it is a key at the generic
    /// rule's severity, not a weak finding.
    @Test func aHexKeyWrittenWithItsZeroXIsJudgedOnItsDigits() throws {
        #expect(try mostly { try ruleIDs("PRIVATE_KEY=0x\(Gen.H(64))\n") == ["generic-secret-assignment"] })
        #expect(try mostly { try ruleIDs("OPERATOR_KEY: \"0X\(Gen.H(64).uppercased())\"\n") == ["generic-secret-assignment"] })
    }
}

extension CatalogExample {
    /// The catalogue's examples for the rules of `ProviderCatalog+Mechanisms.swift` (see `MechanismTests` for more).
    static func mechanisms(_ c: inout Catalogue) {
        typealias G = Gen
        c.tp("curl-header-credential", MechanismTests.drawn(24, G.alnum), "curl -s -H \"X-Api-Key: @S@\" https://api.corp.test/v1\n")
        c.fp("curl-header-credential", "curl -s -H \"X-Api-Key: $API_KEY\" https://api.corp.test/v1\n")
        c.tp("azure-entra-refresh-token", "0.A\(MechanismTests.drawn(54, G.url)).Ag\(MechanismTests.drawn(600, G.url))", "\"refresh_token\": \"@S@\"\n")
        c.fp("azure-entra-refresh-token", "\"refresh_token\": \"0.A\(G.W(54)).Ag\(G.W(120))\"\n")
        c.tp("azure-acr-signed-password", MechanismTests.drawn(42, G.b64) + "+ACR" + MechanismTests.drawn(6, G.alnum),
             "docker login corp.azurecr.io -u corp -p @S@\n")
        c.fp("azure-acr-signed-password", "docker login corp.azurecr.io -u corp -p \(G.B(42))+ACR\(G.A(3))\n")
        c.tp("slack-token", "xoxa-2-5\(String(repeating: "1", count: 8))-3\(String(repeating: "1", count: 10))-\(MechanismTests.drawn(18, G.hex))",
             "slackToken=\"@S@\"\n")
    }
}

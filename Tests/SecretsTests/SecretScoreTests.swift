import Testing
@testable import Secrets

/// The generic detector's judgement of a value (`SecretScore`): every kind of placeholder, code and example scores
/// below the weak floor, while a random value of the same length and alphabet, minted here, reaches the strong one.
struct SecretScoreTests {
    /// A placeholder or piece of code, and the alphabet of a random value of the same length to compare it with.
    static let table: [(value: String, alphabet: [Character])] = [
        ("abcdef123456abcdef12", Gen.hex),
        ("0123456789abcdef0123", Gen.hex),
        ("xxxxxxxxxxxxxxxxxxxx", Gen.alnum),
        ("XXXXXXXX-XXXX-XXXX-XXXX", Gen.alnum),
        ("aaaaaaaaaaaa1234", Gen.alnum),
        ("98765zyxwvQ1r2T3", Gen.alnum),
        ("your_api_key_here_1", Gen.alnum),
        ("YOUR-TOKEN-GOES-HERE-42", Gen.alnum),
        ("changeme1234Qz", Gen.alnum),
        ("example7Hq2Lw9Rt", Gen.alnum),
        ("SAMPLEk3y9Q4w8ZZ", Gen.alnum),
        ("${API_TOKEN_VALUE}", Gen.alnum),
        ("{{ vault_api_token }}", Gen.alnum),
        ("<insert-token-1>", Gen.alnum),
        ("Bearer%s%s12Qw", Gen.alnum),
        ("%(password)s9Qx", Gen.alnum),
        ("$SERVICE_API_KEY1", Gen.alnum),
        ("getServiceAccessKey(ctx)", Gen.alnum),
        ("getSecretTokenFromVault", Gen.alnum),
        ("SomeLongerIdentifierName", Gen.alnum),
        ("config.secrets.apiKeyValue", Gen.alnum),
        ("/run/secrets/db_password1", Gen.alnum),
        ("https://auth.corp.test/oauth2/x", Gen.alnum),
        ("12345678901234567890", Gen.alnum),
        ("Zq9rT4wL2xbN7EXAMPLEKEY", Gen.alnum),
        // An acronym before a capitalised word, a member of the object at hand, a timestamp, a file's path (each
        // found in a clean image's Python packages: botocore, cryptography).
        ("AWSAccessKeyId", Gen.alnum),
        ("HTTPSProxyURLConfig", Gen.alnum),
        ("self._lib.NID_pbe_WithSHA1And3_Key_TripleDES_CBC", Gen.alnum),
        ("this.clientSecretV2", Gen.alnum),
        ("2016-09-08T21:47:36Z", Gen.alnum),
        ("2024-01-02 03:04:05.123+01:00", Gen.alnum),
        ("my-app/22a0-stage-150819_185942.war", Gen.alnum),
        ("certs/k8Qz2-prod.PEM", Gen.alnum),
    ]

    @Test(arguments: table.map(\.value))
    func placeholdersAndCodeScoreBelowTheWeakFloor(_ value: String) {
        #expect(SecretScore.of(Array(value.utf8)) < SecretScore.weak, "\(value) scored \(SecretScore.of(Array(value.utf8)))")
    }

    @Test func aRandomValueOfTheSameShapeScoresAsRandom() {
        for (value, alphabet) in Self.table {
            // A rate over many fresh draws, not one lucky value, and not every value: a short random value can read
            // as an identifier (16 letters with few case changes and two digits, `mYvyNpbtawniqV12`), and the score
            // judges the value alone. Such a value under a secret-like name is still reported by the weak floor.
            var strong = 0, missed: [String] = []
            for _ in 0..<100 {
                let random = Gen.rand(max(value.count, 16), alphabet)
                if SecretScore.of(Array(random.utf8)) >= SecretScore.strong { strong += 1 } else { missed.append(random) }
            }
            #expect(strong >= 97, "\(strong) of 100 random values like \(value) scored strong; missed: \(missed.prefix(5))")
        }
    }

    @Test func oneCharacterClassIsAWordOrANumber() {
        #expect(SecretScore.of(Array(Gen.rand(SecretScore.drawnNumberLength - 1, Gen.digits).utf8)) == 0)
        #expect(SecretScore.of(Array(Gen.rand(24, Array("abcdefghijklmnopqrstuvwxyz")).utf8)) == 0)
        // Mixed case without digits is a token only when the case changes often, as in random text.
        #expect(SecretScore.of(Array("ThisIsNotASecretAtAll".utf8)) < SecretScore.weak)
    }

    /// Past the longest integer ids, a number is digits drawn at random (a numeric API key): judged for its alphabet,
    /// while fill stays fill.
    @Test func aLongNumberIsJudgedAsDrawnDigits() {
        #expect(mostly { SecretScore.of(Array(Gen.rand(32, Gen.digits).utf8)) >= SecretScore.strong })
        #expect(SecretScore.of(Array("12345678901234567890123456789012".utf8)) == 0)
        #expect(SecretScore.of(Array("10000000000000000000000000000000".utf8)) == 0)
    }
}

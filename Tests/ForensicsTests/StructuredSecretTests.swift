import Foundation
import Testing
import TestSupport
@testable import Forensics

/// JWTs, AWS key IDs, GitHub and npm checksums, Stripe modes: what each says offline, in the JSON contract.
@Suite struct StructuredSecretTests {
    let now = Date()
    var nowSeconds: Int64 { Int64(now.timeIntervalSince1970) }

    func base64url(_ object: [String: Any]) throws -> String {
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    func jwt(_ header: [String: Any], _ claims: [String: Any]) throws -> String {
        try base64url(header) + "." + base64url(claims) + "." + FakeSecret.random(43, FakeSecret.alnum + ["-", "_"])
    }

    @Test func jwtClaimsAreReported() throws {
        let exp = nowSeconds + 3_600
        let token = try jwt(["alg": "RS256", "typ": "JWT"], ["iss": "https://issuer.example", "sub": "svc-deploy", "aud": "api", "exp": exp])
        let d = try #require(Forensics.details(for: token, now: now))
        #expect(try detailsJSON(d) == [
            "summary": "JWT (alg RS256) issued by https://issuer.example for svc-deploy, expires \(iso(exp).prefix(10))",
            "jwt": ["alg": "RS256", "iss": "https://issuer.example", "sub": "svc-deploy", "aud": ["api"], "exp": iso(exp),
                    "expired": false] as NSDictionary,
        ] as NSDictionary)
        #expect(d.rating == nil)
    }

    @Test func longExpiredJWTIsLowered() throws {
        let exp = nowSeconds - 30 * 86_400
        let d = try #require(Forensics.details(for: try jwt(["alg": "HS256"], ["aud": ["a", "b"], "exp": exp]), now: now))
        #expect(try detailsJSON(d) == [
            "summary": "JWT (alg HS256), expired \(iso(exp).prefix(10))",
            "jwt": ["alg": "HS256", "iss": NSNull(), "sub": NSNull(), "aud": ["a", "b"], "exp": iso(exp), "expired": true] as NSDictionary,
        ] as NSDictionary)
        #expect(d.rating == .low)
        // Just expired: clock skew allowances may still take it; the rule's severity stands.
        let recent = try #require(Forensics.details(for: try jwt(["alg": "HS256"], ["exp": nowSeconds - 60]), now: now))
        #expect(recent.jwt?.expired == true && recent.rating == nil)
    }

    @Test func unsignedJWTIsLowered() throws {
        let d = try #require(Forensics.details(for: try jwt(["alg": "none"], ["sub": "admin"]), now: now))
        #expect(try detailsJSON(d) == [
            "summary": "unsigned JWT (alg none): anyone can make one, so it grants nothing by itself",
            "jwt": ["alg": "none", "iss": NSNull(), "sub": "admin", "aud": NSNull(), "exp": NSNull(), "expired": false] as NSDictionary,
        ] as NSDictionary)
        #expect(d.rating == .low)
    }

    @Test func notAJWT() throws {
        let deep = String(repeating: "[", count: 5_000)
        for s in ["eyJhbGciOiJIUzI1NiJ9", "eyJ.eyJ.x", try base64url(["x": 1]) + ".e30.sig",
                  "eyJ" + Data(deep.utf8).base64EncodedString() + ".e30.sig"] {
            #expect(Forensics.details(for: s, now: now) == nil, "\(s.prefix(40))")
        }
    }

    /// A key ID built from an account number the way AWS lays it out, decoded back.
    @Test(arguments: ["AKIA", "ASIA"])
    func awsKeyIDNamesItsAccount(prefix: String) throws {
        let account = UInt64.random(in: 0...999_999_999_999)
        let keyID = FakeSecret.awsKeyID(prefix: prefix, account: account)
        let expected = String(format: "%012llu", account)
        let d = try #require(Forensics.details(for: keyID, now: now))
        let kind = prefix == "AKIA" ? "long-term key" : "temporary STS key (useless without its session token)"
        #expect(d.aws?.account == expected, "\(keyID)")
        #expect(try detailsJSON(d) == ["summary": "AWS access key ID of account \(expected), \(kind)", "aws": ["account": expected]] as NSDictionary)
        #expect(d.rating == nil)
    }

    @Test func awsKeyIDsOfTheWrongShapeSayNothing() {
        for s in ["AKIA1234567890123456", "AKIAABCDEFGHIJKLMNO", "AKIAABCDEFGHIJKLMNOPQ", "AXYZABCDEFGHIJKLMNOP"] {
            #expect(Forensics.details(for: s, now: now) == nil, "\(s)")
        }
    }

    @Test(arguments: ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "npm_"])
    func checksumsOfGitHubAndNpmTokens(prefix: String) throws {
        let valid = FakeSecret.checksummedToken(prefix)
        let kind = TokenChecksum.kinds[prefix] ?? ""
        let good = try #require(Forensics.details(for: valid, now: now))
        #expect(try detailsJSON(good) == ["summary": "\(kind), checksum valid", "checksumValid": true] as NSDictionary)
        // One character changed in the body: the checksum no longer matches.
        var chars = Array(valid)
        chars[10] = chars[10] == "A" ? "B" : "A"
        let bad = try #require(Forensics.details(for: String(chars), now: now))
        #expect(try detailsJSON(bad) == ["summary": "\(kind), checksum invalid: probably not a real token", "checksumValid": false] as NSDictionary)
        // A token whose checksum fails cannot authenticate: still reported, but not as a critical leak (issue 12).
        #expect(good.rating == nil && bad.rating == .medium)
    }

    @Test func crc32IsZlibs() {
        #expect(TokenChecksum.crc32(ArraySlice("123456789".utf8)) == 0xCBF4_3926)
        #expect(String(decoding: TokenChecksum.base62(0), as: UTF8.self) == "000000")
        #expect(String(decoding: TokenChecksum.base62(UInt32.max), as: UTF8.self) == "4gfFC3")
    }

    @Test(arguments: [("sk_live_", "live", "secret"), ("rk_live_", "live", "restricted"), ("sk_test_", "test", "secret"), ("rk_test_", "test", "restricted")])
    func stripeKeysSayLiveOrTestAndSecretOrRestricted(prefix: String, mode: String, kind: String) throws {
        let d = try #require(Forensics.details(for: prefix + FakeSecret.random(32), now: now))
        let summary = mode == "live" ? "Stripe live \(kind) key: real charges and customer data" : "Stripe test-mode \(kind) key: no real money"
        #expect(try detailsJSON(d) == ["summary": summary, "stripe": ["mode": mode, "kind": kind]] as NSDictionary)
        #expect(d.rating == nil)
    }

    @Test func detailsOfOtherSecretsAreNil() {
        for s in ["", "hunter2", "glpat-" + FakeSecret.random(20), String(repeating: "x", count: Forensics.maxSecretLength + 1)] {
            #expect(Forensics.details(for: s, now: now) == nil)
        }
    }

    @Test func datesAreISO8601UTCAndClamped() {
        var g = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let t = Int64.random(in: 0...UnixTime.latest, using: &g)
            #expect(UnixTime.iso8601(t) == iso(t))
        }
        #expect(UnixTime.iso8601(951_782_400) == "2000-02-29T00:00:00Z")
        #expect(UnixTime.iso8601(-5) == "1970-01-01T00:00:00Z")
        #expect(UnixTime.iso8601(Int64.max) == "9999-12-31T23:59:59Z")
    }

    @Test func detailsDecodeLenientlyFromOtherVersions() throws {
        let json = #"{"summary":"x","fly":{"scope":"litefs"},"checksumValid":true,"future":1}"#
        let d = try JSONDecoder().decode(FindingDetails.self, from: Data(json.utf8))
        #expect(d.summary == "x" && d.fly == nil && d.checksumValid == true)
    }
}

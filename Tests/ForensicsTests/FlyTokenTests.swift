import Foundation
import Testing
import TestSupport
@testable import Forensics

/// The JSON a finding's `details` encodes to, as a dictionary (nulls as NSNull).
func detailsJSON(_ d: FindingDetails?) throws -> NSDictionary {
    let d = try #require(d)
    return try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(d)) as? NSDictionary)
}

/// ISO 8601 UTC of Unix seconds, by Foundation (independent of the code under test).
func iso(_ seconds: Int64) -> String {
    let f = ISO8601DateFormatter()
    f.timeZone = TimeZone(identifier: "UTC")
    return f.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
}

/// Fly tokens minted at test time (fresh keys, real HMAC chains) and what a leak of each would let an attacker do.
@Suite struct FlyTokenTests {
    let now = Date()
    var nowSeconds: Int64 { Int64(now.timeIntervalSince1970) }
    let org = UInt64.random(in: 1...9_999_999)
    let app = UInt64.random(in: 1...9_999_999)

    func fly(_ secret: String) throws -> (json: NSDictionary, details: FindingDetails) {
        let d = try #require(Forensics.details(for: secret, now: now))
        return (try detailsJSON(d), d)
    }

    @Test func orgTokenIsOrgWideWriteAndCritical() throws {
        let t = FakeFly.orgToken(org: org)
        let (json, d) = try fly("FlyV1 " + t.token())
        #expect(json == [
            "summary": "org-wide write token for org \(org), no expiry",
            "fly": ["scope": "organization", "organization": org, "apps": [] as [Any], "appCount": 0, "access": "rwcdC", "expires": NSNull(),
                    "expired": false, "tokenID": t.tokenID, "discharged": true] as NSDictionary,
        ] as NSDictionary)
        #expect(d.rating == .critical)
    }

    @Test func readOnlyTokenIsMedium() throws {
        var t = FakeFly.orgToken(org: org)
        t.add(FakeFly.organization(org, mask: 1))  // what `fly tokens create readonly` adds client-side
        let (json, d) = try fly(t.token(label: "fm1r"))
        #expect(json == [
            "summary": "read-only token for org \(org), no expiry",
            "fly": ["scope": "readonly", "organization": org, "apps": [] as [Any], "appCount": 0, "access": "r", "expires": NSNull(),
                    "expired": false, "tokenID": t.tokenID, "discharged": true] as NSDictionary,
        ] as NSDictionary)
        #expect(d.rating == .medium)
    }

    @Test func deployTokenWithItsDischargeIsAppScopedHighWithTheDischargesExpiry() throws {
        let end = nowSeconds + 90 * 86_400
        let (p, dis) = try FakeFly.deployBundle(org: org, app: app, notAfter: end)
        let (json, d) = try fly("FlyV1 \(p.token()),\(dis.token())")
        let day = String(iso(end).prefix(10))
        #expect(json == [
            "summary": "app token for org \(org): app \(app) (rwcdC), rest of the org read-only, expires \(day)",
            "fly": ["scope": "app", "organization": org, "apps": [["id": app, "access": "rwcdC"]], "appCount": 1, "access": "r", "expires": iso(end),
                    "expired": false, "tokenID": p.tokenID, "discharged": true] as NSDictionary,
        ] as NSDictionary)
        #expect(d.rating == .high)
    }

    @Test func deployTokenWithoutItsDischargeNeedsALoginAndIsRatedLower() throws {
        let (p, _) = try FakeFly.deployBundle(org: org, app: app, notAfter: nowSeconds + 86_400)
        let (json, d) = try fly(p.token())
        let fly = try #require(json["fly"] as? NSDictionary)
        #expect(fly["discharged"] as? Bool == false)
        #expect(fly["expires"] is NSNull, "the expiry lives in the discharge, which is not here")
        #expect((json["summary"] as? String)?.hasSuffix("; its discharge is not here, so using it also takes a Fly login") == true)
        #expect(d.rating == .medium)
    }

    @Test func aDischargeForAnotherTokenDoesNotCount() throws {
        let (p, _) = try FakeFly.deployBundle(org: org, app: app, notAfter: nowSeconds + 86_400)
        let (_, other) = try FakeFly.deployBundle(org: org, app: app, notAfter: nowSeconds + 86_400)
        let (json, _) = try fly("FlyV1 \(p.token()),\(other.token())")
        #expect((json["fly"] as? NSDictionary)?["discharged"] as? Bool == false)
    }

    @Test func bundleWithAnExpiredDischargeIsLowAndSaysExpired() throws {
        let end = nowSeconds - 10 * 86_400
        let (p, dis) = try FakeFly.deployBundle(org: org, app: app, notAfter: end)
        let (json, d) = try fly("FlyV1 \(p.token()),\(dis.token())")
        #expect(json == [
            "summary": "app token for org \(org): app \(app) (rwcdC), rest of the org read-only, expired \(iso(end).prefix(10))",
            "fly": ["scope": "app", "organization": org, "apps": [["id": app, "access": "rwcdC"]], "appCount": 1, "access": "r", "expires": iso(end),
                    "expired": true, "tokenID": p.tokenID, "discharged": true] as NSDictionary,
        ] as NSDictionary)
        #expect(d.rating == .low)
    }

    @Test func earliestEndWinsOverTheTokenAndItsDischarges() throws {
        let bundle = try FakeFly.deployBundle(org: org, app: app, notAfter: nowSeconds + 90 * 86_400)
        var p = bundle.permission
        let dis = bundle.discharge
        p.add(FakeFly.validity(notBefore: 0, notAfter: nowSeconds + 86_400))
        let (json, _) = try fly("FlyV1 \(p.token()),\(dis.token())")
        #expect((json["fly"] as? NSDictionary)?["expires"] as? String == iso(nowSeconds + 86_400))
    }

    @Test func unknownCaveatTypeIsSaidAsSuchAndRatedByWhatIsKnown() throws {
        var t = FakeFly.orgToken(org: org)
        t.add((9_999, .arr([.uint(1)])))
        let (json, d) = try fly(t.token())
        #expect(json == [
            "summary": "Fly token with caveat type 9999 that cannot be read offline; at most: org-wide write token for org \(org), no expiry",
            "fly": ["scope": "unknown", "organization": org, "apps": [] as [Any], "appCount": 0, "access": "rwcdC", "expires": NSNull(),
                    "expired": false, "tokenID": t.tokenID, "discharged": true] as NSDictionary,
        ] as NSDictionary)
        #expect(d.rating == .critical, "caveats only narrow: the known ones bound the power")
    }

    @Test(arguments: [(UInt64(9_999), Pack.arr([.uint(1)])), (3, .str("not an app map")), (0, .null)])
    func anIfPresentWhosePowerCannotBeReadIsRatedByWhatTheRestAllows(inner: UInt64, body: Pack) throws {
        // Outside the IfPresent, nothing; inside it, whatever the unreadable caveat grants on its resources.
        var t = FakeFly.orgToken(org: org)
        t.add(FakeFly.ifPresent([(inner, body)], else: 0))
        let (json, d) = try fly(t.token())
        #expect(d.rating == .critical, "what cannot be read is rated as if it allowed all the readable caveats allow")
        let summary = try #require(json["summary"] as? String)
        #expect(summary.hasPrefix("Fly token with caveat type \(inner) that cannot be read offline; at most: org-wide write token"),
                "\(summary)")
        #expect((json["fly"] as? NSDictionary)?["scope"] as? String == "unknown")

        // The same IfPresent fully readable and granting nothing still allows nothing.
        var plain = FakeFly.orgToken(org: org)
        plain.add(FakeFly.ifPresent([FakeFly.features(["wg": 0])], else: 0))
        #expect(try fly(plain.token()).details.rating == .low)
    }

    @Test func aTokenNamingThousandsOfAppsCarriesTheFirstHundredAndTheCount() throws {
        var grants: [UInt64: UInt64] = [:]
        for id in 1...11_000 { grants[UInt64(id)] = 3 }
        var t = FakeFly.orgToken(org: org)
        t.add(FakeFly.apps(grants))
        let (json, d) = try fly(t.token())
        let fly = try #require(json["fly"] as? NSDictionary)
        #expect((fly["apps"] as? NSArray)?.count == 100)
        #expect(fly["appCount"] as? Int == 11_000)
        #expect((fly["apps"] as? NSArray)?.firstObject as? NSDictionary == ["id": 1, "access": "rw"])
        let summary = try #require(json["summary"] as? String)
        #expect(summary.hasPrefix("app token for org \(org): app 1 (rw), app 2 (rw), "))
        #expect(summary.contains("app 10 (rw), 10990 more apps, nothing else"), "\(summary)")
        #expect(summary.utf8.count < 400)
        #expect(d.rating == .high)
    }

    @Test func machineExecSSHAndWireGuardTokensAreRecognised() throws {
        let end = nowSeconds + 86_400
        let execBundle = try FakeFly.deployBundle(org: org, app: app, notAfter: end)
        var exec = execBundle.permission
        let execDischarge = execBundle.discharge
        exec.add(FakeFly.ifPresent([FakeFly.commands([[]])], else: 1))
        let (deploy, sshDischarge) = try FakeFly.deployBundle(org: org, app: app, notAfter: end)
        // flyctl splits an SSH token into two permission tokens; the discharge stays bound to the token they came from.
        var readPart = deploy, certPart = deploy
        readPart.add(FakeFly.action(1))
        certPart.add(FakeFly.mutations(["issueCertificate", "addWireGuardPeer"]))
        var wg = FakeFly.orgToken(org: org)
        wg.add(FakeFly.ifPresent([FakeFly.apps([:]), FakeFly.features(["wg": 31])], else: 1))

        let (execJSON, execD) = try fly("FlyV1 \(exec.token()),\(execDischarge.token())")
        #expect((execJSON["fly"] as? NSDictionary)?["scope"] as? String == "machine-exec")
        #expect(execJSON["summary"] as? String
            == "machine-exec token for org \(org): runs commands on machines of app \(app) (rwcdC), expires \(iso(end).prefix(10))")
        #expect(execD.rating == .high)
        let (sshJSON, sshD) = try fly("FlyV1 \(readPart.token()),\(certPart.token()),\(sshDischarge.token())")
        let ssh = try #require(sshJSON["fly"] as? NSDictionary)
        #expect(ssh["scope"] as? String == "ssh")
        #expect(ssh["tokenID"] as? String == certPart.tokenID)
        #expect(ssh["discharged"] as? Bool == true, "bound to an earlier stage of the same token: Fly accepts that")
        #expect(sshD.rating == .high)
        let (wgJSON, wgD) = try fly(wg.token())
        #expect((wgJSON["fly"] as? NSDictionary)?["scope"] as? String == "wireguard")
        #expect((wgJSON["fly"] as? NSDictionary)?["access"] as? String == "r")
        #expect(wgD.rating == .high)
    }

    @Test func wildcardAppAndTopLevelAppsLeaveNothingElse() throws {
        var t = FakeFly.orgToken(org: org)
        t.add(FakeFly.apps([0: 3]))
        let (json, d) = try fly(t.token())
        let fly = try #require(json["fly"] as? NSDictionary)
        #expect(fly["apps"] as? NSArray == [["id": 0, "access": "rw"]] as NSArray)
        #expect(fly["access"] as? String == "")
        #expect(json["summary"] as? String == "app token for org \(org): every app (rw), nothing else, no expiry")
        #expect(d.rating == .high)
    }

    @Test func conflictingOrganizationsMakeAnUnusableToken() throws {
        var t = FakeFly.orgToken(org: org)
        t.add(FakeFly.organization(org + 1, mask: 31))
        let (json, d) = try fly(t.token())
        #expect((json["fly"] as? NSDictionary)?["scope"] as? String == "unknown")
        #expect((json["summary"] as? String)?.hasPrefix("Fly token no request can use") == true)
        #expect(d.rating == .low)
    }

    @Test func aDischargeAloneIsNotUsable() throws {
        let (_, dis) = try FakeFly.deployBundle(org: org, app: app, notAfter: nowSeconds + 86_400)
        let (json, d) = try fly(dis.token(label: "fm1a"))
        #expect(json == [
            "summary": "Fly discharge token without its permission token: not usable on its own",
            "fly": ["scope": "unknown", "organization": NSNull(), "apps": [] as [Any], "appCount": 0, "access": NSNull(), "expires": NSNull(),
                    "expired": false, "tokenID": dis.tokenID, "discharged": NSNull()] as NSDictionary,
        ] as NSDictionary)
        #expect(d.rating == .low)
    }

    @Test func userTokenIsOpaqueAndKeepsTheRulesSeverity() throws {
        let (json, d) = try fly(FakeSecret.flyToken())
        #expect(json == [
            "summary": "Fly user token (fo1_): acts as its user in every organization; expiry not readable offline",
            "fly": ["scope": "user", "organization": NSNull(), "apps": [] as [Any], "appCount": 0, "access": NSNull(), "expires": NSNull(),
                    "expired": false, "tokenID": NSNull(), "discharged": NSNull()] as NSDictionary,
        ] as NSDictionary)
        #expect(d.rating == nil)
    }

    @Test(arguments: 0..<4)
    func schemesAndSpacingAreTolerated(variant: Int) throws {
        let (p, dis) = try FakeFly.deployBundle(org: org, app: app, notAfter: nowSeconds + 86_400)
        let text = ["Bearer FlyV1 \(p.token()),\(dis.token())", "flyv1 \(p.token()), \(dis.token())", "\(p.token()),\(dis.token())",
                    "  FlyV1   \(p.token()) ,\(dis.token()) "][variant]
        let (json, _) = try fly(text)
        #expect((json["fly"] as? NSDictionary)?["scope"] as? String == "app")
        #expect((json["fly"] as? NSDictionary)?["discharged"] as? Bool == true)
    }

    @Test func notFlyTextIsLeftAlone() {
        for s in ["fm3_abcd", "FlyV1 ", "fm2_lJPE,password", "fo2_x", "Bearer "] {
            #expect(Forensics.details(for: s, now: now) == nil, "\(s)")
        }
    }

    /// Every byte-length prefix of a deploy token: decoded as far as it goes, never a crash, never a guess.
    @Test func truncatedTokensAreDecodedAsFarAsPossible() throws {
        let (p, _) = try FakeFly.deployBundle(org: org, app: app, notAfter: nowSeconds + 86_400)
        let bytes = p.encoded
        let nonceEnd = 1 + p.nonce.bytes.count
        let headerEnd = nonceEnd + Pack.str(FakeFly.permissionLocation).bytes.count + 1
        let orgEnd = headerEnd + Pack.uint(0).bytes.count + FakeFly.organization(org, mask: 31).body.bytes.count
        for n in 1..<bytes.count {
            let text = "fm2_" + Data(bytes[..<n]).base64EncodedString()
            let d = try #require(Forensics.details(for: text, now: now), "prefix \(n)")
            let fly = try #require(d.fly)
            #expect(fly.scope == .unknown, "prefix \(n)")
            #expect(d.rating == nil, "a damaged token keeps the rule's severity (prefix \(n))")
            #expect(fly.tokenID == (n >= nonceEnd ? p.tokenID : nil), "prefix \(n)")
            // The caveat list's header claims 6 items: it is believed once 6 bytes follow it.
            let orgRead = n >= orgEnd && n - headerEnd >= 6
            #expect(fly.organization == (orgRead ? org : nil), "prefix \(n)")
            _ = try JSONEncoder().encode(d)
        }
    }

    /// Every single-bit flip of a deploy bundle's permission token: always some answer, never a crash.
    @Test func bitFlippedTokensNeverCrash() throws {
        let (p, dis) = try FakeFly.deployBundle(org: org, app: app, notAfter: nowSeconds + 86_400)
        let bytes = p.encoded
        var scopes: Set<String> = []
        for i in 0..<(bytes.count * 8) {
            var b = bytes
            b[i / 8] ^= 1 << UInt8(i % 8)
            let d = try #require(Forensics.details(for: "FlyV1 fm2_" + Data(b).base64EncodedString() + "," + dis.token(), now: now))
            scopes.insert(d.fly?.scope.rawValue ?? "none")
            _ = try JSONEncoder().encode(d)
        }
        #expect(scopes.contains("unknown") && scopes.contains("app"), "\(scopes)")
    }

    static let hostile: [[UInt8]] = [
        [0xdd, 0xff, 0xff, 0xff, 0xff],  // a macaroon of 4 billion fields
        [0x94, 0xdd, 0x7f, 0xff, 0xff, 0xff],  // a nonce of 2 billion fields
        [0x94, 0x93, 0xc6, 0xff, 0xff, 0xff, 0xff],  // a 4 GiB key ID
        [0x94, 0x93, 0xc4, 0x01, 0x00, 0xc4, 0x01, 0x00, 0xc2, 0xa0, 0xdd, 0xff, 0xff, 0xff, 0xfe],  // 4 billion caveats
        [0x94, 0x93, 0xc4, 0x01, 0x00, 0xc4, 0x01, 0x00, 0xc2, 0xa0, 0x92, 0x0d] + Array(repeating: 0x91, count: 20_000),
        Array(repeating: 0x91, count: 40_000),
        // 30 000 caveat items of zeros: read, but an odd count leaves the last type without a body.
        [0x94, 0x93, 0xc4, 0x01, 0x00, 0xc4, 0x01, 0x00, 0xc2, 0xa0, 0xdc, 0x75, 0x31] + Array(repeating: 0x00, count: 30_001),
    ]

    @Test(arguments: hostile)
    func hostileMsgPackIsUndecodableNotFatal(bytes: [UInt8]) throws {
        let d = try #require(Forensics.details(for: "fm2_" + Data(bytes).base64EncodedString(), now: now))
        #expect(d.fly?.scope == .unknown)
        #expect(d.rating == nil)
        // A plain sentence, not the parser's internals (an offset, what it expected).
        #expect(d.summary.hasPrefix("Fly token that is damaged or cut short, so what it allows cannot be read"), "\(d.summary)")
        #expect(!d.summary.contains("byte") && !d.summary.contains("expected"), "\(d.summary)")
    }

    @Test func tokenIDMatchesFlysDerivation() throws {
        let t = FakeFly.orgToken(org: org)
        let m = try #require(Macaroon.decode(token: Substring(t.token())))
        #expect(m.problem == nil)
        #expect(try FlyBundle.tokenID(#require(m.nonce)) == t.tokenID)
    }
}

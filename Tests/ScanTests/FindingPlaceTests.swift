import Foundation
import Reports
import Testing

/// A finding's typed place as every reader sees it: the JSON report's flat members with their nulls, the identity
/// that baselines, the sweep's ledger and SARIF fingerprints match on, and the location people read.
struct FindingPlaceTests {
    static func finding(_ place: Finding.Place) -> Finding {
        Finding(ruleID: "r", severity: .high, description: "d", place: place, secretSHA256: "00", redacted: "x", secret: nil)
    }

    static func json(_ f: Finding) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(f), as: UTF8.self)
    }

    /// The identities are what sweep stores of earlier releases hold in their rows and what earlier SARIF logs were
    /// fingerprinted with: any change makes every stored finding new again.
    @Test(arguments: [
        (Finding.Place.file(.init(path: "/app/.env", layerIndex: 2, historyIndex: 4, line: 3)), "file:/app/.env", "layer-2/app/.env"),
        (.file(.init(path: "/app/lib.jar!/x.properties", layerIndex: 0, outerPath: "/app/lib.jar")),
         "file:/app/lib.jar!/x.properties", "layer-0/app/lib.jar!/x.properties"),
        (.config(.env, key: "STRIPE_KEY"), "config/env/STRIPE_KEY", "config/env/STRIPE_KEY"),
        (.config(.label, key: "deploy.npm"), "config/label/deploy.npm", "config/label/deploy.npm"),
        (.config(.cmd, key: nil), "config/cmd", "config/cmd"),
        (.config(.entrypoint, key: nil), "config/entrypoint", "config/entrypoint"),
        (.config(.healthcheck, key: nil), "config/healthcheck", "config/healthcheck"),
        (.config(.other, key: "config.User"), "config/config/config.User", "config/config/config.User"),
        (.annotation(key: "org.example.note"), "config/annotation/org.example.note", "config/annotation/org.example.note"),
        (.history(index: 1, key: "NPM_TOKEN"), "history/NPM_TOKEN", "history/1/NPM_TOKEN"),
        (.history(index: 3, key: nil), "history", "history/3"),
    ])
    func identityAndLocation(_ place: Finding.Place, identity: String, location: String) throws {
        let f = Self.finding(place)
        #expect(f.place.identity == identity)
        #expect(f.stablePlace == identity)
        #expect(f.location == location)
        // Read back from the report, the place is the same place (an archive's outer file is not in the JSON).
        var back = try JSONDecoder().decode(Finding.self, from: Data(try Self.json(f).utf8))
        #expect(back.place.identity == identity && back.location == location)
        back.outerPath = f.outerPath
        #expect(back == f)
    }

    /// The contract's flat members, each present, null where the place has none.
    @Test func theReportKeepsItsFlatMembersAndNulls() throws {
        var file = Self.finding(.file(.init(path: "/app/.env", layerIndex: 1, layerDigest: "sha256:ab", historyIndex: 3, line: 2,
                                            outerPath: "/app", status: .deleted, removedInLayer: 2)))
        file.confidence = .high
        #expect(try Self.json(file) == #"{"confidence":"high","description":"d","historyIndex":3,"key":null,"layerDigest":"sha256:ab","#
            + #""layerIndex":1,"line":2,"path":"/app/.env","redacted":"x","remediation":null,"removedInLayer":2,"ruleID":"r","#
            + #""secret":null,"secretSHA256":"00","severity":"high","source":"file","status":"deleted"}"#)
        #expect(try Self.json(Self.finding(.history(index: 4, key: "NPM_TOKEN"))) == #"{"description":"d","historyIndex":4,"key":"NPM_TOKEN","#
            + #""layerDigest":null,"layerIndex":null,"line":null,"path":null,"redacted":"x","remediation":null,"removedInLayer":null,"#
            + #""ruleID":"r","secret":null,"secretSHA256":"00","severity":"high","source":"history","status":null}"#)
        var env = Self.finding(.config(.env, key: "K"))
        env.acceptance = Acceptance(reason: "test key", until: nil, origin: "x:1", expired: false)
        #expect(try Self.json(env) == #"{"acceptance":{"expired":false,"origin":"x:1","reason":"test key","until":null},"description":"d","#
            + #""historyIndex":null,"key":"K","layerDigest":null,"layerIndex":null,"line":null,"path":null,"redacted":"x","#
            + #""remediation":null,"removedInLayer":null,"ruleID":"r","secret":null,"secretSHA256":"00","severity":"high","#
            + #""source":"env","status":null}"#)
    }

    /// Members a place does not have stay out of it: a path given to a config finding, a layer to a history one.
    @Test func aMemberThePlaceDoesNotHaveIsNotKept() throws {
        var env = Self.finding(.config(.env, key: "K"))
        let before = try Self.json(env)
        env.path = "/etc/passwd"
        env.layerIndex = 3
        env.status = .deleted
        env.historyIndex = 2
        #expect(env.place == .config(.env, key: "K") && env.path == nil && env.layerIndex == nil)
        #expect(try Self.json(env) == before)
        var history = Self.finding(.history(index: 1, key: nil))
        history.line = 4
        history.key = "ARG"
        history.historyIndex = 5
        #expect(history.place == .history(index: 5, key: "ARG"))
    }

    /// A file finding without a path or a history finding without its entry is no place at all: the report that
    /// holds one is refused (as a baseline: exit 2 naming the file) rather than matched on an empty place.
    @Test(arguments: [#""source": "file", "layerIndex": 0"#, #""source": "history", "key": "K""#])
    func aPlaceWithoutWhatLocatesItIsRefused(_ fields: String) {
        let json = #"{"ruleID": "r", "severity": "high", "description": "d", "secretSHA256": "00", "redacted": "x", "# + fields + "}"
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Finding.self, from: Data(json.utf8)) }
    }
}

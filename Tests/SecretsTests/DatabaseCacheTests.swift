import Foundation
import Testing
import TestSupport
@testable import Secrets

/// The on-disk Vectorscan database cache, always in a fresh temporary directory (never the user's cache).
@Suite struct DatabaseCacheTests {
    let dir: String
    let cache: DatabaseCache
    let file: String

    init() throws {
        dir = try Run.tempDirectory()
        cache = DatabaseCache(directory: dir + "/nested/cache")
        file = cache.path(forKey: MatchEngine.databaseInputs(rules: BuiltinRules.all).key)
    }

    private func cleanup() { try? FileManager.default.removeItem(atPath: dir) }

    private func secrets(_ e: MatchEngine, _ text: String) throws -> [String] {
        try e.makeMatcher().scan(text).map { String(decoding: $0.secret, as: UTF8.self) }
    }

    private func contents() -> [UInt8] { Array(FileManager.default.contents(atPath: file) ?? Data()) }

    @Test func secondEngineLoadsTheCachedDatabaseAndFindsTheSameSecrets() throws {
        defer { cleanup() }
        let doc = "a=\(FakeSecret.githubToken())\nb=\(FakeSecret.flyToken())\nc=\(FakeSecret.stripeKey())\n"
        let first = try MatchEngine(rules: BuiltinRules.all, cache: cache)
        #expect(!first.databaseWasCached)
        #expect(FileManager.default.fileExists(atPath: file))
        #expect(Array(contents().prefix(8)) == Array("STOWHSDB".utf8))
        let second = try MatchEngine(rules: BuiltinRules.all, cache: cache)
        #expect(second.databaseWasCached)
        #expect(second.fingerprint == first.fingerprint)
        #expect(try secrets(second, doc) == secrets(first, doc))
        #expect(try secrets(second, doc).count == 3)
        // Another rule set gets its own entry.
        let fewer = try MatchEngine(rules: Array(BuiltinRules.all.dropLast()), cache: cache)
        #expect(!fewer.databaseWasCached)
        #expect(try MatchEngine(rules: BuiltinRules.all, cache: cache).databaseWasCached)
        // No cache: nothing read or written.
        #expect(try !MatchEngine(rules: BuiltinRules.all, cache: nil).databaseWasCached)
    }

    /// Damages the cache file with `damage`, then checks the next engine recompiles, works, and leaves a valid file.
    private func expectRebuilt(_ what: String, _ damage: ([UInt8]) -> [UInt8]) throws {
        _ = try MatchEngine(rules: BuiltinRules.all, cache: cache)
        let good = contents()
        let bad = damage(good)
        #expect(bad != good, "\(what): damage changed nothing")
        try Data(bad).write(to: URL(fileURLWithPath: file))
        let rebuilt = try MatchEngine(rules: BuiltinRules.all, cache: cache)
        #expect(!rebuilt.databaseWasCached, "\(what): damaged file trusted")
        let token = FakeSecret.githubToken()
        #expect(try secrets(rebuilt, "t=\(token)") == [token], "\(what)")
        #expect(contents() != bad, "\(what): file not replaced")
        #expect(try MatchEngine(rules: BuiltinRules.all, cache: cache).databaseWasCached, "\(what): replacement not valid")
    }

    @Test func aDamagedCacheFileIsRebuiltNeverTrusted() throws {
        defer { cleanup() }
        try expectRebuilt("flipped payload byte") { var b = $0; b[b.count - 100] ^= 0x5A; return b }
        try expectRebuilt("flipped magic") { var b = $0; b[0] ^= 0x01; return b }
        try expectRebuilt("flipped checksum") { var b = $0; let keyLength = Int(b[12]) | Int(b[13]) << 8; b[16 + keyLength + 8] ^= 0xFF; return b }
        try expectRebuilt("truncated") { Array($0.prefix($0.count / 2)) }
        try expectRebuilt("header only") { Array($0.prefix(20)) }
        try expectRebuilt("empty") { _ in [] }
        try expectRebuilt("extra bytes") { $0 + [0] }
        try expectRebuilt("wrong fingerprint") { good in
            // A well-formed file (valid checksum and database) under another key.
            let keyLength = Int(good[12]) | Int(good[13]) << 8 | Int(good[14]) << 16 | Int(good[15]) << 24
            let payload = Array(good[(16 + keyLength + 8 + 32)...])
            return DatabaseCache.encode(payload: payload, key: "rules=sha256:other")
        }
        try expectRebuilt("valid checksum, garbage database") { good in
            let keyLength = Int(good[12]) | Int(good[13]) << 8
            let key = String(decoding: good[16..<(16 + keyLength)], as: UTF8.self)
            return DatabaseCache.encode(payload: Array(repeating: 7, count: 4096), key: key)
        }
    }

    @Test func anUnwritableCacheDirectoryJustCompiles() throws {
        defer { cleanup() }
        // A regular file where a directory should be: works even as root.
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: dir + "/blocker", contents: Data("x".utf8))
        let blocked = DatabaseCache(directory: dir + "/blocker/cache")
        let a = try MatchEngine(rules: BuiltinRules.all, cache: blocked)
        let b = try MatchEngine(rules: BuiltinRules.all, cache: blocked)
        #expect(!a.databaseWasCached && !b.databaseWasCached)
        let token = FakeSecret.npmToken()
        #expect(try secrets(b, "npm=\(token)") == [token])
    }

    @Test func defaultDirectoryFollowsTheEnvironment() {
        func dir(_ env: [String: String]) -> String? { DatabaseCache.defaultDirectory { env[$0] } }
        #expect(dir(["STOWAWAY_CACHE_DIR": "/c", "XDG_CACHE_HOME": "/x", "HOME": "/h"]) == "/c")
        #expect(dir(["XDG_CACHE_HOME": "/x", "HOME": "/h"]) == "/x/stowaway")
        #expect(dir(["STOWAWAY_CACHE_DIR": "", "HOME": "/h"]) == "/h/.cache/stowaway")
        #expect(dir([:]) == nil)
    }

    @Test func startupMeasurementCompilesColdAndLoadsWarmFromTheCache() throws {
        defer { cleanup() }
        // What the bench's `compile` mode reports: a cold start that compiled and wrote the cache, then a warm
        // start that loaded it (measureStartup throws when either is not so), for a rule set of its own.
        let many = (0..<200).map { i in
            Rule(id: "synthetic-\(i)", description: "", severity: .low,
                 regex: #"(?i)(?:key|token)_\#(i)\s*[:=]\s*["']?([A-Za-z0-9+/]{24,64})"#, entropy: 3.0)
        }
        let cacheDir = dir + "/startup"
        let times = try DatabaseCache.measureStartup(rules: many, cacheDir: cacheDir)
        #expect(times.cold > 0 && times.warm > 0)
        let cached = DatabaseCache(directory: cacheDir).path(forKey: MatchEngine.databaseInputs(rules: many).key)
        #expect(FileManager.default.fileExists(atPath: cached))
        let warm = try MatchEngine(rules: many, cache: DatabaseCache(directory: cacheDir))
        #expect(warm.databaseWasCached)
        let value = FakeSecret.random(32)
        #expect(try secrets(warm, "token_17 = \(value)\n") == [value])
        print("startup of 200 synthetic rules: cold \(ms(times.cold)) ms, warm \(ms(times.warm)) ms")
    }

    private func ms(_ s: Double) -> String { String(format: "%.1f", s * 1000) }
}

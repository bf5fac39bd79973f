import Foundation
import Synchronization

/// Fresh fake secrets in real token formats, generated at run time so nothing real is committed.
public enum FakeSecret {
    public static let alnum = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    /// Random characters of `alphabet`; a token-sized one (up to 512 characters) never holds a word that marks
    /// example data (see `exampleMarks`). Longer ones are filler, not secrets, and would almost never pass.
    public static func random(_ count: Int, _ alphabet: [Character] = alnum) -> String {
        var g = SystemRandomNumberGenerator()
        while true {
            let s = String((0..<count).map { _ in alphabet[Int(g.next(upperBound: UInt64(alphabet.count)))] })
            if count > 512 { return s }
            let lower = s.lowercased()
            if !exampleMarks.contains(where: { lower.contains($0) }) { return s }
        }
    }

    /// The one loop in which a test's random value is judged: `make` is drawn again while `rejects` (the scanner's
    /// own judgement of the value: its scorer, a rule's filters) turns the draw away. The policy rejects such draws
    /// by design, a few in ten thousand each, and a run of thousands of examples meets one now and then: a test must
    /// never hope for the draw.
    public static func judged(_ make: () -> String, rejects: (String) -> Bool) -> String {
        var draw = make()
        for _ in 0..<10_000 {
            if !rejects(draw) { return draw }
            draw = make()
        }
        // A shape the policy rejects always is a defect of the rule or the test, not bad luck: say so loudly.
        preconditionFailure("no draw of this shape passes the policy in 10,000 tries; last: \(draw)")
    }

    /// Words the scanner reads as "this is an example, not a secret" (its placeholder filters and test-data
    /// markers), case-insensitive. A random token that happens to spell one (`ghp_…DummY`, about once in 150
    /// runs of a test that makes 12,000 tokens) is rightly not reported, so a test counting its fresh secrets
    /// would fail by chance; fake secrets are drawn again instead.
    public static let exampleMarks = ["example", "dummy", "placeholder", "changeme", "redacted", "sample", "your",
                                      "test", "fake", "demo", "mock", "xxxx", "1234", "abcd"]

    public static func flyToken() -> String { "fo1_" + random(43, alnum + ["_", "-"]) }
    public static func flyBundle() -> String {
        "FlyV1 fm2_" + random(150, alnum + ["+", "/"]) + ",fm2_" + random(120, alnum + ["+", "/"])
    }
    /// A classic GitHub token whose checksum holds, as GitHub mints them (one with a random tail rates medium).
    public static func githubToken() -> String { checksummedToken("ghp_") }
    public static func stripeKey() -> String { "sk_live_" + random(32) }
    /// An AWS-like key ID of 16 distinct characters: always above the rule's entropy gate (a random one fails it
    /// about once in 7000), for tests that count every key.
    public static func awsKeyIDDistinct() -> String {
        var g = SystemRandomNumberGenerator()
        return "AKIA" + String(Array("BCDEFGHJLMNOPQRSTUVWXYZ234567").shuffled(using: &g).prefix(16))
    }
    /// An access key ID as AWS lays one out: the 12-digit `account` in bits 1...39 of the first 48 bits after the
    /// prefix (base32), the rest random. A purely random ID can decode to an account number no AWS account has.
    /// Drawn again while its characters carry under 3.1 bits each (the rule wants 3, and about 1 draw in 4,000 of
    /// 20 base32 characters falls under it: `AKIAII3I34NEEIKASPKE`) or it spells an example mark (`…FAKE…`). An
    /// account left to chance is drawn again too; a given one fixes the first characters, which may spell a mark
    /// (`AKIA` + `BCD…`), so its draws stop after 1,000.
    public static func awsKeyID(prefix: String = "AKIA", account: UInt64? = nil) -> String {
        var id = ""
        for _ in 0..<(account == nil ? Int.max : 1_000) {
            id = drawnAWSKeyID(prefix: prefix, account: account ?? UInt64.random(in: 0...999_999_999_999))
            let counts = Dictionary(grouping: id, by: { $0 }).values.map { Double($0.count) / Double(id.count) }
            let bits = -counts.reduce(0, { $0 + $1 * log2($1) })
            let lower = id.lowercased()
            if bits >= 3.1 && !exampleMarks.contains(where: { lower.contains($0) }) { return id }
        }
        return id
    }

    private static func drawnAWSKeyID(prefix: String, account: UInt64) -> String {
        var bits = [UInt8](repeating: 0, count: 10)
        let first48 = account << 7 | UInt64.random(in: 0..<128)
        for i in 0..<6 { bits[i] = UInt8(truncatingIfNeeded: first48 >> (8 * UInt64(5 - i))) }
        for i in 6..<10 { bits[i] = UInt8.random(in: 0...255) }
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var text = prefix
        for i in 0..<16 {  // 80 bits, 5 at a time
            var v = 0
            for j in 0..<5 { let bit = i * 5 + j; v = v << 1 | Int(bits[bit / 8] >> (7 - UInt8(bit % 8)) & 1) }
            text.append(alphabet[v])
        }
        return text
    }
    public static func awsSecret() -> String { random(40, alnum + ["/", "+"]) }
    /// An npm token whose checksum holds (see `githubToken`).
    public static func npmToken() -> String { checksummedToken("npm_") }

    /// A GitHub (`ghp_`…) or npm (`npm_`) token of the 2021 format whose last 6 characters are the base62 CRC-32 of
    /// the 30 before them, as the services mint them (computed here independently of the code under test).
    /// CRC-32 (IEEE, reflected) by byte, built once: tests mint tens of thousands of tokens.
    private static let crcTable: [UInt32] = (0..<256).map { n in
        (0..<8).reduce(UInt32(n)) { c, _ in c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }

    /// The checksum is drawn too: with the body's last letters it can spell a mark (`…fa` + `KE…`, about once in
    /// 800,000 tokens; a CI run's 30,000 met one), so the whole token is checked and drawn again.
    public static func checksummedToken(_ prefix: String) -> String {
        while true {
            let body = random(30)
            var crc: UInt32 = 0xFFFF_FFFF
            let table = crcTable
            for b in body.utf8 { crc = table[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
            var v = crc ^ 0xFFFF_FFFF
            let digits = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
            var tail = ""
            for _ in 0..<6 {
                tail = String(digits[Int(v % 62)]) + tail
                v /= 62
            }
            let token = body + tail, lower = token.lowercased()
            if !exampleMarks.contains(where: { lower.contains($0) }) { return prefix + token }
        }
    }
}

/// Runs a program and captures its output.
public struct ProcessResult {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

public enum Run {
    /// The package root (two levels above Tests/<Target>/).
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The built `stowaway` binary (make test builds it first).
    public static var stowaway: String { packageRoot.appendingPathComponent(".build/debug/stowaway").path }

    /// Where fixtures built by `make fixtures` live.
    public static var fixtures: String {
        ProcessInfo.processInfo.environment["STOWAWAY_FIXTURES"] ?? packageRoot.appendingPathComponent("testdata/cache").path
    }

    @discardableResult
    public static func command(_ path: String, _ args: [String], stdin: String? = nil,
                               environment: [String: String] = [:]) throws -> ProcessResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        if !environment.isEmpty {
            p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        let input = Pipe()
        p.standardInput = input
        try p.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        // Read both pipes concurrently so a full pipe never blocks the child.
        let errBox = Mutex(Data())
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            let data = err.fileHandleForReading.readDataToEndOfFile()
            errBox.withLock { $0 = data }
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        let errData = errBox.withLock { $0 }
        p.waitUntilExit()
        return ProcessResult(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Runs a tool found on PATH.
    @discardableResult
    public static func tool(_ name: String, _ args: [String], environment: [String: String] = [:]) throws -> ProcessResult {
        let r = try command("/usr/bin/env", [name] + args, environment: environment)
        if r.status != 0 {
            throw ToolFailure(description: "\(name) \(args.joined(separator: " ")) exited \(r.status): \(r.stderr)")
        }
        return r
    }

    public struct ToolFailure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// A fresh temporary directory.
    public static func tempDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stowaway-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}

/// Reading a JSON report in a test without `as!`: a wrong shape throws, failing that one test, not the run.
public struct JSONShapeError: Error, CustomStringConvertible {
    public var description: String
}

public enum JSONDocument {
    /// The top-level object of `text`.
    public static func object(_ text: String) throws -> [String: Any] {
        guard let o = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw JSONShapeError(description: "not a JSON object: \(text.prefix(300))")
        }
        return o
    }

    /// A report a command may not have written (a run that failed before it had one): empty output is an empty
    /// object, anything else must be a JSON object. Two broken outputs never compare equal as two empty ones.
    public static func optionalObject(_ text: String) throws -> [String: Any] {
        text.allSatisfy(\.isWhitespace) ? [:] : try object(text)
    }

    /// The same for a report file: a file not written reads as an empty object.
    public static func optionalObject(atPath path: String) throws -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: path) else { return [:] }
        return try optionalObject(String(decoding: data, as: UTF8.self))
    }

    /// The findings of the first image of a `stowaway scan --format json` report.
    public static func findings(_ text: String) throws -> [[String: Any]] {
        try object(text).objects("images").first.map { try $0.objects("findings") } ?? []
    }
}

extension Dictionary where Key == String, Value == Any {
    /// The object under `key`, or a thrown error naming the key.
    public func object(_ key: String) throws -> [String: Any] {
        guard let v = self[key] as? [String: Any] else { throw JSONShapeError(description: "\"\(key)\" is not an object") }
        return v
    }

    /// The array of objects under `key`, or a thrown error naming the key.
    public func objects(_ key: String) throws -> [[String: Any]] {
        guard let v = self[key] as? [[String: Any]] else { throw JSONShapeError(description: "\"\(key)\" is not an array of objects") }
        return v
    }
}

import Foundation

/// Fresh fake secrets in real token formats, generated at run time so nothing real is committed.
public enum FakeSecret {
    public static let alnum = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    public static func random(_ count: Int, _ alphabet: [Character] = alnum) -> String {
        var g = SystemRandomNumberGenerator()
        return String((0..<count).map { _ in alphabet[Int(g.next(upperBound: UInt64(alphabet.count)))] })
    }

    public static func flyToken() -> String { "fo1_" + random(43, alnum + ["_", "-"]) }
    public static func flyBundle() -> String {
        "FlyV1 fm2_" + random(150, alnum + ["+", "/"]) + ",fm2_" + random(120, alnum + ["+", "/"])
    }
    public static func githubToken() -> String { "ghp_" + random(36) }
    public static func stripeKey() -> String { "sk_live_" + random(32) }
    public static func awsKeyID() -> String { "AKIA" + random(16, Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")) }
    /// An AWS-like key ID of 16 distinct characters: always above the rule's entropy gate (a random one fails it
    /// about once in 7000), for tests that count every key.
    public static func awsKeyIDDistinct() -> String {
        var g = SystemRandomNumberGenerator()
        return "AKIA" + String(Array("BCDEFGHJLMNOPQRSTUVWXYZ234567").shuffled(using: &g).prefix(16))
    }
    public static func awsSecret() -> String { random(40, alnum + ["/", "+"]) }
    public static func npmToken() -> String { "npm_" + random(36) }
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
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errBox.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        let errData = errBox.data
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

    public struct ToolFailure: Error, CustomStringConvertible { public var description: String }

    /// A fresh temporary directory.
    public static func tempDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stowaway-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}

import Foundation

/// Findings to leave out: those of an earlier JSON report (matched on rule, `secretSHA256` and place) and
/// secrets listed by `secretSHA256` in an ignore file (`.stowawayignore`, one hash a line, `#` comments).
public struct Baseline: Sendable {
    private var known: Set<String> = []
    private var ignored: Set<String> = []

    public init() {}

    /// The place of a finding, stable across rebuilds: the path for files (not the layer index), else the key.
    static func place(_ f: Finding) -> String {
        [f.source.rawValue, f.path ?? f.key ?? f.historyIndex.map(String.init) ?? ""].joined(separator: ":")
    }

    static func key(_ f: Finding) -> String { "\(f.ruleID)|\(f.secretSHA256)|\(place(f))" }

    /// Adds every finding of a JSON report; throws naming the file when it is not one.
    public mutating func add(report path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw BaselineError(path: path, reason: "cannot read it") }
        // Only what a baseline needs, so reports of older and newer versions (with other fields) still load.
        struct Minimal: Decodable { struct Image: Decodable { var findings: [Finding] }; var images: [Image] }
        do {
            let report = try JSONDecoder().decode(Minimal.self, from: data)
            for image in report.images { for f in image.findings { known.insert(Self.key(f)) } }
        } catch {
            throw BaselineError(path: path, reason: "not a stowaway JSON report (\(error))")
        }
    }

    /// Adds the hashes of an ignore file.
    public mutating func add(ignoreFile path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw BaselineError(path: path, reason: "cannot read it") }
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first?
                .trimmingCharacters(in: .whitespaces) ?? ""
            if line.isEmpty { continue }
            let hex = line.hasPrefix("sha256:") ? String(line.dropFirst(7)) : line
            guard hex.count == 64, hex.allSatisfy({ $0.isHexDigit }) else {
                throw BaselineError(path: path, reason: "line \(n + 1) is not a secretSHA256 (64 hex digits)")
            }
            ignored.insert(hex.lowercased())
        }
    }

    public func suppresses(_ f: Finding) -> Bool {
        ignored.contains(f.secretSHA256) || known.contains(Self.key(f))
    }
}

/// A baseline or ignore file that cannot be used.
public struct BaselineError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }
}

import Foundation

/// Findings to leave out: those of an earlier JSON report (matched on rule, `secretSHA256` and the place's identity,
/// as the sweep's ledger matches a finding across runs) and the acceptances of an ignore file (`.stowawayignore`,
/// see `IgnoreFile`), judged on the triage clock's day.
public struct Baseline: Sendable {
    private var known: Set<String> = []
    private var knownOrigin = ""
    private var triage: Triage

    /// An empty baseline whose expiries are judged at `now` (the triage clock by default).
    public init(now: Date = TriageClock.now()) {
        triage = Triage(now: now)
    }

    /// The place is `Finding.Place.identity`, stable across rebuilds: the path for files (not the layer index), the
    /// source and key for the config, the build argument for history (not the entry's position). Reports of
    /// earlier versions, which matched on `source:path-or-key-or-history-index`, are read the same way: every
    /// finding they matched still matches.
    static func key(_ f: Finding) -> String { "\(f.ruleID)|\(f.secretSHA256)|\(f.place.identity)" }

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
        knownOrigin = "baseline \(path)"
    }

    /// Adds the entries of an ignore file; throws `BaselineError` naming `FILE:LINE` of a line that does not read.
    public mutating func add(ignoreFile path: String) throws {
        triage.add(try IgnoreFile(path: path).entries)
    }

    /// Adds acceptances from elsewhere (the sweep store).
    public mutating func add(_ entries: [TriageEntry]) {
        triage.add(entries)
    }

    /// The verdict on `f` found in `image`: accepted by the baseline report or an ignore entry in force, an
    /// acceptance that expired, or none.
    public func verdict(_ f: Finding, image: String) -> TriageVerdict {
        if known.contains(Self.key(f)) { return .accepted(Acceptance(reason: "in the baseline report", until: nil, origin: knownOrigin, expired: false)) }
        return triage.verdict(f, images: [image])
    }
}

/// A baseline or ignore file that cannot be used.
public struct BaselineError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }
}

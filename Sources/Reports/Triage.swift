import Core
import Foundation

/// A calendar day in UTC (`2027-01-31`): the unit of an acceptance's expiry. An acceptance `until` a day holds
/// through the whole of that day and has expired from the next one on.
public struct Day: Comparable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Exactly `YYYY-MM-DD`, a real calendar day (no 2027-02-30); nil otherwise.
    public init?(_ text: String) {
        guard text.utf8.count == 10, let m = text.wholeMatch(of: /([0-9]{4})-([0-9]{2})-([0-9]{2})/),
              let y = Int(m.1), let mo = Int(m.2), let d = Int(m.3), (1...12).contains(mo), d >= 1 else { return nil }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]
        guard d <= days else { return nil }
        year = y
        month = mo
        day = d
    }

    /// The UTC day `date` falls on.
    public init(_ date: Date) {
        // Force-unwrap: "UTC" is a fixed zone every platform knows.
        let c = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        year = c.year ?? 1970
        month = c.month ?? 1
        day = c.day ?? 1
    }

    public var description: String { String(format: "%04d-%02d-%02d", year, month, day) }

    public static func < (a: Day, b: Day) -> Bool { (a.year, a.month, a.day) < (b.year, b.month, b.day) }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let d = Day(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a YYYY-MM-DD day: \(text)"))
        }
        self = d
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// The one place the triage reads the time: expiries are judged against it. `STOWAWAY_NOW` (`2027-02-01` or
/// an ISO 8601 instant) sets it, so tests can move past an expiry; it is a test hook, not a documented option,
/// and a value that is neither form is ignored.
public enum TriageClock {
    public static let variable = "STOWAWAY_NOW"

    public static func now(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Date {
        guard let text = environment[variable], !text.isEmpty else { return Date() }
        if let d = Day(text) {
            var c = DateComponents()
            (c.year, c.month, c.day, c.hour) = (d.year, d.month, d.day, 12)
            c.timeZone = TimeZone(identifier: "UTC")
            return Calendar(identifier: .gregorian).date(from: c) ?? Date()
        }
        return (try? Date.ISO8601FormatStyle().parse(text)) ?? Date()
    }
}

/// Why a finding is left out of a report's counts (or, once expired, why it is back): an entry of an ignore
/// file, an acceptance kept in the sweep store, or an earlier report given as `--baseline`.
public struct Acceptance: Codable, Sendable, Equatable {
    /// What the person who accepted it wrote (empty for the old one-hash-a-line ignore entries).
    public var reason: String
    /// The last day it holds; nil: no expiry (`"until": null`, as everything in the report contract).
    @Nullable public var until: Day?
    /// Where it was accepted: `.stowawayignore:3`, `sweep store`, `baseline report.json`.
    public var origin: String
    /// Its `until` has passed: the finding counts (open) again and reports say when the acceptance expired.
    public var expired: Bool

    public init(reason: String, until: Day?, origin: String, expired: Bool) {
        self.reason = reason
        self.until = until
        self.origin = origin
        self.expired = expired
    }

    enum CodingKeys: String, CodingKey { case reason, until, origin, expired }

    /// One line for people: `accepted (.stowawayignore:3, until 2027-01-31): test key` or
    /// `acceptance expired on 2027-01-31 (sweep store): test key`.
    public var summary: String {
        let why = reason.isEmpty ? "" : ": \(reason)"
        if expired, let until { return "acceptance expired on \(until) (\(origin))\(why)" }
        return "accepted (\(origin)\(until.map { ", until \($0)" } ?? ""))\(why)"
    }
}

/// One acceptance: the secret it covers (its fingerprint, the finding's `secretSHA256`), why, until when, and
/// optionally where (image references or repositories, and paths, by glob).
public struct TriageEntry: Sendable, Equatable {
    /// The finding's `secretSHA256`, 64 lower-case hex digits.
    public var fingerprint: String
    public var reason: String
    public var until: Day?
    /// Matches the image reference as scanned (`host/repo:tag`) or, in a sweep, its repository (`host/repo`).
    public var image: Glob?
    /// Matches a file finding's path (`/app/.env`, `/app/lib.jar!/x`) or another finding's place (`config/env/KEY`).
    public var path: Glob?
    /// `FILE:LINE` for an ignore file's entry, `sweep store` for `sweep accept`.
    public var origin: String
    /// When it was accepted (store entries).
    public var acceptedAt: Date?

    public init(fingerprint: String, reason: String, until: Day? = nil, image: Glob? = nil, path: Glob? = nil, origin: String,
                acceptedAt: Date? = nil) {
        self.fingerprint = fingerprint
        self.reason = reason
        self.until = until
        self.image = image
        self.path = path
        self.origin = origin
        self.acceptedAt = acceptedAt
    }

    /// A fingerprint as users paste it (`sha256:` prefix or not, any case) in its stored form; nil when it is
    /// not 64 hex digits.
    public static func fingerprint(_ text: String) -> String? {
        let hex = text.hasPrefix("sha256:") ? String(text.dropFirst(7)) : text
        guard hex.utf8.count == 64, hex.allSatisfy(\.isHexDigit) else { return nil }
        return hex.lowercased()
    }

    func covers(images: [String], places: [String]) -> Bool {
        if let image, !images.contains(where: image.matches) { return false }
        if let path, !places.contains(where: path.matches) { return false }
        return true
    }
}

/// What the triage says of one finding.
public enum TriageVerdict: Sendable, Equatable {
    /// Not accepted anywhere.
    case none
    /// Accepted and not expired: left out of the counts (shown only with `--show-suppressed`).
    case accepted(Acceptance)
    /// Every acceptance that covers it has expired: it counts again, with a note saying so.
    case expired(Acceptance)
}

/// The acceptances of an ignore file and of the sweep store, judged on one day: one model for `scan` and `sweep`.
public struct Triage: Sendable {
    private var byFingerprint: [String: [TriageEntry]] = [:]
    public let today: Day
    public var isEmpty: Bool { byFingerprint.isEmpty }

    public init(_ entries: [TriageEntry] = [], now: Date) {
        today = Day(now)
        add(entries)
    }

    public mutating func add(_ entries: [TriageEntry]) {
        for e in entries { byFingerprint[e.fingerprint, default: []].append(e) }
    }

    /// The verdict on a finding with this secret hash, seen in `images` (references or repositories) at `places`.
    /// An acceptance still in force wins over expired ones; of expired ones the latest is named.
    public func verdict(secretSHA256: String, images: [String], places: [String]) -> TriageVerdict {
        guard let candidates = byFingerprint[secretSHA256] else { return .none }
        let covering = candidates.filter { $0.covers(images: images, places: places) }
        if let live = covering.first(where: { $0.until.map { $0 >= today } ?? true }) {
            return .accepted(Acceptance(reason: live.reason, until: live.until, origin: live.origin, expired: false))
        }
        if let last = covering.max(by: { ($0.until ?? today) < ($1.until ?? today) }) {
            return .expired(Acceptance(reason: last.reason, until: last.until, origin: last.origin, expired: true))
        }
        return .none
    }

    /// The verdict on a scan finding in `images`: its path (file findings) and its place (`config/env/KEY`).
    public func verdict(_ f: Finding, images: [String]) -> TriageVerdict {
        verdict(secretSHA256: f.secretSHA256, images: images, places: [f.path, f.location].compactMap { $0 })
    }
}

/// An acceptance given on the command line that cannot be kept, with the one line that says why.
public struct TriageError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension TriageEntry {
    /// An acceptance from `ignore add` / `sweep accept` flags, checked: a 64-hex fingerprint, a reason of one
    /// printable line, a day as `YYYY-MM-DD` not before `now`'s, globs of 1 to 512 characters. Throws `TriageError`.
    public init(checking fingerprint: String, reason: String, until: String?, image: String? = nil, path: String? = nil,
                origin: String, now: Date) throws {
        guard let fp = TriageEntry.fingerprint(fingerprint) else {
            throw TriageError("\(IgnoreFile.show(fingerprint)): not a fingerprint (a finding's secretSHA256: 64 hex digits)")
        }
        let r: String
        do { r = try IgnoreFile.checkedReason(reason) } catch { throw TriageError("--reason: \(error)") }
        guard !r.isEmpty else { throw TriageError("--reason: say why the finding is accepted") }
        var day: Day?
        if let until {
            guard let d = Day(until) else { throw TriageError("--until \(IgnoreFile.show(until)): not a day as YYYY-MM-DD") }
            let today = Day(now)
            guard d >= today else { throw TriageError("--until \(d): the day is in the past (today is \(today), UTC)") }
            day = d
        }
        func glob(_ flag: String, _ text: String?) throws -> Glob? {
            guard let text else { return nil }
            guard let g = try? Glob(text), !text.unicodeScalars.contains(where: TerminalText.needsEscape) else {
                throw TriageError("--\(flag): a glob of 1 to 512 printable characters")
            }
            return g
        }
        self.init(fingerprint: fp, reason: r, until: day, image: try glob("image", image), path: try glob("path", path), origin: origin,
                  acceptedAt: now)
    }
}

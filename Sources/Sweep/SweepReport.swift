import Foundation
import Scan
import Secrets

/// A sweep's JSON report (`schemaVersion` 1) as the issue specifies it; the text and markdown forms carry the
/// same facts. Findings are redacted: the report never holds a secret.
public struct SweepReport: Codable, Sendable {
    public struct Run: Codable, Sendable {
        public var id: Int64
        public var startedAt: Date
        public var finishedAt: Date
        /// The rule set's fingerprint (as `stowaway rules` prints it).
        public var ruleset: String
        /// `complete`, or `interrupted` when SIGINT/SIGTERM stopped it; `incomplete` for the report of a shared
        /// run some of whose items are not done yet.
        public var status: RunStatus
        /// A shared run's name (`--run NAME`); absent for a run of its own.
        public var name: String? = nil
        /// In a worker's own report: the worker (host/pid/random), whose items the report covers.
        public var worker: String? = nil
        /// In a shared run's report: its work items done so far, and all of them.
        public var itemsDone: Int? = nil
        public var itemsTotal: Int? = nil
    }

    public struct Failed: Codable, Sendable, Equatable {
        /// The image (or the listing: `host catalog`, `host/repo`, `fly org ORG`) that could not be read.
        public var image: String
        /// One line.
        public var error: String

        /// A failure of `image` (or a listing) with its one-line reason.
        public init(image: String, error: String) {
            self.image = image
            self.error = error
        }
    }

    public struct Images: Codable, Sendable {
        /// Every image the run covered, from the cache or not.
        public var scanned = 0
        /// Those whose manifest digest was unchanged, so no blob was fetched.
        public var cached = 0
        public var failed: [Failed] = []
    }

    public struct Layers: Codable, Sendable {
        public var scanned = 0
        public var cached = 0
        /// Compressed bytes of the layer blobs and configs fetched.
        public var bytesFetched: Int64 = 0
    }

    public struct Findings: Codable, Sendable {
        public var new: [SweepFinding] = []
        public var open: [SweepFinding] = []
        public var resolved: [SweepFinding] = []
    }

    public var schemaVersion = 1
    public var run: Run
    public var images = Images()
    public var layers = Layers()
    public var findings = Findings()

    /// New findings at or above `threshold`.
    public func newCount(atLeast threshold: Severity) -> Int {
        findings.new.filter { $0.finding.severity >= threshold }.count
    }

    /// The contract's exit code: 2 when any image could not be scanned (or the run was stopped), else 1 when a
    /// new finding is at or above `failOn`, else 0.
    public func exitCode(failOn: Severity) -> Int32 {
        if !images.failed.isEmpty || run.status != .complete { return 2 }
        return newCount(atLeast: failOn) > 0 ? 1 : 0
    }

    /// The JSON form: sorted keys, ISO 8601 dates, no escaped slashes.
    public func json() throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        enc.dateEncodingStrategy = .iso8601
        return try enc.encode(self) + Data("\n".utf8)
    }

    /// A plain-text summary: counts, failures, then new, open and resolved findings one per line. Everything
    /// that came from a registry or an image is escaped, so nothing reaches the terminal as a control sequence.
    public func text() -> String {
        let e = TerminalText.escape
        var out = "sweep run \(run.id) \(run.status.rawValue) (ruleset \(run.ruleset.prefix(12)))\n"
        if let name = run.name {
            out += "shared run \(e(name))" + (run.worker.map { ", this worker's items only (\(e($0)))" } ?? "")
                + (run.itemsTotal.map { ", \(run.itemsDone ?? 0) of \($0) items done" } ?? "") + "\n"
        }
        out += "images: \(images.scanned) scanned, \(images.cached) unchanged since the last run, \(images.failed.count) failed\n"
        out += "layers: \(layers.scanned) scanned, \(layers.cached) from the store, \(Self.bytes(layers.bytesFetched)) fetched\n"
        out += "findings: \(findings.new.count) new, \(findings.open.count) open, \(findings.resolved.count) resolved\n"
        for f in images.failed { out += "FAILED    \(e(f.image)): \(e(f.error))\n" }
        for (label, list) in [("NEW", findings.new), ("OPEN", findings.open), ("RESOLVED", findings.resolved)] {
            for f in list {
                let pad = label.padding(toLength: 9, withPad: " ", startingAt: 0)
                out += "\(pad) \(f.finding.severity.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(e(f.finding.ruleID))  "
                    + "\(e(f.image))  \(e(Self.place(f.finding)))  \(e(f.finding.redacted))"
                if let app = f.app { out += "  (app \(e(app))\(f.machines.map { ", machines \(e($0.joined(separator: " ")))" } ?? ""))" }
                out += "\n"
            }
        }
        return out
    }

    /// A summary a team pastes into a ticket: counts, a table of new findings, then the open and resolved ones.
    /// Every string from outside (images, places, previews, app names, error text) goes in through `MessageText`,
    /// so none of it becomes a link, an image, HTML or a table cell of its own.
    public func markdown() -> String {
        let cell = MessageText.markdownCode
        let text = MessageText.markdown
        var out = "## Stowaway sweep, run \(run.id)\n\n"
        out += "- Status: \(run.status.rawValue), \(Self.isoDate(run.startedAt)) to \(Self.isoDate(run.finishedAt))\n"
        if let name = run.name {
            out += "- Shared run: `\(cell(name))`" + (run.worker.map { ", worker `\(cell($0))` (its items only)" } ?? "")
                + (run.itemsTotal.map { ", \(run.itemsDone ?? 0) of \($0) items done" } ?? "") + "\n"
        }
        out += "- Images: \(images.scanned) scanned (\(images.cached) unchanged), \(images.failed.count) failed\n"
        out += "- Layers: \(layers.scanned) scanned, \(layers.cached) from the store, \(Self.bytes(layers.bytesFetched)) fetched\n"
        out += "- Findings: **\(findings.new.count) new**, \(findings.open.count) open, \(findings.resolved.count) resolved\n"
        out += "- Rule set: `\(run.ruleset.prefix(16))`\n"
        if !images.failed.isEmpty {
            out += "\n### Could not be scanned\n\n| Image | Error |\n|---|---|\n"
            for f in images.failed { out += "| `\(cell(f.image))` | \(text(f.error)) |\n" }
        }
        for (title, list) in [("New findings", findings.new), ("Still open", findings.open), ("Resolved in this run", findings.resolved)]
        where !list.isEmpty {
            out += "\n### \(title)\n\n| Severity | Rule | Image | Place | Secret (redacted) |\n|---|---|---|---|---|\n"
            for f in list {
                var image = "`\(cell(f.image))`"
                if let app = f.app { image += " (app \(text(app)))" }
                out += "| \(f.finding.severity.rawValue) | \(text(f.finding.ruleID)) | \(image) | `\(cell(Self.place(f.finding)))` | `\(cell(f.finding.redacted))` |\n"
            }
        }
        return out
    }

    /// Where a finding is, for people: `/app/.env:3 (layer 2, deleted)` or `env FLY_API_TOKEN`.
    static func place(_ f: Finding) -> String {
        switch f.source {
        case .file:
            var s = (f.path ?? "?") + (f.line.map { ":\($0)" } ?? "")
            var notes: [String] = []
            if let l = f.layerIndex { notes.append("layer \(l)") }
            if let st = f.status, st != .present { notes.append(st.rawValue) }
            if !notes.isEmpty { s += " (\(notes.joined(separator: ", ")))" }
            return s
        default:
            return f.source.rawValue + (f.key.map { " \($0)" } ?? "") + (f.historyIndex.map { " (history \($0))" } ?? "")
        }
    }

    static func bytes(_ n: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var v = Double(n)
        var u = 0
        while v >= 1000 && u < units.count - 1 {
            v /= 1000
            u += 1
        }
        return u == 0 ? "\(n) B" : String(format: "%.1f", v) + " " + units[u]
    }

    static func isoDate(_ d: Date) -> String {
        d.formatted(Date.ISO8601FormatStyle())
    }
}

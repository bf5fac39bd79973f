import Foundation
import Reports
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
        /// Seen in the run and accepted (an ignore file entry or `sweep accept`) and not expired: each with its
        /// `acceptance`, out of the new and open counts and of the exit code.
        public var accepted: [SweepFinding] = []
        /// Findings of the run less sure than `--confidence` asks for (default medium): in the store, out of
        /// every list above, of the exit code, the page and the webhook; `--confidence low` shows them.
        public var belowConfidence = 0

        public init() {}

        enum CodingKeys: String, CodingKey { case new, open, resolved, accepted, belowConfidence }

        /// Reads reports of versions before `accepted` too.
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            new = try c.decode([SweepFinding].self, forKey: .new)
            open = try c.decode([SweepFinding].self, forKey: .open)
            resolved = try c.decode([SweepFinding].self, forKey: .resolved)
            accepted = try c.decodeIfPresent([SweepFinding].self, forKey: .accepted) ?? []
            belowConfidence = try c.decodeIfPresent(Int.self, forKey: .belowConfidence) ?? 0
        }
    }

    public var schemaVersion = 1
    public var run: Run
    public var images = Images()
    public var layers = Layers()
    public var findings = Findings()

    /// Only the findings at least as sure as `threshold` (one stored before confidences existed is kept), in every
    /// list; the others are counted in `findings.belowConfidence`, as `scan` counts them in its summary.
    public func keeping(confidence threshold: Confidence) -> SweepReport {
        var f = findings
        for list in [\Findings.new, \.open, \.resolved, \.accepted] {
            let before = f[keyPath: list].count
            f[keyPath: list].removeAll { !$0.finding.isReported(atConfidence: threshold) }
            f.belowConfidence += before - f[keyPath: list].count
        }
        var r = self
        r.findings = f
        return r
    }

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

    /// The text report: counts, failures, then new, open and resolved findings one per line in aligned columns
    /// (accepted ones too with `showSuppressed`), coloured like `scan`'s when `colour`. Everything that came from a
    /// registry or an image is escaped, so nothing reaches the terminal as a control sequence.
    public func text(colour: Bool = false, showSuppressed: Bool = false) -> String {
        let e = TerminalText.escape
        func paint(_ s: String, _ code: String) -> String { colour && !code.isEmpty ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s.padding(toLength: n, withPad: " ", startingAt: 0) }
        var out = paint("sweep run \(run.id) \(run.status.rawValue)", "1") + " (ruleset \(run.ruleset.prefix(12)))  "
            + "\(Self.isoDate(run.startedAt)), \(Self.duration(run.finishedAt.timeIntervalSince(run.startedAt)))\n"
        if let name = run.name {
            out += "shared run \(e(name))" + (run.worker.map { ", this worker's items only (\(e($0)))" } ?? "")
                + (run.itemsTotal.map { ", \(run.itemsDone ?? 0) of \($0) items done" } ?? "") + "\n"
        }
        out += "images: \(images.scanned) scanned, \(images.cached) unchanged since the last run, \(images.failed.count) failed\n"
        out += "layers: \(layers.scanned) scanned, \(layers.cached) from the store, \(Self.bytes(layers.bytesFetched)) fetched\n"
        out += "findings: " + paint("\(findings.new.count) new", findings.new.isEmpty ? "" : "1") + ", \(findings.open.count) open, "
            + "\(findings.resolved.count) resolved, \(findings.accepted.count) accepted"
            + (findings.accepted.isEmpty ? "" : showSuppressed ? " (listed, not counted)" : " (not shown: --show-suppressed shows them)")
            + (findings.belowConfidence == 0 ? "" : ", \(findings.belowConfidence) of lower confidence not shown (--confidence low shows them)")
            + "\n"
        for f in images.failed { out += paint("FAILED   ", "1;31") + " \(e(f.image)): \(e(f.error))\n" }
        var rows: [(label: String, code: String, f: SweepFinding)] = []
        for (label, code, list) in [("NEW", "1", findings.new), ("OPEN", "", findings.open), ("RESOLVED", "32", findings.resolved),
                                    ("ACCEPTED", "2", showSuppressed ? findings.accepted : [])] {
            for f in list { rows.append((label: label, code: code, f: f)) }
        }
        // Columns as wide as their widest cell, up to a cap so one long path does not push every line right.
        let ruleWidth = min(40, rows.map { e($0.f.finding.ruleID).count }.max() ?? 0)
        let imageWidth = min(60, rows.map { e($0.f.image).count }.max() ?? 0)
        let placeWidth = min(60, rows.map { e(Self.place($0.f.finding)).count }.max() ?? 0)
        for r in rows {
            let f = r.f.finding
            out += paint(pad(r.label, 9), r.code) + " " + paint(pad(f.severity.rawValue.uppercased(), 8), Self.severityCode(f.severity))
                + " \(pad(e(f.ruleID), ruleWidth))  \(pad(e(r.f.image), imageWidth))  \(pad(e(Self.place(f)), placeWidth))  \(e(f.redacted))"
            if let app = r.f.app { out += "  (app \(e(app))\(r.f.machines.map { ", machines \(e($0.joined(separator: " ")))" } ?? ""))" }
            if let a = f.acceptance { out += "  " + paint("[\(e(a.summary))]", a.expired ? "1;33" : "2") }
            out += "\n"
        }
        return out
    }

    /// The colour `scan`'s text report gives a severity.
    static func severityCode(_ s: Severity) -> String {
        switch s {
        case .critical: return "1;31"
        case .high: return "31"
        case .medium: return "33"
        case .low: return "36"
        }
    }

    /// `2 s`, `3 min 4 s`, `1 h 2 min`.
    public static func duration(_ seconds: TimeInterval) -> String {
        let t = max(0, Int(seconds.rounded()))
        if t < 60 { return "\(t) s" }
        if t < 3600 { return "\(t / 60) min \(t % 60) s" }
        return "\(t / 3600) h \(t % 3600 / 60) min"
    }

    /// A summary a team pastes into a ticket: counts, a table of new findings, then the open and resolved ones.
    /// Every string from outside (images, places, previews, app names, error text) goes in through `MessageText`,
    /// so none of it becomes a link, an image, HTML or a table cell of its own.
    public func markdown(showSuppressed: Bool = false) -> String {
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
        out += "- Findings: **\(findings.new.count) new**, \(findings.open.count) open, \(findings.resolved.count) resolved, "
            + "\(findings.accepted.count) accepted" + (findings.accepted.isEmpty ? "" : showSuppressed ? " (listed below, not counted)"
                : " (not shown: `--show-suppressed` shows them)")
            + (findings.belowConfidence == 0 ? "" : ", \(findings.belowConfidence) of lower confidence not shown (`--confidence low` shows them)")
            + "\n"
        out += "- Rule set: `\(run.ruleset.prefix(16))`\n"
        if !images.failed.isEmpty {
            out += "\n### Could not be scanned\n\n| Image | Error |\n|---|---|\n"
            for f in images.failed { out += "| `\(cell(f.image))` | \(text(f.error)) |\n" }
        }
        for (title, list) in [("New findings", findings.new), ("Still open", findings.open), ("Resolved in this run", findings.resolved),
                              ("Accepted (not counted)", showSuppressed ? findings.accepted : [])]
        where !list.isEmpty {
            out += "\n### \(title)\n\n| Severity | Rule | Image | Place | Secret (redacted) |\n|---|---|---|---|---|\n"
            for f in list {
                var image = "`\(cell(f.image))`"
                if let app = f.app { image += " (app \(text(app)))" }
                let note = f.finding.acceptance.map { " (\(text($0.summary)))" } ?? ""
                out += "| \(f.finding.severity.rawValue) | \(text(f.finding.ruleID)) | \(image) | `\(cell(Self.place(f.finding)))`\(note) | `\(cell(f.finding.redacted))` |\n"
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

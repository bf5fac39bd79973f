import Foundation
import Reports
import Scan
import Secrets

/// What the HTML page and the Prometheus textfile show: one run's report, the open findings over the runs up to
/// it, when each finding was first seen, and when the last complete run ended.
public struct SweepPage: Sendable {
    /// Open findings after one run, by severity and by registry host or Fly app.
    public struct Point: Sendable {
        public var runID: Int64
        public var date: Date
        public var bySeverity: [Severity: Int] = [:]
        public var byGroup: [String: Int] = [:]
        public var total: Int { bySeverity.values.reduce(0, +) }

        /// Open findings after run `runID`, which started at `date`.
        public init(runID: Int64, date: Date, bySeverity: [Severity: Int] = [:], byGroup: [String: Int] = [:]) {
            self.runID = runID
            self.date = date
            self.bySeverity = bySeverity
            self.byGroup = byGroup
        }
    }

    public var report: SweepReport
    /// Oldest first, one point per finished run, the report's run last.
    public var trend: [Point]
    /// When each finding of the report was first seen (its first run's start).
    public var firstSeen: [FindingKey: Date]
    /// Every finding open after the report's run, seen in it or not (repositories it did not cover).
    public var openFindings: [SweepFinding]
    /// The end of the newest run (at or before the report's) that completed.
    public var lastSuccess: Date?
    public var generatedAt: Date

    /// A page of `report` with its trend (oldest first) and first-seen dates; `build` makes one from a store.
    public init(report: SweepReport, trend: [Point], firstSeen: [FindingKey: Date] = [:], openFindings: [SweepFinding] = [],
                lastSuccess: Date? = nil, generatedAt: Date = Date()) {
        self.report = report
        self.trend = trend
        self.firstSeen = firstSeen
        self.openFindings = openFindings
        self.lastSuccess = lastSuccess
        self.generatedAt = generatedAt
    }

    /// The default number of runs in the trend charts.
    public static let defaultTrendRuns = 30
    /// The most runs a trend may span (`--trend-runs`).
    public static let maxTrendRuns = 1000

    /// The trend group of a finding: its Fly app (`app NAME`), else its registry host.
    public static func group(of f: SweepFinding) -> String {
        if let app = f.app { return "app \(app)" }
        return String(f.repository.split(separator: "/", maxSplits: 1).first ?? Substring(f.repository))
    }

    /// The page of `report` with the trend over the last `runs` finished runs up to it; throws `SweepError.store`.
    /// Findings less sure than `confidence` are left out of the trend and the open list, as `keeping(confidence:)`
    /// leaves them out of the report.
    public static func build(report: SweepReport, store: any SweepStore, runs: Int = defaultTrendRuns,
                             confidence: Confidence = .medium, now: Date = Date()) async throws -> SweepPage {
        let all = try await store.runs(limit: 1_000_000)
        let window = all.filter { $0.id <= report.run.id && ($0.finishedAt != nil || $0.id == report.run.id) }
            .prefix(max(1, runs)).reversed()
        let oldest = window.first?.id ?? report.run.id
        let alive = try await store.findings(aliveSince: oldest).filter { $0.finding.finding.isReported(atConfidence: confidence) }
        var trend: [Point] = []
        for r in window {
            var p = Point(runID: r.id, date: r.startedAt)
            for f in alive where f.firstSeenRun <= r.id && (f.resolvedInRun.map { $0 > r.id } ?? true) {
                p.bySeverity[f.finding.finding.severity, default: 0] += 1
                p.byGroup[group(of: f.finding), default: 0] += 1
            }
            trend.append(p)
        }
        let started = Dictionary(all.map { ($0.id, $0.startedAt) }, uniquingKeysWith: { a, _ in a })
        var firstSeen: [FindingKey: Date] = [:]
        for f in alive { firstSeen[f.key] = started[f.firstSeenRun] }
        let r = report.run.id
        // Findings the report accepts are not open on the page nor in the metrics.
        let accepted = Set(report.findings.accepted.map(\.key))
        let open = alive.filter { $0.firstSeenRun <= r && ($0.resolvedInRun.map { $0 > r } ?? true) && !accepted.contains($0.key) }.map(\.finding)
        let lastSuccess = all.first { $0.id <= report.run.id && $0.status == .complete }?.finishedAt
        return SweepPage(report: report, trend: trend, firstSeen: firstSeen, openFindings: open, lastSuccess: lastSuccess, generatedAt: now)
    }

    /// The report of run `id` (the newest finished run when nil) rebuilt from the store: a shared run's as
    /// `Sweeper.sharedReport` makes it; for a run of its own, the findings first seen in it (new), seen in it
    /// and before (open) and resolved in it, with the images it could not read. Throws `SweepError.store` when
    /// there is no such run.
    /// `yyyy-MM-dd` of `date` in UTC, as `--date` takes it.
    public static func utcDay(_ date: Date) -> String {
        let c = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        return String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
    }

    /// Accepted findings (the store's acceptances and `ignore`'s entries, in force at `now`) move to
    /// `findings.accepted`.
    public static func report(run id: Int64?, day: String? = nil, store: any SweepStore, ignore: [TriageEntry] = [],
                              now: Date = TriageClock.now()) async throws -> SweepReport {
        var report = try await untriagedReport(run: id, day: day, store: store)
        report.apply(try await store.triage(with: ignore, now: now))
        return report
    }

    static func untriagedReport(run id: Int64?, day: String?, store: any SweepStore) async throws -> SweepReport {
        let all = try await store.runs(limit: 1_000_000)
        let pick: RunRecord?
        if let id {
            pick = all.first { $0.id == id }
        } else if let day {
            pick = all.first { $0.finishedAt != nil && Self.utcDay($0.startedAt) == day }
        } else {
            pick = all.first { $0.finishedAt != nil }
        }
        guard let record = pick else {
            let reason = id.map { "no run \($0)" } ?? day.map { "no finished run started on \($0) (UTC)" } ?? "no finished run yet"
            throw SweepError.store(path: store.location, reason: reason)
        }
        if let name = record.name { return try await Sweeper.sharedReport(name: name, store: store) }
        let r = record.id
        var report = SweepReport(run: .init(id: r, startedAt: record.startedAt, finishedAt: record.finishedAt ?? record.startedAt,
                                            ruleset: record.ruleset, status: record.status))
        report.images.scanned = record.counts.imagesScanned
        report.images.cached = record.counts.imagesCached
        report.images.failed = try await store.failures(run: r)
        report.layers = .init(scanned: record.counts.layersScanned, cached: record.counts.layersCached,
                              bytesFetched: record.counts.bytesFetched)
        for f in try await store.findings(aliveSince: r) {
            if f.resolvedInRun == r {
                report.findings.resolved.append(f.finding)
            } else if f.firstSeenRun == r {
                report.findings.new.append(f.finding)
            } else if f.firstSeenRun < r && f.lastSeenRun >= r {
                report.findings.open.append(f.finding)
            }
        }
        return report
    }
}

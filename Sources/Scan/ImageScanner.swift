import Dispatch
import Forensics
import Foundation
import Layers
import OCI
import Reports
import Secrets
import Synchronization

/// Options that change what a scan reports.
public struct ScanOptions: Sendable {
    /// Put the secret itself in reports (otherwise only its redacted prefix and SHA-256).
    public var showSecrets = false
    /// Layers scanned at once.
    public var parallelism = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// File findings under these paths are suppressed (counted in the summary, not reported).
    public var pathAllowlist: PathAllowlist?
    /// false: decompress and walk every layer but run no matcher (the benchmark's baseline).
    public var matchContent = true
    /// Hears of every blob byte read (a progress line on a terminal).
    public var progress: ScanProgress?
    /// Findings already known (an earlier report, a `.stowawayignore`): counted, not reported.
    public var baseline: Baseline?
    /// Keep the findings the baseline accepts in each image's `accepted` list (`--show-suppressed`), marked.
    public var showSuppressed = false
    /// Findings reported per file at most, the most severe first; the rest are counted in `truncated`.
    public var maxFindingsPerFile = FileMatcher.defaultMaxHits
    /// Findings reported per image at most (file, config and history findings together), likewise.
    public var maxFindingsPerImage = 10_000
    /// Scan the members of archives found in layers (jar, zip, wheel, tar, tar.gz, ...), recursively.
    public var archives = true
    /// How far that goes; what a limit stops is reported, never silent.
    public var archiveLimits = ArchiveLimits()

    public init(showSecrets: Bool = false, pathAllowlist: PathAllowlist? = nil) {
        self.showSecrets = showSecrets
        self.pathAllowlist = pathAllowlist
    }
}

/// Scans images: the config, every history entry, and every file of every layer (layers in parallel,
/// each layer shared by several images scanned once), then works out which file findings a later
/// layer deleted or replaced.
public final class ImageScanner: Sendable {
    public let engine: MatchEngine
    public let options: ScanOptions
    /// What each distinct secret can do, decoded once: a hostile file may repeat one large token a thousand times.
    private let decoded = DetailsMemo()

    public init(engine: MatchEngine, options: ScanOptions = ScanOptions()) {
        self.engine = engine
        self.options = options
    }

    /// Scans every image; what cannot be read is recorded in the image's `errors`, never thrown.
    public func scan(_ images: [Image]) -> Report {
        let started = Date()
        var jobIndex: [String: Int] = [:]
        var jobs: [LayerRef] = []
        for image in images {
            for layer in image.layers where jobIndex[layer.blob.key] == nil {
                jobIndex[layer.blob.key] = jobs.count
                jobs.append(layer)
            }
        }
        options.progress?.begin(layers: jobs.count, bytes: jobs.reduce(0) { $0 + $1.size })
        let results = scanLayers(jobs)
        options.progress?.end()

        var summary = Report.Summary()
        var reports: [Report.ImageReport] = []
        // Images that name the same config share its findings: it is walked once, not once per image.
        var configs = ConfigCache()
        for image in images {
            let layerResults = image.layers.map { results[jobIndex[$0.blob.key]!] }
            let historyForLayer = image.config.historyIndexForLayer
            let config = configs.findings(for: image) { configFindings(image.config, shownHistory: Set(historyForLayer.compactMap { $0 })) }
            reports.append(imageReport(image, layerResults, config: config))
        }
        for r in results {
            summary.files += r.files
            summary.bytes += r.bytes
        }
        summary.layers = results.count
        summary.suppressed = reports.reduce(0) { $0 + $1.suppressed }
        summary.baselined = reports.reduce(0) { $0 + $1.baselined }
        summary.truncated = reports.reduce(0) { $0 + $1.truncated }
        summary.archiveLimits = results.reduce(0) { $0 + $1.notes.filter { $0.kind == .limit }.count }
        for r in reports { summary.count(r.findings) }
        summary.seconds = (Date().timeIntervalSince(started) * 100).rounded() / 100
        return Report(tool: .init(rulesetFingerprint: engine.fingerprint), images: reports, summary: summary)
    }

    func finding(_ ruleIndex: Int, secret: String, place: Finding.Place) -> Finding {
        let rule = engine.rules[ruleIndex]
        // The decoded power of the secret, when it can be read offline, decides the severity over the rule's.
        let details = decoded.details(for: secret)
        var confidence = rule.confidence
        // A failed checksum: not a working token as written (a truncated copy, a typo, a test value), but the prefix
        // still says what it is, so it stays reported by default, at medium.
        if let valid = details?.checksumValid { confidence = valid ? .high : .medium }
        return Finding(ruleID: rule.id, severity: details?.rating.flatMap { Severity(rawValue: $0.rawValue) } ?? rule.severity,
                       description: rule.description, place: place, secretSHA256: Redaction.sha256(secret),
                       redacted: Redaction.redact(secret), secret: secret, details: details, confidence: confidence)
    }
}

/// At most `limit` items, the most severe kept: when full, a more severe item replaces a least severe one.
/// Every item not kept is counted in `truncated`.
struct SeverityCap<Item> {
    let limit: Int
    private(set) var items: [Item] = []
    private var ranks: [Int] = []
    private var perRank = [0, 0, 0, 0]
    var truncated = 0

    init(limit: Int) { self.limit = max(0, limit) }

    mutating func add(_ item: Item, rank: Int) {
        if items.count < limit {
            items.append(item)
            ranks.append(rank)
            perRank[rank] += 1
            return
        }
        truncated += 1
        // Each slot is upgraded at most three times, so the search below runs O(limit) times in all.
        guard let lowest = perRank.firstIndex(where: { $0 > 0 }), lowest < rank,
              let i = ranks.lastIndex(of: lowest) else { return }
        items[i] = item
        ranks[i] = rank
        perRank[lowest] -= 1
        perRank[rank] += 1
    }
}

/// Hands out indices to worker threads.
final class Counter: Sendable {
    private let value = Mutex(0)

    func take(below limit: Int) -> Int? {
        value.withLock { v in
            guard v < limit else { return nil }
            v += 1
            return v - 1
        }
    }
}

/// Forensic details by secret, for a run's distinct secrets. Bounded by the bytes of the secrets it holds: past
/// that it starts afresh, which costs only decoding again.
final class DetailsMemo: Sendable {
    private struct State {
        var memo: [String: FindingDetails?] = [:]
        var bytes = 0
    }
    private let state = Mutex(State())
    static let byteLimit = 4 << 20

    func details(for secret: String) -> FindingDetails? {
        if let known = state.withLock({ $0.memo[secret] }) { return known }
        let d = Forensics.details(for: secret)
        state.withLock { s in
            if s.bytes + secret.utf8.count > Self.byteLimit { s = State() }
            s.memo[secret] = d
            s.bytes += secret.utf8.count
        }
        return d
    }
}

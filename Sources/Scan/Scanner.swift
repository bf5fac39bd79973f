import Dispatch
import Foundation
import Layers
import OCI
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
    /// Findings reported per file at most, the most severe first; the rest are counted in `truncated`.
    public var maxFindingsPerFile = FileMatcher.defaultMaxHits
    /// Findings reported per image at most (file, config and history findings together), likewise.
    public var maxFindingsPerImage = 10_000

    public init(showSecrets: Bool = false, pathAllowlist: PathAllowlist? = nil) {
        self.showSecrets = showSecrets
        self.pathAllowlist = pathAllowlist
    }
}

/// Scans images: the config, every history entry, and every file of every layer (layers in parallel,
/// each layer shared by several images scanned once), then works out which file findings a later
/// layer deleted or replaced.
public final class Scanner: Sendable {
    public let engine: MatchEngine
    public let options: ScanOptions

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
            reports.append(imageReport(image, layerResults, configs: &configs))
        }
        for r in results {
            summary.files += r.files
            summary.bytes += r.bytes
        }
        summary.layers = results.count
        summary.suppressed = reports.reduce(0) { $0 + $1.suppressed }
        summary.baselined = reports.reduce(0) { $0 + $1.baselined }
        summary.truncated = reports.reduce(0) { $0 + $1.truncated }
        for r in reports {
            for f in r.findings {
                switch f.severity {
                case .critical: summary.critical += 1
                case .high: summary.high += 1
                case .medium: summary.medium += 1
                case .low: summary.low += 1
                }
            }
        }
        summary.seconds = (Date().timeIntervalSince(started) * 100).rounded() / 100
        return Report(tool: .init(rulesetFingerprint: engine.fingerprint), images: reports, summary: summary)
    }

    // MARK: layers

    private func scanLayers(_ layers: [LayerRef]) -> [LayerResult] {
        // Each worker pulls the next index and stores its result under the lock; no unsafe buffer, nothing leaked.
        let results = Mutex<[LayerResult?]>(Array(repeating: nil, count: layers.count))
        let next = Counter()
        let workers = min(options.parallelism, layers.count)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while let i = next.take(below: layers.count) {
                let r = scanLayer(layers[i])
                results.withLock { $0[i] = r }
                options.progress?.layerDone()
            }
        }
        return results.withLock { $0.map { $0 ?? LayerResult() } }
    }

    private func scanLayer(_ layer: LayerRef) -> LayerResult {
        var result = LayerResult()
        // Matching runs on a thread of its own, fed through a bounded pipe, so it overlaps with decompression.
        let pipe = ChunkPipe()
        let consumer = options.matchContent ? LayerMatchThread(scanner: self, pipe: pipe) : nil
        consumer?.start()
        do {
            var onBytes: (@Sendable (Int) -> Void)?
            if let progress = options.progress { onBytes = { progress.add($0) } }
            let source = try layer.blob.open(progress: onBytes)
            let reader = try LayerReader(source: source, name: layer.blob.displayName,
                                         expectedDigest: layer.expectedBlobDigest, expectedDiffID: layer.expectedDiffID,
                                         expectedSize: layer.expectedSize)
            while let entry = try reader.next() {
                if let w = Whiteout.classify(entry.path) {
                    switch w {
                    case .delete(let target): result.deletions.insert(target)
                    case .opaque(let dir): result.opaques.insert(dir)
                    case .metadata: break
                    }
                    continue
                }
                result.entries[entry.path] = entry.kind == .directory
                guard entry.kind == .file else { continue }
                result.files += 1
                if consumer != nil { pipe.send(.begin(entry)) }
                while true {
                    guard let index = pipe.takeBuffer() else { throw consumer?.failure ?? CancellationError() }
                    let n = try reader.read(into: pipe.buffers[index])
                    result.bytes += Int64(n)
                    if n == 0 || consumer == nil {
                        pipe.giveBack(index)
                        if n == 0 { break } else { continue }
                    }
                    pipe.send(.data(index: index, count: n))
                }
                if consumer != nil { pipe.send(.end) }
            }
            pipe.close()
            result.digests = try reader.finish()
        } catch {
            result.error = "\(error)"
        }
        pipe.close()
        if let consumer {
            consumer.join()
            result.hits = consumer.hits.items
            result.truncated = consumer.hits.truncated
            result.suppressed = consumer.suppressed
            if result.error == nil, let f = consumer.failure { result.error = "\(f)" }
        }
        return result
    }

    /// Runs one file's chunks through the matcher; keeps small candidates for decoding and hashes credential files.
    final class FileScan {
        let scanner: Scanner
        let engine: MatchEngine
        let matcher: FileMatcher
        var entry = LayerEntry(path: "/", kind: .file, size: 0)
        var credentialKind: String?
        var decoder: (detector: Detector, rule: Int)?
        var captured: [UInt8]?
        var fileHash: DigestHasher?
        /// Findings of the last file left out by the per-file cap.
        private(set) var truncated = 0

        init(scanner: Scanner) throws {
            self.scanner = scanner
            engine = scanner.engine
            matcher = try scanner.engine.makeMatcher()
            matcher.maxHits = scanner.options.maxFindingsPerFile
        }

        func begin(_ e: LayerEntry) throws {
            entry = e
            credentialKind = nil
            if let rule = engine.rule(for: .credentialFile), engine.ruleApplies(rule, toPath: e.path) {
                credentialKind = CredentialPaths.kind(of: e.path)
            }
            decoder = nil
            if let d = Decoders.decoder(for: e.path), let rule = engine.rule(for: d), engine.ruleApplies(rule, toPath: e.path) {
                decoder = (d, rule)
            }
            captured = decoder != nil && e.size <= Int64(Decoders.maxSize) ? [] : nil
            fileHash = credentialKind != nil ? DigestHasher() : nil
            // A decoded file (at most `Decoders.maxSize` bytes) is capped after its blobs are superseded, so
            // `truncated` never counts a blob whose credential is reported.
            matcher.maxHits = captured != nil ? Decoders.maxSize : scanner.options.maxFindingsPerFile
            try matcher.begin()
        }

        func feed(_ chunk: UnsafeRawBufferPointer) throws {
            if captured != nil {
                if captured!.count + chunk.count <= Decoders.maxSize { captured!.append(contentsOf: chunk) } else { captured = nil }
            }
            fileHash?.update(chunk)
            try matcher.feed(chunk)
        }

        func end() throws -> [LayerHit] {
            var hits: [LayerHit] = []
            for hit in try matcher.end() where engine.ruleApplies(hit.ruleIndex, toPath: entry.path) {
                hits.append(LayerHit(path: entry.path, line: hit.line, ruleIndex: hit.ruleIndex,
                                     secret: String(decoding: hit.secret, as: UTF8.self)))
            }
            truncated = matcher.truncated
            if let decoder, let content = captured {
                hits = try decoded(Decoders.decode(decoder.detector, content: content), by: decoder.rule, into: hits)
                captured = nil
            }
            if let kind = credentialKind, hits.isEmpty, let hasher = fileHash, let rule = engine.rule(for: .credentialFile) {
                hits.append(LayerHit(path: entry.path, line: nil, ruleIndex: rule, secret: "", fileDigest: hasher.finalize().encoded,
                                     fileSize: hasher.count, description: "Credential file: \(kind)"))
            }
            let limit = scanner.options.maxFindingsPerFile
            if hits.count > limit {
                var capped = SeverityCap<LayerHit>(limit: limit)
                for h in hits { capped.add(h, rank: engine.severityRanks[h.ruleIndex]) }
                truncated += capped.truncated
                hits = capped.items
            }
            return hits
        }

        /// Adds what the content rules find in decoded values, or the decoded credential itself under the decoder's
        /// rule; a decoded credential supersedes the finding of the blob it came from (the decoder's `supersedes`).
        private func decoded(_ values: [Decoders.Decoded], by decoderRule: Int, into hits: [LayerHit]) throws -> [LayerHit] {
            var hits = hits
            var seen = Set(hits.map(\.secret))
            var superseded: Set<String> = []
            for d in values {
                var found = false
                for hit in try matcher.scan(d.text) where engine.ruleApplies(hit.ruleIndex, toPath: entry.path) {
                    let secret = String(decoding: hit.secret, as: UTF8.self)
                    if engine.suppresses(secret, rule: decoderRule) { continue }
                    found = true
                    if !seen.insert(secret).inserted { continue }
                    hits.append(LayerHit(path: entry.path, line: d.line, ruleIndex: hit.ruleIndex, secret: secret, key: d.key))
                }
                if !found, let credential = d.credential, !engine.suppresses(credential, rule: decoderRule),
                   seen.insert(credential).inserted {
                    hits.append(LayerHit(path: entry.path, line: d.line, ruleIndex: decoderRule, secret: credential, key: d.key))
                }
                // Decoded, the blob is judged by what it holds (reported, or allowlisted on purpose), not twice.
                if found || d.credential != nil, let encoded = d.encoded { superseded.insert(encoded) }
            }
            let replaced = Set(engine.rules[decoderRule].supersedes)
            if !superseded.isEmpty && !replaced.isEmpty {
                hits.removeAll { replaced.contains(engine.rules[$0.ruleIndex].id) && superseded.contains($0.secret) }
            }
            return hits
        }
    }

    /// The matching side of a layer's pipe: hits of the layer's files, the path allowlist applied and the
    /// layer's share of the per-image cap kept (no image reports more than that of one layer).
    final class LayerMatchThread: @unchecked Sendable {
        // Unchecked: `hits`, `suppressed` and `failure` are written by the matching thread only and read
        // only after `join()`, whose semaphore orders the accesses.
        let scanner: Scanner
        let pipe: ChunkPipe
        private(set) var hits: SeverityCap<LayerHit>
        private(set) var suppressed = 0
        private(set) var failure: Error?
        private let done = DispatchSemaphore(value: 0)

        init(scanner: Scanner, pipe: ChunkPipe) {
            self.scanner = scanner
            self.pipe = pipe
            hits = SeverityCap(limit: scanner.options.maxFindingsPerImage)
        }

        func start() {
            let t = Thread { [self] in
                run()
                done.signal()
            }
            t.stackSize = 1 << 20
            t.start()
        }

        func join() { done.wait() }

        private func collect(_ file: FileScan) throws {
            let found = try file.end()
            hits.truncated += file.truncated
            for h in found {
                if let allow = scanner.options.pathAllowlist, allow.contains(h.path) {
                    suppressed += 1
                    continue
                }
                hits.add(h, rank: scanner.engine.severityRanks[h.ruleIndex])
            }
        }

        private func run() {
            do {
                let file = try FileScan(scanner: scanner)
                var open = false
                while let m = pipe.receive() {
                    switch m {
                    case .begin(let e):
                        try file.begin(e)
                        open = true
                    case .data(let index, let count):
                        defer { pipe.giveBack(index) }
                        try file.feed(UnsafeRawBufferPointer(rebasing: pipe.buffers[index][..<count]))
                    case .end:
                        try collect(file)
                        open = false
                    }
                }
                // A layer cut short mid-file: what was read of the file still counts.
                if open { try collect(file) }
            } catch {
                failure = error
                pipe.abort()
            }
        }
    }

    // MARK: images

    private func imageReport(_ image: Image, _ layers: [LayerResult], configs: inout ConfigCache) -> Report.ImageReport {
        var findings: [Finding] = []
        var errors: [Report.ScanError] = []
        var suppressed = 0
        var baselined = 0
        var truncated = 0
        let historyForLayer = image.config.historyIndexForLayer

        let config = configs.findings(for: image) { configFindings(image.config, shownHistory: Set(historyForLayer.compactMap { $0 })) }
        findings += config.findings
        truncated += config.truncated
        if let e = config.error { errors.append(.init(layerIndex: nil, message: "config: \(e)")) }
        do {
            findings += try annotationFindings(image)
        } catch {
            errors.append(.init(layerIndex: nil, message: "annotations: \(error)"))
        }

        let credentialRule = engine.rule(for: .credentialFile)
        for (i, result) in layers.enumerated() {
            if let e = result.error { errors.append(.init(layerIndex: i, message: e)) }
            suppressed += result.suppressed
            truncated += result.truncated
            for hit in result.hits {
                var f = finding(hit.ruleIndex, secret: hit.secret, source: .file)
                if let d = hit.description { f.description = d }
                if let digest = hit.fileDigest {
                    f.secretSHA256 = digest
                    f.redacted = "(whole file, \(hit.fileSize ?? 0) bytes)"
                    f.secret = nil
                } else if let credentialRule, engine.ruleApplies(credentialRule, toPath: hit.path),
                          CredentialPaths.kind(of: hit.path) != nil {
                    f.severity = f.severity.raised
                }
                f.layerIndex = i
                f.layerDigest = image.layers[i].digest?.description
                f.historyIndex = i < historyForLayer.count ? historyForLayer[i] : nil
                f.path = hit.path
                f.line = hit.line
                f.key = hit.key
                findings.append(f)
            }
        }

        if let baseline = options.baseline {
            let before = findings.count
            findings.removeAll { baseline.suppresses($0) }
            baselined = before - findings.count
        }
        if findings.count > options.maxFindingsPerImage {
            // The most severe are kept, so a cut never hides what decides the exit code.
            let order = findings.indices.sorted { (findings[$0].severity, $1) > (findings[$1].severity, $0) }
            let keep = Set(order.prefix(options.maxFindingsPerImage))
            truncated += findings.count - keep.count
            findings = findings.indices.filter { keep.contains($0) }.map { findings[$0] }
        }
        PathFates.assign(&findings, layers: layers)

        if !options.showSecrets {
            for i in findings.indices { findings[i].secret = nil }
        }
        let layerInfos = image.layers.enumerated().map { i, l -> Report.LayerInfo in
            let h = i < historyForLayer.count ? historyForLayer[i] : nil
            let createdBy = h.flatMap { image.config.history[$0].created_by }.map {
                options.showSecrets ? $0 : Self.redact($0, config.historySecrets[h ?? -1] ?? [])
            }
            return Report.LayerInfo(index: i, digest: l.digest?.description, diffID: l.diffID?.description, size: l.size, createdBy: createdBy)
        }
        return Report.ImageReport(reference: image.reference, manifestDigest: image.manifestDigest?.description,
                                  configDigest: image.configDigest?.description, platform: image.platform?.description,
                                  layers: layerInfos, findings: findings, errors: errors, suppressed: suppressed, baselined: baselined,
                                  truncated: truncated)
    }

    /// Replaces each found secret by its redacted form, so a command line that carried one can be shown.
    static func redact(_ text: String, _ secrets: Set<String>) -> String {
        var t = text
        for s in secrets.sorted(by: { $0.count > $1.count }) where t.contains(s) {
            t = t.replacingOccurrences(of: s, with: Redaction.redact(s))
        }
        return t
    }

    private func finding(_ ruleIndex: Int, secret: String, source: FindingSource) -> Finding {
        let rule = engine.rules[ruleIndex]
        return Finding(ruleID: rule.id, severity: rule.severity, description: rule.description, source: source,
                       layerIndex: nil, layerDigest: nil, historyIndex: nil, path: nil, line: nil, key: nil,
                       status: nil, removedInLayer: nil, secretSHA256: Redaction.sha256(secret),
                       redacted: Redaction.redact(secret), secret: secret)
    }

    // MARK: config and history

    /// Findings of an image config, shared by the images that name it.
    struct ConfigResult {
        var findings: [Finding] = []
        var truncated = 0
        var error: String?
        /// Every secret found in a history line that `layers[].createdBy` shows, whether or not its finding is
        /// reported (cap, baseline), so the line is always shown redacted.
        var historySecrets: [Int: Set<String>] = [:]
    }

    /// Config findings by config digest.
    struct ConfigCache {
        private var byDigest: [String: ConfigResult] = [:]

        mutating func findings(for image: Image, _ compute: () -> ConfigResult) -> ConfigResult {
            guard let digest = image.configDigest?.description else { return compute() }
            if let known = byDigest[digest] { return known }
            let r = compute()
            byDigest[digest] = r
            return r
        }
    }

    private func configFindings(_ config: ImageConfig, shownHistory: Set<Int>) -> ConfigResult {
        var result = ConfigResult()
        do {
            let matcher = try engine.makeMatcher()
            var out = SeverityCap<Finding>(limit: options.maxFindingsPerImage)
            var decodedSeen: Set<String> = []
            let base64Env = engine.rule(for: .base64Env)
            func scan(_ text: String, _ source: FindingSource, key: String? = nil, history: Int? = nil,
                      keyAt: ((Int64) -> String?)? = nil, decodedBy: Int? = nil) throws {
                let hits = try matcher.scan(text)
                out.truncated += matcher.truncated
                for hit in hits where engine.ruleApplies(hit.ruleIndex, toPath: nil) {
                    let secret = String(decoding: hit.secret, as: UTF8.self)
                    var f = finding(hit.ruleIndex, secret: secret, source: source)
                    f.key = key ?? keyAt?(hit.start)
                    f.historyIndex = history
                    if let history, shownHistory.contains(history) { result.historySecrets[history, default: []].insert(secret) }
                    if let decoder = decodedBy {
                        if engine.suppresses(secret, rule: decoder) { continue }
                        if !decodedSeen.insert("\(f.secretSHA256)|\(source.rawValue)|\(f.key ?? "")").inserted { continue }
                        f.description += " (base64-decoded)"
                    }
                    out.add(f, rank: f.severity.rank)
                }
            }
            let c = config.container
            for entry in c.Env ?? [] {
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                try scan(entry, .env, key: parts.first)
                // A value that is base64 of text is decoded once and scanned as well.
                if let base64Env, parts.count == 2, let decoded = Decoders.base64Value(parts[1]) {
                    try scan(parts[0] + "=" + decoded, .env, key: parts[0], decodedBy: base64Env)
                }
            }
            for (k, v) in (c.Labels ?? [:]).sorted(by: { $0.key < $1.key }) { try scan("\(k)=\(v)", .label, key: k) }
            if let cmd = c.Cmd { try scan(cmd.joined(separator: " "), .cmd) }
            if let ep = c.Entrypoint { try scan(ep.joined(separator: " "), .entrypoint) }
            if let test = c.Healthcheck?.Test { try scan(test.joined(separator: " "), .healthcheck) }
            for (i, h) in config.history.enumerated() {
                if let line = h.created_by {
                    let args = BuildArgs.parse(line)
                    try scan(line, .history, history: i, keyAt: { offset in
                        args.first { $0.range.contains(Int(offset)) }?.key
                    })
                }
                if let comment = h.comment { try scan(comment, .history, history: i) }
            }
            let walk = ConfigWalk.otherStrings(config.raw)
            for (path, value) in walk.strings {
                try scan(value, .config, key: path)
            }
            result.error = walk.error
            result.findings = out.items
            result.truncated = out.truncated
        } catch {
            result.error = "\(error)"
        }
        return result
    }

    private func annotationFindings(_ image: Image) throws -> [Finding] {
        guard !image.annotations.isEmpty else { return [] }
        let matcher = try engine.makeMatcher()
        var out: [Finding] = []
        for (k, v) in image.annotations.sorted(by: { $0.key < $1.key }) {
            for hit in try matcher.scan("\(k)=\(v)") where engine.ruleApplies(hit.ruleIndex, toPath: nil) {
                var f = finding(hit.ruleIndex, secret: String(decoding: hit.secret, as: UTF8.self), source: .annotation)
                f.key = k
                out.append(f)
            }
        }
        return out
    }
}

/// What one layer held: hits, and the path events that decide later statuses.
struct LayerResult {
    var hits: [LayerHit] = []
    /// Hits left out by the per-file and per-layer caps.
    var truncated = 0
    /// Hits in allowlisted paths.
    var suppressed = 0
    /// Every non-whiteout path, true when a directory.
    var entries: [String: Bool] = [:]
    var deletions: Set<String> = []
    var opaques: Set<String> = []
    var files = 0
    var bytes: Int64 = 0
    var error: String?
    var digests: LayerReader.Digests?
}

/// A secret in a file of a layer (or a credential file with none), before statuses.
struct LayerHit {
    var path: String
    var line: Int?
    var ruleIndex: Int
    var secret: String
    var key: String?
    /// For a credential file reported by its name: the SHA-256 and size of the whole file.
    var fileDigest: String?
    var fileSize: Int64?
    /// Replaces the rule's description (a credential file says which kind).
    var description: String?
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

/// Decides each file finding's status from the later layers' whiteouts and entries in one pass down the
/// layers, looking only at the paths (and their ancestors) that have findings: O(findings × depth + events).
enum PathFates {
    static func assign(_ findings: inout [Finding], layers: [LayerResult]) {
        var byLayer: [Int: [Int]] = [:]
        var relevant: Set<String> = []
        for (i, f) in findings.enumerated() where f.source == .file {
            guard let layer = f.layerIndex, let path = f.path else { continue }
            byLayer[layer, default: []].append(i)
            relevant.insert(path)
            for a in LayerPath.ancestors(path) { relevant.insert(a) }
        }
        guard !byLayer.isEmpty else { return }
        // Earliest layer above the one being answered for, per path: deleted, opaque, any entry, a non-directory entry.
        var deletedAt: [String: Int] = [:], opaqueAt: [String: Int] = [:], entryAt: [String: Int] = [:], fileAt: [String: Int] = [:]
        for j in stride(from: layers.count - 1, through: 0, by: -1) {
            for i in byLayer[j] ?? [] {
                let path = findings[i].path!
                let ancestors = LayerPath.ancestors(path)
                let deleted = ([deletedAt[path]] + ancestors.flatMap { [deletedAt[$0], opaqueAt[$0]] }).compactMap { $0 }.min()
                let overwritten = entryAt[path]
                let parentReplaced = ancestors.compactMap { fileAt[$0] }.min()
                let first = [deleted, overwritten, parentReplaced].compactMap { $0 }.min()
                if let first {
                    findings[i].status = first == deleted ? .deleted : first == overwritten ? .overwritten : .deleted
                    findings[i].removedInLayer = first
                } else {
                    findings[i].status = .present
                }
            }
            let l = layers[j]
            if relevant.count < l.entries.count + l.deletions.count + l.opaques.count {
                for p in relevant {
                    if l.deletions.contains(p) { deletedAt[p] = j }
                    if l.opaques.contains(p) { opaqueAt[p] = j }
                    if let isDir = l.entries[p] {
                        entryAt[p] = j
                        if !isDir { fileAt[p] = j }
                    }
                }
            } else {
                for p in l.deletions where relevant.contains(p) { deletedAt[p] = j }
                for p in l.opaques where relevant.contains(p) { opaqueAt[p] = j }
                for (p, isDir) in l.entries where relevant.contains(p) {
                    entryAt[p] = j
                    if !isDir { fileAt[p] = j }
                }
            }
        }
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

import Dispatch
import Forensics
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
        for image in images {
            let layerResults = image.layers.map { results[jobIndex[$0.blob.key]!] }
            reports.append(imageReport(image, layerResults))
        }
        for r in results {
            summary.files += r.files
            summary.bytes += r.bytes
        }
        summary.layers = results.count
        summary.suppressed = reports.reduce(0) { $0 + $1.suppressed }
        summary.baselined = reports.reduce(0) { $0 + $1.baselined }
        for f in reports.flatMap(\.findings) {
            switch f.severity {
            case .critical: summary.critical += 1
            case .high: summary.high += 1
            case .medium: summary.medium += 1
            case .low: summary.low += 1
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

    /// File data is read and matched in chunks of this size.
    static let chunkSize = 256 * 1024

    func scanLayer(_ layer: LayerRef) -> LayerResult {
        var result = LayerResult()
        // The tar walk and matching share this thread: a hand-off per file cost more than it overlapped
        // (layers of small files ping-ponged two threads). Decompression and both hashes run ahead on
        // threads of their own inside LayerReader, so one layer still keeps two cores busy.
        // Unsafe buffer: allocated here, freed on return, lent only to the reader and the matcher below.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var file: FileScan?
        // A file begun whose matcher has not failed: cut short by the layer, it is still ended.
        var open = false
        do {
            if options.matchContent { file = try FileScan(scanner: self) }
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
                    // A whiteout's body is never extracted: data hidden there is scanned under the whiteout's name.
                    guard entry.size > 0 else { continue }
                } else if entry.kind != .trailingData {
                    result.entries[entry.path] = entry.kind == .directory
                }
                // Hard links with a body and the bytes after the end-of-archive marker are scanned like files.
                guard entry.hasData else { continue }
                if entry.kind == .file { result.files += 1 }
                try file?.begin(entry)
                open = true
                while true {
                    let n = try reader.read(into: buffer)
                    if n == 0 { break }
                    result.bytes += Int64(n)
                    do { try file?.feed(UnsafeRawBufferPointer(rebasing: buffer[..<n])) } catch {
                        open = false
                        throw error
                    }
                }
                open = false
                if let file { result.hits += try file.end() }
            }
            result.digests = try reader.finish()
        } catch {
            result.error = "\(error)"
            // A layer cut short mid-file (not a matcher failure): what was read of the file still counts.
            if open, let file, let hits = try? file.end() { result.hits += hits }
        }
        return result
    }

    /// Runs one file's chunks through the matcher; keeps small candidates for decoding and hashes credential files.
    final class FileScan {
        let scanner: Scanner
        let matcher: FileMatcher
        var entry = LayerEntry(path: "/", kind: .file, size: 0)
        var credentialKind: String?
        var captured: [UInt8]?
        var fileHash: DigestHasher?

        init(scanner: Scanner) throws {
            self.scanner = scanner
            matcher = try scanner.engine.makeMatcher()
        }

        func begin(_ e: LayerEntry) throws {
            entry = e
            credentialKind = CredentialPaths.kind(of: e.path)
            captured = Decoders.wantsContent(e.path) && e.size <= Int64(Decoders.maxSize) ? [] : nil
            fileHash = credentialKind != nil ? DigestHasher() : nil
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
            let engine = scanner.engine
            var hits: [LayerHit] = []
            for hit in try matcher.end() where engine.ruleApplies(hit.ruleIndex, toPath: entry.path) {
                hits.append(LayerHit(path: entry.path, line: hit.line, rule: engine.rules[hit.ruleIndex],
                                     secret: String(decoding: hit.secret, as: UTF8.self)))
            }
            let decoded = captured.map { Decoders.decode(path: entry.path, content: $0) } ?? []
            if decoded.contains(where: { $0.credential != nil }) {
                // The decoded credential says more than the base64 blob it came from.
                hits.removeAll { $0.rule.id == "docker-config-auth" }
            }
            for d in decoded {
                var found = false
                for hit in try matcher.scan(d.text) where engine.ruleApplies(hit.ruleIndex, toPath: entry.path) {
                    let secret = String(decoding: hit.secret, as: UTF8.self)
                    found = true
                    if hits.contains(where: { $0.secret == secret }) { continue }
                    hits.append(LayerHit(path: entry.path, line: d.line, rule: engine.rules[hit.ruleIndex], secret: secret, key: d.key))
                }
                if !found, let credential = d.credential, !hits.contains(where: { $0.secret == credential }) {
                    hits.append(LayerHit(path: entry.path, line: d.line, rule: Decoders.dockerCredentialRule, secret: credential, key: d.key))
                }
            }
            if let kind = credentialKind, hits.isEmpty, let hasher = fileHash {
                var rule = CredentialPaths.rule
                rule.description = "Credential file: \(kind)"
                hits.append(LayerHit(path: entry.path, line: nil, rule: rule, secret: "", fileDigest: hasher.finalize().encoded,
                                     fileSize: hasher.count))
            }
            return hits
        }
    }

    // MARK: images

    private func imageReport(_ image: Image, _ layers: [LayerResult]) -> Report.ImageReport {
        var findings: [Finding] = []
        var errors: [Report.ScanError] = []
        var suppressed = 0
        var baselined = 0
        let historyForLayer = image.config.historyIndexForLayer

        do {
            findings += try configFindings(image)
        } catch {
            errors.append(.init(layerIndex: nil, message: "config: \(error)"))
        }

        for (i, result) in layers.enumerated() {
            if let e = result.error { errors.append(.init(layerIndex: i, message: e)) }
            for hit in result.hits {
                if let allow = options.pathAllowlist, allow.contains(hit.path) {
                    suppressed += 1
                    continue
                }
                let (status, removedIn) = Self.status(of: hit.path, in: i, layers: layers)
                var f = finding(hit.rule, secret: hit.secret, source: .file)
                if let digest = hit.fileDigest {
                    f.secretSHA256 = digest
                    f.redacted = "(whole file, \(hit.fileSize ?? 0) bytes)"
                    f.secret = nil
                } else if CredentialPaths.kind(of: hit.path) != nil, f.details?.rating == nil {
                    f.severity = f.severity.raised
                }
                f.layerIndex = i
                f.layerDigest = image.layers[i].digest?.description
                f.historyIndex = i < historyForLayer.count ? historyForLayer[i] : nil
                f.path = hit.path
                f.line = hit.line
                f.key = hit.key
                f.status = status
                f.removedInLayer = removedIn
                findings.append(f)
            }
        }
        if let baseline = options.baseline {
            let before = findings.count
            findings.removeAll { baseline.suppresses($0) }
            baselined = before - findings.count
        }

        let redactor = Redactor(Set(findings.compactMap { $0.secret }))
        if !options.showSecrets {
            // A secret can also be where a finding says it is: an env entry without `=` is its own key, a label
            // key or a file name can be the token. Every place string gets the same redaction as the secret.
            for i in findings.indices {
                findings[i].secret = nil
                findings[i].key = findings[i].key.map(redactor.redact)
                findings[i].path = findings[i].path.map(redactor.redact)
            }
        }
        let layerInfos = image.layers.enumerated().map { i, l -> Report.LayerInfo in
            let h = i < historyForLayer.count ? historyForLayer[i] : nil
            let createdBy = h.flatMap { image.config.history[$0].created_by }.map { options.showSecrets ? $0 : redactor.redact($0) }
            return Report.LayerInfo(index: i, digest: l.digest?.description, diffID: l.diffID?.description, size: l.size, createdBy: createdBy)
        }
        return Report.ImageReport(reference: image.reference, manifestDigest: image.manifestDigest?.description,
                                  configDigest: image.configDigest?.description, platform: image.platform?.description,
                                  layers: layerInfos, findings: findings, errors: errors, suppressed: suppressed, baselined: baselined)
    }

    func finding(_ rule: Rule, secret: String, source: FindingSource) -> Finding {
        // The decoded power of the secret, when it can be read offline, decides the severity over the rule's.
        let details = Forensics.details(for: secret)
        return Finding(ruleID: rule.id, severity: details?.rating.flatMap { Severity(rawValue: $0.rawValue) } ?? rule.severity,
                       description: rule.description, source: source,
                       layerIndex: nil, layerDigest: nil, historyIndex: nil, path: nil, line: nil, key: nil,
                       status: nil, removedInLayer: nil, secretSHA256: Redaction.sha256(secret),
                       redacted: Redaction.redact(secret), secret: secret, details: details)
    }

    /// Whether a later layer deleted (whiteout, opaque directory, parent replaced) or replaced the path.
    static func status(of path: String, in layer: Int, layers: [LayerResult]) -> (FileStatus, Int?) {
        let ancestors = LayerPath.ancestors(path)
        for j in (layer + 1)..<max(layer + 1, layers.count) {
            let l = layers[j]
            if l.deletions.contains(path) || ancestors.contains(where: { l.deletions.contains($0) || l.opaques.contains($0) }) {
                return (.deleted, j)
            }
            if l.entries[path] != nil { return (.overwritten, j) }
            if ancestors.contains(where: { l.entries[$0] == false }) { return (.deleted, j) }
        }
        return (.present, nil)
    }

    // MARK: config and history

    func configFindings(_ image: Image) throws -> [Finding] {
        let matcher = try engine.makeMatcher()
        var out: [Finding] = []
        func scan(_ text: String, _ source: FindingSource, key: String? = nil, history: Int? = nil,
                  keyAt: ((Int64) -> String?)? = nil, decoded: Bool = false) throws {
            for hit in try matcher.scan(text) where engine.ruleApplies(hit.ruleIndex, toPath: nil) {
                let rule = engine.rules[hit.ruleIndex]
                let secret = String(decoding: hit.secret, as: UTF8.self)
                var f = finding(rule, secret: secret, source: source)
                f.key = key ?? keyAt?(hit.start)
                f.historyIndex = history
                if decoded {
                    if out.contains(where: { $0.secretSHA256 == f.secretSHA256 && $0.source == source && $0.key == f.key }) { continue }
                    f.description += " (base64-decoded)"
                }
                out.append(f)
            }
        }
        let c = image.config.container
        for entry in c.Env ?? [] {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            try scan(entry, .env, key: parts.first)
            // A value that is base64 of text is decoded once and scanned as well.
            if parts.count == 2, let decoded = Decoders.base64Value(parts[1]) {
                try scan(parts[0] + "=" + decoded, .env, key: parts[0], decoded: true)
            }
        }
        for (k, v) in (c.Labels ?? [:]).sorted(by: { $0.key < $1.key }) { try scan("\(k)=\(v)", .label, key: k) }
        if let cmd = c.Cmd { try scan(cmd.joined(separator: " "), .cmd) }
        if let ep = c.Entrypoint { try scan(ep.joined(separator: " "), .entrypoint) }
        if let test = c.Healthcheck?.Test { try scan(test.joined(separator: " "), .healthcheck) }
        for (k, v) in image.annotations.sorted(by: { $0.key < $1.key }) { try scan("\(k)=\(v)", .annotation, key: k) }
        for (i, h) in image.config.history.enumerated() {
            if let line = h.created_by {
                let args = BuildArgs.parse(line)
                try scan(line, .history, history: i, keyAt: { offset in
                    args.first { $0.range.contains(Int(offset)) }?.key
                })
            }
            if let comment = h.comment { try scan(comment, .history, history: i) }
        }
        for (path, value) in ConfigWalk.otherStrings(image.config.raw) {
            try scan(value, .config, key: path)
        }
        return out
    }
}

/// Replaces every known secret in a text by its redacted form, longest first so that a secret containing
/// another is redacted whole. Built once per image; `redact` costs one substring search per secret.
struct Redactor {
    private let secrets: [String]

    init(_ secrets: Set<String>) {
        self.secrets = secrets.filter { !$0.isEmpty }.sorted { $0.count > $1.count }
    }

    func redact(_ text: String) -> String {
        var t = text
        for s in secrets where t.contains(s) {
            t = t.replacingOccurrences(of: s, with: Redaction.redact(s))
        }
        return t
    }
}

/// What one layer held: hits, and the path events that decide later statuses.
struct LayerResult {
    var hits: [LayerHit] = []
    /// Every non-whiteout path, true when a directory.
    var entries: [String: Bool] = [:]
    var deletions: Set<String> = []
    var opaques: Set<String> = []
    var files = 0
    var bytes: Int64 = 0
    var error: String?
    var digests: LayerReader.Digests?
}

/// A secret in a file of a layer (or a credential file with none), before statuses and allowlists.
struct LayerHit {
    var path: String
    var line: Int?
    var rule: Rule
    var secret: String
    var key: String?
    /// For a credential file reported by its name: the SHA-256 and size of the whole file.
    var fileDigest: String?
    var fileSize: Int64?
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

import Crypto
import Forensics
import Foundation
import Layers
import OCI
import Reports
import Secrets

/// What one layer held, in a form a sweep can keep between runs: every hit by the SHA-256 of its secret and a
/// redacted preview (the secret itself is never part of it), and the layer's paths as 128-bit hashes, enough
/// to decide later whether a finding of a lower layer was deleted or overwritten by this one.
///
/// A result depends only on the layer's bytes and on `ImageScanner.layerCacheKey`, so it can be reused by every
/// image that shares the layer, in this run or a later one.
public struct LayerScanResult: Codable, Sendable, Equatable {
    /// A secret in a file of the layer, as it can be stored.
    public struct Hit: Codable, Sendable, Equatable {
        public var ruleID: String
        public var severity: Severity
        public var description: String
        /// The path in the layer, with any secret of the layer in it redacted.
        public var path: String
        public var line: Int?
        public var key: String?
        public var secretSHA256: String
        public var redacted: String
        /// What the secret can do, read offline when it was found (no secret in it).
        public var details: FindingDetails?
        /// The finding's confidence (nil in results stored before it existed).
        public var confidence: Confidence? = nil
        /// For a member of an archive: the file of the layer that holds it (redacted like `path`).
        public var archive: String?
        /// Hashes of the raw path (of the file of the layer, for an archive member) and of each of its ancestors, for statuses.
        var pathKey: PathKey
        var ancestorKeys: [PathKey]
    }

    public var hits: [Hit]
    /// Hits dropped by the path allowlist.
    public var suppressed: Int
    public var files: Int
    /// Uncompressed bytes of the files read.
    public var bytes: Int64
    /// Why the layer could not be read to its end; such a result is never stored.
    public var error: String?
    /// Archives in the layer that could not be read, and limits of the archive walk reached.
    public var notes: [ArchiveNote]?
    /// Hashes of every path the layer holds (non-directories and directories), of whiteout targets, of
    /// opaque directories, and of the ancestors of the paths it holds (which it makes directories).
    var nonDirectories: PathKeySet
    var directories: PathKeySet
    var deletions: PathKeySet
    var opaques: PathKeySet
    var impliedDirectories: PathKeySet
}

/// A path's identity without the path: the first 128 bits of its SHA-256 (no collision to fear even from an
/// image built to make one, unlike a 64-bit or non-cryptographic hash).
struct PathKey: Codable, Sendable, Hashable, Comparable {
    var high: UInt64
    var low: UInt64

    init(_ path: String) {
        let digest = SHA256.hash(data: Array(path.utf8))
        var h: UInt64 = 0, l: UInt64 = 0
        for (i, b) in digest.prefix(16).enumerated() {
            if i < 8 { h = h << 8 | UInt64(b) } else { l = l << 8 | UInt64(b) }
        }
        high = h
        low = l
    }

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    static func < (a: PathKey, b: PathKey) -> Bool { (a.high, a.low) < (b.high, b.low) }
}

/// A sorted set of path keys, stored as one run of 16-byte big-endian records (compact in JSON as base64).
struct PathKeySet: Codable, Sendable, Equatable {
    private(set) var keys: [PathKey]

    init<S: Sequence>(_ paths: S) where S.Element == String {
        keys = Array(Set(paths.map(PathKey.init))).sorted()
    }

    func contains(_ k: PathKey) -> Bool {
        var lo = 0, hi = keys.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if keys[mid] == k { return true }
            if keys[mid] < k { lo = mid + 1 } else { hi = mid }
        }
        return false
    }

    init(from decoder: Decoder) throws {
        let data = try decoder.singleValueContainer().decode(Data.self)
        guard data.count % 16 == 0 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "path keys are not 16-byte records"))
        }
        let bytes = [UInt8](data)
        var out: [PathKey] = []
        out.reserveCapacity(bytes.count / 16)
        var i = 0
        while i < bytes.count {
            var h: UInt64 = 0, l: UInt64 = 0
            for j in 0..<8 { h = h << 8 | UInt64(bytes[i + j]) }
            for j in 8..<16 { l = l << 8 | UInt64(bytes[i + j]) }
            out.append(PathKey(high: h, low: l))
            i += 16
        }
        // Sorted on the way in: binary search must not trust a damaged or foreign store.
        keys = out.sorted()
    }

    func encode(to encoder: Encoder) throws {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(keys.count * 16)
        for k in keys {
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: k.high >> UInt64(shift))) }
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: k.low >> UInt64(shift))) }
        }
        var c = encoder.singleValueContainer()
        try c.encode(Data(bytes))
    }
}

extension ImageScanner {
    /// Version of the `LayerScanResult` format and of the rules that build it; bump it when either changes so
    /// results stored by an older build are scanned again rather than misread.
    /// 4: the ancestors of a layer's paths are kept, so a file a later layer makes a directory is deleted.
    static let layerResultVersion = 4

    /// What a stored layer result depends on besides the layer: the rule set, the path allowlist and the
    /// result format. Two scanners with the same key produce the same result for the same layer.
    public var layerCacheKey: String {
        let allow = options.pathAllowlist?.patterns.joined(separator: "\n") ?? ""
        // Whether archives are opened, and how far, changes what a layer yields.
        let archives = options.archives ? options.archiveLimits.fingerprint : "off"
        return Redaction.sha256("layer-v\(Self.layerResultVersion)\n\(engine.fingerprint)\n\(allow)\narchives \(archives)")
    }

    /// Scans one layer into a result that can be stored. Blocks on the layer's stream and runs a matching thread
    /// of its own: call it from a thread of its own, not from the async pool. Never throws: a layer that cannot
    /// be read carries its `error`.
    public func scanLayerForStore(_ layer: LayerRef) -> LayerScanResult {
        let r = scanLayer(layer)
        var hits: [LayerScanResult.Hit] = []
        // A secret can sit in the place too (a file named after a token, a decoded key): redacted like the secret,
        // with the secrets found at that place, each distinct place once (thousands of hits stay linear).
        let redact = PlaceRedactor(r.hits.map { ($0.path, $0.key, $0.secret) })
        // The path allowlist was applied as the layer was matched (`LayerMatcher`), as for `scan`.
        for hit in r.hits {
            // The same finding `scan` builds, severity and details included, then made storable.
            let f = fileFinding(hit)
            let place = hit.outer ?? hit.path
            hits.append(.init(ruleID: f.ruleID, severity: f.severity, description: f.description,
                              path: redact.path(hit.path), line: hit.line, key: hit.key.map(redact.key),
                              secretSHA256: f.secretSHA256, redacted: f.redacted, details: f.details, confidence: f.confidence,
                              archive: hit.outer.map { redact.path($0, within: hit.path) }, pathKey: PathKey(place),
                              ancestorKeys: LayerPath.ancestors(place).map(PathKey.init)))
        }
        return LayerScanResult(hits: hits, suppressed: r.suppressed, files: r.files, bytes: r.bytes, error: r.error,
                               notes: r.notes.isEmpty ? nil : Self.redacted(r.notes, secrets: r.hits.map(\.secret)),
                               nonDirectories: PathKeySet(r.entries.filter { !$0.value }.keys),
                               directories: PathKeySet(r.entries.filter { $0.value }.keys),
                               deletions: PathKeySet(r.deletions), opaques: PathKeySet(r.opaques),
                               impliedDirectories: PathKeySet(r.impliedDirectories()))
    }

    /// Notes as they can be stored: an archive's path (or a reason quoting it) can hold a secret found inside it.
    static func redacted(_ notes: [ArchiveNote], secrets: [String]) -> [ArchiveNote] {
        let redactor = Redactor(Set(secrets))
        return notes.map { ArchiveNote(kind: $0.kind, path: redactor.redact($0.path), reason: redactor.redact($0.reason)) }
    }

    /// An image's findings from its config (read now) and its layers' results (scanned now or stored), redacted
    /// whatever `showSecrets` says, with the statuses `scan` gives. `layers` is in the image's layer order.
    /// What cannot be read (the config, a layer that failed) is in `errors`. `config`, when given, is this
    /// image's `configResult(of:)`, worked out once for every image that names the same config.
    public func findings(of image: Image, layers: [LayerScanResult],
                         config known: ConfigResult? = nil) -> (findings: [Finding], errors: [Report.ScanError], suppressed: Int) {
        var findings: [Finding] = []
        var errors: [Report.ScanError] = []
        let config = known ?? configResult(of: image)
        var own = config.findings
        if let e = config.error { errors.append(.init(layerIndex: nil, message: "config: \(e)")) }
        do {
            own += try annotationFindings(image)
        } catch {
            errors.append(.init(layerIndex: nil, message: "annotations: \(error)"))
        }
        let redact = PlaceRedactor(own.compactMap { f in f.secret.map { (nil, f.key, $0) } })
        for var f in own {
            f.secret = nil
            f.key = f.key.map(redact.key)
            findings.append(f)
        }
        let historyForLayer = image.config.historyIndexForLayer
        let places = layers.enumerated().flatMap { i, layer in layer.hits.map { ($0.pathKey, $0.ancestorKeys, i) } }
        let fates = Overlay.fates(of: places, under: layers.map(StoredPathEvents.init))
        var next = 0
        for (i, layer) in layers.enumerated() {
            if let e = layer.error { errors.append(.init(layerIndex: i, message: e)) }
            for hit in layer.hits {
                let found = fates[next]
                next += 1
                let file = Finding.Place.File(path: hit.path, layerIndex: i,
                                              layerDigest: i < image.layers.count ? image.layers[i].digest?.description : nil,
                                              historyIndex: i < historyForLayer.count ? historyForLayer[i] : nil, line: hit.line,
                                              key: hit.key, outerPath: hit.archive, status: FileStatus(found?.fate), removedInLayer: found?.layer)
                findings.append(Finding(ruleID: hit.ruleID, severity: hit.severity, description: hit.description, place: .file(file),
                                        secretSHA256: hit.secretSHA256, redacted: hit.redacted, secret: nil, details: hit.details,
                                        confidence: hit.confidence))
            }
        }
        return (findings, errors, layers.reduce(0) { $0 + $1.suppressed })
    }
}

/// A stored layer result's path events, as `Overlay` reads them: by the hashes of the paths (a stored hit has
/// those of its file and of each ancestor), so a sweep decides statuses with the rules `scan` uses on the paths.
struct StoredPathEvents: Overlay.ListedEvents {
    let result: LayerScanResult

    func whitesOut(_ path: PathKey) -> Bool { result.deletions.contains(path) }
    func isOpaque(_ directory: PathKey) -> Bool { result.opaques.contains(directory) }
    func entryIsDirectory(_ path: PathKey) -> Bool? {
        result.directories.contains(path) ? true : result.nonDirectories.contains(path) ? false : nil
    }
    func holdsEntries(under path: PathKey) -> Bool { result.impliedDirectories.contains(path) }
    var pathCount: Int { [result.nonDirectories, result.directories, result.deletions, result.opaques, result.impliedDirectories].reduce(0) { $0 + $1.keys.count } }
    func forEachPath(_ body: (PathKey) -> Void) {
        for set in [result.nonDirectories, result.directories, result.deletions, result.opaques, result.impliedDirectories] { set.keys.forEach(body) }
    }
}
